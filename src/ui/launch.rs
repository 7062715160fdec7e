//! From the selected row to a runbook: which targets a row names (a node, a link, a
//! backed-up service, an environment, an incident's labels), which configured runbooks
//! act on them, and the orders the run loop hands to the runner. Runner events come back
//! here too and are recorded on the linked incident's timeline.
//!
//! Read-only mode is enforced here as well as in the runner: no choice is offered, no
//! order is queued.

use std::collections::BTreeMap;

use super::app::{App, Mode, StatusKind, Tab};
use super::picker::{PickItem, Picker};
use super::run_dialog::RunDialog;
use super::runs::{RunState, RunView};
use crate::config::settings::Tier;
use crate::engine::Command;
use crate::incident::{Incident, IncidentId, TimelineKind};
use crate::runbook::spec::{Confirm, RunbookSpec};
use crate::runbook::{Phase, RunEvent, RunId, RunRequest, Target, TargetKind};
use crate::store::model::{BackupRun, Node, ReplicationKind, ReplicationLink};

/// What the run loop must do for the UI.
#[derive(Debug, Clone, PartialEq)]
pub enum RunnerOrder {
    Start(RunOrder),
    Cancel(RunId),
}

/// A run the engineer confirmed (or a plan asked for), not yet resolved: the run loop
/// reads the secrets and hands the request to the runner.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOrder {
    pub runbook: String,
    pub phase: Phase,
    pub target: Target,
    pub tier: Tier,
    pub params: BTreeMap<String, String>,
    pub incident: Option<IncidentId>,
}

pub fn node_target(n: &Node) -> Target {
    let mut values = BTreeMap::from([("node".to_owned(), n.name.clone())]);
    if let Some(c) = &n.cluster {
        values.insert("cluster".into(), c.clone());
    }
    if let Some(r) = &n.role {
        values.insert("role".into(), r.clone());
    }
    Target {
        kind: TargetKind::Node,
        environment: n.environment.clone(),
        name: n.name.clone(),
        values,
    }
}

/// A link names a link, its replica as a node, and its cluster. A Galera "link" is a
/// member of a cluster: the member as a node, and the cluster.
pub fn link_targets(l: &ReplicationLink) -> Vec<Target> {
    let mut out = Vec::new();
    let member = |name: &str, cluster: Option<&str>| {
        let mut values = BTreeMap::from([("node".to_owned(), name.to_owned())]);
        if let Some(c) = cluster {
            values.insert("cluster".into(), c.to_owned());
        }
        Target {
            kind: TargetKind::Node,
            environment: l.environment.clone(),
            name: name.to_owned(),
            values,
        }
    };
    let cluster = |name: &str| Target {
        kind: TargetKind::Cluster,
        environment: l.environment.clone(),
        name: name.to_owned(),
        values: BTreeMap::from([("cluster".to_owned(), name.to_owned())]),
    };
    if l.kind == ReplicationKind::Galera {
        out.push(member(&l.replica, Some(&l.primary)));
        out.push(cluster(&l.primary));
        return out;
    }
    let mut values = BTreeMap::from([
        ("primary".to_owned(), l.primary.clone()),
        ("replica".to_owned(), l.replica.clone()),
        ("node".to_owned(), l.replica.clone()),
    ]);
    if let Some(c) = &l.cluster {
        values.insert("cluster".into(), c.clone());
    }
    out.push(Target {
        kind: TargetKind::ReplicationLink,
        environment: l.environment.clone(),
        name: format!("{}→{}", l.primary, l.replica),
        values,
    });
    out.push(member(&l.replica, l.cluster.as_deref()));
    if let Some(c) = &l.cluster {
        out.push(cluster(c));
    }
    out
}

pub fn backup_target(b: &BackupRun) -> Target {
    Target {
        kind: TargetKind::BackupService,
        environment: b.environment.clone(),
        name: b.service.clone(),
        values: BTreeMap::from([("service".to_owned(), b.service.clone())]),
    }
}

pub fn environment_target(env: &str) -> Target {
    Target {
        kind: TargetKind::Environment,
        environment: env.to_owned(),
        name: env.to_owned(),
        values: BTreeMap::new(),
    }
}

/// The targets an incident's labels name, most specific first.
pub fn incident_targets(inc: &Incident) -> Vec<Target> {
    let l = &inc.labels;
    let env = inc.environment.clone();
    let mut out = Vec::new();
    if let (Some(p), Some(r)) = (l.get("primary"), l.get("replica")) {
        let mut values = BTreeMap::from([
            ("primary".to_owned(), p.clone()),
            ("replica".to_owned(), r.clone()),
            ("node".to_owned(), r.clone()),
        ]);
        if let Some(c) = l.get("cluster") {
            values.insert("cluster".into(), c.clone());
        }
        out.push(Target {
            kind: TargetKind::ReplicationLink,
            environment: env.clone(),
            name: format!("{p}→{r}"),
            values,
        });
    }
    if let Some(n) = l.get("node").or_else(|| l.get("replica")) {
        let mut values = BTreeMap::from([("node".to_owned(), n.clone())]);
        for k in ["cluster", "role", "instance"] {
            if let Some(v) = l.get(k) {
                values.insert(k.to_owned(), v.clone());
            }
        }
        out.push(Target {
            kind: TargetKind::Node,
            environment: env.clone(),
            name: n.clone(),
            values,
        });
    }
    if let Some(c) = l.get("cluster") {
        out.push(Target {
            kind: TargetKind::Cluster,
            environment: env.clone(),
            name: c.clone(),
            values: BTreeMap::from([("cluster".to_owned(), c.clone())]),
        });
    }
    if let Some(s) = l.get("service") {
        out.push(Target {
            kind: TargetKind::BackupService,
            environment: env.clone(),
            name: s.clone(),
            values: BTreeMap::from([("service".to_owned(), s.clone())]),
        });
    }
    out.push(environment_target(&env));
    out
}

/// Every target of `kind` the snapshot knows in `env` (for runbooks listed without one).
pub fn targets_of_kind(app: &App, env: &str, kind: TargetKind) -> Vec<Target> {
    let fleet = app.fleet();
    let mut out: Vec<Target> = match kind {
        TargetKind::Environment => vec![environment_target(env)],
        TargetKind::Node => fleet
            .nodes
            .iter()
            .filter(|n| n.environment == env)
            .map(node_target)
            .collect(),
        TargetKind::BackupService => fleet
            .backups
            .iter()
            .filter(|b| b.environment == env)
            .map(backup_target)
            .collect(),
        TargetKind::ReplicationLink | TargetKind::Cluster => fleet
            .links
            .iter()
            .filter(|l| l.environment == env)
            .flat_map(link_targets)
            .filter(|t| t.kind == kind)
            .collect(),
        TargetKind::Alert => Vec::new(),
    };
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|t| seen.insert(t.name.clone()));
    out
}

impl App {
    pub fn spec(&self, name: &str) -> Option<&RunbookSpec> {
        self.runbooks.iter().find(|r| r.name == name)
    }

    /// The targets the selected row names, with the incident it came from.
    fn selection_targets(&self) -> (Vec<Target>, Option<&Incident>) {
        let Some(i) = self.selected_record() else {
            return (Vec::new(), None);
        };
        let fleet = self.fleet();
        match self.tab {
            Tab::Overview => (
                self.summaries
                    .get(i)
                    .map(|s| vec![environment_target(&s.name)])
                    .unwrap_or_default(),
                None,
            ),
            Tab::Incidents => match self.situation.incidents.get(i) {
                Some(inc) => (incident_targets(inc), Some(inc)),
                None => (Vec::new(), None),
            },
            Tab::Nodes => (
                fleet
                    .nodes
                    .get(i)
                    .map(|n| vec![node_target(n), environment_target(&n.environment)])
                    .unwrap_or_default(),
                None,
            ),
            Tab::Replication => (
                fleet
                    .links
                    .get(i)
                    .map(|l| {
                        let mut t = link_targets(l);
                        t.push(environment_target(&l.environment));
                        t
                    })
                    .unwrap_or_default(),
                None,
            ),
            Tab::Backups => (
                fleet
                    .backups
                    .get(i)
                    .map(|b| vec![backup_target(b), environment_target(&b.environment)])
                    .unwrap_or_default(),
                None,
            ),
            Tab::Alerts => (
                fleet
                    .alerts
                    .get(i)
                    .and_then(|a| fleet.source(a.source))
                    .map(|src| vec![environment_target(&src.environment)])
                    .unwrap_or_default(),
                None,
            ),
            Tab::Runbooks => (Vec::new(), None),
        }
    }

    /// Runbooks that can act on the selected row: an incident's linked runbooks first.
    pub fn runbook_choices(&self) -> Result<Vec<PickItem>, String> {
        if self.read_only {
            return Err("read-only mode: runbook actions are disabled".into());
        }
        if self.tab == Tab::Runbooks {
            return self.runbooks_tab_choice();
        }
        let (targets, incident) = self.selection_targets();
        if targets.is_empty() {
            return Err("nothing selected".into());
        }
        let env = &targets[0].environment;
        let tier = self.tier_of(env).unwrap_or(Tier::Production);
        let mut items: Vec<PickItem> = Vec::new();
        let push = |items: &mut Vec<PickItem>, spec: &RunbookSpec, linked: bool| {
            if !spec.applies_to(env, tier) {
                return;
            }
            if let Some(t) = targets.iter().find(|t| t.kind == spec.target)
                && !items
                    .iter()
                    .any(|i| i.runbook == spec.name && i.target == *t)
            {
                items.push(PickItem {
                    runbook: spec.name.clone(),
                    target: t.clone(),
                    tier,
                    incident: incident.map(|i| i.id),
                    linked,
                });
            }
        };
        if let Some(inc) = incident {
            for name in &inc.runbooks {
                if let Some(spec) = self.spec(name) {
                    push(&mut items, spec, true);
                }
            }
        }
        if items.is_empty() {
            for spec in self.runbooks.iter() {
                push(&mut items, spec, false);
            }
        }
        if items.is_empty() {
            let kinds: Vec<&str> = targets.iter().map(|t| t.kind.as_str()).collect();
            let linked = incident
                .map(|i| i.runbooks.join(", "))
                .filter(|l| !l.is_empty())
                .map(|l| format!(" (the rule links {l}, which is not configured)"))
                .unwrap_or_default();
            return Err(format!(
                "no runbook acts on this row in {env}{linked}; configure a [[runbook]] with \
                 target = {}",
                kinds.join(" | ")
            ));
        }
        Ok(items)
    }

    /// On the Runbooks tab: the row's runbook and target, or a re-run of a past run.
    fn runbooks_tab_choice(&self) -> Result<Vec<PickItem>, String> {
        let Some(i) = self.selected_record() else {
            return Err("nothing selected".into());
        };
        if let Some(o) = self.offers.get(i) {
            if !o.configured {
                return Err(format!(
                    "{} is linked by rule {} but not configured: add a [[runbook]] named {}",
                    o.runbook,
                    o.rule.as_deref().unwrap_or("?"),
                    o.runbook
                ));
            }
            let Some(spec) = self.spec(&o.runbook) else {
                return Err(format!("{} is not configured", o.runbook));
            };
            let targets = match &o.target {
                Some(t) => vec![t.clone()],
                None => targets_of_kind(self, &o.environment, spec.target),
            };
            if targets.is_empty() {
                return Err(format!(
                    "no {} in {} to run {} on",
                    spec.target.noun(),
                    o.environment,
                    o.runbook
                ));
            }
            return Ok(targets
                .into_iter()
                .map(|target| PickItem {
                    runbook: o.runbook.clone(),
                    target,
                    tier: o.tier,
                    incident: o.incident,
                    linked: o.incident.is_some(),
                })
                .collect());
        }
        let run = self
            .runs
            .all()
            .get(i - self.offers.len())
            .ok_or_else(|| "nothing selected".to_owned())?;
        if self.spec(&run.runbook).is_none() {
            return Err(format!("{} is no longer configured", run.runbook));
        }
        Ok(vec![PickItem {
            runbook: run.runbook.clone(),
            target: run.target.clone(),
            tier: run.tier,
            incident: run.incident,
            linked: false,
        }])
    }

    /// `r`: the dialog of the only runbook that fits, or a choice between several.
    pub fn start_runbook(&mut self) {
        match self.runbook_choices() {
            Err(why) => self.set_status(why, StatusKind::Error),
            Ok(items) if items.len() == 1 => {
                let params = self.rerun_params();
                self.open_dialog(items.into_iter().next(), params);
            }
            Ok(items) => {
                self.mode = Mode::Pick(Picker::new("Run which runbook?", items));
            }
        }
    }

    /// A runbook's hotkey: its dialog for the selected row, if the row names its target.
    pub fn runbook_hotkey(&mut self, runbook: &str) {
        match self.runbook_choices() {
            Err(why) => self.set_status(why, StatusKind::Error),
            Ok(items) => {
                let mine: Vec<PickItem> =
                    items.into_iter().filter(|i| i.runbook == runbook).collect();
                match mine.len() {
                    0 => self.set_status(
                        format!("{runbook} does not act on the selected row"),
                        StatusKind::Error,
                    ),
                    1 => self.open_dialog(mine.into_iter().next(), BTreeMap::new()),
                    _ => self.mode = Mode::Pick(Picker::new("Run on which target?", mine)),
                }
            }
        }
    }

    /// Parameters of the selected past run, when re-running from the history.
    fn rerun_params(&self) -> BTreeMap<String, String> {
        if self.tab != Tab::Runbooks {
            return BTreeMap::new();
        }
        self.selected_record()
            .and_then(|i| i.checked_sub(self.offers.len()))
            .and_then(|i| self.runs.all().get(i))
            .map(|r| r.params.clone())
            .unwrap_or_default()
    }

    pub fn open_dialog(&mut self, item: Option<PickItem>, params: BTreeMap<String, String>) {
        let Some(item) = item else { return };
        let Some(spec) = self.spec(&item.runbook) else {
            self.set_status(
                format!("{} is not configured", item.runbook),
                StatusKind::Error,
            );
            return;
        };
        if let Some(active) = self.runs.active_for(&item.runbook, &item.target) {
            let id = active.id.clone();
            self.set_status(
                format!("{} is already running on {}", item.runbook, item.target),
                StatusKind::Error,
            );
            self.mode = Mode::RunOutput {
                run: id,
                scroll: 0,
                confirm_cancel: false,
            };
            return;
        }
        let confirm = spec.confirm_for(item.tier);
        let dialog = RunDialog::new(spec, item, &params, &self.user, self.dry_run);
        // `confirm = "none"` and nothing to ask: it runs as chosen; the output pane shows
        // exactly what ran.
        if confirm == Confirm::None && spec.params.is_empty() && !self.dry_run {
            self.mode = Mode::RunDialog(Box::new(dialog));
            self.confirm_run();
            return;
        }
        self.mode = Mode::RunDialog(Box::new(dialog));
    }

    /// Queue a run (or plan) for the run loop.
    pub fn order(&mut self, order: RunOrder) {
        if self.read_only {
            self.set_status(
                "read-only mode: runbook actions are disabled",
                StatusKind::Error,
            );
            return;
        }
        if order.phase == Phase::Run && self.dry_run {
            self.set_status("dry-run: only plans run", StatusKind::Error);
            return;
        }
        self.runner_orders.push(RunnerOrder::Start(order));
    }

    pub fn take_runner_orders(&mut self) -> Vec<RunnerOrder> {
        std::mem::take(&mut self.runner_orders)
    }

    /// The runner took `order` as run `id` (called by the run loop).
    pub fn run_started(&mut self, order: &RunOrder, request: &RunRequest, id: RunId) {
        let now = self
            .situation
            .fleet
            .taken_at
            .unwrap_or_else(chrono::Utc::now);
        self.runs.add(RunView {
            id: id.clone(),
            runbook: order.runbook.clone(),
            phase: order.phase,
            target: order.target.clone(),
            tier: order.tier,
            user: self.user.clone(),
            incident: order.incident,
            params: request.params.clone(),
            described: request.invocation.describe(),
            started: now,
            ended: None,
            state: RunState::Starting,
            lines: Default::default(),
            dropped: 0,
            live: true,
        });
        match (&mut self.mode, order.phase) {
            (Mode::RunDialog(d), Phase::Plan)
                if d.runbook == order.runbook && d.target == order.target =>
            {
                d.plan_run = Some(id);
            }
            (_, Phase::Run) => {
                self.mode = Mode::RunOutput {
                    run: id,
                    scroll: 0,
                    confirm_cancel: false,
                };
            }
            _ => {}
        }
        self.refresh_view(Tab::Runbooks);
    }

    /// The order could not even be turned into a request (a secret file missing, a value
    /// refused): nothing was handed to the runner.
    pub fn run_not_started(&mut self, order: &RunOrder, why: String) {
        if let Mode::RunDialog(d) = &mut self.mode {
            d.message = Some(why.clone());
        }
        self.set_status(
            format!("{} not started: {why}", order.runbook),
            StatusKind::Error,
        );
    }

    /// An event from the runner.
    pub fn run_event(&mut self, event: RunEvent) {
        let started = matches!(event, RunEvent::Started { .. });
        let at = match &event {
            RunEvent::Started { at, .. }
            | RunEvent::Output { at, .. }
            | RunEvent::Finished { at, .. }
            | RunEvent::Refused { at, .. } => *at,
        };
        let id = event.run().clone();
        let done = self.runs.apply(event).map(|r| {
            (
                r.runbook.clone(),
                r.phase,
                r.incident,
                r.state.describe(),
                r.user.clone(),
                r.target.to_string(),
            )
        });
        if started
            && let Some(run) = self.runs.get(&id)
            && run.phase == Phase::Run
            && let Some(incident) = run.incident
        {
            let entry = TimelineKind::RunbookRun {
                name: run.runbook.clone(),
                outcome: format!("started by {} on {} ({id})", run.user, run.target),
            };
            self.outbox.push(Command::Timeline {
                id: incident,
                entry,
                at,
            });
        }
        if let Some((runbook, phase, incident, outcome, _user, target)) = done {
            if phase == Phase::Run
                && let Some(incident) = incident
            {
                self.outbox.push(Command::Timeline {
                    id: incident,
                    entry: TimelineKind::RunbookRun {
                        name: runbook.clone(),
                        outcome: format!("{outcome} on {target} ({id})"),
                    },
                    at,
                });
            }
            let kind = match self.runs.get(&id).map(|r| &r.state) {
                Some(RunState::Finished(o)) if o.succeeded() => StatusKind::Info,
                _ => StatusKind::Error,
            };
            self.set_status(format!("{runbook} {}: {outcome}", phase.as_str()), kind);
            self.refresh_view(Tab::Runbooks);
        }
    }

    /// Cancel from the output pane (asked twice: a cancelled failover is its own mess).
    pub fn cancel_run(&mut self) {
        let Mode::RunOutput {
            run,
            confirm_cancel,
            ..
        } = &mut self.mode
        else {
            return;
        };
        let Some(view) = self.runs.get(run) else {
            return;
        };
        if !view.state.is_active() || !view.live {
            self.set_status("this run is not running here", StatusKind::Info);
            return;
        }
        if !*confirm_cancel {
            *confirm_cancel = true;
            let key = self
                .keymap
                .hint(super::action::Action::CancelRun)
                .unwrap_or_else(|| "x".into());
            self.set_status(
                format!(
                    "press {key} again to cancel: SIGTERM to the whole process group, SIGKILL \
                     after the grace period"
                ),
                StatusKind::Error,
            );
            return;
        }
        let id = run.clone();
        *confirm_cancel = false;
        self.runner_orders.push(RunnerOrder::Cancel(id.clone()));
        self.set_status(format!("cancelling {id}"), StatusKind::Info);
    }
}

/// Each runbook's hotkey, refused (with both bindings named) if the keymap or another
/// runbook already has the key, or if another layer takes it first.
pub fn runbook_keys(
    keymap: &super::keymap::Keymap,
    runbooks: &[RunbookSpec],
) -> Result<Vec<(super::keymap::Key, String)>, String> {
    let mut out: Vec<(super::keymap::Key, String)> = Vec::new();
    for spec in runbooks {
        let Some(text) = &spec.hotkey else { continue };
        let key = super::keymap::Key::parse(text)
            .map_err(|e| format!("hotkey of runbook {}: {e}", spec.name))?;
        if let Some(why) = key.reserved_by() {
            return Err(format!(
                "hotkey {key} of runbook {} cannot be used: {why}",
                spec.name
            ));
        }
        if let Some(action) = keymap.action(&key) {
            return Err(format!(
                "hotkey {key} of runbook {} clashes with the keymap, where {key} is {} \
                 ({}); choose another hotkey for the runbook or rebind {} in keymap.toml",
                spec.name,
                action.name(),
                action.describe(),
                action.name()
            ));
        }
        if let Some((_, other)) = out.iter().find(|(k, _)| *k == key) {
            return Err(format!(
                "hotkey {key} is given to two runbooks, {other} and {}; one key, one action",
                spec.name
            ));
        }
        out.push((key, spec.name.clone()));
    }
    Ok(out)
}

/// A run the audit log remembers, as the Runbooks tab lists it. The log records the
/// target's kind and name; the placeholder values a re-run needs follow from them.
pub fn history_view(e: crate::runbook::audit::HistoryEntry) -> RunView {
    use crate::runbook::audit::HistoryState;
    let name = e.target.name.clone();
    let mut values = BTreeMap::new();
    match e.target.kind {
        TargetKind::Environment | TargetKind::Alert => {}
        TargetKind::Node => {
            values.insert("node".to_owned(), name.clone());
        }
        TargetKind::Cluster => {
            values.insert("cluster".to_owned(), name.clone());
        }
        TargetKind::BackupService => {
            values.insert("service".to_owned(), name.clone());
        }
        TargetKind::ReplicationLink => {
            if let Some((p, r)) = name.split_once('→') {
                values.insert("primary".to_owned(), p.to_owned());
                values.insert("replica".to_owned(), r.to_owned());
                values.insert("node".to_owned(), r.to_owned());
            }
        }
    }
    let (state, ended, lines) = match e.state {
        HistoryState::Finished { at, outcome } => {
            let lines = outcome
                .last_lines
                .iter()
                .map(|l| (crate::runbook::OutputStream::Stdout, l.clone()))
                .collect();
            (RunState::Past(outcome), Some(at), lines)
        }
        HistoryState::Interrupted => (RunState::Interrupted, None, Default::default()),
        HistoryState::RunningElsewhere { .. } => {
            (RunState::RunningElsewhere, None, Default::default())
        }
        HistoryState::Refused { reason } => (RunState::Refused(reason), None, Default::default()),
    };
    RunView {
        id: e.run,
        runbook: e.runbook,
        phase: e.phase,
        target: Target {
            kind: e.target.kind,
            environment: e.environment,
            name,
            values,
        },
        tier: e.tier.unwrap_or(Tier::Production),
        user: format!("{}@{}", e.user, e.host),
        incident: e.incident,
        params: e.params,
        described: vec![e.invocation],
        started: e.at,
        ended,
        state,
        lines,
        dropped: 0,
        live: false,
    }
}
