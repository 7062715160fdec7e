//! The terminal UI: draws the latest snapshot, turns keys into actions.
//!
//! The loop waits on two things only — terminal events and a new snapshot — and draws once
//! per batch of them, so an idle console does no work. Rendering reads `&App` and does no
//! I/O. The terminal is restored on exit and on panic (ratatui's init installs the hook).

pub mod action;
pub mod alerts;
pub mod app;
pub mod backups;
pub mod command;
pub mod filter;
pub mod format;
pub mod incidents;
pub mod keymap;
pub mod line;
pub mod nodes;
pub mod overview;
pub mod replication;
pub mod svg;
pub mod theme;
pub mod widgets;

use std::sync::Arc;

use crossterm::event::{Event, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use futures_util::StreamExt;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use tokio::sync::{mpsc, watch};

use crate::engine::{Command, Situation};
use app::{Action, App, Tab};
use theme::Theme;

/// Draw the whole screen.
pub fn draw(frame: &mut Frame<'_>, app: &App, theme: &Theme) {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(Paragraph::new(header_line(app, theme)), header);
    match app.tab {
        Tab::Overview => overview::render(frame, body, app, theme),
        Tab::Incidents => incidents::render(frame, body, app, theme),
        Tab::Nodes => nodes::render(frame, body, app, theme),
        Tab::Replication => replication::render(frame, body, app, theme),
        Tab::Backups => backups::render(frame, body, app, theme),
        Tab::Alerts => alerts::render(frame, body, app, theme),
    }
    frame.render_widget(Paragraph::new(footer_line(app, theme)), footer);
}

fn header_line(app: &App, theme: &Theme) -> Line<'static> {
    let mut spans = vec![Span::styled("watchdeck ", theme.accent)];
    if app.demo {
        spans.push(Span::styled(" DEMO ", theme.badge_demo));
        spans.push(Span::raw(" "));
    }
    if app
        .fleet()
        .environments
        .iter()
        .any(|e| e.tier == crate::config::settings::Tier::Production)
    {
        spans.push(widgets::tier_badge(
            crate::config::settings::Tier::Production,
            theme,
        ));
        spans.push(Span::raw(" "));
    }
    for (i, tab) in Tab::ALL.iter().enumerate() {
        let style = if *tab == app.tab {
            theme.tab_active
        } else {
            theme.muted
        };
        spans.push(Span::styled(format!("{} {}", i + 1, tab.title()), style));
        spans.push(Span::raw("  "));
    }
    if app.frozen {
        spans.push(Span::styled("❄ FROZEN", theme.warn));
    }
    Line::from(spans)
}

fn footer_line(app: &App, theme: &Theme) -> Line<'static> {
    if let Some(status) = &app.status {
        return Line::from(Span::styled(status.clone(), theme.warn));
    }
    let now = app
        .fleet()
        .taken_at
        .map(|t| t.format("%H:%M:%S UTC").to_string())
        .unwrap_or_default();
    Line::from(vec![
        Span::styled("q", theme.accent),
        Span::raw(" quit  "),
        Span::styled("1-6/Tab", theme.accent),
        Span::raw(" tabs  "),
        Span::styled("a", theme.accent),
        Span::raw(" ack  "),
        Span::styled("A", theme.accent),
        Span::raw(" resolved  "),
        Span::styled("j/k", theme.accent),
        Span::raw(" move  "),
        Span::styled("f", theme.accent),
        Span::raw(" freeze  "),
        Span::styled(now, theme.muted),
    ])
}

/// The default key → action mapping.
pub fn action_for(key: KeyEvent) -> Option<Action> {
    if key.kind != KeyEventKind::Press {
        return None;
    }
    Some(match (key.code, key.modifiers) {
        (KeyCode::Char('l'), m) if m.contains(KeyModifiers::CONTROL) => Action::Redraw,
        (KeyCode::Char('q'), _) => Action::Quit,
        (KeyCode::Tab, _) => Action::NextTab,
        (KeyCode::BackTab, _) => Action::PrevTab,
        (KeyCode::Char(c @ '1'..='9'), _) => Action::GoToTab(c as u8 - b'1'),
        (KeyCode::Char('j') | KeyCode::Down, _) => Action::Down,
        (KeyCode::Char('k') | KeyCode::Up, _) => Action::Up,
        (KeyCode::Char('g') | KeyCode::Home, _) => Action::Top,
        (KeyCode::Char('G') | KeyCode::End, _) => Action::Bottom,
        (KeyCode::Char('f'), _) => Action::ToggleFreeze,
        (KeyCode::Char('a'), _) => Action::Acknowledge,
        (KeyCode::Char('A'), _) => Action::ToggleResolved,
        _ => return None,
    })
}

/// What the TUI needs from the engine and the user's settings.
pub struct UiOptions {
    pub demo: bool,
    pub theme: Theme,
    /// Ring the terminal bell when a sev1 opens.
    pub bell_on_sev1: bool,
    /// Who acknowledges (`$USER`).
    pub user: String,
}

/// Run the TUI until the user quits.
pub async fn run(
    mut situations: watch::Receiver<Arc<Situation>>,
    commands: mpsc::Sender<Command>,
    options: UiOptions,
) -> anyhow::Result<()> {
    let mut terminal = ratatui::try_init()?;
    let result = event_loop(&mut terminal, &mut situations, &commands, &options).await;
    ratatui::restore();
    result
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    snapshots: &mut watch::Receiver<Arc<Situation>>,
    commands: &mpsc::Sender<Command>,
    options: &UiOptions,
) -> anyhow::Result<()> {
    let theme = &options.theme;
    let mut app = App::new(
        snapshots.borrow_and_update().clone(),
        options.demo,
        options.user.clone(),
    );
    let mut sev1_seen = app.situation.sev1_opened;
    let mut events = EventStream::new();
    terminal.draw(|f| draw(f, &app, theme))?;
    loop {
        let mut dirty = false;
        tokio::select! {
            event = events.next() => {
                match event {
                    Some(Ok(event)) => dirty |= handle_event(&mut app, terminal, event)?,
                    Some(Err(e)) => return Err(e.into()),
                    None => break,
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
        for command in app.outbox.drain(..) {
            // The engine is gone only when shutting down; nothing left to acknowledge then.
            let _ = commands.send(command).await;
        }
        if app.should_quit {
            break;
        }
        if dirty {
            terminal.draw(|f| draw(f, &app, theme))?;
        }
    }
    Ok(())
}

fn handle_event(
    app: &mut App,
    terminal: &mut ratatui::DefaultTerminal,
    event: Event,
) -> anyhow::Result<bool> {
    match event {
        Event::Key(key) => {
            let Some(action) = action_for(key) else {
                return Ok(false);
            };
            if action == Action::Redraw {
                terminal.clear()?;
            }
            app.apply(action);
            Ok(true)
        }
        Event::Resize(_, _) => Ok(true),
        _ => Ok(false),
    }
}

/// BEL on the terminal: the one byte the UI writes outside a frame, and only for a new sev1.
fn ring_bell() {
    use std::io::Write as _;
    let mut out = std::io::stdout();
    let _ = out.write_all(b"\x07");
    let _ = out.flush();
}
