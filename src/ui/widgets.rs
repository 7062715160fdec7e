//! Shared drawing helpers: the selectable table every tab uses, tier badges, status cells.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Cell, Row, Table, TableState};

use super::app::App;
use super::theme::Theme;
use crate::config::settings::Tier;
use crate::store::model::SourceHealth;

/// The fixed shape of a tab's table.
pub struct Columns<'c> {
    pub title: &'c str,
    pub header: &'c [&'c str],
    pub widths: &'c [Constraint],
}

/// A table with a title, a header and the tab's selected row highlighted.
pub fn table(
    frame: &mut Frame<'_>,
    area: Rect,
    app: &App,
    theme: &Theme,
    columns: &Columns<'_>,
    rows: Vec<Row<'static>>,
) {
    let empty = rows.is_empty();
    let header = Row::new(columns.header.iter().map(|h| Cell::from(*h))).style(theme.header);
    let table = Table::new(rows, columns.widths.to_vec())
        .header(header)
        .block(
            Block::default()
                .borders(Borders::TOP)
                .title(columns.title.to_owned()),
        )
        .row_highlight_style(theme.selection)
        .column_spacing(1);
    let mut state = TableState::default();
    if !empty {
        state.select(Some(app.selected()));
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
pub fn grey_if_stale(
    row: Row<'static>,
    snap: &crate::store::Snapshot,
    source: crate::config::settings::SourceId,
    theme: &Theme,
) -> Row<'static> {
    if snap.is_stale(source) {
        row.style(theme.stale)
    } else {
        row
    }
}
