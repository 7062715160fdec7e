//! One evaluation round: every rule over the round's data, plus external alerts, into the
//! incident layer's [`RuleRound`]s.
//!
//! Identity: a hit's key is its environment and labels (or the rule's `key` labels), so the
//! same replica lagging stays one incident however its value moves. Severity: the rule's
//! policy for the environment's tier, raised by any escalation step whose expression holds
//! for the same key.

use std::collections::{BTreeMap, HashSet};

use super::data::{LabelSet, RuleData, label};
use super::lang::{Sample, Shared, Value};
use super::{Rule, RuleSet, template};
use crate::config::settings::Tier;
use crate::incident::{Hit, RuleRound, RuleTiming, Severity};
use crate::store::Snapshot;
use crate::store::model::AlertState;

/// The pseudo-rule external alerts open incidents under.
pub const EXTERNAL_ALERT_RULE: &str = "external_alert";

/// What one round produced.
#[derive(Debug, Default)]
pub struct Round {
    pub rounds: Vec<RuleRound>,
    /// Rules that could not be evaluated this round, with why (shown on the Incidents tab).
    pub errors: Vec<String>,
}

/// Evaluate every rule and the external alerts.
pub fn evaluate(set: &RuleSet, data: &dyn RuleData, snap: &Snapshot) -> Round {
    let tier_of = |env: &str| {
        snap.environments
            .iter()
            .find(|e| e.name == env)
            .map(|e| e.tier)
    };
    // Subexpressions repeated across the round's expressions (a hold repeating its rule's
    // condition) are evaluated once.
    let shared = super::lang::Expr::shared(set.rules.iter().flat_map(|r| {
        std::iter::once(&r.expr)
            .chain(r.hold.as_ref())
            .chain(r.escalate.iter().map(|e| &e.expr))
    }));
    let mut out = Round::default();
    for rule in &set.rules {
        match evaluate_rule(rule, data, &shared, &tier_of) {
            Ok(round) => out.rounds.push(round),
            Err(e) => out.errors.push(format!("rule {}: {e}", rule.name)),
        }
    }
    out.rounds.push(external_alerts(set, snap, &tier_of));
    out
}

fn samples(
    expr: &super::lang::Expr,
    data: &dyn RuleData,
    shared: &Shared<'_>,
) -> Result<Vec<Sample>, String> {
    match expr.eval_shared(data, shared).map_err(|e| e.to_string())? {
        Value::Vector(v) => Ok(v),
        Value::Scalar(_) => Err("expression returned a scalar".to_owned()),
    }
}

/// The identity of a sample within its rule.
pub fn key_of(labels: &LabelSet, key: Option<&[String]>) -> String {
    let mut out = String::new();
    let mut push = |k: &str, v: &str| {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    };
    match key {
        Some(names) => {
            for n in names {
                push(n, label(labels, n).unwrap_or(""));
            }
        }
        None => {
            for (k, v) in labels.iter() {
                push(k, v);
            }
        }
    }
    out
}

fn evaluate_rule(
    rule: &Rule,
    data: &dyn RuleData,
    shared: &Shared<'_>,
    tier_of: &dyn Fn(&str) -> Option<Tier>,
) -> Result<RuleRound, String> {
    let key_names = rule.key.as_deref();
    let found = samples(&rule.expr, data, shared)?;
    // Escalation steps only ever raise a hit's severity: with no hits there is nothing to
    // evaluate them for.
    let mut escalations: Vec<(HashSet<String>, super::SeverityPolicy)> = Vec::new();
    if !found.is_empty() {
        for step in &rule.escalate {
            let keys = samples(&step.expr, data, shared)?
                .iter()
                .map(|s| key_of(&s.labels, key_names))
                .collect();
            escalations.push((keys, step.severity));
        }
    }
    let mut hits = Vec::with_capacity(found.len());
    for s in found {
        let environment = label(&s.labels, "env").unwrap_or("").to_owned();
        // A sample outside any configured environment is ranked as production: the
        // cautious reading of an unknown place.
        let tier = tier_of(&environment).unwrap_or(Tier::Production);
        let key = key_of(&s.labels, key_names);
        let mut severity = rule.severity.for_tier(tier);
        for (keys, policy) in &escalations {
            if keys.contains(&key) {
                severity = severity.min(policy.for_tier(tier));
            }
        }
        hits.push(Hit {
            summary: template::render(&rule.summary, &s.labels, s.value),
            labels: s
                .labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            key,
            environment,
            tier,
            severity,
            value: s.value,
            sources: s.sources.clone(),
            stale: s.stale,
        });
    }
    let holding = match &rule.hold {
        Some(hold) => samples(hold, data, shared)?
            .iter()
            .map(|s| key_of(&s.labels, key_names))
            .collect(),
        None => Vec::new(),
    };
    Ok(RuleRound {
        rule: rule.name.clone(),
        timing: RuleTiming {
            for_: rule.for_,
            clear_for: rule.clear_for,
        },
        runbooks: rule.runbooks.clone(),
        hits,
        holding,
    })
}

fn external_alerts(
    set: &RuleSet,
    snap: &Snapshot,
    tier_of: &dyn Fn(&str) -> Option<Tier>,
) -> RuleRound {
    let mut hits = Vec::new();
    for a in &snap.alerts {
        if a.state != AlertState::Firing || a.is_suppressed() || set.alerts.ignore.contains(&a.name)
        {
            continue;
        }
        let Some(src) = snap.source(a.source) else {
            continue;
        };
        let tier = tier_of(&src.environment).unwrap_or(Tier::Production);
        let Some(severity): Option<Severity> = set.alerts.severity(a.severity(), tier) else {
            continue;
        };
        let mut labels: BTreeMap<String, String> = a.labels.clone();
        labels.insert("env".to_owned(), src.environment.clone());
        labels.insert("alertname".to_owned(), a.name.clone());
        let key = format!(
            "env={},alertname={},{}",
            src.environment,
            a.name,
            a.fingerprint.clone().unwrap_or_else(|| {
                a.labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
        );
        let summary = a
            .annotations
            .get("summary")
            .or_else(|| a.annotations.get("description"))
            .map_or_else(|| a.name.clone(), |s| format!("{}: {s}", a.name));
        hits.push(Hit {
            key,
            environment: src.environment.clone(),
            tier,
            severity,
            value: 1.0,
            summary,
            labels,
            sources: vec![a.source],
            stale: snap.is_stale(a.source),
        });
    }
    RuleRound {
        rule: EXTERNAL_ALERT_RULE.to_owned(),
        timing: RuleTiming {
            for_: std::time::Duration::ZERO,
            // Alertmanager re-sends; a short gap between two polls is not a resolution.
            clear_for: std::time::Duration::from_secs(30),
        },
        runbooks: Vec::new(),
        hits,
        holding: Vec::new(),
    }
}
