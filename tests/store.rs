//! The store end to end on real exporter fixtures: parse → series table → presets → views.

mod support;

use std::time::Duration;

use chrono::{TimeZone, Utc};
use support::{fixture, metrics_source, settings};
use watchdeck::config::settings::{BackupPolicy, Preset, SourceId};
use watchdeck::source::{Payload, PollError, PollReport};
use watchdeck::store::Store;
use watchdeck::store::model::{LinkState, ReplicationKind, SourceHealth};

fn at(secs: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(1_795_300_000 + secs, 0)
        .single()
        .expect("valid time")
}

fn ok(id: u32, t: i64, body: &str) -> PollReport {
    PollReport {
        source: SourceId(id),
        at: at(t),
        duration: Duration::from_millis(12),
        outcome: Ok(Payload::Metrics {
            body: body.to_owned(),
        }),
    }
}

fn failed(id: u32, t: i64, error: PollError) -> PollReport {
    PollReport {
        source: SourceId(id),
        at: at(t),
        duration: Duration::from_millis(12),
        outcome: Err(error),
    }
}

#[test]
fn node_exporter_becomes_a_node() {
    let body = fixture("exporters/node_exporter-1.5.prom");
    let s = settings(
        vec![metrics_source(
            0,
            "production",
            "web1-node",
            Preset::Node,
            &[("node", "web1"), ("role", "web")],
        )],
        vec![],
    );
    let mut store = Store::new(&s);
    store.ingest(ok(0, 0, &body));
    let snap = store.snapshot(at(1));
    let node = &snap.nodes[0];
    assert_eq!(node.name, "web1");
    assert_eq!(node.role.as_deref(), Some("web"));
    assert!(node.up);
    let mem = node
        .memory_percent
        .expect("memory from MemAvailable/MemTotal");
    assert!((0.0..=100.0).contains(&mem), "{mem}");
    assert!(
        node.root_disk_percent.is_some(),
        "root filesystem present in the fixture"
    );
    assert!(node.load1.is_some());
    assert!(node.uptime.is_some());
    assert_eq!(node.cpu_percent, None, "a rate needs two scrapes");
    assert!(
        snap.sources[0].warnings.is_empty(),
        "{:?}",
        snap.sources[0].warnings
    );

    // A second scrape 5 s later with every CPU counter advanced: CPU becomes known.
    let later: String = body
        .lines()
        .map(|l| {
            if let Some(rest) = l.strip_prefix("node_cpu_seconds_total{") {
                let (labels, value) = rest.rsplit_once(' ').expect("sample line");
                let v: f64 = value.parse().expect("number");
                let add = if labels.contains("mode=\"idle\"") {
                    3.0
                } else {
                    1.0 / 7.0
                };
                format!("node_cpu_seconds_total{{{labels} {}\n", v + add)
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    store.ingest(ok(0, 5, &later));
    let cpu = store.snapshot(at(6)).nodes[0]
        .cpu_percent
        .expect("cpu after two scrapes");
    assert!(cpu > 0.0 && cpu < 100.0, "{cpu}");
}

#[test]
fn mysqld_replica_becomes_a_link_with_threads() {
    let s = settings(
        vec![metrics_source(
            0,
            "production",
            "db2-mysqld",
            Preset::Mysqld,
            &[("node", "db2"), ("role", "replica"), ("primary", "db1")],
        )],
        vec![],
    );
    let mut store = Store::new(&s);
    store.ingest(ok(
        0,
        0,
        &fixture("exporters/mysqld_exporter-0.14-replica.prom"),
    ));
    let snap = store.snapshot(at(1));
    assert_eq!(snap.links.len(), 1, "{:?}", snap.links);
    let link = &snap.links[0];
    assert_eq!(link.kind, ReplicationKind::Mysql);
    assert_eq!(
        (link.primary.as_str(), link.replica.as_str()),
        ("db1", "db2")
    );
    assert_eq!(link.lag_seconds, Some(0.0));
    assert_eq!(
        link.state,
        LinkState::Threads {
            io_running: true,
            sql_running: true
        }
    );
}

#[test]
fn postgres_primary_reports_byte_lag_per_replica() {
    let s = settings(
        vec![metrics_source(
            0,
            "production",
            "pg1",
            Preset::Postgres,
            &[("node", "pg1"), ("role", "primary")],
        )],
        vec![],
    );
    let mut store = Store::new(&s);
    store.ingest(ok(
        0,
        0,
        &fixture("exporters/postgres_exporter-0.11-primary.prom"),
    ));
    let snap = store.snapshot(at(1));
    let link = snap
        .links
        .iter()
        .find(|l| l.kind == ReplicationKind::Postgres)
        .expect("a link");
    assert_eq!(link.primary, "pg1");
    assert_eq!(link.lag_bytes, Some(0.0));
    assert_eq!(link.state, LinkState::Streaming { attached: true });
}

#[test]
fn redis_replica_joins_primary_offset() {
    let s = settings(
        vec![
            metrics_source(
                0,
                "production",
                "r1",
                Preset::Redis,
                &[("node", "r1"), ("role", "primary")],
            ),
            metrics_source(
                1,
                "production",
                "r2",
                Preset::Redis,
                &[("node", "r2"), ("role", "replica"), ("primary", "r1")],
            ),
        ],
        vec![],
    );
    let mut store = Store::new(&s);
    store.ingest(ok(
        0,
        0,
        &fixture("exporters/redis_exporter-1.45-primary.prom"),
    ));
    store.ingest(ok(
        1,
        0,
        &fixture("exporters/redis_exporter-1.45-replica.prom"),
    ));
    let snap = store.snapshot(at(1));
    assert_eq!(snap.links.len(), 1, "{:?}", snap.links);
    let link = &snap.links[0];
    assert_eq!((link.primary.as_str(), link.replica.as_str()), ("r1", "r2"));
    assert_eq!(link.state, LinkState::Link { up: true });
    assert_eq!(link.lag_bytes, Some(0.0), "42 - 42");
    assert_eq!(link.lag_seconds, Some(1.0), "master_last_io_seconds_ago");
}

#[test]
fn pushgateway_backups_with_policy() {
    let s = settings(
        vec![metrics_source(
            0,
            "production",
            "pushgateway",
            Preset::Backup,
            &[],
        )],
        vec![BackupPolicy {
            service: "opensearch".to_owned(),
            interval: Duration::from_secs(3600),
            rpo: Duration::from_secs(900),
            retention: Vec::new(),
        }],
    );
    let mut store = Store::new(&s);
    store.ingest(ok(0, 0, &fixture("exporters/pushgateway-1.5.prom")));
    let snap = store.snapshot(at(0));
    let run = snap
        .backups
        .iter()
        .find(|b| b.service == "opensearch")
        .expect("opensearch backup");
    assert_eq!(run.last_success.map(|t| t.timestamp()), Some(1_795_296_321));
    assert_eq!(run.duration, Some(Duration::from_secs(312)));
    assert_eq!(run.rpo, Some(Duration::from_secs(900)));
    assert_eq!(
        run.age,
        Some(Duration::from_secs(1_795_300_000 - 1_795_296_321))
    );
}

#[test]
fn missing_preset_metrics_are_warnings_not_zeros() {
    let s = settings(
        vec![metrics_source(
            0,
            "production",
            "oops",
            Preset::Node,
            &[("node", "n")],
        )],
        vec![],
    );
    let mut store = Store::new(&s);
    store.ingest(ok(
        0,
        0,
        &fixture("exporters/redis_exporter-1.45-primary.prom"),
    ));
    let snap = store.snapshot(at(0));
    let warnings = &snap.sources[0].warnings;
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("node_memory_MemTotal_bytes")),
        "{warnings:?}"
    );
    assert_eq!(snap.nodes[0].memory_percent, None);
}

#[test]
fn failing_then_stale_then_recovered() {
    let s = settings(
        vec![metrics_source(0, "production", "n", Preset::Generic, &[])],
        vec![],
    );
    let mut store = Store::new(&s);
    assert_eq!(
        store.snapshot(at(0)).sources[0].health,
        SourceHealth::Pending
    );
    store.ingest(ok(0, 0, "up 1\n"));
    assert!(matches!(
        store.snapshot(at(1)).sources[0].health,
        SourceHealth::Ok { .. }
    ));
    // Older than two intervals (5 s) with no news: stale.
    assert!(matches!(
        store.snapshot(at(11)).sources[0].health,
        SourceHealth::Stale { .. }
    ));
    store.ingest(failed(
        0,
        12,
        PollError::Connect("connection refused".into()),
    ));
    store.ingest(failed(0, 17, PollError::Timeout(Duration::from_secs(2))));
    match &store.snapshot(at(18)).sources[0].health {
        SourceHealth::Failing {
            reason,
            since,
            last_success,
        } => {
            assert!(
                reason.contains("timed out"),
                "latest reason shown: {reason}"
            );
            assert_eq!(*since, at(12), "since the first failure of the run");
            assert_eq!(*last_success, Some(at(0)));
        }
        other => panic!("expected failing, got {other:?}"),
    }
    store.ingest(ok(0, 20, "up 1\n"));
    assert!(matches!(
        store.snapshot(at(21)).sources[0].health,
        SourceHealth::Ok { .. }
    ));
}

#[test]
fn hostile_label_values_are_sanitized_once_and_series_still_match() {
    let s = settings(
        vec![metrics_source(0, "production", "n", Preset::Generic, &[])],
        vec![],
    );
    let mut store = Store::new(&s);
    let body = "evil{msg=\"\u{1b}[31mred\u{1b}[0m \u{202e}x\"} 1\n";
    store.ingest(ok(0, 0, body));
    store.ingest(ok(0, 5, &body.replace(" 1\n", " 2\n")));
    let table = &store.sources()[0].table;
    assert_eq!(table.len(), 1, "the second scrape found the same series");
    let series = table.named("evil").next().expect("series");
    assert_eq!(series.label("msg"), Some("red x"));
    assert_eq!(series.value, 2.0);
}

#[test]
fn counter_rate_survives_a_reset_and_history_is_bounded() {
    let s = settings(
        vec![metrics_source(0, "production", "n", Preset::Generic, &[])],
        vec![],
    );
    let mut store = Store::new(&s);
    // 10 per 5 s, then a restart (reset to 3), then on again.
    for (i, v) in [0.0, 10.0, 20.0, 3.0, 13.0].iter().enumerate() {
        store.ingest(ok(0, i as i64 * 5, &format!("reqs_total {v}\n")));
    }
    let table = &store.sources()[0].table;
    let series = table.named("reqs_total").next().expect("series");
    let rate = table
        .rate(series, chrono::Duration::seconds(60))
        .expect("rate");
    assert!(
        (rate - (10.0 + 10.0 + 3.0 + 10.0) / 20.0).abs() < 1e-9,
        "{rate}"
    );
    for i in 5..1000 {
        store.ingest(ok(0, i * 5, "reqs_total 1\n"));
    }
    let table = &store.sources()[0].table;
    let series = table.named("reqs_total").next().expect("series");
    let points = table.history(series).len();
    assert!(points <= 15 * 60 / 5 + 2, "history is bounded: {points}");
    assert!(points >= 15 * 60 / 5, "and covers 15 minutes: {points}");
}

#[test]
fn vanished_series_are_absent_then_evicted() {
    let s = settings(
        vec![metrics_source(0, "production", "n", Preset::Generic, &[])],
        vec![],
    );
    let mut store = Store::new(&s);
    store.ingest(ok(0, 0, "a 1\nb 1\n"));
    store.ingest(ok(0, 5, "a 1\n"));
    let table = &store.sources()[0].table;
    assert!(!table.has("b"), "b is absent from the latest scrape");
    assert_eq!(table.len(), 2, "but kept for its history");
    for i in 2..400 {
        store.ingest(ok(0, i * 5, "a 1\n"));
    }
    assert_eq!(
        store.sources()[0].table.len(),
        1,
        "evicted after a whole window"
    );
}

#[test]
fn a_node_that_never_answered_is_listed_as_down() {
    let s = settings(
        vec![metrics_source(
            0,
            "production",
            "web1-node",
            Preset::Node,
            &[("node", "web1")],
        )],
        vec![],
    );
    let mut store = Store::new(&s);
    store.ingest(failed(
        0,
        0,
        PollError::Connect("connection refused".into()),
    ));
    let snap = store.snapshot(at(1));
    assert_eq!(snap.nodes.len(), 1);
    assert!(!snap.nodes[0].up);
    assert_eq!(snap.nodes[0].memory_percent, None);
    assert!(
        snap.sources[0].warnings.is_empty(),
        "no missing-metric noise for a source that is down"
    );
}

// ----- Exporter versions: the naming differences that bite in practice -----------------

/// One source with `preset` and `labels` fed one fixture; the snapshot one second later.
fn one_scrape(preset: Preset, labels: &[(&str, &str)], body: &str) -> watchdeck::store::Snapshot {
    let s = settings(
        vec![metrics_source(0, "production", "src", preset, labels)],
        vec![],
    );
    let mut store = Store::new(&s);
    store.ingest(ok(0, 0, body));
    store.snapshot(at(1))
}

#[test]
fn mysqld_016_on_mysql_84_reads_source_and_replica_spellings() {
    let labels = [("node", "db2"), ("role", "replica")];
    let old = one_scrape(
        Preset::Mysqld,
        &labels,
        &fixture("exporters/mysqld_exporter-0.14-replica.prom"),
    );
    let new = one_scrape(
        Preset::Mysqld,
        &labels,
        &fixture("exporters/mysqld_exporter-0.16-mysql8.4-replica.prom"),
    );
    assert_eq!(new.links.len(), 1, "{:?}", new.links);
    let link = &new.links[0];
    // The primary comes from `source_host` when no `primary` label is configured.
    assert_eq!(link.primary, "127.0.0.1");
    assert_eq!(link.lag_seconds, Some(0.0));
    assert_eq!(
        link.state,
        LinkState::Threads {
            io_running: true,
            sql_running: true
        }
    );
    assert!(
        new.sources[0].warnings.is_empty(),
        "{:?}",
        new.sources[0].warnings
    );
    // Both spellings describe the same replica the same way.
    assert_eq!(old.links, new.links);
}

#[test]
fn mysqld_replica_without_replica_status_says_which_metrics_are_missing() {
    let snap = one_scrape(
        Preset::Mysqld,
        &[("node", "db2"), ("role", "replica")],
        &fixture("exporters/mysqld_exporter-0.14-primary.prom"),
    );
    let warnings = &snap.sources[0].warnings;
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("seconds_behind_master") && w.contains("seconds_behind_source")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("slave_io_running") && w.contains("replica_io_running")),
        "{warnings:?}"
    );
    assert_eq!(snap.links[0].lag_seconds, None, "no zero invented");
}

#[test]
fn a_stopped_sql_thread_is_not_a_missing_lag_metric() {
    // MariaDB reports Seconds_Behind_Master as NULL while a thread is stopped, and
    // mysqld_exporter 0.14 then leaves the metric out (seen on the live stack).
    let body: String = fixture("exporters/mysqld_exporter-0.14-replica.prom")
        .lines()
        .filter(|l| !l.starts_with("mysql_slave_status_seconds_behind_master"))
        .map(|l| {
            if l.starts_with("mysql_slave_status_slave_sql_running") {
                let (series, _) = l.rsplit_once(' ').unwrap();
                format!("{series} 0\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let snap = one_scrape(
        Preset::Mysqld,
        &[("node", "db2"), ("role", "replica"), ("primary", "db1")],
        &body,
    );
    assert!(
        snap.sources[0].warnings.is_empty(),
        "{:?}",
        snap.sources[0].warnings
    );
    assert_eq!(
        snap.links[0].state,
        LinkState::Threads {
            io_running: true,
            sql_running: false
        }
    );
    assert_eq!(snap.links[0].lag_seconds, None, "unknown, not 0");
}

#[test]
fn a_database_down_is_not_a_list_of_missing_metrics() {
    // What redis_exporter 1.45 serves when its Redis is gone (seen on the live stack with
    // the replica killed): redis_up 0 and little else.
    let body = "# TYPE redis_up gauge\nredis_up 0\n# TYPE redis_exporter_last_scrape_error gauge\nredis_exporter_last_scrape_error{err=\"dial redis: unknown network redis\"} 1\n";
    let snap = one_scrape(
        Preset::Redis,
        &[
            ("node", "redis2"),
            ("role", "replica"),
            ("primary", "redis1"),
        ],
        body,
    );
    assert!(
        snap.sources[0].warnings.is_empty(),
        "{:?}",
        snap.sources[0].warnings
    );
    // With no redis_up at all, the exporter is not what the preset expects: say so.
    let snap = one_scrape(
        Preset::Redis,
        &[("node", "redis2"), ("role", "replica")],
        "# TYPE something gauge\nsomething 1\n",
    );
    assert!(
        snap.sources[0]
            .warnings
            .iter()
            .any(|w| w.contains("redis_up")),
        "{:?}",
        snap.sources[0].warnings
    );
}

#[test]
fn postgres_011_replica_has_no_seconds_but_013_has_them() {
    let labels = [("node", "pg2"), ("role", "replica"), ("primary", "pg1")];
    let old = one_scrape(
        Preset::Postgres,
        &labels,
        &fixture("exporters/postgres_exporter-0.11-replica.prom"),
    );
    assert_eq!(old.links.len(), 1, "{:?}", old.links);
    assert_eq!(old.links[0].lag_seconds, None, "0.11 has no seconds of lag");
    let new = one_scrape(
        Preset::Postgres,
        &labels,
        &fixture("exporters/postgres_exporter-0.13-replica.prom"),
    );
    assert_eq!(new.links.len(), 1, "{:?}", new.links);
    assert_eq!(new.links[0].lag_seconds, Some(2.5));
    assert_eq!(
        (new.links[0].primary.as_str(), new.links[0].replica.as_str()),
        ("pg1", "pg2")
    );

    // ≥0.13 says it is a replica by itself: no role label needed.
    let unlabelled = one_scrape(
        Preset::Postgres,
        &[("node", "pg2"), ("primary", "pg1")],
        &fixture("exporters/postgres_exporter-0.13-replica.prom"),
    );
    assert_eq!(unlabelled.links.len(), 1, "{:?}", unlabelled.links);
    assert_eq!(unlabelled.links[0].lag_seconds, Some(2.5));
}

/// A stopped PostgreSQL replica makes its exporter slow enough to time out; the primary,
/// which no longer lists the replica, is the fresh witness that the link is down.
#[test]
fn postgres_replica_unlisted_by_a_live_primary_is_down_on_the_primarys_word() {
    let s = settings(
        vec![
            metrics_source(
                0,
                "production",
                "pg1",
                Preset::Postgres,
                &[("node", "pg1"), ("role", "primary")],
            ),
            metrics_source(
                1,
                "production",
                "pg2",
                Preset::Postgres,
                &[("node", "pg2"), ("role", "replica"), ("primary", "pg1")],
            ),
        ],
        vec![],
    );
    let mut store = Store::new(&s);
    store.ingest(ok(
        1,
        0,
        &fixture("exporters/postgres_exporter-0.11-replica.prom"),
    ));
    store.ingest(failed(
        1,
        2,
        PollError::Timeout(Duration::from_millis(1500)),
    ));
    store.ingest(ok(0, 2, "pg_up 1\n"));
    let snap = store.snapshot(at(3));
    let link = snap
        .links
        .iter()
        .find(|l| l.kind == ReplicationKind::Postgres && l.replica == "pg2")
        .expect("the replica's link");
    assert_eq!(link.state, LinkState::Streaming { attached: false });
    assert_eq!(link.source, SourceId(0), "credited to the primary");
    assert!(!snap.is_stale(link.source));

    // With the primary down too, nobody vouches for the link: it stays the replica's, stale.
    store.ingest(failed(
        0,
        4,
        PollError::Connect("connection refused".into()),
    ));
    let snap = store.snapshot(at(5));
    let link = snap
        .links
        .iter()
        .find(|l| l.kind == ReplicationKind::Postgres && l.replica == "pg2")
        .expect("the replica's link");
    assert_eq!(link.source, SourceId(1));
    assert!(snap.is_stale(link.source));
}

#[test]
fn node_018_device_error_label_is_tolerated_and_a_failed_root_is_unknown() {
    let labels = [("node", "web1")];
    let old = one_scrape(
        Preset::Node,
        &labels,
        &fixture("exporters/node_exporter-1.5.prom"),
    );
    let body = fixture("exporters/node_exporter-1.8.prom");
    let new = one_scrape(Preset::Node, &labels, &body);
    assert!(new.nodes[0].root_disk_percent.is_some());
    assert_eq!(
        old.nodes[0].root_disk_percent,
        new.nodes[0].root_disk_percent
    );
    assert!(
        new.sources[0].warnings.is_empty(),
        "{:?}",
        new.sources[0].warnings
    );

    // statfs on `/` failed: the values beside the error are not a disk usage.
    let failed = body
        .replace(
            r#"device_error="",fstype="ext4",mountpoint="/"} 0"#,
            r#"device_error="permission denied",fstype="ext4",mountpoint="/"} 1"#,
        )
        .replace(
            r#"device_error="",fstype="ext4""#,
            r#"device_error="permission denied",fstype="ext4""#,
        );
    let snap = one_scrape(Preset::Node, &labels, &failed);
    assert_eq!(snap.nodes[0].root_disk_percent, None);
}
