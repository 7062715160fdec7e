//! Integration tests for the exposition parser: real exporter fixtures, a table of tricky
//! lines and bad lines, a differential check against prometheus-parse, and no-panic checks
//! on mangled input.
//!
//! Test names start with `exposition_` so that the usual `cargo test ... exposition` filter,
//! which applies to every test binary given, selects them.

use std::borrow::Cow;
use std::collections::BTreeMap;

use watchdeck::source::exposition::{
    Exposition, MetricType, ParseError, SampleRef, Visitor, parse, parse_with,
};

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

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/exporters/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Sample lines counted the obvious way, independently of the parser.
fn sample_line_count(text: &str) -> usize {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count()
}

/// The single sample called `name` whose labels include all of `labels`.
fn value_of(e: &Exposition<'_>, name: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<_> = e
        .samples
        .iter()
        .filter(|s| s.name == name && labels.iter().all(|(k, v)| s.label(k) == Some(*v)))
        .collect();
    assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}");
    found[0].value
}

#[test]
fn exposition_every_fixture_parses_cleanly_and_completely() {
    for name in FIXTURES {
        let text = fixture(name);
        let e = parse(&text);
        assert!(
            e.errors.is_empty(),
            "{name}: {:?}",
            &e.errors[..e.errors.len().min(5)]
        );
        assert_eq!(e.samples.len(), sample_line_count(&text), "{name}");
        let in_families: usize = e.families.iter().map(|f| f.samples.len()).sum();
        assert_eq!(
            in_families,
            e.samples.len(),
            "{name}: every sample is in one family"
        );
        // Line numbers point back at the line the sample came from.
        let lines: Vec<&str> = text.lines().collect();
        for s in &e.samples {
            assert!(
                lines[s.line - 1].starts_with(s.name),
                "{name}: line {}",
                s.line
            );
        }
    }
}

#[test]
fn exposition_fixture_values_match_the_files() {
    // Each value below was looked up in the fixture by hand (grep), not produced by the parser.
    let checks: &[(&str, &str, Labels<'_>, f64)] = &[
        (
            "node_exporter-1.5.prom",
            "node_memory_MemTotal_bytes",
            &[],
            2.5276502016e10,
        ),
        (
            "node_exporter-1.5.prom",
            "node_memory_MemAvailable_bytes",
            &[],
            2.4534065152e10,
        ),
        ("node_exporter-1.5.prom", "node_load1", &[], 0.62),
        (
            "node_exporter-1.5.prom",
            "node_cpu_seconds_total",
            &[("cpu", "0"), ("mode", "user")],
            11.42,
        ),
        (
            "node_exporter-1.5.prom",
            "backup_last_size_bytes",
            &[("env", "production"), ("service", "mariadb")],
            1.073741824e9,
        ),
        ("mysqld_exporter-0.14-primary.prom", "mysql_up", &[], 1.0),
        (
            "mysqld_exporter-0.14-primary.prom",
            "mysql_global_status_threads_connected",
            &[],
            2.0,
        ),
        (
            "mysqld_exporter-0.14-primary.prom",
            "mysql_global_variables_max_connections",
            &[],
            151.0,
        ),
        (
            "mysqld_exporter-0.14-primary.prom",
            "mysql_global_status_wsrep_cluster_size",
            &[],
            0.0,
        ),
        (
            "mysqld_exporter-0.14-replica.prom",
            "mysql_global_status_threads_connected",
            &[],
            1.0,
        ),
        (
            "mysqld_exporter-0.14-replica.prom",
            "mysql_slave_status_seconds_behind_master",
            &[("master_host", "127.0.0.1"), ("channel_name", "")],
            0.0,
        ),
        (
            "mysqld_exporter-0.14-replica.prom",
            "go_gc_duration_seconds_count",
            &[],
            11.0,
        ),
        (
            "mysqld_exporter-0.14-replica.prom",
            "go_gc_duration_seconds",
            &[("quantile", "1")],
            0.000506927,
        ),
        ("postgres_exporter-0.11-primary.prom", "pg_up", &[], 1.0),
        (
            "postgres_exporter-0.11-primary.prom",
            "pg_stat_replication_pg_wal_lsn_diff",
            &[
                ("application_name", "walreceiver"),
                ("server", "127.0.0.1:15432"),
            ],
            0.0,
        ),
        (
            "postgres_exporter-0.11-replica.prom",
            "pg_settings_max_connections",
            &[("server", "127.0.0.1:15433")],
            100.0,
        ),
        (
            "redis_exporter-1.45-primary.prom",
            "redis_connected_slaves",
            &[],
            1.0,
        ),
        (
            "redis_exporter-1.45-primary.prom",
            "redis_master_repl_offset",
            &[],
            42.0,
        ),
        (
            "redis_exporter-1.45-replica.prom",
            "redis_connected_slaves",
            &[],
            0.0,
        ),
        (
            "redis_exporter-1.45-replica.prom",
            "redis_instance_info",
            &[("role", "slave"), ("os", "Linux 6.18.44-fc-v669 x86_64")],
            1.0,
        ),
        (
            "pushgateway-1.5.prom",
            "push_time_seconds",
            &[
                ("job", "backup"),
                ("instance", ""),
                ("service", "opensearch"),
            ],
            1.7953003214832866e9,
        ),
        (
            "pushgateway-1.5.prom",
            "backup_last_duration_seconds",
            &[("env", "staging")],
            312.0,
        ),
        (
            "prometheus-2.42-self.prom",
            "prometheus_http_request_duration_seconds_sum",
            &[("handler", "/api/v1/alerts")],
            0.000478414,
        ),
        (
            "prometheus-2.42-self.prom",
            "prometheus_http_request_duration_seconds_bucket",
            &[("handler", "/api/v1/targets"), ("le", "+Inf")],
            1.0,
        ),
    ];
    for (file, name, labels, want) in checks {
        let text = fixture(file);
        let e = parse(&text);
        assert_eq!(
            value_of(&e, name, labels),
            *want,
            "{file} {name} {labels:?}"
        );
    }

    let text = fixture("prometheus-2.42-self.prom");
    let e = parse(&text);
    let info = e
        .samples
        .iter()
        .find(|s| s.name == "prometheus_build_info")
        .expect("prometheus_build_info");
    let labels: Vec<(&str, &str)> = info
        .labels
        .iter()
        .map(|l| (l.name, l.value.as_ref()))
        .collect();
    assert_eq!(
        labels,
        [
            ("branch", "debian/sid"),
            ("goarch", "amd64"),
            ("goos", "linux"),
            ("goversion", "go1.19.8"),
            ("revision", "2.42.0+ds-5+deb12u1"),
            ("version", "2.42.0+ds"),
        ]
    );
    let f = e.family("prometheus_build_info").unwrap();
    assert_eq!(f.ty, MetricType::Gauge);
}

#[test]
fn exposition_histogram_and_summary_families_group_their_series() {
    let text = fixture("prometheus-2.42-self.prom");
    let e = parse(&text);
    let f = e
        .family("prometheus_http_request_duration_seconds")
        .expect("family");
    assert_eq!(f.ty, MetricType::Histogram);
    assert_eq!(
        f.help.as_deref(),
        Some("Histogram of latencies for HTTP requests.")
    );
    let names: Vec<&str> = e.samples_of(f).map(|s| s.name).collect();
    // Two handlers, each 10 buckets + sum + count.
    assert_eq!(names.len(), 24);
    assert_eq!(names.iter().filter(|n| n.ends_with("_bucket")).count(), 20);
    assert_eq!(names.iter().filter(|n| n.ends_with("_sum")).count(), 2);
    assert_eq!(names.iter().filter(|n| n.ends_with("_count")).count(), 2);
    for suffix in ["_bucket", "_sum", "_count"] {
        let n = format!("prometheus_http_request_duration_seconds{suffix}");
        assert!(
            e.family(&n).is_none(),
            "{n} must not be a family of its own"
        );
    }
    let les: Vec<&str> = e
        .samples_of(f)
        .filter_map(|s| s.label("le"))
        .take(10)
        .collect();
    assert_eq!(
        les,
        [
            "0.1", "0.2", "0.4", "1", "3", "8", "20", "60", "120", "+Inf"
        ]
    );

    let histograms = e
        .families
        .iter()
        .filter(|f| f.ty == MetricType::Histogram)
        .count();
    assert_eq!(histograms, 7);
    for f in e.families.iter().filter(|f| f.ty == MetricType::Histogram) {
        assert!(
            e.samples_of(f).any(|s| s.name.ends_with("_count")),
            "{}",
            f.name
        );
    }

    let gc = e.family("go_gc_duration_seconds").unwrap();
    assert_eq!(gc.ty, MetricType::Summary);
    assert_eq!(gc.samples.len(), 7);
    assert_eq!(
        e.samples_of(gc)
            .filter(|s| s.label("quantile").is_some())
            .count(),
        5
    );

    // Families appear in first-appearance order.
    assert_eq!(e.families[0].name, "go_gc_duration_seconds");
}

// ---------------------------------------------------------------------------------------
// Tricky lines

type Labels<'t> = &'t [(&'t str, &'t str)];

/// What one input line must produce.
enum Want<'t> {
    Sample(&'t str, Labels<'t>, f64, Option<i64>),
    Error(&'t str),
    Nothing,
}
use Want::*;

fn check_line(input: &str, want: &Want<'_>) {
    let e = parse(input);
    match want {
        Sample(name, labels, value, ts) => {
            assert!(e.errors.is_empty(), "{input:?}: {:?}", e.errors);
            assert_eq!(e.samples.len(), 1, "{input:?}");
            let s = &e.samples[0];
            assert_eq!(s.name, *name, "{input:?}");
            let got: Vec<(&str, &str)> = s
                .labels
                .iter()
                .map(|l| (l.name, l.value.as_ref()))
                .collect();
            assert_eq!(got, *labels, "{input:?}");
            if value.is_nan() {
                assert!(s.value.is_nan(), "{input:?}: {}", s.value);
            } else {
                assert_eq!(s.value.to_bits(), value.to_bits(), "{input:?}: {}", s.value);
            }
            assert_eq!(s.timestamp_ms, *ts, "{input:?}");
        }
        Error(fragment) => {
            assert_eq!(e.errors.len(), 1, "{input:?}: {:?}", e.errors);
            assert_eq!(e.errors[0].line, 1, "{input:?}");
            assert!(
                e.errors[0].message.contains(fragment),
                "{input:?}: {:?} does not mention {fragment:?}",
                e.errors[0].message
            );
            assert!(e.samples.is_empty(), "{input:?}: {:?}", e.samples);
        }
        Nothing => {
            assert!(e.errors.is_empty(), "{input:?}: {:?}", e.errors);
            assert!(e.samples.is_empty(), "{input:?}: {:?}", e.samples);
        }
    }
}

#[test]
fn exposition_tricky_lines() {
    let inf = f64::INFINITY;
    let cases: &[(&str, Want<'_>)] = &[
        ("plain 1", Sample("plain", &[], 1.0, None)),
        ("a:b:c 1", Sample("a:b:c", &[], 1.0, None)),
        (":leading_colon 2", Sample(":leading_colon", &[], 2.0, None)),
        ("empty{} 3", Sample("empty", &[], 3.0, None)),
        ("spaced { } 3", Sample("spaced", &[], 3.0, None)),
        (
            r#"prometheus_build_info{tags="netgo,builtinassets,stringlabels"} 1"#,
            Sample(
                "prometheus_build_info",
                &[("tags", "netgo,builtinassets,stringlabels")],
                1.0,
                None,
            ),
        ),
        (
            r#"m{a="x}y",b="p=q",c="{}"} 1"#,
            Sample("m", &[("a", "x}y"), ("b", "p=q"), ("c", "{}")], 1.0, None),
        ),
        (
            r#"m{path="C:\\dir\\file",q="say \"hi\"",nl="a\nb"} 1"#,
            Sample(
                "m",
                &[
                    ("path", "C:\\dir\\file"),
                    ("q", "say \"hi\""),
                    ("nl", "a\nb"),
                ],
                1.0,
                None,
            ),
        ),
        (
            r#"m{odd="a\qb"} 1"#,
            Sample("m", &[("odd", "a\\qb")], 1.0, None),
        ),
        (
            r#"m{a="1", b="2"} 1"#,
            Sample("m", &[("a", "1"), ("b", "2")], 1.0, None),
        ),
        (
            "m {\ta = \"1\" ,\t b=\"2\" } \t 1 \t 5 ",
            Sample("m", &[("a", "1"), ("b", "2")], 1.0, Some(5)),
        ),
        (r#"m{a="1",} 1"#, Sample("m", &[("a", "1")], 1.0, None)),
        (
            r#"m{a="1",b="2",} 1"#,
            Sample("m", &[("a", "1"), ("b", "2")], 1.0, None),
        ),
        (r#"m{a=""} 1"#, Sample("m", &[("a", "")], 1.0, None)),
        (
            r#"m{a="héllo ✓"} 1"#,
            Sample("m", &[("a", "héllo ✓")], 1.0, None),
        ),
        (r#"m{a="1"}7"#, Sample("m", &[("a", "1")], 7.0, None)),
        ("m NaN", Sample("m", &[], f64::NAN, None)),
        ("m nan", Sample("m", &[], f64::NAN, None)),
        ("m +Inf", Sample("m", &[], inf, None)),
        ("m -Inf", Sample("m", &[], -inf, None)),
        ("m Inf", Sample("m", &[], inf, None)),
        ("m inf", Sample("m", &[], inf, None)),
        ("m +inf", Sample("m", &[], inf, None)),
        ("m -1.5e-3", Sample("m", &[], -1.5e-3, None)),
        ("m 1E6", Sample("m", &[], 1e6, None)),
        ("m .5", Sample("m", &[], 0.5, None)),
        ("m -0", Sample("m", &[], -0.0, None)),
        (
            "m 12345678901234567890",
            Sample("m", &[], 12345678901234567890.0, None),
        ),
        (
            "m 1.7953003214832866e+09",
            Sample("m", &[], 1.7953003214832866e9, None),
        ),
        (
            "m 1 1395066363000",
            Sample("m", &[], 1.0, Some(1_395_066_363_000)),
        ),
        ("m 1 -5", Sample("m", &[], 1.0, Some(-5))),
        // OpenMetrics timestamps are float seconds.
        (
            "m 1 1520879607.789",
            Sample("m", &[], 1.0, Some(1_520_879_607_789)),
        ),
        ("m 1 1.5e9", Sample("m", &[], 1.0, Some(1_500_000_000_000))),
        // OpenMetrics exemplars are skipped.
        (
            r#"foo_bucket{le="0.1"} 8 # {trace_id="KOO5S4vxi0o"} 0.67"#,
            Sample("foo_bucket", &[("le", "0.1")], 8.0, None),
        ),
        (
            r#"foo_total 17 1520879607.789 # {trace_id="oHg5SJYRHA0"} 9.8 1520879607.789"#,
            Sample("foo_total", &[], 17.0, Some(1_520_879_607_789)),
        ),
        ("m 1\r\n", Sample("m", &[], 1.0, None)),
        (
            "m{a=\"x\"} 1 2\r\n",
            Sample("m", &[("a", "x")], 1.0, Some(2)),
        ),
        ("\u{feff}bom 1\n", Sample("bom", &[], 1.0, None)),
        ("   indented 1", Sample("indented", &[], 1.0, None)),
        ("", Nothing),
        ("\n\n\r\n  \t\n", Nothing),
        ("# just a comment", Nothing),
        ("#", Nothing),
        ("# HELP m some help", Nothing),
        ("# HELP m", Nothing),
        ("# TYPE m counter", Nothing),
        ("# EOF", Nothing),
        // Errors.
        ("m", Error("missing sample value for `m`")),
        ("m{a=\"1\"}", Error("missing sample value for `m`")),
        ("m   ", Error("missing sample value")),
        ("m abc", Error("invalid sample value `abc`")),
        ("m 0x10", Error("invalid sample value `0x10`")),
        ("m 1,5", Error("invalid sample value `1,5`")),
        (r#"m{a="1} 1"#, Error("unterminated label value")),
        (r#"m{a="1\"} 1"#, Error("unterminated label value")),
        (r#"m{a="1\"#, Error("unterminated label value")),
        (r#"m{job} 1"#, Error("expected '=' after label name `job`")),
        (r#"m{job 1"#, Error("expected '=' after label name `job`")),
        (
            r#"m{a=1} 1"#,
            Error("expected '\"' to open the value of label `a`"),
        ),
        (
            r#"m{a="1" b="2"} 1"#,
            Error("expected ',' or '}' after the value of label `a`, found `b`"),
        ),
        (r#"m{a="1""#, Error("missing '}'")),
        (r#"m{"#, Error("missing '}'")),
        (r#"m{1a="x"} 1"#, Error("invalid label name `1a`")),
        (r#"m{,} 1"#, Error("invalid label name `,`")),
        (
            r#"m{a-b="x"} 1"#,
            Error("expected '=' after label name `a`"),
        ),
        (r#"m{a="1",a="2"} 1"#, Error("duplicate label `a`")),
        ("m 1 2 3", Error("unexpected `3` after timestamp")),
        (
            "m 1 2 garbage",
            Error("unexpected `garbage` after timestamp"),
        ),
        ("m 1 abc", Error("invalid timestamp `abc`")),
        ("m 1 NaN", Error("invalid timestamp `NaN`")),
        ("m 1 99999999999999999999", Error("invalid timestamp")),
        ("1m 1", Error("invalid metric name `1m`")),
        ("foo-bar 1", Error("invalid metric name `foo-bar`")),
        ("métrique 1", Error("invalid metric name `métrique`")),
        (r#"{a="b"} 1"#, Error("missing metric name")),
        (
            "# TYPE m nonsense",
            Error("unknown metric type `nonsense` for `m`"),
        ),
        ("# TYPE m Counter", Error("unknown metric type `Counter`")),
        ("# TYPE m", Error("missing type in `# TYPE m`")),
        ("# TYPE m counter extra", Error("unexpected `extra`")),
        (
            "# TYPE 1m counter",
            Error("invalid metric name `1m` in `# TYPE`"),
        ),
        ("# HELP", Error("missing metric name after `# HELP`")),
        (
            "# HELP bad-name text",
            Error("invalid metric name `bad-name` in `# HELP`"),
        ),
    ];
    for (input, want) in cases {
        check_line(input, want);
        // `# EOF` ends the input by design; what follows it is covered below.
        if input.starts_with("# EOF") {
            continue;
        }
        // A bad (or good) line never hides the next line.
        let followed = format!("{input}\nnext_ok{{x=\"y\"}} 42\n");
        let e = parse(&followed);
        let last = e
            .samples
            .last()
            .unwrap_or_else(|| panic!("{input:?}: nothing after"));
        assert_eq!(
            (last.name, last.value, last.label("x")),
            ("next_ok", 42.0, Some("y")),
            "{input:?}"
        );
        assert_eq!(last.line, input.matches('\n').count() + 2, "{input:?}");
    }
}

#[test]
fn exposition_multi_line_documents() {
    // OpenMetrics: `# TYPE foo counter` with `foo_total`, `_created`, info, stateset,
    // gaugehistogram, unit lines, EOF.
    let text = "\
# HELP foo Requests.\n\
# TYPE foo counter\n\
# UNIT foo requests\n\
foo_total{a=\"1\"} 5\n\
foo_created{a=\"1\"} 1.6e9\n\
# TYPE build info\n\
build_info{version=\"1\"} 1\n\
# TYPE feature stateset\n\
feature{feature=\"a\"} 1\n\
# TYPE q gaugehistogram\n\
q_bucket{le=\"+Inf\"} 3\n\
q_gcount 3\n\
q_gsum 7\n\
# TYPE u unknown\n\
u 1\n\
# EOF\n";
    let e = parse(text);
    assert!(e.errors.is_empty(), "{:?}", e.errors);
    let names: Vec<(&str, MetricType, usize)> = e
        .families
        .iter()
        .map(|f| (f.name, f.ty, f.samples.len()))
        .collect();
    assert_eq!(
        names,
        [
            ("foo", MetricType::Counter, 2),
            ("build", MetricType::Info, 1),
            ("feature", MetricType::StateSet, 1),
            ("q", MetricType::GaugeHistogram, 3),
            ("u", MetricType::Unknown, 1),
        ]
    );
    assert_eq!(e.family("foo").unwrap().help.as_deref(), Some("Requests."));

    // Text format: `_total` is part of the declared name.
    let e = parse("# TYPE x_total counter\nx_total 1\n");
    assert_eq!(e.families.len(), 1);
    assert_eq!(e.families[0].name, "x_total");

    // Samples with no TYPE are untyped families of their own name, even with suffixes.
    let e = parse("a_bucket{le=\"1\"} 1\na_sum 2\na 3\n");
    let fams: Vec<(&str, MetricType)> = e.families.iter().map(|f| (f.name, f.ty)).collect();
    assert_eq!(
        fams,
        [
            ("a_bucket", MetricType::Untyped),
            ("a_sum", MetricType::Untyped),
            ("a", MetricType::Untyped)
        ]
    );

    // Help before type, type repeated: one family, last type wins.
    let e = parse("# HELP s x\n# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 2\ns_count 3\n");
    assert_eq!(e.families.len(), 1);
    assert_eq!(e.families[0].samples, [0, 1, 2]);

    // Content after `# EOF` is reported once and ignored.
    let e = parse("a 1\n# EOF\n\nb 2\nc 3\n");
    assert_eq!(e.samples.len(), 1);
    assert_eq!(
        e.errors,
        [ParseError {
            line: 4,
            message: "unexpected content after `# EOF`".into()
        }]
    );

    // No trailing newline, CRLF throughout, blank lines, comments.
    let e = parse("# HELP a x\r\n# TYPE a gauge\r\n\r\na 1\r\n# random\r\nb{c=\"d\"} 2 3");
    assert!(e.errors.is_empty(), "{:?}", e.errors);
    assert_eq!(e.family("a").unwrap().help.as_deref(), Some("x"));
    let got: Vec<_> = e
        .samples
        .iter()
        .map(|s| (s.name, s.value, s.timestamp_ms, s.line))
        .collect();
    assert_eq!(got, [("a", 1.0, None, 4), ("b", 2.0, Some(3), 6)]);

    // Errors carry their line numbers and parsing carries on.
    let e = parse("a 1\nb oops\nc 3\nd{x} 4\ne 5\n");
    let lines: Vec<usize> = e.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 4]);
    assert_eq!(
        e.samples.iter().map(|s| s.name).collect::<Vec<_>>(),
        ["a", "c", "e"]
    );
    assert_eq!(
        e.errors[0].to_string(),
        "line 2: invalid sample value `oops`"
    );
}

#[test]
fn exposition_visitor_sees_everything_in_order() {
    #[derive(Default)]
    struct Log(Vec<String>);
    impl<'a> Visitor<'a> for Log {
        fn help(&mut self, name: &'a str, text: Cow<'a, str>) {
            self.0.push(format!("help {name} {text}"));
        }
        fn metric_type(&mut self, name: &'a str, ty: MetricType) {
            self.0.push(format!("type {name} {ty}"));
        }
        fn sample(&mut self, s: SampleRef<'_, 'a>) {
            self.0
                .push(format!("sample {} {} {}", s.name, s.labels.len(), s.value));
        }
        fn error(&mut self, e: ParseError) {
            self.0.push(format!("error {e}"));
        }
    }
    let mut log = Log::default();
    parse_with(
        "# HELP a h\\nx\n# TYPE a gauge\na{b=\"c\"} 1\nbad\n",
        &mut log,
    );
    assert_eq!(
        log.0,
        [
            "help a h\nx",
            "type a gauge",
            "sample a 1 1",
            "error line 4: missing sample value for `bad`"
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Differential test against prometheus-parse

/// True for sample lines prometheus-parse is known to get right: no `:` in the name and no
/// `,` `=` `}` `"` `\` inside label values.
fn prometheus_parse_handles(line: &str) -> bool {
    let Some(open) = line.find('{') else {
        return !line.split_whitespace().next().unwrap_or("").contains(':');
    };
    if line[..open].contains(':') {
        return false;
    }
    let Some(close) = line.rfind('}') else {
        return false;
    };
    line[open + 1..close].split("\",").all(|pair| {
        let value = pair
            .split_once("=\"")
            .map_or("", |(_, v)| v)
            .trim_end_matches('"');
        !value.contains([',', '=', '}', '"', '\\'])
    })
}

#[test]
fn exposition_agrees_with_prometheus_parse_where_it_is_correct() {
    use prometheus_parse::LineInfo;
    let mut compared = 0;
    for name in FIXTURES {
        let text = fixture(name);
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || !prometheus_parse_handles(trimmed)
            {
                continue;
            }
            let LineInfo::Sample {
                metric_name,
                labels,
                value,
                ..
            } = LineInfo::parse(line)
            else {
                panic!("{name}: prometheus-parse did not see a sample in {line:?}");
            };
            let theirs_labels: BTreeMap<String, String> = labels
                .map(|l| {
                    l.split(',')
                        .filter_map(|kv| kv.split_once('='))
                        .map(|(k, v)| (k.trim().to_string(), v.trim_matches('"').to_string()))
                        .collect()
                })
                .unwrap_or_default();
            let theirs_value = if value.eq_ignore_ascii_case("nan") {
                f64::NAN
            } else {
                value.parse::<f64>().unwrap()
            };

            let e = parse(line);
            assert!(e.errors.is_empty(), "{line}: {:?}", e.errors);
            let ours = &e.samples[0];
            let ours_labels: BTreeMap<String, String> = ours
                .labels
                .iter()
                .map(|l| (l.name.to_string(), l.value.to_string()))
                .collect();
            assert_eq!(ours.name, metric_name, "{line}");
            assert_eq!(ours_labels, theirs_labels, "{line}");
            assert!(
                ours.value.to_bits() == theirs_value.to_bits()
                    || (ours.value.is_nan() && theirs_value.is_nan()),
                "{line}: {} vs {theirs_value}",
                ours.value
            );
            compared += 1;
        }
    }
    assert!(compared > 4000, "only {compared} lines compared");
}

#[test]
fn exposition_prometheus_parse_gets_these_wrong_and_we_do_not() {
    // The cases that motivated our own parser, shown against the library they replace.
    let line = r#"prometheus_build_info{tags="netgo,builtinassets,stringlabels"} 1"#;
    let theirs = prometheus_parse::Scrape::parse(std::iter::once(Ok(line.to_string()))).unwrap();
    assert_ne!(
        theirs.samples[0].labels.get("tags"),
        Some("netgo,builtinassets,stringlabels")
    );
    let ours = parse(line);
    assert_eq!(
        ours.samples[0].label("tags"),
        Some("netgo,builtinassets,stringlabels")
    );

    let line = "job:rate5m 1";
    let theirs = prometheus_parse::Scrape::parse(std::iter::once(Ok(line.to_string()))).unwrap();
    assert!(theirs.samples.is_empty() || theirs.samples[0].metric != "job:rate5m");
    assert_eq!(parse(line).samples[0].name, "job:rate5m");
}

// ---------------------------------------------------------------------------------------
// Never panic

/// A small deterministic generator so failures reproduce.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

struct Count(usize);
impl<'a> Visitor<'a> for Count {
    fn sample(&mut self, s: SampleRef<'_, 'a>) {
        self.0 += s.labels.len() + 1;
    }
    fn error(&mut self, e: ParseError) {
        assert!(e.line >= 1);
        self.0 += 1;
    }
}

#[test]
fn exposition_never_panics_on_truncations_and_mutations() {
    let text = fixture("pushgateway-1.5.prom");
    // Every truncation on a char boundary.
    for end in 0..=text.len() {
        if text.is_char_boundary(end) {
            parse(&text[..end]);
        }
    }
    // Fixture lines with bytes overwritten by grammar-significant characters.
    let alphabet: &[u8] = b"{}=\",\\ \t\r\n#:_aZ09.eE+-";
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for name in FIXTURES {
        let text = fixture(name);
        let mut bytes = text.into_bytes();
        for _ in 0..2000 {
            let at = rng.below(bytes.len());
            bytes[at] = alphabet[rng.below(alphabet.len())];
        }
        let mutated = String::from_utf8(bytes).expect("ASCII fixtures stay UTF-8");
        let mut count = Count(0);
        parse_with(&mutated, &mut count);
        parse(&mutated);
    }
}

#[test]
fn exposition_never_panics_on_random_input() {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let pieces: &[&str] = &[
        "m", "{", "}", "=", "\"", ",", "\\", " ", "\t", "\r", "\n", "#", " HELP ", " TYPE ",
        " EOF", "counter", "1", "-Inf", "NaN", "1e", ".", "é", "\u{feff}", "le", "_bucket", ":",
        "x\"y", "\\\"",
    ];
    for _ in 0..3000 {
        let mut s = String::new();
        for _ in 0..rng.below(40) {
            s.push_str(pieces[rng.below(pieces.len())]);
        }
        parse(&s);
        // Random bytes, made into a &str the lossy way.
        let raw: Vec<u8> = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
        let lossy = String::from_utf8_lossy(&raw);
        parse(&lossy);
    }
}
