//! Alert APIs: Alertmanager v2 (`/api/v2/alerts`) and Prometheus v1 (`/api/v1/alerts`).
//!
//! It owns the mapping from each API's JSON to [`Alert`], and the rule that every string
//! from those APIs (label and annotation keys and values, fingerprints, silence ids) passes
//! through [`sanitize::clean`]: annotations are free text written by whoever wrote the
//! alert rule, and they end up on an on-call engineer's terminal.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use serde::Deserialize;

use crate::config::settings::{SourceId, SourceSpec};
use crate::sanitize;
use crate::source::PollError;
use crate::source::http::HttpClients;
use crate::store::model::{Alert, AlertState, Silence, SilenceMatcher};

pub const ALERTMANAGER_PATH: &str = "api/v2/alerts";
pub const SILENCES_PATH: &str = "api/v2/silences";
pub const PROMETHEUS_PATH: &str = "api/v1/alerts";

const ACCEPT: &str = "application/json";

/// Shown as the name of an alert without an `alertname` label.
pub const UNNAMED: &str = "(no alertname)";

/// Fetch and parse Alertmanager's current alerts, and its silences.
pub async fn fetch_alertmanager(
    clients: &HttpClients,
    spec: &SourceSpec,
) -> Result<(Vec<Alert>, Result<Vec<Silence>, String>), PollError> {
    let fetched = clients.fetch(spec, Some(ALERTMANAGER_PATH), ACCEPT).await?;
    if !fetched.is_success() {
        return Err(fetched.status_error());
    }
    let alerts = parse_alertmanager(spec.id, &fetched.body)?;
    let silences = match clients.fetch(spec, Some(SILENCES_PATH), ACCEPT).await {
        Ok(f) if f.is_success() => parse_silences(spec.id, &f.body).map_err(|e| e.to_string()),
        Ok(f) => Err(f.status_error().to_string()),
        Err(e) => Err(e.to_string()),
    };
    Ok((alerts, silences.map_err(|e| format!("silences: {e}"))))
}

/// Fetch and parse Prometheus's alerts (firing and pending).
pub async fn fetch_prometheus(
    clients: &HttpClients,
    spec: &SourceSpec,
) -> Result<Vec<Alert>, PollError> {
    let fetched = clients.fetch(spec, Some(PROMETHEUS_PATH), ACCEPT).await?;
    if !fetched.is_success() {
        // Prometheus answers API errors with 4xx/5xx *and* an error envelope; the envelope
        // says more than the status, so prefer it when it parses.
        if let Ok(env) = serde_json::from_slice::<PromEnvelope>(&fetched.body)
            && env.status == "error"
        {
            return Err(prom_error(&env));
        }
        return Err(fetched.status_error());
    }
    parse_prometheus(spec.id, &fetched.body)
}

// ---------------------------------------------------------------------------------------
// Alertmanager v2

#[derive(Deserialize)]
struct AmAlert {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(rename = "startsAt", default)]
    starts_at: Option<String>,
    #[serde(default)]
    fingerprint: Option<String>,
    status: AmStatus,
}

#[derive(Deserialize)]
struct AmStatus {
    state: String,
    #[serde(rename = "silencedBy", default)]
    silenced_by: Vec<String>,
    #[serde(rename = "inhibitedBy", default)]
    inhibited_by: Vec<String>,
}

/// Parse an Alertmanager v2 `GET /api/v2/alerts` body.
///
/// States: `active` and `suppressed` are firing (a silenced alert is still firing; the
/// silence and inhibition ids are kept so the UI can show it as suppressed),
/// `unprocessed` is pending. An unknown state is treated as firing: showing a real alert
/// too loudly is better than hiding it.
pub fn parse_alertmanager(source: SourceId, body: &[u8]) -> Result<Vec<Alert>, PollError> {
    let raw: Vec<AmAlert> = serde_json::from_slice(body).map_err(decode_error)?;
    Ok(raw
        .into_iter()
        .map(|a| {
            let state = match a.status.state.as_str() {
                "active" | "suppressed" => AlertState::Firing,
                "unprocessed" => AlertState::Pending,
                other => {
                    tracing::debug!(state = %sanitize::clean(other), "unknown Alertmanager alert state");
                    AlertState::Firing
                }
            };
            build(
                source,
                a.labels,
                a.annotations,
                state,
                a.starts_at.as_deref(),
                a.status.silenced_by,
                a.status.inhibited_by,
                a.fingerprint,
            )
        })
        .collect())
}

#[derive(Deserialize)]
struct AmSilence {
    id: String,
    #[serde(default)]
    matchers: Vec<AmMatcher>,
    #[serde(rename = "startsAt", default)]
    starts_at: Option<String>,
    #[serde(rename = "endsAt", default)]
    ends_at: Option<String>,
    #[serde(rename = "createdBy", default)]
    created_by: String,
    #[serde(default)]
    comment: String,
    status: AmSilenceStatus,
}

#[derive(Deserialize)]
struct AmMatcher {
    name: String,
    value: String,
    #[serde(rename = "isRegex", default)]
    is_regex: bool,
    // Absent in Alertmanager before 0.22: equality.
    #[serde(rename = "isEqual", default = "yes")]
    is_equal: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct AmSilenceStatus {
    state: String,
}

/// Parse an Alertmanager v2 `GET /api/v2/silences` body (every string sanitized: comments
/// and authors are whatever someone typed).
pub fn parse_silences(source: SourceId, body: &[u8]) -> Result<Vec<Silence>, PollError> {
    let raw: Vec<AmSilence> = serde_json::from_slice(body).map_err(decode_error)?;
    Ok(raw
        .into_iter()
        .map(|s| Silence {
            source,
            id: clean(&s.id),
            matchers: s
                .matchers
                .into_iter()
                .map(|m| SilenceMatcher {
                    name: clean(&m.name),
                    value: clean(&m.value),
                    is_regex: m.is_regex,
                    is_equal: m.is_equal,
                })
                .collect(),
            starts_at: s.starts_at.as_deref().and_then(parse_time),
            ends_at: s.ends_at.as_deref().and_then(parse_time),
            created_by: clean(&s.created_by),
            comment: clean(&s.comment),
            state: clean(&s.status.state),
        })
        .collect())
}

// ---------------------------------------------------------------------------------------
// Prometheus v1

#[derive(Deserialize)]
struct PromEnvelope {
    status: String,
    #[serde(default)]
    data: Option<PromData>,
    #[serde(rename = "errorType", default)]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct PromData {
    #[serde(default)]
    alerts: Vec<PromAlert>,
}

#[derive(Deserialize)]
struct PromAlert {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    state: String,
    #[serde(rename = "activeAt", default)]
    active_at: Option<String>,
}

/// Parse a Prometheus `GET /api/v1/alerts` body. `status: "error"` becomes
/// `PollError::Decode("<errorType>: <error>")`.
///
/// States: `firing`, `pending`, `inactive` map one to one; an unknown state is firing.
pub fn parse_prometheus(source: SourceId, body: &[u8]) -> Result<Vec<Alert>, PollError> {
    let env: PromEnvelope = serde_json::from_slice(body).map_err(decode_error)?;
    if env.status != "success" {
        return Err(prom_error(&env));
    }
    let Some(data) = env.data else {
        return Err(PollError::Decode(
            "status is success but `data` is missing".to_owned(),
        ));
    };
    Ok(data
        .alerts
        .into_iter()
        .map(|a| {
            let state = match a.state.as_str() {
                "firing" => AlertState::Firing,
                "pending" => AlertState::Pending,
                "inactive" => AlertState::Inactive,
                other => {
                    tracing::debug!(state = %sanitize::clean(other), "unknown Prometheus alert state");
                    AlertState::Firing
                }
            };
            build(
                source,
                a.labels,
                a.annotations,
                state,
                a.active_at.as_deref(),
                Vec::new(),
                Vec::new(),
                None,
            )
        })
        .collect())
}

fn prom_error(env: &PromEnvelope) -> PollError {
    let kind = env.error_type.as_deref().unwrap_or("error");
    let msg = env.error.as_deref().unwrap_or("(no message)");
    let text = if env.status == "error" {
        format!("{kind}: {msg}")
    } else {
        format!("unexpected status {:?}", env.status)
    };
    PollError::Decode(sanitize::clean_with_limit(&text, 300).into_owned())
}

// ---------------------------------------------------------------------------------------

#[allow(clippy::too_many_arguments)]
fn build(
    source: SourceId,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    state: AlertState,
    since: Option<&str>,
    silenced_by: Vec<String>,
    inhibited_by: Vec<String>,
    fingerprint: Option<String>,
) -> Alert {
    let labels = clean_map(labels);
    let annotations = clean_map(annotations);
    let name = labels
        .get("alertname")
        .filter(|n| !n.is_empty())
        .cloned()
        .unwrap_or_else(|| UNNAMED.to_owned());
    Alert {
        source,
        name,
        labels,
        annotations,
        state,
        since: since.and_then(parse_time),
        silenced_by: silenced_by.iter().map(|s| clean(s)).collect(),
        inhibited_by: inhibited_by.iter().map(|s| clean(s)).collect(),
        fingerprint: fingerprint.as_deref().map(clean),
    }
}

fn clean(s: &str) -> String {
    sanitize::clean(s).into_owned()
}

fn clean_map(map: BTreeMap<String, String>) -> BTreeMap<String, String> {
    map.iter().map(|(k, v)| (clean(k), clean(v))).collect()
}

/// RFC 3339 time; Go's zero time (`0001-01-01T00:00:00Z`) and unparsable text mean
/// "unknown" rather than failing the whole list.
fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(s).ok()?.with_timezone(&Utc);
    (t.year() > 1).then_some(t)
}

/// serde's message already ends with "at line L column C"; remote text it quotes is
/// sanitized.
fn decode_error(e: serde_json::Error) -> PollError {
    PollError::Decode(sanitize::clean_with_limit(&e.to_string(), 300).into_owned())
}
