//! Rules: turn the store's data into conditions that open incidents.
//!
//! `data` is what the rule language reads; `lang` parses and evaluates rule expressions.

pub mod data;
pub mod lang;
