//! The runbook layer's shared vocabulary: a fully resolved [`Invocation`], the
//! [`RunRequest`] handed to the runner, the [`RunEvent`]s it sends back and the
//! [`Outcome`] of a run.
//!
//! An `Invocation` holds no placeholder and no secret in the clear: secrets ride in
//! [`Secret`] fields that print as `[redacted]`, so showing an invocation in the
//! confirmation dialog or writing it to the audit log cannot leak one.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::settings::Tier;
use crate::incident::IncidentId;
use crate::secret::Secret;

/// What a runbook acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Environment,
    Node,
    Cluster,
    ReplicationLink,
    BackupService,
    /// An Alertmanager alert or silence: what the built-in silence actions act on. Not
    /// in [`TargetKind::ALL`], which lists what a configured runbook may target.
    Alert,
}

impl TargetKind {
    pub const ALL: [TargetKind; 5] = [
        TargetKind::Environment,
        TargetKind::Node,
        TargetKind::Cluster,
        TargetKind::ReplicationLink,
        TargetKind::BackupService,
    ];

    /// The name used in config files and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Environment => "environment",
            TargetKind::Node => "node",
            TargetKind::Cluster => "cluster",
            TargetKind::ReplicationLink => "replication_link",
            TargetKind::BackupService => "backup_service",
            TargetKind::Alert => "alert",
        }
    }

    pub fn parse(s: &str) -> Option<TargetKind> {
        TargetKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// How a person reads it ("node prod-web1").
    pub fn noun(self) -> &'static str {
        match self {
            TargetKind::Environment => "environment",
            TargetKind::Node => "node",
            TargetKind::Cluster => "cluster",
            TargetKind::ReplicationLink => "link",
            TargetKind::BackupService => "service",
            TargetKind::Alert => "alert",
        }
    }
}

/// The thing a run acts on, in one environment.
///
/// `name` is the node, cluster or backed-up service, `primary→replica` for a link, and the
/// environment's name for an environment-wide runbook. `values` are the placeholders the
/// target supplies (`env`, `node`, `cluster`, `service`, `instance`, `primary`, `replica`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub kind: TargetKind,
    pub environment: String,
    pub name: String,
    pub values: BTreeMap<String, String>,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            TargetKind::Environment => write!(f, "environment {}", self.environment),
            kind => write!(f, "{} {} ({})", kind.noun(), self.name, self.environment),
        }
    }
}

/// A child process to start directly (never through a shell).
#[derive(Debug, Clone, PartialEq)]
pub struct ExecInvocation {
    /// `argv[0]` is the program (a path, or a name looked up in `PATH`).
    pub argv: Vec<String>,
    /// Added to the inherited environment: the `WATCHDECK_*` values.
    pub env: Vec<(String, String)>,
    /// Secrets for the child, by environment variable only — never in argv.
    pub secret_env: Vec<(String, Secret)>,
}

/// An HTTP request to send.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpInvocation {
    pub method: String,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    /// Headers that carry credentials (`Authorization`, tokens): sent, never shown.
    pub secret_headers: Vec<(String, Secret)>,
    /// A JSON document, already serialized; every substituted value was JSON-escaped.
    pub body: Option<String>,
    /// Send without verifying the server's TLS certificate: only for a silence sent to an
    /// Alertmanager source configured so (the same trust the poller reading it has). Shown
    /// in the dialog and recorded in the audit log.
    pub insecure_skip_verify: bool,
}

/// What will run, fully resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    Exec(ExecInvocation),
    Http(HttpInvocation),
}

impl Invocation {
    /// Every secret value in the invocation, so the runner can redact them from output.
    pub fn secrets(&self) -> Vec<&Secret> {
        match self {
            Invocation::Exec(e) => e.secret_env.iter().map(|(_, s)| s).collect(),
            Invocation::Http(h) => h.secret_headers.iter().map(|(_, s)| s).collect(),
        }
    }

    /// Lines showing exactly what will run, secrets as `[redacted]`: the confirmation
    /// dialog shows these and the audit intent records them.
    pub fn describe(&self) -> Vec<String> {
        match self {
            Invocation::Exec(e) => {
                let mut lines = vec![format!("exec {}", quote_argv(&e.argv))];
                for (k, v) in &e.env {
                    lines.push(format!("env  {k}={v}"));
                }
                for (k, _) in &e.secret_env {
                    lines.push(format!("env  {k}=[redacted]"));
                }
                lines
            }
            Invocation::Http(h) => {
                let mut lines = vec![format!("{} {}", h.method, h.url)];
                if h.insecure_skip_verify {
                    lines.push("(TLS certificate not verified: insecure_skip_verify)".to_owned());
                }
                for (k, v) in &h.headers {
                    lines.push(format!("{k}: {v}"));
                }
                for (k, _) in &h.secret_headers {
                    lines.push(format!("{k}: [redacted]"));
                }
                if let Some(body) = &h.body {
                    lines.push(body.clone());
                }
                lines
            }
        }
    }

    /// The invocation for the audit log, secrets redacted.
    pub fn to_audit_json(&self) -> serde_json::Value {
        match self {
            Invocation::Exec(e) => serde_json::json!({
                "kind": "exec",
                "argv": e.argv,
                "env": e.env.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str())))
                    .collect::<serde_json::Map<_, _>>(),
                "secret_env": e.secret_env.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            }),
            Invocation::Http(h) => {
                let mut v = serde_json::json!({
                    "kind": "http",
                    "method": h.method,
                    "url": h.url.as_str(),
                    "headers": h.headers.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str())))
                        .collect::<serde_json::Map<_, _>>(),
                    "secret_headers": h.secret_headers.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
                    "body": h.body,
                });
                if h.insecure_skip_verify
                    && let Some(m) = v.as_object_mut()
                {
                    m.insert("insecure_skip_verify".to_owned(), true.into());
                }
                v
            }
        }
    }
}

/// argv as a person would type it: elements with spaces or quotes are single-quoted, so
/// the dialog shows where one argument ends and the next begins.
pub fn quote_argv(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A dry run (the runbook's `plan`) or the real thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Plan,
    Run,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Plan => "plan",
            Phase::Run => "run",
        }
    }
}

/// One run's id: unique across consoles on the host (time, pid and a counter), stable in
/// the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RunId(pub String);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Everything the runner needs: what to run and on whose behalf.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub runbook: String,
    pub phase: Phase,
    pub target: Target,
    pub tier: Tier,
    /// Declared parameters with the values the engineer gave.
    pub params: BTreeMap<String, String>,
    pub incident: Option<IncidentId>,
    pub invocation: Invocation,
    pub timeout: Duration,
    /// Between SIGTERM and SIGKILL on timeout or cancel.
    pub kill_grace: Duration,
    pub user: String,
}

/// Which of a child's streams a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputStream {
    Stdout,
    Stderr,
    /// Lines the runner adds itself (HTTP status, "sending SIGTERM", …).
    Runner,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum Termination {
    /// The process exited by itself with this code.
    Exited { code: i32 },
    /// The process died of a signal nobody here sent.
    Signalled { signal: i32 },
    /// The timeout passed: SIGTERM was sent to the process group, and SIGKILL if it
    /// outlived the grace period.
    TimedOut { killed: bool },
    /// The engineer cancelled: as for a timeout.
    Cancelled { killed: bool },
    /// An HTTP action got an answer with this status.
    Http { status: u16 },
    /// It could not start or could not finish (spawn failure, connection refused, …).
    Failed { reason: String },
}

impl Termination {
    /// A run that did what it was asked: exit 0 or an HTTP 2xx.
    pub fn succeeded(&self) -> bool {
        match self {
            Termination::Exited { code } => *code == 0,
            Termination::Http { status } => (200..300).contains(status),
            _ => false,
        }
    }
}

impl fmt::Display for Termination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Termination::Exited { code } => write!(f, "exit {code}"),
            Termination::Signalled { signal } => write!(f, "killed by signal {signal}"),
            Termination::TimedOut { killed: false } => {
                f.write_str("timed out; terminated (SIGTERM)")
            }
            Termination::TimedOut { killed: true } => {
                f.write_str("timed out; killed (SIGKILL after the grace period)")
            }
            Termination::Cancelled { killed: false } => {
                f.write_str("cancelled; terminated (SIGTERM)")
            }
            Termination::Cancelled { killed: true } => {
                f.write_str("cancelled; killed (SIGKILL after the grace period)")
            }
            Termination::Http { status } => write!(f, "HTTP {status}"),
            Termination::Failed { reason } => write!(f, "failed: {reason}"),
        }
    }
}

/// The end of a run, as recorded in the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub termination: Termination,
    #[serde(with = "duration_ms")]
    pub duration: Duration,
    /// Bytes of output (stdout + stderr, or the HTTP body) before sanitizing.
    pub output_bytes: u64,
    /// SHA-256 of that output, hex.
    pub output_sha256: String,
    /// The last lines, sanitized and with secrets redacted.
    pub last_lines: Vec<String>,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.termination.succeeded()
    }

    /// One line for timelines and the history list: "exit 0 in 2.1s".
    pub fn summary(&self) -> String {
        format!(
            "{} in {}",
            self.termination,
            humantime::format_duration(Duration::from_millis(self.duration.as_millis() as u64))
        )
    }
}

mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// What the runner tells the UI, each message stamped with when it happened.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    /// The lock is held and the intent is on disk; the action is starting.
    Started { run: RunId, at: DateTime<Utc> },
    /// One line of output (sanitized, secrets redacted). A line longer than the cap is
    /// split; a final unterminated line is flushed at the end.
    Output {
        run: RunId,
        at: DateTime<Utc>,
        stream: OutputStream,
        line: String,
    },
    /// Finished, and the outcome is on disk.
    Finished {
        run: RunId,
        at: DateTime<Utc>,
        outcome: Outcome,
    },
    /// Nothing ran: the lock is held elsewhere, the audit write failed, the console is
    /// read-only… The reason says which, in words for the engineer.
    Refused {
        run: RunId,
        at: DateTime<Utc>,
        reason: String,
    },
}

impl RunEvent {
    pub fn run(&self) -> &RunId {
        match self {
            RunEvent::Started { run, .. }
            | RunEvent::Output { run, .. }
            | RunEvent::Finished { run, .. }
            | RunEvent::Refused { run, .. } => run,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_is_quoted_where_a_person_would_quote_it() {
        let argv: Vec<String> = ["ssh", "prod-web1", "systemctl restart php8.2-fpm", "it's"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            quote_argv(&argv),
            r#"ssh prod-web1 'systemctl restart php8.2-fpm' 'it'\''s'"#
        );
    }

    #[test]
    fn secrets_never_show_in_descriptions_or_audit_json() {
        let inv = Invocation::Exec(ExecInvocation {
            argv: vec!["true".into()],
            env: vec![("WATCHDECK_ENV".into(), "production".into())],
            secret_env: vec![("PGPASSWORD".into(), Secret::new("canary-91c2"))],
        });
        assert!(!inv.describe().join("\n").contains("canary"));
        assert!(!inv.to_audit_json().to_string().contains("canary"));
        assert_eq!(inv.secrets().len(), 1);
    }
}
