//! The engine: the task that owns the store.
//!
//! Pollers send [`PollReport`]s over a channel; the engine applies every queued report,
//! derives a fresh [`Snapshot`] and publishes it on a `watch` channel. The UI only ever
//! reads the latest snapshot, so nothing the network does can block a keypress. A
//! one-second tick republishes so that ages and staleness move even when nothing answers.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::config::Settings;
use crate::source::PollReport;
use crate::source::http::{ClientBuildError, HttpClients};
use crate::source::poller::{self, PollerSet};
use crate::store::{Snapshot, Store};

/// How often the snapshot is rebuilt when no report arrives.
const TICK: Duration = Duration::from_secs(1);

/// A running engine and its pollers; dropping it stops them.
pub struct Running {
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    pollers: PollerSet,
    task: JoinHandle<()>,
}

impl Running {
    pub async fn shutdown(self) {
        self.pollers.shutdown().await;
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Start the pollers and the engine task for `settings`. Must run inside a tokio runtime.
pub fn start(settings: &Settings, clock: Arc<dyn Clock>) -> Result<Running, ClientBuildError> {
    let clients = Arc::new(HttpClients::new()?);
    let (tx, rx) = mpsc::channel(1024);
    let pollers = poller::spawn(settings, clients, tx);
    let store = Store::new(settings);
    let (snap_tx, snapshots) = watch::channel(Arc::new(store.snapshot(clock.now())));
    let task = tokio::spawn(run(store, rx, snap_tx, clock));
    Ok(Running {
        snapshots,
        pollers,
        task,
    })
}

async fn run(
    mut store: Store,
    mut rx: mpsc::Receiver<PollReport>,
    snap_tx: watch::Sender<Arc<Snapshot>>,
    clock: Arc<dyn Clock>,
) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            report = rx.recv() => {
                let Some(report) = report else { break };
                store.ingest(report);
                // Apply everything already queued before paying for one snapshot.
                while let Ok(report) = rx.try_recv() {
                    store.ingest(report);
                }
            }
            _ = tick.tick() => {}
        }
        let snapshot = Arc::new(store.snapshot(clock.now()));
        if snap_tx.send(snapshot).is_err() {
            break;
        }
    }
}
