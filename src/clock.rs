//! The notion of "now": an injectable clock so tests and the demo can freeze and step time.
//!
//! The demo fleet serves values that are pure functions of time, and the store judges
//! staleness against "now": owning time here is what makes both reproducible in tests.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// Wall-clock time: what `watchdeck --demo` runs on.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to; share it with `Arc` between the test and the
/// fleet.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// Convenience for tests: a clock already wrapped for sharing.
    pub fn shared(start: DateTime<Utc>) -> Arc<Self> {
        Arc::new(Self::new(start))
    }

    pub fn set(&self, to: DateTime<Utc>) {
        // A poisoned lock only means another thread panicked mid-assignment of a Copy
        // value; the value itself is still whole, so keep going.
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = to;
    }

    pub fn advance(&self, by: std::time::Duration) {
        let by = TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX);
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now = now.checked_add_signed(by).unwrap_or(*now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_sets_and_advances() {
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let c = ManualClock::new(t0);
        assert_eq!(c.now(), t0);
        c.advance(std::time::Duration::from_secs(90));
        assert_eq!(c.now().timestamp(), 1_700_000_090);
        c.set(t0);
        assert_eq!(c.now(), t0);
    }
}
