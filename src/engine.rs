//! The engine: the task that owns the store, the rules and the incidents.
//!
//! Pollers send [`PollReport`]s over a channel; the engine applies every queued report,
//! derives a fresh snapshot, evaluates the rules, advances the incidents and publishes one
//! [`Situation`] on a `watch` channel. The UI only ever reads the latest situation and sends
//! [`Command`]s back, so nothing the network does can block a keypress. A one-second tick
//! re-evaluates so that ages, staleness and `for` clauses move even when nothing answers.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::config::Settings;
use crate::config::settings::SourceId;
use crate::incident::{
    Change, Incident, IncidentError, IncidentId, Incidents, Pending, Severity, TimelineKind,
};
use crate::rules::RuleSet;
use crate::rules::input::InputBuilder;
use crate::source::PollReport;
use crate::source::http::{ClientBuildError, HttpClients};
use crate::source::poller::{self, PollerSet};
use crate::store::{Snapshot, Store};

/// How often the situation is re-evaluated when no report arrives.
const IDLE_ROUND: Duration = Duration::from_secs(1);
/// Reports arriving closer together than this share one round: 58 sources polled every
/// 2 s would otherwise cost a round (and a redraw) per report.
const COALESCE: Duration = Duration::from_millis(250);

/// Everything the UI draws: the fleet snapshot and the incidents derived from it.
#[derive(Debug, Clone, Default)]
pub struct Situation {
    pub fleet: Arc<Snapshot>,
    /// Open, acknowledged, unknown, flapping and recently resolved incidents.
    pub incidents: Vec<Incident>,
    /// Conditions waiting for their `for` clause.
    pub pending: Vec<Pending>,
    /// Rules that could not be evaluated in the last round, with why.
    pub rule_errors: Vec<String>,
    /// How many sev1 incidents have opened (or reopened, or escalated to sev1) since start:
    /// the UI rings the bell when it grows.
    pub sev1_opened: u64,
}

impl Situation {
    pub fn incident(&self, id: IncidentId) -> Option<&Incident> {
        self.incidents.iter().find(|i| i.id == id)
    }
}

/// What the UI asks the engine to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Acknowledge {
        id: IncidentId,
        user: String,
        note: Option<String>,
    },
    /// Add a runbook run (or a note) to an incident's timeline.
    Timeline {
        id: IncidentId,
        entry: TimelineKind,
        at: DateTime<Utc>,
    },
}

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Client(#[from] ClientBuildError),
    /// Its messages name the journal already.
    #[error(transparent)]
    Journal(#[from] IncidentError),
}

/// The store, rules and incidents, driven by reports and rounds: shared by the live engine
/// task, `watchdeck check` and tests.
pub struct Core {
    store: Store,
    rules: RuleSet,
    input: InputBuilder,
    incidents: Incidents,
    sev1_opened: u64,
    /// Warnings from replaying the journal, shown once.
    pub journal_warnings: Vec<String>,
}

impl Core {
    /// In-memory incidents (no journal).
    pub fn new(settings: &Settings, rules: RuleSet) -> Self {
        let incidents = Incidents::new(rules.incident_config());
        Self::with_incidents(settings, rules, incidents, Vec::new())
    }

    /// Incidents persisted in (and, unless `fresh`, replayed from) a journal file, whose
    /// writer lock this holds while it lives.
    pub fn with_journal(
        settings: &Settings,
        rules: RuleSet,
        journal: &std::path::Path,
        fresh: bool,
    ) -> Result<Self, IncidentError> {
        let config = rules.incident_config();
        let (incidents, warnings) = if fresh {
            Incidents::open_fresh_journal(journal, config)?
        } else {
            Incidents::open_journal(journal, config)?
        };
        for w in &warnings {
            tracing::warn!(journal = %journal.display(), "{w}");
        }
        Ok(Self::with_incidents(settings, rules, incidents, warnings))
    }

    fn with_incidents(
        settings: &Settings,
        rules: RuleSet,
        incidents: Incidents,
        journal_warnings: Vec<String>,
    ) -> Self {
        Self {
            store: Store::new(settings),
            input: InputBuilder::new(rules.metric_names()),
            rules,
            incidents,
            sev1_opened: 0,
            journal_warnings,
        }
    }

    pub fn ingest(&mut self, report: PollReport) {
        self.store.ingest(report);
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Snapshot, rules, incidents: one round as of `now`.
    pub fn round(&mut self, now: DateTime<Utc>) -> Situation {
        let fleet = self.store.snapshot(now);
        let evaluated = {
            let data = self.input.build(&self.store, &fleet, now);
            crate::rules::eval::evaluate(&self.rules, &data, &fleet)
        };
        let stale: HashSet<SourceId> = fleet
            .sources
            .iter()
            .filter(|s| fleet.is_stale(s.id))
            .map(|s| s.id)
            .collect();
        let changes = self.incidents.evaluate(&evaluated.rounds, &stale, now);
        for change in &changes {
            if self.is_new_sev1(change) {
                self.sev1_opened += 1;
            }
            tracing::info!(?change, "incident");
        }
        for e in &evaluated.errors {
            tracing::warn!("{e}");
        }
        Situation {
            fleet: Arc::new(fleet),
            incidents: self.incidents.incidents().cloned().collect(),
            pending: self.incidents.pending().cloned().collect(),
            rule_errors: evaluated.errors,
            sev1_opened: self.sev1_opened,
        }
    }

    fn is_new_sev1(&self, change: &Change) -> bool {
        let id = match change {
            Change::Opened(id) | Change::Reopened(id) => *id,
            Change::Escalated { id, .. } => *id,
            _ => return false,
        };
        self.incidents
            .get(id)
            .is_some_and(|i| i.severity == Severity::Sev1)
    }

    pub fn apply(&mut self, command: Command, now: DateTime<Utc>) -> Result<(), IncidentError> {
        match command {
            Command::Acknowledge { id, user, note } => {
                self.incidents.acknowledge(id, &user, note.as_deref(), now)
            }
            Command::Timeline { id, entry, at } => self.incidents.add_timeline(id, entry, at),
        }
    }
}

/// How to run the engine.
pub struct EngineOptions {
    pub rules: RuleSet,
    /// Incident journal; `None` keeps incidents in memory only.
    pub journal: Option<PathBuf>,
    /// Empty the journal instead of replaying it (the demo).
    pub fresh_journal: bool,
}

/// A running engine and its pollers; dropping it stops them.
pub struct Running {
    pub situations: watch::Receiver<Arc<Situation>>,
    pub commands: mpsc::Sender<Command>,
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
pub fn start(
    settings: &Settings,
    clock: Arc<dyn Clock>,
    options: EngineOptions,
) -> Result<Running, EngineError> {
    let clients = Arc::new(HttpClients::new()?);
    let mut core = match &options.journal {
        Some(path) => Core::with_journal(settings, options.rules, path, options.fresh_journal)?,
        None => Core::new(settings, options.rules),
    };
    let (tx, rx) = mpsc::channel(1024);
    let pollers = poller::spawn(settings, clients, tx);
    let (cmd_tx, cmd_rx) = mpsc::channel(64);
    let (sit_tx, situations) = watch::channel(Arc::new(core.round(clock.now())));
    let task = tokio::spawn(run(core, rx, cmd_rx, sit_tx, clock));
    Ok(Running {
        situations,
        commands: cmd_tx,
        pollers,
        task,
    })
}

async fn run(
    mut core: Core,
    mut rx: mpsc::Receiver<PollReport>,
    mut commands: mpsc::Receiver<Command>,
    sit_tx: watch::Sender<Arc<Situation>>,
    clock: Arc<dyn Clock>,
) {
    let mut tick = tokio::time::interval(COALESCE);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut dirty = false;
    let mut last_round = tokio::time::Instant::now();
    loop {
        tokio::select! {
            report = rx.recv() => {
                let Some(report) = report else { break };
                core.ingest(report);
                while let Ok(report) = rx.try_recv() {
                    core.ingest(report);
                }
                dirty = true;
                continue;
            }
            Some(command) = commands.recv() => {
                if let Err(e) = core.apply(command, clock.now()) {
                    tracing::warn!("command refused: {e}");
                }
                // The engineer is waiting for the result: no coalescing.
            }
            _ = tick.tick() => {
                if !dirty && last_round.elapsed() < IDLE_ROUND {
                    continue;
                }
            }
        }
        dirty = false;
        last_round = tokio::time::Instant::now();
        let situation = Arc::new(core.round(clock.now()));
        if sit_tx.send(situation).is_err() {
            break;
        }
    }
}
