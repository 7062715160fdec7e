//! UI state and the actions that change it. Keys become [`Action`]s; [`App::apply`] is the
//! only place state changes; render functions read `&App`.

use std::sync::Arc;

use crate::store::Snapshot;

/// The tabs, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Overview,
    Nodes,
    Replication,
    Backups,
    Alerts,
}

impl Tab {
    pub const ALL: [Tab; 5] = [
        Tab::Overview,
        Tab::Nodes,
        Tab::Replication,
        Tab::Backups,
        Tab::Alerts,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Nodes => "Nodes",
            Tab::Replication => "Replication",
            Tab::Backups => "Backups",
            Tab::Alerts => "Alerts",
        }
    }

    fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// Everything a key can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    NextTab,
    PrevTab,
    GoToTab(usize),
    Down,
    Up,
    Top,
    Bottom,
    ToggleFreeze,
    Redraw,
}

/// The console's UI state.
pub struct App {
    pub snapshot: Arc<Snapshot>,
    pub tab: Tab,
    /// Selected row per tab.
    pub selected: [usize; Tab::ALL.len()],
    pub demo: bool,
    /// Updates are held while frozen (for reading over a slow link).
    pub frozen: bool,
    pub should_quit: bool,
}

impl App {
    pub fn new(snapshot: Arc<Snapshot>, demo: bool) -> Self {
        Self {
            snapshot,
            tab: Tab::Overview,
            selected: [0; Tab::ALL.len()],
            demo,
            frozen: false,
            should_quit: false,
        }
    }

    /// Take a new snapshot unless frozen; returns whether anything changed.
    pub fn update(&mut self, snapshot: Arc<Snapshot>) -> bool {
        if self.frozen {
            return false;
        }
        self.snapshot = snapshot;
        true
    }

    pub fn selected(&self) -> usize {
        self.selected[self.tab.index()]
    }

    /// Rows in the current tab, for selection bounds.
    pub fn row_count(&self) -> usize {
        let s = &self.snapshot;
        match self.tab {
            Tab::Overview => s.environments.len(),
            Tab::Nodes => s.nodes.len(),
            Tab::Replication => s.links.len(),
            Tab::Backups => s.backups.len(),
            Tab::Alerts => s.alerts.len(),
        }
    }

    pub fn apply(&mut self, action: Action) {
        let rows = self.row_count();
        let sel = &mut self.selected[self.tab.index()];
        match action {
            Action::Quit => self.should_quit = true,
            Action::NextTab => self.tab = Tab::ALL[(self.tab.index() + 1) % Tab::ALL.len()],
            Action::PrevTab => {
                self.tab = Tab::ALL[(self.tab.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]
            }
            Action::GoToTab(i) => {
                if let Some(t) = Tab::ALL.get(i) {
                    self.tab = *t;
                }
            }
            Action::Down => *sel = (*sel + 1).min(rows.saturating_sub(1)),
            Action::Up => *sel = sel.saturating_sub(1),
            Action::Top => *sel = 0,
            Action::Bottom => *sel = rows.saturating_sub(1),
            Action::ToggleFreeze => self.frozen = !self.frozen,
            Action::Redraw => {}
        }
    }
}
