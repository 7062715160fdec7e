//! The runbook audit log: an append-only JSON-lines file saying who ran what, where, why
//! and how it ended — written before anything runs, so an action the log does not know
//! about never happens.
//!
//! Three kinds of line, each a self-contained record:
//! - `intent`: written and `fsync`ed *before* the action starts; if it cannot be, the
//!   action is refused (the caller never runs an unaudited action);
//! - `outcome`: written and `fsync`ed when the action ends, pairing with the intent by
//!   run id;
//! - `refused`: best effort, a run refused because it was already running elsewhere.
//!
//! Several consoles may append to one file: every record is one `write` on a file opened
//! with `O_APPEND`, so lines never interleave. A crash can leave a torn last line; the next
//! append starts on a fresh line, and [`read_history`] skips the torn line with a warning
//! (as the incident journal does) — it never rewrites the file, which other consoles may be
//! appending to.
//!
//! The log never holds a secret value: invocations are recorded through
//! [`Invocation::to_audit_json`](super::Invocation::to_audit_json) and output lines are
//! redacted by the runner before they reach an outcome.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::invocation::{Outcome, Phase, RunId, RunRequest, TargetKind, quote_argv};
use super::lock::{self, LockStatus};
use crate::config::settings::Tier;
use crate::incident::IncidentId;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot open audit log {}: {source}", .path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot write audit log {}: {source}", .path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot sync audit log {} to disk: {source}", .path.display())]
    Sync { path: PathBuf, source: io::Error },
    #[error("cannot read audit log {}: {source}", .path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot encode audit record: {0}")]
    Encode(#[from] serde_json::Error),
}

/// What a run acts on, as recorded (the environment has a field of its own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditTarget {
    pub kind: TargetKind,
    pub name: String,
}

/// Who asked for what, where and why: the body of `intent` and `refused` records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub run: RunId,
    pub at: DateTime<Utc>,
    pub user: String,
    pub host: String,
    pub pid: u32,
    pub environment: String,
    /// `integration`, `staging` or `production`.
    pub tier: String,
    pub runbook: String,
    pub phase: Phase,
    pub target: AuditTarget,
    pub params: BTreeMap<String, String>,
    /// `INC-0042`, or null.
    pub incident: Option<String>,
    /// [`Invocation::to_audit_json`](super::Invocation::to_audit_json): secrets redacted.
    pub invocation: serde_json::Value,
    /// The run lock file (runs only; plans take no lock), so a reader can tell a run that
    /// is still going from one whose console died.
    #[serde(default)]
    pub lock: Option<PathBuf>,
}

impl RunRecord {
    /// The record for `request`, to be run as `run` by this process.
    pub fn new(
        run: &RunId,
        at: DateTime<Utc>,
        host: &str,
        request: &RunRequest,
        lock: Option<&Path>,
    ) -> Self {
        RunRecord {
            run: run.clone(),
            at,
            user: request.user.clone(),
            host: host.to_owned(),
            pid: std::process::id(),
            environment: request.target.environment.clone(),
            tier: request.tier.as_str().to_owned(),
            runbook: request.runbook.clone(),
            phase: request.phase,
            target: AuditTarget {
                kind: request.target.kind,
                name: request.target.name.clone(),
            },
            params: request.params.clone(),
            incident: request.incident.map(|i| i.to_string()),
            invocation: request.invocation.to_audit_json(),
            lock: lock.map(Path::to_owned),
        }
    }
}

/// The end of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeRecord {
    pub run: RunId,
    pub at: DateTime<Utc>,
    pub outcome: Outcome,
}

/// A run refused before it started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefusedRecord {
    #[serde(flatten)]
    pub request: RunRecord,
    pub reason: String,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum AuditRecord {
    Intent(RunRecord),
    Outcome(OutcomeRecord),
    Refused(RefusedRecord),
}

/// The audit log file. Cheap to clone; each append opens the file anew, so a log moved
/// aside by logrotate is picked up again.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one record and `fsync` it; returns once it is on disk.
    ///
    /// The directory must exist: creating it here would turn a mistyped path into a log
    /// nobody reads. When the file is new, the directory is synced too, so the file's name
    /// survives a crash along with its content.
    pub fn append(&self, record: &AuditRecord) -> Result<(), AuditError> {
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        let (file, created) = self.open()?;
        let write_err = |source| AuditError::Write {
            path: self.path.clone(),
            source,
        };
        let len = file.metadata().map_err(write_err)?.len();
        if len > 0 {
            // A crash mid-write leaves a line without its newline: start on a fresh line
            // so this record is not glued onto the torn one. Other writers only ever append
            // whole lines, so at worst this adds a blank line.
            let mut last = [0u8; 1];
            file.read_exact_at(&mut last, len - 1).map_err(write_err)?;
            if last[0] != b'\n' {
                line.insert(0, b'\n');
            }
        }
        // One write call per record: with O_APPEND, concurrent appenders never interleave.
        (&file).write_all(&line).map_err(write_err)?;
        let sync_err = |source| AuditError::Sync {
            path: self.path.clone(),
            source,
        };
        file.sync_data().map_err(sync_err)?;
        if created {
            sync_dir(&self.path).map_err(sync_err)?;
        }
        Ok(())
    }

    fn open(&self) -> Result<(File, bool), AuditError> {
        let open_err = |source| AuditError::Open {
            path: self.path.clone(),
            source,
        };
        let mut options = OpenOptions::new();
        options.read(true).append(true);
        match options.open(&self.path) {
            Ok(f) => Ok((f, false)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let f = options.create(true).open(&self.path).map_err(open_err)?;
                Ok((f, true))
            }
            Err(e) => Err(open_err(e)),
        }
    }
}

fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// Where a run in the history stands.
#[derive(Debug, Clone, PartialEq)]
pub enum HistoryState {
    Finished {
        at: DateTime<Utc>,
        outcome: Outcome,
    },
    /// No outcome, and nothing is running it: its console died (or the host did) mid-run.
    Interrupted,
    /// No outcome yet, and its lock is held by its run right now (for a plan, which takes
    /// no lock: its console is alive on this host). This console's own runs in flight show
    /// this way too.
    RunningElsewhere {
        user: String,
        pid: u32,
        host: String,
    },
    /// Refused before it started (already running elsewhere).
    Refused {
        reason: String,
    },
}

/// One run, as the Runbooks tab's history shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub run: RunId,
    /// When it was asked for.
    pub at: DateTime<Utc>,
    pub user: String,
    pub host: String,
    pub pid: u32,
    pub environment: String,
    /// `None` if the record names a tier this version does not know.
    pub tier: Option<Tier>,
    pub runbook: String,
    pub phase: Phase,
    pub target: AuditTarget,
    pub params: BTreeMap<String, String>,
    pub incident: Option<IncidentId>,
    /// The first line of the invocation as the confirmation dialog showed it
    /// (`exec ssh web1 …`, `POST https://…`).
    pub invocation: String,
    pub state: HistoryState,
}

impl HistoryEntry {
    /// "exit 0 in 2.1s", "interrupted (no outcome recorded)", …
    pub fn status(&self) -> String {
        match &self.state {
            HistoryState::Finished { outcome, .. } => outcome.summary(),
            HistoryState::Interrupted => "interrupted (no outcome recorded)".to_owned(),
            HistoryState::RunningElsewhere { user, pid, host } => {
                format!("running by {user} (pid {pid} on {host})")
            }
            HistoryState::Refused { reason } => format!("refused: {reason}"),
        }
    }

    fn from_record(r: RunRecord, state: HistoryState) -> Self {
        HistoryEntry {
            invocation: describe_audit_json(&r.invocation),
            tier: Tier::parse(&r.tier),
            incident: r.incident.as_deref().and_then(IncidentId::parse),
            run: r.run,
            at: r.at,
            user: r.user,
            host: r.host,
            pid: r.pid,
            environment: r.environment,
            runbook: r.runbook,
            phase: r.phase,
            target: r.target,
            params: r.params,
            state,
        }
    }
}

/// The first line of [`Invocation::describe`](super::Invocation::describe), rebuilt from
/// the recorded JSON.
fn describe_audit_json(v: &serde_json::Value) -> String {
    let str_of = |key: &str| v.get(key).and_then(|s| s.as_str()).unwrap_or("?");
    match v.get("kind").and_then(|k| k.as_str()) {
        Some("exec") => {
            let argv: Vec<String> = v
                .get("argv")
                .and_then(|a| a.as_array())
                .map(|a| {
                    a.iter()
                        .map(|s| s.as_str().unwrap_or("?").to_owned())
                        .collect()
                })
                .unwrap_or_default();
            format!("exec {}", quote_argv(&argv))
        }
        Some("http") => format!("{} {}", str_of("method"), str_of("url")),
        _ => "?".to_owned(),
    }
}

/// The history, and what was wrong with the file.
#[derive(Debug, Default)]
pub struct History {
    /// In the order the runs were asked for (oldest first).
    pub entries: Vec<HistoryEntry>,
    /// Torn and corrupt lines that were skipped, by line number.
    pub warnings: Vec<String>,
}

/// Every run in the audit log at `path`, intents paired with their outcomes. A missing
/// file is an empty history. Skipped lines are logged; see [`read_history_report`] to show
/// them.
pub fn read_history(path: &Path) -> Result<Vec<HistoryEntry>, AuditError> {
    read_history_report(path).map(|h| h.entries)
}

/// [`read_history`], with the warnings.
pub fn read_history_report(path: &Path) -> Result<History, AuditError> {
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(History::default()),
        Err(source) => {
            return Err(AuditError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    let host = super::runner::hostname();
    Ok(parse_history(path, &data, &|r| running_state(r, &host)))
}

/// Is an intent without an outcome still running? Its run lock answers for a run; a plan
/// has none, so its console being alive on this host has to do.
fn running_state(r: &RunRecord, this_host: &str) -> Option<HistoryState> {
    match &r.lock {
        Some(path) => match lock::status(path) {
            Ok(LockStatus::Held(Some(owner))) if owner.run == r.run => {
                Some(HistoryState::RunningElsewhere {
                    user: owner.user,
                    pid: owner.pid,
                    host: owner.host,
                })
            }
            _ => None,
        },
        None if r.host == this_host && pid_alive(r.pid) => Some(HistoryState::RunningElsewhere {
            user: r.user.clone(),
            pid: r.pid,
            host: r.host.clone(),
        }),
        None => None,
    }
}

fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(e) => e == nix::errno::Errno::EPERM,
    }
}

fn parse_history(
    path: &Path,
    data: &[u8],
    running: &dyn Fn(&RunRecord) -> Option<HistoryState>,
) -> History {
    let mut out = History::default();
    // Runs waiting for their outcome: index into `entries` and the intent.
    let mut open: HashMap<RunId, (usize, RunRecord)> = HashMap::new();
    let mut offset = 0usize;
    let mut number = 0usize;
    while offset < data.len() {
        number += 1;
        let rest = &data[offset..];
        let (line, terminated) = match rest.iter().position(|&b| b == b'\n') {
            Some(end) => (&rest[..end], true),
            None => (rest, false),
        };
        offset += line.len() + usize::from(terminated);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let record = serde_json::from_slice::<serde_json::Value>(line).and_then(|v| {
            match v.get("record").and_then(|r| r.as_str()) {
                Some("intent" | "outcome" | "refused") => {
                    serde_json::from_value::<AuditRecord>(v).map(Some)
                }
                // A kind of record from a later version: not ours to judge.
                Some(_) => Ok(None),
                None => serde_json::from_value::<AuditRecord>(v).map(Some),
            }
        });
        match record {
            Ok(None) => {}
            Ok(Some(AuditRecord::Intent(r))) => {
                let index = out.entries.len();
                // Placeholder state until the outcome (or the end of the file) decides.
                out.entries.push(HistoryEntry::from_record(
                    r.clone(),
                    HistoryState::Interrupted,
                ));
                open.insert(r.run.clone(), (index, r));
            }
            Ok(Some(AuditRecord::Outcome(o))) => match open.remove(&o.run) {
                Some((index, _)) => {
                    out.entries[index].state = HistoryState::Finished {
                        at: o.at,
                        outcome: o.outcome,
                    }
                }
                None => {
                    let w = format!(
                        "audit log {}: line {number} is the outcome of run {} whose intent is missing; skipped",
                        path.display(),
                        o.run
                    );
                    tracing::warn!("{w}");
                    out.warnings.push(w);
                }
            },
            Ok(Some(AuditRecord::Refused(r))) => out.entries.push(HistoryEntry::from_record(
                r.request,
                HistoryState::Refused { reason: r.reason },
            )),
            Err(e) if !terminated => {
                let w = format!(
                    "audit log {}: line {number} is torn (partial write, {} bytes); skipped",
                    path.display(),
                    line.len()
                );
                tracing::warn!(error = %e, "{w}");
                out.warnings.push(w);
            }
            Err(e) => {
                let w = format!(
                    "audit log {}: line {number} is corrupt and was skipped: {e}",
                    path.display()
                );
                tracing::warn!("{w}");
                out.warnings.push(w);
            }
        }
    }
    for (index, record) in open.into_values() {
        if let Some(state) = running(&record) {
            out.entries[index].state = state;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::invocation::Termination;
    use std::time::Duration;

    fn record(run: &str) -> RunRecord {
        RunRecord {
            run: RunId(run.into()),
            at: DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
            user: "alice".into(),
            host: "bastion1".into(),
            pid: 4242,
            environment: "production".into(),
            tier: "production".into(),
            runbook: "restart-fpm".into(),
            phase: Phase::Run,
            target: AuditTarget {
                kind: TargetKind::Node,
                name: "web1".into(),
            },
            params: BTreeMap::from([("reason".to_owned(), "stuck".to_owned())]),
            incident: Some("INC-0042".into()),
            invocation: serde_json::json!({"kind": "exec", "argv": ["systemctl", "restart", "php fpm"]}),
            lock: None,
        }
    }

    fn outcome(run: &str) -> AuditRecord {
        AuditRecord::Outcome(OutcomeRecord {
            run: RunId(run.into()),
            at: DateTime::from_timestamp(1_790_000_003, 0).unwrap(),
            outcome: Outcome {
                termination: Termination::Exited { code: 0 },
                duration: Duration::from_millis(2100),
                output_bytes: 3,
                output_sha256: "00".into(),
                last_lines: vec!["ok".into()],
            },
        })
    }

    fn line(r: &AuditRecord) -> String {
        serde_json::to_string(r).unwrap() + "\n"
    }

    #[test]
    fn intent_line_has_the_documented_shape() {
        let json: serde_json::Value =
            serde_json::from_str(&line(&AuditRecord::Intent(record("r1")))).unwrap();
        assert_eq!(json["record"], "intent");
        assert_eq!(json["run"], "r1");
        assert_eq!(json["at"], "2026-09-21T14:13:20Z");
        assert_eq!(
            json["target"],
            serde_json::json!({"kind": "node", "name": "web1"})
        );
        assert_eq!(json["incident"], "INC-0042");
        assert_eq!(json["phase"], "run");
        assert_eq!(json["tier"], "production");
    }

    #[test]
    fn pairs_and_reports_interrupted_and_refused() {
        let mut text = String::new();
        text += &line(&AuditRecord::Intent(record("r1")));
        text += &line(&AuditRecord::Intent(record("r2")));
        text += &line(&outcome("r1"));
        text += &line(&AuditRecord::Refused(RefusedRecord {
            request: record("r3"),
            reason: "already running".into(),
        }));
        text += "{\"record\":\"future\",\"x\":1}\n";
        let h = parse_history(Path::new("a"), text.as_bytes(), &|_| None);
        assert!(h.warnings.is_empty(), "{:?}", h.warnings);
        let states: Vec<_> = h
            .entries
            .iter()
            .map(|e| (e.run.0.as_str(), e.status()))
            .collect();
        assert_eq!(
            states,
            [
                ("r1", "exit 0 in 2s 100ms".to_owned()),
                ("r2", "interrupted (no outcome recorded)".to_owned()),
                ("r3", "refused: already running".to_owned()),
            ]
        );
        let e = &h.entries[0];
        assert_eq!(e.invocation, "exec systemctl restart 'php fpm'");
        assert_eq!(e.incident, Some(IncidentId(42)));
        assert_eq!(e.tier, Some(Tier::Production));
    }

    #[test]
    fn torn_last_line_and_corrupt_lines_are_skipped_with_line_numbers() {
        let mut text = String::new();
        text += &line(&AuditRecord::Intent(record("r1")));
        text += "not json\n";
        text += &line(&outcome("r1"));
        text += "{\"record\":\"intent\",\"run\":\"r9\",\"at\":";
        let h = parse_history(Path::new("a"), text.as_bytes(), &|_| None);
        assert_eq!(h.entries.len(), 1);
        assert!(matches!(h.entries[0].state, HistoryState::Finished { .. }));
        assert_eq!(h.warnings.len(), 2);
        assert!(
            h.warnings[0].contains("line 2 is corrupt"),
            "{}",
            h.warnings[0]
        );
        assert!(
            h.warnings[1].contains("line 4 is torn"),
            "{}",
            h.warnings[1]
        );
    }

    #[test]
    fn append_starts_a_fresh_line_after_a_torn_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(&path, "{\"record\":\"intent\",\"ru").unwrap();
        let log = AuditLog::new(&path);
        log.append(&AuditRecord::Intent(record("r1"))).unwrap();
        log.append(&outcome("r1")).unwrap();
        let h = read_history_report(&path).unwrap();
        assert_eq!(h.entries.len(), 1);
        assert!(matches!(h.entries[0].state, HistoryState::Finished { .. }));
        assert_eq!(h.warnings.len(), 1);
        assert!(
            h.warnings[0].contains("line 1 is corrupt"),
            "{}",
            h.warnings[0]
        );
    }

    #[test]
    fn a_missing_directory_is_an_error_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/audit.jsonl");
        let err = AuditLog::new(&path)
            .append(&AuditRecord::Intent(record("r1")))
            .unwrap_err();
        assert!(matches!(err, AuditError::Open { .. }), "{err:?}");
        assert!(!dir.path().join("no").exists());
    }

    #[test]
    fn missing_file_is_empty_history() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_history(&dir.path().join("none")).unwrap().is_empty());
    }
}
