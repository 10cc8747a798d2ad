//! Scenario files: TOML in, a validated [`Scenario`] out.
//!
//! Input: a scenario file (see `docs/scenario.md`) and an environment lookup for `${VAR}`
//! references and `env = "VAR"` secrets. Output: a [`Scenario`] whose invariants are listed in
//! [`model`](self), or [`ScenarioError::Invalid`] holding every problem found, each with
//! file:line:col, rendered once; and, for a valid scenario, its warnings ([`Lint`]). Rendered diagnostics never contain a secret: literal secrets are
//! masked in the quoted source and resolved values are never formatted.
//!
//! All validation happens here. This module uses neither tokio nor reqwest.

mod diagnostic;
mod env;
mod error;
mod glob;
mod lint;
mod model;
mod parse;

use std::path::Path;

pub use diagnostic::{Diagnostic, Diagnostics};
pub use env::{PlaceholderEnv, slug};
pub use error::ScenarioError;
pub use glob::{GlobError, PathGlobs};
pub use lint::Lint;
pub use model::*;

/// Reads and validates a scenario file. `env` resolves `${VAR}` references and `env = "VAR"`
/// secrets (the CLI passes process env; `lowpriv demo` passes its own lookup).
pub fn load(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Scenario, ScenarioError> {
    load_with_lints(path, env).map(|(scenario, _)| scenario)
}

/// [`load`], and the warnings about the scenario (settings that load but do what they seem
/// not to), sorted by position. Warnings never make a scenario invalid.
pub fn load_with_lints(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Scenario, Vec<Lint>), ScenarioError> {
    let source = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_with_lints(&source, path, env)
}

/// Validates scenario text; `file` is used only to name locations.
pub fn parse(
    source: &str,
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Scenario, ScenarioError> {
    parse_with_lints(source, file, env).map(|(scenario, _)| scenario)
}

/// [`parse`], and the warnings about the scenario, sorted by position.
pub fn parse_with_lints(
    source: &str,
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Scenario, Vec<Lint>), ScenarioError> {
    let parsed = parse::parse(source, file, env);
    match parsed.scenario {
        Some(scenario) if parsed.problems.is_empty() => Ok((scenario, parsed.lints)),
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
