//! Alerts tab: external alerts from Alertmanager and Prometheus with state, since, and
//! silenced/inhibited marks.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use super::app::App;
use super::theme::Theme;
use super::{format, widgets};
use crate::store::model::AlertState;

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let s = app.fleet();
    let now = s.taken_at.unwrap_or_default();
    let rows = s
        .alerts
        .iter()
        .map(|a| {
            let env = s
                .source(a.source)
                .map(|src| src.environment.clone())
                .unwrap_or_default();
            let state = if !a.silenced_by.is_empty() {
                Span::styled("◌ silenced", theme.muted)
            } else if !a.inhibited_by.is_empty() {
                Span::styled("◌ inhibited", theme.muted)
            } else {
                match a.state {
                    AlertState::Firing => Span::styled("● firing", theme.crit),
                    AlertState::Pending => Span::styled("○ pending", theme.warn),
                    AlertState::Inactive => Span::styled("· inactive", theme.muted),
                }
            };
            let summary = a
                .annotations
                .get("summary")
                .or_else(|| a.annotations.get("description"))
                .cloned()
                .unwrap_or_default();
            Row::new(vec![
                Cell::from(env),
                Cell::from(a.severity().unwrap_or("—").to_owned()),
                Cell::from(state),
                Cell::from(a.name.clone()),
                Cell::from(format::opt(a.since, |t| format::age(t, now))),
                Cell::from(summary),
            ])
        })
        .collect();
    widgets::table(
        frame,
        area,
        app,
        theme,
        &widgets::Columns {
            title: "Alerts",
            header: &["Env", "Severity", "State", "Alert", "Since", "Summary"],
            widths: &[
                Constraint::Length(12),
                Constraint::Length(9),
                Constraint::Length(12),
                Constraint::Length(24),
                Constraint::Length(8),
                Constraint::Min(20),
            ],
        },
        rows,
    );
}
