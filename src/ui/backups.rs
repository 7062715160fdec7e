//! Backups tab: per environment and service, the last success, its age against the
//! service's interval and RPO, size and duration.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use super::app::App;
use super::theme::Theme;
use super::{format, widgets};

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let s = app.fleet();
    let rows = s
        .backups
        .iter()
        .map(|b| {
            let age = match (b.age, b.rpo, b.interval) {
                (Some(age), Some(rpo), _) if age > rpo => {
                    Span::styled(format!("✖ {} > RPO", format::duration(age)), theme.crit)
                }
                (Some(age), _, Some(iv)) if age.as_secs_f64() > iv.as_secs_f64() * 1.5 => {
                    Span::styled(format!("▲ {} late", format::duration(age)), theme.warn)
                }
                (Some(age), _, _) => Span::styled(format!("✔ {}", format::duration(age)), theme.ok),
                (None, _, _) => Span::styled("✖ never", theme.crit),
            };
            let row = Row::new(vec![
                Cell::from(b.environment.clone()),
                Cell::from(b.service.clone()),
                Cell::from(format::opt(b.last_success, |t| {
                    t.format("%Y-%m-%d %H:%M").to_string()
                })),
                Cell::from(age),
                Cell::from(format::opt(b.interval, format::duration)),
                Cell::from(format::opt(b.rpo, format::duration)),
                Cell::from(format::opt(b.size_bytes, format::bytes)),
                Cell::from(format::opt(b.duration, format::duration)),
            ]);
            widgets::grey_if_stale(row, s, b.source, theme)
        })
        .collect();
    widgets::table(
        frame,
        area,
        app,
        theme,
        &widgets::Columns {
            title: "Backups",
            header: &[
                "Env",
                "Service",
                "Last success",
                "Age",
                "Every",
                "RPO",
                "Size",
                "Took",
            ],
            widths: &[
                Constraint::Length(12),
                Constraint::Length(14),
                Constraint::Length(17),
                Constraint::Length(14),
                Constraint::Length(7),
                Constraint::Length(7),
                Constraint::Length(10),
                Constraint::Min(6),
            ],
        },
        rows,
    );
}
