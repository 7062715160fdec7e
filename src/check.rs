//! `watchdeck check`: the headless mode for cron, CI and Nagios-style wrappers.
//!
//! Polls every source once (or keeps polling for `--for`, each source at its own interval,
//! so `for` clauses can be met), evaluates the rules and prints the incidents. The exit
//! code says the worst:
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | no open incident, every source answered |
//! | 11 | worst open incident is sev3 |
//! | 12 | worst open incident is sev2 |
//! | 13 | worst open incident is sev1 |
//! | 14 | no open incident, but some source could not be polled |
//! | 2 | configuration error (as everywhere) |

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::clock::Clock;
use crate::config::Settings;
use crate::config::settings::SourceSpec;
use crate::engine::{Core, Situation};
use crate::incident::{DisplayState, Severity};
use crate::rules::RuleSet;
use crate::source::http::HttpClients;
use crate::source::poller;
use crate::store::model::SourceHealth;

pub const EXIT_NONE: u8 = 0;
pub const EXIT_SEV3: u8 = 11;
pub const EXIT_SEV2: u8 = 12;
pub const EXIT_SEV1: u8 = 13;
pub const EXIT_UNPOLLED: u8 = 14;

/// What `check` found.
pub struct CheckResult {
    pub situation: Situation,
    pub exit_code: u8,
}

/// Keep only the named environment (an unknown name is an error listing the known ones).
pub fn restrict(settings: &mut Settings, env: &str) -> Result<(), String> {
    if settings.environment(env).is_none() {
        let known: Vec<_> = settings
            .environments
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        return Err(format!(
            "no environment `{env}`; configured: {}",
            known.join(", ")
        ));
    }
    settings.environments.retain(|e| e.name == env);
    Ok(())
}

/// Poll, evaluate, and decide the exit code.
pub async fn run(
    settings: &Settings,
    rules: RuleSet,
    duration: Option<Duration>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<CheckResult> {
    let clients = Arc::new(HttpClients::new()?);
    let mut core = Core::new(settings, rules);
    let start = tokio::time::Instant::now();
    let deadline = start + duration.unwrap_or_default();
    // Each source on its own interval, as the console polls it: its history ring is sized
    // for that interval (polled faster, it would hold less than the windows rules read), and
    // a slow source (a backup catalog) is not asked every few seconds.
    let sources: Vec<SourceSpec> = settings.sources().cloned().collect();
    let mut due = vec![start; sources.len()];
    let mut situation;
    loop {
        let now = tokio::time::Instant::now();
        let mut ready = Vec::new();
        for (spec, due) in sources.iter().zip(&mut due) {
            if *due <= now {
                ready.push(spec.clone());
                // A zero interval (not configurable) would otherwise spin.
                *due = now + spec.interval.max(Duration::from_millis(100));
            }
        }
        for report in poll_sources(&clients, ready).await {
            core.ingest(report);
        }
        situation = core.round(clock.now());
        let now = tokio::time::Instant::now();
        if now >= deadline {
            break;
        }
        let next = due.iter().copied().min().unwrap_or(deadline).min(deadline);
        tokio::time::sleep_until(next.max(now)).await;
    }
    let exit_code = exit_code(&situation);
    Ok(CheckResult {
        situation,
        exit_code,
    })
}

/// Poll every source once, concurrently; one report per source that could be polled.
pub async fn poll_all(
    clients: &Arc<HttpClients>,
    settings: &Settings,
) -> Vec<crate::source::PollReport> {
    poll_sources(clients, settings.sources().cloned().collect()).await
}

/// Poll these sources once, concurrently; one report per source that could be polled.
async fn poll_sources(
    clients: &Arc<HttpClients>,
    sources: Vec<SourceSpec>,
) -> Vec<crate::source::PollReport> {
    let mut polls = tokio::task::JoinSet::new();
    for spec in sources {
        let clients = clients.clone();
        polls.spawn(async move { poller::poll_once(&clients, &spec).await });
    }
    let mut reports = Vec::new();
    while let Some(report) = polls.join_next().await {
        match report {
            Ok(report) => reports.push(report),
            Err(e) => tracing::warn!("poll task failed: {e}"),
        }
    }
    reports
}

/// The documented exit code for a situation.
pub fn exit_code(s: &Situation) -> u8 {
    let worst = s
        .incidents
        .iter()
        .filter(|i| !matches!(i.display_state(), DisplayState::Resolved))
        .map(|i| i.severity)
        .min();
    match worst {
        Some(Severity::Sev1) => EXIT_SEV1,
        Some(Severity::Sev2) => EXIT_SEV2,
        Some(Severity::Sev3) => EXIT_SEV3,
        None if failing_sources(s).next().is_some() => EXIT_UNPOLLED,
        None => EXIT_NONE,
    }
}

fn failing_sources(s: &Situation) -> impl Iterator<Item = (&str, &str, &str)> {
    s.fleet.sources.iter().filter_map(|src| match &src.health {
        SourceHealth::Failing { reason, .. } => {
            Some((src.environment.as_str(), src.name.as_str(), reason.as_str()))
        }
        SourceHealth::Pending => {
            Some((src.environment.as_str(), src.name.as_str(), "never polled"))
        }
        _ => None,
    })
}

/// The human report.
pub fn report(r: &CheckResult) -> String {
    let s = &r.situation;
    let now = s.fleet.taken_at.unwrap_or_default();
    let mut out = String::new();
    let open: Vec<_> = s
        .incidents
        .iter()
        .filter(|i| i.display_state() != DisplayState::Resolved)
        .collect();
    if open.is_empty() {
        out.push_str("no open incidents\n");
    }
    for i in &open {
        let _ = writeln!(
            out,
            "{} {:<9} {:<12} {:<9} {}  (rule {}, deadline {})",
            i.severity.glyph(),
            i.severity.label(),
            i.environment,
            i.display_state().as_str(),
            i.summary,
            i.rule,
            i.deadline.to_rfc3339(),
        );
    }
    for p in &s.pending {
        let _ = writeln!(
            out,
            "  {:<9} {:<12} pending   {}  (rule {}, for {} so far)",
            p.severity.label(),
            p.environment,
            p.summary,
            p.rule,
            crate::ui::format::age(p.since, now),
        );
    }
    for (env, name, reason) in failing_sources(s) {
        let _ = writeln!(out, "source {env}/{name} could not be polled: {reason}");
    }
    for e in &s.rule_errors {
        let _ = writeln!(out, "rule error: {e}");
    }
    let _ = writeln!(out, "exit {}", r.exit_code);
    out
}

/// The `--json` report.
pub fn to_json(r: &CheckResult) -> serde_json::Value {
    let s = &r.situation;
    let incidents: Vec<_> = s
        .incidents
        .iter()
        .map(|i| {
            json!({
                "id": i.id.to_string(),
                "rule": i.rule,
                "environment": i.environment,
                "tier": i.tier,
                "severity": i.severity.number(),
                "state": i.display_state().as_str(),
                "summary": i.summary,
                "value": if i.value.is_finite() { json!(i.value) } else { json!(i.value.to_string()) },
                "labels": i.labels,
                "opened_at": i.opened_at.to_rfc3339(),
                "deadline": i.deadline.to_rfc3339(),
                "runbooks": i.runbooks,
            })
        })
        .collect();
    let pending: Vec<_> = s
        .pending
        .iter()
        .map(|p| {
            json!({
                "rule": p.rule,
                "environment": p.environment,
                "severity": p.severity.number(),
                "summary": p.summary,
                "since": p.since.to_rfc3339(),
            })
        })
        .collect();
    let sources: Vec<_> = s
        .fleet
        .sources
        .iter()
        .map(|src| json!({"environment": src.environment, "name": src.name, "kind": src.kind, "health": src.health, "warnings": src.warnings}))
        .collect();
    json!({
        "checked_at": s.fleet.taken_at.map(|t| t.to_rfc3339()),
        "exit_code": r.exit_code,
        "incidents": incidents,
        "pending": pending,
        "sources": sources,
        "rule_errors": s.rule_errors,
    })
}
