//! The store: what the console knows, built only from poll reports.
//!
//! It keeps, per source, the latest poll outcome, the series of a metrics source with a
//! bounded history ring (15 minutes at poll resolution, for sparklines and counter rates),
//! the last health verdict, alert list or backup catalog. [`Store::snapshot`] derives the
//! typed domain views through the exporter presets and, for catalogs, the retention
//! coverage (`retention`); the UI and rules read that snapshot and nothing else.

pub mod model;
pub mod prefetch;
pub mod preset;
pub mod retention;
pub mod series;
pub mod snapshot;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::settings::{
    BackupMetricNames, EnvironmentSpec, MetricsSpec, Settings, SourceId, SourceKind, SourceSpec,
};
use crate::sanitize;
use crate::source::prometheus::{FleetAnswer, TargetAnswer};
use crate::source::{Payload, PollReport};
use model::{Alert, BackupEntry, HealthCheck, HealthResult, Silence, SourceHealth, SourceStatus};
use series::SeriesTable;
pub use snapshot::{EnvironmentView, Snapshot};

/// How much history each metrics source keeps.
pub const HISTORY_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Everything known about one source.
#[derive(Debug)]
pub struct SourceState {
    pub spec: SourceSpec,
    pub last_poll: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_duration: Option<Duration>,
    /// Reason and start of the current run of failures.
    pub failing: Option<(String, DateTime<Utc>)>,
    /// Parse errors of the latest body, with line numbers.
    pub parse_errors: Vec<String>,
    pub table: SeriesTable,
    pub health: Option<(HealthResult, DateTime<Utc>)>,
    pub alerts: Vec<Alert>,
    /// Alertmanager's silences, as of the last poll that could read them.
    pub silences: Vec<Silence>,
    /// Why the last poll could not read the silences.
    pub silence_error: Option<String>,
    /// The latest successfully read backup catalog, oldest backup first (kept while the
    /// source fails, as a metrics source keeps its series).
    pub catalog: Option<Vec<BackupEntry>>,
    /// For a target discovered through a `prometheus` source: that source.
    pub parent: Option<SourceId>,
    /// A `prometheus` source's warnings from its latest answer (Prometheus's own, and
    /// queries that failed while others answered).
    pub query_warnings: Vec<String>,
    /// Counts changes to `spec` after the source was created (a Prometheus target's
    /// placement or preset, which its answers may change): what is built from the spec
    /// and kept (the rules' label sets) is rebuilt when this moves.
    pub spec_revision: u64,
}

impl SourceState {
    fn new(spec: SourceSpec) -> Self {
        let slots = HISTORY_WINDOW.as_millis() / spec.interval.as_millis().max(1) + 2;
        let table = if matches!(spec.kind, SourceKind::Metrics(_)) {
            SeriesTable::new(usize::try_from(slots).unwrap_or(usize::MAX))
        } else {
            SeriesTable::new(2)
        };
        Self {
            spec,
            last_poll: None,
            last_success: None,
            last_duration: None,
            failing: None,
            parse_errors: Vec::new(),
            table,
            health: None,
            alerts: Vec::new(),
            silences: Vec::new(),
            silence_error: None,
            catalog: None,
            parent: None,
            query_warnings: Vec::new(),
            spec_revision: 0,
        }
    }

    fn succeeded(&mut self, at: DateTime<Utc>, duration: Duration) {
        self.last_poll = Some(at);
        if let Some((reason, since)) = self.failing.take() {
            tracing::info!(source = %self.spec.key(), %reason, %since, "source recovered");
        }
        self.last_success = Some(at);
        self.last_duration = Some(duration);
    }

    fn failed(&mut self, at: DateTime<Utc>, reason: String) {
        self.last_poll = Some(at);
        match &mut self.failing {
            Some((r, _)) => *r = reason,
            None => {
                tracing::warn!(source = %self.spec.key(), %reason, "source failing");
                self.failing = Some((reason, at));
            }
        }
    }

    fn ingest_body(&mut self, body: &str, at: DateTime<Utc>) {
        let errors = self.table.ingest(body, at);
        self.parse_errors = errors
            .iter()
            .map(|e| sanitize::clean_with_limit(&e.to_string(), 200).into_owned())
            .collect();
    }

    /// Ok / failing / stale / pending as of `now`.
    pub fn health_at(&self, now: DateTime<Utc>) -> SourceHealth {
        if let Some((reason, since)) = &self.failing {
            return SourceHealth::Failing {
                reason: reason.clone(),
                since: *since,
                last_success: self.last_success,
            };
        }
        let Some(last_success) = self.last_success else {
            return SourceHealth::Pending;
        };
        let stale_after =
            chrono::Duration::from_std(self.spec.interval * 2).unwrap_or(chrono::Duration::MAX);
        if now - last_success > stale_after {
            SourceHealth::Stale { last_success }
        } else {
            SourceHealth::Ok {
                last_success,
                duration: self.last_duration.unwrap_or_default(),
            }
        }
    }

    /// The latest poll succeeded (the data is current, though it may be stale by `now`).
    pub fn is_up(&self) -> bool {
        self.failing.is_none() && self.last_success.is_some()
    }
}

/// The metrics source standing for one target of a `prometheus` source: named
/// `<source>/<job>/<instance>`, polled (through its parent) at the parent's interval.
fn child_spec(parent: &SourceSpec, id: SourceId, target: &TargetAnswer) -> SourceSpec {
    SourceSpec {
        id,
        environment: parent.environment.clone(),
        tier: parent.tier,
        name: format!("{}/{}/{}", parent.name, target.job, target.instance),
        url: parent.url.clone(),
        kind: SourceKind::Metrics(MetricsSpec {
            preset: target.preset,
            placement: target.placement.clone(),
            backup_names: BackupMetricNames::default(),
        }),
        interval: parent.interval,
        timeout: parent.timeout,
        max_body: parent.max_body,
        auth: None,
        insecure_skip_verify: parent.insecure_skip_verify,
    }
}

/// The console's knowledge of the fleet.
#[derive(Debug)]
pub struct Store {
    /// Unique among the stores of this process (see [`Store::id`]).
    id: u64,
    environments: Vec<EnvironmentSpec>,
    /// Configured sources in id order, then the targets `prometheus` sources discovered.
    sources: Vec<SourceState>,
    /// `(prometheus source, job, instance)` → the child source standing for that target.
    children: HashMap<(SourceId, String, String), SourceId>,
}

/// Source of [`Store::id`]s.
static NEXT_STORE_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Store {
    pub fn new(settings: &Settings) -> Self {
        let mut sources: Vec<SourceState> =
            settings.sources().cloned().map(SourceState::new).collect();
        sources.sort_by_key(|s| s.spec.id);
        Self {
            id: NEXT_STORE_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            environments: settings.environments.clone(),
            sources,
            children: HashMap::new(),
        }
    }

    /// Tells this store apart from every other one created in the process: caches keyed by
    /// a table's generation and layout are only meaningful for the store they came from.
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn environments(&self) -> &[EnvironmentSpec] {
        &self.environments
    }

    pub fn sources(&self) -> &[SourceState] {
        &self.sources
    }

    pub fn source(&self, id: SourceId) -> Option<&SourceState> {
        self.sources.get(id.0 as usize).filter(|s| s.spec.id == id)
    }

    /// Ask for what [`Self::source`] and a source's table read first, without waiting (see
    /// [`prefetch`]): the address needs no load, so this can run well ahead of the read.
    pub fn prefetch_source(&self, id: SourceId) {
        if let Some(state) = self.sources.get(id.0 as usize) {
            prefetch::line(&state.spec.id);
            state.table.prefetch_table();
        }
    }

    /// Apply one poll report. Reports for unknown sources are ignored (logged).
    pub fn ingest(&mut self, mut report: PollReport) {
        if let Ok(Payload::Query(answer)) = &mut report.outcome {
            let answer = std::mem::take(answer);
            self.ingest_query(report.source, report.at, report.duration, answer);
            return;
        }
        let Some(state) = self
            .sources
            .get_mut(report.source.0 as usize)
            .filter(|s| s.spec.id == report.source)
        else {
            tracing::warn!(source = %report.source, "poll report for an unknown source");
            return;
        };
        state.last_poll = Some(report.at);
        match report.outcome {
            Ok(payload) => {
                if let Some((reason, since)) = state.failing.take() {
                    tracing::info!(source = %state.spec.key(), %reason, %since, "source recovered");
                }
                state.last_success = Some(report.at);
                state.last_duration = Some(report.duration);
                match payload {
                    Payload::Metrics { body } => {
                        let errors = state.table.ingest(&body, report.at);
                        state.parse_errors = errors
                            .iter()
                            .map(|e| sanitize::clean_with_limit(&e.to_string(), 200).into_owned())
                            .collect();
                    }
                    Payload::Health(result) => state.health = Some((result, report.at)),
                    Payload::Alerts { alerts, silences } => {
                        state.alerts = alerts;
                        match silences {
                            Some(Ok(s)) => {
                                state.silences = s;
                                state.silence_error = None;
                            }
                            // Keep the last list; say why it is not current.
                            Some(Err(e)) => state.silence_error = Some(e),
                            None => {}
                        }
                    }
                    Payload::Catalog(entries) => state.catalog = Some(entries),
                    // Taken out above: it touches other sources (the targets).
                    Payload::Query(_) => {}
                }
            }
            Err(error) => {
                let reason = sanitize::clean_with_limit(&error.to_string(), 300).into_owned();
                match &mut state.failing {
                    Some((r, _)) => *r = reason,
                    None => {
                        tracing::warn!(source = %state.spec.key(), %reason, "source failing");
                        state.failing = Some((reason, report.at));
                    }
                }
            }
        }
    }

    /// Apply a `prometheus` source's answer: the source itself succeeded; each target is a
    /// child metrics source (created the first time it is seen, ids after every configured
    /// source) that ingests its exposition body as a direct scrape would, or fails with
    /// Prometheus's reason when Prometheus cannot scrape it.
    fn ingest_query(
        &mut self,
        source: SourceId,
        at: DateTime<Utc>,
        duration: Duration,
        answer: FleetAnswer,
    ) {
        let Some(parent) = self
            .sources
            .get_mut(source.0 as usize)
            .filter(|s| s.spec.id == source)
        else {
            tracing::warn!(%source, "poll report for an unknown source");
            return;
        };
        parent.succeeded(at, duration);
        parent.query_warnings = answer.warnings;
        let parent_spec = parent.spec.clone();
        let mut seen = Vec::with_capacity(answer.targets.len());
        for target in answer.targets {
            let key = (source, target.job.clone(), target.instance.clone());
            let id = match self.children.get(&key) {
                Some(id) => *id,
                None => {
                    let id = SourceId(u32::try_from(self.sources.len()).unwrap_or(u32::MAX));
                    let mut state = SourceState::new(child_spec(&parent_spec, id, &target));
                    state.parent = Some(source);
                    self.sources.push(state);
                    self.children.insert(key, id);
                    id
                }
            };
            seen.push(id);
            let Some(child) = self.sources.get_mut(id.0 as usize) else {
                continue;
            };
            // The job's preset or the target's labels may change between answers.
            if let SourceKind::Metrics(m) = &mut child.spec.kind
                && (m.preset != target.preset || m.placement != target.placement)
            {
                m.preset = target.preset;
                m.placement = target.placement;
                child.spec_revision += 1;
            }
            if child.table.generation() == 0 {
                for (t, body) in &target.history {
                    if *t < at {
                        child.table.ingest(body, *t);
                    }
                }
            }
            if target.up == Some(false) {
                let reason = match &target.down_reason {
                    Some(r) => format!("Prometheus reports the target down: {r}"),
                    None => "Prometheus reports the target down (up == 0)".to_owned(),
                };
                child.failed(at, sanitize::clean_with_limit(&reason, 300).into_owned());
            } else {
                child.succeeded(at, duration);
                child.ingest_body(&target.body, at);
            }
        }
        for (key, id) in &self.children {
            if key.0 != source || seen.contains(id) {
                continue;
            }
            if let Some(child) = self.sources.get_mut(id.0 as usize) {
                child.failed(
                    at,
                    "no longer in Prometheus's answer (target gone, or none of its series \
                     selected)"
                        .to_owned(),
                );
            }
        }
    }

    /// Derive every domain view as of `now`.
    pub fn snapshot(&self, now: DateTime<Utc>) -> Snapshot {
        snapshot::build(self, now)
    }

    pub(crate) fn status_of(
        &self,
        state: &SourceState,
        now: DateTime<Utc>,
        warnings: Vec<String>,
    ) -> SourceStatus {
        SourceStatus {
            id: state.spec.id,
            environment: state.spec.environment.clone(),
            name: state.spec.name.clone(),
            kind: state.spec.kind_name(),
            url: state.spec.url.to_string(),
            health: state.health_at(now),
            warnings,
            last_poll: state.last_poll,
        }
    }

    pub(crate) fn health_check_of(state: &SourceState) -> HealthCheck {
        HealthCheck {
            environment: state.spec.environment.clone(),
            name: state.spec.name.clone(),
            url: state.spec.url.to_string(),
            result: state.health.as_ref().map(|(r, _)| r.clone()),
            checked_at: state.health.as_ref().map(|(_, at)| *at),
            source: state.spec.id,
        }
    }
}
