//! The output pane of one run: tier badge, runbook and target in the title, what ran, its
//! state (running with elapsed time, or the outcome), then the output as it streams in —
//! stdout plain, stderr marked, the runner's own lines muted. Scrolls back through the
//! ring buffer; the cancel key (asked twice) stops a live run.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::action::Action;
use super::app::App;
use super::help::centered;
use super::runs::RunState;
use super::widgets;
use crate::runbook::{OutputStream, RunId};

pub fn render(frame: &mut Frame<'_>, body: Rect, app: &App, id: &RunId, scroll: usize) {
    let theme = &app.theme;
    let Some(run) = app.runs.get(id) else {
        return;
    };
    let area = centered(
        body,
        body.width.saturating_sub(2),
        body.height.saturating_sub(1),
    );
    let inner_height = usize::from(area.height.saturating_sub(2));
    let mut head: Vec<Line<'static>> = Vec::new();
    head.push(Line::from(vec![
        Span::styled(format!("{} ", run.phase.as_str()), theme.muted),
        Span::raw(format!("→ {}  by {}  ", run.target, run.user)),
        Span::styled(run.id.to_string(), theme.muted),
    ]));
    for l in &run.described {
        head.push(Line::from(Span::styled(format!("  {l}"), theme.accent)));
    }
    let now = app.fleet().taken_at.unwrap_or(run.started);
    let state = match &run.state {
        RunState::Running => {
            let secs = (now - run.started).num_seconds().max(0);
            Span::styled(format!("● running for {secs}s"), theme.warn)
        }
        RunState::Finished(o) | RunState::Past(o) if o.succeeded() => {
            Span::styled(format!("✔ {}", o.summary()), theme.ok)
        }
        other => Span::styled(format!("✖ {}", other.describe()), theme.crit),
    };
    let mut status = vec![state];
    if run.dropped > 0 {
        status.push(Span::styled(
            format!("  ({} earlier lines dropped)", run.dropped),
            theme.muted,
        ));
    }
    head.push(Line::from(status));
    head.push(Line::from(""));

    let room = inner_height.saturating_sub(head.len() + 1);
    let total = run.lines.len();
    let end = total.saturating_sub(scroll.min(total));
    let start = end.saturating_sub(room);
    let mut lines = head;
    if total == 0 && !run.live {
        lines.push(Line::from(Span::styled(
            "(from the audit log: the output was not kept; its last lines are in the outcome)",
            theme.muted,
        )));
    }
    for (stream, text) in run.lines.iter().skip(start).take(end - start) {
        lines.push(match stream {
            OutputStream::Stdout => Line::from(text.clone()),
            OutputStream::Stderr => Line::from(vec![
                Span::styled("│ ", theme.warn),
                Span::raw(text.clone()),
            ]),
            OutputStream::Runner => Line::from(Span::styled(format!("» {text}"), theme.muted)),
        });
    }
    let mut keys = vec![];
    for (a, what) in [
        (Action::Back, "close (the run goes on)"),
        (Action::CancelRun, "cancel"),
        (Action::Up, "scroll"),
    ] {
        if a == Action::CancelRun && !(run.live && run.state.is_active()) {
            continue;
        }
        if let Some(k) = app.keymap.hint(a) {
            keys.push(Span::styled(k, theme.accent));
            keys.push(Span::styled(format!(" {what}  "), theme.muted));
        }
    }
    let title = Line::from(vec![
        Span::raw(" "),
        widgets::tier_badge(run.tier, theme),
        Span::styled(format!(" {} ", run.runbook), theme.header),
    ]);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).style(theme.popup).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(title)
                .title_bottom(Line::from(keys)),
        ),
        area,
    );
}
