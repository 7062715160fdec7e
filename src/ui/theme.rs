//! Themes: semantic roles (ok, warn, crit, stale, …) mapped to styles. The only module that
//! names colours; everything else asks for a role.

use ratatui::style::{Color, Modifier, Style};

use crate::config::settings::Tier;

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

impl Theme {
    /// The default dark theme.
    pub fn dark() -> Self {
        Self {
            name: "dark".to_owned(),
            base: Style::default(),
            ok: Style::default().fg(Color::Green),
            warn: Style::default().fg(Color::Yellow),
            crit: Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            stale: Style::default().fg(Color::DarkGray),
            muted: Style::default().fg(Color::Gray),
            accent: Style::default().fg(Color::Cyan),
            selection: Style::default().add_modifier(Modifier::REVERSED),
            header: Style::default().add_modifier(Modifier::BOLD),
            tab_active: Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            badge_demo: Style::default()
                .fg(Color::Black)
                .bg(Color::Magenta)
                .add_modifier(Modifier::BOLD),
            prod: Style::default()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD),
            staging: Style::default().fg(Color::Black).bg(Color::Yellow),
            integration: Style::default().fg(Color::Black).bg(Color::Blue),
        }
    }

    /// No colour at all (for `NO_COLOR`): meaning carried by text and modifiers.
    pub fn mono() -> Self {
        let plain = Style::default();
        let bold = plain.add_modifier(Modifier::BOLD);
        Self {
            name: "mono".to_owned(),
            base: plain,
            ok: plain,
            warn: bold,
            crit: bold.add_modifier(Modifier::UNDERLINED),
            stale: plain.add_modifier(Modifier::DIM),
            muted: plain.add_modifier(Modifier::DIM),
            accent: bold,
            selection: plain.add_modifier(Modifier::REVERSED),
            header: bold,
            tab_active: bold.add_modifier(Modifier::UNDERLINED),
            badge_demo: bold.add_modifier(Modifier::REVERSED),
            prod: bold.add_modifier(Modifier::REVERSED),
            staging: plain.add_modifier(Modifier::REVERSED),
            integration: plain,
        }
    }

    pub fn tier(&self, tier: Tier) -> Style {
        match tier {
            Tier::Production => self.prod,
            Tier::Staging => self.staging,
            Tier::Integration => self.integration,
        }
    }

    /// The theme for a name; unknown names fall back to dark (the caller reports it).
    pub fn by_name(name: &str) -> Option<Self> {
        match name {
            "dark" => Some(Self::dark()),
            "mono" => Some(Self::mono()),
            _ => None,
        }
    }
}
