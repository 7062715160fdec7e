//! The list behind every tab: which records a tab has, their filter fields and sort keys,
//! and the columns that draw them — and the [`View`] (scope → filter → sort) computed from
//! it when data or the user's choices change, so drawing a frame only walks the rows on
//! screen.

use std::borrow::Cow;
use std::cmp::Ordering;

use ratatui::layout::Constraint;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::Cell;

use super::app::App;
use super::filter::{Filter, Subject};
use super::theme::Theme;
use crate::engine::Situation;

/// One column of a tab's table.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub header: &'static str,
    /// The field name the filter and `:sort` use for this column.
    pub key: &'static str,
    pub width: Constraint,
    /// 0 = essential, shown at any width; higher numbers are dropped first when narrow.
    pub priority: u8,
}

impl Column {
    pub const fn new(header: &'static str, key: &'static str, width: u16, priority: u8) -> Self {
        Self {
            header,
            key,
            width: Constraint::Length(width),
            priority,
        }
    }

    /// A column that takes the remaining width, at least `min`.
    pub const fn fill(header: &'static str, key: &'static str, min: u16, priority: u8) -> Self {
        Self {
            header,
            key,
            width: Constraint::Min(min),
            priority,
        }
    }

    fn min_width(&self) -> u16 {
        match self.width {
            Constraint::Length(n) | Constraint::Min(n) => n,
            _ => 0,
        }
    }
}

/// What a tab lists. Records are addressed by index into the tab's source collection.
pub trait Listing: Sync {
    fn columns(&self) -> &'static [Column];
    /// Extra filter fields besides the column keys (e.g. `tier`).
    fn extra_fields(&self) -> &'static [&'static str] {
        &[]
    }
    fn len(&self, app: &App) -> usize;
    /// Records the tab hides before any filter (e.g. resolved incidents unless asked for).
    fn hidden(&self, _app: &App, _i: usize) -> bool {
        false
    }
    /// The record's environment, for the `e` scope.
    fn environment<'a>(&self, app: &'a App, i: usize) -> &'a str;
    /// A field's value as text (numbers as plain numbers, ages in seconds) for the filter
    /// and for sorting.
    fn field<'a>(&self, app: &'a App, i: usize, key: &str) -> Option<Cow<'a, str>>;
    /// What stays the same for a record from one situation to the next, so the selection
    /// follows the record (not the row number) when data changes underneath it.
    fn identity(&self, app: &App, i: usize) -> String {
        let mut id = self.environment(app, i).to_owned();
        for c in self.columns().iter().take(3) {
            id.push('\u{1f}');
            id.push_str(&self.field(app, i, c.key).unwrap_or_default());
        }
        id
    }
    /// Order of records before the user sorts (records in collection order by default).
    fn default_order(&self, _app: &App, a: usize, b: usize) -> Ordering {
        a.cmp(&b)
    }
    /// The cells of one record, one per column in [`Listing::columns`] order.
    fn cells(&self, app: &App, i: usize, theme: &Theme) -> Vec<Cell<'static>>;
    /// A whole row's style: stale data greyed, resolved incidents muted.
    fn row_style(&self, _app: &App, _i: usize, _theme: &Theme) -> Style {
        Style::default()
    }
    /// The detail pane's title for a record.
    fn detail_title(&self, app: &App, i: usize) -> String;
    /// The detail pane's lines: by default every field, one per line.
    fn detail(&self, app: &App, i: usize, theme: &Theme) -> Vec<Line<'static>> {
        field_lines(self, app, i, theme)
    }

    /// Every filter field this tab understands.
    fn fields(&self) -> Vec<&'static str> {
        let mut f: Vec<&'static str> = self.columns().iter().map(|c| c.key).collect();
        f.extend(self.extra_fields());
        f.dedup();
        f
    }
}

/// Every column's field of a record, one per line: the detail pane of tabs with nothing
/// more to say.
pub fn field_lines<L: Listing + ?Sized>(
    listing: &L,
    app: &App,
    i: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    listing
        .columns()
        .iter()
        .map(|c| {
            let v = listing.field(app, i, c.key).unwrap_or(Cow::Borrowed("—"));
            super::widgets::kv(c.header, v.into_owned(), theme)
        })
        .collect()
}

/// One record seen through the filter's eyes.
pub struct Record<'a> {
    pub app: &'a App,
    pub listing: &'a dyn Listing,
    pub index: usize,
}

impl Subject for Record<'_> {
    fn field(&self, name: &str) -> Option<Cow<'_, str>> {
        self.listing.field(self.app, self.index, name)
    }

    fn text(&self) -> Cow<'_, str> {
        let mut text = String::new();
        for c in self.listing.columns() {
            if let Some(v) = self.listing.field(self.app, self.index, c.key) {
                text.push_str(&v);
                text.push(' ');
            }
        }
        Cow::Owned(text)
    }
}

/// How the user sorted a tab: by a column, ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sort {
    pub column: Option<usize>,
    pub descending: bool,
}

/// The records a tab shows, in order.
#[derive(Debug, Clone, Default)]
pub struct View {
    pub rows: Vec<usize>,
    /// Records before the filter (after scope and the tab's own hiding), for "12 of 40".
    pub total: usize,
}

/// Scope, filter and sort a tab's records.
pub fn compute(
    app: &App,
    listing: &dyn Listing,
    scope: Option<&str>,
    filter: Option<&Filter>,
    sort: Sort,
) -> View {
    let mut rows: Vec<usize> = (0..listing.len(app))
        .filter(|&i| !listing.hidden(app, i))
        .filter(|&i| scope.is_none_or(|s| listing.environment(app, i) == s))
        .collect();
    let total = rows.len();
    if let Some(filter) = filter.filter(|f| !f.is_empty()) {
        rows.retain(|&index| {
            filter.matches(&Record {
                app,
                listing,
                index,
            })
        });
    }
    match sort.column.and_then(|c| listing.columns().get(c)) {
        Some(column) => {
            // Sort keys are computed once per record, not once per comparison.
            let mut keyed: Vec<(SortKey<'_>, usize)> = rows
                .iter()
                .map(|&i| (SortKey::of(listing.field(app, i, column.key)), i))
                .collect();
            keyed.sort_by(|(ka, a), (kb, b)| {
                let by_key = ka.cmp(kb);
                let by_key = if sort.descending {
                    by_key.reverse()
                } else {
                    by_key
                };
                by_key.then_with(|| listing.default_order(app, *a, *b))
            });
            rows = keyed.into_iter().map(|(_, i)| i).collect();
        }
        None => {
            rows.sort_by(|&a, &b| listing.default_order(app, a, b));
            if sort.descending {
                rows.reverse();
            }
        }
    }
    View { rows, total }
}

/// Numbers sort as numbers, everything else as case-insensitive text; missing values last.
#[derive(Debug, PartialEq)]
enum SortKey<'a> {
    Num(f64),
    Text(Cow<'a, str>),
    Missing,
}

impl<'a> SortKey<'a> {
    fn of(value: Option<Cow<'a, str>>) -> Self {
        match value {
            None => SortKey::Missing,
            Some(v) if v.is_empty() || v == "—" => SortKey::Missing,
            Some(v) => match v.parse::<f64>() {
                Ok(n) if n.is_finite() => SortKey::Num(n),
                _ => SortKey::Text(Cow::Owned(v.to_lowercase())),
            },
        }
    }

    fn rank(&self) -> u8 {
        match self {
            SortKey::Num(_) => 0,
            SortKey::Text(_) => 1,
            SortKey::Missing => 2,
        }
    }

    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (SortKey::Num(a), SortKey::Num(b)) => a.total_cmp(b),
            (SortKey::Text(a), SortKey::Text(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

/// The columns that fit `width`: drop the least important ones until the minimum widths
/// (plus one space between columns) fit; essential columns always stay.
pub fn fitting_columns(columns: &[Column], width: u16) -> Vec<usize> {
    let mut shown: Vec<usize> = (0..columns.len()).collect();
    let need = |shown: &[usize]| -> u32 {
        shown
            .iter()
            .map(|&i| u32::from(columns[i].min_width()) + 1)
            .sum()
    };
    while need(&shown) > u32::from(width) {
        let Some((pos, _)) = shown
            .iter()
            .enumerate()
            .filter(|(_, i)| columns[**i].priority > 0)
            // Drop the highest priority number; among equals, the rightmost.
            .max_by_key(|(pos, i)| (columns[**i].priority, *pos))
        else {
            break;
        };
        shown.remove(pos);
    }
    shown
}

/// The first row to draw so the selection stays on screen in `height` rows.
pub fn window_start(selected: usize, height: usize) -> usize {
    if height == 0 {
        return selected;
    }
    selected.saturating_sub(height - 1)
}

/// Field helpers for listings.
pub fn text(s: &str) -> Option<Cow<'_, str>> {
    Some(Cow::Borrowed(s))
}

pub fn number(v: Option<f64>) -> Option<Cow<'static, str>> {
    v.filter(|v| v.is_finite())
        .map(|v| Cow::Owned(format!("{v}")))
}

/// Seconds between two instants, as the filter's `age>10m` expects.
pub fn seconds_since(
    at: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Cow<'static, str>> {
    at.map(|at| Cow::Owned((now - at).num_seconds().max(0).to_string()))
}

/// The situation's clock: the snapshot's time (never the wall clock, so a frozen or
/// replayed screen reads consistently).
pub fn now(situation: &Situation) -> chrono::DateTime<chrono::Utc> {
    situation.fleet.taken_at.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_terminals_drop_optional_columns_rightmost_first() {
        let cols = [
            Column::new("A", "a", 10, 0),
            Column::new("B", "b", 10, 2),
            Column::new("C", "c", 10, 1),
            Column::new("D", "d", 10, 2),
        ];
        assert_eq!(fitting_columns(&cols, 80), vec![0, 1, 2, 3]);
        assert_eq!(fitting_columns(&cols, 40), vec![0, 1, 2]);
        assert_eq!(fitting_columns(&cols, 25), vec![0, 2]);
        assert_eq!(fitting_columns(&cols, 3), vec![0]);
    }

    #[test]
    fn sort_keys_put_numbers_first_and_missing_last() {
        let k = |s: Option<&'static str>| SortKey::of(s.map(Cow::Borrowed));
        assert_eq!(k(Some("10")).cmp(&k(Some("9"))), Ordering::Greater);
        assert_eq!(k(Some("b")).cmp(&k(Some("A"))), Ordering::Greater);
        assert_eq!(k(None).cmp(&k(Some("z"))), Ordering::Greater);
        assert_eq!(k(Some("—")), SortKey::Missing);
    }

    #[test]
    fn the_window_follows_the_selection() {
        assert_eq!(window_start(0, 10), 0);
        assert_eq!(window_start(9, 10), 0);
        assert_eq!(window_start(10, 10), 1);
        assert_eq!(window_start(5, 0), 5);
    }
}
