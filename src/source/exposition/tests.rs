//! Unit tests for the API surface that the integration tests do not reach directly.

use super::*;

fn declared<'t>(table: &'t [(&'t str, MetricType)]) -> impl Fn(&str) -> Option<MetricType> + 't {
    move |n| table.iter().find(|(name, _)| *name == n).map(|(_, ty)| *ty)
}

#[test]
fn family_name_strips_only_matching_suffixes() {
    use MetricType::*;
    let table = [
        ("h", Histogram),
        ("s", Summary),
        ("c", Counter),
        ("g", Gauge),
        ("gh", GaugeHistogram),
        ("i", Info),
        ("x_total", Counter),
    ];
    let d = declared(&table);
    assert_eq!(family_name("h_bucket", &d), "h");
    assert_eq!(family_name("h_sum", &d), "h");
    assert_eq!(family_name("h_count", &d), "h");
    assert_eq!(family_name("h_created", &d), "h");
    assert_eq!(family_name("h", &d), "h");
    assert_eq!(family_name("s_sum", &d), "s");
    assert_eq!(family_name("s_count", &d), "s");
    assert_eq!(family_name("s_bucket", &d), "s_bucket");
    assert_eq!(family_name("c_total", &d), "c");
    assert_eq!(family_name("c_created", &d), "c");
    assert_eq!(family_name("x_total", &d), "x_total");
    assert_eq!(family_name("g_total", &d), "g_total");
    assert_eq!(family_name("g_sum", &d), "g_sum");
    assert_eq!(family_name("gh_bucket", &d), "gh");
    assert_eq!(family_name("gh_gsum", &d), "gh");
    assert_eq!(family_name("gh_gcount", &d), "gh");
    assert_eq!(family_name("i_info", &d), "i");
    assert_eq!(family_name("undeclared_bucket", &d), "undeclared_bucket");
    assert_eq!(family_name("nounderscore", &d), "nounderscore");
    assert_eq!(family_name("_bucket", &d), "_bucket");
}

#[test]
fn metric_type_names_round_trip() {
    use MetricType::*;
    for ty in [
        Counter,
        Gauge,
        Histogram,
        Summary,
        Untyped,
        Info,
        StateSet,
        GaugeHistogram,
        Unknown,
    ] {
        assert_eq!(MetricType::from_name(ty.as_str()), Some(ty));
        assert_eq!(ty.to_string(), ty.as_str());
    }
    assert_eq!(MetricType::from_name("Counter"), None);
}

#[test]
fn sample_ref_label_and_to_owned() {
    struct Grab(Vec<Sample<'static>>);
    impl Visitor<'static> for Grab {
        fn sample(&mut self, s: SampleRef<'_, 'static>) {
            assert_eq!(s.label("b"), Some("2"));
            assert_eq!(s.label("zz"), None);
            self.0.push(s.to_owned_sample());
        }
    }
    let mut g = Grab(Vec::new());
    parse_with("m{a=\"1\",b=\"2\"} 3 4\n", &mut g);
    assert_eq!(g.0.len(), 1);
    let s = &g.0[0];
    assert_eq!(
        (s.name, s.value, s.timestamp_ms, s.line),
        ("m", 3.0, Some(4), 1)
    );
    assert_eq!(s.label("a"), Some("1"));
}

#[test]
fn unescaped_values_are_borrowed() {
    let e = parse("m{a=\"plain\",b=\"x\\\"y\"} 1\n");
    assert!(e.errors.is_empty(), "{:?}", e.errors);
    let labels = &e.samples[0].labels;
    assert!(matches!(labels[0].value, Cow::Borrowed("plain")));
    assert!(matches!(&labels[1].value, Cow::Owned(v) if v == "x\"y"));
}

#[test]
fn help_is_unescaped_and_attached() {
    let e = parse("# HELP m a \\\\ b\\nc \\\"q\\\" \\t\r\n# TYPE m gauge\nm 1\n");
    assert!(e.errors.is_empty(), "{:?}", e.errors);
    let f = e.family("m").unwrap();
    assert_eq!(f.help.as_deref(), Some("a \\ b\nc \"q\" \\t"));
    assert_eq!(f.ty, MetricType::Gauge);
    assert_eq!(f.samples, vec![0]);
}

#[test]
fn display_of_parse_error() {
    let err = ParseError {
        line: 3,
        message: "invalid sample value `x`".into(),
    };
    assert_eq!(err.to_string(), "line 3: invalid sample value `x`");
}
