//! Throughput of our exposition parser against prometheus-parse 0.2.5, on every real exporter
//! fixture and on a large synthetic payload.
//!
//! Run: `CARGO_TARGET_DIR=/work/target cargo bench --bench exposition`. Settings are kept
//! short so the whole run stays within a few minutes on two cores.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use watchdeck::source::exposition::{SampleRef, Visitor, parse_with};

const FIXTURES: &[&str] = &[
    "mysqld_exporter-0.14-primary.prom",
    "mysqld_exporter-0.14-replica.prom",
    "node_exporter-1.5.prom",
    "postgres_exporter-0.11-primary.prom",
    "postgres_exporter-0.11-replica.prom",
    "prometheus-2.42-self.prom",
    "pushgateway-1.5.prom",
    "redis_exporter-1.45-primary.prom",
    "redis_exporter-1.45-replica.prom",
];

/// Touches every value and label so nothing can be optimised away.
#[derive(Default)]
struct Sum {
    total: f64,
    labels: usize,
    samples: usize,
}

impl<'a> Visitor<'a> for Sum {
    fn sample(&mut self, s: SampleRef<'_, 'a>) {
        self.total += s.value;
        self.labels += s.labels.len();
        self.samples += 1;
    }
}

fn ours(text: &str) -> Sum {
    let mut sum = Sum::default();
    parse_with(text, &mut sum);
    sum
}

fn theirs(text: &str) -> usize {
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
        .map(|s| s.samples.len())
        .unwrap_or(0)
}

/// A deterministic exposition of well over 100k samples: counters and gauges with several
/// labels, histograms with `le` buckets, summaries with quantiles, and label values that
/// need unescaping.
fn synthetic() -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(16 << 20);
    let mut x: u64 = 0x853c_49e6_748f_ea9b;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let les = [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
    ];
    let methods = ["GET", "POST", "PUT", "DELETE"];
    // Writing to a String cannot fail; the results are discarded for brevity.
    for svc in 0..200 {
        let _ = writeln!(out, "# HELP svc{svc}_requests_total Requests handled.");
        let _ = writeln!(out, "# TYPE svc{svc}_requests_total counter");
        for code in ["200", "404", "500"] {
            for m in methods {
                let _ = writeln!(
                    out,
                    "svc{svc}_requests_total{{method=\"{m}\",code=\"{code}\",instance=\"10.0.{}.{}:9100\"}} {}",
                    svc % 256,
                    next() % 256,
                    next() % 1_000_000
                );
            }
        }
        let _ = writeln!(out, "# HELP svc{svc}_request_duration_seconds Latency.");
        let _ = writeln!(out, "# TYPE svc{svc}_request_duration_seconds histogram");
        for m in methods {
            let mut cumulative = 0;
            for le in les {
                cumulative += next() % 100;
                let _ = writeln!(
                    out,
                    "svc{svc}_request_duration_seconds_bucket{{method=\"{m}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "svc{svc}_request_duration_seconds_sum{{method=\"{m}\"}} {}.{:06}",
                next() % 10_000,
                next() % 1_000_000
            );
            let _ = writeln!(
                out,
                "svc{svc}_request_duration_seconds_count{{method=\"{m}\"}} {cumulative}"
            );
        }
        let _ = writeln!(out, "# TYPE svc{svc}_gc_seconds summary");
        for q in ["0", "0.25", "0.5", "0.75", "1"] {
            let _ = writeln!(
                out,
                "svc{svc}_gc_seconds{{quantile=\"{q}\"}} {}e-05",
                next() % 100_000
            );
        }
        let _ = writeln!(
            out,
            "svc{svc}_gc_seconds_sum 0.{:09}",
            next() % 1_000_000_000
        );
        let _ = writeln!(out, "svc{svc}_gc_seconds_count {}", next() % 1000);
        let _ = writeln!(out, "# TYPE svc{svc}_queue_depth gauge");
        for q in 0..40 {
            let _ = writeln!(
                out,
                "svc{svc}_queue_depth{{queue=\"q{q}\",path=\"C:\\\\data\\\\q{q}\",note=\"say \\\"hi\\\"\"}} {}",
                next() % 5000
            );
        }
        for shard in 0..400 {
            let _ = writeln!(
                out,
                "svc{svc}_shard_bytes{{shard=\"{shard}\",zone=\"eu-west-1{}\"}} {}.{}e+0{}",
                ["a", "b", "c"][shard % 3],
                next() % 10,
                next() % 1_000_000,
                next() % 10
            );
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let mut inputs: Vec<(String, String)> = FIXTURES
        .iter()
        .map(|name| {
            let path = format!(
                "{}/tests/fixtures/exporters/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            (name.trim_end_matches(".prom").to_string(), text)
        })
        .collect();
    inputs.push(("synthetic".to_string(), synthetic()));

    for (name, text) in &inputs {
        // Printed so BENCHMARKS.md can turn MB/s into samples/s.
        let sum = ours(text);
        eprintln!(
            "input {name}: {} bytes, {} samples",
            text.len(),
            sum.samples
        );

        let mut group = c.benchmark_group(format!("exposition/{name}"));
        group
            .throughput(Throughput::Bytes(text.len() as u64))
            .sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1));
        group.bench_function("watchdeck", |b| b.iter(|| ours(black_box(text)).total));
        group.bench_function("prometheus-parse", |b| b.iter(|| theirs(black_box(text))));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
