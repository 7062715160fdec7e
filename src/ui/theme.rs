//! Themes: semantic roles (ok, warn, crit, sev1, border, …) mapped to styles, and the colour
//! palette used to draw a terminal outside a terminal (SVG screenshots). The only module that
//! names colours; everything else asks for a role, or for [`color_hex`].
//!
//! Built-in themes are the TOML files in `themes/`, embedded in the binary; each sets every
//! role. A user theme is a file of the same shape that may set only some roles and inherit the
//! rest from a built-in (`inherits = "light"`, default `dark`). Unknown roles, keys, colours
//! and modifiers are rejected with `file:line:column`.

use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use toml::Spanned;

use crate::config::settings::Tier;
use crate::config::{Diagnostic, ErrorKind};

const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("ansi16", include_str!("../../themes/ansi16.toml")),
    ("mono", include_str!("../../themes/mono.toml")),
];

/// The built-in a user theme inherits from when it does not say.
const DEFAULT_BASE: &str = "dark";

/// Why a theme could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("unknown theme `{0}`; built-in themes: {1}")]
    Unknown(String, String),
    #[error("cannot read theme {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// The text was read but is not a valid theme; the diagnostic names `file:line:column`.
    #[error("theme {0}")]
    Invalid(Box<Diagnostic>),
}

impl ThemeError {
    /// The located diagnostic, if the theme text was invalid.
    pub fn diagnostic(&self) -> Option<&Diagnostic> {
        match self {
            ThemeError::Invalid(d) => Some(d),
            _ => None,
        }
    }
}

/// Declares the roles once: the `Theme` fields, the file's `[roles]` table and the role list
/// all come from this, so a new role cannot be added to one and forgotten in another.
macro_rules! roles {
    ($($(#[doc = $doc:literal])* $role:ident,)*) => {
        /// Styles by meaning.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Theme {
            pub name: String,
            $($(#[doc = $doc])* pub $role: Style,)*
        }

        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Roles {
            $(#[serde(default)] $role: Option<Spanned<StyleSpec>>,)*
        }

        impl Theme {
            /// Every role, in the order `themes/dark.toml` documents them.
            pub const ROLES: &'static [&'static str] = &[$(stringify!($role)),*];

            /// Every role with its style, in [`Theme::ROLES`] order.
            pub fn roles(&self) -> Vec<(&'static str, Style)> {
                vec![$((stringify!($role), self.$role)),*]
            }

            fn uniform(name: &str, style: Style) -> Self {
                Self { name: name.to_owned(), $($role: style,)* }
            }
        }

        impl Roles {
            /// Overwrite the roles this file sets; each replaces the base's style whole, so
            /// an overlay's `crit = { fg = "red" }` means exactly red, not red plus whatever
            /// modifiers the base had.
            fn apply(&self, theme: &mut Theme, cx: &Cx<'_>) -> Result<(), ThemeError> {
                $(if let Some(spec) = &self.$role {
                    theme.$role = spec.get_ref().resolve(cx)?;
                })*
                Ok(())
            }

            fn missing(&self) -> Vec<&'static str> {
                let mut missing = Vec::new();
                $(if self.$role.is_none() {
                    missing.push(stringify!($role));
                })*
                missing
            }
        }
    };
}

roles! {
    /// Plain text.
    base,
    /// Healthy.
    ok,
    /// Degraded, needs a look.
    warn,
    /// Broken, act now.
    crit,
    /// Data too old to trust.
    stale,
    /// Secondary text: timestamps, hints, inactive tabs.
    muted,
    /// Keys and highlights.
    accent,
    /// The selected table row.
    selection,
    /// Table headers.
    header,
    /// The current tab.
    tab_active,
    /// The DEMO badge.
    badge_demo,
    /// Production tier badge.
    prod,
    /// Staging tier badge.
    staging,
    /// Integration tier badge.
    integration,
    /// Severity 1 (page now).
    sev1,
    /// Severity 2.
    sev2,
    /// Severity 3.
    sev3,
    /// Block borders and other muted chrome.
    border,
    /// Popup and dialog background and text.
    popup,
    /// The `/` search and `:` command prompt line.
    input,
    /// A breached deadline (acknowledgement, RPO, …).
    breach,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: Option<Spanned<String>>,
    inherits: Option<Spanned<String>>,
    #[serde(default)]
    roles: Roles,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<Spanned<String>>,
    bg: Option<Spanned<String>>,
    #[serde(default)]
    modifiers: Vec<Spanned<String>>,
}

/// The text being parsed and its name, for located errors.
struct Cx<'a> {
    text: &'a str,
    origin: &'a str,
}

impl Cx<'_> {
    fn error(
        &self,
        kind: ErrorKind,
        span: std::ops::Range<usize>,
        message: impl Into<String>,
    ) -> ThemeError {
        ThemeError::Invalid(Box::new(Diagnostic::new(
            kind,
            Path::new(self.origin),
            self.text,
            span,
            message,
        )))
    }

    fn toml(&self, e: &toml::de::Error) -> ThemeError {
        // The diagnostic is one line followed by the quoted source, so fold toml's
        // multi-line messages.
        let message = e.message().trim_end().replace('\n', "; ");
        let span = e.span().unwrap_or(0..0);
        let kind = if message.starts_with("unknown field") {
            ErrorKind::UnknownKey
        } else if message.starts_with("invalid type") {
            ErrorKind::WrongType
        } else if message.starts_with("missing field") {
            ErrorKind::MissingKey
        } else {
            return self.error(
                ErrorKind::Syntax,
                span,
                format!("TOML syntax error: {message}"),
            );
        };
        self.error(kind, span, message)
    }
}

impl StyleSpec {
    fn resolve(&self, cx: &Cx<'_>) -> Result<Style, ThemeError> {
        let colour = |c: &Spanned<String>| {
            Color::from_str(c.get_ref()).map_err(|_| {
                cx.error(
                    ErrorKind::InvalidValue,
                    c.span(),
                    format!(
                        "unknown colour `{}`; expected an ANSI name (red, lightred, darkgray, …), \
                         #rrggbb or an index 0–255",
                        c.get_ref()
                    ),
                )
            })
        };
        let mut style = Style::default();
        if let Some(fg) = &self.fg {
            style = style.fg(colour(fg)?);
        }
        if let Some(bg) = &self.bg {
            style = style.bg(colour(bg)?);
        }
        for m in &self.modifiers {
            style = style.add_modifier(match m.get_ref().as_str() {
                "bold" => Modifier::BOLD,
                "dim" => Modifier::DIM,
                "italic" => Modifier::ITALIC,
                "underlined" => Modifier::UNDERLINED,
                "reversed" => Modifier::REVERSED,
                "crossed_out" => Modifier::CROSSED_OUT,
                other => {
                    return Err(cx.error(
                        ErrorKind::InvalidValue,
                        m.span(),
                        format!(
                            "unknown modifier `{other}`; expected bold, dim, italic, \
                             underlined, reversed or crossed_out"
                        ),
                    ));
                }
            });
        }
        Ok(style)
    }
}

impl Theme {
    /// Parse a user theme file's text; `origin` (its path) names it in errors. Roles it does
    /// not set come from the built-in named by `inherits` (default `dark`); `name` defaults
    /// to the file's stem.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ThemeError> {
        let cx = Cx { text, origin };
        let file: ThemeFile = toml::from_str(text).map_err(|e| cx.toml(&e))?;
        let mut theme = match &file.inherits {
            None => Self::builtin(DEFAULT_BASE)?,
            Some(base) => Self::builtin(base.get_ref()).map_err(|_| {
                cx.error(
                    ErrorKind::InvalidValue,
                    base.span(),
                    format!(
                        "`inherits` names no built-in theme `{}`; expected one of: {}",
                        base.get_ref(),
                        Self::builtin_names().join(", ")
                    ),
                )
            })?,
        };
        file.roles.apply(&mut theme, &cx)?;
        theme.name = match &file.name {
            Some(name) => name.get_ref().clone(),
            None => Path::new(origin)
                .file_stem()
                .map_or_else(|| origin.to_owned(), |s| s.to_string_lossy().into_owned()),
        };
        Ok(theme)
    }

    /// A built-in theme. Built-ins inherit nothing: each must set every role, so a new role
    /// can never silently borrow `dark`'s colours in `mono` or `ansi16`.
    fn builtin(name: &str) -> Result<Self, ThemeError> {
        let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name) else {
            return Err(ThemeError::Unknown(
                name.to_owned(),
                Self::builtin_names().join(", "),
            ));
        };
        let cx = Cx { text, origin: name };
        let file: ThemeFile = toml::from_str(text).map_err(|e| cx.toml(&e))?;
        if let Some(inherits) = &file.inherits {
            return Err(cx.error(
                ErrorKind::UnknownKey,
                inherits.span(),
                "a built-in theme sets every role and inherits nothing",
            ));
        }
        let missing = file.roles.missing();
        if !missing.is_empty() {
            return Err(cx.error(
                ErrorKind::MissingKey,
                0..0,
                format!(
                    "a built-in theme must set every role; missing: {}",
                    missing.join(", ")
                ),
            ));
        }
        let mut theme = Self::uniform(name, Style::default());
        file.roles.apply(&mut theme, &cx)?;
        Ok(theme)
    }

    /// A built-in theme by name, or a theme file by path (anything ending in `.toml` or
    /// with a directory part).
    pub fn load(name_or_path: &str) -> Result<Self, ThemeError> {
        Self::load_from(name_or_path, None)
    }

    /// Like [`Theme::load`], and a bare name that is not built in is looked up as
    /// `NAME.toml` in the user's themes directory (`~/.config/watchdeck/themes`).
    pub fn load_from(name_or_path: &str, themes_dir: Option<&Path>) -> Result<Self, ThemeError> {
        if let Some(dir) = themes_dir
            && !BUILTIN.iter().any(|(n, _)| *n == name_or_path)
            && Path::new(name_or_path).components().count() == 1
            && !name_or_path.ends_with(".toml")
        {
            let candidate = dir.join(format!("{name_or_path}.toml"));
            if candidate.is_file() {
                return Self::load(&candidate.display().to_string());
            }
        }
        if BUILTIN.iter().any(|(n, _)| *n == name_or_path) {
            return Self::builtin(name_or_path);
        }
        let path = Path::new(name_or_path);
        if name_or_path.ends_with(".toml") || path.components().count() > 1 {
            let text = std::fs::read_to_string(path).map_err(|source| ThemeError::Read {
                path: name_or_path.to_owned(),
                source,
            })?;
            return Self::from_toml(&text, name_or_path);
        }
        Err(ThemeError::Unknown(
            name_or_path.to_owned(),
            Self::available(themes_dir).join(", "),
        ))
    }

    /// Built-in names, then the user's theme files (by name, sorted).
    pub fn available(themes_dir: Option<&Path>) -> Vec<String> {
        let mut names: Vec<String> = Self::builtin_names()
            .into_iter()
            .map(str::to_owned)
            .collect();
        if let Some(entries) = themes_dir.and_then(|d| std::fs::read_dir(d).ok()) {
            let mut user: Vec<String> = entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let p = e.path();
                    (p.extension()? == "toml")
                        .then(|| p.file_stem()?.to_str().map(str::to_owned))
                        .flatten()
                })
                .filter(|n| !names.contains(n))
                .collect();
            user.sort();
            names.extend(user);
        }
        names
    }

    /// Pick the theme for this run.
    ///
    /// `requested` is an explicit choice — `--theme`, or `theme =` written in the user's
    /// config file — and it wins over `NO_COLOR`. no-color.org: "User-level configuration
    /// files and per-instance command-line arguments should override `$NO_COLOR`", so a user
    /// who exports `NO_COLOR` in their shell profile can still ask watchdeck for colour.
    /// Without an explicit choice, `no_color` (see [`Theme::no_color_env`]) gives `mono`,
    /// otherwise `dark`.
    ///
    /// Pass `None` when the theme only comes from a default: `Some("dark")` from a default
    /// would count as a request and `NO_COLOR` would never take effect.
    pub fn select(requested: Option<&str>, no_color: bool) -> Result<Self, ThemeError> {
        Self::select_from(requested, no_color, None)
    }

    /// [`Theme::select`], looking bare names up in the user's themes directory too.
    pub fn select_from(
        requested: Option<&str>,
        no_color: bool,
        themes_dir: Option<&Path>,
    ) -> Result<Self, ThemeError> {
        match requested {
            Some(name_or_path) => Self::load_from(name_or_path, themes_dir),
            None if no_color => Self::builtin("mono"),
            None => Self::builtin(DEFAULT_BASE),
        }
    }

    /// Whether `NO_COLOR` asks for no colour: set and not empty (no-color.org).
    pub fn no_color_env() -> bool {
        std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
    }

    /// Names of the built-in themes, default first (for `:theme` completion and errors).
    pub fn builtin_names() -> Vec<&'static str> {
        BUILTIN.iter().map(|(n, _)| *n).collect()
    }

    /// The default theme. The embedded file is checked by a test, so a failure here means a
    /// broken build; fall back to plain styles rather than refuse to start.
    pub fn dark() -> Self {
        Self::builtin("dark").unwrap_or_else(|_| Self::plain())
    }

    /// The colourless theme used for `NO_COLOR`.
    pub fn mono() -> Self {
        Self::builtin("mono").unwrap_or_else(|_| Self::plain())
    }

    fn plain() -> Self {
        let reversed = Style::default().add_modifier(Modifier::REVERSED);
        let bold = Style::default().add_modifier(Modifier::BOLD);
        Self {
            selection: reversed,
            tab_active: reversed,
            badge_demo: reversed,
            prod: reversed,
            sev1: reversed.add_modifier(Modifier::BOLD),
            sev2: bold,
            breach: reversed,
            ..Self::uniform("plain", Style::default())
        }
    }

    pub fn tier(&self, tier: Tier) -> Style {
        match tier {
            Tier::Production => self.prod,
            Tier::Staging => self.staging,
            Tier::Integration => self.integration,
        }
    }
}

// ----- Palette ------------------------------------------------------------------------------

/// The 16 ANSI colours as xterm draws them by default, by ANSI index. Screenshots use these so
/// they look the same on every machine, whatever the capturing terminal's palette.
const ANSI_HEX: [&str; 16] = [
    "#000000", "#cd0000", "#00cd00", "#cdcd00", "#0000ee", "#cd00cd", "#00cdcd", "#e5e5e5",
    "#7f7f7f", "#ff0000", "#00ff00", "#ffff00", "#5c5cff", "#ff00ff", "#00ffff", "#ffffff",
];

/// The terminal's own foreground in screenshots (`Color::Reset` as fg): ANSI 7, as on a
/// default dark xterm.
pub const DEFAULT_FG_HEX: &str = "#e5e5e5";
/// The terminal's own background in screenshots (`Color::Reset` as bg): ANSI 0.
pub const DEFAULT_BG_HEX: &str = "#000000";

/// The ANSI index (0–15) of a named colour; `None` for `Reset`, indexed and RGB colours.
pub fn ansi_index(c: Color) -> Option<u8> {
    Some(match c {
        Color::Black => 0,
        Color::Red => 1,
        Color::Green => 2,
        Color::Yellow => 3,
        Color::Blue => 4,
        Color::Magenta => 5,
        Color::Cyan => 6,
        Color::Gray => 7,
        Color::DarkGray => 8,
        Color::LightRed => 9,
        Color::LightGreen => 10,
        Color::LightYellow => 11,
        Color::LightBlue => 12,
        Color::LightMagenta => 13,
        Color::LightCyan => 14,
        Color::White => 15,
        Color::Reset | Color::Indexed(_) | Color::Rgb(..) => return None,
    })
}

/// `#rrggbb` for a colour, as a default dark xterm shows it: named colours from the xterm
/// 16-colour palette, `Indexed(n)` from the xterm 256-colour palette, `Rgb` as is, and
/// `Reset` as the default foreground (`fg`) or background (`!fg`).
pub fn color_hex(c: Color, fg: bool) -> String {
    match c {
        Color::Reset => if fg { DEFAULT_FG_HEX } else { DEFAULT_BG_HEX }.to_owned(),
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(n) => indexed_hex(n),
        // Every other variant is one of the 16 named colours, so the fallback is never used.
        named => ansi_index(named).map_or_else(|| DEFAULT_FG_HEX.to_owned(), indexed_hex),
    }
}

/// The xterm 256-colour palette: 16 ANSI colours, a 6×6×6 cube, a 24-step grey ramp.
fn indexed_hex(n: u8) -> String {
    const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];
    match n {
        0..=15 => ANSI_HEX[usize::from(n)].to_owned(),
        16..=231 => {
            let i = n - 16;
            let (r, g, b) = (i / 36, (i / 6) % 6, i % 6);
            format!(
                "#{:02x}{:02x}{:02x}",
                CUBE[usize::from(r)],
                CUBE[usize::from(g)],
                CUBE[usize::from(b)]
            )
        }
        232..=255 => {
            let v = 8 + 10 * (n - 232);
            format!("#{v:02x}{v:02x}{v:02x}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse() {
        for name in Theme::builtin_names() {
            let t = Theme::load(name).expect("built-in theme parses");
            assert_eq!(t.name, name);
        }
        assert_eq!(Theme::builtin_names()[0], "dark");
        assert_eq!(Theme::dark().ok.fg, Some(Color::Green));
        assert_eq!(Theme::mono().ok.fg, None);
        assert_ne!(Theme::dark(), Theme::plain());
    }

    #[test]
    fn rejects_unknown_roles_and_colours() {
        let bad_role = BUILTIN[0].1.replace("[roles]", "[roles]\nshiny = {}");
        assert!(
            Theme::from_toml(&bad_role, "t")
                .unwrap_err()
                .to_string()
                .contains("shiny")
        );
        let bad_colour = BUILTIN[0].1.replace("\"green\"", "\"greenish\"");
        assert!(
            Theme::from_toml(&bad_colour, "t")
                .unwrap_err()
                .to_string()
                .contains("greenish")
        );
        assert!(matches!(Theme::load("nope"), Err(ThemeError::Unknown(..))));
    }

    #[test]
    fn palette_follows_xterm() {
        assert_eq!(color_hex(Color::Reset, true), DEFAULT_FG_HEX);
        assert_eq!(color_hex(Color::Reset, false), DEFAULT_BG_HEX);
        assert_eq!(color_hex(Color::LightRed, true), "#ff0000");
        assert_eq!(color_hex(Color::Gray, true), "#e5e5e5");
        assert_eq!(color_hex(Color::Indexed(9), true), "#ff0000");
        assert_eq!(color_hex(Color::Indexed(16), true), "#000000");
        assert_eq!(color_hex(Color::Indexed(196), true), "#ff0000");
        assert_eq!(color_hex(Color::Indexed(203), true), "#ff5f5f");
        assert_eq!(color_hex(Color::Indexed(231), true), "#ffffff");
        assert_eq!(color_hex(Color::Indexed(232), true), "#080808");
        assert_eq!(color_hex(Color::Indexed(255), true), "#eeeeee");
        assert_eq!(color_hex(Color::Rgb(1, 0xab, 0xff), false), "#01abff");
        for n in 0..16 {
            let named = [
                Color::Black,
                Color::Red,
                Color::Green,
                Color::Yellow,
                Color::Blue,
                Color::Magenta,
                Color::Cyan,
                Color::Gray,
                Color::DarkGray,
                Color::LightRed,
                Color::LightGreen,
                Color::LightYellow,
                Color::LightBlue,
                Color::LightMagenta,
                Color::LightCyan,
                Color::White,
            ][usize::from(n)];
            assert_eq!(ansi_index(named), Some(n));
            assert_eq!(color_hex(named, true), color_hex(Color::Indexed(n), true));
        }
    }

    #[test]
    fn plain_sets_distinct_severities() {
        let p = Theme::plain();
        assert_ne!(p.sev1, p.sev2);
        assert_ne!(p.sev2, p.sev3);
        assert_ne!(p.sev1, p.sev3);
    }
}
