//! The rule expression language: a PromQL subset that rules are written in.
//!
//! [`parse`] turns text into an [`Expr`] (type-checked, regexes compiled), and
//! [`Expr::eval`] evaluates it against a [`RuleData`]. Submodules: `lexer` (tokens),
//! `ast` (tree and canonical printing), `parser` (precedence and static checks),
//! `eval` (the evaluator). Semantics follow PromQL wherever they apply; the differences
//! (no extrapolation in `rate`/`increase`, staleness and source tracking) are documented
//! on the items that implement them.

mod ast;
mod eval;
mod lexer;
mod parser;

use std::fmt;
use std::sync::Arc;

use crate::config::settings::SourceId;
use crate::rules::data::{LabelSet, RuleData};

pub use eval::{EvalError, Shared, Side};

/// Most sources one result sample lists; the rest are dropped (the smallest ids are kept).
pub const MAX_SOURCES: usize = 16;

/// A parse error. `offset`/`len` are bytes into the text, so the caller can print
/// `rules.toml:42:17: unknown function `rat``.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    /// Byte offset of the offending token (the text's length for "end of expression").
    pub offset: usize,
    pub len: usize,
    /// The offending token as written, or "end of expression".
    pub token: String,
    pub message: String,
}

/// A parsed, type-checked rule expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    root: ast::Node,
    ty: ast::Type,
}

/// Parse and type-check a rule expression.
pub fn parse(text: &str) -> Result<Expr, ExprError> {
    let (root, ty) = parser::parse_root(text)?;
    Ok(Expr { root, ty })
}

impl Expr {
    /// Evaluate at `data.now()`.
    pub fn eval(&self, data: &dyn RuleData) -> Result<Value, EvalError> {
        eval::eval_root(&self.root, data, None)
    }

    /// Evaluate at `data.now()`, reusing results of subexpressions repeated among the
    /// expressions `shared` was built from (see [`Shared`]); the result is the same as
    /// [`Self::eval`]'s.
    pub fn eval_shared(
        &self,
        data: &dyn RuleData,
        shared: &Shared<'_>,
    ) -> Result<Value, EvalError> {
        eval::eval_root(&self.root, data, Some(shared))
    }

    /// Shared results for one round over these expressions.
    pub fn shared<'e>(exprs: impl IntoIterator<Item = &'e Expr>) -> Shared<'e> {
        let roots: Vec<&ast::Node> = exprs.into_iter().map(|e| &e.root).collect();
        Shared::new(&roots)
    }

    /// Every metric name a selector reads, in order of first appearance, without repeats.
    pub fn metric_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        collect_names(&self.root, &mut out);
        out
    }

    /// True when the expression is statically a scalar (e.g. `time() - 5`), not a vector.
    pub fn is_scalar(&self) -> bool {
        self.ty == ast::Type::Scalar
    }
}

fn collect_names(node: &ast::Node, out: &mut Vec<String>) {
    use ast::Node;
    match node {
        Node::Number(_) => {}
        Node::Selector(s) | Node::Range(s, _) => {
            if !out.iter().any(|n| **n == *s.name) {
                out.push(s.name.to_string());
            }
        }
        Node::Call(_, args) => args.iter().for_each(|a| collect_names(a, out)),
        Node::Aggregate { expr, .. } => collect_names(expr, out),
        Node::Neg(e) | Node::Paren(e) => collect_names(e, out),
        Node::Binary { lhs, rhs, .. } => {
            collect_names(lhs, out);
            collect_names(rhs, out);
        }
    }
}

impl fmt::Display for Expr {
    /// Canonical form: normalised spacing, `sum by (a) (x)` prefix grouping, sorted label
    /// lists, double-quoted strings, canonical durations; the author's parentheses are kept.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.root)
    }
}

/// The result of evaluating an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(f64),
    Vector(Vec<Sample>),
}

/// One element of a result vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The metric name, kept only where PromQL keeps it (selectors, filtering comparisons,
    /// set operators, `last_over_time`).
    pub name: Option<Arc<str>>,
    pub labels: LabelSet,
    pub value: f64,
    /// True if any input that contributed to this sample was stale.
    pub stale: bool,
    /// Sorted, deduplicated union of contributing sources, at most [`MAX_SOURCES`].
    pub sources: Vec<SourceId>,
}
