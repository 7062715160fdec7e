//! The "which runbook / which target?" popup: shown when more than one runbook fits the
//! selected row (or a runbook listed without a target has several candidates). Each
//! choice names the runbook, the target and the tier, so the choice is made knowingly.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::app::App;
use super::help::centered;
use super::widgets;
use crate::config::settings::Tier;
use crate::incident::IncidentId;
use crate::runbook::Target;

/// One choice: a runbook aimed at a target.
#[derive(Debug, Clone, PartialEq)]
pub struct PickItem {
    pub runbook: String,
    pub target: Target,
    pub tier: Tier,
    pub incident: Option<IncidentId>,
    /// Linked by the incident's rule (listed first, marked).
    pub linked: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Picker {
    pub title: String,
    pub items: Vec<PickItem>,
    pub selected: usize,
}

impl Picker {
    pub fn new(title: &str, items: Vec<PickItem>) -> Self {
        Self {
            title: title.to_owned(),
            items,
            selected: 0,
        }
    }

    pub fn down(&mut self) {
        self.selected = (self.selected + 1).min(self.items.len().saturating_sub(1));
    }

    pub fn up(&mut self) {
        self.selected = self.selected.saturating_sub(1);
    }

    pub fn chosen(&self) -> Option<PickItem> {
        self.items.get(self.selected).cloned()
    }
}

pub fn render(frame: &mut Frame<'_>, body: Rect, app: &App, picker: &Picker) {
    let theme = &app.theme;
    let mut lines = Vec::with_capacity(picker.items.len() + 2);
    for (i, item) in picker.items.iter().enumerate() {
        let marker = if i == picker.selected { "› " } else { "  " };
        let mut spans = vec![
            Span::styled(marker, theme.accent),
            widgets::tier_badge(item.tier, theme),
            Span::raw(" "),
            Span::styled(item.runbook.clone(), theme.accent),
            Span::raw(format!("  → {}", item.target)),
        ];
        if item.linked {
            spans.push(Span::styled(
                "  (linked by the incident's rule)",
                theme.muted,
            ));
        }
        let mut line = Line::from(spans);
        if i == picker.selected {
            line = line.style(theme.selection);
        }
        lines.push(line);
    }
    lines.push(Line::from(""));
    lines.push(Line::from(vec![
        Span::styled("Enter", theme.accent),
        Span::raw(" choose   "),
        Span::styled("Esc", theme.accent),
        Span::raw(" cancel"),
    ]));
    let width = lines.iter().map(Line::width).max().unwrap_or(40) as u16 + 4;
    let area = centered(body, width.max(40), lines.len() as u16 + 2);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).style(theme.popup).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(Span::styled(format!(" {} ", picker.title), theme.header)),
        ),
        area,
    );
}
