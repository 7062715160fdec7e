//! The Prometheus exposition parser: text format 0.0.4 plus the parts of OpenMetrics that
//! exporters emit in practice.
//!
//! This module owns the public API (types, [`Visitor`], [`parse_with`], [`parse`],
//! [`family_name`]). The byte-level scanner lives in `scanner`, number parsing in
//! `number`, and the allocating [`Exposition`] collector in `collect`.
//!
//! Two entry points:
//! * [`parse_with`] streams one callback per line into a [`Visitor`]. Names and label values
//!   borrow the input; a label value is copied only when it contains an escape, and the label
//!   buffer is reused, so a line without escapes allocates nothing. This is what the store uses
//!   on every poll.
//! * [`parse`] collects everything into an [`Exposition`] with samples grouped into families.
//!   It allocates freely; it is for `watchdeck probe` and tests.
//!
//! A bad line never aborts the parse: it is reported as a [`ParseError`] with its 1-based line
//! number and parsing continues with the next line.
//!
//! Timestamps: an integer timestamp is taken as milliseconds (text format 0.0.4); one with a
//! fraction or exponent is taken as OpenMetrics seconds and converted to milliseconds. The
//! format is not known from the body alone, so an OpenMetrics integer-seconds timestamp is
//! read as milliseconds; exporters scraped by watchdeck do not emit those in practice.

mod collect;
mod number;
mod scanner;

use std::borrow::Cow;
use std::fmt;

pub use collect::{Exposition, Family, Sample};

/// The type declared by a `# TYPE` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    Summary,
    Untyped,
    Info,
    StateSet,
    GaugeHistogram,
    Unknown,
}

impl MetricType {
    /// The name as written in a `# TYPE` line.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::Summary => "summary",
            MetricType::Untyped => "untyped",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Unknown => "unknown",
        }
    }

    /// The inverse of [`MetricType::as_str`]. Exact and lowercase, as both formats specify.
    pub fn from_name(name: &str) -> Option<MetricType> {
        Some(match name {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "summary" => MetricType::Summary,
            "untyped" => MetricType::Untyped,
            "info" => MetricType::Info,
            "stateset" => MetricType::StateSet,
            "gaugehistogram" => MetricType::GaugeHistogram,
            "unknown" => MetricType::Unknown,
            _ => return None,
        })
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One label pair. `value` is borrowed from the input unless it contained an escape.
#[derive(Debug, Clone, PartialEq)]
pub struct Label<'a> {
    pub name: &'a str,
    pub value: Cow<'a, str>,
}

/// One sample as the visitor sees it; `labels` borrows the parser's reusable buffer.
#[derive(Debug, Clone, Copy)]
pub struct SampleRef<'p, 'a> {
    pub name: &'a str,
    pub labels: &'p [Label<'a>],
    pub value: f64,
    pub timestamp_ms: Option<i64>,
    /// 1-based line number in the input.
    pub line: usize,
}

impl<'a> SampleRef<'_, 'a> {
    /// The value of the first label called `name`.
    pub fn label(&self, name: &str) -> Option<&str> {
        find_label(self.labels, name)
    }

    /// Copies the label buffer so the sample outlives the visitor callback. Names and
    /// unescaped values stay borrowed from the input.
    pub fn to_owned_sample(&self) -> Sample<'a> {
        Sample {
            name: self.name,
            labels: self.labels.to_vec(),
            value: self.value,
            timestamp_ms: self.timestamp_ms,
            line: self.line,
        }
    }
}

pub(crate) fn find_label<'l>(labels: &'l [Label<'_>], name: &str) -> Option<&'l str> {
    labels
        .iter()
        .find(|l| l.name == name)
        .map(|l| l.value.as_ref())
}

/// A line that could not be parsed. The message names the offending token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line number in the input.
    pub line: usize,
    pub message: String,
}

/// Receives the parse as it happens, in input order.
pub trait Visitor<'a> {
    /// A `# HELP name text` line; `text` is unescaped.
    fn help(&mut self, _name: &'a str, _text: Cow<'a, str>) {}
    /// A `# TYPE name type` line.
    fn metric_type(&mut self, _name: &'a str, _ty: MetricType) {}
    /// A sample line.
    fn sample(&mut self, sample: SampleRef<'_, 'a>);
    /// A line that could not be parsed; parsing continues with the next line.
    fn error(&mut self, _error: ParseError) {}
}

/// Streaming, zero-copy parse: borrowed names and label values unless an escape forces a copy;
/// the label buffer is reused, so a line without escapes allocates nothing.
///
/// Parsing stops at an OpenMetrics `# EOF` line; anything but whitespace after it is
/// reported as one error.
pub fn parse_with<'a, V: Visitor<'a>>(input: &'a str, visitor: &mut V) {
    scanner::Scanner::new(input).run(visitor);
}

/// Parses the whole input into families and samples (allocates; for `watchdeck probe` and
/// tests).
pub fn parse(input: &str) -> Exposition<'_> {
    collect::collect(input)
}

/// Which family a sample name belongs to, given the declared TYPEs seen so far
/// (e.g. `http_request_duration_seconds_bucket` → `http_request_duration_seconds` when that
/// is a histogram).
///
/// A name that is itself declared is its own family, so a text-format `# TYPE foo_total
/// counter` keeps `foo_total`. Otherwise a known suffix is stripped when the remaining name
/// was declared with a type that has that suffix. Anything else is its own family.
// Spelled out: the result borrows from `sample_name`, never from `declared`.
#[allow(clippy::needless_lifetimes)]
pub fn family_name<'a>(
    sample_name: &'a str,
    declared: impl Fn(&str) -> Option<MetricType>,
) -> &'a str {
    use MetricType::*;
    if declared(sample_name).is_some() {
        return sample_name;
    }
    let Some(cut) = sample_name.rfind('_') else {
        return sample_name;
    };
    let (base, suffix) = (&sample_name[..cut], &sample_name[cut..]);
    let Some(ty) = declared(base) else {
        return sample_name;
    };
    let belongs = match suffix {
        "_bucket" => matches!(ty, Histogram | GaugeHistogram),
        "_sum" | "_count" => matches!(ty, Histogram | Summary),
        "_gsum" | "_gcount" => ty == GaugeHistogram,
        "_created" => matches!(ty, Counter | Histogram | Summary),
        "_total" => ty == Counter,
        "_info" => ty == Info,
        _ => false,
    };
    if belongs { base } else { sample_name }
}

#[cfg(test)]
mod tests;
