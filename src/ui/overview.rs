//! Overview tab: one row per environment with everything an on-call engineer checks first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use super::app::App;
use super::theme::Theme;
use super::{format, widgets};
use crate::store::model::SourceHealth;

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let s = app.fleet();
    let now = s.taken_at.unwrap_or_default();
    let problems = problem_lines(app, theme, now);
    let [top, bottom] = ratatui::layout::Layout::vertical([
        Constraint::Length(s.environments.len() as u16 + 2),
        Constraint::Min(0),
    ])
    .areas(area);
    let rows = s
        .environments
        .iter()
        .map(|env| {
            let nodes: Vec<_> = s
                .nodes
                .iter()
                .filter(|n| n.environment == env.name)
                .collect();
            let nodes_up = nodes.iter().filter(|n| n.up).count();
            let health: Vec<_> = s
                .health
                .iter()
                .filter(|h| h.environment == env.name)
                .collect();
            let health_up = health
                .iter()
                .filter(|h| h.result.as_ref().is_some_and(|r| r.up))
                .count();
            let worst_lag = s
                .links
                .iter()
                .filter(|l| l.environment == env.name)
                .filter_map(|l| l.lag_seconds)
                .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
            // The backup closest to (or furthest past) its RPO; without an RPO, the oldest.
            let oldest_backup = s
                .backups
                .iter()
                .filter(|b| b.environment == env.name)
                .filter_map(|b| b.age.map(|a| (a, b.rpo)))
                .max_by(|(a1, r1), (a2, r2)| {
                    let score = |a: &std::time::Duration, r: &Option<std::time::Duration>| {
                        r.map_or(a.as_secs_f64() / 86_400.0, |r| {
                            a.as_secs_f64() / r.as_secs_f64().max(1.0)
                        })
                    };
                    score(a1, r1).total_cmp(&score(a2, r2))
                });
            let (mut ok, mut failing, mut stale) = (0, 0, 0);
            for src in s.sources_of(&env.name) {
                match src.health {
                    SourceHealth::Ok { .. } => ok += 1,
                    SourceHealth::Failing { .. } => failing += 1,
                    SourceHealth::Stale { .. } | SourceHealth::Pending => stale += 1,
                }
            }
            let alerts = s
                .alerts
                .iter()
                .filter(|a| alert_in_env(app, a, &env.name))
                .filter(|a| !a.is_suppressed())
                .count();
            let mut by_sev = [0usize; 3];
            for i in app.incident_rows() {
                if i.environment == env.name && i.lifecycle != crate::incident::Lifecycle::Resolved
                {
                    by_sev[usize::from(i.severity.number()) - 1] += 1;
                }
            }
            let incidents_cell = if by_sev == [0, 0, 0] {
                Line::from(Span::styled("✔ none", theme.ok))
            } else {
                Line::from(
                    [
                        (crate::incident::Severity::Sev1, by_sev[0]),
                        (crate::incident::Severity::Sev2, by_sev[1]),
                        (crate::incident::Severity::Sev3, by_sev[2]),
                    ]
                    .into_iter()
                    .filter(|(_, n)| *n > 0)
                    .flat_map(|(sev, n)| {
                        let mut span = super::incidents::severity_span(sev, theme);
                        span.content = format!("{}×{n} ", sev.label()).into();
                        [span]
                    })
                    .collect::<Vec<_>>(),
                )
            };
            let health_style = if health_up == health.len() {
                theme.ok
            } else {
                theme.crit
            };
            let nodes_style = if nodes_up == nodes.len() {
                theme.ok
            } else {
                theme.crit
            };
            let backup_cell = match oldest_backup {
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
                        "{}{}",
                        format::duration(age),
                        rpo.map(|r| format!(" / RPO {}", format::duration(r)))
                            .unwrap_or_default()
                    ),
                    theme.ok,
                ),
                None => Span::styled("—", theme.muted),
            };
            let sources = Line::from(vec![
                Span::styled(format!("● {ok} ok"), theme.ok),
                Span::raw(" "),
                Span::styled(
                    format!("✖ {failing} failing"),
                    if failing > 0 { theme.crit } else { theme.muted },
                ),
                Span::raw(" "),
                Span::styled(
                    format!("◌ {stale} stale"),
                    if stale > 0 { theme.stale } else { theme.muted },
                ),
            ]);
            Row::new(vec![
                Cell::from(Line::from(vec![
                    widgets::tier_badge(env.tier, theme),
                    Span::raw(" "),
                    Span::raw(env.name.clone()),
                ])),
                Cell::from(incidents_cell),
                Cell::from(Span::styled(
                    format!("{health_up}/{}", health.len()),
                    health_style,
                )),
                Cell::from(Span::styled(
                    format!("{nodes_up}/{}", nodes.len()),
                    nodes_style,
                )),
                Cell::from(format::opt(worst_lag, |l| format!("{l:.0}s"))),
                Cell::from(backup_cell),
                Cell::from(alerts.to_string()),
                Cell::from(sources),
            ])
        })
        .collect();
    widgets::table(
        frame,
        top,
        app,
        theme,
        &widgets::Columns {
            title: "Environments",
            header: &[
                "Environment",
                "Incidents",
                "Health",
                "Nodes",
                "Worst lag",
                "Worst backup",
                "Alerts",
                "Sources",
            ],
            widths: &[
                Constraint::Length(20),
                Constraint::Length(18),
                Constraint::Length(7),
                Constraint::Length(6),
                Constraint::Length(10),
                Constraint::Length(22),
                Constraint::Length(7),
                Constraint::Min(30),
            ],
        },
        rows,
    );
    let title = if problems.is_empty() {
        "Sources: all ok".to_owned()
    } else {
        format!("Sources: {} problem(s)", problems.len())
    };
    frame.render_widget(
        ratatui::widgets::Paragraph::new(problems).block(
            ratatui::widgets::Block::default()
                .borders(ratatui::widgets::Borders::TOP)
                .title(title),
        ),
        bottom,
    );
}

fn alert_in_env(app: &App, alert: &crate::store::model::Alert, env: &str) -> bool {
    app.fleet()
        .source(alert.source)
        .is_some_and(|s| s.environment == env)
}

/// Sources that are not ok, with their reason, and warnings of ok ones.
fn problem_lines(
    app: &App,
    theme: &Theme,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for check in &app.fleet().health {
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
    for src in &app.fleet().sources {
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
