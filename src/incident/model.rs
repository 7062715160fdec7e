//! The incident data model: severities, IDs, the incident record, its timeline, and the
//! pending conditions that have not become incidents yet.
//!
//! Everything here is plain data (serde both ways) because the journal stores full
//! incident snapshots; the state machine that moves these records lives in `lifecycle.rs`.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::settings::{SourceId, Tier};

/// How bad an incident is. `Sev1` is the worst; the derived `Ord` puts `Sev1` first so a
/// plain sort lists the worst incidents at the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Sev1,
    Sev2,
    Sev3,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Sev1, Severity::Sev2, Severity::Sev3];

    /// 1, 2 or 3.
    pub fn number(self) -> u8 {
        match self {
            Severity::Sev1 => 1,
            Severity::Sev2 => 2,
            Severity::Sev3 => 3,
        }
    }

    pub fn from_number(n: u8) -> Option<Self> {
        match n {
            1 => Some(Severity::Sev1),
            2 => Some(Severity::Sev2),
            3 => Some(Severity::Sev3),
            _ => None,
        }
    }

    /// Index into per-severity tables such as [`super::IncidentConfig::deadlines`].
    pub fn index(self) -> usize {
        usize::from(self.number() - 1)
    }

    /// A marker whose length says the severity, so it reads without colour (and on a
    /// monochrome terminal or in a pasted transcript).
    pub fn glyph(self) -> &'static str {
        match self {
            Severity::Sev1 => "▲▲▲",
            Severity::Sev2 => "▲▲",
            Severity::Sev3 => "▲",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Severity::Sev1 => "SEV1",
            Severity::Sev2 => "SEV2",
            Severity::Sev3 => "SEV3",
        }
    }

    pub fn meaning(self) -> &'static str {
        match self {
            Severity::Sev1 => "outage",
            Severity::Sev2 => "degradation",
            Severity::Sev3 => "minor",
        }
    }

    /// `true` if `self` is worse than `other`.
    pub fn worse_than(self, other: Severity) -> bool {
        self < other
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Stable incident identity, shown as `INC-0042`. Assigned when a condition becomes an
/// incident (never while pending), strictly increasing, never reused across restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IncidentId(pub u64);

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "INC-{:04}", self.0)
    }
}

impl IncidentId {
    /// Parse `INC-0042` (or a bare `42`), as a person would type it.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let digits = s
            .strip_prefix("INC-")
            .or_else(|| s.strip_prefix("inc-"))
            .unwrap_or(s);
        digits.parse().ok().map(IncidentId)
    }
}

/// Where an incident is in its life. `unknown` and `flapping` are overlays on top of this,
/// not states of their own, because an unknown incident can be acknowledged or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lifecycle {
    Open,
    Acknowledged,
    Resolved,
}

/// Who took an incident, when, and what they said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ack {
    pub by: String,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
}

/// One line of an incident's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    /// Flattened in JSON: `{"at":…,"kind":"opened","severity":"sev2"}`.
    #[serde(flatten)]
    pub kind: TimelineKind,
}

/// What happened. The state machine writes the lifecycle kinds; callers may add only
/// [`TimelineKind::RunbookRun`] and [`TimelineKind::Note`] (see
/// [`TimelineKind::caller_may_add`]) so the timeline cannot claim a transition that did
/// not happen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimelineKind {
    Opened {
        severity: Severity,
    },
    SeverityChanged {
        from: Severity,
        to: Severity,
    },
    Acknowledged {
        by: String,
        note: Option<String>,
    },
    BecameUnknown,
    DataBack,
    FlappingStarted {
        /// Percent state change when flapping was detected.
        percent: f64,
    },
    FlappingStopped {
        percent: f64,
    },
    Resolved,
    Reopened {
        severity: Severity,
    },
    RunbookRun {
        name: String,
        outcome: String,
    },
    Note {
        by: String,
        text: String,
    },
}

impl TimelineKind {
    /// Kinds a caller may append through `Incidents::add_timeline`.
    /// Stable snake_case name, as in the journal.
    pub fn name(&self) -> &'static str {
        match self {
            TimelineKind::Opened { .. } => "opened",
            TimelineKind::SeverityChanged { .. } => "severity_changed",
            TimelineKind::Acknowledged { .. } => "acknowledged",
            TimelineKind::BecameUnknown => "became_unknown",
            TimelineKind::DataBack => "data_back",
            TimelineKind::FlappingStarted { .. } => "flapping_started",
            TimelineKind::FlappingStopped { .. } => "flapping_stopped",
            TimelineKind::Resolved => "resolved",
            TimelineKind::Reopened { .. } => "reopened",
            TimelineKind::RunbookRun { .. } => "runbook_run",
            TimelineKind::Note { .. } => "note",
        }
    }

    pub fn caller_may_add(&self) -> bool {
        matches!(
            self,
            TimelineKind::RunbookRun { .. } | TimelineKind::Note { .. }
        )
    }

    /// One line for people: the Markdown export and the UI's timeline pane.
    pub fn describe(&self) -> String {
        match self {
            TimelineKind::Opened { severity } => {
                format!("Opened as {} ({})", severity.label(), severity.meaning())
            }
            TimelineKind::SeverityChanged { from, to } => {
                let verb = if to.worse_than(*from) {
                    "Escalated"
                } else {
                    "De-escalated"
                };
                format!("{verb} {} → {}", from.label(), to.label())
            }
            TimelineKind::Acknowledged { by, note } => match note {
                Some(n) => format!("Acknowledged by {by}: {n}"),
                None => format!("Acknowledged by {by}"),
            },
            TimelineKind::BecameUnknown => "Data went stale: state unknown".to_owned(),
            TimelineKind::DataBack => "Fresh data back".to_owned(),
            TimelineKind::FlappingStarted { percent } => {
                format!("Flapping started ({percent:.1}% state change)")
            }
            TimelineKind::FlappingStopped { percent } => {
                format!("Flapping stopped ({percent:.1}% state change)")
            }
            TimelineKind::Resolved => "Resolved".to_owned(),
            TimelineKind::Reopened { severity } => format!("Reopened as {}", severity.label()),
            TimelineKind::RunbookRun { name, outcome } => {
                format!("Runbook `{name}` run: {outcome}")
            }
            TimelineKind::Note { by, text } => format!("Note by {by}: {text}"),
        }
    }
}

/// How the UI shows a row. One word per row, in this precedence: a resolved incident is
/// `Resolved`; otherwise not knowing the state (`Unknown`) matters more than it flapping,
/// and flapping matters more than who holds it (`Acked` / `Open`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DisplayState {
    Pending,
    Open,
    Acked,
    Unknown,
    Flapping,
    Resolved,
}

impl DisplayState {
    pub fn as_str(self) -> &'static str {
        match self {
            DisplayState::Pending => "pending",
            DisplayState::Open => "open",
            DisplayState::Acked => "acked",
            DisplayState::Unknown => "unknown",
            DisplayState::Flapping => "flapping",
            DisplayState::Resolved => "resolved",
        }
    }
}

impl fmt::Display for DisplayState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One incident: a rule's condition at one key that held long enough to matter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub rule: String,
    /// Identity within the rule (rendered labels). `(rule, key)` is what reopens.
    pub key: String,
    pub environment: String,
    #[serde(with = "tier_serde")]
    pub tier: Tier,
    /// Current severity (the timeline has the history).
    pub severity: Severity,
    /// Latest summary and value seen from a fresh hit (not every update is journaled: after
    /// a restart these are the values of the last journaled change until the next round).
    pub summary: String,
    #[serde(with = "value_serde")]
    pub value: f64,
    pub labels: BTreeMap<String, String>,
    pub runbooks: Vec<String>,
    #[serde(with = "sources_serde")]
    pub sources: Vec<SourceId>,
    pub lifecycle: Lifecycle,
    /// The data behind the incident is not current: it cannot be resolved until it is.
    pub unknown: bool,
    pub flapping: bool,
    /// When the condition was first seen (start of pending), as Prometheus' `activeAt`.
    pub condition_since: DateTime<Utc>,
    /// When it became an incident (`condition_since + for`, or earlier when flapping).
    pub opened_at: DateTime<Utc>,
    pub ack: Option<Ack>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Acknowledge by then.
    pub deadline: DateTime<Utc>,
    /// Since when the condition has been absent (clearing); `None` when not clearing. Not
    /// journaled: after a restart clearing starts over, which can only resolve later,
    /// never earlier.
    #[serde(skip)]
    pub clearing_since: Option<DateTime<Utc>>,
    pub timeline: Vec<TimelineEntry>,
}

impl Incident {
    pub fn display_state(&self) -> DisplayState {
        if self.lifecycle == Lifecycle::Resolved {
            DisplayState::Resolved
        } else if self.unknown {
            DisplayState::Unknown
        } else if self.flapping {
            DisplayState::Flapping
        } else if self.lifecycle == Lifecycle::Acknowledged {
            DisplayState::Acked
        } else {
            DisplayState::Open
        }
    }

    /// Not resolved (open or acknowledged).
    pub fn is_active(&self) -> bool {
        self.lifecycle != Lifecycle::Resolved
    }

    /// Time left to acknowledge; negative once breached. `None` once acknowledged or
    /// resolved, because then nobody is racing the clock.
    pub fn remaining(&self, now: DateTime<Utc>) -> Option<chrono::Duration> {
        match self.lifecycle {
            Lifecycle::Open => Some(self.deadline - now),
            Lifecycle::Acknowledged | Lifecycle::Resolved => None,
        }
    }

    /// The response deadline was missed: still unacknowledged past it, or acknowledged
    /// (or resolved without an ack) only after it. A fact that stays true, so the
    /// postmortem can report it.
    pub fn breached(&self, now: DateTime<Utc>) -> bool {
        let responded = match (&self.ack, self.resolved_at) {
            (Some(ack), _) => Some(ack.at),
            (None, Some(resolved)) => Some(resolved),
            (None, None) => None,
        };
        responded.unwrap_or(now) > self.deadline
    }

    /// How long the incident has lasted (until resolution, or until `now`).
    pub fn duration(&self, now: DateTime<Utc>) -> chrono::Duration {
        self.resolved_at.unwrap_or(now) - self.opened_at
    }

    pub(crate) fn push(&mut self, at: DateTime<Utc>, kind: TimelineKind) {
        self.timeline.push(TimelineEntry { at, kind });
    }
}

/// A condition that holds but has not held for the rule's `for` yet. No ID: most pending
/// conditions go away on their own and should leave no trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub rule: String,
    pub key: String,
    pub environment: String,
    #[serde(with = "tier_serde")]
    pub tier: Tier,
    pub severity: Severity,
    pub summary: String,
    #[serde(with = "value_serde")]
    pub value: f64,
    pub labels: BTreeMap<String, String>,
    #[serde(with = "sources_serde")]
    pub sources: Vec<SourceId>,
    /// First round the condition was seen.
    pub since: DateTime<Utc>,
    /// When it opens if it keeps holding (`since + for`).
    pub fires_at: DateTime<Utc>,
}

impl Pending {
    pub fn display_state(&self) -> DisplayState {
        DisplayState::Pending
    }
}

/// `Tier` only derives `Serialize` in config; the journal needs it both ways. Spelled the
/// same as its `Serialize` (lowercase name).
pub(crate) mod tier_serde {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    use crate::config::settings::Tier;

    pub fn serialize<S: Serializer>(tier: &Tier, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(tier.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Tier, D::Error> {
        let name = String::deserialize(d)?;
        Tier::parse(&name).ok_or_else(|| D::Error::custom(format!("unknown tier {name:?}")))
    }
}

/// `SourceId` only derives `Serialize`; stored as plain numbers. Source IDs are indexes in
/// config order, so after a config change a replayed incident may name other sources: they
/// only drive staleness, and the next fresh hit replaces them.
pub(crate) mod sources_serde {
    use serde::{Deserialize, Deserializer, Serializer, ser::SerializeSeq};

    use crate::config::settings::SourceId;

    pub fn serialize<S: Serializer>(ids: &[SourceId], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(ids.len()))?;
        for id in ids {
            seq.serialize_element(&id.0)?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SourceId>, D::Error> {
        Ok(Vec::<u32>::deserialize(d)?
            .into_iter()
            .map(SourceId)
            .collect())
    }
}

/// Rule values can be NaN or ±Inf (exposition allows them) and JSON cannot hold them:
/// non-finite values are written as the strings `"NaN"`, `"+Inf"`, `"-Inf"`, so one odd
/// value cannot make a journal line unreadable.
pub(crate) mod value_serde {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else if v.is_nan() {
            s.serialize_str("NaN")
        } else if *v > 0.0 {
            s.serialize_str("+Inf")
        } else {
            s.serialize_str("-Inf")
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Number(f64),
        Text(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        match Repr::deserialize(d)? {
            Repr::Number(v) => Ok(v),
            Repr::Text(t) => match t.as_str() {
                "NaN" => Ok(f64::NAN),
                "+Inf" => Ok(f64::INFINITY),
                "-Inf" => Ok(f64::NEG_INFINITY),
                _ => Err(D::Error::custom(format!("not a number: {t:?}"))),
            },
        }
    }
}
