//! Alertmanager 0.25 `GET /api/v2/alerts`: alerts that follow the active faults, plus a
//! permanent Watchdog and one permanently silenced alert so every state is on show.
//!
//! The JSON has the fixture's shape and key order, and Go's escaping of `&`, `<`, `>`.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::exporters::Ctx;
use super::fleet::EnvDef;
use super::noise::fnv1a;
use super::silences::DemoSilence;
use super::timeline::{FaultKind, TIMELINE};

#[derive(Debug, Serialize)]
struct Receiver {
    name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    inhibited_by: Vec<String>,
    silenced_by: Vec<String>,
    state: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct GettableAlert {
    annotations: BTreeMap<String, String>,
    ends_at: String,
    fingerprint: String,
    receivers: Vec<Receiver>,
    starts_at: String,
    status: Status,
    updated_at: String,
    #[serde(rename = "generatorURL")]
    generator_url: String,
    labels: BTreeMap<String, String>,
}

/// Alertmanager-style fingerprint: a hash of the sorted label set.
fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    let mut bytes = Vec::new();
    for (k, v) in labels {
        bytes.extend_from_slice(k.as_bytes());
        bytes.push(0xff);
        bytes.extend_from_slice(v.as_bytes());
        bytes.push(0xff);
    }
    format!("{:016x}", fnv1a(&bytes))
}

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn url_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// An alert before it is dressed up for the wire.
struct Draft {
    labels: Vec<(&'static str, String)>,
    summary: String,
    description: String,
    runbook: &'static str,
    expr: &'static str,
    starts: DateTime<Utc>,
    /// alertname of an alert in the same list that inhibits this one.
    inhibited_by: Option<&'static str>,
}

fn receiver(severity: &str) -> &'static str {
    match severity {
        "critical" => "oncall-pager",
        "warning" => "team-slack",
        _ => "blackhole",
    }
}

fn drafts(ctx: &Ctx<'_>, env: &EnvDef) -> Vec<Draft> {
    let at = |e: f64| {
        // Alerts carry the fault's start, to the millisecond.
        DateTime::<Utc>::from_timestamp_millis(((ctx.start_s + e) * 1000.0).round() as i64)
            .unwrap_or(ctx.now)
    };
    let mut out = vec![Draft {
        labels: vec![
            ("alertname", "Watchdog".into()),
            ("severity", "none".into()),
        ],
        summary: "Alerting pipeline is alive".into(),
        description: "This alert always fires so that a silent Alertmanager stands out.".into(),
        runbook: "watchdog",
        expr: "vector(1)",
        starts: at(0.0),
        inhibited_by: None,
    }];
    if !env.queues.is_empty() {
        out.push(Draft {
            labels: vec![
                ("alertname", "DeadLetterQueueNotEmpty".into()),
                ("job", "queues".into()),
                ("queue", "ai_schedule_generation".into()),
                ("severity", "warning".into()),
            ],
            summary: "ai_schedule_generation has messages in its dead-letter queue".into(),
            description: "3 poison messages; silenced until the AI team ships the fix.".into(),
            runbook: "dead-letter-queue",
            expr: "queue_dead_letter_messages > 0",
            starts: at(0.0),
            inhibited_by: None,
        });
    }
    for (idx, f) in TIMELINE.iter().enumerate() {
        if f.env != env.name {
            continue;
        }
        let Some(since) = ctx.iv.active_since(idx, ctx.e) else {
            continue;
        };
        let starts = at(since);
        let base =
            |name: &str, job: &str, port: u16, severity: &str| -> Vec<(&'static str, String)> {
                vec![
                    ("alertname", name.to_owned()),
                    ("instance", format!("{}:{port}", f.target)),
                    ("job", job.to_owned()),
                    ("severity", severity.to_owned()),
                ]
            };
        match f.kind {
            FaultKind::ReplicaLag => out.push(Draft {
                labels: {
                    let mut l = base("PostgresReplicationLag", "postgres", 9187, "warning");
                    l.push(("cluster", "prod-pg".into()));
                    l
                },
                summary: format!("{} is replaying WAL minutes behind its primary", f.target),
                description:
                    "pg_replication_lag has been above 60s; reads from this replica are stale."
                        .into(),
                runbook: "postgres-replication-lag",
                expr: "pg_replication_lag > 60",
                starts,
                inhibited_by: None,
            }),
            FaultKind::NodeDown => {
                out.push(Draft {
                    labels: base("InstanceDown", "node", 9100, "warning"),
                    summary: format!("{} is not answering", f.target),
                    description: "node_exporter has been unreachable for more than a minute."
                        .into(),
                    runbook: "instance-down",
                    expr: "up{job=\"node\"} == 0",
                    starts,
                    inhibited_by: None,
                });
                out.push(Draft {
                    labels: {
                        let mut l = base("GaleraClusterSizeReduced", "mysqld", 9104, "warning");
                        l[1].1 = "prod-web1:9104".into();
                        l.push(("cluster", "prod-galera".into()));
                        l
                    },
                    summary: "prod-galera has fewer members than expected".into(),
                    description: "wsrep_cluster_size < 3.".into(),
                    runbook: "galera-cluster-size",
                    expr: "mysql_global_status_wsrep_cluster_size < 3",
                    starts,
                    inhibited_by: Some("InstanceDown"),
                });
            }
            FaultKind::BackupMissed => out.push(Draft {
                labels: vec![
                    ("alertname", "BackupTooOld".into()),
                    ("instance", "prod-web1".into()),
                    ("job", "backup".into()),
                    ("service", f.target.into()),
                    ("severity", "warning".into()),
                ],
                summary: format!("{} backup older than its RPO", f.target),
                description: "The last successful backup is older than the 15m RPO.".into(),
                runbook: "backup-too-old",
                expr: "time() - backup_last_success_timestamp_seconds > 900",
                starts,
                inhibited_by: None,
            }),
            FaultKind::ErrorSurge => {
                out.push(Draft {
                    labels: vec![("alertname", "HighErrorRate".into()), ("job", "storefront".into()), ("service", f.target.into()), ("severity", "critical".into())],
                    summary: "storefront 5xx rate above 5% for 5 minutes".into(),
                    description: "Errors started with the green release; consider a rollback.".into(),
                    runbook: "high-error-rate",
                    expr: "sum(rate(http_requests_total{code=~\"5..\"}[5m])) / sum(rate(http_requests_total[5m])) > 0.05",
                    starts,
                    inhibited_by: None,
                });
                out.push(Draft {
                    labels: vec![("alertname", "HighLatency".into()), ("job", "storefront".into()), ("service", f.target.into()), ("severity", "warning".into())],
                    summary: "storefront p95 response time above 5s".into(),
                    description: "Requests are waiting on upstream timeouts.".into(),
                    runbook: "high-latency",
                    expr: "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) > 5",
                    starts,
                    inhibited_by: None,
                });
            }
            FaultKind::GaleraDesync => out.push(Draft {
                labels: {
                    let mut l = base("GaleraNodeNotReady", "mysqld", 9104, "warning");
                    l.push(("cluster", "stg-galera".into()));
                    l
                },
                summary: format!("{} is not Synced (wsrep_local_state 2)", f.target),
                description: "The member is Donor/Desynced and refuses queries.".into(),
                runbook: "galera-node-not-ready",
                expr: "mysql_global_status_wsrep_ready == 0",
                starts,
                inhibited_by: None,
            }),
            FaultKind::RedisLinkDown => out.push(Draft {
                labels: {
                    let mut l = base("RedisReplicationBroken", "redis", 9121, "warning");
                    l.push(("cluster", "stg-redis".into()));
                    l
                },
                summary: format!("{} lost its link to the Redis primary", f.target),
                description: "redis_master_link_up == 0; the replica serves stale data.".into(),
                runbook: "redis-replication-broken",
                expr: "redis_master_link_up == 0",
                starts,
                inhibited_by: None,
            }),
        }
    }
    out
}

/// Filters of the v2 API (`active`, `silenced`, `inhibited`; all default to true).
#[derive(Debug, Clone, Copy)]
pub struct Filter {
    pub active: bool,
    pub silenced: bool,
    pub inhibited: bool,
}

impl Default for Filter {
    fn default() -> Self {
        Self {
            active: true,
            silenced: true,
            inhibited: true,
        }
    }
}

impl Filter {
    pub fn from_query(pairs: &[(String, String)]) -> Self {
        let mut f = Filter::default();
        for (k, v) in pairs {
            let on = v != "false";
            match k.as_str() {
                "active" => f.active = on,
                "silenced" => f.silenced = on,
                "inhibited" => f.inhibited = on,
                _ => {}
            }
        }
        f
    }
}

/// One warning per corpus entry, its text in a label value, the summary and the
/// description, so every path from the wire to the screen carries it.
fn hostile_drafts(ctx: &Ctx<'_>) -> Vec<Draft> {
    super::hostile::CORPUS
        .iter()
        .map(|(name, text)| Draft {
            labels: vec![
                ("alertname", format!("InjectionProbe {text}")),
                ("probe", (*name).to_owned()),
                ("payload", (*text).to_owned()),
                ("severity", "warning".into()),
            ],
            summary: (*text).to_owned(),
            description: format!("{name}: {text}"),
            runbook: "injection-probe",
            expr: "vector(1)",
            starts: DateTime::<Utc>::from_timestamp_millis((ctx.start_s * 1000.0).round() as i64)
                .unwrap_or(ctx.now),
            inhibited_by: None,
        })
        .collect()
}

/// The JSON body of `GET /api/v2/alerts`.
pub fn alerts_json(
    ctx: &Ctx<'_>,
    env: &EnvDef,
    filter: Filter,
    silences: &[&DemoSilence],
) -> String {
    // Alertmanager re-evaluates on an interval: updatedAt is the last 30 s tick.
    let tick = (ctx.now.timestamp() / 30) * 30;
    let updated = DateTime::<Utc>::from_timestamp(tick, 0).unwrap_or(ctx.now);
    let prom = format!("http://prometheus.{}.internal:9090", env.name);
    let mut drafts = drafts(ctx, env);
    if ctx.hostile {
        drafts.extend(hostile_drafts(ctx));
    }
    let mut fingerprints: BTreeMap<&'static str, String> = BTreeMap::new();
    let mut prepared = Vec::new();
    for d in &drafts {
        let mut labels: BTreeMap<String, String> = d
            .labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        labels.insert("env".into(), env.name.into());
        let fp = fingerprint(&labels);
        // Only InstanceDown inhibits anything (GaleraClusterSizeReduced).
        if d.labels
            .iter()
            .any(|(k, v)| *k == "alertname" && v == "InstanceDown")
        {
            fingerprints.insert("InstanceDown", fp.clone());
        }
        prepared.push((d, labels, fp));
    }

    let mut alerts = Vec::new();
    for (d, labels, fp) in prepared {
        let silenced_by: Vec<String> = silences
            .iter()
            .filter(|s| s.is_active(ctx.now) && s.matches(&labels))
            .map(|s| s.id.clone())
            .collect();
        let inhibited_by: Vec<String> = d
            .inhibited_by
            .and_then(|n| fingerprints.get(n).cloned())
            .into_iter()
            .collect();
        let suppressed = !silenced_by.is_empty() || !inhibited_by.is_empty();
        let keep = (!suppressed && filter.active)
            || (!silenced_by.is_empty() && filter.silenced)
            || (!inhibited_by.is_empty() && filter.inhibited && silenced_by.is_empty());
        if !keep {
            continue;
        }
        let severity = labels.get("severity").cloned().unwrap_or_default();
        let updated_at = updated.max(d.starts);
        let mut annotations = BTreeMap::new();
        annotations.insert("summary".to_owned(), d.summary.clone());
        annotations.insert("description".to_owned(), d.description.clone());
        annotations.insert(
            "runbook_url".to_owned(),
            format!("https://runbooks.example.internal/{}", d.runbook),
        );
        alerts.push(GettableAlert {
            annotations,
            ends_at: ts(updated_at + TimeDelta::minutes(4)),
            fingerprint: fp,
            receivers: vec![Receiver {
                name: receiver(&severity).to_owned(),
            }],
            starts_at: ts(d.starts),
            status: Status {
                inhibited_by,
                silenced_by,
                state: if suppressed { "suppressed" } else { "active" },
            },
            updated_at: ts(updated_at),
            generator_url: format!("{prom}/graph?g0.expr={}&g0.tab=1", url_escape(d.expr)),
            labels,
        });
    }
    alerts.sort_by(|a, b| {
        (a.labels.get("alertname"), &a.fingerprint)
            .cmp(&(b.labels.get("alertname"), &b.fingerprint))
    });
    // Serializing plain structs of strings cannot fail; fall back to an empty list anyway.
    let body = serde_json::to_string(&alerts).unwrap_or_else(|_| "[]".to_owned());
    // Go's encoding/json escapes these; only string contents can contain them.
    let mut body = body
        .replace('&', "\\u0026")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e");
    body.push('\n');
    body
}
