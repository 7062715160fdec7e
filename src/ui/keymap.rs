//! The keymap: which key asks for which [`Action`], as data.
//!
//! Owns the key notation (`q`, `G`, `Ctrl-l`, `Shift-Tab`, `F1` — parsed and printed by
//! [`Key`]), the normalisation of crossterm key events into that notation
//! ([`Key::from_event`]), the built-in keymap (`config/keymap.toml`, embedded), the user
//! overlay on top of it, and every rule a keymap must obey. A keymap that breaks a rule is
//! refused with a [`KeymapError`] naming `file:line:column`; nothing falls back silently,
//! because a key that quietly does something else is worse at 3 a.m. than a refusal to
//! start.
//!
//! Rules, checked after the user file is laid over the defaults:
//! * one key, one action — a clash names both bindings and where each came from;
//! * no binding to keys another layer takes first: `Ctrl-b`/`Ctrl-a` (tmux and screen
//!   prefixes), `Ctrl-z` (shell suspend), `Ctrl-s`/`Ctrl-q` (XOFF/XON flow control);
//! * no consequential action ([`Action::is_consequential`]) on a single Ctrl chord.
//!
//! `quit` and `back` are ordinary actions here and may not share a key like any other two;
//! "`q` on a popup closes the popup" is the App's business, not the keymap's.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::str::FromStr;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::action::Action;

/// The built-in keymap, as shipped in `config/keymap.toml`. Also the reference a user copies
/// lines from.
pub const DEFAULT_KEYMAP: &str = include_str!("../../config/keymap.toml");

/// How the built-in keymap is named in errors and in clash messages.
pub const DEFAULT_ORIGIN: &str = "default keymap";

/// The key notation accepts these names (case-insensitive); listed in errors.
const KEY_NAMES: &str = "Enter, Esc, Tab, Shift-Tab, Backspace, Space, Up, Down, Left, Right, \
                         Home, End, PgUp, PgDn, Insert, Delete, F1 … F12";

// ----- keys ----------------------------------------------------------------------------------

/// The key itself, without modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    /// A printable character; `' '` is written `Space`.
    Char(char),
    Enter,
    Esc,
    Tab,
    /// Shift-Tab. Kept as its own code because crossterm reports it so, with or without
    /// the SHIFT modifier depending on the terminal.
    BackTab,
    Backspace,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
    Insert,
    Delete,
    /// F1 … F12.
    F(u8),
}

/// A key as the keymap sees it: a code and modifiers, always in normal form, so two
/// spellings of the same keypress compare (and hash) equal:
/// * a character never carries Shift: Shift on a letter is folded into the uppercase letter,
///   and on anything else it is dropped (it is already in the character);
/// * with Ctrl a letter is lowercase, because terminals send the same byte for `Ctrl-l`
///   and `Ctrl-Shift-l`;
/// * Shift-Tab is [`Code::BackTab`] without Shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    code: Code,
    ctrl: bool,
    alt: bool,
    /// Only ever set on named keys (`Shift-Up`), see the normal form above.
    shift: bool,
}

impl Key {
    fn normalised(code: Code, ctrl: bool, alt: bool, shift: bool) -> Key {
        let (code, shift) = match code {
            Code::Char(c) => {
                let c = if shift { c.to_ascii_uppercase() } else { c };
                let c = if ctrl { c.to_ascii_lowercase() } else { c };
                (Code::Char(c), false)
            }
            Code::Tab if shift => (Code::BackTab, false),
            Code::BackTab => (Code::BackTab, false),
            other => (other, shift),
        };
        Key {
            code,
            ctrl,
            alt,
            shift,
        }
    }

    /// Parse key notation; the same as `text.parse::<Key>()`.
    pub fn parse(text: &str) -> Result<Key, KeyParseError> {
        text.parse()
    }

    /// The key a terminal event stands for, or `None` for events the keymap never binds:
    /// releases, keys outside the notation (media keys, F13+, lone modifiers), and chords
    /// with Super/Hyper/Meta.
    ///
    /// Terminals disagree on how they report Shift: some send `Char('G')` with SHIFT, some
    /// without, some send `Char('?')` with SHIFT; Shift-Tab arrives as `BackTab`, with or
    /// without SHIFT. All of these are normalised, so `G` matches however it was typed.
    pub fn from_event(event: &KeyEvent) -> Option<Key> {
        if !matches!(event.kind, KeyEventKind::Press | KeyEventKind::Repeat) {
            return None;
        }
        let m = event.modifiers;
        if m.intersects(KeyModifiers::SUPER | KeyModifiers::HYPER | KeyModifiers::META) {
            return None;
        }
        let code = match event.code {
            KeyCode::Char(c) if c.is_control() => return None,
            KeyCode::Char(c) => Code::Char(c),
            KeyCode::Enter => Code::Enter,
            KeyCode::Esc => Code::Esc,
            KeyCode::Tab => Code::Tab,
            KeyCode::BackTab => Code::BackTab,
            KeyCode::Backspace => Code::Backspace,
            KeyCode::Up => Code::Up,
            KeyCode::Down => Code::Down,
            KeyCode::Left => Code::Left,
            KeyCode::Right => Code::Right,
            KeyCode::Home => Code::Home,
            KeyCode::End => Code::End,
            KeyCode::PageUp => Code::PageUp,
            KeyCode::PageDown => Code::PageDown,
            KeyCode::Insert => Code::Insert,
            KeyCode::Delete => Code::Delete,
            KeyCode::F(n @ 1..=12) => Code::F(n),
            _ => return None,
        };
        Some(Key::normalised(
            code,
            m.contains(KeyModifiers::CONTROL),
            m.contains(KeyModifiers::ALT),
            m.contains(KeyModifiers::SHIFT),
        ))
    }

    pub fn code(&self) -> Code {
        self.code
    }

    /// The modifiers in normal form: CONTROL, ALT, and SHIFT only on named keys.
    pub fn modifiers(&self) -> KeyModifiers {
        let mut m = KeyModifiers::NONE;
        m.set(KeyModifiers::CONTROL, self.ctrl);
        m.set(KeyModifiers::ALT, self.alt);
        m.set(KeyModifiers::SHIFT, self.shift);
        m
    }

    /// Ctrl without Alt: one finger held plus one key, the kind of chord a slipped finger
    /// (or a multiplexer prefix typed into the wrong pane) fires. Ctrl-Alt chords take
    /// intent, so they are not counted.
    fn is_single_ctrl_chord(&self) -> bool {
        self.ctrl && !self.alt
    }

    /// `Ctrl-<letter>` with no other modifier: the chords multiplexers and the tty claim.
    fn ctrl_letter(&self) -> Option<char> {
        match self.code {
            Code::Char(c) if self.ctrl && !self.alt && c.is_ascii_lowercase() => Some(c),
            _ => None,
        }
    }

    /// Why this key may not be bound at all: the tool that takes it before watchdeck can.
    pub(crate) fn reserved_by(&self) -> Option<&'static str> {
        Some(match self.ctrl_letter()? {
            'b' => "it is tmux's prefix key, so inside tmux it never reaches watchdeck",
            'a' => {
                "it is GNU screen's prefix key (and a common tmux prefix), so inside them it \
                 never reaches watchdeck"
            }
            'z' => {
                "it is the shell's job-control suspend key; pressed by reflex it should not \
                 do something else"
            }
            's' => {
                "it is XOFF (terminal flow control), and terminals or ssh hops with flow \
                 control on freeze the screen on it"
            }
            'q' => {
                "it is XON (terminal flow control), which terminals with flow control on swallow"
            }
            _ => return None,
        })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        if self.alt {
            f.write_str("Alt-")?;
        }
        if self.shift {
            f.write_str("Shift-")?;
        }
        match self.code {
            Code::Char(' ') => f.write_str("Space"),
            Code::Char(c) => write!(f, "{c}"),
            Code::Enter => f.write_str("Enter"),
            Code::Esc => f.write_str("Esc"),
            Code::Tab => f.write_str("Tab"),
            Code::BackTab => f.write_str("Shift-Tab"),
            Code::Backspace => f.write_str("Backspace"),
            Code::Up => f.write_str("Up"),
            Code::Down => f.write_str("Down"),
            Code::Left => f.write_str("Left"),
            Code::Right => f.write_str("Right"),
            Code::Home => f.write_str("Home"),
            Code::End => f.write_str("End"),
            Code::PageUp => f.write_str("PgUp"),
            Code::PageDown => f.write_str("PgDn"),
            Code::Insert => f.write_str("Insert"),
            Code::Delete => f.write_str("Delete"),
            Code::F(n) => write!(f, "F{n}"),
        }
    }
}

/// Key notation that does not parse, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{notation}` is not a key: {reason}")]
pub struct KeyParseError {
    pub notation: String,
    pub reason: String,
}

impl FromStr for Key {
    type Err = KeyParseError;

    fn from_str(text: &str) -> Result<Key, KeyParseError> {
        let fail = |reason: String| KeyParseError {
            notation: text.to_owned(),
            reason,
        };
        if text.is_empty() {
            return Err(fail(
                "empty; to unbind an action write `action = []`".into(),
            ));
        }
        let (mut ctrl, mut alt, mut shift) = (false, false, false);
        let mut rest = text;
        // A single character left over is the key itself, even `-` (so `Ctrl--` works).
        while rest.chars().nth(1).is_some() {
            let Some((word, tail)) = rest.split_once('-') else {
                break;
            };
            let flag = if word.eq_ignore_ascii_case("ctrl") {
                &mut ctrl
            } else if word.eq_ignore_ascii_case("alt") {
                &mut alt
            } else if word.eq_ignore_ascii_case("shift") {
                &mut shift
            } else {
                break;
            };
            if *flag {
                return Err(fail(format!("`{word}-` is given twice")));
            }
            if tail.is_empty() {
                return Err(fail(format!(
                    "`{word}-` needs a key after it, e.g. `{word}-x`"
                )));
            }
            *flag = true;
            rest = tail;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_control() => {
                return Err(fail(format!(
                    "a control character; write a key name instead: {KEY_NAMES}"
                )));
            }
            (Some(c), None) => Code::Char(c),
            _ => named_code(rest).ok_or_else(|| {
                let what = if rest == text {
                    String::new()
                } else {
                    format!("`{rest}` is not a key name; ")
                };
                fail(format!(
                    "{what}write one character (`q`, `?`, `G`) or a key name: {KEY_NAMES}; \
                     modifiers are Ctrl-, Alt- and Shift-"
                ))
            })?,
        };
        if shift
            && let Code::Char(c) = code
            && !c.is_ascii_alphabetic()
        {
            // Which character Shift-1 types depends on the keyboard layout; guessing would
            // bind a key the user did not mean.
            let plain = Key::normalised(code, false, false, false);
            return Err(fail(format!(
                "Shift- only combines with letters and named keys; write the character \
                 Shift-{plain} types on your keyboard instead (e.g. `?` rather than `Shift-/`)"
            )));
        }
        Ok(Key::normalised(code, ctrl, alt, shift))
    }
}

fn named_code(name: &str) -> Option<Code> {
    let lower = name.to_ascii_lowercase();
    Some(match lower.as_str() {
        "enter" | "return" => Code::Enter,
        "esc" | "escape" => Code::Esc,
        "tab" => Code::Tab,
        "backtab" => Code::BackTab,
        "backspace" => Code::Backspace,
        "space" => Code::Char(' '),
        "up" => Code::Up,
        "down" => Code::Down,
        "left" => Code::Left,
        "right" => Code::Right,
        "home" => Code::Home,
        "end" => Code::End,
        "pgup" | "pageup" => Code::PageUp,
        "pgdn" | "pagedown" => Code::PageDown,
        "insert" => Code::Insert,
        "delete" => Code::Delete,
        _ => {
            let n: u8 = lower.strip_prefix('f')?.parse().ok()?;
            if !(1..=12).contains(&n) {
                return None;
            }
            Code::F(n)
        }
    })
}

// ----- errors --------------------------------------------------------------------------------

/// A place in a keymap file: 1-based line and column (columns count characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file's path as given to [`Keymap::load`], or [`DEFAULT_ORIGIN`].
    pub origin: String,
    pub line: usize,
    pub column: usize,
}

impl Location {
    fn at(origin: &str, text: &str, offset: usize) -> Location {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Location {
            origin: origin.to_owned(),
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }

    /// Short form for naming the other side of a clash: `keymap.toml:3`, or
    /// `default keymap` (its line would send the reader to a file they do not have).
    fn short(&self) -> String {
        if self.origin == DEFAULT_ORIGIN {
            return DEFAULT_ORIGIN.to_owned();
        }
        let name = Path::new(&self.origin)
            .file_name()
            .map_or(self.origin.as_str(), |n| n.to_str().unwrap_or(&self.origin));
        format!("{name}:{}", self.line)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.origin, self.line, self.column)
    }
}

/// Why a keymap was refused. Every variant names where, so the message alone is enough to
/// fix the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeymapError {
    #[error("keymap {at}: TOML syntax error: {message}")]
    Syntax { at: Location, message: String },
    /// A key outside `[keys]`, or `keys` that is not a table.
    #[error("keymap {at}: {message}")]
    UnknownKey { at: Location, message: String },
    #[error("keymap {at}: unknown action `{name}`{hint}")]
    UnknownAction {
        at: Location,
        name: String,
        /// A near miss ("; did you mean …?") or the list of actions.
        hint: String,
    },
    /// A binding that is neither a string nor a list of strings.
    #[error(
        "keymap {at}: `{name}` must be a key or a list of keys, like {name} = \"x\" or \
         {name} = [\"x\", \"Ctrl-x\"]; found {found}",
        name = .action.name()
    )]
    WrongType {
        at: Location,
        action: Action,
        found: &'static str,
    },
    #[error("keymap {at}: bad key for `{}`: {source}", .action.name())]
    BadKey {
        at: Location,
        action: Action,
        source: KeyParseError,
    },
    /// Two actions on one key; `at` is the later binding, `there` the earlier.
    #[error(
        "keymap {at}: key `{key}` is bound to both `{}` ({}) and `{other_name}` ({}); give \
         one of them another key, or unbind it with `{other_name} = []`",
        .action.name(), .at.short(), .there.short(), other_name = .other.name()
    )]
    Clash {
        at: Location,
        key: Key,
        action: Action,
        other: Action,
        there: Location,
    },
    #[error(
        "keymap {at}: key `{key}` is listed twice for `{}` (also at {first}); different \
         spellings of one key, like `Ctrl-L` and `ctrl-l`, are the same key",
        .action.name()
    )]
    Repeated {
        at: Location,
        key: Key,
        action: Action,
        first: Location,
    },
    /// A key another layer (multiplexer, shell, tty) takes before watchdeck could.
    #[error(
        "keymap {at}: key `{key}` cannot be bound (to `{}`): {why}; choose another key",
        .action.name()
    )]
    Reserved {
        at: Location,
        key: Key,
        action: Action,
        why: &'static str,
    },
    #[error(
        "keymap {at}: `{}` may not be bound to `{key}`: it has effects beyond this console \
         that others see, and a single Ctrl chord is too easy to fire by accident (a slipped \
         finger, a multiplexer prefix); bind it to a plain key or an Alt- chord",
        .action.name()
    )]
    ConsequentialOnCtrl {
        at: Location,
        key: Key,
        action: Action,
    },
}

impl KeymapError {
    /// Where the error is.
    pub fn location(&self) -> &Location {
        match self {
            KeymapError::Syntax { at, .. }
            | KeymapError::UnknownKey { at, .. }
            | KeymapError::UnknownAction { at, .. }
            | KeymapError::WrongType { at, .. }
            | KeymapError::BadKey { at, .. }
            | KeymapError::Clash { at, .. }
            | KeymapError::Repeated { at, .. }
            | KeymapError::Reserved { at, .. }
            | KeymapError::ConsequentialOnCtrl { at, .. } => at,
        }
    }
}

// ----- the keymap ----------------------------------------------------------------------------

/// One action's keys as written in one file, each with where it was written.
struct Entry {
    action: Action,
    keys: Vec<(Key, Location)>,
}

/// Key → action and action → keys, built once at start-up.
#[derive(Debug, Clone)]
pub struct Keymap {
    by_key: HashMap<Key, Action>,
    by_action: HashMap<Action, Vec<Key>>,
}

impl Keymap {
    /// The built-in keymap with the user's file, if any, laid over it. `user` is the file's
    /// text and its path (used only in messages).
    ///
    /// Each action the user file names replaces that action's default keys; `""` or `[]`
    /// unbinds it. The result must then pass every rule in the module header.
    pub fn load(user: Option<(&str, &str)>) -> Result<Keymap, KeymapError> {
        let defaults = parse_file(DEFAULT_KEYMAP, DEFAULT_ORIGIN)?;
        let overlay = match user {
            Some((text, origin)) => parse_file(text, origin)?,
            None => Vec::new(),
        };
        // Defaults first, then the user's file in file order: a clash is reported at the
        // later binding, which is the user's line whenever the user is involved.
        let mut entries: Vec<Entry> = defaults
            .into_iter()
            .filter(|d| overlay.iter().all(|u| u.action != d.action))
            .collect();
        entries.extend(overlay);

        let mut seen: HashMap<Key, (Action, Location)> = HashMap::new();
        let mut by_action: HashMap<Action, Vec<Key>> = HashMap::new();
        for entry in &entries {
            let list = by_action.entry(entry.action).or_default();
            for (key, at) in &entry.keys {
                if let Some((other, there)) = seen.get(key) {
                    return Err(if *other == entry.action {
                        KeymapError::Repeated {
                            at: at.clone(),
                            key: *key,
                            action: entry.action,
                            first: there.clone(),
                        }
                    } else {
                        KeymapError::Clash {
                            at: at.clone(),
                            key: *key,
                            action: entry.action,
                            other: *other,
                            there: there.clone(),
                        }
                    });
                }
                seen.insert(*key, (entry.action, at.clone()));
                list.push(*key);
            }
        }
        let by_key = seen.into_iter().map(|(k, (a, _))| (k, a)).collect();
        Ok(Keymap { by_key, by_action })
    }

    /// The built-in keymap alone.
    pub fn builtin() -> Keymap {
        // Provably fine: the embedded default is a constant that
        // `default_keymap_passes_every_rule_and_binds_every_action` loads through this same
        // path; a failure would be a broken build, caught by that test.
        #[allow(clippy::expect_used)]
        Keymap::load(None).expect("the embedded default keymap is valid")
    }

    /// The action a key is bound to.
    pub fn action(&self, key: &Key) -> Option<Action> {
        self.by_key.get(key).copied()
    }

    /// The action a terminal key event asks for: [`Key::from_event`], then [`Self::action`].
    pub fn action_for_event(&self, event: &KeyEvent) -> Option<Action> {
        self.action(&Key::from_event(event)?)
    }

    /// An action's keys in the order its file lists them; empty if unbound.
    pub fn keys_for(&self, action: Action) -> &[Key] {
        self.by_action.get(&action).map_or(&[], Vec::as_slice)
    }

    /// The notation of an action's first key, for footer hints.
    pub fn hint(&self, action: Action) -> Option<String> {
        self.keys_for(action).first().map(Key::to_string)
    }

    /// One row per action in [`Action::all`] order: its keys joined by `" / "` (empty if
    /// unbound, so the help screen can say so), the action, and its description.
    pub fn help_rows(&self) -> Vec<(String, Action, String)> {
        Action::all()
            .into_iter()
            .map(|action| {
                let keys = self
                    .keys_for(action)
                    .iter()
                    .map(Key::to_string)
                    .collect::<Vec<_>>()
                    .join(" / ");
                (keys, action, action.describe())
            })
            .collect()
    }
}

// ----- reading a keymap file -----------------------------------------------------------------

/// Parse one keymap file into its entries, in file order, checking everything that can be
/// checked for a single binding (notation, reserved keys, consequential actions).
fn parse_file(text: &str, origin: &str) -> Result<Vec<Entry>, KeymapError> {
    let at = |span: Range<usize>| Location::at(origin, text, span.start);
    let doc = DeTable::parse(text).map_err(|e| KeymapError::Syntax {
        at: at(e.span().unwrap_or(0..0)),
        message: e.message().trim_end().to_owned(),
    })?;

    let mut entries = Vec::new();
    for (name, value) in in_file_order(doc.get_ref()) {
        if name.get_ref() != "keys" {
            let hint = if Action::from_name(name.get_ref()).is_some() {
                "; bindings go under a [keys] line"
            } else {
                "; the keymap file has a single [keys] table"
            };
            return Err(KeymapError::UnknownKey {
                at: at(name.span()),
                message: format!("unknown key `{}` at the top level{hint}", name.get_ref()),
            });
        }
        let DeValue::Table(keys) = value.get_ref() else {
            return Err(KeymapError::UnknownKey {
                at: at(value.span()),
                message: format!(
                    "`keys` must be a table ([keys]); found {}",
                    value.get_ref().type_str()
                ),
            });
        };
        for (name, value) in in_file_order(keys) {
            entries.push(parse_entry(name, value, &at)?);
        }
    }
    Ok(entries)
}

fn parse_entry(
    name: &Spanned<std::borrow::Cow<'_, str>>,
    value: &Spanned<DeValue<'_>>,
    at: &impl Fn(Range<usize>) -> Location,
) -> Result<Entry, KeymapError> {
    let action = Action::from_name(name.get_ref()).ok_or_else(|| KeymapError::UnknownAction {
        at: at(name.span()),
        name: name.get_ref().to_string(),
        hint: action_hint(name.get_ref()),
    })?;
    let wrong_type = |found: &DeValue<'_>, span| KeymapError::WrongType {
        at: at(span),
        action,
        found: found.type_str(),
    };
    let written: Vec<(&str, Range<usize>)> = match value.get_ref() {
        DeValue::String(s) if s.is_empty() => Vec::new(),
        DeValue::String(s) => vec![(s.as_ref(), value.span())],
        DeValue::Array(items) => items
            .iter()
            .map(|item| match item.get_ref() {
                DeValue::String(s) => Ok((s.as_ref(), item.span())),
                other => Err(wrong_type(other, item.span())),
            })
            .collect::<Result<_, _>>()?,
        other => return Err(wrong_type(other, value.span())),
    };
    let mut keys = Vec::with_capacity(written.len());
    for (text, span) in written {
        let here = at(span);
        let key = Key::parse(text).map_err(|source| KeymapError::BadKey {
            at: here.clone(),
            action,
            source,
        })?;
        if let Some(why) = key.reserved_by() {
            return Err(KeymapError::Reserved {
                at: here,
                key,
                action,
                why,
            });
        }
        if action.is_consequential() && key.is_single_ctrl_chord() {
            return Err(KeymapError::ConsequentialOnCtrl {
                at: here,
                key,
                action,
            });
        }
        keys.push((key, here));
    }
    Ok(Entry { action, keys })
}

/// TOML tables iterate in key order; errors and clashes should follow the file instead.
fn in_file_order<'a, 'i>(
    table: &'a DeTable<'i>,
) -> Vec<(
    &'a Spanned<std::borrow::Cow<'i, str>>,
    &'a Spanned<DeValue<'i>>,
)> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
}

/// "; did you mean `quit`?" for a near miss, else the list of names.
fn action_hint(name: &str) -> String {
    let names: Vec<String> = Action::all().into_iter().map(Action::name).collect();
    let closest = names
        .iter()
        .map(|n| (edit_distance(name, n), n))
        .min_by_key(|(d, _)| *d);
    match closest {
        Some((d, n)) if d <= 2 => format!("; did you mean `{n}`?"),
        _ => format!("; actions are: {}", names.join(", ")),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEventState;

    fn key(s: &str) -> Key {
        Key::parse(s).unwrap()
    }

    fn event(code: KeyCode, modifiers: KeyModifiers, kind: KeyEventKind) -> KeyEvent {
        KeyEvent {
            code,
            modifiers,
            kind,
            state: KeyEventState::NONE,
        }
    }

    fn user(text: &str) -> Result<Keymap, KeymapError> {
        Keymap::load(Some((text, "/home/u/.config/watchdeck/keymap.toml")))
    }

    #[test]
    fn notation_round_trips_in_canonical_form() {
        for s in [
            "q",
            "?",
            "/",
            ":",
            "G",
            "-",
            "Ctrl--",
            "Ctrl-l",
            "Alt-x",
            "Alt-G",
            "Ctrl-Alt-x",
            "Enter",
            "Esc",
            "Tab",
            "Shift-Tab",
            "Backspace",
            "Space",
            "Up",
            "Down",
            "Left",
            "Right",
            "Home",
            "End",
            "PgUp",
            "PgDn",
            "Insert",
            "Delete",
            "F1",
            "F12",
            "Shift-Up",
            "Ctrl-Shift-Tab",
            "Ctrl-Space",
            "é",
        ] {
            assert_eq!(key(s).to_string(), s, "{s}");
        }
    }

    #[test]
    fn spellings_normalise() {
        for (written, canonical) in [
            ("Shift-g", "G"),
            ("shift-G", "G"),
            ("ctrl-L", "Ctrl-l"),
            ("CTRL-l", "Ctrl-l"),
            ("Ctrl-Shift-l", "Ctrl-l"),
            ("alt-shift-g", "Alt-G"),
            ("Alt-Ctrl-x", "Ctrl-Alt-x"),
            ("BackTab", "Shift-Tab"),
            ("shift-tab", "Shift-Tab"),
            ("escape", "Esc"),
            ("Return", "Enter"),
            ("PageDown", "PgDn"),
            ("pageup", "PgUp"),
            ("f5", "F5"),
            (" ", "Space"),
        ] {
            assert_eq!(key(written).to_string(), canonical, "{written}");
        }
    }

    #[test]
    fn bad_notation_says_why() {
        for (s, needle) in [
            ("", "unbind"),
            ("Ctrl-", "needs a key after it"),
            ("Ctrl-Ctrl-x", "given twice"),
            ("Foo", "write one character"),
            ("Control-x", "modifiers are Ctrl-, Alt- and Shift-"),
            ("F13", "F1 … F12"),
            ("F0", "F1 … F12"),
            ("Shift-1", "Shift-1 types on your keyboard"),
            ("Shift-Space", "Shift-Space types"),
            ("\t", "control character"),
            ("qq", "write one character"),
        ] {
            let e = Key::parse(s).unwrap_err();
            assert!(e.to_string().contains(needle), "{s:?}: {e}");
        }
    }

    #[test]
    fn events_normalise_terminal_quirks() {
        use KeyEventKind::{Press, Release, Repeat};
        use KeyModifiers as M;
        let ev = |c, m, k| Key::from_event(&event(c, m, k)).map(|k| k.to_string());
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(ev(KeyCode::Char('G'), M::SHIFT, Press), some("G"));
        assert_eq!(ev(KeyCode::Char('G'), M::NONE, Press), some("G"));
        assert_eq!(ev(KeyCode::Char('g'), M::SHIFT, Press), some("G"));
        assert_eq!(ev(KeyCode::Char('?'), M::SHIFT, Press), some("?"));
        assert_eq!(ev(KeyCode::BackTab, M::SHIFT, Press), some("Shift-Tab"));
        assert_eq!(ev(KeyCode::BackTab, M::NONE, Press), some("Shift-Tab"));
        assert_eq!(ev(KeyCode::Tab, M::SHIFT, Press), some("Shift-Tab"));
        assert_eq!(ev(KeyCode::Char('l'), M::CONTROL, Press), some("Ctrl-l"));
        assert_eq!(
            ev(KeyCode::Char('L'), M::CONTROL | M::SHIFT, Press),
            some("Ctrl-l")
        );
        assert_eq!(ev(KeyCode::Char(' '), M::NONE, Press), some("Space"));
        assert_eq!(ev(KeyCode::Char('j'), M::NONE, Repeat), some("j"));
        assert_eq!(ev(KeyCode::Char('j'), M::NONE, Release), None);
        assert_eq!(ev(KeyCode::Char('j'), M::SUPER, Press), None);
        assert_eq!(ev(KeyCode::F(13), M::NONE, Press), None);
        assert_eq!(ev(KeyCode::CapsLock, M::NONE, Press), None);
        assert_eq!(ev(KeyCode::Up, M::SHIFT, Press), some("Shift-Up"));
    }

    #[test]
    fn default_keymap_passes_every_rule_and_binds_every_action() {
        let map = Keymap::load(None).unwrap();
        for action in Action::all() {
            assert!(
                !map.keys_for(action).is_empty(),
                "{} unbound",
                action.name()
            );
        }
        assert_eq!(map.action(&key("q")), Some(Action::Quit));
        assert_eq!(map.action(&key("Ctrl-c")), Some(Action::Quit));
        assert_eq!(map.action(&key("Esc")), Some(Action::Back));
        assert_eq!(map.action(&key("7")), Some(Action::GoToTab(6)));
        assert_eq!(map.action(&key("Shift-Tab")), Some(Action::PrevTab));
        assert_eq!(map.action(&key("x")), Some(Action::CancelRun));
        assert_eq!(map.action(&key("z")), Some(Action::Silence));
        assert_eq!(map.action(&key("y")), None);
        assert_eq!(map.hint(Action::Help).as_deref(), Some("?"));
    }

    #[test]
    fn default_quit_and_back_share_no_key() {
        let map = Keymap::load(None).unwrap();
        for k in map.keys_for(Action::Quit) {
            assert!(!map.keys_for(Action::Back).contains(k));
        }
    }

    #[test]
    fn columns_count_characters_and_lines_are_one_based() {
        let loc = Location::at("f", "a\nbé = x", 6);
        assert_eq!((loc.line, loc.column), (2, 4));
        assert_eq!(Location::at("f", "ab", 99).column, 3);
    }

    #[test]
    fn overlay_replaces_by_action_name_and_unbinds() {
        let map =
            user("[keys]\nfreeze = [\"F\", \"Alt-f\"]\nsort_reverse = []\nhelp = \"\"\n").unwrap();
        assert_eq!(
            map.keys_for(Action::ToggleFreeze),
            &[key("F"), key("Alt-f")]
        );
        assert_eq!(map.action(&key("f")), None);
        assert!(map.keys_for(Action::SortReverse).is_empty());
        assert!(map.keys_for(Action::Help).is_empty());
        assert_eq!(map.action(&key("?")), None);
        // Untouched actions keep their defaults.
        assert_eq!(map.action(&key("j")), Some(Action::Down));
    }

    #[test]
    fn a_key_freed_by_the_overlay_can_be_reused() {
        let map = user("[keys]\nfreeze = \"F\"\nfilter = [\"/\", \"f\"]\n").unwrap();
        assert_eq!(map.action(&key("f")), Some(Action::Filter));
    }

    #[test]
    fn repeated_key_in_one_list_is_refused() {
        let e = user("[keys]\nredraw = [\"Ctrl-l\", \"ctrl-L\"]\n").unwrap_err();
        assert!(matches!(e, KeymapError::Repeated { .. }), "{e}");
        assert_eq!(e.location().column, 21);
    }

    #[test]
    fn unknown_action_suggests_the_near_miss() {
        let e = user("[keys]\nquitt = \"x\"\n").unwrap_err();
        assert!(e.to_string().ends_with("did you mean `quit`?"), "{e}");
        let e = user("[keys]\nlaunch_missiles = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("actions are: help, quit"), "{e}");
    }

    #[test]
    fn wrong_types_are_named() {
        let e = user("[keys]\nquit = 5\n").unwrap_err();
        assert!(e.to_string().contains("found integer"), "{e}");
        let e = user("[keys]\nquit = [\"q\", true]\n").unwrap_err();
        assert_eq!(e.location().column, 14);
        let e = user("keys = 1\n").unwrap_err();
        assert!(e.to_string().contains("must be a table"), "{e}");
    }

    #[test]
    fn an_empty_user_file_changes_nothing() {
        let map = user("# nothing yet\n").unwrap();
        assert_eq!(map.action(&key("q")), Some(Action::Quit));
        user("[keys]\n").unwrap();
    }

    #[test]
    fn consequential_actions_refuse_every_single_ctrl_chord_but_not_ctrl_alt() {
        for k in ["Ctrl-k", "Ctrl-Enter", "Ctrl-1", "ctrl-K"] {
            let e = user(&format!("[keys]\nacknowledge = \"{k}\"\n")).unwrap_err();
            assert!(
                matches!(e, KeymapError::ConsequentialOnCtrl { .. }),
                "{k}: {e}"
            );
        }
        let map = user("[keys]\nacknowledge = [\"a\", \"Ctrl-Alt-a\"]\n").unwrap();
        assert_eq!(map.action(&key("Ctrl-Alt-a")), Some(Action::Acknowledge));
        // Ordinary actions may use Ctrl chords (redraw is Ctrl-l by default).
        user("[keys]\nfreeze = \"Ctrl-f\"\n").unwrap();
    }

    #[test]
    fn help_rows_follow_action_order_and_the_live_map() {
        let map = user("[keys]\nquit = [\"Q\", \"Ctrl-c\"]\nhelp = []\n").unwrap();
        let rows = map.help_rows();
        assert_eq!(rows.len(), Action::all().len());
        assert_eq!(rows[0], (String::new(), Action::Help, "help".into()));
        assert_eq!(rows[1], ("Q / Ctrl-c".into(), Action::Quit, "quit".into()));
    }
}
