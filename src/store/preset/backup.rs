//! Backup metrics (textfile collector or Pushgateway) → one [`BackupRun`] per service.
//!
//! Reads `backup_last_success_timestamp_seconds{service=…}` and its size and duration
//! companions (names configurable); where a job pushes no success timestamp, the
//! Pushgateway's `push_time_seconds` for that group stands in.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};

use super::{Input, Output, expect, secs};
use crate::store::model::BackupRun;

pub(super) fn derive(input: &Input<'_>, out: &mut Output) {
    let names = &input.metrics.backup_names;
    expect(input, out, &[&[&names.last_success, &names.push_time]]);
    let t = input.table;
    let label = names.service_label.as_str();
    let mut services: BTreeMap<String, BackupRun> = BTreeMap::new();
    for s in t.named(&names.last_success) {
        if let Some(run) = entry(input, &mut services, s.label(label)) {
            run.last_success = timestamp(s.value);
        }
    }
    for s in t.named(&names.push_time) {
        if let Some(run) = entry(input, &mut services, s.label(label))
            && run.last_success.is_none()
        {
            run.last_success = timestamp(s.value);
        }
    }
    for s in t.named(&names.last_size) {
        if let Some(run) = entry(input, &mut services, s.label(label)) {
            run.size_bytes = Some(s.value).filter(|v| v.is_finite());
        }
    }
    for s in t.named(&names.last_duration) {
        if let Some(run) = entry(input, &mut services, s.label(label)) {
            run.duration = secs(s.value);
        }
    }
    for mut run in services.into_values() {
        run.age = run
            .last_success
            .and_then(|at| (input.now - at).to_std().ok());
        out.backups.push(run);
    }
}

/// The run for a service (the series' label, else the source's configured service).
fn entry<'m>(
    input: &Input<'_>,
    services: &'m mut BTreeMap<String, BackupRun>,
    service: Option<&str>,
) -> Option<&'m mut BackupRun> {
    let service = service
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .or_else(|| input.metrics.placement.service.clone())?;
    let policy = input
        .env
        .backup_policies
        .iter()
        .find(|p| p.service == service);
    Some(
        services
            .entry(service.clone())
            .or_insert_with(|| BackupRun {
                environment: input.env.name.clone(),
                service,
                last_success: None,
                age: None,
                size_bytes: None,
                duration: None,
                interval: policy.map(|p| p.interval),
                rpo: policy.map(|p| p.rpo),
                source: input.spec.id,
            }),
    )
}

fn timestamp(v: f64) -> Option<DateTime<Utc>> {
    if !v.is_finite() || v <= 0.0 {
        return None;
    }
    let millis = (v * 1000.0) as i64;
    Utc.timestamp_millis_opt(millis).single()
}
