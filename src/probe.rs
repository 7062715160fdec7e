//! `watchdeck probe URL|FILE`: fetch and parse one endpoint exactly as the console would,
//! and show what it contains — the tool for debugging a source.
//!
//! A URL goes through the real poller (timeouts, body limit, gzip, UTF-8 check); a file is
//! read as the body. The body goes through the real parser and, for the domain view,
//! through a one-source store and the preset.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use serde_json::{Map, Value, json};

use crate::config::settings::{
    BackupMetricNames, DEFAULT_MAX_BODY, EnvironmentSpec, General, MetricsSpec, Placement, Preset,
    Settings, SourceId, SourceKind, SourceSpec, Tier,
};
use crate::sanitize::clean;
use crate::source::exposition::{self, Exposition};
use crate::source::http::HttpClients;
use crate::source::{Payload, PollReport, poller};
use crate::store::Store;
use crate::ui::format;

/// Why a probe could not produce a report at all.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not valid UTF-8 (first bad byte at offset {offset})")]
    Utf8 { path: String, offset: usize },
    #[error("invalid URL {0}: {1}")]
    Url(String, url::ParseError),
    #[error("{0}")]
    Poll(String),
}

/// What was fetched, and from where.
pub struct Fetched {
    pub origin: String,
    pub body: String,
    pub fetch_time: Option<Duration>,
}

/// Fetch a URL through the poller, or read a file.
pub async fn fetch(target: &str, timeout: Duration) -> Result<Fetched, ProbeError> {
    if target.starts_with("http://") || target.starts_with("https://") {
        let url = url::Url::parse(target).map_err(|e| ProbeError::Url(target.to_owned(), e))?;
        let spec = probe_spec(url, Preset::Generic, timeout);
        let clients = HttpClients::new().map_err(|e| ProbeError::Poll(e.to_string()))?;
        let report = poller::poll_once(&clients, &spec).await;
        match report.outcome {
            Ok(Payload::Metrics { body }) => Ok(Fetched {
                origin: target.to_owned(),
                body,
                fetch_time: Some(report.duration),
            }),
            Ok(_) => Err(ProbeError::Poll("unexpected payload".to_owned())),
            Err(e) => Err(ProbeError::Poll(e.to_string())),
        }
    } else {
        let bytes = std::fs::read(Path::new(target)).map_err(|source| ProbeError::Read {
            path: target.to_owned(),
            source,
        })?;
        let body = String::from_utf8(bytes).map_err(|e| ProbeError::Utf8 {
            path: target.to_owned(),
            offset: e.utf8_error().valid_up_to(),
        })?;
        Ok(Fetched {
            origin: target.to_owned(),
            body,
            fetch_time: None,
        })
    }
}

fn probe_spec(url: url::Url, preset: Preset, timeout: Duration) -> SourceSpec {
    SourceSpec {
        id: SourceId(0),
        environment: "probe".to_owned(),
        tier: Tier::Integration,
        name: "probe".to_owned(),
        url,
        kind: SourceKind::Metrics(MetricsSpec {
            preset,
            placement: Placement::default(),
            backup_names: BackupMetricNames::default(),
        }),
        interval: Duration::from_secs(5),
        timeout,
        max_body: DEFAULT_MAX_BODY,
        auth: None,
        insecure_skip_verify: false,
    }
}

/// The preset whose signature metric the body exposes.
pub fn guess_preset(parsed: &Exposition<'_>) -> Preset {
    let has = |name: &str| parsed.samples.iter().any(|s| s.name == name);
    if has("node_cpu_seconds_total") || has("node_uname_info") {
        Preset::Node
    } else if has("mysql_up") {
        Preset::Mysqld
    } else if has("pg_up") {
        Preset::Postgres
    } else if has("redis_up") {
        Preset::Redis
    } else if has(&BackupMetricNames::default().last_success) {
        Preset::Backup
    } else {
        Preset::Generic
    }
}

/// The `--json` form: `{"families": [...], "samples": [...], "errors": [...]}`.
pub fn to_json(parsed: &Exposition<'_>) -> Value {
    let families: Vec<Value> = parsed
        .families
        .iter()
        .map(|f| {
            json!({
                "name": f.name,
                "type": f.ty.as_str(),
                "help": f.help.as_deref(),
            })
        })
        .collect();
    let samples: Vec<Value> = parsed
        .samples
        .iter()
        .map(|s| {
            let labels: Map<String, Value> = s
                .labels
                .iter()
                .map(|l| (l.name.to_owned(), Value::String(l.value.to_string())))
                .collect();
            json!({
                "name": s.name,
                "labels": labels,
                "value": json_number(s.value),
                "timestamp_ms": s.timestamp_ms,
            })
        })
        .collect();
    let errors: Vec<Value> = parsed
        .errors
        .iter()
        .map(|e| json!({"line": e.line, "message": e.message}))
        .collect();
    json!({"families": families, "samples": samples, "errors": errors})
}

/// JSON has no NaN or infinities; they travel as the strings Prometheus writes.
fn json_number(v: f64) -> Value {
    if v.is_nan() {
        Value::String("NaN".to_owned())
    } else if v == f64::INFINITY {
        Value::String("+Inf".to_owned())
    } else if v == f64::NEG_INFINITY {
        Value::String("-Inf".to_owned())
    } else {
        json!(v)
    }
}

/// The human report: summary, families, errors, and the preset's domain view.
pub fn report(fetched: &Fetched, preset: Option<Preset>) -> String {
    let parsed = exposition::parse(&fetched.body);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "source:   {}{}",
        clean(&fetched.origin),
        fetched
            .fetch_time
            .map(|d| format!(" (fetched in {} ms)", d.as_millis()))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "size:     {} bytes; {} families, {} samples, {} errors",
        fetched.body.len(),
        parsed.families.len(),
        parsed.samples.len(),
        parsed.errors.len()
    );
    let _ = writeln!(out, "\nFAMILIES");
    let width = parsed
        .families
        .iter()
        .map(|f| f.name.len())
        .max()
        .unwrap_or(6)
        .min(60);
    for f in &parsed.families {
        let help = f
            .help
            .as_deref()
            .map(|h| clean(h).into_owned())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:<width$}  {:<9} {:>6}  {}",
            clean(f.name),
            f.ty.as_str(),
            f.samples.len(),
            help
        );
    }
    if !parsed.errors.is_empty() {
        let _ = writeln!(out, "\nERRORS");
        for e in &parsed.errors {
            let _ = writeln!(out, "  line {}: {}", e.line, clean(&e.message));
        }
    }
    let (preset, guessed) = match preset {
        Some(p) => (p, false),
        None => (guess_preset(&parsed), true),
    };
    let _ = writeln!(
        out,
        "\nDOMAIN VIEW (preset {preset}{})",
        if guessed {
            ", guessed from the metric names"
        } else {
            ""
        }
    );
    out.push_str(&domain_view(&fetched.body, preset));
    out
}

/// Run the body through a one-source store and print what the preset derives.
fn domain_view(body: &str, preset: Preset) -> String {
    let now = Utc::now();
    let Ok(url) = url::Url::parse("http://probe.invalid/metrics") else {
        return String::new();
    };
    let spec = probe_spec(url, preset, Duration::from_secs(5));
    let settings = Settings {
        path: None,
        general: General::default(),
        environments: vec![EnvironmentSpec {
            name: "probe".to_owned(),
            tier: Tier::Integration,
            sources: vec![spec],
            backup_policies: Vec::new(),
        }],
        runbooks: Vec::new(),
    };
    let mut store = Store::new(&settings);
    store.ingest(PollReport {
        source: SourceId(0),
        at: now,
        duration: Duration::ZERO,
        outcome: Ok(Payload::Metrics {
            body: body.to_owned(),
        }),
    });
    let snap = store.snapshot(now);
    let mut out = String::new();
    for n in &snap.nodes {
        let _ = writeln!(
            out,
            "  node {}: cpu {} (a rate needs two scrapes), memory {}, root disk {}, load1 {}, uptime {}",
            n.name,
            format::percent(n.cpu_percent),
            format::percent(n.memory_percent),
            format::percent(n.root_disk_percent),
            format::opt(n.load1, |l| format!("{l:.2}")),
            format::opt(n.uptime, format::duration),
        );
    }
    for l in &snap.links {
        let _ = writeln!(
            out,
            "  {} link {} → {}: lag {} / {}, state {:?}",
            l.kind.as_str(),
            l.primary,
            l.replica,
            format::opt(l.lag_seconds, |v| format!("{v}s")),
            format::opt(l.lag_bytes, format::bytes),
            l.state,
        );
    }
    for b in &snap.backups {
        let _ = writeln!(
            out,
            "  backup {}: last success {}, age {}, size {}, took {}",
            b.service,
            format::opt(b.last_success, |t| t.to_rfc3339()),
            format::opt(b.age, format::duration),
            format::opt(b.size_bytes, format::bytes),
            format::opt(b.duration, format::duration),
        );
    }
    for src in &snap.sources {
        for w in &src.warnings {
            let _ = writeln!(out, "  warning: {w}");
        }
    }
    if out.is_empty() {
        out.push_str("  (nothing for this preset)\n");
    }
    out
}
