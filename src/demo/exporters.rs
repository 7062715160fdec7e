//! What each impersonated exporter says: node_exporter 1.5, mysqld_exporter 0.14,
//! postgres_exporter 0.11, redis_exporter 1.45, the web tier's app metrics (nginx,
//! PHP-FPM, HTTP), a queue exporter and a Pushgateway with backup jobs.
//!
//! Metric names, HELP/TYPE text and label sets are copied from real exporter output; the
//! series are a realistic subset. Every value is computed from a [`Ctx`]: no state is
//! kept between requests.

use chrono::{DateTime, Utc};

use super::fleet::{self, DbRole, EnvDef, MysqlRole, NodeDef};
use super::noise::{self, key, range, smooth, sub, unit, wavy_integral, wavy_rate};
use super::render::{Exposition, Kind, labels};
use super::timeline::{FaultKind, Interventions, TIMELINE, find};

/// The inputs of one response: seed, time and what operators did.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub seed: u64,
    pub now: DateTime<Utc>,
    /// `now` as Unix seconds (millisecond precision).
    pub now_s: f64,
    /// Demo start as Unix seconds.
    pub start_s: f64,
    /// Elapsed demo seconds (never negative).
    pub e: f64,
    pub iv: &'a Interventions,
    /// Serve the hostile-string corpus in alerts.
    pub hostile: bool,
}

impl Ctx<'_> {
    fn k(&self, identity: &str) -> u64 {
        key(self.seed, identity)
    }

    /// Elapsed time the fault started, while it is active.
    pub fn fault_since(&self, kind: FaultKind, env: &str, target: &str) -> Option<f64> {
        find(kind, env, target).and_then(|i| self.iv.active_since(i, self.e))
    }

    pub fn node_down(&self, env: &str, node: &str) -> bool {
        self.fault_since(FaultKind::NodeDown, env, node).is_some()
    }

    /// Seconds the error surge of `env` has been active in total, and since when it is
    /// active now.
    fn surge(&self, env: &str) -> (f64, Option<f64>) {
        let idx = TIMELINE
            .iter()
            .position(|f| f.kind == FaultKind::ErrorSurge && f.env == env);
        match idx {
            Some(i) => (
                self.iv.active_seconds(i, self.e),
                self.iv.active_since(i, self.e),
            ),
            None => (0.0, None),
        }
    }

    /// How long a process that was started `uptime0` seconds before the demo has run.
    fn uptime(&self, identity: &str, min_days: f64, max_days: f64) -> (f64, f64) {
        let u0 = (86_400.0 * range(self.k(identity), min_days, max_days)).round();
        (u0, u0 + self.e)
    }

    /// A small per-scrape duration that changes every second.
    fn jitter(&self, identity: &str, lo: f64, hi: f64) -> f64 {
        let v = range(sub(self.k(identity), self.e.floor() as u64), lo, hi);
        (v * 1e9).round() / 1e9
    }
}

fn round_to(v: f64, step: f64) -> f64 {
    (v / step).round() * step
}

fn floor_to(v: f64, step: f64) -> f64 {
    (v / step).floor() * step
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
const PAGE: f64 = 4096.0;

fn go_build_labels(revision: &str, version: &str) -> Vec<(String, String)> {
    labels(&[
        ("branch", "debian/sid"),
        ("goarch", "amd64"),
        ("goos", "linux"),
        ("goversion", "go1.19.8"),
        ("revision", revision),
        ("version", version),
    ])
}

fn promhttp(x: &mut Exposition, scrapes: f64) {
    for (code, v) in [("200", scrapes.floor()), ("500", 0.0), ("503", 0.0)] {
        x.counter(
            "promhttp_metric_handler_requests_total",
            "Total number of scrapes by HTTP status code.",
            labels(&[("code", code)]),
            v,
        );
    }
}

/// Whether `n` gets a share of its environment's error surge (web tier only).
fn surge_for(ctx: &Ctx<'_>, n: &NodeDef) -> (f64, Option<f64>) {
    if n.web { ctx.surge(n.env) } else { (0.0, None) }
}

// ---------------------------------------------------------------------------------------
// node_exporter

const CPU_MODES: [(&str, f64); 8] = [
    ("idle", 0.0),
    ("iowait", 0.07),
    ("irq", 0.0),
    ("nice", 0.01),
    ("softirq", 0.04),
    ("steal", 0.02),
    ("system", 0.24),
    ("user", 0.62),
];

pub fn node_exporter(ctx: &Ctx<'_>, n: &NodeDef) -> String {
    let id = format!("{}/{}", n.env, n.name);
    let k = ctx.k(&id);
    let (u0, up) = ctx.uptime(&format!("{id}/boot"), 6.0, 60.0);
    let boot = (ctx.start_s - u0).floor();
    let (surge_secs, surge_now) = surge_for(ctx, n);
    let mut x = Exposition::new();

    // CPU: busy seconds integrate a wavy utilisation (plus extra load during an error
    // surge), idle is the rest, so every per-mode counter only grows.
    let base = range(sub(k, 1), 0.08, 0.3);
    let mut util_now = 0.0;
    for cpu in 0..n.cpus {
        let kc = sub(k, 100 + u64::from(cpu));
        let rate = base * range(sub(kc, 1), 0.85, 1.15);
        let period = range(sub(kc, 2), 240.0, 720.0);
        let phase = range(sub(kc, 3), 0.0, std::f64::consts::TAU);
        let busy = wavy_integral(rate, 0.6, period, phase, up) + 0.3 * surge_secs;
        util_now +=
            wavy_rate(rate, 0.6, period, phase, up) + if surge_now.is_some() { 0.3 } else { 0.0 };
        for (mode, share) in CPU_MODES {
            let v = if mode == "idle" {
                up - busy
            } else {
                busy * share
            };
            x.counter(
                "node_cpu_seconds_total",
                "Seconds the CPUs spent in each mode.",
                labels(&[("cpu", &cpu.to_string()), ("mode", mode)]),
                floor_to(v, 0.01),
            );
        }
    }
    let cpus = f64::from(n.cpus);
    let util = util_now / cpus;
    let load1 = cpus * util * (1.0 + 0.15 * smooth(sub(k, 4), ctx.e, 20.0));
    let load5 = cpus * (base + if surge_now.is_some() { 0.2 } else { 0.0 });
    let load15 = cpus * base * 0.95;
    for (name, help, v) in [
        ("node_load1", "1m load average.", load1),
        ("node_load5", "5m load average.", load5),
        ("node_load15", "15m load average.", load15),
    ] {
        x.gauge(name, help, vec![], round_to(v.max(0.0), 0.01));
    }

    // Memory: a used fraction drifting around a per-node level.
    let total = floor_to(f64::from(n.mem_gib) * GIB * 0.975, PAGE);
    let used = range(sub(k, 5), 0.35, 0.7) + 0.08 * smooth(sub(k, 6), ctx.e, 600.0);
    let avail = floor_to(total * (1.0 - used), PAGE);
    for (field, v) in [
        ("Buffers", floor_to(total * 0.012, PAGE)),
        ("Cached", floor_to(avail * 0.55, PAGE)),
        ("MemAvailable", avail),
        ("MemFree", floor_to(avail * 0.32, PAGE)),
        ("MemTotal", total),
        ("SwapFree", 2.0 * GIB),
        ("SwapTotal", 2.0 * GIB),
    ] {
        x.gauge(
            &format!("node_memory_{field}_bytes"),
            &format!("Memory information field {field}_bytes."),
            vec![],
            v,
        );
    }

    // Root filesystem: slowly fills, then log rotation frees space every 6 hours.
    let size = floor_to(f64::from(n.disk_gib) * GIB * 0.98, PAGE);
    let free_frac = range(sub(k, 7), 0.3, 0.75) - 0.03 * ((ctx.now_s % 21_600.0) / 21_600.0);
    let free = floor_to(size * free_frac, PAGE);
    let avail_fs = floor_to(free - size * 0.05, PAGE);
    let fs = labels(&[
        ("device", "/dev/vda1"),
        ("fstype", "ext4"),
        ("mountpoint", "/"),
    ]);
    x.gauge(
        "node_filesystem_avail_bytes",
        "Filesystem space available to non-root users in bytes.",
        fs.clone(),
        avail_fs,
    );
    x.gauge(
        "node_filesystem_free_bytes",
        "Filesystem free space in bytes.",
        fs.clone(),
        free,
    );
    x.gauge(
        "node_filesystem_size_bytes",
        "Filesystem size in bytes.",
        fs.clone(),
        size,
    );
    x.gauge(
        "node_filesystem_files",
        "Filesystem total file nodes.",
        fs.clone(),
        (size / 16384.0).floor(),
    );
    x.gauge(
        "node_filesystem_files_free",
        "Filesystem total free file nodes.",
        fs.clone(),
        (size / 16384.0 * 0.93).floor(),
    );
    x.gauge(
        "node_filesystem_readonly",
        "Filesystem read-only status.",
        fs,
        0.0,
    );

    // Network and disk counters.
    let net_rate = if n.web { 2.5e6 } else { 8e5 } * range(sub(k, 8), 0.7, 1.3);
    let rx = wavy_integral(net_rate, 0.5, 900.0, 0.3, up) + net_rate * 3.0 * surge_secs;
    let tx = wavy_integral(net_rate * 1.8, 0.5, 900.0, 1.1, up) + net_rate * 5.0 * surge_secs;
    let eth = labels(&[("device", "eth0")]);
    x.counter(
        "node_network_receive_bytes_total",
        "Network device statistic receive_bytes.",
        eth.clone(),
        rx.floor(),
    );
    x.counter(
        "node_network_transmit_bytes_total",
        "Network device statistic transmit_bytes.",
        eth.clone(),
        tx.floor(),
    );
    x.counter(
        "node_network_receive_packets_total",
        "Network device statistic receive_packets.",
        eth.clone(),
        (rx / 900.0).floor(),
    );
    x.counter(
        "node_network_transmit_packets_total",
        "Network device statistic transmit_packets.",
        eth.clone(),
        (tx / 1100.0).floor(),
    );
    x.gauge(
        "node_network_up",
        "Value is 1 if operstate is 'up', 0 otherwise.",
        eth,
        1.0,
    );
    let vda = labels(&[("device", "vda")]);
    let disk_rate = range(sub(k, 9), 2e5, 2e6);
    let written = wavy_integral(disk_rate, 0.7, 300.0, 0.7, up);
    x.counter(
        "node_disk_read_bytes_total",
        "The total number of bytes read successfully.",
        vda.clone(),
        floor_to(written * 0.4, 512.0),
    );
    x.counter(
        "node_disk_written_bytes_total",
        "The total number of bytes written successfully.",
        vda.clone(),
        floor_to(written, 512.0),
    );
    x.counter(
        "node_disk_io_time_seconds_total",
        "Total seconds spent doing I/Os.",
        vda,
        floor_to(written / 9e7, 0.001),
    );

    let kernel_rate = 900.0 * cpus * (base + 0.1);
    x.counter(
        "node_context_switches_total",
        "Total number of context switches.",
        vec![],
        wavy_integral(kernel_rate, 0.4, 400.0, 0.2, up).floor(),
    );
    x.counter(
        "node_intr_total",
        "Total number of interrupts serviced.",
        vec![],
        wavy_integral(kernel_rate * 0.6, 0.4, 400.0, 0.9, up).floor(),
    );
    x.counter(
        "node_forks_total",
        "Total number of forks.",
        vec![],
        wavy_integral(3.0, 0.5, 500.0, 0.4, up).floor(),
    );
    x.gauge(
        "node_procs_running",
        "Number of processes in runnable state.",
        vec![],
        (1.0 + util * cpus).round(),
    );
    x.gauge(
        "node_procs_blocked",
        "Number of processes blocked waiting for I/O to complete.",
        vec![],
        if unit(sub(k, ctx.e.floor() as u64)) < 0.1 {
            1.0
        } else {
            0.0
        },
    );

    x.gauge(
        "node_boot_time_seconds",
        "Node boot time, in unixtime.",
        vec![],
        boot,
    );
    x.gauge(
        "node_time_seconds",
        "System time in seconds since epoch (1970).",
        vec![],
        ctx.now_s,
    );
    x.gauge(
        "node_uname_info",
        "Labeled system information as provided by the uname system call.",
        labels(&[
            ("domainname", "(none)"),
            ("machine", "x86_64"),
            ("nodename", n.name),
            ("release", "6.1.0-18-amd64"),
            ("sysname", "Linux"),
            (
                "version",
                "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)",
            ),
        ]),
        1.0,
    );
    if n.web {
        // PHP-FPM gets restarted by its watchdog while the error surge lasts: more than
        // five restarts in ten minutes is one of the cloud design's alert thresholds.
        let restarts = (range(sub(k, 10), 0.0, 3.0).floor() + (surge_secs / 20.0).floor()).floor();
        x.counter(
            "node_systemd_service_restart_total",
            "Service unit count of Restart triggers",
            labels(&[("name", "php8.2-fpm.service")]),
            restarts,
        );
    }
    x.gauge(
        "node_exporter_build_info",
        "A metric with a constant '1' value labeled by version, revision, branch, goversion from which node_exporter was built, and the goos and goarch for the build.",
        go_build_labels("1.5.0-1+b6", "1.5.0"),
        1.0,
    );
    for c in [
        "cpu",
        "diskstats",
        "filesystem",
        "loadavg",
        "meminfo",
        "netdev",
        "systemd",
        "textfile",
        "time",
        "uname",
    ] {
        let l = labels(&[("collector", c)]);
        x.gauge(
            "node_scrape_collector_success",
            "node_exporter: Whether a collector succeeded.",
            l.clone(),
            1.0,
        );
        x.gauge(
            "node_scrape_collector_duration_seconds",
            "node_exporter: Duration of a collector scrape.",
            l,
            ctx.jitter(&format!("{id}/{c}"), 2e-5, 4e-3),
        );
    }
    x.gauge(
        "node_textfile_scrape_error",
        "1 if there was an error opening or reading a file, 0 otherwise",
        vec![],
        0.0,
    );
    x.gauge(
        "process_start_time_seconds",
        "Start time of the process since unix epoch in seconds.",
        vec![],
        boot + 14.37,
    );
    x.gauge(
        "process_resident_memory_bytes",
        "Resident memory size in bytes.",
        vec![],
        floor_to(2.1e7 + 3e6 * smooth(sub(k, 11), ctx.e, 120.0), PAGE),
    );
    x.gauge(
        "go_goroutines",
        "Number of goroutines that currently exist.",
        vec![],
        8.0,
    );
    x.gauge(
        "go_info",
        "Information about the Go environment.",
        labels(&[("version", "go1.19.8")]),
        1.0,
    );
    promhttp(&mut x, up / 15.0);
    x.finish()
}

// ---------------------------------------------------------------------------------------
// App metrics: nginx stub_status, php-fpm_exporter, the application's HTTP histogram.

/// (handler, method, traffic share, mean latency seconds)
const HANDLERS: [(&str, &str, f64, f64); 4] = [
    ("/", "GET", 0.45, 0.06),
    ("/catalog/product/view", "GET", 0.35, 0.09),
    ("/checkout/cart", "POST", 0.12, 0.14),
    ("/rest/V1/orders", "POST", 0.08, 0.21),
];
/// Base code mix: (code, share).
const CODES: [(&str, f64); 5] = [
    ("200", 0.955),
    ("302", 0.02),
    ("404", 0.02),
    ("500", 0.003),
    ("503", 0.002),
];
/// Extra failing requests per request of normal traffic during a surge.
const SURGE_CODES: [(&str, f64); 2] = [("500", 0.07), ("503", 0.05)];
const LE: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const CDF_OK: [f64; 11] = [
    0.01, 0.04, 0.15, 0.35, 0.62, 0.86, 0.95, 0.985, 0.996, 0.999, 1.0,
];
/// Failing requests during a surge mostly wait for upstream timeouts.
const CDF_SURGE: [f64; 11] = [0.0, 0.0, 0.0, 0.0, 0.0, 0.01, 0.03, 0.08, 0.2, 0.45, 0.92];
const SURGE_MEAN_LATENCY: f64 = 5.2;

fn env_rps(env: &str) -> f64 {
    match env {
        "production" => 60.0,
        "staging" => 3.0,
        _ => 1.0,
    }
}

pub fn app(ctx: &Ctx<'_>, n: &NodeDef) -> String {
    let id = format!("{}/{}/app", n.env, n.name);
    let k = ctx.k(&id);
    let (_, up) = ctx.uptime(&format!("{id}/start"), 1.0, 12.0);
    let (surge_secs, surge_now) = surge_for(ctx, n);
    let rps = env_rps(n.env) * range(sub(k, 1), 0.9, 1.1);
    let period = range(sub(k, 2), 600.0, 1200.0);
    let mut x = Exposition::new();
    let mut total = 0.0;
    for (hi, (handler, method, share, mean)) in HANDLERS.iter().enumerate() {
        let phase = f64::from(u8::try_from(hi).unwrap_or(0)) * 0.9;
        let t = wavy_integral(rps * share, 0.35, period, phase, up);
        let mut ok_count = 0.0;
        for (code, cshare) in CODES {
            let v = (t * cshare).floor();
            ok_count += v;
            let extra: f64 = SURGE_CODES
                .iter()
                .filter(|(c, _)| *c == code)
                .map(|(_, s)| (rps * share * s * surge_secs).floor())
                .sum();
            x.counter(
                "http_requests_total",
                "Total number of HTTP requests by status code, handler and method.",
                labels(&[("code", code), ("handler", handler), ("method", method)]),
                v + extra,
            );
        }
        let surge_count: f64 = SURGE_CODES
            .iter()
            .map(|(_, s)| (rps * share * s * surge_secs).floor())
            .sum();
        total += ok_count + surge_count;
        // Cumulative buckets: floor(count × cdf) is monotonic both in time and in `le`.
        let buckets: Vec<(f64, u64)> = LE
            .iter()
            .zip(CDF_OK.iter().zip(CDF_SURGE.iter()))
            .map(|(le, (a, b))| {
                (
                    *le,
                    ((ok_count * a).floor() + (surge_count * b).floor()) as u64,
                )
            })
            .collect();
        let sum = round_to(ok_count * mean + surge_count * SURGE_MEAN_LATENCY, 0.001);
        x.histogram(
            "http_request_duration_seconds",
            "Duration of HTTP requests in seconds.",
            labels(&[("handler", handler), ("method", method)]),
            &buckets,
            sum,
            (ok_count + surge_count) as u64,
        );
    }

    // nginx (nginx-prometheus-exporter over stub_status).
    let surge_on = surge_now.is_some();
    let active = (rps * 0.8 * (1.0 + 0.2 * smooth(sub(k, 3), ctx.e, 30.0))
        + if surge_on { rps * 1.5 } else { 0.0 })
    .round();
    let writing = (active * 0.15).round().max(1.0);
    let reading = (active * 0.02).round();
    let accepted = (total * 0.31).floor();
    x.counter(
        "nginx_connections_accepted",
        "Accepted client connections",
        vec![],
        accepted,
    );
    x.gauge(
        "nginx_connections_active",
        "Active client connections",
        vec![],
        active,
    );
    x.counter(
        "nginx_connections_handled",
        "Handled client connections",
        vec![],
        accepted,
    );
    x.gauge(
        "nginx_connections_reading",
        "Connections where NGINX is reading the request header",
        vec![],
        reading,
    );
    x.gauge(
        "nginx_connections_waiting",
        "Idle client connections",
        vec![],
        (active - writing - reading).max(0.0),
    );
    x.gauge(
        "nginx_connections_writing",
        "Connections where NGINX is writing the response back to the client",
        vec![],
        writing,
    );
    x.counter(
        "nginx_http_requests_total",
        "Total http requests",
        vec![],
        total,
    );
    x.gauge("nginx_up", "Status of the last metric scrape", vec![], 1.0);

    // php-fpm_exporter (hipages) for the `www` pool.
    let pool = labels(&[
        ("pool", "www"),
        ("scrape_uri", "tcp://127.0.0.1:9000/status"),
    ]);
    let max_children = if n.env == "production" { 64.0 } else { 16.0 };
    let busy = (max_children * (0.12 + 0.05 * smooth(sub(k, 4), ctx.e, 45.0))
        + if surge_on { max_children * 0.7 } else { 0.0 })
    .round()
    .clamp(1.0, max_children);
    let idle_procs = (max_children * 0.25)
        .max(busy * 0.3)
        .round()
        .min(max_children - busy)
        .max(0.0);
    let queue = if surge_on { (rps * 0.2).round() } else { 0.0 };
    x.gauge("phpfpm_up", "Could PHP-FPM be reached?", pool.clone(), 1.0);
    x.counter(
        "phpfpm_accepted_connections",
        "The number of requests accepted by the pool.",
        pool.clone(),
        (total * 0.93).floor(),
    );
    x.gauge(
        "phpfpm_active_processes",
        "The number of active processes.",
        pool.clone(),
        busy,
    );
    x.gauge(
        "phpfpm_idle_processes",
        "The number of idle processes.",
        pool.clone(),
        idle_procs,
    );
    x.gauge(
        "phpfpm_total_processes",
        "The number of idle + active processes.",
        pool.clone(),
        busy + idle_procs,
    );
    x.gauge(
        "phpfpm_max_active_processes",
        "The maximum number of active processes since FPM has started.",
        pool.clone(),
        if surge_secs > 0.0 {
            max_children
        } else {
            (max_children * 0.4).round()
        },
    );
    x.gauge(
        "phpfpm_listen_queue",
        "The number of requests in the queue of pending connections.",
        pool.clone(),
        queue,
    );
    x.gauge(
        "phpfpm_listen_queue_length",
        "The size of the socket queue of pending connections.",
        pool.clone(),
        511.0,
    );
    x.gauge(
        "phpfpm_max_listen_queue",
        "The maximum number of requests in the queue of pending connections since FPM has started.",
        pool.clone(),
        if surge_secs > 0.0 {
            (rps * 0.2).round()
        } else {
            0.0
        },
    );
    x.counter("phpfpm_max_children_reached", "The number of times, the process limit has been reached, when pm tries to start more children (works only for pm 'dynamic' and 'ondemand').", pool.clone(), (surge_secs / 30.0).floor());
    x.counter(
        "phpfpm_slow_requests",
        "The number of requests that exceeded your 'request_slowlog_timeout' value.",
        pool.clone(),
        (total * 1e-5).floor() + (rps * 0.05 * surge_secs).floor(),
    );
    x.gauge(
        "phpfpm_start_since",
        "Number of seconds since FPM has started.",
        pool,
        up.floor(),
    );

    if let Some(env) = fleet::env(n.env).filter(|e| e.blue_green) {
        traffic_weights(&mut x, env, ctx.iv.green_weight);
    }
    x.finish()
}

fn traffic_weights(x: &mut Exposition, _env: &EnvDef, green: u8) {
    let green = f64::from(green);
    for (color, w, version) in [
        ("blue", 100.0 - green, "2.13.4"),
        ("green", green, "2.14.0"),
    ] {
        x.gauge(
            "deploy_traffic_weight",
            "Percent of requests the load balancer sends to each deployment color.",
            labels(&[("color", color)]),
            w,
        );
        x.gauge(
            "deploy_release_info",
            "Release deployed on each color.",
            labels(&[("color", color), ("version", version)]),
            1.0,
        );
    }
}

// ---------------------------------------------------------------------------------------
// mysqld_exporter 0.14 (MariaDB 10.11)

const STATUS_HELP: &str = "Generic metric from SHOW GLOBAL STATUS.";
const VARS_HELP: &str = "Generic gauge metric from SHOW GLOBAL VARIABLES.";
const SLAVE_HELP: &str = "Generic metric from SHOW SLAVE STATUS.";

fn db_qps(env: &str) -> f64 {
    match env {
        "production" => 180.0,
        "staging" => 9.0,
        _ => 2.0,
    }
}

pub fn mysqld(ctx: &Ctx<'_>, n: &NodeDef) -> String {
    let Some(m) = &n.mysql else {
        return String::new();
    };
    let id = format!("{}/{}/mysqld", n.env, n.name);
    let k = ctx.k(&id);
    let (_, up) = ctx.uptime(&format!("{id}/start"), 2.0, 40.0);
    let (surge_secs, surge_now) = ctx.surge(n.env);
    let mut x = Exposition::new();

    x.gauge("mysql_up", "Whether the MySQL server is up.", vec![], 1.0);
    x.gauge(
        "mysql_version_info",
        "MySQL version and distribution.",
        labels(&[
            ("innodb_version", ""),
            ("version", "10.11.6-MariaDB-0+deb12u1-log"),
            ("version_comment", "Debian 12"),
        ]),
        1.0,
    );
    x.gauge(
        "mysqld_exporter_build_info",
        "A metric with a constant '1' value labeled by version, revision, branch, goversion from which mysqld_exporter was built, and the goos and goarch for the build.",
        go_build_labels("0.14.0-3+b5", "0.14.0"),
        1.0,
    );

    let qps = db_qps(n.env) * range(sub(k, 1), 0.8, 1.2);
    let queries =
        wavy_integral(qps, 0.4, 600.0, range(sub(k, 2), 0.0, 6.0), up) + qps * 0.5 * surge_secs;
    x.untyped(
        "mysql_global_status_uptime",
        STATUS_HELP,
        vec![],
        up.floor(),
    );
    x.untyped(
        "mysql_global_status_queries",
        STATUS_HELP,
        vec![],
        queries.floor(),
    );
    x.untyped(
        "mysql_global_status_questions",
        STATUS_HELP,
        vec![],
        (queries * 0.98).floor(),
    );
    x.untyped(
        "mysql_global_status_slow_queries",
        STATUS_HELP,
        vec![],
        (queries * 2e-5).floor(),
    );
    x.untyped(
        "mysql_global_status_connections",
        STATUS_HELP,
        vec![],
        (queries * 0.01).floor(),
    );
    x.untyped(
        "mysql_global_status_aborted_connects",
        STATUS_HELP,
        vec![],
        (queries * 1e-6).floor(),
    );
    x.untyped(
        "mysql_global_status_bytes_received",
        STATUS_HELP,
        vec![],
        (queries * 310.0).floor(),
    );
    x.untyped(
        "mysql_global_status_bytes_sent",
        STATUS_HELP,
        vec![],
        (queries * 2900.0).floor(),
    );
    let conns = (qps * 0.25 * (1.0 + 0.2 * smooth(sub(k, 3), ctx.e, 60.0)))
        .round()
        .max(1.0)
        + if surge_now.is_some() && n.web {
            qps * 0.3
        } else {
            0.0
        }
        .round();
    x.untyped(
        "mysql_global_status_threads_connected",
        STATUS_HELP,
        vec![],
        conns,
    );
    x.untyped(
        "mysql_global_status_threads_running",
        STATUS_HELP,
        vec![],
        (conns * 0.1).round().max(1.0),
    );
    for (cmd, share) in [
        ("begin", 0.05),
        ("commit", 0.05),
        ("delete", 0.02),
        ("insert", 0.08),
        ("rollback", 0.001),
        ("select", 0.7),
        ("update", 0.1),
    ] {
        x.counter(
            "mysql_global_status_commands_total",
            "Total number of executed MySQL commands.",
            labels(&[("command", cmd)]),
            (queries * share).floor(),
        );
    }
    let pool_pages = 65_536.0;
    let data = (pool_pages * range(sub(k, 4), 0.6, 0.9)).floor();
    for (state, v) in [
        ("data", data),
        ("free", pool_pages - data - 120.0),
        ("misc", 120.0),
    ] {
        x.gauge(
            "mysql_global_status_buffer_pool_pages",
            "Innodb buffer pool pages by state.",
            labels(&[("state", state)]),
            v,
        );
    }
    x.gauge(
        "mysql_global_variables_max_connections",
        VARS_HELP,
        vec![],
        500.0,
    );
    x.gauge(
        "mysql_global_variables_innodb_buffer_pool_size",
        VARS_HELP,
        vec![],
        pool_pages * 16384.0,
    );
    let replica = matches!(m.role, MysqlRole::Replica { .. });
    x.gauge(
        "mysql_global_variables_read_only",
        VARS_HELP,
        vec![],
        if replica { 1.0 } else { 0.0 },
    );

    match m.role {
        MysqlRole::Galera => galera(ctx, n, m.cluster, &mut x),
        MysqlRole::Single | MysqlRole::Replica { .. } => {
            // A MariaDB server without a wsrep provider still reports these, as zeros
            // (see the mysqld_exporter fixture).
            for name in ["cluster_size", "cluster_status", "connected", "ready"] {
                x.untyped(
                    &format!("mysql_global_status_wsrep_{name}"),
                    STATUS_HELP,
                    vec![],
                    0.0,
                );
            }
            x.gauge(
                "mysql_galera_variables_info",
                "PXC/Galera variables information.",
                labels(&[("wsrep_cluster_name", "my_wsrep_cluster")]),
                1.0,
            );
        }
    }

    if let MysqlRole::Replica { primary } = m.role {
        let primary_ip = fleet::node(n.env, primary).map_or("", |p| p.ip);
        let l = labels(&[
            ("channel_name", ""),
            ("connection_name", ""),
            ("master_host", primary_ip),
            ("master_uuid", ""),
        ]);
        let behind = (2.0 * unit(sub(k, ctx.e.floor() as u64))).floor();
        let pos = (wavy_integral(qps * 420.0, 0.4, 600.0, 0.5, up) % 1_073_741_824.0).floor();
        x.untyped(
            "mysql_slave_status_seconds_behind_master",
            SLAVE_HELP,
            l.clone(),
            behind,
        );
        x.untyped(
            "mysql_slave_status_slave_io_running",
            SLAVE_HELP,
            l.clone(),
            1.0,
        );
        x.untyped(
            "mysql_slave_status_slave_sql_running",
            SLAVE_HELP,
            l.clone(),
            1.0,
        );
        x.untyped(
            "mysql_slave_status_master_server_id",
            SLAVE_HELP,
            l.clone(),
            1.0,
        );
        x.untyped(
            "mysql_slave_status_read_master_log_pos",
            SLAVE_HELP,
            l.clone(),
            pos,
        );
        x.untyped(
            "mysql_slave_status_exec_master_log_pos",
            SLAVE_HELP,
            l.clone(),
            (pos - behind * qps * 420.0).max(4.0).floor(),
        );
        x.untyped(
            "mysql_slave_status_last_io_errno",
            SLAVE_HELP,
            l.clone(),
            0.0,
        );
        x.untyped("mysql_slave_status_last_sql_errno", SLAVE_HELP, l, 0.0);
    }

    x.gauge("mysql_exporter_last_scrape_error", "Whether the last scrape of metrics from MySQL resulted in an error (1 for error, 0 for success).", vec![], 0.0);
    x.counter(
        "mysql_exporter_scrapes_total",
        "Total number of times MySQL was scraped for metrics.",
        vec![],
        (ctx.e / 2.0).floor() + 1.0,
    );
    for c in [
        "collect.global_status",
        "collect.global_variables",
        "collect.slave_status",
        "connection",
    ] {
        x.gauge(
            "mysql_exporter_collector_duration_seconds",
            "Collector time duration.",
            labels(&[("collector", c)]),
            ctx.jitter(&format!("{id}/{c}"), 5e-4, 1.2e-2),
        );
    }
    promhttp(&mut x, ctx.e / 2.0 + 1.0);
    x.finish()
}

fn galera(ctx: &Ctx<'_>, n: &NodeDef, cluster: &str, x: &mut Exposition) {
    let members: Vec<&NodeDef> = fleet::nodes_in(n.env)
        .filter(|o| {
            o.mysql
                .as_ref()
                .is_some_and(|m| m.cluster == cluster && m.role == MysqlRole::Galera)
        })
        .collect();
    let alive = members
        .iter()
        .filter(|o| !ctx.node_down(n.env, o.name))
        .count();
    let index = members.iter().position(|o| o.name == n.name).unwrap_or(0);
    let desync = ctx.fault_since(FaultKind::GaleraDesync, n.env, n.name);
    let k = ctx.k(&format!("{}/{}/galera", n.env, n.name));
    let conf_base = range(sub(k, 1), 3.0, 40.0).floor();
    let (state, ready, recv_queue, fc) = match desync {
        // Donor/Desynced: state 2, not ready, the receive queue piles up.
        Some(since) => (2.0, 0.0, ((ctx.e - since) * 3.5).floor(), 0.0),
        None => (
            4.0,
            1.0,
            (2.0 * unit(sub(k, ctx.e.floor() as u64))).floor(),
            round_to(0.002 * unit(sub(k, 2 + ctx.e.floor() as u64)), 1e-6),
        ),
    };
    x.untyped(
        "mysql_global_status_wsrep_cluster_conf_id",
        STATUS_HELP,
        vec![],
        conf_base + if alive < members.len() { 1.0 } else { 0.0 },
    );
    x.untyped(
        "mysql_global_status_wsrep_cluster_size",
        STATUS_HELP,
        vec![],
        alive as f64,
    );
    // mysqld_exporter maps "Primary" to 1 and "non-Primary"/"Disconnected" to 0.
    x.untyped(
        "mysql_global_status_wsrep_cluster_status",
        STATUS_HELP,
        vec![],
        1.0,
    );
    x.untyped(
        "mysql_global_status_wsrep_connected",
        STATUS_HELP,
        vec![],
        1.0,
    );
    x.untyped(
        "mysql_global_status_wsrep_flow_control_paused",
        STATUS_HELP,
        vec![],
        fc,
    );
    x.untyped(
        "mysql_global_status_wsrep_local_index",
        STATUS_HELP,
        vec![],
        index as f64,
    );
    x.untyped(
        "mysql_global_status_wsrep_local_recv_queue",
        STATUS_HELP,
        vec![],
        recv_queue,
    );
    x.untyped(
        "mysql_global_status_wsrep_local_send_queue",
        STATUS_HELP,
        vec![],
        0.0,
    );
    x.untyped(
        "mysql_global_status_wsrep_local_state",
        STATUS_HELP,
        vec![],
        state,
    );
    x.untyped(
        "mysql_global_status_wsrep_ready",
        STATUS_HELP,
        vec![],
        ready,
    );
    x.gauge(
        "mysql_global_variables_wsrep_desync",
        VARS_HELP,
        vec![],
        if desync.is_some() { 1.0 } else { 0.0 },
    );
    x.gauge(
        "mysql_galera_variables_info",
        "PXC/Galera variables information.",
        labels(&[("wsrep_cluster_name", cluster)]),
        1.0,
    );
}

// ---------------------------------------------------------------------------------------
// postgres_exporter 0.11 (PostgreSQL 15)

/// Seconds prod-pg2 and friends are behind while a replica-lag fault is active.
pub fn pg_lag_seconds(ctx: &Ctx<'_>, env: &str, node: &str) -> Option<f64> {
    ctx.fault_since(FaultKind::ReplicaLag, env, node)
        .map(|since| (45.0 + 1.6 * (ctx.e - since)).floor())
}

fn wal_rate(n: &NodeDef) -> f64 {
    if n.env == "production" { 1.5e6 } else { 5e4 }
}

pub fn postgres(ctx: &Ctx<'_>, n: &NodeDef) -> String {
    let Some(p) = &n.pg else {
        return String::new();
    };
    let id = format!("{}/{}/postgres", n.env, n.name);
    let k = ctx.k(&id);
    let (_, up) = ctx.uptime(&format!("{id}/start"), 3.0, 50.0);
    let server = format!("{}:5432", n.ip);
    let srv = |extra: &[(&str, &str)]| {
        let mut l = labels(&[("server", server.as_str())]);
        l.extend(labels(extra));
        l
    };
    let mut x = Exposition::new();
    x.gauge("pg_up", "Whether the last scrape of metrics from PostgreSQL was able to connect to the server (1 for yes, 0 for no).", vec![], 1.0);
    x.untyped(
        "pg_static",
        "Version string as reported by postgres",
        srv(&[
            ("short_version", "15.6.0"),
            ("version", "PostgreSQL 15.6 (Debian 15.6-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit"),
        ]),
        1.0,
    );
    x.gauge(
        "postgres_exporter_build_info",
        "A metric with a constant '1' value labeled by version, revision, branch, goversion from which postgres_exporter was built, and the goos and goarch for the build.",
        go_build_labels("0.11.1-3+b5", "0.11.1"),
        1.0,
    );

    let tps = if n.env == "production" { 220.0 } else { 5.0 } * range(sub(k, 1), 0.8, 1.2);
    let dbs: [(&str, &str, f64, f64); 4] = [
        ("16384", "commerce", 1.0, 3.9e10),
        ("5", "postgres", 0.002, 7.6e6),
        ("1", "template1", 0.0, 7.5e6),
        ("4", "template0", 0.0, 7.5e6),
    ];
    for (datid, datname, share, size) in dbs {
        let commits = wavy_integral(tps * share, 0.4, 700.0, 0.3, up);
        let l = srv(&[("datid", datid), ("datname", datname)]);
        let growth = if datname == "commerce" {
            1.0 + ctx.e * 2e-7
        } else {
            1.0
        };
        x.gauge(
            "pg_database_size_bytes",
            "Disk space used by the database",
            srv(&[("datname", datname)]),
            floor_to(size * growth, 8192.0),
        );
        let backends = if datname == "commerce" {
            (tps * 0.12 * (1.0 + 0.2 * smooth(sub(k, 2), ctx.e, 60.0))).round()
        } else {
            0.0
        };
        x.gauge("pg_stat_database_numbackends", "Number of backends currently connected to this database. This is the only column in this view that returns a value reflecting current state; all other columns return the accumulated values since the last reset.", l.clone(), backends);
        x.counter(
            "pg_stat_database_xact_commit",
            "Number of transactions in this database that have been committed",
            l.clone(),
            commits.floor(),
        );
        x.counter(
            "pg_stat_database_xact_rollback",
            "Number of transactions in this database that have been rolled back",
            l.clone(),
            (commits * 0.004).floor(),
        );
        x.counter(
            "pg_stat_database_deadlocks",
            "Number of deadlocks detected in this database",
            l.clone(),
            (commits * 1e-8).floor(),
        );
        x.counter("pg_stat_database_blks_hit", "Number of times disk blocks were found already in the buffer cache, so that a read was not necessary (this only includes hits in the PostgreSQL buffer cache, not the operating system's file system cache)", l.clone(), (commits * 41.0).floor());
        x.counter(
            "pg_stat_database_blks_read",
            "Number of disk blocks read in this database",
            l.clone(),
            (commits * 0.6).floor(),
        );
        x.counter(
            "pg_stat_database_tup_fetched",
            "Number of rows fetched by queries in this database",
            l.clone(),
            (commits * 23.0).floor(),
        );
        x.counter(
            "pg_stat_database_tup_inserted",
            "Number of rows inserted by queries in this database",
            l,
            (commits * 0.8).floor(),
        );
    }
    for datname in ["commerce", "postgres"] {
        for state in [
            "active",
            "disabled",
            "fastpath function call",
            "idle",
            "idle in transaction",
            "idle in transaction (aborted)",
        ] {
            let v = match (datname, state) {
                ("commerce", "active") => (tps * 0.02).round().max(1.0),
                ("commerce", "idle") => (tps * 0.1).round(),
                ("commerce", "idle in transaction") => {
                    (unit(sub(k, ctx.e.floor() as u64)) * 2.0).floor()
                }
                ("postgres", "active") => 1.0,
                _ => 0.0,
            };
            x.gauge(
                "pg_stat_activity_count",
                "number of connections in this state",
                srv(&[("datname", datname), ("state", state)]),
                v,
            );
        }
    }
    x.gauge(
        "pg_settings_max_connections",
        "Sets the maximum number of concurrent connections.",
        srv(&[]),
        200.0,
    );
    x.gauge(
        "pg_settings_hot_standby",
        "Allows connections and queries during recovery.",
        srv(&[]),
        1.0,
    );

    let lsn_now = 5.0e10 + wavy_integral(wal_rate(n), 0.5, 500.0, 0.1, ctx.e + 86_400.0);
    match p.role {
        DbRole::Primary | DbRole::Single => {
            let archived = (lsn_now / 16_777_216.0).floor();
            x.counter(
                "pg_stat_archiver_archived_count",
                "Number of WAL files that have been successfully archived",
                srv(&[]),
                archived,
            );
            x.counter(
                "pg_stat_archiver_failed_count",
                "Number of failed attempts for archiving WAL files",
                srv(&[]),
                0.0,
            );
            x.gauge(
                "pg_stat_archiver_last_archive_age",
                "Time in seconds since last WAL segment was successfully archived",
                srv(&[]),
                round_to(ctx.e % 11.0, 0.001),
            );
            let replicas = fleet::nodes_in(n.env).filter(|o| {
                o.pg.as_ref()
                    .is_some_and(|q| q.role == DbRole::Replica { primary: n.name })
            });
            for r in replicas {
                let kr = ctx.k(&format!("{}/{}/walreceiver", r.env, r.name));
                let lag_bytes = match pg_lag_seconds(ctx, r.env, r.name) {
                    Some(s) => (s * wal_rate(n)).floor(),
                    None => (unit(sub(kr, ctx.e.floor() as u64)) * 65_536.0).floor(),
                };
                let slot = format!("{}", 3000 + (unit(kr) * 5000.0).floor() as u32);
                let l = srv(&[
                    ("application_name", r.name),
                    ("client_addr", r.ip),
                    ("slot_name", &slot),
                    ("state", "streaming"),
                ]);
                x.gauge(
                    "pg_stat_replication_pg_current_wal_lsn_bytes",
                    "WAL position in bytes",
                    l.clone(),
                    lsn_now.floor(),
                );
                x.gauge(
                    "pg_stat_replication_pg_wal_lsn_diff",
                    "Lag in bytes between master and slave",
                    l.clone(),
                    lag_bytes,
                );
                x.untyped(
                    "pg_stat_replication_reply_time",
                    "Unknown metric from pg_stat_replication",
                    l,
                    ctx.now_s.floor(),
                );
            }
        }
        DbRole::Replica { .. } => {
            x.counter(
                "pg_stat_archiver_archived_count",
                "Number of WAL files that have been successfully archived",
                srv(&[]),
                0.0,
            );
            x.counter(
                "pg_stat_archiver_failed_count",
                "Number of failed attempts for archiving WAL files",
                srv(&[]),
                0.0,
            );
        }
    }
    // From postgres_exporter's stock queries.yaml (`--extend.query-path`), which is how
    // 0.11 installs get replay lag in seconds; the default metric set lacks it.
    let (is_replica, lag) = match p.role {
        DbRole::Replica { .. } => (
            1.0,
            pg_lag_seconds(ctx, n.env, n.name)
                .unwrap_or_else(|| (unit(sub(k, 7 + ctx.e.floor() as u64)) * 1.5).floor()),
        ),
        _ => (0.0, 0.0),
    };
    x.gauge(
        "pg_replication_is_replica",
        "Indicates if the server is a replica",
        srv(&[]),
        is_replica,
    );
    x.gauge(
        "pg_replication_lag",
        "Replication lag behind master in seconds",
        srv(&[]),
        lag,
    );

    x.gauge(
        "pg_exporter_last_scrape_duration_seconds",
        "Duration of the last scrape of metrics from PostgreSQL.",
        vec![],
        ctx.jitter(&id, 4e-3, 2e-2),
    );
    x.gauge("pg_exporter_last_scrape_error", "Whether the last scrape of metrics from PostgreSQL resulted in an error (1 for error, 0 for success).", vec![], 0.0);
    x.counter(
        "pg_exporter_scrapes_total",
        "Total number of times PostgreSQL was scraped for metrics.",
        vec![],
        (ctx.e / 2.0).floor() + 1.0,
    );
    promhttp(&mut x, ctx.e / 2.0 + 1.0);
    x.finish()
}

// ---------------------------------------------------------------------------------------
// redis_exporter 1.45 (Redis 7.0)

fn redis_rate(n: &NodeDef) -> f64 {
    match n.env {
        "production" => 2.0e5,
        "staging" => 4e3,
        _ => 500.0,
    }
}

/// The primary's replication offset at elapsed `e`.
fn redis_offset(ctx: &Ctx<'_>, primary: &NodeDef, e: f64) -> f64 {
    let k = ctx.k(&format!("{}/{}/redis-offset", primary.env, primary.name));
    (range(k, 1e9, 5e9) + wavy_integral(redis_rate(primary), 0.5, 400.0, 0.2, e + 86_400.0)).floor()
}

/// (replica offset, link up, seconds since last I/O) of a replica.
fn replica_link(ctx: &Ctx<'_>, replica: &NodeDef, primary: &NodeDef) -> (f64, bool, f64) {
    let k = ctx.k(&format!("{}/{}/redis-link", replica.env, replica.name));
    match ctx.fault_since(FaultKind::RedisLinkDown, replica.env, replica.name) {
        Some(since) => (
            redis_offset(ctx, primary, since),
            false,
            (ctx.e - since).floor(),
        ),
        None => {
            let behind = (unit(sub(k, ctx.e.floor() as u64)) * 0.05 * redis_rate(primary)).floor();
            (
                redis_offset(ctx, primary, ctx.e) - behind,
                true,
                (unit(sub(k, 1 + ctx.e.floor() as u64)) * 2.0).floor(),
            )
        }
    }
}

pub fn redis(ctx: &Ctx<'_>, n: &NodeDef) -> String {
    let Some(r) = &n.redis else {
        return String::new();
    };
    let id = format!("{}/{}/redis", n.env, n.name);
    let k = ctx.k(&id);
    let (u0, up) = ctx.uptime(&format!("{id}/start"), 1.0, 30.0);
    let cluster_mode = r.shard.is_some();
    let primary = match r.role {
        DbRole::Replica { primary } => fleet::node(n.env, primary),
        _ => None,
    };
    let role = if primary.is_some() { "slave" } else { "master" };
    let mut x = Exposition::new();
    x.gauge(
        "redis_up",
        "Information about the Redis instance",
        vec![],
        1.0,
    );
    let pid = format!("{}", 600 + (unit(sub(k, 1)) * 4000.0).floor() as u32);
    let run_id = noise::hex(sub(k, 2), 40);
    x.gauge(
        "redis_instance_info",
        "Information about the Redis instance",
        labels(&[
            (
                "maxmemory_policy",
                if cluster_mode {
                    "allkeys-lru"
                } else {
                    "noeviction"
                },
            ),
            ("os", "Linux 6.1.0-18-amd64 x86_64"),
            ("process_id", &pid),
            ("redis_build_id", "ae4d7c971a948f0"),
            (
                "redis_mode",
                if cluster_mode {
                    "cluster"
                } else {
                    "standalone"
                },
            ),
            ("redis_version", "7.0.15"),
            ("role", role),
            ("run_id", &run_id),
            ("tcp_port", "6379"),
        ]),
        1.0,
    );
    x.gauge(
        "redis_exporter_build_info",
        "redis exporter build_info",
        labels(&[
            ("build_date", "20230409-10:15:07"),
            ("commit_sha", "debian/sid"),
            ("golang_version", "go1.19.8"),
            ("version", "1.45.0-2+b4"),
        ]),
        1.0,
    );
    x.gauge(
        "redis_uptime_in_seconds",
        "uptime_in_seconds metric",
        vec![],
        up.floor(),
    );
    x.gauge(
        "redis_start_time_seconds",
        "Start time of the Redis instance since unix epoch in seconds.",
        vec![],
        (ctx.start_s - u0).floor(),
    );
    let ops = redis_rate(n) / 150.0 * if primary.is_some() { 0.3 } else { 1.0 };
    let cmds = wavy_integral(ops, 0.5, 300.0, range(sub(k, 3), 0.0, 6.0), up);
    x.counter(
        "redis_commands_processed_total",
        "commands_processed_total metric",
        vec![],
        cmds.floor(),
    );
    x.counter(
        "redis_keyspace_hits_total",
        "keyspace_hits_total metric",
        vec![],
        (cmds * 0.62).floor(),
    );
    x.counter(
        "redis_keyspace_misses_total",
        "keyspace_misses_total metric",
        vec![],
        (cmds * 0.07).floor(),
    );
    x.counter(
        "redis_expired_keys_total",
        "expired_keys_total metric",
        vec![],
        (cmds * 0.01).floor(),
    );
    x.counter(
        "redis_evicted_keys_total",
        "evicted_keys_total metric",
        vec![],
        0.0,
    );
    x.counter(
        "redis_rejected_connections_total",
        "rejected_connections_total metric",
        vec![],
        0.0,
    );
    x.counter(
        "redis_net_input_bytes_total",
        "net_input_bytes_total metric",
        vec![],
        (cmds * 96.0).floor(),
    );
    x.counter(
        "redis_net_output_bytes_total",
        "net_output_bytes_total metric",
        vec![],
        (cmds * 410.0).floor(),
    );
    x.counter(
        "redis_cpu_sys_seconds_total",
        "cpu_sys_seconds_total metric",
        vec![],
        floor_to(cmds * 4e-6, 0.000001),
    );
    x.counter(
        "redis_cpu_user_seconds_total",
        "cpu_user_seconds_total metric",
        vec![],
        floor_to(cmds * 7e-6, 0.000001),
    );
    let clients = (4.0 + ops * 0.02 * (1.0 + 0.2 * smooth(sub(k, 4), ctx.e, 60.0))).round();
    x.gauge(
        "redis_connected_clients",
        "connected_clients metric",
        vec![],
        clients,
    );
    x.gauge(
        "redis_blocked_clients",
        "blocked_clients metric",
        vec![],
        0.0,
    );
    let keys =
        (range(sub(k, 5), 2e4, 4e5) * (1.0 + 0.03 * smooth(sub(k, 6), ctx.e, 900.0))).floor();
    let mem = floor_to(1.2e6 + keys * 180.0, 8.0);
    x.gauge(
        "redis_memory_used_bytes",
        "memory_used_bytes metric",
        vec![],
        mem,
    );
    x.gauge(
        "redis_memory_max_bytes",
        "memory_max_bytes metric",
        vec![],
        if cluster_mode { 4.0 * GIB } else { 0.0 },
    );
    let dbs = if cluster_mode { 1 } else { 16 };
    for db in 0..dbs {
        let (v, exp) = if db == 0 {
            (keys, (keys * 0.4).floor())
        } else if db == 1 && !cluster_mode {
            ((keys * 0.02).floor(), 0.0)
        } else {
            (0.0, 0.0)
        };
        let l = labels(&[("db", &format!("db{db}"))]);
        x.gauge("redis_db_keys", "Total number of keys by DB", l.clone(), v);
        x.gauge(
            "redis_db_keys_expiring",
            "Total number of expiring keys by DB",
            l,
            exp,
        );
    }
    x.gauge(
        "redis_cluster_enabled",
        "cluster_enabled metric",
        vec![],
        if cluster_mode { 1.0 } else { 0.0 },
    );
    let save_every = 300.0;
    x.gauge(
        "redis_rdb_last_save_timestamp_seconds",
        "rdb_last_save_timestamp_seconds metric",
        vec![],
        (ctx.now_s / save_every).floor() * save_every,
    );
    x.gauge(
        "redis_rdb_changes_since_last_save",
        "rdb_changes_since_last_save metric",
        vec![],
        ((ctx.now_s % save_every) * ops * 0.2).floor(),
    );
    x.gauge(
        "redis_second_repl_offset",
        "second_repl_offset metric",
        vec![],
        -1.0,
    );
    x.gauge(
        "redis_exporter_last_scrape_error",
        "The last scrape error status.",
        labels(&[("err", "")]),
        0.0,
    );

    match primary {
        None => {
            let offset = redis_offset(ctx, n, ctx.e);
            let replicas: Vec<&NodeDef> = fleet::nodes_in(n.env)
                .filter(|o| {
                    o.redis
                        .as_ref()
                        .is_some_and(|q| q.role == DbRole::Replica { primary: n.name })
                })
                .filter(|o| !ctx.node_down(o.env, o.name))
                .collect();
            let mut attached = 0.0;
            for rep in replicas {
                let (rep_offset, link_up, _) = replica_link(ctx, rep, n);
                if !link_up {
                    continue;
                }
                attached += 1.0;
                let l = labels(&[
                    ("slave_ip", rep.ip),
                    ("slave_port", "6379"),
                    ("slave_state", "online"),
                ]);
                let kr = ctx.k(&format!("{}/{}/redis-ack", rep.env, rep.name));
                x.gauge(
                    "redis_connected_slave_lag_seconds",
                    "Lag of connected slave",
                    l.clone(),
                    (unit(sub(kr, ctx.e.floor() as u64)) * 2.0).floor(),
                );
                x.gauge(
                    "redis_connected_slave_offset_bytes",
                    "Offset of connected slave",
                    l,
                    rep_offset,
                );
            }
            x.gauge(
                "redis_connected_slaves",
                "connected_slaves metric",
                vec![],
                attached,
            );
            x.gauge(
                "redis_master_repl_offset",
                "master_repl_offset metric",
                vec![],
                offset,
            );
            x.gauge(
                "redis_repl_backlog_is_active",
                "repl_backlog_is_active metric",
                vec![],
                if attached > 0.0 { 1.0 } else { 0.0 },
            );
        }
        Some(p) => {
            let (offset, link_up, last_io) = replica_link(ctx, n, p);
            let m = labels(&[("master_host", p.ip), ("master_port", "6379")]);
            x.gauge(
                "redis_connected_slaves",
                "connected_slaves metric",
                vec![],
                0.0,
            );
            x.gauge(
                "redis_master_repl_offset",
                "master_repl_offset metric",
                vec![],
                offset,
            );
            x.gauge(
                "redis_repl_backlog_is_active",
                "repl_backlog_is_active metric",
                vec![],
                1.0,
            );
            x.gauge(
                "redis_master_link_up",
                "Master link status on Redis slave",
                m.clone(),
                if link_up { 1.0 } else { 0.0 },
            );
            x.gauge(
                "redis_master_last_io_seconds_ago",
                "Master last io seconds ago",
                m.clone(),
                last_io,
            );
            x.gauge(
                "redis_master_sync_in_progress",
                "Master sync in progress",
                m.clone(),
                0.0,
            );
            x.gauge(
                "redis_slave_repl_offset",
                "Slave replication offset",
                m.clone(),
                offset,
            );
            let mut info = m;
            info.push(("read_only".to_owned(), "1".to_owned()));
            x.gauge(
                "redis_slave_info",
                "Information about the Redis slave",
                info,
                1.0,
            );
        }
    }
    x.finish()
}

// ---------------------------------------------------------------------------------------
// Queues (an application exporter; read with the generic preset)

pub fn queues(ctx: &Ctx<'_>, env: &EnvDef) -> String {
    let (_, surge_now) = ctx.surge(env.name);
    let mut x = Exposition::new();
    for (i, q) in env.queues.iter().enumerate() {
        let k = ctx.k(&format!("{}/queue/{q}", env.name));
        let l = labels(&[("queue", q)]);
        let rate = range(sub(k, 1), 2.0, 25.0);
        let mut depth =
            (rate * range(sub(k, 2), 2.0, 8.0) * (1.0 + 0.5 * smooth(sub(k, 3), ctx.e, 90.0)))
                .round();
        // Failing order exports during the error surge back up and dead-letter.
        let mut dead = 0.0;
        if *q == "order_export"
            && let Some(since) = surge_now
        {
            depth += ((ctx.e - since) * 1.5).floor();
            dead = ((ctx.e - since) * 0.4).floor();
        }
        if *q == "ai_schedule_generation" {
            // Three poison messages nobody has cleaned up: the silenced alert's cause.
            dead = 3.0;
        }
        x.gauge(
            "queue_messages",
            "Messages waiting in the queue.",
            l.clone(),
            depth.max(0.0),
        );
        x.gauge(
            "queue_dead_letter_messages",
            "Messages in the queue's dead-letter queue.",
            l.clone(),
            dead,
        );
        x.gauge(
            "queue_consumers",
            "Consumers attached to the queue.",
            l.clone(),
            [4.0, 2.0, 3.0, 1.0][i % 4],
        );
        x.counter(
            "queue_messages_processed_total",
            "Messages consumed and acknowledged.",
            l,
            wavy_integral(rate, 0.5, 300.0, 0.4, ctx.e + 86_400.0).floor(),
        );
    }
    x.finish()
}

// ---------------------------------------------------------------------------------------
// Pushgateway 1.5 with backup jobs

/// The last successful run of a backup job as the Pushgateway reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackupView {
    pub last_success: f64,
    pub size: f64,
    pub duration: f64,
    pub push_time: f64,
    pub failure_time: f64,
}

pub fn backup_view(ctx: &Ctx<'_>, env: &EnvDef, b: &fleet::BackupDef) -> BackupView {
    let k = ctx.k(&format!("{}/backup/{}", env.name, b.service));
    let interval = b.interval_secs as f64;
    let phase = (range(sub(k, 1), 0.0, interval)).floor();
    let run = |idx: f64| {
        let kk = sub(k, 1000 + idx.max(0.0) as u64);
        let start = phase + idx * interval;
        let dur = (b.duration_secs * range(sub(kk, 1), 0.8, 1.25)).round();
        let size = (b.size_bytes * range(sub(kk, 2), 0.97, 1.03)).floor();
        (start + dur, size, dur)
    };
    // The newest run that has finished by now.
    let mut idx = ((ctx.now_s - phase) / interval).floor();
    let mut last = run(idx);
    if last.0 > ctx.now_s {
        idx -= 1.0;
        last = run(idx);
    }
    let mut failure_time = 0.0;
    let missed = find(FaultKind::BackupMissed, env.name, b.service)
        .and_then(|i| ctx.iv.active_since(i, ctx.e));
    if let Some(since) = missed {
        // The job has been failing: the last success predates the RPO by a minute.
        let pinned = ctx.start_s + since - (b.rpo_secs as f64 + 60.0);
        let pinned_idx = ((pinned - phase) / interval).floor();
        last = (pinned.floor(), run(pinned_idx).1, run(pinned_idx).2);
        failure_time = (ctx.start_s + since)
            .max(last.0 + interval)
            .min(ctx.now_s)
            .floor();
    } else if let Some(at) = ctx.iv.manual_backup(env.name, b.service, ctx.e) {
        let manual = (ctx.start_s + at).floor();
        if manual > last.0 {
            last = (manual, b.size_bytes.floor(), b.duration_secs);
        }
    }
    BackupView {
        last_success: last.0,
        size: last.1,
        duration: last.2,
        push_time: last.0 + 0.48,
        failure_time,
    }
}

pub fn pushgateway(ctx: &Ctx<'_>, env: &EnvDef) -> String {
    let mut x = Exposition::new();
    for b in env.backups {
        let v = backup_view(ctx, env, b);
        let l = labels(&[
            ("env", env.name),
            ("instance", b.instance),
            ("job", "backup"),
            ("service", b.service),
        ]);
        // Pushed without HELP, as the backup script does (see the Pushgateway fixture).
        x.sample(
            "backup_last_duration_seconds",
            None,
            Kind::Gauge,
            l.clone(),
            v.duration,
        );
        x.sample(
            "backup_last_size_bytes",
            None,
            Kind::Gauge,
            l.clone(),
            v.size,
        );
        x.sample(
            "backup_last_success_timestamp_seconds",
            None,
            Kind::Gauge,
            l.clone(),
            v.last_success,
        );
        x.gauge(
            "push_failure_time_seconds",
            "Last Unix time when changing this group in the Pushgateway failed.",
            l.clone(),
            v.failure_time,
        );
        x.gauge(
            "push_time_seconds",
            "Last Unix time when changing this group in the Pushgateway succeeded.",
            l,
            v.push_time,
        );
    }
    x.gauge(
        "pushgateway_build_info",
        "A metric with a constant '1' value labeled by version, revision, branch, goversion from which pushgateway was built, and the goos and goarch for the build.",
        go_build_labels("1.5.1-2+b5", "1.5.1"),
        1.0,
    );
    // The Pushgateway's own process, pushes and scrapes.
    let k = ctx.k(&format!("{}/pushgateway", env.name));
    let (u0, up) = ctx.uptime(&format!("{}/pushgateway/start", env.name), 5.0, 90.0);
    let pushes: f64 = env
        .backups
        .iter()
        .map(|b| (up / b.interval_secs as f64).floor())
        .sum();
    x.gauge(
        "go_goroutines",
        "Number of goroutines that currently exist.",
        vec![],
        11.0,
    );
    x.gauge(
        "go_info",
        "Information about the Go environment.",
        labels(&[("version", "go1.19.8")]),
        1.0,
    );
    x.gauge("go_threads", "Number of OS threads created.", vec![], 8.0);
    x.gauge(
        "go_memstats_alloc_bytes",
        "Number of bytes allocated and still in use.",
        vec![],
        floor_to(3.2e6 + 4e5 * smooth(sub(k, 1), ctx.e, 60.0), 8.0),
    );
    x.counter(
        "process_cpu_seconds_total",
        "Total user and system CPU time spent in seconds.",
        vec![],
        floor_to(up * 2e-4, 0.01),
    );
    x.gauge(
        "process_max_fds",
        "Maximum number of open file descriptors.",
        vec![],
        1_048_576.0,
    );
    x.gauge(
        "process_open_fds",
        "Number of open file descriptors.",
        vec![],
        10.0,
    );
    x.gauge(
        "process_resident_memory_bytes",
        "Resident memory size in bytes.",
        vec![],
        floor_to(1.6e7 + 1e6 * smooth(sub(k, 2), ctx.e, 90.0), PAGE),
    );
    x.gauge(
        "process_start_time_seconds",
        "Start time of the process since unix epoch in seconds.",
        vec![],
        round_to(ctx.start_s - u0, 0.01),
    );
    x.gauge(
        "process_virtual_memory_bytes",
        "Virtual memory size in bytes.",
        vec![],
        7.3e8,
    );
    for (code, handler, method, v) in [
        ("200", "push", "post", pushes),
        ("202", "delete", "delete", 0.0),
        ("200", "status", "get", (up / 3600.0).floor()),
    ] {
        x.counter(
            "pushgateway_http_requests_total",
            "Total HTTP requests processed by the Pushgateway, excluding scrapes.",
            labels(&[("code", code), ("handler", handler), ("method", method)]),
            v,
        );
    }
    promhttp(&mut x, up / 15.0);
    x.finish()
}
