//! Themes: semantic roles (ok, warn, crit, stale, …) mapped to styles. The only module that
//! names colours; everything else asks for a role.
//!
//! Built-in themes are the TOML files in `themes/`, embedded in the binary; a user theme is
//! a file of the same shape. Unknown roles or keys are rejected with their location.

use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use crate::config::settings::Tier;

const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("mono", include_str!("../../themes/mono.toml")),
];

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
    #[error("theme {origin}: {message}")]
    Invalid { origin: String, message: String },
}

/// Styles by meaning.
#[derive(Debug, Clone)]
pub struct Theme {
    pub name: String,
    pub base: Style,
    pub ok: Style,
    pub warn: Style,
    pub crit: Style,
    pub stale: Style,
    pub muted: Style,
    pub accent: Style,
    pub selection: Style,
    pub header: Style,
    pub tab_active: Style,
    pub badge_demo: Style,
    pub prod: Style,
    pub staging: Style,
    pub integration: Style,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: String,
    roles: Roles,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Roles {
    base: StyleSpec,
    ok: StyleSpec,
    warn: StyleSpec,
    crit: StyleSpec,
    stale: StyleSpec,
    muted: StyleSpec,
    accent: StyleSpec,
    selection: StyleSpec,
    header: StyleSpec,
    tab_active: StyleSpec,
    badge_demo: StyleSpec,
    prod: StyleSpec,
    staging: StyleSpec,
    integration: StyleSpec,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    modifiers: Vec<String>,
}

impl StyleSpec {
    fn resolve(&self, role: &str) -> Result<Style, String> {
        let colour = |c: &str| {
            Color::from_str(c).map_err(|_| format!("role `{role}`: unknown colour `{c}`"))
        };
        let mut style = Style::default();
        if let Some(fg) = &self.fg {
            style = style.fg(colour(fg)?);
        }
        if let Some(bg) = &self.bg {
            style = style.bg(colour(bg)?);
        }
        for m in &self.modifiers {
            style = style.add_modifier(match m.as_str() {
                "bold" => Modifier::BOLD,
                "dim" => Modifier::DIM,
                "italic" => Modifier::ITALIC,
                "underlined" => Modifier::UNDERLINED,
                "reversed" => Modifier::REVERSED,
                "crossed_out" => Modifier::CROSSED_OUT,
                other => return Err(format!("role `{role}`: unknown modifier `{other}`")),
            });
        }
        Ok(style)
    }
}

impl Theme {
    /// Parse a theme file's text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ThemeError> {
        let invalid = |message: String| ThemeError::Invalid {
            origin: origin.to_owned(),
            message,
        };
        let file: ThemeFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let r = &file.roles;
        Ok(Self {
            name: file.name,
            base: r.base.resolve("base").map_err(invalid)?,
            ok: r.ok.resolve("ok").map_err(invalid)?,
            warn: r.warn.resolve("warn").map_err(invalid)?,
            crit: r.crit.resolve("crit").map_err(invalid)?,
            stale: r.stale.resolve("stale").map_err(invalid)?,
            muted: r.muted.resolve("muted").map_err(invalid)?,
            accent: r.accent.resolve("accent").map_err(invalid)?,
            selection: r.selection.resolve("selection").map_err(invalid)?,
            header: r.header.resolve("header").map_err(invalid)?,
            tab_active: r.tab_active.resolve("tab_active").map_err(invalid)?,
            badge_demo: r.badge_demo.resolve("badge_demo").map_err(invalid)?,
            prod: r.prod.resolve("prod").map_err(invalid)?,
            staging: r.staging.resolve("staging").map_err(invalid)?,
            integration: r.integration.resolve("integration").map_err(invalid)?,
        })
    }

    /// A built-in theme by name, or a theme file by path.
    pub fn load(name_or_path: &str) -> Result<Self, ThemeError> {
        if let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            return Self::from_toml(text, name_or_path);
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
            Self::builtin_names().join(", "),
        ))
    }

    pub fn builtin_names() -> Vec<&'static str> {
        BUILTIN.iter().map(|(n, _)| *n).collect()
    }

    /// The default theme. The embedded file is checked by a test, so a failure here means a
    /// broken build; fall back to plain styles rather than refuse to start.
    pub fn dark() -> Self {
        Self::load("dark").unwrap_or_else(|_| Self::plain())
    }

    /// The colourless theme used for `NO_COLOR`.
    pub fn mono() -> Self {
        Self::load("mono").unwrap_or_else(|_| Self::plain())
    }

    fn plain() -> Self {
        let s = Style::default();
        Self {
            name: "plain".to_owned(),
            base: s,
            ok: s,
            warn: s,
            crit: s,
            stale: s,
            muted: s,
            accent: s,
            selection: s.add_modifier(Modifier::REVERSED),
            header: s,
            tab_active: s.add_modifier(Modifier::REVERSED),
            badge_demo: s.add_modifier(Modifier::REVERSED),
            prod: s.add_modifier(Modifier::REVERSED),
            staging: s,
            integration: s,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse() {
        for name in Theme::builtin_names() {
            let t = Theme::load(name).expect("built-in theme parses");
            assert_eq!(t.name, name);
        }
        assert_eq!(Theme::dark().ok.fg, Some(Color::Green));
        assert_eq!(Theme::mono().ok.fg, None);
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
}
