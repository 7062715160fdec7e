//! The series table of one metrics source: latest value per series plus a bounded history
//! ring, updated in place on every scrape.
//!
//! A scrape of an exporter repeats the same series every time, so the table is keyed by a
//! hash of the raw name and labels and compared against them without building a key: a
//! series already seen costs a hash, a compare and a store — no allocation. Label values
//! are sanitized once, when a series is first seen; the raw text is kept beside them only
//! when sanitizing changed it, so the next scrape still finds the series.

use std::hash::{Hash, Hasher};

use chrono::{DateTime, Utc};
use rustc_hash::{FxHashMap, FxHasher};

use crate::sanitize;
use crate::source::exposition::{self, Label, MetricType, ParseError, SampleRef, Visitor};
use crate::store::prefetch;

/// One point of a series' history as range functions read it: (milliseconds since the
/// Unix epoch, value).
///
/// Rule evaluation reads tens of thousands of points a round; a time in milliseconds (the
/// resolution Prometheus keeps) is one register where a `DateTime` is three fields copied
/// through memory, and the difference of two is a subtraction.
pub type Point = (i64, f64);

/// One time series and its recent past.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: Box<str>,
    /// Sanitized label pairs, in the order the exporter wrote them.
    pub labels: Box<[(Box<str>, Box<str>)]>,
    /// Raw label values, only when sanitizing changed one of them.
    raw_values: Option<Box<[Box<str>]>>,
    pub value: f64,
    pub timestamp_ms: Option<i64>,
    /// The scrape generation this series was last seen in.
    last_seen: u64,
    /// Its position in the table: its row of [`SeriesTable::history`].
    index: u32,
}

impl Series {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| &**k == name)
            .map(|(_, v)| &**v)
    }

    fn matches(&self, name: &str, labels: &[Label<'_>]) -> bool {
        if &*self.name != name || self.labels.len() != labels.len() {
            return false;
        }
        self.labels
            .iter()
            .zip(labels)
            .enumerate()
            .all(|(i, ((k, v), l))| {
                let stored = match &self.raw_values {
                    Some(raw) => &*raw[i],
                    None => &**v,
                };
                &**k == l.name && stored == l.value
            })
    }
}

/// What [`SeriesTable::window_slots`] found: the ring slots inside a window, oldest first,
/// and the instants over which they stay the same.
#[derive(Debug, Clone, Default)]
pub struct WindowSlots {
    /// While scrape times rise with the generation (nearly always), the window is a run of
    /// consecutive ring slots: (oldest slot, count), the times read from the ring. Held
    /// inline, so that a cache of windows by source reads no allocation per source.
    run: Option<(usize, usize)>,
    /// Otherwise the slots and their times, listed (`run` is `None`).
    slots: Vec<(usize, DateTime<Utc>)>,
    span: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

impl WindowSlots {
    /// How many scrapes the window holds.
    pub fn len(&self) -> usize {
        self.run.map_or(self.slots.len(), |(_, count)| count)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The slots, oldest first, whichever way they are held.
    #[cfg(test)]
    fn listed(&self, cap: usize) -> Vec<usize> {
        match self.run {
            Some((oldest, count)) => (0..count).map(|i| (oldest + i) % cap).collect(),
            None => self.slots.iter().map(|&(slot, _)| slot).collect(),
        }
    }

    /// `[from, until)`: the instants at which the window holds the same slots; `None` when a
    /// boundary does not fit a `DateTime` (then nothing should be remembered).
    pub fn span(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.span
    }
}

/// Every series of one source, and the times of its recent scrapes.
#[derive(Debug, Clone)]
pub struct SeriesTable {
    index: FxHashMap<u64, Vec<u32>>,
    series: Vec<Series>,
    /// Scrape times by slot; `generation % capacity` is the slot of the latest scrape.
    times: Box<[Option<DateTime<Utc>>]>,
    /// The same times as [`time_key`]s ([`NO_TIME`] for none), which compare in a couple of
    /// instructions where `DateTime`s compare field by field.
    keys: Box<[i128]>,
    /// The same times in milliseconds since the epoch, as [`Point`]s carry them.
    millis: Box<[i64]>,
    /// Every series' values by scrape slot, one row of `capacity` per series in series
    /// order; NaN where the series was absent. One allocation per table, so that a range
    /// function over a table's series reads neighbouring memory.
    history: Vec<f64>,
    /// Each series' `last_seen`, by index: whether a series is present, read without its
    /// `Series` struct (the rule data builder asks for thousands per round).
    seen: Vec<u64>,
    /// Each series' value in the latest scrape it was in, by index: the rule data builder
    /// reads it for every wanted series each round, and one dense array is a line per eight
    /// series where the history rows are a line each.
    values: Vec<f64>,
    /// Before this generation the ring may hold a scrape timed before the one preceding
    /// it (a clock stepped back); from it on, times rise with the generation.
    unordered_until: u64,
    generation: u64,
    /// Declared TYPE of each metric family, for rate() and `probe`.
    types: FxHashMap<Box<str>, MetricType>,
    /// Bumped whenever series indices change (eviction), so caches keyed by index can tell.
    layout: u64,
}

impl SeriesTable {
    /// `capacity` scrapes of history are kept (at least 2, so a rate can be taken).
    pub fn new(capacity: usize) -> Self {
        Self {
            index: FxHashMap::default(),
            series: Vec::new(),
            times: vec![None; capacity.max(2)].into_boxed_slice(),
            keys: vec![NO_TIME; capacity.max(2)].into_boxed_slice(),
            millis: vec![0; capacity.max(2)].into_boxed_slice(),
            history: Vec::new(),
            seen: Vec::new(),
            values: Vec::new(),
            unordered_until: 0,
            generation: 0,
            types: FxHashMap::default(),
            layout: 0,
        }
    }

    fn capacity(&self) -> usize {
        self.times.len()
    }

    fn slot(&self, generation: u64) -> usize {
        // capacity ≥ 2, so the modulo is well defined; the result fits usize by construction.
        (generation % self.capacity() as u64) as usize
    }

    /// Parse one exposition body into the table as the scrape taken `at`; returns the
    /// parse errors (with line numbers). Series missing from this scrape stay in the table,
    /// marked absent, until they have been gone for a whole history window.
    pub fn ingest(&mut self, body: &str, at: DateTime<Utc>) -> Vec<ParseError> {
        self.generation += 1;
        let slot = self.slot(self.generation);
        let key = time_key(at);
        let previous = self.keys[self.slot(self.generation - 1)];
        if key < previous {
            // This scrape and the one before it stay in the ring together until then.
            self.unordered_until = self.generation + self.capacity() as u64;
        }
        self.times[slot] = Some(at);
        self.keys[slot] = key;
        self.millis[slot] = at.timestamp_millis();
        let cap = self.capacity();
        for row in self.history.chunks_exact_mut(cap) {
            row[slot] = f64::NAN;
        }
        let mut visitor = Ingest {
            table: self,
            errors: Vec::new(),
        };
        exposition::parse_with(body, &mut visitor);
        let errors = visitor.errors;
        self.evict_long_gone();
        errors
    }

    fn evict_long_gone(&mut self) {
        let horizon = self.capacity() as u64;
        let generation = self.generation;
        if !self
            .series
            .iter()
            .any(|s| generation - s.last_seen >= horizon)
        {
            return;
        }
        let cap = self.capacity();
        let mut kept = 0;
        for i in 0..self.series.len() {
            if generation - self.series[i].last_seen < horizon {
                self.history.copy_within(i * cap..(i + 1) * cap, kept * cap);
                kept += 1;
            }
        }
        self.history.truncate(kept * cap);
        self.series.retain(|s| generation - s.last_seen < horizon);
        for (i, s) in self.series.iter_mut().enumerate() {
            // Fits u32, as every series index (see below).
            s.index = i as u32;
        }
        self.seen = self.series.iter().map(|s| s.last_seen).collect();
        self.values = self.series.iter().map(|s| s.value).collect();
        self.layout += 1;
        self.index.clear();
        for (i, s) in self.series.iter().enumerate() {
            let labels: Vec<Label<'_>> = s
                .labels
                .iter()
                .enumerate()
                .map(|(j, (k, v))| Label {
                    name: k,
                    value: std::borrow::Cow::Borrowed(match &s.raw_values {
                        Some(raw) => &raw[j],
                        None => v,
                    }),
                })
                .collect();
            let h = key_hash(&s.name, &labels);
            // Index fits u32: a source with four billion series is not a scrape target.
            self.index.entry(h).or_default().push(i as u32);
        }
    }

    fn upsert(&mut self, sample: &SampleRef<'_, '_>) {
        let h = key_hash(sample.name, sample.labels);
        let slot = self.slot(self.generation);
        let cap = self.capacity();
        if let Some(ids) = self.index.get(&h) {
            for &id in ids {
                let s = &mut self.series[id as usize];
                if s.matches(sample.name, sample.labels) {
                    s.value = sample.value;
                    s.timestamp_ms = sample.timestamp_ms;
                    s.last_seen = self.generation;
                    if let Some(seen) = self.seen.get_mut(id as usize) {
                        *seen = self.generation;
                    }
                    if let Some(value) = self.values.get_mut(id as usize) {
                        *value = sample.value;
                    }
                    if let Some(v) = self.history.get_mut(id as usize * cap + slot) {
                        *v = sample.value;
                    }
                    return;
                }
            }
        }
        let mut raw_changed = false;
        let labels: Box<[(Box<str>, Box<str>)]> = sample
            .labels
            .iter()
            .map(|l| {
                let clean = sanitize::clean_with_limit(&l.value, 256);
                raw_changed |= clean != l.value;
                (
                    Box::<str>::from(sanitize::clean_with_limit(l.name, 128)),
                    Box::<str>::from(clean),
                )
            })
            .collect();
        let raw_values = raw_changed.then(|| {
            sample
                .labels
                .iter()
                .map(|l| l.value.as_ref().into())
                .collect()
        });
        let id = self.series.len() as u32;
        let row = self.history.len();
        self.history.resize(row + cap, f64::NAN);
        self.history[row + slot] = sample.value;
        self.series.push(Series {
            name: sample.name.into(),
            labels,
            raw_values,
            value: sample.value,
            timestamp_ms: sample.timestamp_ms,
            last_seen: self.generation,
            index: id,
        });
        self.seen.push(self.generation);
        self.values.push(sample.value);
        self.index.entry(h).or_default().push(id);
    }

    /// Series present in the latest scrape.
    pub fn present(&self) -> impl Iterator<Item = &Series> {
        let generation = self.generation;
        self.series
            .iter()
            .filter(move |s| s.last_seen == generation)
    }

    /// Present series with their stable-until-eviction index (see [`Self::layout`]).
    pub fn present_indexed(&self) -> impl Iterator<Item = (usize, &Series)> {
        let generation = self.generation;
        self.series
            .iter()
            .enumerate()
            .filter(move |(_, s)| s.last_seen == generation)
    }

    /// Whether the series at `index` was in the latest scrape.
    pub fn is_present(&self, index: usize) -> bool {
        self.seen.get(index) == Some(&self.generation)
    }

    /// The value of the series at `index` in the latest scrape it was in (see
    /// [`Self::is_present`] for whether that is the table's latest), read without its
    /// `Series` struct.
    pub fn latest(&self, index: usize) -> Option<f64> {
        self.values.get(index).copied()
    }

    /// Ask for what [`Self::is_present`] and [`Self::latest`] read for the series at
    /// `index`, without waiting (see [`prefetch`]).
    pub fn prefetch_latest(&self, index: usize) {
        if let (Some(seen), Some(value)) = (self.seen.get(index), self.values.get(index)) {
            prefetch::line(seen);
            prefetch::line(value);
        }
    }

    /// The series at an index from [`Self::present_indexed`].
    pub fn get(&self, index: usize) -> Option<&Series> {
        self.series.get(index)
    }

    /// Changes whenever indices are reassigned.
    pub fn layout(&self) -> u64 {
        self.layout
    }

    /// Counts scrapes: changes whenever any value, time or presence in the table may have.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The slots of the ring a window `(now - window, now]` reads, for every series of this
    /// table at once: scrape times belong to the table, so which slots fall inside depends
    /// on the table alone, and range functions over thousands of series of a few tables
    /// work it out once per table instead of once per series. `out` is reused.
    ///
    /// Also the span of instants `[from, until)` over which the same slots are inside: a
    /// point at `t` is inside at instant `n` when `t <= n < t + window`, so the slots can
    /// only change when `n` crosses some scrape's `t` or `t + window`. Every scrape of the
    /// ring counts, present in a given series or not, so the span is never wider than the
    /// one over which that series' points stay the same.
    pub fn window_slots(
        &self,
        window: chrono::Duration,
        now: DateTime<Utc>,
        out: &mut WindowSlots,
    ) {
        out.slots.clear();
        out.run = None;
        // A window reaching before the representable past takes the whole ring.
        let start = now
            .checked_sub_signed(window)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        // The span's boundaries are the latest `t` and `t + window` at or before `now` and
        // the earliest after it. `t + window <= now` exactly when `t <= start`, so only the
        // extreme `t` on each side of `start` and of `now` are needed, and the window is
        // added twice per table rather than twice per scrape (date arithmetic is slow).
        let (now_k, start_k) = (time_key(now), time_key(start));
        // (key, slot) of the extremes; NO_TIME (below every real key) and i128::MAX for none.
        let (mut last_le_now, mut first_gt_now) = ((NO_TIME, 0), (i128::MAX, 0));
        let (mut last_le_start, mut first_gt_start) = ((NO_TIME, 0), (i128::MAX, 0));
        let cap = self.capacity();
        let first = self.generation.saturating_sub(cap as u64 - 1).max(1);
        if first <= self.generation && self.generation >= self.unordered_until {
            // Times rise with the generation: walk back from the newest scrape and stop at
            // the first one at or before `start`, reading only the window's part of the
            // ring. Descending, the first key seen on each side of a bound is the extreme.
            let mut slot = self.slot(self.generation);
            let count = (self.generation - first + 1) as usize;
            let mut run = (0, 0);
            for _ in 0..count {
                let k = self.keys.get(slot).copied().unwrap_or(NO_TIME);
                if k == NO_TIME {
                    break;
                }
                if k > now_k {
                    first_gt_now = (k, slot);
                    first_gt_start = (k, slot);
                } else {
                    if last_le_now.0 == NO_TIME {
                        last_le_now = (k, slot);
                    }
                    if k <= start_k {
                        last_le_start = (k, slot);
                        break;
                    }
                    first_gt_start = (k, slot);
                    run = (slot, run.1 + 1);
                }
                slot = slot.checked_sub(1).unwrap_or(cap - 1);
            }
            out.run = Some(run);
        } else if first <= self.generation {
            let mut slot = self.slot(first);
            // Generations first..=generation, at most `cap` of them (so the count fits usize).
            let count = (self.generation - first + 1) as usize;
            for _ in 0..count {
                let k = self.keys.get(slot).copied().unwrap_or(NO_TIME);
                if k != NO_TIME {
                    if k <= now_k {
                        last_le_now = last_le_now.max((k, slot));
                        if k > start_k
                            && let Some(&Some(t)) = self.times.get(slot)
                        {
                            out.slots.push((slot, t));
                        }
                    } else {
                        first_gt_now = first_gt_now.min((k, slot));
                    }
                    if k <= start_k {
                        last_le_start = last_le_start.max((k, slot));
                    } else {
                        first_gt_start = first_gt_start.min((k, slot));
                    }
                }
                slot += 1;
                if slot == cap {
                    slot = 0;
                }
            }
        }
        let at = |(k, slot): (i128, usize)| {
            (k != NO_TIME && k != i128::MAX)
                .then(|| self.times.get(slot).copied().flatten())
                .flatten()
        };
        let (last_le_now, first_gt_now) = (at(last_le_now), at(first_gt_now));
        let (last_le_start, first_gt_start) = (at(last_le_start), at(first_gt_start));
        out.span = (|| {
            let mut from = last_le_now.unwrap_or(DateTime::<Utc>::MIN_UTC);
            if let Some(t) = last_le_start {
                from = from.max(t.checked_add_signed(window)?);
            }
            let mut until = first_gt_now.unwrap_or(DateTime::<Utc>::MAX_UTC);
            if let Some(t) = first_gt_start {
                until = until.min(t.checked_add_signed(window)?);
            }
            Some((from, until))
        })();
    }

    /// Replace `out` with a series' points in the slots of [`Self::window_slots`] (taken on
    /// this table), oldest first, absent points skipped: what [`Self::history_between`]
    /// gives for the same window.
    pub fn window_points(&self, series: &Series, window: &WindowSlots, out: &mut Vec<Point>) {
        self.window_points_at(series.index as usize, window, out);
    }

    /// [`Self::window_points`] for the series at `index` (see [`Self::present_indexed`]),
    /// without reading the series itself: one cache miss fewer per series in range
    /// functions over thousands of them.
    pub fn window_points_at(&self, index: usize, window: &WindowSlots, out: &mut Vec<Point>) {
        out.clear();
        let cap = self.capacity();
        let row = self
            .history
            .get(index * cap..(index + 1) * cap)
            .unwrap_or(&[]);
        if let Some((oldest, count)) = window.run {
            let mut slot = oldest;
            for _ in 0..count {
                // A slot inside the window has a time (its key was compared).
                if let (Some(&v), Some(&t)) = (row.get(slot), self.millis.get(slot))
                    && !v.is_nan()
                {
                    out.push((t, v));
                }
                slot += 1;
                if slot == cap {
                    slot = 0;
                }
            }
            return;
        }
        for &(slot, t) in &window.slots {
            if let Some(&v) = row.get(slot)
                && !v.is_nan()
            {
                out.push((t.timestamp_millis(), v));
            }
        }
    }

    /// Present series with this name.
    pub fn named<'s, 'n>(
        &'s self,
        name: &'n str,
    ) -> impl Iterator<Item = &'s Series> + use<'s, 'n> {
        self.present().filter(move |s| &*s.name == name)
    }

    /// The value of the first present series with this name whose labels include `matchers`.
    pub fn value(&self, name: &str, matchers: &[(&str, &str)]) -> Option<f64> {
        self.named(name)
            .find(|s| matchers.iter().all(|(k, v)| s.label(k) == Some(v)))
            .map(|s| s.value)
    }

    /// True if any present series has this name.
    pub fn has(&self, name: &str) -> bool {
        self.named(name).next().is_some()
    }

    pub fn metric_type(&self, family: &str) -> Option<MetricType> {
        self.types.get(family).copied()
    }

    pub fn len(&self) -> usize {
        self.series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// A series' values by slot (empty for a series of another table).
    fn row(&self, series: &Series) -> &[f64] {
        let cap = self.capacity();
        let start = series.index as usize * cap;
        self.history.get(start..start + cap).unwrap_or(&[])
    }

    /// Ask for this table's own fields (where its ring and rows are) without waiting: the
    /// first link of the chain of misses a range function follows per table (see
    /// [`prefetch`]).
    pub fn prefetch_table(&self) {
        prefetch::object(self);
    }

    /// Ask for the scrape times of the latest `n` scrapes. Reads this table's fields, which
    /// should have been asked for a little earlier ([`Self::prefetch_table`]).
    pub fn prefetch_ring(&self, n: usize) {
        for range in self.latest_slots(n) {
            if let (Some(keys), Some(times)) = (self.keys.get(range.clone()), self.times.get(range))
            {
                prefetch::slice(keys);
                prefetch::slice(times);
            }
        }
    }

    /// Ask for the values of the series at `index` in the latest `n` scrapes.
    pub fn prefetch_row(&self, index: usize, n: usize) {
        let cap = self.capacity();
        let Some(row) = self.history.get(index * cap..(index + 1) * cap) else {
            return;
        };
        for range in self.latest_slots(n) {
            if let Some(values) = row.get(range) {
                prefetch::slice(values);
            }
        }
    }

    /// The ring slots of the latest `n` scrapes (at most the whole ring), as two ranges:
    /// the part up to the latest slot, and the part that wrapped to the ring's end.
    fn latest_slots(&self, n: usize) -> [std::ops::Range<usize>; 2] {
        let cap = self.capacity();
        let n = n.min(cap);
        let latest = self.slot(self.generation);
        if n <= latest + 1 {
            [latest + 1 - n..latest + 1, 0..0]
        } else {
            [0..latest + 1, cap - (n - latest - 1)..cap]
        }
    }

    /// Time of the latest scrape.
    pub fn last_scrape(&self) -> Option<DateTime<Utc>> {
        self.times[self.slot(self.generation)]
    }

    /// `(time, value)` of a series over the history ring, oldest first, absent points skipped.
    pub fn history(&self, series: &Series) -> Vec<(DateTime<Utc>, f64)> {
        let cap = self.capacity() as u64;
        let first = self.generation.saturating_sub(cap - 1).max(1);
        (first..=self.generation)
            .filter_map(|g| {
                let slot = self.slot(g);
                let t = self.times[slot]?;
                let v = *self.row(series).get(slot)?;
                (!v.is_nan()).then_some((t, v))
            })
            .collect()
    }

    /// Replace `out` with the points of a series with `start < time <= end`, oldest first.
    ///
    /// The plain definition of a window's points, one series at a time: rule evaluation
    /// reads them through [`Self::window_slots`] and [`Self::window_points`], which must
    /// agree with it (see the tests below).
    pub fn history_between(
        &self,
        series: &Series,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        out: &mut Vec<(DateTime<Utc>, f64)>,
    ) {
        out.clear();
        let cap = self.capacity();
        let first = self.generation.saturating_sub(cap as u64 - 1).max(1);
        if first > self.generation {
            return;
        }
        let mut slot = self.slot(first);
        // Generations first..=generation, at most `cap` of them (so the count fits usize).
        let count = (self.generation - first + 1) as usize;
        let history = self.row(series);
        for _ in 0..count {
            if let (Some(&v), Some(&Some(t))) = (history.get(slot), self.times.get(slot))
                && !v.is_nan()
                && t > start
                && t <= end
            {
                out.push((t, v));
            }
            slot += 1;
            if slot == cap {
                slot = 0;
            }
        }
    }

    /// Per-second increase of a counter series over at most `window`, from the oldest point
    /// inside the window to the latest, correcting for resets as Prometheus does.
    pub fn rate(&self, series: &Series, window: chrono::Duration) -> Option<f64> {
        let points = self.history(series);
        let (last_t, _) = *points.last()?;
        let start = last_t - window;
        let inside: Vec<_> = points.into_iter().filter(|(t, _)| *t >= start).collect();
        if inside.len() < 2 {
            return None;
        }
        let mut increase = 0.0;
        for w in inside.windows(2) {
            let (a, b) = (w[0].1, w[1].1);
            increase += if b >= a { b - a } else { b };
        }
        let secs = (inside[inside.len() - 1].0 - inside[0].0).num_milliseconds() as f64 / 1000.0;
        (secs > 0.0).then(|| increase / secs)
    }
}

struct Ingest<'t> {
    table: &'t mut SeriesTable,
    errors: Vec<ParseError>,
}

impl<'a> Visitor<'a> for Ingest<'_> {
    fn metric_type(&mut self, name: &'a str, ty: MetricType) {
        if self.table.types.get(name) != Some(&ty) {
            self.table.types.insert(name.into(), ty);
        }
    }

    fn sample(&mut self, sample: SampleRef<'_, 'a>) {
        self.table.upsert(&sample);
    }

    fn error(&mut self, error: ParseError) {
        // A hostile endpoint could send a million bad lines; a few tell the story.
        if self.errors.len() < 20 {
            self.errors.push(error);
        }
    }
}

/// The key of "no scrape in this slot": below every real time's key.
const NO_TIME: i128 = i128::MIN;

/// A time as one number ordered as `DateTime`s are: seconds since the epoch, then the
/// fraction, which chrono lets reach 2·10⁹ ns in a leap second (hence the 2·10⁹ stride).
fn time_key(t: DateTime<Utc>) -> i128 {
    i128::from(t.timestamp()) * 2_000_000_000 + i128::from(t.timestamp_subsec_nanos())
}

fn key_hash(name: &str, labels: &[Label<'_>]) -> u64 {
    let mut h = FxHasher::default();
    name.hash(&mut h);
    for l in labels {
        l.name.hash(&mut h);
        l.value.as_ref().hash(&mut h);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// A table's window slots give each series the points `history_between` gives, and the
    /// span they report holds the same slots at every instant inside it (uneven scrape
    /// times, series absent from some scrapes, a ring that has wrapped; and a clock that
    /// steps back, before and after that scrape has left the ring).
    #[test]
    fn window_slots_agree_with_history_between() {
        for (steps, back_at) in [(11, None), (11, Some(8)), (12, Some(3)), (16, Some(8))] {
            window_slots_case(steps, back_at);
        }
    }

    fn window_slots_case(steps: i64, back_at: Option<i64>) {
        let t0 = Utc.timestamp_opt(1_795_300_000, 0).single().expect("time");
        let mut table = SeriesTable::new(6);
        let mut at = t0;
        for step in 0..steps {
            at += chrono::Duration::milliseconds(700 + 450 * (step % 3));
            if Some(step) == back_at {
                at -= chrono::Duration::milliseconds(2_600);
            }
            let mut body = format!("a {step}\n");
            if step % 4 != 2 {
                body.push_str(&format!("b{{x=\"1\"}} {}\n", step * 2));
            }
            table.ingest(&body, at);
        }
        let mut window = WindowSlots::default();
        let (mut points, mut expected) = (Vec::new(), Vec::new());
        for w_ms in [500i64, 1_000, 2_500, 60_000] {
            let w = chrono::Duration::milliseconds(w_ms);
            for offset_ms in (-4_000i64..3_000).step_by(125) {
                let now = at + chrono::Duration::milliseconds(offset_ms);
                table.window_slots(w, now, &mut window);
                for s in &table.series {
                    table.window_points(s, &window, &mut points);
                    table.history_between(s, now - w, now, &mut expected);
                    let expected: Vec<Point> = expected
                        .iter()
                        .map(|&(t, v)| (t.timestamp_millis(), v))
                        .collect();
                    assert_eq!(points, expected, "w={w_ms} offset={offset_ms} {back_at:?}");
                }
                let (from, until) = window.span().expect("span fits");
                assert!(from <= now && now < until);
                let slots = window.listed(table.capacity());
                let mut other = WindowSlots::default();
                for probe in [from, until - chrono::Duration::nanoseconds(1)] {
                    table.window_slots(w, probe, &mut other);
                    assert_eq!(
                        other.listed(table.capacity()),
                        slots,
                        "w={w_ms} offset={offset_ms} at {probe}"
                    );
                }
                // Just outside the span, the slots differ (it is not narrower than needed
                // for a table whose series are all present).
                if until < DateTime::<Utc>::MAX_UTC {
                    table.window_slots(w, until, &mut other);
                    assert_ne!(other.listed(table.capacity()), slots);
                }
            }
        }
    }

    /// Evicting a long-gone series moves the others' rows: their histories stay theirs.
    #[test]
    fn eviction_keeps_the_other_series_history() {
        let t0 = Utc.timestamp_opt(1_795_300_000, 0).single().expect("time");
        let mut table = SeriesTable::new(3);
        let at = |i: i64| t0 + chrono::Duration::seconds(i);
        table.ingest("gone 1\nkept 10\n", at(0));
        for i in 1..6 {
            table.ingest(&format!("kept {}\n", 10 + i), at(i));
        }
        assert_eq!(table.len(), 1, "the vanished series was evicted");
        let kept = table.get(0).expect("kept");
        assert_eq!(&*kept.name, "kept");
        assert_eq!(
            table.history(kept),
            vec![(at(3), 13.0), (at(4), 14.0), (at(5), 15.0)]
        );
        table.ingest("kept 16\nnew 7\n", at(6));
        let new = table.get(1).expect("new");
        assert_eq!(table.history(new), vec![(at(6), 7.0)]);
    }

    /// `is_present` and `latest` (read without the `Series` struct) say what the struct
    /// says, through absences, a NaN sample, a duplicate sample and evictions.
    #[test]
    fn presence_and_latest_value_match_the_series() {
        let t0 = Utc.timestamp_opt(1_795_300_000, 0).single().expect("time");
        let mut table = SeriesTable::new(3);
        let bodies = [
            "a 1\nb 2\nc NaN\n",
            "a 3\nc 4\nc 5\n",
            "b 6\n",
            "a 7\nd 8\n",
            "d 9\n",
            "d 10\ne 11\n",
            "e NaN\n",
        ];
        for (i, body) in bodies.iter().enumerate() {
            table.ingest(body, t0 + chrono::Duration::seconds(i as i64));
            for idx in 0..table.len() {
                let s = table.get(idx).expect("series");
                let present = s.last_seen == table.generation;
                assert_eq!(table.is_present(idx), present, "{} after {body:?}", s.name);
                // Present or not: the value of the latest scrape the series was in.
                let latest = table.latest(idx).expect("a value");
                assert_eq!(
                    latest.to_bits(),
                    s.value.to_bits(),
                    "{} after {body:?}",
                    s.name
                );
            }
        }
    }
}
