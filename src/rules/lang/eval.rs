//! Evaluator: a type-checked tree plus a [`RuleData`] → a scalar or a vector.
//!
//! Owns PromQL's runtime semantics (vector matching, aggregation, range functions) and
//! watchdeck's additions: every sample carries whether any contributing input was stale and
//! which sources contributed. Hot paths avoid per-sample allocation: samples share the input
//! label sets (`Arc` clones), sources are stored inline until two differ, and matching and
//! grouping use `FxHashMap`s keyed by a 64-bit hash of the relevant labels, with an
//! equality check on every hit so a hash collision cannot merge two groups.

use std::fmt;
use std::hash::Hasher;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHasher};

use super::ast::{AggOp, BinOp, Card, Func, Grouping, MatchOp, Node, Selector, VectorMatching};
use super::{MAX_SOURCES, Sample, Value};
use crate::config::settings::SourceId;
use crate::rules::data::{
    GroupPlan, InputSeries, LabelSet, Point, RuleData, label, label_set, same_str,
};

/// Which operand of a binary operation an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Left,
    Right,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Left => "left",
            Side::Right => "right",
        })
    }
}

/// A runtime error: the data broke an assumption the expression makes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// The "one" side of a match has several series with the same matching labels.
    #[error(
        "found duplicate series for the match group {labels} on the {side} hand side of `{op}`; many-to-many matching not allowed: matching labels must be unique on one side"
    )]
    ManyToMany {
        op: String,
        side: Side,
        labels: String,
    },
    /// One-to-one matching found several left series for one right series.
    #[error(
        "multiple matches for labels {labels} in `{op}`: many-to-one matching must be explicit (group_left/group_right)"
    )]
    ManyToOneImplicit { op: String, labels: String },
    /// `group_left`/`group_right` would produce two results with the same labels.
    #[error(
        "multiple matches for labels {labels} in `{op}`: grouping labels must ensure unique matches"
    )]
    DuplicateOutput { op: String, labels: String },
}

/// Contributing sources, kept inline for the common zero/one case so that copying a sample
/// through an operator never allocates.
#[derive(Debug, Clone, Default)]
enum Srcs {
    #[default]
    None,
    One(SourceId),
    /// Sorted, deduplicated, at most [`MAX_SOURCES`], at least two.
    Many(Arc<[SourceId]>),
}

impl Srcs {
    fn from_opt(s: Option<SourceId>) -> Self {
        s.map_or(Srcs::None, Srcs::One)
    }

    fn extend_into(&self, v: &mut Vec<SourceId>) {
        match self {
            Srcs::None => {}
            Srcs::One(s) => v.push(*s),
            Srcs::Many(m) => v.extend_from_slice(m),
        }
    }

    fn union(&self, other: &Srcs) -> Srcs {
        match (self, other) {
            (Srcs::None, x) | (x, Srcs::None) => x.clone(),
            (Srcs::One(a), Srcs::One(b)) if a == b => Srcs::One(*a),
            _ => {
                let mut v = Vec::new();
                self.extend_into(&mut v);
                other.extend_into(&mut v);
                Srcs::finish(v)
            }
        }
    }

    fn finish(mut v: Vec<SourceId>) -> Srcs {
        compact(&mut v);
        match v.len() {
            0 => Srcs::None,
            1 => Srcs::One(v[0]),
            _ => Srcs::Many(v.into()),
        }
    }

    fn to_vec(&self) -> Vec<SourceId> {
        let mut v = Vec::new();
        self.extend_into(&mut v);
        v
    }
}

fn compact(v: &mut Vec<SourceId>) {
    v.sort_unstable();
    v.dedup();
    v.truncate(MAX_SOURCES);
}

/// A vector element during evaluation.
#[derive(Debug, Clone)]
struct S {
    name: Option<Arc<str>>,
    labels: LabelSet,
    value: f64,
    stale: bool,
    srcs: Srcs,
}

impl S {
    /// An input series as a selector gives it: name, labels, value and source kept.
    fn selected(s: &InputSeries) -> Self {
        S {
            name: Some(s.name.clone()),
            labels: s.labels.clone(),
            value: s.value,
            stale: s.stale,
            srcs: Srcs::from_opt(s.source),
        }
    }
}

/// A scalar during evaluation; `scalar(v)` gives it provenance.
#[derive(Debug, Clone)]
struct Sc {
    value: f64,
    stale: bool,
    srcs: Srcs,
}

impl Sc {
    fn plain(value: f64) -> Sc {
        Sc {
            value,
            stale: false,
            srcs: Srcs::None,
        }
    }
}

enum V {
    Scalar(Sc),
    Vector(Vec<S>),
}

/// Results of subexpressions that occur more than once among a round's expressions, so
/// each is evaluated once per round: a `clear_threshold` rule's hold expression repeats
/// its condition's left-hand side (`sum by (env) (rate(…)) / …`), which would otherwise
/// double the cost of the heaviest rules.
///
/// Evaluation is a pure function of the tree and the [`RuleData`], so a shared result is
/// the one a fresh evaluation would give. Nodes are known by address: a `Shared` borrows
/// the expressions it was built from, so the addresses cannot be reused while it lives;
/// and one `Shared` must only be used with one `RuleData` (it is built per round).
pub struct Shared<'e> {
    /// Node address → result slot. Only the outermost repeated nodes are listed: their
    /// children are never evaluated twice.
    slots: FxHashMap<usize, usize>,
    results: std::cell::RefCell<Vec<Option<V>>>,
    _exprs: std::marker::PhantomData<&'e Node>,
}

impl<'e> Shared<'e> {
    pub(crate) fn new(roots: &[&'e Node]) -> Self {
        // Candidates: aggregations and function calls, the nodes whose evaluation walks
        // many series. Grouped by canonical text, confirmed by tree equality.
        let mut by_text: FxHashMap<String, Vec<&'e Node>> = FxHashMap::default();
        fn collect<'n>(node: &'n Node, out: &mut FxHashMap<String, Vec<&'n Node>>) {
            if matches!(node, Node::Aggregate { .. } | Node::Call(..)) {
                out.entry(node.to_string()).or_default().push(node);
            }
            match node {
                Node::Number(_) | Node::Selector(_) | Node::Range(..) => {}
                Node::Call(_, args) => args.iter().for_each(|a| collect(a, out)),
                Node::Aggregate { expr, .. } | Node::Neg(expr) | Node::Paren(expr) => {
                    collect(expr, out)
                }
                Node::Binary { lhs, rhs, .. } => {
                    collect(lhs, out);
                    collect(rhs, out);
                }
            }
        }
        for root in roots {
            collect(root, &mut by_text);
        }
        let mut slots = FxHashMap::default();
        let mut next = 0;
        for nodes in by_text.values() {
            if nodes.len() < 2 {
                continue;
            }
            // Equal text means equal trees (the printed form re-parses to an equal tree);
            // checking anyway costs nothing and keeps a printing quirk from merging two.
            for (i, n) in nodes.iter().enumerate() {
                let addr = *n as *const Node as usize;
                if slots.contains_key(&addr) {
                    continue;
                }
                let same: Vec<&Node> = nodes[i..].iter().copied().filter(|o| *o == *n).collect();
                if same.len() < 2 {
                    continue;
                }
                for o in same {
                    slots.insert(o as *const Node as usize, next);
                }
                next += 1;
            }
        }
        // Keep only the outermost: a repeated node inside another repeated node is
        // evaluated once through its parent already, and caching it too would copy its
        // (often large) result for nothing.
        fn prune(node: &Node, inside: bool, slots: &mut FxHashMap<usize, usize>) {
            let addr = node as *const Node as usize;
            let shared = slots.contains_key(&addr);
            if inside && shared {
                slots.remove(&addr);
            }
            let inside = inside || shared;
            match node {
                Node::Number(_) | Node::Selector(_) | Node::Range(..) => {}
                Node::Call(_, args) => args.iter().for_each(|a| prune(a, inside, slots)),
                Node::Aggregate { expr, .. } | Node::Neg(expr) | Node::Paren(expr) => {
                    prune(expr, inside, slots)
                }
                Node::Binary { lhs, rhs, .. } => {
                    prune(lhs, inside, slots);
                    prune(rhs, inside, slots);
                }
            }
        }
        for root in roots {
            prune(root, false, &mut slots);
        }
        Shared {
            slots,
            results: std::cell::RefCell::new((0..next).map(|_| None).collect()),
            _exprs: std::marker::PhantomData,
        }
    }
}

impl V {
    fn duplicate(&self) -> V {
        match self {
            V::Scalar(s) => V::Scalar(s.clone()),
            V::Vector(v) => V::Vector(v.clone()),
        }
    }
}

pub(crate) fn eval_root(
    node: &Node,
    data: &dyn RuleData,
    shared: Option<&Shared<'_>>,
) -> Result<Value, EvalError> {
    let ev = Evaluator { data, shared };
    Ok(match ev.eval(node)? {
        V::Scalar(s) => Value::Scalar(s.value),
        V::Vector(v) => Value::Vector(
            v.into_iter()
                .map(|s| Sample {
                    sources: s.srcs.to_vec(),
                    name: s.name,
                    labels: s.labels,
                    value: s.value,
                    stale: s.stale,
                })
                .collect(),
        ),
    })
}

/// A range function over a selector, planned (see [`GroupPlan`]), with its values: one per
/// picked series, in the plan's order.
struct Planned<'a> {
    func: Func,
    all: &'a [InputSeries],
    plan: Arc<GroupPlan>,
    values: Vec<Option<f64>>,
}

struct Evaluator<'d> {
    data: &'d dyn RuleData,
    shared: Option<&'d Shared<'d>>,
}

fn empty_labels() -> LabelSet {
    Arc::from(Vec::new())
}

impl Evaluator<'_> {
    fn eval(&self, node: &Node) -> Result<V, EvalError> {
        let slot = self
            .shared
            .and_then(|sh| sh.slots.get(&(node as *const Node as usize)).copied());
        let Some(slot) = slot else {
            return self.eval_node(node);
        };
        if let Some(shared) = self.shared {
            if let Some(Some(done)) = shared.results.borrow().get(slot) {
                return Ok(done.duplicate());
            }
            let v = self.eval_node(node)?;
            if let Some(place) = shared.results.borrow_mut().get_mut(slot) {
                *place = Some(v.duplicate());
            }
            return Ok(v);
        }
        self.eval_node(node)
    }

    fn eval_node(&self, node: &Node) -> Result<V, EvalError> {
        Ok(match node {
            Node::Number(v) => V::Scalar(Sc::plain(v.0)),
            Node::Selector(sel) => V::Vector(self.select(sel)),
            // The parser only admits range selectors as arguments of range functions, which
            // read them directly; there is no range value to return here.
            Node::Range(..) => V::Vector(Vec::new()),
            Node::Paren(e) => self.eval(e)?,
            Node::Neg(e) => match self.eval(e)? {
                V::Scalar(s) => V::Scalar(Sc {
                    value: -s.value,
                    ..s
                }),
                V::Vector(v) => V::Vector(
                    v.into_iter()
                        .map(|s| S {
                            name: None,
                            value: -s.value,
                            ..s
                        })
                        .collect(),
                ),
            },
            Node::Call(func, args) => self.call(*func, args)?,
            Node::Aggregate { op, grouping, expr } => {
                match self.aggregate_range(node, *op, grouping, expr) {
                    Some(v) => V::Vector(v),
                    None => {
                        let input = self.vector(expr)?;
                        V::Vector(aggregate(*op, grouping, input))
                    }
                }
            }
            Node::Binary {
                op,
                lhs,
                rhs,
                return_bool: false,
                ..
            } if op.is_comparison()
                && let Some(v) = self
                    .filter_selector(*op, lhs, rhs)
                    .or_else(|| self.filter_range(node, *op, lhs, rhs)) =>
            {
                V::Vector(v)
            }
            Node::Binary {
                op,
                lhs,
                rhs,
                return_bool,
                matching,
            } => {
                let l = self.eval(lhs)?;
                let r = self.eval(rhs)?;
                binary(*op, l, r, *return_bool, matching.as_ref())?
            }
        })
    }

    fn vector(&self, node: &Node) -> Result<Vec<S>, EvalError> {
        match self.eval(node)? {
            V::Vector(v) => Ok(v),
            // The parser type-checks vector positions; a scalar here cannot happen, and
            // treating it as an empty vector is the harmless answer.
            V::Scalar(_) => Ok(Vec::new()),
        }
    }

    fn scalar(&self, node: &Node) -> Result<Sc, EvalError> {
        match self.eval(node)? {
            V::Scalar(s) => Ok(s),
            V::Vector(_) => Ok(Sc::plain(f64::NAN)),
        }
    }

    /// `op by (…) (f(selector[window]))` for a range function `f` over values, without
    /// the intermediate vector: which series the selector picks and their groups depend on
    /// label sets only, so they are planned once and kept while the label sets stay the
    /// same ([`RuleData::labels_epoch`]); each round then reads only values. The same result
    /// as evaluating the call and then [`aggregate`] (tested), `None` for other shapes.
    fn aggregate_range(
        &self,
        node: &Node,
        op: AggOp,
        grouping: &Grouping,
        expr: &Node,
    ) -> Option<Vec<S>> {
        let Planned {
            all, plan, values, ..
        } = self.planned_range(node, expr, grouping)?;
        // As `aggregate` does over the call's result: a group starts at its first member
        // with a value, members fold in order, and groups come out in order of that member.
        let mut groups: Vec<Option<(usize, Group)>> = (0..plan.groups).map(|_| None).collect();
        for (k, (&i, value)) in plan.picked.iter().zip(values).enumerate() {
            let (Some(s), Some(value), Some(Some(slot))) = (
                all.get(i as usize),
                value,
                plan.group_of.get(k).map(|&g| groups.get_mut(g as usize)),
            ) else {
                continue;
            };
            let g = slot.get_or_insert_with(|| {
                (
                    k,
                    Group {
                        first: i as usize,
                        next: NONE,
                        value,
                        count: 0.0,
                        stale: false,
                        srcs: Vec::new(),
                    },
                )
            });
            fold(op, &mut g.1, value, s.stale);
            if let Some(src) = s.source {
                g.1.srcs.push(src);
                if g.1.srcs.len() > 4 * MAX_SOURCES {
                    compact(&mut g.1.srcs);
                }
            }
        }
        let mut groups: Vec<(usize, Group)> = groups.into_iter().flatten().collect();
        groups.sort_by_key(|(k, _)| *k);
        Some(
            groups
                .into_iter()
                .filter_map(|(_, g)| {
                    let rep = &all.get(g.first)?.labels;
                    Some(group_sample(op, grouping, rep, g, &mut None))
                })
                .collect(),
        )
    }

    /// The range function `call` (`f(selector[window])`, `None` for anything else) planned
    /// for `node` (an aggregation, or a filter with [`Grouping::All`]) — the plan kept from
    /// an earlier round if the label sets are the same, else made now — and its values.
    fn planned_range(&self, node: &Node, call: &Node, grouping: &Grouping) -> Option<Planned<'_>> {
        let Node::Call(func, args) = call else {
            return None;
        };
        let (Some(func), [Node::Range(sel, window)]) = (range_value_func(*func), args.as_slice())
        else {
            return None;
        };
        let all = self.data.series(&sel.name);
        let epoch = self.data.labels_epoch(all);
        let key = node.to_string();
        let plan = match epoch.and_then(|e| self.data.plan(&key, e)) {
            Some(plan) => plan,
            None => {
                let plan = Arc::new(plan_groups(all, sel, grouping_sig(grouping)));
                if let Some(e) = epoch {
                    self.data.keep_plan(&key, e, plan.clone());
                }
                plan
            }
        };
        let f = |p: &[Point]| over_time(func, p);
        let mut values = Vec::with_capacity(plan.picked.len());
        self.data
            .range_values(all, &plan.picked, *window, func as u8, &f, &mut values);
        Some(Planned {
            func,
            all,
            plan,
            values,
        })
    }

    /// `f(selector[window]) <op> number` (or `number <op> …`) as a filter: the planned
    /// selection, values read in one call, and samples made only for the series that pass —
    /// for rules like `increase(restarts[10m]) > 5` that read thousands and keep few. The
    /// same result as evaluating the call, then [`vector_scalar`] (tested); `None` for
    /// other shapes.
    fn filter_range(&self, node: &Node, op: BinOp, lhs: &Node, rhs: &Node) -> Option<Vec<S>> {
        let (call, lit, scalar_left) = match (lhs, rhs) {
            (Node::Call(..), Node::Number(n)) => (lhs, n.0, false),
            (Node::Number(n), Node::Call(..)) => (rhs, n.0, true),
            _ => return None,
        };
        let Planned {
            func,
            all,
            plan,
            values,
        } = self.planned_range(node, call, &Grouping::All)?;
        Some(
            plan.picked
                .iter()
                .zip(values)
                .filter_map(|(&i, value)| {
                    let (s, value) = (all.get(i as usize)?, value?);
                    let (l, r) = if scalar_left {
                        (lit, value)
                    } else {
                        (value, lit)
                    };
                    compare(op, l, r).then(|| S {
                        name: (func == Func::LastOverTime).then(|| s.name.clone()),
                        labels: s.labels.clone(),
                        value,
                        stale: s.stale,
                        srcs: Srcs::from_opt(s.source),
                    })
                })
                .collect(),
        )
    }

    fn matching_series<'a>(
        &'a self,
        sel: &'a Selector,
    ) -> impl Iterator<Item = &'a InputSeries> + 'a {
        let all = self.data.series(&sel.name);
        all.iter().enumerate().filter_map(move |(i, s)| {
            // Each series' label set is its own allocation, and reading it is most of what
            // matching (and what follows: copying, grouping) costs: ask for the set a few
            // series ahead so that its cache misses overlap with this one's work.
            if let Some(ahead) = all.get(i + PREFETCH_AHEAD) {
                touch(&ahead.labels);
            }
            selects(sel, s).then_some(s)
        })
    }

    /// `selector <op> number` (or `number <op> selector`) as a filter, without copying the
    /// series that fail the comparison first: the same result as selecting then filtering
    /// with [`vector_scalar`] (a literal is never stale and has no sources), for rules like
    /// `node_cpu_percent > 85` that read thousands of series and keep few; `None` for other
    /// shapes.
    fn filter_selector(&self, op: BinOp, lhs: &Node, rhs: &Node) -> Option<Vec<S>> {
        let (sel, lit, scalar_left) = match (lhs, rhs) {
            (Node::Selector(sel), Node::Number(n)) => (sel, n.0, false),
            (Node::Number(n), Node::Selector(sel)) => (sel, n.0, true),
            _ => return None,
        };
        // The comparison first: it reads only the series' value, while matching reads its
        // label set; both are pure, so the order does not change which series pass.
        Some(
            self.data
                .series(&sel.name)
                .iter()
                .filter(|s| {
                    let (l, r) = if scalar_left {
                        (lit, s.value)
                    } else {
                        (s.value, lit)
                    };
                    compare(op, l, r) && selects(sel, s)
                })
                .map(S::selected)
                .collect(),
        )
    }

    fn select(&self, sel: &Selector) -> Vec<S> {
        self.matching_series(sel).map(S::selected).collect()
    }

    fn call(&self, func: Func, args: &[Node]) -> Result<V, EvalError> {
        let arg = |i: usize| args.get(i).ok_or(i);
        Ok(match func {
            Func::Time => V::Scalar(Sc::plain(
                self.data.now().timestamp_millis() as f64 / 1000.0,
            )),
            Func::Vector => {
                let Ok(a) = arg(0) else {
                    return Ok(V::Vector(Vec::new()));
                };
                let s = self.scalar(a)?;
                V::Vector(vec![S {
                    name: None,
                    labels: empty_labels(),
                    value: s.value,
                    stale: s.stale,
                    srcs: s.srcs,
                }])
            }
            Func::Scalar => {
                let Ok(a) = arg(0) else {
                    return Ok(V::Scalar(Sc::plain(f64::NAN)));
                };
                let v = self.vector(a)?;
                V::Scalar(match v.as_slice() {
                    [one] => Sc {
                        value: one.value,
                        stale: one.stale,
                        srcs: one.srcs.clone(),
                    },
                    _ => Sc::plain(f64::NAN),
                })
            }
            Func::Abs => {
                let Ok(a) = arg(0) else {
                    return Ok(V::Vector(Vec::new()));
                };
                V::Vector(map_values(self.vector(a)?, None, f64::abs))
            }
            Func::ClampMin | Func::ClampMax => {
                let (Ok(a), Ok(b)) = (arg(0), arg(1)) else {
                    return Ok(V::Vector(Vec::new()));
                };
                let v = self.vector(a)?;
                let bound = self.scalar(b)?;
                let f = move |x: f64| {
                    // Go's math.Max/Min propagate NaN, unlike f64::max/min.
                    if x.is_nan() || bound.value.is_nan() {
                        f64::NAN
                    } else if func == Func::ClampMin {
                        x.max(bound.value)
                    } else {
                        x.min(bound.value)
                    }
                };
                let prov = Sc {
                    value: 0.0,
                    stale: bound.stale,
                    srcs: bound.srcs.clone(),
                };
                V::Vector(map_values(v, Some(&prov), f))
            }
            Func::Absent => {
                let Ok(a) = arg(0) else {
                    return Ok(V::Vector(Vec::new()));
                };
                if self.vector(a)?.is_empty() {
                    let labels = match a {
                        Node::Selector(sel) => absent_labels(sel),
                        _ => empty_labels(),
                    };
                    V::Vector(vec![absent_sample(labels)])
                } else {
                    V::Vector(Vec::new())
                }
            }
            Func::AbsentOverTime => {
                let Ok(Node::Range(sel, window)) = arg(0) else {
                    return Ok(V::Vector(Vec::new()));
                };
                let mut points = Vec::new();
                let present = self.matching_series(sel).any(|s| {
                    self.data.history(s, *window, &mut points);
                    !points.is_empty()
                });
                if present {
                    V::Vector(Vec::new())
                } else {
                    V::Vector(vec![absent_sample(absent_labels(sel))])
                }
            }
            range_func => {
                let Ok(Node::Range(sel, window)) = arg(0) else {
                    return Ok(V::Vector(Vec::new()));
                };
                let f = |p: &[Point]| over_time(range_func, p);
                let all = self.data.series(&sel.name);
                // Which series the selector picks first (label sets only), then their
                // values in one call, which reads each source's table once.
                let mut picked = Vec::new();
                for (i, s) in all.iter().enumerate() {
                    if let Some(ahead) = all.get(i + PREFETCH_AHEAD) {
                        touch(&ahead.labels);
                    }
                    if selects(sel, s) {
                        picked.push(u32::try_from(i).unwrap_or(u32::MAX));
                    }
                }
                let mut values = Vec::with_capacity(picked.len());
                self.data
                    .range_values(all, &picked, *window, range_func as u8, &f, &mut values);
                let mut out = Vec::with_capacity(picked.len());
                for (&i, value) in picked.iter().zip(values) {
                    let (Some(s), Some(value)) = (all.get(i as usize), value) else {
                        continue;
                    };
                    out.push(S {
                        // PromQL keeps the name only for last_over_time.
                        name: (range_func == Func::LastOverTime).then(|| s.name.clone()),
                        labels: s.labels.clone(),
                        value,
                        stale: s.stale,
                        srcs: Srcs::from_opt(s.source),
                    });
                }
                V::Vector(out)
            }
        })
    }
}

/// How many series ahead [`Evaluator::matching_series`] touches label sets.
const PREFETCH_AHEAD: usize = 8;

/// Start loading a label set into cache without waiting for it: a plain read whose value
/// nothing depends on, so the processor carries on while the miss is served.
#[inline(always)]
fn touch(labels: &LabelSet) {
    std::hint::black_box(labels.get(2).map(|(k, _)| k.len()));
}

fn selects(sel: &Selector, s: &InputSeries) -> bool {
    sel.matchers.iter().all(|m| {
        let v = if &*m.label == "__name__" {
            &*s.name
        } else {
            // PromQL: a missing label matches as the empty string.
            label(&s.labels, &m.label).unwrap_or("")
        };
        m.matches(v)
    })
}

/// PromQL's `absent` labels: every `label="value"` matcher, unless the label has several.
fn absent_labels(sel: &Selector) -> LabelSet {
    let eq = |m: &&super::ast::Matcher| m.op == MatchOp::Eq && &*m.label != "__name__";
    let pairs: Vec<(&str, &str)> = sel
        .matchers
        .iter()
        .filter(eq)
        .filter(|m| {
            sel.matchers
                .iter()
                .filter(eq)
                .filter(|o| o.label == m.label)
                .count()
                == 1
        })
        .map(|m| (&*m.label, m.value.as_str()))
        .collect();
    label_set(pairs)
}

fn absent_sample(labels: LabelSet) -> S {
    S {
        name: None,
        labels,
        value: 1.0,
        stale: false,
        srcs: Srcs::None,
    }
}

/// Apply `f` to every value, dropping the metric name, optionally adding a scalar's
/// provenance. Reuses the input vector's allocation.
fn map_values(v: Vec<S>, prov: Option<&Sc>, f: impl Fn(f64) -> f64) -> Vec<S> {
    v.into_iter()
        .map(|s| S {
            name: None,
            value: f(s.value),
            stale: s.stale || prov.is_some_and(|p| p.stale),
            srcs: match prov {
                Some(p) => s.srcs.union(&p.srcs),
                None => s.srcs,
            },
            labels: s.labels,
        })
        .collect()
}

/// A range function over one series' points (oldest first).
///
/// No extrapolation: `increase` is the sum of the positive deltas between consecutive
/// points plus, at a counter reset (a drop), the value after the reset; `rate` is that
/// divided by the seconds between the first and last point (at the millisecond resolution
/// of [`Point`]); both, and `delta`, need two points. The `*_over_time` functions need one.
fn over_time(func: Func, points: &[Point]) -> Option<f64> {
    let (first, last) = (points.first()?, points.last()?);
    let increase = || {
        points.windows(2).fold(0.0, |acc, w| {
            let (prev, cur) = (w[0].1, w[1].1);
            if cur < prev {
                acc + cur
            } else {
                acc + (cur - prev)
            }
        })
    };
    Some(match func {
        Func::Increase | Func::Rate | Func::Delta if points.len() < 2 => return None,
        Func::Increase => increase(),
        Func::Rate => {
            let secs = last.0.saturating_sub(first.0) as f64 / 1000.0;
            if secs <= 0.0 {
                return None;
            }
            increase() / secs
        }
        Func::Delta => last.1 - first.1,
        Func::Changes => points
            .windows(2)
            .filter(|w| w[0].1 != w[1].1 && !(w[0].1.is_nan() && w[1].1.is_nan()))
            .count() as f64,
        Func::Resets => points.windows(2).filter(|w| w[1].1 < w[0].1).count() as f64,
        Func::AvgOverTime => points.iter().map(|p| p.1).sum::<f64>() / points.len() as f64,
        Func::SumOverTime => points.iter().map(|p| p.1).sum(),
        Func::CountOverTime => points.len() as f64,
        Func::LastOverTime => last.1,
        Func::MinOverTime => points
            .iter()
            .skip(1)
            .fold(first.1, |m, p| if p.1 < m || m.is_nan() { p.1 } else { m }),
        Func::MaxOverTime => points
            .iter()
            .skip(1)
            .fold(first.1, |m, p| if p.1 > m || m.is_nan() { p.1 } else { m }),
        // Not range functions over values; handled by the caller.
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------
// Label signatures: the labels two series are matched or grouped on.

/// `on == true`: exactly `labels` (missing = ""); `on == false`: every label except `labels`.
#[derive(Clone, Copy)]
struct Sig<'a> {
    on: bool,
    labels: &'a [Arc<str>],
}

impl Sig<'_> {
    fn hash(&self, ls: &LabelSet) -> u64 {
        let mut h = FxHasher::default();
        if self.on {
            for n in self.labels {
                h.write(label(ls, n).unwrap_or("").as_bytes());
                h.write_u8(0xff);
            }
        } else {
            for (k, v) in ls.iter() {
                if self.labels.binary_search(k).is_err() {
                    h.write(k.as_bytes());
                    h.write_u8(0xfe);
                    h.write(v.as_bytes());
                    h.write_u8(0xff);
                }
            }
        }
        h.finish()
    }

    fn filtered<'l>(&self, ls: &'l LabelSet) -> impl Iterator<Item = &'l (Arc<str>, Arc<str>)> {
        let labels = self.labels;
        ls.iter()
            .filter(move |(k, _)| labels.binary_search(k).is_err())
    }

    fn eq(&self, a: &LabelSet, b: &LabelSet) -> bool {
        if Arc::ptr_eq(a, b) {
            return true;
        }
        if self.on {
            self.labels
                .iter()
                .all(|n| same_str(label(a, n).unwrap_or(""), label(b, n).unwrap_or("")))
        } else {
            self.filtered(a).eq(self.filtered(b))
        }
    }

    /// `{a="x", b="y"}` for error messages.
    fn render(&self, ls: &LabelSet) -> String {
        let pairs: Vec<String> = if self.on {
            self.labels
                .iter()
                .map(|n| format!("{n}={}", super::ast::quote(label(ls, n).unwrap_or(""))))
                .collect()
        } else {
            self.filtered(ls)
                .map(|(k, v)| format!("{k}={}", super::ast::quote(v)))
                .collect()
        };
        format!("{{{}}}", pairs.join(", "))
    }
}

const NONE: usize = usize::MAX;

/// Hash index over one side of a binary operation: hash → first element, then a chain.
struct Index {
    heads: FxHashMap<u64, usize>,
    next: Vec<usize>,
}

impl Index {
    fn build(samples: &[S], sig: Sig<'_>) -> Index {
        let mut heads = FxHashMap::with_capacity_and_hasher(samples.len(), Default::default());
        let mut next = vec![NONE; samples.len()];
        for (i, s) in samples.iter().enumerate() {
            if let Some(prev) = heads.insert(sig.hash(&s.labels), i) {
                next[i] = prev;
            }
        }
        Index { heads, next }
    }

    /// Every element whose hash is `h` (callers check label equality).
    fn candidates(&self, h: u64) -> impl Iterator<Item = usize> + '_ {
        let mut cur = self.heads.get(&h).copied().unwrap_or(NONE);
        std::iter::from_fn(move || {
            if cur == NONE {
                return None;
            }
            let i = cur;
            cur = self.next[i];
            Some(i)
        })
    }
}

// ---------------------------------------------------------------------------------------
// Operators.

fn arith(op: BinOp, l: f64, r: f64) -> f64 {
    match op {
        BinOp::Add => l + r,
        BinOp::Sub => l - r,
        BinOp::Mul => l * r,
        BinOp::Div => l / r,
        // Same as Go's math.Mod: the result has the sign of the dividend.
        BinOp::Mod => l % r,
        BinOp::Pow => l.powf(r),
        _ => f64::NAN,
    }
}

/// IEEE comparisons: anything involving NaN is false, except `!=`.
fn compare(op: BinOp, l: f64, r: f64) -> bool {
    match op {
        BinOp::Eq => l == r,
        BinOp::Ne => l != r,
        BinOp::Gt => l > r,
        BinOp::Lt => l < r,
        BinOp::Ge => l >= r,
        BinOp::Le => l <= r,
        _ => false,
    }
}

fn binary(
    op: BinOp,
    l: V,
    r: V,
    return_bool: bool,
    matching: Option<&VectorMatching>,
) -> Result<V, EvalError> {
    Ok(match (l, r) {
        (V::Scalar(a), V::Scalar(b)) => {
            let value = if op.is_comparison() {
                f64::from(u8::from(compare(op, a.value, b.value)))
            } else {
                arith(op, a.value, b.value)
            };
            V::Scalar(Sc {
                value,
                stale: a.stale || b.stale,
                srcs: a.srcs.union(&b.srcs),
            })
        }
        (V::Vector(v), V::Scalar(s)) => V::Vector(vector_scalar(op, v, &s, false, return_bool)),
        (V::Scalar(s), V::Vector(v)) => V::Vector(vector_scalar(op, v, &s, true, return_bool)),
        (V::Vector(a), V::Vector(b)) => {
            let default = VectorMatching {
                on: false,
                labels: Vec::new(),
                card: Card::OneToOne,
                include: Vec::new(),
            };
            let m = matching.unwrap_or(&default);
            V::Vector(match op {
                BinOp::And | BinOp::Unless => and_unless(op == BinOp::And, a, &b, m),
                BinOp::Or => or(a, b, m),
                _ => vector_vector(op, a, b, return_bool, m)?,
            })
        }
    })
}

fn vector_scalar(op: BinOp, v: Vec<S>, sc: &Sc, scalar_left: bool, return_bool: bool) -> Vec<S> {
    v.into_iter()
        .filter_map(|s| {
            let (l, r) = if scalar_left {
                (sc.value, s.value)
            } else {
                (s.value, sc.value)
            };
            let (value, name) = if op.is_comparison() {
                let keep = compare(op, l, r);
                if return_bool {
                    (f64::from(u8::from(keep)), None)
                } else if keep {
                    // A filter keeps the vector's own value and name, whichever side it is on.
                    (s.value, s.name)
                } else {
                    return None;
                }
            } else {
                (arith(op, l, r), None)
            };
            Some(S {
                name,
                labels: s.labels,
                value,
                stale: s.stale || sc.stale,
                srcs: s.srcs.union(&sc.srcs),
            })
        })
        .collect()
}

fn and_unless(and: bool, lhs: Vec<S>, rhs: &[S], m: &VectorMatching) -> Vec<S> {
    // Nothing to match on one side decides the result without hashing the other (a guard
    // such as `unless on (env, node) node_up == 1` is over every node of the fleet).
    if lhs.is_empty() {
        return lhs;
    }
    if rhs.is_empty() {
        return if and { Vec::new() } else { lhs };
    }
    let sig = Sig {
        on: m.on,
        labels: &m.labels,
    };
    let idx = Index::build(rhs, sig);
    lhs.into_iter()
        .filter_map(|mut s| {
            let mut found = false;
            let h = sig.hash(&s.labels);
            for i in idx.candidates(h) {
                let r = &rhs[i];
                if sig.eq(&r.labels, &s.labels) {
                    found = true;
                    if !and {
                        break;
                    }
                    // The right-hand series decided that this sample is kept: it contributed.
                    s.stale |= r.stale;
                    s.srcs = s.srcs.union(&r.srcs);
                }
            }
            (found == and).then_some(s)
        })
        .collect()
}

fn or(lhs: Vec<S>, rhs: Vec<S>, m: &VectorMatching) -> Vec<S> {
    let sig = Sig {
        on: m.on,
        labels: &m.labels,
    };
    let idx = Index::build(&lhs, sig);
    let extra: Vec<S> = rhs
        .into_iter()
        .filter(|r| {
            let h = sig.hash(&r.labels);
            !idx.candidates(h).any(|i| sig.eq(&lhs[i].labels, &r.labels))
        })
        .collect();
    let mut out = lhs;
    out.extend(extra);
    out
}

fn vector_vector(
    op: BinOp,
    lhs: Vec<S>,
    rhs: Vec<S>,
    return_bool: bool,
    m: &VectorMatching,
) -> Result<Vec<S>, EvalError> {
    let sig = Sig {
        on: m.on,
        labels: &m.labels,
    };
    let op_name = || op.as_str().to_owned();
    // group_right: the right side is the "many" side; swap, and swap back for the values.
    let swapped = m.card == Card::OneToMany;
    let (many, one) = if swapped { (rhs, lhs) } else { (lhs, rhs) };
    let idx = Index::build(&one, sig);
    for (i, s) in one.iter().enumerate() {
        let h = sig.hash(&s.labels);
        if idx
            .candidates(h)
            .any(|j| j != i && sig.eq(&one[j].labels, &s.labels))
        {
            return Err(EvalError::ManyToMany {
                op: op_name(),
                side: if swapped { Side::Left } else { Side::Right },
                labels: sig.render(&s.labels),
            });
        }
    }
    let mut matched = vec![
        false;
        if m.card == Card::OneToOne {
            one.len()
        } else {
            0
        }
    ];
    let mut produced: FxHashMap<(u64, u64), usize> = FxHashMap::default();
    let mut out = Vec::new();
    for ms in many {
        let h = sig.hash(&ms.labels);
        let Some(oi) = idx
            .candidates(h)
            .find(|&j| sig.eq(&one[j].labels, &ms.labels))
        else {
            continue;
        };
        let os = &one[oi];
        let (l, r) = if swapped {
            (os.value, ms.value)
        } else {
            (ms.value, os.value)
        };
        let (value, keep_name) = if op.is_comparison() {
            let keep = compare(op, l, r);
            if return_bool {
                (f64::from(u8::from(keep)), false)
            } else if keep {
                (l, true)
            } else {
                continue;
            }
        } else {
            (arith(op, l, r), false)
        };
        let (labels, name) = if m.card == Card::OneToOne {
            if std::mem::replace(&mut matched[oi], true) {
                return Err(EvalError::ManyToOneImplicit {
                    op: op_name(),
                    labels: sig.render(&ms.labels),
                });
            }
            if m.on {
                // PromQL keeps only the `on` labels (the name goes too).
                (keep_only(&ms.labels, &m.labels), None)
            } else {
                (
                    drop_labels(&ms.labels, &m.labels),
                    keep_name.then(|| ms.name.clone()).flatten(),
                )
            }
        } else {
            (
                with_includes(&ms.labels, &os.labels, &m.include),
                keep_name.then(|| ms.name.clone()).flatten(),
            )
        };
        if m.card != Card::OneToOne {
            let all = Sig {
                on: false,
                labels: &[],
            };
            let key = (h, all.hash(&labels));
            if let Some(&prev) = produced.get(&key) {
                let p: &S = &out[prev];
                if p.labels == labels && p.name == name {
                    return Err(EvalError::DuplicateOutput {
                        op: op_name(),
                        labels: all.render(&labels),
                    });
                }
            } else {
                produced.insert(key, out.len());
            }
        }
        out.push(S {
            name,
            labels,
            value,
            stale: ms.stale || os.stale,
            srcs: ms.srcs.union(&os.srcs),
        });
    }
    Ok(out)
}

/// Only the labels in `names` (sorted); shares `ls` when it already has exactly those.
fn keep_only(ls: &LabelSet, names: &[Arc<str>]) -> LabelSet {
    if ls.len() == names.len() && ls.iter().zip(names).all(|((k, _), n)| k == n) {
        return ls.clone();
    }
    ls.iter()
        .filter(|(k, _)| names.binary_search(k).is_ok())
        .cloned()
        .collect::<Vec<_>>()
        .into()
}

/// Every label except those in `names` (sorted); shares `ls` when none is present.
fn drop_labels(ls: &LabelSet, names: &[Arc<str>]) -> LabelSet {
    if !ls.iter().any(|(k, _)| names.binary_search(k).is_ok()) {
        return ls.clone();
    }
    ls.iter()
        .filter(|(k, _)| names.binary_search(k).is_err())
        .cloned()
        .collect::<Vec<_>>()
        .into()
}

/// The "many" side's labels plus `include` copied from the "one" side (removed where the
/// "one" side lacks them), as PromQL's `group_left(…)`.
fn with_includes(many: &LabelSet, one: &LabelSet, include: &[Arc<str>]) -> LabelSet {
    if include.is_empty() {
        return many.clone();
    }
    let mut v: Vec<(Arc<str>, Arc<str>)> = many
        .iter()
        .filter(|(k, _)| include.binary_search(k).is_err())
        .cloned()
        .collect();
    v.extend(
        one.iter()
            .filter(|(k, v)| include.binary_search(k).is_ok() && !v.is_empty())
            .cloned(),
    );
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v.into()
}

// ---------------------------------------------------------------------------------------
// Aggregation.

struct Group {
    /// Index of the first member: its labels give the group's labels.
    first: usize,
    next: usize,
    value: f64,
    count: f64,
    stale: bool,
    srcs: Vec<SourceId>,
}

fn grouping_sig(grouping: &Grouping) -> Sig<'_> {
    match grouping {
        Grouping::All => Sig {
            on: true,
            labels: &[],
        },
        Grouping::By(l) => Sig {
            on: true,
            labels: l,
        },
        Grouping::Without(l) => Sig {
            on: false,
            labels: l,
        },
    }
}

/// Add one member's value to a group (the first member sets it).
fn fold(op: AggOp, g: &mut Group, value: f64, stale: bool) {
    g.value = if g.count == 0.0 {
        value
    } else {
        match op {
            AggOp::Sum | AggOp::Avg => g.value + value,
            // PromQL: NaN is replaced by any number.
            AggOp::Min if value < g.value || g.value.is_nan() => value,
            AggOp::Max if value > g.value || g.value.is_nan() => value,
            AggOp::Min | AggOp::Max | AggOp::Count => g.value,
        }
    };
    g.count += 1.0;
    g.stale |= stale;
}

/// A group's result: its labels from a member's (`rep`), its value by `op`.
fn group_sample(
    op: AggOp,
    grouping: &Grouping,
    rep: &LabelSet,
    g: Group,
    empty: &mut Option<LabelSet>,
) -> S {
    let labels = match grouping {
        Grouping::All => empty.get_or_insert_with(empty_labels).clone(),
        Grouping::By(names) => {
            let present: Vec<Arc<str>> = names
                .iter()
                .filter(|n| label(rep, n).is_some_and(|v| !v.is_empty()))
                .cloned()
                .collect();
            keep_only(rep, &present)
        }
        Grouping::Without(names) => drop_labels(rep, names),
    };
    S {
        name: None,
        labels,
        value: match op {
            AggOp::Avg => g.value / g.count,
            AggOp::Count => g.count,
            _ => g.value,
        },
        stale: g.stale,
        srcs: Srcs::finish(g.srcs),
    }
}

fn aggregate(op: AggOp, grouping: &Grouping, input: Vec<S>) -> Vec<S> {
    let sig = grouping_sig(grouping);
    let mut heads: FxHashMap<u64, usize> = FxHashMap::default();
    let mut groups: Vec<Group> = Vec::new();
    for (i, s) in input.iter().enumerate() {
        let h = sig.hash(&s.labels);
        let head = heads.get(&h).copied().unwrap_or(NONE);
        let mut g = head;
        while g != NONE && !sig.eq(&input[groups[g].first].labels, &s.labels) {
            g = groups[g].next;
        }
        if g == NONE {
            g = groups.len();
            groups.push(Group {
                first: i,
                next: head,
                value: f64::NAN,
                count: 0.0,
                stale: false,
                srcs: Vec::new(),
            });
            heads.insert(h, g);
        }
        fold(op, &mut groups[g], s.value, s.stale);
        let srcs = &mut groups[g].srcs;
        s.srcs.extend_into(srcs);
        // Bound the memory a large group can take; compacting keeps the smallest ids.
        if srcs.len() > 4 * MAX_SOURCES {
            compact(srcs);
        }
    }
    let mut empty: Option<LabelSet> = None;
    groups
        .into_iter()
        .map(|g| {
            let first = g.first;
            group_sample(op, grouping, &input[first].labels, g, &mut empty)
        })
        .collect()
}

/// The range functions over a series' values (those `aggregate_range` can take).
fn range_value_func(func: Func) -> Option<Func> {
    matches!(
        func,
        Func::Rate
            | Func::Increase
            | Func::Delta
            | Func::Changes
            | Func::Resets
            | Func::AvgOverTime
            | Func::MinOverTime
            | Func::MaxOverTime
            | Func::SumOverTime
            | Func::CountOverTime
            | Func::LastOverTime
    )
    .then_some(func)
}

/// Which of `all` the selector picks, and their groups under `sig`, numbered in order of
/// first member (see [`GroupPlan`]).
fn plan_groups(all: &[InputSeries], sel: &Selector, sig: Sig<'_>) -> GroupPlan {
    let mut plan = GroupPlan::default();
    // Hash → (group, its first member's index in `all`), then a chain of groups.
    let mut heads: FxHashMap<u64, usize> = FxHashMap::default();
    let mut firsts: Vec<(usize, usize)> = Vec::new();
    for (i, s) in all.iter().enumerate() {
        if let Some(ahead) = all.get(i + PREFETCH_AHEAD) {
            touch(&ahead.labels);
        }
        if !selects(sel, s) {
            continue;
        }
        let h = sig.hash(&s.labels);
        let head = heads.get(&h).copied().unwrap_or(NONE);
        let mut g = head;
        while g != NONE && !sig.eq(&all[firsts[g].0].labels, &s.labels) {
            g = firsts[g].1;
        }
        if g == NONE {
            g = firsts.len();
            firsts.push((i, head));
            heads.insert(h, g);
        }
        plan.picked.push(u32::try_from(i).unwrap_or(u32::MAX));
        plan.group_of.push(u32::try_from(g).unwrap_or(u32::MAX));
    }
    plan.groups = firsts.len();
    plan
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};

    use super::*;
    use crate::rules::data::MemoryData;
    use crate::rules::lang::parse;

    /// The selector-versus-literal filter must give what selecting then filtering gives;
    /// parentheses around the selector take the general path.
    /// `op by (…) (f(sel[w]))` and `f(sel[w]) <cmp> number` take the planned paths;
    /// wrapping the call in parentheses takes the general one (call, then aggregate or
    /// filter). They must agree on every value, label, staleness, source list and order —
    /// including series with too few points for a value, a group whose first member has
    /// none, NaN, and a missing grouping label.
    #[test]
    fn aggregation_over_a_range_function_equals_the_general_path() {
        let now = Utc.timestamp_opt(1_795_300_000, 0).single().expect("time");
        let at = |s: i64| now - chrono::Duration::seconds(s);
        let mut d = MemoryData::new(now);
        let envs = [
            "prod", "stage", "", "prod", "dev", "stage", "prod", "dev", "stage",
        ];
        for (i, env) in envs.into_iter().enumerate() {
            let history: Vec<(DateTime<Utc>, f64)> = match i % 4 {
                // One point: no rate, a last value.
                0 => vec![(at(10), 5.0)],
                1 => vec![(at(250), 1.0), (at(130), 40.0), (at(10), 90.0)],
                // A reset, and a NaN sample.
                2 => vec![
                    (at(200), 50.0),
                    (at(100), 3.0),
                    (at(40), f64::NAN),
                    (at(5), 9.0),
                ],
                _ => vec![(at(290), i as f64), (at(20), 10.0 * i as f64)],
            };
            let code = if i % 3 == 0 { "500" } else { "200" };
            let mut labels = vec![("code", code), ("node", ["a", "b", "c"][i % 3])];
            if !env.is_empty() {
                labels.push(("env", env));
            }
            let idx = i.to_string();
            labels.push(("i", &idx));
            d.push_full(
                "req",
                label_set(labels),
                0.0,
                i == 5,
                (i != 4).then_some(SourceId((i % 5) as u32)),
                history,
            );
        }
        for op in ["sum", "avg", "min", "max", "count"] {
            for grouping in ["by (env)", "by (env, node)", "without (i, code)", ""] {
                for func in [
                    "rate",
                    "increase",
                    "max_over_time",
                    "last_over_time",
                    "changes",
                ] {
                    for sel in ["req", "req{code=~\"5..\"}", "req{env=\"none\"}"] {
                        let fast = format!("{op} {grouping} ({func}({sel}[5m]))");
                        let general = format!("{op} {grouping} (({func}({sel}[5m])))");
                        let f = parse(&fast).expect("fast").eval(&d).expect("eval");
                        let g = parse(&general).expect("general").eval(&d).expect("eval");
                        assert_eq!(format!("{f:?}"), format!("{g:?}"), "{fast}");
                    }
                }
            }
        }
        // The same for a comparison filter over a range function, on either side.
        for cmp in ["==", "!=", ">", "<", ">=", "<="] {
            for func in [
                "rate",
                "increase",
                "max_over_time",
                "last_over_time",
                "changes",
            ] {
                for sel in ["req", "req{code=~\"5..\"}"] {
                    for lit in ["0", "0.25", "90", "NaN"] {
                        for (fast, general) in [
                            (
                                format!("{func}({sel}[5m]) {cmp} {lit}"),
                                format!("({func}({sel}[5m])) {cmp} {lit}"),
                            ),
                            (
                                format!("{lit} {cmp} {func}({sel}[5m])"),
                                format!("{lit} {cmp} ({func}({sel}[5m]))"),
                            ),
                        ] {
                            let f = parse(&fast).expect("fast").eval(&d).expect("eval");
                            let g = parse(&general).expect("general").eval(&d).expect("eval");
                            assert_eq!(format!("{f:?}"), format!("{g:?}"), "{fast}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn selector_filter_equals_the_general_path() {
        let now = Utc.timestamp_opt(1_795_300_000, 0).single().expect("time");
        let mut d = MemoryData::new(now);
        for (i, v) in [0.0, 1.0, 5.0, f64::NAN, -2.0, 5.0].into_iter().enumerate() {
            let kind = if i % 2 == 0 { "a" } else { "b" };
            d.push_full(
                "m",
                label_set([("kind", kind), ("i", &i.to_string())]),
                v,
                i == 2,
                (i != 4).then_some(SourceId(i as u32)),
                Vec::new(),
            );
        }
        for op in ["==", "!=", ">", "<", ">=", "<="] {
            for (fast, general) in [
                (format!("m {op} 5"), format!("(m) {op} 5")),
                (format!("5 {op} m"), format!("5 {op} (m)")),
                (
                    format!("m{{kind=\"a\"}} {op} 0"),
                    format!("(m{{kind=\"a\"}}) {op} 0"),
                ),
                (format!("m {op} NaN"), format!("(m) {op} NaN")),
            ] {
                let f = parse(&fast).expect("fast").eval(&d).expect("eval");
                let g = parse(&general).expect("general").eval(&d).expect("eval");
                assert_eq!(format!("{f:?}"), format!("{g:?}"), "{fast}");
            }
        }
    }
}
