//! Exposition-format parser (API stub; replaced by the parser branch on merge).
#![allow(dead_code, unused_variables)]

use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    pub fn as_str(self) -> &'static str {
        "untyped"
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Label<'a> {
    pub name: &'a str,
    pub value: Cow<'a, str>,
}

pub struct SampleRef<'p, 'a> {
    pub name: &'a str,
    pub labels: &'p [Label<'a>],
    pub value: f64,
    pub timestamp_ms: Option<i64>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

pub trait Visitor<'a> {
    fn help(&mut self, _name: &'a str, _text: Cow<'a, str>) {}
    fn metric_type(&mut self, _name: &'a str, _ty: MetricType) {}
    fn sample(&mut self, sample: SampleRef<'_, 'a>);
    fn error(&mut self, _error: ParseError) {}
}

pub fn parse_with<'a, V: Visitor<'a>>(input: &'a str, visitor: &mut V) {}

pub struct Exposition<'a> {
    pub families: Vec<Family<'a>>,
    pub samples: Vec<Sample<'a>>,
    pub errors: Vec<ParseError>,
}

pub struct Family<'a> {
    pub name: &'a str,
    pub ty: MetricType,
    pub help: Option<Cow<'a, str>>,
    pub samples: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sample<'a> {
    pub name: &'a str,
    pub labels: Vec<Label<'a>>,
    pub value: f64,
    pub timestamp_ms: Option<i64>,
    pub line: usize,
}

impl Sample<'_> {
    pub fn label(&self, name: &str) -> Option<&str> {
        None
    }
}

pub fn parse(input: &str) -> Exposition<'_> {
    Exposition {
        families: Vec::new(),
        samples: Vec::new(),
        errors: Vec::new(),
    }
}

pub fn family_name<'a>(
    sample_name: &'a str,
    declared: impl Fn(&str) -> Option<MetricType>,
) -> &'a str {
    sample_name
}
