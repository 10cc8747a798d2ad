//! Reports: renderings of a [`RunResult`].
//!
//! Every format reads the same `RunResult`; none re-judges. The terminal, Markdown and HTML
//! reports lay out the one exposure matrix of the run ([`exposure`], the model the `.snap`
//! file records too), in the same words ([`cell_label`]) and the same colours ([`CellTones`]:
//! a finding or as expected). Every format lists the findings by cause, one entry per
//! [`groups`] entry (kind, rule or data class, method and template, with the identities and
//! URLs it was seen over); the JSON report also keeps every finding. The terminal report is for a
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

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::RunResult;
use crate::judge::{FindingGroup, FindingKind, Severity};
use crate::observe::Outcome;
use crate::snapshot::{Cell, Matrix, RowKey};

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

/// The run's findings grouped by cause, built once by the judge (`judge::group`): every
/// format lists these, one entry per group, and none regroups. The JSON report keeps the
/// complete `findings` list beside them.
pub fn groups(result: &RunResult) -> &[FindingGroup] {
    &result.groups
}

/// `GET /api/employees/{id}`: what a group is about. None for site-wide groups.
pub fn group_request(group: &FindingGroup) -> Option<String> {
    match (&group.method, &group.template) {
        (Some(method), Some(template)) => Some(format!("{method} {template}")),
        _ => None,
    }
}

/// Where a group was seen, in a few characters: the one URL's path, or how many URLs.
pub fn group_urls(group: &FindingGroup, origin: &str) -> String {
    match group.urls.as_slice() {
        [] => "-".to_string(),
        [url] => url.strip_prefix(origin).unwrap_or(url).to_string(),
        urls => format!("{} URLs", urls.len()),
    }
}

/// A group's request and URLs on one line, for the terminal: `GET /admin/users`,
/// `GET /api/employees/{id} · 5 URLs`, or `GET /api/employees/{id} · /api/employees/1` when
/// one URL of a template was hit. None for site-wide groups.
pub fn group_target(group: &FindingGroup, origin: &str) -> Option<String> {
    let request = group_request(group)?;
    let urls = group_urls(group, origin);
    Some(if Some(&urls) == group.template.as_ref() || urls == "-" {
        request
    } else {
        format!("{request} · {urls}")
    })
}

/// Groups and findings per severity, for the headings of the grouped lists.
pub fn group_counts(result: &RunResult) -> BTreeMap<Severity, (usize, usize)> {
    let mut counts: BTreeMap<Severity, (usize, usize)> = BTreeMap::new();
    for group in groups(result) {
        let entry = counts.entry(group.severity).or_default();
        entry.0 += 1;
        entry.1 += group.findings;
    }
    counts
}

/// What a matrix cell's colour says: whether a finding names the cell, not which outcome it
/// is. An owner's `allow` on their own page is as expected; a `deny` is no better than an
/// `allow` nobody objects to. Errors keep their own tone because they hide the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Some finding names this (identity, method, template).
    Finding,
    /// Observed, and no finding names it.
    Expected,
    /// An error hid (part of) the answer.
    Error,
    /// No observation.
    None,
}

impl Tone {
    pub fn as_str(self) -> &'static str {
        match self {
            Tone::Finding => "finding",
            Tone::Expected => "expected",
            Tone::Error => "error",
            Tone::None => "none",
        }
    }
}

/// Which matrix cells the findings name, with the kinds naming each: the one place the
/// terminal, Markdown and HTML matrices take their colours from. Built from the groups (a
/// group names every identity of it on its method and template), so it is a lookup, never a
/// judgement.
pub struct CellTones<'a> {
    named: BTreeMap<(&'a str, &'a str, &'a str), BTreeSet<FindingKind>>,
}

impl<'a> CellTones<'a> {
    /// `groups`: the run's ([`groups`]).
    pub fn new(groups: &'a [FindingGroup]) -> CellTones<'a> {
        let mut named: BTreeMap<(&str, &str, &str), BTreeSet<FindingKind>> = BTreeMap::new();
        for group in groups {
            // Inconclusive findings name error cells; those already have the error tone.
            if group.kind == FindingKind::Inconclusive {
                continue;
            }
            let (Some(method), Some(template)) = (&group.method, &group.template) else {
                continue;
            };
            for identity in &group.identities {
                named
                    .entry((identity.as_str(), method.as_str(), template.as_str()))
                    .or_default()
                    .insert(group.kind);
            }
        }
        CellTones { named }
    }

    /// The tone of `identity`'s cell on the row `key`.
    pub fn tone(&self, key: &RowKey, identity: &str, cell: Option<&Cell>) -> Tone {
        let Some(cell) = cell else {
            return Tone::None;
        };
        if cell.outcomes.contains(&Outcome::Error) {
            Tone::Error
        } else if !self.kinds(key, identity).is_empty() {
            Tone::Finding
        } else {
            Tone::Expected
        }
    }

    /// The kinds of the findings naming a cell, in `FindingKind` order.
    pub fn kinds(&self, key: &RowKey, identity: &str) -> Vec<FindingKind> {
        self.named
            .get(&(identity, key.method.as_str(), key.template.as_str()))
            .map_or_else(Vec::new, |kinds| kinds.iter().copied().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::Finding;
    use crate::observe::Outcome::{Allowed, Denied, Error, Hidden, Skipped};

    /// A finding names a cell by identity, method and template; an inconclusive one (on an
    /// error cell) does not make it a finding, and an error keeps its tone whatever names it.
    #[test]
    fn cell_tones_come_from_the_groups_not_the_outcome() {
        let finding = |kind, identity: &str, template: &str| Finding {
            kind,
            severity: Severity::High,
            identity: Some(identity.to_string()),
            method: Some("GET".to_string()),
            url: Some(format!("http://s.test{template}")),
            template: Some(template.to_string()),
            detail: String::new(),
            rule: None,
            data: Vec::new(),
            accepted: None,
        };
        let groups = crate::judge::group(&[
            finding(FindingKind::AudienceLeak, "dave", "/r"),
            finding(FindingKind::Inconclusive, "carol", "/r"),
            finding(FindingKind::RuleViolation, "bob", "/r"),
        ]);
        let tones = CellTones::new(&groups);
        let cell = |outcomes: &[Outcome]| Cell {
            outcomes: outcomes.iter().copied().collect(),
            data: Default::default(),
        };
        let key = RowKey::new("GET", "/r");
        let cases = [
            ("dave", Some(cell(&[Allowed])), Tone::Finding),
            ("alice", Some(cell(&[Allowed])), Tone::Expected),
            ("alice", Some(cell(&[Denied])), Tone::Expected),
            ("carol", Some(cell(&[Error])), Tone::Error),
            ("carol", Some(cell(&[Allowed])), Tone::Expected),
            ("bob", Some(cell(&[Allowed, Error])), Tone::Error),
            ("dave", None, Tone::None),
        ];
        for (identity, cell, tone) in cases {
            assert_eq!(
                tones.tone(&key, identity, cell.as_ref()),
                tone,
                "{identity} {cell:?}"
            );
        }
        assert_eq!(tones.kinds(&key, "dave"), [FindingKind::AudienceLeak]);
        assert_eq!(
            tones.tone(&RowKey::new("HEAD", "/r"), "dave", Some(&cell(&[Allowed]))),
            Tone::Expected,
            "another method is another row"
        );
    }

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
