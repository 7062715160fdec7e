//! Replication tab: primary → replica links (Galera members with their local state), lag
//! in seconds and bytes, thread/link state and a sparkline of lag over the history window.

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Cell;

use super::app::App;
use super::theme::Theme;
use super::view::{self, Column, Listing};
use super::{format, widgets};
use crate::store::model::{LinkState, ReplicationLink};

pub struct Replication;
pub static LISTING: Replication = Replication;

const COLUMNS: &[Column] = &[
    Column::new("Env", "env", 12, 1),
    Column::new("Kind", "kind", 10, 2),
    Column::new("Primary → replica", "link", 28, 0),
    Column::new("State", "state", 22, 0),
    Column::new("Lag", "lag", 7, 0),
    Column::new("Bytes", "bytes", 10, 3),
    Column::fill("History", "history", 16, 2),
];

impl Listing for Replication {
    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn extra_fields(&self) -> &'static [&'static str] {
        &["tier", "cluster", "primary", "replica"]
    }

    fn len(&self, app: &App) -> usize {
        app.fleet().links.len()
    }

    fn environment<'a>(&self, app: &'a App, i: usize) -> &'a str {
        &app.fleet().links[i].environment
    }

    fn field<'a>(&self, app: &'a App, i: usize, key: &str) -> Option<Cow<'a, str>> {
        let l = &app.fleet().links[i];
        match key {
            "env" => view::text(&l.environment),
            "tier" => app
                .tier_of(&l.environment)
                .map(|t| Cow::Borrowed(t.as_str())),
            "kind" => view::text(l.kind.as_str()),
            "cluster" => l.cluster.as_deref().map(Cow::Borrowed),
            "primary" => view::text(&l.primary),
            "replica" => view::text(&l.replica),
            "link" => Some(Cow::Owned(format!("{} → {}", l.primary, l.replica))),
            "state" => Some(Cow::Owned(state_text(l).1)),
            "lag" => view::number(l.lag_seconds),
            "bytes" => view::number(l.lag_bytes),
            "history" => view::number(l.lag_history.iter().copied().reduce(f64::max)),
            _ => None,
        }
    }

    fn cells(&self, app: &App, i: usize, theme: &Theme) -> Vec<Cell<'static>> {
        let l = &app.fleet().links[i];
        let (ok, state) = state_text(l);
        let state_style = match (ok, &l.state) {
            (_, LinkState::Unknown) => theme.muted,
            (true, _) => theme.ok,
            (false, _) => theme.crit,
        };
        vec![
            Cell::from(l.environment.clone()),
            Cell::from(l.kind.as_str()),
            Cell::from(format!("{} → {}", l.primary, l.replica)),
            Cell::from(Span::styled(state, state_style)),
            Cell::from(format::opt(l.lag_seconds, |v| format!("{v:.0}s"))),
            Cell::from(format::opt(l.lag_bytes, format::bytes)),
            Cell::from(sparkline(&l.lag_history, 16)),
        ]
    }

    fn row_style(&self, app: &App, i: usize, theme: &Theme) -> Style {
        widgets::stale_style(app.fleet(), app.fleet().links[i].source, theme)
    }

    fn detail_title(&self, app: &App, i: usize) -> String {
        let l = &app.fleet().links[i];
        format!(
            "{} link {} → {} ({})",
            l.kind.as_str(),
            l.primary,
            l.replica,
            l.environment
        )
    }

    fn detail(&self, app: &App, i: usize, theme: &Theme) -> Vec<Line<'static>> {
        let l = &app.fleet().links[i];
        let (_, state) = state_text(l);
        let kv = |k: &str, v: String| widgets::kv(k, v, theme);
        let mut lines = vec![
            kv("kind", l.kind.as_str().to_owned()),
            kv("cluster", l.cluster.clone().unwrap_or_else(|| "—".into())),
            kv("primary", l.primary.clone()),
            kv("replica", l.replica.clone()),
            kv("state", state),
            kv("lag", format::opt(l.lag_seconds, |v| format!("{v:.1} s"))),
            kv("lag bytes", format::opt(l.lag_bytes, format::bytes)),
            kv(
                "history max",
                format::opt(l.lag_history.iter().copied().reduce(f64::max), |v| {
                    format!("{v:.1}")
                }),
            ),
            Line::from(""),
        ];
        lines.push(Line::from(Span::styled(
            format!(
                "lag over the history window ({} points, oldest first)",
                l.lag_history.len()
            ),
            theme.muted,
        )));
        lines.push(Line::from(sparkline(&l.lag_history, 120)));
        lines
    }
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    widgets::list(frame, area, app, "Replication");
}

/// Whether the link is healthy, and its state in words with a glyph.
fn state_text(l: &ReplicationLink) -> (bool, String) {
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
            (ok, text)
        }
        LinkState::Link { up } => (
            *up,
            if *up { "✔ link up" } else { "✖ link down" }.to_owned(),
        ),
        LinkState::Streaming { attached } => (
            *attached,
            if *attached {
                "✔ streaming"
            } else {
                "✖ not streaming"
            }
            .to_owned(),
        ),
        LinkState::Galera {
            local_state,
            local_state_name,
            cluster_status,
            cluster_size,
            ..
        } => {
            let ok = *local_state == 4 && cluster_status == "Primary";
            (
                ok,
                format!(
                    "{} {local_state_name} {cluster_status} ×{cluster_size}",
                    if ok { "✔" } else { "✖" }
                ),
            )
        }
        LinkState::Unknown => (false, "? unknown".to_owned()),
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
