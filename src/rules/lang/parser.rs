//! Parser: tokens → syntax tree, with PromQL's static type checks.
//!
//! Owns precedence (precedence climbing; `^` right-associative, unary minus binding between
//! `*` and `^` as in PromQL), the modifiers of binary operators and aggregations, and every
//! parse-time error: each one points at the offending token or sub-expression, so a rule
//! file is rejected when loaded rather than when a rule first runs.

use std::sync::Arc;

use regex::Regex;

use super::ExprError;
use super::ast::{
    AGGS, AggOp, BinOp, Card, FUNCS, Grouping, Lit, MatchOp, Matcher, Node, Selector, Type,
    VectorMatching,
};
use super::lexer::{Tok, Token, error_at, lex};

/// A parsed sub-expression with its static type and the byte span it covers.
struct Parsed {
    node: Node,
    ty: Type,
    start: usize,
    end: usize,
}

struct Parser<'t> {
    text: &'t str,
    toks: Vec<Token>,
    pos: usize,
}

const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
];

/// Parse a whole expression; returns the tree and its type.
pub(crate) fn parse_root(text: &str) -> Result<(Node, Type), ExprError> {
    let toks = lex(text)?;
    let mut p = Parser { text, toks, pos: 0 };
    let e = p.expr(0)?;
    let t = p.peek().clone();
    if t.tok != Tok::Eof {
        let message = match &t.tok {
            Tok::Assign => "unexpected `=`; did you mean `==`?".to_owned(),
            Tok::RParen => "unexpected `)` without a matching `(`".to_owned(),
            Tok::Ident(w) if w == "offset" => "`offset` is not supported".to_owned(),
            _ => format!(
                "unexpected {}, expected an operator or the end of the expression",
                p.describe(&t)
            ),
        };
        return Err(p.err_tok(&t, message));
    }
    match e.ty {
        Type::Range => Err(p.err_span(
            &e,
            "a range selector is only allowed as the argument of a range function like rate()"
                .to_owned(),
        )),
        ty => Ok((e.node, ty)),
    }
}

impl<'t> Parser<'t> {
    fn peek(&self) -> &Token {
        // The lexer always ends the list with `Eof`, and `next` never moves past it.
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn peek_ident(&self, word: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(w) if w == word)
    }

    fn describe(&self, t: &Token) -> String {
        if t.tok == Tok::Eof {
            "end of expression".to_owned()
        } else {
            format!("`{}`", &self.text[t.start..t.end])
        }
    }

    fn err_tok(&self, t: &Token, message: String) -> ExprError {
        error_at(self.text, t.start, t.end, message)
    }

    fn err_span(&self, p: &Parsed, message: String) -> ExprError {
        error_at(self.text, p.start, p.end, message)
    }

    fn expect(&mut self, want: Tok, what: &str) -> Result<Token, ExprError> {
        let t = self.next();
        if t.tok == want {
            Ok(t)
        } else {
            let msg = format!("unexpected {}, expected {what}", self.describe(&t));
            Err(self.err_tok(&t, msg))
        }
    }

    fn peek_binop(&self) -> Option<BinOp> {
        Some(match &self.peek().tok {
            Tok::Pow => BinOp::Pow,
            Tok::Mul => BinOp::Mul,
            Tok::Div => BinOp::Div,
            Tok::Mod => BinOp::Mod,
            Tok::Add => BinOp::Add,
            Tok::Sub => BinOp::Sub,
            Tok::EqEq => BinOp::Eq,
            Tok::Neq => BinOp::Ne,
            Tok::Gt => BinOp::Gt,
            Tok::Lt => BinOp::Lt,
            Tok::Ge => BinOp::Ge,
            Tok::Le => BinOp::Le,
            Tok::Ident(w) if w == "and" => BinOp::And,
            Tok::Ident(w) if w == "unless" => BinOp::Unless,
            Tok::Ident(w) if w == "or" => BinOp::Or,
            _ => return None,
        })
    }

    /// Precedence climbing: parse operators binding at least as tightly as `min_prec`.
    fn expr(&mut self, min_prec: u8) -> Result<Parsed, ExprError> {
        let mut lhs = self.unary()?;
        while let Some(op) = self.peek_binop() {
            let prec = op.precedence();
            if prec < min_prec {
                break;
            }
            let op_tok = self.next();
            let (return_bool, matching) = self.bin_modifiers(op)?;
            // `^` is right-associative: its right operand may hold another `^`.
            let next_min = if op == BinOp::Pow { prec } else { prec + 1 };
            let rhs = self.expr(next_min)?;
            lhs = self.check_binary(op, &op_tok, lhs, rhs, return_bool, matching)?;
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Parsed, ExprError> {
        let t = self.peek().clone();
        if t.tok == Tok::Sub || t.tok == Tok::Add {
            self.next();
            // PromQL: unary operators bind tighter than `*` but looser than `^` (-2^2 = -4).
            let operand = self.expr(BinOp::Pow.precedence())?;
            self.operand_type(&operand, &format!("unary `{}`", &self.text[t.start..t.end]))?;
            return Ok(if t.tok == Tok::Sub {
                Parsed {
                    ty: operand.ty,
                    end: operand.end,
                    node: Node::Neg(Box::new(operand.node)),
                    start: t.start,
                }
            } else {
                Parsed {
                    start: t.start,
                    ..operand
                }
            });
        }
        self.postfix()
    }

    /// Only scalars and instant vectors may be operands.
    fn operand_type(&self, p: &Parsed, what: &str) -> Result<(), ExprError> {
        if p.ty == Type::Range {
            return Err(self.err_span(
                p,
                format!(
                    "{what} needs a scalar or an instant vector; a range selector is only allowed as the argument of a range function like rate()"
                ),
            ));
        }
        Ok(())
    }

    fn postfix(&mut self) -> Result<Parsed, ExprError> {
        let p = self.primary()?;
        if self.peek().tok == Tok::LBracket {
            let lb = self.next();
            let Node::Selector(sel) = p.node else {
                return Err(self.err_tok(
                    &lb,
                    "a range `[…]` is only allowed directly after a metric selector (subqueries are not supported)".to_owned(),
                ));
            };
            let d = self.next();
            let Tok::Dur(dur) = d.tok else {
                let msg = format!(
                    "unexpected {}, expected a duration like `5m`",
                    self.describe(&d)
                );
                return Err(self.err_tok(&d, msg));
            };
            if dur.is_zero() {
                return Err(self.err_tok(&d, "a range must be longer than zero".to_owned()));
            }
            let close = self.next();
            match close.tok {
                Tok::RBracket => {}
                _ => {
                    let msg = format!(
                        "unexpected {}, expected `]` (subqueries are not supported)",
                        self.describe(&close)
                    );
                    return Err(self.err_tok(&close, msg));
                }
            }
            return Ok(Parsed {
                node: Node::Range(sel, dur),
                ty: Type::Range,
                start: p.start,
                end: close.end,
            });
        }
        if self.peek_ident("offset") {
            let t = self.peek().clone();
            return Err(self.err_tok(&t, "`offset` is not supported".to_owned()));
        }
        Ok(p)
    }

    fn primary(&mut self) -> Result<Parsed, ExprError> {
        let t = self.next();
        match &t.tok {
            Tok::Num(v) => Ok(Parsed {
                node: Node::Number(Lit(*v)),
                ty: Type::Scalar,
                start: t.start,
                end: t.end,
            }),
            Tok::LParen => {
                let inner = self.expr(0)?;
                self.operand_type(&inner, "a parenthesised expression")?;
                let close = self.expect(Tok::RParen, "`)`")?;
                Ok(Parsed {
                    ty: inner.ty,
                    node: Node::Paren(Box::new(inner.node)),
                    start: t.start,
                    end: close.end,
                })
            }
            Tok::Str(_) => Err(self.err_tok(
                &t,
                "string literals are only allowed as label matcher values".to_owned(),
            )),
            Tok::Dur(_) => Err(self.err_tok(
                &t,
                "a duration is only allowed inside `[…]` after a selector, e.g. `x[5m]`".to_owned(),
            )),
            Tok::LBrace => Err(self.err_tok(
                &t,
                "a selector needs a metric name, e.g. `up{job=\"x\"}`".to_owned(),
            )),
            Tok::Ident(word) => {
                let word = word.clone();
                if KEYWORDS.contains(&word.as_str()) {
                    let msg = format!("unexpected `{word}`, expected an expression");
                    return Err(self.err_tok(&t, msg));
                }
                if let Some((_, agg)) = AGGS.iter().find(|(n, _)| *n == word) {
                    return self.aggregation(*agg, &t);
                }
                if self.peek().tok == Tok::LParen {
                    return self.call(&word, &t);
                }
                self.selector(word, &t)
            }
            Tok::Eof => Err(self.err_tok(
                &t,
                "unexpected end of expression, expected an expression".to_owned(),
            )),
            _ => {
                let msg = format!("unexpected {}, expected an expression", self.describe(&t));
                Err(self.err_tok(&t, msg))
            }
        }
    }

    fn selector(&mut self, name: String, name_tok: &Token) -> Result<Parsed, ExprError> {
        let mut matchers = Vec::new();
        let mut end = name_tok.end;
        if self.peek().tok == Tok::LBrace {
            self.next();
            loop {
                let t = self.next();
                let label = match &t.tok {
                    Tok::RBrace => {
                        end = t.end;
                        break;
                    }
                    Tok::Ident(l) => l.clone(),
                    _ => {
                        let msg =
                            format!("unexpected {}, expected a label name", self.describe(&t));
                        return Err(self.err_tok(&t, msg));
                    }
                };
                self.check_label_name(&label, &t)?;
                let op_tok = self.next();
                let op = match op_tok.tok {
                    Tok::Assign => MatchOp::Eq,
                    Tok::Neq => MatchOp::Ne,
                    Tok::ReMatch => MatchOp::Re,
                    Tok::ReNoMatch => MatchOp::NotRe,
                    Tok::EqEq => {
                        return Err(self.err_tok(
                            &op_tok,
                            "unexpected `==`; label matchers use `=`".to_owned(),
                        ));
                    }
                    _ => {
                        let msg = format!(
                            "unexpected {}, expected a label matcher (`=`, `!=`, `=~` or `!~`)",
                            self.describe(&op_tok)
                        );
                        return Err(self.err_tok(&op_tok, msg));
                    }
                };
                let v = self.next();
                let Tok::Str(value) = &v.tok else {
                    let msg = format!(
                        "unexpected {}, expected a quoted label value",
                        self.describe(&v)
                    );
                    return Err(self.err_tok(&v, msg));
                };
                let regex = match op {
                    MatchOp::Re | MatchOp::NotRe => {
                        // Fully anchored, as PromQL does.
                        let re = Regex::new(&format!("^(?:{value})$")).map_err(|e| {
                            let detail = e.to_string();
                            let last = detail.lines().last().unwrap_or("").trim().to_owned();
                            self.err_tok(
                                &v,
                                format!("invalid regex {}: {last}", v_text(self.text, &v)),
                            )
                        })?;
                        Some(re)
                    }
                    MatchOp::Eq | MatchOp::Ne => None,
                };
                matchers.push(Matcher {
                    label: Arc::from(label.as_str()),
                    op,
                    value: value.clone(),
                    regex,
                });
                let sep = self.next();
                match sep.tok {
                    Tok::Comma => {}
                    Tok::RBrace => {
                        end = sep.end;
                        break;
                    }
                    _ => {
                        let msg =
                            format!("unexpected {}, expected `,` or `}}`", self.describe(&sep));
                        return Err(self.err_tok(&sep, msg));
                    }
                }
            }
        }
        Ok(Parsed {
            node: Node::Selector(Selector {
                name: Arc::from(name.as_str()),
                matchers,
            }),
            ty: Type::Vector,
            start: name_tok.start,
            end,
        })
    }

    fn check_label_name(&self, label: &str, t: &Token) -> Result<(), ExprError> {
        if label.contains(':') {
            return Err(self.err_tok(t, format!("invalid label name `{label}`")));
        }
        Ok(())
    }

    /// `(a, b, …)` with an optional trailing comma; returns sorted, deduplicated names.
    fn label_list(&mut self) -> Result<Vec<Arc<str>>, ExprError> {
        self.expect(Tok::LParen, "`(` and a list of label names")?;
        let mut out: Vec<Arc<str>> = Vec::new();
        loop {
            let t = self.next();
            match &t.tok {
                Tok::RParen => break,
                Tok::Ident(l) => {
                    self.check_label_name(l, &t)?;
                    out.push(Arc::from(l.as_str()));
                }
                _ => {
                    let msg = format!("unexpected {}, expected a label name", self.describe(&t));
                    return Err(self.err_tok(&t, msg));
                }
            }
            let sep = self.next();
            match sep.tok {
                Tok::Comma => {}
                Tok::RParen => break,
                _ => {
                    let msg = format!("unexpected {}, expected `,` or `)`", self.describe(&sep));
                    return Err(self.err_tok(&sep, msg));
                }
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    fn grouping(&mut self) -> Result<Option<Grouping>, ExprError> {
        if self.peek_ident("by") {
            self.next();
            Ok(Some(Grouping::By(self.label_list()?)))
        } else if self.peek_ident("without") {
            self.next();
            Ok(Some(Grouping::Without(self.label_list()?)))
        } else {
            Ok(None)
        }
    }

    fn aggregation(&mut self, op: AggOp, name: &Token) -> Result<Parsed, ExprError> {
        let prefix = self.grouping()?;
        let open = self.peek().clone();
        if open.tok != Tok::LParen {
            let msg = format!(
                "unexpected {}, expected `(` after aggregation `{}`",
                self.describe(&open),
                &self.text[name.start..name.end]
            );
            return Err(self.err_tok(&open, msg));
        }
        self.next();
        let arg = self.expr(0)?;
        let agg_name = &self.text[name.start..name.end];
        if arg.ty != Type::Vector {
            let msg = format!(
                "{agg_name}() needs an instant vector, got {}",
                arg.ty.describe()
            );
            return Err(self.err_span(&arg, msg));
        }
        let close = self.next();
        match close.tok {
            Tok::RParen => {}
            Tok::Comma => {
                let msg = format!("{agg_name}() takes exactly one argument");
                return Err(self.err_tok(&close, msg));
            }
            _ => {
                let msg = format!("unexpected {}, expected `)`", self.describe(&close));
                return Err(self.err_tok(&close, msg));
            }
        }
        let mut end = close.end;
        let grouping = match prefix {
            Some(g) => {
                if self.peek_ident("by") || self.peek_ident("without") {
                    let t = self.peek().clone();
                    return Err(self.err_tok(
                        &t,
                        "a grouping clause was already given before the argument".to_owned(),
                    ));
                }
                g
            }
            None => {
                let g = self.grouping()?;
                if g.is_some() {
                    end = self.toks[self.pos.saturating_sub(1)].end;
                }
                g.unwrap_or(Grouping::All)
            }
        };
        Ok(Parsed {
            node: Node::Aggregate {
                op,
                grouping,
                expr: Box::new(arg.node),
            },
            ty: Type::Vector,
            start: name.start,
            end,
        })
    }

    fn call(&mut self, name: &str, name_tok: &Token) -> Result<Parsed, ExprError> {
        let Some(&(_, func, params, ret)) = FUNCS.iter().find(|(n, _, _, _)| *n == name) else {
            let message = match suggest(name) {
                Some(s) => format!("unknown function `{name}`; did you mean `{s}`?"),
                None => format!("unknown function `{name}`"),
            };
            return Err(self.err_tok(name_tok, message));
        };
        self.next(); // `(`
        let mut args: Vec<Parsed> = Vec::new();
        let close = if self.peek().tok == Tok::RParen {
            self.next()
        } else {
            loop {
                let arg = self.expr(0)?;
                args.push(arg);
                let sep = self.next();
                match sep.tok {
                    Tok::Comma if self.peek().tok == Tok::RParen => break self.next(),
                    Tok::Comma => {}
                    Tok::RParen => break sep,
                    _ => {
                        let msg =
                            format!("unexpected {}, expected `,` or `)`", self.describe(&sep));
                        return Err(self.err_tok(&sep, msg));
                    }
                }
            }
        };
        if args.len() != params.len() {
            let n = params.len();
            let msg = format!(
                "{name}() takes {n} argument{}, got {}",
                if n == 1 { "" } else { "s" },
                args.len()
            );
            return Err(match args.get(n) {
                Some(extra) => self.err_span(extra, msg),
                None => self.err_tok(&close, msg),
            });
        }
        for (i, (arg, want)) in args.iter().zip(params.iter()).enumerate() {
            if arg.ty == *want {
                continue;
            }
            let msg = match want {
                Type::Range => {
                    format!("{name}() needs a range selector like `x[5m]`")
                }
                Type::Vector if arg.ty == Type::Range => format!(
                    "{name}() needs an instant vector, got a range vector; a range selector is only allowed in range functions like rate()"
                ),
                _ => {
                    let which = if params.len() > 1 {
                        format!(" as argument {}", i + 1)
                    } else {
                        String::new()
                    };
                    format!(
                        "{name}() needs {}{which}, got {}",
                        want.describe(),
                        arg.ty.describe()
                    )
                }
            };
            return Err(self.err_span(arg, msg));
        }
        Ok(Parsed {
            node: Node::Call(func, args.into_iter().map(|a| a.node).collect()),
            ty: ret,
            start: name_tok.start,
            end: close.end,
        })
    }

    /// `bool`, `on(…)`/`ignoring(…)`, `group_left(…)`/`group_right(…)` after an operator.
    fn bin_modifiers(&mut self, op: BinOp) -> Result<(bool, Option<VectorMatching>), ExprError> {
        let mut return_bool = false;
        if self.peek_ident("bool") {
            let t = self.next();
            if !op.is_comparison() {
                return Err(self.err_tok(
                    &t,
                    format!(
                        "`bool` is only allowed after a comparison operator, not after `{}`",
                        op.as_str()
                    ),
                ));
            }
            return_bool = true;
        }
        let on = if self.peek_ident("on") {
            true
        } else if self.peek_ident("ignoring") {
            false
        } else {
            if self.peek_ident("group_left") || self.peek_ident("group_right") {
                let t = self.peek().clone();
                let msg = format!(
                    "`{}` needs `on(…)` or `ignoring(…)` before it",
                    &self.text[t.start..t.end]
                );
                return Err(self.err_tok(&t, msg));
            }
            return Ok((return_bool, None));
        };
        self.next();
        let labels = self.label_list()?;
        let mut card = Card::OneToOne;
        let mut include = Vec::new();
        if self.peek_ident("group_left") || self.peek_ident("group_right") {
            let g = self.next();
            if op.is_set() {
                let msg = format!("no grouping allowed for set operator `{}`", op.as_str());
                return Err(self.err_tok(&g, msg));
            }
            card = if self.text[g.start..g.end] == *"group_left" {
                Card::ManyToOne
            } else {
                Card::OneToMany
            };
            // As in PromQL, a `(` right after group_x always opens its label list.
            if self.peek().tok == Tok::LParen {
                include = self.label_list()?;
            }
            if on && let Some(dup) = include.iter().find(|l| labels.contains(l)) {
                let msg = format!(
                    "label `{dup}` must not occur in on(…) and {}(…) at once",
                    &self.text[g.start..g.end]
                );
                return Err(self.err_tok(&g, msg));
            }
        }
        Ok((
            return_bool,
            Some(VectorMatching {
                on,
                labels,
                card,
                include,
            }),
        ))
    }

    fn check_binary(
        &self,
        op: BinOp,
        op_tok: &Token,
        lhs: Parsed,
        rhs: Parsed,
        return_bool: bool,
        matching: Option<VectorMatching>,
    ) -> Result<Parsed, ExprError> {
        let what = format!("operator `{}`", op.as_str());
        self.operand_type(&lhs, &what)?;
        self.operand_type(&rhs, &what)?;
        let both_scalar = lhs.ty == Type::Scalar && rhs.ty == Type::Scalar;
        let any_scalar = lhs.ty == Type::Scalar || rhs.ty == Type::Scalar;
        if op.is_set() && any_scalar {
            return Err(self.err_tok(
                op_tok,
                format!(
                    "set operator `{}` is only allowed between instant vectors",
                    op.as_str()
                ),
            ));
        }
        if both_scalar && op.is_comparison() && !return_bool {
            return Err(self.err_tok(
                op_tok,
                format!(
                    "comparisons between scalars need the `bool` modifier, e.g. `1 {} bool 2`",
                    op.as_str()
                ),
            ));
        }
        if any_scalar && matching.is_some() {
            return Err(self.err_tok(
                op_tok,
                "vector matching (`on`/`ignoring`) is only allowed between instant vectors"
                    .to_owned(),
            ));
        }
        Ok(Parsed {
            ty: if both_scalar {
                Type::Scalar
            } else {
                Type::Vector
            },
            start: lhs.start,
            end: rhs.end,
            node: Node::Binary {
                op,
                lhs: Box::new(lhs.node),
                rhs: Box::new(rhs.node),
                return_bool,
                matching,
            },
        })
    }
}

fn v_text<'a>(text: &'a str, t: &Token) -> &'a str {
    &text[t.start..t.end]
}

/// The closest function or aggregation name within edit distance 2, for "did you mean".
fn suggest(name: &str) -> Option<&'static str> {
    FUNCS
        .iter()
        .map(|(n, _, _, _)| *n)
        .chain(AGGS.iter().map(|(n, _)| *n))
        .map(|n| (edit_distance(name, n), n))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggest("rat"), Some("rate"));
        assert_eq!(suggest("sum_over_tim"), Some("sum_over_time"));
        assert_eq!(suggest("frobnicate"), None);
    }
}
