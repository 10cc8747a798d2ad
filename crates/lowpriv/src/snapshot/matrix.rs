//! The exposure matrix and its text form: one fact per line, in a fixed order, with nothing
//! that moves when a Site merely grows (no counts, no timestamps, no IDs).
//!
//! ```text
//! # lowpriv exposure snapshot (format 1)
//! site acme-payroll
//! identity anonymous
//! identity carol
//!
//! GET /api/employees/{id} · anonymous · denied
//! GET /api/employees/{id} · carol · allowed+denied
//! GET /api/employees/{id} · carol · sees email
//! ```
//!
//! A line is `METHOD TEMPLATE · IDENTITY · OUTCOMES` (outcomes joined by `+`) or
//! `METHOD TEMPLATE · IDENTITY · sees CLASS` (a data class seen in an allowed answer).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::Path;

use crate::observe::{Observation, Outcome};

pub const FORMAT_VERSION: u32 = 1;
const SEPARATOR: &str = " · ";

/// What one identity got on one request template.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cell {
    pub outcomes: BTreeSet<Outcome>,
    /// Data classes seen in allowed answers.
    pub data: BTreeSet<String>,
}

/// (method, template)
pub type RowKey = (String, String);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matrix {
    pub site: String,
    /// In scenario order.
    pub identities: Vec<String>,
    pub rows: BTreeMap<RowKey, BTreeMap<String, Cell>>,
}

impl Matrix {
    pub fn from_observations(
        site: &str,
        identities: &[String],
        observations: &[Observation],
    ) -> Matrix {
        let mut rows: BTreeMap<RowKey, BTreeMap<String, Cell>> = BTreeMap::new();
        for obs in observations {
            if !identities.contains(&obs.identity) {
                continue;
            }
            let cell = rows
                .entry((obs.method.clone(), obs.template.clone()))
                .or_default()
                .entry(obs.identity.clone())
                .or_default();
            cell.outcomes.insert(obs.outcome);
            if obs.outcome == Outcome::Allowed {
                cell.data.extend(obs.data.keys().cloned());
            }
        }
        Matrix {
            site: site.to_string(),
            identities: identities.to_vec(),
            rows,
        }
    }

    pub fn cell(&self, key: &RowKey, identity: &str) -> Option<&Cell> {
        self.rows.get(key).and_then(|r| r.get(identity))
    }

    /// The file's text. Rows sorted by template then method; identities in scenario order.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# lowpriv exposure snapshot (format {FORMAT_VERSION})");
        out.push_str(
            "# One fact per line: `METHOD TEMPLATE · IDENTITY · OUTCOMES` or `... · sees CLASS`.\n\
             # Approve a change with `lowpriv snapshot review` or `lowpriv snapshot accept NAME`.\n",
        );
        let _ = writeln!(out, "site {}", self.site);
        for identity in &self.identities {
            let _ = writeln!(out, "identity {identity}");
        }
        let mut keys: Vec<&RowKey> = self.rows.keys().collect();
        keys.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
        for key in keys {
            out.push('\n');
            let row = &self.rows[key];
            for identity in &self.identities {
                let Some(cell) = row.get(identity) else {
                    continue;
                };
                let _ = writeln!(
                    out,
                    "{} {}{SEPARATOR}{identity}{SEPARATOR}{}",
                    key.0,
                    key.1,
                    outcomes_text(&cell.outcomes)
                );
                for class in &cell.data {
                    let _ = writeln!(
                        out,
                        "{} {}{SEPARATOR}{identity}{SEPARATOR}sees {class}",
                        key.0, key.1
                    );
                }
            }
        }
        out
    }

    /// Reads a snapshot file back, naming file:line and what was expected on any problem.
    pub fn parse(text: &str, file: &Path) -> Result<Matrix, ParseError> {
        let error = |line: usize, message: String| ParseError {
            file: file.display().to_string(),
            line,
            message,
        };
        let mut site = None;
        let mut identities: Vec<String> = Vec::new();
        let mut rows: BTreeMap<RowKey, BTreeMap<String, Cell>> = BTreeMap::new();
        for (index, raw) in text.lines().enumerate() {
            let number = index + 1;
            let line = raw.trim_end();
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(name) = line.strip_prefix("site ") {
                if site.is_some() {
                    return Err(error(number, "a second `site` line".to_string()));
                }
                site = Some(name.trim().to_string());
                continue;
            }
            if let Some(name) = line.strip_prefix("identity ") {
                identities.push(name.trim().to_string());
                continue;
            }
            let parts: Vec<&str> = line.splitn(3, SEPARATOR).collect();
            let [request, identity, fact] = parts.as_slice() else {
                return Err(error(
                    number,
                    format!(
                        "expected `site NAME`, `identity NAME`, `METHOD TEMPLATE · IDENTITY · OUTCOMES` \
                         or `METHOD TEMPLATE · IDENTITY · sees CLASS`, found `{line}`"
                    ),
                ));
            };
            let Some((method, template)) = request.split_once(' ') else {
                return Err(error(
                    number,
                    format!("expected `METHOD TEMPLATE` before the first `·`, found `{request}`"),
                ));
            };
            if !method.chars().all(|c| c.is_ascii_uppercase()) || !template.starts_with('/') {
                return Err(error(
                    number,
                    format!("expected an HTTP method and a path template, found `{request}`"),
                ));
            }
            if !identities.iter().any(|i| i == identity) {
                return Err(error(
                    number,
                    format!("identity `{identity}` is not declared by an `identity` line above"),
                ));
            }
            let cell = rows
                .entry((method.to_string(), template.to_string()))
                .or_default()
                .entry(identity.to_string())
                .or_default();
            if let Some(class) = fact.strip_prefix("sees ") {
                cell.data.insert(class.trim().to_string());
            } else if fact.trim() == "absent" {
                // What `render` writes for a cell with data but no outcome (a hand-edited
                // file with only a `sees` line): the cell, with no outcome.
            } else {
                for word in fact.split('+') {
                    let outcome = parse_outcome(word.trim()).ok_or_else(|| {
                        error(
                            number,
                            format!(
                                "unknown outcome `{word}` (expected allowed, denied, hidden, error or skipped, joined by `+`, or `sees CLASS`)"
                            ),
                        )
                    })?;
                    cell.outcomes.insert(outcome);
                }
            }
        }
        let site = site.ok_or_else(|| error(1, "no `site NAME` line".to_string()))?;
        Ok(Matrix {
            site,
            identities,
            rows,
        })
    }
}

pub fn outcomes_text(outcomes: &BTreeSet<Outcome>) -> String {
    if outcomes.is_empty() {
        return "absent".to_string();
    }
    outcomes
        .iter()
        .map(|o| o.as_str())
        .collect::<Vec<_>>()
        .join("+")
}

fn parse_outcome(word: &str) -> Option<Outcome> {
    [
        Outcome::Allowed,
        Outcome::Denied,
        Outcome::Hidden,
        Outcome::Error,
        Outcome::Skipped,
    ]
    .into_iter()
    .find(|o| o.as_str() == word)
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ParseError {
    pub file: String,
    pub line: usize,
    pub message: String,
}
