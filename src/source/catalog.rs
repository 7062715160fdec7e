//! Backup catalogs: the JSON that backup tools print about their backups, parsed into
//! [`BackupEntry`] lists.
//!
//! Four dialects are understood:
//!
//! | format       | produced by                          | time            | size                    |
//! |--------------|--------------------------------------|-----------------|-------------------------|
//! | `restic`     | `restic snapshots --json`            | `time`          | `summary.total_bytes_processed` (restic ≥ 0.17) |
//! | `walg`       | `wal-g backup-list [--detail] --json`| `finish_time`, else `time` | `uncompressed_size` |
//! | `pgbackrest` | `pgbackrest info --output=json`      | `timestamp.stop`| `info.size`             |
//! | `generic`    | anything that can write a list       | `time`          | `size`                  |
//!
//! Size is the data the backup restores (not what it occupies in the repository), so the
//! number means the same across tools and across full and incremental backups.
//!
//! The generic form is `[{"time": "<RFC 3339>", "status": "ok", "type": "full",
//! "size": 123, "id": "…"}]`; `type`, `size` and `id` are optional (`type` defaults to
//! `full`, `id` to the time as written), and `status` is `ok` for a usable backup (also
//! accepted: `success`, `succeeded`, `complete`, `completed`); anything else is a failure.
//!
//! Every string kept is passed through [`sanitize::clean`]. Errors carry serde's
//! `line N column M` so a broken catalog can be found in the file.

use std::borrow::Cow;

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use serde::de::{self, Deserializer};

use crate::config::settings::CatalogFormat;
use crate::sanitize;
use crate::source::PollError;
use crate::store::model::BackupEntry;

/// Why a catalog could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// Not JSON, or JSON of the wrong shape for the format (serde's message, which ends
    /// with `at line N column M`).
    #[error("{format} catalog: {message}")]
    Json {
        format: &'static str,
        message: String,
        line: usize,
        column: usize,
    },
    /// `format = "auto"` and the document matches none of the known shapes.
    #[error(
        "cannot recognise the catalog format ({0}); expected restic, wal-g, pgBackRest or \
         generic JSON, or set format explicitly"
    )]
    Unrecognised(String),
}

impl From<CatalogError> for PollError {
    fn from(e: CatalogError) -> Self {
        PollError::Decode(e.to_string())
    }
}

/// Parse a catalog document. With [`CatalogFormat::Auto`] the format is recognised from
/// the shape of the first element (see [`detect`]).
pub fn parse(text: &str, format: CatalogFormat) -> Result<Vec<BackupEntry>, CatalogError> {
    let format = match format {
        CatalogFormat::Auto => detect(text)?,
        f => f,
    };
    let mut entries = match format {
        CatalogFormat::Restic => parse_restic(text),
        CatalogFormat::Walg => parse_walg(text),
        CatalogFormat::Pgbackrest => parse_pgbackrest(text),
        // detect never answers Auto; treat it as generic rather than loop.
        CatalogFormat::Generic | CatalogFormat::Auto => parse_generic(text),
    }?;
    // Oldest first, whatever order the tool printed.
    entries.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.id.cmp(&b.id)));
    Ok(entries)
}

/// Recognise the format of a catalog from its first element:
/// pgBackRest stanzas have `backup` and `name`; wal-g entries `backup_name`; restic
/// snapshots `tree` or `short_id`; generic entries `time` and `status`. An empty array
/// is an empty generic catalog (an empty list means the same in every format).
pub fn detect(text: &str) -> Result<CatalogFormat, CatalogError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| json_error("catalog", &e))?;
    let serde_json::Value::Array(items) = value else {
        return Err(CatalogError::Unrecognised(
            "the document is not a JSON array".to_owned(),
        ));
    };
    let Some(first) = items.first() else {
        return Ok(CatalogFormat::Generic);
    };
    let Some(obj) = first.as_object() else {
        return Err(CatalogError::Unrecognised(
            "the array's first element is not an object".to_owned(),
        ));
    };
    let has = |k: &str| obj.contains_key(k);
    Ok(if has("backup") && has("name") {
        CatalogFormat::Pgbackrest
    } else if has("backup_name") {
        CatalogFormat::Walg
    } else if has("tree") || has("short_id") {
        CatalogFormat::Restic
    } else if has("time") && has("status") {
        CatalogFormat::Generic
    } else {
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).take(8).collect();
        keys.sort_unstable();
        let keys: Vec<Cow<'_, str>> = keys
            .into_iter()
            .map(|k| sanitize::clean_with_limit(k, 40))
            .collect();
        return Err(CatalogError::Unrecognised(format!(
            "first element has keys: {}",
            keys.join(", ")
        )));
    })
}

fn json_error(format: &'static str, e: &serde_json::Error) -> CatalogError {
    CatalogError::Json {
        format,
        message: sanitize::clean_with_limit(&e.to_string(), 300).into_owned(),
        line: e.line(),
        column: e.column(),
    }
}

fn clean(s: &str) -> String {
    sanitize::clean(s).into_owned()
}

/// An RFC 3339 time in any offset, as UTC; the error keeps serde's location.
fn rfc3339<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let s = <Cow<'de, str>>::deserialize(d)?;
    DateTime::parse_from_rfc3339(&s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            de::Error::custom(format!(
                "invalid time `{}`: {e}; expected RFC 3339 such as 2026-11-01T02:00:00Z",
                sanitize::clean_with_limit(&s, 60)
            ))
        })
}

fn opt_rfc3339<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    #[derive(Deserialize)]
    struct W(#[serde(deserialize_with = "rfc3339")] DateTime<Utc>);
    Ok(Option::<W>::deserialize(d)?.map(|W(t)| t))
}

// ----- restic ---------------------------------------------------------------------------

#[derive(Deserialize)]
struct ResticSnapshot {
    #[serde(deserialize_with = "rfc3339")]
    time: DateTime<Utc>,
    id: String,
    short_id: Option<String>,
    summary: Option<ResticSummary>,
}

/// Present from restic 0.17 on.
#[derive(Deserialize)]
struct ResticSummary {
    total_bytes_processed: Option<u64>,
}

fn parse_restic(text: &str) -> Result<Vec<BackupEntry>, CatalogError> {
    let snaps: Vec<ResticSnapshot> =
        serde_json::from_str(text).map_err(|e| json_error("restic", &e))?;
    Ok(snaps
        .into_iter()
        .map(|s| {
            // restic shows and accepts the 8-character short id everywhere.
            let id = s
                .short_id
                .unwrap_or_else(|| s.id.chars().take(8).collect::<String>());
            BackupEntry {
                time: s.time,
                kind: "snapshot".to_owned(),
                size_bytes: s.summary.and_then(|m| m.total_bytes_processed),
                // restic lists only snapshots whose upload completed.
                ok: true,
                id: clean(&id),
            }
        })
        .collect())
}

// ----- wal-g ----------------------------------------------------------------------------

#[derive(Deserialize)]
struct WalgBackup {
    backup_name: String,
    /// Modification time of the backup's sentinel; the only time without `--detail`.
    #[serde(deserialize_with = "rfc3339")]
    time: DateTime<Utc>,
    #[serde(default, deserialize_with = "opt_rfc3339")]
    finish_time: Option<DateTime<Utc>>,
    uncompressed_size: Option<i64>,
}

fn parse_walg(text: &str) -> Result<Vec<BackupEntry>, CatalogError> {
    let backups: Vec<WalgBackup> =
        serde_json::from_str(text).map_err(|e| json_error("wal-g", &e))?;
    Ok(backups
        .into_iter()
        .map(|b| {
            // Delta backups are named base_<WAL>_D_<base WAL>.
            let kind = if b.backup_name.contains("_D_") {
                "incr"
            } else {
                "full"
            };
            BackupEntry {
                time: b.finish_time.unwrap_or(b.time),
                kind: kind.to_owned(),
                // wal-g writes 0 where an old backup recorded no size.
                size_bytes: b
                    .uncompressed_size
                    .and_then(|n| u64::try_from(n).ok())
                    .filter(|&n| n > 0),
                // wal-g lists a backup only once its sentinel, written last, exists.
                ok: true,
                id: clean(&b.backup_name),
            }
        })
        .collect())
}

// ----- pgBackRest -----------------------------------------------------------------------

#[derive(Deserialize)]
struct PgbrStanza {
    name: String,
    #[serde(default)]
    backup: Vec<PgbrBackup>,
}

#[derive(Deserialize)]
struct PgbrBackup {
    label: String,
    #[serde(rename = "type")]
    kind: String,
    timestamp: PgbrTimestamp,
    /// Since pgBackRest 2.36: the backup had page checksum or other errors.
    #[serde(default)]
    error: Option<bool>,
    info: Option<PgbrInfo>,
}

#[derive(Deserialize)]
struct PgbrTimestamp {
    stop: i64,
}

#[derive(Deserialize)]
struct PgbrInfo {
    size: Option<u64>,
}

fn parse_pgbackrest(text: &str) -> Result<Vec<BackupEntry>, CatalogError> {
    let stanzas: Vec<PgbrStanza> =
        serde_json::from_str(text).map_err(|e| json_error("pgBackRest", &e))?;
    let several = stanzas.len() > 1;
    let mut out = Vec::new();
    for stanza in stanzas {
        for b in stanza.backup {
            let Some(time) = Utc.timestamp_opt(b.timestamp.stop, 0).single() else {
                return Err(CatalogError::Json {
                    format: "pgBackRest",
                    message: format!(
                        "backup {}: timestamp.stop {} is out of range",
                        clean(&b.label),
                        b.timestamp.stop
                    ),
                    line: 0,
                    column: 0,
                });
            };
            // Labels are unique within a stanza only.
            let id = if several {
                format!("{}/{}", stanza.name, b.label)
            } else {
                b.label
            };
            out.push(BackupEntry {
                time,
                kind: clean(&b.kind),
                size_bytes: b.info.and_then(|i| i.size),
                ok: b.error != Some(true),
                id: clean(&id),
            });
        }
    }
    Ok(out)
}

// ----- generic --------------------------------------------------------------------------

#[derive(Deserialize)]
struct GenericEntry {
    #[serde(deserialize_with = "rfc3339")]
    time: DateTime<Utc>,
    status: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    size: Option<u64>,
    id: Option<String>,
}

/// Statuses that mean "this backup can be restored".
const OK_STATUSES: &[&str] = &["ok", "success", "succeeded", "complete", "completed"];

fn parse_generic(text: &str) -> Result<Vec<BackupEntry>, CatalogError> {
    let entries: Vec<GenericEntry> =
        serde_json::from_str(text).map_err(|e| json_error("generic", &e))?;
    Ok(entries
        .into_iter()
        .map(|e| {
            let ok = OK_STATUSES
                .iter()
                .any(|s| e.status.trim().eq_ignore_ascii_case(s));
            BackupEntry {
                time: e.time,
                kind: clean(e.kind.as_deref().unwrap_or("full")),
                size_bytes: e.size,
                ok,
                id: clean(
                    &e.id.unwrap_or_else(|| {
                        e.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    }),
                ),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_statuses_and_defaults() {
        let text = r#"[
            {"time": "2026-11-01T02:00:00+01:00", "status": "OK", "size": 10},
            {"time": "2026-11-02T02:00:00Z", "status": "failed", "type": "incr", "id": "b2"}
        ]"#;
        let e = parse(text, CatalogFormat::Auto).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].time.to_rfc3339(), "2026-11-01T01:00:00+00:00");
        assert_eq!(e[0].id, "2026-11-01T01:00:00Z");
        assert_eq!(e[0].kind, "full");
        assert!(e[0].ok);
        assert_eq!(
            (e[1].kind.as_str(), e[1].ok, e[1].id.as_str()),
            ("incr", false, "b2")
        );
    }

    #[test]
    fn detection() {
        assert_eq!(detect("[]").unwrap(), CatalogFormat::Generic);
        assert!(matches!(detect("{}"), Err(CatalogError::Unrecognised(_))));
        assert!(matches!(detect("[1]"), Err(CatalogError::Unrecognised(_))));
        let e = detect(r#"[{"foo": 1}]"#).unwrap_err();
        assert!(e.to_string().contains("foo"), "{e}");
    }

    #[test]
    fn bad_time_keeps_its_location() {
        let text = "[\n {\"time\": \"yesterday\", \"status\": \"ok\"}\n]";
        let e = parse(text, CatalogFormat::Generic).unwrap_err();
        let CatalogError::Json { line, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(*line, 2);
        assert!(e.to_string().contains("invalid time `yesterday`"), "{e}");
    }
}
