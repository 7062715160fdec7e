//! Rule files: TOML structs, validation with file:line:column diagnostics, and resolution
//! into [`RuleSet`](super::RuleSet).
//!
//! Expression errors are placed on the offending token inside the expression string, so a
//! typo reads `rules.toml:42:17: unknown function \`rat\`` with a caret under it.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::lang;
use super::{AlertMapping, Escalation, IncidentSettings, Rule, SeverityPolicy};
use crate::config::error::{Diagnostic, ErrorKind};
use crate::config::settings::Tier;
use crate::incident::Severity;

/// What is wrong with a rule file, and where.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("cannot read rule file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Located problem; the diagnostic renders `file:line:col: message`, the line and a caret.
    #[error("{diagnostic}")]
    Invalid {
        kind: RuleErrorKind,
        diagnostic: Box<Diagnostic>,
    },
}

impl RuleError {
    pub fn kind(&self) -> Option<RuleErrorKind> {
        match self {
            RuleError::Invalid { kind, .. } => Some(*kind),
            RuleError::Read { .. } => None,
        }
    }

    /// Rule errors are configuration errors: exit code 2.
    pub fn exit_code(&self) -> i32 {
        2
    }
}

/// The kinds of rule-file mistakes, one invalid fixture each in `tests/fixtures/rules/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleErrorKind {
    /// Not TOML, or a TOML structure error (unknown key, wrong type, missing key).
    Syntax,
    /// The expression does not parse or type-check.
    Expression,
    DuplicateName,
    BadSeverity,
    BadDuration,
    /// A `{{…}}` placeholder that cannot be filled.
    BadTemplate,
    /// `clear_threshold` on an expression that is not `<lhs> <op> <number>`, or with `hold`.
    BadHysteresis,
    BadName,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    incidents: Option<IncidentsFile>,
    external_alerts: Option<ExternalAlertsFile>,
    #[serde(default)]
    rule: Vec<RuleEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IncidentsFile {
    deadlines: Option<DeadlinesFile>,
    reopen_window: Option<Spanned<String>>,
    flap_low: Option<Spanned<f64>>,
    flap_high: Option<Spanned<f64>>,
    keep_resolved: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeadlinesFile {
    sev1: Option<Spanned<String>>,
    sev2: Option<Spanned<String>>,
    sev3: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExternalAlertsFile {
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, BTreeMap<String, Spanned<i64>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    name: Spanned<String>,
    #[serde(default)]
    description: Option<String>,
    expr: Spanned<String>,
    #[serde(rename = "for")]
    for_: Option<Spanned<String>>,
    clear_threshold: Option<Spanned<f64>>,
    hold: Option<Spanned<String>>,
    clear_for: Option<Spanned<String>>,
    severity: Spanned<SeverityFile>,
    #[serde(default)]
    escalate: Vec<EscalateFile>,
    summary: Spanned<String>,
    #[serde(default)]
    runbooks: Vec<String>,
    #[serde(default)]
    key: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EscalateFile {
    expr: Spanned<String>,
    severity: Spanned<SeverityFile>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SeverityFile {
    Fixed(i64),
    ByTier(BTreeMap<String, i64>),
}

/// Everything one file declares.
pub(super) struct Parsed {
    pub rules: Vec<Rule>,
    pub incidents: Option<IncidentSettings>,
    pub alerts: Option<AlertMapping>,
}

struct Cx<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Cx<'_> {
    fn err(
        &self,
        kind: RuleErrorKind,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> RuleError {
        RuleError::Invalid {
            kind,
            // The config diagnostic renders location, line and caret; its own kind field is
            // not used for rule files.
            diagnostic: Box::new(Diagnostic::new(
                ErrorKind::InvalidValue,
                self.path,
                self.text,
                span,
                message,
            )),
        }
    }

    fn duration(&self, d: &Spanned<String>) -> Result<Duration, RuleError> {
        humantime::parse_duration(d.get_ref()).map_err(|e| {
            self.err(
                RuleErrorKind::BadDuration,
                d.span(),
                format!(
                    "invalid duration `{}`: {e} (write e.g. \"30s\", \"5m\", \"1h\")",
                    d.get_ref()
                ),
            )
        })
    }

    /// Parse an expression, placing errors on the token inside the string literal.
    fn expr(&self, s: &Spanned<String>) -> Result<lang::Expr, RuleError> {
        lang::parse(s.get_ref()).map_err(|e| {
            let span = self.inner_span(s, e.offset, e.len);
            self.err(
                RuleErrorKind::Expression,
                span,
                format!("{} (at `{}`)", e.message, e.token),
            )
        })
    }

    /// Map an offset inside a string value to the file. Exact for literal strings and for
    /// basic strings without escapes; otherwise the start of the string.
    fn inner_span(&self, s: &Spanned<String>, offset: usize, len: usize) -> Range<usize> {
        let span = s.span();
        let raw = &self.text[span.clone()];
        let quote = ["'''", "\"\"\"", "'", "\""]
            .into_iter()
            .find(|q| raw.starts_with(q))
            .map_or(0, str::len);
        let mut body_start = span.start + quote;
        // A newline right after an opening triple quote is not part of the value.
        if quote == 3 {
            if self.text[body_start..].starts_with("\r\n") {
                body_start += 2;
            } else if self.text[body_start..].starts_with('\n') {
                body_start += 1;
            }
        }
        let body_end = span.end.saturating_sub(quote).max(body_start);
        if self.text.get(body_start..body_end) == Some(s.get_ref().as_str()) {
            let start = body_start + offset.min(s.get_ref().len());
            start..(start + len.max(1)).min(body_end.max(start + 1))
        } else {
            span
        }
    }

    fn severity(&self, s: &Spanned<SeverityFile>) -> Result<SeverityPolicy, RuleError> {
        let sev = |n: i64| {
            u8::try_from(n)
                .ok()
                .and_then(Severity::from_number)
                .ok_or_else(|| {
                    self.err(
                        RuleErrorKind::BadSeverity,
                        s.span(),
                        format!(
                            "severity {n} is not 1, 2 or 3 (1 = outage, 2 = degradation, 3 = minor)"
                        ),
                    )
                })
        };
        match s.get_ref() {
            SeverityFile::Fixed(n) => Ok(SeverityPolicy::Fixed(sev(*n)?)),
            SeverityFile::ByTier(map) => {
                let mut by_tier = [None; 3];
                for (tier, n) in map {
                    let Some(t) = Tier::parse(tier) else {
                        return Err(self.err(
                            RuleErrorKind::BadSeverity,
                            s.span(),
                            format!(
                                "unknown tier `{tier}`; expected production, staging or integration"
                            ),
                        ));
                    };
                    by_tier[tier_index(t)] = Some(sev(*n)?);
                }
                match by_tier {
                    [Some(i), Some(st), Some(p)] => Ok(SeverityPolicy::ByTier {
                        integration: i,
                        staging: st,
                        production: p,
                    }),
                    _ => Err(self.err(
                        RuleErrorKind::BadSeverity,
                        s.span(),
                        "a per-tier severity must name production, staging and integration",
                    )),
                }
            }
        }
    }
}

fn tier_index(t: Tier) -> usize {
    match t {
        Tier::Integration => 0,
        Tier::Staging => 1,
        Tier::Production => 2,
    }
}

/// Parse and validate one rule file's text.
pub(super) fn parse(text: &str, path: &Path) -> Result<Parsed, RuleError> {
    let cx = Cx { path, text };
    let file: RuleFile = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        cx.err(
            RuleErrorKind::Syntax,
            span,
            e.message().trim_end().to_owned(),
        )
    })?;
    let mut rules: Vec<Rule> = Vec::with_capacity(file.rule.len());
    let mut seen: BTreeMap<String, Range<usize>> = BTreeMap::new();
    for entry in &file.rule {
        let name = entry.name.get_ref();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(cx.err(
                RuleErrorKind::BadName,
                entry.name.span(),
                format!("rule name `{name}` must be non-empty letters, digits, `_` or `-`"),
            ));
        }
        if let Some(first) = seen.insert(name.clone(), entry.name.span()) {
            let line = text[..first.start].matches('\n').count() + 1;
            return Err(cx.err(
                RuleErrorKind::DuplicateName,
                entry.name.span(),
                format!("rule `{name}` is defined twice in this file (first on line {line})"),
            ));
        }
        rules.push(rule(&cx, entry)?);
    }
    let incidents = file
        .incidents
        .as_ref()
        .map(|i| incidents(&cx, i))
        .transpose()?;
    let alerts = file
        .external_alerts
        .as_ref()
        .map(|a| alert_mapping(&cx, a))
        .transpose()?;
    Ok(Parsed {
        rules,
        incidents,
        alerts,
    })
}

fn rule(cx: &Cx<'_>, e: &RuleEntry) -> Result<Rule, RuleError> {
    let expr = cx.expr(&e.expr)?;
    if expr.is_scalar() {
        return Err(cx.err(
            RuleErrorKind::Expression,
            e.expr.span(),
            "a rule expression must return a vector (one sample per incident), not a scalar",
        ));
    }
    let hold = match (&e.hold, &e.clear_threshold) {
        (Some(_), Some(t)) => {
            return Err(cx.err(
                RuleErrorKind::BadHysteresis,
                t.span(),
                "give either `hold` or `clear_threshold`, not both",
            ));
        }
        (Some(h), None) => Some(cx.expr(h)?),
        (None, Some(t)) => {
            let Some((lhs, op)) = split_comparison(e.expr.get_ref()) else {
                return Err(cx.err(
                    RuleErrorKind::BadHysteresis,
                    t.span(),
                    "clear_threshold needs an expression of the form `<lhs> <op> <number>`; use `hold` for anything else",
                ));
            };
            let hold_text = format!("{lhs} {op} {}", t.get_ref());
            Some(lang::parse(&hold_text).map_err(|err| {
                cx.err(
                    RuleErrorKind::BadHysteresis,
                    t.span(),
                    format!("clear_threshold: {}", err.message),
                )
            })?)
        }
        (None, None) => None,
    };
    let summary = e.summary.get_ref().clone();
    if let Err((offset, message)) = super::template::check(&summary) {
        let span = cx.inner_span(&e.summary, offset, 2);
        return Err(cx.err(RuleErrorKind::BadTemplate, span, message));
    }
    let escalate = e
        .escalate
        .iter()
        .map(|step| {
            Ok(Escalation {
                expr: cx.expr(&step.expr)?,
                severity: cx.severity(&step.severity)?,
            })
        })
        .collect::<Result<Vec<_>, RuleError>>()?;
    Ok(Rule {
        name: e.name.get_ref().clone(),
        description: e.description.clone(),
        expr_text: e.expr.get_ref().trim().to_owned(),
        expr,
        hold,
        for_: e
            .for_
            .as_ref()
            .map(|d| cx.duration(d))
            .transpose()?
            .unwrap_or_default(),
        clear_for: e
            .clear_for
            .as_ref()
            .map(|d| cx.duration(d))
            .transpose()?
            .unwrap_or(Duration::from_secs(30)),
        severity: cx.severity(&e.severity)?,
        escalate,
        summary,
        runbooks: e.runbooks.clone(),
        key: e.key.clone(),
    })
}

fn incidents(cx: &Cx<'_>, i: &IncidentsFile) -> Result<IncidentSettings, RuleError> {
    let mut s = IncidentSettings::default();
    if let Some(d) = &i.deadlines {
        for (slot, value) in [(0, &d.sev1), (1, &d.sev2), (2, &d.sev3)] {
            if let Some(v) = value {
                s.deadlines[slot] = Some(cx.duration(v)?);
            }
        }
    }
    if let Some(v) = &i.reopen_window {
        s.reopen_window = Some(cx.duration(v)?);
    }
    if let Some(v) = &i.keep_resolved {
        s.keep_resolved = Some(cx.duration(v)?);
    }
    for (field, value) in [
        (&mut s.flap_low, &i.flap_low),
        (&mut s.flap_high, &i.flap_high),
    ] {
        if let Some(v) = value {
            if !(0.0..=100.0).contains(v.get_ref()) {
                return Err(cx.err(
                    RuleErrorKind::Syntax,
                    v.span(),
                    "a flap threshold is a percentage between 0 and 100",
                ));
            }
            *field = Some(*v.get_ref());
        }
    }
    Ok(s)
}

fn alert_mapping(cx: &Cx<'_>, a: &ExternalAlertsFile) -> Result<AlertMapping, RuleError> {
    let mut by_tier: [BTreeMap<String, Severity>; 3] = Default::default();
    for (tier, table) in &a.severity {
        let Some(t) = Tier::parse(tier.get_ref()) else {
            return Err(cx.err(
                RuleErrorKind::BadSeverity,
                tier.span(),
                format!(
                    "unknown tier `{}`; expected production, staging or integration",
                    tier.get_ref()
                ),
            ));
        };
        for (label, n) in table {
            let sev = u8::try_from(*n.get_ref())
                .ok()
                .and_then(Severity::from_number)
                .ok_or_else(|| {
                    cx.err(
                        RuleErrorKind::BadSeverity,
                        n.span(),
                        format!("severity {} is not 1, 2 or 3", n.get_ref()),
                    )
                })?;
            by_tier[tier_index(t)].insert(label.clone(), sev);
        }
    }
    Ok(AlertMapping {
        ignore: a.ignore.clone(),
        by_tier,
    })
}

/// Split `<lhs> <op> <number>` at its last top-level comparison, for `clear_threshold`.
fn split_comparison(expr: &str) -> Option<(&str, &str)> {
    let bytes = expr.as_bytes();
    let (mut depth, mut quote) = (0i32, None::<u8>);
    let mut last = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'"' | b'\'' => quote = Some(b),
                b'(' | b'{' | b'[' => depth += 1,
                b')' | b'}' | b']' => depth -= 1,
                b'>' | b'<' | b'=' | b'!' if depth == 0 => {
                    let two = bytes.get(i + 1) == Some(&b'=');
                    let op_len = if two { 2 } else { 1 };
                    // A lone `=` or `!` (as in `=~`, `!~`) is not a comparison.
                    if two || b == b'<' || b == b'>' {
                        last = Some((i, op_len));
                    }
                    i += op_len;
                    continue;
                }
                _ => {}
            },
        }
        i += 1;
    }
    let (at, len) = last?;
    let rhs = expr[at + len..].trim();
    rhs.parse::<f64>().ok()?;
    Some((expr[..at].trim(), &expr[at..at + len]))
}

#[cfg(test)]
mod tests {
    use super::split_comparison;

    #[test]
    fn splits_top_level_comparisons_only() {
        assert_eq!(split_comparison("x > 30"), Some(("x", ">")));
        assert_eq!(
            split_comparison("a{l=\">\"} >= 2"),
            Some(("a{l=\">\"}", ">="))
        );
        assert_eq!(
            split_comparison("sum(x > 1) / y < 0.5"),
            Some(("sum(x > 1) / y", "<"))
        );
        assert_eq!(
            split_comparison("x > y"),
            None,
            "right side must be a number"
        );
        assert_eq!(split_comparison("rate(x[5m])"), None);
    }
}
