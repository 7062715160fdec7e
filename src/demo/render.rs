//! Prometheus text exposition (format 0.0.4) exactly as the Go client libraries write it.
//!
//! Families are sorted by name and series by label values, labels by name, and values are
//! formatted like Go's `strconv.FormatFloat(v, 'g', -1, 64)`, so the demo's bytes look
//! like a real exporter's (`1.073741824e+09`, `921.59`, `+Inf`).

use std::fmt::Write as _;

/// The `# TYPE` of a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Untyped,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Untyped => "untyped",
            Kind::Histogram => "histogram",
        }
    }
}

type Labels = Vec<(String, String)>;

#[derive(Debug)]
struct Series {
    labels: Labels,
    /// (suffix, extra label, value) rows; one row for plain series, several for
    /// histograms (buckets, `_sum`, `_count`) which must stay in this order.
    rows: Vec<(&'static str, Option<String>, f64)>,
}

#[derive(Debug)]
struct Family {
    name: String,
    help: Option<String>,
    kind: Kind,
    series: Vec<Series>,
}

/// Collects samples in any order and writes them in exporter order.
#[derive(Debug, Default)]
pub struct Exposition {
    families: Vec<Family>,
}

/// Build an owned label list from borrowed pairs.
pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

impl Exposition {
    pub fn new() -> Self {
        Self::default()
    }

    fn family(&mut self, name: &str, help: Option<&str>, kind: Kind) -> &mut Family {
        let idx = match self.families.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => {
                self.families.push(Family {
                    name: name.to_owned(),
                    help: help.map(str::to_owned),
                    kind,
                    series: Vec::new(),
                });
                self.families.len() - 1
            }
        };
        &mut self.families[idx]
    }

    /// Add one sample. `help = None` omits the `# HELP` line (as the Pushgateway does for
    /// metrics pushed without one).
    pub fn sample(&mut self, name: &str, help: Option<&str>, kind: Kind, labels: Labels, v: f64) {
        self.family(name, help, kind).series.push(Series {
            labels,
            rows: vec![("", None, v)],
        });
    }

    pub fn gauge(&mut self, name: &str, help: &str, labels: Labels, v: f64) {
        self.sample(name, Some(help), Kind::Gauge, labels, v);
    }

    pub fn counter(&mut self, name: &str, help: &str, labels: Labels, v: f64) {
        self.sample(name, Some(help), Kind::Counter, labels, v);
    }

    pub fn untyped(&mut self, name: &str, help: &str, labels: Labels, v: f64) {
        self.sample(name, Some(help), Kind::Untyped, labels, v);
    }

    /// A histogram series: cumulative `buckets` as (upper bound, count) without `+Inf`,
    /// which is added from `count`.
    pub fn histogram(
        &mut self,
        name: &str,
        help: &str,
        labels: Labels,
        buckets: &[(f64, u64)],
        sum: f64,
        count: u64,
    ) {
        let mut rows: Vec<(&'static str, Option<String>, f64)> = buckets
            .iter()
            .map(|(le, c)| ("_bucket", Some(format_value(*le)), *c as f64))
            .collect();
        rows.push(("_bucket", Some("+Inf".to_owned()), count as f64));
        rows.push(("_sum", None, sum));
        rows.push(("_count", None, count as f64));
        self.family(name, Some(help), Kind::Histogram)
            .series
            .push(Series { labels, rows });
    }

    /// Write the exposition text.
    pub fn finish(mut self) -> String {
        self.families.sort_by(|a, b| a.name.cmp(&b.name));
        let mut out = String::with_capacity(self.families.len() * 160);
        for fam in &mut self.families {
            for s in &mut fam.series {
                s.labels.sort();
            }
            fam.series.sort_by(|a, b| {
                let av = a.labels.iter().map(|(_, v)| v.as_str());
                let bv = b.labels.iter().map(|(_, v)| v.as_str());
                av.cmp(bv)
            });
            if let Some(help) = &fam.help {
                // Writing to a String cannot fail.
                let _ = writeln!(out, "# HELP {} {}", fam.name, escape_help(help));
            }
            let _ = writeln!(out, "# TYPE {} {}", fam.name, fam.kind.as_str());
            for s in &fam.series {
                for (suffix, le, v) in &s.rows {
                    out.push_str(&fam.name);
                    out.push_str(suffix);
                    let mut pairs: Vec<(&str, &str)> = s
                        .labels
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    if let Some(le) = le {
                        pairs.push(("le", le.as_str()));
                    }
                    if !pairs.is_empty() {
                        out.push('{');
                        for (i, (k, v)) in pairs.iter().enumerate() {
                            if i > 0 {
                                out.push(',');
                            }
                            let _ = write!(out, "{k}=\"{}\"", escape_label(v));
                        }
                        out.push('}');
                    }
                    out.push(' ');
                    out.push_str(&format_value(*v));
                    out.push('\n');
                }
            }
        }
        out
    }
}

fn escape_help(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

fn escape_label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Go's `strconv.FormatFloat(v, 'g', -1, 64)`: shortest round-trip digits, exponent form
/// when the decimal exponent is < -4 or >= 6 (Go's rule for shortest precision), which is
/// why exporters print `388912` but `1.02144664e+08`.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    if v == 0.0 {
        return "0".to_owned();
    }
    // Rust's `{:e}` gives the shortest round-trip digits too: "1.073741824e9".
    let sci = format!("{v:e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
    } else if exp >= 0 {
        let int_len = usize::try_from(exp).unwrap_or(0) + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n(
            '0',
            usize::try_from(-exp - 1).unwrap_or(0),
        ));
        out.push_str(&digits);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        let cases = [
            (1.073741824e9, "1.073741824e+09"),
            (921.59, "921.59"),
            (0.1, "0.1"),
            (388912.0, "388912"),
            (130901.0, "130901"),
            (1.02144664e8, "1.02144664e+08"),
            (1.7953003480811694e9, "1.7953003480811694e+09"),
            (4.8452e-5, "4.8452e-05"),
            (0.000723801, "0.000723801"),
            (-1.0, "-1"),
            (1.8446744073709552e19, "1.8446744073709552e+19"),
            (0.0, "0"),
            (1e6, "1e+06"),
            (f64::INFINITY, "+Inf"),
            (2.5, "2.5"),
        ];
        for (v, want) in cases {
            assert_eq!(format_value(v), want, "{v}");
        }
    }

    #[test]
    fn sorts_families_and_series() {
        let mut e = Exposition::new();
        e.gauge("b_metric", "B.", labels(&[("x", "2")]), 2.0);
        e.gauge("b_metric", "B.", labels(&[("x", "10")]), 10.0);
        e.counter("a_total", "A.", vec![], 1.0);
        let text = e.finish();
        assert_eq!(
            text,
            "# HELP a_total A.\n# TYPE a_total counter\na_total 1\n\
             # HELP b_metric B.\n# TYPE b_metric gauge\nb_metric{x=\"10\"} 10\nb_metric{x=\"2\"} 2\n"
        );
    }

    #[test]
    fn histogram_rows_in_order() {
        let mut e = Exposition::new();
        e.histogram(
            "h",
            "H.",
            labels(&[("a", "1")]),
            &[(0.5, 1), (1.0, 2)],
            1.5,
            3,
        );
        let text = e.finish();
        assert!(text.contains("h_bucket{a=\"1\",le=\"0.5\"} 1\nh_bucket{a=\"1\",le=\"1\"} 2\nh_bucket{a=\"1\",le=\"+Inf\"} 3\nh_sum{a=\"1\"} 1.5\nh_count{a=\"1\"} 3\n"));
    }
}
