//! Alerts tab: external alerts from Alertmanager and Prometheus with severity, state,
//! since, silenced/inhibited marks and their summary, then the Alertmanager silences in
//! force; the detail pane shows every label and annotation, or a silence's matchers,
//! author, comment, window and the alerts it silences.

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
use chrono::{DateTime, Utc};

use super::action::Action;
use crate::store::model::{Alert, AlertState, Silence};

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

/// A row of the tab: an alert, or (after every alert) a silence that is still in force.
pub enum Row<'a> {
    Alert(&'a Alert),
    Silence(&'a Silence),
}

/// Silences listed: active and pending ones (Alertmanager keeps expired ones for days;
/// they are history, not state).
pub fn live_silences(app: &App) -> impl Iterator<Item = &Silence> {
    app.fleet().silences.iter().filter(|s| !s.is_expired())
}

/// The record `i` of this tab.
pub fn row(app: &App, i: usize) -> Option<Row<'_>> {
    let alerts = &app.fleet().alerts;
    match alerts.get(i) {
        Some(a) => Some(Row::Alert(a)),
        None => live_silences(app).nth(i - alerts.len()).map(Row::Silence),
    }
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

fn silence_state(s: &Silence) -> &'static str {
    if s.state == "pending" {
        "silence (pending)"
    } else {
        "silence"
    }
}

fn summary(a: &Alert) -> &str {
    a.annotations
        .get("summary")
        .or_else(|| a.annotations.get("description"))
        .map_or("", String::as_str)
}

fn silence_summary(s: &Silence, now: DateTime<Utc>) -> String {
    let until = s.ends_at.map_or_else(
        || "no end".to_owned(),
        |t| {
            let left = (t - now).to_std().unwrap_or_default();
            format!("ends in {}", format::duration(left))
        },
    );
    format!("{until} · {}: {}", s.created_by, s.comment)
}

impl Listing for Alerts {
    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn extra_fields(&self) -> &'static [&'static str] {
        &["tier", "source"]
    }

    fn len(&self, app: &App) -> usize {
        app.fleet().alerts.len() + live_silences(app).count()
    }

    fn environment<'a>(&self, app: &'a App, i: usize) -> &'a str {
        let source = match row(app, i) {
            Some(Row::Alert(a)) => a.source,
            Some(Row::Silence(s)) => s.source,
            None => return "",
        };
        app.fleet()
            .source(source)
            .map_or("", |s| s.environment.as_str())
    }

    fn field<'a>(&self, app: &'a App, i: usize, key: &str) -> Option<Cow<'a, str>> {
        let now = view::now(&app.situation);
        let common = match key {
            "env" => Some(view::text(self.environment(app, i))),
            "tier" => Some(
                app.tier_of(self.environment(app, i))
                    .map(|t| Cow::Borrowed(t.as_str())),
            ),
            _ => None,
        };
        if let Some(v) = common {
            return v;
        }
        match row(app, i)? {
            Row::Alert(a) => match key {
                "source" => app
                    .fleet()
                    .source(a.source)
                    .map(|s| Cow::Borrowed(s.name.as_str())),
                "sev" => a.severity().map(Cow::Borrowed),
                "state" => view::text(state_text(a)),
                "alert" => view::text(&a.name),
                "age" => view::seconds_since(a.since, now),
                "summary" => view::text(summary(a)),
                // Any alert label is a filter field too: `/instance~web3`.
                other => a.labels.get(other).map(|v| Cow::Borrowed(v.as_str())),
            },
            Row::Silence(s) => match key {
                "source" => app
                    .fleet()
                    .source(s.source)
                    .map(|src| Cow::Borrowed(src.name.as_str())),
                "state" => view::text(silence_state(s)),
                "alert" => Some(Cow::Owned(s.matchers_text())),
                "age" => view::seconds_since(s.starts_at, now),
                "summary" => Some(Cow::Owned(silence_summary(s, now))),
                // A silence's matchers are its labels: `/alertname=Watchdog` finds both.
                other => s
                    .matchers
                    .iter()
                    .find(|m| m.name == other)
                    .map(|m| Cow::Borrowed(m.value.as_str())),
            },
        }
    }

    fn cells(&self, app: &App, i: usize, theme: &Theme) -> Vec<Cell<'static>> {
        let now = view::now(&app.situation);
        let env = self.environment(app, i).to_owned();
        match row(app, i) {
            Some(Row::Alert(a)) => {
                let state = match state_text(a) {
                    "silenced" => Span::styled("◌ silenced", theme.muted),
                    "inhibited" => Span::styled("◌ inhibited", theme.muted),
                    "firing" => Span::styled("● firing", theme.crit),
                    "pending" => Span::styled("○ pending", theme.warn),
                    _ => Span::styled("· inactive", theme.muted),
                };
                vec![
                    Cell::from(env),
                    Cell::from(a.severity().unwrap_or("—").to_owned()),
                    Cell::from(state),
                    Cell::from(a.name.clone()),
                    Cell::from(format::opt(a.since, |t| format::age(t, now))),
                    Cell::from(summary(a).to_owned()),
                ]
            }
            Some(Row::Silence(s)) => vec![
                Cell::from(env),
                Cell::from("—"),
                Cell::from(Span::styled(format!("◇ {}", silence_state(s)), theme.muted)),
                Cell::from(s.matchers_text()),
                Cell::from(format::opt(s.starts_at, |t| format::age(t, now))),
                Cell::from(silence_summary(s, now)),
            ],
            None => Vec::new(),
        }
    }

    fn row_style(&self, app: &App, i: usize, theme: &Theme) -> Style {
        match row(app, i) {
            Some(Row::Alert(a)) if a.is_suppressed() => theme.muted,
            Some(Row::Alert(a)) => widgets::stale_style(app.fleet(), a.source, theme),
            Some(Row::Silence(_)) => theme.muted,
            None => Style::default(),
        }
    }

    fn detail_title(&self, app: &App, i: usize) -> String {
        match row(app, i) {
            Some(Row::Alert(a)) => format!("alert {} ({})", a.name, self.environment(app, i)),
            Some(Row::Silence(s)) => format!("silence {} ({})", s.id, self.environment(app, i)),
            None => String::new(),
        }
    }

    fn detail(&self, app: &App, i: usize, theme: &Theme) -> Vec<Line<'static>> {
        let kv = |k: &str, v: &str| widgets::kv(k, v, theme);
        let stamp = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
        let hint = |action: Action, what: &str| {
            app.keymap
                .hint(action)
                .map(|k| Line::from(Span::styled(format!("{k} {what}"), theme.muted)))
        };
        match row(app, i) {
            Some(Row::Alert(a)) => {
                let mut lines = vec![kv("state", state_text(a))];
                if let Some(since) = a.since {
                    lines.push(kv("since", &stamp(since)));
                }
                for id in &a.silenced_by {
                    lines.push(kv("silenced by", id));
                    if let Some(s) = app.fleet().silences.iter().find(|s| &s.id == id) {
                        lines.push(kv("  matchers", &s.matchers_text()));
                        lines.push(kv("  by", &s.created_by));
                        lines.push(kv("  comment", &s.comment));
                        if let Some(end) = s.ends_at {
                            lines.push(kv("  until", &stamp(end)));
                        }
                    }
                }
                for s in &a.inhibited_by {
                    lines.push(kv("inhibited by", s));
                }
                lines.push(Line::from(Span::styled("labels", theme.header)));
                lines.extend(a.labels.iter().map(|(k, v)| kv(k, v)));
                lines.push(Line::from(Span::styled("annotations", theme.header)));
                lines.extend(a.annotations.iter().map(|(k, v)| kv(k, v)));
                lines.extend(hint(Action::Silence, "silences this alert"));
                lines
            }
            Some(Row::Silence(s)) => {
                let mut lines = vec![
                    kv("id", &s.id),
                    kv("state", &s.state),
                    kv("matchers", &s.matchers_text()),
                    kv("created by", &s.created_by),
                    kv("comment", &s.comment),
                ];
                if let Some(t) = s.starts_at {
                    lines.push(kv("starts", &stamp(t)));
                }
                if let Some(t) = s.ends_at {
                    lines.push(kv("ends", &stamp(t)));
                }
                let silenced = app
                    .fleet()
                    .alerts
                    .iter()
                    .filter(|a| a.silenced_by.contains(&s.id))
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                lines.push(kv(
                    "silencing",
                    if silenced.is_empty() {
                        "no current alert"
                    } else {
                        &silenced
                    },
                ));
                lines.extend(hint(Action::Silence, "expires this silence"));
                lines
            }
            None => Vec::new(),
        }
    }
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    widgets::list(frame, area, app, "Alerts");
}
