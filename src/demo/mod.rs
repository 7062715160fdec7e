//! The embedded demo fleet behind `watchdeck --demo`: in-process HTTP servers on
//! 127.0.0.1 that impersonate a whole fleet (node, mysqld, postgres and redis exporters,
//! app metrics, a Pushgateway, health checks, Alertmanager and a backup catalog) with a
//! scripted, repeating fault story and a control API to repair it.
//!
//! Every response is a pure function of (seed, series, demo time, interventions), so a
//! [`ManualClock`] makes the fleet fully deterministic for tests.

mod alerts;
mod catalog;
mod clock;
mod exporters;
mod fleet;
mod health;
pub mod hostile;
mod noise;
mod render;
pub mod scene;
mod server;
mod silences;
mod timeline;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

pub use clock::{Clock, ManualClock, SystemClock};
pub use render::format_value;
pub use timeline::{
    CYCLE_SECS, FaultKind, FaultState, FaultStatus, RepairError, RepairOutcome, RepairRequest,
};

/// How to run the demo.
pub struct DemoOptions {
    /// Seeds every generated value; same seed and clock ⇒ same bytes.
    pub seed: u64,
    pub clock: Arc<dyn Clock>,
    /// Serve the [`hostile::CORPUS`] in alert labels and annotations.
    pub hostile: bool,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            seed: 42,
            clock: Arc::new(SystemClock),
            hostile: false,
        }
    }
}

impl std::fmt::Debug for DemoOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoOptions")
            .field("seed", &self.seed)
            .field("hostile", &self.hostile)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot bind the demo server on 127.0.0.1: {0}")]
    Bind(#[source] std::io::Error),
    #[error("cannot build the demo's URL: {0}")]
    Url(#[from] url::ParseError),
}

/// The running fleet. Dropping it stops the server.
pub struct DemoFleet {
    shared: Arc<server::Shared>,
    addr: SocketAddr,
    base: Url,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for DemoFleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoFleet")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl DemoFleet {
    /// Bind 127.0.0.1 on an ephemeral port and start serving. Demo time starts now (per
    /// the clock).
    pub async fn start(opts: DemoOptions) -> Result<DemoFleet, DemoError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(DemoError::Bind)?;
        let addr = listener.local_addr().map_err(DemoError::Bind)?;
        let base = Url::parse(&format!("http://{addr}/"))?;
        let shared = Arc::new(server::Shared::new(opts.seed, opts.clock, opts.hostile));
        let app = server::router(Arc::clone(&shared));
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                // Either an explicit shutdown or the sender being dropped stops us.
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "demo server stopped with an error");
            }
        });
        tracing::info!(%addr, seed = opts.seed, "demo fleet listening");
        Ok(DemoFleet {
            shared,
            addr,
            base,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// A config (TOML) pointing the console at this fleet.
    pub fn config_toml(&self) -> String {
        // The exec runbook runs this very binary's `probe`; under a test harness (not
        // watchdeck) it names `watchdeck` on the PATH instead.
        let exe = std::env::current_exe()
            .ok()
            .filter(|p| p.file_stem().is_some_and(|n| n == "watchdeck"))
            .and_then(|p| p.to_str().map(str::to_owned))
            .unwrap_or_else(|| "watchdeck".to_owned());
        fleet::config_toml(self.base.as_str().trim_end_matches('/'), Some(&exe))
    }

    /// Base of the control API (`GET faults`, `POST repair` below it).
    pub fn control_url(&self) -> Url {
        self.base
            .join("control/")
            .unwrap_or_else(|_| self.base.clone())
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn base_url(&self) -> Url {
        self.base.clone()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every scripted fault and where it stands (same data as `GET /control/faults`).
    pub fn faults(&self) -> Vec<FaultStatus> {
        self.shared.faults()
    }

    /// Apply an operator action in-process (same as `POST /control/repair`).
    pub fn repair(&self, req: &RepairRequest) -> Result<RepairOutcome, RepairError> {
        self.shared.repair(req)
    }

    /// Stop serving and wait (briefly) for the server task to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(mut task) = self.task.take() {
            // Graceful shutdown waits for open connections; do not let an idle
            // keep-alive client hold us up for long.
            if tokio::time::timeout(Duration::from_secs(2), &mut task)
                .await
                .is_err()
            {
                task.abort();
                let _ = task.await;
            }
        }
    }
}

impl Drop for DemoFleet {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            // No await in Drop: abort, which drops the listener and frees the port.
            task.abort();
        }
    }
}
