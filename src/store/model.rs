//! Domain types the rest of the program speaks: environments, nodes, replication links,
//! backup runs, alerts, health checks and source status.
//!
//! Every string in these types that came from the network has passed through
//! [`crate::sanitize`] before it was stored here.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::settings::{Preset, SourceId, Tier};

/// The health of one source as the poller last saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum SourceHealth {
    /// Never polled yet.
    Pending,
    /// Last poll succeeded.
    Ok {
        last_success: DateTime<Utc>,
        #[serde(with = "duration_ms")]
        duration: Duration,
    },
    /// Last poll failed; `since` is the first failure of the current run of failures.
    Failing {
        reason: String,
        since: DateTime<Utc>,
        last_success: Option<DateTime<Utc>>,
    },
    /// Data older than two intervals: the poller is stuck or the process was suspended.
    Stale { last_success: DateTime<Utc> },
}

/// What the console knows about one source.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    pub id: SourceId,
    pub environment: String,
    pub name: String,
    pub kind: &'static str,
    pub url: String,
    pub health: SourceHealth,
    /// Problems that do not fail the poll: parse errors with line numbers, metrics a preset
    /// expects but the endpoint does not expose.
    pub warnings: Vec<String>,
    pub last_poll: Option<DateTime<Utc>>,
}

/// One environment as the overview shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Environment {
    pub name: String,
    pub tier: Tier,
}

/// A host as node_exporter describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    pub environment: String,
    pub name: String,
    pub role: Option<String>,
    pub cluster: Option<String>,
    pub up: bool,
    pub cpu_percent: Option<f64>,
    pub memory_percent: Option<f64>,
    pub root_disk_percent: Option<f64>,
    pub load1: Option<f64>,
    pub uptime: Option<Duration>,
    pub source: SourceId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum ReplicationKind {
    Galera,
    Mysql,
    Postgres,
    Redis,
}

impl ReplicationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReplicationKind::Galera => "Galera",
            ReplicationKind::Mysql => "MySQL",
            ReplicationKind::Postgres => "PostgreSQL",
            ReplicationKind::Redis => "Redis",
        }
    }
}

/// State of the replication machinery on one link.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LinkState {
    /// MySQL/MariaDB: IO and SQL thread running flags.
    Threads { io_running: bool, sql_running: bool },
    /// Redis: master_link_status.
    Link { up: bool },
    /// Galera: wsrep local state (4 = Synced), cluster status, ready flag, cluster size.
    Galera {
        local_state: i64,
        local_state_name: String,
        cluster_status: String,
        ready: bool,
        cluster_size: i64,
        flow_control_paused: Option<f64>,
    },
    /// PostgreSQL streaming: the replica is attached (seen in pg_stat_replication).
    Streaming { attached: bool },
    /// The exporter did not say.
    Unknown,
}

/// primary → replica (or a Galera member), with lag and link state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplicationLink {
    pub environment: String,
    pub cluster: Option<String>,
    pub kind: ReplicationKind,
    /// Primary (or, for Galera, the cluster name).
    pub primary: String,
    /// Replica (or, for Galera, this member).
    pub replica: String,
    pub lag_seconds: Option<f64>,
    pub lag_bytes: Option<f64>,
    pub state: LinkState,
    /// Lag over the history window, oldest first (seconds when known, else bytes), for
    /// sparklines.
    pub lag_history: Vec<f64>,
    pub source: SourceId,
}

impl ReplicationLink {
    /// Identity of the link across snapshots.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}->{}",
            self.environment,
            self.kind.as_str(),
            self.primary,
            self.replica
        )
    }
}

/// The last backup of one service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupRun {
    pub environment: String,
    pub service: String,
    pub last_success: Option<DateTime<Utc>>,
    pub age: Option<Duration>,
    pub size_bytes: Option<f64>,
    pub duration: Option<Duration>,
    pub interval: Option<Duration>,
    pub rpo: Option<Duration>,
    pub source: SourceId,
}

/// One backup listed by a backup catalog (restic, wal-g, pgBackRest or the generic form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupEntry {
    /// The point in time the backup restores to: restic's snapshot time, wal-g's and
    /// pgBackRest's finish time (a physical backup is consistent only as of its end).
    pub time: DateTime<Utc>,
    /// `full`, `incr`, `diff` or `snapshot` (restic), or the generic catalog's `type`.
    pub kind: String,
    /// Bytes the backup occupies (the tool's own notion; see the parser), when known.
    pub size_bytes: Option<u64>,
    /// Whether the backup completed and can be restored from.
    pub ok: bool,
    /// The tool's identifier: restic short id, wal-g backup name, pgBackRest label.
    pub id: String,
}

/// Which retention slot a successful backup covers, or that none does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotCoverage {
    /// Index into the policy's `retention` tiers.
    pub tier_index: usize,
    /// Oldest instant of the slot (inclusive).
    pub start: DateTime<Utc>,
    /// Youngest instant of the slot (exclusive).
    pub end: DateTime<Utc>,
    /// The id of the newest successful backup inside the slot; `None` is a gap.
    pub covered_by: Option<String>,
}

/// A backup catalog as the Backups view shows it: how many backups it lists, the newest
/// successful one, and the retention slots of the service's policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CatalogView {
    pub environment: String,
    pub service: String,
    pub source: SourceId,
    /// Backups listed (successful or not) in the latest catalog.
    pub entries: usize,
    pub last_success: Option<DateTime<Utc>>,
    /// Newest slot first; empty when the service's policy declares no retention.
    pub coverage: Vec<SlotCoverage>,
}

impl CatalogView {
    /// The slots no successful backup covers.
    pub fn missing(&self) -> impl Iterator<Item = &SlotCoverage> {
        self.coverage.iter().filter(|s| s.covered_by.is_none())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Firing,
    Pending,
    Inactive,
}

/// One matcher of an Alertmanager silence (`name=value`, `!=`, `=~`, `!~`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SilenceMatcher {
    pub name: String,
    pub value: String,
    pub is_regex: bool,
    pub is_equal: bool,
}

impl SilenceMatcher {
    pub fn operator(&self) -> &'static str {
        match (self.is_equal, self.is_regex) {
            (true, false) => "=",
            (false, false) => "!=",
            (true, true) => "=~",
            (false, true) => "!~",
        }
    }
}

/// A silence as Alertmanager lists it (`GET /api/v2/silences`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Silence {
    pub source: SourceId,
    pub id: String,
    pub matchers: Vec<SilenceMatcher>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub created_by: String,
    pub comment: String,
    /// `active`, `pending` or `expired`, as Alertmanager says.
    pub state: String,
}

impl Silence {
    /// `alertname="X", env=~"prod.*"` as the matchers read.
    pub fn matchers_text(&self) -> String {
        self.matchers
            .iter()
            .map(|m| format!("{}{}\"{}\"", m.name, m.operator(), m.value))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn is_expired(&self) -> bool {
        self.state == "expired"
    }
}

/// An alert from Alertmanager (v2) or Prometheus (v1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub source: SourceId,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub state: AlertState,
    pub since: Option<DateTime<Utc>>,
    pub silenced_by: Vec<String>,
    pub inhibited_by: Vec<String>,
    pub fingerprint: Option<String>,
}

impl Alert {
    pub fn is_suppressed(&self) -> bool {
        !self.silenced_by.is_empty() || !self.inhibited_by.is_empty()
    }

    pub fn severity(&self) -> Option<&str> {
        self.labels.get("severity").map(String::as_str)
    }
}

/// The verdict of one health check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthResult {
    pub up: bool,
    /// HTTP status, if a response arrived.
    pub status: Option<u16>,
    #[serde(with = "duration_ms")]
    pub latency: Duration,
    /// Why the check failed: connection error, unexpected status, the condition that
    /// failed, or the latency bound exceeded. `None` when up.
    pub failure: Option<String>,
}

/// A health check as the UI lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthCheck {
    pub environment: String,
    pub name: String,
    pub url: String,
    pub result: Option<HealthResult>,
    pub checked_at: Option<DateTime<Utc>>,
    pub source: SourceId,
}

/// A preset that expected a metric the endpoint does not expose.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissingMetric {
    pub preset: Preset,
    pub metric: String,
}

pub(crate) mod duration_ms {
    use std::time::Duration;

    use serde::Serializer;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}
