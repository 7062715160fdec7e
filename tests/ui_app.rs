//! The UI without a terminal: an `App` driven by actions, drawn into ratatui's TestBackend.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use watchdeck::config::settings::{SourceId, Tier};
use watchdeck::engine::{Command, Situation};
use watchdeck::incident::{Hit, IncidentConfig, Incidents, RuleRound, RuleTiming, Severity};
use watchdeck::store::{EnvironmentView, Snapshot};
use watchdeck::ui::app::{Action, App, Tab};
use watchdeck::ui::theme::Theme;

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
        .draw(|f| watchdeck::ui::draw(f, app, &Theme::dark()))
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

#[test]
fn incidents_tab_lists_worst_first_and_acknowledges_the_selection() {
    let mut app = App::new(Arc::new(situation()), true, "oncall".to_owned());
    app.apply(Action::GoToTab(1));
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

    app.apply(Action::Acknowledge);
    let sel = app.selected_incident().expect("selected");
    assert_eq!(
        app.outbox,
        vec![Command::Acknowledge {
            id: sel,
            user: "oncall".to_owned(),
            note: None
        }]
    );
    assert_eq!(
        app.situation.incident(sel).map(|i| i.severity),
        Some(Severity::Sev1)
    );
}

#[test]
fn acknowledge_outside_the_incidents_tab_explains_instead_of_acting() {
    let mut app = App::new(Arc::new(situation()), false, "oncall".to_owned());
    app.apply(Action::Acknowledge);
    assert!(app.outbox.is_empty());
    assert!(screen(&app, 100, 10).contains("a acknowledges on the Incidents tab"));
}

#[test]
fn freeze_holds_the_screen_and_every_size_draws() {
    let mut app = App::new(Arc::new(situation()), false, "oncall".to_owned());
    app.apply(Action::ToggleFreeze);
    assert!(
        !app.update(Arc::new(Situation::default())),
        "frozen: update refused"
    );
    assert!(!app.situation.incidents.is_empty());
    for tab in 0..6 {
        app.apply(Action::GoToTab(tab));
        for (w, h) in [(1, 1), (20, 5), (80, 24), (300, 100)] {
            let _ = screen(&app, w, h);
        }
    }
}
