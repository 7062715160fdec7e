//! The rule data builder remembers things between rounds (label sets, range-function
//! values); a round built by a long-lived builder must equal one built from scratch, over a
//! store that changes: scrapes at uneven times, counters that reset, series that come and
//! go, failing sources, and evaluation instants that move points out of their windows
//! without any new scrape.

mod support;

use std::time::Duration;

use chrono::{TimeZone, Utc};
use watchdeck::config::settings::{Preset, SourceId};
use watchdeck::rules::input::InputBuilder;
use watchdeck::rules::{RuleSet, eval, lang};
use watchdeck::source::{Payload, PollError, PollReport};
use watchdeck::store::Store;

const EXTRA_RULES: &str = r#"
[[rule]]
name = "errors_fast"
expr = "rate(http_requests_total{code=~\"5..\"}[20s]) > 0.1"
for = "0s"
clear_threshold = 0.05
clear_for = "0s"
severity = 3
summary = "{{env}}"

[[rule]]
name = "restarts_recent"
expr = "increase(node_systemd_service_restart_total[30s]) >= 1"
for = "0s"
clear_for = "0s"
severity = 3
summary = "{{env}}"
"#;

/// Range expressions whose raw values are compared too (hits only show what crosses a
/// threshold).
const PROBES: &[&str] = &[
    "rate(http_requests_total[20s])",
    "rate(http_requests_total{code=~\"5..\"}[20s])",
    "increase(http_requests_total[1m])",
    "sum by (env) (rate(http_requests_total[20s]))",
    "sum by (env) (rate(http_requests_total{code=~\"5..\"}[20s]))",
    "max by (env, node) (increase(node_systemd_service_restart_total[30s]))",
    "count without (code) (last_over_time(http_requests_total[9s]))",
    "changes(node_load1[15s])",
    "avg_over_time(node_load1[15s])",
    "max_over_time(node_load1[7s])",
    "count_over_time(node_load1[12s])",
    "absent_over_time(node_load1{node=\"n0\"}[6s])",
    "last_over_time(node_load1[9s])",
];

fn node_body(step: u64, n: u64) -> String {
    // The restart counter resets now and then; the load changes every scrape.
    let restarts = (step / 3) % 5;
    format!(
        "node_load1 {}\nnode_systemd_service_restart_total{{name=\"a.service\"}} {restarts}\n",
        (step * 7 + n) % 4
    )
}

fn app_body(step: u64, n: u64) -> String {
    let mut b = format!("http_requests_total{{code=\"200\"}} {}\n", step * 40 + n);
    // The 500 series is missing from some scrapes and resets once.
    if step % 4 != 1 {
        let v = if step > 20 { step - 20 } else { step * 2 };
        b.push_str(&format!("http_requests_total{{code=\"500\"}} {v}\n"));
    }
    b
}

#[test]
fn incremental_rounds_equal_full_ones() {
    let mut sources = Vec::new();
    for i in 0..6u32 {
        let node = format!("n{}", i / 2);
        let (name, preset) = if i % 2 == 0 {
            (format!("{node}-node"), Preset::Node)
        } else {
            (format!("{node}-app"), Preset::Generic)
        };
        sources.push(support::metrics_source(
            i,
            "production",
            &name,
            preset,
            &[("node", &node), ("role", "web")],
        ));
    }
    let settings = support::settings(sources, Vec::new());
    let mut rules = RuleSet::default_pack().expect("default pack");
    rules
        .merge_text(EXTRA_RULES, std::path::Path::new("extra.toml"))
        .expect("extra rules");
    let probes: Vec<lang::Expr> = PROBES
        .iter()
        .map(|p| lang::parse(p).expect("probe"))
        .collect();
    let planned_vs_general: Vec<(lang::Expr, lang::Expr)> = [
        (
            "sum by (env) (rate(http_requests_total{code=~\"5..\"}[20s]))",
            "sum by (env) ((rate(http_requests_total{code=~\"5..\"}[20s])))",
        ),
        (
            "max by (env, node) (increase(node_systemd_service_restart_total[30s]))",
            "max by (env, node) ((increase(node_systemd_service_restart_total[30s])))",
        ),
        (
            "increase(node_systemd_service_restart_total[30s]) >= 1",
            "(increase(node_systemd_service_restart_total[30s])) >= 1",
        ),
    ]
    .iter()
    .map(|(a, b)| {
        (
            lang::parse(a).expect("planned"),
            lang::parse(b).expect("general"),
        )
    })
    .collect();
    let mut names = rules.metric_names();
    for p in &probes {
        names.extend(p.metric_names());
    }

    let mut store = Store::new(&settings);
    let mut incremental = InputBuilder::new(names.clone());
    let t0 = Utc.timestamp_opt(1_795_300_000, 0).single().expect("time");
    let mut compared = 0;
    // Half-second steps: each source is scraped on its own uneven schedule, so most rounds
    // see some tables changed and others not, and windows slide past points in between.
    for step in 0..160u64 {
        let now = t0 + chrono::Duration::milliseconds(500 * step as i64);
        for id in 0..6u64 {
            let period = 3 + id; // in half-seconds
            if (step + id) % period != 0 {
                continue;
            }
            let scrape = step / period;
            let outcome = if id == 3 && (60..75).contains(&step) {
                Err(PollError::Connect("refused".to_owned()))
            } else if id % 2 == 0 {
                Ok(Payload::Metrics {
                    body: node_body(scrape, id),
                })
            } else {
                Ok(Payload::Metrics {
                    body: app_body(scrape, id),
                })
            };
            store.ingest(PollReport {
                source: SourceId(id as u32),
                at: now,
                duration: Duration::from_millis(3),
                outcome,
            });
        }
        // Evaluate a few instants per step, including ones that go back in time.
        for offset_ms in [0i64, 250, -1500] {
            let at = now + chrono::Duration::milliseconds(offset_ms);
            let snap = store.snapshot(at);
            let mut fresh = InputBuilder::new(names.clone());
            let full_data = fresh.build(&store, &snap, at);
            let full = eval::evaluate(&rules, &full_data, &snap);
            let full_probes: Vec<String> = probes
                .iter()
                .map(|p| format!("{:?}", p.eval(&full_data)))
                .collect();
            let inc_data = incremental.build(&store, &snap, at);
            let inc = eval::evaluate(&rules, &inc_data, &snap);
            let inc_probes: Vec<String> = probes
                .iter()
                .map(|p| format!("{:?}", p.eval(&inc_data)))
                .collect();
            assert_eq!(
                full.rounds, inc.rounds,
                "step {step}, offset {offset_ms} ms"
            );
            assert_eq!(
                full.errors, inc.errors,
                "step {step}, offset {offset_ms} ms"
            );
            assert_eq!(
                full_probes, inc_probes,
                "step {step}, offset {offset_ms} ms"
            );
            // An aggregation or comparison over a range function is planned and its plan
            // kept between rounds; in parentheses the call is evaluated on its own first.
            for (planned, general) in &planned_vs_general {
                assert_eq!(
                    format!("{:?}", planned.eval(&inc_data)),
                    format!("{:?}", general.eval(&inc_data)),
                    "step {step}, offset {offset_ms} ms"
                );
            }
            compared += 1;
        }
    }
    assert_eq!(compared, 480);
}

#[test]
fn a_builder_moved_to_another_store_starts_over() {
    let settings = support::settings(
        vec![support::metrics_source(
            0,
            "production",
            "a",
            Preset::Generic,
            &[("node", "n0")],
        )],
        Vec::new(),
    );
    let probe = lang::parse("rate(http_requests_total[1m])").expect("probe");
    let mut builder = InputBuilder::new(probe.metric_names());
    let t0 = Utc.timestamp_opt(1_795_300_000, 0).single().expect("time");
    let fill = |per_scrape: u64| {
        let mut store = Store::new(&settings);
        for i in 0..3u64 {
            store.ingest(PollReport {
                source: SourceId(0),
                at: t0 + chrono::Duration::seconds(10 * i as i64),
                duration: Duration::from_millis(1),
                outcome: Ok(Payload::Metrics {
                    body: format!("http_requests_total {}\n", i * per_scrape),
                }),
            });
        }
        store
    };
    // Same ids, generations and layouts; different values.
    let (a, b) = (fill(10), fill(30));
    let now = t0 + chrono::Duration::seconds(20);
    for (store, want) in [(&a, 1.0), (&b, 3.0)] {
        let snap = store.snapshot(now);
        let data = builder.build(store, &snap, now);
        match probe.eval(&data).expect("eval") {
            lang::Value::Vector(v) => {
                assert_eq!(v.len(), 1);
                assert!((v[0].value - want).abs() < 1e-9, "{} != {want}", v[0].value);
            }
            other => panic!("{other:?}"),
        }
    }
}
