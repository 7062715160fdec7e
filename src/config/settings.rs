//! Resolved settings: what the rest of the program runs on.
//!
//! These are not the file structs (see `file.rs`): every default is filled in, every URL
//! parsed, every secret loaded, every name checked unique. Nothing downstream of config
//! ever sees an `Option` that means "use the default".

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use url::Url;

use crate::secret::Secret;

pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
pub const DEFAULT_MAX_BODY: u64 = 16 * 1024 * 1024;
pub const DEFAULT_MAX_IN_FLIGHT: usize = 16;
/// Backup catalogs change when a backup runs (minutes to hours apart), so polling them as
/// often as an exporter would only load the backup host.
pub const DEFAULT_CATALOG_INTERVAL: Duration = Duration::from_secs(60);
/// A catalog of a few thousand snapshots is megabytes of JSON, slower to serve than a
/// metrics page.
pub const DEFAULT_CATALOG_TIMEOUT: Duration = Duration::from_secs(10);
/// Prometheus's own default scrape interval: querying it more often sees no new samples.
pub const DEFAULT_PROMETHEUS_INTERVAL: Duration = Duration::from_secs(15);
/// A query over a whole environment's targets is slower to answer than one `/metrics` page.
pub const DEFAULT_PROMETHEUS_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything the console needs to run, resolved from a config file (or the demo).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The file these settings came from, if any (the demo has none).
    pub path: Option<PathBuf>,
    pub general: General,
    pub environments: Vec<EnvironmentSpec>,
    /// `[[runbook]]` entries, validated.
    pub runbooks: Vec<crate::runbook::spec::RunbookSpec>,
}

impl Settings {
    /// Every source of every environment, in config order.
    pub fn sources(&self) -> impl Iterator<Item = &SourceSpec> {
        self.environments.iter().flat_map(|e| e.sources.iter())
    }

    pub fn environment(&self, name: &str) -> Option<&EnvironmentSpec> {
        self.environments.iter().find(|e| e.name == name)
    }
}

/// Settings that are not tied to one environment.
#[derive(Debug, Clone)]
pub struct General {
    /// Upper bound on HTTP requests in flight across all pollers.
    pub max_in_flight: usize,
    /// Theme name or path; resolved by the UI's theme loader.
    pub theme: String,
    /// Ring a terminal bell when a new sev1 opens.
    pub bell_on_sev1: bool,
    /// Enable mouse capture in the TUI.
    pub mouse: bool,
    /// Hide and refuse every runbook action (`--read-only` sets it too).
    pub read_only: bool,
    /// Where runbook run locks live; `None`: the XDG runtime dir (per user).
    pub lock_dir: Option<PathBuf>,
}

impl Default for General {
    fn default() -> Self {
        Self {
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            theme: "dark".to_owned(),
            bell_on_sev1: true,
            mouse: false,
            read_only: false,
            lock_dir: None,
        }
    }
}

/// The tier of an environment decides safety defaults (TLS, confirmations) and severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Integration,
    Staging,
    Production,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Integration => "integration",
            Tier::Staging => "staging",
            Tier::Production => "production",
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        match s {
            "integration" => Some(Tier::Integration),
            "staging" => Some(Tier::Staging),
            "production" => Some(Tier::Production),
            _ => None,
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One environment (integration, staging, production, or any other name) and its sources.
#[derive(Debug, Clone)]
pub struct EnvironmentSpec {
    pub name: String,
    pub tier: Tier,
    pub sources: Vec<SourceSpec>,
    /// Declared backup expectations per service (interval and RPO).
    pub backup_policies: Vec<BackupPolicy>,
}

/// How often a service is expected to be backed up and how much data loss is tolerable.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupPolicy {
    pub service: String,
    pub interval: Duration,
    pub rpo: Duration,
    /// Tiered retention, youngest tier first; empty when the config declares none.
    pub retention: Vec<RetentionTier>,
}

/// One tier: between `from` and `to` of age, one successful backup is expected in every
/// window of length `every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionTier {
    pub every: Duration,
    pub from: Duration,
    pub to: Duration,
}

impl RetentionTier {
    const fn days(every: u64, from: u64, to: u64) -> Self {
        const DAY: u64 = 86_400;
        Self {
            every: Duration::from_secs(every * DAY),
            from: Duration::from_secs(from * DAY),
            to: Duration::from_secs(to * DAY),
        }
    }
}

/// Named retention policies for `retention = "<name>"`.
pub const RETENTION_PRESETS: &[(&str, &[RetentionTier])] = &[("commerce", COMMERCE_RETENTION)];

/// The commerce seed's tiered policy: hourly for days 1–3, daily for days 4–7, weekly for
/// weeks 2–6, biweekly for weeks 8–12, monthly for months 3–5 (a month counted as 30 days).
/// Week 7 is deliberately uncovered, and the biweekly and monthly tiers overlap on days
/// 60–84, as the seed's policy is written.
pub const COMMERCE_RETENTION: &[RetentionTier] = &[
    RetentionTier {
        every: Duration::from_secs(3600),
        from: Duration::ZERO,
        to: Duration::from_secs(3 * 86_400),
    },
    RetentionTier::days(1, 3, 7),
    RetentionTier::days(7, 7, 42),
    RetentionTier::days(14, 49, 84),
    RetentionTier::days(30, 60, 150),
];

/// The tiers of a named retention preset.
pub fn retention_preset(name: &str) -> Option<&'static [RetentionTier]> {
    RETENTION_PRESETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, tiers)| *tiers)
}

/// Stable identity of a source for the lifetime of the process: its index in
/// `Settings::sources()` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SourceId(pub u32);

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// One endpoint to poll.
#[derive(Debug, Clone)]
pub struct SourceSpec {
    pub id: SourceId,
    /// Name of the environment this source belongs to.
    pub environment: String,
    pub tier: Tier,
    /// Unique within its environment.
    pub name: String,
    /// Full URL for `health` and `metrics`; base URL for `alertmanager`,
    /// `prometheus_alerts` and `prometheus` (the poller appends the API path); for
    /// `backup_catalog` an http(s) URL or a `file://` URL.
    pub url: Url,
    pub kind: SourceKind,
    pub interval: Duration,
    pub timeout: Duration,
    pub max_body: u64,
    pub auth: Option<Auth>,
    pub insecure_skip_verify: bool,
}

impl SourceSpec {
    /// `environment/name`, how a source is named to people.
    pub fn key(&self) -> String {
        format!("{}/{}", self.environment, self.name)
    }

    pub fn kind_name(&self) -> &'static str {
        self.kind.name()
    }
}

#[derive(Debug, Clone)]
pub enum SourceKind {
    Health(HealthSpec),
    Metrics(MetricsSpec),
    Alertmanager,
    PrometheusAlerts,
    /// The list of backups of one service, read from a URL or (a `file://` URL) a file.
    BackupCatalog(CatalogSpec),
    /// A Prometheus-compatible query API standing in for direct scrapes of a fleet.
    Prometheus(PrometheusSpec),
}

impl SourceKind {
    pub fn name(&self) -> &'static str {
        match self {
            SourceKind::Health(_) => "health",
            SourceKind::Metrics(_) => "metrics",
            SourceKind::Alertmanager => "alertmanager",
            SourceKind::PrometheusAlerts => "prometheus_alerts",
            SourceKind::BackupCatalog(_) => "backup_catalog",
            SourceKind::Prometheus(_) => "prometheus",
        }
    }
}

/// How a `prometheus` source reads one environment's targets out of a query API.
///
/// Each (job, instance) the queries return becomes a child metrics source, named
/// `<source>/<job>/<instance>`, whose preset is chosen by [`PrometheusSpec::preset_for`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrometheusSpec {
    /// `(label, value)` selecting this environment's series; `None`: every series.
    pub env_selector: Option<(String, String)>,
    /// The label naming the node; a trailing `:port` is dropped from its value so the
    /// exporters of one host share one node name.
    pub node_label: String,
    pub role_label: Option<String>,
    pub cluster_label: Option<String>,
    pub service_label: Option<String>,
    /// Only these jobs; empty: every job.
    pub jobs: Vec<String>,
    /// Explicit job → preset choices, ahead of the job-name and metric-name rules.
    pub job_presets: BTreeMap<String, Preset>,
    /// How far back the range queries at start reach (zero: no backfill).
    pub backfill: Duration,
    /// Further metric names to fetch for every target (for rules), beyond the presets'.
    pub extra_metrics: Vec<String>,
}

impl PrometheusSpec {
    /// The preset for a target: an explicit `job_presets` entry, else the job name, else
    /// the metrics the target exposes (`names`, the metric names returned for it).
    ///
    /// Job names are matched after lowercasing, as a whole or by their first word (split
    /// at `-`, `_` or `.`): `node`, `node_exporter`, `node-exporter` → node; `mysqld`,
    /// `mysql`, `mysqld_exporter`, `mariadb`, `galera` → mysqld; `postgres`, `postgresql`,
    /// `postgres_exporter`, `pg` → postgres; `redis`, `redis_exporter` → redis; `backup`,
    /// `backups`, `pushgateway` → backup. Otherwise the first of `mysql_up`, `pg_up`,
    /// `redis_up`, `node_boot_time_seconds`, a backup success or push time metric that the
    /// target exposes decides; failing all that, generic.
    pub fn preset_for<'n>(
        &self,
        job: &str,
        names: impl IntoIterator<Item = &'n str> + Clone,
        backup: &BackupMetricNames,
    ) -> Preset {
        if let Some(p) = self.job_presets.get(job) {
            return *p;
        }
        let lower = job.to_ascii_lowercase();
        let first = lower.split(['-', '_', '.']).next().unwrap_or("");
        for word in [lower.as_str(), first] {
            let by_name = match word {
                "node" | "node_exporter" | "node-exporter" | "nodes" => Some(Preset::Node),
                "mysqld" | "mysql" | "mysqld_exporter" | "mariadb" | "galera" => {
                    Some(Preset::Mysqld)
                }
                "postgres" | "postgresql" | "postgres_exporter" | "pg" => Some(Preset::Postgres),
                "redis" | "redis_exporter" => Some(Preset::Redis),
                "backup" | "backups" | "pushgateway" => Some(Preset::Backup),
                _ => None,
            };
            if let Some(p) = by_name {
                return p;
            }
        }
        let has = |m: &str| names.clone().into_iter().any(|n| n == m);
        if has("mysql_up") {
            Preset::Mysqld
        } else if has("pg_up") {
            Preset::Postgres
        } else if has("redis_up") {
            Preset::Redis
        } else if has("node_boot_time_seconds") || has("node_cpu_seconds_total") {
            Preset::Node
        } else if has(&backup.last_success) || has(&backup.push_time) {
            Preset::Backup
        } else {
            Preset::Generic
        }
    }
}

/// A backup catalog: which tool's JSON it is and which service's backups it lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogSpec {
    pub format: CatalogFormat,
    /// Matched against `backup_policy.service`.
    pub service: String,
}

/// The JSON dialect of a backup catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CatalogFormat {
    /// Recognise the format from the document's shape.
    Auto,
    /// `restic snapshots --json`.
    Restic,
    /// `wal-g backup-list --detail --json`.
    Walg,
    /// `pgbackrest info --output=json`.
    Pgbackrest,
    /// `[{"time": RFC 3339, "type": "…", "size": bytes, "status": "ok"|"failed"|…}]`.
    Generic,
}

impl CatalogFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            CatalogFormat::Auto => "auto",
            CatalogFormat::Restic => "restic",
            CatalogFormat::Walg => "walg",
            CatalogFormat::Pgbackrest => "pgbackrest",
            CatalogFormat::Generic => "generic",
        }
    }

    pub fn parse(s: &str) -> Option<CatalogFormat> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    pub const ALL: [CatalogFormat; 5] = [
        CatalogFormat::Auto,
        CatalogFormat::Restic,
        CatalogFormat::Walg,
        CatalogFormat::Pgbackrest,
        CatalogFormat::Generic,
    ];
}

impl fmt::Display for CatalogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Credentials for a source. Never inline: always a file or an environment variable, read
/// at every poll (as Prometheus does with `credentials_file`) so rotated tokens are picked
/// up and a missing file shows as a failing source rather than a dead console.
#[derive(Debug, Clone)]
pub enum Auth {
    Bearer(SecretSource),
    Basic {
        username: String,
        password: SecretSource,
    },
}

/// Where a secret lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// A file (relative paths are resolved against the config file's directory at load).
    File(PathBuf),
    /// An environment variable's name.
    Env(String),
}

impl SecretSource {
    /// Read the secret now; a trailing newline (as `echo` writes) is dropped.
    pub fn read(&self) -> Result<Secret, String> {
        let raw = match self {
            SecretSource::File(path) => std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read secret file {}: {e}", path.display()))?,
            SecretSource::Env(name) => std::env::var(name)
                .map_err(|_| format!("environment variable {name} is not set"))?,
        };
        Ok(Secret::new(raw.trim_end_matches(['\r', '\n'])))
    }

    /// Where the secret comes from, for messages (never the value).
    pub fn describe(&self) -> String {
        match self {
            SecretSource::File(path) => format!("file {}", path.display()),
            SecretSource::Env(name) => format!("env {name}"),
        }
    }
}

/// A health endpoint: expected status, JSON body conditions, latency bound.
#[derive(Debug, Clone)]
pub struct HealthSpec {
    pub expect_status: u16,
    pub conditions: Vec<BodyCondition>,
    pub max_latency: Option<Duration>,
}

/// `body.status == "UP"`: a path into the JSON body, an operator and a literal.
#[derive(Debug, Clone, PartialEq)]
pub struct BodyCondition {
    /// The condition as written, for messages ("condition `body.status == \"UP\"` failed").
    pub text: String,
    /// Path segments after `body`; a segment that parses as an integer also indexes arrays.
    pub path: Vec<String>,
    pub op: CmpOp,
    pub value: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// An exporter's `/metrics` endpoint and where it sits in the fleet.
#[derive(Debug, Clone)]
pub struct MetricsSpec {
    pub preset: Preset,
    pub placement: Placement,
    /// Metric names the `backup` preset reads (configurable for custom jobs).
    pub backup_names: BackupMetricNames,
}

/// Which domain view an exporter's metrics feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    Node,
    Mysqld,
    Postgres,
    Redis,
    Backup,
    Generic,
}

impl Preset {
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Node => "node",
            Preset::Mysqld => "mysqld",
            Preset::Postgres => "postgres",
            Preset::Redis => "redis",
            Preset::Backup => "backup",
            Preset::Generic => "generic",
        }
    }

    pub fn parse(s: &str) -> Option<Preset> {
        Some(match s {
            "node" => Preset::Node,
            "mysqld" => Preset::Mysqld,
            "postgres" => Preset::Postgres,
            "redis" => Preset::Redis,
            "backup" => Preset::Backup,
            "generic" => Preset::Generic,
            _ => return None,
        })
    }

    pub const ALL: [Preset; 6] = [
        Preset::Node,
        Preset::Mysqld,
        Preset::Postgres,
        Preset::Redis,
        Preset::Backup,
        Preset::Generic,
    ];
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The labels that place an exporter: which node, role, cluster and service it speaks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    pub node: Option<String>,
    pub role: Option<String>,
    pub cluster: Option<String>,
    pub service: Option<String>,
    /// Any further labels given in the config.
    pub extra: BTreeMap<String, String>,
}

/// Metric names read by the `backup` preset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupMetricNames {
    pub last_success: String,
    pub last_size: String,
    pub last_duration: String,
    /// Pushgateway's per-group push time, used when `last_success` is absent.
    pub push_time: String,
    /// The label that names the backed-up service.
    pub service_label: String,
}

impl Default for BackupMetricNames {
    fn default() -> Self {
        Self {
            last_success: "backup_last_success_timestamp_seconds".to_owned(),
            last_size: "backup_last_size_bytes".to_owned(),
            last_duration: "backup_last_duration_seconds".to_owned(),
            push_time: "push_time_seconds".to_owned(),
            service_label: "service".to_owned(),
        }
    }
}
