//! The demo runs on the crate's clock: re-exported here so demo callers need one import.

pub use crate::clock::{Clock, ManualClock, SystemClock};
