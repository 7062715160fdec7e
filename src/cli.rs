//! Command-line interface: flags and subcommands, parsed with clap.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::settings::Preset;

/// watchdeck: a terminal operations console for on-call engineers.
#[derive(Debug, Parser)]
#[command(name = "watchdeck", version, about, long_about = None)]
pub struct Cli {
    /// Config file (default: the XDG config path, see `watchdeck info`).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Run on the embedded demo fleet instead of a config file.
    #[arg(long, global = true)]
    pub demo: bool,

    /// Seed of the demo fleet (same seed, same story).
    #[arg(long, global = true, default_value_t = 42, hide = true)]
    pub seed: u64,

    /// Theme name or path (overrides the config).
    #[arg(long, global = true, value_name = "NAME|PATH")]
    pub theme: Option<String>,

    /// Mouse support in the console: click tabs and rows, scroll (or `mouse = true` in the
    /// config's [general]).
    #[arg(long, global = true)]
    pub mouse: bool,

    /// With --demo: the demo's Alertmanager also serves a corpus of terminal-injection
    /// strings (escape sequences, bidi overrides, …) to show they arrive neutralised.
    #[arg(long, global = true, requires = "demo")]
    pub hostile: bool,

    /// Hide and refuse every runbook action (or `read_only = true` in [general]).
    #[arg(long, global = true)]
    pub read_only: bool,

    /// Run only runbook plans (their dry runs); a runbook without a plan cannot run.
    #[arg(long, global = true)]
    pub dry_run: bool,

    /// Extra rule file (repeatable); added after the default pack and ~/.config/watchdeck/rules.d/*.toml.
    #[arg(long = "rules", global = true, value_name = "FILE")]
    pub rules: Vec<PathBuf>,

    /// Log level for the log file (RUST_LOG overrides).
    #[arg(long, global = true, default_value = "info")]
    pub log_level: String,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch and parse one endpoint (URL or file) the way the console would.
    Probe {
        /// An http(s) URL or a file holding exposition text.
        target: String,
        /// Print one JSON object (families, samples, errors) instead of a report.
        #[arg(long)]
        json: bool,
        /// Exporter preset for the domain view (default: guessed from the metric names).
        #[arg(long, value_parser = parse_preset)]
        preset: Option<Preset>,
        /// Request timeout for a URL.
        #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
        timeout: std::time::Duration,
    },
    /// Poll once (or for a while), evaluate the rules, print the incidents and exit with a
    /// code for the worst severity: 0 none, 11 sev3, 12 sev2, 13 sev1, 14 could not poll.
    Check {
        /// Only this environment.
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Keep polling this long so `for` clauses can be met (e.g. 2m).
        #[arg(long = "for", value_name = "DURATION", value_parser = humantime::parse_duration)]
        for_: Option<std::time::Duration>,
    },
    /// Work with recorded incidents.
    Incidents {
        #[command(subcommand)]
        command: IncidentsCommand,
    },
    /// Print every path watchdeck uses.
    Info,
    /// Render every tab of the deterministic demo (fixed seed and clock) to SVG files.
    Screenshot {
        /// Directory for the SVG files (created if missing).
        #[arg(long, value_name = "DIR", default_value = "screenshots")]
        out: PathBuf,
        /// Terminal size to render, COLSxROWS.
        #[arg(long, default_value = "160x48", value_parser = parse_size)]
        size: (u16, u16),
    },
    /// Write a starter config to the XDG config path (never overwrites).
    Init {
        /// Write here instead of the XDG config path.
        #[arg(long, value_name = "PATH")]
        path: Option<PathBuf>,
    },
}

fn parse_size(s: &str) -> Result<(u16, u16), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected COLSxROWS like 160x48, got `{s}`"))?;
    let n = |v: &str| {
        v.trim()
            .parse::<u16>()
            .ok()
            .filter(|n| (20..=1000).contains(n))
            .ok_or_else(|| format!("`{v}` is not a size between 20 and 1000"))
    };
    Ok((n(w)?, n(h)?))
}

fn parse_preset(s: &str) -> Result<Preset, String> {
    Preset::parse(s).ok_or_else(|| {
        let names: Vec<_> = Preset::ALL.iter().map(|p| p.as_str()).collect();
        format!(
            "unknown preset `{s}`; expected one of: {}",
            names.join(", ")
        )
    })
}

#[derive(Debug, Subcommand)]
pub enum IncidentsCommand {
    /// List incidents from the journal.
    List {
        /// Read the demo's journal instead of the real one.
        #[arg(long)]
        demo_journal: bool,
    },
    /// Write an incident's timeline as a postmortem starting point.
    Export {
        /// Incident ID, e.g. INC-0042 or 42.
        id: String,
        /// Markdown (the only format so far; accepted for clarity).
        #[arg(long)]
        markdown: bool,
        /// Read the demo's journal instead of the real one.
        #[arg(long)]
        demo_journal: bool,
    },
}
