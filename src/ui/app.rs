//! UI state and the actions that change it. Keys become [`Action`]s; [`App::apply`] is the
//! only place state changes; render functions read `&App`. Requests for the engine (an
//! acknowledgement) are queued in [`App::outbox`] for the run loop to send, so the state
//! machine stays pure and testable without a terminal.

use std::sync::Arc;

use crate::engine::{Command, Situation};
use crate::incident::{Incident, IncidentId, Lifecycle};
use crate::store::Snapshot;

pub use super::action::Action;

/// The tabs, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Overview,
    Incidents,
    Nodes,
    Replication,
    Backups,
    Alerts,
}

impl Tab {
    pub const ALL: [Tab; 6] = [
        Tab::Overview,
        Tab::Incidents,
        Tab::Nodes,
        Tab::Replication,
        Tab::Backups,
        Tab::Alerts,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Incidents => "Incidents",
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

/// The console's UI state.
pub struct App {
    pub situation: Arc<Situation>,
    pub tab: Tab,
    /// Selected row per tab.
    pub selected: [usize; Tab::ALL.len()],
    pub demo: bool,
    /// Updates are held while frozen (for reading over a slow link).
    pub frozen: bool,
    pub show_resolved: bool,
    pub should_quit: bool,
    /// Who acknowledges (`$USER`).
    pub user: String,
    /// Commands for the engine, drained by the run loop.
    pub outbox: Vec<Command>,
    /// A one-line message for the footer (e.g. why an action was refused).
    pub status: Option<String>,
}

impl App {
    pub fn new(situation: Arc<Situation>, demo: bool, user: String) -> Self {
        Self {
            situation,
            tab: Tab::Overview,
            selected: [0; Tab::ALL.len()],
            demo,
            frozen: false,
            show_resolved: false,
            should_quit: false,
            user,
            outbox: Vec::new(),
            status: None,
        }
    }

    pub fn fleet(&self) -> &Snapshot {
        &self.situation.fleet
    }

    /// Take a new situation unless frozen; returns whether anything changed.
    pub fn update(&mut self, situation: Arc<Situation>) -> bool {
        if self.frozen {
            return false;
        }
        self.situation = situation;
        true
    }

    pub fn selected(&self) -> usize {
        self.selected[self.tab.index()]
    }

    /// Incidents as the Incidents tab lists them: worst severity first, then oldest first;
    /// resolved ones only when asked for, after the rest.
    pub fn incident_rows(&self) -> Vec<&Incident> {
        let mut rows: Vec<&Incident> = self
            .situation
            .incidents
            .iter()
            .filter(|i| self.show_resolved || i.lifecycle != Lifecycle::Resolved)
            .collect();
        rows.sort_by(|a, b| {
            (
                a.lifecycle == Lifecycle::Resolved,
                a.severity,
                a.opened_at,
                a.id.0,
            )
                .cmp(&(
                    b.lifecycle == Lifecycle::Resolved,
                    b.severity,
                    b.opened_at,
                    b.id.0,
                ))
        });
        rows
    }

    pub fn selected_incident(&self) -> Option<IncidentId> {
        self.incident_rows()
            .get(self.selected[Tab::Incidents.index()])
            .map(|i| i.id)
    }

    /// Rows in the current tab, for selection bounds.
    pub fn row_count(&self) -> usize {
        let s = self.fleet();
        match self.tab {
            Tab::Overview => s.environments.len(),
            Tab::Incidents => self.incident_rows().len() + self.situation.pending.len(),
            Tab::Nodes => s.nodes.len(),
            Tab::Replication => s.links.len(),
            Tab::Backups => s.backups.len(),
            Tab::Alerts => s.alerts.len(),
        }
    }

    pub fn apply(&mut self, action: Action) {
        let rows = self.row_count();
        self.status = None;
        let sel = &mut self.selected[self.tab.index()];
        match action {
            Action::Quit => self.should_quit = true,
            Action::NextTab => self.tab = Tab::ALL[(self.tab.index() + 1) % Tab::ALL.len()],
            Action::PrevTab => {
                self.tab = Tab::ALL[(self.tab.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]
            }
            Action::GoToTab(i) => {
                if let Some(t) = Tab::ALL.get(usize::from(i)) {
                    self.tab = *t;
                }
            }
            Action::Down => *sel = (*sel + 1).min(rows.saturating_sub(1)),
            Action::Up => *sel = sel.saturating_sub(1),
            Action::Top => *sel = 0,
            Action::Bottom => *sel = rows.saturating_sub(1),
            Action::ToggleFreeze => self.frozen = !self.frozen,
            Action::ToggleResolved => self.show_resolved = !self.show_resolved,
            Action::Redraw => {}
            Action::Acknowledge => self.acknowledge(),
            // Wired as the UI grows (filter, command line, detail pane, scope, sort, help).
            _ => {}
        }
    }

    fn acknowledge(&mut self) {
        if self.tab != Tab::Incidents {
            self.status = Some("a acknowledges on the Incidents tab (2)".to_owned());
            return;
        }
        let Some(id) = self.selected_incident() else {
            self.status = Some("no incident selected".to_owned());
            return;
        };
        let Some(incident) = self.situation.incident(id) else {
            return;
        };
        match incident.lifecycle {
            Lifecycle::Open => {
                self.outbox.push(Command::Acknowledge {
                    id,
                    user: self.user.clone(),
                    note: None,
                });
                self.status = Some(format!("acknowledging {id} as {}", self.user));
            }
            Lifecycle::Acknowledged => self.status = Some(format!("{id} is already acknowledged")),
            Lifecycle::Resolved => self.status = Some(format!("{id} is resolved")),
        }
    }
}
