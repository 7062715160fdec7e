//! The `prometheus` source kind: a fleet read from a Prometheus-compatible query API
//! (Prometheus, Thanos, Mimir, VictoriaMetrics) instead of scraped exporter by exporter.
//!
//! It owns the queries (one instant query per preset's metric names plus `up`, range
//! queries of the same selectors for the backfill), the parsing of the v1 API's JSON
//! (values are strings, `NaN` and `±Inf` included; `status: "error"`, `warnings`), and the
//! translation of the answer into one exposition body per (job, instance). The store then
//! ingests each body into a child metrics source exactly as it would a direct scrape, so
//! the presets, and with them the domain views, are the same code for both paths.
//!
//! Every string from the network passes through [`sanitize`]: label values when the store's
//! series table first sees them, and job, instance, placement labels, warnings and error
//! texts here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;

use crate::config::settings::{BackupMetricNames, Placement, Preset, PrometheusSpec, SourceSpec};
use crate::sanitize;
use crate::source::PollError;
use crate::source::http::{self, HttpClients};
use crate::store::preset;

pub const QUERY_PATH: &str = "api/v1/query";
pub const RANGE_PATH: &str = "api/v1/query_range";
pub const TARGETS_PATH: &str = "api/v1/targets";

const ACCEPT: &str = "application/json";

/// What one poll of a `prometheus` source brought back, grouped by target.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FleetAnswer {
    pub targets: Vec<TargetAnswer>,
    /// Prometheus's own `warnings` and the queries that failed while others answered:
    /// reported on the source without failing it.
    pub warnings: Vec<String>,
}

/// One scrape target as Prometheus sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetAnswer {
    pub job: String,
    pub instance: String,
    pub preset: Preset,
    pub placement: Placement,
    /// Prometheus's `up` for the target; `None` when the `up` query returned nothing for it.
    pub up: Option<bool>,
    /// Why Prometheus cannot scrape it (its `lastError`), when it is down.
    pub down_reason: Option<String>,
    /// The latest values, as an exposition body.
    pub body: String,
    /// Backfilled past values, oldest first: `(evaluation time, exposition body)`.
    pub history: Vec<(DateTime<Utc>, String)>,
}

// ---------------------------------------------------------------------------------------
// The API's JSON

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(rename = "errorType", default)]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum Data {
    Vector(Vec<VectorSample>),
    Matrix(Vec<MatrixSeries>),
    Scalar(Point),
    String(serde::de::IgnoredAny),
}

#[derive(Deserialize)]
struct VectorSample {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    // Absent for native histograms (`histogram` instead), which no preset reads.
    #[serde(default)]
    value: Option<Point>,
}

#[derive(Deserialize)]
struct MatrixSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<Point>,
}

/// `[<unix time as a float>, "<value as a string>"]`.
type Point = (f64, String);

/// One series' value at one time, labels as returned (unsanitized: the series table
/// sanitizes once, as it does for a scrape).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: BTreeMap<String, String>,
    pub time: f64,
    pub value: f64,
}

/// A successful answer: the samples and Prometheus's warnings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryResult {
    pub samples: Vec<Sample>,
    pub warnings: Vec<String>,
}

/// Parse a sample value as the API writes it: a decimal string, `"NaN"`, `"+Inf"`,
/// `"-Inf"` (Go's formatting; `"Inf"` accepted too).
pub fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        // Rust would also take "inf" or "infinity"; Go never writes them, so a value that
        // is not plain decimal is refused rather than guessed at.
        _ if s
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) =>
        {
            s.parse().ok()
        }
        _ => None,
    }
}

/// Parse a `/api/v1/query` or `/api/v1/query_range` body: vector and matrix answers give
/// samples (a matrix one per point), a scalar one sample without labels. `status:
/// "error"` becomes `PollError::Decode("<errorType>: <error>")`.
pub fn parse_answer(body: &[u8]) -> Result<QueryResult, PollError> {
    let env: Envelope = serde_json::from_slice(body).map_err(decode_error)?;
    if env.status != "success" {
        return Err(api_error(&env));
    }
    let warnings = env.warnings.iter().map(|w| clip(w)).collect();
    let Some(data) = env.data else {
        return Err(PollError::Decode(
            "status is success but `data` is missing".to_owned(),
        ));
    };
    let mut samples = Vec::new();
    let mut bad = 0usize;
    let mut push =
        |labels: &BTreeMap<String, String>, (time, value): &Point| match parse_value(value) {
            Some(value) => samples.push(Sample {
                labels: labels.clone(),
                time: *time,
                value,
            }),
            None => bad += 1,
        };
    match data {
        Data::Vector(v) => {
            for s in &v {
                if let Some(p) = &s.value {
                    push(&s.metric, p);
                }
            }
        }
        Data::Matrix(m) => {
            for s in &m {
                for p in &s.values {
                    push(&s.metric, p);
                }
            }
        }
        Data::Scalar(p) => push(&BTreeMap::new(), &p),
        Data::String(_) => {
            return Err(PollError::Decode(
                "the query answered a string, not samples".to_owned(),
            ));
        }
    }
    let mut result = QueryResult { samples, warnings };
    if bad > 0 {
        result.warnings.push(format!(
            "{bad} sample values were not numbers and were skipped"
        ));
    }
    Ok(result)
}

fn api_error(env: &Envelope) -> PollError {
    let text = if env.status == "error" {
        format!(
            "{}: {}",
            env.error_type.as_deref().unwrap_or("error"),
            env.error.as_deref().unwrap_or("(no message)")
        )
    } else {
        format!("unexpected status {:?}", env.status)
    };
    PollError::Decode(clip(&text))
}

fn decode_error(e: serde_json::Error) -> PollError {
    PollError::Decode(clip(&e.to_string()))
}

fn clip(s: &str) -> String {
    sanitize::clean_with_limit(s, 300).into_owned()
}

// ---------------------------------------------------------------------------------------
// Queries

/// One instant query and what it is for (named in warnings when it fails).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub what: String,
    pub promql: String,
}

/// The queries of one poll: `up`, then one per preset's metric names, then the extra
/// metrics. Every selector carries the environment and job matchers.
pub fn queries(p: &PrometheusSpec, backup: &BackupMetricNames) -> Vec<Query> {
    let mut matchers = String::new();
    if let Some((label, value)) = &p.env_selector {
        let _ = write!(matchers, ",{label}=\"{}\"", escape_string(value));
    }
    if !p.jobs.is_empty() {
        let alternatives: Vec<String> = p.jobs.iter().map(|j| regex::escape(j)).collect();
        let _ = write!(
            matchers,
            ",job=~\"{}\"",
            escape_string(&alternatives.join("|"))
        );
    }
    let selector = |names: &[String]| {
        format!(
            "{{__name__=~\"{}\"{matchers}}}",
            escape_string(&names.join("|"))
        )
    };
    let mut out = vec![Query {
        what: "up".to_owned(),
        promql: selector(&["up".to_owned()]),
    }];
    for preset in Preset::ALL {
        let names = preset::metric_names(preset, backup);
        if !names.is_empty() {
            out.push(Query {
                what: format!("{preset} metrics"),
                promql: selector(&names),
            });
        }
    }
    if !p.extra_metrics.is_empty() {
        out.push(Query {
            what: "extra_metrics".to_owned(),
            promql: selector(&p.extra_metrics),
        });
    }
    out
}

/// A PromQL double-quoted string's content.
fn escape_string(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Run every query of one poll (and, with `backfill`, the range queries) concurrently.
///
/// A query that fails while others answer is a warning (a partial answer); when every
/// query fails, the poll fails with the first query's error.
pub async fn poll(
    clients: &HttpClients,
    spec: &SourceSpec,
    p: &PrometheusSpec,
    backfill: bool,
) -> Result<FleetAnswer, PollError> {
    let backup = BackupMetricNames::default();
    let queries = queries(p, &backup);
    let now = Utc::now();
    let instant = futures_util::future::join_all(
        queries
            .iter()
            .map(|q| fetch(clients, spec, QUERY_PATH, vec![("query", q.promql.clone())])),
    );
    let range_params = (backfill && !p.backfill.is_zero()).then(|| range_params(spec, p, now));
    let range = futures_util::future::join_all(
        queries
            .iter()
            .skip(1)
            .filter(|_| range_params.is_some())
            .map(|q| {
                let mut params = range_params.clone().unwrap_or_default();
                params.push(("query", q.promql.clone()));
                fetch(clients, spec, RANGE_PATH, params)
            }),
    );
    let (instant, range) = futures_util::future::join(instant, range).await;

    let mut warnings = Vec::new();
    let mut samples = Vec::new();
    let mut up = Vec::new();
    let mut first_error = None;
    let mut answered = 0usize;
    for (q, result) in queries.iter().zip(instant) {
        match result {
            Ok(r) => {
                answered += 1;
                warnings.extend(r.warnings.into_iter().map(|w| format!("{}: {w}", q.what)));
                if q.what == "up" {
                    up = r.samples;
                } else {
                    samples.extend(r.samples);
                }
            }
            Err(e) => {
                warnings.push(format!("query for {} failed: {e}", q.what));
                first_error.get_or_insert(e);
            }
        }
    }
    if answered == 0 {
        return Err(first_error.unwrap_or_else(|| PollError::Decode("no queries".to_owned())));
    }
    let mut history = Vec::new();
    for (q, result) in queries.iter().skip(1).zip(range) {
        match result {
            Ok(r) => {
                warnings.extend(
                    r.warnings
                        .into_iter()
                        .map(|w| format!("backfill of {}: {w}", q.what)),
                );
                history.extend(r.samples);
            }
            Err(e) => warnings.push(format!("backfill of {} failed: {e}", q.what)),
        }
    }
    let mut answer = assemble(p, &backup, &up, &samples, &history);
    answer.warnings.splice(0..0, warnings);
    if answer.targets.iter().any(|t| t.up == Some(false)) {
        match fetch_targets(clients, spec).await {
            Ok(reasons) => {
                for t in answer.targets.iter_mut().filter(|t| t.up == Some(false)) {
                    let instance = t.instance.strip_suffix(BACKUP_PART).unwrap_or(&t.instance);
                    t.down_reason = reasons
                        .get(&(t.job.clone(), instance.to_owned()))
                        .filter(|r| !r.is_empty())
                        .cloned();
                }
            }
            Err(e) => answer
                .warnings
                .push(format!("cannot read why targets are down: {e}")),
        }
    }
    Ok(answer)
}

fn range_params(
    spec: &SourceSpec,
    p: &PrometheusSpec,
    now: DateTime<Utc>,
) -> Vec<(&'static str, String)> {
    let step = spec.interval.max(Duration::from_secs(1));
    // The instant query supplies the latest point; the range ends one step before it.
    let end = now.timestamp_millis() as f64 / 1000.0 - step.as_secs_f64();
    let start = end - p.backfill.as_secs_f64();
    vec![
        ("start", format!("{start:.3}")),
        ("end", format!("{end:.3}")),
        ("step", format!("{}ms", step.as_millis())),
    ]
}

async fn fetch(
    clients: &HttpClients,
    spec: &SourceSpec,
    path: &str,
    mut params: Vec<(&'static str, String)>,
) -> Result<QueryResult, PollError> {
    // Prometheus then gives up on its side too instead of computing an answer nobody reads.
    params.push(("timeout", format!("{}ms", spec.timeout.as_millis())));
    let request = clients.prepare_query(spec, path, &params, ACCEPT)?;
    let fetched = http::execute(request, spec.max_body, spec.timeout).await?;
    if !fetched.is_success() {
        // The API answers errors with 4xx/5xx *and* an error envelope; the envelope says
        // more than the status.
        if let Ok(env) = serde_json::from_slice::<Envelope>(&fetched.body)
            && env.status == "error"
        {
            return Err(api_error(&env));
        }
        return Err(fetched.status_error());
    }
    parse_answer(&fetched.body)
}

#[derive(Deserialize)]
struct TargetsEnvelope {
    data: TargetsData,
}

#[derive(Deserialize)]
struct TargetsData {
    #[serde(rename = "activeTargets", default)]
    active: Vec<ActiveTarget>,
}

#[derive(Deserialize)]
struct ActiveTarget {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(rename = "lastError", default)]
    last_error: String,
}

/// `(job, instance)` → `lastError` from `/api/v1/targets`, all sanitized.
pub fn parse_targets(body: &[u8]) -> Result<BTreeMap<(String, String), String>, PollError> {
    let env: TargetsEnvelope = serde_json::from_slice(body).map_err(decode_error)?;
    Ok(env
        .data
        .active
        .into_iter()
        .map(|t| {
            let label = |k: &str| clean(t.labels.get(k).map_or("", String::as_str));
            ((label("job"), label("instance")), clip(&t.last_error))
        })
        .collect())
}

async fn fetch_targets(
    clients: &HttpClients,
    spec: &SourceSpec,
) -> Result<BTreeMap<(String, String), String>, PollError> {
    let request = clients.prepare_query(
        spec,
        TARGETS_PATH,
        &[("state", "active".to_owned())],
        ACCEPT,
    )?;
    let fetched = http::execute(request, spec.max_body, spec.timeout).await?;
    if !fetched.is_success() {
        return Err(fetched.status_error());
    }
    parse_targets(&fetched.body)
}

// ---------------------------------------------------------------------------------------
// From samples to targets

fn clean(s: &str) -> String {
    sanitize::clean_with_limit(s, 256).into_owned()
}

/// The labels that identify a target rather than a series: Prometheus adds them to every
/// series it scrapes, and a direct scrape does not have them.
fn is_target_label(p: &PrometheusSpec, name: &str) -> bool {
    name == "__name__"
        || name == "job"
        || name == "instance"
        || p.env_selector.as_ref().is_some_and(|(l, _)| l == name)
        || name == p.node_label
        || [&p.role_label, &p.cluster_label, &p.service_label]
            .iter()
            .any(|l| l.as_deref() == Some(name))
}

/// Group `up`, the latest samples and the backfilled ones by (job, instance).
pub fn assemble(
    p: &PrometheusSpec,
    backup: &BackupMetricNames,
    up: &[Sample],
    latest: &[Sample],
    history: &[Sample],
) -> FleetAnswer {
    type Key = (String, String);
    let key = |s: &Sample| -> Key {
        let get = |k: &str| s.labels.get(k).map_or(String::new(), |v| clean(v));
        (get("job"), get("instance"))
    };
    // Target labels: those of its `up` series (what the scrape config attached), else the
    // identifying ones of its first sample.
    let mut targets: BTreeMap<Key, (Option<bool>, BTreeMap<String, String>)> = BTreeMap::new();
    for s in up {
        let mut labels = s.labels.clone();
        labels.remove("__name__");
        targets.insert(key(s), (Some(s.value == 1.0), labels));
    }
    let mut latest_by: BTreeMap<Key, Vec<&Sample>> = BTreeMap::new();
    for s in latest {
        let k = key(s);
        targets.entry(k.clone()).or_insert_with(|| {
            let labels = s
                .labels
                .iter()
                .filter(|(n, _)| is_target_label(p, n) && *n != "__name__")
                .map(|(n, v)| (n.clone(), v.clone()))
                .collect();
            (None, labels)
        });
        latest_by.entry(k).or_default().push(s);
    }
    let mut history_by: BTreeMap<Key, BTreeMap<i64, Vec<&Sample>>> = BTreeMap::new();
    for s in history {
        let millis = (s.time * 1000.0).round() as i64;
        history_by
            .entry(key(s))
            .or_default()
            .entry(millis)
            .or_default()
            .push(s);
    }

    let mut out = FleetAnswer::default();
    for (k, (up, target_labels)) in targets {
        let samples = latest_by.remove(&k).unwrap_or_default();
        let names: BTreeSet<&str> = samples
            .iter()
            .filter_map(|s| s.labels.get("__name__").map(String::as_str))
            .collect();
        let mut preset = p.preset_for(&k.0, names.iter().copied(), backup);
        // A Pushgateway scraped with `honor_labels: true` (the recommended setting) keeps
        // no series under its own job: the pushed groups arrive as their own targets. Its
        // own target then has nothing a preset could expect, and that is not a fault.
        if samples.is_empty() && k.0.to_ascii_lowercase().starts_with("pushgateway") {
            preset = Preset::Generic;
        }
        let history = history_by
            .remove(&k)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(millis, points)| {
                let at = Utc.timestamp_millis_opt(millis).single()?;
                Some((at, render(p, &target_labels, &points)))
            })
            .collect();
        // A node_exporter's textfile collector often carries the backup jobs' metrics: a
        // direct config reads that one URL twice (preset node and preset backup), so the
        // target gets a second child with the backup preset, or those backups would be lost.
        let carries_backups =
            preset != Preset::Backup && names.contains(backup.last_success.as_str());
        let target = TargetAnswer {
            placement: placement(p, &target_labels),
            body: render(p, &target_labels, &samples),
            job: k.0,
            instance: k.1,
            preset,
            up,
            down_reason: None,
            history,
        };
        if carries_backups {
            out.targets.push(TargetAnswer {
                instance: format!("{}{BACKUP_PART}", target.instance),
                preset: Preset::Backup,
                ..target.clone()
            });
        }
        out.targets.push(target);
    }
    out
}

/// Appended to the instance of the second child a target with backup metrics gets
/// (`<source>/<job>/<instance>/backups`).
pub const BACKUP_PART: &str = "/backups";

/// Where a target sits, from its target labels.
fn placement(p: &PrometheusSpec, labels: &BTreeMap<String, String>) -> Placement {
    let get = |name: &Option<String>| {
        name.as_ref()
            .and_then(|n| labels.get(n))
            .filter(|v| !v.is_empty())
            .map(|v| clean(v))
    };
    Placement {
        node: labels
            .get(&p.node_label)
            .filter(|v| !v.is_empty())
            .map(|v| clean(strip_port(v))),
        role: get(&p.role_label),
        cluster: get(&p.cluster_label),
        service: get(&p.service_label),
        extra: labels
            .iter()
            .filter(|(n, _)| !is_target_label(p, n))
            .map(|(n, v)| (clean(n), clean(v)))
            .collect(),
    }
}

/// `host:9100` → `host`, `[::1]:9100` → `[::1]`: the exporters of one host are one node.
pub fn strip_port(instance: &str) -> &str {
    match instance.rsplit_once(':') {
        Some((host, port))
            if !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && (!host.contains(':') || host.ends_with(']')) =>
        {
            host
        }
        _ => instance,
    }
}

/// The exposition body a direct scrape of the target would have given for these series:
/// target labels removed, series in a stable order, values in exposition syntax.
fn render(
    p: &PrometheusSpec,
    target_labels: &BTreeMap<String, String>,
    samples: &[&Sample],
) -> String {
    let mut lines: Vec<String> = samples
        .iter()
        .filter_map(|s| {
            let name = s.labels.get("__name__")?;
            if !crate::config::is_metric_name(name) {
                return None;
            }
            let mut line = name.clone();
            let mut first = true;
            for (k, v) in &s.labels {
                // Only what Prometheus added goes: the identity labels, and the target's
                // own labels where the series carries them unchanged. A role/cluster/service
                // label the target lacks is the exporter's own (a textfile collector's
                // `service="mariadb"`) and must reach the preset as a direct scrape has it.
                let is_target = matches!(k.as_str(), "__name__" | "job" | "instance")
                    || p.env_selector.as_ref().is_some_and(|(l, _)| l == k)
                    || target_labels.get(k) == Some(v);
                if is_target || !crate::config::is_label_name(k) {
                    continue;
                }
                line.push(if first { '{' } else { ',' });
                first = false;
                let _ = write!(line, "{k}=\"{}\"", escape_label(v));
            }
            if !first {
                line.push('}');
            }
            line.push(' ');
            line.push_str(&format_value(s.value));
            Some(line)
        })
        .collect();
    lines.sort();
    lines.dedup();
    let mut body = lines.join("\n");
    body.push('\n');
    body
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A value in exposition syntax that parses back to the same `f64`.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        // Debug is the shortest representation that round-trips, in exponent form for very
        // large or small magnitudes.
        format!("{v:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_as_the_api_writes_them() {
        assert!(parse_value("NaN").is_some_and(f64::is_nan));
        assert_eq!(parse_value("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_value("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_value("1.5e+09"), Some(1.5e9));
        assert_eq!(parse_value("-0.25"), Some(-0.25));
        assert_eq!(parse_value("infinity"), None);
        assert_eq!(parse_value("1\n2"), None);
        assert_eq!(parse_value(""), None);
        for v in [0.1, 1e300, -2.5e-12, 8.47214592e10, 0.0, f64::MAX] {
            assert_eq!(format_value(v).parse::<f64>().ok(), Some(v), "{v}");
        }
        assert_eq!(format_value(f64::INFINITY), "+Inf");
    }

    #[test]
    fn ports_are_dropped_from_instances() {
        assert_eq!(strip_port("web1:9100"), "web1");
        assert_eq!(strip_port("10.0.0.1:9104"), "10.0.0.1");
        assert_eq!(strip_port("[::1]:9100"), "[::1]");
        assert_eq!(strip_port("::1"), "::1");
        assert_eq!(strip_port("web1"), "web1");
        assert_eq!(strip_port("web1:"), "web1:");
    }

    #[test]
    fn error_envelope_names_type_and_message() {
        let body = br#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:1: parse error: \u001b[31m"}"#;
        let err = parse_answer(body).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("bad_data: invalid parameter"), "{text}");
        assert!(!text.contains('\u{1b}'), "sanitized: {text:?}");
    }

    #[test]
    fn scalar_and_string_answers() {
        let r = parse_answer(
            br#"{"status":"success","data":{"resultType":"scalar","result":[1700000000.5,"42"]}}"#,
        )
        .unwrap();
        assert_eq!(r.samples.len(), 1);
        assert_eq!(r.samples[0].value, 42.0);
        assert!(parse_answer(br#"{"status":"success","data":{"resultType":"string","result":[1700000000.5,"x"]}}"#).is_err());
    }

    #[test]
    fn selectors_escape_and_filter() {
        let p = PrometheusSpec {
            env_selector: Some(("env".to_owned(), "prod\"x".to_owned())),
            node_label: "instance".to_owned(),
            role_label: None,
            cluster_label: None,
            service_label: None,
            jobs: vec!["node".to_owned(), "my.sql".to_owned()],
            job_presets: BTreeMap::new(),
            backfill: Duration::ZERO,
            extra_metrics: vec!["http_requests_total".to_owned()],
        };
        let q = queries(&p, &BackupMetricNames::default());
        assert_eq!(
            q[0].promql,
            r#"{__name__=~"up",env="prod\"x",job=~"node|my\\.sql"}"#
        );
        assert!(q.iter().any(|q| {
            q.promql
                .contains("mysql_slave_status_seconds_behind_source")
        }));
        assert!(q.last().is_some_and(|q| q.what == "extra_metrics"));
    }
}
