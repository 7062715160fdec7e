//! Alertmanager silences both ways, end to end on the deterministic demo: an alert fires,
//! the engineer silences it from the Alerts tab (matchers from its labels, a required
//! comment, authored as `$USER`), the real runner audits and POSTs it, the next poll shows
//! the alert silenced and the silence listed; the silence is expired from its row and the
//! alert notifies again; Alertmanager's refusals are shown as they came; an incident an
//! alert opened offers the same dialog, recorded on its timeline; read-only refuses.

mod console;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use console::{key, type_text};
use crossterm::event::KeyCode;
use watchdeck::clock::{Clock, ManualClock};
use watchdeck::config::settings::SourceKind;
use watchdeck::config::{self, Settings};
use watchdeck::demo::{DemoFleet, DemoOptions};
use watchdeck::engine::{Core, Situation};
use watchdeck::incident::TimelineKind;
use watchdeck::rules::RuleSet;
use watchdeck::rules::eval::EXTERNAL_ALERT_RULE;
use watchdeck::runbook::runner::{Runner, RunnerConfig};
use watchdeck::runbook::{RunEvent, Termination};
use watchdeck::source::http::HttpClients;
use watchdeck::ui::alerts::{self, Row};
use watchdeck::ui::app::{App, AppOptions, Mode, StatusKind};

const STEP: u64 = 5;

fn start() -> DateTime<Utc> {
    Utc.timestamp_opt(1_795_300_000, 0).single().expect("time")
}

struct Sim {
    fleet: DemoFleet,
    clock: Arc<ManualClock>,
    settings: Settings,
    core: Core,
    clients: Arc<HttpClients>,
    runner: Runner,
    events: tokio::sync::mpsc::UnboundedReceiver<RunEvent>,
    audit: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Sim {
    async fn new() -> Sim {
        let clock = ManualClock::shared(start());
        let fleet = DemoFleet::start(DemoOptions {
            seed: 42,
            clock: clock.clone(),
            hostile: false,
        })
        .await
        .expect("demo starts");
        let settings = config::load_str(&fleet.config_toml(), Path::new("<demo>")).expect("config");
        let core = Core::new(&settings, RuleSet::default_pack().expect("rules"));
        let dir = tempfile::tempdir().expect("tempdir");
        let audit = dir.path().join("audit.jsonl");
        let (tx, events) = tokio::sync::mpsc::unbounded_channel();
        let runner = Runner::new(RunnerConfig {
            audit_path: audit.clone(),
            lock_dir: dir.path().join("locks"),
            host: "bastion".into(),
            events: tx.into(),
            clock: clock.clone(),
            read_only: false,
        });
        Sim {
            fleet,
            clock,
            settings,
            core,
            clients: Arc::new(HttpClients::new().expect("client")),
            runner,
            events,
            audit,
            _dir: dir,
        }
    }

    async fn round(&mut self) -> Situation {
        let now = self.clock.now();
        for mut report in watchdeck::check::poll_all(&self.clients, &self.settings).await {
            report.at = now;
            self.core.ingest(report);
        }
        self.core.round(now)
    }

    async fn run_until(&mut self, offset: i64) -> Situation {
        let mut last = self.round().await;
        while self.clock.now() < start() + chrono::Duration::seconds(offset) {
            self.clock.advance(Duration::from_secs(STEP));
            last = self.round().await;
        }
        last
    }

    fn app(&self, s: Situation) -> App {
        let mut options = AppOptions::new(true, "alice");
        options.alertmanagers = Arc::new(
            self.settings
                .sources()
                .filter(|s| matches!(s.kind, SourceKind::Alertmanager))
                .cloned()
                .collect(),
        );
        App::new(Arc::new(s), options)
    }

    /// Hand the app's orders to the runner and wait for the run to finish.
    async fn dispatch_and_wait(&mut self, app: &mut App) -> (Termination, Vec<String>) {
        console::dispatch_and_wait(app, &self.runner, &mut self.events).await
    }
}

fn select(app: &mut App, pick: impl Fn(&Row<'_>) -> bool) {
    console::select_alert_row(app, pick);
}

fn is_alert(r: &Row<'_>, name: &str, env: &str) -> bool {
    matches!(r, Row::Alert(a) if a.name == name && a.labels.get("env").map(String::as_str) == Some(env))
}

fn dialog(app: &App) -> &watchdeck::ui::run_dialog::RunDialog {
    match &app.mode {
        Mode::RunDialog(d) => d,
        other => panic!("dialog expected, got {other:?} / {:?}", app.status),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_an_alert_then_expire_it() {
    let mut sim = Sim::new().await;
    // prod-web3 stops answering at 200 s; the demo Alertmanager fires InstanceDown.
    let s = sim.run_until(240).await;
    assert!(
        s.fleet.alerts.iter().any(|a| a.name == "InstanceDown"
            && a.silenced_by.is_empty()
            && a.labels.get("env").map(String::as_str) == Some("production")),
        "{:#?}",
        s.fleet.alerts
    );
    let mut app = sim.app(s);
    select(&mut app, |r| is_alert(r, "InstanceDown", "production"));
    key(&mut app, KeyCode::Char('z'));
    let d = dialog(&app);
    assert_eq!(d.runbook, "alertmanager:silence");
    assert_eq!(d.target.environment, "production");
    // Without a comment nothing can be sent; the dialog says why.
    let why = d.preview.clone().expect_err("a comment is required");
    assert!(why.contains("comment is required"), "{why}");
    let matchers = d.params()["matchers"].clone();
    assert!(
        matchers.starts_with("alertname=\"InstanceDown\"")
            && matchers.contains("env=\"production\""),
        "{matchers}"
    );
    assert_eq!(d.params()["duration"], "2h");
    // Cancel has the focus: Enter there sends nothing.
    key(&mut app, KeyCode::Enter);
    assert!(matches!(app.mode, Mode::Normal));
    key(&mut app, KeyCode::Char('z'));
    // Run with no comment is refused in the dialog.
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Enter);
    assert!(
        dialog(&app)
            .message
            .as_deref()
            .unwrap_or("")
            .contains("comment")
    );
    // Shift-Tab twice from Run: Cancel, then the comment field.
    key(&mut app, KeyCode::BackTab);
    key(&mut app, KeyCode::BackTab);
    type_text(&mut app, "web3 rebuild, CHG-1234");
    let preview = dialog(&app).preview.clone().expect("complete").join("\n");
    assert!(preview.contains("POST http://"), "{preview}");
    assert!(
        preview.contains("/env/production/alertmanager/api/v2/silences"),
        "{preview}"
    );
    assert!(preview.contains(r#""createdBy":"alice""#), "{preview}");
    key(&mut app, KeyCode::Tab); // Cancel
    key(&mut app, KeyCode::Tab); // Run
    key(&mut app, KeyCode::Enter);
    let (termination, output) = sim.dispatch_and_wait(&mut app).await;
    assert_eq!(termination, Termination::Http { status: 200 }, "{output:?}");
    let id = output
        .iter()
        .find_map(|l| {
            l.split_once("\"silenceID\": \"")
                .map(|(_, rest)| rest.trim_end_matches('"').to_owned())
        })
        .unwrap_or_else(|| panic!("Alertmanager answers with the new id: {output:?}"));

    // Audited before it was sent, with exactly what was sent.
    let log = std::fs::read_to_string(&sim.audit).expect("audit log");
    let records: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(records.len(), 2, "{log}");
    assert_eq!(records[0]["record"], "intent");
    assert_eq!(records[0]["runbook"], "alertmanager:silence");
    assert_eq!(records[0]["user"], "alice");
    let body: serde_json::Value = serde_json::from_str(
        records[0]["invocation"]["body"]
            .as_str()
            .expect("body recorded"),
    )
    .expect("JSON body");
    assert_eq!(body["createdBy"], "alice");
    assert_eq!(body["comment"], "web3 rebuild, CHG-1234");
    let starts = DateTime::parse_from_rfc3339(body["startsAt"].as_str().unwrap()).unwrap();
    let ends = DateTime::parse_from_rfc3339(body["endsAt"].as_str().unwrap()).unwrap();
    assert_eq!(ends - starts, chrono::Duration::hours(2));
    assert_eq!(records[1]["record"], "outcome");

    // The next poll shows the alert silenced by that id, and the silence listed.
    let s = sim.run_until(250).await;
    let down = s
        .fleet
        .alerts
        .iter()
        .find(|a| {
            a.name == "InstanceDown"
                && a.labels.get("env").map(String::as_str) == Some("production")
        })
        .expect("still listed");
    assert_eq!(down.silenced_by, std::slice::from_ref(&id));
    let listed = s
        .fleet
        .silences
        .iter()
        .find(|x| x.id == id)
        .expect("silence listed");
    assert_eq!(listed.state, "active");
    assert_eq!(listed.created_by, "alice");
    // A silenced alert opens no incident: the one it had opened stops being seen.
    app.update(Arc::new(s));

    // Expire it from its row.
    select(&mut app, |r| matches!(r, Row::Silence(x) if x.id == id));
    key(&mut app, KeyCode::Char('z'));
    let d = dialog(&app);
    assert_eq!(d.runbook, "alertmanager:expire");
    let preview = d.preview.clone().expect("complete").join("\n");
    assert!(preview.contains("DELETE http://"), "{preview}");
    assert!(
        preview.contains(&format!("/api/v2/silence/{id}")),
        "{preview}"
    );
    key(&mut app, KeyCode::Tab); // Run
    key(&mut app, KeyCode::Enter);
    let (termination, output) = sim.dispatch_and_wait(&mut app).await;
    assert_eq!(termination, Termination::Http { status: 200 }, "{output:?}");
    let s = sim.run_until(255).await;
    let down = s
        .fleet
        .alerts
        .iter()
        .find(|a| {
            a.name == "InstanceDown"
                && a.labels.get("env").map(String::as_str) == Some("production")
        })
        .expect("still listed");
    assert!(down.silenced_by.is_empty(), "notifies again: {down:?}");
    assert_eq!(
        s.fleet
            .silences
            .iter()
            .find(|x| x.id == id)
            .map(|x| x.state.as_str()),
        Some("expired")
    );
    app.update(Arc::new(s));
    // An expired silence is history: no longer a row.
    assert!(
        (0..app.tab.listing().len(&app))
            .all(|i| !matches!(alerts::row(&app, i), Some(Row::Silence(x)) if x.id == id))
    );
    sim.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_refusals_are_shown_as_they_came() {
    let mut sim = Sim::new().await;
    let s = sim.run_until(10).await;
    let mut app = sim.app(s);
    // The standing silence belongs to another team: the demo Alertmanager refuses.
    select(
        &mut app,
        |r| matches!(r, Row::Silence(x) if x.created_by == "ai-team"),
    );
    key(&mut app, KeyCode::Char('z'));
    assert_eq!(dialog(&app).runbook, "alertmanager:expire");
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Enter);
    let (termination, output) = sim.dispatch_and_wait(&mut app).await;
    assert_eq!(termination, Termination::Http { status: 403 });
    assert!(!termination.succeeded());
    assert!(
        output.iter().any(|l| l.contains("belongs to another team")),
        "{output:?}"
    );

    // An already silenced alert is not silenced twice.
    select(
        &mut app,
        |r| matches!(r, Row::Alert(a) if !a.silenced_by.is_empty()),
    );
    key(&mut app, KeyCode::Char('z'));
    let (why, kind) = app.status.clone().expect("refused");
    assert_eq!(kind, StatusKind::Error);
    assert!(why.contains("already silenced"), "{why}");
    sim.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_from_an_alert_offers_the_silence_and_records_it() {
    let mut sim = Sim::new().await;
    let s = sim.run_until(240).await;
    let inc = s
        .incidents
        .iter()
        .find(|i| {
            i.rule == EXTERNAL_ALERT_RULE
                && i.labels.get("alertname").map(String::as_str) == Some("InstanceDown")
        })
        .unwrap_or_else(|| panic!("InstanceDown opened an incident: {:#?}", s.incidents))
        .id;
    let own_rule = s
        .incidents
        .iter()
        .find(|i| i.rule != EXTERNAL_ALERT_RULE)
        .map(|i| i.id);
    let mut app = sim.app(s);
    key(&mut app, KeyCode::Char('2'));
    // An incident of watchdeck's own rules has nothing to silence in Alertmanager.
    if let Some(own) = own_rule {
        while app.selected_incident() != Some(own) {
            key(&mut app, KeyCode::Char('j'));
        }
        key(&mut app, KeyCode::Char('z'));
        let (why, _) = app.status.clone().expect("refused");
        assert!(why.contains("nothing to silence"), "{why}");
    }
    key(&mut app, KeyCode::Char('g'));
    while app.selected_incident() != Some(inc) {
        key(&mut app, KeyCode::Char('j'));
    }
    key(&mut app, KeyCode::Char('z'));
    let d = dialog(&app);
    assert_eq!(d.incident, Some(inc));
    assert!(d.params()["comment"].starts_with(&format!("{inc}: ")));
    key(&mut app, KeyCode::BackTab);
    type_text(&mut app, "known, rebuilding");
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Enter);
    let (termination, _) = sim.dispatch_and_wait(&mut app).await;
    assert_eq!(termination, Termination::Http { status: 200 });
    let commands: Vec<_> = app.outbox.drain(..).collect();
    assert_eq!(commands.len(), 2, "started and finished: {commands:?}");
    for c in commands {
        sim.core.apply(c, sim.clock.now()).expect("timeline");
    }
    let s = sim.run_until(245).await;
    let runs: Vec<(String, String)> = s
        .incident(inc)
        .expect("listed")
        .timeline
        .iter()
        .filter_map(|e| match &e.kind {
            TimelineKind::RunbookRun { name, outcome } => Some((name.clone(), outcome.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(runs.iter().all(|(r, _)| r == "alertmanager:silence"));
    assert!(runs[1].1.starts_with("HTTP 200"), "{runs:?}");
    sim.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_refuses_silences() {
    let mut sim = Sim::new().await;
    let s = sim.run_until(240).await;
    let mut app = sim.app(s);
    app.read_only = true;
    select(&mut app, |r| is_alert(r, "InstanceDown", "production"));
    key(&mut app, KeyCode::Char('z'));
    assert!(matches!(app.mode, Mode::Normal));
    let (why, _) = app.status.clone().expect("refused");
    assert!(why.contains("read-only"), "{why}");
    // Nothing was built for the runner either.
    assert!(app.take_runner_orders().is_empty());
    sim.fleet.shutdown().await;
}
