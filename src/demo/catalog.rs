//! The demo's backup catalogs: a service's backup history in the generic catalog format.
//!
//! The history is a pure function of (seed, demo start, now): hourly incremental backups
//! at :17 for the last three days, a full backup at 02:00 UTC every day before that for
//! 160 days, and one nightly full that failed (listed with `"status": "failed"`), on the
//! UTC day [`CatalogDef::failed_day_before_start`] days before the demo started. Under the
//! commerce retention policy that failure is the one gap, in the daily tier, for the first
//! days of a demo run; later it ages into the weekly tier, where the neighbouring nights
//! cover its week, as it would in a real repository.

use chrono::{DateTime, TimeZone, Utc};

use super::exporters::Ctx;
use super::fleet::{CatalogDef, EnvDef};
use super::noise;

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
/// How far back the history goes: past the commerce policy's oldest tier (150 days).
const HISTORY_DAYS: i64 = 160;

/// The catalog served for `c`, as JSON.
pub fn catalog_json(ctx: &Ctx<'_>, env: &EnvDef, c: &CatalogDef) -> String {
    let k = noise::key(ctx.seed, &format!("{}/{}/catalog", env.name, c.service));
    let now = ctx.now.timestamp();
    let start = ctx.start_s.floor() as i64;
    let failed_day = start.div_euclid(DAY) * DAY - c.failed_day_before_start * DAY;
    let mut entries = Vec::new();
    // Hourly incrementals covering the last three days (and a little more, so the
    // hourly tier's oldest slot is never left to the nightly fulls).
    let this_hour = now.div_euclid(HOUR) * HOUR;
    for h in 0..=(3 * 24 + 2) {
        let t = this_hour - h * HOUR + 17 * 60;
        if t > now {
            continue;
        }
        let size = c.full_bytes * noise::range(noise::sub(k, t as u64), 0.02, 0.05);
        entries.push(entry(c, t, "incr", size, true));
    }
    // Nightly fulls before that.
    let today = now.div_euclid(DAY) * DAY;
    for d in 3..=HISTORY_DAYS {
        let day = today - d * DAY;
        let t = day + 2 * HOUR;
        let size = c.full_bytes * noise::range(noise::sub(k, t as u64), 0.97, 1.03);
        entries.push(entry(c, t, "full", size, day != failed_day));
    }
    serde_json::Value::Array(entries).to_string()
}

fn entry(c: &CatalogDef, t: i64, kind: &str, size: f64, ok: bool) -> serde_json::Value {
    let time: DateTime<Utc> = Utc
        .timestamp_opt(t, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    let mut e = serde_json::json!({
        "id": format!("{}-{}-{kind}", c.service, time.format("%Y%m%dT%H%M")),
        "time": time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "type": kind,
        "status": if ok { "ok" } else { "failed" },
    });
    // A failed run reports no size, as most backup wrappers do.
    if ok {
        e["size"] = serde_json::json!(size.round() as u64);
    }
    e
}
