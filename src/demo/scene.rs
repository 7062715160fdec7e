//! A deterministic replay of the demo fleet: the real pollers, parser, store, rules and
//! incidents stepped on a manual clock from a fixed start to a chosen moment of the fault
//! story. Screenshots, UI snapshot tests and the frame benchmark draw what this produces,
//! so they show exactly what `--demo` shows at that moment.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use super::{DemoError, DemoFleet, DemoOptions, ManualClock};
use crate::clock::Clock as _;
use crate::config::{self, Settings};
use crate::engine::{Core, Situation};
use crate::rules::RuleSet;
use crate::source::http::HttpClients;

/// The demo's fixed start for replays: 2026-11-21 22:26:40 UTC.
pub fn replay_start() -> DateTime<Utc> {
    Utc.timestamp_opt(1_795_300_000, 0)
        .single()
        .unwrap_or_default()
}

/// What a replay ends with.
pub struct Scene {
    pub situation: Situation,
    pub settings: Settings,
    pub rules: RuleSet,
}

#[derive(Debug, thiserror::Error)]
pub enum SceneError {
    #[error(transparent)]
    Demo(#[from] DemoError),
    #[error("the demo's own configuration does not load: {0}")]
    Config(String),
    #[error("the default rule pack does not load: {0}")]
    Rules(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// How to replay.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    pub seed: u64,
    /// Seconds of demo time after [`replay_start`] to stop at.
    pub until: Duration,
    /// One poll of every source and one rules round per step.
    pub step: Duration,
    /// Serve the hostile-string corpus in every remote text field.
    pub hostile: bool,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            seed: 42,
            until: Duration::from_secs(300),
            step: Duration::from_secs(5),
            hostile: false,
        }
    }
}

/// Run the demo fleet on a manual clock and step it to `until`.
pub async fn replay(opts: &ReplayOptions) -> Result<Scene, SceneError> {
    let start = replay_start();
    let clock = ManualClock::shared(start);
    let fleet = DemoFleet::start(DemoOptions {
        seed: opts.seed,
        clock: clock.clone(),
        hostile: opts.hostile,
    })
    .await?;
    let settings = config::load_str(&fleet.config_toml(), Path::new("<demo>"))
        .map_err(|e| SceneError::Config(e.to_string()))?;
    let rules = RuleSet::default_pack().map_err(|e| SceneError::Rules(e.to_string()))?;
    let clients = Arc::new(HttpClients::new().map_err(|e| SceneError::Client(e.to_string()))?);
    let mut core = Core::new(&settings, rules.clone());
    let end = start + chrono::Duration::from_std(opts.until).unwrap_or_default();
    let situation = loop {
        let now = clock.now();
        for mut report in crate::check::poll_all(&clients, &settings).await {
            // Simulated time, not wall-clock time: the poll took no demo time.
            report.at = now;
            report.duration = Duration::ZERO;
            core.ingest(report);
        }
        let situation = core.round(now);
        if now >= end {
            break situation;
        }
        clock.advance(opts.step);
    };
    fleet.shutdown().await;
    Ok(Scene {
        situation,
        settings,
        rules,
    })
}
