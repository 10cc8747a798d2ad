//! Scenario files: TOML in, a validated [`Scenario`] out.
//!
//! Input: a scenario file (see `docs/scenario.md`) and an environment lookup for `${VAR}`
//! references and `env = "VAR"` secrets. Output: a [`Scenario`] whose invariants are listed in
//! [`model`](self), or [`ScenarioError::Invalid`] holding every problem found, each with
//! file:line:col, rendered once. Rendered diagnostics never contain a secret: literal secrets are
//! masked in the quoted source and resolved values are never formatted.
//!
//! All validation happens here. This module uses neither tokio nor reqwest.

mod diagnostic;
mod env;
mod error;
mod glob;
mod model;
mod parse;

use std::path::Path;

pub use diagnostic::{Diagnostic, Diagnostics};
pub use error::ScenarioError;
pub use glob::{GlobError, PathGlobs};
pub use model::*;

/// Reads and validates a scenario file. `env` resolves `${VAR}` references and `env = "VAR"`
/// secrets (the CLI passes process env; `lowpriv demo` passes its own lookup).
pub fn load(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Scenario, ScenarioError> {
    let source = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&source, path, env)
}

/// Validates scenario text; `file` is used only to name locations.
pub fn parse(
    source: &str,
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Scenario, ScenarioError> {
    let parsed = parse::parse(source, file, env);
    match parsed.scenario {
        Some(scenario) if parsed.problems.is_empty() => Ok(scenario),
        _ => Err(ScenarioError::Invalid(Diagnostics::new(
            source,
            file,
            parsed.problems,
            parsed.masks,
        ))),
    }
}

/// The process environment, for the CLI.
pub fn process_env(var: &str) -> Option<String> {
    std::env::var(var).ok()
}

#[cfg(test)]
mod tests;
