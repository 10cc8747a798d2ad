//! Scenario files: TOML in, a validated [`Scenario`] out.
//!
//! All validation happens here, and every problem found is reported in one pass with
//! file:line:col. This module uses neither tokio nor reqwest.

mod model;

pub use model::*;
