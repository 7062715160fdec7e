//! Syntax tree of a rule expression and its canonical printed form.
//!
//! Owns the node types, the static types the parser checks, and `Display`. Parentheses the
//! author wrote are kept as nodes, so printing never needs to re-derive where they go and
//! the printed form re-parses to an equal tree.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;

use super::lexer::format_duration;

/// Static type of an expression, checked at parse time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Type {
    Scalar,
    Vector,
    Range,
}

impl Type {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Type::Scalar => "a scalar",
            Type::Vector => "an instant vector",
            Type::Range => "a range vector",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MatchOp {
    Eq,
    Ne,
    Re,
    NotRe,
}

impl MatchOp {
    fn as_str(self) -> &'static str {
        match self {
            MatchOp::Eq => "=",
            MatchOp::Ne => "!=",
            MatchOp::Re => "=~",
            MatchOp::NotRe => "!~",
        }
    }
}

/// One label matcher. The regex is compiled once, at parse time, anchored as in PromQL.
#[derive(Debug, Clone)]
pub(crate) struct Matcher {
    pub label: Arc<str>,
    pub op: MatchOp,
    pub value: String,
    pub regex: Option<Regex>,
}

impl PartialEq for Matcher {
    // The regex is derived from `value`, so comparing it would add nothing (and Regex has no Eq).
    fn eq(&self, other: &Self) -> bool {
        self.label == other.label && self.op == other.op && self.value == other.value
    }
}

impl Matcher {
    pub(crate) fn matches(&self, value: &str) -> bool {
        match (self.op, &self.regex) {
            (MatchOp::Eq, _) => value == self.value,
            (MatchOp::Ne, _) => value != self.value,
            (MatchOp::Re, Some(re)) => re.is_match(value),
            (MatchOp::NotRe, Some(re)) => !re.is_match(value),
            // The parser always compiles a regex for `=~`/`!~`; without one nothing matches.
            (MatchOp::Re | MatchOp::NotRe, None) => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Selector {
    pub name: Arc<str>,
    pub matchers: Vec<Matcher>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Rate,
    Increase,
    Delta,
    Changes,
    Resets,
    AvgOverTime,
    MinOverTime,
    MaxOverTime,
    SumOverTime,
    CountOverTime,
    LastOverTime,
    AbsentOverTime,
    Absent,
    Abs,
    ClampMin,
    ClampMax,
    Time,
    Vector,
    Scalar,
}

pub(crate) const FUNCS: &[(&str, Func, &[Type], Type)] = &[
    ("rate", Func::Rate, &[Type::Range], Type::Vector),
    ("increase", Func::Increase, &[Type::Range], Type::Vector),
    ("delta", Func::Delta, &[Type::Range], Type::Vector),
    ("changes", Func::Changes, &[Type::Range], Type::Vector),
    ("resets", Func::Resets, &[Type::Range], Type::Vector),
    (
        "avg_over_time",
        Func::AvgOverTime,
        &[Type::Range],
        Type::Vector,
    ),
    (
        "min_over_time",
        Func::MinOverTime,
        &[Type::Range],
        Type::Vector,
    ),
    (
        "max_over_time",
        Func::MaxOverTime,
        &[Type::Range],
        Type::Vector,
    ),
    (
        "sum_over_time",
        Func::SumOverTime,
        &[Type::Range],
        Type::Vector,
    ),
    (
        "count_over_time",
        Func::CountOverTime,
        &[Type::Range],
        Type::Vector,
    ),
    (
        "last_over_time",
        Func::LastOverTime,
        &[Type::Range],
        Type::Vector,
    ),
    (
        "absent_over_time",
        Func::AbsentOverTime,
        &[Type::Range],
        Type::Vector,
    ),
    ("absent", Func::Absent, &[Type::Vector], Type::Vector),
    ("abs", Func::Abs, &[Type::Vector], Type::Vector),
    (
        "clamp_min",
        Func::ClampMin,
        &[Type::Vector, Type::Scalar],
        Type::Vector,
    ),
    (
        "clamp_max",
        Func::ClampMax,
        &[Type::Vector, Type::Scalar],
        Type::Vector,
    ),
    ("time", Func::Time, &[], Type::Scalar),
    ("vector", Func::Vector, &[Type::Scalar], Type::Vector),
    ("scalar", Func::Scalar, &[Type::Vector], Type::Scalar),
];

impl Func {
    pub(crate) fn name(self) -> &'static str {
        FUNCS
            .iter()
            .find(|(_, f, _, _)| *f == self)
            .map_or("?", |(n, _, _, _)| n)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AggOp {
    Sum,
    Min,
    Max,
    Avg,
    Count,
}

pub(crate) const AGGS: &[(&str, AggOp)] = &[
    ("sum", AggOp::Sum),
    ("min", AggOp::Min),
    ("max", AggOp::Max),
    ("avg", AggOp::Avg),
    ("count", AggOp::Count),
];

impl AggOp {
    fn name(self) -> &'static str {
        AGGS.iter()
            .find(|(_, a)| *a == self)
            .map_or("?", |(n, _)| n)
    }
}

/// `by (…)` / `without (…)`; labels sorted and deduplicated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Grouping {
    /// No clause: everything in one group.
    All,
    By(Vec<Arc<str>>),
    Without(Vec<Arc<str>>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Pow,
    Mul,
    Div,
    Mod,
    Add,
    Sub,
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    And,
    Unless,
    Or,
}

impl BinOp {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            BinOp::Pow => "^",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Gt => ">",
            BinOp::Lt => "<",
            BinOp::Ge => ">=",
            BinOp::Le => "<=",
            BinOp::And => "and",
            BinOp::Unless => "unless",
            BinOp::Or => "or",
        }
    }

    /// PromQL precedence, higher binds tighter.
    pub(crate) fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And | BinOp::Unless => 2,
            BinOp::Eq | BinOp::Ne | BinOp::Gt | BinOp::Lt | BinOp::Ge | BinOp::Le => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div | BinOp::Mod => 5,
            BinOp::Pow => 6,
        }
    }

    pub(crate) fn is_comparison(self) -> bool {
        self.precedence() == 3
    }

    pub(crate) fn is_set(self) -> bool {
        matches!(self, BinOp::And | BinOp::Unless | BinOp::Or)
    }
}

/// Which side may have several series per match group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Card {
    OneToOne,
    /// `group_left`: the left side is the "many" side.
    ManyToOne,
    /// `group_right`: the right side is the "many" side.
    OneToMany,
}

/// `on(…)`/`ignoring(…)` with an optional `group_left(…)`/`group_right(…)`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VectorMatching {
    pub on: bool,
    /// Sorted, deduplicated.
    pub labels: Vec<Arc<str>>,
    pub card: Card,
    /// Labels copied from the "one" side (`group_left(a, b)`), sorted, deduplicated.
    pub include: Vec<Arc<str>>,
}

/// A number literal. Equal to another when both are NaN, so that `NaN` round-trips.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lit(pub f64);

impl PartialEq for Lit {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0 || (self.0.is_nan() && other.0.is_nan())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Number(Lit),
    Selector(Selector),
    Range(Selector, Duration),
    Call(Func, Vec<Node>),
    Aggregate {
        op: AggOp,
        grouping: Grouping,
        expr: Box<Node>,
    },
    Neg(Box<Node>),
    Paren(Box<Node>),
    Binary {
        op: BinOp,
        lhs: Box<Node>,
        rhs: Box<Node>,
        return_bool: bool,
        matching: Option<VectorMatching>,
    },
}

/// A number as the lexer reads it back exactly: Rust's shortest round-trip form, and
/// PromQL's spellings for the non-finite values.
pub(crate) fn format_number(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        format!("{v}")
    }
}

/// Double-quoted with the escapes the lexer understands.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn write_labels(f: &mut fmt::Formatter<'_>, labels: &[Arc<str>]) -> fmt::Result {
    f.write_str("(")?;
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        f.write_str(l)?;
    }
    f.write_str(")")
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if !self.matchers.is_empty() {
            f.write_str("{")?;
            for (i, m) in self.matchers.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{}{}{}", m.label, m.op.as_str(), quote(&m.value))?;
            }
            f.write_str("}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Number(v) => f.write_str(&format_number(v.0)),
            Node::Selector(s) => write!(f, "{s}"),
            Node::Range(s, d) => write!(f, "{s}[{}]", format_duration(*d)),
            Node::Call(func, args) => {
                write!(f, "{}(", func.name())?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
            Node::Aggregate { op, grouping, expr } => {
                f.write_str(op.name())?;
                match grouping {
                    Grouping::All => {}
                    Grouping::By(l) => {
                        f.write_str(" by ")?;
                        write_labels(f, l)?;
                        f.write_str(" ")?;
                    }
                    Grouping::Without(l) => {
                        f.write_str(" without ")?;
                        write_labels(f, l)?;
                        f.write_str(" ")?;
                    }
                }
                write!(f, "({expr})")
            }
            Node::Neg(e) => write!(f, "-{e}"),
            Node::Paren(e) => write!(f, "({e})"),
            Node::Binary {
                op,
                lhs,
                rhs,
                return_bool,
                matching,
            } => {
                write!(f, "{lhs} {}", op.as_str())?;
                if *return_bool {
                    f.write_str(" bool")?;
                }
                if let Some(m) = matching {
                    f.write_str(if m.on { " on" } else { " ignoring" })?;
                    write_labels(f, &m.labels)?;
                    match m.card {
                        Card::OneToOne => {}
                        Card::ManyToOne | Card::OneToMany => {
                            f.write_str(if m.card == Card::ManyToOne {
                                " group_left"
                            } else {
                                " group_right"
                            })?;
                            write_labels(f, &m.include)?;
                        }
                    }
                }
                write!(f, " {rhs}")
            }
        }
    }
}
