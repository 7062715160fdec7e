//! The byte-level scanner behind [`super::parse_with`]: one forward pass over the input,
//! one line at a time, with a reusable label buffer.
//!
//! Every delimiter in the grammar is ASCII, so any byte index the scanner stops at is a
//! UTF-8 character boundary of the `&str` input and slicing it cannot fail.
//!
//! Each line either produces one visitor call or one error; an error skips the rest of its
//! line, so one bad line never hides the good lines after it.

use std::borrow::Cow;

use super::number::{parse_timestamp_ms, parse_value};
use super::{Label, MetricType, ParseError, SampleRef, Visitor};

/// Character classes, looked up once per byte in the hot loops.
const LABEL_CHAR: u8 = 1; // [a-zA-Z0-9_]
const METRIC_CHAR: u8 = 2; // [a-zA-Z0-9_:]
const BLANK: u8 = 4; // space, tab, CR (CR so that CRLF input needs no special case)
const VALUE_STOP: u8 = 8; // ends a label value scan: '"', '\\', '\n'
const TOKEN_STOP: u8 = 16; // ends a value/timestamp token: blank or '\n'

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() || b == b'_' {
            t[c] |= LABEL_CHAR | METRIC_CHAR;
        }
        if b == b':' {
            t[c] |= METRIC_CHAR;
        }
        if b == b' ' || b == b'\t' || b == b'\r' {
            t[c] |= BLANK | TOKEN_STOP;
        }
        if b == b'"' || b == b'\\' || b == b'\n' {
            t[c] |= VALUE_STOP;
        }
        if b == b'\n' {
            t[c] |= TOKEN_STOP;
        }
        c += 1;
    }
    t
};

#[inline(always)]
fn is(b: u8, class: u8) -> bool {
    CLASS[b as usize] & class != 0
}

/// What a successfully parsed line asks of the main loop.
enum Flow {
    Next,
    /// `# EOF`: stop reading.
    Eof,
}

/// Why a line failed; the message is only built on this cold path.
type LineResult = Result<Flow, String>;

pub(super) struct Scanner<'a> {
    src: &'a str,
    bytes: &'a [u8],
    /// Start of the unread input; at the start of a line between lines.
    pos: usize,
    /// 1-based number of the line being parsed.
    line: usize,
    /// Reused for every sample so a line without escapes allocates nothing.
    labels: Vec<Label<'a>>,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(src: &'a str) -> Self {
        // A BOM some Windows-side tooling prepends; it is not part of the first metric name.
        let pos = if src.starts_with('\u{feff}') { 3 } else { 0 };
        Scanner {
            src,
            bytes: src.as_bytes(),
            pos,
            line: 0,
            labels: Vec::new(),
        }
    }

    pub(super) fn run<V: Visitor<'a>>(&mut self, visitor: &mut V) {
        while self.pos < self.bytes.len() {
            self.line += 1;
            match self.parse_line(visitor) {
                Ok(Flow::Next) => {}
                Ok(Flow::Eof) => {
                    self.after_eof(visitor);
                    return;
                }
                Err(message) => {
                    visitor.error(ParseError {
                        line: self.line,
                        message,
                    });
                    self.pos = self.next_line_start(self.pos);
                }
            }
        }
    }

    /// Index just past the `\n` that ends the line containing `from` (or the input end).
    fn next_line_start(&self, from: usize) -> usize {
        match self
            .bytes
            .get(from..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
        {
            Some(n) => from + n + 1,
            None => self.bytes.len(),
        }
    }

    fn skip_blank(&self, mut i: usize) -> usize {
        while i < self.bytes.len() && is(self.bytes[i], BLANK) {
            i += 1;
        }
        i
    }

    /// End of the token starting at `i`: the next blank, newline or input end.
    fn token_end(&self, mut i: usize) -> usize {
        while i < self.bytes.len() && !is(self.bytes[i], TOKEN_STOP) {
            i += 1;
        }
        i
    }

    /// True when `i` is at a newline or the input end; moves `pos` past it if so.
    fn end_line_at(&mut self, i: usize) -> bool {
        match self.bytes.get(i) {
            None => {
                self.pos = i;
                true
            }
            Some(b'\n') => {
                self.pos = i + 1;
                true
            }
            Some(_) => false,
        }
    }

    fn parse_line<V: Visitor<'a>>(&mut self, visitor: &mut V) -> LineResult {
        let i = self.skip_blank(self.pos);
        if self.end_line_at(i) {
            return Ok(Flow::Next);
        }
        if self.bytes[i] == b'#' {
            return self.comment_line(i + 1, visitor);
        }
        self.sample_line(i, visitor)
    }

    fn sample_line<V: Visitor<'a>>(&mut self, start: usize, visitor: &mut V) -> LineResult {
        let bytes = self.bytes;
        let name_end = self.metric_name_end(start);
        if name_end == start {
            return Err(if bytes[start] == b'{' {
                "missing metric name before '{'".to_string()
            } else {
                format!(
                    "invalid metric name `{}`",
                    &self.src[start..self.word_end(start)]
                )
            });
        }
        let name = &self.src[start..name_end];
        let mut i = self.skip_blank(name_end);
        self.labels.clear();
        if bytes.get(i) == Some(&b'{') {
            i = self.label_set(i + 1)?;
            i = self.skip_blank(i);
        } else if i == name_end && !matches!(bytes.get(i), None | Some(b'\n')) {
            // The name ran into a byte that may not follow it, like `foo-bar`: name the whole
            // token rather than the valid prefix.
            let end = self.word_end(start).max(self.char_end(name_end));
            return Err(format!("invalid metric name `{}`", &self.src[start..end]));
        }

        let value_start = i;
        let value_end = self.token_end(i);
        if value_end == value_start {
            return Err(format!("missing sample value for `{name}`"));
        }
        let value_text = &self.src[value_start..value_end];
        let Some(value) = parse_value(value_text) else {
            return Err(format!("invalid sample value `{value_text}`"));
        };

        let mut i = self.skip_blank(value_end);
        let mut timestamp_ms = None;
        if !self.end_line_at(i) {
            if bytes[i] != b'#' {
                let ts_end = self.token_end(i);
                let ts_text = &self.src[i..ts_end];
                let Some(ts) = parse_timestamp_ms(ts_text) else {
                    return Err(format!("invalid timestamp `{ts_text}`"));
                };
                timestamp_ms = Some(ts);
                i = self.skip_blank(ts_end);
            }
            if !self.end_line_at(i) {
                if bytes[i] != b'#' {
                    let end = self.token_end(i);
                    return Err(format!(
                        "unexpected `{}` after {}",
                        &self.src[i..end],
                        if timestamp_ms.is_some() {
                            "timestamp"
                        } else {
                            "sample value"
                        }
                    ));
                }
                // An OpenMetrics exemplar (` # {trace_id="…"} 1.0`): not needed, skipped.
                self.pos = self.next_line_start(i);
            }
        }

        visitor.sample(SampleRef {
            name,
            labels: &self.labels,
            value,
            timestamp_ms,
            line: self.line,
        });
        Ok(Flow::Next)
    }

    /// End of a metric name starting at `start`, or `start` itself if none starts there.
    fn metric_name_end(&self, start: usize) -> usize {
        let bytes = self.bytes;
        match bytes.get(start) {
            Some(&b) if is(b, METRIC_CHAR) && !b.is_ascii_digit() => {}
            _ => return start,
        }
        let mut i = start + 1;
        while i < bytes.len() && is(bytes[i], METRIC_CHAR) {
            i += 1;
        }
        i
    }

    /// End of the word at `i` for error messages: stops at blanks, newline and punctuation,
    /// but always takes at least one character so the message shows the offending byte.
    fn word_end(&self, start: usize) -> usize {
        let bytes = self.bytes;
        let mut i = start;
        while i < bytes.len()
            && !is(bytes[i], TOKEN_STOP)
            && !matches!(bytes[i], b'{' | b'}' | b'"' | b'=' | b',')
        {
            i += 1;
        }
        if i == start && start < bytes.len() && bytes[start] != b'\n' {
            self.char_end(start)
        } else {
            i
        }
    }

    /// Parses `name="value", ...}` starting just after `{` into `self.labels`; returns the
    /// index just after the closing `}`.
    fn label_set(&mut self, mut i: usize) -> Result<usize, String> {
        let bytes = self.bytes;
        loop {
            i = self.skip_blank(i);
            match bytes.get(i) {
                Some(b'}') => return Ok(i + 1),
                None | Some(b'\n') => return Err("unterminated label set: missing '}'".into()),
                _ => {}
            }

            let name_start = i;
            if !is(bytes[i], LABEL_CHAR) || bytes[i].is_ascii_digit() {
                let end = self.word_end(i);
                return Err(format!(
                    "invalid label name `{}`",
                    &self.src[name_start..end]
                ));
            }
            i += 1;
            while i < bytes.len() && is(bytes[i], LABEL_CHAR) {
                i += 1;
            }
            let name = &self.src[name_start..i];

            i = self.skip_blank(i);
            if bytes.get(i) != Some(&b'=') {
                return Err(format!("expected '=' after label name `{name}`"));
            }
            i = self.skip_blank(i + 1);
            if bytes.get(i) != Some(&b'"') {
                return Err(format!("expected '\"' to open the value of label `{name}`"));
            }
            i += 1;

            let value_start = i;
            while i < bytes.len() && !is(bytes[i], VALUE_STOP) {
                i += 1;
            }
            let value = match bytes.get(i) {
                Some(b'"') => Cow::Borrowed(&self.src[value_start..i]),
                Some(b'\\') => {
                    let (owned, end) = self.escaped_label_value(value_start, i, name)?;
                    i = end;
                    Cow::Owned(owned)
                }
                _ => return Err(format!("unterminated label value for `{name}`")),
            };
            i += 1; // the closing quote
            // Prometheus rejects such a series; keeping either value would be a guess.
            if self.labels.iter().any(|l| l.name == name) {
                return Err(format!("duplicate label `{name}`"));
            }
            self.labels.push(Label { name, value });

            i = self.skip_blank(i);
            match bytes.get(i) {
                Some(b',') => i += 1,
                Some(b'}') => return Ok(i + 1),
                None | Some(b'\n') => return Err("unterminated label set: missing '}'".into()),
                Some(_) => {
                    let end = self.word_end(i);
                    return Err(format!(
                        "expected ',' or '}}' after the value of label `{name}`, found `{}`",
                        &self.src[i..end]
                    ));
                }
            }
        }
    }

    /// Index after the (possibly multi-byte) character starting at `i`.
    fn char_end(&self, i: usize) -> usize {
        let mut end = (i + 1).min(self.bytes.len());
        while !self.src.is_char_boundary(end) {
            end += 1;
        }
        end
    }

    /// Unescapes a label value whose first backslash is at `first_escape`. Returns the value
    /// and the index of the closing quote.
    ///
    /// `\\`, `\"` and `\n` are the defined escapes; any other backslash is kept as written,
    /// as Prometheus itself does, rather than rejecting the line.
    fn escaped_label_value(
        &self,
        value_start: usize,
        first_escape: usize,
        name: &str,
    ) -> Result<(String, usize), String> {
        let bytes = self.bytes;
        let mut out = String::with_capacity(first_escape - value_start + 16);
        out.push_str(&self.src[value_start..first_escape]);
        let mut i = first_escape;
        loop {
            match bytes.get(i) {
                Some(b'"') => return Ok((out, i)),
                Some(b'\\') => {
                    match bytes.get(i + 1) {
                        Some(b'\\') => out.push('\\'),
                        Some(b'"') => out.push('"'),
                        Some(b'n') => out.push('\n'),
                        None | Some(b'\n') => {
                            return Err(format!("unterminated label value for `{name}`"));
                        }
                        // Keep the backslash; the following character is copied by the
                        // plain-run branch below on the next turn.
                        Some(_) => {
                            out.push('\\');
                            i += 1;
                            continue;
                        }
                    }
                    i += 2;
                }
                Some(_) => {
                    let run_start = i;
                    while i < bytes.len() && !is(bytes[i], VALUE_STOP) {
                        i += 1;
                    }
                    // A lone `"`/`\`/`\n` stop byte is handled by the arms above; a plain run
                    // is at least one byte, so the loop always advances.
                    if i == run_start {
                        return Err(format!("unterminated label value for `{name}`"));
                    }
                    out.push_str(&self.src[run_start..i]);
                }
                None => return Err(format!("unterminated label value for `{name}`")),
            }
        }
    }

    /// `# HELP`, `# TYPE`, `# EOF` or an ignored comment; `i` is just after the `#`.
    fn comment_line<V: Visitor<'a>>(&mut self, i: usize, visitor: &mut V) -> LineResult {
        let keyword_start = self.skip_blank(i);
        let keyword_end = self.token_end(keyword_start);
        let keyword = &self.bytes[keyword_start..keyword_end];
        match keyword {
            b"HELP" => self.help_line(keyword_end, visitor),
            b"TYPE" => self.type_line(keyword_end, visitor),
            b"EOF" => {
                let end = self.skip_blank(keyword_end);
                if self.end_line_at(end) {
                    Ok(Flow::Eof)
                } else {
                    // `# EOF and more` is just a comment.
                    self.pos = self.next_line_start(end);
                    Ok(Flow::Next)
                }
            }
            _ => {
                self.pos = self.next_line_start(keyword_end);
                Ok(Flow::Next)
            }
        }
    }

    /// The metric name of a HELP/TYPE line, after the keyword at `i`.
    fn descriptor_name(&self, i: usize, keyword: &str) -> Result<(&'a str, usize), String> {
        let start = self.skip_blank(i);
        let end = self.metric_name_end(start);
        let follows_ok =
            matches!(self.bytes.get(end), None | Some(b'\n')) || is(self.bytes[end], BLANK);
        if end == start || !follows_ok {
            let word_end = self.word_end(start);
            return Err(if word_end == start {
                format!("missing metric name after `# {keyword}`")
            } else {
                format!(
                    "invalid metric name `{}` in `# {keyword}`",
                    &self.src[start..word_end]
                )
            });
        }
        Ok((&self.src[start..end], end))
    }

    fn help_line<V: Visitor<'a>>(&mut self, i: usize, visitor: &mut V) -> LineResult {
        let (name, name_end) = self.descriptor_name(i, "HELP")?;
        let text_start = self.skip_blank(name_end);
        let line_end = self.next_line_start(text_start);
        let mut text_end = line_end;
        // Trailing CR/LF and blanks are line framing, not help text.
        while text_end > text_start && is_line_trailer(self.bytes[text_end - 1]) {
            text_end -= 1;
        }
        let raw = &self.src[text_start..text_end];
        let text = if raw.as_bytes().contains(&b'\\') {
            Cow::Owned(unescape_help(raw))
        } else {
            Cow::Borrowed(raw)
        };
        self.pos = line_end;
        visitor.help(name, text);
        Ok(Flow::Next)
    }

    fn type_line<V: Visitor<'a>>(&mut self, i: usize, visitor: &mut V) -> LineResult {
        let (name, name_end) = self.descriptor_name(i, "TYPE")?;
        let ty_start = self.skip_blank(name_end);
        let ty_end = self.token_end(ty_start);
        let ty_text = &self.src[ty_start..ty_end];
        if ty_text.is_empty() {
            return Err(format!("missing type in `# TYPE {name}`"));
        }
        let Some(ty) = MetricType::from_name(ty_text) else {
            return Err(format!("unknown metric type `{ty_text}` for `{name}`"));
        };
        let end = self.skip_blank(ty_end);
        if !self.end_line_at(end) {
            let word_end = self.token_end(end);
            return Err(format!(
                "unexpected `{}` after `# TYPE {name} {ty_text}`",
                &self.src[end..word_end]
            ));
        }
        visitor.metric_type(name, ty);
        Ok(Flow::Next)
    }

    /// After `# EOF` only whitespace may follow; report the first other line once.
    fn after_eof<V: Visitor<'a>>(&mut self, visitor: &mut V) {
        while self.pos < self.bytes.len() {
            self.line += 1;
            let i = self.skip_blank(self.pos);
            if self.end_line_at(i) {
                continue;
            }
            visitor.error(ParseError {
                line: self.line,
                message: "unexpected content after `# EOF`".into(),
            });
            self.pos = self.bytes.len();
        }
    }
}

fn is_line_trailer(b: u8) -> bool {
    b == b'\n' || is(b, BLANK)
}

/// HELP escapes: `\\` and `\n` (text format), plus `\"` (OpenMetrics). Other backslashes are
/// kept as written.
fn unescape_help(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}
