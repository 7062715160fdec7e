//! node_exporter → [`Node`]: CPU from `node_cpu_seconds_total` rates, memory from
//! MemAvailable/MemTotal, root disk from the `/` filesystem, load and uptime.
//!
//! node_exporter ≥1.8 puts a `device_error` label on every `node_filesystem_*` series
//! (empty when statfs worked). Series are matched by a label subset, so the extra label
//! alone changes nothing; but a filesystem whose `device_error` is set, or whose
//! `node_filesystem_device_error` is 1, has no trustworthy size, so the root disk is
//! then unknown rather than computed from a stale or zero value.

use super::{Input, Output, expect, finite, secs};
use crate::store::model::Node;

/// What this preset reads.
pub(super) const METRICS: &[&str] = &[
    "node_cpu_seconds_total",
    "node_memory_MemTotal_bytes",
    "node_memory_MemAvailable_bytes",
    "node_filesystem_avail_bytes",
    "node_filesystem_size_bytes",
    "node_filesystem_device_error",
    "node_load1",
    "node_boot_time_seconds",
    "node_time_seconds",
];

/// CPU is averaged over this window (or what history there is, if shorter).
const CPU_WINDOW_SECS: i64 = 60;

pub(super) fn derive(input: &Input<'_>, out: &mut Output) {
    expect(
        input,
        out,
        &[
            &["node_cpu_seconds_total"],
            &["node_memory_MemTotal_bytes"],
            &["node_memory_MemAvailable_bytes"],
            &["node_filesystem_avail_bytes"],
            &["node_filesystem_size_bytes"],
            &["node_load1"],
            &["node_boot_time_seconds"],
        ],
    );
    let t = input.table;
    let mem_total = t.value("node_memory_MemTotal_bytes", &[]);
    let mem_avail = t.value("node_memory_MemAvailable_bytes", &[]);
    let memory_percent = match (mem_total, mem_avail) {
        (Some(total), Some(avail)) if total > 0.0 => Some(100.0 * (1.0 - avail / total)),
        _ => None,
    };
    let root_failed = t.value("node_filesystem_device_error", &ROOT) == Some(1.0);
    let disk_size = root_value(input, "node_filesystem_size_bytes");
    let disk_avail = root_value(input, "node_filesystem_avail_bytes");
    let root_disk_percent = match (disk_size, disk_avail) {
        (Some(size), Some(avail)) if size > 0.0 && !root_failed => {
            Some(100.0 * (1.0 - avail / size))
        }
        _ => None,
    };
    let uptime = match (
        t.value("node_time_seconds", &[]),
        t.value("node_boot_time_seconds", &[]),
    ) {
        (Some(now), Some(boot)) => secs(now - boot),
        (None, Some(boot)) => secs(input.now.timestamp() as f64 - boot),
        _ => None,
    };
    out.nodes.push(Node {
        environment: input.env.name.clone(),
        name: input.node_name(),
        role: input.metrics.placement.role.clone(),
        cluster: input.metrics.placement.cluster.clone(),
        up: input.up,
        cpu_percent: cpu_percent(input),
        memory_percent,
        root_disk_percent,
        load1: finite(t.value("node_load1", &[])),
        uptime,
        source: input.spec.id,
    });
}

const ROOT: [(&str, &str); 1] = [("mountpoint", "/")];

/// The `/` filesystem's value, from a series without a device error (≥1.8 label).
fn root_value(input: &Input<'_>, name: &str) -> Option<f64> {
    input
        .table
        .named(name)
        .find(|s| {
            s.label("mountpoint") == Some("/") && s.label("device_error").is_none_or(str::is_empty)
        })
        .map(|s| s.value)
}

/// 100 × (1 − idle rate / all modes' rate), summed over CPUs.
fn cpu_percent(input: &Input<'_>) -> Option<f64> {
    let t = input.table;
    let window = chrono::Duration::seconds(CPU_WINDOW_SECS);
    let (mut idle, mut all) = (0.0, 0.0);
    let mut any = false;
    for s in t.named("node_cpu_seconds_total") {
        let Some(r) = t.rate(s, window) else { continue };
        any = true;
        all += r;
        if s.label("mode") == Some("idle") {
            idle += r;
        }
    }
    (any && all > 0.0).then(|| (100.0 * (1.0 - idle / all)).clamp(0.0, 100.0))
}
