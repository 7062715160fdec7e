//! Incidents: the lifecycle that turns per-round rule results into severity 1–3 incidents
//! with stable IDs, acknowledgements, response deadlines, flap detection, an unknown state
//! on stale data, an append-only journal that survives restarts, and a Markdown export.
//!
//! Modelled on Prometheus alerting (`for`, pending), Nagios/Icinga (flap detection,
//! UNKNOWN) and PagerDuty (acknowledge, response deadlines).
//!
//! - `model`: the data ([`Incident`], [`Severity`], [`TimelineKind`], [`Pending`]);
//! - `lifecycle`: the state machine ([`Incidents`]);
//! - `flap`: Nagios-style percent state change;
//! - `journal`: JSON-lines persistence, replay and compaction;
//! - `export`: [`export_markdown`].
//!
//! # Identity
//!
//! A condition is identified by `(rule, key)`; `key` is the rule's rendered labels. The
//! environment and tier travel with each hit (the caller has already turned tier into
//! severity) and are carried into the incident, but do not take part in identity.
//!
//! # Lifecycle
//!
//! - **Pending.** A fresh hit for a key without an active incident starts a pending
//!   condition (`since = now`). When it has held for the rule's `for` (`now >= since +
//!   for`) it opens and only then gets an ID; `for = 0` opens in the same round. A pending
//!   condition whose key is absent (or only `holding`) in a fresh round is dropped, leaving
//!   no trace. Hysteresis is about *clearing*, so `holding` does not keep a pending
//!   condition alive.
//! - **Clearing.** An active incident whose key is neither hit nor `holding` in a fresh
//!   round starts clearing; once absent for `clear_for` it resolves (`clear_for = 0`
//!   resolves in the first absent round). A hit or `holding` cancels clearing; `holding`
//!   keeps the incident open without ever starting clearing.
//! - **Reopen.** When a key's condition returns (the start of its new pending period) within
//!   `reopen_window` of its last incident's resolution, that incident reopens once the new
//!   condition has held for `for`: same ID, a `Reopened` timeline entry, lifecycle back to
//!   Open. A reopened incident needs a new ack and gets a fresh response deadline (the
//!   system had declared it over; someone must look again). After the window: a new ID.
//! - **Severity.** A hit with another severity changes the incident's severity, with a
//!   `SeverityChanged` timeline entry, never a new incident. *Escalation* of an
//!   acknowledged incident returns it to Open with the ack cleared (the engineer acked a
//!   smaller problem) and a new deadline `now + deadline[new]`; escalation of an
//!   unacknowledged incident sets `deadline = min(deadline, now + deadline[new])` — it can
//!   only get closer. *De-escalation* keeps ack and deadline: the clock started on
//!   something worse, and extending it would reward waiting.
//! - **Unknown.** A hit marked `stale`, a hit whose sources are in `stale_sources`, or an
//!   active incident whose key is absent or `holding` while one of its sources is in
//!   `stale_sources` makes the incident unknown (`BecameUnknown`). Unknown incidents are
//!   never resolved (absence of data is not absence of the problem), their clearing timer
//!   is reset and does not run, and their deadline keeps running. Stale rounds change
//!   nothing else: no severity change, no flap history. The first fresh round records
//!   `DataBack` and is then handled normally (clearing, if the key is absent, starts
//!   then). Stale data never starts or opens a pending condition either, and a pending
//!   condition is not dropped while its sources are stale.
//! - **Flapping** (Nagios). Per key, the last 21 fresh states (problem = hit or `holding`,
//!   ok = absent) are recorded every round the rule is evaluated, whether or not an
//!   incident exists. Percent state change weighs the 20 transitions 0.8 (oldest) to 1.2
//!   (newest). Above `flap_high` flapping starts; below `flap_low` it stops, but only with
//!   a full 21-state history (a short history under-estimates; see `flap`). While
//!   flapping, an incident is held open: an absent key neither resolves it nor starts
//!   clearing, so it is not resolved and re-paged on every return. A flapping key with no
//!   active incident opens (or reopens) one at its next fresh hit without waiting for
//!   `for` — a condition that never holds still for `for` would otherwise stay hidden
//!   forever. When flapping stops, normal clearing resumes from that round.
//! - **Deadlines** (PagerDuty). An incident must be acknowledged within `deadlines[sev]`
//!   of opening. [`Incident::remaining`] is `None` once acked or resolved (the clock
//!   stopped); [`Incident::breached`] is true when the response (ack, or resolution
//!   without one) came — or still has not come at `now` — after the deadline.
//! - **Acknowledge** needs a non-blank user; unknown IDs, resolved incidents and already
//!   acknowledged ones are errors (the UI can say who holds it).
//! - **Resolved** incidents stay listed for `keep_resolved`, then are forgotten (memory
//!   and, at the next compaction, the journal).
//!
//! Rules absent from an [`Incidents::evaluate`] call are left entirely alone.
//!
//! ## Incident journal
//!
//! Incidents survive restarts through an append-only JSON-lines file
//! ([`Incidents::open_journal`]). Each line is one change and carries the full incident
//! snapshot after it:
//!
//! ```text
//! {"record":"event","at":"2026-11-20T10:15:00Z","event":"acknowledged","incident":{"id":42,"rule":"disk_full",…}}
//! ```
//!
//! Replay keeps the last snapshot per ID; the next ID is one past the highest ever seen (a
//! `{"record":"meta","next_id":…}` line keeps that true after compaction). A torn last line
//! (crash mid-write) is cut off with a warning; a corrupt line elsewhere is skipped with a
//! warning naming its line number. Acknowledgements, notes and runbook runs are `fsync`ed
//! before they take effect, so an ack you saw succeed is never lost; automatic changes are
//! written without `fsync` (the next evaluation rounds recompute them from live data).
//! Pending conditions, flap history and clearing timers are not persisted: they describe
//! the last few minutes of live data, which a restart interrupts anyway, so they restart
//! from the first rounds after startup — which can delay, but never hasten, an open or a
//! resolve. When the file grows past `journal_max_bytes` (default 8 MiB) it is compacted:
//! rewritten through a temporary file, `fsync` and `rename`, with one snapshot per
//! incident still open, acknowledged, unknown, or resolved within `keep_resolved`.
//! One writer per journal: [`Incidents::open_journal`] holds a lock beside the file and a
//! second writer is refused ([`IncidentError::JournalInUse`]); [`Incidents::read_journal`]
//! reads without the lock and changes nothing.

mod export;
mod flap;
mod journal;
mod lifecycle;
mod model;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use export::{export_markdown, human_duration, rfc3339};
pub use flap::{FlapHistory, STATES as FLAP_STATES};
pub use lifecycle::Incidents;
pub use model::{
    Ack, DisplayState, Incident, IncidentId, Lifecycle, Pending, Severity, TimelineEntry,
    TimelineKind,
};

use crate::config::settings::{SourceId, Tier};

/// Tunables of the incident lifecycle.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentConfig {
    /// Time to acknowledge, per severity (`[sev1, sev2, sev3]`). Defaults 15 min, 1 h,
    /// 24 h. (The seed design says 1 h for sev2 in one place and 2 h in another; 1 h is the
    /// default here and it is configurable.)
    pub deadlines: [Duration; 3],
    /// A key firing again this soon after its incident resolved reopens that incident.
    /// Default 30 min.
    pub reopen_window: Duration,
    /// Flapping stops below this percent state change. Default 25.0.
    pub flap_low: f64,
    /// Flapping starts above this percent state change. Default 50.0. These are Nagios'
    /// host defaults (its service defaults are 20/30); a console that opens incidents
    /// from rules with `for` and hysteresis already damps noise, so the stricter pair
    /// avoids marking merely busy conditions as flapping.
    pub flap_high: f64,
    /// How long resolved incidents stay listed and journaled. Default 7 days.
    pub keep_resolved: Duration,
    /// Compact the journal when it grows past this. Default 8 MiB.
    pub journal_max_bytes: u64,
}

impl Default for IncidentConfig {
    fn default() -> Self {
        Self {
            deadlines: [
                Duration::from_secs(15 * 60),
                Duration::from_secs(60 * 60),
                Duration::from_secs(24 * 60 * 60),
            ],
            reopen_window: Duration::from_secs(30 * 60),
            flap_low: 25.0,
            flap_high: 50.0,
            keep_resolved: Duration::from_secs(7 * 24 * 60 * 60),
            journal_max_bytes: 8 * 1024 * 1024,
        }
    }
}

impl IncidentConfig {
    /// Time to acknowledge an incident of this severity.
    pub fn deadline(&self, severity: Severity) -> Duration {
        self.deadlines[severity.index()]
    }
}

/// A rule's timing: how long a condition must hold to open, and how long it must be gone
/// to resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RuleTiming {
    pub for_: Duration,
    pub clear_for: Duration,
}

/// One place where a rule's condition holds this round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// Stable identity within the rule, e.g. rendered labels.
    pub key: String,
    pub environment: String,
    #[serde(with = "model::tier_serde")]
    pub tier: Tier,
    pub severity: Severity,
    #[serde(with = "model::value_serde")]
    pub value: f64,
    pub summary: String,
    pub labels: BTreeMap<String, String>,
    #[serde(with = "model::sources_serde")]
    pub sources: Vec<SourceId>,
    /// The data behind it is not current.
    pub stale: bool,
}

/// Everything one rule produced this round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleRound {
    pub rule: String,
    pub timing: RuleTiming,
    pub runbooks: Vec<String>,
    pub hits: Vec<Hit>,
    /// Keys whose condition is false but whose clear condition is not yet true (hysteresis
    /// band): not clear yet.
    pub holding: Vec<String>,
}

/// What one evaluation round changed, so the UI can ring a bell on a new sev1, toast a
/// resolve, and so on. Several changes for one incident in one round come in the order
/// they happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    Opened(IncidentId),
    Escalated {
        id: IncidentId,
        from: Severity,
        to: Severity,
    },
    Deescalated {
        id: IncidentId,
        from: Severity,
        to: Severity,
    },
    Resolved(IncidentId),
    Reopened(IncidentId),
    BecameUnknown(IncidentId),
    DataBack(IncidentId),
    FlappingStarted(IncidentId),
    FlappingStopped(IncidentId),
}

impl Change {
    pub fn id(&self) -> IncidentId {
        match *self {
            Change::Opened(id)
            | Change::Resolved(id)
            | Change::Reopened(id)
            | Change::BecameUnknown(id)
            | Change::DataBack(id)
            | Change::FlappingStarted(id)
            | Change::FlappingStopped(id)
            | Change::Escalated { id, .. }
            | Change::Deescalated { id, .. } => id,
        }
    }

    /// Someone should be paged: an incident opened, reopened or got worse.
    pub fn pages(&self) -> bool {
        matches!(
            self,
            Change::Opened(_) | Change::Reopened(_) | Change::Escalated { .. }
        )
    }
}

/// What can go wrong with incidents.
#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    #[error("no incident {0}")]
    NotFound(IncidentId),
    #[error("{0} is resolved")]
    Resolved(IncidentId),
    #[error("{id} is already acknowledged by {by}")]
    AlreadyAcknowledged { id: IncidentId, by: String },
    #[error("acknowledging needs a user name")]
    NoUser,
    #[error("{0} entries are written by the incident lifecycle and cannot be added by hand")]
    NotAllowed(&'static str),
    #[error(
        "incident journal {} is in use by another watchdeck console (one console per journal: \
         close the other, or give this one its own data directory with XDG_DATA_HOME; \
         `watchdeck incidents` reads the journal while a console runs)",
        path.display()
    )]
    JournalInUse { path: PathBuf },
    #[error("incident journal {}: {source}", path.display())]
    Journal {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
