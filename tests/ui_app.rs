//! The UI without a terminal: an `App` driven by actions, drawn into ratatui's TestBackend.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use watchdeck::config::settings::{SourceId, Tier};
use watchdeck::engine::{Command, Situation};
use watchdeck::incident::{Hit, IncidentConfig, Incidents, RuleRound, RuleTiming, Severity};
use watchdeck::store::{EnvironmentView, Snapshot};
use watchdeck::ui::app::{Action, App, AppOptions, Mode, StatusKind, Tab};

fn situation() -> Situation {
    let now = Utc.timestamp_opt(1_795_300_000, 0).single().expect("time");
    let mut incidents = Incidents::new(IncidentConfig::default());
    let hit = |key: &str, sev, summary: &str| Hit {
        key: key.to_owned(),
        environment: "production".to_owned(),
        tier: Tier::Production,
        severity: sev,
        value: 1.0,
        summary: summary.to_owned(),
        labels: Default::default(),
        sources: vec![SourceId(0)],
        stale: false,
    };
    let round = RuleRound {
        rule: "r".to_owned(),
        timing: RuleTiming {
            for_: Duration::ZERO,
            clear_for: Duration::ZERO,
        },
        runbooks: vec![],
        hits: vec![
            hit("a", Severity::Sev3, "minor thing"),
            hit("b", Severity::Sev1, "galera quorum lost"),
        ],
        holding: vec![],
    };
    incidents.evaluate(&[round], &HashSet::new(), now);
    Situation {
        fleet: Arc::new(Snapshot {
            taken_at: Some(now),
            environments: vec![EnvironmentView {
                name: "production".to_owned(),
                tier: Tier::Production,
            }],
            ..Snapshot::default()
        }),
        incidents: incidents.incidents().cloned().collect(),
        ..Situation::default()
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

fn new_app(demo: bool) -> App {
    App::new(Arc::new(situation()), AppOptions::new(demo, "oncall"))
}

fn press(app: &mut App, keys: &str) {
    for c in keys.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            '\x1b' => KeyCode::Esc,
            '\t' => KeyCode::Tab,
            c => KeyCode::Char(c),
        };
        app.key(KeyEvent::new(code, KeyModifiers::NONE));
    }
}

#[test]
fn incidents_tab_lists_worst_first_and_acknowledges_with_a_note() {
    let mut app = new_app(true);
    press(&mut app, "2");
    assert_eq!(app.tab, Tab::Incidents);
    let text = screen(&app, 120, 20);
    let sev1 = text.find("galera quorum lost").expect("sev1 listed");
    let sev3 = text.find("minor thing").expect("sev3 listed");
    assert!(sev1 < sev3, "worst first:\n{text}");
    assert!(
        text.contains("▲▲▲ SEV1"),
        "glyph and text, not colour alone:\n{text}"
    );
    assert!(text.contains("DEMO"));
    assert!(text.contains("PROD"));

    // `a` opens the dialog (with the tier badge); Enter sends with the typed note.
    press(&mut app, "a");
    let dialog = screen(&app, 120, 20);
    assert!(dialog.contains("Acknowledge INC-"), "{dialog}");
    assert!(
        dialog.contains("PROD"),
        "tier badge in the dialog:\n{dialog}"
    );
    assert!(app.outbox.is_empty(), "nothing sent before Enter");
    press(&mut app, "on it\n");
    let sel = app.selected_incident().expect("selected");
    assert_eq!(
        app.outbox,
        vec![Command::Acknowledge {
            id: sel,
            user: "oncall".to_owned(),
            note: Some("on it".to_owned()),
        }]
    );
    assert_eq!(
        app.situation.incident(sel).map(|i| i.severity),
        Some(Severity::Sev1)
    );
}

#[test]
fn escape_cancels_the_acknowledge_dialog() {
    let mut app = new_app(false);
    press(&mut app, "2a\x1b");
    assert!(app.outbox.is_empty());
    assert!(matches!(app.mode, Mode::Normal));
}

#[test]
fn acknowledge_outside_the_incidents_tab_explains_instead_of_acting() {
    let mut app = new_app(false);
    app.apply(Action::Acknowledge);
    assert!(app.outbox.is_empty());
    assert!(screen(&app, 100, 10).contains("acknowledges on the Incidents tab"));
}

#[test]
fn command_line_switches_tabs_scope_theme_and_acknowledges() {
    let mut app = new_app(false);
    press(&mut app, ":tab inc\n");
    assert_eq!(app.tab, Tab::Incidents);
    press(&mut app, ":env production\n");
    assert_eq!(app.scope.as_deref(), Some("production"));
    press(&mut app, ":theme light\n");
    assert_eq!(app.theme.name, "light");
    press(&mut app, ":ack checking now\n");
    assert!(matches!(
        app.outbox.as_slice(),
        [Command::Acknowledge { note: Some(n), .. }] if n == "checking now"
    ));
    press(&mut app, ":env all\n");
    assert_eq!(app.scope, None);
    press(&mut app, ":nonsense\n");
    let (msg, kind) = app.status.clone().expect("an error is shown");
    assert_eq!(kind, StatusKind::Error);
    assert!(msg.contains("nonsense"), "{msg}");
    press(&mut app, ":q\n");
    assert!(app.should_quit);
}

#[test]
fn command_line_completes_names() {
    let mut app = new_app(false);
    press(&mut app, ":env pro\t");
    let Mode::Command { line, .. } = &app.mode else {
        panic!("still typing a command");
    };
    assert_eq!(line.text(), "env production");
}

#[test]
fn filter_narrows_rows_shows_itself_and_esc_clears_it() {
    let mut app = new_app(false);
    press(&mut app, "2/sev<=2\n");
    assert_eq!(app.incident_rows().len(), 1);
    let text = screen(&app, 120, 20);
    assert!(text.contains("/sev<=2"), "active filter shown:\n{text}");
    assert!(text.contains("1 of 2"), "{text}");
    // `/` opens the active filter for editing; Esc abandons the edit, keeps the filter.
    press(&mut app, "/");
    assert!(matches!(&app.mode, Mode::Filter(line) if line.text() == "sev<=2"));
    press(&mut app, "\x1b");
    assert_eq!(app.incident_rows().len(), 1);
    press(&mut app, "\x1b");
    assert_eq!(app.incident_rows().len(), 2);
    press(&mut app, "/!galera\n");
    assert_eq!(app.incident_rows().len(), 1);
    assert_eq!(app.incident_rows()[0].summary, "minor thing");
    press(&mut app, "\x1b");
    assert_eq!(
        app.incident_rows().len(),
        2,
        "Esc on the list clears the filter"
    );
    // A broken filter is reported, not applied.
    press(&mut app, "/nod=web\n");
    assert_eq!(app.incident_rows().len(), 2);
    let (msg, _) = app.status.clone().expect("error shown");
    assert!(msg.contains("nod"), "{msg}");
}

#[test]
fn sorting_cycles_columns_and_reverses() {
    let mut app = new_app(false);
    press(&mut app, "2");
    let first = |app: &App| app.incident_rows()[0].summary.clone();
    assert_eq!(first(&app), "galera quorum lost");
    press(&mut app, "S");
    assert_eq!(first(&app), "minor thing", "default order reversed");
    press(&mut app, "S");
    // Sort by Severity column (the third) ascending: "1" before "3".
    press(&mut app, "sss");
    assert_eq!(app.sort[1].column, Some(2));
    assert_eq!(first(&app), "galera quorum lost");
    assert!(screen(&app, 120, 20).contains("Severity↑"));
}

#[test]
fn environment_scope_cycles_and_shows_the_tier() {
    let mut app = new_app(false);
    press(&mut app, "e");
    assert_eq!(app.scope.as_deref(), Some("production"));
    assert!(screen(&app, 120, 10).contains("PROD"));
    press(&mut app, "e");
    assert_eq!(app.scope, None);
}

#[test]
fn enter_opens_the_detail_pane_and_q_closes_it_before_quitting() {
    let mut app = new_app(false);
    press(&mut app, "2\n");
    assert!(matches!(app.mode, Mode::Detail));
    let text = screen(&app, 120, 30);
    assert!(text.contains("timeline"), "{text}");
    press(&mut app, "q");
    assert!(matches!(app.mode, Mode::Normal));
    assert!(!app.should_quit);
    press(&mut app, "?");
    assert!(screen(&app, 120, 40).contains("Keys"));
    press(&mut app, "q");
    assert!(!app.should_quit);
    press(&mut app, "q");
    assert!(app.should_quit);
}

#[test]
fn mouse_clicks_select_tabs_and_rows() {
    let mut app = new_app(false);
    app.size = (160, 30);
    let (_, hits) = watchdeck::ui::header_line(&app, 160);
    let (_, start, _) = hits
        .iter()
        .find(|(t, _, _)| *t == Tab::Incidents)
        .copied()
        .expect("tab");
    app.click(start + 1, 0);
    assert_eq!(app.tab, Tab::Incidents);
    // Body starts at row 1: title rule, header, then the first data row at 3.
    app.click(10, 4);
    assert_eq!(app.selected(), 1);
    app.scroll(false);
    assert_eq!(app.selected(), 0);
}

#[test]
fn freeze_holds_the_screen_and_every_size_draws() {
    let mut app = new_app(false);
    app.apply(Action::ToggleFreeze);
    assert!(
        !app.update(Arc::new(Situation::default())),
        "frozen: update refused"
    );
    assert!(!app.situation.incidents.is_empty());
    assert!(screen(&app, 120, 10).contains("FROZEN"));
    for tab in 0..7 {
        app.apply(Action::GoToTab(tab));
        for (w, h) in [(1, 1), (20, 5), (80, 24), (300, 100)] {
            let _ = screen(&app, w, h);
        }
    }
}

#[test]
fn a_filter_being_typed_survives_new_data() {
    let mut app = new_app(false);
    press(&mut app, "2/sev<=2");
    assert_eq!(app.incident_rows().len(), 1, "applies while typing");
    assert!(app.update(Arc::new(situation())));
    assert_eq!(app.incident_rows().len(), 1, "and after new data arrives");
    press(&mut app, "\x1b");
    assert_eq!(
        app.incident_rows().len(),
        2,
        "Esc drops the unfinished filter"
    );
}

#[test]
fn the_selection_follows_its_incident_when_the_order_changes() {
    let mut app = new_app(false);
    press(&mut app, "2j");
    let chosen = app.selected_incident().expect("selected");
    assert_eq!(
        app.situation.incident(chosen).map(|i| i.summary.as_str()),
        Some("minor thing")
    );
    // Same incidents, listed the other way round: the selection moves with its incident.
    press(&mut app, "S");
    assert!(app.update(Arc::new(situation())));
    assert_eq!(app.selected_incident(), Some(chosen));
}
