//! Nodes tab: every host per environment and cluster with role, up, CPU / memory / disk,
//! load and uptime. Stale rows are greyed.

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
        .nodes
        .iter()
        .map(|n| {
            let pct = |v: Option<f64>, warn: f64, crit: f64| {
                let style = match v {
                    Some(v) if v >= crit => theme.crit,
                    Some(v) if v >= warn => theme.warn,
                    _ => theme.base,
                };
                Span::styled(format::percent(v), style)
            };
            let row = Row::new(vec![
                Cell::from(n.environment.clone()),
                Cell::from(n.cluster.clone().unwrap_or_default()),
                Cell::from(n.name.clone()),
                Cell::from(n.role.clone().unwrap_or_default()),
                Cell::from(widgets::yes_no(n.up, "up", "down", theme)),
                Cell::from(pct(n.cpu_percent, 70.0, 85.0)),
                Cell::from(pct(n.memory_percent, 80.0, 90.0)),
                Cell::from(pct(n.root_disk_percent, 80.0, 90.0)),
                Cell::from(format::opt(n.load1, |l| format!("{l:.2}"))),
                Cell::from(format::opt(n.uptime, format::duration)),
            ]);
            widgets::grey_if_stale(row, s, n.source, theme)
        })
        .collect();
    widgets::table(
        frame,
        area,
        app,
        theme,
        &widgets::Columns {
            title: "Nodes",
            header: &[
                "Env", "Cluster", "Node", "Role", "Up", "CPU", "Mem", "Disk", "Load", "Uptime",
            ],
            widths: &[
                Constraint::Length(12),
                Constraint::Length(12),
                Constraint::Length(12),
                Constraint::Length(8),
                Constraint::Length(7),
                Constraint::Length(5),
                Constraint::Length(5),
                Constraint::Length(5),
                Constraint::Length(6),
                Constraint::Min(7),
            ],
        },
        rows,
    );
}
