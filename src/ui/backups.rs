//! Backups tab: per environment and service, the last success, its age against the
//! service's interval and RPO, size and duration; for backup catalogs, how many of the
//! retention policy's slots are covered and which are missing (the detail pane lists every
//! slot).

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Cell;

use super::app::App;
use super::theme::Theme;
use super::view::{self, Column, Listing};
use super::{format, widgets};
use crate::store::model::{BackupRun, CatalogView};

pub struct Backups;
pub static LISTING: Backups = Backups;

const COLUMNS: &[Column] = &[
    Column::new("Env", "env", 12, 1),
    Column::new("Service", "service", 14, 0),
    Column::new("Last success", "last", 16, 3),
    Column::new("Age", "age", 14, 0),
    Column::new("Every", "interval", 7, 2),
    Column::new("RPO", "rpo", 7, 2),
    Column::new("Size", "size", 10, 4),
    Column::new("Took", "took", 7, 4),
    Column::fill("Retention slots", "slots", 16, 1),
];

/// A row is a backup metric or a catalog.
enum Record<'a> {
    Run(&'a BackupRun),
    Catalog(&'a CatalogView),
}

fn record(app: &App, i: usize) -> Record<'_> {
    let s = app.fleet();
    match s.backups.get(i) {
        Some(b) => Record::Run(b),
        None => Record::Catalog(&s.catalogs[i - s.backups.len()]),
    }
}

impl Listing for Backups {
    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn extra_fields(&self) -> &'static [&'static str] {
        &["tier", "missing"]
    }

    fn len(&self, app: &App) -> usize {
        app.fleet().backups.len() + app.fleet().catalogs.len()
    }

    fn environment<'a>(&self, app: &'a App, i: usize) -> &'a str {
        match record(app, i) {
            Record::Run(b) => &b.environment,
            Record::Catalog(c) => &c.environment,
        }
    }

    fn field<'a>(&self, app: &'a App, i: usize, key: &str) -> Option<Cow<'a, str>> {
        let now = view::now(&app.situation);
        match (record(app, i), key) {
            (_, "env") => view::text(self.environment(app, i)),
            (_, "tier") => app
                .tier_of(self.environment(app, i))
                .map(|t| Cow::Borrowed(t.as_str())),
            (Record::Run(b), "service") => view::text(&b.service),
            (Record::Catalog(c), "service") => view::text(&c.service),
            (Record::Run(b), "last") => view::seconds_since(b.last_success, now),
            (Record::Catalog(c), "last") => view::seconds_since(c.last_success, now),
            (Record::Run(b), "age") => b.age.map(|a| Cow::Owned(a.as_secs().to_string())),
            (Record::Catalog(c), "age") => view::seconds_since(c.last_success, now),
            (Record::Run(b), "interval") => b.interval.map(|d| Cow::Owned(d.as_secs().to_string())),
            (Record::Run(b), "rpo") => b.rpo.map(|d| Cow::Owned(d.as_secs().to_string())),
            (Record::Run(b), "size") => view::number(b.size_bytes),
            (Record::Run(b), "took") => b.duration.map(|d| Cow::Owned(d.as_secs().to_string())),
            (Record::Catalog(c), "slots") => Some(Cow::Owned(slots_text(c))),
            (Record::Catalog(c), "missing") => Some(Cow::Owned(c.missing().count().to_string())),
            _ => None,
        }
    }

    fn cells(&self, app: &App, i: usize, theme: &Theme) -> Vec<Cell<'static>> {
        let now = view::now(&app.situation);
        let last = |t: Option<chrono::DateTime<chrono::Utc>>| {
            Cell::from(format::opt(t, |t| t.format("%m-%d %H:%M UTC").to_string()))
        };
        match record(app, i) {
            Record::Run(b) => {
                let age = match (b.age, b.rpo, b.interval) {
                    (Some(age), Some(rpo), _) if age > rpo => {
                        Span::styled(format!("✖ {} > RPO", format::duration(age)), theme.crit)
                    }
                    (Some(age), _, Some(iv)) if age.as_secs_f64() > iv.as_secs_f64() * 1.5 => {
                        Span::styled(format!("▲ {} late", format::duration(age)), theme.warn)
                    }
                    (Some(age), _, _) => {
                        Span::styled(format!("✔ {}", format::duration(age)), theme.ok)
                    }
                    (None, _, _) => Span::styled("✖ never", theme.crit),
                };
                vec![
                    Cell::from(b.environment.clone()),
                    Cell::from(b.service.clone()),
                    last(b.last_success),
                    Cell::from(age),
                    Cell::from(format::opt(b.interval, format::duration)),
                    Cell::from(format::opt(b.rpo, format::duration)),
                    Cell::from(format::opt(b.size_bytes, format::bytes)),
                    Cell::from(format::opt(b.duration, format::duration)),
                    Cell::from(Span::styled("— (metric)", theme.muted)),
                ]
            }
            Record::Catalog(c) => {
                let age = match c.last_success {
                    Some(t) => Span::raw(format!("  {}", format::age(t, now))),
                    None => Span::styled("✖ never", theme.crit),
                };
                let missing = c.missing().count();
                let slots = if c.coverage.is_empty() {
                    Span::styled("no policy", theme.muted)
                } else if missing == 0 {
                    Span::styled(format!("✔ {}", slots_text(c)), theme.ok)
                } else {
                    Span::styled(format!("▲ {}", slots_text(c)), theme.warn)
                };
                vec![
                    Cell::from(c.environment.clone()),
                    Cell::from(format!("{} catalog", c.service)),
                    last(c.last_success),
                    Cell::from(age),
                    Cell::from("—"),
                    Cell::from("—"),
                    Cell::from(format!("{} listed", c.entries)),
                    Cell::from("—"),
                    Cell::from(slots),
                ]
            }
        }
    }

    fn row_style(&self, app: &App, i: usize, theme: &Theme) -> Style {
        let source = match record(app, i) {
            Record::Run(b) => b.source,
            Record::Catalog(c) => c.source,
        };
        widgets::stale_style(app.fleet(), source, theme)
    }

    fn detail_title(&self, app: &App, i: usize) -> String {
        match record(app, i) {
            Record::Run(b) => format!("backup {} ({})", b.service, b.environment),
            Record::Catalog(c) => format!("backup catalog {} ({})", c.service, c.environment),
        }
    }

    fn detail(&self, app: &App, i: usize, theme: &Theme) -> Vec<Line<'static>> {
        let Record::Catalog(c) = record(app, i) else {
            return view::field_lines(self, app, i, theme);
        };
        let mut lines = vec![Line::from(vec![
            Span::styled(format!("{} backups listed; ", c.entries), theme.muted),
            Span::raw(slots_text(c)),
        ])];
        lines.push(Line::from(""));
        for slot in &c.coverage {
            let tier = slot_name(slot.end - slot.start);
            let window = format!(
                "{} … {}",
                slot.start.format("%Y-%m-%d %H:%M"),
                slot.end.format("%Y-%m-%d %H:%M")
            );
            lines.push(match &slot.covered_by {
                Some(id) => Line::from(vec![
                    Span::styled("✔ covered ", theme.ok),
                    Span::raw(format!("{tier:<9} {window}  by {id}")),
                ]),
                None => Line::from(vec![
                    Span::styled("✖ MISSING ", theme.crit),
                    Span::raw(format!("{tier:<9} {window}")),
                ]),
            });
        }
        lines
    }
}

/// Slots are named by their length, as the retention policy's tiers are written.
fn slot_name(len: chrono::Duration) -> &'static str {
    match len.num_hours() {
        ..=1 => "hourly",
        2..=24 => "daily",
        25..=168 => "weekly",
        169..=336 => "biweekly",
        _ => "monthly",
    }
}

fn slots_text(c: &CatalogView) -> String {
    let missing = c.missing().count();
    let total = c.coverage.len();
    if missing == 0 {
        format!("{total}/{total} slots covered")
    } else {
        format!("{}/{total}, {missing} missing", total - missing)
    }
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    widgets::list(frame, area, app, "Backups");
}
