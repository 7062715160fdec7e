//! Lexer: turns rule text into tokens with byte spans.
//!
//! Owns the token vocabulary (numbers, strings, durations, identifiers, punctuation) and
//! string escapes. Keywords are not distinguished here: `by`, `and`, … are identifiers, and
//! the parser decides by position, which lets them also serve as label names as in PromQL.

use std::time::Duration;

use super::ExprError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Num(f64),
    Str(String),
    Dur(Duration),
    Ident(String),
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    /// `=` (label matcher only)
    Assign,
    /// `!=`
    Neq,
    /// `=~`
    ReMatch,
    /// `!~`
    ReNoMatch,
    /// `==`
    EqEq,
    Gt,
    Lt,
    Ge,
    Le,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Eof,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

/// Build an error covering `text[start..end]` (or "end of expression" when empty at the end).
pub(crate) fn error_at(text: &str, start: usize, end: usize, message: String) -> ExprError {
    let token = if start >= text.len() {
        "end of expression".to_owned()
    } else {
        text.get(start..end).unwrap_or("").to_owned()
    };
    ExprError {
        offset: start,
        len: end.saturating_sub(start),
        token,
        message,
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

pub(crate) fn lex(text: &str) -> Result<Vec<Token>, ExprError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == '#' {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        let two = text.get(i..i + 2).unwrap_or("");
        let punct2 = match two {
            "!=" => Some(Tok::Neq),
            "=~" => Some(Tok::ReMatch),
            "!~" => Some(Tok::ReNoMatch),
            "==" => Some(Tok::EqEq),
            ">=" => Some(Tok::Ge),
            "<=" => Some(Tok::Le),
            _ => None,
        };
        if let Some(tok) = punct2 {
            out.push(Token {
                tok,
                start,
                end: i + 2,
            });
            i += 2;
            continue;
        }
        let punct1 = match c {
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '{' => Some(Tok::LBrace),
            '}' => Some(Tok::RBrace),
            '[' => Some(Tok::LBracket),
            ']' => Some(Tok::RBracket),
            ',' => Some(Tok::Comma),
            '=' => Some(Tok::Assign),
            '>' => Some(Tok::Gt),
            '<' => Some(Tok::Lt),
            '+' => Some(Tok::Add),
            '-' => Some(Tok::Sub),
            '*' => Some(Tok::Mul),
            '/' => Some(Tok::Div),
            '%' => Some(Tok::Mod),
            '^' => Some(Tok::Pow),
            _ => None,
        };
        if let Some(tok) = punct1 {
            out.push(Token {
                tok,
                start,
                end: i + 1,
            });
            i += 1;
            continue;
        }
        if c == '"' || c == '\'' {
            let (s, end) = lex_string(text, i)?;
            out.push(Token {
                tok: Tok::Str(s),
                start,
                end,
            });
            i = end;
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && bytes.get(i + 1).is_some_and(|b| b.is_ascii_digit()))
        {
            let (tok, end) = lex_number(text, i)?;
            out.push(Token { tok, start, end });
            i = end;
            continue;
        }
        if is_ident_start(c) {
            while i < bytes.len() && is_ident_char(bytes[i] as char) {
                i += 1;
            }
            let word = &text[start..i];
            // PromQL reads NaN and Inf case-insensitively as numbers.
            let tok = if word.eq_ignore_ascii_case("nan") {
                Tok::Num(f64::NAN)
            } else if word.eq_ignore_ascii_case("inf") {
                Tok::Num(f64::INFINITY)
            } else {
                Tok::Ident(word.to_owned())
            };
            out.push(Token { tok, start, end: i });
            continue;
        }
        // Non-ASCII or unknown punctuation: report the whole character.
        let ch = text[i..].chars().next().unwrap_or(c);
        let end = i + ch.len_utf8();
        return Err(error_at(
            text,
            start,
            end,
            format!("unexpected character `{ch}`"),
        ));
    }
    out.push(Token {
        tok: Tok::Eof,
        start: text.len(),
        end: text.len(),
    });
    Ok(out)
}

fn lex_string(text: &str, start: usize) -> Result<(String, usize), ExprError> {
    let mut chars = text[start..].char_indices();
    let quote = chars.next().map_or('"', |(_, q)| q);
    let mut out = String::new();
    while let Some((off, ch)) = chars.next() {
        let pos = start + off;
        match ch {
            c if c == quote => return Ok((out, pos + 1)),
            '\\' => {
                let Some((_, esc)) = chars.next() else { break };
                match esc {
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    '\'' => out.push('\''),
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    other => {
                        return Err(error_at(
                            text,
                            pos,
                            pos + 1 + other.len_utf8(),
                            format!(
                                "unknown escape `\\{other}` in string (use `\\\\` for a backslash)"
                            ),
                        ));
                    }
                }
            }
            '\n' => break,
            c => out.push(c),
        }
    }
    let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
    Err(error_at(text, start, end, "unterminated string".to_owned()))
}

/// A number (`5`, `0.05`, `1e3`, `.5`) or a duration (`5m`, `1h30m`, `250ms`).
fn lex_number(text: &str, start: usize) -> Result<(Tok, usize), ExprError> {
    let bytes = text.as_bytes();
    let mut i = start;
    let digits = |i: &mut usize| {
        while *i < bytes.len() && bytes[*i].is_ascii_digit() {
            *i += 1;
        }
    };
    digits(&mut i);
    let int_end = i;
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        digits(&mut i);
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        let mut j = i + 1;
        if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
            j += 1;
        }
        if j < bytes.len() && bytes[j].is_ascii_digit() {
            i = j;
            digits(&mut i);
        }
    }
    let followed_by_word = i < bytes.len() && is_ident_char(bytes[i] as char);
    if !followed_by_word {
        let value: f64 = text[start..i].parse().map_err(|_| {
            error_at(
                text,
                start,
                i,
                format!("invalid number `{}`", &text[start..i]),
            )
        })?;
        return Ok((Tok::Num(value), i));
    }
    // A digit run directly followed by letters: must be a duration.
    let mut end = int_end;
    // Not `is_ident_char`: `:` ends a duration (so `[5m:1m]` reads as a subquery attempt).
    while end < bytes.len() && bytes[end].is_ascii_alphanumeric() {
        end += 1;
    }
    let word = &text[start..end];
    match parse_duration(word) {
        Some(d) if int_end == i || int_end == start => Ok((Tok::Dur(d), end)),
        _ => Err(error_at(
            text,
            start,
            end.max(i),
            format!(
                "invalid number or duration `{}` (durations look like `30s`, `5m`, `1h30m`)",
                &text[start..end.max(i)]
            ),
        )),
    }
}

/// `1h30m` → 5400 s. Units: ms, s, m, h, d, w, y (365 d), as in PromQL.
pub(crate) fn parse_duration(word: &str) -> Option<Duration> {
    let bytes = word.as_bytes();
    let mut i = 0;
    let mut total_ms: u64 = 0;
    if bytes.is_empty() {
        return None;
    }
    while i < bytes.len() {
        let n_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == n_start {
            return None;
        }
        let n: u64 = word[n_start..i].parse().ok()?;
        let unit_ms: u64 = if word[i..].starts_with("ms") {
            i += 2;
            1
        } else {
            let u = *bytes.get(i)?;
            i += 1;
            match u {
                b's' => 1_000,
                b'm' => 60_000,
                b'h' => 3_600_000,
                b'd' => 86_400_000,
                b'w' => 7 * 86_400_000,
                b'y' => 365 * 86_400_000,
                _ => return None,
            }
        };
        total_ms = total_ms.checked_add(n.checked_mul(unit_ms)?)?;
    }
    Some(Duration::from_millis(total_ms))
}

/// Canonical spelling of a duration: largest units first, e.g. `1h30m`.
pub(crate) fn format_duration(d: Duration) -> String {
    let mut ms = d.as_millis();
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, size) in [
        ("y", 365 * 86_400_000u128),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        if ms >= size {
            out.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip() {
        for s in ["30s", "5m", "1h", "1d", "1w", "1h30m", "250ms", "1y"] {
            let d = parse_duration(s).unwrap();
            assert_eq!(format_duration(d), s);
        }
        assert_eq!(parse_duration("90m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration("m"), None);
    }

    #[test]
    fn numbers_strings_and_comments() {
        let toks: Vec<Tok> = lex("1e3 .5 'a\\'b' \"c\\nd\" # comment\n x:y")
            .unwrap()
            .into_iter()
            .map(|t| t.tok)
            .collect();
        assert_eq!(
            toks,
            vec![
                Tok::Num(1000.0),
                Tok::Num(0.5),
                Tok::Str("a'b".into()),
                Tok::Str("c\nd".into()),
                Tok::Ident("x:y".into()),
                Tok::Eof
            ]
        );
    }
}
