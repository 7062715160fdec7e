//! Incidents tab: incidents sorted by severity then age, with environment, severity (glyph,
//! text and colour), state, summary, age and the response-deadline countdown (breach
//! highlighted); conditions still waiting for their `for` clause below them. The detail
//! pane carries the timeline, the rule, the current value and labels, and the linked
//! runbooks.

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph};

use super::app::App;
use super::theme::Theme;
use super::view::{self, Column, Listing};
use super::{format, widgets};
use crate::incident::{DisplayState, Incident, Lifecycle, Pending, Severity};

pub struct Incidents;
pub static LISTING: Incidents = Incidents;

const COLUMNS: &[Column] = &[
    Column::new("ID", "id", 9, 0),
    Column::new("Env", "env", 12, 3),
    Column::new("Severity", "sev", 10, 0),
    Column::new("State", "state", 11, 0),
    Column::fill("Summary", "summary", 24, 0),
    Column::new("Age", "age", 7, 2),
    Column::new("Respond in", "deadline", 12, 1),
];

/// A row is an incident or a condition still pending.
enum Record<'a> {
    Incident(&'a Incident),
    Pending(&'a Pending),
}

fn record(app: &App, i: usize) -> Record<'_> {
    let s = &app.situation;
    match s.incidents.get(i) {
        Some(inc) => Record::Incident(inc),
        None => Record::Pending(&s.pending[i - s.incidents.len()]),
    }
}

impl Listing for Incidents {
    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn extra_fields(&self) -> &'static [&'static str] {
        &["tier", "rule", "node", "cluster", "service", "acked_by"]
    }

    fn len(&self, app: &App) -> usize {
        app.situation.incidents.len() + app.situation.pending.len()
    }

    fn hidden(&self, app: &App, i: usize) -> bool {
        matches!(record(app, i), Record::Incident(inc)
            if inc.lifecycle == Lifecycle::Resolved && !app.show_resolved)
    }

    fn environment<'a>(&self, app: &'a App, i: usize) -> &'a str {
        match record(app, i) {
            Record::Incident(inc) => &inc.environment,
            Record::Pending(p) => &p.environment,
        }
    }

    fn field<'a>(&self, app: &'a App, i: usize, key: &str) -> Option<Cow<'a, str>> {
        let now = view::now(&app.situation);
        let r = record(app, i);
        let (env, tier, sev, rule, summary, labels) = match &r {
            Record::Incident(x) => (
                &x.environment,
                x.tier,
                x.severity,
                &x.rule,
                &x.summary,
                &x.labels,
            ),
            Record::Pending(x) => (
                &x.environment,
                x.tier,
                x.severity,
                &x.rule,
                &x.summary,
                &x.labels,
            ),
        };
        match (key, &r) {
            ("id", Record::Incident(x)) => Some(Cow::Owned(x.id.to_string())),
            ("env", _) => view::text(env),
            ("tier", _) => view::text(tier.as_str()),
            ("sev", _) => Some(Cow::Owned(sev.number().to_string())),
            ("state", Record::Incident(x)) => view::text(x.display_state().as_str()),
            ("state", Record::Pending(_)) => view::text("pending"),
            ("summary", _) => view::text(summary),
            ("rule", _) => view::text(rule),
            ("age", Record::Incident(x)) => view::seconds_since(Some(x.opened_at), now),
            ("age", Record::Pending(x)) => view::seconds_since(Some(x.since), now),
            ("deadline", Record::Incident(x)) => x
                .remaining(now)
                .map(|left| Cow::Owned(left.num_seconds().to_string())),
            ("acked_by", Record::Incident(x)) => {
                x.ack.as_ref().map(|a| Cow::Borrowed(a.by.as_str()))
            }
            (other, _) => labels.get(other).map(|v| Cow::Borrowed(v.as_str())),
        }
    }

    fn identity(&self, app: &App, i: usize) -> String {
        match record(app, i) {
            Record::Incident(x) => x.id.to_string(),
            Record::Pending(p) => format!("pending {} {}", p.rule, p.key),
        }
    }

    /// Worst first, then oldest; resolved after the rest; pending conditions last.
    fn default_order(&self, app: &App, a: usize, b: usize) -> Ordering {
        let key = |i: usize| match record(app, i) {
            Record::Incident(x) => (
                u8::from(x.lifecycle == Lifecycle::Resolved),
                x.severity,
                x.opened_at,
                x.id.0,
            ),
            Record::Pending(p) => (2, p.severity, p.since, i as u64),
        };
        key(a).cmp(&key(b))
    }

    fn cells(&self, app: &App, i: usize, theme: &Theme) -> Vec<Cell<'static>> {
        let now = view::now(&app.situation);
        match record(app, i) {
            Record::Incident(x) => incident_cells(x, now, theme),
            Record::Pending(p) => vec![
                Cell::from("—"),
                Cell::from(p.environment.clone()),
                Cell::from(severity_span(p.severity, theme)),
                Cell::from(Span::styled("○ pending", theme.muted)),
                Cell::from(p.summary.clone()),
                Cell::from(format::age(p.since, now)),
                Cell::from(Span::styled(
                    format!("opens {}", format::age(now, p.fires_at)),
                    theme.muted,
                )),
            ],
        }
    }

    fn row_style(&self, app: &App, i: usize, theme: &Theme) -> Style {
        match record(app, i) {
            Record::Incident(x) if x.lifecycle == Lifecycle::Resolved => theme.muted,
            Record::Incident(_) => Style::default(),
            Record::Pending(_) => theme.muted,
        }
    }

    fn detail_title(&self, app: &App, i: usize) -> String {
        match record(app, i) {
            Record::Incident(x) => format!("{} {} ({})", x.id, x.rule, x.environment),
            Record::Pending(p) => format!("pending {} ({})", p.rule, p.environment),
        }
    }

    fn detail(&self, app: &App, i: usize, theme: &Theme) -> Vec<Line<'static>> {
        let now = view::now(&app.situation);
        let kv = |k: &str, v: String| widgets::kv(k, v, theme);
        let mut lines = Vec::new();
        match record(app, i) {
            Record::Pending(p) => {
                lines.push(Line::from(vec![
                    severity_span(p.severity, theme),
                    Span::raw(format!("  {}", p.summary)),
                ]));
                lines.push(kv("rule", p.rule.clone()));
                lines.push(kv("value", format!("{}", p.value)));
                lines.push(kv("since", stamp(p.since)));
                lines.push(kv("opens at", stamp(p.fires_at)));
                labels(&mut lines, &p.labels, theme);
            }
            Record::Incident(x) => {
                lines.push(Line::from(vec![
                    severity_span(x.severity, theme),
                    Span::raw("  "),
                    state_span(x.display_state(), theme),
                    Span::raw(format!("  {}", x.summary)),
                ]));
                lines.push(kv("rule", x.rule.clone()));
                lines.push(kv("value", format!("{}", x.value)));
                lines.push(kv(
                    "opened",
                    format!(
                        "{} ({} ago)",
                        stamp(x.opened_at),
                        format::age(x.opened_at, now)
                    ),
                ));
                lines.push(Line::from(vec![
                    Span::styled(format!("{:>14}  ", "respond by"), theme.muted),
                    Span::raw(format!("{}  ", stamp(x.deadline))),
                    deadline_span(x, now, theme),
                ]));
                if let Some(ack) = &x.ack {
                    let note = ack
                        .note
                        .as_deref()
                        .map(|n| format!(": {n}"))
                        .unwrap_or_default();
                    lines.push(kv(
                        "acked",
                        format!("by {} at {}{note}", ack.by, stamp(ack.at)),
                    ));
                }
                let runbooks = if x.runbooks.is_empty() {
                    "none linked".to_owned()
                } else {
                    x.runbooks.join(", ")
                };
                lines.push(kv("runbooks", runbooks));
                labels(&mut lines, &x.labels, theme);
                lines.push(Line::from(Span::styled("timeline", theme.header)));
                for entry in &x.timeline {
                    lines.push(Line::from(vec![
                        Span::styled(format!("{}  ", stamp(entry.at)), theme.muted),
                        Span::raw(entry.kind.describe()),
                    ]));
                }
            }
        }
        lines
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn labels(
    lines: &mut Vec<Line<'static>>,
    labels: &std::collections::BTreeMap<String, String>,
    theme: &Theme,
) {
    if labels.is_empty() {
        return;
    }
    lines.push(Line::from(Span::styled("labels", theme.header)));
    for (k, v) in labels {
        lines.push(widgets::kv(k, v.clone(), theme));
    }
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let theme = &app.theme;
    let errors = &app.situation.rule_errors;
    let [list, footer] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(if errors.is_empty() {
            0
        } else {
            errors.len().min(4) as u16 + 1
        }),
    ])
    .areas(area);
    let open = app
        .incident_rows()
        .iter()
        .filter(|i| i.display_state() != DisplayState::Resolved)
        .count();
    let resolved_hint = app
        .keymap
        .hint(super::action::Action::ToggleResolved)
        .unwrap_or_default();
    let title = format!(
        "Incidents: {open} open{}",
        if app.show_resolved {
            format!(", resolved shown ({resolved_hint} hides)")
        } else {
            format!(" ({resolved_hint} shows resolved)")
        }
    );
    widgets::list(frame, list, app, &title);
    if !errors.is_empty() {
        let lines: Vec<Line<'static>> = errors
            .iter()
            .take(4)
            .map(|e| Line::from(Span::styled(format!("▲ {e}"), theme.warn)))
            .collect();
        frame.render_widget(
            Paragraph::new(lines)
                .block(Block::default().borders(Borders::TOP).title("Rule errors")),
            footer,
        );
    }
}

/// `▲▲▲ SEV1`: glyph and text, so severity never rides on colour alone.
pub fn severity_span(sev: Severity, theme: &Theme) -> Span<'static> {
    Span::styled(
        format!("{} {}", sev.glyph(), sev.label()),
        widgets::severity_style(theme, sev),
    )
}

fn state_span(state: DisplayState, theme: &Theme) -> Span<'static> {
    match state {
        DisplayState::Open => Span::styled("● open", theme.crit),
        DisplayState::Acked => Span::styled("✔ acked", theme.ok),
        DisplayState::Unknown => Span::styled("? unknown", theme.stale),
        DisplayState::Flapping => Span::styled("≈ flapping", theme.warn),
        DisplayState::Resolved => Span::styled("✓ resolved", theme.muted),
        DisplayState::Pending => Span::styled("○ pending", theme.muted),
    }
}

fn deadline_span(i: &Incident, now: DateTime<Utc>, theme: &Theme) -> Span<'static> {
    match i.remaining(now) {
        Some(left) if i.breached(now) => Span::styled(
            format!(
                "✖ {} over",
                format::duration((-left).to_std().unwrap_or_default())
            ),
            theme.breach,
        ),
        Some(left) => Span::raw(format::duration(left.to_std().unwrap_or_default())),
        None => Span::styled("—", theme.muted),
    }
}

fn incident_cells(i: &Incident, now: DateTime<Utc>, theme: &Theme) -> Vec<Cell<'static>> {
    vec![
        Cell::from(i.id.to_string()),
        Cell::from(i.environment.clone()),
        Cell::from(severity_span(i.severity, theme)),
        Cell::from(state_span(i.display_state(), theme)),
        Cell::from(i.summary.clone()),
        Cell::from(format::age(i.opened_at, now)),
        Cell::from(deadline_span(i, now, theme)),
    ]
}
