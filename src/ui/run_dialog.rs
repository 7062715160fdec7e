//! The runbook confirmation dialog: the tier badge, the runbook, the target, the typed
//! parameters, exactly what will run (recomputed as parameters change, secrets shown as
//! `[redacted]`), the plan's output if one was run, and the confirmation — Cancel has the
//! focus when it opens; on production the environment's name must be typed.
//!
//! Keys go to the dialog directly (it edits text): Tab / Shift-Tab move the focus, Enter
//! presses the focused button (or moves on from a field), Esc cancels, Left/Right move
//! between buttons and turn a choice.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::app::{App, Mode, StatusKind};
use super::help::centered;
use super::launch::RunOrder;
use super::line::LineEditor;
use super::picker::PickItem;
use super::widgets;
use chrono::{DateTime, Utc};

use crate::config::settings::{SourceSpec, Tier};
use crate::incident::IncidentId;
use crate::runbook::silence::{self, Builtin};
use crate::runbook::spec::{Confirm, ParamKind, RunbookSpec};
use crate::runbook::template::{self, Context};
use crate::runbook::{Phase, RunId, Target};

/// A parameter being filled in.
#[derive(Debug, Clone)]
pub enum Field {
    Text {
        name: String,
        hint: String,
        editor: LineEditor,
    },
    Choice {
        name: String,
        hint: String,
        choices: Vec<String>,
        index: usize,
    },
}

impl Field {
    fn name(&self) -> &str {
        match self {
            Field::Text { name, .. } | Field::Choice { name, .. } => name,
        }
    }

    fn value(&self) -> String {
        match self {
            Field::Text { editor, .. } => editor.text().to_owned(),
            Field::Choice { choices, index, .. } => {
                choices.get(*index).cloned().unwrap_or_default()
            }
        }
    }
}

/// Where the keyboard is in the dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Field(usize),
    Typed,
    Cancel,
    Plan,
    Run,
}

#[derive(Debug, Clone)]
pub struct RunDialog {
    pub runbook: String,
    pub description: String,
    pub target: Target,
    pub tier: Tier,
    pub incident: Option<IncidentId>,
    pub confirm: Confirm,
    pub has_plan: bool,
    pub dry_run: bool,
    pub fields: Vec<Field>,
    pub typed: LineEditor,
    pub focus: Focus,
    /// What will run, or why it cannot (a parameter refused).
    pub preview: Result<Vec<String>, String>,
    pub plan_run: Option<RunId>,
    /// Why the last Run or Plan press did nothing.
    pub message: Option<String>,
    pub timeout: std::time::Duration,
    /// A built-in action (an Alertmanager silence) instead of a configured runbook, with
    /// the Alertmanager it goes to.
    pub builtin: Option<(Builtin, SourceSpec)>,
    /// Parameters the engineer does not edit (the silence being expired).
    pub fixed: BTreeMap<String, String>,
}

/// What a built-in action's dialog opens with.
pub struct BuiltinDialog {
    pub builtin: Builtin,
    pub alertmanager: SourceSpec,
    pub description: String,
    pub target: Target,
    pub tier: Tier,
    pub incident: Option<IncidentId>,
    /// Editable fields: (name, hint, starting value).
    pub fields: Vec<(&'static str, String, String)>,
    pub fixed: BTreeMap<String, String>,
}

impl RunDialog {
    /// The dialog for a built-in action: same focus rules (Cancel first), same buttons,
    /// same preview of exactly what will be sent.
    pub fn builtin(b: BuiltinDialog, user: &str, now: DateTime<Utc>) -> Self {
        let fields = b
            .fields
            .into_iter()
            .map(|(name, hint, value)| {
                let mut editor = LineEditor::new();
                editor.set(&value);
                Field::Text {
                    name: name.to_owned(),
                    hint,
                    editor,
                }
            })
            .collect();
        let mut d = RunDialog {
            runbook: b.builtin.runbook().to_owned(),
            description: b.description,
            target: b.target,
            tier: b.tier,
            incident: b.incident,
            confirm: Confirm::Yes,
            has_plan: false,
            dry_run: false,
            fields,
            typed: LineEditor::new(),
            focus: Focus::Cancel,
            preview: Ok(Vec::new()),
            plan_run: None,
            message: None,
            timeout: silence::TIMEOUT,
            builtin: Some((b.builtin, b.alertmanager)),
            fixed: b.fixed,
        };
        d.refresh_preview(&[], user, now);
        d
    }

    /// Recompute what will run after an edit.
    pub fn refresh_preview(&mut self, runbooks: &[RunbookSpec], user: &str, now: DateTime<Utc>) {
        if let Some((builtin, am)) = &self.builtin {
            let params = self.params();
            let order = silence::Order {
                builtin,
                target: &self.target,
                tier: self.tier,
                params: &params,
                incident: self.incident,
                user,
                now,
                read_secrets: false,
            };
            self.preview = silence::request(am, &order)
                .map(|r| r.invocation.describe())
                .map_err(|e| e.to_string());
        } else if let Some(spec) = runbooks.iter().find(|r| r.name == self.runbook) {
            self.update_preview(spec, user);
        }
    }

    pub fn new(
        spec: &RunbookSpec,
        item: PickItem,
        given: &BTreeMap<String, String>,
        user: &str,
        dry_run: bool,
    ) -> Self {
        let fields = spec
            .params
            .iter()
            .map(|p| {
                let start = given.get(&p.name).or(p.default.as_ref()).cloned();
                let hint = if p.description.is_empty() {
                    p.hint()
                } else {
                    format!("{} — {}", p.description, p.hint())
                };
                match &p.kind {
                    ParamKind::Choice(choices) => Field::Choice {
                        name: p.name.clone(),
                        hint,
                        index: start
                            .and_then(|s| choices.iter().position(|c| *c == s))
                            .unwrap_or(0),
                        choices: choices.clone(),
                    },
                    _ => {
                        let mut editor = LineEditor::new();
                        editor.set(start.as_deref().unwrap_or_default());
                        Field::Text {
                            name: p.name.clone(),
                            hint,
                            editor,
                        }
                    }
                }
            })
            .collect();
        let mut d = RunDialog {
            runbook: spec.name.clone(),
            description: spec.description.clone(),
            confirm: spec.confirm_for(item.tier),
            target: item.target,
            tier: item.tier,
            incident: item.incident,
            has_plan: spec.plan.is_some(),
            dry_run,
            fields,
            typed: LineEditor::new(),
            focus: Focus::Cancel,
            preview: Ok(Vec::new()),
            plan_run: None,
            message: None,
            timeout: spec.timeout,
            builtin: None,
            fixed: BTreeMap::new(),
        };
        d.update_preview(spec, user);
        d
    }

    pub fn params(&self) -> BTreeMap<String, String> {
        let mut params = self.fixed.clone();
        params.extend(self.fields.iter().map(|f| (f.name().to_owned(), f.value())));
        params
    }

    /// Resolve without reading secrets: what the dialog shows.
    pub fn update_preview(&mut self, spec: &RunbookSpec, user: &str) {
        let phase = if self.dry_run {
            Phase::Plan
        } else {
            Phase::Run
        };
        let cx = Context {
            phase,
            user,
            incident: self.incident,
            read_secrets: false,
        };
        self.preview = template::request(spec, phase, &self.target, self.tier, &self.params(), &cx)
            .map(|r| r.invocation.describe())
            .map_err(|e| e.to_string());
    }

    fn focus_order(&self) -> Vec<Focus> {
        let mut order: Vec<Focus> = (0..self.fields.len()).map(Focus::Field).collect();
        if self.confirm == Confirm::Typed && !self.dry_run {
            order.push(Focus::Typed);
        }
        order.push(Focus::Cancel);
        if self.has_plan {
            order.push(Focus::Plan);
        }
        if !self.dry_run {
            order.push(Focus::Run);
        }
        order
    }

    fn move_focus(&mut self, forward: bool) {
        let order = self.focus_order();
        let at = order.iter().position(|f| *f == self.focus).unwrap_or(0);
        let n = order.len();
        let next = if forward {
            (at + 1) % n
        } else {
            (at + n - 1) % n
        };
        self.focus = order[next];
    }

    /// The confirmation the tier asks for has been given.
    pub fn confirmed(&self) -> bool {
        match self.confirm {
            Confirm::None | Confirm::Yes => true,
            Confirm::Typed => self.typed.text() == self.target.environment,
        }
    }

    fn order(&self, phase: Phase) -> RunOrder {
        RunOrder {
            runbook: self.runbook.clone(),
            phase,
            target: self.target.clone(),
            tier: self.tier,
            params: self.params(),
            incident: self.incident,
        }
    }
}

impl App {
    /// A key while the dialog is open.
    pub fn run_dialog_key(&mut self, key: KeyEvent) {
        let Mode::RunDialog(d) = &mut self.mode else {
            return;
        };
        d.message = None;
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let mut edited = false;
        match (key.code, d.focus) {
            (KeyCode::Esc, _) => {
                self.mode = Mode::Normal;
                self.set_status("runbook cancelled", StatusKind::Info);
                return;
            }
            (KeyCode::Tab | KeyCode::Down, _) => d.move_focus(true),
            (KeyCode::BackTab | KeyCode::Up, _) => d.move_focus(false),
            (KeyCode::Left, Focus::Cancel | Focus::Plan | Focus::Run) => d.move_focus(false),
            (KeyCode::Right, Focus::Cancel | Focus::Plan | Focus::Run) => d.move_focus(true),
            (KeyCode::Enter, Focus::Cancel) => {
                self.mode = Mode::Normal;
                self.set_status("runbook cancelled", StatusKind::Info);
                return;
            }
            (KeyCode::Enter, Focus::Plan) => {
                self.request_plan();
                return;
            }
            (KeyCode::Enter, Focus::Run) => {
                self.confirm_run();
                return;
            }
            (KeyCode::Enter, _) => d.move_focus(true),
            (code, Focus::Field(i)) => {
                if let Some(field) = d.fields.get_mut(i) {
                    edited = edit_field(field, code, ctrl);
                }
            }
            (code, Focus::Typed) => {
                edited = edit_line(&mut d.typed, code, ctrl);
            }
            _ => {}
        }
        let now = self.situation.fleet.taken_at.unwrap_or_else(Utc::now);
        if edited && let Mode::RunDialog(d) = &mut self.mode {
            d.refresh_preview(&self.runbooks, &self.user, now);
        }
    }

    fn request_plan(&mut self) {
        let Mode::RunDialog(d) = &mut self.mode else {
            return;
        };
        if let Err(e) = &d.preview {
            d.message = Some(e.clone());
            return;
        }
        let order = d.order(Phase::Plan);
        self.order(order);
    }

    /// Run pressed: only with the confirmation the tier asks for.
    pub fn confirm_run(&mut self) {
        let Mode::RunDialog(d) = &mut self.mode else {
            return;
        };
        if d.dry_run {
            d.message = Some("dry-run: only plans run".into());
            return;
        }
        if let Err(e) = &d.preview {
            d.message = Some(e.clone());
            return;
        }
        if !d.confirmed() {
            d.message = Some(format!(
                "type `{}` to confirm a run in {}",
                d.target.environment,
                d.tier.as_str()
            ));
            d.focus = Focus::Typed;
            return;
        }
        let order = d.order(Phase::Run);
        self.order(order);
    }
}

fn edit_field(field: &mut Field, code: KeyCode, ctrl: bool) -> bool {
    match field {
        Field::Text { editor, .. } => edit_line(editor, code, ctrl),
        Field::Choice { choices, index, .. } => {
            let n = choices.len().max(1);
            match code {
                KeyCode::Right | KeyCode::Char(' ') => *index = (*index + 1) % n,
                KeyCode::Left => *index = (*index + n - 1) % n,
                _ => return false,
            }
            true
        }
    }
}

fn edit_line(line: &mut LineEditor, code: KeyCode, ctrl: bool) -> bool {
    match code {
        KeyCode::Char('u') if ctrl => line.clear_to_start(),
        KeyCode::Char('w') if ctrl => line.delete_word_back(),
        KeyCode::Char(_) if ctrl => false,
        KeyCode::Char(c) => line.insert(c),
        KeyCode::Backspace => line.backspace(),
        KeyCode::Delete => line.delete(),
        KeyCode::Left => line.left(),
        KeyCode::Right => line.right(),
        KeyCode::Home => {
            line.home();
            false
        }
        KeyCode::End => {
            line.end();
            false
        }
        _ => false,
    }
}

fn button(label: &str, focused: bool, enabled: bool, app: &App) -> Span<'static> {
    let theme = &app.theme;
    let style: Style = if focused {
        theme.selection
    } else if enabled {
        theme.accent
    } else {
        theme.muted
    };
    let text = if focused {
        format!("[▸{label}◂]")
    } else {
        format!("[ {label} ]")
    };
    Span::styled(text, style)
}

pub fn render(frame: &mut Frame<'_>, body: Rect, app: &App, d: &RunDialog) {
    let theme = &app.theme;
    let width = body.width.saturating_sub(4).clamp(20, 100);
    let mut lines: Vec<Line<'static>> = Vec::new();
    lines.push(Line::from(vec![
        widgets::tier_badge(d.tier, theme),
        Span::raw(" "),
        Span::styled(d.runbook.clone(), theme.header),
        Span::raw(format!("  → {}", d.target)),
    ]));
    if !d.description.is_empty() {
        lines.push(Line::from(Span::styled(d.description.clone(), theme.muted)));
    }
    if let Some(id) = d.incident {
        lines.push(Line::from(Span::styled(
            format!("for {id}; recorded on its timeline"),
            theme.muted,
        )));
    }
    for (i, f) in d.fields.iter().enumerate() {
        let focused = d.focus == Focus::Field(i);
        let (value, hint) = match f {
            Field::Text { editor, hint, .. } => (editor.text().to_owned(), hint.clone()),
            Field::Choice { hint, .. } => (format!("‹ {} ›", f.value()), hint.clone()),
        };
        let style = if focused {
            theme.selection
        } else {
            theme.input
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{:>12}: ", f.name()), theme.muted),
            Span::styled(format!("{value} "), style),
            Span::styled(format!(" {hint}"), theme.muted),
        ]));
    }
    lines.push(Line::from(Span::styled(
        if d.dry_run {
            "dry-run — the plan would run:"
        } else {
            "will run:"
        },
        theme.muted,
    )));
    match &d.preview {
        Ok(preview) => {
            for l in preview {
                lines.push(Line::from(Span::styled(format!("  {l}"), theme.accent)));
            }
        }
        Err(e) => lines.push(Line::from(Span::styled(format!("  ✖ {e}"), theme.crit))),
    }
    lines.push(Line::from(Span::styled(
        format!(
            "  timeout {} · audited before it starts",
            humantime::format_duration(d.timeout)
        ),
        theme.muted,
    )));
    if let Some(id) = &d.plan_run {
        lines.push(Line::from(""));
        match app.runs.get(id) {
            Some(run) => {
                lines.push(Line::from(Span::styled(
                    format!("plan: {}", run.state.describe()),
                    theme.header,
                )));
                let keep = 8;
                let skip = run.lines.len().saturating_sub(keep);
                for (_, l) in run.lines.iter().skip(skip) {
                    lines.push(Line::from(format!("  {l}")));
                }
            }
            None => lines.push(Line::from(Span::styled("plan: starting…", theme.muted))),
        }
    }
    // The confirmation and the buttons are drawn apart, at the bottom, so no amount of
    // plan output can push them out of the popup.
    let head = std::mem::take(&mut lines);
    lines.push(Line::from(""));
    if d.confirm == Confirm::Typed && !d.dry_run {
        let focused = d.focus == Focus::Typed;
        lines.push(Line::from(vec![
            Span::styled(
                format!("type {} to confirm: ", d.target.environment),
                theme.warn,
            ),
            Span::styled(
                format!("{} ", d.typed.text()),
                if focused {
                    theme.selection
                } else {
                    theme.input
                },
            ),
        ]));
    }
    let mut buttons = vec![button("Cancel", d.focus == Focus::Cancel, true, app)];
    if d.has_plan {
        buttons.push(Span::raw("  "));
        buttons.push(button("Plan", d.focus == Focus::Plan, true, app));
    }
    if !d.dry_run {
        buttons.push(Span::raw("  "));
        buttons.push(button("Run", d.focus == Focus::Run, d.confirmed(), app));
    }
    lines.push(Line::from(buttons));
    let hint = match &d.message {
        Some(m) => Line::from(Span::styled(format!("✖ {m}"), theme.crit)),
        None => Line::from(Span::styled(
            "Tab moves · Enter presses · Esc cancels",
            theme.muted,
        )),
    };
    lines.push(hint);
    let tail = lines;
    // Rows the head takes once wrapped (character wrap; word wrap may take a row more,
    // which the scroll below absorbs).
    let inner_width = usize::from(width.saturating_sub(2)).max(1);
    let head_rows: u16 = head
        .iter()
        .map(|l| l.width().div_ceil(inner_width).max(1) as u16)
        .sum();
    let height = head_rows + tail.len() as u16 + 2;
    let area = centered(body, width, height);
    let title = Line::from(vec![
        Span::raw(" "),
        widgets::tier_badge(d.tier, theme),
        Span::styled(format!(" Run {} ", d.runbook), theme.header),
    ]);
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(title)
        .style(theme.popup);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [top, bottom] = Layout::vertical([
        Constraint::Min(0),
        Constraint::Length((tail.len() as u16).min(inner.height)),
    ])
    .areas(inner);
    // Keep the end of the head (the plan's latest output) when it does not fit.
    let scroll = head_rows.saturating_sub(top.height);
    frame.render_widget(
        Paragraph::new(head)
            .style(theme.popup)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        top,
    );
    frame.render_widget(Paragraph::new(tail).style(theme.popup), bottom);
}
