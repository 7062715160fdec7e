//! A runbook as configured and validated: what it acts on, where it applies, how it is
//! confirmed, its typed parameters, and its action (and optional plan) as templates.
//!
//! Built by the config resolver (`config::resolve_runbook`), which has already refused
//! everything unsafe it can see without a target: shells run with `-c`, placeholders in
//! the program, undeclared placeholders, `confirm = "none"` on production.

use std::time::Duration;

use regex::Regex;

use super::invocation::TargetKind;
use super::template::{JsonTemplate, Template};
use crate::config::settings::{Auth, SecretSource, Tier};

/// Default for `timeout`: every run has one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// Default for `kill_grace`: time between SIGTERM and SIGKILL.
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(10);

/// How a run is confirmed in the dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// Runs when chosen (never allowed on production).
    None,
    /// A Run button (Cancel has the focus).
    Yes,
    /// The environment's name must be typed.
    Typed,
}

impl Confirm {
    pub fn as_str(self) -> &'static str {
        match self {
            Confirm::None => "none",
            Confirm::Yes => "yes",
            Confirm::Typed => "typed",
        }
    }

    pub fn parse(s: &str) -> Option<Confirm> {
        match s {
            "none" => Some(Confirm::None),
            "yes" => Some(Confirm::Yes),
            "typed" => Some(Confirm::Typed),
            _ => None,
        }
    }

    /// The default for a tier: typed on production, a Run button elsewhere.
    pub fn default_for(tier: Tier) -> Confirm {
        if tier == Tier::Production {
            Confirm::Typed
        } else {
            Confirm::Yes
        }
    }
}

/// A declared parameter's type.
#[derive(Debug, Clone)]
pub enum ParamKind {
    /// Any text the allowlist pattern matches whole.
    String {
        pattern: Regex,
    },
    Integer {
        min: i64,
        max: i64,
    },
    Choice(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct ParamSpec {
    pub name: String,
    pub description: String,
    pub kind: ParamKind,
    pub default: Option<String>,
}

impl ParamSpec {
    /// The pattern as the engineer wrote it (without the anchoring added at load).
    pub fn pattern_text(&self) -> String {
        match &self.kind {
            ParamKind::String { pattern } => pattern
                .as_str()
                .strip_prefix("^(?:")
                .and_then(|p| p.strip_suffix(")$"))
                .unwrap_or(pattern.as_str())
                .to_owned(),
            _ => String::new(),
        }
    }

    /// What the dialog shows as the expected input.
    pub fn hint(&self) -> String {
        match &self.kind {
            ParamKind::String { .. } => format!("text matching {}", self.pattern_text()),
            ParamKind::Integer { min, max } => format!("integer {min}..={max}"),
            ParamKind::Choice(c) => format!("one of {}", c.join(" | ")),
        }
    }
}

/// What a runbook does.
#[derive(Debug, Clone)]
pub enum ActionSpec {
    /// A program and its arguments, started directly.
    Exec {
        argv: Vec<Template>,
        /// Child environment variables read from secrets at run time.
        secret_env: Vec<(String, SecretSource)>,
    },
    /// An HTTP request.
    Http {
        method: String,
        url: Template,
        headers: Vec<(String, Template)>,
        auth: Option<Auth>,
        body: Option<JsonTemplate>,
    },
}

impl ActionSpec {
    /// The action as configured, placeholders and all: for the Runbooks tab's detail.
    pub fn describe(&self) -> String {
        match self {
            ActionSpec::Exec { argv, .. } => {
                let words: Vec<String> = argv.iter().map(Template::to_string).collect();
                format!("exec {}", super::invocation::quote_argv(&words))
            }
            ActionSpec::Http { method, url, .. } => format!("{method} {url}"),
        }
    }
}

/// One `[[runbook]]`.
#[derive(Debug, Clone)]
pub struct RunbookSpec {
    pub name: String,
    pub description: String,
    /// A key in keymap notation (`R`, `Alt-r`); checked against the keymap at start.
    pub hotkey: Option<String>,
    /// `None`: every environment (subject to `tiers`).
    pub environments: Option<Vec<String>>,
    /// `None`: every tier.
    pub tiers: Option<Vec<Tier>>,
    pub target: TargetKind,
    /// `None`: the tier's default ([`Confirm::default_for`]).
    pub confirm: Option<Confirm>,
    pub timeout: Duration,
    pub kill_grace: Duration,
    pub params: Vec<ParamSpec>,
    pub action: ActionSpec,
    pub plan: Option<ActionSpec>,
}

impl RunbookSpec {
    pub fn applies_to(&self, environment: &str, tier: Tier) -> bool {
        self.environments
            .as_ref()
            .is_none_or(|e| e.iter().any(|n| n == environment))
            && self.tiers.as_ref().is_none_or(|t| t.contains(&tier))
    }

    /// How a run on this tier is confirmed.
    pub fn confirm_for(&self, tier: Tier) -> Confirm {
        self.confirm.unwrap_or_else(|| Confirm::default_for(tier))
    }
}
