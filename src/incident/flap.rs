//! Flap detection, as Nagios does it: per key, the last 21 evaluation states and a
//! weighted percent state change over the 20 transitions between them.
//!
//! Newer transitions weigh more (0.8 for the oldest up to 1.2 for the newest, linearly),
//! so a condition that has just started to flap is noticed sooner than one that has just
//! stopped is forgotten. The percent is `sum(weights of transitions that changed) / 20 ×
//! 100`, so a condition that changes every round reaches 100 %.
//!
//! With fewer than 21 states the known transitions take the newest weights and the sum is
//! still divided by 20: a short history can only under-estimate, which is the safe side for
//! *starting* to flap. For the same reason a short history is never allowed to *stop*
//! flapping (see [`FlapHistory::full`]): after a restart an incident that was flapping stays
//! flapping until 21 fresh states say otherwise.

use std::collections::VecDeque;

/// Number of states kept (Nagios' `MAX_STATE_HISTORY_ENTRIES`).
pub const STATES: usize = 21;
const TRANSITIONS: usize = STATES - 1;
const LOW_WEIGHT: f64 = 0.8;
const HIGH_WEIGHT: f64 = 1.2;

/// Problem (`true`) / ok (`false`) states of one key, oldest first.
#[derive(Debug, Clone, Default)]
pub struct FlapHistory {
    states: VecDeque<bool>,
}

impl FlapHistory {
    pub fn record(&mut self, problem: bool) {
        if self.states.len() == STATES {
            self.states.pop_front();
        }
        self.states.push_back(problem);
    }

    /// All 21 states are known.
    pub fn full(&self) -> bool {
        self.states.len() == STATES
    }

    /// No problem state in the window: nothing to remember about this key.
    pub fn all_ok(&self) -> bool {
        self.states.iter().all(|p| !p)
    }

    /// Weighted percent state change, 0–100.
    pub fn percent(&self) -> f64 {
        let transitions = self.states.len().saturating_sub(1);
        // Missing (oldest) transitions are the first `skip` weight slots.
        let skip = TRANSITIONS - transitions;
        let mut changed = 0.0;
        for (i, (a, b)) in self
            .states
            .iter()
            .zip(self.states.iter().skip(1))
            .enumerate()
        {
            if a != b {
                let slot = (skip + i) as f64;
                changed +=
                    LOW_WEIGHT + slot * (HIGH_WEIGHT - LOW_WEIGHT) / (TRANSITIONS - 1) as f64;
            }
        }
        changed / TRANSITIONS as f64 * 100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(states: &[bool]) -> FlapHistory {
        let mut h = FlapHistory::default();
        for &s in states {
            h.record(s);
        }
        h
    }

    #[test]
    fn steady_is_zero_and_alternating_is_hundred() {
        assert_eq!(history(&[true; 21]).percent(), 0.0);
        let alternating: Vec<bool> = (0..21).map(|i| i % 2 == 0).collect();
        assert!((history(&alternating).percent() - 100.0).abs() < 1e-9);
    }

    #[test]
    fn newest_transition_weighs_most() {
        let mut oldest = vec![true; 21];
        oldest[0] = false; // the transition between states 0 and 1
        let mut newest = vec![true; 21];
        newest[20] = false;
        assert!((history(&oldest).percent() - 4.0).abs() < 1e-9); // 0.8 / 20
        assert!((history(&newest).percent() - 6.0).abs() < 1e-9); // 1.2 / 20
    }

    #[test]
    fn keeps_only_the_last_21_states() {
        let mut h = history(&[true, false, true, false]);
        for _ in 0..STATES {
            h.record(true);
        }
        assert!(h.full());
        assert_eq!(h.percent(), 0.0);
    }

    #[test]
    fn short_history_uses_newest_weights() {
        // Two states, one change: the newest weight 1.2 over 20.
        assert!((history(&[false, true]).percent() - 6.0).abs() < 1e-9);
        assert!(!history(&[false, true]).full());
    }
}
