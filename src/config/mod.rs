//! Configuration: TOML file structs (`file`), their validation and resolution into
//! [`settings::Settings`], and the paths the program uses (`paths`).

pub mod error;
pub mod file;
pub mod paths;
pub mod settings;

use std::path::Path;

pub use error::ConfigError;
pub use settings::Settings;

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
    file::resolve(text, origin)
}
