//! The `prometheus` source kind: the v1 query API's answers (hand-written in Prometheus
//! 2.42's exact shape), and the same fleet read once by direct scrape and once through a
//! fake Prometheus over HTTP giving equal domain views.

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use serde_json::json;
use support::{fixture, metrics_source, settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;
use watchdeck::config::settings::{
    BackupMetricNames, Placement, Preset, PrometheusSpec, SourceId, SourceKind, SourceSpec, Tier,
};
use watchdeck::rules::data::{RuleData, label};
use watchdeck::rules::input::InputBuilder;
use watchdeck::source::exposition::{self, SampleRef, Visitor};
use watchdeck::source::http::HttpClients;
use watchdeck::source::poller::{poll, poll_once};
use watchdeck::source::prometheus::{FleetAnswer, TargetAnswer, format_value, parse_answer};
use watchdeck::source::{Payload, PollError, PollReport};
use watchdeck::store::Store;
use watchdeck::store::model::{BackupRun, Node, ReplicationLink, SourceHealth};

fn at(secs: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(1_795_300_000 + secs, 0)
        .single()
        .expect("valid time")
}

fn prom_spec() -> PrometheusSpec {
    PrometheusSpec {
        env_selector: Some(("env".to_owned(), "live".to_owned())),
        node_label: "instance".to_owned(),
        role_label: Some("role".to_owned()),
        cluster_label: Some("cluster".to_owned()),
        service_label: None,
        jobs: Vec::new(),
        job_presets: BTreeMap::new(),
        backfill: Duration::ZERO,
        extra_metrics: Vec::new(),
    }
}

fn prom_source(id: u32, url: Url, p: PrometheusSpec) -> SourceSpec {
    SourceSpec {
        id: SourceId(id),
        environment: "production".to_owned(),
        tier: Tier::Production,
        name: "prom".to_owned(),
        url,
        kind: SourceKind::Prometheus(p),
        interval: Duration::from_secs(5),
        timeout: Duration::from_millis(800),
        max_body: 16 << 20,
        auth: None,
        insecure_skip_verify: false,
    }
}

// ---------------------------------------------------------------------------------------
// Parsing.

#[test]
fn nan_and_infinities_arrive_as_strings() {
    let r = parse_answer(fixture("api/prometheus-2.42-query-nan-inf.json").as_bytes()).unwrap();
    let value = |name: &str| {
        r.samples
            .iter()
            .find(|s| s.labels["__name__"] == name)
            .map(|s| s.value)
            .unwrap()
    };
    assert!(value("node_load1").is_nan());
    assert_eq!(
        value("mysql_slave_status_seconds_behind_master"),
        f64::INFINITY
    );
    assert_eq!(value("pg_replication_lag_seconds"), f64::NEG_INFINITY);
    assert_eq!(value("node_memory_MemTotal_bytes"), 8.344256512e9);
    assert!((r.samples[0].time - 1_795_300_348.248).abs() < 1e-6);
}

#[test]
fn error_answers_name_their_type() {
    let e = parse_answer(fixture("api/prometheus-2.42-query-error.json").as_bytes()).unwrap_err();
    assert!(
        matches!(&e, PollError::Decode(m) if m.starts_with("bad_data: invalid parameter")),
        "{e}"
    );
    let e = parse_answer(fixture("api/prometheus-2.42-query-timeout.json").as_bytes()).unwrap_err();
    assert!(e.to_string().contains("timeout: query timed out"), "{e}");
    assert!(parse_answer(b"{\"status\":\"success\"}").is_err());
    assert!(parse_answer(b"<html>").is_err());
}

#[test]
fn warnings_are_kept_and_sanitized() {
    let r = parse_answer(fixture("api/prometheus-2.42-query-warnings.json").as_bytes()).unwrap();
    assert_eq!(r.samples.len(), 1);
    assert_eq!(r.warnings.len(), 1);
    assert!(r.warnings[0].starts_with("partial response: store eu-west-2 unavailable"));
    assert!(!r.warnings[0].contains('\u{1b}') && !r.warnings[0].contains("pwned"));
}

#[test]
fn the_real_up_answer_parses() {
    let r = parse_answer(fixture("api/prometheus-2.42-query-up.json").as_bytes()).unwrap();
    assert_eq!(r.samples.len(), 8);
    assert!(r.samples.iter().all(|s| s.value == 1.0));
}

/// Answers captured from the live stack's Prometheus 2.42.0 (Debian 2.42.0+ds-5+deb12u1),
/// not written by hand: what a real server says for a parse error, a timeout, NaN and
/// infinities, a preset's selector and a range query.
#[test]
fn real_prometheus_2_42_answers_parse() {
    let e = parse_answer(fixture("api/prometheus-2.42-real-error.json").as_bytes()).unwrap_err();
    assert!(
        e.to_string()
            .contains("bad_data: invalid parameter \"query\": 1:27: parse error"),
        "{e}"
    );
    let e = parse_answer(fixture("api/prometheus-2.42-real-timeout.json").as_bytes()).unwrap_err();
    assert!(
        e.to_string()
            .contains("timeout: query timed out in expression evaluation"),
        "{e}"
    );

    let r = parse_answer(fixture("api/prometheus-2.42-real-nan-inf.json").as_bytes()).unwrap();
    let v = |which: &str| {
        r.samples
            .iter()
            .find(|s| s.labels["v"] == which)
            .map(|s| s.value)
            .unwrap()
    };
    assert!(v("nan").is_nan());
    assert_eq!(v("inf"), f64::INFINITY);
    assert_eq!(v("-inf"), f64::NEG_INFINITY);

    let r = parse_answer(fixture("api/prometheus-2.42-real-query-mysqld.json").as_bytes()).unwrap();
    assert!(r.warnings.is_empty());
    let lag: Vec<_> = r
        .samples
        .iter()
        .filter(|s| s.labels["__name__"] == "mysql_slave_status_seconds_behind_master")
        .collect();
    assert_eq!(lag.len(), 1, "one replica in the live stack");
    assert_eq!(lag[0].labels["job"], "mysqld");
    assert_eq!(lag[0].labels["instance"], "127.0.0.1:19105");
    assert_eq!(lag[0].value, 0.0);
    assert!(
        r.samples
            .iter()
            .any(|s| s.labels["__name__"] == "mysql_up" && s.value == 1.0)
    );

    let r =
        parse_answer(fixture("api/prometheus-2.42-real-query_range-node.json").as_bytes()).unwrap();
    assert!(r.samples.len() > 5, "a minute at 5 s steps");
    assert!(r.samples.windows(2).all(|w| w[0].time < w[1].time));
    assert!(
        r.samples
            .iter()
            .all(|s| s.value.is_finite() && s.value >= 0.0)
    );
}

#[test]
fn range_answers_fill_history_before_the_latest_value() {
    let p = prom_spec();
    let range =
        parse_answer(fixture("api/prometheus-2.42-query_range-node.json").as_bytes()).unwrap();
    let latest = parse_answer(fixture("api/prometheus-2.42-query-nan-inf.json").as_bytes())
        .unwrap()
        .samples;
    let answer = watchdeck::source::prometheus::assemble(
        &p,
        &BackupMetricNames::default(),
        &[],
        &latest,
        &range.samples,
    );
    let web1 = answer
        .targets
        .iter()
        .find(|t| t.instance == "web1:9100")
        .unwrap();
    assert_eq!(web1.preset, Preset::Node);
    assert_eq!(web1.placement.node.as_deref(), Some("web1"));
    assert_eq!(web1.history.len(), 3);
    assert!(
        web1.history[0].1.contains("node_load1 0.5\n"),
        "{}",
        web1.history[0].1
    );
    assert!(web1.history[2].1.contains("node_load1 NaN\n"));
    assert!(
        !web1.body.contains("instance="),
        "target labels are removed"
    );

    // Ingested: the history ring holds the backfill, then the latest point.
    let s = settings(
        vec![prom_source(0, Url::parse("http://p:9090").unwrap(), p)],
        vec![],
    );
    let mut store = Store::new(&s);
    store.ingest(query_report(0, 348, answer));
    let child = store
        .sources()
        .iter()
        .find(|c| c.spec.name == "prom/node/web1:9100")
        .unwrap();
    let series = child
        .table
        .named("node_memory_MemTotal_bytes")
        .next()
        .unwrap();
    assert_eq!(child.table.history(series).len(), 4);
    let load = child.table.named("node_load1").next().unwrap();
    // NaN points read as absent, as in a direct scrape.
    assert_eq!(
        child
            .table
            .history(load)
            .iter()
            .map(|p| p.1)
            .collect::<Vec<_>>(),
        vec![0.5, 0.75]
    );
}

/// A target whose labels change between answers (relabelled into another cluster, say)
/// reaches the rules with its new placement, in its exporter series, its `up` and its node
/// series, not with the one a long-lived rule data builder saw first.
#[test]
fn a_targets_new_placement_reaches_the_rule_data() {
    let s = settings(
        vec![prom_source(
            0,
            Url::parse("http://p:9090").unwrap(),
            prom_spec(),
        )],
        vec![],
    );
    let mut store = Store::new(&s);
    let mut input = InputBuilder::new(["node_load1", "up", "node_up"].map(str::to_owned));
    let target = |cluster: &str| TargetAnswer {
        job: "node".into(),
        instance: "web1:9100".into(),
        preset: Preset::Node,
        placement: Placement {
            node: Some("web1".into()),
            role: Some("web".into()),
            cluster: Some(cluster.into()),
            ..Placement::default()
        },
        up: Some(true),
        down_reason: None,
        body: "node_load1 0.5\n".into(),
        history: vec![],
    };
    for (t, cluster) in [(0, "east"), (5, "west"), (10, "west")] {
        let answer = FleetAnswer {
            targets: vec![target(cluster)],
            warnings: vec![],
        };
        store.ingest(query_report(0, t, answer));
        let snap = store.snapshot(at(t + 1));
        let data = input.build(&store, &snap, at(t + 1));
        for name in ["node_load1", "up", "node_up"] {
            let clusters: Vec<Option<&str>> = data
                .series(name)
                .iter()
                .filter(|s| label(&s.labels, "env") == Some("production"))
                .filter(|s| {
                    name == "node_up"
                        || label(&s.labels, "source").is_some_and(|v| v.starts_with("prom/"))
                })
                .map(|s| label(&s.labels, "cluster"))
                .collect();
            assert_eq!(clusters, [Some(cluster)], "{name} at {t}");
        }
    }
}

fn query_report(id: u32, t: i64, answer: FleetAnswer) -> PollReport {
    PollReport {
        source: SourceId(id),
        at: at(t),
        duration: Duration::from_millis(20),
        outcome: Ok(Payload::Query(answer)),
    }
}

// ---------------------------------------------------------------------------------------
// A fake Prometheus: evaluates `{__name__=~"a|b",…}` selectors over a fleet of exporter
// fixtures with target labels added, as Prometheus 2.42 would answer them.

/// One scrape target: its `job`, `instance`, further target labels and exposition body.
#[derive(Clone)]
struct Target {
    job: &'static str,
    instance: &'static str,
    labels: Vec<(&'static str, &'static str)>,
    body: String,
    up: bool,
}

#[derive(Default)]
struct Fake {
    targets: Vec<Target>,
    /// Answer every query with this status and body instead.
    canned: Option<(&'static str, String)>,
    /// Queries whose selector contains this fail with a 503 error envelope.
    fail_containing: Option<&'static str>,
    /// Never answer.
    hang: bool,
    requests: Vec<String>,
}

/// `(name, labels, value)` of each sample.
type Collected = Vec<(String, Vec<(String, String)>, f64)>;

struct Collect(Collected);

impl<'a> Visitor<'a> for Collect {
    fn sample(&mut self, s: SampleRef<'_, 'a>) {
        let labels = s
            .labels
            .iter()
            .map(|l| (l.name.to_owned(), l.value.to_string()))
            .collect();
        self.0.push((s.name.to_owned(), labels, s.value));
    }
}

impl Fake {
    /// The series of the fleet whose name is one of `names`, with target labels (an
    /// exporter's own `job`/`instance`/`env` become `exported_…`, as with honor_labels off).
    fn select(&self, names: &[&str]) -> Vec<(BTreeMap<String, String>, f64)> {
        let mut out = Vec::new();
        for t in &self.targets {
            let mut target = BTreeMap::new();
            target.insert("job".to_owned(), t.job.to_owned());
            target.insert("instance".to_owned(), t.instance.to_owned());
            target.insert("env".to_owned(), "live".to_owned());
            for (k, v) in &t.labels {
                target.insert((*k).to_owned(), (*v).to_owned());
            }
            if names.contains(&"up") {
                let mut m = target.clone();
                m.insert("__name__".to_owned(), "up".to_owned());
                out.push((m, if t.up { 1.0 } else { 0.0 }));
            }
            if !t.up {
                continue;
            }
            let mut c = Collect(Vec::new());
            exposition::parse_with(&t.body, &mut c);
            for (name, labels, value) in c.0 {
                if !names.contains(&name.as_str()) {
                    continue;
                }
                let mut m = target.clone();
                for (k, v) in labels {
                    let k = if target.contains_key(&k) {
                        format!("exported_{k}")
                    } else {
                        k
                    };
                    m.insert(k, v);
                }
                m.insert("__name__".to_owned(), name);
                out.push((m, value));
            }
        }
        out
    }

    fn answer(&mut self, path: &str, params: &BTreeMap<String, String>) -> (&'static str, String) {
        if let Some(c) = &self.canned {
            return c.clone();
        }
        let query = params.get("query").cloned().unwrap_or_default();
        if let Some(f) = self.fail_containing
            && query.contains(f)
        {
            return (
                "503 Service Unavailable",
                fixture("api/prometheus-2.42-query-timeout.json"),
            );
        }
        if path.ends_with("/api/v1/targets") {
            let active: Vec<_> = self
                .targets
                .iter()
                .map(|t| {
                    json!({"labels": {"job": t.job, "instance": t.instance, "env": "live"},
                           "lastError": if t.up { "" } else { "Get \"http://db9:9104/metrics\": dial tcp 10.0.0.9:9104: connect: connection refused" },
                           "health": if t.up { "up" } else { "down" }})
                })
                .collect();
            return (
                "200 OK",
                json!({"status": "success", "data": {"activeTargets": active, "droppedTargets": []}})
                    .to_string(),
            );
        }
        let names: Vec<&str> = query
            .split("__name__=~\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .map(|n| n.split('|').collect())
            .unwrap_or_default();
        let series = self.select(&names);
        let data = if path.ends_with("/query_range") {
            let start: f64 = params["start"].parse().unwrap();
            let result: Vec<_> = series
                .into_iter()
                .map(|(m, v)| {
                    json!({"metric": m, "values": [[start, format_value(v)], [start + 5.0, format_value(v)]]})
                })
                .collect();
            json!({"resultType": "matrix", "result": result})
        } else {
            let result: Vec<_> = series
                .into_iter()
                .map(|(m, v)| json!({"metric": m, "value": [1_795_300_348.248, format_value(v)]}))
                .collect();
            json!({"resultType": "vector", "result": result})
        };
        (
            "200 OK",
            json!({"status": "success", "data": data}).to_string(),
        )
    }
}

async fn serve(fake: Arc<Mutex<Fake>>) -> Url {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let fake = Arc::clone(&fake);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).into_owned();
                let target = head.split(' ').nth(1).unwrap_or("/").to_owned();
                let url = Url::parse(&format!("http://x{target}")).unwrap();
                let params: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
                let answer = {
                    let mut f = fake.lock().unwrap();
                    f.requests.push(target.clone());
                    (!f.hang).then(|| f.answer(url.path(), &params))
                };
                let Some((status, body)) = answer else {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    return;
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(resp.as_bytes()).await;
            });
        }
    });
    Url::parse(&format!("http://{addr}/prometheus/")).unwrap()
}

/// node_exporter's CPU counters advanced by 5 s of mostly idle time.
fn later_node(body: &str) -> String {
    body.lines()
        .map(|l| match l.strip_prefix("node_cpu_seconds_total{") {
            Some(rest) => {
                let (labels, value) = rest.rsplit_once(' ').unwrap();
                let v: f64 = value.parse().unwrap();
                let add = if labels.contains("mode=\"idle\"") {
                    3.0
                } else {
                    0.25
                };
                format!("node_cpu_seconds_total{{{labels} {}\n", v + add)
            }
            None => format!("{l}\n"),
        })
        .collect()
}

/// The fleet: (job, instance, target labels, fixture, direct-scrape preset and labels).
type Labels = Vec<(&'static str, &'static str)>;

fn fleet(round: usize) -> Vec<(Target, Preset, Labels)> {
    let node = fixture("exporters/node_exporter-1.5.prom");
    let node = if round == 0 { node } else { later_node(&node) };
    let t = |job, instance, labels: Vec<(&'static str, &'static str)>, file: &str| Target {
        job,
        instance,
        labels,
        body: if file.is_empty() {
            node.clone()
        } else {
            fixture(file)
        },
        up: true,
    };
    vec![
        (
            t("node", "web1:9100", vec![("role", "web")], ""),
            Preset::Node,
            vec![("node", "web1"), ("role", "web")],
        ),
        (
            t(
                "mysqld",
                "db1:9104",
                vec![("role", "primary"), ("cluster", "shop")],
                "exporters/mysqld_exporter-0.14-primary.prom",
            ),
            Preset::Mysqld,
            vec![("node", "db1"), ("role", "primary"), ("cluster", "shop")],
        ),
        (
            t(
                "mysqld",
                "db2:9104",
                vec![("role", "replica"), ("cluster", "shop"), ("primary", "db1")],
                "exporters/mysqld_exporter-0.14-replica.prom",
            ),
            Preset::Mysqld,
            vec![
                ("node", "db2"),
                ("role", "replica"),
                ("cluster", "shop"),
                ("primary", "db1"),
            ],
        ),
        (
            t(
                "mysqld",
                "db3:9104",
                vec![("role", "replica"), ("cluster", "shop"), ("primary", "db1")],
                "exporters/mysqld_exporter-0.16-mysql8.4-replica.prom",
            ),
            Preset::Mysqld,
            vec![
                ("node", "db3"),
                ("role", "replica"),
                ("cluster", "shop"),
                ("primary", "db1"),
            ],
        ),
        (
            t(
                "postgres",
                "pg1:9187",
                vec![("role", "primary")],
                "exporters/postgres_exporter-0.11-primary.prom",
            ),
            Preset::Postgres,
            vec![("node", "pg1"), ("role", "primary")],
        ),
        (
            t(
                "postgres",
                "pg2:9187",
                vec![("role", "replica"), ("primary", "pg1")],
                "exporters/postgres_exporter-0.13-replica.prom",
            ),
            Preset::Postgres,
            vec![("node", "pg2"), ("role", "replica"), ("primary", "pg1")],
        ),
        (
            t(
                "redis",
                "redis1:9121",
                vec![("role", "primary")],
                "exporters/redis_exporter-1.45-primary.prom",
            ),
            Preset::Redis,
            vec![("node", "redis1"), ("role", "primary")],
        ),
        (
            t(
                "redis",
                "redis2:9121",
                vec![("role", "replica"), ("primary", "redis1")],
                "exporters/redis_exporter-1.45-replica.prom",
            ),
            Preset::Redis,
            vec![
                ("node", "redis2"),
                ("role", "replica"),
                ("primary", "redis1"),
            ],
        ),
        (
            t(
                "pushgateway",
                "pgw:9091",
                vec![],
                "exporters/pushgateway-1.5.prom",
            ),
            Preset::Backup,
            vec![("node", "pgw")],
        ),
    ]
}

/// Domain views without the source ids (which necessarily differ between the two paths).
fn views(snap: &watchdeck::store::Snapshot) -> (Vec<Node>, Vec<ReplicationLink>, Vec<BackupRun>) {
    let mut nodes = snap.nodes.clone();
    let mut links = snap.links.clone();
    let mut backups = snap.backups.clone();
    nodes.iter_mut().for_each(|n| n.source = SourceId(0));
    links.iter_mut().for_each(|l| l.source = SourceId(0));
    backups.iter_mut().for_each(|b| b.source = SourceId(0));
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    backups.sort_by(|a, b| a.service.cmp(&b.service));
    (nodes, links, backups)
}

#[tokio::test]
async fn direct_scrape_and_prometheus_give_the_same_domain_views() {
    // Direct: one metrics source per exporter, and the node_exporter's URL once more with
    // the backup preset for the backup metrics its textfile collector carries (as
    // config/live-stack.toml does).
    let mut direct_specs: Vec<SourceSpec> = fleet(0)
        .into_iter()
        .enumerate()
        .map(|(i, (t, preset, labels))| {
            metrics_source(i as u32, "production", t.instance, preset, &labels)
        })
        .collect();
    let textfile = direct_specs.len() as u32;
    direct_specs.push(metrics_source(
        textfile,
        "production",
        "web1:9100/backups",
        Preset::Backup,
        &[("node", "web1"), ("role", "web")],
    ));
    let mut direct = Store::new(&settings(direct_specs, vec![]));

    // Through Prometheus: one source.
    let fake = Arc::new(Mutex::new(Fake::default()));
    let url = serve(Arc::clone(&fake)).await;
    let mut p = prom_spec();
    p.backfill = Duration::from_secs(60);
    let spec = prom_source(0, url, p);
    let mut via_prom = Store::new(&settings(vec![spec.clone()], vec![]));
    let clients = HttpClients::new().unwrap();

    for round in 0..2 {
        let t = i64::try_from(round).unwrap() * 5;
        let fleet = fleet(round);
        let node_body = fleet[0].0.body.clone();
        let bodies = fleet
            .iter()
            .map(|(target, _, _)| target.body.clone())
            .chain([node_body]);
        for (i, body) in bodies.enumerate() {
            direct.ingest(PollReport {
                source: SourceId(i as u32),
                at: at(t),
                duration: Duration::from_millis(5),
                outcome: Ok(Payload::Metrics { body }),
            });
        }
        fake.lock().unwrap().targets = fleet.into_iter().map(|f| f.0).collect();
        let mut report = poll(&clients, &spec, false).await;
        let Ok(Payload::Query(answer)) = &report.outcome else {
            panic!("{:?}", report.outcome);
        };
        assert!(answer.warnings.is_empty(), "{:?}", answer.warnings);
        // Nine targets, the node_exporter twice: node, and the backups in its textfiles.
        assert_eq!(answer.targets.len(), 10);
        assert!(
            answer
                .targets
                .iter()
                .any(|t| t.instance == "web1:9100/backups" && t.preset == Preset::Backup)
        );
        report.at = at(t);
        via_prom.ingest(report);
    }

    let a = direct.snapshot(at(6));
    let b = via_prom.snapshot(at(6));
    let (nodes_a, links_a, backups_a) = views(&a);
    let (nodes_b, links_b, backups_b) = views(&b);
    assert_eq!(nodes_a.len(), 1);
    assert!(
        nodes_a[0].cpu_percent.is_some(),
        "two rounds give a CPU rate"
    );
    assert_eq!(nodes_a, nodes_b);
    assert!(links_a.len() >= 5, "{links_a:#?}");
    assert_eq!(links_a, links_b);
    assert!(!backups_a.is_empty());
    assert_eq!(backups_a, backups_b);

    // Each target is a child source named after its parent, job and instance, and the
    // presets found everything they expect in both paths.
    let children: Vec<&str> = b
        .sources
        .iter()
        .filter(|s| s.name.starts_with("prom/"))
        .map(|s| s.name.as_str())
        .collect();
    assert!(children.contains(&"prom/mysqld/db3:9104"), "{children:?}");
    assert!(
        children.contains(&"prom/node/web1:9100/backups"),
        "{children:?}"
    );
    assert_eq!(children.len(), 10);
    for s in a.sources.iter().chain(&b.sources) {
        assert!(s.warnings.is_empty(), "{}: {:?}", s.name, s.warnings);
        assert!(
            matches!(s.health, SourceHealth::Ok { .. }),
            "{}: {:?}",
            s.name,
            s.health
        );
    }
    let requests = fake.lock().unwrap().requests.clone();
    assert!(
        requests
            .iter()
            .all(|r| r.starts_with("/prometheus/api/v1/query?")
                && r.contains("env%3D%22live%22")
                && r.contains("timeout=800ms")),
        "{requests:?}"
    );
}

#[tokio::test]
async fn down_targets_fail_with_prometheus_reason_and_missing_metrics_are_warned() {
    let fake = Arc::new(Mutex::new(Fake::default()));
    let url = serve(Arc::clone(&fake)).await;
    let mut fleet: Vec<Target> = fleet(0).into_iter().map(|f| f.0).collect();
    fleet[1].up = false; // db1
    // A job named like a preset whose exporter exposes none of its metrics.
    fleet.push(Target {
        job: "postgres",
        instance: "pg9:9187",
        labels: vec![],
        body: "pg_exporter_last_scrape_error 1\n".to_owned(),
        up: true,
    });
    fake.lock().unwrap().targets = fleet;
    let mut p = prom_spec();
    p.extra_metrics = vec!["pg_exporter_last_scrape_error".to_owned()];
    let spec = prom_source(0, url, p);
    let mut store = Store::new(&settings(vec![spec.clone()], vec![]));
    let clients = HttpClients::new().unwrap();
    store.ingest(poll_once(&clients, &spec).await);
    let snap = store.snapshot(Utc::now());
    let db1 = snap
        .sources
        .iter()
        .find(|s| s.name == "prom/mysqld/db1:9104")
        .unwrap();
    let SourceHealth::Failing { reason, .. } = &db1.health else {
        panic!("{:?}", db1.health);
    };
    assert!(
        reason.starts_with("Prometheus reports the target down: Get")
            && reason.contains("connection refused"),
        "{reason}"
    );
    let pg9 = snap
        .sources
        .iter()
        .find(|s| s.name == "prom/postgres/pg9:9187")
        .unwrap();
    assert!(
        pg9.warnings
            .iter()
            .any(|w| w == "preset postgres expects pg_up, not exposed"),
        "{:?}",
        pg9.warnings
    );
    let parent = &snap.sources[0];
    assert!(matches!(parent.health, SourceHealth::Ok { .. }));

    // The target vanishes from the answer: its child says so.
    fake.lock()
        .unwrap()
        .targets
        .retain(|t| t.instance != "pg9:9187");
    store.ingest(poll_once(&clients, &spec).await);
    let snap = store.snapshot(Utc::now());
    let pg9 = snap
        .sources
        .iter()
        .find(|s| s.name == "prom/postgres/pg9:9187")
        .unwrap();
    assert!(
        matches!(&pg9.health, SourceHealth::Failing { reason, .. } if reason.contains("no longer in Prometheus's answer")),
        "{:?}",
        pg9.health
    );
}

#[tokio::test]
async fn partial_answers_errors_and_timeouts_are_reported_on_the_source() {
    let fake = Arc::new(Mutex::new(Fake::default()));
    let url = serve(Arc::clone(&fake)).await;
    fake.lock().unwrap().targets = fleet(0).into_iter().map(|f| f.0).collect();
    let spec = prom_source(0, url, prom_spec());
    let clients = HttpClients::new().unwrap();

    // One query fails: the rest is used, the failure is a warning on the source.
    fake.lock().unwrap().fail_containing = Some("redis_up");
    let mut store = Store::new(&settings(vec![spec.clone()], vec![]));
    store.ingest(poll_once(&clients, &spec).await);
    let snap = store.snapshot(Utc::now());
    let parent = &snap.sources[0];
    assert!(matches!(parent.health, SourceHealth::Ok { .. }));
    assert!(
        parent.warnings.iter().any(|w| w.starts_with(
            "query for redis metrics failed: could not decode response: timeout: query timed out"
        )),
        "{:?}",
        parent.warnings
    );
    assert_eq!(snap.nodes.len(), 1);

    // Every query fails: the poll fails with Prometheus's error.
    fake.lock().unwrap().fail_containing = None;
    fake.lock().unwrap().canned = Some((
        "400 Bad Request",
        fixture("api/prometheus-2.42-query-error.json"),
    ));
    store.ingest(poll_once(&clients, &spec).await);
    let snap = store.snapshot(Utc::now());
    let SourceHealth::Failing { reason, .. } = &snap.sources[0].health else {
        panic!("{:?}", snap.sources[0].health);
    };
    assert!(reason.contains("bad_data: invalid parameter"), "{reason}");

    // Prometheus's warnings (Thanos's partial responses) are kept, sanitized.
    fake.lock().unwrap().canned =
        Some(("200 OK", fixture("api/prometheus-2.42-query-warnings.json")));
    store.ingest(poll_once(&clients, &spec).await);
    let snap = store.snapshot(Utc::now());
    assert!(matches!(snap.sources[0].health, SourceHealth::Ok { .. }));
    assert!(
        snap.sources[0].warnings.iter().any(|w| w
            .starts_with("up: partial response: store eu-west-2 unavailable")
            && !w.contains('\u{1b}')),
        "{:?}",
        snap.sources[0].warnings
    );

    // A Prometheus that never answers: the source's timeout.
    fake.lock().unwrap().hang = true;
    let started = std::time::Instant::now();
    let r = poll_once(&clients, &spec).await;
    assert_eq!(r.outcome.unwrap_err(), PollError::Timeout(spec.timeout));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn backfill_runs_range_queries_once() {
    let fake = Arc::new(Mutex::new(Fake::default()));
    let url = serve(Arc::clone(&fake)).await;
    fake.lock().unwrap().targets = fleet(0).into_iter().map(|f| f.0).take(1).collect();
    let mut p = prom_spec();
    p.backfill = Duration::from_secs(60);
    let spec = prom_source(0, url, p);
    let clients = HttpClients::new().unwrap();
    let r = poll(&clients, &spec, true).await;
    let Ok(Payload::Query(answer)) = &r.outcome else {
        panic!("{:?}", r.outcome);
    };
    assert_eq!(answer.targets[0].history.len(), 2);
    let requests = fake.lock().unwrap().requests.clone();
    assert!(
        requests
            .iter()
            .any(|r| r.contains("/api/v1/query_range?") && r.contains("step=5000ms"))
    );
    let mut store = Store::new(&settings(vec![spec.clone()], vec![]));
    store.ingest(r);
    let child = &store.sources()[1];
    let cpu = child.table.named("node_cpu_seconds_total").next().unwrap();
    assert_eq!(
        child.table.history(cpu).len(),
        3,
        "two backfilled points, one latest"
    );
}

#[test]
fn preset_is_chosen_by_job_name_then_by_metrics() {
    let p = prom_spec();
    let b = BackupMetricNames::default();
    let none: [&str; 0] = [];
    for (job, want) in [
        ("node", Preset::Node),
        ("node_exporter", Preset::Node),
        ("node-exporter", Preset::Node),
        ("mysqld", Preset::Mysqld),
        ("mysql", Preset::Mysqld),
        ("mysqld-prod", Preset::Mysqld),
        ("postgres", Preset::Postgres),
        ("postgresql", Preset::Postgres),
        ("redis", Preset::Redis),
        ("pushgateway", Preset::Backup),
        ("Redis_Cache", Preset::Redis),
        ("shop-api", Preset::Generic),
    ] {
        assert_eq!(p.preset_for(job, none, &b), want, "{job}");
    }
    assert_eq!(p.preset_for("db-a", ["mysql_up"], &b), Preset::Mysqld);
    assert_eq!(
        p.preset_for("cache", ["redis_up", "node_load1"], &b),
        Preset::Redis
    );
    let mut explicit = prom_spec();
    explicit
        .job_presets
        .insert("node".to_owned(), Preset::Generic);
    assert_eq!(explicit.preset_for("node", none, &b), Preset::Generic);
}

// ---------------------------------------------------------------------------------------
// Config.

/// The example config's commented `[[environment.prometheus]]` block, uncommented.
fn example_block() -> String {
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml"),
    )
    .unwrap();
    let start = example.find("  # [[environment.prometheus]]").unwrap();
    example[start..]
        .lines()
        .take_while(|l| l.trim_start().starts_with("# "))
        .map(|l| format!("{}\n", l.replacen("# ", "", 1)))
        .collect()
}

#[test]
fn the_documented_example_resolves() {
    let text = format!(
        "[[environment]]\nname = \"production\"\ntier = \"production\"\n{}",
        example_block()
    );
    let s = watchdeck::config::load_str(&text, std::path::Path::new("c.toml"))
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    let src = &s.environments[0].sources[0];
    assert_eq!(src.kind_name(), "prometheus");
    assert_eq!(src.interval, Duration::from_secs(15));
    assert_eq!(src.timeout, Duration::from_secs(5));
    let SourceKind::Prometheus(p) = &src.kind else {
        panic!()
    };
    assert_eq!(
        p.env_selector,
        Some(("env".to_owned(), "production".to_owned()))
    );
    assert_eq!(p.role_label.as_deref(), Some("role"));
    assert_eq!(p.jobs.len(), 5);
    assert_eq!(p.job_presets["shop-db"], Preset::Mysqld);
    assert_eq!(p.backfill, Duration::from_secs(600));
    assert_eq!(p.extra_metrics, ["http_requests_total"]);
}

#[test]
fn defaults_and_mistakes() {
    let head = "[[environment]]\nname = \"live\"\ntier = \"staging\"\n[[environment.prometheus]]\nname = \"p\"\nurl = \"http://prom:9090\"\n";
    let load = |extra: &str| {
        watchdeck::config::load_str(&format!("{head}{extra}"), std::path::Path::new("c.toml"))
    };
    let s = load("").unwrap();
    let SourceKind::Prometheus(p) = &s.environments[0].sources[0].kind else {
        panic!()
    };
    assert_eq!(p.env_selector, Some(("env".to_owned(), "live".to_owned())));
    assert_eq!(p.node_label, "instance");
    assert_eq!(p.backfill, Duration::ZERO);
    let s = load("env_label = \"\"\n").unwrap();
    let SourceKind::Prometheus(p) = &s.environments[0].sources[0].kind else {
        panic!()
    };
    assert_eq!(p.env_selector, None);

    for (extra, want) in [
        (
            "presets = \"node\"\n",
            "c.toml:7:1: unknown key `presets` in [[environment.prometheus]]",
        ),
        (
            "node_label = \"a-b\"\n",
            "c.toml:7:14: invalid label name `a-b` in `node_label`",
        ),
        ("backfill = \"1h\"\n", "backfill 1h is longer than the 15m"),
        (
            "extra_metrics = [\"a b\"]\n",
            "invalid metric name `a b` in extra_metrics",
        ),
        (
            "job_presets = { x = \"nodes\" }\n",
            "invalid preset `nodes` for job `x`",
        ),
        (
            "env_label = \"\"\nenv_value = \"x\"\n",
            "env_value given but env_label = \"\"",
        ),
        (
            "timeout = \"20s\"\n",
            "timeout 20s is longer than interval 15s",
        ),
    ] {
        let e = load(extra).unwrap_err().to_string();
        assert!(e.contains(want), "{extra}: {e}");
    }
}
