//! Driving the headless console in integration tests as a person would: keys, typed text,
//! picking a row of the Alerts tab, and handing a confirmed run to the real runner until it
//! finishes.
#![allow(dead_code)]

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc::UnboundedReceiver;
use watchdeck::runbook::runner::Runner;
use watchdeck::runbook::{RunEvent, Termination};
use watchdeck::ui::RunDispatch;
use watchdeck::ui::alerts::{self, Row};
use watchdeck::ui::app::{App, Mode, Tab};

pub fn key(app: &mut App, code: KeyCode) {
    app.key(KeyEvent::new(code, KeyModifiers::NONE));
}

pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

/// Move the Alerts tab's selection to the first row `pick` accepts.
pub fn select_alert_row(app: &mut App, pick: impl Fn(&Row<'_>) -> bool) {
    // Leave the output pane of a finished run first, as a person would.
    for _ in 0..3 {
        if matches!(app.mode, Mode::Normal) {
            break;
        }
        key(app, KeyCode::Esc);
    }
    assert!(matches!(app.mode, Mode::Normal), "{:?}", app.mode);
    key(app, KeyCode::Char('6'));
    assert_eq!(app.tab, Tab::Alerts);
    key(app, KeyCode::Char('g'));
    for _ in 0..200 {
        if let Some(r) = app.selected_record().and_then(|i| alerts::row(app, i))
            && pick(&r)
        {
            return;
        }
        key(app, KeyCode::Char('j'));
    }
    let rows: Vec<String> = (0..app.tab.listing().len(app))
        .map(|i| match alerts::row(app, i) {
            Some(Row::Alert(a)) => format!("alert {} {:?}", a.name, a.silenced_by),
            Some(Row::Silence(s)) => format!("silence {} {}", s.id, s.created_by),
            None => "none".into(),
        })
        .collect();
    panic!(
        "no such row in {rows:#?} (selected {:?}, view {:?} at {})",
        app.selected_record(),
        app.view().rows,
        app.selected()
    );
}

/// Hand what the app ordered to the runner and feed its events back until the run ends:
/// (termination, output lines of that run).
pub async fn dispatch_and_wait(
    app: &mut App,
    runner: &Runner,
    events: &mut UnboundedReceiver<RunEvent>,
) -> (Termination, Vec<String>) {
    let mut dispatch = RunDispatch::default();
    dispatch.dispatch(app, Some(runner));
    let Mode::RunOutput { run, .. } = &app.mode else {
        panic!("no run started: {:?} / {:?}", app.mode, app.status);
    };
    let run = run.clone();
    let termination = loop {
        let event = tokio::time::timeout(Duration::from_secs(30), events.recv())
            .await
            .expect("the run finishes")
            .expect("events");
        let done = match &event {
            RunEvent::Finished { outcome, .. } => Some(outcome.termination.clone()),
            RunEvent::Refused { reason, .. } => panic!("refused: {reason}"),
            _ => None,
        };
        app.run_event(event);
        if let Some(t) = done {
            break t;
        }
    };
    let output = app
        .runs
        .get(&run)
        .map(|r| r.lines.iter().map(|(_, l)| l.clone()).collect())
        .unwrap_or_default();
    (termination, output)
}
