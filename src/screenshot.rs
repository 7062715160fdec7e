//! `watchdeck screenshot`: every tab of the deterministic demo (fixed seed, fixed clock,
//! replayed through the real pollers and rules) drawn into an off-screen buffer and written
//! as SVG. The same function feeds the test that fails when the committed screenshots are
//! out of date, so the README never shows a console that no longer exists.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::demo::scene::{self, ReplayOptions, Scene};
use crate::ui::action::Action;
use crate::ui::app::{App, AppOptions, Tab};

/// The moment of the demo story the screenshots show: 300 s in, a web node is down, a
/// Galera node has just resynced and a backup is about to be missed.
pub fn replay_options() -> ReplayOptions {
    ReplayOptions::default()
}

/// An App on the scene, as a user who just started it would see it.
pub fn app_for(scene: &Scene) -> App {
    let mut options = AppOptions::new(true, "oncall");
    options.runbook_links = scene
        .rules
        .rules
        .iter()
        .filter(|r| !r.runbooks.is_empty())
        .map(|r| (r.name.clone(), r.runbooks.clone()))
        .collect();
    options.runbooks = Arc::new(scene.settings.runbooks.clone());
    App::new(Arc::new(scene.situation.clone()), options)
}

/// Draw the app into a `width` × `height` buffer.
pub fn render(app: &App, (width, height): (u16, u16)) -> ratatui::buffer::Buffer {
    let backend = TestBackend::new(width, height);
    let mut terminal = match Terminal::new(backend) {
        Ok(t) => t,
        // TestBackend cannot fail to start; an empty buffer would show it if it did.
        Err(_) => {
            return ratatui::buffer::Buffer::empty(ratatui::layout::Rect::new(0, 0, width, height));
        }
    };
    let _ = terminal.draw(|f| crate::ui::draw(f, app));
    terminal.backend().buffer().clone()
}

/// (file name, SVG) for every tab, plus the incident detail pane.
pub fn render_all(scene: &Scene, size: (u16, u16)) -> Vec<(String, String)> {
    let mut app = app_for(scene);
    app.size = size;
    let mut out = Vec::new();
    for (i, tab) in Tab::ALL.iter().enumerate() {
        app.apply(Action::GoToTab(i as u8));
        let name = format!("{}-{}.svg", i + 1, tab.slug());
        let title = format!("watchdeck — {} (demo)", tab.title());
        out.push((
            name,
            crate::ui::svg::buffer_to_svg(&render(&app, size), &title),
        ));
    }
    app.apply(Action::GoToTab(1));
    app.apply(Action::Open);
    out.push((
        "8-incident-detail.svg".to_owned(),
        crate::ui::svg::buffer_to_svg(&render(&app, size), "watchdeck — incident detail (demo)"),
    ));
    out
}

/// Replay the demo and write every screenshot into `dir`.
pub async fn write_all(dir: &Path, size: (u16, u16)) -> anyhow::Result<Vec<PathBuf>> {
    let scene = scene::replay(&replay_options())
        .await
        .context("cannot replay the demo")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    for (name, svg) in render_all(&scene, size) {
        let path = dir.join(name);
        std::fs::write(&path, svg).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}
