//! Rule data from the store: exporter samples with their source's placement labels, and
//! the console's domain views as synthetic series (`node_up`, `replication_lag_seconds`,
//! `backup_age_seconds`, `health_up`, `up`, …) — the names the default pack documents.
//!
//! Only metric names some rule reads are built, and the enriched label set of each exporter
//! series is cached across rounds, so a round costs little more than the rules themselves.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;

use super::data::{InputSeries, LabelSet, RuleData, label_set};
use crate::config::settings::{SourceId, SourceKind};
use crate::store::model::{AlertState, LinkState, ReplicationKind, SourceHealth};
use crate::store::{Snapshot, Store};

/// Handles above this are synthetic series (no history).
const SYNTHETIC: u64 = u64::MAX;

/// Builds [`StoreData`] each round, keeping label sets between rounds.
#[derive(Debug, Default)]
pub struct InputBuilder {
    names: HashSet<String>,
    /// (source, series index) → (table layout, enriched labels).
    cache: FxHashMap<(u32, u32), (u64, LabelSet)>,
}

impl InputBuilder {
    /// `names`: every metric name the rules read (see `RuleSet::metric_names`).
    pub fn new(names: HashSet<String>) -> Self {
        Self {
            names,
            cache: FxHashMap::default(),
        }
    }

    /// The rule data for this round.
    pub fn build<'s>(&mut self, store: &'s Store, snap: &Snapshot, now: DateTime<Utc>) -> StoreData<'s> {
        let mut data = StoreData {
            now,
            store,
            by_name: FxHashMap::default(),
        };
        let stale = |id: SourceId| snap.is_stale(id);
        for state in store.sources() {
            let SourceKind::Metrics(_) = &state.spec.kind else {
                continue;
            };
            let id = state.spec.id;
            let source_stale = stale(id);
            let table = &state.table;
            for (idx, series) in table.present_indexed() {
                if !self.names.contains(&*series.name) {
                    continue;
                }
                let key = (id.0, idx as u32);
                let labels = match self.cache.get(&key) {
                    Some((layout, labels)) if *layout == table.layout() => labels.clone(),
                    _ => {
                        let labels = enriched(state, series);
                        self.cache.insert(key, (table.layout(), labels.clone()));
                        labels
                    }
                };
                data.push(InputSeries {
                    name: Arc::from(&*series.name),
                    labels,
                    value: series.value,
                    stale: source_stale,
                    source: Some(id),
                    handle: (u64::from(id.0) << 32) | idx as u64,
                });
            }
        }
        self.synthetic(&mut data, store, snap);
        data
    }

    fn synthetic(&self, data: &mut StoreData<'_>, store: &Store, snap: &Snapshot) {
        let want = |n: &str| self.names.contains(n);
        let mut emit = |data: &mut StoreData<'_>, name: &str, labels: &LabelSet, value: f64, stale: bool, source: Option<SourceId>| {
            if want(name) && value.is_finite() {
                data.push(InputSeries {
                    name: Arc::from(name),
                    labels: labels.clone(),
                    value,
                    stale,
                    source,
                    handle: SYNTHETIC,
                });
            }
        };
        let flag = |b: bool| if b { 1.0 } else { 0.0 };

        for src in &snap.sources {
            let Some(state) = store.source(src.id) else { continue };
            let mut pairs: Vec<(&str, String)> = vec![
                ("env", src.environment.clone()),
                ("source", src.name.clone()),
                ("kind", src.kind.to_owned()),
            ];
            if let SourceKind::Metrics(m) = &state.spec.kind {
                pairs.push(("preset", m.preset.as_str().to_owned()));
                placement_pairs(&m.placement, &mut pairs);
            } else {
                pairs.push(("preset", String::new()));
            }
            let up = matches!(src.health, SourceHealth::Ok { .. } | SourceHealth::Stale { .. })
                && state.is_up();
            // `up` is about the poll itself, so it is never stale.
            emit(data, "up", &label_set(pairs), flag(up), false, Some(src.id));
        }

        for n in &snap.nodes {
            let mut pairs = vec![("env", n.environment.clone()), ("node", n.name.clone())];
            if let Some(r) = &n.role {
                pairs.push(("role", r.clone()));
            }
            if let Some(c) = &n.cluster {
                pairs.push(("cluster", c.clone()));
            }
            let labels = label_set(pairs);
            let stale = snap.is_stale(n.source);
            emit(data, "node_up", &labels, flag(n.up), false, Some(n.source));
            if let Some(v) = n.cpu_percent {
                emit(data, "node_cpu_percent", &labels, v, stale, Some(n.source));
            }
            if let Some(v) = n.memory_percent {
                emit(data, "node_memory_percent", &labels, v, stale, Some(n.source));
            }
            if let Some(v) = n.root_disk_percent {
                emit(data, "node_disk_used_percent", &labels, v, stale, Some(n.source));
            }
        }

        let mut galera_expected: FxHashMap<(String, String), usize> = FxHashMap::default();
        for state in store.sources() {
            if let SourceKind::Metrics(m) = &state.spec.kind
                && m.placement.role.as_deref() == Some("galera")
            {
                let cluster = m.placement.cluster.clone().unwrap_or_else(|| "galera".to_owned());
                *galera_expected.entry((state.spec.environment.clone(), cluster)).or_default() += 1;
            }
        }
        for ((env, cluster), n) in &galera_expected {
            let labels = label_set([("env", env.as_str()), ("cluster", cluster.as_str())]);
            emit(data, "galera_cluster_expected", &labels, *n as f64, false, None);
        }

        for l in &snap.links {
            let stale = snap.is_stale(l.source);
            let src = Some(l.source);
            if let LinkState::Galera {
                local_state,
                cluster_status,
                ready,
                cluster_size,
                ..
            } = &l.state
            {
                let labels = label_set([
                    ("env", l.environment.as_str()),
                    ("cluster", l.primary.as_str()),
                    ("node", l.replica.as_str()),
                ]);
                let member_up = !snap.is_stale(l.source)
                    && store.source(l.source).is_some_and(|s| s.is_up());
                emit(data, "galera_member_up", &labels, flag(member_up), false, src);
                emit(data, "galera_local_state", &labels, *local_state as f64, stale, src);
                emit(data, "galera_ready", &labels, flag(*ready), stale, src);
                emit(data, "galera_primary", &labels, flag(cluster_status == "Primary"), stale, src);
                emit(data, "galera_cluster_size", &labels, *cluster_size as f64, stale, src);
                continue;
            }
            let mut pairs = vec![
                ("env", l.environment.clone()),
                ("kind", kind_label(l.kind).to_owned()),
                ("primary", l.primary.clone()),
                ("replica", l.replica.clone()),
            ];
            if let Some(c) = &l.cluster {
                pairs.push(("cluster", c.clone()));
            }
            let labels = label_set(pairs);
            if let Some(v) = l.lag_seconds {
                emit(data, "replication_lag_seconds", &labels, v, stale, src);
            }
            if let Some(v) = l.lag_bytes {
                emit(data, "replication_lag_bytes", &labels, v, stale, src);
            }
            match &l.state {
                LinkState::Threads { io_running, sql_running } => {
                    emit(data, "replication_io_running", &labels, flag(*io_running), stale, src);
                    emit(data, "replication_sql_running", &labels, flag(*sql_running), stale, src);
                }
                LinkState::Link { up } => {
                    emit(data, "replication_link_up", &labels, flag(*up), stale, src);
                }
                LinkState::Streaming { attached } => {
                    emit(data, "replication_streaming", &labels, flag(*attached), stale, src);
                }
                LinkState::Galera { .. } | LinkState::Unknown => {}
            }
        }

        for h in &snap.health {
            let labels = label_set([("env", h.environment.as_str()), ("check", h.name.as_str())]);
            let stale = snap.is_stale(h.source);
            if let Some(r) = &h.result {
                emit(data, "health_up", &labels, flag(r.up), stale, Some(h.source));
                if r.status.is_some() {
                    emit(data, "health_latency_seconds", &labels, r.latency.as_secs_f64(), stale, Some(h.source));
                }
            }
        }

        for b in &snap.backups {
            let labels = label_set([("env", b.environment.as_str()), ("service", b.service.as_str())]);
            let stale = snap.is_stale(b.source);
            let src = Some(b.source);
            if let Some(age) = b.age {
                emit(data, "backup_age_seconds", &labels, age.as_secs_f64(), stale, src);
            }
            if let Some(iv) = b.interval {
                emit(data, "backup_interval_seconds", &labels, iv.as_secs_f64(), false, None);
            }
            if let Some(rpo) = b.rpo {
                emit(data, "backup_rpo_seconds", &labels, rpo.as_secs_f64(), false, None);
            }
            if let Some(size) = b.size_bytes {
                emit(data, "backup_size_bytes", &labels, size, stale, src);
            }
        }

        for c in &snap.catalogs {
            if c.coverage.is_empty() {
                continue;
            }
            let labels = label_set([("env", c.environment.as_str()), ("service", c.service.as_str())]);
            let stale = snap.is_stale(c.source);
            let missing = c.missing().count() as f64;
            emit(data, "backup_retention_missing_slots", &labels, missing, stale, Some(c.source));
            emit(data, "backup_retention_slots", &labels, c.coverage.len() as f64, stale, Some(c.source));
        }

        for a in &snap.alerts {
            if a.state != AlertState::Firing || a.is_suppressed() {
                continue;
            }
            let env = snap.source(a.source).map(|s| s.environment.clone()).unwrap_or_default();
            let mut pairs: Vec<(String, String)> =
                a.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            pairs.push(("env".to_owned(), env));
            pairs.push(("alertname".to_owned(), a.name.clone()));
            emit(data, "alert_firing", &label_set(pairs), 1.0, snap.is_stale(a.source), Some(a.source));
        }
    }
}

/// The lowercase kind label rules match on.
pub fn kind_label(kind: ReplicationKind) -> &'static str {
    match kind {
        ReplicationKind::Galera => "galera",
        ReplicationKind::Mysql => "mysql",
        ReplicationKind::Postgres => "postgres",
        ReplicationKind::Redis => "redis",
    }
}

fn placement_pairs(p: &crate::config::settings::Placement, pairs: &mut Vec<(&'static str, String)>) {
    for (name, value) in [("node", &p.node), ("role", &p.role), ("cluster", &p.cluster), ("service", &p.service)] {
        if let Some(v) = value {
            pairs.push((name, v.clone()));
        }
    }
}

/// An exporter series' labels plus its source's: `env` and `source` always the console's;
/// placement labels only where the exporter did not set the same label itself.
fn enriched(state: &crate::store::SourceState, series: &crate::store::series::Series) -> LabelSet {
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(series.labels.len() + 8);
    if let SourceKind::Metrics(m) = &state.spec.kind {
        let mut placement = Vec::new();
        placement_pairs(&m.placement, &mut placement);
        pairs.extend(placement.into_iter().map(|(k, v)| (k.to_owned(), v)));
        pairs.extend(m.placement.extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    pairs.extend(series.labels.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    pairs.push(("env".to_owned(), state.spec.environment.clone()));
    pairs.push(("source".to_owned(), state.spec.name.clone()));
    // label_set keeps the last of duplicate names: exporter labels beat placement, and the
    // console's env/source beat both.
    label_set(pairs)
}

/// Rule data for one round.
pub struct StoreData<'s> {
    now: DateTime<Utc>,
    store: &'s Store,
    by_name: FxHashMap<Arc<str>, Vec<InputSeries>>,
}

impl StoreData<'_> {
    fn push(&mut self, s: InputSeries) {
        self.by_name.entry(s.name.clone()).or_default().push(s);
    }

    /// How many input series this round carries (for diagnostics and benches).
    pub fn series_count(&self) -> usize {
        self.by_name.values().map(Vec::len).sum()
    }
}

impl RuleData for StoreData<'_> {
    fn now(&self) -> DateTime<Utc> {
        self.now
    }

    fn series(&self, name: &str) -> &[InputSeries] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    fn history(&self, series: &InputSeries, window: Duration) -> Vec<(DateTime<Utc>, f64)> {
        if series.handle == SYNTHETIC {
            return Vec::new();
        }
        let source = SourceId((series.handle >> 32) as u32);
        let idx = (series.handle & 0xffff_ffff) as usize;
        let Some(state) = self.store.source(source) else {
            return Vec::new();
        };
        let Some(s) = state.table.get(idx) else {
            return Vec::new();
        };
        let start = self.now - chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
        state
            .table
            .history(s)
            .into_iter()
            .filter(|(t, _)| *t > start && *t <= self.now)
            .collect()
    }
}
