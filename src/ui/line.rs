//! A one-line text editor for the `/` filter and `:` command prompts: the text, a cursor,
//! readline-style edits and a bounded history of submitted lines.
//!
//! It owns only the editing operations; which key does what is decided by the caller.
//! Positions are char indices, so multi-byte text never splits; [`LineEditor::cursor_column`]
//! gives the terminal cell for wide characters. A combining mark counts as its own char
//! (there is no grapheme segmentation), which only matters for decomposed accents.

use std::collections::VecDeque;

use unicode_width::UnicodeWidthStr;

/// Longest line accepted by default: far more than any filter or command, short enough
/// that a stuck key cannot grow the line without bound.
pub const DEFAULT_MAX_CHARS: usize = 256;
/// Submitted lines remembered by default.
pub const DEFAULT_HISTORY: usize = 50;

/// The prompt's text, cursor and history.
#[derive(Debug, Clone)]
pub struct LineEditor {
    text: String,
    /// Char index: 0 is before the first char, `len` after the last.
    cursor: usize,
    len: usize,
    max_chars: usize,
    history: VecDeque<String>,
    history_cap: usize,
    /// While browsing history: the index into `history` shown, and the line that was being
    /// typed before browsing began, restored when browsing past the newest entry.
    browsing: Option<(usize, String)>,
}

impl Default for LineEditor {
    fn default() -> Self {
        Self::new()
    }
}

impl LineEditor {
    pub fn new() -> Self {
        Self::with_limits(DEFAULT_MAX_CHARS, DEFAULT_HISTORY)
    }

    /// An editor holding at most `max_chars` chars and `history` submitted lines.
    pub fn with_limits(max_chars: usize, history: usize) -> Self {
        Self {
            text: String::new(),
            cursor: 0,
            len: 0,
            max_chars,
            history: VecDeque::new(),
            history_cap: history,
            browsing: None,
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The cursor as a char index into [`text`](Self::text).
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// The cursor as a display column: the width of the text before it, counting wide
    /// (e.g. CJK) characters as two cells.
    pub fn cursor_column(&self) -> usize {
        self.text[..self.byte_at(self.cursor)].width()
    }

    /// Length in chars.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Insert `c` at the cursor. Refused (false) when the line is full or `c` is a control
    /// character — a pasted newline or escape would break the one-line prompt.
    pub fn insert(&mut self, c: char) -> bool {
        if c.is_control() || self.len >= self.max_chars {
            return false;
        }
        self.edited();
        let at = self.byte_at(self.cursor);
        self.text.insert(at, c);
        self.cursor += 1;
        self.len += 1;
        true
    }

    /// Insert as much of `s` as fits, skipping control characters (pastes). Returns the
    /// number of chars inserted.
    pub fn insert_str(&mut self, s: &str) -> usize {
        s.chars().filter(|c| self.insert(*c)).count()
    }

    /// Delete the char before the cursor.
    pub fn backspace(&mut self) -> bool {
        if self.cursor == 0 {
            return false;
        }
        self.remove_range(self.cursor - 1, self.cursor);
        true
    }

    /// Delete the char under the cursor.
    pub fn delete(&mut self) -> bool {
        if self.cursor >= self.len {
            return false;
        }
        self.remove_range(self.cursor, self.cursor + 1);
        true
    }

    pub fn left(&mut self) -> bool {
        let moved = self.cursor > 0;
        self.cursor = self.cursor.saturating_sub(1);
        moved
    }

    pub fn right(&mut self) -> bool {
        let moved = self.cursor < self.len;
        self.cursor = (self.cursor + 1).min(self.len);
        moved
    }

    pub fn home(&mut self) {
        self.cursor = 0;
    }

    pub fn end(&mut self) {
        self.cursor = self.len;
    }

    /// Move to the start of the word before the cursor (Alt-B).
    pub fn word_left(&mut self) {
        self.cursor = self.word_start_before(self.cursor);
    }

    /// Move past the end of the word after the cursor (Alt-F).
    pub fn word_right(&mut self) {
        let chars: Vec<char> = self.text.chars().collect();
        let mut i = self.cursor;
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        while i < chars.len() && !chars[i].is_whitespace() {
            i += 1;
        }
        self.cursor = i;
    }

    /// Delete the word before the cursor and the spaces after it (Ctrl-W), as readline's
    /// unix-word-rubout does: words are whitespace-separated, so `env=prod` goes at once.
    pub fn delete_word_back(&mut self) -> bool {
        let start = self.word_start_before(self.cursor);
        if start == self.cursor {
            return false;
        }
        self.remove_range(start, self.cursor);
        true
    }

    /// Delete everything before the cursor (Ctrl-U).
    pub fn clear_to_start(&mut self) -> bool {
        if self.cursor == 0 {
            return false;
        }
        self.remove_range(0, self.cursor);
        true
    }

    /// Delete everything from the cursor on (Ctrl-K).
    pub fn clear_to_end(&mut self) -> bool {
        if self.cursor >= self.len {
            return false;
        }
        self.remove_range(self.cursor, self.len);
        true
    }

    /// Replace the text (truncated to the limit, control characters dropped) and put the
    /// cursor at its end.
    pub fn set(&mut self, text: &str) {
        self.browsing = None;
        self.replace(text);
    }

    /// Empty the line; history is kept.
    pub fn clear(&mut self) {
        self.set("");
    }

    /// Remember a submitted line. Blank lines and a repeat of the newest entry are not
    /// stored; the oldest entry goes when the history is full. Ends history browsing.
    pub fn push_history(&mut self, line: &str) {
        self.browsing = None;
        let line = line.trim();
        if line.is_empty()
            || self.history_cap == 0
            || self.history.back().is_some_and(|l| l == line)
        {
            return;
        }
        if self.history.len() >= self.history_cap {
            self.history.pop_front();
        }
        self.history.push_back(line.to_owned());
    }

    /// Show the previous (older) history entry. The line being typed is kept and comes back
    /// after the newest entry. False when there is nothing older.
    pub fn history_prev(&mut self) -> bool {
        let index = match &self.browsing {
            None if self.history.is_empty() => return false,
            None => {
                let draft = self.text.clone();
                let index = self.history.len() - 1;
                self.browsing = Some((index, draft));
                index
            }
            Some((0, _)) => return false,
            Some((index, draft)) => {
                let index = index - 1;
                self.browsing = Some((index, draft.clone()));
                index
            }
        };
        self.show_history(index);
        true
    }

    /// Show the next (newer) history entry, or the line typed before browsing once past the
    /// newest. False when not browsing.
    pub fn history_next(&mut self) -> bool {
        let Some((index, draft)) = self.browsing.take() else {
            return false;
        };
        if index + 1 < self.history.len() {
            self.browsing = Some((index + 1, draft));
            self.show_history(index + 1);
        } else {
            self.replace(&draft);
        }
        true
    }

    /// Submitted lines, oldest first.
    pub fn history(&self) -> impl ExactSizeIterator<Item = &str> + DoubleEndedIterator {
        self.history.iter().map(String::as_str)
    }

    fn show_history(&mut self, index: usize) {
        let entry = self.history.get(index).cloned().unwrap_or_default();
        self.replace(&entry);
    }

    /// Set the text without touching history browsing.
    fn replace(&mut self, text: &str) {
        self.text.clear();
        self.len = 0;
        for c in text
            .chars()
            .filter(|c| !c.is_control())
            .take(self.max_chars)
        {
            self.text.push(c);
            self.len += 1;
        }
        self.cursor = self.len;
    }

    /// An edit turns a recalled entry into a new line: the next `history_prev` starts again
    /// from the newest entry, with this line as the draft.
    fn edited(&mut self) {
        self.browsing = None;
    }

    fn remove_range(&mut self, from: usize, to: usize) {
        self.edited();
        let (a, b) = (self.byte_at(from), self.byte_at(to));
        self.text.replace_range(a..b, "");
        self.len -= to - from;
        self.cursor = from;
    }

    fn byte_at(&self, char_index: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_index)
            .map_or(self.text.len(), |(i, _)| i)
    }

    fn word_start_before(&self, cursor: usize) -> usize {
        let chars: Vec<char> = self.text.chars().take(cursor).collect();
        let mut i = chars.len();
        while i > 0 && chars[i - 1].is_whitespace() {
            i -= 1;
        }
        while i > 0 && !chars[i - 1].is_whitespace() {
            i -= 1;
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Render text with `|` at the cursor.
    fn shown(e: &LineEditor) -> String {
        let mut s: String = e.text().chars().take(e.cursor()).collect();
        s.push('|');
        s.extend(e.text().chars().skip(e.cursor()));
        s
    }

    #[derive(Debug, Clone, Copy)]
    enum Op {
        Insert(char),
        Str(&'static str),
        Backspace,
        Delete,
        Left,
        Right,
        Home,
        End,
        WordLeft,
        WordRight,
        WordBack,
        ToStart,
        ToEnd,
        Set(&'static str),
    }

    fn run(start: &str, ops: &[Op]) -> String {
        let mut e = LineEditor::new();
        e.set(start);
        for op in ops {
            match *op {
                Op::Insert(c) => {
                    e.insert(c);
                }
                Op::Str(s) => {
                    e.insert_str(s);
                }
                Op::Backspace => {
                    e.backspace();
                }
                Op::Delete => {
                    e.delete();
                }
                Op::Left => {
                    e.left();
                }
                Op::Right => {
                    e.right();
                }
                Op::Home => e.home(),
                Op::End => e.end(),
                Op::WordLeft => e.word_left(),
                Op::WordRight => e.word_right(),
                Op::WordBack => {
                    e.delete_word_back();
                }
                Op::ToStart => {
                    e.clear_to_start();
                }
                Op::ToEnd => {
                    e.clear_to_end();
                }
                Op::Set(s) => e.set(s),
            }
            assert_eq!(e.len(), e.text().chars().count(), "{start:?} {ops:?}");
        }
        shown(&e)
    }

    #[test]
    fn edits_move_and_change_text_by_char() {
        use Op::*;
        let cases: &[(&str, &[Op], &str)] = &[
            ("", &[Insert('a'), Insert('b')], "ab|"),
            ("", &[Backspace, Delete, Left, Right], "|"),
            ("abc", &[Left, Insert('X')], "abX|c"),
            ("abc", &[Home, Insert('X')], "X|abc"),
            ("abc", &[Home, Delete], "|bc"),
            ("abc", &[Backspace], "ab|"),
            ("abc", &[Delete], "abc|"),
            ("abc", &[Home, Backspace], "|abc"),
            ("abc", &[Home, Left, Right, Right, Right, Right], "abc|"),
            ("abc", &[Home, End], "abc|"),
            // Unicode: one step per char, whatever its byte length.
            ("né東🦀", &[Left, Left, Insert('x')], "néx|東🦀"),
            ("né東🦀", &[Backspace, Backspace], "né|"),
            ("né東🦀", &[Home, Right, Delete], "n|東🦀"),
            ("🦀🦀", &[Left, Insert('é')], "🦀é|🦀"),
            // Ctrl-W: whitespace-separated words, trailing spaces go with them.
            ("sev<=2 env=prod", &[WordBack], "sev<=2 |"),
            ("sev<=2 env=prod  ", &[WordBack], "sev<=2 |"),
            ("sev<=2 env=prod", &[WordBack, WordBack], "|"),
            ("sev<=2 env=prod", &[WordLeft, WordBack], "|env=prod"),
            ("  ", &[WordBack], "|"),
            ("", &[WordBack], "|"),
            ("東京 大阪", &[WordBack], "東京 |"),
            // Ctrl-U / Ctrl-K
            ("abc def", &[Left, Left, ToStart], "|ef"),
            ("abc def", &[ToStart], "|"),
            ("abc def", &[Home, ToStart], "|abc def"),
            ("abc def", &[Home, Right, ToEnd], "a|"),
            // word motion
            ("ab cd  ef", &[WordLeft], "ab cd  |ef"),
            ("ab cd  ef", &[WordLeft, WordLeft], "ab |cd  ef"),
            ("ab cd  ef", &[Home, WordRight], "ab| cd  ef"),
            ("ab cd  ef", &[Home, WordRight, WordRight], "ab cd|  ef"),
            // set replaces and moves to the end; control characters never enter
            ("abc", &[Set("xy")], "xy|"),
            ("", &[Set("a\nb\tc")], "abc|"),
            ("", &[Insert('\n'), Insert('\u{1b}'), Insert('x')], "x|"),
            ("", &[Str("env=prod\n")], "env=prod|"),
        ];
        for (start, ops, expected) in cases {
            assert_eq!(run(start, ops), *expected, "{start:?} {ops:?}");
        }
    }

    #[test]
    fn length_is_capped() {
        let mut e = LineEditor::with_limits(4, 10);
        assert_eq!(e.insert_str("東京abcdef"), 4);
        assert_eq!(e.text(), "東京ab");
        assert!(!e.insert('x'));
        e.set("123456789");
        assert_eq!(e.text(), "1234");
        let mut e = LineEditor::new();
        for _ in 0..10_000 {
            e.insert('x');
        }
        assert_eq!(e.len(), DEFAULT_MAX_CHARS);
    }

    #[test]
    fn cursor_column_counts_cells() {
        let mut e = LineEditor::new();
        e.set("東京ab");
        assert_eq!((e.cursor(), e.cursor_column()), (4, 6));
        e.left();
        e.left();
        assert_eq!((e.cursor(), e.cursor_column()), (2, 4));
    }

    #[test]
    fn history_browses_and_restores_the_draft() {
        let mut e = LineEditor::with_limits(256, 3);
        assert!(!e.history_prev());
        for line in ["one", "two", "two", "  ", "three", "four"] {
            e.push_history(line);
        }
        // Duplicate of the newest and blank lines are skipped; the oldest fell off.
        assert_eq!(e.history().collect::<Vec<_>>(), ["two", "three", "four"]);

        e.set("draft");
        assert!(!e.history_next());
        assert!(e.history_prev());
        assert_eq!(shown(&e), "four|");
        assert!(e.history_prev());
        assert!(e.history_prev());
        assert_eq!(e.text(), "two");
        assert!(!e.history_prev());
        assert_eq!(e.text(), "two");
        assert!(e.history_next());
        assert_eq!(e.text(), "three");
        assert!(e.history_next());
        assert!(e.history_next());
        assert_eq!(shown(&e), "draft|");
        assert!(!e.history_next());

        // Editing a recalled line makes it the new draft.
        e.history_prev();
        e.insert('!');
        assert_eq!(e.text(), "four!");
        assert!(e.history_prev());
        assert_eq!(e.text(), "four");
        e.history_next();
        assert_eq!(e.text(), "four!");
    }

    #[test]
    fn zero_history_remembers_nothing() {
        let mut e = LineEditor::with_limits(10, 0);
        e.push_history("x");
        assert!(!e.history_prev());
    }
}
