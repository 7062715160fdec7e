//! End to end on the deterministic demo: a node goes down, the incident offers its linked
//! runbook, the engineer confirms it in the dialog (typing the production environment's
//! name), the real runner audits and runs it against the demo's control API, the run lands
//! on the incident's timeline — and the incident resolves because the runbook repaired
//! the fault, well before the fault's scripted end.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use watchdeck::clock::{Clock, ManualClock};
use watchdeck::config::{self, Settings};
use watchdeck::demo::{DemoFleet, DemoOptions};
use watchdeck::engine::{Core, Situation};
use watchdeck::incident::{Lifecycle, Severity, TimelineKind};
use watchdeck::rules::RuleSet;
use watchdeck::runbook::runner::{Runner, RunnerConfig};
use watchdeck::runbook::{RunEvent, Termination};
use watchdeck::source::http::HttpClients;
use watchdeck::ui::RunDispatch;
use watchdeck::ui::app::{App, AppOptions, Mode, Tab};

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
}

impl Sim {
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
}

fn key(app: &mut App, code: KeyCode) {
    app.key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmed_runbook_repairs_the_demo_and_its_incident_resolves() {
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
    let mut sim = Sim {
        fleet,
        clock,
        settings,
        core,
        clients: Arc::new(HttpClients::new().expect("client")),
    };

    // prod-web3 stops answering at 200 s; node_down opens (sev2) after its 30 s `for`.
    let s = sim.run_until(240).await;
    let down = s
        .incidents
        .iter()
        .find(|i| i.rule == "node_down" && i.key.contains("node=prod-web3"))
        .expect("node_down incident");
    assert_eq!(down.severity, Severity::Sev2);
    assert_eq!(down.runbooks, ["restart_node"]);
    let id = down.id;

    let mut options = AppOptions::new(true, "alice");
    options.runbooks = Arc::new(sim.settings.runbooks.clone());
    let mut app = App::new(Arc::new(s), options);
    key(&mut app, KeyCode::Char('2'));
    assert_eq!(app.tab, Tab::Incidents);
    while app.selected_incident() != Some(id) {
        key(&mut app, KeyCode::Char('j'));
    }
    key(&mut app, KeyCode::Char('r'));
    let Mode::RunDialog(d) = &app.mode else {
        panic!("dialog expected, got {:?}", app.mode)
    };
    assert_eq!(d.runbook, "restart_node");
    assert_eq!(d.target.name, "prod-web3");
    // Cancel is focused; the typed field is just before it.
    key(&mut app, KeyCode::BackTab);
    type_text(&mut app, "production");
    for _ in 0..3 {
        key(&mut app, KeyCode::Tab); // Cancel, Plan, Run
    }
    key(&mut app, KeyCode::Enter);

    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = Runner::new(RunnerConfig {
        audit_path: audit.clone(),
        lock_dir: dir.path().join("locks"),
        host: "bastion".into(),
        events: tx.into(),
        clock: sim.clock.clone(),
        read_only: false,
    });
    let mut dispatch = RunDispatch::default();
    dispatch.dispatch(&mut app, Some(&runner));
    assert!(matches!(app.mode, Mode::RunOutput { .. }), "{:?}", app.mode);

    let outcome = loop {
        let event = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("the run finishes")
            .expect("events");
        let done = match &event {
            RunEvent::Finished { outcome, .. } => Some(outcome.clone()),
            RunEvent::Refused { reason, .. } => panic!("refused: {reason}"),
            _ => None,
        };
        app.run_event(event);
        if let Some(o) = done {
            break o;
        }
    };
    assert_eq!(outcome.termination, Termination::Http { status: 200 });
    let output: Vec<String> = app.runs.all()[0]
        .lines
        .iter()
        .map(|(_, l)| l.clone())
        .collect();
    assert!(
        output.iter().any(|l| l.contains("prod-web3-down")),
        "the control API says what it repaired: {output:?}"
    );

    // The audit log has the intent (before) and the outcome (after).
    let log = std::fs::read_to_string(&audit).expect("audit log");
    let records: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(records.len(), 2, "{log}");
    assert_eq!(records[0]["record"], "intent");
    assert_eq!(records[0]["runbook"], "restart_node");
    assert_eq!(records[0]["user"], "alice");
    assert_eq!(records[0]["environment"], "production");
    assert_eq!(records[0]["incident"], id.to_string());
    assert_eq!(records[1]["record"], "outcome");

    // Started and finished go to the incident's timeline through the engine.
    let commands: Vec<_> = app.outbox.drain(..).collect();
    assert_eq!(commands.len(), 2, "{commands:?}");
    for c in commands {
        sim.core.apply(c, sim.clock.now()).expect("timeline");
    }
    let s = sim.run_until(250).await;
    let inc = s.incident(id).expect("listed");
    let runs: Vec<&str> = inc
        .timeline
        .iter()
        .filter_map(|e| match &e.kind {
            TimelineKind::RunbookRun { outcome, .. } => Some(outcome.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(runs.len(), 2, "{:?}", inc.timeline);
    assert!(runs[1].starts_with("HTTP 200"), "{runs:?}");
    let markdown = watchdeck::incident::export_markdown(inc, sim.clock.now());
    assert!(markdown.contains("restart_node"), "{markdown}");

    // The node answers again; after clear_for (30 s) the incident resolves — long before
    // the fault's scripted end at 320 s.
    let s = sim.run_until(290).await;
    let inc = s.incident(id).expect("listed");
    assert_eq!(inc.lifecycle, Lifecycle::Resolved, "{:?}", inc.timeline);
    sim.fleet.shutdown().await;
}
