//! From config text to [`Settings`]: parse, check every rule, fill in every default.
//!
//! Owns the translation of TOML/serde errors into located [`Diagnostic`]s (so "unknown
//! field" becomes "unknown key `x` in [[environment.metrics]]; expected one of: …") and all
//! semantic checks: URLs, durations, sizes, tiers, presets, unique names, auth forms, body
//! conditions, production safety. The first error found is returned.
//!
//! Source ids are assigned in order environment by environment, and within an environment:
//! health, then metrics, then alertmanager, then prometheus_alerts, then backup_catalog,
//! then prometheus, each in file order. (The children a `prometheus` source discovers get
//! their ids in the store, after every configured source.)

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::condition;
use super::error::{ConfigError, Diagnostic, ErrorKind};
use super::file::{
    AlertApiFile, AuthFile, BackupMetricsFile, BackupPolicyFile, CatalogFile, ConfigFile,
    DurationText, EnvironmentFile, GeneralFile, HealthFile, INLINE_SECRET_KEYS, MetricsFile,
    PrometheusFile, RetentionFile, SizeValue, TierFile,
};
use super::settings::{
    Auth, BackupMetricNames, BackupPolicy, CatalogFormat, CatalogSpec, DEFAULT_CATALOG_INTERVAL,
    DEFAULT_CATALOG_TIMEOUT, DEFAULT_INTERVAL, DEFAULT_MAX_BODY, DEFAULT_PROMETHEUS_INTERVAL,
    DEFAULT_PROMETHEUS_TIMEOUT, DEFAULT_TIMEOUT, EnvironmentSpec, General, HealthSpec, MetricsSpec,
    Placement, Preset, PrometheusSpec, RETENTION_PRESETS, RetentionTier, SecretSource, Settings,
    SourceId, SourceKind, SourceSpec, Tier, retention_preset,
};
use super::values;

/// Parse and resolve config text; `origin` names the file in errors and anchors relative
/// secret file paths to its directory.
pub fn resolve(text: &str, origin: &Path) -> Result<Settings, ConfigError> {
    let cx = Cx { text, origin };
    let de = toml::de::Deserializer::parse(text).map_err(|e| cx.syntax(&e))?;
    let file = ConfigFile::deserialize(de).map_err(|e| cx.structure(&e))?;
    cx.settings(file)
}

type Result<T, E = ConfigError> = std::result::Result<T, E>;

/// The text being resolved and where it came from.
pub(super) struct Cx<'a> {
    pub(super) text: &'a str,
    pub(super) origin: &'a Path,
}

/// Where a source is read from, as written.
enum Location<'a> {
    /// `url = "http(s)://…"`.
    Url(&'a Spanned<String>),
    /// A backup catalog: `url` (http(s) or file) or `path`, exactly one; `table` is the
    /// span of the whole table, for "neither given".
    Catalog {
        url: Option<&'a Spanned<String>>,
        path: Option<&'a Spanned<String>>,
        table: Range<usize>,
    },
}

/// The fields every source kind shares, borrowed from its file struct.
struct Common<'a> {
    name: &'a Spanned<String>,
    location: Location<'a>,
    default_interval: Duration,
    default_timeout: Duration,
    interval: Option<&'a Spanned<DurationText>>,
    timeout: Option<&'a Spanned<DurationText>>,
    max_body: Option<&'a Spanned<SizeValue>>,
    insecure_skip_verify: Option<&'a Spanned<bool>>,
    auth: Option<&'a Spanned<AuthFile>>,
}

impl<'a> Common<'a> {
    fn health(h: &'a HealthFile) -> Self {
        Common {
            name: &h.name,
            location: Location::Url(&h.url),
            default_interval: DEFAULT_INTERVAL,
            default_timeout: DEFAULT_TIMEOUT,
            interval: h.interval.as_ref(),
            timeout: h.timeout.as_ref(),
            max_body: h.max_body.as_ref(),
            insecure_skip_verify: h.insecure_skip_verify.as_ref(),
            auth: h.auth.as_ref(),
        }
    }

    fn metrics(m: &'a MetricsFile) -> Self {
        Common {
            name: &m.name,
            location: Location::Url(&m.url),
            default_interval: DEFAULT_INTERVAL,
            default_timeout: DEFAULT_TIMEOUT,
            interval: m.interval.as_ref(),
            timeout: m.timeout.as_ref(),
            max_body: m.max_body.as_ref(),
            insecure_skip_verify: m.insecure_skip_verify.as_ref(),
            auth: m.auth.as_ref(),
        }
    }

    fn alert_api(a: &'a AlertApiFile) -> Self {
        Common {
            name: &a.name,
            location: Location::Url(&a.url),
            default_interval: DEFAULT_INTERVAL,
            default_timeout: DEFAULT_TIMEOUT,
            interval: a.interval.as_ref(),
            timeout: a.timeout.as_ref(),
            max_body: a.max_body.as_ref(),
            insecure_skip_verify: a.insecure_skip_verify.as_ref(),
            auth: a.auth.as_ref(),
        }
    }

    fn prometheus(p: &'a PrometheusFile) -> Self {
        Common {
            name: &p.name,
            location: Location::Url(&p.url),
            default_interval: DEFAULT_PROMETHEUS_INTERVAL,
            default_timeout: DEFAULT_PROMETHEUS_TIMEOUT,
            interval: p.interval.as_ref(),
            timeout: p.timeout.as_ref(),
            max_body: p.max_body.as_ref(),
            insecure_skip_verify: p.insecure_skip_verify.as_ref(),
            auth: p.auth.as_ref(),
        }
    }

    fn catalog(c: &'a Spanned<CatalogFile>) -> Self {
        let table = c.span();
        let c = c.get_ref();
        Common {
            name: &c.name,
            location: Location::Catalog {
                url: c.url.as_ref(),
                path: c.path.as_ref(),
                table,
            },
            default_interval: DEFAULT_CATALOG_INTERVAL,
            default_timeout: DEFAULT_CATALOG_TIMEOUT,
            interval: c.interval.as_ref(),
            timeout: c.timeout.as_ref(),
            max_body: c.max_body.as_ref(),
            insecure_skip_verify: c.insecure_skip_verify.as_ref(),
            auth: c.auth.as_ref(),
        }
    }
}

/// The environment a source is resolved in.
struct EnvCx<'a> {
    name: &'a str,
    tier: Tier,
}

impl Cx<'_> {
    pub(super) fn err(
        &self,
        kind: ErrorKind,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> ConfigError {
        Diagnostic::new(kind, self.origin, self.text, span, message).into()
    }

    pub(super) fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        self.text.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    // ----- TOML and serde errors -------------------------------------------------------

    fn syntax(&self, e: &toml::de::Error) -> ConfigError {
        let span = e.span().unwrap_or(0..0);
        let msg = e.message().trim_end();
        self.err(ErrorKind::Syntax, span, format!("TOML syntax error: {msg}"))
    }

    /// Rewrite serde's messages ("unknown field", "missing field", "invalid type") into the
    /// config's own vocabulary, with the table they occur in and what is expected.
    fn structure(&self, e: &toml::de::Error) -> ConfigError {
        let span = e.span().unwrap_or(0..0);
        let msg = e.message().trim_end();
        if let Some(rest) = msg.strip_prefix("unknown field `") {
            return self.unknown_key(span, rest);
        }
        if let Some(rest) = msg.strip_prefix("missing field `") {
            let key = rest.split('`').next().unwrap_or(rest);
            let context = self.context_at(span.start);
            let hint = match key {
                "tier" => "; expected tier = \"integration\", \"staging\" or \"production\"",
                "url" => "; expected url = \"http(s)://host/…\"",
                "name" => "; expected a name, unique within the environment",
                "interval" | "rpo" => "; expected a duration such as \"15m\"",
                "service" => "; expected the name of the service the backups belong to",
                "every" | "from" | "to" => {
                    "; expected a tier such as { every = \"1d\", from = \"3d\", to = \"7d\" }"
                }
                _ => "",
            };
            return self.err(
                ErrorKind::MissingKey,
                span,
                format!("missing required key `{key}` in {context}{hint}"),
            );
        }
        if let Some(rest) = msg.strip_prefix("invalid type: ") {
            return self.wrong_type(span, rest);
        }
        if let Some(rest) = msg.strip_prefix("invalid value: ") {
            return self.wrong_type(span, rest);
        }
        self.err(ErrorKind::WrongType, span, msg.to_owned())
    }

    fn unknown_key(&self, span: Range<usize>, rest: &str) -> ConfigError {
        // rest: "key`, expected one of `a`, `b`" | "key`, expected `a` or `b`" | "key`, there are no fields"
        let mut parts = rest.split('`');
        let key = parts.next().unwrap_or_default();
        let expected: Vec<&str> = parts.skip(1).step_by(2).collect();
        let mut context = self.context_at(span.start);
        for (marker, table) in [
            ("bearer_token_file", "auth"),
            ("last_success", "backup_metrics"),
            ("every", "retention"),
        ] {
            if expected.contains(&marker) && !context.contains(&format!(".{table}]")) {
                context = format!("`{table}` of {context}");
            }
        }
        if INLINE_SECRET_KEYS.contains(&key) {
            let instead = if key == "password" {
                "auth = { username = \"…\", password_file = \"/path/to/file\" } or \
                 auth = { username = \"…\", password_env = \"VAR\" }"
            } else {
                "auth = { bearer_token_file = \"/path/to/file\" } or \
                 auth = { bearer_token_env = \"VAR\" }"
            };
            let mut d = Diagnostic::new(
                ErrorKind::InlineSecret,
                self.origin,
                self.text,
                span,
                format!(
                    "inline secret `{key}` in {context}: secrets must not be written into the \
                     config; read it from a file or an environment variable instead: {instead}"
                ),
            );
            // Never echo the secret itself: quote the line only up to the key.
            let upto: String = d
                .source_line
                .chars()
                .take(d.column - 1 + key.chars().count())
                .collect();
            d.source_line = format!("{upto} = [redacted]");
            return d.into();
        }
        let expected = if expected.is_empty() {
            "this table takes no keys".to_owned()
        } else {
            format!("expected one of: {}", expected.join(", "))
        };
        self.err(
            ErrorKind::UnknownKey,
            span,
            format!("unknown key `{key}` in {context}; {expected}"),
        )
    }

    fn wrong_type(&self, span: Range<usize>, rest: &str) -> ConfigError {
        let (found, expected) = rest
            .split_once(", expected ")
            .unwrap_or((rest, "another type"));
        let found = plain_type(found);
        let expected = plain_type(expected);
        let at = self.text.get(span.clone()).unwrap_or_default();
        if at.starts_with('[') {
            // A table header where an array of tables was expected, or the reverse.
            let path = header_path(at);
            let key = path.rsplit('.').next().unwrap_or(path);
            let hint = if expected == "an array" {
                format!("; write [[{path}]] (double brackets) for each entry")
            } else {
                String::new()
            };
            return self.err(
                ErrorKind::WrongType,
                span,
                format!("wrong type for `{key}`: found {found}, expected {expected}{hint}"),
            );
        }
        let what = match self.key_before(span.start) {
            Some(key) => format!("wrong type for `{key}`"),
            None => "wrong type".to_owned(),
        };
        self.err(
            ErrorKind::WrongType,
            span,
            format!("{what}: found {found}, expected {expected}"),
        )
    }

    /// The table a key at `offset` belongs to, as its header is written
    /// (`[[environment.metrics]]`), or "the top level".
    fn context_at(&self, offset: usize) -> String {
        let offset = offset.min(self.text.len());
        let line_start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line = self.text[line_start..].lines().next().unwrap_or_default();
        if line.trim_start().starts_with('[') {
            let here = header_path(line.trim_start());
            if self.text[offset..].starts_with('[') {
                // The error is about the header's own table (e.g. a missing key).
                return line
                    .trim()
                    .split('#')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_owned();
            }
            // The key is a segment of a header: its table is the header's parent.
            return match here.rsplit_once('.') {
                None => "the top level".to_owned(),
                Some(("general", _)) => "[general]".to_owned(),
                Some((parent, _)) => format!("[[{parent}]]"),
            };
        }
        self.text[..line_start]
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| l.starts_with('['))
            .map(|l| {
                let end = if l.starts_with("[[") {
                    l.find("]]").map(|i| i + 2)
                } else {
                    l.find(']').map(|i| i + 1)
                };
                l[..end.unwrap_or(l.len())].to_owned()
            })
            .unwrap_or_else(|| "the top level".to_owned())
    }

    /// The span of `key` in `key = value` when it is on the value's line, else the value's.
    pub(super) fn key_span(&self, key: &str, value: Range<usize>) -> Range<usize> {
        let line_start = self.text[..value.start.min(self.text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        match self
            .text
            .get(line_start..value.start)
            .and_then(|t| t.rfind(key))
        {
            Some(i) => line_start + i..line_start + i + key.len(),
            None => value,
        }
    }

    /// The key whose value starts at `offset`, if the text before it on the line is `key =`.
    fn key_before(&self, offset: usize) -> Option<String> {
        let offset = offset.min(self.text.len());
        let line_start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let before = self.text[line_start..offset].trim_end().strip_suffix('=')?;
        let before = before.trim_end();
        let start = before
            .char_indices()
            .rev()
            .find(|&(_, c)| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '"')))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let key = before[start..].trim_matches('"');
        (!key.is_empty()).then(|| key.to_owned())
    }

    // ----- semantic checks and resolution ----------------------------------------------

    fn settings(&self, file: ConfigFile) -> Result<Settings> {
        let general = match &file.general {
            Some(g) => self.general(g)?,
            None => General::default(),
        };
        if file.environment.is_empty() {
            return Err(self.err(
                ErrorKind::NoEnvironments,
                0..0,
                "no environments configured; expected at least one [[environment]] table \
                 with `name` and `tier` and its sources",
            ));
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut next_id = 0u32;
        let mut environments = Vec::with_capacity(file.environment.len());
        for env in &file.environment {
            let name = &env.get_ref().name;
            if !values::is_environment_name(name.get_ref()) {
                return Err(self.err(
                    ErrorKind::InvalidEnvironmentName,
                    name.span(),
                    format!(
                        "invalid environment name `{}`; expected a non-empty name made of \
                         letters, digits, `_`, `.` and `-`",
                        name.get_ref()
                    ),
                ));
            }
            if let Some(first) = seen.insert(name.get_ref(), self.line_of(name.span().start)) {
                return Err(self.err(
                    ErrorKind::DuplicateEnvironment,
                    name.span(),
                    format!(
                        "duplicate environment name `{}` (first defined at line {first}); \
                         expected each [[environment]] to have a unique name",
                        name.get_ref()
                    ),
                ));
            }
            environments.push(self.environment(env.get_ref(), &mut next_id)?);
        }
        let runbooks = self.runbooks(&file.runbook, &environments)?;
        Ok(Settings {
            path: Some(self.origin.to_owned()),
            general,
            environments,
            runbooks,
        })
    }

    fn general(&self, g: &GeneralFile) -> Result<General> {
        let mut general = General::default();
        if let Some(n) = &g.max_in_flight {
            let v = *n.get_ref();
            general.max_in_flight =
                usize::try_from(v).ok().filter(|&v| v >= 1).ok_or_else(|| {
                    self.err(
                        ErrorKind::InvalidMaxInFlight,
                        n.span(),
                        format!(
                            "max_in_flight must be at least 1 (got {v}); it bounds the HTTP \
                             requests in flight across all sources"
                        ),
                    )
                })?;
        }
        if let Some(theme) = &g.theme {
            if theme.get_ref().trim().is_empty() {
                return Err(self.err(
                    ErrorKind::InvalidValue,
                    theme.span(),
                    "empty theme; expected a theme name (e.g. \"dark\") or a path to a theme file",
                ));
            }
            general.theme = theme.get_ref().clone();
        }
        if let Some(b) = g.bell_on_sev1 {
            general.bell_on_sev1 = b;
        }
        if let Some(m) = g.mouse {
            general.mouse = m;
        }
        if let Some(r) = g.read_only {
            general.read_only = r;
        }
        if let Some(dir) = &g.lock_dir {
            let path = PathBuf::from(dir.get_ref());
            if !path.is_absolute() {
                return Err(self.err(
                    ErrorKind::InvalidValue,
                    dir.span(),
                    format!(
                        "lock_dir `{}` must be an absolute path (a directory shared by the \
                         on-call group, e.g. \"/run/lock/watchdeck\")",
                        dir.get_ref()
                    ),
                ));
            }
            general.lock_dir = Some(path);
        }
        Ok(general)
    }

    fn environment(&self, env: &EnvironmentFile, next_id: &mut u32) -> Result<EnvironmentSpec> {
        let name = env.name.get_ref();
        let tier = Tier::parse(env.tier.get_ref()).ok_or_else(|| {
            self.err(
                ErrorKind::InvalidTier,
                env.tier.span(),
                format!(
                    "invalid tier `{}` for environment `{name}`; expected one of: integration, \
                     staging, production",
                    env.tier.get_ref()
                ),
            )
        })?;
        let ecx = EnvCx { name, tier };

        // Source names are unique across all kinds; report the later one in the file.
        let mut names: Vec<&Spanned<String>> = env
            .health
            .iter()
            .map(|h| &h.get_ref().name)
            .chain(env.metrics.iter().map(|m| &m.get_ref().name))
            .chain(env.alertmanager.iter().map(|a| &a.get_ref().name))
            .chain(env.prometheus_alerts.iter().map(|a| &a.get_ref().name))
            .chain(env.backup_catalog.iter().map(|c| &c.get_ref().name))
            .chain(env.prometheus.iter().map(|p| &p.get_ref().name))
            .collect();
        names.sort_by_key(|n| n.span().start);
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for n in names {
            let s = n.get_ref();
            if s.trim().is_empty() {
                return Err(self.err(
                    ErrorKind::InvalidSourceName,
                    n.span(),
                    "empty source name; expected a name unique within the environment, \
                     such as \"web1-node\"",
                ));
            }
            if s.contains('/') || s.chars().any(char::is_control) {
                return Err(self.err(
                    ErrorKind::InvalidSourceName,
                    n.span(),
                    format!(
                        "invalid source name `{s}`; expected a non-empty name without `/` or \
                         control characters"
                    ),
                ));
            }
            if let Some(first) = seen.insert(s, self.line_of(n.span().start)) {
                return Err(self.err(
                    ErrorKind::DuplicateSource,
                    n.span(),
                    format!(
                        "duplicate source name `{s}` in environment `{name}` (first defined at \
                         line {first}); expected source names to be unique within an \
                         environment across health, metrics, alertmanager, prometheus_alerts, \
                         backup_catalog and prometheus"
                    ),
                ));
            }
        }

        let mut sources = Vec::new();
        let mut add = |kind: SourceKind, common: Common<'_>| -> Result<()> {
            let id = SourceId(*next_id);
            sources.push(self.source(&ecx, id, kind, common)?);
            *next_id += 1;
            Ok(())
        };
        for h in &env.health {
            let h = h.get_ref();
            add(SourceKind::Health(self.health(h)?), Common::health(h))?;
        }
        for m in &env.metrics {
            let m = m.get_ref();
            add(SourceKind::Metrics(self.metrics(m)?), Common::metrics(m))?;
        }
        for a in &env.alertmanager {
            add(SourceKind::Alertmanager, Common::alert_api(a.get_ref()))?;
        }
        for a in &env.prometheus_alerts {
            add(SourceKind::PrometheusAlerts, Common::alert_api(a.get_ref()))?;
        }
        for c in &env.backup_catalog {
            let kind = SourceKind::BackupCatalog(self.catalog(c.get_ref())?);
            add(kind, Common::catalog(c))?;
        }
        for p in &env.prometheus {
            let p = p.get_ref();
            let kind = SourceKind::Prometheus(self.prometheus(p, name)?);
            add(kind, Common::prometheus(p))?;
        }

        let mut backup_policies = Vec::with_capacity(env.backup_policy.len());
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for p in &env.backup_policy {
            let p = p.get_ref();
            let service = &p.service;
            if service.get_ref().trim().is_empty() {
                return Err(self.err(
                    ErrorKind::InvalidValue,
                    service.span(),
                    "empty service name; expected the service the backups belong to \
                     (as in the backup metrics' service label)",
                ));
            }
            if let Some(first) = seen.insert(service.get_ref(), self.line_of(service.span().start))
            {
                return Err(self.err(
                    ErrorKind::DuplicateBackupPolicy,
                    service.span(),
                    format!(
                        "duplicate backup policy for service `{}` in environment `{name}` (first \
                         defined at line {first}); expected one policy per service",
                        service.get_ref()
                    ),
                ));
            }
            backup_policies.push(self.backup_policy(p)?);
        }

        Ok(EnvironmentSpec {
            name: name.clone(),
            tier,
            sources,
            backup_policies,
        })
    }

    fn backup_policy(&self, p: &BackupPolicyFile) -> Result<BackupPolicy> {
        Ok(BackupPolicy {
            service: p.service.get_ref().clone(),
            interval: self.duration(&p.interval)?,
            rpo: self.duration(&p.rpo)?,
            retention: match &p.retention {
                None => Vec::new(),
                Some(r) => self.retention(r)?,
            },
        })
    }

    fn retention(&self, r: &Spanned<RetentionFile>) -> Result<Vec<RetentionTier>> {
        let tiers = match r.get_ref() {
            RetentionFile::Preset(name) => {
                return retention_preset(name).map(<[_]>::to_vec).ok_or_else(|| {
                    let known: Vec<&str> = RETENTION_PRESETS.iter().map(|(n, _)| *n).collect();
                    self.err(
                        ErrorKind::UnknownRetentionPreset,
                        r.span(),
                        format!(
                            "unknown retention preset `{name}`; expected one of: {}, or an \
                             array of tiers such as [{{ every = \"1d\", from = \"0s\", to = \
                             \"7d\" }}]",
                            known.join(", ")
                        ),
                    )
                });
            }
            RetentionFile::Tiers(tiers) => tiers,
        };
        if tiers.is_empty() {
            return Err(self.err(
                ErrorKind::InvalidRetentionTier,
                r.span(),
                "empty retention array; expected at least one tier such as { every = \"1d\", \
                 from = \"0s\", to = \"7d\" }, or leave `retention` out",
            ));
        }
        tiers.iter().map(|t| self.tier(t)).collect()
    }

    fn tier(&self, t: &Spanned<TierFile>) -> Result<RetentionTier> {
        let f = t.get_ref();
        let every = self.duration(&f.every)?;
        let from = values::duration_or_zero(&f.from.get_ref().0)
            .map_err(|m| self.err(ErrorKind::BadDuration, f.from.span(), m))?;
        let to = self.duration(&f.to)?;
        let fmt = |d: Duration| humantime::format_duration(d).to_string();
        if from >= to {
            return Err(self.err(
                ErrorKind::InvalidRetentionTier,
                f.from.span(),
                format!(
                    "retention tier from {} is not before to {}; expected from < to (ages, \
                     youngest first)",
                    fmt(from),
                    fmt(to)
                ),
            ));
        }
        if every > to - from {
            return Err(self.err(
                ErrorKind::InvalidRetentionTier,
                f.every.span(),
                format!(
                    "retention tier every {} is longer than the tier itself ({} to {}); \
                     expected every <= to - from, so the tier holds at least one window",
                    fmt(every),
                    fmt(from),
                    fmt(to)
                ),
            ));
        }
        Ok(RetentionTier { every, from, to })
    }

    fn catalog(&self, c: &CatalogFile) -> Result<CatalogSpec> {
        let format = match &c.format {
            None => CatalogFormat::Auto,
            Some(f) => CatalogFormat::parse(f.get_ref()).ok_or_else(|| {
                let all: Vec<&str> = CatalogFormat::ALL.iter().map(|f| f.as_str()).collect();
                self.err(
                    ErrorKind::InvalidCatalogFormat,
                    f.span(),
                    format!(
                        "invalid catalog format `{}`; expected one of: {}",
                        f.get_ref(),
                        all.join(", ")
                    ),
                )
            })?,
        };
        if c.service.get_ref().trim().is_empty() {
            return Err(self.err(
                ErrorKind::InvalidValue,
                c.service.span(),
                "empty service name; expected the service the backups belong to (as in its \
                 [[environment.backup_policy]])",
            ));
        }
        Ok(CatalogSpec {
            format,
            service: c.service.get_ref().clone(),
        })
    }

    /// The URL a source is read from: http(s) for every kind, and for a backup catalog also
    /// `file://` or a `path` (relative to the config file's directory).
    fn location(&self, loc: &Location<'_>) -> Result<url::Url> {
        const EITHER: &str = "expected exactly one of url = \"http(s)://…\" or path = \
                              \"/path/to/catalog.json\"";
        match *loc {
            Location::Url(u) => {
                values::http_url(u.get_ref()).map_err(|m| self.err(ErrorKind::BadUrl, u.span(), m))
            }
            Location::Catalog {
                url: Some(u),
                path: None,
                ..
            } => values::catalog_url(u.get_ref())
                .map_err(|m| self.err(ErrorKind::BadUrl, u.span(), m)),
            Location::Catalog {
                url: None,
                path: Some(p),
                ..
            } => {
                if p.get_ref().trim().is_empty() {
                    return Err(self.err(
                        ErrorKind::BadCatalogLocation,
                        p.span(),
                        format!("empty path; {EITHER}"),
                    ));
                }
                let base = self.origin.parent().unwrap_or(Path::new(""));
                let joined = base.join(p.get_ref());
                // Anchor a relative config location to the working directory now, so the
                // file:// URL is absolute and does not change meaning later.
                let absolute = std::path::absolute(&joined).unwrap_or(joined);
                url::Url::from_file_path(&absolute).map_err(|()| {
                    self.err(
                        ErrorKind::BadCatalogLocation,
                        p.span(),
                        format!(
                            "path `{}` cannot be made into a file:// URL; {EITHER}",
                            p.get_ref()
                        ),
                    )
                })
            }
            Location::Catalog {
                url: Some(_),
                path: Some(p),
                ..
            } => Err(self.err(
                ErrorKind::BadCatalogLocation,
                self.key_span("path", p.span()),
                format!("both `url` and `path` given; {EITHER}"),
            )),
            Location::Catalog {
                url: None,
                path: None,
                ref table,
            } => Err(self.err(
                ErrorKind::BadCatalogLocation,
                table.clone(),
                format!(
                    "neither `url` nor `path` given in [[environment.backup_catalog]]; {EITHER}"
                ),
            )),
        }
    }

    fn source(
        &self,
        env: &EnvCx<'_>,
        id: SourceId,
        kind: SourceKind,
        c: Common<'_>,
    ) -> Result<SourceSpec> {
        let url = self.location(&c.location)?;
        let interval = c
            .interval
            .map(|d| self.duration(d))
            .transpose()?
            .unwrap_or(c.default_interval);
        let timeout = c
            .timeout
            .map(|d| self.duration(d))
            .transpose()?
            .unwrap_or(c.default_timeout);
        if timeout > interval {
            let (span, which) = match (c.timeout, c.interval) {
                (Some(t), _) => (t.span(), ""),
                (None, Some(i)) => (i.span(), " (the default)"),
                // Both are defaults, and the defaults satisfy timeout <= interval.
                (None, None) => (c.name.span(), " (the default)"),
            };
            return Err(self.err(
                ErrorKind::TimeoutExceedsInterval,
                span,
                format!(
                    "timeout {}{which} is longer than interval {}; expected timeout <= interval \
                     so polls of one source never overlap",
                    humantime::format_duration(timeout),
                    humantime::format_duration(interval)
                ),
            ));
        }
        let max_body = match c.max_body {
            None => DEFAULT_MAX_BODY,
            Some(s) => match s.get_ref() {
                SizeValue::Bytes(n) => values::size_bytes(*n),
                SizeValue::Text(t) => values::size_text(t),
            }
            .map_err(|m| self.err(ErrorKind::BadSize, s.span(), m))?,
        };
        let insecure_skip_verify = match c.insecure_skip_verify {
            Some(v) if *v.get_ref() && env.tier == Tier::Production => {
                return Err(self.err(
                    ErrorKind::InsecureInProduction,
                    v.span(),
                    format!(
                        "insecure_skip_verify = true is refused in production-tier environment \
                         `{}`; expected false (install the CA certificate instead)",
                        env.name
                    ),
                ));
            }
            Some(v) => *v.get_ref(),
            None => false,
        };
        let auth = c.auth.map(|a| self.auth(a)).transpose()?;
        Ok(SourceSpec {
            id,
            environment: env.name.to_owned(),
            tier: env.tier,
            name: c.name.get_ref().clone(),
            url,
            kind,
            interval,
            timeout,
            max_body,
            auth,
            insecure_skip_verify,
        })
    }

    pub(super) fn duration(&self, d: &Spanned<DurationText>) -> Result<Duration> {
        values::duration(&d.get_ref().0).map_err(|m| self.err(ErrorKind::BadDuration, d.span(), m))
    }

    fn health(&self, h: &HealthFile) -> Result<HealthSpec> {
        let expect_status = match &h.expect_status {
            None => 200,
            Some(s) => u16::try_from(*s.get_ref())
                .ok()
                .filter(|v| (100..=599).contains(v))
                .ok_or_else(|| {
                    self.err(
                        ErrorKind::InvalidStatus,
                        s.span(),
                        format!(
                            "expect_status {} is not an HTTP status; expected 100..=599",
                            s.get_ref()
                        ),
                    )
                })?,
        };
        let conditions = h
            .conditions
            .iter()
            .map(|c| {
                condition::parse(c.get_ref()).map_err(|e| {
                    let span = self.inner_span(c, e.offset);
                    self.err(
                        ErrorKind::BadCondition,
                        span,
                        format!("bad body condition `{}`: {}", c.get_ref(), e.message),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let max_latency = h
            .max_latency
            .as_ref()
            .map(|d| self.duration(d))
            .transpose()?;
        Ok(HealthSpec {
            expect_status,
            conditions,
            max_latency,
        })
    }

    /// The source span of byte `offset` inside a string value, when the string is written
    /// without escapes (so source and value line up); otherwise the whole value.
    pub(super) fn inner_span(&self, s: &Spanned<String>, offset: usize) -> Range<usize> {
        let span = s.span();
        let raw = self.text.get(span.clone()).unwrap_or_default();
        let value = s.get_ref();
        let plain = raw.len() == value.len() + 2
            && (raw.starts_with('"') || raw.starts_with('\''))
            && raw.get(1..raw.len() - 1) == Some(value.as_str());
        if plain {
            let at = span.start + 1 + offset.min(value.len());
            let end = if offset < value.len() {
                span.end - 1
            } else {
                at
            };
            at..end
        } else {
            span
        }
    }

    fn metrics(&self, m: &MetricsFile) -> Result<MetricsSpec> {
        let preset = match &m.preset {
            None => Preset::Generic,
            Some(p) => Preset::parse(p.get_ref()).ok_or_else(|| {
                let all: Vec<&str> = Preset::ALL.iter().map(|p| p.as_str()).collect();
                self.err(
                    ErrorKind::InvalidPreset,
                    p.span(),
                    format!(
                        "invalid preset `{}`; expected one of: {}",
                        p.get_ref(),
                        all.join(", ")
                    ),
                )
            })?,
        };
        let mut placement = Placement::default();
        for (k, v) in &m.labels {
            let slot = match k.as_str() {
                "node" => &mut placement.node,
                "role" => &mut placement.role,
                "cluster" => &mut placement.cluster,
                "service" => &mut placement.service,
                _ => {
                    placement.extra.insert(k.clone(), v.clone());
                    continue;
                }
            };
            *slot = Some(v.clone());
        }
        let backup_names = match &m.backup_metrics {
            None => BackupMetricNames::default(),
            Some(b) if preset != Preset::Backup => {
                return Err(self.err(
                    ErrorKind::BackupMetricsOnNonBackup,
                    b.span(),
                    format!(
                        "backup_metrics only applies to preset = \"backup\", but this source's \
                         preset is `{preset}`; expected no backup_metrics here (or preset = \
                         \"backup\")"
                    ),
                ));
            }
            Some(b) => self.backup_names(b.get_ref())?,
        };
        Ok(MetricsSpec {
            preset,
            placement,
            backup_names,
        })
    }

    fn prometheus(&self, p: &PrometheusFile, env_name: &str) -> Result<PrometheusSpec> {
        let label = |v: &Option<Spanned<String>>, key: &str| -> Result<Option<String>> {
            let Some(v) = v else { return Ok(None) };
            if !values::is_label_name(v.get_ref()) {
                return Err(self.err(
                    ErrorKind::InvalidValue,
                    v.span(),
                    format!(
                        "invalid label name `{}` in `{key}`; expected a Prometheus label name \
                         ([a-zA-Z_][a-zA-Z0-9_]*)",
                        v.get_ref()
                    ),
                ));
            }
            Ok(Some(v.get_ref().clone()))
        };
        // `env_label = ""` turns environment selection off (a Prometheus per environment).
        let env_selector = match &p.env_label {
            Some(l) if l.get_ref().is_empty() => {
                if let Some(v) = &p.env_value {
                    return Err(self.err(
                        ErrorKind::InvalidValue,
                        v.span(),
                        "env_value given but env_label = \"\" turns environment selection \
                         off; expected an env_label naming the label to match",
                    ));
                }
                None
            }
            _ => {
                let l = label(&p.env_label, "env_label")?.unwrap_or_else(|| "env".to_owned());
                let v = p
                    .env_value
                    .as_ref()
                    .map_or_else(|| env_name.to_owned(), |v| v.get_ref().clone());
                Some((l, v))
            }
        };
        let jobs = p
            .jobs
            .iter()
            .flatten()
            .map(|j| {
                if j.get_ref().is_empty() {
                    Err(self.err(
                        ErrorKind::InvalidValue,
                        j.span(),
                        "empty job name in `jobs`; expected the `job` label of targets to read",
                    ))
                } else {
                    Ok(j.get_ref().clone())
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let mut job_presets = std::collections::BTreeMap::new();
        for (job, preset) in &p.job_presets {
            let parsed = Preset::parse(preset.get_ref()).ok_or_else(|| {
                let all: Vec<&str> = Preset::ALL.iter().map(|p| p.as_str()).collect();
                self.err(
                    ErrorKind::InvalidPreset,
                    preset.span(),
                    format!(
                        "invalid preset `{}` for job `{job}` in job_presets; expected one of: {}",
                        preset.get_ref(),
                        all.join(", ")
                    ),
                )
            })?;
            job_presets.insert(job.clone(), parsed);
        }
        let backfill = match &p.backfill {
            None => Duration::ZERO,
            Some(b) => {
                let d = values::duration_or_zero(&b.get_ref().0)
                    .map_err(|m| self.err(ErrorKind::BadDuration, b.span(), m))?;
                if d > crate::store::HISTORY_WINDOW {
                    return Err(self.err(
                        ErrorKind::InvalidValue,
                        b.span(),
                        format!(
                            "backfill {} is longer than the {} of history the console keeps; \
                             expected at most that",
                            humantime::format_duration(d),
                            humantime::format_duration(crate::store::HISTORY_WINDOW)
                        ),
                    ));
                }
                d
            }
        };
        let extra_metrics = p
            .extra_metrics
            .iter()
            .flatten()
            .map(|m| {
                if values::is_metric_name(m.get_ref()) {
                    Ok(m.get_ref().clone())
                } else {
                    Err(self.err(
                        ErrorKind::InvalidValue,
                        m.span(),
                        format!(
                            "invalid metric name `{}` in extra_metrics; expected a Prometheus \
                             metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)",
                            m.get_ref()
                        ),
                    ))
                }
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(PrometheusSpec {
            env_selector,
            node_label: label(&p.node_label, "node_label")?
                .unwrap_or_else(|| "instance".to_owned()),
            role_label: label(&p.role_label, "role_label")?,
            cluster_label: label(&p.cluster_label, "cluster_label")?,
            service_label: label(&p.service_label, "service_label")?,
            jobs,
            job_presets,
            backfill,
            extra_metrics,
        })
    }

    fn backup_names(&self, b: &BackupMetricsFile) -> Result<BackupMetricNames> {
        let mut names = BackupMetricNames::default();
        for (given, slot) in [
            (&b.last_success, &mut names.last_success),
            (&b.last_size, &mut names.last_size),
            (&b.last_duration, &mut names.last_duration),
            (&b.push_time, &mut names.push_time),
            (&b.service_label, &mut names.service_label),
        ] {
            if let Some(v) = given {
                if v.get_ref().trim().is_empty() {
                    return Err(self.err(
                        ErrorKind::InvalidValue,
                        v.span(),
                        "empty name in backup_metrics; expected a metric or label name, or \
                         leave the key out for the default",
                    ));
                }
                *slot = v.get_ref().clone();
            }
        }
        Ok(names)
    }

    pub(super) fn auth(&self, a: &Spanned<AuthFile>) -> Result<Auth> {
        const FORMS: &str = "expected exactly one of: { bearer_token_file = \"…\" }, \
                             { bearer_token_env = \"…\" }, { username = \"…\", password_file = \
                             \"…\" }, { username = \"…\", password_env = \"…\" }";
        let f = a.get_ref();
        let mut present: Vec<(&str, &Spanned<String>)> = [
            ("bearer_token_file", &f.bearer_token_file),
            ("bearer_token_env", &f.bearer_token_env),
            ("username", &f.username),
            ("password_file", &f.password_file),
            ("password_env", &f.password_env),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
        .collect();
        present.sort_by_key(|(_, v)| v.span().start);
        let is_bearer = |k: &str| k.starts_with("bearer_");
        let Some(&(first_key, _)) = present.first() else {
            return Err(self.err(
                ErrorKind::BadAuth,
                a.span(),
                format!("empty auth table; {FORMS}"),
            ));
        };
        // Two keys of different forms, or two sources for the same secret.
        for (i, &(key, value)) in present.iter().enumerate().skip(1) {
            let conflict = if is_bearer(key) != is_bearer(first_key) {
                Some(first_key)
            } else {
                present[..i]
                    .iter()
                    .map(|&(k, _)| k)
                    .find(|&k| k != "username" && key != "username")
            };
            if let Some(other) = conflict {
                return Err(self.err(
                    ErrorKind::BadAuth,
                    self.key_span(key, value.span()),
                    format!("ambiguous auth: both `{other}` and `{key}` given; {FORMS}"),
                ));
            }
        }
        let base = self.origin.parent().unwrap_or(Path::new(""));
        if is_bearer(first_key) {
            let (key, value) = present[0];
            return Ok(Auth::Bearer(self.secret_source(key, value, base)?));
        }
        let Some(username) = &f.username else {
            return Err(self.err(
                ErrorKind::BadAuth,
                a.span(),
                format!("incomplete auth: `{first_key}` given without `username`; {FORMS}"),
            ));
        };
        if username.get_ref().is_empty() {
            return Err(self.err(
                ErrorKind::BadAuth,
                username.span(),
                "empty username; expected the basic-auth user name",
            ));
        }
        let Some(&(key, value)) = present.iter().find(|(k, _)| *k != "username") else {
            return Err(self.err(
                ErrorKind::BadAuth,
                a.span(),
                format!(
                    "incomplete auth: `username` given without `password_file` or \
                     `password_env`; {FORMS}"
                ),
            ));
        };
        Ok(Auth::Basic {
            username: username.get_ref().clone(),
            password: self.secret_source(key, value, base)?,
        })
    }

    pub(super) fn secret_source(
        &self,
        key: &str,
        value: &Spanned<String>,
        base: &Path,
    ) -> Result<SecretSource> {
        let v = value.get_ref();
        if key == "file" || key.ends_with("_file") {
            if v.trim().is_empty() {
                return Err(self.err(
                    ErrorKind::BadSecretRef,
                    value.span(),
                    format!(
                        "empty path in `{key}`; expected the path of a file holding the secret \
                         (relative paths are resolved against the config file's directory)"
                    ),
                ));
            }
            Ok(SecretSource::File(base.join(PathBuf::from(v))))
        } else {
            if v.is_empty() || v.contains(['=', '\0']) {
                return Err(self.err(
                    ErrorKind::BadSecretRef,
                    value.span(),
                    format!(
                        "invalid environment variable name `{v}` in `{key}`; expected a \
                         non-empty name without `=`, such as \"WATCHDECK_PROD_TOKEN\""
                    ),
                ));
            }
            Ok(SecretSource::Env(v.clone()))
        }
    }
}

/// serde's type words in the config's vocabulary.
fn plain_type(s: &str) -> String {
    match s {
        "map" | "a map" => "a table".to_owned(),
        "sequence" | "a sequence" => "an array".to_owned(),
        "i64" | "u64" | "i32" | "u32" | "u16" | "usize" => "an integer".to_owned(),
        "string" => "a string".to_owned(),
        s if s.starts_with("struct ") => "a table".to_owned(),
        s => s.to_owned(),
    }
}

/// `environment.health` from `[[environment.health]]  # comment`.
fn header_path(header: &str) -> &str {
    let inner = header.trim_start_matches('[');
    let end = inner.find(']').unwrap_or(inner.len());
    inner[..end].trim()
}
