//! A snapshot: every domain view at one instant, immutable, shared with the UI and rules.

use chrono::{DateTime, Utc};

use super::Store;
use super::model::{
    Alert, BackupRun, HealthCheck, LinkState, Node, ReplicationKind, ReplicationLink, SourceHealth,
    SourceStatus,
};
use super::preset::{self, Input};
use crate::config::settings::{SourceKind, Tier};

/// One environment and the ids of its sources.
#[derive(Debug, Clone)]
pub struct EnvironmentView {
    pub name: String,
    pub tier: Tier,
}

/// The fleet as of `taken_at`.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub taken_at: Option<DateTime<Utc>>,
    pub environments: Vec<EnvironmentView>,
    pub sources: Vec<SourceStatus>,
    pub nodes: Vec<Node>,
    pub links: Vec<ReplicationLink>,
    pub backups: Vec<BackupRun>,
    pub alerts: Vec<Alert>,
    pub health: Vec<HealthCheck>,
}

impl Snapshot {
    pub fn sources_of<'s>(&'s self, env: &'s str) -> impl Iterator<Item = &'s SourceStatus> + 's {
        self.sources.iter().filter(move |s| s.environment == env)
    }

    pub fn source(&self, id: crate::config::settings::SourceId) -> Option<&SourceStatus> {
        self.sources.iter().find(|s| s.id == id)
    }

    /// True when the source's data is not current (failing, stale or never polled).
    pub fn is_stale(&self, id: crate::config::settings::SourceId) -> bool {
        self.source(id)
            .is_none_or(|s| !matches!(s.health, SourceHealth::Ok { .. }))
    }
}

pub(super) fn build(store: &Store, now: DateTime<Utc>) -> Snapshot {
    let mut snap = Snapshot {
        taken_at: Some(now),
        environments: store
            .environments
            .iter()
            .map(|e| EnvironmentView {
                name: e.name.clone(),
                tier: e.tier,
            })
            .collect(),
        ..Snapshot::default()
    };
    let mut redis_offsets = Vec::new();
    for state in &store.sources {
        let mut warnings = state.parse_errors.clone();
        match &state.spec.kind {
            SourceKind::Metrics(metrics) => {
                let Some(env) = store
                    .environments
                    .iter()
                    .find(|e| e.name == state.spec.environment)
                else {
                    continue;
                };
                // Run the preset even before the first success: a node whose exporter never
                // answered is listed as down, not left out.
                let out = preset::derive(&Input {
                    env,
                    spec: &state.spec,
                    metrics,
                    table: &state.table,
                    up: state.is_up(),
                    now,
                });
                warnings.extend(
                    out.missing
                        .into_iter()
                        .map(|m| format!("preset {} expects {m}, not exposed", metrics.preset)),
                );
                snap.nodes.extend(out.nodes);
                snap.links.extend(out.links);
                snap.backups.extend(out.backups);
                redis_offsets.extend(out.redis_offsets);
            }
            SourceKind::Health(_) => snap.health.push(Store::health_check_of(state)),
            SourceKind::Alertmanager | SourceKind::PrometheusAlerts => {
                snap.alerts.extend(state.alerts.iter().cloned());
            }
        }
        snap.sources.push(store.status_of(state, now, warnings));
    }
    preset::join_redis_offsets(&mut snap.links, &redis_offsets);
    merge_postgres_sides(&mut snap.links, store);
    // Topology order: environments as configured, then each cluster's links together,
    // primary before its replicas.
    let env_rank = |name: &str| snap.environments.iter().position(|e| e.name == name);
    snap.links.sort_by(|a, b| {
        (
            env_rank(&a.environment),
            a.kind,
            &a.cluster,
            &a.primary,
            &a.replica,
        )
            .cmp(&(
                env_rank(&b.environment),
                b.kind,
                &b.cluster,
                &b.primary,
                &b.replica,
            ))
    });
    snap
}

/// A PostgreSQL link is seen from both ends: the primary knows byte lag, the replica (≥0.13)
/// seconds. Fold the replica's half into the primary's where both exist.
fn merge_postgres_sides(links: &mut Vec<ReplicationLink>, store: &Store) {
    let mut i = 0;
    while i < links.len() {
        let l = &links[i];
        let is_replica_side = l.kind == ReplicationKind::Postgres && l.lag_bytes.is_none();
        if !is_replica_side {
            i += 1;
            continue;
        }
        let partner = links.iter().position(|p| {
            p.kind == ReplicationKind::Postgres
                && p.lag_bytes.is_some()
                && p.environment == l.environment
                && p.primary == l.primary
                && p.replica == l.replica
        });
        match partner {
            Some(j) => {
                let replica_side = links.remove(i);
                let j = if j > i { j - 1 } else { j };
                let p = &mut links[j];
                p.lag_seconds = replica_side.lag_seconds;
                if !replica_side.lag_history.is_empty() {
                    p.lag_history = replica_side.lag_history;
                }
                if replica_side.state == (LinkState::Streaming { attached: false }) {
                    p.state = replica_side.state;
                }
            }
            None => {
                // The primary is up and lists no such replica: it is not streaming.
                let primary_up = store.sources.iter().any(|s| {
                    s.spec.environment == l.environment
                        && s.is_up()
                        && matches!(&s.spec.kind, SourceKind::Metrics(m)
                            if m.placement.node.as_deref() == Some(l.primary.as_str()))
                });
                if primary_up {
                    links[i].state = LinkState::Streaming { attached: false };
                }
                i += 1;
            }
        }
    }
}
