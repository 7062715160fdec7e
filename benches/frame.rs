//! Building one frame (state → buffer) for a large fleet: 50 environments × 100 nodes,
//! 10,000 alerts, 200 replication links, 100 backups and 60 incidents, on every tab at
//! 160×48 and 80×24, drawn into ratatui's TestBackend (no terminal I/O). Also measured:
//! `update`, taking a new situation (the per-tab views — scope, filter, sort — are
//! recomputed there, not per frame), with and without a filter.

use std::collections::{BTreeMap, HashSet};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use watchdeck::config::settings::{SourceId, Tier};
use watchdeck::engine::Situation;
use watchdeck::incident::{Hit, IncidentConfig, Incidents, RuleRound, RuleTiming, Severity};
use watchdeck::store::model::{
    Alert, AlertState, BackupRun, LinkState, Node, ReplicationKind, ReplicationLink, SourceHealth,
    SourceStatus,
};
use watchdeck::store::{EnvironmentView, Snapshot};
use watchdeck::ui::action::Action;
use watchdeck::ui::app::{App, AppOptions, Tab};

const ENVS: usize = 50;
const NODES: usize = 100;
const ALERTS: usize = 10_000;

fn situation() -> Situation {
    let now = Utc.timestamp_opt(1_795_300_000, 0).single().expect("time");
    let mut s = Snapshot {
        taken_at: Some(now),
        ..Snapshot::default()
    };
    for e in 0..ENVS {
        let env = format!("env-{e:02}");
        let tier = match e % 3 {
            0 => Tier::Production,
            1 => Tier::Staging,
            _ => Tier::Integration,
        };
        s.environments.push(EnvironmentView {
            name: env.clone(),
            tier,
        });
        for n in 0..NODES {
            let id = SourceId(s.sources.len() as u32);
            s.sources.push(SourceStatus {
                id,
                environment: env.clone(),
                name: format!("{env}-n{n:03}-node"),
                kind: "metrics",
                url: format!("http://10.{e}.{n}.1:9100/metrics"),
                health: if n % 37 == 0 {
                    SourceHealth::Failing {
                        reason: "connection refused".to_owned(),
                        since: now,
                        last_success: None,
                    }
                } else {
                    SourceHealth::Ok {
                        last_success: now,
                        duration: Duration::from_millis(12),
                    }
                },
                warnings: vec![],
                last_poll: Some(now),
            });
            s.nodes.push(Node {
                environment: env.clone(),
                name: format!("{env}-n{n:03}"),
                role: Some(["web", "db", "cache"][n % 3].to_owned()),
                cluster: Some(format!("{env}-c{}", n % 4)),
                up: n % 37 != 0,
                cpu_percent: Some((n * 7 % 100) as f64),
                memory_percent: Some((n * 13 % 100) as f64),
                root_disk_percent: Some((n * 3 % 100) as f64),
                load1: Some(n as f64 / 10.0),
                uptime: Some(Duration::from_secs(86_400 * n as u64)),
                source: id,
            });
            if n < 4 {
                s.links.push(ReplicationLink {
                    environment: env.clone(),
                    cluster: Some(format!("{env}-db")),
                    kind: ReplicationKind::Postgres,
                    primary: format!("{env}-n000"),
                    replica: format!("{env}-n{n:03}"),
                    lag_seconds: Some(n as f64),
                    lag_bytes: Some(1024.0 * n as f64),
                    state: LinkState::Streaming { attached: true },
                    lag_history: (0..90).map(|i| f64::from(i % 7)).collect(),
                    source: id,
                });
            }
            if n < 2 {
                s.backups.push(BackupRun {
                    environment: env.clone(),
                    service: format!("svc-{n}"),
                    last_success: Some(now - chrono::Duration::minutes(20)),
                    age: Some(Duration::from_secs(1200)),
                    size_bytes: Some(1e9),
                    duration: Some(Duration::from_secs(300)),
                    interval: Some(Duration::from_secs(3600)),
                    rpo: Some(Duration::from_secs(900)),
                    source: id,
                });
            }
        }
    }
    for a in 0..ALERTS {
        let mut labels = BTreeMap::new();
        labels.insert("alertname".to_owned(), format!("Alert{}", a % 40));
        labels.insert(
            "severity".to_owned(),
            ["critical", "warning", "info"][a % 3].to_owned(),
        );
        labels.insert("instance".to_owned(), format!("host-{a}:9100"));
        let mut annotations = BTreeMap::new();
        annotations.insert(
            "summary".to_owned(),
            format!("something is wrong with host-{a}"),
        );
        s.alerts.push(Alert {
            source: SourceId((a % s.sources.len()) as u32),
            name: format!("Alert{}", a % 40),
            labels,
            annotations,
            state: AlertState::Firing,
            since: Some(now - chrono::Duration::minutes((a % 90) as i64)),
            silenced_by: vec![],
            inhibited_by: vec![],
            fingerprint: None,
        });
    }
    let mut incidents = Incidents::new(IncidentConfig::default());
    let hits = (0..60)
        .map(|i| Hit {
            key: format!("k{i}"),
            environment: format!("env-{:02}", i % ENVS),
            tier: Tier::Production,
            severity: Severity::ALL[i % 3],
            value: i as f64,
            summary: format!("incident number {i} on env-{:02}", i % ENVS),
            labels: Default::default(),
            sources: vec![SourceId(0)],
            stale: false,
        })
        .collect();
    incidents.evaluate(
        &[RuleRound {
            rule: "r".to_owned(),
            timing: RuleTiming {
                for_: Duration::ZERO,
                clear_for: Duration::ZERO,
            },
            runbooks: vec!["restart_node".to_owned()],
            hits,
            holding: vec![],
        }],
        &HashSet::new(),
        now,
    );
    Situation {
        fleet: Arc::new(s),
        incidents: incidents.incidents().cloned().collect(),
        ..Situation::default()
    }
}

fn bench(c: &mut Criterion) {
    let situation = Arc::new(situation());
    let mut app = App::new(situation.clone(), AppOptions::new(false, "bench"));
    for (w, h) in [(160u16, 48u16), (80, 24)] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        app.size = (w, h);
        for (i, tab) in Tab::ALL.iter().enumerate() {
            app.apply(Action::GoToTab(i as u8));
            // Mid-list selection, so the window is not simply the first rows.
            app.apply(Action::Bottom);
            c.bench_function(&format!("frame/{}/{w}x{h}", tab.slug()), |b| {
                b.iter(|| {
                    terminal
                        .draw(|f| watchdeck::ui::draw(f, black_box(&app)))
                        .expect("draw");
                })
            });
        }
    }
    app.apply(Action::GoToTab(5));
    c.bench_function("update/new situation", |b| {
        b.iter(|| app.update(black_box(situation.clone())))
    });
    app.run_command("filter sev=critical instance~host-1");
    c.bench_function("update/new situation, alerts filtered", |b| {
        b.iter(|| app.update(black_box(situation.clone())))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
