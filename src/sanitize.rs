//! The one sanitizer for every string that came from the network.
//!
//! Metric labels, alert labels and annotations, health-check bodies and runbook output all
//! pass through [`clean`] before they are stored, so nothing remote can move the cursor,
//! recolour the screen, set the window title, write the clipboard (OSC 52), plant a link
//! (OSC 8), reorder text (bidi overrides) or hide characters (zero-width). ratatui alone
//! drops only the ESC byte and leaves `[0;36m` visible, so escape sequences are removed
//! whole here.

use std::borrow::Cow;

/// Longest string (in chars) kept by [`clean`]; longer ones end with `…`.
pub const DEFAULT_MAX_CHARS: usize = 1024;

/// What a newline (LF, CR, CRLF, or U+2028/2029) is shown as.
pub const NEWLINE_MARK: char = '⏎';

/// Sanitize with the default length cap.
pub fn clean(s: &str) -> Cow<'_, str> {
    clean_with_limit(s, DEFAULT_MAX_CHARS)
}

/// Sanitize, keeping at most `max_chars` characters (the last of them `…` if cut).
///
/// Printable ASCII within the cap is returned borrowed: the common case costs one scan.
pub fn clean_with_limit(s: &str, max_chars: usize) -> Cow<'_, str> {
    if s.len() <= max_chars && s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len().min(max_chars * 4));
    let mut kept = 0usize;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let mapped = match c {
            '\u{1b}' => {
                skip_escape(&mut chars);
                continue;
            }
            // 8-bit CSI / OSC / DCS / SOS / PM / APC introducers.
            '\u{9b}' => {
                skip_csi_body(&mut chars);
                continue;
            }
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => {
                skip_string_body(&mut chars);
                continue;
            }
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                NEWLINE_MARK
            }
            '\n' | '\u{2028}' | '\u{2029}' => NEWLINE_MARK,
            '\t' => ' ',
            c if is_dropped(c) => continue,
            c => c,
        };
        if kept + 1 >= max_chars && chars.peek().is_some() {
            out.push('…');
            return Cow::Owned(out);
        }
        out.push(mapped);
        kept += 1;
    }
    Cow::Owned(out)
}

/// True when `s` would come out of [`clean`] unchanged.
pub fn is_clean(s: &str) -> bool {
    matches!(clean(s), Cow::Borrowed(_)) || clean(s) == s
}

/// Controls, DEL, bidi controls and zero-width characters: removed without a trace.
fn is_dropped(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        // bidi: LRM, RLM, ALM, embeddings/overrides, isolates
        | '\u{200e}' | '\u{200f}' | '\u{061c}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        // zero-width and invisible formatting
        | '\u{200b}'..='\u{200d}'
        | '\u{2060}'..='\u{2064}'
        | '\u{feff}'
        | '\u{180e}'
        | '\u{00ad}'
        // interlinear annotation, object replacement helpers
        | '\u{fff9}'..='\u{fffb}')
}

/// After ESC: swallow the rest of the sequence, whatever its kind.
fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => skip_csi_body(chars),
        Some(']' | 'P' | 'X' | '^' | '_') => skip_string_body(chars),
        // nF sequences: intermediates 0x20–0x2F then one final byte.
        Some(c) if ('\u{20}'..='\u{2f}').contains(&c) => {
            while let Some(&n) = chars.peek() {
                chars.next();
                if !('\u{20}'..='\u{2f}').contains(&n) {
                    break;
                }
            }
        }
        // Two-character sequences (ESC 7, ESC c, ESC =, …): the one char is gone already.
        _ => {}
    }
}

/// CSI: parameter bytes 0x30–0x3F, intermediates 0x20–0x2F, one final byte 0x40–0x7E.
fn skip_csi_body(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            return;
        }
        if !('\u{20}'..='\u{3f}').contains(&c) {
            // Malformed: stop at the first byte that cannot be part of a CSI.
            return;
        }
    }
}

/// OSC / DCS / SOS / PM / APC: everything up to BEL, ST (ESC \) or 8-bit ST (U+009C).
fn skip_string_body(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&str, &str)] = &[
            ("plain", "plain"),
            ("\u{1b}[0;36mcyan\u{1b}[0m", "cyan"),
            ("a\u{1b}[2J\u{1b}[Hb", "ab"),
            ("\u{1b}]0;pwned title\u{7}ok", "ok"),
            ("\u{1b}]52;c;ZXZpbA==\u{1b}\\x", "x"),
            (
                "\u{1b}]8;;http://evil\u{1b}\\link\u{1b}]8;;\u{1b}\\",
                "link",
            ),
            ("abc\rXYZ", "abc⏎XYZ"),
            ("line1\nline2\r\n", "line1⏎line2⏎"),
            ("user\u{202e}gnp.exe", "usergnp.exe"),
            ("zero\u{200b}\u{200d}width", "zerowidth"),
            ("tab\there", "tab here"),
            ("del\u{7f}bell\u{7}", "delbell"),
            ("c1\u{9b}31mred", "c1red"),
            ("ümlaut ✓ 한국어", "ümlaut ✓ 한국어"),
        ];
        for (input, want) in cases {
            assert_eq!(clean(input), *want, "input {input:?}");
        }
    }

    #[test]
    fn caps_length() {
        let long = "x".repeat(50);
        let out = clean_with_limit(&long, 10);
        assert_eq!(out.chars().count(), 10);
        assert!(out.ends_with('…'));
        assert_eq!(clean_with_limit("short", 10), "short");
        assert_eq!(clean_with_limit("exactly10!", 10), "exactly10!");
    }

    #[test]
    fn never_leaves_a_control() {
        let nasty = "\u{1b}[\u{1b}]\u{1b}P\u{9d}\u{0}\u{1}\u{1b}";
        assert!(clean(nasty).chars().all(|c| !c.is_control()));
        assert!(is_clean("fine"));
        assert!(!is_clean("\u{1b}[1m"));
    }
}
