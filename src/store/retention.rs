//! Retention coverage: which slots of a tiered retention policy hold a successful backup.
//!
//! # Slots
//!
//! A tier `{ every, from, to }` expects one successful backup per window of length `every`
//! among the backups aged between `from` and `to`. Its slots are defined as follows:
//!
//! * **Windows are calendar-aligned, not `now`-aligned.** Window `n` of a tier is
//!   `[ANCHOR + n·every, ANCHOR + (n+1)·every)` with [`ANCHOR`] = Monday 1970-01-05
//!   00:00 UTC, so hourly windows are clock hours, daily windows UTC days and 7-day
//!   windows ISO weeks. Why: windows that slide with `now` make coverage flicker. Daily
//!   backups that start at 02:00 with a few minutes of jitter leave, for a few minutes
//!   each day, some 24-hour window ending "now minus 3 days" with no backup in it, and the
//!   console would report a gap that is not one. Anchored windows only change when a
//!   backup appears or disappears, and they match how retention tools count
//!   (`restic forget --keep-daily` keeps one per calendar day).
//! * **A window belongs to the tier when its midpoint lies in the tier**, i.e. in
//!   `[now - to, now - from)` of time. With `every <= to - from` (enforced by config
//!   validation) every tier therefore always has at least one slot, and a tier whose
//!   length is a multiple of `every` always has exactly `(to - from) / every` slots.
//!   The price is that an edge slot may hang over the tier's edge by less than half a
//!   window.
//! * **A window that has not ended yet is not a slot**: the current hour cannot be judged
//!   before it is over (whether the latest backup is recent enough is the RPO's job).
//! * A backup at time `t` falls in the window with `start <= t < end`: a backup exactly on
//!   a boundary belongs to the younger window.
//! * Only successful backups count. Ages between tiers (a gap such as weeks 7–8 of the
//!   commerce policy) make no slots. Tiers may overlap; each tier's slots are judged on
//!   their own, so one backup can cover a slot of each.
//!
//! [`coverage`] lists the slots newest first (ties: lower tier index first).

use chrono::{DateTime, TimeZone, Utc};

use super::model::{BackupEntry, SlotCoverage};
use crate::config::settings::RetentionTier;

/// Where every tier's windows start: a Monday at midnight UTC, so 7-day windows are ISO
/// weeks.
pub const ANCHOR_MILLIS: i64 = 4 * 86_400_000;

/// [`ANCHOR_MILLIS`] as a time.
pub fn anchor() -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ANCHOR_MILLIS)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// At most this many slots per tier (the newest). A policy such as `every = "1s"` over
/// months would otherwise allocate millions of slots on every snapshot.
pub const MAX_SLOTS_PER_TIER: i64 = 4096;

/// The slots of every tier as of `now`, newest first, each with the newest successful
/// backup inside it (or `None`: a gap).
pub fn coverage(
    entries: &[BackupEntry],
    tiers: &[RetentionTier],
    now: DateTime<Utc>,
) -> Vec<SlotCoverage> {
    let mut ok: Vec<(i64, &str)> = entries
        .iter()
        .filter(|e| e.ok)
        .map(|e| (e.time.timestamp_millis(), e.id.as_str()))
        .collect();
    ok.sort_unstable();
    let now_ms = now.timestamp_millis();
    let mut slots = Vec::new();
    for (tier_index, tier) in tiers.iter().enumerate() {
        let (Ok(every), Ok(from), Ok(to)) = (
            i64::try_from(tier.every.as_millis()),
            i64::try_from(tier.from.as_millis()),
            i64::try_from(tier.to.as_millis()),
        ) else {
            continue;
        };
        if every <= 0 || from >= to {
            continue;
        }
        let (lo, hi) = (now_ms.saturating_sub(to), now_ms.saturating_sub(from));
        // Midpoint of window n: ANCHOR + n·every + every/2; we need lo <= mid < hi.
        let half = every / 2;
        let first = ceil_div(lo - ANCHOR_MILLIS - half, every);
        let mut last = ceil_div(hi - ANCHOR_MILLIS - half, every) - 1;
        // Only windows that have ended: ANCHOR + (n+1)·every <= now.
        last = last.min((now_ms - ANCHOR_MILLIS).div_euclid(every) - 1);
        let first = first.max(last - MAX_SLOTS_PER_TIER + 1);
        for n in (first..=last).rev() {
            let start = ANCHOR_MILLIS.saturating_add(n.saturating_mul(every));
            let end = start.saturating_add(every);
            let (Some(start_t), Some(end_t)) = (
                Utc.timestamp_millis_opt(start).single(),
                Utc.timestamp_millis_opt(end).single(),
            ) else {
                continue;
            };
            // The newest successful backup with start <= t < end.
            let below_end = ok.partition_point(|&(t, _)| t < end);
            let covered_by = below_end
                .checked_sub(1)
                .map(|i| ok[i])
                .filter(|&(t, _)| t >= start)
                .map(|(_, id)| id.to_owned());
            slots.push(SlotCoverage {
                tier_index,
                start: start_t,
                end: end_t,
                covered_by,
            });
        }
    }
    slots.sort_by(|a, b| b.end.cmp(&a.end).then(a.tier_index.cmp(&b.tier_index)));
    slots
}

/// The gaps among computed slots, newest first.
pub fn missing(coverage: &[SlotCoverage]) -> Vec<&SlotCoverage> {
    coverage.iter().filter(|s| s.covered_by.is_none()).collect()
}

/// The gaps of `tiers` as of `now`: [`coverage`] without the covered slots.
pub fn missing_slots(
    entries: &[BackupEntry],
    tiers: &[RetentionTier],
    now: DateTime<Utc>,
) -> Vec<SlotCoverage> {
    let mut slots = coverage(entries, tiers, now);
    slots.retain(|s| s.covered_by.is_none());
    slots
}

/// `ceil(a / b)` for `b > 0`, correct for negative `a`.
fn ceil_div(a: i64, b: i64) -> i64 {
    -((-a).div_euclid(b))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::settings::COMMERCE_RETENTION;

    const H: u64 = 3600;
    const D: u64 = 86_400;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn entry(time: &str, ok: bool, id: &str) -> BackupEntry {
        BackupEntry {
            time: t(time),
            kind: "full".into(),
            size_bytes: None,
            ok,
            id: id.into(),
        }
    }

    fn tier(every: u64, from: u64, to: u64) -> RetentionTier {
        RetentionTier {
            every: Duration::from_secs(every),
            from: Duration::from_secs(from),
            to: Duration::from_secs(to),
        }
    }

    /// (start, covered_by) of each slot, newest first.
    fn summary(slots: &[SlotCoverage]) -> Vec<(String, Option<String>)> {
        slots
            .iter()
            .map(|s| (s.start.to_rfc3339(), s.covered_by.clone()))
            .collect()
    }

    #[test]
    fn anchor_is_a_monday_midnight() {
        assert_eq!(anchor().to_rfc3339(), "1970-01-05T00:00:00+00:00");
        assert_eq!(anchor().format("%A").to_string(), "Monday");
    }

    #[test]
    fn ceil_div_handles_negatives() {
        assert_eq!(ceil_div(7, 2), 4);
        assert_eq!(ceil_div(6, 2), 3);
        assert_eq!(ceil_div(-7, 2), -3);
        assert_eq!(ceil_div(-6, 2), -3);
        assert_eq!(ceil_div(0, 5), 0);
    }

    #[test]
    fn table() {
        struct Case {
            name: &'static str,
            now: &'static str,
            tiers: Vec<RetentionTier>,
            entries: Vec<BackupEntry>,
            want: Vec<(&'static str, Option<&'static str>)>,
        }
        let cases = vec![
            Case {
                name: "daily tier, one day missing",
                now: "2026-11-22T12:00:00Z",
                tiers: vec![tier(D, 0, 3 * D)],
                entries: vec![
                    entry("2026-11-21T02:00:00Z", true, "d21"),
                    entry("2026-11-19T02:00:00Z", true, "d19"),
                ],
                // Today (not ended) is no slot; midpoints 21 12:00, 20 12:00, 19 12:00 are
                // in [19 12:00, 22 12:00).
                want: vec![
                    ("2026-11-21T00:00:00+00:00", Some("d21")),
                    ("2026-11-20T00:00:00+00:00", None),
                    ("2026-11-19T00:00:00+00:00", Some("d19")),
                ],
            },
            Case {
                name: "backup exactly on a boundary belongs to the younger slot",
                now: "2026-11-22T00:00:00Z",
                tiers: vec![tier(D, 0, 2 * D)],
                entries: vec![entry("2026-11-21T00:00:00Z", true, "edge")],
                want: vec![
                    ("2026-11-21T00:00:00+00:00", Some("edge")),
                    ("2026-11-20T00:00:00+00:00", None),
                ],
            },
            Case {
                name: "a backup at a slot's exclusive end does not cover it",
                now: "2026-11-22T00:00:00Z",
                tiers: vec![tier(D, 0, 2 * D)],
                entries: vec![entry("2026-11-22T00:00:00Z", true, "next")],
                want: vec![
                    ("2026-11-21T00:00:00+00:00", None),
                    ("2026-11-20T00:00:00+00:00", None),
                ],
            },
            Case {
                name: "failed backups do not count",
                now: "2026-11-22T12:00:00Z",
                tiers: vec![tier(D, 0, 2 * D)],
                entries: vec![
                    entry("2026-11-21T02:00:00Z", false, "failed"),
                    entry("2026-11-20T02:00:00Z", true, "ok20"),
                    entry("2026-11-20T03:00:00Z", false, "failed20"),
                ],
                want: vec![
                    ("2026-11-21T00:00:00+00:00", None),
                    ("2026-11-20T00:00:00+00:00", Some("ok20")),
                ],
            },
            Case {
                name: "the newest backup in a slot is named",
                now: "2026-11-22T12:00:00Z",
                tiers: vec![tier(D, 0, D)],
                entries: vec![
                    entry("2026-11-21T02:00:00Z", true, "early"),
                    entry("2026-11-21T14:00:00Z", true, "late"),
                ],
                want: vec![("2026-11-21T00:00:00+00:00", Some("late"))],
            },
            Case {
                name: "gaps between tiers are not slots",
                now: "2026-11-23T00:00:00Z",
                // Days 0–2 and 5–7: days 3–4 old are nobody's business.
                tiers: vec![tier(D, 0, 2 * D), tier(D, 5 * D, 7 * D)],
                entries: vec![],
                want: vec![
                    ("2026-11-22T00:00:00+00:00", None),
                    ("2026-11-21T00:00:00+00:00", None),
                    ("2026-11-17T00:00:00+00:00", None),
                    ("2026-11-16T00:00:00+00:00", None),
                ],
            },
            Case {
                name: "weekly windows are ISO weeks",
                now: "2026-11-25T00:00:00Z", // a Wednesday
                tiers: vec![tier(7 * D, 7 * D, 21 * D)],
                entries: vec![entry("2026-11-09T23:00:00Z", true, "mon")],
                // Midpoints must be in [Nov 4, Nov 18): Thu Nov 12 and Thu Nov 5.
                want: vec![
                    ("2026-11-09T00:00:00+00:00", Some("mon")),
                    ("2026-11-02T00:00:00+00:00", None),
                ],
            },
            Case {
                name: "the open hour is not judged",
                now: "2026-11-22T10:40:00Z",
                tiers: vec![tier(H, 0, 2 * H)],
                entries: vec![entry("2026-11-22T10:05:00Z", true, "now")],
                // Midpoints in [08:40, 10:40): 08:30 no, 09:30 yes, 10:30 yes but open.
                want: vec![("2026-11-22T09:00:00+00:00", None)],
            },
        ];
        for c in cases {
            let got = coverage(&c.entries, &c.tiers, t(c.now));
            let want: Vec<(String, Option<String>)> = c
                .want
                .iter()
                .map(|(s, id)| (s.to_string(), id.map(str::to_owned)))
                .collect();
            assert_eq!(summary(&got), want, "{}", c.name);
            for s in &got {
                let every = c.tiers[s.tier_index].every;
                assert_eq!((s.end - s.start).to_std().unwrap(), every, "{}", c.name);
            }
        }
    }

    #[test]
    fn tiling_tiers_have_a_constant_slot_count() {
        let tiers = [tier(D, 3 * D, 7 * D)];
        let base = t("2026-11-22T00:00:00Z");
        for minutes in (0..24 * 60).step_by(7) {
            let now = base + chrono::Duration::minutes(minutes);
            assert_eq!(coverage(&[], &tiers, now).len(), 4, "at {now}");
        }
    }

    #[test]
    fn every_tier_has_a_slot_when_every_equals_its_length() {
        let tiers = [tier(7 * D, 7 * D, 14 * D)];
        let base = t("2026-11-22T00:00:00Z");
        for hours in 0..7 * 24 {
            let now = base + chrono::Duration::hours(hours);
            assert_eq!(coverage(&[], &tiers, now).len(), 1, "at {now}");
        }
    }

    #[test]
    fn commerce_policy_slot_counts_and_gap() {
        // 12:40: the 12:00 hour is still open.
        let now = t("2026-11-22T12:40:00Z");
        // A daily backup at 02:00 for 160 days, except 5 days ago.
        let entries: Vec<BackupEntry> = (0..160)
            .filter(|d| *d != 5)
            .map(|d| {
                let time = t("2026-11-22T02:00:00Z") - chrono::Duration::days(d);
                BackupEntry {
                    time,
                    kind: "full".into(),
                    size_bytes: Some(1),
                    ok: true,
                    id: format!("day-{d}"),
                }
            })
            .collect();
        let slots = coverage(&entries, COMMERCE_RETENTION, now);
        let per_tier: Vec<usize> = (0..5)
            .map(|i| slots.iter().filter(|s| s.tier_index == i).count())
            .collect();
        // Hourly over 3 days minus the open hour; then 4 days, 5 weeks, 2.5 fortnights
        // (floor or ceil), 3 months.
        assert_eq!(per_tier[0], 72 - 1);
        assert_eq!(per_tier[1], 4);
        assert_eq!(per_tier[2], 5);
        assert!((2..=3).contains(&per_tier[3]), "{per_tier:?}");
        assert_eq!(per_tier[4], 3);
        // Daily backups leave most hourly slots empty; the daily tier has exactly the gap.
        let gaps: Vec<&SlotCoverage> = missing(&slots)
            .into_iter()
            .filter(|s| s.tier_index == 1)
            .collect();
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].start, t("2026-11-17T00:00:00Z"));
        assert!(slots.windows(2).all(|w| w[0].end >= w[1].end));
        assert_eq!(
            missing_slots(&entries, COMMERCE_RETENTION, now).len(),
            missing(&slots).len()
        );
    }

    #[test]
    fn absurd_tiers_are_capped() {
        let tiers = [tier(1, 0, 365 * D)];
        let now = t("2026-11-22T12:00:00Z");
        assert_eq!(coverage(&[], &tiers, now).len() as i64, MAX_SLOTS_PER_TIER);
    }
}
