//! Sources: the pollers that fetch health checks, exporter metrics, alerts and backup
//! catalogs.
//!
//! Each source runs in its own task and reports every poll as a typed, timestamped
//! [`PollReport`]. A failed poll is data (a [`PollError`] inside the report), never a
//! panic and never a reason to delay another source.

pub mod alerts;
pub mod catalog;
pub mod exposition;
pub mod health;
pub mod http;
pub mod poller;
pub mod prometheus;

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::settings::SourceId;
use crate::store::model::{Alert, BackupEntry, HealthResult, Silence};

/// The result of one poll of one source.
#[derive(Debug, Clone)]
pub struct PollReport {
    pub source: SourceId,
    /// When the request was started (wall clock).
    pub at: DateTime<Utc>,
    /// How long the request took, until the body was fully read or the error occurred.
    pub duration: Duration,
    pub outcome: Result<Payload, PollError>,
}

/// What a successful poll brought back, already typed for the store.
#[derive(Debug, Clone)]
pub enum Payload {
    /// An exposition-format body (text 0.0.4 / OpenMetrics), valid UTF-8, not yet parsed:
    /// the store parses it in place so series it has seen cost no allocation.
    Metrics { body: String },
    /// A health check's verdict. A health endpoint that answers 500 or refuses the
    /// connection is a *successful poll* whose result says the service is down.
    Health(HealthResult),
    /// Alerts from Alertmanager v2 or Prometheus v1, already parsed and sanitized; for
    /// Alertmanager also its silences (or why they could not be read: the alerts matter
    /// more, so that alone does not fail the poll).
    Alerts {
        alerts: Vec<Alert>,
        silences: Option<Result<Vec<Silence>, String>>,
    },
    /// The backups a backup catalog lists, parsed and sanitized, oldest first.
    Catalog(Vec<BackupEntry>),
    /// A Prometheus query API's answer, one exposition body per target (see
    /// [`prometheus`]).
    Query(prometheus::FleetAnswer),
}

/// Why a poll failed. The `Display` text is what the UI shows as the source's reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PollError {
    #[error("timed out after {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("HTTP {status}{}", if .reason.is_empty() { String::new() } else { format!(" {}", .reason) })]
    Status { status: u16, reason: String },
    #[error("body larger than max_body ({limit} bytes)")]
    BodyTooLarge { limit: u64 },
    #[error("body is not valid UTF-8 (first bad byte at offset {offset})")]
    InvalidUtf8 { offset: usize },
    #[error("could not decode response: {0}")]
    Decode(String),
    #[error("request failed: {0}")]
    Request(String),
}
