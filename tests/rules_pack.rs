//! The default rule pack, rule by rule, over hand-built data: which samples become hits, at
//! which severity (tier-dependent, escalated), and which external alerts become incidents.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use watchdeck::config::settings::{SourceId, Tier};
use watchdeck::incident::{RuleRound, Severity};
use watchdeck::rules::RuleSet;
use watchdeck::rules::data::{MemoryData, label_set};
use watchdeck::rules::eval::{EXTERNAL_ALERT_RULE, evaluate};
use watchdeck::store::model::{Alert, AlertState, SourceHealth, SourceStatus};
use watchdeck::store::{EnvironmentView, Snapshot};

fn now() -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(1_795_300_000, 0).single().expect("time")
}

fn snapshot() -> Snapshot {
    let env = |name: &str, tier| EnvironmentView {
        name: name.to_owned(),
        tier,
    };
    Snapshot {
        taken_at: Some(now()),
        environments: vec![
            env("integration", Tier::Integration),
            env("staging", Tier::Staging),
            env("production", Tier::Production),
        ],
        sources: ["integration", "staging", "production"]
            .iter()
            .enumerate()
            .map(|(i, e)| SourceStatus {
                id: SourceId(i as u32),
                environment: (*e).to_owned(),
                name: "alertmanager".to_owned(),
                kind: "alertmanager",
                url: "http://127.0.0.1:9/".to_owned(),
                health: SourceHealth::Ok {
                    last_success: now(),
                    duration: std::time::Duration::from_millis(3),
                },
                warnings: vec![],
                last_poll: Some(now()),
            })
            .collect(),
        ..Snapshot::default()
    }
}

fn hits(set: &RuleSet, data: &MemoryData, snap: &Snapshot, rule: &str) -> Vec<(String, Severity)> {
    let round = evaluate(set, data, snap);
    assert!(round.errors.is_empty(), "{:?}", round.errors);
    let r: &RuleRound = round
        .rounds
        .iter()
        .find(|r| r.rule == rule)
        .expect("rule evaluated");
    let mut out: Vec<_> = r.hits.iter().map(|h| (h.key.clone(), h.severity)).collect();
    out.sort();
    out
}

type Setup = fn(&mut MemoryData);

struct Case {
    what: &'static str,
    rule: &'static str,
    setup: Setup,
    /// (a fragment of the key, severity) per expected hit, sorted by key.
    expect: &'static [(&'static str, Severity)],
}

/// The production postgres primary pg1's exporter does not answer (`up` 0).
fn primary_exporter_silent(d: &mut MemoryData) {
    d.push(
        "up",
        label_set([
            ("env", "production"),
            ("preset", "postgres"),
            ("role", "primary"),
            ("node", "pg1"),
            ("source", "pg1"),
            ("kind", "metrics"),
        ]),
        0.,
    );
}

/// The production host `node`'s node_exporter answers (`node_up` 1) or not.
fn host_answers(d: &mut MemoryData, node: &str, up: bool) {
    d.push(
        "node_up",
        label_set([("env", "production"), ("node", node), ("role", "db")]),
        f64::from(u8::from(up)),
    );
}

fn galera(d: &mut MemoryData, env: &str, members: &[(&str, f64, f64, f64)]) {
    d.push(
        "galera_cluster_expected",
        label_set([("env", env), ("cluster", "g")]),
        members.len() as f64,
    );
    for (node, primary, state, ready) in members {
        let l = label_set([("env", env), ("cluster", "g"), ("node", *node)]);
        d.push("galera_member_up", l.clone(), 1.0);
        d.push("galera_primary", l.clone(), *primary);
        d.push("galera_local_state", l.clone(), *state);
        d.push("galera_ready", l, *ready);
    }
}

fn redis_links(d: &mut MemoryData, env: &str, ups: &[f64]) {
    for (i, up) in ups.iter().enumerate() {
        let replica = format!("r{}", i + 2);
        d.push(
            "replication_link_up",
            label_set([
                ("env", env),
                ("kind", "redis"),
                ("primary", "r1"),
                ("replica", replica.as_str()),
            ]),
            *up,
        );
    }
}

fn lag(d: &mut MemoryData, env: &str, seconds: f64) {
    d.push(
        "replication_lag_seconds",
        label_set([
            ("env", env),
            ("kind", "postgres"),
            ("primary", "pg1"),
            ("replica", "pg2"),
        ]),
        seconds,
    );
}

const CASES: &[Case] = &[
    Case {
        what: "healthy galera: nothing",
        rule: "galera_quorum_lost",
        setup: |d| {
            galera(
                d,
                "production",
                &[("a", 1., 4., 1.), ("b", 1., 4., 1.), ("c", 1., 4., 1.)],
            )
        },
        expect: &[],
    },
    Case {
        what: "two of three members gone in production: sev1",
        rule: "galera_quorum_lost",
        setup: |d| {
            galera(
                d,
                "production",
                &[("a", 1., 4., 1.), ("b", 0., 0., 0.), ("c", 0., 0., 0.)],
            )
        },
        expect: &[("cluster=g", Severity::Sev1)],
    },
    Case {
        what: "quorum lost in staging is sev2 (tier)",
        rule: "galera_quorum_lost",
        setup: |d| {
            galera(
                d,
                "staging",
                &[("a", 1., 4., 1.), ("b", 0., 1., 0.), ("c", 0., 1., 0.)],
            )
        },
        expect: &[("cluster=g", Severity::Sev2)],
    },
    Case {
        what: "one desynced node is sev3, the cluster keeps quorum",
        rule: "galera_node_desynced",
        setup: |d| {
            galera(
                d,
                "production",
                &[("a", 1., 4., 1.), ("b", 1., 2., 0.), ("c", 1., 4., 1.)],
            )
        },
        expect: &[("node=b", Severity::Sev3)],
    },
    Case {
        what: "one desynced node does not lose quorum",
        rule: "galera_quorum_lost",
        setup: |d| {
            galera(
                d,
                "production",
                &[("a", 1., 4., 1.), ("b", 1., 2., 0.), ("c", 1., 4., 1.)],
            )
        },
        expect: &[],
    },
    Case {
        what: "one redis replica unlinked: sev3",
        rule: "redis_replica_unlinked",
        setup: |d| redis_links(d, "production", &[0., 1.]),
        expect: &[("replica=r2", Severity::Sev3)],
    },
    Case {
        what: "one of two unlinked is not 'all'",
        rule: "redis_all_replicas_unlinked",
        setup: |d| redis_links(d, "production", &[0., 1.]),
        expect: &[],
    },
    Case {
        what: "every replica of the primary unlinked: sev2",
        rule: "redis_all_replicas_unlinked",
        setup: |d| redis_links(d, "production", &[0., 0.]),
        expect: &[("primary=r1", Severity::Sev2)],
    },
    Case {
        what: "postgres primary exporter down in production, no node_exporter on its host: sev1",
        rule: "database_primary_down",
        setup: primary_exporter_silent,
        expect: &[("node=pg1", Severity::Sev1)],
    },
    Case {
        what: "postgres primary exporter silent while its host answers: not sev1",
        rule: "database_primary_down",
        setup: |d| {
            primary_exporter_silent(d);
            host_answers(d, "pg1", true);
        },
        expect: &[],
    },
    Case {
        what: "postgres primary exporter and its host both silent: sev1",
        rule: "database_primary_down",
        setup: |d| {
            primary_exporter_silent(d);
            host_answers(d, "pg1", false);
            // Another host answering does not hide this one.
            host_answers(d, "pg2", true);
        },
        expect: &[("node=pg1", Severity::Sev1)],
    },
    Case {
        what: "mariadb primary reporting mysql_up 0: sev1",
        rule: "database_primary_down",
        setup: |d| {
            d.push(
                "mysql_up",
                label_set([
                    ("env", "production"),
                    ("role", "primary"),
                    ("node", "db1"),
                    ("source", "db1-mysqld"),
                ]),
                0.,
            );
        },
        expect: &[("node=db1", Severity::Sev1)],
    },
    Case {
        what: "sql thread stopped on a replica: sev2",
        rule: "replication_stopped",
        setup: |d| {
            let l = label_set([
                ("env", "production"),
                ("kind", "mysql"),
                ("primary", "db1"),
                ("replica", "db2"),
            ]);
            d.push("replication_io_running", l.clone(), 1.);
            d.push("replication_sql_running", l, 0.);
        },
        expect: &[("replica=db2", Severity::Sev2)],
    },
    Case {
        what: "lag under 30 s: nothing",
        rule: "replication_lag",
        setup: |d| lag(d, "production", 12.),
        expect: &[],
    },
    Case {
        what: "lag over 30 s: sev3",
        rule: "replication_lag",
        setup: |d| lag(d, "production", 45.),
        expect: &[("replica=pg2", Severity::Sev3)],
    },
    Case {
        what: "lag over 300 s escalates the same key to sev2",
        rule: "replication_lag",
        setup: |d| lag(d, "production", 420.),
        expect: &[("replica=pg2", Severity::Sev2)],
    },
    Case {
        what: "health check down: sev1 in production, sev3 in integration",
        rule: "health_check_down",
        setup: |d| {
            d.push(
                "health_up",
                label_set([("env", "production"), ("check", "shop")]),
                0.,
            );
            d.push(
                "health_up",
                label_set([("env", "integration"), ("check", "shop")]),
                0.,
            );
            d.push(
                "health_up",
                label_set([("env", "staging"), ("check", "shop")]),
                1.,
            );
        },
        expect: &[
            ("env=integration", Severity::Sev3),
            ("env=production", Severity::Sev1),
        ],
    },
    Case {
        what: "backup older than 1.5 intervals: sev3",
        rule: "backup_late",
        setup: |d| {
            let l = label_set([("env", "production"), ("service", "galera")]);
            d.push("backup_age_seconds", l.clone(), 700.);
            d.push("backup_interval_seconds", l.clone(), 300.);
            d.push("backup_rpo_seconds", l, 900.);
        },
        expect: &[("service=galera", Severity::Sev3)],
    },
    Case {
        what: "backup older than its RPO: sev2, same incident key",
        rule: "backup_late",
        setup: |d| {
            let l = label_set([("env", "production"), ("service", "galera")]);
            d.push("backup_age_seconds", l.clone(), 1000.);
            d.push("backup_interval_seconds", l.clone(), 300.);
            d.push("backup_rpo_seconds", l, 900.);
        },
        expect: &[("service=galera", Severity::Sev2)],
    },
    Case {
        what: "RPO shorter than 1.5 intervals (the production design: 1 h, 15 min): past the \
               RPO is sev2 even before the backup is late",
        rule: "backup_late",
        setup: |d| {
            let l = label_set([("env", "production"), ("service", "galera")]);
            d.push("backup_age_seconds", l.clone(), 1200.);
            d.push("backup_interval_seconds", l.clone(), 3600.);
            d.push("backup_rpo_seconds", l, 900.);
        },
        expect: &[("service=galera", Severity::Sev2)],
    },
    Case {
        what: "within both the RPO and 1.5 intervals: nothing",
        rule: "backup_late",
        setup: |d| {
            let l = label_set([("env", "production"), ("service", "galera")]);
            d.push("backup_age_seconds", l.clone(), 600.);
            d.push("backup_interval_seconds", l.clone(), 3600.);
            d.push("backup_rpo_seconds", l, 900.);
        },
        expect: &[],
    },
    Case {
        what: "memory over 90 %: sev3",
        rule: "memory_high",
        setup: |d| {
            d.push(
                "node_memory_percent",
                label_set([("env", "staging"), ("node", "w1")]),
                93.,
            );
            d.push(
                "node_memory_percent",
                label_set([("env", "staging"), ("node", "w2")]),
                60.,
            );
        },
        expect: &[("node=w1", Severity::Sev3)],
    },
];

#[test]
fn default_pack_table() {
    let set = RuleSet::default_pack().expect("default pack");
    let snap = snapshot();
    for case in CASES {
        let mut data = MemoryData::new(now());
        (case.setup)(&mut data);
        let got = hits(&set, &data, &snap, case.rule);
        assert_eq!(got.len(), case.expect.len(), "{}: {got:?}", case.what);
        for ((key, sev), (fragment, want)) in got.iter().zip(case.expect) {
            assert!(
                key.contains(fragment),
                "{}: key {key} lacks {fragment}",
                case.what
            );
            assert_eq!(sev, want, "{}: {key}", case.what);
        }
    }
}

#[test]
fn error_rate_over_five_percent_from_counter_rates() {
    let set = RuleSet::default_pack().expect("default pack");
    let mut data = MemoryData::new(now());
    let t = |s: i64| now() - chrono::Duration::seconds(s);
    // 100 req/s total, 8 of them 5xx, over the last 5 minutes.
    for (code, per_s) in [("200", 92.0), ("500", 8.0)] {
        let history: Vec<_> = (0..=10)
            .rev()
            .map(|i| (t(i * 30), (300 - i * 30) as f64 * per_s))
            .collect();
        let last = history.last().map(|p| p.1).unwrap_or_default();
        data.push_full(
            "http_requests_total",
            label_set([("env", "production"), ("code", code), ("node", "w1")]),
            last,
            false,
            Some(SourceId(2)),
            history,
        );
    }
    let got = hits(&set, &data, &snapshot(), "error_rate_high");
    assert_eq!(got, vec![("env=production".to_owned(), Severity::Sev1)]);
}

fn alert(source: u32, name: &str, severity: &str, silenced: bool) -> Alert {
    let mut labels = BTreeMap::new();
    labels.insert("alertname".to_owned(), name.to_owned());
    labels.insert("severity".to_owned(), severity.to_owned());
    Alert {
        source: SourceId(source),
        name: name.to_owned(),
        labels,
        annotations: BTreeMap::new(),
        state: AlertState::Firing,
        since: Some(now()),
        silenced_by: if silenced {
            vec!["s1".to_owned()]
        } else {
            vec![]
        },
        inhibited_by: vec![],
        fingerprint: Some(format!("fp-{name}-{source}")),
    }
}

#[test]
fn external_alerts_map_by_severity_label_and_tier() {
    let set = RuleSet::default_pack().expect("default pack");
    let mut snap = snapshot();
    snap.alerts = vec![
        alert(2, "DiskFull", "critical", false), // production → sev1
        alert(1, "DiskFull", "critical", false), // staging → sev2
        alert(0, "DiskFull", "warning", false),  // integration → sev3
        alert(2, "Silenced", "critical", true),  // silenced: never an incident
        alert(2, "Watchdog", "none", false),     // ignored by name
        alert(2, "Chatty", "debug", false),      // unmapped severity: Alerts tab only
    ];
    let round = evaluate(&set, &MemoryData::new(now()), &snap);
    let r = round
        .rounds
        .iter()
        .find(|r| r.rule == EXTERNAL_ALERT_RULE)
        .expect("alert round");
    let mut got: Vec<_> = r
        .hits
        .iter()
        .map(|h| (h.environment.clone(), h.severity))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("integration".to_owned(), Severity::Sev3),
            ("production".to_owned(), Severity::Sev1),
            ("staging".to_owned(), Severity::Sev2),
        ]
    );
}

#[test]
fn stale_inputs_make_stale_hits() {
    let set = RuleSet::default_pack().expect("default pack");
    let mut data = MemoryData::new(now());
    data.push_full(
        "replication_lag_seconds",
        label_set([
            ("env", "production"),
            ("kind", "postgres"),
            ("primary", "pg1"),
            ("replica", "pg2"),
        ]),
        100.0,
        true,
        Some(SourceId(7)),
        vec![],
    );
    let round = evaluate(&set, &data, &snapshot());
    let r = round
        .rounds
        .iter()
        .find(|r| r.rule == "replication_lag")
        .expect("round");
    assert_eq!(r.hits.len(), 1);
    assert!(r.hits[0].stale);
    assert_eq!(r.hits[0].sources, vec![SourceId(7)]);
    assert!(r.hits[0].summary.contains("pg2"), "{}", r.hits[0].summary);
}
