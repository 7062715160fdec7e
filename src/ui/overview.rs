//! Overview tab: one row per environment with everything an on-call engineer checks first
//! — tier badge, incidents by severity, health, nodes up, worst replication lag, the backup
//! closest to its RPO, alerts and source status — and below it every source that is not ok,
//! with its reason and the age of its last good poll.

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph};

use super::app::{App, EnvSummary};
use super::theme::Theme;
use super::view::{self, Column, Listing};
use super::{format, widgets};
use crate::incident::Severity;
use crate::store::model::SourceHealth;

pub struct Overview;
pub static LISTING: Overview = Overview;

const COLUMNS: &[Column] = &[
    Column::new("Environment", "env", 20, 0),
    Column::new("Incidents", "incidents", 18, 0),
    Column::new("Health", "health", 7, 0),
    Column::new("Nodes", "nodes", 7, 0),
    Column::new("Worst lag", "lag", 9, 2),
    Column::new("Worst backup", "backup", 22, 1),
    Column::new("Alerts", "alerts", 6, 3),
    Column::fill("Sources", "sources", 26, 1),
];

fn summary(app: &App, i: usize) -> &EnvSummary {
    &app.summaries[i]
}

impl Listing for Overview {
    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn extra_fields(&self) -> &'static [&'static str] {
        &["tier", "sev1", "sev2", "sev3", "failing", "stale"]
    }

    fn len(&self, app: &App) -> usize {
        app.summaries.len()
    }

    fn environment<'a>(&self, app: &'a App, i: usize) -> &'a str {
        &summary(app, i).name
    }

    fn field<'a>(&self, app: &'a App, i: usize, key: &str) -> Option<Cow<'a, str>> {
        let e = summary(app, i);
        let n = |v: usize| Some(Cow::Owned(v.to_string()));
        match key {
            "env" => view::text(&e.name),
            "tier" => e.tier.map(|t| Cow::Borrowed(t.as_str())),
            "incidents" => n(e.incidents_by_sev.iter().sum()),
            "sev1" => n(e.incidents_by_sev[0]),
            "sev2" => n(e.incidents_by_sev[1]),
            "sev3" => n(e.incidents_by_sev[2]),
            "health" => n(e.health - e.health_up),
            "nodes" => n(e.nodes - e.nodes_up),
            "lag" => view::number(e.worst_lag),
            "backup" => e
                .worst_backup
                .map(|(a, _)| Cow::Owned(a.as_secs().to_string())),
            "alerts" => n(e.alerts),
            "sources" | "failing" => n(e.sources_failing),
            "stale" => n(e.sources_stale),
            _ => None,
        }
    }

    fn cells(&self, app: &App, i: usize, theme: &Theme) -> Vec<Cell<'static>> {
        let e = summary(app, i);
        let by_sev = e.incidents_by_sev;
        let incidents = if by_sev == [0, 0, 0] {
            Line::from(Span::styled("✔ none", theme.ok))
        } else {
            Line::from(
                Severity::ALL
                    .into_iter()
                    .filter(|s| by_sev[s.index()] > 0)
                    .map(|s| {
                        Span::styled(
                            format!("{} {}×{} ", s.glyph(), s.label(), by_sev[s.index()]),
                            widgets::severity_style(theme, s),
                        )
                    })
                    .collect::<Vec<_>>(),
            )
        };
        let ratio = |up: usize, all: usize| {
            let style = if up == all { theme.ok } else { theme.crit };
            let glyph = if up == all { "✔" } else { "✖" };
            Cell::from(Span::styled(format!("{glyph} {up}/{all}"), style))
        };
        let backup = match e.worst_backup {
            Some((age, Some(rpo))) if age > rpo => Span::styled(
                format!(
                    "✖ {} > RPO {}",
                    format::duration(age),
                    format::duration(rpo)
                ),
                theme.crit,
            ),
            Some((age, rpo)) => Span::styled(
                format!(
                    "✔ {}{}",
                    format::duration(age),
                    rpo.map(|r| format!(" / RPO {}", format::duration(r)))
                        .unwrap_or_default()
                ),
                theme.ok,
            ),
            None => Span::styled("—", theme.muted),
        };
        let sources = Line::from(vec![
            Span::styled(format!("● {} ok", e.sources_ok), theme.ok),
            Span::raw(" "),
            Span::styled(
                format!("✖ {} failing", e.sources_failing),
                if e.sources_failing > 0 {
                    theme.crit
                } else {
                    theme.muted
                },
            ),
            Span::raw(" "),
            Span::styled(
                format!("◌ {} stale", e.sources_stale),
                if e.sources_stale > 0 {
                    theme.stale
                } else {
                    theme.muted
                },
            ),
        ]);
        let mut name = vec![];
        if let Some(tier) = e.tier {
            name.push(widgets::tier_badge(tier, theme));
            name.push(Span::raw(" "));
        }
        name.push(Span::raw(e.name.clone()));
        vec![
            Cell::from(Line::from(name)),
            Cell::from(incidents),
            ratio(e.health_up, e.health),
            ratio(e.nodes_up, e.nodes),
            Cell::from(format::opt(e.worst_lag, |l| format!("{l:.0}s"))),
            Cell::from(backup),
            Cell::from(e.alerts.to_string()),
            Cell::from(sources),
        ]
    }

    fn detail_title(&self, app: &App, i: usize) -> String {
        format!("environment {}", summary(app, i).name)
    }

    /// Every source of the environment with its state and reason.
    fn detail(&self, app: &App, i: usize, theme: &Theme) -> Vec<Line<'static>> {
        let env = &summary(app, i).name;
        let now = view::now(&app.situation);
        let mut lines = Vec::new();
        for src in app.fleet().sources_of(env) {
            let (glyph, style, text) = match &src.health {
                SourceHealth::Ok {
                    last_success,
                    duration,
                } => (
                    "●",
                    theme.ok,
                    format!(
                        "ok, polled {} ago in {} ms",
                        format::age(*last_success, now),
                        duration.as_millis()
                    ),
                ),
                SourceHealth::Pending => ("○", theme.muted, "not polled yet".to_owned()),
                SourceHealth::Stale { last_success } => (
                    "◌",
                    theme.stale,
                    format!("stale, last data {} ago", format::age(*last_success, now)),
                ),
                SourceHealth::Failing { reason, since, .. } => (
                    "✖",
                    theme.crit,
                    format!("failing for {}: {reason}", format::age(*since, now)),
                ),
            };
            lines.push(Line::from(vec![
                Span::styled(format!("{glyph} "), style),
                Span::raw(format!("{:<24} {:<10} ", src.name, src.kind)),
                Span::styled(text, style),
            ]));
            for w in &src.warnings {
                lines.push(Line::from(vec![
                    Span::styled("    ▲ ", theme.warn),
                    Span::styled(w.clone(), theme.warn),
                ]));
            }
        }
        lines
    }
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let theme = &app.theme;
    let now = view::now(&app.situation);
    let problems = problem_lines(app, theme, now);
    let rows = app.view().rows.len() as u16;
    let [top, bottom] = Layout::vertical([
        Constraint::Length(
            rows.saturating_add(3)
                .min(area.height.saturating_sub(3).max(3)),
        ),
        Constraint::Min(0),
    ])
    .areas(area);
    widgets::list(frame, top, app, "Environments");
    let title = if problems.is_empty() {
        "Sources: all ok".to_owned()
    } else {
        format!("Sources: {} problem(s)", problems.len())
    };
    frame.render_widget(
        Paragraph::new(problems).block(
            Block::default()
                .borders(Borders::TOP)
                .border_style(theme.muted)
                .title(Span::styled(title, theme.header)),
        ),
        bottom,
    );
}

fn in_scope(app: &App, env: &str) -> bool {
    app.scope.as_deref().is_none_or(|s| s == env)
}

/// Sources that are not ok, with their reason, and warnings of ok ones.
fn problem_lines(
    app: &App,
    theme: &Theme,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for check in app
        .fleet()
        .health
        .iter()
        .filter(|c| in_scope(app, &c.environment))
    {
        if let Some(result) = check.result.as_ref().filter(|r| !r.up) {
            lines.push(Line::from(vec![
                Span::styled("✖ ", theme.crit),
                Span::raw(format!("{}/{} ", check.environment, check.name)),
                Span::styled(
                    format!(
                        "health down: {}",
                        result.failure.as_deref().unwrap_or("failed")
                    ),
                    theme.crit,
                ),
            ]));
        }
    }
    for src in app
        .fleet()
        .sources
        .iter()
        .filter(|s| in_scope(app, &s.environment))
    {
        let who = format!("{}/{} ", src.environment, src.name);
        match &src.health {
            SourceHealth::Failing { reason, since, .. } => lines.push(Line::from(vec![
                Span::styled("✖ ", theme.crit),
                Span::raw(who),
                Span::styled(
                    format!("failing {}: {reason}", format::age(*since, now)),
                    theme.crit,
                ),
            ])),
            SourceHealth::Stale { last_success } => lines.push(Line::from(vec![
                Span::styled("◌ ", theme.stale),
                Span::raw(who),
                Span::styled(
                    format!("stale, last data {} ago", format::age(*last_success, now)),
                    theme.stale,
                ),
            ])),
            _ => {}
        }
        for w in &src.warnings {
            lines.push(Line::from(vec![
                Span::styled("▲ ", theme.warn),
                Span::raw(format!("{}/{} ", src.environment, src.name)),
                Span::styled(w.clone(), theme.warn),
            ]));
        }
    }
    lines
}
