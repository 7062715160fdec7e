//! The config file as written: serde structs that mirror the TOML schema one to one.
//!
//! Owns the shape of the file and nothing else. Every table denies unknown keys; values that
//! a later semantic check must point at are wrapped in [`Spanned`] so the check can report
//! `line:column`. Nothing here applies defaults or interprets strings (durations, sizes,
//! URLs, tiers): that is `resolve`'s job, which turns these structs into
//! [`super::settings::Settings`].

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Visitor};
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub general: Option<GeneralFile>,
    #[serde(default)]
    pub environment: Vec<Spanned<EnvironmentFile>>,
    #[serde(default)]
    pub runbook: Vec<Spanned<RunbookFile>>,
}

/// `[general]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneralFile {
    pub max_in_flight: Option<Spanned<i64>>,
    pub theme: Option<Spanned<String>>,
    pub bell_on_sev1: Option<bool>,
    pub mouse: Option<bool>,
    pub read_only: Option<bool>,
    pub lock_dir: Option<Spanned<String>>,
}

/// `[[environment]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentFile {
    pub name: Spanned<String>,
    pub tier: Spanned<String>,
    #[serde(default)]
    pub health: Vec<Spanned<HealthFile>>,
    #[serde(default)]
    pub metrics: Vec<Spanned<MetricsFile>>,
    #[serde(default)]
    pub alertmanager: Vec<Spanned<AlertApiFile>>,
    #[serde(default)]
    pub prometheus_alerts: Vec<Spanned<AlertApiFile>>,
    #[serde(default)]
    pub backup_policy: Vec<Spanned<BackupPolicyFile>>,
    #[serde(default)]
    pub backup_catalog: Vec<Spanned<CatalogFile>>,
    #[serde(default)]
    pub prometheus: Vec<Spanned<PrometheusFile>>,
}

/// `[[environment.health]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthFile {
    pub name: Spanned<String>,
    pub url: Spanned<String>,
    pub expect_status: Option<Spanned<i64>>,
    #[serde(default)]
    pub conditions: Vec<Spanned<String>>,
    pub max_latency: Option<Spanned<DurationText>>,
    pub interval: Option<Spanned<DurationText>>,
    pub timeout: Option<Spanned<DurationText>>,
    pub max_body: Option<Spanned<SizeValue>>,
    pub insecure_skip_verify: Option<Spanned<bool>>,
    pub auth: Option<Spanned<AuthFile>>,
}

/// `[[environment.metrics]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsFile {
    pub name: Spanned<String>,
    pub url: Spanned<String>,
    pub preset: Option<Spanned<String>>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    pub backup_metrics: Option<Spanned<BackupMetricsFile>>,
    pub interval: Option<Spanned<DurationText>>,
    pub timeout: Option<Spanned<DurationText>>,
    pub max_body: Option<Spanned<SizeValue>>,
    pub insecure_skip_verify: Option<Spanned<bool>>,
    pub auth: Option<Spanned<AuthFile>>,
}

/// `[[environment.alertmanager]]` and `[[environment.prometheus_alerts]]`: a base URL.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertApiFile {
    pub name: Spanned<String>,
    pub url: Spanned<String>,
    pub interval: Option<Spanned<DurationText>>,
    pub timeout: Option<Spanned<DurationText>>,
    pub max_body: Option<Spanned<SizeValue>>,
    pub insecure_skip_verify: Option<Spanned<bool>>,
    pub auth: Option<Spanned<AuthFile>>,
}

/// `[[environment.prometheus]]`: a Prometheus-compatible query API (base URL) and how to
/// read this environment's targets out of it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusFile {
    pub name: Spanned<String>,
    pub url: Spanned<String>,
    pub env_label: Option<Spanned<String>>,
    pub env_value: Option<Spanned<String>>,
    pub node_label: Option<Spanned<String>>,
    pub role_label: Option<Spanned<String>>,
    pub cluster_label: Option<Spanned<String>>,
    pub service_label: Option<Spanned<String>>,
    pub jobs: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub job_presets: BTreeMap<String, Spanned<String>>,
    pub backfill: Option<Spanned<DurationText>>,
    pub extra_metrics: Option<Vec<Spanned<String>>>,
    pub interval: Option<Spanned<DurationText>>,
    pub timeout: Option<Spanned<DurationText>>,
    pub max_body: Option<Spanned<SizeValue>>,
    pub insecure_skip_verify: Option<Spanned<bool>>,
    pub auth: Option<Spanned<AuthFile>>,
}

/// `[[runbook]]`: exactly one of `exec` and `http`; `plan` or `plan_http` optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunbookFile {
    pub name: Spanned<String>,
    pub description: Option<Spanned<String>>,
    pub hotkey: Option<Spanned<String>>,
    pub environments: Option<Vec<Spanned<String>>>,
    pub tiers: Option<Vec<Spanned<String>>>,
    pub target: Spanned<String>,
    pub confirm: Option<Spanned<String>>,
    pub timeout: Option<Spanned<DurationText>>,
    pub kill_grace: Option<Spanned<DurationText>>,
    pub exec: Option<Spanned<Vec<Spanned<String>>>>,
    pub http: Option<Spanned<HttpFile>>,
    pub plan: Option<Spanned<Vec<Spanned<String>>>>,
    pub plan_http: Option<Spanned<HttpFile>>,
    #[serde(default)]
    pub secret_env: BTreeMap<String, Spanned<SecretRefFile>>,
    #[serde(default)]
    pub param: Vec<Spanned<ParamFile>>,
}

/// `http = { method, url, headers, body, auth }` of a runbook.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpFile {
    pub method: Option<Spanned<String>>,
    pub url: Spanned<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, Spanned<String>>,
    pub body: Option<Spanned<toml::Value>>,
    pub auth: Option<Spanned<AuthFile>>,
}

/// `secret_env = { VAR = { file = "…" } }` or `{ env = "…" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRefFile {
    pub file: Option<Spanned<String>>,
    pub env: Option<Spanned<String>>,
}

/// `[[runbook.param]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamFile {
    pub name: Spanned<String>,
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    pub description: Option<Spanned<String>>,
    pub pattern: Option<Spanned<String>>,
    pub min: Option<Spanned<i64>>,
    pub max: Option<Spanned<i64>>,
    pub choices: Option<Vec<Spanned<String>>>,
    pub default: Option<Spanned<toml::Value>>,
}

/// `auth = { … }`: exactly one of the bearer or basic forms, secrets only by reference.
///
/// Inline `token`/`password`/`bearer_token` keys are rejected as unknown keys and reported
/// by the loader as inline secrets.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthFile {
    pub bearer_token_file: Option<Spanned<String>>,
    pub bearer_token_env: Option<Spanned<String>>,
    pub username: Option<Spanned<String>>,
    pub password_file: Option<Spanned<String>>,
    pub password_env: Option<Spanned<String>>,
}

/// `backup_metrics = { … }` on a `backup`-preset metrics source; every name optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupMetricsFile {
    pub last_success: Option<Spanned<String>>,
    pub last_size: Option<Spanned<String>>,
    pub last_duration: Option<Spanned<String>>,
    pub push_time: Option<Spanned<String>>,
    pub service_label: Option<Spanned<String>>,
}

/// `[[environment.backup_policy]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupPolicyFile {
    pub service: Spanned<String>,
    pub interval: Spanned<DurationText>,
    pub rpo: Spanned<DurationText>,
    pub retention: Option<Spanned<RetentionFile>>,
}

/// `[[environment.backup_catalog]]`: exactly one of `url` and `path` (checked by the
/// resolver, which can point at the table).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    pub name: Spanned<String>,
    pub url: Option<Spanned<String>>,
    pub path: Option<Spanned<String>>,
    pub format: Option<Spanned<String>>,
    pub service: Spanned<String>,
    pub interval: Option<Spanned<DurationText>>,
    pub timeout: Option<Spanned<DurationText>>,
    pub max_body: Option<Spanned<SizeValue>>,
    pub insecure_skip_verify: Option<Spanned<bool>>,
    pub auth: Option<Spanned<AuthFile>>,
}

/// `retention = "commerce"` (a named preset) or `retention = [{ every, from, to }, …]`.
#[derive(Debug)]
pub enum RetentionFile {
    Preset(String),
    Tiers(Vec<Spanned<TierFile>>),
}

impl<'de> Deserialize<'de> for RetentionFile {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Hand-written rather than `#[serde(untagged)]`: untagged buffers the value, which
        // loses the spans `Spanned` needs, and its error ("did not match any variant")
        // would not say what is expected.
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RetentionFile;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a retention preset name such as \"commerce\" or an array of tiers \
                     such as [{ every = \"1d\", from = \"0s\", to = \"7d\" }]",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RetentionFile, E> {
                Ok(RetentionFile::Preset(v.to_owned()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RetentionFile, A::Error> {
                let mut tiers = Vec::new();
                while let Some(t) = seq.next_element()? {
                    tiers.push(t);
                }
                Ok(RetentionFile::Tiers(tiers))
            }
        }
        d.deserialize_any(V)
    }
}

/// One `{ every = "1d", from = "3d", to = "7d" }` of a retention array.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierFile {
    pub every: Spanned<DurationText>,
    pub from: Spanned<DurationText>,
    pub to: Spanned<DurationText>,
}

/// A duration as written (`"10s"`, `"1m30s"`); parsed by the resolver. Its own type only so
/// a wrong TOML type says "expected a duration string".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationText(pub String);

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DurationText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string such as \"10s\" or \"1m30s\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DurationText, E> {
                Ok(DurationText(v.to_owned()))
            }
        }
        d.deserialize_str(V)
    }
}

/// A byte size as written: an integer number of bytes or a string such as `"16MiB"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SizeValue {
    Bytes(i64),
    Text(String),
}

impl<'de> Deserialize<'de> for SizeValue {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = SizeValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size: an integer number of bytes or a string such as \"16MiB\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SizeValue, E> {
                Ok(SizeValue::Bytes(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<SizeValue, E> {
                Ok(SizeValue::Bytes(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SizeValue, E> {
                Ok(SizeValue::Text(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Keys that would hold a secret inline; the loader turns "unknown key" for these into an
/// error that says to use a file or an environment variable.
pub const INLINE_SECRET_KEYS: &[&str] = &["token", "bearer_token", "password"];
