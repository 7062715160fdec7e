//! The scripted fault story: which fault happens when, and the operator actions (repairs,
//! manual backups, traffic shifts) that bend it.
//!
//! The script repeats every [`CYCLE_SECS`]. Whether a fault is active is a pure function
//! of the demo's elapsed time and the recorded repairs, so a repaired fault stays repaired
//! until the end of the cycle it was repaired in and comes back in the next.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::fleet;

/// Length of one pass through the script: long enough for six stories, short enough that
/// a live demo keeps moving.
pub const CYCLE_SECS: f64 = 660.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// A PostgreSQL replica falls minutes behind its primary.
    ReplicaLag,
    /// A host stops answering: its exporters return 503, its Galera peers lose a member.
    NodeDown,
    /// A backup job stops succeeding; its last success ages past the RPO.
    BackupMissed,
    /// A bad release: 5xx share above 5 % and slow responses.
    ErrorSurge,
    /// A Galera member goes Donor/Desynced and not ready.
    GaleraDesync,
    /// A Redis replica loses its link to the primary.
    RedisLinkDown,
}

impl FaultKind {
    /// The control action that repairs this kind.
    pub fn remedy(self) -> &'static str {
        match self {
            FaultKind::ReplicaLag | FaultKind::RedisLinkDown => "resync_replica",
            FaultKind::NodeDown => "restart_node",
            FaultKind::BackupMissed => "take_backup",
            FaultKind::ErrorSurge => "rollback",
            FaultKind::GaleraDesync => "resync_galera_node",
        }
    }
}

/// One scripted fault. Offsets are seconds into each cycle.
#[derive(Debug)]
pub struct FaultSpec {
    pub id: &'static str,
    pub kind: FaultKind,
    pub env: &'static str,
    /// A node name, or for `backup_missed` the backed-up service, or for `error_surge`
    /// the affected service.
    pub target: &'static str,
    pub start_secs: u32,
    pub duration_secs: u32,
    pub summary: &'static str,
}

impl FaultSpec {
    fn start(&self) -> f64 {
        f64::from(self.start_secs)
    }
    fn end(&self) -> f64 {
        f64::from(self.start_secs + self.duration_secs)
    }
}

pub static TIMELINE: &[FaultSpec] = &[
    FaultSpec {
        id: "pg-replica-lag",
        kind: FaultKind::ReplicaLag,
        env: "production",
        target: "prod-pg2",
        start_secs: 20,
        duration_secs: 150,
        summary: "PostgreSQL replica prod-pg2 falls minutes behind prod-pg1",
    },
    FaultSpec {
        id: "stg-galera-desync",
        kind: FaultKind::GaleraDesync,
        env: "staging",
        target: "stg-web2",
        start_secs: 90,
        duration_secs: 150,
        summary: "Galera member stg-web2 is Donor/Desynced and not ready",
    },
    FaultSpec {
        id: "prod-web3-down",
        kind: FaultKind::NodeDown,
        env: "production",
        target: "prod-web3",
        start_secs: 200,
        duration_secs: 120,
        summary: "prod-web3 stops answering; prod-galera drops to 2 members",
    },
    FaultSpec {
        id: "galera-backup-missed",
        kind: FaultKind::BackupMissed,
        env: "production",
        target: "galera",
        start_secs: 260,
        duration_secs: 240,
        summary: "production galera backups fail; last success is older than the 15m RPO",
    },
    FaultSpec {
        id: "storefront-error-surge",
        kind: FaultKind::ErrorSurge,
        env: "production",
        target: "storefront",
        start_secs: 380,
        duration_secs: 150,
        summary: "bad release on green: storefront 5xx above 5% and latency up",
    },
    FaultSpec {
        id: "stg-redis-link-down",
        kind: FaultKind::RedisLinkDown,
        env: "staging",
        target: "stg-web3",
        start_secs: 470,
        duration_secs: 130,
        summary: "Redis replica stg-web3 loses its link to stg-web1",
    },
];

/// Where a fault stands in the current cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultState {
    Scheduled,
    Active,
    Repaired,
    Over,
}

/// A fault as `GET /control/faults` reports it (current cycle's occurrence).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultStatus {
    pub id: String,
    pub kind: FaultKind,
    pub env: String,
    pub target: String,
    pub summary: String,
    pub state: FaultState,
    /// The control action that repairs it.
    pub remedy: String,
    /// Which pass through the script (0-based).
    pub cycle: u64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub repaired_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
struct Repair {
    fault: usize,
    cycle: u64,
    at: f64,
}

#[derive(Debug, Clone, PartialEq)]
struct ManualBackup {
    env: &'static str,
    service: &'static str,
    at: f64,
}

/// Everything operators changed. Times are demo-elapsed seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Interventions {
    repairs: Vec<Repair>,
    backups: Vec<ManualBackup>,
    /// Percent of production traffic on the green (newest) release.
    pub green_weight: u8,
    /// Silences operators created (the standing ones are not interventions).
    pub silences: Vec<super::silences::DemoSilence>,
}

impl Default for Interventions {
    fn default() -> Self {
        Self {
            repairs: Vec::new(),
            backups: Vec::new(),
            green_weight: 100,
            silences: Vec::new(),
        }
    }
}

fn cycle_of(e: f64) -> u64 {
    // Elapsed time is clamped at 0 by the caller; the cast saturates for absurd values.
    (e.max(0.0) / CYCLE_SECS).floor() as u64
}

/// A fault occurrence resolved against the interventions.
#[derive(Debug, Clone, Copy)]
pub struct Occurrence {
    pub cycle: u64,
    pub start: f64,
    pub end: f64,
    pub repaired_at: Option<f64>,
    pub state: FaultState,
}

impl Interventions {
    fn repaired_at(&self, fault: usize, cycle: u64, e: f64) -> Option<f64> {
        self.repairs
            .iter()
            .filter(|r| r.fault == fault && r.cycle == cycle && r.at <= e)
            .map(|r| r.at)
            .reduce(f64::min)
    }

    /// The current cycle's occurrence of fault `idx` at elapsed `e`.
    pub fn occurrence(&self, idx: usize, e: f64) -> Occurrence {
        let spec = &TIMELINE[idx];
        let cycle = cycle_of(e);
        let base = cycle as f64 * CYCLE_SECS;
        let (start, end) = (base + spec.start(), base + spec.end());
        let repaired_at = self.repaired_at(idx, cycle, e);
        let state = if repaired_at.is_some() {
            FaultState::Repaired
        } else if e < start {
            FaultState::Scheduled
        } else if e < end {
            FaultState::Active
        } else {
            FaultState::Over
        };
        Occurrence {
            cycle,
            start,
            end,
            repaired_at,
            state,
        }
    }

    /// Since when (elapsed) fault `idx` has been active, if it is.
    pub fn active_since(&self, idx: usize, e: f64) -> Option<f64> {
        let o = self.occurrence(idx, e);
        (o.state == FaultState::Active).then_some(o.start)
    }

    /// Total seconds fault `idx` has been active in `[0, e]`, across all cycles: what
    /// counters integrate so they stay monotonic through faults and repairs.
    pub fn active_seconds(&self, idx: usize, e: f64) -> f64 {
        let spec = &TIMELINE[idx];
        let mut total = 0.0;
        for k in 0..=cycle_of(e) {
            let base = k as f64 * CYCLE_SECS;
            let start = base + spec.start();
            let mut end = base + spec.end();
            if let Some(r) = self.repaired_at(idx, k, e) {
                end = end.min(r);
            }
            total += (end.min(e) - start).max(0.0);
        }
        total
    }

    /// When `service` in `env` was last backed up by hand (elapsed), if ever by `e`.
    pub fn manual_backup(&self, env: &str, service: &str, e: f64) -> Option<f64> {
        self.backups
            .iter()
            .filter(|b| b.env == env && b.service == service && b.at <= e)
            .map(|b| b.at)
            .reduce(f64::max)
    }
}

/// Index of the scripted fault of `kind` on (`env`, `target`).
pub fn find(kind: FaultKind, env: &str, target: &str) -> Option<usize> {
    TIMELINE
        .iter()
        .position(|f| f.kind == kind && f.env == env && f.target == target)
}

/// `POST /control/repair` body.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct RepairRequest {
    pub action: String,
    pub env: String,
    #[serde(default)]
    pub target: Option<String>,
    /// For `shift_traffic`: percent of traffic to send to green.
    #[serde(default)]
    pub percent: Option<u8>,
}

/// What a repair did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RepairOutcome {
    pub action: String,
    pub env: String,
    pub target: Option<String>,
    /// Ids of the faults this ended.
    pub repaired: Vec<String>,
    pub message: String,
}

/// Why a repair was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RepairError {
    #[error(
        "unknown action `{0}` (expected restart_node, resync_galera_node, resync_replica, take_backup, shift_traffic, rollback)"
    )]
    UnknownAction(String),
    #[error("unknown environment `{0}`")]
    UnknownEnv(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NothingToRepair(String),
}

impl RepairError {
    /// The HTTP status the control endpoint answers with.
    pub fn status(&self) -> u16 {
        match self {
            RepairError::UnknownAction(_) | RepairError::BadRequest(_) => 400,
            RepairError::UnknownEnv(_) | RepairError::NothingToRepair(_) => 404,
        }
    }
}

impl Interventions {
    /// Apply an operator action at elapsed `e`.
    pub fn apply(&mut self, req: &RepairRequest, e: f64) -> Result<RepairOutcome, RepairError> {
        let env = fleet::env(&req.env).ok_or_else(|| RepairError::UnknownEnv(req.env.clone()))?;
        let target = req.target.as_deref();
        let kinds: &[FaultKind] = match req.action.as_str() {
            "restart_node" => &[FaultKind::NodeDown],
            "resync_galera_node" => &[FaultKind::GaleraDesync],
            "resync_replica" => &[FaultKind::ReplicaLag, FaultKind::RedisLinkDown],
            "take_backup" => &[FaultKind::BackupMissed],
            "rollback" => &[FaultKind::ErrorSurge],
            "shift_traffic" => &[],
            other => return Err(RepairError::UnknownAction(other.to_owned())),
        };
        let needs_target = !matches!(req.action.as_str(), "rollback" | "shift_traffic");
        if needs_target && target.is_none() {
            return Err(RepairError::BadRequest(format!(
                "action `{}` needs a `target`",
                req.action
            )));
        }

        // Side effects that are not (only) repairs.
        let mut message = Vec::new();
        match req.action.as_str() {
            "take_backup" => {
                let service = target.unwrap_or_default();
                let Some(b) = env.backups.iter().find(|b| b.service == service) else {
                    return Err(RepairError::NothingToRepair(format!(
                        "no backup job for service `{service}` in {}",
                        env.name
                    )));
                };
                self.backups.push(ManualBackup {
                    env: env.name,
                    service: b.service,
                    at: e,
                });
                message.push(format!("backup of {} in {} taken", b.service, env.name));
            }
            "shift_traffic" => {
                if !env.blue_green {
                    return Err(RepairError::BadRequest(format!(
                        "{} is not deployed blue/green",
                        env.name
                    )));
                }
                let p = req.percent.filter(|p| *p <= 100).ok_or_else(|| {
                    RepairError::BadRequest("shift_traffic needs `percent` in 0..=100".into())
                })?;
                self.green_weight = p;
                message.push(format!(
                    "green now takes {p}% of traffic, blue {}%",
                    100 - p
                ));
            }
            "rollback" => {
                if !env.blue_green {
                    return Err(RepairError::BadRequest(format!(
                        "{} is not deployed blue/green",
                        env.name
                    )));
                }
                self.green_weight = 0;
                message.push("rolled back: blue takes 100% of traffic".to_owned());
            }
            _ => {}
        }

        let mut repaired = Vec::new();
        for (idx, spec) in TIMELINE.iter().enumerate() {
            let matches = kinds.contains(&spec.kind)
                && spec.env == env.name
                && target.is_none_or(|t| t == spec.target);
            if matches && self.active_since(idx, e).is_some() {
                self.repairs.push(Repair {
                    fault: idx,
                    cycle: cycle_of(e),
                    at: e,
                });
                repaired.push(spec.id.to_owned());
            }
        }

        if repaired.is_empty() && message.is_empty() {
            return Err(RepairError::NothingToRepair(format!(
                "no active fault in {} matches {}{}",
                env.name,
                req.action,
                target.map(|t| format!(" on {t}")).unwrap_or_default()
            )));
        }
        if !repaired.is_empty() {
            message.push(format!("repaired {}", repaired.join(", ")));
        }
        Ok(RepairOutcome {
            action: req.action.clone(),
            env: env.name.to_owned(),
            target: req.target.clone(),
            repaired,
            message: message.join("; "),
        })
    }

    /// Every fault's status at elapsed `e`, with absolute times from `start`.
    pub fn statuses(&self, start: DateTime<Utc>, e: f64) -> Vec<FaultStatus> {
        let at = |secs: f64| {
            // Millisecond precision is all the demo keeps.
            start + TimeDelta::milliseconds((secs * 1000.0).round() as i64)
        };
        TIMELINE
            .iter()
            .enumerate()
            .map(|(idx, spec)| {
                let o = self.occurrence(idx, e);
                FaultStatus {
                    id: spec.id.to_owned(),
                    kind: spec.kind,
                    env: spec.env.to_owned(),
                    target: spec.target.to_owned(),
                    summary: spec.summary.to_owned(),
                    state: o.state,
                    remedy: spec.kind.remedy().to_owned(),
                    cycle: o.cycle,
                    start: at(o.start),
                    end: at(o.end),
                    repaired_at: o.repaired_at.map(at),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_is_sane() {
        assert!(TIMELINE.iter().any(|f| f.start_secs <= 30));
        for f in TIMELINE {
            assert!(
                f64::from(f.start_secs + f.duration_secs) < CYCLE_SECS,
                "{}",
                f.id
            );
            assert!(fleet::env(f.env).is_some());
        }
    }

    #[test]
    fn repair_ends_fault_for_rest_of_cycle_only() {
        let mut iv = Interventions::default();
        let lag = find(FaultKind::ReplicaLag, "production", "prod-pg2").unwrap();
        assert!(iv.active_since(lag, 30.0).is_some());
        let req = RepairRequest {
            action: "resync_replica".into(),
            env: "production".into(),
            target: Some("prod-pg2".into()),
            percent: None,
        };
        let out = iv.apply(&req, 40.0).unwrap();
        assert_eq!(out.repaired, vec!["pg-replica-lag".to_owned()]);
        assert!(iv.active_since(lag, 41.0).is_none());
        assert_eq!(iv.occurrence(lag, 300.0).state, FaultState::Repaired);
        assert!(iv.active_since(lag, CYCLE_SECS + 30.0).is_some());
        assert_eq!(iv.active_seconds(lag, CYCLE_SECS + 30.0), 20.0 + 10.0);
        // Nothing left to repair now.
        assert!(matches!(
            iv.apply(&req, 42.0),
            Err(RepairError::NothingToRepair(_))
        ));
    }

    #[test]
    fn unknown_action_and_env_are_errors() {
        let mut iv = Interventions::default();
        let mut req = RepairRequest {
            action: "reboot_universe".into(),
            env: "production".into(),
            target: None,
            percent: None,
        };
        assert_eq!(iv.apply(&req, 1.0).unwrap_err().status(), 400);
        req.action = "rollback".into();
        req.env = "moon".into();
        assert_eq!(iv.apply(&req, 1.0).unwrap_err().status(), 404);
    }
}
