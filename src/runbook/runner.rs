//! (being written: see src/runbook/mod.rs)
