//! The detail pane (Enter): the selected row's full story — an incident's timeline, rule,
//! value, labels and runbooks; a node's or link's fields; a catalog's retention slots; an
//! alert's labels and annotations. It follows the selection, so `j`/`k` walk records with
//! the pane open. The tier badge of the record's environment is in its title.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::app::App;
use super::widgets;

/// Where the list and the pane go: side by side on wide terminals, stacked otherwise.
pub fn split(body: Rect) -> (Rect, Option<Rect>) {
    if body.width >= 140 {
        let [list, pane] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                .areas(body);
        (list, Some(pane))
    } else {
        let [list, pane] =
            Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(body);
        (list, Some(pane))
    }
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let theme = &app.theme;
    let listing = app.tab.listing();
    let Some(record) = app.selected_record() else {
        return;
    };
    let mut title = vec![Span::raw(" ")];
    if let Some(tier) = app.tier_of(listing.environment(app, record)) {
        title.push(widgets::tier_badge(tier, theme));
        title.push(Span::raw(" "));
    }
    title.push(Span::styled(
        listing.detail_title(app, record),
        theme.header,
    ));
    title.push(Span::raw(" "));
    let lines = listing.detail(app, record, theme);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(ratatui::text::Line::from(title)),
        ),
        area,
    );
}
