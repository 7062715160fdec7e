//! The `?` help popup: every key from the live keymap (so a rebound key shows its new
//! binding), the filter language and the `:` commands.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::action::{Action, TAB_COUNT};
use super::app::App;
use super::command;

/// A centred rectangle of at most `width` × `height` inside `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [cell] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    cell
}

/// Every line of the help text for a popup `width` columns wide inside its border.
fn lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut tabs_done = false;
    for (keys, action, what) in app.keymap.help_rows() {
        if let Action::GoToTab(_) = action {
            // Seven rows of "tab N" say less than one.
            if !tabs_done {
                let keys: Vec<String> = (0..TAB_COUNT)
                    .filter_map(|i| app.keymap.hint(Action::GoToTab(i)))
                    .collect();
                rows.push((keys.join(" "), "go to tab 1…7".to_owned()));
                tabs_done = true;
            }
            continue;
        }
        let keys = if keys.is_empty() {
            "(unbound)".to_owned()
        } else {
            keys
        };
        rows.push((keys, what));
    }
    let mut out = vec![Line::from(Span::styled("Keys", theme.header))];
    let cell = |(keys, what): &(String, String), w: usize| {
        vec![
            Span::styled(format!("  {keys:<16}"), theme.accent),
            Span::raw(format!("{what:<w$}")),
        ]
    };
    if width >= 76 {
        let half = rows.len().div_ceil(2);
        for i in 0..half {
            let mut spans = cell(&rows[i], 18);
            if let Some(right) = rows.get(i + half) {
                spans.extend(cell(right, 0));
            }
            out.push(Line::from(spans));
        }
    } else {
        out.extend(rows.iter().map(|r| Line::from(cell(r, 0))));
    }
    out.push(Line::from(""));
    out.push(Line::from(Span::styled("Filter (/)", theme.header)));
    for (ex, what) in [
        ("sev<=2 env=prod", "= prefix or number, != ~ !~ < <= > >="),
        ("node~web state=open", "terms are ANDed"),
        ("age>10m", "durations s m h d; sizes k M G"),
        (
            "pgrep  \"disk full\"",
            "plain words match fuzzily, quotes exactly",
        ),
        ("!state=acked", "! inverts a term"),
    ] {
        out.push(Line::from(vec![
            Span::styled(format!("  {ex:<24}"), theme.accent),
            Span::raw(what),
        ]));
    }
    out.push(Line::from(""));
    out.push(Line::from(Span::styled(
        "Commands (:)  Tab completes",
        theme.header,
    )));
    for (usage, what) in command::help() {
        out.push(Line::from(vec![
            Span::styled(format!("  :{usage:<23}"), theme.accent),
            Span::raw(what),
        ]));
    }
    out
}

fn popup(body: Rect, app: &App) -> (Rect, Vec<Line<'static>>) {
    let width = body.width.min(100);
    let lines = lines(app, width.saturating_sub(2));
    let area = centered(body, width, (lines.len() as u16).saturating_add(2));
    (area, lines)
}

/// How far the help can scroll before its last line reaches the popup's bottom.
pub fn max_scroll(app: &App) -> u16 {
    let body = Rect::new(0, 0, app.size.0, app.size.1.saturating_sub(2));
    let (area, lines) = popup(body, app);
    (lines.len() as u16).saturating_sub(area.height.saturating_sub(2))
}

pub fn render(frame: &mut Frame<'_>, body: Rect, app: &App, scroll: u16) {
    let theme = &app.theme;
    let (area, lines) = popup(body, app);
    let more = (lines.len() as u16).saturating_sub(area.height.saturating_sub(2));
    let title = if more > 0 {
        format!(
            " Help — j/k scroll ({}/{more}) — Esc closes ",
            scroll.min(more)
        )
    } else {
        " Help — Esc closes ".to_owned()
    };
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .style(theme.popup)
            .scroll((scroll.min(more), 0))
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.border)
                    .title(Span::styled(title, theme.header)),
            ),
        area,
    );
}
