//! Alertmanager silences as runbook actions: creating one (`POST /api/v2/silences`) and
//! expiring one (`DELETE /api/v2/silence/{id}`), built into the console rather than
//! configured, but sent through the same runner as any runbook — so they are confirmed in
//! the same dialog, refused in read-only mode, written to the audit log before they are
//! sent, and recorded on the incident's timeline.
//!
//! Their names (`alertmanager:silence`, `alertmanager:expire`) contain a `:`, which
//! configured runbook names may not, so they cannot clash with one.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::invocation::{HttpInvocation, Invocation, Phase, RunRequest, Target};
use crate::config::settings::{Auth, SourceSpec, Tier};
use crate::incident::IncidentId;
use crate::secret::Secret;
use crate::source::alerts::SILENCES_PATH;
use crate::source::http::join_path;
use crate::store::model::SilenceMatcher;

/// The runbook name a silence creation runs under.
pub const CREATE: &str = "alertmanager:silence";
/// The runbook name a silence expiry runs under.
pub const EXPIRE: &str = "alertmanager:expire";

/// Parameter names of a silence creation, as the dialog shows them.
pub const MATCHERS: &str = "matchers";
pub const DURATION: &str = "duration";
pub const COMMENT: &str = "comment";
/// The silence being expired (a parameter, so the audit log and history show it).
pub const SILENCE_ID: &str = "silence";

/// Default silence length offered in the dialog.
pub const DEFAULT_DURATION: &str = "2h";

/// How long Alertmanager gets to answer.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// Why a silence request could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SilenceError {
    #[error("matchers: {0}")]
    Matchers(String),
    #[error("duration: {0}")]
    Duration(String),
    #[error("a comment is required: say why, and for whom (an incident, a ticket)")]
    NoComment,
    #[error("no silence id")]
    NoId,
    #[error("{0}")]
    Secret(String),
}

/// Which built-in action, on which Alertmanager source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Builtin {
    Silence,
    Expire,
}

impl Builtin {
    pub fn from_runbook(name: &str) -> Option<Builtin> {
        match name {
            CREATE => Some(Builtin::Silence),
            EXPIRE => Some(Builtin::Expire),
            _ => None,
        }
    }

    pub fn runbook(&self) -> &'static str {
        match self {
            Builtin::Silence => CREATE,
            Builtin::Expire => EXPIRE,
        }
    }
}

/// Everything needed to build the request, apart from the Alertmanager source.
pub struct Order<'a> {
    pub builtin: &'a Builtin,
    pub target: &'a Target,
    pub tier: Tier,
    pub params: &'a BTreeMap<String, String>,
    pub incident: Option<IncidentId>,
    pub user: &'a str,
    pub now: DateTime<Utc>,
    /// Read the source's credentials (only when sending; the dialog's preview does not).
    pub read_secrets: bool,
}

/// The request for `order`, to be sent to the Alertmanager `am`.
pub fn request(am: &SourceSpec, order: &Order<'_>) -> Result<RunRequest, SilenceError> {
    let mut headers = vec![("Accept".to_owned(), "application/json".to_owned())];
    let (method, url, body) = match order.builtin {
        Builtin::Silence => {
            let matchers = parse_matchers(param(order.params, MATCHERS))?;
            let duration = parse_duration(param(order.params, DURATION))?;
            let comment = param(order.params, COMMENT).trim();
            if comment.is_empty() {
                return Err(SilenceError::NoComment);
            }
            let ends = order.now
                + chrono::Duration::from_std(duration)
                    .map_err(|_| SilenceError::Duration("too long".into()))?;
            let body = serde_json::json!({
                "matchers": matchers.iter().map(|m| serde_json::json!({
                    "name": m.name,
                    "value": m.value,
                    "isRegex": m.is_regex,
                    "isEqual": m.is_equal,
                })).collect::<Vec<_>>(),
                "startsAt": order.now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "endsAt": ends.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "createdBy": order.user,
                "comment": comment,
            });
            headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
            (
                "POST",
                join_path(&am.url, SILENCES_PATH),
                Some(body.to_string()),
            )
        }
        Builtin::Expire => {
            let id = param(order.params, SILENCE_ID).trim();
            if id.is_empty() {
                return Err(SilenceError::NoId);
            }
            let mut url = join_path(&am.url, "api/v2/silence");
            // push() percent-encodes the id as one path segment, so no id can reach
            // another endpoint.
            if let Ok(mut segments) = url.path_segments_mut() {
                segments.push(id);
            }
            ("DELETE", url, None)
        }
    };
    let secret_headers = match &am.auth {
        None => Vec::new(),
        Some(auth) => vec![("Authorization".to_owned(), authorization(auth, order)?)],
    };
    Ok(RunRequest {
        runbook: order.builtin.runbook().to_owned(),
        phase: Phase::Run,
        target: order.target.clone(),
        tier: order.tier,
        params: order.params.clone(),
        incident: order.incident,
        invocation: Invocation::Http(HttpInvocation {
            method: method.to_owned(),
            url,
            headers,
            secret_headers,
            body,
            insecure_skip_verify: am.insecure_skip_verify,
        }),
        timeout: TIMEOUT,
        kill_grace: Duration::ZERO,
        user: order.user.to_owned(),
    })
}

fn param<'a>(params: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    params.get(name).map_or("", String::as_str)
}

/// The source's own credentials, so a silence goes where the poller already reads.
fn authorization(auth: &Auth, order: &Order<'_>) -> Result<Secret, SilenceError> {
    use base64::Engine as _;
    if !order.read_secrets {
        return Ok(Secret::new(""));
    }
    match auth {
        Auth::Bearer(src) => {
            let token = src.read().map_err(SilenceError::Secret)?;
            Ok(Secret::new(format!("Bearer {}", token.expose())))
        }
        Auth::Basic { username, password } => {
            let password = password.read().map_err(SilenceError::Secret)?;
            let raw = format!("{username}:{}", password.expose());
            Ok(Secret::new(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            )))
        }
    }
}

fn parse_duration(text: &str) -> Result<Duration, SilenceError> {
    let d = humantime::parse_duration(text.trim())
        .map_err(|e| SilenceError::Duration(format!("`{}`: {e}", text.trim())))?;
    if d < Duration::from_secs(60) {
        return Err(SilenceError::Duration(
            "at least 1m (Alertmanager drops a silence once it ends)".into(),
        ));
    }
    Ok(d)
}

/// The matchers an alert's labels give: `alertname` first, then the rest by name, all
/// equality matchers — what Alertmanager's own UI proposes for "silence this alert".
pub fn matchers_for(labels: &BTreeMap<String, String>, alertname: &str) -> String {
    let mut out = vec![format!("alertname=\"{}\"", escape(alertname))];
    out.extend(
        labels
            .iter()
            .filter(|(k, _)| k.as_str() != "alertname")
            .map(|(k, v)| format!("{k}=\"{}\"", escape(v))),
    );
    out.join(", ")
}

fn escape(v: &str) -> String {
    v.replace('\\', r"\\").replace('"', "\\\"")
}

/// Parse `name="value", name=~"regex", name!="v", name!~"re"` (values may be unquoted when
/// they hold no space, comma or quote).
pub fn parse_matchers(text: &str) -> Result<Vec<SilenceMatcher>, SilenceError> {
    let err = |m: String| SilenceError::Matchers(m);
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let skip_ws = |i: &mut usize| {
        while *i < chars.len() && chars[*i].is_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        if i >= chars.len() {
            break;
        }
        let start = i;
        while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        let name: String = chars[start..i].iter().collect();
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(err(format!(
                "expected a label name at column {}",
                start + 1
            )));
        }
        skip_ws(&mut i);
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        let (op_len, is_equal, is_regex) = if rest.starts_with("=~") {
            (2, true, true)
        } else if rest.starts_with("!=") {
            (2, false, false)
        } else if rest.starts_with("!~") {
            (2, false, true)
        } else if rest.starts_with('=') {
            (1, true, false)
        } else {
            return Err(err(format!(
                "expected =, !=, =~ or !~ after `{name}` at column {}",
                i + 1
            )));
        };
        i += op_len;
        skip_ws(&mut i);
        let mut value = String::new();
        if chars.get(i) == Some(&'"') {
            i += 1;
            let mut closed = false;
            while i < chars.len() {
                match chars[i] {
                    '\\' if i + 1 < chars.len() => {
                        value.push(chars[i + 1]);
                        i += 2;
                    }
                    '"' => {
                        closed = true;
                        i += 1;
                        break;
                    }
                    c => {
                        value.push(c);
                        i += 1;
                    }
                }
            }
            if !closed {
                return Err(err(format!("unclosed quote in the value of `{name}`")));
            }
        } else {
            while i < chars.len() && !matches!(chars[i], ',' | '"') && !chars[i].is_whitespace() {
                value.push(chars[i]);
                i += 1;
            }
        }
        if is_regex && let Err(e) = regex::Regex::new(&format!("^(?:{value})$")) {
            return Err(err(format!("`{name}`: bad regex: {e}")));
        }
        out.push(SilenceMatcher {
            name,
            value,
            is_regex,
            is_equal,
        });
        skip_ws(&mut i);
        match chars.get(i) {
            None => break,
            Some(',') => i += 1,
            Some(c) => return Err(err(format!("unexpected `{c}` at column {}", i + 1))),
        }
    }
    if out.is_empty() {
        return Err(err("at least one matcher is needed".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_round_trip_through_the_alert_form() {
        let labels = BTreeMap::from([
            ("instance".to_owned(), "db2:9104".to_owned()),
            ("alertname".to_owned(), "X".to_owned()),
            ("note".to_owned(), r#"a "quoted", \ value"#.to_owned()),
        ]);
        let text = matchers_for(&labels, "X");
        let parsed = parse_matchers(&text).unwrap();
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[0].name, "alertname");
        assert_eq!(parsed[2].value, r#"a "quoted", \ value"#);
        assert!(parsed.iter().all(|m| m.is_equal && !m.is_regex));
    }

    /// A silence goes to the Alertmanager with the trust its poller has: a source that may
    /// skip certificate checks (never in production) sends its silences the same way.
    #[test]
    fn a_silence_carries_its_sources_certificate_setting() {
        let text = r#"
[[environment]]
name = "staging"
tier = "staging"
  [[environment.alertmanager]]
  name = "am"
  url = "https://am.staging.example:9093"
  insecure_skip_verify = true

[[environment]]
name = "prod"
tier = "production"
  [[environment.alertmanager]]
  name = "am"
  url = "https://am.prod.example:9093"
"#;
        let settings =
            crate::config::load_str(text, std::path::Path::new("t.toml")).expect("valid config");
        let target = Target {
            kind: super::super::invocation::TargetKind::Environment,
            environment: "staging".into(),
            name: "staging".into(),
            values: BTreeMap::new(),
        };
        let params = BTreeMap::from([(SILENCE_ID.to_owned(), "abc".to_owned())]);
        let order = Order {
            builtin: &Builtin::Expire,
            target: &target,
            tier: Tier::Staging,
            params: &params,
            incident: None,
            user: "alice",
            now: Utc::now(),
            read_secrets: false,
        };
        let insecure: Vec<bool> = settings
            .sources()
            .map(
                |am| match request(am, &order).expect("request").invocation {
                    Invocation::Http(h) => h.insecure_skip_verify,
                    Invocation::Exec(_) => panic!("a silence is an HTTP request"),
                },
            )
            .collect();
        assert_eq!(insecure, [true, false]);
    }

    #[test]
    fn operators_and_errors() {
        let m = parse_matchers(r#"a=1, b!="2" ,c=~"x|y",d!~z.*"#).unwrap();
        let ops: Vec<_> = m.iter().map(|m| m.operator()).collect();
        assert_eq!(ops, ["=", "!=", "=~", "!~"]);
        assert_eq!(m[3].value, "z.*");
        for bad in ["", "  ", "=x", "a", "a=\"x", "a=x b=y", "1a=x", "a=~\"(\""] {
            assert!(parse_matchers(bad).is_err(), "{bad:?}");
        }
    }
}
