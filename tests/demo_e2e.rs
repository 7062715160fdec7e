//! The demo fleet end to end: real HTTP servers → the real pollers → parser → store →
//! snapshot, exactly the path real sources take.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use watchdeck::clock::SystemClock;
use watchdeck::config;
use watchdeck::demo::{DemoFleet, DemoOptions};
use watchdeck::engine::{self, EngineOptions, Situation};
use watchdeck::rules::RuleSet;
use watchdeck::store::model::SourceHealth;

/// Wait until `ready` holds for the latest snapshot, or give up after `limit`.
async fn wait_for(
    rx: &mut tokio::sync::watch::Receiver<Arc<Situation>>,
    limit: Duration,
    ready: impl Fn(&Situation) -> bool,
) -> Arc<Situation> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let snap = rx.borrow_and_update().clone();
        if ready(&snap) {
            return snap;
        }
        if tokio::time::timeout_at(deadline, rx.changed())
            .await
            .is_err()
        {
            return rx.borrow().clone();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_fleet_flows_through_pollers_into_the_store() {
    let fleet = DemoFleet::start(DemoOptions::default())
        .await
        .expect("demo starts");
    let settings =
        config::load_str(&fleet.config_toml(), Path::new("<demo>")).expect("demo config is valid");
    let names: Vec<_> = settings
        .environments
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(names, ["integration", "staging", "production"]);

    let running = engine::start(
        &settings,
        Arc::new(SystemClock),
        EngineOptions {
            rules: RuleSet::default_pack().expect("rules"),
            journal: None,
            fresh_journal: false,
        },
    )
    .expect("engine starts");
    let mut rx = running.situations.clone();
    // Every metrics source polled twice (so rates exist): generous, never asserted as timing.
    let situation = wait_for(&mut rx, Duration::from_secs(60), |s| {
        let s = &s.fleet;
        s.sources
            .iter()
            .all(|src| !matches!(src.health, SourceHealth::Pending))
            && s.nodes.iter().filter(|n| n.cpu_percent.is_some()).count() >= 5
    })
    .await;
    let snap = &situation.fleet;

    for env in ["integration", "staging", "production"] {
        let nodes: Vec<_> = snap.nodes.iter().filter(|n| n.environment == env).collect();
        assert!(!nodes.is_empty(), "{env} has nodes");
        assert!(
            nodes.iter().any(|n| n.memory_percent.is_some()),
            "{env} memory known"
        );
        assert!(
            snap.backups.iter().any(|b| b.environment == env)
                || env == "integration"
                || env == "staging",
            "{env} backups"
        );
    }
    assert_eq!(
        snap.nodes
            .iter()
            .filter(|n| n.environment == "staging")
            .count(),
        3
    );
    assert!(
        snap.nodes
            .iter()
            .filter(|n| n.environment == "production")
            .count()
            >= 3
    );
    for env in ["staging", "production"] {
        let links: Vec<_> = snap.links.iter().filter(|l| l.environment == env).collect();
        assert!(
            links
                .iter()
                .any(|l| l.kind == watchdeck::store::model::ReplicationKind::Galera),
            "{env} galera"
        );
        assert!(
            links
                .iter()
                .any(|l| l.kind == watchdeck::store::model::ReplicationKind::Redis),
            "{env} redis"
        );
    }
    assert!(
        snap.links.iter().any(
            |l| l.kind == watchdeck::store::model::ReplicationKind::Postgres
                && l.environment == "production"
        ),
        "production postgres links: {:?}",
        snap.links
    );
    assert!(
        snap.backups
            .iter()
            .any(|b| b.environment == "production" && b.rpo.is_some())
    );
    assert!(!snap.health.is_empty());
    assert!(
        snap.health.iter().all(|h| h.result.is_some()),
        "every health check ran"
    );
    // No source the demo serves should look broken to the parser or the presets.
    for src in &snap.sources {
        assert!(
            src.warnings.is_empty(),
            "{}/{}: {:?}",
            src.environment,
            src.name,
            src.warnings
        );
    }
    running.shutdown().await;
    fleet.shutdown().await;
}
