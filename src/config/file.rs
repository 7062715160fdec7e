//! Config file structs (stub; the config helper replaces this).

use std::path::Path;

use super::{ConfigError, Settings};

pub fn resolve(_text: &str, _origin: &Path) -> Result<Settings, ConfigError> {
    Err(ConfigError::Invalid("not implemented".into()))
}
