//! Exporter presets: how the series of one exporter become domain views (nodes,
//! replication links, backup runs), and which metrics each preset expects.
//!
//! A preset never invents a zero: a value it cannot find is `None`, and a metric it expects
//! but the endpoint does not expose is reported on the source as a warning.

mod backup;
mod mysqld;
mod node;
mod postgres;
mod redis;

use chrono::{DateTime, Utc};

use crate::config::settings::{
    BackupMetricNames, EnvironmentSpec, MetricsSpec, Preset, SourceSpec,
};
use crate::store::model::{BackupRun, Node, ReplicationLink};
use crate::store::series::{Series, SeriesTable};

/// What a preset reads.
pub struct Input<'a> {
    pub env: &'a EnvironmentSpec,
    pub spec: &'a SourceSpec,
    pub metrics: &'a MetricsSpec,
    pub table: &'a SeriesTable,
    /// The latest poll of this source succeeded.
    pub up: bool,
    pub now: DateTime<Utc>,
}

impl Input<'_> {
    /// The node this exporter speaks for: the configured `node` label, else the source name.
    pub fn node_name(&self) -> String {
        self.metrics
            .placement
            .node
            .clone()
            .unwrap_or_else(|| self.spec.name.clone())
    }

    pub fn extra(&self, key: &str) -> Option<&str> {
        self.metrics.placement.extra.get(key).map(String::as_str)
    }

    pub fn role(&self) -> Option<&str> {
        self.metrics.placement.role.as_deref()
    }
}

/// What a preset found.
#[derive(Debug, Default)]
pub struct Output {
    pub nodes: Vec<Node>,
    pub links: Vec<ReplicationLink>,
    pub backups: Vec<BackupRun>,
    /// Redis replication offsets, joined across sources after every preset has run.
    pub redis_offsets: Vec<redis::Offset>,
    /// Metrics the preset expected but the endpoint did not expose.
    pub missing: Vec<String>,
}

pub use redis::{Offset as RedisOffset, join_offsets as join_redis_offsets};

/// Run the source's preset.
pub fn derive(input: &Input<'_>) -> Output {
    let mut out = Output::default();
    match input.metrics.preset {
        Preset::Node => node::derive(input, &mut out),
        Preset::Mysqld => mysqld::derive(input, &mut out),
        Preset::Postgres => postgres::derive(input, &mut out),
        Preset::Redis => redis::derive(input, &mut out),
        Preset::Backup => backup::derive(input, &mut out),
        Preset::Generic => {}
    }
    out
}

/// Every metric name a preset reads (all spellings), for querying them from Prometheus.
pub fn metric_names(preset: Preset, backup: &BackupMetricNames) -> Vec<String> {
    let fixed: &[&str] = match preset {
        Preset::Node => node::METRICS,
        Preset::Mysqld => mysqld::METRICS,
        Preset::Postgres => postgres::METRICS,
        Preset::Redis => redis::METRICS,
        Preset::Backup => {
            return vec![
                backup.last_success.clone(),
                backup.last_size.clone(),
                backup.last_duration.clone(),
                backup.push_time.clone(),
            ];
        }
        Preset::Generic => &[],
    };
    fixed.iter().map(|&m| m.to_owned()).collect()
}

/// The exporters' own "can I reach the database" gauges.
const DATABASE_UP: &[&str] = &["mysql_up", "pg_up", "redis_up"];

/// Record each group of alternatives of which no metric is exposed.
fn expect(input: &Input<'_>, out: &mut Output, groups: &[&[&str]]) {
    if !input.up {
        return;
    }
    // An exporter that cannot reach its database says so (`mysql_up 0`) and exposes little
    // else: the database is down, which the links and rules show; nothing is missing.
    let database_down = DATABASE_UP
        .iter()
        .any(|m| input.table.value(m, &[]) == Some(0.0));
    for group in groups {
        if database_down && !group.iter().any(|m| DATABASE_UP.contains(m)) {
            continue;
        }
        if !group.iter().any(|m| input.table.has(m)) {
            out.missing.push(group.join(" or "));
        }
    }
}

/// Values of one series over the history window, oldest first.
fn history_values(table: &SeriesTable, series: &Series) -> Vec<f64> {
    table.history(series).into_iter().map(|(_, v)| v).collect()
}

/// First present series among alternative names (old and new exporter spellings).
fn first_named<'t>(table: &'t SeriesTable, names: &[&str]) -> Option<&'t Series> {
    names.iter().find_map(|n| table.named(n).next())
}

fn secs(v: f64) -> Option<std::time::Duration> {
    (v.is_finite() && v >= 0.0).then(|| std::time::Duration::from_secs_f64(v))
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}
