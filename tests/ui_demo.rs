//! The UI on the deterministic demo (fixed seed and clock, replayed through the real
//! pollers, store, rules and incidents): insta snapshots of every tab at 80×24 and 160×48,
//! the committed SVG screenshots kept current, every size from 1×1 to 300×100 drawn
//! without a panic, and the hostile-string corpus rendered with no control character in
//! any cell.

use std::sync::{Arc, OnceLock};

use ratatui::buffer::Buffer;
use watchdeck::demo::scene::{self, ReplayOptions, Scene};
use watchdeck::ui::action::Action;
use watchdeck::ui::app::{App, Tab};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
    })
}

fn demo() -> &'static Scene {
    static SCENE: OnceLock<Scene> = OnceLock::new();
    SCENE.get_or_init(|| {
        runtime()
            .block_on(scene::replay(&watchdeck::screenshot::replay_options()))
            .expect("demo replays")
    })
}

fn text(buffer: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buffer.area.height {
        let mut line = String::new();
        for x in 0..buffer.area.width {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn app() -> App {
    watchdeck::screenshot::app_for(demo())
}

#[test]
fn every_tab_at_80x24_and_160x48() {
    for size in [(80, 24), (160, 48)] {
        let mut app = app();
        app.size = size;
        for (i, tab) in Tab::ALL.iter().enumerate() {
            app.apply(Action::GoToTab(i as u8));
            let screen = text(&watchdeck::screenshot::render(&app, size));
            insta::assert_snapshot!(format!("{}-{}x{}", tab.slug(), size.0, size.1), screen);
        }
    }
}

#[test]
fn detail_help_filter_and_command_line_at_80x24() {
    let size = (80, 24);
    let mut app = app();
    app.size = size;
    app.apply(Action::GoToTab(1));
    app.apply(Action::Open);
    insta::assert_snapshot!(
        "incident-detail-80x24",
        text(&watchdeck::screenshot::render(&app, size))
    );
    app.apply(Action::Back);
    app.apply(Action::Help);
    insta::assert_snapshot!(
        "help-80x24",
        text(&watchdeck::screenshot::render(&app, size))
    );
    app.apply(Action::Back);
    app.apply(Action::GoToTab(2));
    app.apply(Action::Filter);
    for c in "env=prod node~web".chars() {
        app.key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Char(c),
        ));
    }
    insta::assert_snapshot!(
        "nodes-filter-typing-80x24",
        text(&watchdeck::screenshot::render(&app, size))
    );
}

#[test]
fn committed_screenshots_are_current() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("screenshots");
    let mut stale = Vec::new();
    for (name, svg) in watchdeck::screenshot::render_all(demo(), (160, 48)) {
        let path = dir.join(&name);
        match std::fs::read_to_string(&path) {
            Ok(committed) if committed == svg => {}
            _ => stale.push(name),
        }
    }
    assert!(
        stale.is_empty(),
        "screenshots out of date: {stale:?}; run `cargo run --release -- screenshot --out screenshots/`"
    );
}

#[test]
fn every_size_and_mode_draws_without_panicking() {
    let mut app = app();
    let sizes = [
        (1, 1),
        (2, 1),
        (1, 3),
        (10, 3),
        (20, 5),
        (40, 10),
        (79, 23),
        (80, 24),
        (100, 30),
        (139, 40),
        (140, 40),
        (200, 60),
        (300, 100),
    ];
    for i in 0..Tab::ALL.len() {
        app.apply(Action::GoToTab(i as u8));
        for mode in 0..4 {
            match mode {
                1 => app.apply(Action::Open),
                2 => app.apply(Action::Help),
                3 => app.apply(Action::Filter),
                _ => {}
            }
            for size in sizes {
                app.size = size;
                let _ = watchdeck::screenshot::render(&app, size);
            }
            app.key(crossterm::event::KeyEvent::from(
                crossterm::event::KeyCode::Esc,
            ));
            app.apply(Action::Back);
        }
    }
}

/// Control characters a terminal would act on: C0 (but not the cell's own space), DEL,
/// C1, and the invisible/bidi characters that reorder or hide text.
fn dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{061C}' | '\u{2028}' | '\u{2029}')
}

#[test]
fn hostile_strings_from_the_demo_render_without_control_characters() {
    let scene = runtime()
        .block_on(scene::replay(&ReplayOptions {
            until: std::time::Duration::from_secs(10),
            hostile: true,
            ..ReplayOptions::default()
        }))
        .expect("hostile demo replays");
    let probes = scene
        .situation
        .fleet
        .alerts
        .iter()
        .filter(|a| a.name.starts_with("InjectionProbe"))
        .count();
    assert!(
        probes >= watchdeck::demo::hostile::CORPUS.len(),
        "every corpus entry arrives as an alert ({probes} seen)"
    );
    let mut app = watchdeck::screenshot::app_for(&scene);
    for size in [(80, 24), (200, 60)] {
        app.size = size;
        for i in 0..Tab::ALL.len() {
            app.apply(Action::GoToTab(i as u8));
            for detail in [false, true] {
                if detail {
                    app.apply(Action::Open);
                }
                // Walk every row so each probe is on screen (and in the pane) once.
                app.apply(Action::Top);
                for _ in 0..app.view().rows.len().max(1) {
                    let buffer = watchdeck::screenshot::render(&app, size);
                    for y in 0..buffer.area.height {
                        for x in 0..buffer.area.width {
                            let sym = buffer[(x, y)].symbol();
                            assert!(
                                !sym.chars().any(dangerous),
                                "control character {sym:?} at {x},{y} on {:?}:\n{}",
                                app.tab,
                                text(&buffer)
                            );
                            assert!(!sym.contains('\x1b'));
                        }
                    }
                    let screen = text(&buffer);
                    assert!(
                        !screen.contains("[0;36m"),
                        "escape remnants on screen:\n{screen}"
                    );
                    assert!(
                        !screen.contains("]52;"),
                        "OSC 52 remnants on screen:\n{screen}"
                    );
                    app.apply(Action::Down);
                }
                app.apply(Action::Back);
            }
        }
    }
    let _ = Arc::new(());
}
