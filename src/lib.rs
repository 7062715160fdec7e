//! watchdeck: a terminal operations console for on-call engineers.
//!
//! Data flows one way: `source` (pollers) → `store` (latest samples, history, domain views)
//! → `ui` (draws a snapshot). `config` turns files into resolved settings; `demo` is an
//! embedded fleet served over real HTTP so the console runs with no setup.

pub mod check;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod engine;
pub mod incident;
pub mod logging;
pub mod probe;
pub mod rules;
pub mod runbook;
pub mod sanitize;
pub mod screenshot;
pub mod secret;
pub mod source;
pub mod store;
pub mod ui;
