//! Built-in themes keep their promises (ansi16 only named colours, mono none, light and
//! high-contrast readable), theme selection honours NO_COLOR, user themes inherit.

use ratatui::style::{Modifier, Style};
use watchdeck::ui::theme::{DEFAULT_BG_HEX, Theme, ThemeError, ansi_index, color_hex};

fn builtin(name: &str) -> Theme {
    Theme::load(name).unwrap_or_else(|e| panic!("built-in {name}: {e}"))
}

/// WCAG relative luminance of `#rrggbb`.
fn luminance(hex: &str) -> f64 {
    let channel = |i: usize| {
        let v = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")) / 255.0;
        if v <= 0.039_28 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
}

fn contrast(a: &str, b: &str) -> f64 {
    let (a, b) = (luminance(a), luminance(b));
    (a.max(b) + 0.05) / (a.min(b) + 0.05)
}

/// Text colour against its background for a role drawn over `base`, with the base's
/// background standing in for the terminal's when the theme sets none.
fn role_contrast(theme: &Theme, style: Style, terminal_bg: &str, terminal_fg: &str) -> f64 {
    let style = theme.base.patch(style);
    let fg = style
        .fg
        .map_or(terminal_fg.to_owned(), |c| color_hex(c, true));
    let bg = style
        .bg
        .map_or(terminal_bg.to_owned(), |c| color_hex(c, false));
    contrast(&fg, &bg)
}

#[test]
fn every_builtin_parses_sets_its_name_and_distinct_severities() {
    let names = Theme::builtin_names();
    assert_eq!(names, ["dark", "light", "high-contrast", "ansi16", "mono"]);
    for name in names {
        let t = builtin(name);
        assert_eq!(t.name, name);
        assert_ne!(t.sev1, t.sev2, "{name}: sev1 = sev2");
        assert_ne!(t.sev2, t.sev3, "{name}: sev2 = sev3");
        assert_ne!(t.sev1, t.sev3, "{name}: sev1 = sev3");
        // Severity and state must show even where colour does not.
        assert_ne!(t.sev1.add_modifier, Modifier::empty(), "{name}: sev1");
        assert_ne!(t.crit.add_modifier, Modifier::empty(), "{name}: crit");
    }
}

#[test]
fn every_role_is_listed_and_documented() {
    let roles = Theme::ROLES;
    for new in ["sev1", "sev2", "sev3", "border", "popup", "input", "breach"] {
        assert!(roles.contains(&new), "{new}");
    }
    assert_eq!(Theme::dark().roles().len(), roles.len());
    let dark = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/themes/dark.toml"))
        .expect("dark.toml");
    for role in roles {
        assert!(
            dark.lines().any(|l| l.starts_with(&format!("#   {role} "))),
            "dark.toml does not document `{role}`"
        );
    }
}

#[test]
fn ansi16_uses_only_named_ansi_colours() {
    let t = builtin("ansi16");
    let mut coloured = 0;
    for (role, style) in t.roles() {
        for c in [style.fg, style.bg].into_iter().flatten() {
            assert!(ansi_index(c).is_some(), "ansi16 `{role}` uses {c:?}");
            coloured += 1;
        }
    }
    assert!(coloured > 10, "ansi16 should use colour");
}

#[test]
fn mono_uses_no_colour_at_all() {
    let t = builtin("mono");
    for (role, style) in t.roles() {
        assert_eq!(
            (style.fg, style.bg, style.underline_color),
            (None, None, None),
            "mono `{role}`"
        );
    }
    assert_eq!(t, Theme::mono());
}

#[test]
fn light_is_readable_on_white() {
    let t = builtin("light");
    for (role, style) in t.roles() {
        for c in [style.fg, style.bg].into_iter().flatten() {
            // Named colours are whatever the terminal's palette says; on light schemes ANSI
            // yellow and white are often invisible.
            assert!(ansi_index(c).is_none(), "light `{role}` uses named {c:?}");
        }
        // Non-text chrome needs 3:1 (WCAG 1.4.11), text 4.5:1 (AA).
        let needed = if role == "border" { 3.0 } else { 4.5 };
        let ratio = role_contrast(&t, style, "#ffffff", "#000000");
        assert!(ratio >= needed, "light `{role}`: {ratio:.2} < {needed}");
    }
}

#[test]
fn high_contrast_reaches_aaa_on_its_own_background() {
    let t = builtin("high-contrast");
    assert!(
        t.base.bg.is_some(),
        "high-contrast paints its own background"
    );
    for (role, style) in t.roles() {
        let ratio = role_contrast(&t, style, DEFAULT_BG_HEX, "#ffffff");
        assert!(ratio >= 7.0, "high-contrast `{role}`: {ratio:.2} < 7");
        assert!(
            style.fg.is_none_or(|c| ansi_index(c).is_none()),
            "high-contrast `{role}` leaves its colour to the terminal palette"
        );
    }
    for badge in [t.prod, t.staging, t.integration, t.badge_demo, t.sev1] {
        assert!(
            badge
                .add_modifier
                .contains(Modifier::REVERSED | Modifier::BOLD)
        );
    }
}

#[test]
fn select_honours_no_color_unless_a_theme_is_asked_for() {
    let pick = |requested, no_color| Theme::select(requested, no_color).expect("select").name;
    assert_eq!(pick(None, false), "dark");
    assert_eq!(pick(None, true), "mono");
    assert_eq!(pick(Some("light"), false), "light");
    // no-color.org: explicit user configuration overrides NO_COLOR.
    assert_eq!(pick(Some("light"), true), "light");
    assert_eq!(pick(Some("dark"), true), "dark");
    assert!(matches!(
        Theme::select(Some("nope"), true),
        Err(ThemeError::Unknown(..))
    ));
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write theme");
    path.to_string_lossy().into_owned()
}

#[test]
fn a_user_theme_inherits_the_roles_it_does_not_set() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        &dir,
        "mine.toml",
        "inherits = \"light\"\n[roles]\ncrit = { fg = \"#b00020\" }\n",
    );
    let t = Theme::load(&path).expect("overlay loads");
    assert_eq!(t.name, "mine", "name defaults to the file stem");
    let light = builtin("light");
    assert_eq!(t.crit, Style::default().fg(color_from("#b00020")));
    assert_eq!(t.ok, light.ok);
    assert_eq!(t.sev1, light.sev1);

    let path = write(
        &dir,
        "named.toml",
        "name = \"night\"\n[roles]\nborder = { modifiers = [\"dim\"] }\n",
    );
    let t = Theme::select(Some(&path), true).expect("overlay loads");
    assert_eq!(t.name, "night");
    let dark = Theme::dark();
    assert_eq!(t.border, Style::default().add_modifier(Modifier::DIM));
    assert_eq!(
        (t.ok, t.popup),
        (dark.ok, dark.popup),
        "inherits dark by default"
    );

    let t = Theme::load(&write(&dir, "empty.toml", "")).expect("empty overlay");
    assert_eq!(t.roles(), dark.roles());
}

/// Parse a colour the way a theme file does, without naming `Color::` here.
fn color_from(text: &str) -> ratatui::style::Color {
    text.parse().expect("colour")
}

#[test]
fn user_theme_errors_name_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            "role.toml",
            "inherits = \"dark\"\n[roles]\nok = {}\nshiny = { fg = \"red\" }\n",
            ":4:1:",
            "shiny",
        ),
        (
            "key.toml",
            "[roles]\nok = { fgg = \"red\" }\n",
            ":2:8:",
            "fgg",
        ),
        ("top.toml", "nme = \"x\"\n", ":1:1:", "nme"),
        (
            "colour.toml",
            "[roles]\nwarn = { fg = \"greenish\" }\n",
            ":2:15:",
            "unknown colour `greenish`",
        ),
        (
            "modifier.toml",
            "[roles]\nwarn = { modifiers = [\"bold\", \"blink\"] }\n",
            ":2:31:",
            "unknown modifier `blink`",
        ),
        (
            "base.toml",
            "inherits = \"solarized\"\n",
            ":1:12:",
            "`inherits` names no built-in theme `solarized`",
        ),
        ("syntax.toml", "[roles\n", ":1:", "TOML"),
    ];
    for (file, text, location, needle) in cases {
        let path = write(&dir, file, text);
        let err = Theme::load(&path).expect_err(file);
        let shown = err.to_string();
        assert!(
            shown.contains(&format!("{path}{location}")),
            "{file}: no location {location} in\n{shown}"
        );
        assert!(shown.contains(needle), "{file}: no `{needle}` in\n{shown}");
        assert!(err.diagnostic().is_some(), "{file}");
    }
}

#[test]
fn a_missing_theme_file_is_a_read_error() {
    assert!(matches!(
        Theme::load("/nonexistent/watchdeck/theme.toml"),
        Err(ThemeError::Read { .. })
    ));
}

#[test]
fn bare_names_are_found_in_the_user_themes_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("ocean.toml"),
        "inherits = \"dark\"\n[roles]\nok = { fg = \"blue\" }\n",
    )
    .expect("write theme");
    let theme = Theme::load_from("ocean", Some(dir.path())).expect("user theme loads by name");
    assert_eq!(theme.ok.fg, Some(ratatui::style::Color::Blue));
    assert_eq!(theme.crit, Theme::dark().crit, "the rest inherited");
    let names = Theme::available(Some(dir.path()));
    assert!(names.iter().any(|n| n == "ocean"), "{names:?}");
    assert!(names.iter().any(|n| n == "dark"));
    let err = Theme::load_from("nope", Some(dir.path())).expect_err("unknown");
    assert!(err.to_string().contains("ocean"), "{err}");
    // Built-in names win over a user file of the same name.
    std::fs::write(
        dir.path().join("mono.toml"),
        "[roles]\nok = { fg = \"blue\" }\n",
    )
    .expect("write");
    assert_eq!(
        Theme::load_from("mono", Some(dir.path()))
            .expect("built-in")
            .ok
            .fg,
        None
    );
}
