//! Replication tab: primary → replica links (Galera members with their local state), lag
//! in seconds and bytes, thread/link state and a sparkline of lag.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use super::app::App;
use super::theme::Theme;
use super::{format, widgets};
use crate::store::model::{LinkState, ReplicationLink};

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let s = app.fleet();
    let rows = s
        .links
        .iter()
        .map(|l| {
            let row = Row::new(vec![
                Cell::from(l.environment.clone()),
                Cell::from(l.kind.as_str()),
                Cell::from(format!("{} → {}", l.primary, l.replica)),
                Cell::from(state_span(l, theme)),
                Cell::from(format::opt(l.lag_seconds, |v| format!("{v:.0}s"))),
                Cell::from(format::opt(l.lag_bytes, format::bytes)),
                Cell::from(sparkline(&l.lag_history, 16)),
            ]);
            widgets::grey_if_stale(row, s, l.source, theme)
        })
        .collect();
    widgets::table(
        frame,
        area,
        app,
        theme,
        &widgets::Columns {
            title: "Replication",
            header: &[
                "Env",
                "Kind",
                "Primary → replica",
                "State",
                "Lag",
                "Bytes",
                "History",
            ],
            widths: &[
                Constraint::Length(12),
                Constraint::Length(10),
                Constraint::Length(30),
                Constraint::Length(24),
                Constraint::Length(7),
                Constraint::Length(10),
                Constraint::Min(16),
            ],
        },
        rows,
    );
}

fn state_span(l: &ReplicationLink, theme: &Theme) -> Span<'static> {
    match &l.state {
        LinkState::Threads {
            io_running,
            sql_running,
        } => {
            let ok = *io_running && *sql_running;
            let text = format!(
                "{} IO {} SQL {}",
                if ok { "✔" } else { "✖" },
                if *io_running { "on" } else { "OFF" },
                if *sql_running { "on" } else { "OFF" }
            );
            Span::styled(text, if ok { theme.ok } else { theme.crit })
        }
        LinkState::Link { up } => widgets::yes_no(*up, "link up", "link down", theme),
        LinkState::Streaming { attached } => {
            widgets::yes_no(*attached, "streaming", "not streaming", theme)
        }
        LinkState::Galera {
            local_state,
            local_state_name,
            cluster_status,
            cluster_size,
            ..
        } => {
            let ok = *local_state == 4 && cluster_status == "Primary";
            Span::styled(
                format!(
                    "{} {local_state_name} {cluster_status} ×{cluster_size}",
                    if ok { "✔" } else { "✖" }
                ),
                if ok { theme.ok } else { theme.crit },
            )
        }
        LinkState::Unknown => Span::styled("? unknown", theme.muted),
    }
}

/// A text sparkline of the last `width` points (▁…█), scaled to the window's maximum.
pub fn sparkline(values: &[f64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let tail = &values[values.len().saturating_sub(width)..];
    let max = tail
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    tail.iter()
        .map(|v| {
            if !v.is_finite() {
                ' '
            } else if max <= 0.0 {
                BARS[0]
            } else {
                BARS[((v / max) * 7.0).round().clamp(0.0, 7.0) as usize]
            }
        })
        .collect()
}
