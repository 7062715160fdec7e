//! Incidents tab: incidents sorted by severity then age, with environment, severity (glyph,
//! text and colour), state, summary, age and the response-deadline countdown; conditions
//! still waiting for their `for` clause below them.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row};

use super::app::App;
use super::theme::Theme;
use super::{format, widgets};
use crate::incident::{DisplayState, Incident, Severity};

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let now = app.fleet().taken_at.unwrap_or_default();
    let incidents = app.incident_rows();
    let pending = &app.situation.pending;
    let mut rows: Vec<Row<'static>> = incidents
        .iter()
        .map(|i| incident_row(i, now, theme))
        .collect();
    rows.extend(pending.iter().map(|p| {
        Row::new(vec![
            Cell::from("—"),
            Cell::from(p.environment.clone()),
            Cell::from(severity_span(p.severity, theme)),
            Cell::from(Span::styled("○ pending", theme.muted)),
            Cell::from(p.summary.clone()),
            Cell::from(format::age(p.since, now)),
            Cell::from(Span::styled("—", theme.muted)),
        ])
        .style(theme.muted)
    }));
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
    let title = format!(
        "Incidents: {} open{}",
        incidents
            .iter()
            .filter(|i| i.display_state() != DisplayState::Resolved)
            .count(),
        if app.show_resolved {
            ", resolved shown (A hides)"
        } else {
            " (A shows resolved)"
        }
    );
    widgets::table(
        frame,
        list,
        app,
        theme,
        &widgets::Columns {
            title: &title,
            header: &[
                "ID",
                "Env",
                "Severity",
                "State",
                "Summary",
                "Age",
                "Respond in",
            ],
            widths: &[
                Constraint::Length(9),
                Constraint::Length(12),
                Constraint::Length(10),
                Constraint::Length(11),
                Constraint::Min(30),
                Constraint::Length(7),
                Constraint::Length(12),
            ],
        },
        rows,
    );
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
    let style = match sev {
        Severity::Sev1 => theme.crit,
        Severity::Sev2 => theme.warn,
        Severity::Sev3 => theme.accent,
    };
    Span::styled(format!("{} {}", sev.glyph(), sev.label()), style)
}

fn incident_row(i: &Incident, now: chrono::DateTime<chrono::Utc>, theme: &Theme) -> Row<'static> {
    let state = i.display_state();
    let state_span = match state {
        DisplayState::Open => Span::styled("● open", theme.crit),
        DisplayState::Acked => Span::styled("✔ acked", theme.ok),
        DisplayState::Unknown => Span::styled("? unknown", theme.stale),
        DisplayState::Flapping => Span::styled("≈ flapping", theme.warn),
        DisplayState::Resolved => Span::styled("✓ resolved", theme.muted),
        DisplayState::Pending => Span::styled("○ pending", theme.muted),
    };
    let deadline = match i.remaining(now) {
        Some(left) if i.breached(now) => Span::styled(
            format!(
                "✖ {} over",
                format::duration((-left).to_std().unwrap_or_default())
            ),
            theme.crit,
        ),
        Some(left) => Span::raw(format::duration(left.to_std().unwrap_or_default())),
        None => Span::styled("—", theme.muted),
    };
    let row = Row::new(vec![
        Cell::from(i.id.to_string()),
        Cell::from(i.environment.clone()),
        Cell::from(severity_span(i.severity, theme)),
        Cell::from(state_span),
        Cell::from(i.summary.clone()),
        Cell::from(format::age(i.opened_at, now)),
        Cell::from(deadline),
    ]);
    if state == DisplayState::Resolved {
        row.style(theme.muted)
    } else {
        row
    }
}
