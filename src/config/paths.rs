//! Where watchdeck keeps its files, and writing the starter config.
//!
//! Owns [`Paths`] (discovered with `directories`, which honours the XDG base-directory
//! variables on Linux) and [`write_starter`]. Nothing here reads a config.
//!
//! On Linux with no XDG variables set:
//!
//! | path          | default                                  |
//! |---------------|------------------------------------------|
//! | `config_file` | `~/.config/watchdeck/config.toml`        |
//! | `themes_dir`  | `~/.config/watchdeck/themes`             |
//! | `keymap_file` | `~/.config/watchdeck/keymap.toml`        |
//! | `data_dir`    | `~/.local/share/watchdeck`               |
//! | `state_dir`   | `~/.local/state/watchdeck`               |
//! | `log_file`    | `~/.local/state/watchdeck/watchdeck.log` |
//! | `runtime_dir` | `$XDG_RUNTIME_DIR/watchdeck`, else `state_dir` |

use std::io::Write;
use std::path::{Path, PathBuf};

use directories::ProjectDirs;

use super::{ConfigError, EXAMPLE_CONFIG};

/// The files and directories watchdeck uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub config_file: PathBuf,
    pub config_dir: PathBuf,
    pub themes_dir: PathBuf,
    pub keymap_file: PathBuf,
    pub data_dir: PathBuf,
    /// Logs and other state; the data directory on platforms without a state directory.
    pub state_dir: PathBuf,
    pub log_file: PathBuf,
    /// Sockets and other per-session files; the state directory when the platform has none.
    pub runtime_dir: PathBuf,
}

impl Paths {
    /// The platform's paths for watchdeck (XDG on Linux, `~/Library/…` on macOS, …).
    pub fn discover() -> Result<Paths, ConfigError> {
        let dirs = ProjectDirs::from("", "", "watchdeck").ok_or(ConfigError::NoHomeDir)?;
        Ok(Paths::from_dirs(
            dirs.config_dir(),
            dirs.data_dir(),
            dirs.state_dir(),
            dirs.runtime_dir(),
        ))
    }

    /// Paths under explicit base directories (already specific to watchdeck); the state
    /// directory falls back to the data directory and the runtime directory to the state
    /// directory.
    pub fn from_dirs(
        config_dir: &Path,
        data_dir: &Path,
        state_dir: Option<&Path>,
        runtime_dir: Option<&Path>,
    ) -> Paths {
        let state_dir = state_dir.unwrap_or(data_dir).to_owned();
        Paths {
            config_file: config_dir.join("config.toml"),
            config_dir: config_dir.to_owned(),
            themes_dir: config_dir.join("themes"),
            keymap_file: config_dir.join("keymap.toml"),
            data_dir: data_dir.to_owned(),
            log_file: state_dir.join("watchdeck.log"),
            runtime_dir: runtime_dir.map_or_else(|| state_dir.clone(), Path::to_owned),
            state_dir,
        }
    }
}

/// Write the commented starter config (`config/example.toml`) to `path`, creating its
/// parent directories. Refuses to replace an existing file ([`ConfigError::AlreadyExists`]).
pub fn write_starter(path: &Path) -> Result<(), ConfigError> {
    let write_err = |source| ConfigError::Write {
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| ConfigError::Write {
            path: parent.to_owned(),
            source,
        })?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                ConfigError::AlreadyExists {
                    path: path.to_owned(),
                }
            } else {
                write_err(e)
            }
        })?;
    file.write_all(EXAMPLE_CONFIG.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(write_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallbacks() {
        let p = Paths::from_dirs(Path::new("/c"), Path::new("/d"), None, None);
        assert_eq!(p.config_file, Path::new("/c/config.toml"));
        assert_eq!(p.themes_dir, Path::new("/c/themes"));
        assert_eq!(p.keymap_file, Path::new("/c/keymap.toml"));
        assert_eq!(p.state_dir, Path::new("/d"));
        assert_eq!(p.log_file, Path::new("/d/watchdeck.log"));
        assert_eq!(p.runtime_dir, Path::new("/d"));
        let p = Paths::from_dirs(
            Path::new("/c"),
            Path::new("/d"),
            Some(Path::new("/s")),
            Some(Path::new("/r")),
        );
        assert_eq!(p.log_file, Path::new("/s/watchdeck.log"));
        assert_eq!(p.runtime_dir, Path::new("/r"));
    }
}
