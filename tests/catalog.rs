//! Backup catalogs end to end: the committed fixtures (real restic and pgBackRest output,
//! a documented wal-g listing, generic lists) parse to the backups they hold; format
//! detection; decode errors with line and column; sanitizing; the poller reading a catalog
//! from a file and from a local HTTP server into the store's snapshot, with retention
//! coverage; the demo's catalog and its deliberate retention gap.

mod support;

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

use support::{fixture, settings};
use watchdeck::config::settings::{
    BackupPolicy, COMMERCE_RETENTION, CatalogFormat, CatalogSpec, RetentionTier, SourceId,
    SourceKind, SourceSpec, Tier,
};
use watchdeck::source::catalog::{self, CatalogError};
use watchdeck::source::http::HttpClients;
use watchdeck::source::poller;
use watchdeck::source::{Payload, PollError};
use watchdeck::store::Store;
use watchdeck::store::model::BackupEntry;
use watchdeck::store::retention;

const DAY: Duration = Duration::from_secs(86_400);

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn parse(rel: &str, format: CatalogFormat) -> Vec<BackupEntry> {
    catalog::parse(&fixture(&format!("catalogs/{rel}")), format)
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

// ----- fixtures -------------------------------------------------------------------------

#[test]
fn restic_fixture() {
    let e = parse("restic-snapshots.json", CatalogFormat::Restic);
    assert_eq!(e.len(), 20);
    assert_eq!(e[0].time, t("2026-11-01T02:00:00Z"));
    assert_eq!(e[0].id, "5be3bb0b");
    assert_eq!(e[19].time, t("2026-11-21T02:00:00Z"));
    assert!(e.iter().all(|b| b.ok && b.kind == "snapshot"));
    // restic 0.14 prints no summary, so no sizes.
    assert!(e.iter().all(|b| b.size_bytes.is_none()));
    let days: Vec<u32> = e.iter().map(|b| chrono::Datelike::day(&b.time)).collect();
    let want: Vec<u32> = (1..=21).filter(|d| *d != 10).collect();
    assert_eq!(days, want);
}

#[test]
fn pgbackrest_fixture() {
    let e = parse("pgbackrest-info.json", CatalogFormat::Pgbackrest);
    let got: Vec<(&str, i64, Option<u64>, bool, &str)> = e
        .iter()
        .map(|b| {
            (
                b.kind.as_str(),
                b.time.timestamp(),
                b.size_bytes,
                b.ok,
                b.id.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "full",
                1_795_307_772,
                Some(26_621_641),
                true,
                "20261122-003609F"
            ),
            (
                "incr",
                1_795_307_774,
                Some(28_456_649),
                true,
                "20261122-003609F_20261122-003613I"
            ),
            (
                "diff",
                1_795_307_776,
                Some(30_267_081),
                true,
                "20261122-003609F_20261122-003615D"
            ),
        ]
    );
}

#[test]
fn pgbackrest_error_flag_marks_a_failed_backup() {
    let text =
        fixture("catalogs/pgbackrest-info.json").replacen("\"error\":false", "\"error\":true", 1);
    let e = catalog::parse(&text, CatalogFormat::Auto).unwrap();
    assert_eq!(
        e.iter().map(|b| b.ok).collect::<Vec<_>>(),
        [false, true, true]
    );
}

#[test]
fn walg_fixture() {
    let e = parse("walg-backup-list.documented.json", CatalogFormat::Walg);
    let got: Vec<(DateTime<Utc>, &str, Option<u64>, bool)> = e
        .iter()
        .map(|b| (b.time, b.kind.as_str(), b.size_bytes, b.ok))
        .collect();
    assert_eq!(
        got,
        [
            (
                t("2026-11-20T02:00:40.498Z"),
                "full",
                Some(25_302_338),
                true
            ),
            (t("2026-11-21T02:00:18.956Z"), "incr", Some(4_120_576), true),
            (
                t("2026-11-22T02:01:01.312Z"),
                "full",
                Some(26_114_874),
                true
            ),
        ]
    );
    assert_eq!(
        e[1].id,
        "base_000000010000000000000005_D_000000010000000000000002"
    );
}

#[test]
fn walg_without_detail_uses_the_modification_time() {
    let text = r#"[{"backup_name":"base_000000010000000000000002","time":"2026-11-20T02:00:41Z",
        "wal_file_name":"000000010000000000000002","storage_name":"default"}]"#;
    let e = catalog::parse(text, CatalogFormat::Auto).unwrap();
    assert_eq!(e[0].time, t("2026-11-20T02:00:41Z"));
    assert_eq!(e[0].size_bytes, None);
}

#[test]
fn generic_fixture() {
    let e = parse("generic-list.json", CatalogFormat::Generic);
    type Row<'a> = (DateTime<Utc>, &'a str, Option<u64>, bool, &'a str);
    let got: Vec<Row<'_>> = e
        .iter()
        .map(|b| (b.time, b.kind.as_str(), b.size_bytes, b.ok, b.id.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                t("2026-11-19T02:00:00Z"),
                "full",
                Some(1_200_000_000),
                true,
                "galera-20261119"
            ),
            (
                t("2026-11-20T02:00:00Z"),
                "full",
                Some(1_210_000_000),
                false,
                "galera-20261120"
            ),
            (
                t("2026-11-20T02:15:00Z"),
                "incr",
                Some(42_000_000),
                true,
                "galera-20261120-incr"
            ),
            (
                t("2026-11-21T02:00:00Z"),
                "full",
                None,
                true,
                "galera-20261121"
            ),
        ]
    );
}

#[test]
fn auto_detection_picks_each_format() {
    for (rel, want) in [
        ("restic-snapshots.json", CatalogFormat::Restic),
        ("pgbackrest-info.json", CatalogFormat::Pgbackrest),
        ("walg-backup-list.documented.json", CatalogFormat::Walg),
        ("generic-list.json", CatalogFormat::Generic),
    ] {
        let text = fixture(&format!("catalogs/{rel}"));
        assert_eq!(catalog::detect(&text).unwrap(), want, "{rel}");
        assert_eq!(
            catalog::parse(&text, CatalogFormat::Auto).unwrap(),
            catalog::parse(&text, want).unwrap(),
            "{rel}"
        );
    }
}

#[test]
fn malformed_json_is_a_decode_error_with_line_and_column() {
    let err = catalog::parse(&fixture("catalogs/malformed.json"), CatalogFormat::Auto).unwrap_err();
    let CatalogError::Json { line, column, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!((*line, *column), (3, 35));
    let poll: PollError = err.into();
    let PollError::Decode(msg) = &poll else {
        panic!("{poll:?}")
    };
    assert!(msg.contains("line 3 column 35"), "{msg}");

    // A wrong shape for an explicit format also says where.
    let err =
        catalog::parse(&fixture("catalogs/generic-list.json"), CatalogFormat::Walg).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("wal-g catalog: missing field `backup_name`"),
        "{err}"
    );
    assert!(err.to_string().contains("line 2 column"), "{err}");
}

#[test]
fn hostile_strings_are_sanitized() {
    let e = parse("hostile-generic.json", CatalogFormat::Auto);
    for s in [&e[0].kind, &e[0].id] {
        assert!(
            !s.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{s:?}"
        );
        assert!(!s.contains("52;"), "{s:?}");
    }
    assert_eq!(e[0].kind, "full");
    assert!(e[0].id.starts_with("evil"), "{:?}", e[0].id);
}

// ----- poller → store → snapshot --------------------------------------------------------

fn catalog_source(url: Url, format: CatalogFormat, service: &str, max_body: u64) -> SourceSpec {
    SourceSpec {
        id: SourceId(0),
        environment: "production".to_owned(),
        tier: Tier::Production,
        name: format!("{service}-catalog"),
        url,
        kind: SourceKind::BackupCatalog(CatalogSpec {
            format,
            service: service.to_owned(),
        }),
        interval: Duration::from_secs(60),
        timeout: Duration::from_secs(5),
        max_body,
        auth: None,
        insecure_skip_verify: false,
    }
}

fn clients() -> HttpClients {
    HttpClients::new().unwrap()
}

#[tokio::test]
async fn catalog_from_a_file_reaches_the_snapshot_with_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("restic.json");
    std::fs::write(&path, fixture("catalogs/restic-snapshots.json")).unwrap();
    let spec = catalog_source(
        Url::from_file_path(&path).unwrap(),
        CatalogFormat::Auto,
        "galera",
        1 << 20,
    );
    let policy = BackupPolicy {
        service: "galera".to_owned(),
        interval: DAY,
        rpo: DAY + Duration::from_secs(3600),
        retention: vec![RetentionTier {
            every: DAY,
            from: Duration::ZERO,
            to: 21 * DAY,
        }],
    };
    let settings = settings(vec![spec.clone()], vec![policy]);
    let mut store = Store::new(&settings);
    let report = poller::poll_once(&clients(), &spec).await;
    assert!(
        matches!(&report.outcome, Ok(Payload::Catalog(e)) if e.len() == 20),
        "{:?}",
        report.outcome
    );
    store.ingest(report);

    let now = t("2026-11-22T12:00:00Z");
    let snap = store.snapshot(now);
    let [view] = &snap.catalogs[..] else {
        panic!("{:?}", snap.catalogs)
    };
    assert_eq!(
        (view.environment.as_str(), view.service.as_str()),
        ("production", "galera")
    );
    assert_eq!(view.entries, 20);
    assert_eq!(view.last_success, Some(t("2026-11-21T02:00:00Z")));
    // 21 daily slots, Nov 1 … Nov 21, newest first; only Nov 10 is missing.
    assert_eq!(view.coverage.len(), 21);
    assert_eq!(view.coverage[0].start, t("2026-11-21T00:00:00Z"));
    let missing: Vec<DateTime<Utc>> = view.missing().map(|s| s.start).collect();
    assert_eq!(missing, [t("2026-11-10T00:00:00Z")]);
    let newest_id = parse("restic-snapshots.json", CatalogFormat::Restic)[19]
        .id
        .clone();
    assert_eq!(
        view.coverage[0].covered_by.as_deref(),
        Some(newest_id.as_str())
    );

    // No metrics source reports galera, so the catalog speaks for it.
    let [run] = &snap.backups[..] else {
        panic!("{:?}", snap.backups)
    };
    assert_eq!(run.service, "galera");
    assert_eq!(run.last_success, Some(t("2026-11-21T02:00:00Z")));
    assert_eq!(run.age, Some(Duration::from_secs(34 * 3600)));
    assert_eq!(run.rpo, Some(DAY + Duration::from_secs(3600)));
    assert_eq!(run.source, SourceId(0));
}

#[tokio::test]
async fn file_catalog_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = catalog_source(
        Url::from_file_path(dir.path().join("nope.json")).unwrap(),
        CatalogFormat::Auto,
        "galera",
        1 << 20,
    );
    let r = poller::poll_once(&clients(), &missing).await;
    match r.outcome {
        Err(PollError::Request(m)) => assert!(m.starts_with("cannot read "), "{m}"),
        other => panic!("{other:?}"),
    }

    let path = dir.path().join("big.json");
    std::fs::write(&path, fixture("catalogs/restic-snapshots.json")).unwrap();
    let big = catalog_source(
        Url::from_file_path(&path).unwrap(),
        CatalogFormat::Auto,
        "galera",
        100,
    );
    let r = poller::poll_once(&clients(), &big).await;
    assert_eq!(
        r.outcome.unwrap_err(),
        PollError::BodyTooLarge { limit: 100 }
    );

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, fixture("catalogs/malformed.json")).unwrap();
    let bad = catalog_source(
        Url::from_file_path(&bad).unwrap(),
        CatalogFormat::Auto,
        "galera",
        1 << 20,
    );
    let r = poller::poll_once(&clients(), &bad).await;
    assert!(
        matches!(&r.outcome, Err(PollError::Decode(m)) if m.contains("line 3 column 35")),
        "{:?}",
        r.outcome
    );
}

/// Serve one canned response per connection, forever.
async fn serve(status: &'static str, body: String) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(body.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn catalog_over_http_reaches_the_snapshot() {
    let addr = serve("200 OK", fixture("catalogs/pgbackrest-info.json")).await;
    let spec = catalog_source(
        Url::parse(&format!("http://{addr}/pgbackrest.json")).unwrap(),
        CatalogFormat::Pgbackrest,
        "postgres",
        1 << 20,
    );
    let policy = BackupPolicy {
        service: "postgres".to_owned(),
        interval: Duration::from_secs(3600),
        rpo: Duration::from_secs(900),
        retention: COMMERCE_RETENTION.to_vec(),
    };
    let settings = settings(vec![spec.clone()], vec![policy]);
    let mut store = Store::new(&settings);
    store.ingest(poller::poll_once(&clients(), &spec).await);
    // Two hours after the diff backup (stop 1795307776 = 2026-11-22T00:36:16Z).
    let now = t("2026-11-22T02:36:16Z");
    let snap = store.snapshot(now);
    let [view] = &snap.catalogs[..] else {
        panic!("{:?} {:?}", snap.catalogs, snap.sources)
    };
    assert_eq!(view.entries, 3);
    assert_eq!(view.last_success, Some(t("2026-11-22T00:36:16Z")));
    // The 00:00 hour holds all three backups; the newest names it.
    let hour = view
        .coverage
        .iter()
        .find(|s| s.start == t("2026-11-22T00:00:00Z"))
        .unwrap();
    assert_eq!(
        hour.covered_by.as_deref(),
        Some("20261122-003609F_20261122-003615D")
    );
    // Everything older is a gap: this cluster is 2 hours old.
    assert_eq!(
        retention::missing(&view.coverage).len(),
        view.coverage.len() - 1
    );
    assert_eq!(snap.backups[0].size_bytes, Some(30_267_081.0));
}

#[tokio::test]
async fn http_catalog_status_error() {
    let addr = serve("503 Service Unavailable", "{}".to_owned()).await;
    let spec = catalog_source(
        Url::parse(&format!("http://{addr}/x.json")).unwrap(),
        CatalogFormat::Auto,
        "galera",
        1 << 20,
    );
    let r = poller::poll_once(&clients(), &spec).await;
    assert!(
        matches!(r.outcome, Err(PollError::Status { status: 503, .. })),
        "{:?}",
        r.outcome
    );
}

#[test]
fn backup_metrics_win_over_a_catalog() {
    use watchdeck::config::settings::Preset;
    use watchdeck::source::PollReport;

    let metrics = support::metrics_source(0, "production", "pushgateway", Preset::Backup, &[]);
    let dir = tempfile::tempdir().unwrap();
    let mut cat = catalog_source(
        Url::from_file_path(dir.path().join("x.json")).unwrap(),
        CatalogFormat::Generic,
        "galera",
        1 << 20,
    );
    cat.id = SourceId(1);
    let settings = settings(vec![metrics, cat], vec![]);
    let mut store = Store::new(&settings);
    let at = t("2026-11-22T12:00:00Z");
    store.ingest(PollReport {
        source: SourceId(0),
        at,
        duration: Duration::from_millis(5),
        outcome: Ok(Payload::Metrics {
            body: "backup_last_success_timestamp_seconds{service=\"galera\"} 1795345200\n"
                .to_owned(),
        }),
    });
    store.ingest(PollReport {
        source: SourceId(1),
        at,
        duration: Duration::from_millis(5),
        outcome: Ok(Payload::Catalog(parse(
            "generic-list.json",
            CatalogFormat::Generic,
        ))),
    });
    let snap = store.snapshot(at);
    let galera: Vec<_> = snap
        .backups
        .iter()
        .filter(|b| b.service == "galera")
        .collect();
    assert_eq!(galera.len(), 1, "{:?}", snap.backups);
    assert_eq!(galera[0].source, SourceId(0));
    // The catalog view is there regardless (no policy: no coverage).
    assert_eq!(snap.catalogs.len(), 1);
    assert!(snap.catalogs[0].coverage.is_empty());
}

// ----- the demo -------------------------------------------------------------------------

#[tokio::test]
async fn demo_catalog_shows_one_daily_gap() {
    use watchdeck::demo::{DemoFleet, DemoOptions, ManualClock};

    // 2026-11-21T18:26:40Z.
    let t0 = DateTime::from_timestamp(1_795_300_000, 0).unwrap();
    let clock = ManualClock::shared(t0);
    let fleet = DemoFleet::start(DemoOptions {
        seed: 42,
        clock: clock.clone(),
        hostile: false,
    })
    .await
    .unwrap();
    let settings =
        watchdeck::config::load_str(&fleet.config_toml(), std::path::Path::new("<demo>"))
            .expect("demo config loads");
    let prod = settings.environment("production").unwrap();
    let galera = prod
        .backup_policies
        .iter()
        .find(|p| p.service == "galera")
        .unwrap();
    assert_eq!(galera.retention, COMMERCE_RETENTION);
    let spec = prod
        .sources
        .iter()
        .find(|s| s.kind_name() == "backup_catalog")
        .expect("a catalog source")
        .clone();

    let clients = clients();
    let first = poller::poll_once(&clients, &spec).await;
    let second = poller::poll_once(&clients, &spec).await;
    let (Ok(Payload::Catalog(a)), Ok(Payload::Catalog(b))) = (&first.outcome, &second.outcome)
    else {
        panic!("{:?}", first.outcome)
    };
    // Same seed and time: the same history.
    assert_eq!(a, b);
    assert!(a.iter().filter(|e| !e.ok).count() == 1);

    let mut store = Store::new(&settings);
    store.ingest(first);
    // A minute into the demo, and again a day later: the failed night of Nov 16 (five
    // days before the start) is the only gap.
    for later in [60, 86_400] {
        let now = t0 + chrono::TimeDelta::seconds(later);
        clock.set(now);
        store.ingest(poller::poll_once(&clients, &spec).await);
        let snap = store.snapshot(now);
        let view = snap
            .catalogs
            .iter()
            .find(|c| c.service == "galera")
            .unwrap();
        let missing: Vec<(usize, DateTime<Utc>)> =
            view.missing().map(|s| (s.tier_index, s.start)).collect();
        assert_eq!(missing, [(1, t("2026-11-16T00:00:00Z"))], "at {now}");
        // Every tier of the commerce policy has slots.
        for tier in 0..COMMERCE_RETENTION.len() {
            assert!(view.coverage.iter().any(|s| s.tier_index == tier), "{tier}");
        }
    }
    fleet.shutdown().await;
}
