//! A snapshot: every domain view at one instant, immutable, shared with the UI and rules.

use chrono::{DateTime, Utc};

use super::Store;
use super::model::{
    Alert, BackupRun, CatalogView, HealthCheck, LinkState, Node, ReplicationKind, ReplicationLink,
    Silence, SourceHealth, SourceStatus,
};
use super::preset::{self, Input};
use super::{SourceState, retention};
use crate::config::settings::{CatalogSpec, EnvironmentSpec, SourceKind, Tier};

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
    /// Alertmanager silences (expired ones included: Alertmanager keeps them a while).
    pub silences: Vec<Silence>,
    pub health: Vec<HealthCheck>,
    /// Backup catalogs with their retention coverage, in source order.
    pub catalogs: Vec<CatalogView>,
}

impl Snapshot {
    pub fn sources_of<'s>(&'s self, env: &'s str) -> impl Iterator<Item = &'s SourceStatus> + 's {
        self.sources.iter().filter(move |s| s.environment == env)
    }

    pub fn source(&self, id: crate::config::settings::SourceId) -> Option<&SourceStatus> {
        // Sources are listed in id order, so the id is normally the index.
        match self.sources.get(id.0 as usize) {
            Some(s) if s.id == id => Some(s),
            _ => self.sources.iter().find(|s| s.id == id),
        }
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
                snap.silences.extend(state.silences.iter().cloned());
                if let Some(e) = &state.silence_error {
                    warnings.push(e.clone());
                }
            }
            SourceKind::Prometheus(_) => warnings.extend(state.query_warnings.iter().cloned()),
            SourceKind::BackupCatalog(spec) => {
                let env = store
                    .environments
                    .iter()
                    .find(|e| e.name == state.spec.environment);
                if let Some(view) = catalog_view(state, spec, env, now) {
                    snap.catalogs.push(view);
                }
            }
        }
        snap.sources.push(store.status_of(state, now, warnings));
    }
    catalog_backup_runs(&mut snap, store, now);
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

/// The view of a catalog source that has been read at least once.
fn catalog_view(
    state: &SourceState,
    spec: &CatalogSpec,
    env: Option<&EnvironmentSpec>,
    now: DateTime<Utc>,
) -> Option<CatalogView> {
    let entries = state.catalog.as_ref()?;
    let policy = env.and_then(|e| e.backup_policies.iter().find(|p| p.service == spec.service));
    let coverage = match policy {
        Some(p) if !p.retention.is_empty() => retention::coverage(entries, &p.retention, now),
        _ => Vec::new(),
    };
    Some(CatalogView {
        environment: state.spec.environment.clone(),
        service: spec.service.clone(),
        source: state.spec.id,
        entries: entries.len(),
        last_success: entries.iter().filter(|e| e.ok).map(|e| e.time).max(),
        coverage,
    })
}

/// A service that only a catalog reports (no backup-preset metrics) still gets a
/// [`BackupRun`], so the Backups view and the RPO rules see it. Where several catalogs
/// list one service, the one with the newest successful backup speaks for it.
fn catalog_backup_runs(snap: &mut Snapshot, store: &Store, now: DateTime<Utc>) {
    let mut runs: Vec<BackupRun> = Vec::new();
    for state in &store.sources {
        let SourceKind::BackupCatalog(spec) = &state.spec.kind else {
            continue;
        };
        let Some(entries) = &state.catalog else {
            continue;
        };
        let env = &state.spec.environment;
        let reported = snap
            .backups
            .iter()
            .any(|b| &b.environment == env && b.service == spec.service);
        if reported {
            continue;
        }
        // Entries are oldest first; the newest successful one is the last backup.
        let newest = entries.iter().rev().find(|e| e.ok);
        let run = BackupRun {
            environment: env.clone(),
            service: spec.service.clone(),
            last_success: newest.map(|e| e.time),
            age: newest.and_then(|e| (now - e.time).to_std().ok()),
            size_bytes: newest.and_then(|e| e.size_bytes).map(|n| n as f64),
            duration: None,
            interval: None,
            rpo: None,
            source: state.spec.id,
        };
        let policy = store
            .environments
            .iter()
            .find(|e| &e.name == env)
            .and_then(|e| e.backup_policies.iter().find(|p| p.service == spec.service));
        let run = BackupRun {
            interval: policy.map(|p| p.interval),
            rpo: policy.map(|p| p.rpo),
            ..run
        };
        match runs
            .iter_mut()
            .find(|r| r.environment == run.environment && r.service == run.service)
        {
            Some(existing) if existing.last_success < run.last_success => *existing = run,
            Some(_) => {}
            None => runs.push(run),
        }
    }
    snap.backups.extend(runs);
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
                // The primary is up and lists no such replica: it is not streaming. That is
                // the primary's word, fresh even when the replica's exporter cannot answer
                // (a stopped replica makes postgres_exporter slow), so the link is credited
                // to the primary's source and the rule is not held unknown by the replica's.
                let primary = store.sources.iter().find(|s| {
                    s.spec.environment == l.environment
                        && s.is_up()
                        && matches!(&s.spec.kind, SourceKind::Metrics(m)
                            if m.placement.node.as_deref() == Some(l.primary.as_str()))
                });
                if let Some(primary) = primary {
                    links[i].state = LinkState::Streaming { attached: false };
                    links[i].source = primary.spec.id;
                }
                i += 1;
            }
        }
    }
}
