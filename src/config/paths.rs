//! Paths (stub).
