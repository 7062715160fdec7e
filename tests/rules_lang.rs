//! The rule expression language end to end: parse, print, evaluate against `MemoryData`.

use chrono::{DateTime, TimeZone, Utc};
use watchdeck::config::settings::SourceId;
use watchdeck::rules::data::{MemoryData, label_set};
use watchdeck::rules::lang::{EvalError, Expr, Sample, Value, parse};

fn now() -> DateTime<Utc> {
    Utc.timestamp_opt(1_795_300_000, 0)
        .single()
        .expect("valid time")
}

fn ago(secs: i64) -> DateTime<Utc> {
    now() - chrono::Duration::seconds(secs)
}

fn hist(points: &[(i64, f64)]) -> Vec<(DateTime<Utc>, f64)> {
    points.iter().map(|&(t, v)| (ago(t), v)).collect()
}

/// Push a current series with a source and no history.
fn put(d: &mut MemoryData, name: &str, labels: &[(&str, &str)], value: f64, src: Option<u32>) {
    d.push_full(
        name,
        label_set(labels.iter().copied()),
        value,
        false,
        src.map(SourceId),
        Vec::new(),
    );
}

fn fixture() -> MemoryData {
    let mut d = MemoryData::new(now());
    put(
        &mut d,
        "up",
        &[("env", "prod"), ("node", "a"), ("job", "node")],
        1.0,
        Some(1),
    );
    put(
        &mut d,
        "up",
        &[("env", "prod"), ("node", "b"), ("job", "node")],
        0.0,
        Some(2),
    );
    put(
        &mut d,
        "up",
        &[("env", "dev"), ("node", "c"), ("job", "mysql")],
        1.0,
        Some(3),
    );
    put(
        &mut d,
        "mem_avail",
        &[("env", "prod"), ("node", "a")],
        25.0,
        Some(1),
    );
    put(
        &mut d,
        "mem_avail",
        &[("env", "prod"), ("node", "b")],
        5.0,
        Some(2),
    );
    put(
        &mut d,
        "mem_total",
        &[("env", "prod"), ("node", "a")],
        100.0,
        Some(1),
    );
    put(
        &mut d,
        "mem_total",
        &[("env", "prod"), ("node", "b")],
        100.0,
        Some(2),
    );
    put(
        &mut d,
        "node_role",
        &[("node", "a"), ("role", "primary")],
        1.0,
        None,
    );
    put(
        &mut d,
        "node_role",
        &[("node", "b"), ("role", "replica")],
        1.0,
        None,
    );
    put(&mut d, "env_limit", &[("env", "prod")], 10.0, Some(9));
    put(&mut d, "nan_metric", &[("k", "x")], f64::NAN, None);
    put(&mut d, "neg", &[("k", "x")], -3.0, None);
    put(&mut d, "colon:metric", &[("k", "x")], 7.0, None);
    // Galera: 2 of 3 nodes ready in prod/c1; 5 expected → quorum 2.5.
    for (node, v) in [("a", 1.0), ("b", 1.0), ("c", 0.0)] {
        put(
            &mut d,
            "galera_ready",
            &[("env", "prod"), ("cluster", "c1"), ("node", node)],
            v,
            Some(4),
        );
    }
    put(
        &mut d,
        "galera_cluster_expected",
        &[("env", "prod"), ("cluster", "c1")],
        5.0,
        None,
    );
    put(
        &mut d,
        "backup_age_seconds",
        &[("env", "prod"), ("service", "db"), ("node", "a")],
        90_000.0,
        Some(5),
    );
    put(
        &mut d,
        "backup_age_seconds",
        &[("env", "prod"), ("service", "web"), ("node", "a")],
        60.0,
        Some(5),
    );
    put(
        &mut d,
        "backup_rpo_seconds",
        &[("env", "prod"), ("service", "db")],
        86_400.0,
        None,
    );
    put(
        &mut d,
        "backup_rpo_seconds",
        &[("env", "prod"), ("service", "web")],
        86_400.0,
        None,
    );
    put(
        &mut d,
        "replication_lag_seconds",
        &[("env", "prod"), ("replica", "b")],
        45.0,
        Some(2),
    );
    put(
        &mut d,
        "replication_lag_seconds",
        &[("env", "prod"), ("replica", "c")],
        3.0,
        Some(3),
    );
    // Counters with history.
    type Counter<'a> = (&'a [(&'a str, &'a str)], &'a [(i64, f64)]);
    let counters: &[Counter] = &[
        (
            &[("env", "prod"), ("node", "a"), ("code", "200")],
            &[
                (240, 0.0),
                (180, 100.0),
                (120, 200.0),
                (60, 300.0),
                (0, 400.0),
            ],
        ),
        (
            // A counter reset between 120 s and 60 s ago.
            &[("env", "prod"), ("node", "a"), ("code", "500")],
            &[(240, 0.0), (180, 10.0), (120, 20.0), (60, 5.0), (0, 15.0)],
        ),
        (
            &[("env", "prod"), ("node", "b"), ("code", "200")],
            &[(60, 100.0), (0, 200.0)],
        ),
        (
            &[("env", "dev"), ("node", "c"), ("code", "503")],
            &[(0, 7.0)],
        ),
    ];
    for (labels, points) in counters {
        let last = points.last().map_or(0.0, |p| p.1);
        d.push_full(
            "http_requests_total",
            label_set(labels.iter().copied()),
            last,
            false,
            Some(SourceId(6)),
            hist(points),
        );
    }
    d.push_full(
        "temp",
        label_set([("node", "a")]),
        3.0,
        false,
        None,
        hist(&[(250, 5.0), (200, 1.0), (100, 4.0), (0, 3.0)]),
    );
    d.push_full(
        "node_systemd_service_restart_total",
        label_set([("node", "a"), ("unit", "mysql")]),
        9.0,
        false,
        None,
        hist(&[(900, 0.0), (500, 2.0), (100, 9.0)]),
    );
    d
}

fn render_value(v: f64) -> String {
    if v.is_finite() {
        format!("{}", (v * 1e9).round() / 1e9)
    } else {
        format!("{v}")
    }
}

fn render_sample(s: &Sample) -> String {
    let labels: Vec<String> = s
        .labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{v}\""))
        .collect();
    format!(
        "{}{{{}}} {}",
        s.name.as_deref().unwrap_or(""),
        labels.join(", "),
        render_value(s.value)
    )
}

fn run(data: &MemoryData, text: &str) -> Vec<String> {
    let e = parse(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
    match e.eval(data).unwrap_or_else(|e| panic!("{text}: {e}")) {
        Value::Vector(v) => {
            let mut out: Vec<String> = v.iter().map(render_sample).collect();
            out.sort();
            out
        }
        Value::Scalar(s) => vec![format!("scalar {}", render_value(s))],
    }
}

fn vector(data: &MemoryData, text: &str) -> Vec<Sample> {
    match parse(text).unwrap().eval(data).unwrap() {
        Value::Vector(v) => v,
        Value::Scalar(_) => panic!("{text}: scalar"),
    }
}

const EVAL_CASES: &[(&str, &[&str])] = &[
    // Selectors, each matcher kind.
    (
        "up",
        &[
            "up{env=\"dev\", job=\"mysql\", node=\"c\"} 1",
            "up{env=\"prod\", job=\"node\", node=\"a\"} 1",
            "up{env=\"prod\", job=\"node\", node=\"b\"} 0",
        ],
    ),
    (
        "up{env=\"prod\", node=\"a\"}",
        &["up{env=\"prod\", job=\"node\", node=\"a\"} 1"],
    ),
    (
        "up{env!=\"prod\"}",
        &["up{env=\"dev\", job=\"mysql\", node=\"c\"} 1"],
    ),
    (
        "up{node=~\"a|b\", job='node',}",
        &[
            "up{env=\"prod\", job=\"node\", node=\"a\"} 1",
            "up{env=\"prod\", job=\"node\", node=\"b\"} 0",
        ],
    ),
    // Regexes are anchored: "a" does not match "prod".
    ("up{env=~\"r\"}", &[]),
    (
        "up{env!~\"pr.*\"}",
        &["up{env=\"dev\", job=\"mysql\", node=\"c\"} 1"],
    ),
    // A missing label matches as "".
    (
        "up{missing=\"\"}",
        &[
            "up{env=\"dev\", job=\"mysql\", node=\"c\"} 1",
            "up{env=\"prod\", job=\"node\", node=\"a\"} 1",
            "up{env=\"prod\", job=\"node\", node=\"b\"} 0",
        ],
    ),
    (
        "up{__name__=\"up\", node=\"c\"}",
        &["up{env=\"dev\", job=\"mysql\", node=\"c\"} 1"],
    ),
    ("colon:metric", &["colon:metric{k=\"x\"} 7"]),
    ("does_not_exist", &[]),
    // Literals and scalars.
    ("1 + 2 * 3", &["scalar 7"]),
    ("2 ^ 3 ^ 2", &["scalar 512"]),
    ("-2 ^ 2", &["scalar -4"]),
    ("(-2) ^ 2", &["scalar 4"]),
    ("(1 + 2) * 3", &["scalar 9"]),
    ("10 - 2 - 3", &["scalar 5"]),
    ("7 % 4", &["scalar 3"]),
    ("-7 % 4", &["scalar -3"]),
    ("1e3 / 0.5", &["scalar 2000"]),
    ("1 / 0", &["scalar inf"]),
    ("NaN", &["scalar NaN"]),
    ("-Inf", &["scalar -inf"]),
    ("2 > bool 1", &["scalar 1"]),
    ("NaN == bool NaN", &["scalar 0"]),
    ("NaN != bool NaN", &["scalar 1"]),
    ("time()", &["scalar 1795300000"]),
    ("time() - 100", &["scalar 1795299900"]),
    ("scalar(env_limit)", &["scalar 10"]),
    ("scalar(up)", &["scalar NaN"]),
    ("vector(3)", &["{} 3"]),
    ("vector(time() - time())", &["{} 0"]),
    // Arithmetic drops the name; scalar–vector both ways.
    (
        "mem_avail * 2",
        &[
            "{env=\"prod\", node=\"a\"} 50",
            "{env=\"prod\", node=\"b\"} 10",
        ],
    ),
    (
        "100 - mem_avail",
        &[
            "{env=\"prod\", node=\"a\"} 75",
            "{env=\"prod\", node=\"b\"} 95",
        ],
    ),
    (
        "-mem_avail",
        &[
            "{env=\"prod\", node=\"a\"} -25",
            "{env=\"prod\", node=\"b\"} -5",
        ],
    ),
    (
        "+mem_avail",
        &[
            "mem_avail{env=\"prod\", node=\"a\"} 25",
            "mem_avail{env=\"prod\", node=\"b\"} 5",
        ],
    ),
    // Vector–vector one-to-one on all labels.
    (
        "mem_avail / mem_total",
        &[
            "{env=\"prod\", node=\"a\"} 0.25",
            "{env=\"prod\", node=\"b\"} 0.05",
        ],
    ),
    (
        "100 * (1 - mem_avail / mem_total) > 90",
        &["{env=\"prod\", node=\"b\"} 95"],
    ),
    // on(): only the on labels remain (PromQL).
    (
        "mem_avail + on(node) mem_total",
        &["{node=\"a\"} 125", "{node=\"b\"} 105"],
    ),
    (
        "mem_avail + ignoring(env) mem_total",
        &["{node=\"a\"} 125", "{node=\"b\"} 105"],
    ),
    // group_left: many-to-one, copying labels from the one side.
    (
        "mem_avail * on(node) group_left(role) node_role",
        &[
            "{env=\"prod\", node=\"a\", role=\"primary\"} 25",
            "{env=\"prod\", node=\"b\", role=\"replica\"} 5",
        ],
    ),
    (
        "mem_avail / on(env) group_left env_limit",
        &[
            "{env=\"prod\", node=\"a\"} 2.5",
            "{env=\"prod\", node=\"b\"} 0.5",
        ],
    ),
    (
        "env_limit - on(env) group_right mem_avail",
        &[
            "{env=\"prod\", node=\"a\"} -15",
            "{env=\"prod\", node=\"b\"} 5",
        ],
    ),
    // Filtering comparison with group_left keeps the many side's name and labels.
    (
        "mem_avail > on(env) group_left env_limit",
        &["mem_avail{env=\"prod\", node=\"a\"} 25"],
    ),
    // group_right filter keeps the left (one side) value, the right side's labels.
    (
        "env_limit < on(env) group_right mem_avail",
        &["mem_avail{env=\"prod\", node=\"a\"} 10"],
    ),
    // Comparisons: filter keeps the left value and name; bool yields 0/1 without name.
    (
        "up == 1",
        &[
            "up{env=\"dev\", job=\"mysql\", node=\"c\"} 1",
            "up{env=\"prod\", job=\"node\", node=\"a\"} 1",
        ],
    ),
    ("up != 1", &["up{env=\"prod\", job=\"node\", node=\"b\"} 0"]),
    (
        "up >= 1",
        &[
            "up{env=\"dev\", job=\"mysql\", node=\"c\"} 1",
            "up{env=\"prod\", job=\"node\", node=\"a\"} 1",
        ],
    ),
    ("up <= 0", &["up{env=\"prod\", job=\"node\", node=\"b\"} 0"]),
    ("up < 1", &["up{env=\"prod\", job=\"node\", node=\"b\"} 0"]),
    (
        "0.5 < up",
        &[
            "up{env=\"dev\", job=\"mysql\", node=\"c\"} 1",
            "up{env=\"prod\", job=\"node\", node=\"a\"} 1",
        ],
    ),
    (
        "up == bool 1",
        &[
            "{env=\"dev\", job=\"mysql\", node=\"c\"} 1",
            "{env=\"prod\", job=\"node\", node=\"a\"} 1",
            "{env=\"prod\", job=\"node\", node=\"b\"} 0",
        ],
    ),
    ("mem_avail > mem_total", &[]),
    (
        "mem_avail < bool mem_total",
        &[
            "{env=\"prod\", node=\"a\"} 1",
            "{env=\"prod\", node=\"b\"} 1",
        ],
    ),
    (
        "mem_avail < mem_total",
        &[
            "mem_avail{env=\"prod\", node=\"a\"} 25",
            "mem_avail{env=\"prod\", node=\"b\"} 5",
        ],
    ),
    // NaN comparisons follow IEEE.
    ("nan_metric > 0", &[]),
    ("nan_metric < 0", &[]),
    ("nan_metric == nan_metric", &[]),
    ("nan_metric != 0", &["nan_metric{k=\"x\"} NaN"]),
    ("nan_metric > bool 0", &["{k=\"x\"} 0"]),
    // Set operators keep names.
    ("up and mem_avail", &[]),
    (
        "up and on(node) mem_avail",
        &[
            "up{env=\"prod\", job=\"node\", node=\"a\"} 1",
            "up{env=\"prod\", job=\"node\", node=\"b\"} 0",
        ],
    ),
    (
        "up unless on(node) mem_avail",
        &["up{env=\"dev\", job=\"mysql\", node=\"c\"} 1"],
    ),
    (
        "up unless ignoring(job) mem_avail",
        &["up{env=\"dev\", job=\"mysql\", node=\"c\"} 1"],
    ),
    (
        "mem_avail or up",
        &[
            "mem_avail{env=\"prod\", node=\"a\"} 25",
            "mem_avail{env=\"prod\", node=\"b\"} 5",
            "up{env=\"dev\", job=\"mysql\", node=\"c\"} 1",
            "up{env=\"prod\", job=\"node\", node=\"a\"} 1",
            "up{env=\"prod\", job=\"node\", node=\"b\"} 0",
        ],
    ),
    (
        "mem_avail or on(node) up",
        &[
            "mem_avail{env=\"prod\", node=\"a\"} 25",
            "mem_avail{env=\"prod\", node=\"b\"} 5",
            "up{env=\"dev\", job=\"mysql\", node=\"c\"} 1",
        ],
    ),
    // `and` binds tighter than `or`.
    (
        "up == 0 or up{env=\"dev\"} and up == 1",
        &[
            "up{env=\"dev\", job=\"mysql\", node=\"c\"} 1",
            "up{env=\"prod\", job=\"node\", node=\"b\"} 0",
        ],
    ),
    // Aggregations.
    ("sum(up)", &["{} 2"]),
    (
        "sum by (env) (up)",
        &["{env=\"dev\"} 1", "{env=\"prod\"} 1"],
    ),
    ("sum(up) by (env)", &["{env=\"dev\"} 1", "{env=\"prod\"} 1"]),
    (
        "count without (node) (up)",
        &[
            "{env=\"dev\", job=\"mysql\"} 1",
            "{env=\"prod\", job=\"node\"} 2",
        ],
    ),
    (
        "count(up) without (node, job)",
        &["{env=\"dev\"} 1", "{env=\"prod\"} 2"],
    ),
    (
        "min by (env) (up)",
        &["{env=\"dev\"} 1", "{env=\"prod\"} 0"],
    ),
    (
        "max by (env) (up)",
        &["{env=\"dev\"} 1", "{env=\"prod\"} 1"],
    ),
    ("avg by (env) (mem_avail)", &["{env=\"prod\"} 15"]),
    ("avg(up)", &["{} 0.666666667"]),
    // A `by` label nobody has is left out of the group's labels.
    (
        "sum by (env, nothing) (up)",
        &["{env=\"dev\"} 1", "{env=\"prod\"} 1"],
    ),
    ("sum by () (up)", &["{} 2"]),
    ("sum(does_not_exist)", &[]),
    ("max(nan_metric or vector(-3))", &["{} -3"]),
    ("min(nan_metric or vector(-3))", &["{} -3"]),
    // Range functions.
    (
        "rate(http_requests_total[5m])",
        &[
            "{code=\"200\", env=\"prod\", node=\"a\"} 1.666666667",
            "{code=\"200\", env=\"prod\", node=\"b\"} 1.666666667",
            "{code=\"500\", env=\"prod\", node=\"a\"} 0.145833333",
        ],
    ),
    (
        "increase(http_requests_total[5m])",
        &[
            "{code=\"200\", env=\"prod\", node=\"a\"} 400",
            "{code=\"200\", env=\"prod\", node=\"b\"} 100",
            "{code=\"500\", env=\"prod\", node=\"a\"} 35",
        ],
    ),
    // Window (now-150s, now]: points at 120, 60, 0 seconds ago.
    (
        "increase(http_requests_total{code=\"500\"}[150s])",
        &["{code=\"500\", env=\"prod\", node=\"a\"} 15"],
    ),
    (
        "delta(http_requests_total{code=\"500\"}[5m])",
        &["{code=\"500\", env=\"prod\", node=\"a\"} 15"],
    ),
    (
        "resets(http_requests_total[5m])",
        &[
            "{code=\"200\", env=\"prod\", node=\"a\"} 0",
            "{code=\"200\", env=\"prod\", node=\"b\"} 0",
            "{code=\"500\", env=\"prod\", node=\"a\"} 1",
            "{code=\"503\", env=\"dev\", node=\"c\"} 0",
        ],
    ),
    ("changes(temp[5m])", &["{node=\"a\"} 3"]),
    ("avg_over_time(temp[5m])", &["{node=\"a\"} 3.25"]),
    ("min_over_time(temp[5m])", &["{node=\"a\"} 1"]),
    ("max_over_time(temp[5m])", &["{node=\"a\"} 5"]),
    ("max_over_time(temp[3m])", &["{node=\"a\"} 4"]),
    ("sum_over_time(temp[5m])", &["{node=\"a\"} 13"]),
    ("count_over_time(temp[5m])", &["{node=\"a\"} 4"]),
    ("last_over_time(temp[5m])", &["temp{node=\"a\"} 3"]),
    ("count_over_time(temp[30s])", &["{node=\"a\"} 1"]),
    (
        "increase(node_systemd_service_restart_total[10m]) > 5",
        &["{node=\"a\", unit=\"mysql\"} 7"],
    ),
    ("absent_over_time(temp[5m])", &[]),
    (
        "absent_over_time(up{node=\"z\", env=~\"p.*\"}[5m])",
        &["{node=\"z\"} 1"],
    ),
    // absent.
    ("absent(up)", &[]),
    ("absent(mysql_up{node=\"db1\"})", &["{node=\"db1\"} 1"]),
    (
        "absent(mysql_up{node=\"db1\", env=~\"prod\", job!=\"x\"})",
        &["{node=\"db1\"} 1"],
    ),
    ("absent(mysql_up{node=\"db1\", node=\"db2\"})", &["{} 1"]),
    ("absent(nonexistent)", &["{} 1"]),
    ("absent(sum(nonexistent))", &["{} 1"]),
    ("absent(up{node=\"zz\"})", &["{node=\"zz\"} 1"]),
    // abs and clamps.
    ("abs(neg)", &["{k=\"x\"} 3"]),
    (
        "clamp_min(mem_avail, 10)",
        &[
            "{env=\"prod\", node=\"a\"} 25",
            "{env=\"prod\", node=\"b\"} 10",
        ],
    ),
    (
        "clamp_max(mem_avail, 10)",
        &[
            "{env=\"prod\", node=\"a\"} 10",
            "{env=\"prod\", node=\"b\"} 5",
        ],
    ),
    ("clamp_max(nan_metric, 10)", &["{k=\"x\"} NaN"]),
    // Realistic rules.
    (
        // 35/240 of 3.479 req/s: 4.19 %, below the threshold.
        "sum by (env) (rate(http_requests_total{code=~\"5..\"}[5m])) / sum by (env) (rate(http_requests_total[5m])) > 0.05",
        &[],
    ),
    (
        "sum by (env) (rate(http_requests_total{code=~\"5..\"}[5m])) / sum by (env) (rate(http_requests_total[5m])) > 0.04",
        &["{env=\"prod\"} 0.041916168"],
    ),
    (
        "count by (env, cluster) (galera_ready == 1) < on(env, cluster) (galera_cluster_expected / 2)",
        &["{cluster=\"c1\", env=\"prod\"} 2"],
    ),
    (
        "replication_lag_seconds > 30",
        &["replication_lag_seconds{env=\"prod\", replica=\"b\"} 45"],
    ),
    (
        "backup_age_seconds > on(env, service) backup_rpo_seconds",
        &["{env=\"prod\", service=\"db\"} 90000"],
    ),
    (
        "backup_age_seconds > on(env, service) group_left backup_rpo_seconds",
        &["backup_age_seconds{env=\"prod\", node=\"a\", service=\"db\"} 90000"],
    ),
    (
        "# node's 5xx share\nsum by (env, node) (rate(http_requests_total{code=~\"5..\"}[5m]))\n  / on(env) group_left sum by (env) (rate(http_requests_total[5m]))",
        &["{env=\"prod\", node=\"a\"} 0.041916168"],
    ),
];

#[test]
fn evaluation_table() {
    let d = fixture();
    let mut failures = Vec::new();
    for (text, want) in EVAL_CASES {
        let got = run(&d, text);
        let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        want.sort();
        if got != want {
            failures.push(format!("{text}\n   got: {got:?}\n  want: {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_valid_expression_round_trips() {
    let mut extra = vec![
        "x{a=\"q\\\"uo\\\\te\\n\"}",
        "sum without (b, a) (x) by",
        "rate(x[1h30m])",
        "a + ignoring() b",
        "a * on() group_right() b",
        "- - 2",
        "2 - -2",
        "x offset",
    ];
    // The last three are invalid; keep only the valid ones.
    extra.retain(|e| parse(e).is_ok());
    for text in EVAL_CASES.iter().map(|(t, _)| *t).chain(extra) {
        let e = parse(text).unwrap_or_else(|err| panic!("{text}: {err:?}"));
        let printed = e.to_string();
        let again = parse(&printed).unwrap_or_else(|err| panic!("{text} → {printed}: {err:?}"));
        assert_eq!(again, e, "{text} → {printed}");
        assert_eq!(again.to_string(), printed, "printing is stable");
    }
}

#[test]
fn canonical_form() {
    let cases = [
        ("sum(x) by (b,a)", "sum by (a, b) (x)"),
        ("rate( x{a='v',}[90m] )", "rate(x{a=\"v\"}[1h30m])"),
        ("a>on(env)group_left(x)b", "a > on(env) group_left(x) b"),
        ("1+2*3", "1 + 2 * 3"),
        ("(1+2)*3", "(1 + 2) * 3"),
        ("-2^2", "-2 ^ 2"),
        ("x == bool 1 # comment", "x == bool 1"),
        ("1e3", "1000"),
        ("inf + nan", "Inf + NaN"),
    ];
    for (text, want) in cases {
        assert_eq!(parse(text).unwrap().to_string(), want, "{text}");
    }
}

/// (expression, offset, token, message fragment)
const ERROR_CASES: &[(&str, usize, &str, &str)] = &[
    ("", 0, "end of expression", "expected an expression"),
    ("up +", 4, "end of expression", "expected an expression"),
    ("(up", 3, "end of expression", "expected `)`"),
    ("up)", 2, ")", "without a matching `(`"),
    (")", 0, ")", "unexpected `)`, expected an expression"),
    (
        "rat(x[5m])",
        0,
        "rat",
        "unknown function `rat`; did you mean `rate`?",
    ),
    (
        "frobnicate(x)",
        0,
        "frobnicate",
        "unknown function `frobnicate`",
    ),
    (
        "rate(x)",
        5,
        "x",
        "rate() needs a range selector like `x[5m]`",
    ),
    ("rate(x[5m], 1)", 12, "1", "rate() takes 1 argument, got 2"),
    (
        "clamp_min(x)",
        11,
        ")",
        "clamp_min() takes 2 arguments, got 1",
    ),
    (
        "clamp_min(x, y)",
        13,
        "y",
        "needs a scalar as argument 2, got an instant vector",
    ),
    (
        "abs(x[5m])",
        4,
        "x[5m]",
        "needs an instant vector, got a range vector",
    ),
    (
        "abs(1)",
        4,
        "1",
        "abs() needs an instant vector, got a scalar",
    ),
    (
        "x[5m]",
        0,
        "x[5m]",
        "only allowed as the argument of a range function",
    ),
    ("x[5m] + 1", 0, "x[5m]", "range selector is only allowed"),
    (
        "sum(x[5m])",
        4,
        "x[5m]",
        "sum() needs an instant vector, got a range vector",
    ),
    ("sum(1)", 4, "1", "sum() needs an instant vector"),
    ("1 > 2", 2, ">", "need the `bool` modifier"),
    (
        "1 and 2",
        2,
        "and",
        "set operator `and` is only allowed between instant vectors",
    ),
    ("x or 1", 2, "or", "set operator `or`"),
    (
        "x + bool y",
        4,
        "bool",
        "`bool` is only allowed after a comparison operator",
    ),
    ("x + on(a) 1", 2, "+", "vector matching"),
    (
        "x + group_left y",
        4,
        "group_left",
        "needs `on(…)` or `ignoring(…)`",
    ),
    (
        "x and on(a) group_left b",
        12,
        "group_left",
        "no grouping allowed for set operator `and`",
    ),
    (
        "x + on(a) group_left(a) y",
        10,
        "group_left",
        "label `a` must not occur",
    ),
    ("x{a=\"1\"", 7, "end of expression", "expected `,` or `}`"),
    ("x{a==\"1\"}", 3, "==", "label matchers use `=`"),
    ("x{a=1}", 4, "1", "expected a quoted label value"),
    ("x{=\"1\"}", 2, "=", "expected a label name"),
    ("x{a=~\"(\"}", 5, "\"(\"", "invalid regex"),
    (
        "x{a=\"unterminated}",
        4,
        "\"unterminated}",
        "unterminated string",
    ),
    ("x{a=\"\\q\"}", 5, "\\q", "unknown escape"),
    ("x = 1", 2, "=", "did you mean `==`?"),
    ("x y", 2, "y", "expected an operator"),
    ("5m", 0, "5m", "duration is only allowed inside"),
    ("x[5]", 2, "5", "expected a duration"),
    ("x[5x]", 2, "5x", "invalid number or duration"),
    ("x[0s]", 2, "0s", "longer than zero"),
    ("x[5m:1m]", 4, ":1m", "subqueries are not supported"),
    ("(x)[5m]", 3, "[", "subqueries are not supported"),
    ("x offset 5m", 2, "offset", "`offset` is not supported"),
    ("{a=\"b\"}", 0, "{", "needs a metric name"),
    ("\"str\"", 0, "\"str\"", "string literals"),
    (
        "sum by (env)",
        12,
        "end of expression",
        "expected `(` after aggregation `sum`",
    ),
    ("sum by (env) (x) by (env)", 17, "by", "already given"),
    ("sum(x, y)", 5, ",", "sum() takes exactly one argument"),
    ("sum by (a:b) (x)", 8, "a:b", "invalid label name"),
    ("x @ 5", 2, "@", "unexpected character `@`"),
    ("and", 0, "and", "unexpected `and`, expected an expression"),
    ("time(1)", 5, "1", "time() takes 0 arguments, got 1"),
    ("-x[5m]", 1, "x[5m]", "unary `-`"),
];

#[test]
fn error_table() {
    let mut failures = Vec::new();
    for &(text, offset, token, fragment) in ERROR_CASES {
        match parse(text) {
            Ok(e) => failures.push(format!("{text}: parsed as {e}")),
            Err(err) => {
                if err.offset != offset || err.token != token || !err.message.contains(fragment) {
                    failures.push(format!(
                        "{text}: got offset {} token {:?} message {:?}; want {offset} {token:?} …{fragment}…",
                        err.offset, err.token, err.message
                    ));
                }
                if err.token != "end of expression" {
                    assert_eq!(&text[err.offset..err.offset + err.len], err.token, "{text}");
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn metric_names_and_scalar_type() {
    let e = parse("sum(rate(a[5m])) / on(x) b + a - scalar(c) > bool time()").unwrap();
    assert_eq!(e.metric_names(), ["a", "b", "c"]);
    assert!(!e.is_scalar());
    assert!(parse("time() - 5").unwrap().is_scalar());
    assert!(parse("scalar(x) * 2").unwrap().is_scalar());
    assert!(!parse("vector(1)").unwrap().is_scalar());
    assert!(parse("1 > bool 2").unwrap().is_scalar());
}

// ---------------------------------------------------------------------------------------
// Staleness and sources.

fn stale_fixture() -> MemoryData {
    let mut d = MemoryData::new(now());
    let mut push = |name: &str, labels: &[(&str, &str)], v: f64, stale: bool, src: u32| {
        d.push_full(
            name,
            label_set(labels.iter().copied()),
            v,
            stale,
            Some(SourceId(src)),
            hist(&[(60, v - 10.0), (0, v)]),
        );
    };
    push("m", &[("env", "prod"), ("node", "a")], 20.0, true, 1);
    push("m", &[("env", "prod"), ("node", "b")], 30.0, false, 2);
    push("m", &[("env", "dev"), ("node", "c")], 40.0, false, 3);
    push("n", &[("env", "prod"), ("node", "a")], 1.0, false, 7);
    push("n", &[("env", "prod"), ("node", "b")], 2.0, true, 8);
    push("lim", &[("env", "prod")], 25.0, false, 5);
    push("lim", &[("env", "dev")], 25.0, true, 6);
    d
}

/// node (or env) → (stale, sources) for every result sample.
fn provenance(d: &MemoryData, text: &str) -> Vec<(String, bool, Vec<u32>)> {
    let mut out: Vec<_> = vector(d, text)
        .into_iter()
        .map(|s| {
            let key: Vec<String> = s.labels.iter().map(|(_, v)| v.to_string()).collect();
            (
                key.join(","),
                s.stale,
                s.sources.iter().map(|s| s.0).collect(),
            )
        })
        .collect();
    out.sort();
    out
}

type Prov = &'static [(&'static str, bool, &'static [u32])];

const STALE_CASES: &[(&str, Prov)] = &[
    (
        "m",
        &[
            ("dev,c", false, &[3]),
            ("prod,a", true, &[1]),
            ("prod,b", false, &[2]),
        ],
    ),
    ("m > 25", &[("dev,c", false, &[3]), ("prod,b", false, &[2])]),
    (
        "-m < -25",
        &[("dev,c", false, &[3]), ("prod,b", false, &[2])],
    ),
    (
        "m * 2",
        &[
            ("dev,c", false, &[3]),
            ("prod,a", true, &[1]),
            ("prod,b", false, &[2]),
        ],
    ),
    (
        "m + n",
        &[("prod,a", true, &[1, 7]), ("prod,b", true, &[2, 8])],
    ),
    (
        "m > bool n",
        &[("prod,a", true, &[1, 7]), ("prod,b", true, &[2, 8])],
    ),
    (
        "m and n",
        &[("prod,a", true, &[1, 7]), ("prod,b", true, &[2, 8])],
    ),
    ("m unless n", &[("dev,c", false, &[3])]),
    // An empty side decides without matching: nothing to keep, or everything.
    ("m and nosuch", &[]),
    ("nosuch unless m", &[]),
    (
        "m unless nosuch",
        &[
            ("dev,c", false, &[3]),
            ("prod,a", true, &[1]),
            ("prod,b", false, &[2]),
        ],
    ),
    (
        "n or m",
        &[
            ("dev,c", false, &[3]),
            ("prod,a", false, &[7]),
            ("prod,b", true, &[8]),
        ],
    ),
    (
        "m / on(env) group_left lim",
        &[
            ("dev,c", true, &[3, 6]),
            ("prod,a", true, &[1, 5]),
            ("prod,b", false, &[2, 5]),
        ],
    ),
    (
        "sum by (env) (m)",
        &[("dev", false, &[3]), ("prod", true, &[1, 2])],
    ),
    ("count(m)", &[("", true, &[1, 2, 3])]),
    ("max by (env) (n)", &[("prod", true, &[7, 8])]),
    (
        "rate(m[5m])",
        &[
            ("dev,c", false, &[3]),
            ("prod,a", true, &[1]),
            ("prod,b", false, &[2]),
        ],
    ),
    (
        "abs(m)",
        &[
            ("dev,c", false, &[3]),
            ("prod,a", true, &[1]),
            ("prod,b", false, &[2]),
        ],
    ),
    (
        "clamp_min(m, scalar(lim{env=\"dev\"}))",
        &[
            ("dev,c", true, &[3, 6]),
            ("prod,a", true, &[1, 6]),
            ("prod,b", true, &[2, 6]),
        ],
    ),
    (
        "m{env=\"dev\"} > scalar(lim{env=\"prod\"})",
        &[("dev,c", false, &[3, 5])],
    ),
    ("vector(scalar(n{node=\"b\"}))", &[("", true, &[8])]),
    ("absent(nothing)", &[("", false, &[])]),
];

#[test]
fn stale_and_sources_propagate() {
    let d = stale_fixture();
    let mut failures = Vec::new();
    for (text, want) in STALE_CASES {
        let got = provenance(&d, text);
        let want: Vec<(String, bool, Vec<u32>)> = want
            .iter()
            .map(|(k, s, v)| (k.to_string(), *s, v.to_vec()))
            .collect();
        if got != want {
            failures.push(format!("{text}\n   got: {got:?}\n  want: {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn sources_are_capped_sorted_and_deduplicated() {
    let mut d = MemoryData::new(now());
    for i in (0..40u32).rev() {
        put(&mut d, "x", &[("i", &i.to_string())], 1.0, Some(i / 2));
    }
    let v = vector(&d, "sum(x)");
    assert_eq!(v.len(), 1);
    let want: Vec<SourceId> = (0..16).map(SourceId).collect();
    assert_eq!(v[0].sources, want);
}

// ---------------------------------------------------------------------------------------
// Matching errors.

#[test]
fn many_to_many_and_implicit_many_to_one_are_errors() {
    let mut d = MemoryData::new(now());
    put(&mut d, "a", &[("env", "prod"), ("node", "1")], 1.0, None);
    put(&mut d, "a", &[("env", "prod"), ("node", "2")], 2.0, None);
    put(&mut d, "b", &[("env", "prod"), ("node", "1")], 1.0, None);
    put(&mut d, "b", &[("env", "prod"), ("node", "2")], 1.0, None);
    put(&mut d, "one", &[("env", "prod")], 1.0, None);

    let err = parse("a + on(env) b").unwrap().eval(&d).unwrap_err();
    assert!(
        matches!(&err, EvalError::ManyToMany { labels, .. } if labels == "{env=\"prod\"}"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("many-to-many matching not allowed"),
        "{err}"
    );

    let err = parse("a + on(env) one").unwrap().eval(&d).unwrap_err();
    assert!(
        matches!(err, EvalError::ManyToOneImplicit { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("group_left"), "{err}");

    let err = parse("one + on(env) group_right a + on(env) b")
        .unwrap()
        .eval(&d);
    assert!(err.is_err());

    assert_eq!(vector(&d, "a + ignoring(node) group_left one").len(), 2);

    // Set operators allow many-to-many.
    assert_eq!(vector(&d, "a and on(env) b").len(), 2);
    // A filtered-away duplicate is not an error, as in PromQL.
    assert_eq!(vector(&d, "a > on(env) (one * 5)").len(), 0);
}

#[test]
fn group_left_duplicate_output_is_an_error() {
    let mut d = MemoryData::new(now());
    put(&mut d, "a", &[("env", "prod"), ("x", "1")], 1.0, None);
    put(&mut d, "a", &[("env", "prod"), ("x", "2")], 1.0, None);
    put(&mut d, "one", &[("env", "prod"), ("x", "9")], 1.0, None);
    assert_eq!(vector(&d, "a * on(env) group_left one").len(), 2);
    // Copying `x` from the one side makes both results `{env="prod", x="9"}`.
    let err = parse("a * on(env) group_left(x) one")
        .unwrap()
        .eval(&d)
        .unwrap_err();
    assert!(matches!(err, EvalError::DuplicateOutput { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("grouping labels must ensure unique matches")
    );
}

#[test]
fn rate_needs_two_points_and_history_window() {
    let mut d = MemoryData::new(now());
    d.push_full(
        "c",
        label_set([("k", "v")]),
        5.0,
        false,
        None,
        hist(&[(400, 0.0), (30, 5.0)]),
    );
    assert!(vector(&d, "rate(c[5m])").is_empty());
    assert_eq!(vector(&d, "rate(c[10m])")[0].value, 5.0 / 370.0);
    assert_eq!(vector(&d, "absent_over_time(c[10s])").len(), 1);
}

#[test]
fn expressions_are_clone_debug_and_send() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Expr>();
    let e = parse("x{a=~\"b.*\"}").unwrap();
    let c = e.clone();
    assert_eq!(c, e);
    assert!(format!("{e:?}").contains("Selector"));
}
