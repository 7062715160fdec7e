//! A secret canary through the whole console: config → dialog → runner → child → output
//! pane → audit log, with every log line captured. The canary reaches the child's
//! environment (the child prints it) and nowhere else: not in the logs, not in the audit
//! log, not on the screen, not in the child's argv.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use watchdeck::clock::ManualClock;
use watchdeck::config::settings::Tier;
use watchdeck::engine::Situation;
use watchdeck::runbook::runner::{Runner, RunnerConfig};
use watchdeck::runbook::{Invocation, RunEvent};
use watchdeck::store::{EnvironmentView, Snapshot};
use watchdeck::ui::RunDispatch;
use watchdeck::ui::app::{App, AppOptions, Mode};

const CANARY: &str = "canary-5d1f0b7e-never-print";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn key(app: &mut App, code: KeyCode) {
    app.key(KeyEvent::new(code, KeyModifiers::NONE));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_canary_reaches_the_child_and_nothing_else() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let dir = tempfile::tempdir().expect("tempdir");
    let secret_file = dir.path().join("token");
    std::fs::write(&secret_file, format!("{CANARY}\n")).expect("secret file");
    let config = format!(
        r#"
[[environment]]
name = "staging"
tier = "staging"
  [[environment.health]]
  name = "web"
  url = "http://web.stage.example.internal/health"

[[runbook]]
name = "show_token"
target = "environment"
exec = ["/usr/bin/printenv", "DEPLOY_TOKEN", "WATCHDECK_ENV"]
secret_env = {{ DEPLOY_TOKEN = {{ file = "{}" }} }}
"#,
        secret_file.display()
    );
    let settings = watchdeck::config::load_str(&config, Path::new("t.toml")).expect("config");
    let now = Utc.timestamp_opt(1_795_300_000, 0).single().expect("time");
    let situation = Situation {
        fleet: Arc::new(Snapshot {
            taken_at: Some(now),
            environments: vec![EnvironmentView {
                name: "staging".into(),
                tier: Tier::Staging,
            }],
            ..Snapshot::default()
        }),
        ..Situation::default()
    };
    let mut options = AppOptions::new(false, "alice");
    options.runbooks = Arc::new(settings.runbooks.clone());
    let mut app = App::new(Arc::new(situation), options);
    // Overview → the staging row → r → dialog (staging: a Run button).
    key(&mut app, KeyCode::Char('r'));
    assert!(matches!(app.mode, Mode::RunDialog(_)), "{:?}", app.mode);
    let dialog_screen = screen(&app);
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Enter);

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let audit = dir.path().join("audit.jsonl");
    let runner = Runner::new(RunnerConfig {
        audit_path: audit.clone(),
        lock_dir: dir.path().join("locks"),
        host: "bastion".into(),
        events: tx.into(),
        clock: ManualClock::shared(now),
        read_only: false,
    });
    let mut dispatch = RunDispatch::default();
    dispatch.dispatch(&mut app, Some(&runner));
    loop {
        let event = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("finishes")
            .expect("events");
        let done = matches!(event, RunEvent::Finished { .. } | RunEvent::Refused { .. });
        tracing::info!(?event, "run event");
        app.run_event(event);
        if done {
            break;
        }
    }
    let run = &app.runs.all()[0];
    tracing::info!(?run, "run view");
    let lines: Vec<&str> = run.lines.iter().map(|(_, l)| l.as_str()).collect();
    // The child got the secret (and printed it, redacted on the way in) and the env.
    assert_eq!(lines, ["[redacted]", "staging"], "{lines:?}");
    assert!(
        run.state.describe().starts_with("exit 0"),
        "{:?}",
        run.state
    );

    // argv: what the runner was asked to run holds no secret.
    let req = watchdeck::runbook::template::request(
        &settings.runbooks[0],
        watchdeck::runbook::Phase::Run,
        &watchdeck::ui::launch::environment_target("staging"),
        Tier::Staging,
        &Default::default(),
        &watchdeck::runbook::template::Context {
            phase: watchdeck::runbook::Phase::Run,
            user: "alice",
            incident: None,
            read_secrets: true,
        },
    )
    .expect("request");
    let Invocation::Exec(e) = &req.invocation else {
        panic!("exec")
    };
    assert!(e.argv.iter().all(|a| !a.contains(CANARY)), "{:?}", e.argv);
    assert_eq!(
        e.secret_env[0].1.expose(),
        CANARY,
        "the secret is read for the child"
    );
    tracing::info!(?req, "request");

    let output_screen = screen(&app);
    let audit_text = std::fs::read_to_string(&audit).expect("audit");
    let log_text = String::from_utf8(logs.0.lock().expect("logs").clone()).expect("utf8");
    assert!(
        log_text.contains("run event"),
        "the capture works: {log_text}"
    );
    for (what, text) in [
        ("the dialog", &dialog_screen),
        ("the output pane", &output_screen),
        ("the audit log", &audit_text),
        ("the logs", &log_text),
    ] {
        assert!(!text.contains(CANARY), "canary in {what}:\n{text}");
        assert!(
            !text.contains("canary-5d1f"),
            "part of the canary in {what}"
        );
    }
}

fn screen(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(120, 30)).expect("terminal");
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
