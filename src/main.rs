//! The `watchdeck` binary: parses the command line and runs the console, the demo, or one
//! of the one-shot commands. Errors get their context here, at the edge.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser as _;

use watchdeck::cli::{Cli, Command, IncidentsCommand};
use watchdeck::clock::SystemClock;
use watchdeck::config::Settings;
use watchdeck::config::settings::SourceKind;
use watchdeck::config::{self, paths::Paths};
use watchdeck::demo::{DemoFleet, DemoOptions};
use watchdeck::engine::EngineOptions;
use watchdeck::rules::RuleSet;
use watchdeck::runbook::runner::{Runner, RunnerConfig};
use watchdeck::ui::app::AppOptions;
use watchdeck::ui::keymap::Keymap;
use watchdeck::ui::theme::Theme;
use watchdeck::{check, engine, logging, probe};

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
        Some(Command::Check { env, json, for_ }) => {
            let Some((mut settings, demo)) = settings_for(&cli).await? else {
                return Ok(ExitCode::from(EXIT_CONFIG));
            };
            if let Some(env) = env
                && let Err(e) = check::restrict(&mut settings, env)
            {
                eprintln!("watchdeck check: {e}");
                return Ok(ExitCode::from(EXIT_CONFIG));
            }
            let Some(rules) = load_rules(&cli)? else {
                return Ok(ExitCode::from(EXIT_CONFIG));
            };
            let result = check::run(&settings, rules, *for_, Arc::new(SystemClock)).await?;
            if *json {
                println!("{}", check::to_json(&result));
            } else {
                print!("{}", check::report(&result));
            }
            if let Some(fleet) = demo {
                fleet.shutdown().await;
            }
            Ok(ExitCode::from(result.exit_code))
        }
        Some(Command::Incidents { command }) => incidents(command).await,
        Some(Command::Screenshot { out, size }) => {
            let written = watchdeck::screenshot::write_all(out, *size).await?;
            for path in written {
                println!("{}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        None => console(&cli).await,
    }
}

/// Settings from `--demo` (starting the fleet) or the config file; `None` after printing a
/// configuration error.
async fn settings_for(cli: &Cli) -> anyhow::Result<Option<(Settings, Option<DemoFleet>)>> {
    if cli.demo {
        let fleet = DemoFleet::start(DemoOptions {
            seed: cli.seed,
            hostile: cli.hostile,
            ..DemoOptions::default()
        })
        .await
        .context("cannot start the demo fleet")?;
        let settings = config::load_str(&fleet.config_toml(), Path::new("<demo>"))
            .context("the demo fleet produced an invalid config (a bug)")?;
        return Ok(Some((settings, Some(fleet))));
    }
    let paths = Paths::discover()?;
    let path = cli
        .config
        .clone()
        .unwrap_or_else(|| paths.config_file.clone());
    if cli.config.is_none() && !path.exists() {
        eprintln!("watchdeck: no config at {}.", path.display());
        eprintln!("  watchdeck init      writes a starter config there");
        eprintln!("  watchdeck --demo    runs the console on an embedded demo fleet");
        return Ok(None);
    }
    match config::load(&path) {
        Ok(s) => Ok(Some((s, None))),
        Err(e) => {
            eprintln!("{e}");
            Ok(None)
        }
    }
}

/// The default pack, then `rules.d/*.toml` in the config dir (sorted), then `--rules` files.
fn load_rules(cli: &Cli) -> anyhow::Result<Option<RuleSet>> {
    let mut files = Vec::new();
    if let Ok(paths) = Paths::discover() {
        let dir = paths.config_dir.join("rules.d");
        if let Ok(entries) = std::fs::read_dir(&dir) {
            let mut found: Vec<_> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            found.sort();
            files.extend(found);
        }
    }
    files.extend(cli.rules.iter().cloned());
    match RuleSet::load(&files) {
        Ok(set) => Ok(Some(set)),
        Err(e) => {
            eprintln!("{e}");
            Ok(None)
        }
    }
}

/// The incident journal: the demo keeps its own, so a demo never mixes with real incidents.
fn journal_path(paths: &Paths, demo: bool) -> std::path::PathBuf {
    paths.data_dir.join(if demo {
        "demo-incidents.jsonl"
    } else {
        "incidents.jsonl"
    })
}

async fn incidents(command: &IncidentsCommand) -> anyhow::Result<ExitCode> {
    let paths = Paths::discover()?;
    let (demo, id) = match command {
        IncidentsCommand::List { demo_journal } => (*demo_journal, None),
        IncidentsCommand::Export {
            id, demo_journal, ..
        } => (*demo_journal, Some(id.as_str())),
    };
    let path = journal_path(&paths, demo);
    let rules = RuleSet::default_pack()?;
    // Read only: a console may be writing the journal (see `Incidents::read_journal`).
    let (incidents, warnings) =
        watchdeck::incident::Incidents::read_journal(&path, rules.incident_config())?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    let now = chrono::Utc::now();
    match id {
        None => {
            for i in incidents.incidents() {
                println!(
                    "{}  {} {:<9} {:<12} {:<9} {}",
                    i.id,
                    i.severity.glyph(),
                    i.severity.label(),
                    i.environment,
                    i.display_state().as_str(),
                    i.summary
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(id) => {
            let number = id
                .trim_start_matches("INC-")
                .trim_start_matches("inc-")
                .parse::<u64>()
                .ok();
            match number.and_then(|n| incidents.get(watchdeck::incident::IncidentId(n))) {
                Some(incident) => {
                    print!("{}", watchdeck::incident::export_markdown(incident, now));
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    eprintln!(
                        "watchdeck incidents export: no incident {id} in {}",
                        path.display()
                    );
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

/// The TUI on the configured environments or on the demo fleet.
async fn console(cli: &Cli) -> anyhow::Result<ExitCode> {
    let paths = Paths::discover()?;
    let Some((settings, demo)) = settings_for(cli).await? else {
        return Ok(ExitCode::from(EXIT_CONFIG));
    };
    let Some(rules) = load_rules(cli)? else {
        return Ok(ExitCode::from(EXIT_CONFIG));
    };
    // NO_COLOR wins over the default theme, not over an explicit choice (no-color.org:
    // user-level configuration may ask for colour). A config that names the default theme
    // is indistinguishable from no choice, so it counts as none.
    let configured = Some(settings.general.theme.as_str()).filter(|t| *t != "dark");
    let requested = cli.theme.as_deref().or(configured);
    let theme = match Theme::select_from(requested, Theme::no_color_env(), Some(&paths.themes_dir))
    {
        Ok(t) => t,
        Err(e) => {
            eprintln!("watchdeck: {e}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    };
    let keymap_path = paths.config_dir.join("keymap.toml");
    let keymap_text = match std::fs::read_to_string(&keymap_path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            eprintln!("watchdeck: cannot read {}: {e}", keymap_path.display());
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    };
    let origin = keymap_path.display().to_string();
    let keymap = match Keymap::load(keymap_text.as_deref().map(|t| (t, origin.as_str()))) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("watchdeck: {e}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    };
    let _log_guard = logging::init_file(&paths.log_file, &cli.log_level)
        .with_context(|| format!("cannot open log file {}", paths.log_file.display()))?;
    tracing::info!(
        demo = cli.demo,
        environments = settings.environments.len(),
        "starting"
    );
    let journal = journal_path(&paths, cli.demo);
    if let Some(dir) = journal.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let runbook_links: Vec<(String, Vec<String>)> = rules
        .rules
        .iter()
        .filter(|r| !r.runbooks.is_empty())
        .map(|r| (r.name.clone(), r.runbooks.clone()))
        .collect();
    let read_only = cli.read_only || settings.general.read_only;
    let runbook_keys = match watchdeck::ui::launch::runbook_keys(&keymap, &settings.runbooks) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("watchdeck: {e}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    };
    // Runbooks: the audit log beside the incident journal (the demo keeps its own), locks in
    // the configured shared directory or the per-user runtime dir.
    let audit_path = paths.data_dir.join(if cli.demo {
        "demo-audit.jsonl"
    } else {
        "audit.jsonl"
    });
    let runner = (!read_only).then(|| {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let runner = Runner::new(RunnerConfig {
            audit_path: audit_path.clone(),
            lock_dir: settings
                .general
                .lock_dir
                .clone()
                .unwrap_or_else(|| paths.runtime_dir.join("locks")),
            host: watchdeck::runbook::runner::hostname(),
            events: tx.into(),
            clock: Arc::new(SystemClock),
            read_only,
        });
        (runner, rx)
    });
    let running = engine::start(
        &settings,
        Arc::new(SystemClock),
        EngineOptions {
            rules,
            journal: Some(journal),
            // Every demo run tells its story from the start; yesterday's demo incidents
            // would only confuse it. The file stays after exit for `incidents export
            // --demo-journal`.
            fresh_journal: cli.demo,
        },
    )?;
    // The demo's audit log starts over with its journal (under the journal's lock, so a
    // second demo that is refused touches neither): yesterday's demo runs name incident
    // IDs that today's demo gives to other incidents. It stays after exit, as the journal.
    if cli.demo
        && let Err(e) = std::fs::File::create(&audit_path)
    {
        tracing::warn!(audit = %audit_path.display(), "cannot empty the demo audit log: {e}");
    }
    let history = match watchdeck::runbook::audit::read_history_report(&audit_path) {
        Ok(h) => {
            for w in &h.warnings {
                tracing::warn!(audit = %audit_path.display(), "{w}");
            }
            h.entries
                .into_iter()
                .map(watchdeck::ui::launch::history_view)
                .collect()
        }
        Err(e) => {
            tracing::warn!("cannot read the runbook audit log: {e}");
            Vec::new()
        }
    };
    let result = watchdeck::ui::run(
        running.situations.clone(),
        running.commands.clone(),
        watchdeck::ui::UiOptions {
            app: AppOptions {
                demo: cli.demo,
                user: current_user(),
                theme,
                keymap,
                runbook_links,
                mouse: cli.mouse || settings.general.mouse,
                themes_dir: Some(paths.themes_dir.clone()),
                runbooks: Arc::new(settings.runbooks.clone()),
                runbook_keys,
                history,
                read_only,
                dry_run: cli.dry_run,
                alertmanagers: Arc::new(
                    settings
                        .sources()
                        .filter(|s| matches!(s.kind, SourceKind::Alertmanager))
                        .cloned()
                        .collect(),
                ),
            },
            bell_on_sev1: settings.general.bell_on_sev1,
            runner,
        },
    )
    .await;
    running.shutdown().await;
    if let Some(fleet) = demo {
        fleet.shutdown().await;
    }
    result.map(|()| ExitCode::SUCCESS)
}

/// Who acknowledges: `$USER`, else `$LOGNAME`, else the numeric uid.
fn current_user() -> String {
    use std::os::unix::fs::MetadataExt as _;
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.trim().is_empty()))
        .or_else(|| {
            std::fs::metadata("/proc/self")
                .ok()
                .map(|m| format!("uid {}", m.uid()))
        })
        .unwrap_or_else(|| "unknown".to_owned())
}
