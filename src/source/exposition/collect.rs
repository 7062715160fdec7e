//! The allocating collector behind [`super::parse`]: owned samples grouped into families.
//!
//! Grouping follows [`super::family_name`] against the TYPE lines seen so far, so a
//! histogram's `_bucket`/`_sum`/`_count` samples land in one family while a sample with no
//! TYPE gets an untyped family of its own name.

use std::borrow::Cow;

use rustc_hash::FxHashMap;

use super::{Label, MetricType, ParseError, SampleRef, Visitor, family_name, find_label};

/// Everything in one exposition body.
#[derive(Debug, Clone, Default)]
pub struct Exposition<'a> {
    /// In order of first appearance (HELP, TYPE or sample line).
    pub families: Vec<Family<'a>>,
    /// In input order.
    pub samples: Vec<Sample<'a>>,
    pub errors: Vec<ParseError>,
}

impl<'a> Exposition<'a> {
    /// The family called `name`, if any.
    pub fn family(&self, name: &str) -> Option<&Family<'a>> {
        self.families.iter().find(|f| f.name == name)
    }

    /// The samples of `family`, in input order.
    pub fn samples_of<'s>(
        &'s self,
        family: &'s Family<'a>,
    ) -> impl Iterator<Item = &'s Sample<'a>> {
        family.samples.iter().filter_map(|&i| self.samples.get(i))
    }
}

/// One metric family: a TYPE/HELP declaration and the samples that belong to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Family<'a> {
    pub name: &'a str,
    pub ty: MetricType,
    pub help: Option<Cow<'a, str>>,
    /// Indices into [`Exposition::samples`].
    pub samples: Vec<usize>,
}

/// One sample, owning its label list.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample<'a> {
    pub name: &'a str,
    pub labels: Vec<Label<'a>>,
    pub value: f64,
    pub timestamp_ms: Option<i64>,
    /// 1-based line number in the input.
    pub line: usize,
}

impl Sample<'_> {
    /// The value of the first label called `name`.
    pub fn label(&self, name: &str) -> Option<&str> {
        find_label(&self.labels, name)
    }
}

pub(super) fn collect(input: &str) -> Exposition<'_> {
    let mut collector = Collector::default();
    super::parse_with(input, &mut collector);
    collector.out
}

#[derive(Default)]
struct Collector<'a> {
    out: Exposition<'a>,
    by_name: FxHashMap<&'a str, usize>,
}

impl<'a> Collector<'a> {
    fn family_index(&mut self, name: &'a str) -> usize {
        let families = &mut self.out.families;
        *self.by_name.entry(name).or_insert_with(|| {
            families.push(Family {
                name,
                ty: MetricType::Untyped,
                help: None,
                samples: Vec::new(),
            });
            families.len() - 1
        })
    }
}

impl<'a> Visitor<'a> for Collector<'a> {
    fn help(&mut self, name: &'a str, text: Cow<'a, str>) {
        let i = self.family_index(name);
        self.out.families[i].help = Some(text);
    }

    fn metric_type(&mut self, name: &'a str, ty: MetricType) {
        let i = self.family_index(name);
        self.out.families[i].ty = ty;
    }

    fn sample(&mut self, sample: SampleRef<'_, 'a>) {
        let (by_name, families) = (&self.by_name, &self.out.families);
        let family = family_name(sample.name, |n| by_name.get(n).map(|&i| families[i].ty));
        let i = self.family_index(family);
        self.out.families[i].samples.push(self.out.samples.len());
        self.out.samples.push(sample.to_owned_sample());
    }

    fn error(&mut self, error: ParseError) {
        self.out.errors.push(error);
    }
}
