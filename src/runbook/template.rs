//! Placeholders and their substitution: from a runbook's argv or request template, a
//! target and parameter values to a resolved [`Invocation`].
//!
//! The injection rules live here, in one place:
//! - a placeholder is substituted *inside* one argv element or one JSON string, so a value
//!   can never become a second argument, a command or JSON structure (JSON-escaping is
//!   `serde_json`'s);
//! - the program (`argv[0]`) never holds a placeholder (checked when the config loads);
//! - values from the target (names that came from the config or, for incident labels, from
//!   the network) must look like names: letters, digits and `._:@+=,-`, not starting with
//!   `-` — so no value reads as an option, a path or shell syntax;
//! - parameter values must satisfy their declared type, never start with `-` (unless an
//!   integer), and hold no control character;
//! - `ssh` hands everything after the destination to the remote shell, so in an `ssh`
//!   argv every substituted value must also be free of shell metacharacters;
//! - in a URL, substituted values are percent-encoded.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value as Json;

use super::invocation::{ExecInvocation, HttpInvocation, Invocation, Phase, Target, TargetKind};
use super::spec::{ActionSpec, ParamKind, ParamSpec, RunbookSpec};
use crate::config::settings::{Auth, Tier};
use crate::incident::IncidentId;
use crate::secret::Secret;

/// A string with `{name}` placeholders; `{{` and `}}` stand for literal braces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Var(String),
}

/// Why a template does not parse; `offset` is a byte offset into the template text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    pub offset: usize,
    pub message: String,
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if chars.peek().is_some_and(|&(_, n)| n == '{') => {
                    chars.next();
                    lit.push('{');
                }
                '}' if chars.peek().is_some_and(|&(_, n)| n == '}') => {
                    chars.next();
                    lit.push('}');
                }
                '{' => {
                    let rest = &text[i + 1..];
                    let Some(end) = rest.find('}') else {
                        return Err(TemplateError {
                            offset: i,
                            message: "unclosed `{`; write `{{` for a literal brace".into(),
                        });
                    };
                    let name = &rest[..end];
                    if !is_name(name) {
                        return Err(TemplateError {
                            offset: i,
                            message: format!(
                                "invalid placeholder `{{{name}}}`; expected a name such as \
                                 {{node}} (lowercase letters, digits, `_`), or `{{{{` for a \
                                 literal brace"
                            ),
                        });
                    }
                    if !lit.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut lit)));
                    }
                    pieces.push(Piece::Var(name.to_owned()));
                    for _ in 0..name.chars().count() + 1 {
                        chars.next();
                    }
                }
                '}' => {
                    return Err(TemplateError {
                        offset: i,
                        message: "unmatched `}`; write `}}` for a literal brace".into(),
                    });
                }
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            pieces.push(Piece::Text(lit));
        }
        Ok(Template { pieces })
    }

    /// The placeholder names, in order, with their byte offsets in the source text.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Var(v) => Some(v.as_str()),
            Piece::Text(_) => None,
        })
    }

    pub fn has_vars(&self) -> bool {
        self.vars().next().is_some()
    }

    /// The one placeholder this template consists of, if it is nothing else.
    fn sole_var(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [Piece::Var(v)] => Some(v),
            _ => None,
        }
    }

    fn render_with(
        &self,
        values: &Values,
        mut encode: impl FnMut(&str, &str) -> Result<String, ResolveError>,
    ) -> Result<String, ResolveError> {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Var(v) => {
                    let value = values.get(v)?;
                    out.push_str(&encode(v, value)?);
                }
            }
        }
        Ok(out)
    }

    pub fn render(&self, values: &Values) -> Result<String, ResolveError> {
        self.render_with(values, |_, v| Ok(v.to_owned()))
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.pieces {
            match p {
                Piece::Text(t) => f.write_str(&t.replace('{', "{{").replace('}', "}}"))?,
                Piece::Var(v) => write!(f, "{{{v}}}")?,
            }
        }
        Ok(())
    }
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A JSON body with placeholders inside its strings.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonTemplate {
    Literal(Json),
    String(Template),
    Array(Vec<JsonTemplate>),
    Object(Vec<(String, JsonTemplate)>),
}

impl JsonTemplate {
    /// From the TOML the config holds; `on_string` parses each string (so the caller can
    /// report a bad placeholder where it is written).
    pub fn from_toml(
        value: &toml::Value,
        on_string: &mut impl FnMut(&str) -> Result<Template, TemplateError>,
    ) -> Result<JsonTemplate, TemplateError> {
        Ok(match value {
            toml::Value::String(s) => JsonTemplate::String(on_string(s)?),
            toml::Value::Integer(i) => JsonTemplate::Literal(Json::from(*i)),
            toml::Value::Float(f) => JsonTemplate::Literal(Json::from(*f)),
            toml::Value::Boolean(b) => JsonTemplate::Literal(Json::from(*b)),
            toml::Value::Datetime(d) => JsonTemplate::Literal(Json::from(d.to_string())),
            toml::Value::Array(a) => JsonTemplate::Array(
                a.iter()
                    .map(|v| JsonTemplate::from_toml(v, on_string))
                    .collect::<Result<_, _>>()?,
            ),
            toml::Value::Table(t) => JsonTemplate::Object(
                t.iter()
                    .map(|(k, v)| Ok((k.clone(), JsonTemplate::from_toml(v, on_string)?)))
                    .collect::<Result<_, _>>()?,
            ),
        })
    }

    pub fn vars(&self) -> Vec<&str> {
        match self {
            JsonTemplate::Literal(_) => Vec::new(),
            JsonTemplate::String(t) => t.vars().collect(),
            JsonTemplate::Array(a) => a.iter().flat_map(JsonTemplate::vars).collect(),
            JsonTemplate::Object(o) => o.iter().flat_map(|(_, v)| v.vars()).collect(),
        }
    }

    /// The JSON value: a string that is exactly one integer parameter becomes a number,
    /// every other string a JSON string (escaped by serde_json).
    fn render(&self, values: &Values) -> Result<Json, ResolveError> {
        Ok(match self {
            JsonTemplate::Literal(v) => v.clone(),
            JsonTemplate::String(t) => {
                if let Some(var) = t.sole_var()
                    && values.integer(var)
                {
                    let v = values.get(var)?;
                    match v.parse::<i64>() {
                        Ok(n) => Json::from(n),
                        Err(_) => Json::from(v),
                    }
                } else {
                    Json::from(t.render(values)?)
                }
            }
            JsonTemplate::Array(a) => Json::Array(
                a.iter()
                    .map(|v| v.render(values))
                    .collect::<Result<_, _>>()?,
            ),
            JsonTemplate::Object(o) => Json::Object(
                o.iter()
                    .map(|(k, v)| Ok((k.clone(), v.render(values)?)))
                    .collect::<Result<_, ResolveError>>()?,
            ),
        })
    }
}

/// Why a runbook cannot be aimed at this target with these values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("`{{{0}}}` has no value for this target")]
    Missing(String),
    #[error("parameter `{0}` is not declared by this runbook")]
    UnknownParam(String),
    #[error("parameter `{name}`: {why}")]
    BadParam { name: String, why: String },
    #[error(
        "{what} `{value}` is not a plain name (letters, digits and `._:@+=,-`, not starting \
         with `-`); refusing to substitute it"
    )]
    UnsafeValue { what: String, value: String },
    #[error(
        "`{{{name}}}` = `{value}` would reach the remote shell through ssh; values in an ssh \
         command must not contain spaces or shell characters"
    )]
    RemoteShell { name: String, value: String },
    #[error("{0} does not apply to environment `{1}`")]
    NotApplicable(String, String),
    #[error("{0} acts on a {1}, not on a {2}")]
    WrongTarget(String, &'static str, &'static str),
    #[error("the URL is not valid after substitution: {0}")]
    BadUrl(String),
    #[error("secret for {0}: {1}")]
    Secret(String, String),
    #[error("{0} has no plan (a dry run); nothing to run in dry-run mode")]
    NoPlan(String),
}

/// The values placeholders take: the target's (`env`, `node`, …) and the parameters'.
#[derive(Debug, Clone, Default)]
pub struct Values {
    map: BTreeMap<String, String>,
    integers: Vec<String>,
}

impl Values {
    pub fn get(&self, name: &str) -> Result<&str, ResolveError> {
        self.map
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| ResolveError::Missing(name.to_owned()))
    }

    /// Set a value directly (for checking a template's shape with stand-ins).
    pub fn insert(&mut self, name: &str, value: &str) {
        self.map.insert(name.to_owned(), value.to_owned());
    }

    fn integer(&self, name: &str) -> bool {
        self.integers.iter().any(|n| n == name)
    }
}

/// Placeholders every runbook may use, whatever its target.
pub const ALWAYS: &[&str] = &["env", "tier", "runbook", "target"];

/// Placeholders a target kind always supplies (besides [`ALWAYS`]) and those it supplies
/// when known (a node's cluster, …).
pub fn target_placeholders(kind: TargetKind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        TargetKind::Environment => (&[], &[]),
        TargetKind::Node => (&["node"], &["cluster", "role", "instance"]),
        TargetKind::Cluster => (&["cluster"], &[]),
        TargetKind::ReplicationLink => (&["primary", "replica", "node"], &["cluster", "instance"]),
        TargetKind::BackupService => (&["service"], &[]),
        // Only the built-in silence actions act on alerts; they use no templates.
        TargetKind::Alert => (&[], &[]),
    }
}

/// A value from a target is a name: it cannot read as an option, a path or shell syntax.
pub fn is_plain_name(v: &str) -> bool {
    !v.is_empty()
        && !v.starts_with('-')
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._:@+=,-".contains(c))
}

/// Characters a remote shell gives meaning to.
fn is_shell_safe(v: &str) -> bool {
    v.chars()
        .all(|c| c.is_ascii_alphanumeric() || "._:@+=,-/%".contains(c))
}

/// Check a parameter value against its declaration; returns the value as it will be used.
pub fn check_param(p: &ParamSpec, value: &str) -> Result<String, ResolveError> {
    let bad = |why: String| ResolveError::BadParam {
        name: p.name.clone(),
        why,
    };
    if value.chars().any(char::is_control) {
        return Err(bad("control characters are not allowed".into()));
    }
    match &p.kind {
        ParamKind::Integer { min, max } => {
            let n: i64 = value
                .trim()
                .parse()
                .map_err(|_| bad(format!("`{value}` is not an integer")))?;
            if n < *min || n > *max {
                return Err(bad(format!("{n} is outside {min}..={max}")));
            }
            Ok(n.to_string())
        }
        ParamKind::Choice(choices) => {
            if choices.iter().any(|c| c == value) {
                Ok(value.to_owned())
            } else {
                Err(bad(format!(
                    "`{value}` is not one of: {}",
                    choices.join(", ")
                )))
            }
        }
        ParamKind::String { pattern } => {
            if value.starts_with('-') {
                return Err(bad(format!(
                    "`{value}` starts with `-` and could be read as an option"
                )));
            }
            if pattern.is_match(value) {
                Ok(value.to_owned())
            } else {
                Err(bad(format!(
                    "`{value}` does not match the allowed pattern {}",
                    p.pattern_text()
                )))
            }
        }
    }
}

/// The values for `spec` aimed at `target` with `params` (unknown parameters refused,
/// declared ones checked, defaults filled in).
pub fn values(
    spec: &RunbookSpec,
    target: &Target,
    tier: Tier,
    params: &BTreeMap<String, String>,
) -> Result<(Values, BTreeMap<String, String>), ResolveError> {
    if target.kind != spec.target {
        return Err(ResolveError::WrongTarget(
            spec.name.clone(),
            spec.target.noun(),
            target.kind.noun(),
        ));
    }
    let mut v = Values::default();
    for (k, value) in &target.values {
        if !is_plain_name(value) {
            return Err(ResolveError::UnsafeValue {
                what: format!("{} `{k}`", target.kind.noun()),
                value: value.clone(),
            });
        }
        v.map.insert(k.clone(), value.clone());
    }
    v.map.insert("env".into(), target.environment.clone());
    v.map.insert("tier".into(), tier.as_str().to_owned());
    v.map.insert("runbook".into(), spec.name.clone());
    v.map.insert("target".into(), target.name.clone());
    for name in params.keys() {
        if !spec.params.iter().any(|p| &p.name == name) {
            return Err(ResolveError::UnknownParam(name.clone()));
        }
    }
    let mut used = BTreeMap::new();
    for p in &spec.params {
        let given = params.get(&p.name).or(p.default.as_ref());
        let Some(given) = given else {
            return Err(ResolveError::BadParam {
                name: p.name.clone(),
                why: "a value is required".into(),
            });
        };
        let value = check_param(p, given)?;
        // Numbers stay numbers in a JSON body: integers, and choices that are all integers
        // (a traffic share of 5, 10, 50 or 100 percent).
        let numeric = match &p.kind {
            ParamKind::Integer { .. } => true,
            ParamKind::Choice(c) => c.iter().all(|c| c.parse::<i64>().is_ok()),
            ParamKind::String { .. } => false,
        };
        if numeric {
            v.integers.push(p.name.clone());
        }
        v.map.insert(p.name.clone(), value.clone());
        used.insert(p.name.clone(), value);
    }
    Ok((v, used))
}

/// What the runner needs to know about the run besides the invocation.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub phase: Phase,
    pub user: &'a str,
    pub incident: Option<IncidentId>,
    /// Read secrets now (for the runner). A preview for the dialog does not: rendering
    /// does no I/O, and a preview shows secrets as `[redacted]` anyway.
    pub read_secrets: bool,
}

/// The invocation for `action` (the runbook's action or its plan).
pub fn invocation(
    spec: &RunbookSpec,
    action: &ActionSpec,
    values: &Values,
    params: &BTreeMap<String, String>,
    target: &Target,
    cx: &Context<'_>,
) -> Result<Invocation, ResolveError> {
    match action {
        ActionSpec::Exec { argv, secret_env } => {
            let remote_shell = argv
                .first()
                .map(|p| p.to_string())
                .is_some_and(|p| p.rsplit('/').next() == Some("ssh"));
            let argv = argv
                .iter()
                .map(|t| {
                    t.render_with(values, |name, value| {
                        if remote_shell && !is_shell_safe(value) {
                            return Err(ResolveError::RemoteShell {
                                name: name.to_owned(),
                                value: value.to_owned(),
                            });
                        }
                        Ok(value.to_owned())
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut env = vec![
                ("WATCHDECK_RUNBOOK".to_owned(), spec.name.clone()),
                ("WATCHDECK_PHASE".to_owned(), cx.phase.as_str().to_owned()),
                ("WATCHDECK_USER".to_owned(), cx.user.to_owned()),
                (
                    "WATCHDECK_TARGET_KIND".to_owned(),
                    target.kind.as_str().to_owned(),
                ),
            ];
            for (k, value) in &values.map {
                // Parameters get their own prefix; the runbook's name is set above.
                if params.contains_key(k) || k == "runbook" {
                    continue;
                }
                env.push((
                    format!("WATCHDECK_{}", k.to_ascii_uppercase()),
                    value.clone(),
                ));
            }
            for (k, value) in params {
                env.push((
                    format!("WATCHDECK_PARAM_{}", k.to_ascii_uppercase()),
                    value.clone(),
                ));
            }
            if let Some(id) = cx.incident {
                env.push(("WATCHDECK_INCIDENT".to_owned(), id.to_string()));
            }
            let secret_env = secret_env
                .iter()
                .map(|(name, source)| {
                    if !cx.read_secrets {
                        return Ok((name.clone(), Secret::new(String::new())));
                    }
                    source
                        .read()
                        .map(|s| (name.clone(), s))
                        .map_err(|e| ResolveError::Secret(name.clone(), e))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Invocation::Exec(ExecInvocation {
                argv,
                env,
                secret_env,
            }))
        }
        ActionSpec::Http {
            method,
            url,
            headers,
            auth,
            body,
        } => {
            let url_text = url.render_with(values, |_, value| {
                Ok(url::form_urlencoded::byte_serialize(value.as_bytes()).collect())
            })?;
            let url =
                url::Url::parse(&url_text).map_err(|e| ResolveError::BadUrl(e.to_string()))?;
            let headers = headers
                .iter()
                .map(|(k, t)| Ok((k.clone(), t.render(values)?)))
                .collect::<Result<Vec<_>, ResolveError>>()?;
            let mut secret_headers = Vec::new();
            if let Some(auth) = auth.as_ref().filter(|_| cx.read_secrets) {
                secret_headers.push(
                    authorization(auth)
                        .map_err(|e| ResolveError::Secret("Authorization".into(), e))?,
                );
            } else if auth.is_some() {
                secret_headers.push(("Authorization".to_owned(), Secret::new(String::new())));
            }
            let body = match body {
                Some(b) => Some(b.render(values)?.to_string()),
                None => None,
            };
            Ok(Invocation::Http(HttpInvocation {
                method: method.clone(),
                url,
                headers,
                secret_headers,
                body,
                insecure_skip_verify: false,
            }))
        }
    }
}

/// The `Authorization` header for `auth`, read now (rotated secrets are picked up).
fn authorization(auth: &Auth) -> Result<(String, Secret), String> {
    use base64::Engine as _;
    let value = match auth {
        Auth::Bearer(source) => format!("Bearer {}", source.read()?.expose()),
        Auth::Basic { username, password } => {
            let pair = format!("{username}:{}", password.read()?.expose());
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        }
    };
    Ok(("Authorization".to_owned(), Secret::new(value)))
}

/// Everything needed to ask the runner for one run of `spec` against `target`.
pub fn request(
    spec: &RunbookSpec,
    phase: Phase,
    target: &Target,
    tier: Tier,
    params: &BTreeMap<String, String>,
    cx: &Context<'_>,
) -> Result<super::RunRequest, ResolveError> {
    if !spec.applies_to(&target.environment, tier) {
        return Err(ResolveError::NotApplicable(
            spec.name.clone(),
            target.environment.clone(),
        ));
    }
    let (values, used) = values(spec, target, tier, params)?;
    let action = match phase {
        Phase::Run => &spec.action,
        Phase::Plan => spec
            .plan
            .as_ref()
            .ok_or_else(|| ResolveError::NoPlan(spec.name.clone()))?,
    };
    let invocation = invocation(spec, action, &values, &used, target, cx)?;
    Ok(super::RunRequest {
        runbook: spec.name.clone(),
        phase,
        target: target.clone(),
        tier,
        params: used,
        incident: cx.incident,
        invocation,
        timeout: spec.timeout,
        kill_grace: spec.kill_grace,
        user: cx.user.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_escaped_braces() {
        let t = Template::parse("a{node}-{{x}}-{env}").unwrap();
        assert_eq!(t.vars().collect::<Vec<_>>(), ["node", "env"]);
        assert_eq!(t.to_string(), "a{node}-{{x}}-{env}");
        let mut v = Values::default();
        v.map.insert("node".into(), "n1".into());
        v.map.insert("env".into(), "prod".into());
        assert_eq!(t.render(&v).unwrap(), "an1-{x}-prod");
    }

    #[test]
    fn template_errors_point_at_the_brace() {
        assert_eq!(Template::parse("ab{node").unwrap_err().offset, 2);
        assert_eq!(Template::parse("ab}c").unwrap_err().offset, 2);
        assert_eq!(Template::parse("x{No de}").unwrap_err().offset, 1);
        assert!(Template::parse("{}").is_err());
        assert!(Template::parse("é{node}").is_ok());
    }

    #[test]
    fn plain_names() {
        for ok in ["prod-web1", "10.0.0.1:9100", "php8.2-fpm", "a@b", "x=y,z"] {
            assert!(is_plain_name(ok), "{ok}");
        }
        for bad in [
            "-rf", "", "a b", "a;b", "$(id)", "a/b", "a\nb", "`x`", "a'b",
        ] {
            assert!(!is_plain_name(bad), "{bad}");
        }
    }
}
