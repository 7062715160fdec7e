//! Alerts tab: external alerts from Alertmanager and Prometheus with severity, state,
//! since, silenced/inhibited marks and their summary; the detail pane shows every label
//! and annotation.

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
use crate::store::model::{Alert, AlertState};

pub struct Alerts;
pub static LISTING: Alerts = Alerts;

const COLUMNS: &[Column] = &[
    Column::new("Env", "env", 12, 3),
    Column::new("Severity", "sev", 9, 0),
    Column::new("State", "state", 12, 0),
    Column::new("Alert", "alert", 24, 0),
    Column::new("Since", "age", 8, 2),
    Column::fill("Summary", "summary", 20, 1),
];

fn alert(app: &App, i: usize) -> &Alert {
    &app.fleet().alerts[i]
}

fn state_text(a: &Alert) -> &'static str {
    if !a.silenced_by.is_empty() {
        "silenced"
    } else if !a.inhibited_by.is_empty() {
        "inhibited"
    } else {
        match a.state {
            AlertState::Firing => "firing",
            AlertState::Pending => "pending",
            AlertState::Inactive => "inactive",
        }
    }
}

fn summary(a: &Alert) -> &str {
    a.annotations
        .get("summary")
        .or_else(|| a.annotations.get("description"))
        .map_or("", String::as_str)
}

impl Listing for Alerts {
    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn extra_fields(&self) -> &'static [&'static str] {
        &["tier", "source"]
    }

    fn len(&self, app: &App) -> usize {
        app.fleet().alerts.len()
    }

    fn environment<'a>(&self, app: &'a App, i: usize) -> &'a str {
        app.fleet()
            .source(alert(app, i).source)
            .map_or("", |s| s.environment.as_str())
    }

    fn field<'a>(&self, app: &'a App, i: usize, key: &str) -> Option<Cow<'a, str>> {
        let a = alert(app, i);
        match key {
            "env" => view::text(self.environment(app, i)),
            "tier" => app
                .tier_of(self.environment(app, i))
                .map(|t| Cow::Borrowed(t.as_str())),
            "source" => app
                .fleet()
                .source(a.source)
                .map(|s| Cow::Borrowed(s.name.as_str())),
            "sev" => a.severity().map(Cow::Borrowed),
            "state" => view::text(state_text(a)),
            "alert" => view::text(&a.name),
            "age" => view::seconds_since(a.since, view::now(&app.situation)),
            "summary" => view::text(summary(a)),
            // Any alert label is a filter field too: `/instance~web3`.
            other => a.labels.get(other).map(|v| Cow::Borrowed(v.as_str())),
        }
    }

    fn cells(&self, app: &App, i: usize, theme: &Theme) -> Vec<Cell<'static>> {
        let a = alert(app, i);
        let now = view::now(&app.situation);
        let state = match state_text(a) {
            "silenced" => Span::styled("◌ silenced", theme.muted),
            "inhibited" => Span::styled("◌ inhibited", theme.muted),
            "firing" => Span::styled("● firing", theme.crit),
            "pending" => Span::styled("○ pending", theme.warn),
            _ => Span::styled("· inactive", theme.muted),
        };
        vec![
            Cell::from(self.environment(app, i).to_owned()),
            Cell::from(a.severity().unwrap_or("—").to_owned()),
            Cell::from(state),
            Cell::from(a.name.clone()),
            Cell::from(format::opt(a.since, |t| format::age(t, now))),
            Cell::from(summary(a).to_owned()),
        ]
    }

    fn row_style(&self, app: &App, i: usize, theme: &Theme) -> Style {
        let a = alert(app, i);
        if a.is_suppressed() {
            theme.muted
        } else {
            widgets::stale_style(app.fleet(), a.source, theme)
        }
    }

    fn detail_title(&self, app: &App, i: usize) -> String {
        format!(
            "alert {} ({})",
            alert(app, i).name,
            self.environment(app, i)
        )
    }

    fn detail(&self, app: &App, i: usize, theme: &Theme) -> Vec<Line<'static>> {
        let a = alert(app, i);
        let kv = |k: &str, v: &str| widgets::kv(k, v, theme);
        let mut lines = vec![kv("state", state_text(a))];
        if let Some(since) = a.since {
            lines.push(kv(
                "since",
                &since.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            ));
        }
        for s in &a.silenced_by {
            lines.push(kv("silenced by", s));
        }
        for s in &a.inhibited_by {
            lines.push(kv("inhibited by", s));
        }
        lines.push(Line::from(Span::styled("labels", theme.header)));
        lines.extend(a.labels.iter().map(|(k, v)| kv(k, v)));
        lines.push(Line::from(Span::styled("annotations", theme.header)));
        lines.extend(a.annotations.iter().map(|(k, v)| kv(k, v)));
        lines
    }
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    widgets::list(frame, area, app, "Alerts");
}
