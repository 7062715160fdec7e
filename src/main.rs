//! The `watchdeck` binary: parses the command line and runs the console, the demo, or one
//! of the one-shot commands. Errors get their context here, at the edge.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser as _;

use watchdeck::cli::{Cli, Command};
use watchdeck::clock::SystemClock;
use watchdeck::config::{self, paths::Paths};
use watchdeck::demo::{DemoFleet, DemoOptions};
use watchdeck::ui::theme::Theme;
use watchdeck::{engine, logging, probe};

/// Exit code for configuration and usage errors (documented in the README).
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("watchdeck: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("watchdeck: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Some(Command::Probe {
            target,
            json,
            preset,
            timeout,
        }) => {
            let fetched = match probe::fetch(target, *timeout).await {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("watchdeck probe: {e}");
                    return Ok(ExitCode::FAILURE);
                }
            };
            if *json {
                let parsed = watchdeck::source::exposition::parse(&fetched.body);
                println!("{}", probe::to_json(&parsed));
            } else {
                print!("{}", probe::report(&fetched, *preset));
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Info) => {
            let paths = Paths::discover()?;
            println!("config file:  {}", paths.config_file.display());
            println!("keymap file:  {}", paths.keymap_file.display());
            println!("themes dir:   {}", paths.themes_dir.display());
            println!("data dir:     {}", paths.data_dir.display());
            println!("state dir:    {}", paths.state_dir.display());
            println!("log file:     {}", paths.log_file.display());
            println!("runtime dir:  {}", paths.runtime_dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Init { path }) => {
            let target = match path {
                Some(p) => p.clone(),
                None => Paths::discover()?.config_file,
            };
            match config::paths::write_starter(&target) {
                Ok(()) => {
                    println!("wrote a starter config to {}", target.display());
                    println!("edit it, then run: watchdeck --config {}", target.display());
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("watchdeck init: {e}");
                    Ok(ExitCode::from(EXIT_CONFIG))
                }
            }
        }
        None => console(&cli).await,
    }
}

/// The TUI on the configured environments or on the demo fleet.
async fn console(cli: &Cli) -> anyhow::Result<ExitCode> {
    let paths = Paths::discover()?;
    let mut demo = None;
    let settings = if cli.demo {
        let fleet = DemoFleet::start(DemoOptions {
            seed: cli.seed,
            ..DemoOptions::default()
        })
        .await
        .context("cannot start the demo fleet")?;
        let settings = config::load_str(&fleet.config_toml(), Path::new("<demo>"))
            .context("the demo fleet produced an invalid config (a bug)")?;
        demo = Some(fleet);
        settings
    } else {
        let path = cli
            .config
            .clone()
            .unwrap_or_else(|| paths.config_file.clone());
        if cli.config.is_none() && !path.exists() {
            eprintln!("watchdeck: no config at {}.", path.display());
            eprintln!("  watchdeck init      writes a starter config there");
            eprintln!("  watchdeck --demo    runs the console on an embedded demo fleet");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
        match config::load(&path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                return Ok(ExitCode::from(EXIT_CONFIG));
            }
        }
    };
    let _log_guard = logging::init_file(&paths.log_file, &cli.log_level)
        .with_context(|| format!("cannot open log file {}", paths.log_file.display()))?;
    tracing::info!(
        demo = cli.demo,
        environments = settings.environments.len(),
        "starting"
    );
    let theme_name = cli
        .theme
        .clone()
        .unwrap_or_else(|| settings.general.theme.clone());
    let theme = if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        Theme::mono()
    } else {
        match Theme::load(&theme_name) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("watchdeck: {e}");
                return Ok(ExitCode::from(EXIT_CONFIG));
            }
        }
    };
    let running = engine::start(&settings, Arc::new(SystemClock))?;
    let result = watchdeck::ui::run(running.snapshots.clone(), cli.demo, theme).await;
    running.shutdown().await;
    if let Some(fleet) = demo {
        fleet.shutdown().await;
    }
    result.map(|()| ExitCode::SUCCESS)
}
