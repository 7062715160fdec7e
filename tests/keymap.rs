//! The keymap through its public API: the shipped default, user overlays from the fixture
//! files in `tests/fixtures/keymaps/`, the exact messages a broken keymap produces, and
//! the normalisation of terminal key events.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};
use watchdeck::ui::action::Action;
use watchdeck::ui::keymap::{DEFAULT_KEYMAP, Key, Keymap, KeymapError};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/keymaps/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Load a fixture over the defaults, naming it by its repository path in messages.
fn load(name: &str) -> Result<Keymap, KeymapError> {
    let text = fixture(name);
    Keymap::load(Some((&text, &format!("tests/fixtures/keymaps/{name}"))))
}

fn message(name: &str) -> String {
    match load(name) {
        Ok(_) => panic!("{name} should be refused"),
        Err(e) => e.to_string(),
    }
}

fn key(s: &str) -> Key {
    Key::parse(s).unwrap()
}

fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
    KeyEvent::new(code, modifiers)
}

// ----- notation ----------------------------------------------------------------------------

#[test]
fn notation_round_trips() {
    for s in [
        "q",
        "?",
        "/",
        ":",
        "G",
        "1",
        "Ctrl-c",
        "Ctrl-l",
        "Alt-x",
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
    ] {
        let k = key(s);
        assert_eq!(k.to_string(), s);
        assert_eq!(key(&k.to_string()), k);
    }
}

#[test]
fn equivalent_spellings_are_one_key() {
    assert_eq!(key("Shift-g"), key("G"));
    assert_eq!(key("ctrl-L"), key("Ctrl-l"));
    assert_eq!(key("BackTab"), key("Shift-Tab"));
    assert_ne!(key("g"), key("G"));
    assert_ne!(key("Alt-g"), key("Alt-G"));
}

// ----- the shipped default -----------------------------------------------------------------

#[test]
fn every_action_has_a_default_key() {
    let map = Keymap::load(None).unwrap();
    for action in Action::all() {
        assert!(
            map.hint(action).is_some(),
            "`{}` has no default key",
            action.name()
        );
    }
}

#[test]
fn default_keymap_is_the_shipped_file() {
    assert!(DEFAULT_KEYMAP.contains("[keys]"));
    let map = Keymap::load(None).unwrap();
    assert_eq!(map.keys_for(Action::Quit), &[key("q"), key("Ctrl-c")]);
    assert_eq!(map.keys_for(Action::Back), &[key("Esc")]);
    assert_eq!(map.action(&key("Ctrl-l")), Some(Action::Redraw));
    assert_eq!(map.action(&key("A")), Some(Action::ToggleResolved));
    assert_eq!(map.action(&key("a")), Some(Action::Acknowledge));
}

#[test]
fn help_rows_list_every_action_with_its_keys() {
    let rows = Keymap::load(None).unwrap().help_rows();
    let actions: Vec<Action> = rows.iter().map(|(_, a, _)| *a).collect();
    assert_eq!(actions, Action::all());
    let down = rows.iter().find(|(_, a, _)| *a == Action::Down).unwrap();
    assert_eq!(
        down,
        &("j / Down".to_owned(), Action::Down, "down".to_owned())
    );
}

// ----- overlays ----------------------------------------------------------------------------

#[test]
fn overlay_replaces_an_action_by_name_and_unbinds() {
    let map = load("override.toml").unwrap();
    assert_eq!(map.keys_for(Action::ToggleFreeze), &[key("F")]);
    assert_eq!(map.action(&key("f")), None, "freeze's default key is gone");
    assert_eq!(
        map.keys_for(Action::PageDown),
        &[key("Space"), key("PgDn"), key("Ctrl-d")]
    );
    assert!(map.keys_for(Action::SortReverse).is_empty());
    assert!(map.keys_for(Action::Help).is_empty());
    assert_eq!(map.action(&key("S")), None);
    assert_eq!(map.hint(Action::Help), None);
    // Everything the file does not name keeps its default.
    assert_eq!(map.action(&key("j")), Some(Action::Down));
    // The help screen follows the live map.
    let rows = map.help_rows();
    let freeze = rows
        .iter()
        .find(|(_, a, _)| *a == Action::ToggleFreeze)
        .unwrap();
    assert_eq!(freeze.0, "F");
}

#[test]
fn clash_with_a_default_names_both_bindings() {
    assert_eq!(
        message("clash_with_default.toml"),
        "keymap tests/fixtures/keymaps/clash_with_default.toml:3:10: key `/` is bound to both \
         `freeze` (clash_with_default.toml:3) and `filter` (default keymap); give one of them \
         another key, or unbind it with `filter = []`"
    );
}

#[test]
fn clash_within_the_file_names_both_lines() {
    assert_eq!(
        message("clash_in_file.toml"),
        "keymap tests/fixtures/keymaps/clash_in_file.toml:3:27: key `X` is bound to both \
         `cycle_environment` (clash_in_file.toml:3) and `sort` (clash_in_file.toml:2); give one \
         of them another key, or unbind it with `sort = []`"
    );
}

#[test]
fn clash_message_uses_the_origin_given() {
    let e = Keymap::load(Some((
        "[keys]\n\n# freeze moved\nfreeze = \"/\"\n",
        "~/.config/watchdeck/keymap.toml",
    )))
    .unwrap_err();
    assert!(
        e.to_string().starts_with(
            "keymap ~/.config/watchdeck/keymap.toml:4:10: key `/` is bound to both `freeze` \
             (keymap.toml:4) and `filter` (default keymap)"
        ),
        "{e}"
    );
}

#[test]
fn consequential_action_on_a_ctrl_chord_is_refused() {
    assert_eq!(
        message("consequential_ctrl.toml"),
        "keymap tests/fixtures/keymaps/consequential_ctrl.toml:2:21: `acknowledge` may not be \
         bound to `Ctrl-k`: it has effects beyond this console that others see, and a single \
         Ctrl chord is too easy to fire by accident (a slipped finger, a multiplexer prefix); \
         bind it to a plain key or an Alt- chord"
    );
}

#[test]
fn tmux_prefix_is_refused() {
    assert_eq!(
        message("tmux_prefix.toml"),
        "keymap tests/fixtures/keymaps/tmux_prefix.toml:2:20: key `Ctrl-b` cannot be bound (to \
         `page_up`): it is tmux's prefix key, so inside tmux it never reaches watchdeck; choose \
         another key"
    );
}

#[test]
fn flow_control_and_suspend_keys_are_refused() {
    assert!(message("flow_control.toml").starts_with(
        "keymap tests/fixtures/keymaps/flow_control.toml:2:10: key `Ctrl-s` cannot be bound \
         (to `freeze`): it is XOFF"
    ));
    for k in ["Ctrl-a", "Ctrl-z", "Ctrl-q", "ctrl-B"] {
        let text = format!("[keys]\nredraw = \"{k}\"\n");
        let e = Keymap::load(Some((&text, "k.toml"))).unwrap_err();
        assert!(matches!(e, KeymapError::Reserved { .. }), "{k}: {e}");
    }
    // Only the bare Ctrl chord is taken; with Alt it is a different key.
    Keymap::load(Some(("[keys]\nredraw = \"Ctrl-Alt-b\"\n", "k.toml"))).unwrap();
}

#[test]
fn unknown_action_is_located() {
    assert_eq!(
        message("unknown_action.toml"),
        "keymap tests/fixtures/keymaps/unknown_action.toml:3:1: unknown action `acknowlege`; \
         did you mean `acknowledge`?"
    );
}

#[test]
fn key_outside_the_keys_table_is_located() {
    assert_eq!(
        message("no_keys_table.toml"),
        "keymap tests/fixtures/keymaps/no_keys_table.toml:2:1: unknown key `quit` at the top \
         level; bindings go under a [keys] line"
    );
}

#[test]
fn bad_notation_is_located() {
    assert_eq!(
        message("bad_notation.toml"),
        "keymap tests/fixtures/keymaps/bad_notation.toml:2:14: bad key for `help`: `Ctrl-Foo` \
         is not a key: `Foo` is not a key name; write one character (`q`, `?`, `G`) or a key \
         name: Enter, Esc, Tab, Shift-Tab, Backspace, Space, Up, Down, Left, Right, Home, End, \
         PgUp, PgDn, Insert, Delete, F1 … F12; modifiers are Ctrl-, Alt- and Shift-"
    );
}

#[test]
fn toml_syntax_error_is_located() {
    assert_eq!(
        message("syntax_error.toml"),
        "keymap tests/fixtures/keymaps/syntax_error.toml:2:10: TOML syntax error: invalid basic \
         string, expected `\"`"
    );
}

// ----- terminal events ---------------------------------------------------------------------

#[test]
fn events_are_normalised() {
    let map = Keymap::load(None).unwrap();
    // Uppercase letters arrive with or without SHIFT depending on the terminal.
    for m in [KeyModifiers::SHIFT, KeyModifiers::NONE] {
        assert_eq!(
            map.action_for_event(&press(KeyCode::Char('G'), m)),
            Some(Action::Bottom)
        );
    }
    assert_eq!(
        map.action_for_event(&press(KeyCode::Char('?'), KeyModifiers::SHIFT)),
        Some(Action::Help)
    );
    assert_eq!(
        map.action_for_event(&press(KeyCode::BackTab, KeyModifiers::SHIFT)),
        Some(Action::PrevTab)
    );
    assert_eq!(
        Key::from_event(&press(KeyCode::BackTab, KeyModifiers::NONE)),
        Some(key("Shift-Tab"))
    );
    assert_eq!(
        map.action_for_event(&press(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        Some(Action::Quit)
    );
    let release = KeyEvent {
        kind: KeyEventKind::Release,
        ..press(KeyCode::Char('q'), KeyModifiers::NONE)
    };
    assert_eq!(Key::from_event(&release), None);
    let repeat = KeyEvent::new_with_kind_and_state(
        KeyCode::Char('j'),
        KeyModifiers::NONE,
        KeyEventKind::Repeat,
        KeyEventState::NONE,
    );
    assert_eq!(map.action_for_event(&repeat), Some(Action::Down));
}
