//! Rules: turn the store's data into conditions that open incidents.
//!
//! `data` is what the rule language reads; `lang` parses and evaluates expressions; `file`
//! loads rule files (the embedded default pack `config/rules.toml`, then user files that add
//! rules or replace one by name); `input` builds the rule data from the store each round;
//! `eval` runs every rule and produces the incident layer's per-round input.

pub mod data;
pub mod eval;
pub mod file;
pub mod input;
pub mod lang;
pub mod template;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::settings::Tier;
use crate::incident::{IncidentConfig, Severity};
pub use file::{RuleError, RuleErrorKind};

/// The default rule pack, embedded so a fresh install has it.
pub const DEFAULT_PACK: &str = include_str!("../../config/rules.toml");

/// Severity of a rule: fixed, or by the environment's tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeverityPolicy {
    Fixed(Severity),
    ByTier {
        integration: Severity,
        staging: Severity,
        production: Severity,
    },
}

impl SeverityPolicy {
    pub fn for_tier(self, tier: Tier) -> Severity {
        match self {
            SeverityPolicy::Fixed(s) => s,
            SeverityPolicy::ByTier {
                integration,
                staging,
                production,
            } => match tier {
                Tier::Integration => integration,
                Tier::Staging => staging,
                Tier::Production => production,
            },
        }
    }
}

/// A step that raises (or sets) the severity of the same incident while it holds.
#[derive(Debug, Clone)]
pub struct Escalation {
    pub expr: lang::Expr,
    pub severity: SeverityPolicy,
}

/// One rule, resolved.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub description: Option<String>,
    /// The expression as written, for the incident detail pane.
    pub expr_text: String,
    pub expr: lang::Expr,
    /// Hysteresis: while this returns a key, its open incident is not clear yet.
    pub hold: Option<lang::Expr>,
    pub for_: Duration,
    pub clear_for: Duration,
    pub severity: SeverityPolicy,
    pub escalate: Vec<Escalation>,
    pub summary: String,
    pub runbooks: Vec<String>,
    /// Labels that identify an incident; all of the sample's labels when `None`.
    pub key: Option<Vec<String>>,
}

/// Incident settings a rule file may set; `None` keeps the default.
#[derive(Debug, Clone, Default)]
pub struct IncidentSettings {
    pub deadlines: [Option<Duration>; 3],
    pub reopen_window: Option<Duration>,
    pub keep_resolved: Option<Duration>,
    pub flap_low: Option<f64>,
    pub flap_high: Option<f64>,
}

/// How external alerts become incidents.
#[derive(Debug, Clone, Default)]
pub struct AlertMapping {
    /// Alert names that never open incidents (heartbeats like Watchdog).
    pub ignore: Vec<String>,
    /// `severity` label value → incident severity, by tier (integration, staging, production).
    pub by_tier: [BTreeMap<String, Severity>; 3],
}

impl AlertMapping {
    /// The incident severity for an alert's `severity` label in a tier, if it maps to one.
    pub fn severity(&self, label: Option<&str>, tier: Tier) -> Option<Severity> {
        let idx = match tier {
            Tier::Integration => 0,
            Tier::Staging => 1,
            Tier::Production => 2,
        };
        self.by_tier[idx].get(label?).copied()
    }
}

/// Every rule in force, the alert mapping and the incident settings.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub alerts: AlertMapping,
    pub incidents: IncidentSettings,
    /// Where each rule came from, for `watchdeck rules` style listings and messages.
    pub origins: BTreeMap<String, PathBuf>,
}

impl RuleSet {
    /// The embedded default pack alone.
    pub fn default_pack() -> Result<Self, RuleError> {
        let mut set = Self {
            rules: Vec::new(),
            alerts: AlertMapping::default(),
            incidents: IncidentSettings::default(),
            origins: BTreeMap::new(),
        };
        set.merge_text(DEFAULT_PACK, Path::new("<default rules>"))?;
        Ok(set)
    }

    /// The default pack, then each user file in order: a rule with an existing name
    /// replaces it, a new name adds one; `[incidents]` and `[external_alerts]` override.
    pub fn load(user_files: &[PathBuf]) -> Result<Self, RuleError> {
        let mut set = Self::default_pack()?;
        for path in user_files {
            let text = std::fs::read_to_string(path).map_err(|source| RuleError::Read {
                path: path.clone(),
                source,
            })?;
            set.merge_text(&text, path)?;
        }
        Ok(set)
    }

    /// Add one file's rules and settings.
    pub fn merge_text(&mut self, text: &str, origin: &Path) -> Result<(), RuleError> {
        let parsed = file::parse(text, origin)?;
        for rule in parsed.rules {
            self.origins.insert(rule.name.clone(), origin.to_owned());
            match self.rules.iter_mut().find(|r| r.name == rule.name) {
                Some(existing) => *existing = rule,
                None => self.rules.push(rule),
            }
        }
        if let Some(i) = parsed.incidents {
            let s = &mut self.incidents;
            for (slot, v) in s.deadlines.iter_mut().zip(i.deadlines) {
                if v.is_some() {
                    *slot = v;
                }
            }
            s.reopen_window = i.reopen_window.or(s.reopen_window);
            s.keep_resolved = i.keep_resolved.or(s.keep_resolved);
            s.flap_low = i.flap_low.or(s.flap_low);
            s.flap_high = i.flap_high.or(s.flap_high);
        }
        if let Some(a) = parsed.alerts {
            self.alerts = a;
        }
        Ok(())
    }

    /// The incident layer's configuration: defaults overridden by the rule files.
    pub fn incident_config(&self) -> IncidentConfig {
        let mut c = IncidentConfig::default();
        for (slot, v) in c.deadlines.iter_mut().zip(self.incidents.deadlines) {
            if let Some(v) = v {
                *slot = v;
            }
        }
        if let Some(v) = self.incidents.reopen_window {
            c.reopen_window = v;
        }
        if let Some(v) = self.incidents.keep_resolved {
            c.keep_resolved = v;
        }
        if let Some(v) = self.incidents.flap_low {
            c.flap_low = v;
        }
        if let Some(v) = self.incidents.flap_high {
            c.flap_high = v;
        }
        c
    }

    /// Every metric name any rule reads: the rule data is built for these only.
    pub fn metric_names(&self) -> std::collections::HashSet<String> {
        let mut names = std::collections::HashSet::new();
        for r in &self.rules {
            names.extend(r.expr.metric_names());
            if let Some(h) = &r.hold {
                names.extend(h.metric_names());
            }
            for e in &r.escalate {
                names.extend(e.expr.metric_names());
            }
        }
        names
    }

    pub fn rule(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.name == name)
    }
}
