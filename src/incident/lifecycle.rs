//! The state machine: applies rounds of rule results to pending conditions and incidents,
//! and owns acknowledgement and the in-memory incident table.
//!
//! Per `(rule, key)` it keeps a [`KeyState`]: the flap history, the pending condition (if
//! any) and the latest incident of that key (active, or resolved and still kept so it can
//! reopen). The order of work for one key in one round is fixed and matters:
//!
//! 1. classify the observation: a hit, a key in `holding`, or absent — and whether it is
//!    stale (the hit says so, or one of the key's sources is in `stale_sources`);
//! 2. record it in the flap history unless stale (a stale round says nothing about the
//!    state), and update the flapping flag;
//! 3. move the incident (unknown / data back / severity / clearing / resolve) or, without
//!    an active incident, the pending condition (start / drop / open / reopen).
//!
//! Flapping is judged before the incident moves, so the round that starts flapping already
//! holds the incident open.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::flap::FlapHistory;
use super::journal::{self, Durability, Event, Journal, Record, Start};
use super::model::{Ack, Incident, IncidentId, Lifecycle, Pending, TimelineKind};
use super::{Change, Hit, IncidentConfig, IncidentError, RuleRound};
use crate::config::settings::SourceId;

/// What the engine knows about one key of one rule between rounds.
#[derive(Debug, Default)]
struct KeyState {
    history: FlapHistory,
    flapping: bool,
    /// Percent state change after the last fresh round.
    percent: f64,
    /// Sources of the latest hit: when the key is absent, these decide whether the absence
    /// is real or just stale data.
    sources: Vec<SourceId>,
    pending: Option<Pending>,
    /// Latest incident of this key, active or resolved-and-kept.
    incident: Option<IncidentId>,
}

/// This round's observation of a key.
#[derive(Clone, Copy)]
enum Seen<'a> {
    Hit(&'a Hit),
    /// Condition false, clear condition not yet true.
    Holding,
    Absent,
}

/// All incidents, pending conditions and flap state; optionally backed by a journal.
#[derive(Debug)]
pub struct Incidents {
    config: IncidentConfig,
    incidents: BTreeMap<IncidentId, Incident>,
    /// rule → key → state. BTreeMaps so `pending()` has a stable order.
    keys: BTreeMap<String, BTreeMap<String, KeyState>>,
    next_id: u64,
    journal: Option<Journal>,
    journal_error: Option<String>,
}

/// `t + d`, saturating at the end of time instead of panicking on absurd configs.
pub(crate) fn after(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl Incidents {
    /// In memory only: nothing survives the process.
    pub fn new(config: IncidentConfig) -> Self {
        Self {
            config,
            incidents: BTreeMap::new(),
            keys: BTreeMap::new(),
            next_id: 1,
            journal: None,
            journal_error: None,
        }
    }

    /// Replay the journal at `path` (created if missing), then append to it, holding the
    /// journal's writer lock while this lives. Returns warnings for every line that could
    /// not be replayed; they are also logged.
    pub fn open_journal(
        path: &Path,
        config: IncidentConfig,
    ) -> Result<(Self, Vec<String>), IncidentError> {
        Self::open_journal_from(path, config, Start::Replay)
    }

    /// [`Self::open_journal`], emptying the journal first: no incident carried over (the
    /// demo, which tells its story from the start every run).
    pub fn open_fresh_journal(
        path: &Path,
        config: IncidentConfig,
    ) -> Result<(Self, Vec<String>), IncidentError> {
        Self::open_journal_from(path, config, Start::Fresh)
    }

    /// The incidents the journal at `path` holds, read without its lock and without
    /// changing it, so that it can be read while a console writes it; nothing is
    /// journaled through the result.
    pub fn read_journal(
        path: &Path,
        config: IncidentConfig,
    ) -> Result<(Self, Vec<String>), IncidentError> {
        Ok(Self::replayed(config, journal::read(path)?))
    }

    fn open_journal_from(
        path: &Path,
        config: IncidentConfig,
        start: Start,
    ) -> Result<(Self, Vec<String>), IncidentError> {
        let (journal, replay) = Journal::open(path, config.journal_max_bytes, start)?;
        let (mut this, warnings) = Self::replayed(config, replay);
        this.journal = Some(journal);
        // No clock here: stamp a compaction with the newest time the journal knows.
        let newest = this
            .incidents
            .values()
            .filter_map(|i| i.timeline.last().map(|e| e.at))
            .max()
            .unwrap_or(DateTime::UNIX_EPOCH);
        this.maybe_compact(newest);
        Ok((this, warnings))
    }

    /// Incidents rebuilt from a replay, without a journal.
    fn replayed(config: IncidentConfig, replay: journal::Replay) -> (Self, Vec<String>) {
        let mut warnings = replay.warnings;
        let mut this = Self::new(config);
        this.next_id = replay.next_id;
        // Old resolved incidents are not dropped here: there is no `now` yet (the caller
        // owns the clock). The first `evaluate` prunes them.
        for (id, incident) in replay.incidents {
            let ks = this
                .keys
                .entry(incident.rule.clone())
                .or_default()
                .entry(incident.key.clone())
                .or_default();
            if let Some(prev) = ks.incident
                && this.incidents.get(&prev).is_some_and(Incident::is_active)
                && incident.is_active()
            {
                // Cannot happen through this module; a hand-edited or merged journal could.
                // The newer one (higher ID, replayed later) takes the key.
                let w = format!(
                    "incident journal: {prev} and {id} are both active for rule {:?} key {:?}; {id} takes the key",
                    incident.rule, incident.key
                );
                tracing::warn!("{w}");
                warnings.push(w);
            }
            ks.incident = Some(id);
            ks.sources = incident.sources.clone();
            ks.flapping = incident.flapping;
            this.incidents.insert(id, incident);
        }
        (this, warnings)
    }

    pub fn config(&self) -> &IncidentConfig {
        &self.config
    }

    /// Open, acknowledged, unknown, flapping and recently resolved incidents, by ID.
    pub fn incidents(&self) -> impl Iterator<Item = &Incident> {
        self.incidents.values()
    }

    /// Conditions waiting for their rule's `for`, by rule then key.
    pub fn pending(&self) -> impl Iterator<Item = &Pending> {
        self.keys
            .values()
            .flat_map(|keys| keys.values().filter_map(|k| k.pending.as_ref()))
    }

    pub fn get(&self, id: IncidentId) -> Option<&Incident> {
        self.incidents.get(&id)
    }

    /// The ID the next new incident will get.
    pub fn next_id(&self) -> IncidentId {
        IncidentId(self.next_id)
    }

    /// The last journal write error, if the journal is failing (the UI should say so: the
    /// incidents are still tracked in memory, but would not survive a restart).
    pub fn journal_error(&self) -> Option<&str> {
        self.journal_error.as_deref()
    }

    /// Apply one evaluation round. Rules not present in `rounds` are left alone (no flap
    /// state recorded, no clearing progress). `stale_sources`: sources whose data is not
    /// current this round.
    pub fn evaluate(
        &mut self,
        rounds: &[RuleRound],
        stale_sources: &HashSet<SourceId>,
        now: DateTime<Utc>,
    ) -> Vec<Change> {
        let mut changes = Vec::new();
        let mut lines = Vec::new();
        for round in rounds {
            self.evaluate_rule(round, stale_sources, now, &mut changes, &mut lines);
        }
        self.prune(now);
        for record in &lines {
            self.write(record, Durability::Flush);
        }
        self.maybe_compact(now);
        changes
    }

    fn evaluate_rule(
        &mut self,
        round: &RuleRound,
        stale_sources: &HashSet<SourceId>,
        now: DateTime<Utc>,
        changes: &mut Vec<Change>,
        lines: &mut Vec<Record>,
    ) {
        // One hit per key. A rule should not produce two; if it does, fresh data beats
        // stale and then the worse severity wins, so a duplicate can never hide a problem.
        let mut hits: BTreeMap<&str, &Hit> = BTreeMap::new();
        for hit in &round.hits {
            let slot = hits.entry(hit.key.as_str()).or_insert(hit);
            if (slot.stale, slot.severity) > (hit.stale, hit.severity) {
                *slot = hit;
            }
        }
        let holding: HashSet<&str> = round.holding.iter().map(String::as_str).collect();

        let mut keys = self.keys.remove(&round.rule).unwrap_or_default();
        let mut visit: Vec<String> = keys.keys().cloned().collect();
        visit.extend(hits.keys().map(|k| (*k).to_owned()));
        visit.extend(holding.iter().map(|k| (*k).to_owned()));
        visit.sort_unstable();
        visit.dedup();

        for key in visit {
            let seen = match hits.get(key.as_str()) {
                Some(hit) => Seen::Hit(hit),
                None if holding.contains(key.as_str()) => Seen::Holding,
                None => Seen::Absent,
            };
            let ks = keys.entry(key).or_default();
            let first_change = changes.len();
            self.step(round, ks, seen, stale_sources, now, changes);
            if let Some(incident) = ks.incident.and_then(|id| self.incidents.get(&id)) {
                for change in &changes[first_change..] {
                    lines.push(Record::event(now, Event::from(change), incident));
                }
            }
        }
        self.keys.insert(round.rule.clone(), keys);
    }

    /// One key, one round. See the module docs for the order of work.
    fn step(
        &mut self,
        round: &RuleRound,
        ks: &mut KeyState,
        seen: Seen<'_>,
        stale_sources: &HashSet<SourceId>,
        now: DateTime<Utc>,
        changes: &mut Vec<Change>,
    ) {
        if let Seen::Hit(hit) = seen {
            ks.sources.clone_from(&hit.sources);
        }
        let sources_stale = ks.sources.iter().any(|s| stale_sources.contains(s));
        let stale = match seen {
            Seen::Hit(hit) => hit.stale || sources_stale,
            Seen::Holding | Seen::Absent => sources_stale,
        };

        // 2. Flap history: fresh rounds only.
        let (mut started, mut stopped) = (false, false);
        if !stale {
            ks.history
                .record(matches!(seen, Seen::Hit(_) | Seen::Holding));
            ks.percent = ks.history.percent();
            if !ks.flapping && ks.percent > self.config.flap_high {
                ks.flapping = true;
                started = true;
            } else if ks.flapping && ks.percent < self.config.flap_low && ks.history.full() {
                ks.flapping = false;
                stopped = true;
            }
        }

        // 3a. An active incident.
        let active = ks
            .incident
            .filter(|id| self.incidents.get(id).is_some_and(Incident::is_active));
        if let Some(id) = active {
            ks.pending = None;
            let Some(inc) = self.incidents.get_mut(&id) else {
                return; // just checked above
            };
            if started {
                inc.flapping = true;
                inc.push(
                    now,
                    TimelineKind::FlappingStarted {
                        percent: ks.percent,
                    },
                );
                changes.push(Change::FlappingStarted(id));
            }
            if stopped {
                inc.flapping = false;
                inc.push(
                    now,
                    TimelineKind::FlappingStopped {
                        percent: ks.percent,
                    },
                );
                changes.push(Change::FlappingStopped(id));
            }
            if stale {
                // Unknown: never resolved by missing data; clearing starts over once data
                // is back, because the absence seen before the gap may not have lasted.
                inc.clearing_since = None;
                if !inc.unknown {
                    inc.unknown = true;
                    inc.push(now, TimelineKind::BecameUnknown);
                    changes.push(Change::BecameUnknown(id));
                }
                return;
            }
            if inc.unknown {
                inc.unknown = false;
                inc.push(now, TimelineKind::DataBack);
                changes.push(Change::DataBack(id));
            }
            match seen {
                Seen::Hit(hit) => {
                    inc.clearing_since = None;
                    refresh(inc, round, hit);
                    self.change_severity(id, hit, now, changes);
                }
                Seen::Holding => inc.clearing_since = None,
                Seen::Absent if inc.flapping => inc.clearing_since = None,
                Seen::Absent => {
                    let since = *inc.clearing_since.get_or_insert(now);
                    if now >= after(since, round.timing.clear_for) {
                        inc.lifecycle = Lifecycle::Resolved;
                        inc.resolved_at = Some(now);
                        inc.clearing_since = None;
                        inc.push(now, TimelineKind::Resolved);
                        changes.push(Change::Resolved(id));
                    }
                }
            }
            return;
        }

        // 3b. No active incident: the pending condition.
        match (seen, stale) {
            (Seen::Hit(hit), false) => {
                let pending = ks.pending.get_or_insert_with(|| Pending {
                    rule: round.rule.clone(),
                    key: hit.key.clone(),
                    environment: hit.environment.clone(),
                    tier: hit.tier,
                    severity: hit.severity,
                    summary: String::new(),
                    value: hit.value,
                    labels: BTreeMap::new(),
                    sources: Vec::new(),
                    since: now,
                    fires_at: after(now, round.timing.for_),
                });
                pending.environment.clone_from(&hit.environment);
                pending.tier = hit.tier;
                pending.severity = hit.severity;
                pending.summary.clone_from(&hit.summary);
                pending.value = hit.value;
                pending.labels.clone_from(&hit.labels);
                pending.sources.clone_from(&hit.sources);
                // A flapping condition never holds still for `for`; waiting would hide it
                // forever (Prometheus' blind spot), so it opens at once, marked flapping.
                if now >= pending.fires_at || ks.flapping {
                    self.open(round, ks, hit, now, changes);
                }
            }
            // Stale: we do not know whether it still holds. Keep what is pending (it may
            // open at the next fresh round) but never start or open anything on old data.
            (_, true) => {}
            (Seen::Holding | Seen::Absent, false) => ks.pending = None,
        }
    }

    /// Open a new incident for the pending condition in `ks`, or reopen the key's last one
    /// if it was resolved within the reopen window of the condition's return.
    fn open(
        &mut self,
        round: &RuleRound,
        ks: &mut KeyState,
        hit: &Hit,
        now: DateTime<Utc>,
        changes: &mut Vec<Change>,
    ) {
        let Some(pending) = ks.pending.take() else {
            return;
        };
        let deadline = after(now, self.config.deadline(hit.severity));
        let reopen = ks
            .incident
            .and_then(|id| self.incidents.get_mut(&id))
            .filter(|inc| {
                inc.resolved_at
                    .is_some_and(|r| pending.since <= after(r, self.config.reopen_window))
            });
        if let Some(inc) = reopen {
            // The problem came back: it needs a new ack and gets a fresh response clock.
            // The old ack stays in the timeline.
            inc.lifecycle = Lifecycle::Open;
            inc.ack = None;
            inc.resolved_at = None;
            inc.unknown = false;
            inc.clearing_since = None;
            inc.severity = hit.severity;
            inc.deadline = deadline;
            refresh(inc, round, hit);
            inc.push(
                now,
                TimelineKind::Reopened {
                    severity: hit.severity,
                },
            );
            changes.push(Change::Reopened(inc.id));
            if ks.flapping {
                inc.flapping = true;
                inc.push(
                    now,
                    TimelineKind::FlappingStarted {
                        percent: ks.percent,
                    },
                );
                changes.push(Change::FlappingStarted(inc.id));
            }
            return;
        }

        let id = IncidentId(self.next_id);
        self.next_id += 1;
        let mut inc = Incident {
            id,
            rule: round.rule.clone(),
            key: hit.key.clone(),
            environment: hit.environment.clone(),
            tier: hit.tier,
            severity: hit.severity,
            summary: String::new(),
            value: hit.value,
            labels: BTreeMap::new(),
            runbooks: Vec::new(),
            sources: Vec::new(),
            lifecycle: Lifecycle::Open,
            unknown: false,
            flapping: false,
            condition_since: pending.since,
            opened_at: now,
            ack: None,
            resolved_at: None,
            deadline,
            clearing_since: None,
            timeline: Vec::new(),
        };
        refresh(&mut inc, round, hit);
        inc.push(
            now,
            TimelineKind::Opened {
                severity: hit.severity,
            },
        );
        changes.push(Change::Opened(id));
        if ks.flapping {
            inc.flapping = true;
            inc.push(
                now,
                TimelineKind::FlappingStarted {
                    percent: ks.percent,
                },
            );
            changes.push(Change::FlappingStarted(id));
        }
        ks.incident = Some(id);
        self.incidents.insert(id, inc);
    }

    /// Record a severity change from a fresh hit. Escalation of an acknowledged incident
    /// returns it to Open (the engineer acked a smaller problem) with a new deadline from
    /// now; escalation of an open one can only bring its deadline closer. De-escalation
    /// keeps ack and deadline as they are: the clock started on something worse.
    fn change_severity(
        &mut self,
        id: IncidentId,
        hit: &Hit,
        now: DateTime<Utc>,
        changes: &mut Vec<Change>,
    ) {
        let new_deadline = after(now, self.config.deadline(hit.severity));
        let Some(inc) = self.incidents.get_mut(&id) else {
            return;
        };
        let (from, to) = (inc.severity, hit.severity);
        if from == to {
            return;
        }
        inc.severity = to;
        inc.push(now, TimelineKind::SeverityChanged { from, to });
        if to.worse_than(from) {
            if inc.lifecycle == Lifecycle::Acknowledged {
                inc.lifecycle = Lifecycle::Open;
                inc.ack = None;
                inc.deadline = new_deadline;
            } else {
                inc.deadline = inc.deadline.min(new_deadline);
            }
            changes.push(Change::Escalated { id, from, to });
        } else {
            changes.push(Change::Deescalated { id, from, to });
        }
    }

    /// Take an incident. Errors for an unknown ID, a resolved incident, one already
    /// acknowledged, or a blank user. The ack is fsynced to the journal *before* it is
    /// applied, so an ack the caller saw succeed is never lost.
    pub fn acknowledge(
        &mut self,
        id: IncidentId,
        user: &str,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), IncidentError> {
        let user = user.trim();
        if user.is_empty() {
            return Err(IncidentError::NoUser);
        }
        let inc = self.incidents.get(&id).ok_or(IncidentError::NotFound(id))?;
        match (&inc.lifecycle, &inc.ack) {
            (Lifecycle::Resolved, _) => return Err(IncidentError::Resolved(id)),
            (Lifecycle::Acknowledged, Some(ack)) => {
                return Err(IncidentError::AlreadyAcknowledged {
                    id,
                    by: ack.by.clone(),
                });
            }
            _ => {}
        }
        let note = note
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        let mut updated = inc.clone();
        updated.lifecycle = Lifecycle::Acknowledged;
        updated.ack = Some(Ack {
            by: user.to_owned(),
            at: now,
            note: note.clone(),
        });
        updated.push(
            now,
            TimelineKind::Acknowledged {
                by: user.to_owned(),
                note,
            },
        );
        self.commit(Event::Acknowledged, updated, now)
    }

    /// Append a caller entry (a runbook run, a note) to an incident's timeline, resolved
    /// ones included (postmortem notes). Lifecycle kinds are refused. Fsynced like an ack:
    /// these are things people did.
    pub fn add_timeline(
        &mut self,
        id: IncidentId,
        entry: TimelineKind,
        now: DateTime<Utc>,
    ) -> Result<(), IncidentError> {
        if !entry.caller_may_add() {
            return Err(IncidentError::NotAllowed(entry.name()));
        }
        let inc = self.incidents.get(&id).ok_or(IncidentError::NotFound(id))?;
        let mut updated = inc.clone();
        updated.push(now, entry);
        self.commit(Event::Timeline, updated, now)
    }

    /// Journal (fsync) then apply a human action.
    fn commit(
        &mut self,
        event: Event,
        updated: Incident,
        now: DateTime<Utc>,
    ) -> Result<(), IncidentError> {
        if let Some(journal) = &mut self.journal {
            journal.append(&Record::event(now, event, &updated), Durability::Sync)?;
        }
        self.incidents.insert(updated.id, updated);
        self.maybe_compact(now);
        Ok(())
    }

    /// Whether an incident is still worth keeping at `now`.
    fn keep(&self, incident: &Incident, now: DateTime<Utc>) -> bool {
        match incident.resolved_at {
            Some(resolved) => now <= after(resolved, self.config.keep_resolved),
            None => true,
        }
    }

    /// Forget resolved incidents past `keep_resolved`, and key state with nothing left to
    /// remember, so memory follows the live problems rather than every key ever seen.
    fn prune(&mut self, now: DateTime<Utc>) {
        let expired: Vec<IncidentId> = self
            .incidents
            .values()
            .filter(|i| !self.keep(i, now))
            .map(|i| i.id)
            .collect();
        for id in &expired {
            self.incidents.remove(id);
        }
        let reopen_window = self.config.reopen_window;
        let incidents = &self.incidents;
        for keys in self.keys.values_mut() {
            keys.retain(|_, ks| {
                let incident = ks.incident.and_then(|id| incidents.get(&id));
                let reopenable = incident.is_some_and(|i| match i.resolved_at {
                    None => true,
                    Some(r) => now <= after(r, reopen_window),
                });
                if incident.is_none() {
                    ks.incident = None;
                }
                reopenable || ks.pending.is_some() || ks.flapping || !ks.history.all_ok()
            });
        }
        self.keys.retain(|_, keys| !keys.is_empty());
    }

    fn write(&mut self, record: &Record, durability: Durability) {
        let Some(journal) = &mut self.journal else {
            return;
        };
        match journal.append(record, durability) {
            Ok(()) => self.journal_error = None,
            Err(e) => {
                tracing::warn!(error = %e, "incident journal append failed");
                self.journal_error = Some(e.to_string());
            }
        }
    }

    /// Compact the journal if it has grown past its limit. Writes what is in memory, which
    /// `prune` has already limited to live and recently resolved incidents.
    fn maybe_compact(&mut self, at: DateTime<Utc>) {
        let Some(journal) = &mut self.journal else {
            return;
        };
        if !journal.wants_compaction() {
            return;
        }
        let mut records = vec![Record::Meta {
            version: super::journal::VERSION,
            next_id: self.next_id,
            at,
        }];
        records.extend(
            self.incidents
                .values()
                .map(|i| Record::event(at, Event::Snapshot, i)),
        );
        if let Err(e) = journal.compact(&records) {
            tracing::warn!(error = %e, "incident journal compaction failed");
            self.journal_error = Some(e.to_string());
        }
    }
}

/// Take the latest details from a fresh hit (everything but severity, which has its own
/// timeline entry).
fn refresh(inc: &mut Incident, round: &RuleRound, hit: &Hit) {
    inc.environment.clone_from(&hit.environment);
    inc.tier = hit.tier;
    inc.summary.clone_from(&hit.summary);
    inc.value = hit.value;
    inc.labels.clone_from(&hit.labels);
    inc.sources.clone_from(&hit.sources);
    inc.runbooks.clone_from(&round.runbooks);
}
