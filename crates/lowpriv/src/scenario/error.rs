//! The one error type `scenario::load` and `scenario::parse` return.
//!
//! Input: a read failure or the problems the parser collected. Output: [`ScenarioError`], whose
//! `Display` is the complete rendered report, so the CLI prints it once and exits with 2.

use std::path::PathBuf;

use super::diagnostic::Diagnostics;

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(Diagnostics),
}
