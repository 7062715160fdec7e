//! The terminal UI: draws the latest snapshot, turns keys into actions.
//!
//! The loop waits on two things only — terminal events and a new snapshot — and draws once
//! per batch of them, so an idle console does no work. Rendering reads `&App` and does no
//! I/O. The terminal is restored on exit and on panic (ratatui's init installs the hook).

pub mod ack;
pub mod action;
pub mod alerts;
pub mod app;
pub mod backups;
pub mod command;
pub mod detail;
pub mod filter;
pub mod format;
pub mod help;
pub mod incidents;
pub mod keymap;
pub mod launch;
pub mod line;
pub mod nodes;
pub mod overview;
pub mod picker;
pub mod replication;
pub mod run_dialog;
pub mod run_output;
pub mod runbooks;
pub mod runs;
pub mod silence;
pub mod svg;
pub mod theme;
pub mod view;
pub mod widgets;

use std::sync::Arc;

use crossterm::event::{Event, EventStream, MouseButton, MouseEventKind};
use futures_util::{FutureExt as _, StreamExt};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use tokio::sync::{mpsc, watch};
use unicode_width::UnicodeWidthStr;

use crate::engine::{Command, Situation};
use crate::runbook::RunEvent;
use crate::runbook::runner::{READ_ONLY_REASON, RunHandle, Runner};
use crate::runbook::silence::{self as am_silence, Builtin};
use crate::runbook::template::{self, Context};
use action::Action;
use app::{App, AppOptions, Mode, StatusKind, Tab};
use launch::RunnerOrder;

/// The row the body starts on (under the one-line header).
pub const BODY_TOP: u16 = 1;

/// Draw the whole screen from `&App`; no I/O, no state change.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let area = frame.area();
    // The theme's base (background and text) under everything, so a theme with its own
    // background covers the whole window.
    frame.render_widget(
        ratatui::widgets::Block::default().style(app.theme.base),
        area,
    );
    let footer_height = match app.mode {
        Mode::Filter(_) | Mode::Command { .. } => 2,
        _ => 1,
    };
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(footer_height),
    ])
    .areas(area);
    let (line, _) = header_line(app, header.width);
    frame.render_widget(Paragraph::new(line).style(app.theme.base), header);
    let (list, pane) = match app.mode {
        Mode::Detail => detail::split(body),
        _ => (body, None),
    };
    match app.tab {
        Tab::Overview => overview::render(frame, list, app),
        Tab::Incidents => incidents::render(frame, list, app),
        Tab::Nodes => nodes::render(frame, list, app),
        Tab::Replication => replication::render(frame, list, app),
        Tab::Backups => backups::render(frame, list, app),
        Tab::Alerts => alerts::render(frame, list, app),
        Tab::Runbooks => runbooks::render(frame, list, app),
    }
    if let Some(pane) = pane {
        detail::render(frame, pane, app);
    }
    footer_lines(frame, footer, app);
    match &app.mode {
        Mode::Help { scroll } => help::render(frame, body, app, *scroll),
        Mode::Acknowledge { id, note } => ack::render(frame, body, app, *id, note),
        Mode::Pick(p) => picker::render(frame, body, app, p),
        Mode::RunDialog(d) => run_dialog::render(frame, body, app, d),
        Mode::RunOutput { run, scroll, .. } => run_output::render(frame, body, app, run, *scroll),
        _ => {}
    }
}

/// The header: product, DEMO and tier badges, environment scope, tabs, frozen mark. Also
/// returns where each tab's title sits, for mouse clicks.
pub fn header_line(app: &App, width: u16) -> (Line<'static>, Vec<(Tab, u16, u16)>) {
    let theme = &app.theme;
    let mut spans = vec![Span::styled("watchdeck ", theme.accent)];
    if app.demo {
        spans.push(Span::styled(" DEMO ", theme.badge_demo));
        spans.push(Span::raw(" "));
    }
    // The tier of what is on screen is visible at all times: production first.
    if let Some(tier) = app.tier_in_view() {
        spans.push(widgets::tier_badge(tier, theme));
        spans.push(Span::raw(" "));
    }
    spans.push(Span::styled(
        format!("{} ", app.scope.as_deref().unwrap_or("all envs")),
        theme.header,
    ));
    let prefix: u16 = spans.iter().map(|s| s.content.width() as u16).sum();
    let frozen = if app.frozen { "  ❄ FROZEN" } else { "" };
    let full: u16 = Tab::ALL
        .iter()
        .enumerate()
        .map(|(i, t)| format!(" {} {} ", i + 1, t.title()).width() as u16)
        .sum();
    // Narrow terminals get numbers for the other tabs and the active tab's name.
    let compact = prefix + full + frozen.width() as u16 > width;
    let mut x = prefix;
    let mut hits = Vec::new();
    for (i, tab) in Tab::ALL.iter().enumerate() {
        let text = if compact && *tab != app.tab {
            format!(" {} ", i + 1)
        } else {
            format!(" {} {} ", i + 1, tab.title())
        };
        let w = text.width() as u16;
        hits.push((*tab, x, x + w));
        x += w;
        let style = if *tab == app.tab {
            theme.tab_active
        } else {
            theme.muted
        };
        spans.push(Span::styled(text, style));
    }
    if app.frozen {
        spans.push(Span::styled(frozen, theme.warn));
    }
    (Line::from(spans), hits)
}

/// The tab whose title is at `column` of the header, if any.
pub fn tab_at(app: &App, column: u16) -> Option<Tab> {
    let (_, hits) = header_line(app, app.size.0);
    hits.into_iter()
        .find(|(_, start, end)| (*start..*end).contains(&column))
        .map(|(t, _, _)| t)
}

fn footer_lines(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let theme = &app.theme;
    let prompt = |sigil: &str, line: &line::LineEditor| {
        let text = line.text();
        let cursor = line.cursor();
        let before: String = text.chars().take(cursor).collect();
        let at: String = text.chars().skip(cursor).take(1).collect();
        let after: String = text.chars().skip(cursor + 1).collect();
        Line::from(vec![
            Span::styled(sigil.to_owned(), theme.accent),
            Span::styled(before, theme.input),
            Span::styled(
                if at.is_empty() { " ".to_owned() } else { at },
                theme.selection,
            ),
            Span::styled(after, theme.input),
        ])
    };
    let lines = match &app.mode {
        Mode::Filter(line) => {
            let info = match app.prompt_error() {
                Some(e) => Line::from(Span::styled(format!("✖ {e}"), theme.crit)),
                None => Line::from(Span::styled(
                    format!(
                        "{} of {} rows · sev<=2 env=prod node~web state=open !word · Enter keeps · Esc cancels",
                        app.view().rows.len(),
                        app.view().total
                    ),
                    theme.muted,
                )),
            };
            vec![info, prompt("/", line)]
        }
        Mode::Command { line, candidates } => {
            let info = if candidates.is_empty() {
                Line::from(Span::styled(
                    "env NAME|all · tab NAME · ack [note] · theme NAME · filter Q · sort COL · help · q  (Tab completes)",
                    theme.muted,
                ))
            } else {
                Line::from(Span::styled(candidates.join("  "), theme.accent))
            };
            vec![info, prompt(":", line)]
        }
        _ => vec![status_or_hints(app)],
    };
    frame.render_widget(Paragraph::new(lines), area);
}

fn status_or_hints(app: &App) -> Line<'static> {
    let theme = &app.theme;
    if let Some((text, kind)) = &app.status {
        let style = match kind {
            StatusKind::Info => theme.accent,
            StatusKind::Error => theme.crit,
        };
        let glyph = match kind {
            StatusKind::Info => "›",
            StatusKind::Error => "✖",
        };
        return Line::from(Span::styled(format!("{glyph} {text}"), style));
    }
    let mut actions = vec![Action::Help, Action::Quit, Action::NextTab];
    match app.mode {
        Mode::Detail => actions.push(Action::Back),
        _ => actions.push(Action::Open),
    }
    actions.extend([Action::Filter, Action::Command, Action::CycleEnvironment]);
    if app.tab == Tab::Incidents {
        actions.extend([Action::Acknowledge, Action::ToggleResolved]);
    }
    if app.tab == Tab::Alerts && !app.read_only && !app.alertmanagers.is_empty() {
        actions.push(Action::Silence);
    }
    actions.extend([Action::SortNext, Action::ToggleFreeze]);
    let mut spans = Vec::new();
    for a in actions {
        if let Some(key) = app.keymap.hint(a) {
            spans.push(Span::styled(key, theme.accent));
            spans.push(Span::styled(format!(" {}  ", a.describe()), theme.muted));
        }
    }
    if let Some(t) = app.fleet().taken_at {
        spans.push(Span::styled(
            t.format("%H:%M:%S UTC").to_string(),
            theme.muted,
        ));
    }
    Line::from(spans)
}

/// What the TUI needs from the engine and the user's settings.
pub struct UiOptions {
    pub app: AppOptions,
    /// Ring the terminal bell when a sev1 opens.
    pub bell_on_sev1: bool,
    /// The runbook runner and its events; `None` in read-only mode, where nothing runs.
    pub runner: Option<(Runner, mpsc::UnboundedReceiver<RunEvent>)>,
}

/// Between the app and the runner: hands the app's orders over and keeps the runs in
/// flight, so the output pane's cancel reaches them.
#[derive(Default)]
pub struct RunDispatch(Vec<RunHandle>);

impl RunDispatch {
    /// Hand the app's orders to the runner: resolve each (reading secrets now, not while
    /// drawing), start it, and tell the app the id it got.
    pub fn dispatch(&mut self, app: &mut App, runner: Option<&Runner>) {
        self.0.retain(|h| !h.is_finished());
        for order in app.take_runner_orders() {
            match order {
                RunnerOrder::Cancel(id) => {
                    if let Some(h) = self.0.iter().find(|h| h.id == id) {
                        h.cancel();
                    }
                }
                RunnerOrder::Start(order) => {
                    let Some(runner) = runner else {
                        app.run_not_started(&order, READ_ONLY_REASON.to_owned());
                        continue;
                    };
                    let resolved = if let Some(builtin) = Builtin::from_runbook(&order.runbook) {
                        builtin_request(app, &builtin, &order, runner.now())
                    } else {
                        app.spec(&order.runbook)
                            .ok_or_else(|| format!("{} is not configured", order.runbook))
                            .and_then(|spec| {
                                let cx = Context {
                                    phase: order.phase,
                                    user: &app.user,
                                    incident: order.incident,
                                    read_secrets: true,
                                };
                                template::request(
                                    spec,
                                    order.phase,
                                    &order.target,
                                    order.tier,
                                    &order.params,
                                    &cx,
                                )
                                .map_err(|e| e.to_string())
                            })
                    };
                    match resolved {
                        Ok(request) => {
                            let handle = runner.start(request.clone());
                            app.run_started(&order, &request, handle.id.clone());
                            self.0.push(handle);
                        }
                        Err(why) => app.run_not_started(&order, why),
                    }
                }
            }
        }
    }

    /// On quit: cancel what still runs and give it the grace period to record its outcome.
    pub async fn shutdown(self) {
        for h in &self.0 {
            h.cancel();
        }
        let all = futures_util::future::join_all(self.0.into_iter().map(RunHandle::wait));
        let _ = tokio::time::timeout(std::time::Duration::from_secs(15), all).await;
    }
}

/// A built-in action's request (an Alertmanager silence), with the source's credentials
/// read now and the silence starting now (on the runner's clock, which the audit uses).
fn builtin_request(
    app: &App,
    builtin: &Builtin,
    order: &launch::RunOrder,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<crate::runbook::RunRequest, String> {
    let name = order.target.values.get("alertmanager");
    let am = app
        .alertmanagers
        .iter()
        .find(|s| s.environment == order.target.environment && Some(&s.name) == name)
        .ok_or_else(|| {
            format!(
                "no Alertmanager {} in {}",
                name.map_or("?", String::as_str),
                order.target.environment
            )
        })?;
    let o = am_silence::Order {
        builtin,
        target: &order.target,
        tier: order.tier,
        params: &order.params,
        incident: order.incident,
        user: &app.user,
        now,
        read_secrets: true,
    };
    am_silence::request(am, &o).map_err(|e| e.to_string())
}

/// Run the TUI until the user quits.
pub async fn run(
    mut situations: watch::Receiver<Arc<Situation>>,
    commands: mpsc::Sender<Command>,
    options: UiOptions,
) -> anyhow::Result<()> {
    let mut terminal = ratatui::try_init()?;
    let mouse = options.app.mouse;
    if mouse {
        crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture)?;
    }
    let result = event_loop(&mut terminal, &mut situations, &commands, options).await;
    if mouse {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    }
    ratatui::restore();
    result
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    snapshots: &mut watch::Receiver<Arc<Situation>>,
    commands: &mpsc::Sender<Command>,
    options: UiOptions,
) -> anyhow::Result<()> {
    let mut app = App::new(snapshots.borrow_and_update().clone(), options.app);
    let size = terminal.size()?;
    app.size = (size.width, size.height);
    let mut sev1_seen = app.situation.sev1_opened;
    let mut events = EventStream::new();
    let (runner, mut run_events) = match options.runner {
        Some((runner, rx)) => (Some(runner), Some(rx)),
        None => (None, None),
    };
    let mut handles = RunDispatch::default();
    terminal.draw(|f| draw(f, &app))?;
    loop {
        let mut dirty = false;
        tokio::select! {
            Some(event) = recv(&mut run_events) => {
                app.run_event(event);
                if let Some(rx) = run_events.as_mut() {
                    while let Ok(next) = rx.try_recv() {
                        app.run_event(next);
                    }
                }
                dirty = true;
            }
            event = events.next() => {
                match event {
                    Some(Ok(event)) => dirty |= handle_event(&mut app, event),
                    Some(Err(e)) => return Err(e.into()),
                    None => break,
                }
                // Drain whatever else is already queued (a paste, a held key, a burst of
                // resizes) and draw once for the batch.
                while let Some(Some(next)) = events.next().now_or_never() {
                    dirty |= handle_event(&mut app, next?);
                }
            }
            changed = snapshots.changed() => {
                if changed.is_err() {
                    break;
                }
                dirty |= app.update(snapshots.borrow_and_update().clone());
                if app.situation.sev1_opened > sev1_seen {
                    sev1_seen = app.situation.sev1_opened;
                    if options.bell_on_sev1 {
                        ring_bell();
                    }
                }
            }
        }
        handles.dispatch(&mut app, runner.as_ref());
        for command in app.outbox.drain(..) {
            // The engine is gone only when shutting down; nothing left to acknowledge then.
            let _ = commands.send(command).await;
        }
        if app.should_quit {
            break;
        }
        if std::mem::take(&mut app.clear_screen) {
            terminal.clear()?;
            dirty = true;
        }
        if dirty {
            terminal.draw(|f| draw(f, &app))?;
        }
    }
    handles.shutdown().await;
    Ok(())
}

/// The next runner event, or never when there is no runner.
async fn recv(rx: &mut Option<mpsc::UnboundedReceiver<RunEvent>>) -> Option<RunEvent> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Apply one terminal event; returns whether the screen must be redrawn.
fn handle_event(app: &mut App, event: Event) -> bool {
    match event {
        Event::Key(key) => {
            app.key(key);
            true
        }
        Event::Resize(w, h) => {
            app.size = (w, h);
            true
        }
        Event::Mouse(m) if app.mouse => match m.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                app.click(m.column, m.row);
                true
            }
            MouseEventKind::ScrollDown => {
                app.scroll(true);
                true
            }
            MouseEventKind::ScrollUp => {
                app.scroll(false);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// BEL on the terminal: the one byte the UI writes outside a frame, and only for a new sev1.
fn ring_bell() {
    use std::io::Write as _;
    let mut out = std::io::stdout();
    let _ = out.write_all(b"\x07");
    let _ = out.flush();
}
