//! The polling loop: one task per source, each on its own jittered schedule, all sharing a
//! bound on requests in flight, all reporting into one channel.
//!
//! It owns scheduling and isolation: a source that hangs or fails only ever delays itself
//! (every request is under its source's timeout, and the in-flight semaphore is fair), and
//! the tasks stop when the receiver is gone or the [`PollerSet`] is dropped.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::config::settings::{CatalogSpec, Settings, SourceId, SourceKind, SourceSpec};
use crate::source::http::HttpClients;
use crate::source::{Payload, PollError, PollReport, alerts, catalog, health, prometheus};

/// What the metrics poller asks for: OpenMetrics preferred, classic text accepted.
pub const METRICS_ACCEPT: &str =
    "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.1";

/// What the backup catalog poller asks for.
pub const CATALOG_ACCEPT: &str = "application/json,*/*;q=0.1";

/// The running pollers. Dropping it aborts every task.
pub struct PollerSet {
    tasks: JoinSet<()>,
}

impl PollerSet {
    /// Number of poller tasks (one per source).
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Abort every poller and wait until they are gone (requests in flight are dropped,
    /// which closes their connections).
    pub async fn shutdown(mut self) {
        self.tasks.shutdown().await;
    }
}

/// Start one polling task per source. Must be called inside a tokio runtime.
///
/// A global semaphore of `settings.general.max_in_flight` permits bounds requests in
/// flight. A permit is held only around the request itself, and time spent waiting for a
/// permit does not count against the source's timeout: with `max_in_flight = 1` a hanging
/// source holds the only permit until its timeout fires, then the permit goes to the
/// longest waiter (tokio's semaphore is FIFO), so other sources are slowed but never
/// starved.
pub fn spawn(
    settings: &Settings,
    clients: Arc<HttpClients>,
    tx: mpsc::Sender<PollReport>,
) -> PollerSet {
    // Zero permits would deadlock every poller; config validation should prevent it.
    let permits = settings.general.max_in_flight.max(1);
    let semaphore = Arc::new(Semaphore::new(permits));
    let mut tasks = JoinSet::new();
    for spec in settings.sources() {
        tasks.spawn(run(
            spec.clone(),
            Arc::clone(&clients),
            Arc::clone(&semaphore),
            tx.clone(),
        ));
    }
    PollerSet { tasks }
}

async fn run(
    spec: SourceSpec,
    clients: Arc<HttpClients>,
    semaphore: Arc<Semaphore>,
    tx: mpsc::Sender<PollReport>,
) {
    let mut jitter = Jitter::new(spec.id);
    // Range queries fill sparklines once, at start: until a poll has succeeded with them.
    let mut backfilled = false;
    let mut next = Instant::now()
        .checked_add(first_delay(spec.id, spec.interval))
        .unwrap_or_else(far_future);
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(next) => {}
            () = tx.closed() => return,
        }
        let tick = Instant::now();
        let report = {
            let permit = tokio::select! {
                p = semaphore.acquire() => p,
                () = tx.closed() => return,
            };
            // Acquire fails only if the semaphore is closed, which nothing here does.
            let Ok(_permit) = permit else { return };
            poll(&clients, &spec, !backfilled).await
        };
        backfilled |= report.outcome.is_ok();
        if tx.send(report).await.is_err() {
            return;
        }
        // Delay semantics: the next poll is one (jittered) interval after this one started;
        // if the poll overran that, it runs right away, once, never as a burst.
        let period = jitter.period(spec.interval);
        next = tick
            .checked_add(period)
            .unwrap_or_else(far_future)
            .max(Instant::now());
    }
}

fn far_future() -> Instant {
    // About 30 years: effectively never, and safe from Instant overflow.
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

/// Poll a source once, now, without the in-flight bound and without backfill. Used by
/// one-shot commands (`check`, `probe`).
pub async fn poll_once(clients: &HttpClients, spec: &SourceSpec) -> PollReport {
    poll(clients, spec, false).await
}

/// Poll a source once; `backfill`: a `prometheus` source also runs its range queries.
pub async fn poll(clients: &HttpClients, spec: &SourceSpec, backfill: bool) -> PollReport {
    let at = Utc::now();
    let started = std::time::Instant::now();
    let outcome = match &spec.kind {
        SourceKind::Metrics(_) => poll_metrics(clients, spec).await,
        SourceKind::Health(h) => health::check(clients, spec, h).await.map(Payload::Health),
        SourceKind::Alertmanager => {
            alerts::fetch_alertmanager(clients, spec)
                .await
                .map(|(alerts, silences)| Payload::Alerts {
                    alerts,
                    silences: Some(silences),
                })
        }
        SourceKind::PrometheusAlerts => {
            alerts::fetch_prometheus(clients, spec)
                .await
                .map(|alerts| Payload::Alerts {
                    alerts,
                    silences: None,
                })
        }
        SourceKind::BackupCatalog(c) => poll_catalog(clients, spec, c).await.map(Payload::Catalog),
        SourceKind::Prometheus(p) => prometheus::poll(clients, spec, p, backfill)
            .await
            .map(Payload::Query),
    };
    let duration = started.elapsed();
    match &outcome {
        Ok(payload) => tracing::debug!(
            source = %spec.key(),
            kind = spec.kind_name(),
            ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            result = %summary(payload),
            "poll ok"
        ),
        Err(err) => tracing::debug!(
            source = %spec.key(),
            kind = spec.kind_name(),
            ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            error = %err,
            "poll failed"
        ),
    }
    PollReport {
        source: spec.id,
        at,
        duration,
        outcome,
    }
}

async fn poll_metrics(clients: &HttpClients, spec: &SourceSpec) -> Result<Payload, PollError> {
    let fetched = clients.fetch(spec, None, METRICS_ACCEPT).await?;
    if !fetched.is_success() {
        return Err(fetched.status_error());
    }
    // Validate in place and keep the allocation: String::from_utf8 does not copy.
    let body = String::from_utf8(fetched.body).map_err(|e| PollError::InvalidUtf8 {
        offset: e.utf8_error().valid_up_to(),
    })?;
    Ok(Payload::Metrics { body })
}

/// Fetch (http/https) or read (`file://`) a backup catalog and parse it.
async fn poll_catalog(
    clients: &HttpClients,
    spec: &SourceSpec,
    c: &CatalogSpec,
) -> Result<Vec<crate::store::model::BackupEntry>, PollError> {
    let body = if spec.url.scheme() == "file" {
        tokio::time::timeout(spec.timeout, read_catalog_file(spec))
            .await
            .map_err(|_| PollError::Timeout(spec.timeout))??
    } else {
        let fetched = clients.fetch(spec, None, CATALOG_ACCEPT).await?;
        if !fetched.is_success() {
            return Err(fetched.status_error());
        }
        fetched.body
    };
    let text = String::from_utf8(body).map_err(|e| PollError::InvalidUtf8 {
        offset: e.utf8_error().valid_up_to(),
    })?;
    Ok(catalog::parse(&text, c.format)?)
}

/// Read a `file://` catalog, at most `max_body` bytes. The limit is enforced on the bytes
/// read, not on the file's metadata, so a file that grows while it is read is still
/// bounded.
async fn read_catalog_file(spec: &SourceSpec) -> Result<Vec<u8>, PollError> {
    use tokio::io::AsyncReadExt;

    let path = spec
        .url
        .to_file_path()
        .map_err(|()| PollError::Request(format!("cannot read {}: not a local path", spec.url)))?;
    let cannot =
        |e: std::io::Error| PollError::Request(format!("cannot read {}: {e}", path.display()));
    let file = tokio::fs::File::open(&path).await.map_err(cannot)?;
    let mut body = Vec::new();
    file.take(spec.max_body.saturating_add(1))
        .read_to_end(&mut body)
        .await
        .map_err(cannot)?;
    if u64::try_from(body.len()).unwrap_or(u64::MAX) > spec.max_body {
        return Err(PollError::BodyTooLarge {
            limit: spec.max_body,
        });
    }
    Ok(body)
}

fn summary(payload: &Payload) -> String {
    match payload {
        Payload::Metrics { body } => format!("{} bytes", body.len()),
        Payload::Health(h) if h.up => "up".to_owned(),
        Payload::Health(h) => format!("down: {}", h.failure.as_deref().unwrap_or("")),
        Payload::Alerts { alerts, .. } => format!("{} alerts", alerts.len()),
        Payload::Catalog(c) => format!("{} backups", c.len()),
        Payload::Query(q) => format!("{} targets", q.targets.len()),
    }
}

/// SplitMix64: a tiny, well-mixed hash so consecutive source ids get unrelated offsets.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A uniform fraction in [0, 1) from the top 53 bits.
fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// Delay before a source's first poll: in [0, interval), fixed per source id, so a restart
/// keeps the same spread and sources never start in lockstep.
pub fn first_delay(id: SourceId, interval: Duration) -> Duration {
    let fraction = unit(splitmix64(u64::from(id.0)));
    // Spread over at most FIRST_POLL_SPREAD: enough to avoid a thundering start, and a
    // source polled every few minutes still shows data within seconds of start.
    let spread = interval.min(FIRST_POLL_SPREAD);
    // try_: f64 rounding near Duration::MAX could overflow; such an interval means never.
    Duration::try_from_secs_f64(spread.as_secs_f64() * fraction).unwrap_or(spread)
}

/// Upper bound of the first-poll jitter.
pub const FIRST_POLL_SPREAD: Duration = Duration::from_secs(3);

/// Per-source generator for the ±10 % jitter of each interval (deterministic per source:
/// reproducible, and no RNG dependency needed for something this unimportant).
struct Jitter(u64);

impl Jitter {
    fn new(id: SourceId) -> Self {
        Self(splitmix64(u64::from(id.0) ^ 0x5EED_F0DE_CC00_0001))
    }

    fn period(&mut self, interval: Duration) -> Duration {
        self.0 = splitmix64(self.0);
        let factor = 0.9 + 0.2 * unit(self.0);
        Duration::try_from_secs_f64(interval.as_secs_f64() * factor).unwrap_or(interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_delay_is_within_interval_and_spread() {
        let interval = Duration::from_secs(2);
        let delays: Vec<Duration> = (0..50)
            .map(|i| first_delay(SourceId(i), interval))
            .collect();
        assert!(delays.iter().all(|d| *d < interval));
        // Deterministic.
        assert_eq!(first_delay(SourceId(7), interval), delays[7]);
        // Spread: not all in one 200 ms bucket.
        let mut buckets = [0usize; 10];
        for d in &delays {
            buckets[(d.as_millis() / 200) as usize] += 1;
        }
        assert!(
            buckets.iter().filter(|&&n| n > 0).count() >= 6,
            "{buckets:?}"
        );
        assert_eq!(first_delay(SourceId(3), Duration::ZERO), Duration::ZERO);
        // A slow source still answers within seconds of start.
        let hourly = Duration::from_secs(3600);
        assert!((0..50).all(|i| first_delay(SourceId(i), hourly) < FIRST_POLL_SPREAD));
    }

    #[test]
    fn period_jitter_is_within_ten_percent() {
        let interval = Duration::from_millis(1000);
        let mut j = Jitter::new(SourceId(1));
        let periods: Vec<Duration> = (0..1000).map(|_| j.period(interval)).collect();
        assert!(
            periods
                .iter()
                .all(|p| *p >= Duration::from_millis(900) && *p <= Duration::from_millis(1100))
        );
        let min = periods.iter().min().unwrap();
        let max = periods.iter().max().unwrap();
        assert!(*max - *min > Duration::from_millis(150), "{min:?}..{max:?}");
        // Huge intervals must not panic.
        assert!(j.period(Duration::MAX) > Duration::ZERO);
        assert!(first_delay(SourceId(1), Duration::MAX) > Duration::ZERO);
    }
}
