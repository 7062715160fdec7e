//! What the rule language reads: input series by metric name, their history, and "now".
//!
//! The engine builds a [`RuleData`] from the store each round (exporter samples with their
//! source's placement labels added, plus the domain views as synthetic series such as
//! `replication_lag_seconds`); the evaluator in `lang` knows nothing else. [`MemoryData`]
//! is a hand-filled implementation for tests and benches.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::settings::SourceId;

/// A label set: `(name, value)` pairs sorted by name, names unique, without `__name__`.
/// Shared, so copying a series into a result costs a reference count.
pub type LabelSet = Arc<[(Arc<str>, Arc<str>)]>;

/// Build a [`LabelSet`] from pairs in any order (sorted here; later duplicates win).
pub fn label_set<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> LabelSet {
    let mut v: Vec<(Arc<str>, Arc<str>)> = pairs
        .into_iter()
        .map(|(k, v)| (Arc::from(k.as_ref()), Arc::from(v.as_ref())))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v.dedup_by(|later, earlier| {
        if later.0 == earlier.0 {
            earlier.1 = later.1.clone();
            true
        } else {
            false
        }
    });
    v.into()
}

/// Past this many strings an [`Interner`] starts over (label values can churn).
const INTERN_LIMIT: usize = 250_000;

/// Shares label names and values between label sets.
///
/// Rules read the same few names (`env`, `code`, …) and values (`prod`, `500`, …) from
/// tens of thousands of sets per round; with one allocation per distinct string those bytes
/// stay in cache, where one allocation per set member made every comparison a cache miss.
/// Equal strings are then usually the same allocation, which [`same_str`] checks first.
#[derive(Debug, Default)]
pub struct Interner {
    strings: rustc_hash::FxHashSet<Arc<str>>,
}

impl Interner {
    /// The shared copy of `s`.
    pub fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(shared) = self.strings.get(s) {
            return shared.clone();
        }
        if self.strings.len() >= INTERN_LIMIT {
            // Sets built earlier keep their strings; only sharing with them is lost.
            self.strings.clear();
        }
        let shared: Arc<str> = Arc::from(s);
        self.strings.insert(shared.clone());
        shared
    }

    /// [`label_set`] with shared strings.
    pub fn label_set<'p>(
        &mut self,
        pairs: impl IntoIterator<Item = (&'p str, &'p str)>,
    ) -> LabelSet {
        let mut v: Vec<(&str, &str)> = pairs.into_iter().collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v.dedup_by(|later, earlier| {
            if later.0 == earlier.0 {
                earlier.1 = later.1;
                true
            } else {
                false
            }
        });
        v.into_iter()
            .map(|(k, v)| (self.intern(k), self.intern(v)))
            .collect::<Vec<_>>()
            .into()
    }
}

/// String equality that skips the bytes when both are the same (interned) allocation.
#[inline]
pub fn same_str(a: &str, b: &str) -> bool {
    a.len() == b.len() && (std::ptr::eq(a.as_ptr(), b.as_ptr()) || a.as_bytes() == b.as_bytes())
}

/// Look up a label's value in a set.
///
/// A linear scan that compares lengths first: a name's length sits in the fat pointer, so
/// most candidates are rejected without touching their bytes. Rule evaluation does this
/// hundreds of thousands of times per round, and a binary search's byte comparisons (each a
/// cache miss into another allocation) cost several times more on sets of ~10 labels.
#[inline]
pub fn label<'l>(labels: &'l LabelSet, name: &str) -> Option<&'l str> {
    let want = name.as_bytes();
    labels
        .iter()
        .find(|(k, _)| k.len() == want.len() && k.as_bytes() == want)
        .map(|(_, v)| &**v)
}

/// One series the rules can select.
#[derive(Debug, Clone)]
pub struct InputSeries {
    pub name: Arc<str>,
    pub labels: LabelSet,
    pub value: f64,
    /// The data behind it is not current (its source is failing or stale). Results computed
    /// from stale inputs are stale, and a stale result never resolves an incident.
    pub stale: bool,
    /// The source it came from; `None` for values that do not depend on one source.
    pub source: Option<SourceId>,
    /// Opaque handle the [`RuleData`] uses to find the series' history.
    pub handle: u64,
}

pub use crate::store::series::Point;

/// Computes a range function's value from a series' points (oldest first).
pub type RangeFn<'f> = dyn Fn(&[Point]) -> Option<f64> + 'f;

/// Which series of a metric one aggregation over a range function reads, and the group
/// each falls into: what `sum by (env) (rate(x{code=~"5.."}[5m]))` learns from label sets
/// alone. Kept between rounds while the label sets stay the same (see
/// [`RuleData::labels_epoch`]), so such a rule reads no label set in a round where only
/// values moved.
#[derive(Debug, Default)]
pub struct GroupPlan {
    /// Indices into the metric's series, ascending.
    pub picked: Vec<u32>,
    /// For each picked series, its group (groups numbered in order of first member).
    pub group_of: Vec<u32>,
    /// How many groups.
    pub groups: usize,
}

/// Where the evaluator reads from.
pub trait RuleData {
    /// The evaluation instant.
    fn now(&self) -> DateTime<Utc>;
    /// Every series with this metric name (empty slice if none).
    fn series(&self, name: &str) -> &[InputSeries];
    /// Replace `out` with the points of a series within `(now - window, now]`, oldest
    /// first (the latest scrape included); empty for series without history. A buffer the
    /// caller reuses, because range functions read the history of thousands of series per
    /// round.
    fn history(&self, series: &InputSeries, window: Duration, out: &mut Vec<Point>);

    /// A range function's values over the [`Self::history`] for `window` of the series
    /// `series[i]` for each `i` in `picked` (ascending), into `out` in the same order: `f`
    /// computes one from the points (oldest first); `func` tells apart the functions taken
    /// over the same series and window.
    ///
    /// One call per selection, not per series: range functions over tens of thousands of
    /// counters dominate a round, and an implementation can then look up a table and the
    /// ring slots a window reads once per source rather than once per series. It may also
    /// return the value `f` gave for the same series, function and window in an earlier
    /// round when it knows the points are the same, since only the tables scraped since the
    /// last round have new points.
    fn range_values(
        &self,
        series: &[InputSeries],
        picked: &[u32],
        window: Duration,
        func: u8,
        f: &RangeFn<'_>,
        out: &mut Vec<Option<f64>>,
    ) {
        let _ = func;
        out.clear();
        let mut points = Vec::new();
        for &i in picked {
            match series.get(i as usize) {
                Some(s) => {
                    self.history(s, window, &mut points);
                    out.push(f(&points));
                }
                None => out.push(None),
            }
        }
    }

    /// A number that changes whenever the label sets of `series` (a slice [`Self::series`]
    /// returned), or their count, change; `None` when this data cannot tell, and then
    /// nothing learnt from label sets is kept.
    fn labels_epoch(&self, series: &[InputSeries]) -> Option<u64> {
        let _ = series;
        None
    }

    /// The plan remembered under `key` for `epoch` (see [`GroupPlan`]).
    fn plan(&self, key: &str, epoch: u64) -> Option<Arc<GroupPlan>> {
        let _ = (key, epoch);
        None
    }

    /// Remember a plan under `key`, valid while [`Self::labels_epoch`] gives `epoch`.
    fn keep_plan(&self, key: &str, epoch: u64, plan: Arc<GroupPlan>) {
        let _ = (key, epoch, plan);
    }
}

/// A [`RuleData`] filled by hand: for tests and benchmarks.
#[derive(Debug, Default)]
pub struct MemoryData {
    now: DateTime<Utc>,
    by_name: HashMap<Arc<str>, Vec<InputSeries>>,
    history: HashMap<u64, Vec<(DateTime<Utc>, f64)>>,
    next_handle: u64,
}

impl MemoryData {
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            now,
            ..Self::default()
        }
    }

    /// Add a current series; returns its handle.
    pub fn push(&mut self, name: &str, labels: LabelSet, value: f64) -> u64 {
        self.push_full(name, labels, value, false, None, Vec::new())
    }

    /// Add a series with every field and its history (oldest first).
    pub fn push_full(
        &mut self,
        name: &str,
        labels: LabelSet,
        value: f64,
        stale: bool,
        source: Option<SourceId>,
        history: Vec<(DateTime<Utc>, f64)>,
    ) -> u64 {
        let handle = self.next_handle;
        self.next_handle += 1;
        let name: Arc<str> = Arc::from(name);
        self.by_name
            .entry(name.clone())
            .or_default()
            .push(InputSeries {
                name,
                labels,
                value,
                stale,
                source,
                handle,
            });
        if !history.is_empty() {
            self.history.insert(handle, history);
        }
        handle
    }

    pub fn set_now(&mut self, now: DateTime<Utc>) {
        self.now = now;
    }
}

impl RuleData for MemoryData {
    fn now(&self) -> DateTime<Utc> {
        self.now
    }

    fn series(&self, name: &str) -> &[InputSeries] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    fn history(&self, series: &InputSeries, window: Duration, out: &mut Vec<Point>) {
        out.clear();
        let Some(points) = self.history.get(&series.handle) else {
            return;
        };
        let start = self.now - chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
        out.extend(
            points
                .iter()
                .filter(|(t, _)| *t > start && *t <= self.now)
                .map(|&(t, v)| (t.timestamp_millis(), v)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interned_label_sets_equal_plain_ones_and_share_strings() {
        let mut i = Interner::default();
        let pairs = [("node", "a"), ("env", "prod"), ("node", "b"), ("role", "b")];
        let a = i.label_set(pairs);
        assert_eq!(a, label_set(pairs));
        let b = i.label_set([("env", "prod")]);
        assert!(Arc::ptr_eq(&a[0].1, &b[0].1));
        assert!(Arc::ptr_eq(&a[1].1, &a[2].1));
        assert!(same_str(&a[1].1, "b") && !same_str(&a[1].1, "c"));
    }

    #[test]
    fn label_sets_are_sorted_and_deduplicated() {
        let l = label_set([("node", "a"), ("env", "prod"), ("node", "b")]);
        let names: Vec<_> = l.iter().map(|(k, _)| k.to_string()).collect();
        assert_eq!(names, ["env", "node"]);
        assert_eq!(label(&l, "node"), Some("b"));
        assert_eq!(label(&l, "role"), None);
    }
}
