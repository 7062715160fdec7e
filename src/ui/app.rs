//! UI state and the only place it changes. Keys become [`Action`]s through the keymap (or
//! edit the `/` and `:` prompts); [`App::apply`] changes state; render functions read
//! `&App`. Requests for the engine (an acknowledgement) are queued in [`App::outbox`] for
//! the run loop to send, so the state machine stays pure and testable without a terminal.
//!
//! What a tab lists is recomputed here — scope, filter, sort — when data or a choice
//! changes, never while drawing, so a frame only touches the rows on screen.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::command::{self, UiCommand, Vocabulary};
use super::filter::Filter;
use super::keymap::{Key, Keymap};
use super::launch::RunnerOrder;
use super::line::LineEditor;
use super::picker::Picker;
use super::run_dialog::RunDialog;
use super::runs::{RunView, Runs};
use super::theme::Theme;
use super::view::{self, Listing, Sort, View};
use crate::config::settings::{SourceSpec, Tier};
use crate::engine::{Command, Situation};
use crate::incident::{Incident, IncidentId, Lifecycle};
use crate::runbook::spec::RunbookSpec;
use crate::runbook::{RunId, Target};
use crate::store::Snapshot;

pub use super::action::Action;

/// The tabs, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    Overview,
    Incidents,
    Nodes,
    Replication,
    Backups,
    Alerts,
    Runbooks,
}

impl Tab {
    pub const ALL: [Tab; 7] = [
        Tab::Overview,
        Tab::Incidents,
        Tab::Nodes,
        Tab::Replication,
        Tab::Backups,
        Tab::Alerts,
        Tab::Runbooks,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Incidents => "Incidents",
            Tab::Nodes => "Nodes",
            Tab::Replication => "Replication",
            Tab::Backups => "Backups",
            Tab::Alerts => "Alerts",
            Tab::Runbooks => "Runbooks",
        }
    }

    /// The name `:tab` takes.
    pub fn slug(self) -> &'static str {
        match self {
            Tab::Overview => "overview",
            Tab::Incidents => "incidents",
            Tab::Nodes => "nodes",
            Tab::Replication => "replication",
            Tab::Backups => "backups",
            Tab::Alerts => "alerts",
            Tab::Runbooks => "runbooks",
        }
    }

    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    pub fn listing(self) -> &'static dyn Listing {
        match self {
            Tab::Overview => &super::overview::LISTING,
            Tab::Incidents => &super::incidents::LISTING,
            Tab::Nodes => &super::nodes::LISTING,
            Tab::Replication => &super::replication::LISTING,
            Tab::Backups => &super::backups::LISTING,
            Tab::Alerts => &super::alerts::LISTING,
            Tab::Runbooks => &super::runbooks::LISTING,
        }
    }
}

const TABS: usize = Tab::ALL.len();

/// What the keyboard is talking to.
#[derive(Debug, Clone)]
pub enum Mode {
    Normal,
    /// The `?` popup, scrolled down this many lines.
    Help {
        scroll: u16,
    },
    /// The selected row's detail pane.
    Detail,
    /// Typing a `/` filter; it applies live as it parses.
    Filter(LineEditor),
    /// Typing a `:` command; `candidates` are the last completion's choices.
    Command {
        line: LineEditor,
        candidates: Vec<String>,
    },
    /// The acknowledge dialog, asking for an optional note.
    Acknowledge {
        id: IncidentId,
        note: LineEditor,
    },
    /// Choosing a runbook (or a target) for the selected row.
    Pick(Picker),
    /// The runbook confirmation dialog.
    RunDialog(Box<RunDialog>),
    /// A run's output pane, `scroll` lines up from the newest; `confirm_cancel` after the
    /// first press of the cancel key.
    RunOutput {
        run: RunId,
        scroll: usize,
        confirm_cancel: bool,
    },
}

/// How a footer message should look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    Info,
    Error,
}

/// One environment's row on the Overview tab, computed once per situation.
#[derive(Debug, Clone, Default)]
pub struct EnvSummary {
    pub name: String,
    pub tier: Option<Tier>,
    pub nodes_up: usize,
    pub nodes: usize,
    pub health_up: usize,
    pub health: usize,
    pub worst_lag: Option<f64>,
    /// The backup closest to (or furthest past) its RPO: (age, rpo).
    pub worst_backup: Option<(std::time::Duration, Option<std::time::Duration>)>,
    pub alerts: usize,
    pub incidents_by_sev: [usize; 3],
    pub sources_ok: usize,
    pub sources_failing: usize,
    pub sources_stale: usize,
}

/// A runbook that can run now: one an active incident links (aimed at the target the
/// incident names), or a configured runbook in an environment it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunbookOffer {
    pub runbook: String,
    pub environment: String,
    pub tier: Tier,
    /// Where it is aimed, when known; `None` lets the engineer pick a target.
    pub target: Option<Target>,
    /// `node prod-web3`, `cluster prod-galera`, `any node`, … for the list.
    pub target_label: String,
    pub incident: Option<IncidentId>,
    /// The rule that links it (incident offers).
    pub rule: Option<String>,
    /// A `[[runbook]]` with this name exists (a rule may link one that does not).
    pub configured: bool,
    pub description: String,
}

/// Who is at the keyboard and how the console was started.
#[derive(Debug, Clone)]
pub struct AppOptions {
    pub demo: bool,
    pub user: String,
    pub theme: Theme,
    pub keymap: Keymap,
    /// Rule → runbooks it links, from the loaded rule set (for the Runbooks tab).
    pub runbook_links: Vec<(String, Vec<String>)>,
    pub mouse: bool,
    /// Where `:theme NAME` looks for user themes besides the built-ins.
    pub themes_dir: Option<std::path::PathBuf>,
    /// The configured runbooks.
    pub runbooks: Arc<Vec<RunbookSpec>>,
    /// Runbook hotkeys, checked against the keymap at start.
    pub runbook_keys: Vec<(Key, String)>,
    /// Runs the audit log remembers.
    pub history: Vec<RunView>,
    /// Hide and refuse every runbook action.
    pub read_only: bool,
    /// Run only plans.
    pub dry_run: bool,
    /// The Alertmanager sources silences can be created in (URL and credentials).
    pub alertmanagers: Arc<Vec<SourceSpec>>,
}

impl AppOptions {
    /// Defaults for tests and tools: dark theme, default keymap, no runbooks.
    pub fn new(demo: bool, user: impl Into<String>) -> Self {
        Self {
            demo,
            user: user.into(),
            theme: Theme::dark(),
            keymap: Keymap::builtin(),
            runbook_links: Vec::new(),
            mouse: false,
            themes_dir: None,
            runbooks: Arc::new(Vec::new()),
            runbook_keys: Vec::new(),
            history: Vec::new(),
            read_only: false,
            dry_run: false,
            alertmanagers: Arc::new(Vec::new()),
        }
    }
}

/// The console's UI state.
pub struct App {
    pub situation: Arc<Situation>,
    pub theme: Theme,
    pub keymap: Keymap,
    pub tab: Tab,
    pub mode: Mode,
    /// Selected row per tab, as a position in that tab's view.
    pub selected: [usize; TABS],
    pub sort: [Sort; TABS],
    pub filters: [Option<Filter>; TABS],
    pub views: [View; TABS],
    /// `None` = every environment.
    pub scope: Option<String>,
    pub demo: bool,
    /// Updates are held while frozen (for reading over a slow link).
    pub frozen: bool,
    pub show_resolved: bool,
    pub should_quit: bool,
    /// Set by `redraw`: the run loop clears the terminal before the next frame.
    pub clear_screen: bool,
    pub mouse: bool,
    /// Who acknowledges (`$USER`).
    pub user: String,
    /// Commands for the engine, drained by the run loop.
    pub outbox: Vec<Command>,
    /// A one-line message for the footer (why an action was refused, what it did).
    pub status: Option<(String, StatusKind)>,
    pub summaries: Vec<EnvSummary>,
    pub offers: Vec<RunbookOffer>,
    pub runbook_links: Vec<(String, Vec<String>)>,
    themes_dir: Option<std::path::PathBuf>,
    /// Last known terminal size, for page moves and mouse hits.
    pub size: (u16, u16),
    /// Filter and command history, shared by both prompts.
    history: Vec<String>,
    pub runbooks: Arc<Vec<RunbookSpec>>,
    pub runbook_keys: Vec<(Key, String)>,
    /// Runs started here and runs the audit log remembers, newest first.
    pub runs: Runs,
    /// Orders for the runner, drained by the run loop.
    pub(super) runner_orders: Vec<RunnerOrder>,
    pub read_only: bool,
    pub dry_run: bool,
    pub alertmanagers: Arc<Vec<SourceSpec>>,
    /// Quit was pressed once while runs were going.
    quit_armed: bool,
}

impl App {
    pub fn new(situation: Arc<Situation>, options: AppOptions) -> Self {
        let mut app = Self {
            situation,
            theme: options.theme,
            keymap: options.keymap,
            tab: Tab::Overview,
            mode: Mode::Normal,
            selected: [0; TABS],
            sort: [Sort::default(); TABS],
            filters: Default::default(),
            views: Default::default(),
            scope: None,
            demo: options.demo,
            frozen: false,
            show_resolved: false,
            should_quit: false,
            clear_screen: false,
            mouse: options.mouse,
            user: options.user,
            outbox: Vec::new(),
            status: None,
            summaries: Vec::new(),
            offers: Vec::new(),
            runbook_links: options.runbook_links,
            themes_dir: options.themes_dir,
            size: (80, 24),
            history: Vec::new(),
            runbooks: options.runbooks,
            runbook_keys: options.runbook_keys,
            runs: Runs::from_history(options.history),
            runner_orders: Vec::new(),
            read_only: options.read_only,
            dry_run: options.dry_run,
            alertmanagers: options.alertmanagers,
            quit_armed: false,
        };
        app.refresh();
        app
    }

    pub fn fleet(&self) -> &Snapshot {
        &self.situation.fleet
    }

    /// Take a new situation unless frozen; returns whether anything changed.
    pub fn update(&mut self, situation: Arc<Situation>) -> bool {
        if self.frozen {
            return false;
        }
        // Keep each tab's selection on the same record, wherever it moved.
        let selected: Vec<Option<String>> = Tab::ALL
            .iter()
            .map(|t| {
                let i = self.views[t.index()].rows.get(self.selected[t.index()])?;
                Some(t.listing().identity(self, *i))
            })
            .collect();
        self.situation = situation;
        self.refresh();
        for (t, id) in Tab::ALL.iter().zip(selected) {
            if let Some(id) = id {
                self.reselect(*t, &id);
            }
        }
        true
    }

    /// Select the row showing the record with this identity, if it is still listed.
    fn reselect(&mut self, tab: Tab, id: &str) {
        let t = tab.index();
        let listing = tab.listing();
        let same = |app: &App, pos: usize| {
            app.views[t]
                .rows
                .get(pos)
                .is_some_and(|&i| listing.identity(app, i) == id)
        };
        // Usually nothing moved: check the old position before searching.
        if same(self, self.selected[t]) {
            return;
        }
        if let Some(pos) = (0..self.views[t].rows.len()).find(|&p| same(self, p)) {
            self.selected[t] = pos;
        }
    }

    pub fn selected(&self) -> usize {
        self.selected[self.tab.index()]
    }

    pub fn view(&self) -> &View {
        &self.views[self.tab.index()]
    }

    /// The record index (into the tab's collection) of the selected row.
    pub fn selected_record(&self) -> Option<usize> {
        self.view().rows.get(self.selected()).copied()
    }

    /// Incidents as the Incidents tab lists them (after scope, filter and sort).
    pub fn incident_rows(&self) -> Vec<&Incident> {
        self.views[Tab::Incidents.index()]
            .rows
            .iter()
            .filter_map(|&i| self.situation.incidents.get(i))
            .collect()
    }

    pub fn selected_incident(&self) -> Option<IncidentId> {
        let i = self.views[Tab::Incidents.index()]
            .rows
            .get(self.selected[Tab::Incidents.index()])?;
        self.situation.incidents.get(*i).map(|i| i.id)
    }

    /// The tier of what the user is looking at: the scoped environment's, or the worst in
    /// the fleet (production if any environment is production).
    pub fn tier_in_view(&self) -> Option<Tier> {
        let envs = &self.fleet().environments;
        match &self.scope {
            Some(name) => envs.iter().find(|e| &e.name == name).map(|e| e.tier),
            None => envs.iter().map(|e| e.tier).min_by_key(|t| tier_rank(*t)),
        }
    }

    pub fn tier_of(&self, environment: &str) -> Option<Tier> {
        self.fleet()
            .environments
            .iter()
            .find(|e| e.name == environment)
            .map(|e| e.tier)
    }

    pub(super) fn set_status(&mut self, text: impl Into<String>, kind: StatusKind) {
        self.status = Some((text.into(), kind));
    }

    /// Recompute what derives from the situation, then every tab's view.
    fn refresh(&mut self) {
        self.summaries = summarize(&self.situation);
        self.offers = runbook_offers(&self.situation, &self.runbooks, self.read_only);
        if let Some(scope) = &self.scope
            && !self.fleet().environments.iter().any(|e| &e.name == scope)
        {
            // The environment left the configuration's snapshot; show everything rather
            // than an empty screen that looks healthy.
            self.scope = None;
        }
        self.compute_views();
    }

    fn compute_views(&mut self) {
        for tab in Tab::ALL {
            self.compute_view(tab);
        }
    }

    /// Recompute one tab's view on the same situation, keeping the selected record selected.
    pub(super) fn refresh_view(&mut self, tab: Tab) {
        let i = tab.index();
        let id = self.views[i]
            .rows
            .get(self.selected[i])
            .map(|&r| tab.listing().identity(self, r));
        self.compute_view(tab);
        if let Some(id) = id {
            self.reselect(tab, &id);
        }
    }

    /// Recompute one tab's view. After a new situation the old view's record indices mean
    /// nothing, so this never looks at them.
    fn compute_view(&mut self, tab: Tab) {
        let i = tab.index();
        let typing = self.typed_filter(tab);
        let v = view::compute(
            self,
            tab.listing(),
            self.scope.as_deref(),
            typing.as_ref().or(self.filters[i].as_ref()),
            self.sort[i],
        );
        self.selected[i] = self.selected[i].min(v.rows.len().saturating_sub(1));
        self.views[i] = v;
    }

    /// The filter being typed on `tab`, when it parses: it applies live, also to data that
    /// arrives while typing.
    fn typed_filter(&self, tab: Tab) -> Option<Filter> {
        match &self.mode {
            Mode::Filter(line) if tab == self.tab => {
                Filter::parse(line.text(), &tab.listing().fields()).ok()
            }
            _ => None,
        }
    }

    /// Rows a page move skips: the table's height at the last known size.
    fn page(&self) -> usize {
        usize::from(self.size.1.saturating_sub(6)).max(1)
    }

    /// A key press, routed by mode: prompts edit text, everything else goes through the
    /// keymap.
    pub fn key(&mut self, key: KeyEvent) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        match &self.mode {
            Mode::Filter(_) | Mode::Command { .. } | Mode::Acknowledge { .. } => {
                self.prompt_key(key)
            }
            Mode::RunDialog(_) => {
                // A held key must not type into a confirmation or press Run.
                if key.kind != KeyEventKind::Repeat {
                    self.run_dialog_key(key);
                }
            }
            _ => {
                let Some(k) = Key::from_event(&key) else {
                    return;
                };
                if let Some(action) = self.keymap.action(&k) {
                    // A held key must not repeat something others see.
                    if key.kind == KeyEventKind::Repeat && action.is_consequential() {
                        return;
                    }
                    self.apply(action);
                } else if matches!(self.mode, Mode::Normal | Mode::Detail)
                    && key.kind != KeyEventKind::Repeat
                    && let Some((_, runbook)) = self.runbook_keys.iter().find(|(rk, _)| *rk == k)
                {
                    let runbook = runbook.clone();
                    self.mode = Mode::Normal;
                    self.runbook_hotkey(&runbook);
                }
            }
        }
    }

    pub fn apply(&mut self, action: Action) {
        self.status = None;
        // Anything above the tables takes `back` (and `q`, which means back there).
        match (&self.mode, action) {
            (Mode::Help { .. }, Action::Back | Action::Quit | Action::Help) => {
                self.mode = Mode::Normal;
                return;
            }
            (Mode::Help { scroll }, a) => {
                let scroll = *scroll;
                let page = self.page() as u16;
                let scroll = match a {
                    Action::Down => scroll.saturating_add(1),
                    Action::Up => scroll.saturating_sub(1),
                    Action::PageDown => scroll.saturating_add(page),
                    Action::PageUp => scroll.saturating_sub(page),
                    Action::Top => 0,
                    Action::Bottom => u16::MAX,
                    _ => scroll,
                };
                // The popup clamps what it can show; keep the stored value in reach.
                self.mode = Mode::Help {
                    scroll: scroll.min(super::help::max_scroll(self)),
                };
                return;
            }
            (Mode::Detail, Action::Back | Action::Quit | Action::Open) => {
                self.mode = Mode::Normal;
                return;
            }
            (Mode::Pick(_), Action::Back | Action::Quit) => {
                self.mode = Mode::Normal;
                return;
            }
            (Mode::Pick(p), a) => {
                let mut p = p.clone();
                match a {
                    Action::Down => p.down(),
                    Action::Up => p.up(),
                    Action::Open => {
                        let params = BTreeMap::new();
                        self.mode = Mode::Normal;
                        self.open_dialog(p.chosen(), params);
                        return;
                    }
                    _ => {}
                }
                self.mode = Mode::Pick(p);
                return;
            }
            (Mode::RunOutput { .. }, Action::Back | Action::Quit) => {
                self.mode = Mode::Normal;
                return;
            }
            (Mode::RunOutput { .. }, Action::CancelRun) => {
                self.cancel_run();
                return;
            }
            (Mode::RunOutput { scroll, .. }, a) => {
                let page = self.page();
                let new = match a {
                    Action::Up => scroll.saturating_add(1),
                    Action::Down => scroll.saturating_sub(1),
                    Action::PageUp => scroll.saturating_add(page),
                    Action::PageDown => scroll.saturating_sub(page),
                    Action::Top => usize::MAX / 2,
                    Action::Bottom => 0,
                    _ => *scroll,
                };
                if let Mode::RunOutput { scroll, .. } = &mut self.mode {
                    *scroll = new;
                }
                return;
            }
            _ => {}
        }
        let t = self.tab.index();
        let rows = self.views[t].rows.len();
        let page = self.page();
        let sel = &mut self.selected[t];
        match action {
            Action::Quit => {
                let running = self
                    .runs
                    .all()
                    .iter()
                    .filter(|r| r.live && r.state.is_active())
                    .count();
                if running > 0 && !self.quit_armed {
                    self.quit_armed = true;
                    self.set_status(
                        format!(
                            "{running} runbook run(s) still going: quit again to cancel them                              (SIGTERM, then SIGKILL) and leave"
                        ),
                        StatusKind::Error,
                    );
                } else {
                    self.should_quit = true;
                }
            }
            Action::Back => {
                if self.filters[t].take().is_some() {
                    self.refresh_view(self.tab);
                    self.set_status("filter cleared", StatusKind::Info);
                }
            }
            Action::Help => self.mode = Mode::Help { scroll: 0 },
            Action::NextTab => self.go_to(Tab::ALL[(t + 1) % TABS]),
            Action::PrevTab => self.go_to(Tab::ALL[(t + TABS - 1) % TABS]),
            Action::GoToTab(i) => {
                if let Some(tab) = Tab::ALL.get(usize::from(i)) {
                    self.go_to(*tab);
                }
            }
            Action::Down => *sel = (*sel + 1).min(rows.saturating_sub(1)),
            Action::Up => *sel = sel.saturating_sub(1),
            Action::Top => *sel = 0,
            Action::Bottom => *sel = rows.saturating_sub(1),
            Action::PageDown => *sel = (*sel + page).min(rows.saturating_sub(1)),
            Action::PageUp => *sel = sel.saturating_sub(page),
            Action::Open => {
                if rows == 0 {
                    self.set_status("nothing selected", StatusKind::Info);
                } else if let Some(run) = self.selected_run() {
                    // A run's detail is its output pane.
                    self.mode = Mode::RunOutput {
                        run,
                        scroll: 0,
                        confirm_cancel: false,
                    };
                } else {
                    self.mode = Mode::Detail;
                }
            }
            Action::Filter => {
                let mut line = self.new_line();
                if let Some(f) = &self.filters[t] {
                    line.set(&f.to_string());
                }
                self.mode = Mode::Filter(line);
            }
            Action::Command => {
                self.mode = Mode::Command {
                    line: self.new_line(),
                    candidates: Vec::new(),
                }
            }
            Action::CycleEnvironment => self.cycle_scope(),
            Action::SortNext => {
                let columns = self.tab.listing().columns().len();
                let s = &mut self.sort[t];
                s.column = match s.column {
                    None => Some(0),
                    Some(c) if c + 1 < columns => Some(c + 1),
                    Some(_) => None,
                };
                self.refresh_view(self.tab);
                self.announce_sort();
            }
            Action::SortReverse => {
                self.sort[t].descending = !self.sort[t].descending;
                self.refresh_view(self.tab);
                self.announce_sort();
            }
            Action::ToggleFreeze => {
                self.frozen = !self.frozen;
                self.set_status(
                    if self.frozen {
                        "frozen: updates held (f resumes)"
                    } else {
                        "live again"
                    },
                    StatusKind::Info,
                );
            }
            Action::ToggleResolved => {
                self.show_resolved = !self.show_resolved;
                self.refresh_view(Tab::Incidents);
            }
            Action::Redraw => self.clear_screen = true,
            Action::Acknowledge => self.start_acknowledge(),
            Action::Silence => {
                if matches!(self.mode, Mode::Detail) {
                    self.mode = Mode::Normal;
                }
                self.start_silence();
            }
            Action::RunRunbook => {
                if matches!(self.mode, Mode::Detail) {
                    self.mode = Mode::Normal;
                }
                self.start_runbook();
            }
            Action::CancelRun => {
                let key = self
                    .keymap
                    .hint(Action::CancelRun)
                    .unwrap_or_else(|| "x".into());
                self.set_status(
                    format!("{key} cancels a run from its output pane (Runbooks tab, Enter)"),
                    StatusKind::Info,
                );
            }
        }
    }

    /// The run on the selected Runbooks row, if it is a run.
    pub fn selected_run(&self) -> Option<RunId> {
        if self.tab != Tab::Runbooks {
            return None;
        }
        let i = self.selected_record()?.checked_sub(self.offers.len())?;
        self.runs.all().get(i).map(|r| r.id.clone())
    }

    fn go_to(&mut self, tab: Tab) {
        self.tab = tab;
        if matches!(self.mode, Mode::Detail) {
            self.mode = Mode::Normal;
        }
    }

    fn announce_sort(&mut self) {
        let s = self.sort[self.tab.index()];
        let by = s
            .column
            .and_then(|c| self.tab.listing().columns().get(c))
            .map_or("default order", |c| c.header);
        let dir = if s.descending { "↓" } else { "↑" };
        self.set_status(format!("sorted by {by} {dir}"), StatusKind::Info);
    }

    fn cycle_scope(&mut self) {
        let names: Vec<String> = self
            .fleet()
            .environments
            .iter()
            .map(|e| e.name.clone())
            .collect();
        self.scope = match &self.scope {
            None => names.first().cloned(),
            Some(cur) => names
                .iter()
                .position(|n| n == cur)
                .and_then(|p| names.get(p + 1))
                .cloned(),
        };
        self.after_scope_change();
    }

    fn after_scope_change(&mut self) {
        self.selected = [0; TABS];
        self.compute_views();
        let text = match &self.scope {
            Some(env) => format!("environment: {env}"),
            None => "environment: all".to_owned(),
        };
        self.set_status(text, StatusKind::Info);
    }

    /// The dialog asks for an optional note; `:ack NOTE` skips it.
    fn start_acknowledge(&mut self) {
        match self.acknowledgeable() {
            Ok(id) => {
                self.mode = Mode::Acknowledge {
                    id,
                    note: LineEditor::default(),
                }
            }
            Err(why) => self.set_status(why, StatusKind::Error),
        }
    }

    fn acknowledgeable(&self) -> Result<IncidentId, String> {
        if self.tab != Tab::Incidents {
            let key = self
                .keymap
                .hint(Action::Acknowledge)
                .unwrap_or_else(|| ":ack".to_owned());
            return Err(format!("{key} acknowledges on the Incidents tab (2)"));
        }
        let id = self
            .selected_incident()
            .ok_or_else(|| "no incident selected".to_owned())?;
        let incident = self
            .situation
            .incident(id)
            .ok_or_else(|| "no incident selected".to_owned())?;
        match incident.lifecycle {
            Lifecycle::Open => Ok(id),
            Lifecycle::Acknowledged => Err(format!("{id} is already acknowledged")),
            Lifecycle::Resolved => Err(format!("{id} is resolved")),
        }
    }

    fn send_acknowledge(&mut self, id: IncidentId, note: Option<String>) {
        self.outbox.push(Command::Acknowledge {
            id,
            user: self.user.clone(),
            note,
        });
        self.set_status(
            format!("acknowledging {id} as {}", self.user),
            StatusKind::Info,
        );
    }

    /// Keys while a prompt is open: Enter submits, Esc cancels, Tab completes commands,
    /// Up/Down walk the history, the rest edits the line.
    fn prompt_key(&mut self, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => {
                let was_filter = matches!(self.mode, Mode::Filter(_));
                self.mode = Mode::Normal;
                if was_filter {
                    // Esc abandons the edit, not the filter that was active before.
                    self.refresh_view(self.tab);
                }
                return;
            }
            KeyCode::Enter => {
                self.submit_prompt();
                return;
            }
            KeyCode::Tab => {
                self.complete_command();
                return;
            }
            _ => {}
        }
        let Some(line) = self.line_mut() else { return };
        match key.code {
            KeyCode::Char('w') if ctrl => {
                line.delete_word_back();
            }
            KeyCode::Char('u') if ctrl => {
                line.clear_to_start();
            }
            KeyCode::Char('k') if ctrl => {
                line.clear_to_end();
            }
            KeyCode::Char('a') if ctrl => line.home(),
            KeyCode::Char('e') if ctrl => line.end(),
            KeyCode::Char(_) if ctrl => {}
            KeyCode::Char(c) => {
                line.insert(c);
            }
            KeyCode::Backspace => {
                line.backspace();
            }
            KeyCode::Delete => {
                line.delete();
            }
            KeyCode::Left => {
                line.left();
            }
            KeyCode::Right => {
                line.right();
            }
            KeyCode::Home => line.home(),
            KeyCode::End => line.end(),
            KeyCode::Up => {
                line.history_prev();
            }
            KeyCode::Down => {
                line.history_next();
            }
            _ => {}
        }
        if let Mode::Filter(_) = self.mode {
            self.refresh_view(self.tab);
        }
    }

    /// A prompt line that remembers what was typed before (Up/Down).
    fn new_line(&self) -> LineEditor {
        let mut line = LineEditor::new();
        for h in &self.history {
            line.push_history(h);
        }
        line
    }

    fn line_mut(&mut self) -> Option<&mut LineEditor> {
        match &mut self.mode {
            Mode::Filter(line)
            | Mode::Command { line, .. }
            | Mode::Acknowledge { note: line, .. } => Some(line),
            _ => None,
        }
    }

    /// Why the filter being typed does not parse, if it does not.
    pub fn prompt_error(&self) -> Option<String> {
        match &self.mode {
            Mode::Filter(line) => Filter::parse(line.text(), &self.tab.listing().fields())
                .err()
                .map(|e| e.to_string()),
            _ => None,
        }
    }

    fn remember(&mut self, text: &str) {
        if !text.trim().is_empty() && self.history.last().is_none_or(|l| l != text) {
            self.history.push(text.to_owned());
            if self.history.len() > 100 {
                self.history.remove(0);
            }
        }
    }

    fn submit_prompt(&mut self) {
        let mode = std::mem::replace(&mut self.mode, Mode::Normal);
        match mode {
            Mode::Filter(line) => {
                let text = line.text().to_owned();
                self.remember(&text);
                self.set_filter(&text);
            }
            Mode::Command { line, .. } => {
                let text = line.text().to_owned();
                self.remember(&text);
                self.run_command(&text);
            }
            Mode::Acknowledge { id, note } => {
                let note = note.text().trim().to_owned();
                self.send_acknowledge(id, (!note.is_empty()).then_some(note));
            }
            other => self.mode = other,
        }
    }

    fn set_filter(&mut self, text: &str) {
        let t = self.tab.index();
        match Filter::parse(text, &self.tab.listing().fields()) {
            Ok(f) if f.is_empty() => {
                self.filters[t] = None;
                self.refresh_view(self.tab);
            }
            Ok(f) => {
                self.filters[t] = Some(f);
                self.refresh_view(self.tab);
                let v = self.view();
                self.set_status(
                    format!("{} of {} rows match", v.rows.len(), v.total),
                    StatusKind::Info,
                );
            }
            Err(e) => {
                self.refresh_view(self.tab);
                self.set_status(format!("filter: {e}"), StatusKind::Error);
            }
        }
    }

    /// Names the command line completes and checks.
    pub fn vocabulary(&self) -> Vocabulary {
        Vocabulary {
            environments: self
                .fleet()
                .environments
                .iter()
                .map(|e| e.name.clone())
                .collect(),
            tabs: Tab::ALL.iter().map(|t| t.slug().to_owned()).collect(),
            themes: Theme::available(self.themes_dir.as_deref()),
            columns: self
                .tab
                .listing()
                .columns()
                .iter()
                .map(|c| c.key.to_owned())
                .collect(),
        }
    }

    fn complete_command(&mut self) {
        let vocab = self.vocabulary();
        if let Mode::Command { line, candidates } = &mut self.mode {
            let completion = command::complete(line.text(), line.cursor() == line.len(), &vocab);
            let text = command::apply_completion(line.text(), &completion);
            line.set(&text);
            *candidates = if completion.candidates.len() > 1 {
                completion.candidates
            } else {
                Vec::new()
            };
        }
    }

    /// Run a `:` command (also used by tests and the headless driver).
    pub fn run_command(&mut self, text: &str) {
        let cmd = match command::parse(text, &self.vocabulary()) {
            Ok(cmd) => cmd,
            Err(command::CommandError::Empty) => return,
            Err(e) => {
                self.set_status(format!(":{} — {e}", text.trim()), StatusKind::Error);
                return;
            }
        };
        match cmd {
            UiCommand::Quit => self.should_quit = true,
            UiCommand::Env(env) => {
                self.scope = env;
                self.after_scope_change();
            }
            UiCommand::Tab(name) => {
                if let Some(tab) = Tab::ALL.iter().find(|t| t.slug() == name) {
                    self.go_to(*tab);
                }
            }
            UiCommand::Ack { note } => match self.acknowledgeable() {
                Ok(id) => self.send_acknowledge(id, note),
                Err(why) => self.set_status(why, StatusKind::Error),
            },
            UiCommand::Theme(name) => match Theme::load_from(&name, self.themes_dir.as_deref()) {
                Ok(theme) => {
                    self.theme = theme;
                    self.set_status(format!("theme: {name}"), StatusKind::Info);
                }
                Err(e) => self.set_status(e.to_string(), StatusKind::Error),
            },
            UiCommand::Filter(text) => self.set_filter(&text),
            UiCommand::ClearFilter => {
                self.filters[self.tab.index()] = None;
                self.refresh_view(self.tab);
            }
            UiCommand::Freeze => self.apply(Action::ToggleFreeze),
            UiCommand::Help => self.mode = Mode::Help { scroll: 0 },
            UiCommand::Sort(column) => {
                let t = self.tab.index();
                self.sort[t].column = column.and_then(|name| {
                    self.tab
                        .listing()
                        .columns()
                        .iter()
                        .position(|c| c.key == name)
                });
                self.refresh_view(self.tab);
                self.announce_sort();
            }
        }
    }

    /// A mouse click at a cell: a tab title in the header or a row of the table.
    pub fn click(&mut self, column: u16, row: u16) {
        if row == 0 {
            if let Some(tab) = super::tab_at(self, column) {
                self.go_to(tab);
            }
            return;
        }
        // The table's first data row sits under the body's title rule and header row.
        let first = super::BODY_TOP + 2;
        if row >= first && matches!(self.mode, Mode::Normal | Mode::Detail) {
            let height = usize::from(self.size.1.saturating_sub(first + 1));
            let t = self.tab.index();
            let start = view::window_start(self.selected[t], height);
            let target = start + usize::from(row - first);
            if target < self.views[t].rows.len() {
                self.selected[t] = target;
            }
        }
    }

    pub fn scroll(&mut self, down: bool) {
        self.apply(if down { Action::Down } else { Action::Up });
    }
}

/// Production first, then staging, then integration: the tier that most needs care.
fn tier_rank(t: Tier) -> u8 {
    match t {
        Tier::Production => 0,
        Tier::Staging => 1,
        Tier::Integration => 2,
    }
}

fn summarize(situation: &Situation) -> Vec<EnvSummary> {
    use crate::store::model::SourceHealth;
    let s = &situation.fleet;
    let mut out: Vec<EnvSummary> = s
        .environments
        .iter()
        .map(|e| EnvSummary {
            name: e.name.clone(),
            tier: Some(e.tier),
            ..EnvSummary::default()
        })
        .collect();
    let index: HashMap<&str, usize> = s
        .environments
        .iter()
        .enumerate()
        .map(|(i, e)| (e.name.as_str(), i))
        .collect();
    let at = |env: &str| index.get(env).copied();
    for n in &s.nodes {
        if let Some(i) = at(&n.environment) {
            out[i].nodes += 1;
            out[i].nodes_up += usize::from(n.up);
        }
    }
    for h in &s.health {
        if let Some(i) = at(&h.environment) {
            out[i].health += 1;
            out[i].health_up += usize::from(h.result.as_ref().is_some_and(|r| r.up));
        }
    }
    for l in &s.links {
        if let (Some(i), Some(lag)) = (at(&l.environment), l.lag_seconds) {
            out[i].worst_lag = Some(out[i].worst_lag.map_or(lag, |m: f64| m.max(lag)));
        }
    }
    let score = |(a, r): (std::time::Duration, Option<std::time::Duration>)| {
        r.map_or(a.as_secs_f64() / 86_400.0, |r| {
            a.as_secs_f64() / r.as_secs_f64().max(1.0)
        })
    };
    for b in &s.backups {
        if let (Some(i), Some(age)) = (at(&b.environment), b.age) {
            let candidate = (age, b.rpo);
            if out[i]
                .worst_backup
                .is_none_or(|cur| score(candidate) > score(cur))
            {
                out[i].worst_backup = Some(candidate);
            }
        }
    }
    for src in &s.sources {
        if let Some(i) = at(&src.environment) {
            match src.health {
                SourceHealth::Ok { .. } => out[i].sources_ok += 1,
                SourceHealth::Failing { .. } => out[i].sources_failing += 1,
                SourceHealth::Stale { .. } | SourceHealth::Pending => out[i].sources_stale += 1,
            }
        }
    }
    for a in &s.alerts {
        if a.is_suppressed() {
            continue;
        }
        if let Some(i) = s.source(a.source).and_then(|src| at(&src.environment)) {
            out[i].alerts += 1;
        }
    }
    for inc in &situation.incidents {
        if inc.lifecycle != Lifecycle::Resolved
            && let Some(i) = at(&inc.environment)
        {
            out[i].incidents_by_sev[inc.severity.index()] += 1;
        }
    }
    out
}

/// What each active incident's rule links, aimed at the incident's target; then every
/// configured runbook in each environment it applies to. Nothing in read-only mode.
fn runbook_offers(
    situation: &Situation,
    runbooks: &[RunbookSpec],
    read_only: bool,
) -> Vec<RunbookOffer> {
    let mut offers = Vec::new();
    if read_only {
        return offers;
    }
    let spec = |name: &str| runbooks.iter().find(|r| r.name == name);
    for inc in &situation.incidents {
        if inc.lifecycle == Lifecycle::Resolved {
            continue;
        }
        let targets = super::launch::incident_targets(inc);
        for rb in &inc.runbooks {
            let configured = spec(rb);
            // Aim at what the runbook acts on; unconfigured: the most specific target.
            let target = match configured {
                Some(s) => targets.iter().find(|t| t.kind == s.target).cloned(),
                None => targets.first().cloned(),
            };
            let target_label = match (&target, configured) {
                (Some(t), _) => target_text(t),
                (None, Some(s)) => format!("a {} (pick)", s.target.noun()),
                (None, None) => String::new(),
            };
            offers.push(RunbookOffer {
                runbook: rb.clone(),
                environment: inc.environment.clone(),
                tier: inc.tier,
                target,
                target_label,
                incident: Some(inc.id),
                rule: Some(inc.rule.clone()),
                configured: configured.is_some(),
                description: configured
                    .map(|s| s.description.clone())
                    .unwrap_or_default(),
            });
        }
    }
    for spec in runbooks {
        for env in &situation.fleet.environments {
            if !spec.applies_to(&env.name, env.tier) {
                continue;
            }
            let target = (spec.target == crate::runbook::TargetKind::Environment)
                .then(|| super::launch::environment_target(&env.name));
            offers.push(RunbookOffer {
                runbook: spec.name.clone(),
                environment: env.name.clone(),
                tier: env.tier,
                target_label: match &target {
                    Some(t) => target_text(t),
                    None => format!("a {} (pick)", spec.target.noun()),
                },
                target,
                incident: None,
                rule: None,
                configured: true,
                description: spec.description.clone(),
            });
        }
    }
    offers
}

/// `node prod-web3`, `link pg1→pg2`, `environment production`.
fn target_text(t: &Target) -> String {
    format!("{} {}", t.kind.noun(), t.name)
}
