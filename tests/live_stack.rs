//! Live tests on the real stack of `scripts/live-stack.sh up`: real exporters, MariaDB,
//! PostgreSQL and Redis primaries and replicas, Prometheus, Alertmanager and a restic
//! repository, read through the console's own pollers, store and rule engine (the same
//! path as the TUI and `watchdeck check`), plus the `check` binary itself.
//!
//! Each fault test injects a real fault through the script, asserts that the expected
//! incident (rule and severity) opens within the rule's `for` plus two poll intervals,
//! repairs, and asserts that it resolves; a guard repairs the stack even when an assertion
//! fails, so one failing test does not break the next.
//!
//! Ignored by a plain `cargo test`; `.ci/run` brings the stack up and runs
//! `cargo test --test live_stack -- --ignored --test-threads=1`.

mod console;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use console::{dispatch_and_wait, key, select_alert_row as select};
use crossterm::event::KeyCode;
use watchdeck::clock::SystemClock;
use watchdeck::config::settings::SourceKind;
use watchdeck::config::{self, Settings};
use watchdeck::engine::{Core, Situation};
use watchdeck::incident::{DisplayState, Incident, IncidentId, Severity};
use watchdeck::rules::RuleSet;
use watchdeck::runbook::Termination;
use watchdeck::runbook::runner::{Runner, RunnerConfig};
use watchdeck::source::http::HttpClients;
use watchdeck::store::model::{LinkState, ReplicationKind, ReplicationLink, SourceHealth};
use watchdeck::ui::alerts::Row;
use watchdeck::ui::app::{App, AppOptions, Mode};

/// Every source in config/live-stack.toml polls at this interval.
const POLL: Duration = Duration::from_secs(2);
/// Rules about the host's own load: the CI machine's parallel builds may trip them, so they
/// are not part of "healthy" here.
const HOST_PRESSURE_RULES: &[&str] = &["cpu_high", "memory_high", "disk_low"];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn live_dir() -> String {
    std::env::var("WATCHDECK_LIVE_DIR").unwrap_or_else(|_| "/tmp/watchdeck-live".to_owned())
}

/// Run the stack script; panics with its output when it fails.
fn stack(args: &[&str]) -> String {
    let out = Command::new(repo().join("scripts/live-stack.sh"))
        .args(args)
        .output()
        .expect("scripts/live-stack.sh runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "live-stack.sh {args:?} failed: {}{}",
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// The same, for repairs in a guard: report, never panic (we may already be unwinding).
fn stack_quiet(args: &[&str]) {
    match Command::new(repo().join("scripts/live-stack.sh"))
        .args(args)
        .output()
    {
        Ok(out) if out.status.success() => {}
        Ok(out) => eprintln!(
            "repair live-stack.sh {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => eprintln!("repair live-stack.sh {args:?}: {e}"),
    }
}

/// Runs the repairs when dropped, so the stack is healthy again even after a failure.
struct Repair(Vec<Vec<&'static str>>);

impl Drop for Repair {
    fn drop(&mut self) {
        for args in &self.0 {
            stack_quiet(args);
        }
    }
}

/// The console's view of the live stack, advanced one poll round at a time.
struct Live {
    settings: Settings,
    core: Core,
    clients: Arc<HttpClients>,
    last: Situation,
    next_round: tokio::time::Instant,
}

impl Live {
    async fn new() -> Live {
        Live::from_config("config/live-stack.toml")
    }

    /// The console on one of the stack's configs (relative to the repository).
    fn from_config(config: &str) -> Live {
        let status = Command::new(repo().join("scripts/live-stack.sh"))
            .arg("status")
            .output()
            .expect("scripts/live-stack.sh runs");
        assert!(
            status.status.success(),
            "the live stack is not (fully) up; run `sudo scripts/live-stack.sh up` first:\n{}",
            String::from_utf8_lossy(&status.stdout)
        );
        let path = repo().join(config);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{config}: {e}"))
            .replace("/tmp/watchdeck-live", &live_dir());
        let settings =
            config::load_str(&text, &path).unwrap_or_else(|e| panic!("{config} is invalid: {e}"));
        let core = Core::new(&settings, RuleSet::default_pack().expect("rules"));
        Live {
            settings,
            core,
            clients: Arc::new(HttpClients::new().expect("client")),
            last: Situation::default(),
            next_round: tokio::time::Instant::now(),
        }
    }

    /// One round at the poll interval: poll every source, evaluate, as the console does.
    async fn round(&mut self) -> &Situation {
        tokio::time::sleep_until(self.next_round).await;
        self.next_round = tokio::time::Instant::now() + POLL;
        for report in watchdeck::check::poll_all(&self.clients, &self.settings).await {
            self.core.ingest(report);
        }
        self.last = self.core.round(Utc::now());
        &self.last
    }

    /// Rounds until `ready` holds; panics after `limit` with what was seen last.
    async fn until(
        &mut self,
        what: &str,
        limit: Duration,
        ready: impl Fn(&Situation) -> bool,
    ) -> Situation {
        let deadline = Instant::now() + limit;
        loop {
            let s = self.round().await;
            if ready(s) {
                return s.clone();
            }
            if Instant::now() > deadline {
                panic!(
                    "{what}: not seen within {limit:?}\nincidents: {:#?}\npending: {:#?}\nlinks: {:#?}\nsources: {:#?}",
                    brief(&s.incidents),
                    s.pending
                        .iter()
                        .map(|p| (&p.rule, p.severity, &p.summary))
                        .collect::<Vec<_>>(),
                    s.fleet.links,
                    s.fleet
                        .sources
                        .iter()
                        .map(|x| (&x.name, &x.health))
                        .collect::<Vec<_>>()
                );
            }
        }
    }

    /// Wait for `rule`'s incident matching `labels` to open; assert it did so within the
    /// rule's `for` plus two poll intervals of `since` (the moment the fault was in place)
    /// and at `severity`. A second of slack covers the scrapes themselves on a loaded CI.
    async fn expect_open(
        &mut self,
        rule: &str,
        labels: &[(&str, &str)],
        severity: Severity,
        since: Instant,
    ) -> IncidentId {
        let hold = rule_for(&self.core, rule);
        let budget = hold + 2 * POLL + Duration::from_secs(1);
        let s = self
            .until(
                &format!("{rule} {labels:?} opening"),
                budget + Duration::from_secs(60),
                |s| find_open(s, rule, labels).is_some(),
            )
            .await;
        let took = since.elapsed();
        let inc = find_open(&s, rule, labels).expect("just seen");
        assert_eq!(
            inc.severity, severity,
            "{rule} opened at the wrong severity: {inc:#?}"
        );
        assert!(
            took <= budget,
            "{rule} opened after {took:?}, more than its for ({hold:?}) + 2 poll intervals"
        );
        eprintln!(
            "{rule} {labels:?}: open at {} after {took:.1?} (for {hold:?})",
            inc.severity.label()
        );
        inc.id
    }

    /// Wait for incident `id` to resolve: within its `clear_for` plus a generous margin.
    async fn expect_resolved(&mut self, id: IncidentId, limit: Duration) {
        let started = Instant::now();
        self.until(&format!("incident {id} resolving"), limit, |s| {
            s.incident(id)
                .is_some_and(|i| i.display_state() == DisplayState::Resolved)
        })
        .await;
        eprintln!("incident {id}: resolved after {:.1?}", started.elapsed());
    }
}

fn brief(incidents: &[Incident]) -> Vec<String> {
    incidents
        .iter()
        .map(|i| {
            format!(
                "{} {} {} {} {:?}",
                i.id,
                i.rule,
                i.severity.label(),
                i.display_state().as_str(),
                i.labels
            )
        })
        .collect()
}

/// The `for` of a rule in the pack in force.
fn rule_for(core: &Core, rule: &str) -> Duration {
    core.rules()
        .rules
        .iter()
        .find(|r| r.name == rule)
        .unwrap_or_else(|| panic!("rule {rule} in the pack"))
        .for_
}

fn has_labels(i: &Incident, labels: &[(&str, &str)]) -> bool {
    labels
        .iter()
        .all(|(k, v)| i.labels.get(*k).map(String::as_str) == Some(*v))
}

fn find_open<'s>(s: &'s Situation, rule: &str, labels: &[(&str, &str)]) -> Option<&'s Incident> {
    s.incidents.iter().find(|i| {
        i.rule == rule
            && has_labels(i, labels)
            && matches!(
                i.display_state(),
                DisplayState::Open | DisplayState::Acked | DisplayState::Flapping
            )
    })
}

fn link<'s>(s: &'s Situation, kind: ReplicationKind, replica: &str) -> Option<&'s ReplicationLink> {
    s.fleet
        .links
        .iter()
        .find(|l| l.kind == kind && l.replica == replica)
}

fn all_sources_ok(s: &Situation) -> bool {
    !s.fleet.sources.is_empty()
        && s.fleet
            .sources
            .iter()
            .all(|x| matches!(x.health, SourceHealth::Ok { .. }))
}

/// Healthy as the databases would say: both MariaDB threads running with no lag, Redis
/// linked, PostgreSQL streaming, every source answering.
fn healthy(s: &Situation) -> bool {
    all_sources_ok(s)
        && link(s, ReplicationKind::Mysql, "db2").is_some_and(|l| {
            l.state
                == LinkState::Threads {
                    io_running: true,
                    sql_running: true,
                }
                && l.lag_seconds == Some(0.0)
        })
        && link(s, ReplicationKind::Redis, "redis2")
            .is_some_and(|l| l.state == LinkState::Link { up: true })
        && link(s, ReplicationKind::Postgres, "pg2")
            .is_some_and(|l| l.state == LinkState::Streaming { attached: true })
}

/// What the database itself says, one value of `SHOW SLAVE STATUS`.
fn slave_status(field: &str) -> String {
    let out = stack(&["slave-status"]);
    out.lines()
        .find_map(|l| {
            let (k, v) = l.trim().split_once(": ")?;
            (k == field).then(|| v.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("{field} in SHOW SLAVE STATUS: {out}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs scripts/live-stack.sh up"]
async fn a_healthy_stack_reads_as_the_databases_and_exporters_report() {
    let mut live = Live::new().await;
    let s = live
        .until("a healthy stack", Duration::from_secs(60), healthy)
        .await;
    let fleet = &s.fleet;

    // The host, as node_exporter reports it.
    let host = fleet
        .nodes
        .iter()
        .find(|n| n.name == "live-host")
        .expect("live-host node");
    assert!(host.up);
    assert_eq!(host.role.as_deref(), Some("host"));
    let mem = host.memory_percent.expect("memory known");
    assert!((0.0..=100.0).contains(&mem), "{mem}");
    let disk = host.root_disk_percent.expect("disk known");
    assert!((0.0..=100.0).contains(&disk), "{disk}");

    // MariaDB: what SHOW SLAVE STATUS says is what the console shows.
    assert_eq!(slave_status("Slave_IO_Running"), "Yes");
    assert_eq!(slave_status("Slave_SQL_Running"), "Yes");
    assert_eq!(slave_status("Seconds_Behind_Master"), "0");
    let db2 = link(&s, ReplicationKind::Mysql, "db2").expect("db1 → db2");
    assert_eq!(db2.primary, "db1");
    assert_eq!(db2.cluster.as_deref(), Some("mariadb-live"));
    assert_eq!(db2.lag_seconds, Some(0.0));

    // PostgreSQL: the primary's pg_stat_replication names pg2, streaming.
    let attached = stack(&[
        "psql",
        "primary",
        "SELECT application_name, state FROM pg_stat_replication",
    ]);
    assert_eq!(attached.trim(), "pg2|streaming");
    let pg2 = link(&s, ReplicationKind::Postgres, "pg2").expect("pg1 → pg2");
    assert_eq!(pg2.primary, "pg1");
    assert!(
        pg2.lag_bytes.is_some_and(|b| b >= 0.0) || pg2.lag_seconds == Some(0.0),
        "{pg2:?}"
    );

    // Redis: the replica's own INFO says the link is up.
    let info = stack(&["redis", "replica", "INFO", "replication"]);
    assert!(info.contains("master_link_status:up"), "{info}");
    let redis2 = link(&s, ReplicationKind::Redis, "redis2").expect("redis1 → redis2");
    assert_eq!(redis2.primary, "redis1");
    assert!(
        redis2.lag_bytes.is_some_and(|b| b >= 0.0),
        "byte lag joined from both sides: {redis2:?}"
    );

    // Backups: the textfile collector's (mariadb, postgres: 60 s old at `up` or the last
    // repair), the Pushgateway's (redis), and the restic catalog (files).
    for service in ["mariadb", "postgres", "redis", "files"] {
        let b = fleet
            .backups
            .iter()
            .find(|b| b.service == service)
            .unwrap_or_else(|| panic!("{service} backup in {:#?}", fleet.backups));
        assert!(b.age.is_some() && b.rpo.is_some(), "{b:?}");
        assert!(b.age < b.rpo, "{service} within its RPO: {b:?}");
    }
    let snapshots: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(Path::new(&live_dir()).join("restic-snapshots.json"))
            .expect("restic-snapshots.json"),
    )
    .expect("restic JSON");
    let catalog = fleet
        .catalogs
        .iter()
        .find(|c| c.service == "files")
        .expect("files catalog");
    assert_eq!(catalog.entries, snapshots.len());
    assert!(!catalog.coverage.is_empty());
    assert!(
        catalog
            .coverage
            .iter()
            .all(|slot| slot.covered_by.is_some()),
        "back-dated snapshots cover every retention slot: {:#?}",
        catalog.coverage
    );

    // Alertmanager, fed by Prometheus's rules: the always-firing alert is listed.
    let s = live
        .until(
            "LiveStackWatchdog in Alertmanager",
            Duration::from_secs(60),
            |s| s.fleet.alerts.iter().any(|a| a.name == "LiveStackWatchdog"),
        )
        .await;
    // Nothing is wrong, so nothing is open (bar the host's own load, see above).
    let open: Vec<_> = s
        .incidents
        .iter()
        .filter(|i| !HOST_PRESSURE_RULES.contains(&i.rule.as_str()))
        .filter(|i| i.display_state() != DisplayState::Resolved)
        .collect();
    assert!(open.is_empty(), "{:#?}", open);
    for src in &s.fleet.sources {
        assert!(src.warnings.is_empty(), "{}: {:?}", src.name, src.warnings);
    }
}

#[test]
#[ignore = "needs scripts/live-stack.sh up"]
fn check_mode_on_the_healthy_stack_exits_zero() {
    let path = repo().join("config/live-stack.toml");
    let text = std::fs::read_to_string(&path)
        .expect("config")
        .replace("/tmp/watchdeck-live", &live_dir());
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("live-stack.toml");
    std::fs::write(&config, text).expect("config copy");
    let out = Command::new(env!("CARGO_BIN_EXE_watchdeck"))
        .args(["check", "--json", "--for", "5s", "--config"])
        .arg(&config)
        .env("XDG_DATA_HOME", dir.path())
        .env("XDG_STATE_HOME", dir.path())
        .output()
        .expect("watchdeck check runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check --json prints JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let sources = report["sources"].as_array().expect("sources");
    assert_eq!(sources.len(), 11, "{report:#}");
    for src in sources {
        assert_eq!(src["health"]["state"], "ok", "{src}");
    }
    assert_eq!(report["incidents"], serde_json::json!([]), "{report:#}");
    assert_eq!(out.status.code(), Some(0), "{report:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs scripts/live-stack.sh up"]
async fn mariadb_sql_thread_stopped_opens_replication_stopped_then_resolves() {
    let mut live = Live::new().await;
    live.until("a healthy stack", Duration::from_secs(120), healthy)
        .await;
    let _repair = Repair(vec![vec!["mysql", "replica", "START SLAVE"]]);
    stack(&["mysql", "replica", "STOP SLAVE SQL_THREAD"]);
    let since = Instant::now();
    assert_eq!(slave_status("Slave_SQL_Running"), "No");
    let id = live
        .expect_open(
            "replication_stopped",
            &[("kind", "mysql"), ("replica", "db2"), ("primary", "db1")],
            Severity::Sev2,
            since,
        )
        .await;
    let l = link(&live.last, ReplicationKind::Mysql, "db2")
        .expect("link")
        .clone();
    assert_eq!(
        l.state,
        LinkState::Threads {
            io_running: true,
            sql_running: false
        }
    );

    stack(&["mysql", "replica", "START SLAVE SQL_THREAD"]);
    live.expect_resolved(id, Duration::from_secs(90)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs scripts/live-stack.sh up"]
async fn mariadb_master_delay_lag_opens_replication_lag_then_resolves() {
    let mut live = Live::new().await;
    live.until("a healthy stack", Duration::from_secs(120), healthy)
        .await;
    let _repair = Repair(vec![vec![
        "mysql",
        "replica",
        "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=0; START SLAVE",
    ]]);
    // Real lag: the replica applies every event 45 s late, while the primary keeps writing.
    stack(&[
        "mysql",
        "replica",
        "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=45; START SLAVE",
    ]);
    let writing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let writer = {
        let writing = writing.clone();
        std::thread::spawn(move || {
            while writing.load(std::sync::atomic::Ordering::Relaxed) {
                stack_quiet(&["mysql", "primary", "INSERT INTO live.writes () VALUES ()"]);
                std::thread::sleep(Duration::from_millis(500));
            }
        })
    };
    // The rule's `for` runs from when the lag passes its threshold.
    let s = live
        .until("lag over 30 s", Duration::from_secs(120), |s| {
            link(s, ReplicationKind::Mysql, "db2")
                .and_then(|l| l.lag_seconds)
                .is_some_and(|lag| lag > 30.0)
        })
        .await;
    // Counted from the first poll that showed it, as `for` is.
    let since = Instant::now();
    // What the console shows is what the replica reports (within a poll or two).
    let shown = link(&s, ReplicationKind::Mysql, "db2")
        .and_then(|l| l.lag_seconds)
        .expect("lag");
    let reported: f64 = slave_status("Seconds_Behind_Master")
        .parse()
        .expect("a number of seconds");
    assert!(
        (shown - reported).abs() <= 5.0,
        "console {shown} s, replica {reported} s"
    );
    let id = live
        .expect_open(
            "replication_lag",
            &[("kind", "mysql"), ("replica", "db2")],
            Severity::Sev3,
            since,
        )
        .await;
    writing.store(false, std::sync::atomic::Ordering::Relaxed);
    writer.join().expect("writer");

    stack(&[
        "mysql",
        "replica",
        "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=0; START SLAVE",
    ]);
    // Clears below 10 s, then holds clear for the rule's 1 min.
    live.expect_resolved(id, Duration::from_secs(150)).await;
    assert_eq!(slave_status("Seconds_Behind_Master"), "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs scripts/live-stack.sh up"]
async fn redis_replica_killed_opens_unlinked_incidents_then_resolves() {
    let mut live = Live::new().await;
    live.until("a healthy stack", Duration::from_secs(120), healthy)
        .await;
    let _repair = Repair(vec![vec!["start-service", "redis-replica"]]);
    stack(&["kill-service", "redis-replica"]);
    let since = Instant::now();
    let one = live
        .expect_open(
            "redis_replica_unlinked",
            &[("replica", "redis2"), ("primary", "redis1")],
            Severity::Sev3,
            since,
        )
        .await;
    // Its only replica: every replica of redis1 is unlinked.
    let all = live
        .expect_open(
            "redis_all_replicas_unlinked",
            &[("primary", "redis1")],
            Severity::Sev2,
            since,
        )
        .await;
    assert_eq!(
        link(&live.last, ReplicationKind::Redis, "redis2").map(|l| &l.state),
        Some(&LinkState::Link { up: false })
    );

    stack(&["start-service", "redis-replica"]);
    live.expect_resolved(one, Duration::from_secs(90)).await;
    live.expect_resolved(all, Duration::from_secs(30)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs scripts/live-stack.sh up"]
async fn exporter_killed_turns_the_incident_unknown_never_resolved() {
    let mut live = Live::new().await;
    live.until("a healthy stack", Duration::from_secs(120), healthy)
        .await;
    let _repair = Repair(vec![
        vec!["start-service", "mysqld-exporter-replica"],
        vec!["mysql", "replica", "START SLAVE"],
    ]);
    stack(&["mysql", "replica", "STOP SLAVE SQL_THREAD"]);
    let id = live
        .expect_open(
            "replication_stopped",
            &[("kind", "mysql"), ("replica", "db2")],
            Severity::Sev2,
            Instant::now(),
        )
        .await;

    // The exporter dies: the data behind the incident is stale, so the incident is
    // unknown — within two polls — and stays so, never resolved, while the exporter is down.
    stack(&["kill-service", "mysqld-exporter-replica"]);
    let killed = Instant::now();
    live.until(
        "the incident unknown",
        2 * POLL + Duration::from_secs(1),
        |s| {
            s.incident(id)
                .is_some_and(|i| i.display_state() == DisplayState::Unknown)
        },
    )
    .await;
    // The source itself is reported down (source_down: `for` 1 m, sev3).
    let down = live
        .expect_open(
            "source_down",
            &[("source", "db2-mysqld")],
            Severity::Sev3,
            killed,
        )
        .await;
    // Longer than replication_stopped's clear_for (30 s): still unknown.
    for _ in 0..20 {
        let s = live.round().await;
        let state = s.incident(id).map(Incident::display_state);
        assert_eq!(
            state,
            Some(DisplayState::Unknown),
            "{:#?}",
            brief(&s.incidents)
        );
    }
    let db2 = link(&live.last, ReplicationKind::Mysql, "db2");
    assert!(
        db2.is_none_or(|l| l.state == LinkState::Unknown),
        "an unreachable exporter's link is unknown, never healthy: {db2:?}"
    );

    // The exporter is back, the fault still there: the same incident is open again.
    stack(&["start-service", "mysqld-exporter-replica"]);
    live.until("the incident open again", 3 * POLL, |s| {
        s.incident(id)
            .is_some_and(|i| i.display_state() == DisplayState::Open)
    })
    .await;
    stack(&["mysql", "replica", "START SLAVE SQL_THREAD"]);
    live.expect_resolved(id, Duration::from_secs(90)).await;
    live.expect_resolved(down, Duration::from_secs(60)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs scripts/live-stack.sh up"]
async fn backup_older_than_its_rpo_opens_backup_late_sev2_then_resolves() {
    let mut live = Live::new().await;
    live.until("a healthy stack", Duration::from_secs(120), healthy)
        .await;
    let _repair = Repair(vec![vec!["backup-age", "60"]]);
    // 20 min: past the 15 min RPO, not yet 1.5 × the 1 h interval.
    stack(&["backup-age", "1200", "mariadb"]);
    let since = Instant::now();
    let id = live
        .expect_open(
            "backup_late",
            &[("service", "mariadb")],
            Severity::Sev2,
            since,
        )
        .await;
    let b = live
        .last
        .fleet
        .backups
        .iter()
        .find(|b| b.service == "mariadb")
        .expect("mariadb backup")
        .clone();
    let age = b.age.expect("age").as_secs();
    assert!((1195..1260).contains(&age), "age {age} s");
    assert!(
        find_open(&live.last, "backup_late", &[("service", "postgres")]).is_none(),
        "only mariadb is late"
    );

    // A fresh backup lands.
    stack(&["backup-age", "60"]);
    live.expect_resolved(id, Duration::from_secs(20)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs scripts/live-stack.sh up"]
async fn postgres_replica_stopped_opens_replication_stopped_then_resolves() {
    let mut live = Live::new().await;
    live.until("a healthy stack", Duration::from_secs(120), healthy)
        .await;
    let _repair = Repair(vec![vec!["start-service", "pg-replica"]]);
    stack(&["stop-service", "pg-replica"]);
    let since = Instant::now();
    let id = live
        .expect_open(
            "replication_stopped",
            &[("kind", "postgres"), ("replica", "pg2")],
            Severity::Sev2,
            since,
        )
        .await;
    assert_eq!(
        stack(&[
            "psql",
            "primary",
            "SELECT count(*) FROM pg_stat_replication"
        ])
        .trim(),
        "0"
    );
    assert_eq!(
        link(&live.last, ReplicationKind::Postgres, "pg2").map(|l| &l.state),
        Some(&LinkState::Streaming { attached: false })
    );

    stack(&["start-service", "pg-replica"]);
    live.expect_resolved(id, Duration::from_secs(90)).await;
}

// --- the Alertmanager silence round trip, through the console's `z` and the real runner --

/// Expire a silence behind the console's back (the guard's repair).
struct ExpireSilence(Arc<std::sync::Mutex<Option<String>>>);

impl Drop for ExpireSilence {
    fn drop(&mut self) {
        let id = self.0.lock().map(|g| g.clone()).unwrap_or_default();
        if let Some(id) = id {
            let _ = Command::new("curl")
                .args(["-fsS", "-X", "DELETE"])
                .arg(format!("http://127.0.0.1:19093/api/v2/silence/{id}"))
                .output();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs scripts/live-stack.sh up"]
async fn alertmanager_silence_round_trip_from_the_console() {
    let mut live = Live::new().await;
    let s = live
        .until(
            "LiveStackWatchdog firing, unsilenced",
            Duration::from_secs(60),
            |s| {
                s.fleet
                    .alerts
                    .iter()
                    .any(|a| a.name == "LiveStackWatchdog" && a.silenced_by.is_empty())
            },
        )
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl");
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let runner = Runner::new(RunnerConfig {
        audit_path: audit.clone(),
        lock_dir: dir.path().join("locks"),
        host: "live-test".into(),
        events: tx.into(),
        clock: Arc::new(SystemClock),
        read_only: false,
    });
    let mut options = AppOptions::new(false, "live-test");
    options.alertmanagers = Arc::new(
        live.settings
            .sources()
            .filter(|s| matches!(s.kind, SourceKind::Alertmanager))
            .cloned()
            .collect(),
    );
    let mut app = App::new(Arc::new(s), options);

    // z on the alert, a comment, Run.
    select(
        &mut app,
        |r| matches!(r, Row::Alert(a) if a.name == "LiveStackWatchdog"),
    );
    key(&mut app, KeyCode::Char('z'));
    let Mode::RunDialog(d) = &app.mode else {
        panic!("silence dialog: {:?} / {:?}", app.mode, app.status)
    };
    assert_eq!(d.runbook, "alertmanager:silence");
    assert!(
        d.params()["matchers"].starts_with("alertname=\"LiveStackWatchdog\""),
        "{:?}",
        d.params()
    );
    key(&mut app, KeyCode::BackTab); // the comment field
    for c in "live stack round trip".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Tab); // Cancel
    key(&mut app, KeyCode::Tab); // Run
    key(&mut app, KeyCode::Enter);
    let (termination, output) = dispatch_and_wait(&mut app, &runner, &mut events).await;
    assert_eq!(termination, Termination::Http { status: 200 }, "{output:?}");
    let id = output
        .iter()
        .find_map(|l| {
            l.split_once("\"silenceID\": \"")
                .map(|(_, rest)| rest.trim_end_matches('"').to_owned())
        })
        .unwrap_or_else(|| panic!("Alertmanager answers with the new id: {output:?}"));
    let created = Arc::new(std::sync::Mutex::new(Some(id.clone())));
    let _guard = ExpireSilence(created.clone());

    // Seen as silenced on the next polls, and the silence listed as ours and active.
    let s = live
        .until("the alert silenced", 3 * POLL, |s| {
            s.fleet
                .alerts
                .iter()
                .any(|a| a.name == "LiveStackWatchdog" && a.silenced_by == [id.clone()])
        })
        .await;
    let listed = s
        .fleet
        .silences
        .iter()
        .find(|x| x.id == id)
        .expect("silence listed");
    assert_eq!(listed.state, "active");
    assert_eq!(listed.created_by, "live-test");
    assert_eq!(listed.comment, "live stack round trip");
    app.update(Arc::new(s));

    // z on the silence's row expires it.
    select(&mut app, |r| matches!(r, Row::Silence(x) if x.id == id));
    key(&mut app, KeyCode::Char('z'));
    let Mode::RunDialog(d) = &app.mode else {
        panic!("expire dialog: {:?} / {:?}", app.mode, app.status)
    };
    assert_eq!(d.runbook, "alertmanager:expire");
    key(&mut app, KeyCode::Tab); // Run
    key(&mut app, KeyCode::Enter);
    let (termination, output) = dispatch_and_wait(&mut app, &runner, &mut events).await;
    assert_eq!(termination, Termination::Http { status: 200 }, "{output:?}");
    if let Ok(mut g) = created.lock() {
        *g = None;
    }
    let s = live
        .until("the silence expired", 3 * POLL, |s| {
            s.fleet
                .silences
                .iter()
                .any(|x| x.id == id && x.state == "expired")
                && s.fleet
                    .alerts
                    .iter()
                    .any(|a| a.name == "LiveStackWatchdog" && a.silenced_by.is_empty())
        })
        .await;
    drop(s);
    // Audited: an intent and an outcome per run.
    let log = std::fs::read_to_string(&audit).expect("audit log");
    assert_eq!(log.lines().count(), 4, "{log}");
}

/// Within `tolerance` of each other, or both unknown.
fn close(a: Option<f64>, b: Option<f64>, tolerance: f64) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= tolerance,
        (None, None) => true,
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs scripts/live-stack.sh up"]
async fn prometheus_source_and_direct_scrape_agree() {
    // The same fleet twice: scraped directly (config/live-stack.toml) and read from the
    // stack's Prometheus (config/live-stack-prometheus.toml), polled side by side.
    let mut direct = Live::new().await;
    let mut via_prom = Live::from_config("config/live-stack-prometheus.toml");
    let mut rounds = 0;
    let (a, b) = loop {
        rounds += 1;
        let a = direct.round().await.clone();
        let b = via_prom.round().await.clone();
        // Three rounds give rates (CPU) on both sides; then wait for both to be healthy.
        if rounds >= 3 && healthy(&a) && healthy(&b) {
            break (a, b);
        }
        assert!(
            rounds < 30,
            "not healthy on both sides\ndirect: {:#?}\nprometheus: {:#?}",
            a.fleet.sources,
            b.fleet.sources
        );
    };

    // Every child source Prometheus's targets became answers, with nothing missing.
    for src in &b.fleet.sources {
        assert!(src.warnings.is_empty(), "{}: {:?}", src.name, src.warnings);
    }
    let children: Vec<&str> = b
        .fleet
        .sources
        .iter()
        .filter_map(|x| x.name.strip_prefix("prometheus/"))
        .collect();
    for job in ["node/", "mysqld/", "postgres/", "redis/", "backup/redis"] {
        assert!(
            children.iter().any(|c| c.starts_with(job)),
            "{job} missing from {children:?}"
        );
    }

    // Nodes: the same names in the same places, up alike; gauges read seconds apart agree
    // closely.
    let mut na: Vec<_> = a.fleet.nodes.iter().collect();
    let mut nb: Vec<_> = b.fleet.nodes.iter().collect();
    na.sort_by(|x, y| x.name.cmp(&y.name));
    nb.sort_by(|x, y| x.name.cmp(&y.name));
    let shape = |n: &[&watchdeck::store::model::Node]| -> Vec<(String, Option<String>, Option<String>, bool)> {
        n.iter()
            .map(|n| (n.name.clone(), n.role.clone(), n.cluster.clone(), n.up))
            .collect()
    };
    assert_eq!(shape(&na), shape(&nb));
    assert!(na.iter().any(|n| n.name == "live-host"), "{na:#?}");
    for (x, y) in na.iter().zip(&nb) {
        assert!(
            close(x.memory_percent, y.memory_percent, 10.0),
            "{}: memory {:?} vs {:?}",
            x.name,
            x.memory_percent,
            y.memory_percent
        );
        assert!(
            close(x.root_disk_percent, y.root_disk_percent, 2.0),
            "{}: disk {:?} vs {:?}",
            x.name,
            x.root_disk_percent,
            y.root_disk_percent
        );
        assert_eq!(
            x.cpu_percent.is_some(),
            y.cpu_percent.is_some(),
            "{}",
            x.name
        );
    }

    // Replication: the same links in the same state. MariaDB and PostgreSQL lag is 0 on
    // both; Redis's "lag" is seconds since the primary's last ping (0–10 s, its ping
    // period), so the two reads may sit a ping apart.
    let links = |s: &Situation| {
        let mut l: Vec<ReplicationLink> = s.fleet.links.clone();
        l.sort_by_key(|l| (l.kind, l.replica.clone()));
        l
    };
    let (la, lb) = (links(&a), links(&b));
    assert_eq!(la.len(), 3, "{la:#?}");
    assert_eq!(la.len(), lb.len(), "{la:#?}\n{lb:#?}");
    for (x, y) in la.iter().zip(&lb) {
        assert_eq!(
            (x.kind, &x.cluster, &x.primary, &x.replica, &x.state),
            (y.kind, &y.cluster, &y.primary, &y.replica, &y.state)
        );
        let tolerance = if x.kind == ReplicationKind::Redis {
            11.0
        } else {
            1.0
        };
        assert!(
            close(x.lag_seconds, y.lag_seconds, tolerance),
            "{}: lag {:?} vs {:?}",
            x.key(),
            x.lag_seconds,
            y.lag_seconds
        );
        assert_eq!(x.lag_bytes.is_some(), y.lag_bytes.is_some(), "{}", x.key());
    }

    // Backups from exporters (the textfile collector and the Pushgateway): the same
    // services, the same last success (the backup job rewrites it every 10 s, so the two
    // reads may straddle one rewrite), size and duration. The restic catalog is read from
    // its file, not through Prometheus.
    let backups = |s: &Situation| {
        let mut v: Vec<_> = s
            .fleet
            .backups
            .iter()
            .filter(|b| b.service != "files")
            .cloned()
            .collect();
        v.sort_by(|x, y| x.service.cmp(&y.service));
        v
    };
    let (ba, bb) = (backups(&a), backups(&b));
    let services = |v: &[watchdeck::store::model::BackupRun]| -> Vec<String> {
        v.iter().map(|b| b.service.clone()).collect()
    };
    assert_eq!(services(&ba), ["mariadb", "postgres", "redis"]);
    assert_eq!(services(&ba), services(&bb));
    for (x, y) in ba.iter().zip(&bb) {
        let (Some(ta), Some(tb)) = (x.last_success, y.last_success) else {
            panic!(
                "{}: last success {:?} vs {:?}",
                x.service, x.last_success, y.last_success
            );
        };
        assert!(
            (ta - tb).num_seconds().abs() <= 15,
            "{}: {ta} vs {tb}",
            x.service
        );
        assert_eq!(x.size_bytes, y.size_bytes, "{}", x.service);
        assert_eq!(x.duration, y.duration, "{}", x.service);
        assert_eq!((x.interval, x.rpo), (y.interval, y.rpo), "{}", x.service);
    }

    // And the rules see the same healthy fleet: nothing open on either side.
    let open = |s: &Situation| -> Vec<String> {
        s.incidents
            .iter()
            .filter(|i| !HOST_PRESSURE_RULES.contains(&i.rule.as_str()))
            .filter(|i| i.display_state() != DisplayState::Resolved)
            .map(|i| format!("{} {}", i.rule, i.summary))
            .collect()
    };
    assert_eq!(open(&a), Vec::<String>::new());
    assert_eq!(open(&b), Vec::<String>::new());
    eprintln!(
        "agree after {rounds} rounds: {} nodes, {} links, {} backups",
        na.len(),
        la.len(),
        ba.len()
    );
}
