//! The demo fleet over real HTTP, driven by a ManualClock.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use watchdeck::demo::{DemoFleet, DemoOptions, FaultState, ManualClock};

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_300_000, 0).unwrap()
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn start(seed: u64) -> (DemoFleet, Arc<ManualClock>) {
    let clock = ManualClock::shared(t0());
    let fleet = DemoFleet::start(DemoOptions {
        seed,
        clock: clock.clone(),
        hostile: false,
    })
    .await
    .unwrap();
    (fleet, clock)
}

async fn get(c: &reqwest::Client, fleet: &DemoFleet, path: &str) -> (u16, String) {
    let url = fleet.base_url().join(path.trim_start_matches('/')).unwrap();
    let r = c.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Parse exposition text into series → value (no timestamps in the demo).
fn samples(text: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (series, value) = line.rsplit_once(' ').unwrap();
        let v = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
        };
        out.insert(series.to_owned(), v);
    }
    out
}

fn value(text: &str, series: &str) -> Option<f64> {
    samples(text).get(series).copied()
}

/// Every URL of a given kind in the emitted config: (env, name, url).
fn config_urls(fleet: &DemoFleet) -> Vec<(String, String, String, String)> {
    let v: toml::Value = toml::from_str(&fleet.config_toml()).expect("config is TOML");
    let mut out = Vec::new();
    for env in v["environment"].as_array().unwrap() {
        let name = env["name"].as_str().unwrap().to_owned();
        for kind in ["health", "metrics", "alertmanager"] {
            for s in env
                .get(kind)
                .and_then(|x| x.as_array())
                .into_iter()
                .flatten()
            {
                out.push((
                    name.clone(),
                    kind.to_owned(),
                    s["name"].as_str().unwrap().to_owned(),
                    s["url"].as_str().unwrap().to_owned(),
                ));
            }
        }
    }
    out
}

async fn fetch_url(c: &reqwest::Client, url: &str) -> (u16, String) {
    let r = c.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn post_json(c: &reqwest::Client, url: url::Url, body: &serde_json::Value) -> (u16, String) {
    let r = c
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn fetch_all(c: &reqwest::Client, fleet: &DemoFleet) -> Vec<(String, u16, String)> {
    let mut out = Vec::new();
    for (_, kind, _, url) in config_urls(fleet) {
        let url = if kind == "alertmanager" {
            format!("{url}/api/v2/alerts")
        } else {
            url
        };
        let (s, b) = fetch_url(c, &url).await;
        out.push((url, s, b));
    }
    out
}

#[tokio::test]
async fn demo_same_seed_and_time_give_identical_bytes() {
    let c = client();
    let (a, ca) = start(7).await;
    let (b, cb) = start(7).await;
    for secs in [0u64, 95, 250] {
        ca.set(t0() + chrono::TimeDelta::seconds(secs as i64));
        cb.set(t0() + chrono::TimeDelta::seconds(secs as i64));
        let ra = fetch_all(&c, &a).await;
        let rb = fetch_all(&c, &b).await;
        assert_eq!(ra.len(), rb.len());
        for ((ua, sa, ba), (_, sb, bb)) in ra.iter().zip(rb.iter()) {
            assert_eq!(sa, sb, "{ua}");
            assert_eq!(ba, bb, "{ua} differs at t+{secs}s");
        }
    }
    // Another time gives other bytes.
    let path = "/env/production/prod-web1/node/metrics";
    ca.set(t0() + chrono::TimeDelta::seconds(10));
    let (_, x) = get(&c, &a, path).await;
    ca.set(t0() + chrono::TimeDelta::seconds(17));
    let (_, y) = get(&c, &a, path).await;
    assert_ne!(x, y);
    // Another seed gives other bytes.
    let (d, cd) = start(8).await;
    cd.set(t0() + chrono::TimeDelta::seconds(17));
    let (_, z) = get(&c, &d, path).await;
    assert_ne!(y, z);
    a.shutdown().await;
    b.shutdown().await;
    d.shutdown().await;
}

#[tokio::test]
async fn demo_config_parses_and_every_endpoint_answers() {
    let c = client();
    let (fleet, clock) = start(42).await;
    let urls = config_urls(&fleet);
    assert!(urls.len() > 40, "{} sources", urls.len());
    // Names unique per environment.
    let mut seen = std::collections::BTreeSet::new();
    for (env, _, name, _) in &urls {
        assert!(
            seen.insert((env.clone(), name.clone())),
            "duplicate {env}/{name}"
        );
    }
    // Before the first fault everything is healthy.
    clock.set(t0() + chrono::TimeDelta::seconds(5));
    for (url, status, body) in fetch_all(&c, &fleet).await {
        assert_eq!(status, 200, "{url}: {body}");
        if url.ends_with("/metrics") {
            let n = samples(&body).len();
            // The queue exporter is small; the exporters carry 25..130 series each.
            assert!((10..=260).contains(&n), "{url} has {n} series");
            assert!(body.contains("# TYPE "), "{url}");
        }
    }
    // During the node-down fault only prod-web3's endpoints fail, with 503.
    clock.set(t0() + chrono::TimeDelta::seconds(210));
    for (url, status, body) in fetch_all(&c, &fleet).await {
        let expected = if url.contains("/prod-web3/") {
            503
        } else {
            200
        };
        assert_eq!(status, expected, "{url}: {body}");
    }
    fleet.shutdown().await;
}

#[tokio::test]
async fn demo_counters_are_monotonic() {
    let c = client();
    let (fleet, clock) = start(42).await;
    let urls: Vec<String> = config_urls(&fleet)
        .into_iter()
        .filter(|(_, k, _, _)| k == "metrics")
        .map(|(_, _, _, u)| u)
        .collect();
    let mut last: BTreeMap<String, f64> = BTreeMap::new();
    // Walk across two cycles, through every fault.
    for step in 0..70 {
        clock.set(t0() + chrono::TimeDelta::seconds(step * 19));
        for url in &urls {
            let (status, body) = fetch_url(&c, url).await;
            if status != 200 {
                continue;
            }
            let types: BTreeMap<&str, &str> = body
                .lines()
                .filter_map(|l| l.strip_prefix("# TYPE "))
                .filter_map(|l| l.split_once(' '))
                .collect();
            for (series, v) in samples(&body) {
                let name = series.split('{').next().unwrap();
                let family = types
                    .keys()
                    .find(|f| {
                        name == **f
                            || name
                                .strip_prefix(**f)
                                .is_some_and(|s| ["_bucket", "_sum", "_count"].contains(&s))
                    })
                    .copied();
                let is_counter =
                    family.is_some_and(|f| matches!(types[f], "counter" | "histogram"));
                if !is_counter {
                    continue;
                }
                let k = format!("{url} {series}");
                if let Some(prev) = last.get(&k) {
                    assert!(v >= *prev, "{k} went from {prev} to {v} at step {step}");
                }
                last.insert(k, v);
            }
        }
    }
    fleet.shutdown().await;
}

#[tokio::test]
async fn demo_faults_show_in_metrics_and_end() {
    let c = client();
    let (fleet, clock) = start(42).await;
    let at = |s: i64| t0() + chrono::TimeDelta::seconds(s);

    // PostgreSQL replica lag (20s..170s).
    let pg1 = "/env/production/prod-pg1/postgres/metrics";
    let pg2 = "/env/production/prod-pg2/postgres/metrics";
    let lag = |text: &str| value(text, "pg_replication_lag{server=\"10.30.1.12:5432\"}").unwrap();
    let diff = |text: &str| {
        samples(text)
            .into_iter()
            .find(|(k, _)| {
                k.starts_with("pg_stat_replication_pg_wal_lsn_diff{application_name=\"prod-pg2\"")
            })
            .unwrap()
            .1
    };
    clock.set(at(19));
    assert!(lag(&get(&c, &fleet, pg2).await.1) < 5.0);
    assert!(diff(&get(&c, &fleet, pg1).await.1) < 1e6);
    clock.set(at(20));
    assert!(lag(&get(&c, &fleet, pg2).await.1) >= 45.0);
    clock.set(at(160));
    assert!(lag(&get(&c, &fleet, pg2).await.1) > 120.0);
    assert!(diff(&get(&c, &fleet, pg1).await.1) > 1e8);
    clock.set(at(170));
    assert!(lag(&get(&c, &fleet, pg2).await.1) < 5.0);

    // Node down (200s..320s): 503 and Galera size 2 on the others.
    let size = |text: &str| value(text, "mysql_global_status_wsrep_cluster_size").unwrap();
    let web1 = "/env/production/prod-web1/mysqld/metrics";
    clock.set(at(199));
    assert_eq!(
        get(&c, &fleet, "/env/production/prod-web3/node/metrics")
            .await
            .0,
        200
    );
    assert_eq!(size(&get(&c, &fleet, web1).await.1), 3.0);
    clock.set(at(200));
    assert_eq!(
        get(&c, &fleet, "/env/production/prod-web3/node/metrics")
            .await
            .0,
        503
    );
    assert_eq!(
        get(&c, &fleet, "/env/production/prod-web3/health").await.0,
        503
    );
    assert_eq!(size(&get(&c, &fleet, web1).await.1), 2.0);
    clock.set(at(320));
    assert_eq!(
        get(&c, &fleet, "/env/production/prod-web3/node/metrics")
            .await
            .0,
        200
    );
    assert_eq!(size(&get(&c, &fleet, web1).await.1), 3.0);

    // Missed backup (260s..500s): age beyond the 15m RPO.
    let pgw = "/env/production/pushgateway/metrics";
    let series = "backup_last_success_timestamp_seconds{env=\"production\",instance=\"prod-web1\",job=\"backup\",service=\"galera\"}";
    let age = |text: &str, now: i64| (t0().timestamp() + now) as f64 - value(text, series).unwrap();
    clock.set(at(259));
    assert!(age(&get(&c, &fleet, pgw).await.1, 259) < 900.0);
    clock.set(at(260));
    assert!(age(&get(&c, &fleet, pgw).await.1, 260) > 900.0);
    clock.set(at(500));
    assert!(age(&get(&c, &fleet, pgw).await.1, 500) < 900.0);

    // Error surge (380s..530s): 5xx share above 5 % over the window.
    let app = "/env/production/prod-web1/app/metrics";
    let totals = |text: &str| {
        let mut all = 0.0;
        let mut bad = 0.0;
        for (k, v) in samples(text) {
            if k.starts_with("http_requests_total{") {
                all += v;
                if k.contains("code=\"5") {
                    bad += v;
                }
            }
        }
        (all, bad)
    };
    clock.set(at(380));
    let (a0, b0) = totals(&get(&c, &fleet, app).await.1);
    clock.set(at(440));
    let (a1, b1) = totals(&get(&c, &fleet, app).await.1);
    assert!(
        (b1 - b0) / (a1 - a0) > 0.05,
        "error share {}",
        (b1 - b0) / (a1 - a0)
    );
    clock.set(at(540));
    let (a2, b2) = totals(&get(&c, &fleet, app).await.1);
    clock.set(at(600));
    let (a3, b3) = totals(&get(&c, &fleet, app).await.1);
    assert!((b3 - b2) / (a3 - a2) < 0.02);
    assert!(a2 >= a1 && b2 >= b1);

    // Galera desync in staging (90s..240s).
    let stg2 = "/env/staging/stg-web2/mysqld/metrics";
    clock.set(at(89));
    assert_eq!(
        value(
            &get(&c, &fleet, stg2).await.1,
            "mysql_global_status_wsrep_local_state"
        ),
        Some(4.0)
    );
    clock.set(at(90));
    let body = get(&c, &fleet, stg2).await.1;
    assert_eq!(
        value(&body, "mysql_global_status_wsrep_local_state"),
        Some(2.0)
    );
    assert_eq!(value(&body, "mysql_global_status_wsrep_ready"), Some(0.0));
    clock.set(at(240));
    assert_eq!(
        value(
            &get(&c, &fleet, stg2).await.1,
            "mysql_global_status_wsrep_ready"
        ),
        Some(1.0)
    );

    // Redis link down in staging (470s..600s).
    let stg3 = "/env/staging/stg-web3/redis/metrics";
    let link = "redis_master_link_up{master_host=\"10.20.0.11\",master_port=\"6379\"}";
    let slaves = |t: &str| value(t, "redis_connected_slaves").unwrap();
    clock.set(at(469));
    assert_eq!(value(&get(&c, &fleet, stg3).await.1, link), Some(1.0));
    assert_eq!(
        slaves(
            &get(&c, &fleet, "/env/staging/stg-web1/redis/metrics")
                .await
                .1
        ),
        2.0
    );
    clock.set(at(470));
    assert_eq!(value(&get(&c, &fleet, stg3).await.1, link), Some(0.0));
    assert_eq!(
        slaves(
            &get(&c, &fleet, "/env/staging/stg-web1/redis/metrics")
                .await
                .1
        ),
        1.0
    );
    clock.set(at(600));
    assert_eq!(value(&get(&c, &fleet, stg3).await.1, link), Some(1.0));

    // The script repeats.
    clock.set(at(660 + 30));
    assert!(lag(&get(&c, &fleet, pg2).await.1) >= 45.0);
    fleet.shutdown().await;
}

#[tokio::test]
async fn demo_repair_ends_faults_early() {
    let c = client();
    let (fleet, clock) = start(42).await;
    let at = |s: i64| t0() + chrono::TimeDelta::seconds(s);
    let control = fleet.control_url();
    let repair = |body: serde_json::Value| {
        let c = c.clone();
        let url = control.join("repair").unwrap();
        async move {
            let (status, text) = post_json(&c, url, &body).await;
            (
                status,
                serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            )
        }
    };

    // Nothing active yet: 404 with a JSON error.
    clock.set(at(5));
    let (s, body) = repair(
        serde_json::json!({"action": "resync_replica", "env": "production", "target": "prod-pg2"}),
    )
    .await;
    assert_eq!(s, 404, "{body}");
    assert!(body["error"].is_string());
    let (s, _) = repair(serde_json::json!({"action": "nope", "env": "production"})).await;
    assert_eq!(s, 400);

    clock.set(at(40));
    let (s, body) = repair(
        serde_json::json!({"action": "resync_replica", "env": "production", "target": "prod-pg2"}),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["repaired"], serde_json::json!(["pg-replica-lag"]));
    let pg2 = get(&c, &fleet, "/env/production/prod-pg2/postgres/metrics")
        .await
        .1;
    assert!(value(&pg2, "pg_replication_lag{server=\"10.30.1.12:5432\"}").unwrap() < 5.0);
    let faults: serde_json::Value = serde_json::from_str(
        &fetch_url(&c, control.join("faults").unwrap().as_str())
            .await
            .1,
    )
    .unwrap();
    let lag = faults
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "pg-replica-lag")
        .unwrap();
    assert_eq!(lag["state"], "repaired");
    assert_eq!(
        fleet
            .faults()
            .iter()
            .find(|f| f.id == "pg-replica-lag")
            .unwrap()
            .state,
        FaultState::Repaired
    );
    // Still repaired later in the cycle.
    clock.set(at(100));
    assert_eq!(
        fleet
            .faults()
            .iter()
            .find(|f| f.id == "pg-replica-lag")
            .unwrap()
            .state,
        FaultState::Repaired
    );

    // Node down, repaired by restart.
    clock.set(at(230));
    assert_eq!(
        get(&c, &fleet, "/env/production/prod-web3/node/metrics")
            .await
            .0,
        503
    );
    let (s, _) = repair(
        serde_json::json!({"action": "restart_node", "env": "production", "target": "prod-web3"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        get(&c, &fleet, "/env/production/prod-web3/node/metrics")
            .await
            .0,
        200
    );

    // Missed backup, repaired by taking one: last success = now.
    clock.set(at(300));
    let (s, _) = repair(
        serde_json::json!({"action": "take_backup", "env": "production", "target": "galera"}),
    )
    .await;
    assert_eq!(s, 200);
    let pgw = get(&c, &fleet, "/env/production/pushgateway/metrics")
        .await
        .1;
    let last = value(&pgw, "backup_last_success_timestamp_seconds{env=\"production\",instance=\"prod-web1\",job=\"backup\",service=\"galera\"}").unwrap();
    assert_eq!(last, (t0().timestamp() + 300) as f64);

    // Error surge, ended by rollback; the traffic weight moves.
    clock.set(at(400));
    let app = "/env/production/prod-web1/app/metrics";
    assert_eq!(
        value(
            &get(&c, &fleet, app).await.1,
            "deploy_traffic_weight{color=\"green\"}"
        ),
        Some(100.0)
    );
    let (s, _) =
        repair(serde_json::json!({"action": "shift_traffic", "env": "production", "percent": 30}))
            .await;
    assert_eq!(s, 200);
    assert_eq!(
        value(
            &get(&c, &fleet, app).await.1,
            "deploy_traffic_weight{color=\"green\"}"
        ),
        Some(30.0)
    );
    let (s, body) = repair(serde_json::json!({"action": "rollback", "env": "production"})).await;
    assert_eq!(s, 200);
    assert_eq!(
        body["repaired"],
        serde_json::json!(["storefront-error-surge"])
    );
    let body = get(&c, &fleet, app).await.1;
    assert_eq!(
        value(&body, "deploy_traffic_weight{color=\"green\"}"),
        Some(0.0)
    );
    assert_eq!(
        value(&body, "deploy_traffic_weight{color=\"blue\"}"),
        Some(100.0)
    );
    assert_eq!(
        value(
            &body,
            "phpfpm_listen_queue{pool=\"www\",scrape_uri=\"tcp://127.0.0.1:9000/status\"}"
        ),
        Some(0.0)
    );

    // Staging: Galera resync and Redis replica resync.
    clock.set(at(100));
    let (s, _) = repair(
        serde_json::json!({"action": "resync_galera_node", "env": "staging", "target": "stg-web2"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        value(
            &get(&c, &fleet, "/env/staging/stg-web2/mysqld/metrics")
                .await
                .1,
            "mysql_global_status_wsrep_local_state"
        ),
        Some(4.0)
    );
    clock.set(at(480));
    let (s, _) = repair(
        serde_json::json!({"action": "resync_replica", "env": "staging", "target": "stg-web3"}),
    )
    .await;
    assert_eq!(s, 200);
    fleet.shutdown().await;
}

#[tokio::test]
async fn demo_alerts_follow_faults() {
    let c = client();
    let (fleet, clock) = start(42).await;
    let at = |s: i64| t0() + chrono::TimeDelta::seconds(s);
    let alerts = |c: reqwest::Client, q: &'static str| {
        let url = fleet
            .base_url()
            .join(&format!("env/production/alertmanager/api/v2/alerts{q}"))
            .unwrap();
        async move {
            serde_json::from_str::<serde_json::Value>(&fetch_url(&c, url.as_str()).await.1).unwrap()
        }
    };
    let names = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|a| a["labels"]["alertname"].as_str().unwrap().to_owned())
            .collect()
    };

    clock.set(at(5));
    let v = alerts(c.clone(), "").await;
    assert_eq!(names(&v), vec!["DeadLetterQueueNotEmpty", "Watchdog"]);
    let silenced = &v[0];
    assert_eq!(silenced["status"]["state"], "suppressed");
    assert_eq!(
        silenced["status"]["silencedBy"].as_array().unwrap().len(),
        1
    );
    for key in [
        "annotations",
        "endsAt",
        "fingerprint",
        "receivers",
        "startsAt",
        "status",
        "updatedAt",
        "generatorURL",
        "labels",
    ] {
        assert!(silenced.get(key).is_some(), "missing {key}");
    }
    assert_eq!(
        names(&alerts(c.clone(), "?silenced=false").await),
        vec!["Watchdog"]
    );

    clock.set(at(30));
    assert!(names(&alerts(c.clone(), "").await).contains(&"PostgresReplicationLag".to_owned()));
    clock.set(at(210));
    let v = alerts(c.clone(), "").await;
    let n = names(&v);
    assert!(n.contains(&"InstanceDown".to_owned()));
    assert!(!n.contains(&"PostgresReplicationLag".to_owned()));
    let galera = v
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["labels"]["alertname"] == "GaleraClusterSizeReduced")
        .unwrap();
    assert_eq!(galera["status"]["inhibitedBy"].as_array().unwrap().len(), 1);
    clock.set(at(400));
    let n = names(&alerts(c.clone(), "").await);
    assert!(n.contains(&"HighErrorRate".to_owned()) && n.contains(&"BackupTooOld".to_owned()));
    let url = fleet.control_url().join("repair").unwrap();
    let (s, _) = post_json(
        &c,
        url,
        &serde_json::json!({"action": "rollback", "env": "production"}),
    )
    .await;
    assert_eq!(s, 200);
    assert!(!names(&alerts(c.clone(), "").await).contains(&"HighErrorRate".to_owned()));
    clock.set(at(640));
    assert_eq!(
        names(&alerts(c.clone(), "").await),
        vec!["DeadLetterQueueNotEmpty", "Watchdog"]
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn demo_shutdown_and_drop_release_the_port() {
    let c = client();
    let (fleet, _clock) = start(1).await;
    let addr = fleet.local_addr();
    assert_eq!(get(&c, &fleet, "/control/faults").await.0, 200);
    fleet.shutdown().await;
    assert!(
        tokio::net::TcpListener::bind(addr).await.is_ok(),
        "port still held after shutdown"
    );

    let (fleet, _clock) = start(1).await;
    let addr = fleet.local_addr();
    drop(fleet);
    // Abort is asynchronous; give the runtime a moment to drop the listener.
    let mut ok = false;
    for _ in 0..50 {
        if tokio::net::TcpListener::bind(addr).await.is_ok() {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "port still held after drop");
}
