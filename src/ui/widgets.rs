//! Shared drawing helpers: the selectable table every tab uses, tier badges, status cells.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Cell, Row, Table, TableState};

use super::app::App;
use super::theme::Theme;
use super::view;
use crate::config::settings::Tier;
use crate::store::model::SourceHealth;

/// The current tab's table: its view's rows on screen, the columns that fit, the selected
/// row highlighted, and a title saying how many rows the filter kept.
pub fn list(frame: &mut Frame<'_>, area: Rect, app: &App, title: &str) {
    let theme = &app.theme;
    let listing = app.tab.listing();
    let columns = listing.columns();
    let shown = view::fitting_columns(columns, area.width);
    let v = app.view();
    // Title rule and header row take two lines.
    let height = usize::from(area.height.saturating_sub(2));
    let start = view::window_start(app.selected(), height);
    let rows: Vec<Row<'static>> = v
        .rows
        .iter()
        .skip(start)
        .take(height)
        .map(|&i| {
            let mut cells = listing.cells(app, i, theme);
            let picked: Vec<Cell<'static>> = shown
                .iter()
                .map(|&c| {
                    if c < cells.len() {
                        std::mem::take(&mut cells[c])
                    } else {
                        Cell::default()
                    }
                })
                .collect();
            Row::new(picked).style(listing.row_style(app, i, theme))
        })
        .collect();
    let sort = app.sort[app.tab.index()];
    let header = Row::new(shown.iter().map(|&c| {
        let mut h = columns[c].header.to_owned();
        if sort.column == Some(c) {
            h.push(if sort.descending { '↓' } else { '↑' });
        }
        Cell::from(h)
    }))
    .style(theme.header);
    let mut title = title.to_owned();
    if let Some(f) = &app.filters[app.tab.index()] {
        title.push_str(&format!("  /{f}  {} of {}", v.rows.len(), v.total));
    }
    let empty = rows.is_empty();
    let table = Table::new(rows, shown.iter().map(|&c| columns[c].width))
        .header(header)
        .block(
            Block::default()
                .borders(Borders::TOP)
                .border_style(theme.muted)
                .title(Span::styled(title, theme.header)),
        )
        .row_highlight_style(theme.selection)
        .column_spacing(1);
    let mut state = TableState::default();
    if !empty {
        state.select(Some(app.selected().saturating_sub(start)));
    }
    frame.render_stateful_widget(table, area, &mut state);
}

/// ` PROD ` / ` STG ` / ` INT ` badge, readable without colour.
pub fn tier_badge(tier: Tier, theme: &Theme) -> Span<'static> {
    let text = match tier {
        Tier::Production => " PROD ",
        Tier::Staging => " STG ",
        Tier::Integration => " INT ",
    };
    Span::styled(text, theme.tier(tier))
}

/// A glyph and word for a source's state, so state never rides on colour alone.
pub fn source_health(health: &SourceHealth, theme: &Theme) -> Span<'static> {
    match health {
        SourceHealth::Ok { .. } => Span::styled("● ok", theme.ok),
        SourceHealth::Pending => Span::styled("○ pending", theme.muted),
        SourceHealth::Stale { .. } => Span::styled("◌ stale", theme.stale),
        SourceHealth::Failing { .. } => Span::styled("✖ failing", theme.crit),
    }
}

/// `✔ yes` / `✖ no` with the matching style.
pub fn yes_no(ok: bool, yes: &'static str, no: &'static str, theme: &Theme) -> Span<'static> {
    if ok {
        Span::styled(format!("✔ {yes}"), theme.ok)
    } else {
        Span::styled(format!("✖ {no}"), theme.crit)
    }
}

/// Grey a row whose source's data is not current, so stale values never pass for live ones.
pub fn stale_style(
    snap: &crate::store::Snapshot,
    source: crate::config::settings::SourceId,
    theme: &Theme,
) -> ratatui::style::Style {
    if snap.is_stale(source) {
        theme.stale
    } else {
        ratatui::style::Style::default()
    }
}

/// The style of a severity; the glyph and label always go with it.
pub fn severity_style(theme: &Theme, sev: crate::incident::Severity) -> ratatui::style::Style {
    match sev {
        crate::incident::Severity::Sev1 => theme.sev1,
        crate::incident::Severity::Sev2 => theme.sev2,
        crate::incident::Severity::Sev3 => theme.sev3,
    }
}

/// `           key  value`: one line of a detail pane, keys right-aligned in a muted column.
pub fn kv(key: &str, value: impl Into<String>, theme: &Theme) -> ratatui::text::Line<'static> {
    ratatui::text::Line::from(vec![
        Span::styled(format!("{key:>14}  "), theme.muted),
        Span::raw(value.into()),
    ])
}
