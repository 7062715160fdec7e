//! Rule data from the store: exporter samples with their source's placement labels, and
//! the console's domain views as synthetic series (`node_up`, `replication_lag_seconds`,
//! `backup_age_seconds`, `health_up`, `up`, …) — the names the default pack documents.
//!
//! Built every round, so it is built cheaply: only metric names some rule reads are kept;
//! each exporter series' verdict (unwanted, or wanted with its enriched label set) is cached
//! by source and series index until the table's layout changes; synthetic label sets are
//! shared between rounds; the per-name buckets are reused; label strings are interned.
//! [`StoreData::range_values`] remembers each exporter series' range-function values between
//! rounds, valid while its table's generation and layout stay the same and the evaluation
//! instant stays within the span that sees the same points (`SeriesTable::window_slots`).
//! Which ring slots a window reads is worked out once per table and window, not per series.
//! Each bucket's label sets carry an epoch that changes only when an entry's label set does,
//! so plans learnt from label sets (which series an aggregation picks, and their groups:
//! [`GroupPlan`]) are kept until then.

use std::cell::RefCell;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rustc_hash::{FxHashMap, FxHasher};

use super::data::{GroupPlan, InputSeries, Interner, LabelSet, RangeFn, RuleData, label};
use crate::config::settings::{Placement, SourceId, SourceKind};
use crate::store::model::{AlertState, LinkState, ReplicationKind, SourceHealth};
use crate::store::prefetch;
use crate::store::series::{Point, Series, SeriesTable, WindowSlots};
use crate::store::{Snapshot, SourceState, Store};

/// Handle of synthetic series (no history).
const SYNTHETIC: u64 = u64::MAX;

/// Past this many cached synthetic label sets the cache starts over (alert labels churn).
const SYNTH_CACHE_LIMIT: usize = 200_000;

/// What a rule reads from one source's table: the series with a wanted name, found once
/// per table layout (new series are scanned as they appear).
#[derive(Debug, Default)]
struct SourceCache {
    layout: u64,
    /// The source's spec revision the labels in `wanted` were built for.
    revision: u64,
    /// Series indices below this have been looked at.
    scanned: usize,
    /// (series index, bucket, enriched labels).
    wanted: Vec<(usize, usize, LabelSet)>,
    /// Last round's table generation and layout, and staleness.
    written: Option<(u64, u64, bool)>,
    /// Where last round's entries went: (bucket, first position, count). A source's
    /// entries are contiguous in each bucket, sources following one another.
    placed: Vec<(usize, usize, usize)>,
}

/// Builds [`StoreData`] each round, keeping what can be kept between rounds.
#[derive(Debug, Default)]
pub struct InputBuilder {
    /// Wanted metric name → bucket.
    slots: FxHashMap<Arc<str>, usize>,
    names: Vec<Arc<str>>,
    sources: Vec<SourceCache>,
    synth: FxHashMap<u64, LabelSet>,
    /// Labels of each source's `up` and node series: fixed by the config, so built once.
    /// Each with the source's spec revision it was built for.
    per_source: Vec<Option<(u64, SourceLabels)>>,
    buckets: Vec<Vec<InputSeries>>,
    /// Per bucket, how many entries this round has written so far (see [`put`]).
    cursors: Vec<usize>,
    /// Every label set built here shares its strings (see [`Interner`]).
    interner: Interner,
    /// The store the caches above describe.
    store_id: Option<u64>,
    /// Range-function values remembered between rounds (see [`RuleData::range_values`]).
    ranges: RefCell<Vec<Lane>>,
    /// Each source's table generation and layout as of this round's build, by source id:
    /// read here so that checking a remembered value touches no table.
    stamps: Vec<(u64, u64)>,
    /// The last table window worked out (see [`Windows`]).
    windows: RefCell<Windows>,
    /// Per bucket, the epoch of its label sets (see [`RuleData::labels_epoch`]): a new one
    /// from `next_epoch` whenever a round replaces, adds or drops an entry.
    epochs: Vec<u64>,
    /// Per bucket, whether this round's build changed an entry's label set or handle.
    dirty: Vec<bool>,
    next_epoch: u64,
    /// Aggregation plans by expression, with the epoch they were made for.
    plans: RefCell<FxHashMap<String, (u64, Arc<GroupPlan>)>>,
}

/// How many sources ahead a range function asks for a source's lines (see
/// [`RuleData::range_values`]): far enough for a miss (a few hundred ns) to be over by the
/// time the source is read, near enough that the lines are still in cache then.
const PREFETCH_RUNS: usize = 6;

/// A source's `up` label set, and its node's (node preset only).
type SourceLabels = (LabelSet, Option<LabelSet>);

/// Past this many remembered plans the cache starts over (rule files can be reloaded).
const PLAN_CACHE_LIMIT: usize = 1024;

/// The ring slots each range window reads from each source's table (see
/// [`SeriesTable::window_slots`]): several range functions read the same table over the
/// same window (`rate(a_sum[5m]) / rate(a_count[5m])`), and a table not scraped since an
/// earlier round keeps its slots while the instant stays in their span. One lane per
/// window, each indexed by source id: a range function walks sources in id order, so its
/// entries are read one after another in memory.
#[derive(Debug, Default)]
struct Windows {
    lanes: Vec<(Duration, Vec<WindowEntry>)>,
}

#[derive(Debug, Default)]
struct WindowEntry {
    /// The table's generation and layout the slots were worked out for (a new entry has
    /// no span, so it is worked out whatever its stamp).
    stamp: (u64, u64),
    slots: WindowSlots,
}

/// Remembered values of one range function and window over one bucket, by position in the
/// bucket: evaluation walks a bucket in order, so the memos are read in order too.
#[derive(Debug)]
struct Lane {
    slot: usize,
    func: u8,
    window: Duration,
    memos: Vec<Option<RangeMemo>>,
}

/// A range function's value and what it is valid for: the series (handle), its table's
/// contents (generation and layout) and the evaluation instants `[from, until)` that see
/// the same points.
#[derive(Debug, Clone, Copy)]
struct RangeMemo {
    handle: u64,
    generation: u64,
    layout: u64,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    value: Option<f64>,
}

impl InputBuilder {
    /// `names`: every metric name the rules read (see `RuleSet::metric_names`).
    pub fn new(names: impl IntoIterator<Item = String>) -> Self {
        let mut b = Self::default();
        for n in names {
            let name: Arc<str> = Arc::from(n.as_str());
            if !b.slots.contains_key(&name) {
                b.slots.insert(name.clone(), b.names.len());
                b.names.push(name);
            }
        }
        b.buckets = vec![Vec::new(); b.names.len()];
        b.epochs = vec![0; b.names.len()];
        b.dirty = vec![false; b.names.len()];
        b
    }

    /// The rule data for this round.
    pub fn build<'a>(
        &'a mut self,
        store: &'a Store,
        snap: &Snapshot,
        now: DateTime<Utc>,
    ) -> StoreData<'a> {
        if self.store_id != Some(store.id()) {
            // Every cache below is keyed by source ids, series indices and generations of
            // one store.
            self.store_id = Some(store.id());
            self.sources.clear();
            self.synth.clear();
            self.per_source.clear();
            self.ranges.get_mut().clear();
            self.stamps.clear();
            self.windows.get_mut().lanes.clear();
            self.plans.get_mut().clear();
        }
        self.cursors.clear();
        self.cursors.resize(self.buckets.len(), 0);
        self.dirty.clear();
        self.dirty.resize(self.buckets.len(), false);

        self.exporter_series(store, snap);
        self.synthetic(store, snap);
        for (slot, (bucket, &len)) in self.buckets.iter_mut().zip(&self.cursors).enumerate() {
            if bucket.len() != len {
                bucket.truncate(len);
                self.dirty[slot] = true;
            }
        }
        self.epochs.resize(self.buckets.len(), 0);
        for (epoch, &dirty) in self.epochs.iter_mut().zip(&self.dirty) {
            if dirty {
                self.next_epoch += 1;
                *epoch = self.next_epoch;
            }
        }
        // Lanes follow their bucket's length (memos are checked by handle, so a shifted
        // position is only a miss).
        for lane in self.ranges.get_mut() {
            let len = self.buckets.get(lane.slot).map_or(0, Vec::len);
            lane.memos.resize(len, None);
        }
        StoreData {
            now,
            store,
            slots: &self.slots,
            buckets: &self.buckets,
            ranges: &self.ranges,
            stamps: &self.stamps,
            windows: &self.windows,
            epochs: &self.epochs,
            plans: &self.plans,
            last_bucket: std::cell::Cell::new(0),
        }
    }

    fn exporter_series(&mut self, store: &Store, snap: &Snapshot) {
        let states = store.sources();
        for (n, state) in states.iter().enumerate() {
            // After a round of scrapes, every source's table, presence and values are out
            // of cache: ask for them ahead, one link of the chain per stage (as range
            // functions do): the table and this cache's lists two stages ahead, then the
            // lines of the series the lists name.
            if let Some(ahead) = states.get(n + 2 * PREFETCH_RUNS) {
                ahead.table.prefetch_table();
                // By position, not by its id: reading the id would wait for its line. A
                // source's position is its id (`Store::source`), so this is its cache.
                if let Some(cache) = self.sources.get(n + 2 * PREFETCH_RUNS) {
                    prefetch::slice(&cache.wanted);
                    prefetch::slice(&cache.placed);
                }
            }
            if let Some(ahead) = states.get(n + PREFETCH_RUNS)
                && let Some(cache) = self.sources.get(ahead.spec.id.0 as usize)
            {
                for &(idx, _, _) in &cache.wanted {
                    ahead.table.prefetch_latest(idx);
                }
            }
            if !matches!(state.spec.kind, SourceKind::Metrics(_)) {
                continue;
            }
            let id = state.spec.id;
            let sidx = id.0 as usize;
            if self.sources.len() <= sidx {
                self.sources.resize_with(sidx + 1, SourceCache::default);
            }
            let table = &state.table;
            if self.stamps.len() <= sidx {
                self.stamps.resize(sidx + 1, (u64::MAX, u64::MAX));
            }
            self.stamps[sidx] = (table.generation(), table.layout());
            let stale = snap.is_stale(id);
            let cache = &mut self.sources[sidx];
            // Nothing scraped since last round, same staleness, and every source before it
            // wrote as many entries as last round: its entries are already in place, with
            // the same values (a table's values only change with its generation).
            if cache.written == Some((table.generation(), table.layout(), stale))
                && cache.revision == state.spec_revision
                && cache.scanned == table.len()
                && cache
                    .placed
                    .iter()
                    .all(|&(slot, start, _)| self.cursors.get(slot) == Some(&start))
            {
                for &(slot, _, count) in &cache.placed {
                    self.cursors[slot] += count;
                }
                continue;
            }
            // New indices, or a new placement for every label set: start over.
            if cache.layout != table.layout() || cache.revision != state.spec_revision {
                *cache = SourceCache {
                    layout: table.layout(),
                    revision: state.spec_revision,
                    ..SourceCache::default()
                };
            }
            for idx in cache.scanned..table.len() {
                if let Some(series) = table.get(idx)
                    && let Some(&slot) = self.slots.get(&*series.name)
                {
                    cache
                        .wanted
                        .push((idx, slot, enriched(&mut self.interner, state, series)));
                }
            }
            cache.scanned = table.len();
            cache.written = Some((table.generation(), table.layout(), stale));
            cache.placed.clear();
            for (idx, slot, labels) in &cache.wanted {
                if !table.is_present(*idx) {
                    continue;
                }
                let Some(value) = table.latest(*idx) else {
                    continue;
                };
                match cache.placed.iter_mut().find(|p| p.0 == *slot) {
                    Some(p) => p.2 += 1,
                    None => cache.placed.push((*slot, self.cursors[*slot], 1)),
                }
                self.dirty[*slot] |= put(
                    &mut self.buckets[*slot],
                    &mut self.cursors[*slot],
                    &self.names[*slot],
                    labels,
                    value,
                    stale,
                    Some(id),
                    (u64::from(id.0) << 32) | *idx as u64,
                );
            }
        }
    }

    /// A shared label set for these pairs (any order), built once and reused.
    fn labels(&mut self, pairs: &[(&str, &str)]) -> LabelSet {
        let mut sorted: Vec<(&str, &str)> = pairs.to_vec();
        sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
        sorted.dedup_by(|later, earlier| {
            if later.0 == earlier.0 {
                earlier.1 = later.1;
                true
            } else {
                false
            }
        });
        let mut h = FxHasher::default();
        sorted.hash(&mut h);
        let key = h.finish();
        if let Some(set) = self.synth.get(&key)
            && set.len() == sorted.len()
            && sorted.iter().all(|(k, v)| label(set, k) == Some(v))
        {
            return set.clone();
        }
        if self.synth.len() >= SYNTH_CACHE_LIMIT {
            self.synth.clear();
        }
        let set = self.interner.label_set(sorted);
        self.synth.insert(key, set.clone());
        set
    }

    /// `up` labels of a source, and the labels of the node it describes (node preset),
    /// taken out of the cache: the caller puts them back with [`Self::restore_labels`].
    /// Moved rather than cloned, because a clone writes the reference count of a label set
    /// that a round of scrapes has evicted from cache, twice per source per round.
    fn take_source_labels(&mut self, state: &SourceState) -> SourceLabels {
        let idx = state.spec.id.0 as usize;
        if let Some((revision, cached)) = self.per_source.get_mut(idx).and_then(Option::take)
            && revision == state.spec_revision
        {
            return cached;
        }
        let spec = &state.spec;
        let mut pairs: Vec<(&str, &str)> = vec![
            ("env", &spec.environment),
            ("source", &spec.name),
            ("kind", spec.kind_name()),
        ];
        let mut node = None;
        if let SourceKind::Metrics(m) = &spec.kind {
            pairs.push(("preset", m.preset.as_str()));
            placement_pairs(&m.placement, &mut pairs);
            if m.preset == crate::config::settings::Preset::Node {
                // The same identity the node preset gives the node.
                let name = m.placement.node.as_deref().unwrap_or(&spec.name);
                let mut n = vec![("env", spec.environment.as_str()), ("node", name)];
                if let Some(r) = &m.placement.role {
                    n.push(("role", r));
                }
                if let Some(c) = &m.placement.cluster {
                    n.push(("cluster", c));
                }
                node = Some(self.interner.label_set(n));
            }
        } else {
            pairs.push(("preset", ""));
        }
        (self.interner.label_set(pairs), node)
    }

    /// Put back what [`Self::take_source_labels`] took.
    fn restore_labels(&mut self, state: &SourceState, labels: SourceLabels) {
        let idx = state.spec.id.0 as usize;
        if self.per_source.len() <= idx {
            self.per_source.resize(idx + 1, None);
        }
        self.per_source[idx] = Some((state.spec_revision, labels));
    }

    fn emit(
        &mut self,
        name: &str,
        labels: &LabelSet,
        value: f64,
        stale: bool,
        source: Option<SourceId>,
    ) {
        let slot = self.slots.get(name).copied();
        self.emit_to(slot, labels, value, stale, source);
    }

    /// [`Self::emit`] with the name's bucket already looked up (for loops over thousands).
    fn emit_to(
        &mut self,
        slot: Option<usize>,
        labels: &LabelSet,
        value: f64,
        stale: bool,
        source: Option<SourceId>,
    ) {
        let Some(slot) = slot else {
            return;
        };
        if value.is_finite() {
            self.dirty[slot] |= put(
                &mut self.buckets[slot],
                &mut self.cursors[slot],
                &self.names[slot],
                labels,
                value,
                stale,
                source,
                SYNTHETIC,
            );
        }
    }

    fn wants(&self, name: &str) -> bool {
        self.slots.contains_key(name)
    }

    fn synthetic(&mut self, store: &Store, snap: &Snapshot) {
        let flag = |b: bool| if b { 1.0 } else { 0.0 };

        let up_slot = self.slots.get("up").copied();
        if up_slot.is_some() {
            for src in &snap.sources {
                let Some(state) = store.source(src.id) else {
                    continue;
                };
                let labels = self.take_source_labels(state);
                let up = matches!(
                    src.health,
                    SourceHealth::Ok { .. } | SourceHealth::Stale { .. }
                ) && state.is_up();
                // `up` is about the poll itself: never stale, and tied to no source, so a
                // failing source makes it 0 rather than making it unknown.
                self.emit_to(up_slot, &labels.0, flag(up), false, None);
                self.restore_labels(state, labels);
            }
        }

        let [node_up, node_cpu, node_memory, node_disk] = [
            "node_up",
            "node_cpu_percent",
            "node_memory_percent",
            "node_disk_used_percent",
        ]
        .map(|name| self.slots.get(name).copied());
        for n in &snap.nodes {
            let state = store.source(n.source);
            let mut cached = state.map(|state| self.take_source_labels(state));
            let built;
            let labels = match cached.as_ref().and_then(|c| c.1.as_ref()) {
                Some(l) => l,
                None => {
                    let mut pairs =
                        vec![("env", n.environment.as_str()), ("node", n.name.as_str())];
                    if let Some(r) = &n.role {
                        pairs.push(("role", r));
                    }
                    if let Some(c) = &n.cluster {
                        pairs.push(("cluster", c));
                    }
                    built = self.labels(&pairs);
                    &built
                }
            };
            let stale = snap.is_stale(n.source);
            // Like `up`: derived from the poll outcome, so it never depends on fresh data.
            self.emit_to(node_up, labels, flag(n.up), false, None);
            if let Some(v) = n.cpu_percent {
                self.emit_to(node_cpu, labels, v, stale, Some(n.source));
            }
            if let Some(v) = n.memory_percent {
                self.emit_to(node_memory, labels, v, stale, Some(n.source));
            }
            if let Some(v) = n.root_disk_percent {
                self.emit_to(node_disk, labels, v, stale, Some(n.source));
            }
            if let (Some(state), Some(labels)) = (state, cached.take()) {
                self.restore_labels(state, labels);
            }
        }

        if self.wants("galera_cluster_expected") {
            let mut expected: FxHashMap<(&str, &str), usize> = FxHashMap::default();
            for state in store.sources() {
                if let SourceKind::Metrics(m) = &state.spec.kind
                    && m.placement.role.as_deref() == Some("galera")
                {
                    let cluster = m.placement.cluster.as_deref().unwrap_or("galera");
                    *expected
                        .entry((&state.spec.environment, cluster))
                        .or_default() += 1;
                }
            }
            for ((env, cluster), n) in expected {
                let labels = self.labels(&[("env", env), ("cluster", cluster)]);
                self.emit("galera_cluster_expected", &labels, n as f64, false, None);
            }
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
                let labels = self.labels(&[
                    ("env", &l.environment),
                    ("cluster", &l.primary),
                    ("node", &l.replica),
                ]);
                let member_up = !stale && store.source(l.source).is_some_and(SourceState::is_up);
                self.emit("galera_member_up", &labels, flag(member_up), false, None);
                self.emit(
                    "galera_local_state",
                    &labels,
                    *local_state as f64,
                    stale,
                    src,
                );
                self.emit("galera_ready", &labels, flag(*ready), stale, src);
                self.emit(
                    "galera_primary",
                    &labels,
                    flag(cluster_status == "Primary"),
                    stale,
                    src,
                );
                self.emit(
                    "galera_cluster_size",
                    &labels,
                    *cluster_size as f64,
                    stale,
                    src,
                );
                continue;
            }
            let mut pairs = vec![
                ("env", l.environment.as_str()),
                ("kind", kind_label(l.kind)),
                ("primary", l.primary.as_str()),
                ("replica", l.replica.as_str()),
            ];
            if let Some(c) = &l.cluster {
                pairs.push(("cluster", c));
            }
            let labels = self.labels(&pairs);
            if let Some(v) = l.lag_seconds {
                self.emit("replication_lag_seconds", &labels, v, stale, src);
            }
            if let Some(v) = l.lag_bytes {
                self.emit("replication_lag_bytes", &labels, v, stale, src);
            }
            match &l.state {
                LinkState::Threads {
                    io_running,
                    sql_running,
                } => {
                    self.emit(
                        "replication_io_running",
                        &labels,
                        flag(*io_running),
                        stale,
                        src,
                    );
                    self.emit(
                        "replication_sql_running",
                        &labels,
                        flag(*sql_running),
                        stale,
                        src,
                    );
                }
                LinkState::Link { up } => {
                    self.emit("replication_link_up", &labels, flag(*up), stale, src)
                }
                LinkState::Streaming { attached } => {
                    self.emit(
                        "replication_streaming",
                        &labels,
                        flag(*attached),
                        stale,
                        src,
                    );
                }
                LinkState::Galera { .. } | LinkState::Unknown => {}
            }
        }

        for h in &snap.health {
            let labels = self.labels(&[("env", &h.environment), ("check", &h.name)]);
            let stale = snap.is_stale(h.source);
            if let Some(r) = &h.result {
                self.emit("health_up", &labels, flag(r.up), stale, Some(h.source));
                if r.status.is_some() {
                    self.emit(
                        "health_latency_seconds",
                        &labels,
                        r.latency.as_secs_f64(),
                        stale,
                        Some(h.source),
                    );
                }
            }
        }

        for b in &snap.backups {
            let labels = self.labels(&[("env", &b.environment), ("service", &b.service)]);
            let stale = snap.is_stale(b.source);
            let src = Some(b.source);
            if let Some(age) = b.age {
                self.emit("backup_age_seconds", &labels, age.as_secs_f64(), stale, src);
            }
            if let Some(iv) = b.interval {
                self.emit(
                    "backup_interval_seconds",
                    &labels,
                    iv.as_secs_f64(),
                    false,
                    None,
                );
            }
            if let Some(rpo) = b.rpo {
                self.emit(
                    "backup_rpo_seconds",
                    &labels,
                    rpo.as_secs_f64(),
                    false,
                    None,
                );
            }
            if let Some(size) = b.size_bytes {
                self.emit("backup_size_bytes", &labels, size, stale, src);
            }
        }

        for c in &snap.catalogs {
            if c.coverage.is_empty() {
                continue;
            }
            let labels = self.labels(&[("env", &c.environment), ("service", &c.service)]);
            let stale = snap.is_stale(c.source);
            let missing = c.missing().count() as f64;
            self.emit(
                "backup_retention_missing_slots",
                &labels,
                missing,
                stale,
                Some(c.source),
            );
            self.emit(
                "backup_retention_slots",
                &labels,
                c.coverage.len() as f64,
                stale,
                Some(c.source),
            );
        }

        if self.wants("alert_firing") {
            for a in &snap.alerts {
                if a.state != AlertState::Firing || a.is_suppressed() {
                    continue;
                }
                let env = snap.source(a.source).map_or("", |s| s.environment.as_str());
                let mut pairs: Vec<(&str, &str)> = a
                    .labels
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                pairs.push(("env", env));
                pairs.push(("alertname", &a.name));
                let labels = self.labels(&pairs);
                self.emit(
                    "alert_firing",
                    &labels,
                    1.0,
                    snap.is_stale(a.source),
                    Some(a.source),
                );
            }
        }
    }
}

/// Write the next entry of a bucket. The bucket keeps last round's entries, and in a steady
/// fleet the entry at the same position is the same series (same handle, same shared label
/// set): then only its value and flags are overwritten, which spares two reference counts
/// up and down per series per round. The result is the same as clearing and pushing.
/// True when the entry's label set or handle changed (or it is new).
#[allow(clippy::too_many_arguments)] // one call per field of the entry, from two places
fn put(
    bucket: &mut Vec<InputSeries>,
    cursor: &mut usize,
    name: &Arc<str>,
    labels: &LabelSet,
    value: f64,
    stale: bool,
    source: Option<SourceId>,
    handle: u64,
) -> bool {
    let entry = || InputSeries {
        name: name.clone(),
        labels: labels.clone(),
        value,
        stale,
        source,
        handle,
    };
    let changed = match bucket.get_mut(*cursor) {
        Some(e) if e.handle == handle && Arc::ptr_eq(&e.labels, labels) => {
            // The name is the bucket's, one allocation for every entry.
            e.value = value;
            e.stale = stale;
            e.source = source;
            false
        }
        Some(e) => {
            *e = entry();
            true
        }
        None => {
            bucket.push(entry());
            true
        }
    };
    *cursor += 1;
    changed
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

fn placement_pairs<'p>(p: &'p Placement, pairs: &mut Vec<(&'static str, &'p str)>) {
    for (name, value) in [
        ("node", &p.node),
        ("role", &p.role),
        ("cluster", &p.cluster),
        ("service", &p.service),
    ] {
        if let Some(v) = value {
            pairs.push((name, v));
        }
    }
}

/// An exporter series' labels plus its source's: `env` and `source` always the console's;
/// placement labels only where the exporter did not set the same label itself.
fn enriched(interner: &mut Interner, state: &SourceState, series: &Series) -> LabelSet {
    let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(series.labels.len() + 8);
    if let SourceKind::Metrics(m) = &state.spec.kind {
        let mut placement = Vec::new();
        placement_pairs(&m.placement, &mut placement);
        pairs.extend(placement);
        pairs.extend(
            m.placement
                .extra
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
    }
    pairs.extend(series.labels.iter().map(|(k, v)| (&**k, &**v)));
    pairs.push(("env", &state.spec.environment));
    pairs.push(("source", &state.spec.name));
    // label_set keeps the last of duplicate names: exporter labels beat placement, and the
    // console's env/source beat both.
    interner.label_set(pairs)
}

/// Rule data for one round.
pub struct StoreData<'a> {
    now: DateTime<Utc>,
    store: &'a Store,
    slots: &'a FxHashMap<Arc<str>, usize>,
    buckets: &'a [Vec<InputSeries>],
    ranges: &'a RefCell<Vec<Lane>>,
    stamps: &'a [(u64, u64)],
    windows: &'a RefCell<Windows>,
    epochs: &'a [u64],
    plans: &'a RefCell<FxHashMap<String, (u64, Arc<GroupPlan>)>>,
    /// The bucket [`Self::position`] found last.
    last_bucket: std::cell::Cell<usize>,
}

impl StoreData<'_> {
    /// How many input series this round carries (for diagnostics and benches).
    pub fn series_count(&self) -> usize {
        self.buckets.iter().map(Vec::len).sum()
    }
}

impl RuleData for StoreData<'_> {
    fn now(&self) -> DateTime<Utc> {
        self.now
    }

    fn series(&self, name: &str) -> &[InputSeries] {
        self.slots
            .get(name)
            .map_or(&[], |&slot| self.buckets[slot].as_slice())
    }

    fn history(&self, series: &InputSeries, window: Duration, out: &mut Vec<Point>) {
        out.clear();
        let Some(table) = self.table_of(series) else {
            return;
        };
        let windows = self.windows((series.handle >> 32) as usize, table, window);
        table.window_points_at(series_index(series), &windows, out);
    }

    fn range_values(
        &self,
        series: &[InputSeries],
        picked: &[u32],
        window: Duration,
        func: u8,
        f: &RangeFn<'_>,
        out: &mut Vec<Option<f64>>,
    ) {
        out.clear();
        let mut points = Vec::new();
        // Memos are kept by position in a bucket: only a whole bucket has them.
        let bucket = series
            .first()
            .and_then(|s| self.position(s))
            .filter(|&(b, i)| i == 0 && self.buckets[b].len() == series.len())
            .map(|(b, _)| b);
        let Some(bucket) = bucket else {
            for &i in picked {
                let Some(s) = series.get(i as usize) else {
                    out.push(None);
                    continue;
                };
                self.history(s, window, &mut points);
                out.push(f(&points));
            }
            return;
        };
        let mut ranges = self.ranges.borrow_mut();
        let lane = match ranges
            .iter()
            .position(|l| l.slot == bucket && l.func == func && l.window == window)
        {
            Some(i) => i,
            None => {
                ranges.push(Lane {
                    slot: bucket,
                    func,
                    window,
                    memos: vec![None; series.len()],
                });
                ranges.len() - 1
            }
        };
        let memos = &mut ranges[lane].memos;
        // Remembered values first; the rest are read below, source by source: `todo` holds
        // (position in `picked`, position in `series`, row in its table), `runs` where each
        // source's part of it starts (a source's series are contiguous in a bucket).
        let mut todo: Vec<(usize, usize, usize)> = Vec::new();
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for (k, &i) in picked.iter().enumerate() {
            let i = i as usize;
            let Some(s) = series.get(i) else {
                out.push(None);
                continue;
            };
            if s.handle == SYNTHETIC {
                points.clear();
                out.push(f(&points));
                continue;
            }
            if let Some(Some(m)) = memos.get(i)
                && self.current(m, s)
            {
                out.push(m.value);
                continue;
            }
            out.push(None);
            let source = (s.handle >> 32) as usize;
            if runs.last().is_none_or(|&(r, _)| r != source) {
                runs.push((source, todo.len()));
            }
            todo.push((k, i, series_index(s)));
        }
        let run = |r: usize| {
            let start = runs.get(r).map_or(todo.len(), |&(_, start)| start);
            let end = runs.get(r + 1).map_or(todo.len(), |&(_, end)| end);
            todo.get(start..end).unwrap_or(&[])
        };
        // How many scrapes a window reads, for asking ahead: the last table's count, which
        // is its neighbours' too in a fleet polled at one interval (a wrong guess only
        // asks for a line too many or too few).
        let mut depth = 0;
        for (r, &(source, _)) in runs.iter().enumerate() {
            // The chain of misses per source (table → scrape-time ring → rows) is asked for
            // ahead, one link per stage, so that a source's lines are in cache when it is
            // read: its table two stages ahead, its ring and rows one stage ahead.
            if let Some(&(ahead, _)) = runs.get(r + 2 * PREFETCH_RUNS) {
                self.store.prefetch_source(SourceId(ahead as u32));
            }
            if let Some(&(ahead, _)) = runs.get(r + PREFETCH_RUNS)
                && let Some(table) = self.table_at(ahead)
            {
                table.prefetch_ring(depth + 1);
                for &(_, _, row) in run(r + PREFETCH_RUNS) {
                    table.prefetch_row(row, depth);
                }
            }
            let Some(table) = self.table_at(source) else {
                for &(k, _, _) in run(r) {
                    points.clear();
                    out[k] = f(&points);
                }
                continue;
            };
            let slots = self.windows(source, table, window);
            depth = slots.len();
            for &(k, i, row) in run(r) {
                table.window_points_at(row, &slots, &mut points);
                let value = f(&points);
                if let (Some(place), Some((from, until))) = (memos.get_mut(i), slots.span()) {
                    *place = Some(RangeMemo {
                        handle: series[i].handle,
                        generation: table.generation(),
                        layout: table.layout(),
                        from,
                        until,
                        value,
                    });
                }
                out[k] = value;
            }
        }
    }

    fn labels_epoch(&self, series: &[InputSeries]) -> Option<u64> {
        let (bucket, i) = self.position(series.first()?)?;
        (i == 0 && self.buckets.get(bucket)?.len() == series.len())
            .then(|| self.epochs.get(bucket).copied())?
    }

    fn plan(&self, key: &str, epoch: u64) -> Option<Arc<GroupPlan>> {
        self.plans
            .borrow()
            .get(key)
            .filter(|(e, _)| *e == epoch)
            .map(|(_, p)| p.clone())
    }

    fn keep_plan(&self, key: &str, epoch: u64, plan: Arc<GroupPlan>) {
        let mut plans = self.plans.borrow_mut();
        if plans.len() >= PLAN_CACHE_LIMIT && !plans.contains_key(key) {
            plans.clear();
        }
        plans.insert(key.to_owned(), (epoch, plan));
    }
}

impl<'a> StoreData<'a> {
    /// Whether a remembered range value is this series' value now: same series, its table
    /// unchanged since, and the instant within the span that sees the same points.
    fn current(&self, m: &RangeMemo, series: &InputSeries) -> bool {
        let source = (series.handle >> 32) as usize;
        m.handle == series.handle
            && Some(&(m.generation, m.layout)) == self.stamps.get(source)
            && m.from <= self.now
            && self.now < m.until
    }

    /// The table of an exporter series, without reading the series itself.
    fn table_of(&self, series: &InputSeries) -> Option<&'a SeriesTable> {
        if series.handle == SYNTHETIC {
            return None;
        }
        self.table_at((series.handle >> 32) as usize)
    }

    /// The table of the source with this index (its id).
    fn table_at(&self, source: usize) -> Option<&'a SeriesTable> {
        Some(
            &self
                .store
                .source(SourceId(u32::try_from(source).ok()?))?
                .table,
        )
    }

    /// (bucket, index in it) of an exporter series of this round's data, found by address:
    /// the evaluator hands back references into the buckets.
    fn position(&self, series: &InputSeries) -> Option<(usize, usize)> {
        if series.handle == SYNTHETIC {
            return None;
        }
        let addr = series as *const InputSeries as usize;
        let size = std::mem::size_of::<InputSeries>();
        let within = |slot: usize| {
            let b = self.buckets.get(slot)?;
            let start = b.as_ptr() as usize;
            let end = start + b.len() * size;
            (addr >= start && addr < end && (addr - start).is_multiple_of(size))
                .then(|| (slot, (addr - start) / size))
        };
        // A range function asks for every series of one bucket in turn: try that one first.
        if let Some(found) = within(self.last_bucket.get()) {
            return Some(found);
        }
        let found = (0..self.buckets.len()).find_map(within)?;
        self.last_bucket.set(found.0);
        Some(found)
    }

    /// The ring slots `window` reads from the table of an exporter series at this round's
    /// instant, worked out when the previous call was for another table or window.
    fn windows(
        &self,
        source: usize,
        table: &SeriesTable,
        window: Duration,
    ) -> std::cell::RefMut<'a, WindowSlots> {
        let stamp = (table.generation(), table.layout());
        let now = self.now;
        let mut windows = self.windows.borrow_mut();
        let lane = match windows.lanes.iter().position(|(w, _)| *w == window) {
            Some(lane) => lane,
            None => {
                windows.lanes.push((window, Vec::new()));
                windows.lanes.len() - 1
            }
        };
        let entries = &mut windows.lanes[lane].1;
        if entries.len() <= source {
            entries.resize_with(source + 1, WindowEntry::default);
        }
        let entry = &mut entries[source];
        let current = entry.stamp == stamp
            && entry
                .slots
                .span()
                .is_some_and(|(from, until)| from <= now && now < until);
        if !current {
            let w = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
            table.window_slots(w, now, &mut entry.slots);
            entry.stamp = stamp;
        }
        std::cell::RefMut::map(windows, |w| &mut w.lanes[lane].1[source].slots)
    }
}

/// The index in its table of an exporter series (see [`InputBuilder::build`]'s handles).
fn series_index(series: &InputSeries) -> usize {
    (series.handle & 0xffff_ffff) as usize
}
