//! The store (stub).

pub mod model;
