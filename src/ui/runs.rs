//! What the UI knows about runbook runs: the ones this console started (live output in a
//! bounded ring buffer, state as the runner reports it) and the ones the audit log
//! remembers from before (including runs that were interrupted).
//!
//! Only [`RunEvent`]s change a run; the UI draws from here and never asks the runner.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};

use crate::config::settings::Tier;
use crate::incident::IncidentId;
use crate::runbook::{Outcome, OutputStream, Phase, RunEvent, RunId, Target};

/// Lines kept per run; older ones are dropped (and counted).
pub const MAX_LINES: usize = 5_000;

/// Where a run stands.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    /// Handed to the runner; no word back yet (lock, audit).
    Starting,
    Running,
    Finished(Outcome),
    /// Nothing ran; the runner said why.
    Refused(String),
    /// From the audit log: an intent with no outcome (the console died, or the machine).
    Interrupted,
    /// From the audit log: an intent with no outcome whose lock is held by a live
    /// process — another console is running it now.
    RunningElsewhere,
    /// From the audit log: finished before this console started.
    Past(Outcome),
}

impl RunState {
    pub fn is_active(&self) -> bool {
        matches!(self, RunState::Starting | RunState::Running)
    }

    /// One short word for lists and the filter (`state=running`).
    pub fn word(&self) -> &'static str {
        match self {
            RunState::Starting => "starting",
            RunState::Running => "running",
            RunState::Finished(o) | RunState::Past(o) => {
                if o.succeeded() {
                    "ok"
                } else {
                    "failed"
                }
            }
            RunState::Refused(_) => "refused",
            RunState::Interrupted => "interrupted",
            RunState::RunningElsewhere => "elsewhere",
        }
    }

    /// What happened, in a few words.
    pub fn describe(&self) -> String {
        match self {
            RunState::Starting => "starting…".into(),
            RunState::Running => "running".into(),
            RunState::Finished(o) | RunState::Past(o) => o.summary(),
            RunState::Refused(why) => format!("refused: {why}"),
            RunState::Interrupted => "interrupted (no outcome recorded)".into(),
            RunState::RunningElsewhere => "running in another console".into(),
        }
    }
}

/// One run, as the UI shows it.
#[derive(Debug, Clone)]
pub struct RunView {
    pub id: RunId,
    pub runbook: String,
    pub phase: Phase,
    pub target: Target,
    pub tier: Tier,
    pub user: String,
    pub incident: Option<IncidentId>,
    /// Declared parameters as given (for a re-run).
    pub params: BTreeMap<String, String>,
    /// What ran, as the dialog showed it (secrets redacted).
    pub described: Vec<String>,
    pub started: DateTime<Utc>,
    pub ended: Option<DateTime<Utc>>,
    pub state: RunState,
    pub lines: VecDeque<(OutputStream, String)>,
    /// Lines dropped from the front of the ring buffer.
    pub dropped: usize,
    /// Started by this console (live output), as opposed to read from the audit log.
    pub live: bool,
}

impl RunView {
    fn push(&mut self, stream: OutputStream, line: String) {
        if self.lines.len() == MAX_LINES {
            self.lines.pop_front();
            self.dropped += 1;
        }
        self.lines.push_back((stream, line));
    }
}

/// Every run the UI knows, newest first.
#[derive(Debug, Clone, Default)]
pub struct Runs {
    runs: Vec<RunView>,
}

impl Runs {
    pub fn from_history(past: Vec<RunView>) -> Self {
        let mut runs = past;
        runs.sort_by_key(|r| std::cmp::Reverse(r.started));
        Self { runs }
    }

    pub fn all(&self) -> &[RunView] {
        &self.runs
    }

    pub fn get(&self, id: &RunId) -> Option<&RunView> {
        self.runs.iter().find(|r| &r.id == id)
    }

    pub fn len(&self) -> usize {
        self.runs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// A run this console just handed to the runner.
    pub fn add(&mut self, run: RunView) {
        self.runs.insert(0, run);
    }

    /// Apply one event; returns the run if it just finished (for the incident timeline).
    pub fn apply(&mut self, event: RunEvent) -> Option<&RunView> {
        let run = self.runs.iter_mut().find(|r| &r.id == event.run())?;
        match event {
            RunEvent::Started { at, .. } => {
                run.started = at;
                run.state = RunState::Running;
                None
            }
            RunEvent::Output { stream, line, .. } => {
                run.push(stream, line);
                None
            }
            RunEvent::Finished { at, outcome, .. } => {
                run.ended = Some(at);
                run.state = RunState::Finished(outcome);
                Some(run)
            }
            RunEvent::Refused { at, reason, .. } => {
                run.ended = Some(at);
                run.push(OutputStream::Runner, format!("refused: {reason}"));
                run.state = RunState::Refused(reason);
                Some(run)
            }
        }
    }

    /// A run of the same runbook, environment and target still going in this console.
    pub fn active_for(&self, runbook: &str, target: &Target) -> Option<&RunView> {
        self.runs.iter().find(|r| {
            r.live
                && r.state.is_active()
                && r.phase == Phase::Run
                && r.runbook == runbook
                && r.target.environment == target.environment
                && r.target.name == target.name
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::TargetKind;

    fn view(id: &str) -> RunView {
        RunView {
            id: RunId(id.into()),
            runbook: "rb".into(),
            phase: Phase::Run,
            target: Target {
                kind: TargetKind::Environment,
                environment: "e".into(),
                name: "e".into(),
                values: BTreeMap::new(),
            },
            tier: Tier::Staging,
            user: "u".into(),
            incident: None,
            params: BTreeMap::new(),
            described: vec![],
            started: DateTime::<Utc>::MIN_UTC,
            ended: None,
            state: RunState::Starting,
            lines: VecDeque::new(),
            dropped: 0,
            live: true,
        }
    }

    #[test]
    fn output_is_a_bounded_ring() {
        let mut runs = Runs::default();
        runs.add(view("a"));
        for i in 0..MAX_LINES + 10 {
            runs.apply(RunEvent::Output {
                run: RunId("a".into()),
                at: Utc::now(),
                stream: OutputStream::Stdout,
                line: i.to_string(),
            });
        }
        let r = runs.get(&RunId("a".into())).unwrap();
        assert_eq!(r.lines.len(), MAX_LINES);
        assert_eq!(r.dropped, 10);
        assert_eq!(r.lines.front().unwrap().1, "10");
    }
}
