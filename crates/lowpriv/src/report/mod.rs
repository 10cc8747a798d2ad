//! Reports: renderings of a [`RunResult`].
//!
//! Every format reads the same `RunResult`; none re-judges. The terminal, Markdown and HTML
//! reports lay out the one exposure matrix of the run ([`exposure`], the model the `.snap`
//! file records too), in the same words ([`cell_label`]) and the same colours ([`CellTones`]:
//! a finding or as expected); likewise the one action matrix ([`actions`],
//! [`action_label`], [`CellTones::action_tone`]) and the sources' probes
//! ([`source_tables`]). Every format lists the findings by cause, one entry per
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

#[cfg(test)]
mod fixture;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::RunResult;
use crate::judge::{FindingGroup, FindingKind, Severity};
use crate::observe::Outcome;
use crate::snapshot::{ActionCell, ActionMatrix, ActionRow, Cell, Matrix, ProbeCell, RowKey};

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

/// The run's action matrix (action × identity: shown where, what the write probe got), built
/// once with the run: the `.snap` file's `ACTION` lines and every report's action table lay
/// out this one.
pub fn actions(result: &RunResult) -> &ActionMatrix {
    &result.action_matrix
}

/// An action cell in the words the terminal, Markdown and HTML tables share: where it was
/// shown (`form`, `js`, `form+js`; `openapi` when only documented), then the probe's answer
/// in a word (`refused`, `authorized` to attempt, `accepted` an empty body, `undecided`,
/// `unclear`, `error`); `-` for nothing.
pub fn action_label(cell: &ActionCell) -> String {
    let seen = cell.seen_in.join("+");
    let probe = cell.probe.map(probe_word);
    match (seen.is_empty(), probe) {
        (true, None) => "-".to_string(),
        (false, None) => seen,
        (true, Some(probe)) => probe.to_string(),
        (false, Some(probe)) => format!("{seen}, {probe}"),
    }
}

fn probe_word(probe: ProbeCell) -> &'static str {
    match probe {
        ProbeCell::Accepted => "accepted",
        ProbeCell::AuthorizedToAttempt => "authorized",
        ProbeCell::Undecided => "undecided",
        ProbeCell::Error => "error",
        ProbeCell::Refused => "refused",
        ProbeCell::Unclear => "unclear",
    }
}

/// What the action tables' words mean, for their legends: where an action was seen, and
/// what a write probe got.
pub const ACTION_LEGEND: [&str; 2] = [
    "form, js: shown in a page or script · openapi: only documented",
    "probe with an empty body: refused · authorized (400/422: got past the check) · \
     accepted (2xx) · undecided (everyone got past: it validates first) · unclear · error",
];

/// `POST /team/compensation` and its kind (`write-capable`, ...), with the rule's location
/// when one speaks for it.
pub fn action_row_label(row: &ActionRow) -> String {
    match &row.rule {
        Some(rule) => format!("{} · {} [{rule}]", row.key(), row.kind.as_str()),
        None => format!("{} · {}", row.key(), row.kind.as_str()),
    }
}

/// The actions in `write_scope` that were not probed, and why: `POST /x (why)`.
pub fn not_probed(result: &RunResult) -> Vec<String> {
    let origin = result.site.base_url.trim_end_matches('/');
    result
        .write_probes
        .not_sent
        .iter()
        .map(|n| {
            let url = n.url.strip_prefix(origin).unwrap_or(&n.url);
            format!("{} {url} ({})", n.method, n.why)
        })
        .collect()
}

/// The `graphql` section laid out for the terminal and Markdown (the HTML template reads
/// `r.graphql` itself): one line per identity's introspection, per schema difference, per
/// generated query (its answers in session order) and per field not queried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphqlView {
    pub endpoint: String,
    /// `carol: schema (3 types, 9 fields)`, `dave: refused (403)`.
    pub introspection: Vec<String>,
    /// (`bob has, carol has not (11)`, the elements joined).
    pub diff: Vec<(String, String)>,
    /// (field, document, `anonymous refused · carol data · ...`).
    pub queries: Vec<(String, String, String)>,
    /// (field, why not).
    pub not_queried: Vec<(String, String)>,
}

/// The `graphql` section as lines; `None` when the scenario did not opt in.
pub fn graphql_view(result: &RunResult) -> Option<GraphqlView> {
    let report = &result.graphql;
    let endpoint = report.endpoint.clone()?;
    let introspection = report
        .introspection
        .iter()
        .map(|i| match i.state {
            crate::graphql::IntrospectionState::Schema => format!(
                "{}: schema ({} types, {} fields)",
                i.identity, i.types, i.fields
            ),
            state => format!("{}: {} ({})", i.identity, state.as_str(), i.reason),
        })
        .collect();
    let diff = report
        .diff
        .iter()
        .map(|d| {
            (
                format!(
                    "{} has, {} has not ({})",
                    d.identity,
                    d.other,
                    d.only_in_identity.len()
                ),
                d.only_in_identity.join(", "),
            )
        })
        .collect();
    let queries = report
        .queries
        .iter()
        .map(|q| {
            let answers: Vec<String> = q
                .answers
                .iter()
                .map(|a| format!("{} {}", a.identity, a.answer))
                .collect();
            (q.field.clone(), q.document.clone(), answers.join(" · "))
        })
        .collect();
    let not_queried = report
        .not_queried
        .iter()
        .map(|n| (n.field.clone(), n.reason.clone()))
        .collect();
    Some(GraphqlView {
        endpoint,
        introspection,
        diff,
        queries,
        not_queried,
    })
}

/// One `[[source]]` laid out for a table: a row per identity (scenario order), a column per
/// probe (file order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceTable {
    pub name: String,
    pub base_url: String,
    /// `GET /employees`: each probe, relative to the base URL.
    pub probes: Vec<String>,
    pub rows: Vec<SourceRow>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRow {
    pub identity: String,
    /// `bearer ok`, `none` (sent without credentials), `form FAILED: why`.
    pub login: String,
    pub logged_in: bool,
    /// One per probe: `allow: compensation, email`, `deny`, `-` (not sent: its login failed).
    pub cells: Vec<String>,
}

/// Every source's probes as tables, in file order: what each identity's own login to the
/// source returned, which is what it may see on the Site.
pub fn source_tables(result: &RunResult) -> Vec<SourceTable> {
    result
        .sources
        .iter()
        .map(|source| {
            let base = source.base_url.trim_end_matches('/');
            let mut urls: Vec<(&str, &str)> = Vec::new();
            for obs in &source.observations {
                if !urls.contains(&(obs.method.as_str(), obs.url.as_str())) {
                    urls.push((obs.method.as_str(), obs.url.as_str()));
                }
            }
            let rows = source
                .identities
                .iter()
                .map(|who| SourceRow {
                    identity: who.identity.clone(),
                    login: match (&who.failure, who.login) {
                        (Some(why), kind) => format!("{kind} FAILED: {why}"),
                        (None, "none") => "none".to_string(),
                        (None, kind) => format!("{kind} ok"),
                    },
                    logged_in: who.logged_in,
                    cells: urls
                        .iter()
                        .map(|(method, url)| {
                            source
                                .observations
                                .iter()
                                .find(|o| {
                                    o.identity == who.identity
                                        && o.method == *method
                                        && o.url == *url
                                })
                                .map_or_else(
                                    || "-".to_string(),
                                    |o| {
                                        let word = outcome_word(o.outcome);
                                        if o.data.is_empty() {
                                            word.to_string()
                                        } else {
                                            let classes: Vec<&str> =
                                                o.data.keys().map(String::as_str).collect();
                                            format!("{word}: {}", classes.join(", "))
                                        }
                                    },
                                )
                        })
                        .collect(),
                })
                .collect();
            SourceTable {
                name: source.name.clone(),
                base_url: source.base_url.clone(),
                probes: urls
                    .iter()
                    .map(|(method, url)| {
                        let path = url.strip_prefix(base).unwrap_or(url);
                        format!("{method} {path}")
                    })
                    .collect(),
                rows,
            }
        })
        .collect()
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

    /// The tone of an action cell: a finding about actions names it, an error hid its
    /// probe's answer, as expected, or nothing to say. Findings about what the identity saw
    /// on a template of the same name do not colour it.
    pub fn action_tone(&self, row: &ActionRow, cell: &ActionCell) -> Tone {
        if cell.is_empty() {
            return Tone::None;
        }
        let named = self.kinds(&row.key(), &cell.identity).into_iter().any(|k| {
            matches!(
                k,
                FindingKind::ActionExposure
                    | FindingKind::ForbiddenAction
                    | FindingKind::UnauthorizedWrite
            )
        });
        if named {
            Tone::Finding
        } else if cell.probe == Some(ProbeCell::Error) {
            Tone::Error
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

    /// The action matrix and the sources, in every format that lays them out: the same words,
    /// a finding's cell marked; a run without them has no such sections.
    #[test]
    fn actions_and_sources_in_every_report() {
        use super::fixture::{result, section};
        let rich = result(true);
        let kinds: Vec<&str> = rich.findings.iter().map(|f| f.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["unauthorized-write", "action-exposure"],
            "{kinds:?}"
        );

        let text = terminal::render(&rich, terminal::Style::default());
        let terminal = section(&text, "Action matrix", &["Findings"]);
        insta::assert_snapshot!("terminal_actions_and_sources", terminal);
        let md = markdown::render(&rich);
        let markdown = section(&md, "### Action matrix", &["### Findings"]);
        insta::assert_snapshot!("markdown_actions_and_sources", markdown);

        let html = html::render(&rich).unwrap();
        let actions = section(&html, "<h2>Action matrix", &["<h2>Snapshot"]);
        for expected in [
            // carol: a finding names her cell; the long words in its title.
            r#"<td class="finding" data-identity="carol" title="shown (form) · authorized to attempt">form, authorized</td>"#,
            r#"<td class="expected" data-identity="alice" title="shown (form) · authorized to attempt">form, authorized</td>"#,
            r#"<td class="expected" data-identity="anonymous" title="not shown · refused">refused</td>"#,
            // The documented operation is listed here, with nobody shown it.
            r#"<td class="expected" data-identity="carol" title="documented (openapi)">openapi</td>"#,
            "write-capable <code>[t.toml:30:1]</code>",
            "<td>amount, employee</td>",
            "Not probed: <code>DELETE /api/notes/{id} (DELETE acts without a body: never sent)</code>",
            "<h3>hr-api · <code>http://hr.test/</code></h3>",
            "<td>carol</td><td>bearer ok</td><td>allow: email</td>",
            "<td>alice</td><td><strong>bearer FAILED: 401 from http://hr.test/employees</strong></td><td>-</td>",
        ] {
            assert!(actions.contains(expected), "{expected}\nin\n{actions}");
        }
        // Per identity, the changing actions it was shown.
        assert!(actions.contains(">read-only</th>"), "{actions}");
        assert!(actions.contains(">write-capable (1)</th>"), "{actions}");

        // JUnit: the actions rule is a check, failed by its groups.
        let junit = junit::render(&rich).unwrap();
        assert!(
            junit.contains(r#"classname="[[expect]] t.toml:30:1 actions write""#),
            "{junit}"
        );
        assert!(
            junit.contains(r#"type="unauthorized-write (high)""#),
            "{junit}"
        );
        assert!(junit.contains(r#"name="source-bypass""#), "{junit}");

        let plain = result(false);
        assert!(plain.findings.is_empty(), "{:?}", plain.findings);
        let text = terminal::render(&plain, terminal::Style::default());
        assert!(!text.contains("Action matrix"), "{text}");
        assert!(!text.contains("Sources"), "{text}");
        let md = markdown::render(&plain);
        assert!(
            !md.contains("### Action matrix") && !md.contains("### Sources"),
            "{md}"
        );
        let html = html::render(&plain).unwrap();
        assert!(html.contains("No identity was shown an action"), "{html}");
        assert!(!html.contains("<h2>Sources"), "{html}");
        let junit = junit::render(&plain).unwrap();
        assert!(!junit.contains("source-bypass"), "{junit}");
    }

    #[test]
    fn action_cells_read_the_same_in_every_report() {
        let cell = |seen: &[&str], probe| ActionCell {
            identity: "carol".to_string(),
            seen_in: seen.iter().map(|s| s.to_string()).collect(),
            probe,
        };
        let cases = [
            (cell(&[], None), "-"),
            (cell(&["form"], None), "form"),
            (cell(&["form", "js"], None), "form+js"),
            (cell(&["openapi"], None), "openapi"),
            (cell(&[], Some(ProbeCell::Refused)), "refused"),
            (
                cell(&["form"], Some(ProbeCell::AuthorizedToAttempt)),
                "form, authorized",
            ),
            (cell(&["js"], Some(ProbeCell::Accepted)), "js, accepted"),
            (
                cell(&["form"], Some(ProbeCell::Undecided)),
                "form, undecided",
            ),
        ];
        for (cell, label) in cases {
            assert_eq!(action_label(&cell), label, "{cell:?}");
        }
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
