//! What a key (or a click, or a `:` command) can ask the UI to do. Keys map to actions
//! through the keymap; [`super::app::App::apply`] is the only place an action changes state.
//!
//! Every action has a stable snake_case name: the keymap file binds keys to these names, and
//! the help screen and footer hints describe them with [`Action::describe`].

/// Everything a key can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Quit,
    /// Close the innermost thing open (popup, detail pane, filter); on the top level, quit.
    Back,
    Help,
    NextTab,
    PrevTab,
    /// Go to tab N (0-based; the keymap names them `tab_1` … `tab_7`).
    GoToTab(u8),
    Down,
    Up,
    Top,
    Bottom,
    PageDown,
    PageUp,
    /// Open the selected row's detail pane.
    Open,
    /// Start typing a filter (`/`).
    Filter,
    /// Start typing a command (`:`).
    Command,
    /// Cycle the environment scope: all, then each environment in turn.
    CycleEnvironment,
    /// Sort by the next column; pressed again on the last column, back to the default order.
    SortNext,
    /// Reverse the sort order.
    SortReverse,
    ToggleFreeze,
    /// Clear the terminal and draw everything again.
    Redraw,
    /// Acknowledge the selected incident (Incidents tab), asking for an optional note.
    Acknowledge,
    /// Show or hide resolved incidents.
    ToggleResolved,
    /// Open the runbook dialog for the selected row (a choice when several fit).
    RunRunbook,
    /// In a run's output pane: cancel the run (asked twice).
    CancelRun,
    /// Silence the selected alert (or an incident's alert) in Alertmanager; on a silence,
    /// expire it. Both ask first.
    Silence,
}

/// How many tabs the keymap can address by number.
pub const TAB_COUNT: u8 = 7;

impl Action {
    /// Every action, in the order the help screen lists them.
    pub fn all() -> Vec<Action> {
        let mut all = vec![
            Action::Help,
            Action::Quit,
            Action::Back,
            Action::NextTab,
            Action::PrevTab,
        ];
        all.extend((0..TAB_COUNT).map(Action::GoToTab));
        all.extend([
            Action::Down,
            Action::Up,
            Action::Top,
            Action::Bottom,
            Action::PageDown,
            Action::PageUp,
            Action::Open,
            Action::Filter,
            Action::Command,
            Action::CycleEnvironment,
            Action::SortNext,
            Action::SortReverse,
            Action::ToggleFreeze,
            Action::Redraw,
            Action::Acknowledge,
            Action::ToggleResolved,
            Action::RunRunbook,
            Action::CancelRun,
            Action::Silence,
        ]);
        all
    }

    /// The name the keymap file uses.
    pub fn name(self) -> String {
        match self {
            Action::Quit => "quit".into(),
            Action::Back => "back".into(),
            Action::Help => "help".into(),
            Action::NextTab => "next_tab".into(),
            Action::PrevTab => "prev_tab".into(),
            Action::GoToTab(i) => format!("tab_{}", u16::from(i) + 1),
            Action::Down => "down".into(),
            Action::Up => "up".into(),
            Action::Top => "top".into(),
            Action::Bottom => "bottom".into(),
            Action::PageDown => "page_down".into(),
            Action::PageUp => "page_up".into(),
            Action::Open => "open".into(),
            Action::Filter => "filter".into(),
            Action::Command => "command".into(),
            Action::CycleEnvironment => "cycle_environment".into(),
            Action::SortNext => "sort".into(),
            Action::SortReverse => "sort_reverse".into(),
            Action::ToggleFreeze => "freeze".into(),
            Action::Redraw => "redraw".into(),
            Action::Acknowledge => "acknowledge".into(),
            Action::ToggleResolved => "toggle_resolved".into(),
            Action::RunRunbook => "run_runbook".into(),
            Action::CancelRun => "cancel_run".into(),
            Action::Silence => "silence".into(),
        }
    }

    /// The action a keymap name stands for.
    pub fn from_name(name: &str) -> Option<Action> {
        Action::all().into_iter().find(|a| a.name() == name)
    }

    /// A few words for the help screen and the footer hints.
    pub fn describe(self) -> String {
        match self {
            Action::Quit => "quit".into(),
            Action::Back => "back / close".into(),
            Action::Help => "help".into(),
            Action::NextTab => "next tab".into(),
            Action::PrevTab => "previous tab".into(),
            Action::GoToTab(i) => format!("tab {}", u16::from(i) + 1),
            Action::Down => "down".into(),
            Action::Up => "up".into(),
            Action::Top => "first row".into(),
            Action::Bottom => "last row".into(),
            Action::PageDown => "page down".into(),
            Action::PageUp => "page up".into(),
            Action::Open => "details".into(),
            Action::Filter => "filter".into(),
            Action::Command => "command".into(),
            Action::CycleEnvironment => "environment scope".into(),
            Action::SortNext => "sort by next column".into(),
            Action::SortReverse => "reverse sort".into(),
            Action::ToggleFreeze => "freeze updates".into(),
            Action::Redraw => "redraw screen".into(),
            Action::Acknowledge => "acknowledge".into(),
            Action::ToggleResolved => "show resolved".into(),
            Action::RunRunbook => "run a runbook".into(),
            Action::CancelRun => "cancel the run".into(),
            Action::Silence => "silence alert / expire silence".into(),
        }
    }

    /// Actions with consequences outside this console (an acknowledgement stops the
    /// escalation clock for everyone; a cancel kills a runbook half-way). These may not sit on a single Ctrl chord, where a
    /// slipped finger or a terminal multiplexer's prefix could fire them.
    pub fn is_consequential(self) -> bool {
        matches!(
            self,
            Action::Acknowledge | Action::CancelRun | Action::Silence
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let all = Action::all();
        let mut names: Vec<String> = all.iter().map(|a| a.name()).collect();
        for a in &all {
            assert_eq!(Action::from_name(&a.name()), Some(*a));
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len());
        assert_eq!(Action::from_name("tab_7"), Some(Action::GoToTab(6)));
        assert_eq!(Action::from_name("tab_8"), None);
    }
}
