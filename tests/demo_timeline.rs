//! The deterministic demo fleet's fault timeline, driven through the real pollers, parser,
//! store, rules and incidents on a manual clock: each scripted fault opens the expected
//! incident at the expected severity and time, and resolves after the fault ends or after
//! the demo's control endpoint repairs it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use watchdeck::clock::{Clock, ManualClock};
use watchdeck::config::{self, Settings};
use watchdeck::demo::{DemoFleet, DemoOptions, RepairRequest};
use watchdeck::engine::{Core, Situation};
use watchdeck::incident::{Incident, Lifecycle, Severity};
use watchdeck::rules::RuleSet;
use watchdeck::source::http::HttpClients;

const STEP: i64 = 5;

fn start() -> DateTime<Utc> {
    Utc.timestamp_opt(1_795_300_000, 0).single().expect("time")
}

struct Sim {
    fleet: DemoFleet,
    clock: Arc<ManualClock>,
    settings: Settings,
    core: Core,
    clients: Arc<HttpClients>,
}

impl Sim {
    async fn new() -> Self {
        let clock = ManualClock::shared(start());
        let fleet = DemoFleet::start(DemoOptions {
            seed: 42,
            clock: clock.clone(),
            hostile: false,
        })
        .await
        .expect("demo starts");
        let settings =
            config::load_str(&fleet.config_toml(), Path::new("<demo>")).expect("demo config");
        let core = Core::new(&settings, RuleSet::default_pack().expect("rules"));
        Self {
            fleet,
            clock,
            settings,
            core,
            clients: Arc::new(HttpClients::new().expect("client")),
        }
    }

    /// Poll every source at the clock's time and evaluate one round.
    async fn round(&mut self) -> Situation {
        let now = self.clock.now();
        for mut report in watchdeck::check::poll_all(&self.clients, &self.settings).await {
            // The store keeps time by the report: simulated, not wall clock.
            report.at = now;
            self.core.ingest(report);
        }
        self.core.round(now)
    }

    /// Run until `offset` seconds after start, one round every STEP seconds.
    async fn run_until(&mut self, offset: i64) -> Situation {
        let mut last = self.round().await;
        while self.clock.now() < start() + chrono::Duration::seconds(offset) {
            self.clock.advance(Duration::from_secs(STEP as u64));
            last = self.round().await;
        }
        last
    }
}

fn offset(t: DateTime<Utc>) -> i64 {
    (t - start()).num_seconds()
}

fn find<'s>(s: &'s Situation, rule: &str, env: &str, fragment: &str) -> Option<&'s Incident> {
    s.incidents
        .iter()
        .find(|i| i.rule == rule && i.environment == env && i.key.contains(fragment))
}

fn describe(s: &Situation) -> String {
    s.incidents
        .iter()
        .map(|i| {
            format!(
                "{} {} {} {:?} {:?} opened+{} {}",
                i.id,
                i.rule,
                i.environment,
                i.severity,
                i.lifecycle,
                offset(i.opened_at),
                i.key
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fault_timeline_opens_and_resolves_the_expected_incidents() {
    let mut sim = Sim::new().await;
    let s = sim.run_until(15).await;
    // Before the first fault, the only incident is the demo's designed retention gap: one
    // failed nightly galera backup five days ago leaves a daily slot uncovered.
    let open: Vec<_> = s
        .incidents
        .iter()
        .filter(|i| i.lifecycle != Lifecycle::Resolved)
        .collect();
    assert_eq!(open.len(), 1, "{}", describe(&s));
    let gap =
        find(&s, "backup_retention_gap", "production", "service=galera").expect("retention gap");
    assert_eq!(gap.severity, Severity::Sev3);

    // pg-replica-lag (prod-pg2, from 20 s): lag 45 s and climbing → sev3 after `for` 1m.
    let s = sim.run_until(100).await;
    let lag = find(&s, "replication_lag", "production", "replica=prod-pg2")
        .unwrap_or_else(|| panic!("replica lag incident:\n{}", describe(&s)));
    assert_eq!(lag.severity, Severity::Sev3);
    let opened = offset(lag.opened_at);
    assert!((75..=90).contains(&opened), "opened at +{opened}");
    let lag_id = lag.id;

    // stg-galera-desync (stg-web2, from 90 s): one desynced node → sev3 after 30 s.
    let s = sim.run_until(135).await;
    let desync = find(&s, "galera_node_desynced", "staging", "node=stg-web2")
        .unwrap_or_else(|| panic!("galera desync incident:\n{}", describe(&s)));
    assert_eq!(desync.severity, Severity::Sev3);
    assert!(
        find(&s, "galera_quorum_lost", "staging", "").is_none(),
        "one node keeps quorum"
    );

    // prod-web3-down (from 200 s): node down in production → sev2 after 30 s.
    let s = sim.run_until(240).await;
    let down = find(&s, "node_down", "production", "node=prod-web3")
        .unwrap_or_else(|| panic!("node down incident:\n{}", describe(&s)));
    assert_eq!(down.severity, Severity::Sev2);
    // The lag spike ended at 170 s; with clear_for 1m it is resolved by now, same ID.
    let lag = s
        .incidents
        .iter()
        .find(|i| i.id == lag_id)
        .expect("still listed");
    assert_eq!(lag.lifecycle, Lifecycle::Resolved, "{}", describe(&s));

    // galera-backup-missed (from 260 s): older than its RPO → sev2 at once.
    let s = sim.run_until(270).await;
    let backup = find(&s, "backup_late", "production", "service=galera")
        .unwrap_or_else(|| panic!("backup incident:\n{}", describe(&s)));
    assert_eq!(backup.severity, Severity::Sev2);
    let backup_id = backup.id;

    // Repair it through the demo's control endpoint: a fresh backup resolves the incident.
    sim.fleet
        .repair(&RepairRequest {
            action: "take_backup".to_owned(),
            env: "production".to_owned(),
            target: Some("galera".to_owned()),
            percent: None,
        })
        .expect("repair");
    let s = sim.run_until(280).await;
    let backup = s
        .incidents
        .iter()
        .find(|i| i.id == backup_id)
        .expect("listed");
    assert_eq!(backup.lifecycle, Lifecycle::Resolved, "{}", describe(&s));

    // Node back at 320 s: resolved after clear_for.
    let s = sim.run_until(370).await;
    let down = find(&s, "node_down", "production", "node=prod-web3").expect("listed");
    assert_eq!(down.lifecycle, Lifecycle::Resolved, "{}", describe(&s));

    // stg-redis-link-down (stg-web3, from 470 s): one replica unlinked → sev3.
    let s = sim.run_until(510).await;
    let redis = find(&s, "redis_replica_unlinked", "staging", "replica=stg-web3")
        .unwrap_or_else(|| panic!("redis incident:\n{}", describe(&s)));
    assert_eq!(redis.severity, Severity::Sev3);
    assert!(find(&s, "redis_all_replicas_unlinked", "staging", "").is_none());
}
