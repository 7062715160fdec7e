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
    /// Print every path watchdeck uses.
    Info,
    /// Write a starter config to the XDG config path (never overwrites).
    Init {
        /// Write here instead of the XDG config path.
        #[arg(long, value_name = "PATH")]
        path: Option<PathBuf>,
    },
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
