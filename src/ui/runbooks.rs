//! Runbooks tab: the runbook actions that apply right now — each active incident's linked
//! runbooks, aimed at the environment and target the incident names — then every runbook
//! the loaded rules link, and the history of runs.
//!
//! Running them (confirmation, locks, audit) is the runbook layer's job; this tab only
//! lists, so it never offers what it cannot do.

use std::borrow::Cow;
use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Wrap};

use super::app::{App, RunbookOffer};
use super::theme::Theme;
use super::view::{self, Column, Listing};
use super::widgets;

pub struct Runbooks;
pub static LISTING: Runbooks = Runbooks;

const COLUMNS: &[Column] = &[
    Column::new("Env", "env", 18, 0),
    Column::new("Runbook", "runbook", 20, 0),
    Column::new("Target", "target", 24, 0),
    Column::new("Incident", "incident", 9, 1),
    Column::fill("Because of rule", "rule", 16, 2),
];

fn offer(app: &App, i: usize) -> &RunbookOffer {
    &app.offers[i]
}

impl Listing for Runbooks {
    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn extra_fields(&self) -> &'static [&'static str] {
        &["tier"]
    }

    fn len(&self, app: &App) -> usize {
        app.offers.len()
    }

    fn environment<'a>(&self, app: &'a App, i: usize) -> &'a str {
        &offer(app, i).environment
    }

    fn field<'a>(&self, app: &'a App, i: usize, key: &str) -> Option<Cow<'a, str>> {
        let o = offer(app, i);
        match key {
            "env" => view::text(&o.environment),
            "tier" => view::text(o.tier.as_str()),
            "runbook" => view::text(&o.runbook),
            "target" => view::text(&o.target),
            "incident" => o.incident.map(|id| Cow::Owned(id.to_string())),
            "rule" => view::text(&o.rule),
            _ => None,
        }
    }

    fn cells(&self, app: &App, i: usize, theme: &Theme) -> Vec<Cell<'static>> {
        let o = offer(app, i);
        vec![
            Cell::from(Line::from(vec![
                widgets::tier_badge(o.tier, theme),
                Span::raw(format!(" {}", o.environment)),
            ])),
            Cell::from(Span::styled(o.runbook.clone(), theme.accent)),
            Cell::from(o.target.clone()),
            Cell::from(o.incident.map(|id| id.to_string()).unwrap_or_default()),
            Cell::from(o.rule.clone()),
        ]
    }

    fn detail_title(&self, app: &App, i: usize) -> String {
        let o = offer(app, i);
        format!("runbook {} → {} ({})", o.runbook, o.target, o.environment)
    }
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let theme = &app.theme;
    let [list, known] = Layout::vertical([Constraint::Min(4), Constraint::Length(7)]).areas(area);
    widgets::list(frame, list, app, "Runbooks for active incidents");

    // Runbook → the rules that link it.
    let mut by_runbook: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (rule, runbooks) in &app.runbook_links {
        for rb in runbooks {
            by_runbook.entry(rb).or_default().push(rule);
        }
    }
    let mut lines: Vec<Line<'static>> = by_runbook
        .iter()
        .map(|(rb, rules)| {
            Line::from(vec![
                Span::styled(format!("{rb:<20} "), theme.accent),
                Span::styled(format!("linked by {}", rules.join(", ")), theme.muted),
            ])
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(
            "no rule links a runbook",
            theme.muted,
        )));
    }
    lines.push(Line::from(Span::styled(
        "History: no runs recorded (no runbook is configured to run from this console)",
        theme.muted,
    )));
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(
            Block::default()
                .borders(Borders::TOP)
                .border_style(theme.muted)
                .title(Span::styled("Runbooks the rules link", theme.header)),
        ),
        known,
    );
}
