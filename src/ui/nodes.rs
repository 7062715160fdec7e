//! Nodes tab: every host per environment and cluster with role, up, CPU / memory / disk,
//! load and uptime; sortable by any column. Stale rows are greyed.

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::Cell;

use super::app::App;
use super::theme::Theme;
use super::view::{self, Column, Listing};
use super::{format, widgets};

pub struct Nodes;
pub static LISTING: Nodes = Nodes;

const COLUMNS: &[Column] = &[
    Column::new("Env", "env", 12, 1),
    Column::new("Cluster", "cluster", 12, 3),
    Column::new("Node", "node", 14, 0),
    Column::new("Role", "role", 8, 4),
    Column::new("Up", "up", 7, 0),
    Column::new("CPU", "cpu", 5, 0),
    Column::new("Mem", "mem", 5, 0),
    Column::new("Disk", "disk", 5, 0),
    Column::new("Load", "load", 6, 2),
    Column::fill("Uptime", "uptime", 7, 2),
];

impl Listing for Nodes {
    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn extra_fields(&self) -> &'static [&'static str] {
        &["tier"]
    }

    fn len(&self, app: &App) -> usize {
        app.fleet().nodes.len()
    }

    fn environment<'a>(&self, app: &'a App, i: usize) -> &'a str {
        &app.fleet().nodes[i].environment
    }

    fn field<'a>(&self, app: &'a App, i: usize, key: &str) -> Option<Cow<'a, str>> {
        let n = &app.fleet().nodes[i];
        match key {
            "env" => view::text(&n.environment),
            "tier" => app
                .tier_of(&n.environment)
                .map(|t| Cow::Borrowed(t.as_str())),
            "cluster" => n.cluster.as_deref().map(Cow::Borrowed),
            "node" => view::text(&n.name),
            "role" => n.role.as_deref().map(Cow::Borrowed),
            "up" => view::text(if n.up { "up" } else { "down" }),
            "cpu" => view::number(n.cpu_percent),
            "mem" => view::number(n.memory_percent),
            "disk" => view::number(n.root_disk_percent),
            "load" => view::number(n.load1),
            "uptime" => n.uptime.map(|u| Cow::Owned(u.as_secs().to_string())),
            _ => None,
        }
    }

    fn cells(&self, app: &App, i: usize, theme: &Theme) -> Vec<Cell<'static>> {
        let n = &app.fleet().nodes[i];
        let pct = |v: Option<f64>, warn: f64, crit: f64| {
            let style = match v {
                Some(v) if v >= crit => theme.crit,
                Some(v) if v >= warn => theme.warn,
                _ => theme.base,
            };
            Cell::from(Span::styled(format::percent(v), style))
        };
        vec![
            Cell::from(n.environment.clone()),
            Cell::from(n.cluster.clone().unwrap_or_default()),
            Cell::from(n.name.clone()),
            Cell::from(n.role.clone().unwrap_or_default()),
            Cell::from(widgets::yes_no(n.up, "up", "down", theme)),
            pct(n.cpu_percent, 70.0, 85.0),
            pct(n.memory_percent, 80.0, 90.0),
            pct(n.root_disk_percent, 80.0, 90.0),
            Cell::from(format::opt(n.load1, |l| format!("{l:.2}"))),
            Cell::from(format::opt(n.uptime, format::duration)),
        ]
    }

    fn row_style(&self, app: &App, i: usize, theme: &Theme) -> Style {
        widgets::stale_style(app.fleet(), app.fleet().nodes[i].source, theme)
    }

    fn detail_title(&self, app: &App, i: usize) -> String {
        let n = &app.fleet().nodes[i];
        format!("node {} ({})", n.name, n.environment)
    }
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    widgets::list(frame, area, app, "Nodes");
}
