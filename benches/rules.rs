//! One evaluation round of the default rule pack over 50 environments × 100 nodes.
//!
//! Each node has a node_exporter-shaped source (CPU counters, memory, root filesystem,
//! load, systemd restarts) and an app source (`http_requests_total` by code and a duration
//! histogram), scraped every 30 s. The history ring is filled first (15 minutes at 30 s, as
//! after a quarter of an hour of running), so reads walk a full ring as they do in steady
//! state.
//!
//! Before every measured round, every source is scraped again (untimed) and the round is
//! evaluated 30 s later: the rule data builder and the evaluator keep things between rounds,
//! and a round over unchanged data would measure those caches, not the work a round does
//! when data arrives. This is the worst case — in the running console a round follows the
//! scrapes of the last 250 ms to 1 s — and the one the figure is for.
//!
//! Measured: building the rule data and evaluating every rule (`rules`); the builder alone
//! (`build`); the same as `rules` for the typical one-second round (`rules_tick`) and for a
//! round after a third of the fleet was scraped (`rules_third`); each rule that reads
//! history on its own, the rule data built untimed (`rule/NAME`); and the whole round the
//! engine runs each tick — snapshot, presets, rules and incidents (`round`).

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use watchdeck::config::settings::{
    BackupMetricNames, EnvironmentSpec, General, MetricsSpec, Placement, Preset, Settings,
    SourceId, SourceKind, SourceSpec, Tier,
};
use watchdeck::engine::Core;
use watchdeck::rules::RuleSet;
use watchdeck::rules::input::InputBuilder;
use watchdeck::source::{Payload, PollReport};

const ENVS: usize = 50;
const NODES: usize = 100;
/// Scrapes before measuring: enough to fill the 15-minute ring at 30 s (32 slots) and wrap.
const SCRAPES: i64 = 40;

fn source(id: u32, env: &str, node: &str, preset: Preset) -> SourceSpec {
    SourceSpec {
        id: SourceId(id),
        environment: env.to_owned(),
        tier: Tier::Production,
        name: format!("{node}-{preset}"),
        url: url::Url::parse("http://127.0.0.1:9/metrics").expect("static url"),
        kind: SourceKind::Metrics(MetricsSpec {
            preset,
            placement: Placement {
                node: Some(node.to_owned()),
                role: Some("web".to_owned()),
                cluster: Some(format!("{env}-c{}", id % 4)),
                ..Placement::default()
            },
            backup_names: BackupMetricNames::default(),
        }),
        interval: Duration::from_secs(30),
        timeout: Duration::from_secs(2),
        max_body: 16 << 20,
        auth: None,
        insecure_skip_verify: false,
    }
}

fn node_body(scrape: i64, n: usize) -> String {
    let t = scrape as f64 * 30.0;
    let mut b = String::with_capacity(4096);
    for cpu in 0..2 {
        for (mode, share) in [
            ("idle", 0.7),
            ("user", 0.2),
            ("system", 0.08),
            ("iowait", 0.02),
        ] {
            let _ = writeln!(
                b,
                "node_cpu_seconds_total{{cpu=\"{cpu}\",mode=\"{mode}\"}} {}",
                1e5 + t * share
            );
        }
    }
    let _ = writeln!(b, "node_memory_MemTotal_bytes 1.6e10");
    let _ = writeln!(
        b,
        "node_memory_MemAvailable_bytes {}",
        4e9 + (n % 7) as f64 * 1e9
    );
    let _ = writeln!(
        b,
        "node_filesystem_size_bytes{{device=\"/dev/vda1\",fstype=\"ext4\",mountpoint=\"/\"}} 1e11"
    );
    let _ = writeln!(
        b,
        "node_filesystem_avail_bytes{{device=\"/dev/vda1\",fstype=\"ext4\",mountpoint=\"/\"}} {}",
        3e10 + (n % 5) as f64 * 1e10
    );
    let _ = writeln!(b, "node_load1 {}", 0.5 + (n % 3) as f64);
    let _ = writeln!(b, "node_boot_time_seconds 1.79e9");
    let _ = writeln!(b, "node_time_seconds {}", 1.7953e9 + t);
    let _ = writeln!(
        b,
        "node_systemd_service_restart_total{{name=\"php8.2-fpm.service\"}} {}",
        scrape / 4
    );
    b
}

fn app_body(scrape: i64) -> String {
    let t = scrape as f64 * 30.0;
    let mut b = String::with_capacity(2048);
    for (code, per_s) in [("200", 50.0), ("404", 2.0), ("500", 0.5)] {
        let _ = writeln!(
            b,
            "http_requests_total{{code=\"{code}\",handler=\"/\",method=\"GET\"}} {}",
            t * per_s
        );
    }
    for (le, share) in [
        ("0.1", 0.6),
        ("0.5", 0.9),
        ("1", 0.97),
        ("5", 0.999),
        ("+Inf", 1.0),
    ] {
        let _ = writeln!(
            b,
            "http_request_duration_seconds_bucket{{le=\"{le}\"}} {}",
            t * 52.5 * share
        );
    }
    let _ = writeln!(b, "http_request_duration_seconds_sum {}", t * 52.5 * 0.12);
    let _ = writeln!(b, "http_request_duration_seconds_count {}", t * 52.5);
    b
}

/// The fleet's core, its clock and how many times each source has been scraped.
struct Fleet {
    core: Core,
    ids: Vec<SourceId>,
    clock: chrono::DateTime<Utc>,
    scrapes: Vec<i64>,
}

impl Fleet {
    /// Move the clock on by `secs` and scrape every source `pick` chooses; returns the time.
    fn scrape(&mut self, secs: i64, pick: impl Fn(SourceId) -> bool) -> chrono::DateTime<Utc> {
        self.clock += chrono::Duration::seconds(secs);
        let at = self.clock;
        for &id in &self.ids {
            if !pick(id) {
                continue;
            }
            let scrape = &mut self.scrapes[id.0 as usize];
            *scrape += 1;
            let node = (id.0 / 2) as usize % NODES;
            let body = if id.0 % 2 == 0 {
                node_body(*scrape, node)
            } else {
                app_body(*scrape)
            };
            self.core.ingest(PollReport {
                source: id,
                at,
                duration: Duration::from_millis(5),
                outcome: Ok(Payload::Metrics { body }),
            });
        }
        at
    }

    /// Scrape every source once more, 30 s after the last scrape.
    fn scrape_all(&mut self) -> chrono::DateTime<Utc> {
        self.scrape(30, |_| true)
    }
}

fn fleet() -> Fleet {
    let mut environments = Vec::new();
    let mut id = 0u32;
    for e in 0..ENVS {
        let name = format!("env{e:02}");
        let mut sources = Vec::new();
        for n in 0..NODES {
            let node = format!("n{n:03}");
            sources.push(source(id, &name, &node, Preset::Node));
            sources.push(source(id + 1, &name, &node, Preset::Generic));
            id += 2;
        }
        environments.push(EnvironmentSpec {
            name,
            tier: if e % 3 == 0 {
                Tier::Production
            } else {
                Tier::Staging
            },
            sources,
            backup_policies: Vec::new(),
        });
    }
    let settings = Settings {
        path: None,
        general: General::default(),
        environments,
        runbooks: Vec::new(),
    };
    let core = Core::new(&settings, RuleSet::default_pack().expect("default pack"));
    let ids: Vec<SourceId> = settings.sources().map(|s| s.id).collect();
    let mut fleet = Fleet {
        core,
        scrapes: vec![0; ids.len()],
        ids,
        clock: Utc.timestamp_opt(1_795_300_000, 0).single().expect("time"),
    };
    for _ in 0..SCRAPES {
        fleet.scrape_all();
    }
    fleet
}

/// The total of what `round` measured over `iters` rounds, each after a fresh scrape of
/// every source (the scrapes are not timed).
fn after_scrapes(
    fleet: &mut Fleet,
    iters: u64,
    mut round: impl FnMut(&mut Core, chrono::DateTime<Utc>) -> Duration,
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let at = fleet.scrape_all();
        // Evaluated a little after the scrape, as the engine's coalesced round would be.
        let now = at + chrono::Duration::seconds(1);
        total += round(&mut fleet.core, now);
    }
    total
}

/// The total of `rules` (build and evaluate) over `iters` rounds, each after a scrape of
/// `1/parts` of the fleet, the parts taking turns (`turn` counts rounds across calls) so
/// that every source is still scraped every 30 s: rounds come 30/`parts` s apart.
fn after_share(
    fleet: &mut Fleet,
    input: &mut InputBuilder,
    iters: u64,
    turn: &mut u32,
    parts: u32,
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        *turn += 1;
        let part = *turn % parts;
        let now = fleet.scrape(30 / i64::from(parts), |id| id.0 % parts == part);
        total += timed_rules(&fleet.core, input, now);
    }
    total
}

/// Build the rule data and evaluate every rule at `now`, timed. The snapshot is the store's
/// work, measured in `round`; here it is taken outside the clock.
fn timed_rules(core: &Core, input: &mut InputBuilder, now: chrono::DateTime<Utc>) -> Duration {
    let snapshot = core.store().snapshot(now);
    let start = Instant::now();
    let data = input.build(core.store(), &snapshot, now);
    black_box(watchdeck::rules::eval::evaluate(
        core.rules(),
        &data,
        &snapshot,
    ));
    start.elapsed()
}

fn bench(c: &mut Criterion) {
    let mut fleet = fleet();
    let mut group = c.benchmark_group("rules_50x100");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    let mut input = InputBuilder::new(fleet.core.rules().metric_names());
    group.bench_function("rules", |b| {
        b.iter_custom(|iters| {
            after_scrapes(&mut fleet, iters, |core, now| {
                timed_rules(core, &mut input, now)
            })
        })
    });
    // The rule data builder alone (its part of `rules`).
    group.bench_function("build", |b| {
        b.iter_custom(|iters| {
            after_scrapes(&mut fleet, iters, |core, now| {
                let snapshot = core.store().snapshot(now);
                let start = Instant::now();
                black_box(input.build(core.store(), &snapshot, now).series_count());
                start.elapsed()
            })
        })
    });
    // What a round sees in the running console instead: one every second, each after the
    // scrapes of the last second (every source every 30 s, staggered: 1/30 of the fleet).
    let mut tick = 0u32;
    group.bench_function("rules_tick", |b| {
        b.iter_custom(|iters| after_share(&mut fleet, &mut input, iters, &mut tick, 30))
    });
    // The rules that read history (range functions over counters), alone: nearly all of
    // `rules` is theirs, and each figure says what one more such rule costs a round.
    for name in [
        "error_rate_high",
        "response_time_high",
        "service_restarting",
    ] {
        let mut single = RuleSet::default_pack().expect("default pack");
        single.rules.retain(|r| r.name == name);
        assert_eq!(single.rules.len(), 1, "{name} is in the default pack");
        group.bench_function(format!("rule/{name}"), |b| {
            b.iter_custom(|iters| {
                after_scrapes(&mut fleet, iters, |core, now| {
                    let snapshot = core.store().snapshot(now);
                    let data = input.build(core.store(), &snapshot, now);
                    let start = Instant::now();
                    black_box(watchdeck::rules::eval::evaluate(&single, &data, &snapshot));
                    start.elapsed()
                })
            })
        });
    }
    group.bench_function("round", |b| {
        b.iter_custom(|iters| {
            after_scrapes(&mut fleet, iters, |core, now| {
                let start = Instant::now();
                black_box(core.round(now));
                start.elapsed()
            })
        })
    });
    // A round after a third of the fleet was scraped: the most a round sees in the first
    // seconds after start, when the pollers spread first polls over 3 s (each source still
    // every 30 s: a third every 10 s). Last, because it leaves the thirds 10 s apart: a
    // scrape of every source after it would not come 30 s after each one's last, and the
    // benches above would read windows of another shape.
    let mut third = 0u32;
    group.bench_function("rules_third", |b| {
        b.iter_custom(|iters| after_share(&mut fleet, &mut input, iters, &mut third, 3))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
