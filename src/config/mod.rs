//! Configuration: TOML file structs (`file`), their validation and resolution into
//! [`settings::Settings`] (`resolve`, with `condition` and `values` for the small
//! languages inside values), located errors (`error`) and the paths the program uses
//! (`paths`).

mod condition;
pub mod error;
pub mod file;
pub mod paths;
mod resolve;
mod resolve_runbook;
pub mod settings;
mod values;

use std::path::Path;

pub use error::{ConfigError, Diagnostic, ErrorKind};
pub use paths::{Paths, write_starter};
pub use settings::Settings;
pub use values::{is_label_name, is_metric_name};

/// The commented starter config written by [`write_starter`] (`config/example.toml`).
pub const EXAMPLE_CONFIG: &str = include_str!("../../config/example.toml");

/// Read, validate and resolve a config file.
pub fn load(path: &Path) -> Result<Settings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    load_str(&text, path)
}

/// Validate and resolve config text; `origin` names it in errors and anchors relative paths
/// (secret files) to its directory.
pub fn load_str(text: &str, origin: &Path) -> Result<Settings, ConfigError> {
    resolve::resolve(text, origin)
}
