//! Runbooks in the UI without a terminal: from an incident to its runbook's dialog, the
//! confirmation each tier asks for, plans, dry-run and read-only modes, hotkeys, and what
//! the runner's events do to the screen and the incident's timeline.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use watchdeck::config::settings::{SourceId, Tier};
use watchdeck::engine::{Command, Situation};
use watchdeck::incident::{
    Hit, IncidentConfig, Incidents, RuleRound, RuleTiming, Severity, TimelineKind,
};
use watchdeck::runbook::spec::RunbookSpec;
use watchdeck::runbook::{
    ExecInvocation, Invocation, Outcome, OutputStream, Phase, RunEvent, RunId, RunRequest,
    Termination,
};
use watchdeck::store::model::Node;
use watchdeck::store::{EnvironmentView, Snapshot};
use watchdeck::ui::app::{App, AppOptions, Mode, StatusKind};
use watchdeck::ui::keymap::Keymap;
use watchdeck::ui::launch::{RunOrder, RunnerOrder, runbook_keys};

const RUNBOOKS: &str = r#"
[[environment]]
name = "production"
tier = "production"
  [[environment.health]]
  name = "web"
  url = "http://web.prod.example.internal/health"

[[environment]]
name = "staging"
tier = "staging"
  [[environment.health]]
  name = "web"
  url = "http://web.stage.example.internal/health"

[[runbook]]
name = "failover"
description = "Fail the Galera cluster over"
target = "cluster"
exec = ["/usr/local/sbin/galera-failover", "--cluster", "{cluster}"]
plan = ["/usr/local/sbin/galera-failover", "--cluster", "{cluster}", "--check"]

[[runbook]]
name = "restart_fpm"
description = "Restart PHP-FPM"
target = "node"
hotkey = "R"
exec = ["ssh", "{node}", "sudo", "systemctl", "restart", "{unit}"]

  [[runbook.param]]
  name = "unit"
  type = "choice"
  choices = ["php8.2-fpm.service", "nginx.service"]

[[runbook]]
name = "annotate"
target = "node"
exec = ["/usr/local/bin/annotate", "{node}", "{text}"]

  [[runbook.param]]
  name = "text"
  type = "string"
  pattern = "[a-z ]{1,20}"
  default = "checked"
"#;

fn runbooks() -> Arc<Vec<RunbookSpec>> {
    let s = watchdeck::config::load_str(RUNBOOKS, Path::new("test.toml")).expect("config");
    Arc::new(s.runbooks)
}

fn situation() -> Situation {
    let now = Utc.timestamp_opt(1_795_300_000, 0).single().expect("time");
    let mut incidents = Incidents::new(IncidentConfig::default());
    let hit = |key: &str, env: &str, tier, sev, summary: &str, labels: &[(&str, &str)]| Hit {
        key: key.to_owned(),
        environment: env.to_owned(),
        tier,
        severity: sev,
        value: 1.0,
        summary: summary.to_owned(),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        sources: vec![SourceId(0)],
        stale: false,
    };
    let rounds = [
        RuleRound {
            rule: "galera_quorum_lost".to_owned(),
            timing: RuleTiming {
                for_: Duration::ZERO,
                clear_for: Duration::ZERO,
            },
            runbooks: vec!["failover".to_owned()],
            hits: vec![hit(
                "q",
                "production",
                Tier::Production,
                Severity::Sev1,
                "galera quorum lost",
                &[("env", "production"), ("cluster", "prod-galera")],
            )],
            holding: vec![],
        },
        RuleRound {
            rule: "cpu_high".to_owned(),
            timing: RuleTiming {
                for_: Duration::ZERO,
                clear_for: Duration::ZERO,
            },
            runbooks: vec!["restart_fpm".to_owned(), "not_configured".to_owned()],
            hits: vec![hit(
                "c",
                "staging",
                Tier::Staging,
                Severity::Sev3,
                "cpu high on stg-web1",
                &[("env", "staging"), ("node", "stg-web1")],
            )],
            holding: vec![],
        },
    ];
    incidents.evaluate(&rounds, &HashSet::new(), now);
    let node = |env: &str, name: &str| Node {
        environment: env.to_owned(),
        name: name.to_owned(),
        role: Some("web".to_owned()),
        cluster: None,
        up: true,
        cpu_percent: Some(10.0),
        memory_percent: Some(10.0),
        root_disk_percent: Some(10.0),
        load1: Some(0.1),
        uptime: None,
        source: SourceId(0),
    };
    Situation {
        fleet: Arc::new(Snapshot {
            taken_at: Some(now),
            environments: vec![
                EnvironmentView {
                    name: "production".to_owned(),
                    tier: Tier::Production,
                },
                EnvironmentView {
                    name: "staging".to_owned(),
                    tier: Tier::Staging,
                },
            ],
            nodes: vec![node("production", "web1"), node("staging", "stg-web1")],
            ..Snapshot::default()
        }),
        incidents: incidents.incidents().cloned().collect(),
        ..Situation::default()
    }
}

fn options() -> AppOptions {
    let mut o = AppOptions::new(false, "alice");
    o.runbooks = runbooks();
    o.runbook_keys = runbook_keys(&Keymap::builtin(), &o.runbooks).expect("hotkeys");
    o
}

fn app_with(options: AppOptions) -> App {
    App::new(Arc::new(situation()), options)
}

fn key(app: &mut App, code: KeyCode) {
    app.key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn press(app: &mut App, keys: &str) {
    for c in keys.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            '\x1b' => KeyCode::Esc,
            '\t' => KeyCode::Tab,
            c => KeyCode::Char(c),
        };
        key(app, code);
    }
}

fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal
        .draw(|f| watchdeck::ui::draw(f, app))
        .expect("draw");
    let buffer = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

fn dialog(app: &App) -> &watchdeck::ui::run_dialog::RunDialog {
    match &app.mode {
        Mode::RunDialog(d) => d,
        other => panic!("expected the runbook dialog, got {other:?}"),
    }
}

#[test]
fn from_a_sev1_on_any_tab_to_its_runbook_dialog_in_at_most_four_keys() {
    for start in ["1", "2", "3", "4", "5", "6", "7"] {
        let mut app = app_with(options());
        press(&mut app, start);
        // `2` Incidents → the sev1 is first → `r` → dialog.
        press(&mut app, "2r");
        let d = dialog(&app);
        assert_eq!(d.runbook, "failover", "from tab {start}");
        assert_eq!(d.target.name, "prod-galera");
        assert_eq!(d.tier, Tier::Production);
        assert!(d.incident.is_some());
    }
    let mut app = app_with(options());
    press(&mut app, "2r");
    let text = screen(&app, 120, 30);
    assert!(text.contains("PROD"), "tier badge in the dialog:\n{text}");
    assert!(
        text.contains("exec /usr/local/sbin/galera-failover --cluster prod-galera"),
        "the resolved argv:\n{text}"
    );
    assert!(text.contains("type production to confirm"), "{text}");
    assert!(text.contains("[▸Cancel◂]"), "Cancel focused:\n{text}");
}

#[test]
fn cancel_has_the_focus_and_enter_on_it_runs_nothing() {
    let mut app = app_with(options());
    press(&mut app, "2r\n");
    assert!(matches!(app.mode, Mode::Normal));
    assert!(app.take_runner_orders().is_empty());
    press(&mut app, "r\x1b");
    assert!(matches!(app.mode, Mode::Normal));
    assert!(app.take_runner_orders().is_empty());
}

#[test]
fn production_asks_for_the_environment_name_typed() {
    let mut app = app_with(options());
    press(&mut app, "2r");
    // Cancel → Plan → Run; Run without the name does nothing and moves to the field.
    press(&mut app, "\t\t\n");
    assert!(app.take_runner_orders().is_empty());
    assert!(
        dialog(&app)
            .message
            .as_deref()
            .unwrap()
            .contains("type `production`")
    );
    press(&mut app, "prod");
    press(&mut app, "\t\t\t\n");
    assert!(
        app.take_runner_orders().is_empty(),
        "a prefix is not the name"
    );
    // A refused Run puts the focus back on the field.
    assert_eq!(dialog(&app).focus, watchdeck::ui::run_dialog::Focus::Typed);
    press(&mut app, "uction\t\t\t\n");
    let orders = app.take_runner_orders();
    let [RunnerOrder::Start(order)] = orders.as_slice() else {
        panic!("one run ordered: {orders:?}")
    };
    assert_eq!(order.runbook, "failover");
    assert_eq!(order.phase, Phase::Run);
    assert_eq!(order.target.name, "prod-galera");
    assert!(order.incident.is_some());
}

#[test]
fn a_plan_runs_first_when_asked_and_shows_in_the_dialog() {
    let mut app = app_with(options());
    press(&mut app, "2r\t\n");
    let orders = app.take_runner_orders();
    let [RunnerOrder::Start(order)] = orders.as_slice() else {
        panic!("a plan ordered: {orders:?}")
    };
    assert_eq!(order.phase, Phase::Plan);
    let id = RunId("plan-1".into());
    app.run_started(order, &request(order), id.clone());
    assert!(matches!(app.mode, Mode::RunDialog(_)), "the dialog stays");
    app.run_event(RunEvent::Started {
        run: id.clone(),
        at: Utc::now(),
    });
    app.run_event(RunEvent::Output {
        run: id.clone(),
        at: Utc::now(),
        stream: OutputStream::Stdout,
        line: "would fail over prod-galera to prod-db2".into(),
    });
    app.run_event(finished(&id, 0));
    let text = screen(&app, 120, 30);
    assert!(text.contains("plan: exit 0"), "{text}");
    assert!(text.contains("would fail over prod-galera"), "{text}");
    // A plan is not recorded on the incident's timeline.
    assert!(app.outbox.is_empty(), "{:?}", app.outbox);
}

fn request(order: &RunOrder) -> RunRequest {
    RunRequest {
        runbook: order.runbook.clone(),
        phase: order.phase,
        target: order.target.clone(),
        tier: order.tier,
        params: order.params.clone(),
        incident: order.incident,
        invocation: Invocation::Exec(ExecInvocation {
            argv: vec!["/bin/true".into()],
            env: vec![],
            secret_env: vec![],
        }),
        timeout: Duration::from_secs(60),
        kill_grace: Duration::from_secs(1),
        user: "alice".into(),
    }
}

fn finished(id: &RunId, code: i32) -> RunEvent {
    RunEvent::Finished {
        run: id.clone(),
        at: Utc::now(),
        outcome: Outcome {
            termination: Termination::Exited { code },
            duration: Duration::from_millis(1500),
            output_bytes: 10,
            output_sha256: String::new(),
            last_lines: vec![],
        },
    }
}

#[test]
fn a_run_streams_into_its_output_pane_and_lands_on_the_incident_timeline() {
    let mut app = app_with(options());
    press(&mut app, "2r\t\t\t");
    press(&mut app, "production\t\t\t\n");
    let orders = app.take_runner_orders();
    let [RunnerOrder::Start(order)] = orders.as_slice() else {
        panic!("{orders:?}")
    };
    let id = RunId("run-1".into());
    app.run_started(order, &request(order), id.clone());
    assert!(matches!(&app.mode, Mode::RunOutput { run, .. } if *run == id));
    app.run_event(RunEvent::Started {
        run: id.clone(),
        at: Utc::now(),
    });
    for i in 0..3 {
        app.run_event(RunEvent::Output {
            run: id.clone(),
            at: Utc::now(),
            stream: if i == 1 {
                OutputStream::Stderr
            } else {
                OutputStream::Stdout
            },
            line: format!("step {i}"),
        });
    }
    let running = screen(&app, 100, 24);
    assert!(running.contains("running"), "{running}");
    assert!(running.contains("step 2"), "{running}");
    assert!(running.contains("PROD"), "{running}");

    // Cancel asks twice.
    press(&mut app, "x");
    assert!(app.take_runner_orders().is_empty());
    assert_eq!(app.status.as_ref().unwrap().1, StatusKind::Error);
    press(&mut app, "x");
    assert_eq!(
        app.take_runner_orders(),
        vec![RunnerOrder::Cancel(id.clone())]
    );

    app.run_event(finished(&id, 0));
    let done = screen(&app, 100, 24);
    assert!(done.contains("✔ exit 0 in 1s"), "{done}");
    let incident = order.incident.unwrap();
    let timeline: Vec<&TimelineKind> = app
        .outbox
        .iter()
        .map(|c| match c {
            Command::Timeline { id, entry, .. } if *id == incident => entry,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(timeline.len(), 2, "started and finished");
    assert!(
        matches!(timeline[0], TimelineKind::RunbookRun { outcome, .. } if outcome.starts_with("started by alice"))
    );
    assert!(
        matches!(timeline[1], TimelineKind::RunbookRun { name, outcome } if name == "failover" && outcome.starts_with("exit 0"))
    );

    // Closed, the run is on the Runbooks tab; Enter reopens its output.
    press(&mut app, "\x1b7");
    let tab = screen(&app, 140, 24);
    assert!(tab.contains("✔ ok"), "{tab}");
    select_first_run(&mut app);
    press(&mut app, "\n");
    assert!(matches!(&app.mode, Mode::RunOutput { run, .. } if *run == id));
}

#[test]
fn staging_asks_for_a_yes_and_parameters_are_chosen_in_the_dialog() {
    let mut app = app_with(options());
    // The staging incident links restart_fpm (configured) and not_configured.
    press(&mut app, "2jr");
    let d = dialog(&app);
    assert_eq!(d.runbook, "restart_fpm");
    assert_eq!(d.target.name, "stg-web1");
    // Field → Cancel → Run; the choice turns with Right.
    key(&mut app, KeyCode::BackTab);
    assert_eq!(
        dialog(&app).focus,
        watchdeck::ui::run_dialog::Focus::Field(0)
    );
    key(&mut app, KeyCode::Right);
    assert!(dialog(&app).preview.as_ref().unwrap()[0].ends_with("restart nginx.service"));
    press(&mut app, "\t\t\n");
    let orders = app.take_runner_orders();
    let [RunnerOrder::Start(order)] = orders.as_slice() else {
        panic!("{orders:?}")
    };
    assert_eq!(order.params["unit"], "nginx.service");
    assert_eq!(order.tier, Tier::Staging);
}

#[test]
fn a_refused_parameter_blocks_the_run_and_says_why() {
    let mut app = app_with(options());
    press(&mut app, "3");
    // Nodes: production web1 first; annotate and restart_fpm fit → a choice.
    press(&mut app, "jr");
    let Mode::Pick(p) = &app.mode else {
        panic!("a choice: {:?}", app.mode)
    };
    assert_eq!(p.items.len(), 2);
    press(&mut app, "j\n");
    assert_eq!(dialog(&app).runbook, "annotate");
    key(&mut app, KeyCode::BackTab);
    press(&mut app, "; reboot");
    assert!(dialog(&app).preview.is_err());
    press(&mut app, "\t\t\n");
    assert!(app.take_runner_orders().is_empty());
    let text = screen(&app, 120, 30);
    assert!(
        text.contains("does not match the allowed pattern"),
        "{text}"
    );
}

#[test]
fn a_runbook_hotkey_opens_its_dialog_for_the_selected_row() {
    let mut app = app_with(options());
    press(&mut app, "3jR");
    let d = dialog(&app);
    assert_eq!(d.runbook, "restart_fpm");
    assert_eq!(d.target.name, "stg-web1");
}

#[test]
fn hotkeys_that_clash_are_refused_naming_both() {
    let mut specs = (*runbooks()).clone();
    specs[1].hotkey = Some("a".into());
    let err = runbook_keys(&Keymap::builtin(), &specs).unwrap_err();
    assert!(err.contains("restart_fpm"), "{err}");
    assert!(err.contains("acknowledge"), "{err}");
    specs[1].hotkey = Some("Ctrl-b".into());
    assert!(
        runbook_keys(&Keymap::builtin(), &specs)
            .unwrap_err()
            .contains("tmux")
    );
    specs[1].hotkey = Some("R".into());
    specs[2].hotkey = Some("R".into());
    let err = runbook_keys(&Keymap::builtin(), &specs).unwrap_err();
    assert!(err.contains("two runbooks"), "{err}");
}

#[test]
fn read_only_hides_and_refuses_every_action() {
    let mut o = options();
    o.read_only = true;
    let mut app = app_with(o);
    press(&mut app, "2r");
    assert!(matches!(app.mode, Mode::Normal));
    assert!(app.status.as_ref().unwrap().0.contains("read-only"));
    press(&mut app, "3R");
    assert!(matches!(app.mode, Mode::Normal));
    assert!(app.offers.is_empty());
    // Even an order pushed past the UI's checks is dropped.
    app.order(RunOrder {
        runbook: "failover".into(),
        phase: Phase::Run,
        target: watchdeck::ui::launch::environment_target("production"),
        tier: Tier::Production,
        params: BTreeMap::new(),
        incident: None,
    });
    assert!(app.take_runner_orders().is_empty());
    press(&mut app, "7");
    let text = screen(&app, 120, 20);
    assert!(text.contains("read-only mode"), "{text}");
}

#[test]
fn dry_run_offers_only_the_plan() {
    let mut o = options();
    o.dry_run = true;
    let mut app = app_with(o);
    press(&mut app, "2r");
    let text = screen(&app, 120, 30);
    assert!(
        !text.contains("[ Run ]") && !text.contains("[▸Run◂]"),
        "{text}"
    );
    assert!(!text.contains("type production"), "{text}");
    press(&mut app, "\t\n");
    let orders = app.take_runner_orders();
    assert!(
        matches!(orders.as_slice(), [RunnerOrder::Start(o)] if o.phase == Phase::Plan),
        "{orders:?}"
    );
}

#[test]
fn the_runbooks_tab_lists_incident_offers_configured_actions_and_missing_ones() {
    let mut app = app_with(options());
    press(&mut app, "7");
    let text = screen(&app, 160, 30);
    assert!(text.contains("● incident"), "{text}");
    assert!(text.contains("cluster prod-galera"), "{text}");
    assert!(text.contains("○ available"), "{text}");
    assert!(text.contains("not_configured"), "{text}");
    assert!(
        text.contains("linked by rules but not configured"),
        "{text}"
    );
    // `r` on an action without a target offers the environment's nodes.
    let row = app
        .view()
        .rows
        .iter()
        .position(|&i| {
            app.offers
                .get(i)
                .is_some_and(|o| o.runbook == "annotate" && o.environment == "production")
        })
        .expect("annotate in production listed");
    for _ in 0..row {
        press(&mut app, "j");
    }
    press(&mut app, "r");
    assert_eq!(dialog(&app).target.name, "web1");
}

#[test]
fn runs_without_an_outcome_show_as_interrupted_and_a_rerun_confirms_again() {
    use watchdeck::runbook::audit::{AuditLog, AuditRecord, RunRecord};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::new(&path);
    let order = RunOrder {
        runbook: "restart_fpm".into(),
        phase: Phase::Run,
        target: watchdeck::ui::launch::node_target(&situation().fleet.nodes[1]),
        tier: Tier::Staging,
        params: BTreeMap::from([("unit".to_owned(), "nginx.service".to_owned())]),
        incident: None,
    };
    let req = request(&order);
    let at = Utc.timestamp_opt(1_795_299_000, 0).single().expect("time");
    // The console died mid-run: an intent, its lock long released, no outcome.
    let lock = dir.path().join("gone.lock");
    log.append(&AuditRecord::Intent(RunRecord::new(
        &RunId("r-1".into()),
        at,
        "bastion",
        &req,
        Some(&lock),
    )))
    .expect("intent");
    let history: Vec<_> = watchdeck::runbook::audit::read_history(&path)
        .expect("history")
        .into_iter()
        .map(watchdeck::ui::launch::history_view)
        .collect();
    let mut o = options();
    o.history = history;
    let mut app = app_with(o);
    press(&mut app, "7");
    select_first_run(&mut app);
    let text = screen(&app, 160, 30);
    assert!(text.contains("✖ interrupted"), "{text}");
    assert!(text.contains("alice@bastion"), "{text}");
    // `r` on the past run: the dialog again, same target and parameters, Cancel focused.
    press(&mut app, "r");
    let d = dialog(&app);
    assert_eq!(d.runbook, "restart_fpm");
    assert_eq!(d.target.name, "stg-web1");
    assert_eq!(d.params()["unit"], "nginx.service");
    assert_eq!(d.focus, watchdeck::ui::run_dialog::Focus::Cancel);
    assert!(app.take_runner_orders().is_empty());
}

/// Move down the Runbooks tab to its first run row.
fn select_first_run(app: &mut App) {
    press(app, "g");
    for _ in 0..app.view().rows.len() {
        if app.selected_run().is_some() {
            return;
        }
        press(app, "j");
    }
    panic!("no run listed");
}
