//! Reports: renderings of a [`RunResult`].
//!
//! Every format reads the same `RunResult`; none re-judges. The terminal, Markdown and HTML
//! reports lay out the one exposure matrix of the run ([`exposure`], the model the `.snap`
//! file records too), in the same words ([`cell_label`]). The terminal report is for a
//! person (matrix, findings by severity, verdict); the JSON report is the machine contract
//! (see `json.rs` for its schema); JUnit and SARIF are for CI systems and code scanning;
//! Markdown is for a PR comment or `$GITHUB_STEP_SUMMARY`; HTML is the reviewer's page.
//! Each file documents its own schema.

pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod terminal;

use std::path::PathBuf;

use crate::RunResult;
use crate::judge::Finding;
use crate::observe::Outcome;
use crate::snapshot::{Cell, Matrix};

/// The file reports a run writes besides the terminal and JSON ones (`--junit`, `--sarif`,
/// `--markdown`, `--html`); `None` skips a format.
#[derive(Clone, Debug, Default)]
pub struct Outputs {
    pub junit: Option<PathBuf>,
    pub sarif: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    pub html: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot render the {format} report")]
    Render {
        format: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("cannot write the {format} report to {}", path.display())]
    Write {
        format: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Writes every requested report from the one `RunResult`. Each file is written atomically
/// (temp file and rename), so CI never uploads half a report. Every format is attempted even
/// when an earlier one fails; the first error is returned.
pub fn write_outputs(result: &RunResult, outputs: &Outputs) -> Result<(), ReportError> {
    type Render = fn(&RunResult) -> Result<String, ReportError>;
    let formats: [(&'static str, &Option<PathBuf>, Render); 4] = [
        ("JUnit", &outputs.junit, junit::render),
        ("SARIF", &outputs.sarif, |r| Ok(sarif::render(r))),
        ("Markdown", &outputs.markdown, |r| Ok(markdown::render(r))),
        ("HTML", &outputs.html, html::render),
    ];
    let mut first_error = None;
    for (format, path, render) in formats {
        let Some(path) = path else { continue };
        let written = render(result).and_then(|text| {
            crate::atomic_file::write(path, text.as_bytes()).map_err(|source| ReportError::Write {
                format,
                path: path.clone(),
                source,
            })
        });
        if let Err(e) = written {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// The run's exposure matrix, built once by the run (its columns are the identities whose
/// sessions were usable, in scenario order): the `.snap` file and every report lay out this
/// one; none builds cells of its own.
pub fn exposure(result: &RunResult) -> &Matrix {
    &result.exposure
}

/// A matrix cell in the words the terminal, Markdown and HTML reports share: its outcomes
/// joined by `+` (`allow`, `deny+allow`), `*` when data was seen, `-` for no observation.
pub fn cell_label(cell: Option<&Cell>) -> String {
    let Some(cell) = cell else {
        return "-".to_string();
    };
    let mut text = cell
        .outcomes
        .iter()
        .map(|o| outcome_word(*o))
        .collect::<Vec<_>>()
        .join("+");
    if !cell.data.is_empty() {
        text.push('*');
    }
    text
}

/// Short words, so a column of several identities fits a terminal; `ERROR` shouts because it
/// hides what the identity would have got.
fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Allowed => "allow",
        Outcome::Denied => "deny",
        Outcome::Hidden => "hidden",
        Outcome::Error => "ERROR",
        Outcome::Skipped => "skip",
    }
}

/// Findings of one kind for one identity on one template, as the terminal groups them: an
/// IDOR over a hundred records is one row, not a hundred.
pub fn finding_groups(findings: &[Finding]) -> Vec<&[Finding]> {
    let key = |f: &Finding| {
        (
            f.severity,
            f.kind,
            f.identity.clone(),
            f.method.clone(),
            f.template.clone(),
        )
    };
    let mut groups = Vec::new();
    let mut index = 0;
    while index < findings.len() {
        let first = &findings[index];
        let len = findings[index..]
            .iter()
            .take_while(|f| key(f) == key(first) && f.template.is_some())
            .count()
            .max(1);
        groups.push(&findings[index..index + len]);
        index += len;
    }
    groups
}

/// What a group of findings is about, for a person: `GET /path`, or the template and how many
/// URLs when the group holds several. None for site-wide findings.
pub fn finding_target(group: &[Finding], origin: &str) -> Option<String> {
    let first = group.first()?;
    match (&first.method, &first.url, &first.template) {
        (Some(m), Some(_), Some(t)) if group.len() > 1 => {
            Some(format!("{m} {t} · {} URLs", group.len()))
        }
        (Some(m), Some(u), _) => Some(format!("{m} {}", u.strip_prefix(origin).unwrap_or(u))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::Outcome::{Allowed, Denied, Error, Hidden, Skipped};

    #[test]
    fn cells_read_the_same_in_every_report() {
        let cell = |outcomes: &[Outcome], data: &[&str]| Cell {
            outcomes: outcomes.iter().copied().collect(),
            data: data.iter().map(|d| d.to_string()).collect(),
        };
        let cases = [
            (None, "-"),
            (Some(cell(&[Allowed], &[])), "allow"),
            (Some(cell(&[Allowed], &["email"])), "allow*"),
            (Some(cell(&[Allowed, Denied], &["email"])), "allow+deny*"),
            (Some(cell(&[Denied, Hidden], &[])), "deny+hidden"),
            (Some(cell(&[Error, Skipped], &[])), "ERROR+skip"),
        ];
        for (cell, label) in cases {
            assert_eq!(cell_label(cell.as_ref()), label, "{cell:?}");
        }
    }
}
