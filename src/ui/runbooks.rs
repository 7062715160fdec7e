//! Runbooks tab: what can run now and what has run. First each active incident's linked
//! runbooks, aimed at the environment and target the incident names; then every
//! configured runbook in each environment it applies to; then the runs — live ones from
//! this console, and the history from the audit log (with runs that never recorded an
//! outcome shown as interrupted).
//!
//! `r` opens the dialog for an action row, or re-runs a past run (confirmed again); Enter
//! opens a run's output pane or an action's detail. In read-only mode no action is listed.

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Wrap};

use super::app::{App, RunbookOffer};
use super::runs::{RunState, RunView};
use super::theme::Theme;
use super::view::{self, Column, Listing};
use super::widgets;

pub struct Runbooks;
pub static LISTING: Runbooks = Runbooks;

const COLUMNS: &[Column] = &[
    Column::new("State", "state", 13, 0),
    Column::new("Env", "env", 18, 0),
    Column::new("Runbook", "runbook", 20, 0),
    Column::new("Target", "target", 24, 1),
    Column::new("Incident", "incident", 9, 2),
    Column::fill("Detail", "detail", 16, 3),
];

enum Row<'a> {
    Offer(&'a RunbookOffer),
    Run(&'a RunView),
}

fn row(app: &App, i: usize) -> Option<Row<'_>> {
    match app.offers.get(i) {
        Some(o) => Some(Row::Offer(o)),
        None => app.runs.all().get(i - app.offers.len()).map(Row::Run),
    }
}

fn offer_state(o: &RunbookOffer) -> &'static str {
    match (o.configured, o.incident) {
        (false, _) => "not configured",
        (true, Some(_)) => "incident",
        (true, None) => "available",
    }
}

fn run_when(app: &App, r: &RunView) -> String {
    let now = app.fleet().taken_at.unwrap_or(r.started);
    format!(
        "{} {} ago · {}",
        r.user,
        super::format::age(r.started, now),
        r.state.describe()
    )
}

impl Listing for Runbooks {
    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn extra_fields(&self) -> &'static [&'static str] {
        &["tier", "user", "phase", "rule"]
    }

    fn len(&self, app: &App) -> usize {
        app.offers.len() + app.runs.len()
    }

    fn environment<'a>(&self, app: &'a App, i: usize) -> &'a str {
        match row(app, i) {
            Some(Row::Offer(o)) => &o.environment,
            Some(Row::Run(r)) => &r.target.environment,
            None => "",
        }
    }

    fn field<'a>(&self, app: &'a App, i: usize, key: &str) -> Option<Cow<'a, str>> {
        match row(app, i)? {
            Row::Offer(o) => match key {
                "state" => view::text(offer_state(o)),
                "env" => view::text(&o.environment),
                "tier" => view::text(o.tier.as_str()),
                "runbook" => view::text(&o.runbook),
                "target" => view::text(&o.target_label),
                "incident" => o.incident.map(|id| Cow::Owned(id.to_string())),
                "rule" => o.rule.as_deref().map(Cow::Borrowed),
                "detail" => Some(match &o.rule {
                    Some(rule) => Cow::Owned(format!("because of rule {rule}")),
                    None => Cow::Borrowed(o.description.as_str()),
                }),
                _ => None,
            },
            Row::Run(r) => match key {
                "state" => view::text(r.state.word()),
                "env" => view::text(&r.target.environment),
                "tier" => view::text(r.tier.as_str()),
                "runbook" => view::text(&r.runbook),
                "target" => Some(Cow::Owned(format!(
                    "{} {}",
                    r.target.kind.noun(),
                    r.target.name
                ))),
                "incident" => r.incident.map(|id| Cow::Owned(id.to_string())),
                "user" => view::text(&r.user),
                "phase" => view::text(r.phase.as_str()),
                "detail" => Some(Cow::Owned(run_when(app, r))),
                _ => None,
            },
        }
    }

    /// Runs going now, then what active incidents offer, then past runs (newest first),
    /// then every configured action (long, and the same all day).
    fn default_order(&self, app: &App, a: usize, b: usize) -> std::cmp::Ordering {
        let rank = |i: usize| match row(app, i) {
            Some(Row::Run(r)) if r.state.is_active() => 0,
            Some(Row::Offer(o)) if o.incident.is_some() => 1,
            Some(Row::Run(_)) => 2,
            _ => 3,
        };
        rank(a).cmp(&rank(b)).then(a.cmp(&b))
    }

    fn identity(&self, app: &App, i: usize) -> String {
        match row(app, i) {
            Some(Row::Offer(o)) => format!(
                "offer\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{:?}",
                o.runbook, o.environment, o.target_label, o.incident
            ),
            Some(Row::Run(r)) => format!("run\u{1f}{}", r.id),
            None => String::new(),
        }
    }

    fn cells(&self, app: &App, i: usize, theme: &Theme) -> Vec<Cell<'static>> {
        match row(app, i) {
            Some(Row::Offer(o)) => {
                let state = match (o.configured, o.incident) {
                    (false, _) => Span::styled("○ not set up", theme.muted),
                    (true, Some(_)) => Span::styled("● incident", theme.warn),
                    (true, None) => Span::styled("○ available", theme.muted),
                };
                vec![
                    Cell::from(state),
                    Cell::from(Line::from(vec![
                        widgets::tier_badge(o.tier, theme),
                        Span::raw(format!(" {}", o.environment)),
                    ])),
                    Cell::from(Span::styled(o.runbook.clone(), theme.accent)),
                    Cell::from(o.target_label.clone()),
                    Cell::from(o.incident.map(|id| id.to_string()).unwrap_or_default()),
                    Cell::from(
                        self.field(app, i, "detail")
                            .map(Cow::into_owned)
                            .unwrap_or_default(),
                    ),
                ]
            }
            Some(Row::Run(r)) => {
                let state = match &r.state {
                    RunState::Starting | RunState::Running => {
                        Span::styled(format!("▶ {}", r.state.word()), theme.warn)
                    }
                    RunState::Finished(o) | RunState::Past(o) if o.succeeded() => {
                        Span::styled("✔ ok", theme.ok)
                    }
                    RunState::RunningElsewhere => Span::styled("▶ elsewhere", theme.warn),
                    other => Span::styled(format!("✖ {}", other.word()), theme.crit),
                };
                let runbook = if r.phase == crate::runbook::Phase::Plan {
                    format!("{} (plan)", r.runbook)
                } else {
                    r.runbook.clone()
                };
                vec![
                    Cell::from(state),
                    Cell::from(Line::from(vec![
                        widgets::tier_badge(r.tier, theme),
                        Span::raw(format!(" {}", r.target.environment)),
                    ])),
                    Cell::from(runbook),
                    Cell::from(format!("{} {}", r.target.kind.noun(), r.target.name)),
                    Cell::from(r.incident.map(|id| id.to_string()).unwrap_or_default()),
                    Cell::from(run_when(app, r)),
                ]
            }
            None => Vec::new(),
        }
    }

    fn row_style(&self, app: &App, i: usize, theme: &Theme) -> Style {
        match row(app, i) {
            Some(Row::Offer(o)) if !o.configured => theme.muted,
            Some(Row::Run(r)) if !r.live => theme.muted,
            _ => Style::default(),
        }
    }

    fn detail_title(&self, app: &App, i: usize) -> String {
        match row(app, i) {
            Some(Row::Offer(o)) => format!(
                "runbook {} → {} ({})",
                o.runbook, o.target_label, o.environment
            ),
            Some(Row::Run(r)) => format!("run {} of {}", r.id, r.runbook),
            None => String::new(),
        }
    }

    fn detail(&self, app: &App, i: usize, theme: &Theme) -> Vec<Line<'static>> {
        let Some(Row::Offer(o)) = row(app, i) else {
            return view::field_lines(self, app, i, theme);
        };
        let mut lines = vec![
            widgets::kv("runbook", o.runbook.clone(), theme),
            widgets::kv(
                "env",
                format!("{} ({})", o.environment, o.tier.as_str()),
                theme,
            ),
            widgets::kv("target", o.target_label.clone(), theme),
        ];
        if let Some(rule) = &o.rule {
            lines.push(widgets::kv("rule", rule.clone(), theme));
        }
        let Some(spec) = app.spec(&o.runbook) else {
            lines.push(Line::from(Span::styled(
                format!(
                    "not configured: add a [[runbook]] named {} to the config \
                     (see config/runbooks.example.toml)",
                    o.runbook
                ),
                theme.warn,
            )));
            return lines;
        };
        if !spec.description.is_empty() {
            lines.push(widgets::kv("what", spec.description.clone(), theme));
        }
        lines.push(widgets::kv("action", spec.action.describe(), theme));
        if let Some(plan) = &spec.plan {
            lines.push(widgets::kv("plan", plan.describe(), theme));
        }
        lines.push(widgets::kv(
            "confirm",
            spec.confirm_for(o.tier).as_str().to_owned(),
            theme,
        ));
        lines.push(widgets::kv(
            "timeout",
            humantime::format_duration(spec.timeout).to_string(),
            theme,
        ));
        for p in &spec.params {
            lines.push(widgets::kv(&format!("param {}", p.name), p.hint(), theme));
        }
        lines
    }
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let theme = &app.theme;
    // Rules that link a runbook nobody configured: worth knowing before 3 a.m.
    let mut missing: Vec<(&str, Vec<&str>)> = Vec::new();
    let links = app
        .runbook_links
        .iter()
        .flat_map(|(rule, runbooks)| runbooks.iter().map(move |rb| (rb.as_str(), rule.as_str())));
    let offered = app
        .offers
        .iter()
        .filter_map(|o| Some((o.runbook.as_str(), o.rule.as_deref()?)));
    for (rb, rule) in links.chain(offered) {
        if app.spec(rb).is_some() {
            continue;
        }
        match missing.iter_mut().find(|(name, _)| *name == rb) {
            Some((_, rules)) if !rules.contains(&rule) => rules.push(rule),
            Some(_) => {}
            None => missing.push((rb, vec![rule])),
        }
    }
    let banner: Vec<Line<'static>> = if app.read_only {
        vec![Line::from(Span::styled(
            "read-only mode: runbook actions are hidden and refused; the history below is \
             from the audit log",
            theme.warn,
        ))]
    } else if missing.is_empty() {
        Vec::new()
    } else {
        missing.sort();
        vec![Line::from(vec![
            Span::styled("linked by rules but not configured: ", theme.muted),
            Span::styled(
                missing
                    .iter()
                    .map(|(rb, rules)| format!("{rb} ({})", rules.join(", ")))
                    .collect::<Vec<_>>()
                    .join(" · "),
                theme.warn,
            ),
        ])]
    };
    let title = if app.dry_run {
        "Runbooks — dry-run: only plans run"
    } else {
        "Runbooks"
    };
    if banner.is_empty() {
        widgets::list(frame, area, app, title);
        return;
    }
    let [list, below] = Layout::vertical([Constraint::Min(3), Constraint::Length(2)]).areas(area);
    widgets::list(frame, list, app, title);
    frame.render_widget(
        Paragraph::new(banner).wrap(Wrap { trim: true }).block(
            Block::default()
                .borders(Borders::TOP)
                .border_style(theme.muted),
        ),
        below,
    );
}
