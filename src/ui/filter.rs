//! The `/` filter language: parsing a typed query into a [`Filter`] and testing rows
//! against it.
//!
//! ```text
//! sev<=2 env=prod node~web !state=acked age>10m "disk full" pgrep
//! ```
//!
//! Terms are separated by whitespace and all must hold. Forms:
//!
//! | term            | holds when                                                        |
//! |-----------------|-------------------------------------------------------------------|
//! | `key=value`     | the field starts with `value` (case-insensitive); numerically equal when both sides are numbers |
//! | `key!=value`    | not `key=value`                                                   |
//! | `key~value`     | the field contains `value` (case-insensitive)                     |
//! | `key!~value`    | not `key~value`                                                   |
//! | `key<N` `<=` `>` `>=` | the field's number compares; `N` may carry a unit (`10m`, `4G`) |
//! | `word`          | `word` is a subsequence of the row's text (`pgrep` ~ `pg-replica`) |
//! | `"some words"`  | the row's text contains the phrase                                |
//! | `!term`         | `term` does not hold                                              |
//!
//! Values may be double-quoted to hold spaces (`summary~"disk full"`); inside quotes `\"`
//! and `\\` escape. A row that lacks a field fails every test on it, so the inverted test
//! holds — `env!=prod` keeps rows with no environment.
//!
//! The module owns only the language: it knows nothing about tabs, rows or the terminal.
//! Rows are reached through [`Subject`], and the caller says which fields exist.

use std::borrow::Cow;
use std::fmt;

/// A row the filter can be tested against.
pub trait Subject {
    /// The field's value as displayed, or `None` when this row has no such field.
    fn field(&self, name: &str) -> Option<Cow<'_, str>>;
    /// Everything a plain word or phrase may match (typically the row's cells, joined).
    fn text(&self) -> Cow<'_, str>;
}

/// Other spellings of field names, accepted when the tab has the target field.
const ALIASES: &[(&str, &str)] = &[("severity", "sev"), ("environment", "env")];

/// A parsed filter: a conjunction of terms. The default filter matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    terms: Vec<Term>,
}

#[derive(Debug, Clone, PartialEq)]
struct Term {
    negated: bool,
    test: Test,
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    /// Subsequence of the row's text.
    Fuzzy { raw: String, lower: String },
    /// Substring of the row's text (a quoted bare term).
    Phrase { raw: String, lower: String },
    Text {
        field: String,
        op: TextOp,
        raw: String,
        lower: String,
        /// The value read as a number, for `=` against numeric fields (`sev=2` vs `sev2`).
        number: Option<f64>,
    },
    Compare {
        field: String,
        op: CmpOp,
        raw: String,
        number: f64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextOp {
    Equals,
    Contains,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    fn symbol(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// Why a filter could not be parsed, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("col {column}: {kind}")]
pub struct FilterError {
    /// 1-based character (not byte, not display-cell) column in the typed text.
    pub column: usize,
    pub kind: FilterErrorKind,
}

impl FilterError {
    /// The message without the column, for UIs that point at the column themselves.
    pub fn message(&self) -> String {
        self.kind.to_string()
    }
}

/// What went wrong in a filter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterErrorKind {
    #[error("unknown field \"{name}\" ({})", field_hint(.suggestion.as_deref(), .known))]
    UnknownField {
        name: String,
        suggestion: Option<String>,
        known: Vec<String>,
    },
    #[error("\"{op}\" needs a field name before it, like env{op}prod")]
    MissingField { op: String },
    #[error("\"{field}{op}\" needs a value after it")]
    MissingValue { field: String, op: String },
    #[error("\"{field}{op}\" needs a number (like 2, 90, 10m, 4G), not \"{value}\"")]
    BadNumber {
        field: String,
        op: String,
        value: String,
    },
    #[error("unterminated quote: add a closing \"")]
    UnterminatedQuote,
    #[error("\"!\" needs a term after it, like !env=prod")]
    NothingToNegate,
    #[error("empty quotes: put the text to search for between them")]
    EmptyQuotes,
}

fn field_hint(suggestion: Option<&str>, known: &[String]) -> String {
    let list = if known.is_empty() {
        "this tab has no fields".to_owned()
    } else {
        format!("fields: {}", known.join(", "))
    };
    match suggestion {
        Some(s) => format!("did you mean \"{s}\"? {list}"),
        None => list,
    }
}

impl Filter {
    /// Parse `text`, accepting field names from `fields` (and their aliases). Whitespace-only
    /// text gives a filter that matches everything.
    pub fn parse(text: &str, fields: &[&str]) -> Result<Filter, FilterError> {
        let terms = tokenize(text)?
            .iter()
            .map(|token| parse_term(token, fields))
            .collect::<Result<_, _>>()?;
        Ok(Filter { terms })
    }

    /// True when every row matches (no terms).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether `row` passes every term. Does not allocate unless the row's accessors do.
    pub fn matches(&self, row: &impl Subject) -> bool {
        self.terms.iter().all(|term| term.matches(row))
    }

    /// The normalised filter text for an "active filter" indicator: canonical field names,
    /// single spaces, quotes only where needed. Parsing it gives the same filter back.
    pub fn describe(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, term) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{term}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `!=` and `!~` read better than a leading `!`; comparisons keep the `!` because
        // `!age<10m` also keeps rows without an age, which `age>=10m` would not.
        let bang = if self.negated { "!" } else { "" };
        match &self.test {
            Test::Fuzzy { raw, .. } => write!(f, "{bang}{raw}"),
            Test::Phrase { raw, .. } => write!(f, "{bang}{}", quoted(raw)),
            Test::Text { field, op, raw, .. } => {
                let op = match op {
                    TextOp::Equals => "=",
                    TextOp::Contains => "~",
                };
                write!(f, "{field}{bang}{op}{}", value_text(raw))
            }
            Test::Compare { field, op, raw, .. } => {
                write!(f, "{bang}{field}{}{}", op.symbol(), value_text(raw))
            }
        }
    }
}

fn value_text(raw: &str) -> Cow<'_, str> {
    let needs_quotes = raw.is_empty()
        || raw.starts_with(['=', '~', '<', '>', '!'])
        || raw.chars().any(|c| c.is_whitespace() || c == '"');
    if needs_quotes {
        Cow::Owned(quoted(raw))
    } else {
        Cow::Borrowed(raw)
    }
}

fn quoted(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 2);
    out.push('"');
    for c in raw.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

impl Term {
    fn matches(&self, row: &impl Subject) -> bool {
        self.test.holds(row) != self.negated
    }
}

impl Test {
    fn holds(&self, row: &impl Subject) -> bool {
        match self {
            Test::Fuzzy { lower, .. } => is_subsequence_ci(&row.text(), lower),
            Test::Phrase { lower, .. } => contains_ci(&row.text(), lower),
            Test::Text {
                field,
                op,
                lower,
                number,
                ..
            } => {
                let Some(value) = row.field(field) else {
                    return false;
                };
                match op {
                    TextOp::Equals => {
                        // `sev=1` must not match `12` by prefix: when both sides read as
                        // whole numbers, numbers decide.
                        if let Some(n) = number
                            && let Some(v) = parse_quantity(&value, Reading::Whole)
                        {
                            return approx_eq(*n, v);
                        }
                        starts_with_ci(&value, lower)
                    }
                    TextOp::Contains => contains_ci(&value, lower),
                }
            }
            Test::Compare {
                field, op, number, ..
            } => {
                let Some(v) = row
                    .field(field)
                    .and_then(|value| parse_quantity(&value, Reading::Leading))
                else {
                    return false;
                };
                match op {
                    CmpOp::Lt => v < *number,
                    CmpOp::Le => v <= *number,
                    CmpOp::Gt => v > *number,
                    CmpOp::Ge => v >= *number,
                }
            }
        }
    }
}

fn approx_eq(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Lowercase char by char, the same way matching lowercases rows. `str::to_lowercase` would
/// turn a final `Σ` into `ς` where the row side gives `σ`, and the two would never meet.
fn lowercase(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

fn lower_chars(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars().flat_map(char::to_lowercase)
}

/// `hay` starts with `needle` ignoring case; `needle` is already lowercase.
fn starts_with_ci(hay: &str, needle: &str) -> bool {
    let mut hay = lower_chars(hay);
    needle.chars().all(|n| hay.next() == Some(n))
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    needle.is_empty()
        || hay
            .char_indices()
            .any(|(i, _)| starts_with_ci(&hay[i..], needle))
}

fn is_subsequence_ci(hay: &str, needle: &str) -> bool {
    let mut wanted = needle.chars().peekable();
    for c in lower_chars(hay) {
        match wanted.peek() {
            None => return true,
            Some(&w) if w == c => {
                wanted.next();
            }
            Some(_) => {}
        }
    }
    wanted.peek().is_none()
}

/// How much of a string must be a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// All of it (query values; row values for `=`).
    Whole,
    /// A number at the start, anything after (row values for `<`, `>`): `95% (4 cores)`.
    Leading,
}

/// Read `sev2`, `90`, `95.5%`, `10m`, `3m05s`, `2h10m`, `1.5 KiB`, `4G` as a number.
///
/// An alphabetic prefix is skipped so severities like `sev2` or `p1` compare by their
/// number. Durations become seconds; sizes become bytes in powers of 1024 (`k`, `M`, `G`,
/// `T`, `P` with optional `i`/`B`), matching how the UI formats sizes. Single-letter units
/// are case-sensitive only where they clash: `m` is minutes, `M` is mebi.
fn parse_quantity(s: &str, reading: Reading) -> Option<f64> {
    let s = s.trim();
    let unprefixed = s.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    // A sign only counts before a bare number: `web-01` is not minus one.
    let (n, after) = leading_number(unprefixed, unprefixed.len() == s.len())?;
    let (factor, mut rest, duration) = unit(after);
    let mut total = n * factor;
    // Durations continue over further components: `3m05s`, `2h 10m`.
    if duration {
        while let Some((n, after)) = leading_number(rest.trim_start(), false)
            && let (factor, after_unit, true) = unit(after)
        {
            total += n * factor;
            rest = after_unit;
        }
    }
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('%').unwrap_or(rest);
    if reading == Reading::Whole && !rest.trim().is_empty() {
        return None;
    }
    Some(total)
}

fn leading_number(s: &str, allow_sign: bool) -> Option<(f64, &str)> {
    let bytes = s.as_bytes();
    let mut end = 0;
    if allow_sign && matches!(bytes.first(), Some(b'-' | b'+')) {
        end = 1;
    }
    let digits_start = end;
    while end < bytes.len() && bytes[end].is_ascii_digit() {
        end += 1;
    }
    let mut digits = end - digits_start;
    if end < bytes.len() && bytes[end] == b'.' {
        let frac_start = end + 1;
        let mut frac_end = frac_start;
        while frac_end < bytes.len() && bytes[frac_end].is_ascii_digit() {
            frac_end += 1;
        }
        if frac_end > frac_start {
            digits += frac_end - frac_start;
            end = frac_end;
        }
    }
    if digits == 0 {
        return None;
    }
    let n = s[..end].parse::<f64>().ok()?;
    Some((n, &s[end..]))
}

/// The unit at the start of `s` (after optional spaces): its factor, what follows, and
/// whether it is a duration. An unknown word is no unit and is left in place.
fn unit(s: &str) -> (f64, &str, bool) {
    const K: f64 = 1024.0;
    let trimmed = s.trim_start();
    let word_len = trimmed.bytes().take_while(u8::is_ascii_alphabetic).count();
    let (word, after) = trimmed.split_at(word_len);
    let (factor, duration) = match word {
        "ms" => (0.001, true),
        "s" | "S" | "sec" | "secs" | "second" | "seconds" => (1.0, true),
        "m" | "min" | "mins" | "minute" | "minutes" => (60.0, true),
        "h" | "H" | "hr" | "hrs" | "hour" | "hours" => (3600.0, true),
        "d" | "D" | "day" | "days" => (86400.0, true),
        "w" | "W" | "week" | "weeks" => (604_800.0, true),
        "B" => (1.0, false),
        "k" | "K" | "kB" | "KB" | "Ki" | "KiB" | "kiB" => (K, false),
        "M" | "MB" | "Mi" | "MiB" => (K * K, false),
        "g" | "G" | "GB" | "Gi" | "GiB" => (K * K * K, false),
        "t" | "T" | "TB" | "Ti" | "TiB" => (K * K * K * K, false),
        "P" | "PB" | "Pi" | "PiB" => (K * K * K * K * K, false),
        _ => return (1.0, s, false),
    };
    (factor, after, duration)
}

/// One whitespace-separated term, with each character's column and whether it was quoted.
#[derive(Debug)]
struct Token {
    chars: Vec<TokenChar>,
    /// Column of the token's first character (or its opening quote).
    column: usize,
    /// The token had quotes, even empty ones.
    quoted: bool,
}

#[derive(Debug, Clone, Copy)]
struct TokenChar {
    c: char,
    quoted: bool,
    column: usize,
}

fn tokenize(text: &str) -> Result<Vec<Token>, FilterError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().zip(1..).peekable();
    loop {
        while chars.next_if(|(c, _)| c.is_whitespace()).is_some() {}
        let Some(&(_, column)) = chars.peek() else {
            return Ok(tokens);
        };
        let mut token = Token {
            chars: Vec::new(),
            column,
            quoted: false,
        };
        while let Some((c, col)) = chars.next_if(|(c, _)| !c.is_whitespace()) {
            if c != '"' {
                token.chars.push(TokenChar {
                    c,
                    quoted: false,
                    column: col,
                });
                continue;
            }
            token.quoted = true;
            loop {
                match chars.next() {
                    None => {
                        return Err(FilterError {
                            column: col,
                            kind: FilterErrorKind::UnterminatedQuote,
                        });
                    }
                    Some(('"', _)) => break,
                    Some(('\\', esc_col)) => {
                        let (c, column) = chars
                            .next_if(|(c, _)| *c == '"' || *c == '\\')
                            .unwrap_or(('\\', esc_col));
                        token.chars.push(TokenChar {
                            c,
                            quoted: true,
                            column,
                        });
                    }
                    Some((c, column)) => token.chars.push(TokenChar {
                        c,
                        quoted: true,
                        column,
                    }),
                }
            }
        }
        tokens.push(token);
    }
}

fn is_unquoted(chars: &[TokenChar], i: usize, wanted: &[char]) -> bool {
    chars
        .get(i)
        .is_some_and(|tc| !tc.quoted && wanted.contains(&tc.c))
}

/// Where the operator starts in `chars`, if the token has one outside quotes.
fn find_operator(chars: &[TokenChar]) -> Option<usize> {
    (0..chars.len()).find(|&i| {
        is_unquoted(chars, i, &['=', '~', '<', '>'])
            || (is_unquoted(chars, i, &['!']) && is_unquoted(chars, i + 1, &['=', '~']))
    })
}

fn text_of(chars: &[TokenChar]) -> String {
    chars.iter().map(|tc| tc.c).collect()
}

fn parse_term(token: &Token, fields: &[&str]) -> Result<Term, FilterError> {
    let mut chars = token.chars.as_slice();
    let mut negated = false;
    let mut bang_column = token.column;
    while let Some((first, rest)) = chars.split_first() {
        if first.quoted || first.c != '!' {
            break;
        }
        // `!=` at the start is an operator with no field, not a negation.
        if rest.first().is_some_and(|n| !n.quoted && n.c == '=') {
            break;
        }
        negated = !negated;
        bang_column = first.column;
        chars = rest;
    }
    if chars.is_empty() {
        let kind = if token.quoted {
            FilterErrorKind::EmptyQuotes
        } else {
            FilterErrorKind::NothingToNegate
        };
        let column = if token.quoted {
            token.column
        } else {
            bang_column
        };
        return Err(FilterError { column, kind });
    }

    let Some(op_at) = find_operator(chars) else {
        let raw = text_of(chars);
        let lower = lowercase(&raw);
        let test = if chars.iter().any(|tc| tc.quoted) {
            Test::Phrase { raw, lower }
        } else {
            Test::Fuzzy { raw, lower }
        };
        return Ok(Term { negated, test });
    };

    let op_column = chars[op_at].column;
    // A quoted character after the operator belongs to the value: `env="=x"`.
    let second = chars.get(op_at + 1).filter(|tc| !tc.quoted).map(|tc| tc.c);
    let (op, op_len) = match (chars[op_at].c, second) {
        ('!', Some('=')) => ("!=", 2),
        ('!', _) => ("!~", 2),
        ('<', Some('=')) => ("<=", 2),
        ('>', Some('=')) => (">=", 2),
        // `==` out of habit from programming languages.
        ('=', Some('=')) => ("=", 2),
        ('=', _) => ("=", 1),
        ('~', _) => ("~", 1),
        ('<', _) => ("<", 1),
        _ => (">", 1),
    };
    if op_at == 0 {
        return Err(FilterError {
            column: op_column,
            kind: FilterErrorKind::MissingField { op: op.to_owned() },
        });
    }
    let key = text_of(&chars[..op_at]);
    let key_column = chars[0].column;
    let field = resolve_field(&key, fields).map_err(|kind| FilterError {
        column: key_column,
        kind,
    })?;

    let value_chars = &chars[op_at + op_len..];
    let value_column = value_chars
        .first()
        .map_or(op_column + op_len, |tc| tc.column);
    if value_chars.is_empty() {
        return Err(FilterError {
            column: value_column,
            kind: FilterErrorKind::MissingValue {
                field: key,
                op: op.to_owned(),
            },
        });
    }
    let raw = text_of(value_chars);

    let (negated, test) = match op {
        "=" | "!=" | "~" | "!~" => {
            let text_op = if op.ends_with('=') {
                TextOp::Equals
            } else {
                TextOp::Contains
            };
            let number = parse_quantity(&raw, Reading::Whole);
            let lower = lowercase(&raw);
            let test = Test::Text {
                field,
                op: text_op,
                raw,
                lower,
                number,
            };
            (negated != op.starts_with('!'), test)
        }
        _ => {
            let cmp = match op {
                "<" => CmpOp::Lt,
                "<=" => CmpOp::Le,
                ">" => CmpOp::Gt,
                _ => CmpOp::Ge,
            };
            let Some(number) = parse_quantity(&raw, Reading::Whole) else {
                return Err(FilterError {
                    column: value_column,
                    kind: FilterErrorKind::BadNumber {
                        field: key,
                        op: op.to_owned(),
                        value: raw,
                    },
                });
            };
            let test = Test::Compare {
                field,
                op: cmp,
                raw,
                number,
            };
            (negated, test)
        }
    };
    Ok(Term { negated, test })
}

/// The canonical name of field `key` (as spelled in `fields`), or why there is none.
fn resolve_field(key: &str, fields: &[&str]) -> Result<String, FilterErrorKind> {
    let find = |name: &str| {
        let name = lowercase(name);
        fields.iter().find(|f| lowercase(f) == name)
    };
    if let Some(found) = find(key) {
        return Ok((*found).to_owned());
    }
    let lower = lowercase(key);
    if let Some((_, target)) = ALIASES.iter().find(|(alias, _)| *alias == lower)
        && let Some(found) = find(target)
    {
        return Ok((*found).to_owned());
    }
    let aliases = ALIASES
        .iter()
        .filter(|(_, target)| find(target).is_some())
        .map(|(alias, _)| *alias);
    let candidates: Vec<&str> = fields.iter().copied().chain(aliases).collect();
    Err(FilterErrorKind::UnknownField {
        name: key.to_owned(),
        suggestion: closest(key, &candidates).map(str::to_owned),
        known: fields.iter().map(|f| (*f).to_owned()).collect(),
    })
}

/// The candidate a mistyped `word` most likely meant: a small edit away, or the only one
/// it is a prefix of. `None` rather than a far-fetched guess.
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word = lowercase(word);
    let mut prefixed = candidates
        .iter()
        .filter(|c| !word.is_empty() && lowercase(c).starts_with(&word));
    if let (Some(only), None) = (prefixed.next(), prefixed.next()) {
        return Some(*only);
    }
    let limit = match word.chars().count() {
        0..=2 => 1,
        3..=5 => 2,
        _ => 3,
    };
    candidates
        .iter()
        .map(|c| (edit_distance(&word, &lowercase(c)), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance in chars.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const INCIDENT_FIELDS: &[&str] = &["sev", "env", "tier", "state", "rule", "node", "age"];

    struct Row {
        fields: Vec<(&'static str, &'static str)>,
        text: &'static str,
    }

    impl Subject for Row {
        fn field(&self, name: &str) -> Option<Cow<'_, str>> {
            self.fields
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| Cow::Borrowed(*v))
        }
        fn text(&self) -> Cow<'_, str> {
            Cow::Borrowed(self.text)
        }
    }

    fn incident() -> Row {
        Row {
            fields: vec![
                ("sev", "sev2"),
                ("env", "production"),
                ("tier", "prod"),
                ("state", "Open"),
                ("rule", "DiskFull"),
                ("node", "pg-replica-03"),
                ("age", "12m05s"),
            ],
            text: "sev2 production Open DiskFull pg-replica-03 disk full on /var 12m05s",
        }
    }

    fn matches(query: &str, row: &Row) -> bool {
        match Filter::parse(query, INCIDENT_FIELDS) {
            Ok(filter) => filter.matches(row),
            Err(e) => panic!("{query:?} did not parse: {e}"),
        }
    }

    #[test]
    fn term_forms_match_as_documented() {
        let row = incident();
        let cases: &[(&str, bool)] = &[
            // empty
            ("", true),
            ("   \t ", true),
            // = : case-insensitive equality or prefix
            ("env=production", true),
            ("env=prod", true),
            ("env=PROD", true),
            ("env=staging", false),
            ("env=productions", false),
            ("state=open", true),
            ("state=OPEN", true),
            ("env==prod", true),
            // = with numbers compares numerically, not by prefix
            ("sev=2", true),
            ("sev=2.0", true),
            ("sev=sev2", true),
            ("sev=3", false),
            ("sev=0.2", false),
            // != and !~
            ("env!=prod", false),
            ("env!=staging", true),
            ("rule!~disk", false),
            ("rule!~cpu", true),
            // ~ substring
            ("node~replica", true),
            ("node~REPLICA", true),
            ("node~primary", false),
            ("rule~kf", true),
            // numeric comparisons with alphabetic prefix
            ("sev<=2", true),
            ("sev<2", false),
            ("sev<3", true),
            ("sev>=2", true),
            ("sev>2", false),
            ("sev>1", true),
            // durations
            ("age>10m", true),
            ("age>12m", true),
            ("age>12m5s", false),
            ("age>=12m5s", true),
            ("age>724", true),
            ("age>725", false),
            ("age<1h", true),
            ("age<725s", false),
            // fuzzy words (subsequence of the row's text)
            ("pgrep", true),
            ("PGREP", true),
            ("diskfull", true),
            ("zzz", false),
            ("pg-replica-03", true),
            // quoted phrase: substring, not subsequence
            ("\"disk full\"", true),
            ("\"disk  full\"", false),
            ("\"full disk\"", false),
            // quoted values
            ("node~\"replica-03\"", true),
            ("node=\"pg replica\"", false),
            // inversion
            ("!env=prod", false),
            ("!env=staging", true),
            ("!pgrep", false),
            ("!zzz", true),
            ("!!pgrep", true),
            ("!env!=prod", true),
            ("!sev<=2", false),
            ("!\"disk full\"", false),
            // aliases
            ("severity<=2", true),
            ("environment=prod", true),
            ("ENV=prod", true),
            // AND of terms
            ("sev<=2 env=prod node~rep", true),
            ("sev<=2 env=staging node~rep", false),
            ("sev<=2   env=prod\tpgrep  !zzz", true),
        ];
        for (query, expected) in cases {
            assert_eq!(matches(query, &row), *expected, "{query:?}");
        }
    }

    #[test]
    fn missing_fields_fail_and_inversions_of_them_hold() {
        let row = Row {
            fields: vec![("sev", "sev1")],
            text: "sev1",
        };
        let cases: &[(&str, bool)] = &[
            ("env=prod", false),
            ("env!=prod", true),
            ("env~prod", false),
            ("env!~prod", true),
            ("age>1m", false),
            ("age<1m", false),
            ("!age<1m", true),
            ("!env=prod", true),
        ];
        for (query, expected) in cases {
            assert_eq!(matches(query, &row), *expected, "{query:?}");
        }
    }

    #[test]
    fn non_numeric_field_values_fail_comparisons() {
        let row = Row {
            fields: vec![("sev", "—"), ("age", "unknown")],
            text: "",
        };
        for (query, expected) in [
            ("sev<3", false),
            ("sev>=0", false),
            ("!sev<3", true),
            ("age>1s", false),
        ] {
            assert_eq!(matches(query, &row), expected, "{query:?}");
        }
    }

    #[test]
    fn unicode_is_matched_case_insensitively_by_char() {
        let row = Row {
            fields: vec![
                ("node", "Größe-ÉTÉ-01"),
                ("rule", "ΟΔΟΣ"),
                ("env", "東京-prod"),
            ],
            text: "Größe-ÉTÉ-01 ΟΔΟΣ 東京-prod",
        };
        let cases: &[(&str, bool)] = &[
            ("node=größe", true),
            ("node=GRÖSSE", false),
            ("node~été", true),
            ("node~ÉTÉ-0", true),
            ("rule=οδος", false),
            ("rule=ΟΔΟΣ", true),
            ("rule~δοσ", true),
            ("env=東京", true),
            ("env~京-P", true),
            ("grö01", true),
            ("grete", false),
            ("東prod", true),
            ("\"京-prod\"", true),
            ("\"東-prod\"", false),
        ];
        for (query, expected) in cases {
            assert_eq!(matches(query, &row), *expected, "{query:?}");
        }
    }

    #[test]
    fn errors_name_the_column_and_the_problem() {
        let cases: &[(&str, &str)] = &[
            (
                "sev<=2 nod~web",
                "col 8: unknown field \"nod\" (did you mean \"node\"? fields: sev, env, tier, state, rule, node, age)",
            ),
            (
                "envv=prod",
                "col 1: unknown field \"envv\" (did you mean \"env\"? fields: sev, env, tier, state, rule, node, age)",
            ),
            (
                "xyzzy=1",
                "col 1: unknown field \"xyzzy\" (fields: sev, env, tier, state, rule, node, age)",
            ),
            (
                "!sevrity<2",
                "col 2: unknown field \"sevrity\" (did you mean \"severity\"? fields: sev, env, tier, state, rule, node, age)",
            ),
            ("env=", "col 5: \"env=\" needs a value after it"),
            ("env!=", "col 6: \"env!=\" needs a value after it"),
            ("env=\"\"", "col 5: \"env=\" needs a value after it"),
            ("sev<= 2", "col 6: \"sev<=\" needs a value after it"),
            (
                "sev<=two",
                "col 6: \"sev<=\" needs a number (like 2, 90, 10m, 4G), not \"two\"",
            ),
            (
                "age>10x",
                "col 5: \"age>\" needs a number (like 2, 90, 10m, 4G), not \"10x\"",
            ),
            (
                "summary~\"disk full",
                "col 9: unterminated quote: add a closing \"",
            ),
            ("ok \"", "col 4: unterminated quote: add a closing \""),
            (
                "=prod",
                "col 1: \"=\" needs a field name before it, like env=prod",
            ),
            (
                "!=prod",
                "col 1: \"!=\" needs a field name before it, like env!=prod",
            ),
            ("a !", "col 3: \"!\" needs a term after it, like !env=prod"),
            (
                "\"\"",
                "col 1: empty quotes: put the text to search for between them",
            ),
            (
                "東京 nöde=x",
                "col 4: unknown field \"nöde\" (did you mean \"node\"? fields: sev, env, tier, state, rule, node, age)",
            ),
        ];
        for (query, expected) in cases {
            match Filter::parse(query, INCIDENT_FIELDS) {
                Ok(f) => panic!("{query:?} parsed as {f:?}"),
                Err(e) => assert_eq!(e.to_string(), *expected, "{query:?}"),
            }
        }
    }

    #[test]
    fn error_kinds_carry_structured_detail() {
        let Err(e) = Filter::parse("env=prod clustr=a", &["env", "cluster"]) else {
            panic!("parsed");
        };
        assert_eq!(e.column, 10);
        assert_eq!(
            e.kind,
            FilterErrorKind::UnknownField {
                name: "clustr".into(),
                suggestion: Some("cluster".into()),
                known: vec!["env".into(), "cluster".into()],
            }
        );
        assert!(e.message().starts_with("unknown field"));
    }

    #[test]
    fn aliases_need_their_target_field() {
        assert!(Filter::parse("severity=1", &["env"]).is_err());
        assert!(Filter::parse("environment=prod", &["env"]).is_ok());
        // A tab that really has a field called `severity` keeps it.
        let f = Filter::parse("severity=1", &["severity"]);
        assert_eq!(f.map(|f| f.describe()).ok().as_deref(), Some("severity=1"));
    }

    #[test]
    fn describe_normalises() {
        let cases: &[(&str, &str)] = &[
            ("", ""),
            ("  sev<=2   env=prod ", "sev<=2 env=prod"),
            ("SEVERITY<=2 Environment=Prod", "sev<=2 env=Prod"),
            ("!env=prod", "env!=prod"),
            ("!env~prod", "env!~prod"),
            ("!env!=prod", "env=prod"),
            ("!!pgrep", "pgrep"),
            ("!pgrep", "!pgrep"),
            ("!age<10m", "!age<10m"),
            ("env==prod", "env=prod"),
            ("rule~\"disk full\"", "rule~\"disk full\""),
            ("rule~\"diskfull\"", "rule~diskfull"),
            ("\"disk full\"", "\"disk full\""),
            ("dis\"k full\"", "\"disk full\""),
            ("rule~\"say \\\"hi\\\"\"", "rule~\"say \\\"hi\\\"\""),
            ("rule~\"=x\"", "rule~\"=x\""),
            ("rule~a\\b", "rule~a\\b"),
            ("age>=1h30m", "age>=1h30m"),
        ];
        for (query, expected) in cases {
            let filter = match Filter::parse(query, INCIDENT_FIELDS) {
                Ok(f) => f,
                Err(e) => panic!("{query:?}: {e}"),
            };
            assert_eq!(filter.describe(), *expected, "{query:?}");
            assert_eq!(filter.is_empty(), expected.is_empty(), "{query:?}");
            // The indicator text is itself a valid filter meaning the same thing.
            let again = Filter::parse(&filter.describe(), INCIDENT_FIELDS);
            assert_eq!(again.as_ref(), Ok(&filter), "{query:?}");
        }
    }

    #[test]
    fn quoting_and_escapes_tokenize() {
        let cases: &[(&str, &str)] = &[
            ("rule~\"a b\" node~c", "rule~\"a b\" node~c"),
            ("rule~\"a\\\\b\"", "rule~a\\b"),
            ("rule~\"a\\nb\"", "rule~a\\nb"),
            ("rule=\"<3\"", "rule=\"<3\""),
            ("\"env=prod\"", "\"env=prod\""),
        ];
        for (query, expected) in cases {
            let described = Filter::parse(query, INCIDENT_FIELDS).map(|f| f.describe());
            assert_eq!(described.as_deref(), Ok(*expected), "{query:?}");
        }
        // A quoted `env=prod` is a phrase, not a field test.
        let row = incident();
        assert!(!matches("\"env=prod\"", &row));
    }

    #[test]
    fn quantities_read_units_and_prefixes() {
        let k = 1024.0;
        let cases: &[(&str, Reading, Option<f64>)] = &[
            ("2", Reading::Whole, Some(2.0)),
            ("sev2", Reading::Whole, Some(2.0)),
            ("p1", Reading::Whole, Some(1.0)),
            ("-3", Reading::Whole, Some(-3.0)),
            ("web-01", Reading::Whole, None),
            ("95.5%", Reading::Whole, Some(95.5)),
            ("95 %", Reading::Whole, Some(95.0)),
            ("10m", Reading::Whole, Some(600.0)),
            ("10M", Reading::Whole, Some(10.0 * k * k)),
            ("42s", Reading::Whole, Some(42.0)),
            ("3m05s", Reading::Whole, Some(185.0)),
            ("2h10m", Reading::Whole, Some(7800.0)),
            ("2h 10m", Reading::Whole, Some(7800.0)),
            ("3d04h", Reading::Whole, Some(3.0 * 86400.0 + 4.0 * 3600.0)),
            ("1w", Reading::Whole, Some(604_800.0)),
            ("250ms", Reading::Whole, Some(0.25)),
            ("5 minutes", Reading::Whole, Some(300.0)),
            ("1.5 KiB", Reading::Whole, Some(1.5 * k)),
            ("4G", Reading::Whole, Some(4.0 * k * k * k)),
            ("4GB", Reading::Whole, Some(4.0 * k * k * k)),
            ("512 B", Reading::Whole, Some(512.0)),
            ("1k", Reading::Whole, Some(k)),
            ("10.2.3.4", Reading::Whole, None),
            ("10.2.3.4", Reading::Leading, Some(10.2)),
            ("95% (4 cores)", Reading::Whole, None),
            ("95% (4 cores)", Reading::Leading, Some(95.0)),
            ("3 days ago", Reading::Leading, Some(3.0 * 86400.0)),
            ("10x", Reading::Whole, None),
            ("10x", Reading::Leading, Some(10.0)),
            ("", Reading::Leading, None),
            ("—", Reading::Leading, None),
            ("sev", Reading::Leading, None),
            (".", Reading::Leading, None),
            ("1.", Reading::Leading, Some(1.0)),
            (".5", Reading::Whole, Some(0.5)),
        ];
        for (text, reading, expected) in cases {
            assert_eq!(parse_quantity(text, *reading), *expected, "{text:?}");
        }
    }

    #[test]
    fn byte_suffixes_compare_sizes() {
        let row = Row {
            fields: vec![("disk", "1.5 GiB"), ("mem", "512 MiB")],
            text: "",
        };
        let fields = &["disk", "mem"];
        for (query, expected) in [
            ("disk>1G", true),
            ("disk>2G", false),
            ("disk>1500M", true),
            ("mem<1G", true),
            ("mem>=512M", true),
            ("mem>512M", false),
            ("mem=512M", true),
            ("mem=512", false),
        ] {
            let f = Filter::parse(query, fields);
            assert_eq!(f.map(|f| f.matches(&row)), Ok(expected), "{query:?}");
        }
    }

    #[test]
    fn suggestions_are_close_or_nothing() {
        let fields = [
            "sev", "env", "tier", "state", "rule", "node", "age", "cluster",
        ];
        let cases: &[(&str, Option<&str>)] = &[
            ("nod", Some("node")),
            ("clu", Some("cluster")),
            ("stat", Some("state")),
            ("sevv", Some("sev")),
            ("Node", Some("node")),
            ("zzzzzzzz", None),
            ("s", None),
        ];
        for (word, expected) in cases {
            assert_eq!(closest(word, &fields), *expected, "{word:?}");
        }
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("größe", "grösse"), 2);
    }
}
