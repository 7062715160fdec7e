//! Config errors: what can go wrong reading, validating or writing a config file, and how
//! it is shown to a person.
//!
//! Owns [`ConfigError`], the [`ErrorKind`] taxonomy and [`Diagnostic`], a compiler-style
//! message that names `file:line:column`, says what is wrong and what was expected, and then
//! quotes the offending line with a caret under the column:
//!
//! ```text
//! config.toml:14:3: unknown key `intervall` in [[environment.metrics]]; expected one of: name, url, …
//!    |
//! 14 |   intervall = "10s"
//!    |   ^^^^^^^^^
//! ```
//!
//! Lines and columns are 1-based; columns count characters, not bytes.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Everything that can fail in `config`. Every variant maps to exit code 2 (see
/// [`ConfigError::exit_code`]).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read (missing, permissions, not UTF-8).
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file was read but is not a valid config; the diagnostic says where and why.
    #[error("{0}")]
    Invalid(Box<Diagnostic>),
    /// No home directory could be determined, so the default paths are unknown.
    #[error(
        "cannot determine the default config location: no home directory found \
         (set HOME, or pass a config file explicitly)"
    )]
    NoHomeDir,
    /// `write_starter` refuses to replace an existing file.
    #[error(
        "{} already exists; refusing to overwrite it (edit it, or move it aside and run again)",
        path.display()
    )]
    AlreadyExists { path: PathBuf },
    /// Writing the starter config (or creating its directory) failed.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl ConfigError {
    /// The process exit code for this error: always 2, the conventional "usage / bad input"
    /// code (as used by clap for argument errors), so scripts can tell a bad configuration
    /// apart from a runtime failure (1).
    pub fn exit_code(&self) -> i32 {
        2
    }

    /// The located diagnostic, if this is a validation error.
    pub fn diagnostic(&self) -> Option<&Diagnostic> {
        match self {
            ConfigError::Invalid(d) => Some(d),
            _ => None,
        }
    }

    /// What kind of validation error this is, if it is one.
    pub fn kind(&self) -> Option<ErrorKind> {
        self.diagnostic().map(|d| d.kind)
    }
}

/// The kinds of validation error, one per rule the loader enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is not valid TOML (includes duplicate keys).
    Syntax,
    /// A key that the table does not accept.
    UnknownKey,
    /// A value of the wrong TOML type (string where a number was expected, …).
    WrongType,
    /// A required key is absent.
    MissingKey,
    /// Not an absolute http(s) URL with a host.
    BadUrl,
    /// Not a duration humantime understands, or zero.
    BadDuration,
    /// Not a byte size (integer or "16MiB"-style string), or zero.
    BadSize,
    /// `tier` is not integration, staging or production.
    InvalidTier,
    /// `preset` is not one of the known presets.
    InvalidPreset,
    /// Two environments share a name.
    DuplicateEnvironment,
    /// Two sources in one environment share a name.
    DuplicateSource,
    /// `insecure_skip_verify = true` in a production-tier environment.
    InsecureInProduction,
    /// A token or password written into the config itself.
    InlineSecret,
    /// An `auth` table that mixes forms or is incomplete.
    BadAuth,
    /// An empty secret file path, or an empty or malformed environment variable name.
    BadSecretRef,
    /// A health `conditions` entry that does not parse.
    BadCondition,
    /// An environment name that is empty or has characters outside `[A-Za-z0-9_.-]`.
    InvalidEnvironmentName,
    /// A source name that is empty or contains `/` or control characters.
    InvalidSourceName,
    /// `backup_metrics` given for a preset other than `backup`.
    BackupMetricsOnNonBackup,
    /// `max_in_flight` below 1.
    InvalidMaxInFlight,
    /// `expect_status` outside 100..=599.
    InvalidStatus,
    /// A source's `timeout` is longer than its `interval`.
    TimeoutExceedsInterval,
    /// Two backup policies for the same service in one environment.
    DuplicateBackupPolicy,
    /// A backup catalog with both or neither of `url` and `path`, or an empty or
    /// unusable `path`.
    BadCatalogLocation,
    /// A backup catalog `format` other than auto, restic, walg, pgbackrest or generic.
    InvalidCatalogFormat,
    /// `retention = "<name>"` naming no known preset.
    UnknownRetentionPreset,
    /// A retention tier whose `from` is not below `to`, whose `every` is longer than
    /// `to - from`, or an empty retention array.
    InvalidRetentionTier,
    /// No `[[environment]]` at all.
    NoEnvironments,
    /// Two runbooks share a name.
    DuplicateRunbook,
    /// A runbook that runs a shell with `-c` (a command string): refused, because a
    /// substituted value could become shell syntax.
    ShellCommand,
    /// A runbook placeholder that is malformed, undeclared, unavailable for the target
    /// kind, or inside the program name.
    BadPlaceholder,
    /// A runbook parameter declaration that is inconsistent (string without `pattern`,
    /// integer range upside down, default outside its type, …).
    BadParam,
    /// `confirm = "none"` on a runbook that can run in a production-tier environment.
    UnsafeConfirm,
    /// A runbook names an environment that is not configured.
    UnknownEnvironment,
    /// Any other out-of-range or empty value (empty theme, empty service name, …).
    InvalidValue,
}

/// A located, human-readable validation error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub kind: ErrorKind,
    /// The config file, as it was named to the loader.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong and what is expected (one line, no location prefix).
    pub message: String,
    /// The text of the offending line (without its newline).
    pub source_line: String,
    /// How many characters to underline, at least 1.
    pub highlight: usize,
}

impl Diagnostic {
    /// Build a diagnostic for the byte range `span` of `text`.
    pub fn new(
        kind: ErrorKind,
        file: &Path,
        text: &str,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Self {
        let pos = Position::of(text, span.start);
        let rest_of_line = pos.line_text.chars().count() + 1 - pos.column;
        let span_chars = text
            .get(span.start.min(text.len())..span.end.clamp(span.start, text.len()))
            .map_or(0, |s| s.chars().count());
        Self {
            kind,
            file: file.to_owned(),
            line: pos.line,
            column: pos.column,
            message: message.into(),
            source_line: pos.line_text.to_owned(),
            highlight: span_chars.min(rest_of_line).max(1),
        }
    }

    /// `file:line:column`, as printed at the start of the message.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

impl From<Diagnostic> for ConfigError {
    fn from(d: Diagnostic) -> Self {
        ConfigError::Invalid(Box::new(d))
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}: {}", self.location(), self.message)?;
        let gutter = " ".repeat(self.line.to_string().len());
        writeln!(f, "{gutter} |")?;
        writeln!(f, "{} | {}", self.line, self.source_line)?;
        // Keep tabs so the caret lines up under tab-indented source.
        let pad: String = self
            .source_line
            .chars()
            .take(self.column - 1)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        write!(f, "{gutter} | {pad}{}", "^".repeat(self.highlight))
    }
}

/// A byte offset translated into 1-based line and character column.
struct Position<'a> {
    line: usize,
    column: usize,
    line_text: &'a str,
}

impl<'a> Position<'a> {
    fn of(text: &'a str, offset: usize) -> Self {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        let line_text = text[line_start..line_end].trim_end_matches('\r');
        Position {
            line: text[..line_start].matches('\n').count() + 1,
            column: text[line_start..offset].chars().count() + 1,
            line_text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_chars() {
        let text = "a = 1\nbé = \"x\"\n";
        let d = Diagnostic::new(ErrorKind::WrongType, Path::new("c.toml"), text, 11..14, "m");
        assert_eq!((d.line, d.column), (2, 5));
        assert_eq!(d.highlight, 3);
        assert_eq!(d.source_line, "bé = \"x\"");
        assert_eq!(
            d.to_string(),
            "c.toml:2:5: m\n  |\n2 | bé = \"x\"\n  |     ^^^"
        );
    }

    #[test]
    fn offset_at_end_of_file_is_clamped() {
        let text = "a = ";
        let d = Diagnostic::new(ErrorKind::Syntax, Path::new("c.toml"), text, 4..4, "m");
        assert_eq!((d.line, d.column, d.highlight), (1, 5, 1));
        let d = Diagnostic::new(ErrorKind::Syntax, Path::new("c.toml"), "", 0..0, "m");
        assert_eq!((d.line, d.column, d.highlight), (1, 1, 1));
    }

    #[test]
    fn every_error_exits_with_2() {
        let e = ConfigError::NoHomeDir;
        assert_eq!(e.exit_code(), 2);
    }
}
