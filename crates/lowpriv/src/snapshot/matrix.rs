//! The exposure matrix: what each identity got on each request template. It is the one model
//! of "who can see what": the `.snap` file, the terminal, Markdown and HTML reports all lay it
//! out, and none of them rebuilds it from observations.
//!
//! Input: a run's observations and the identities whose sessions count, in scenario order
//! ([`Matrix::from_observations`]); or a snapshot file's text ([`Matrix::parse`]).
//! Output: a [`Matrix`]: per request template ([`RowKey`]: method and template), one [`Cell`]
//! per identity that has an observation there, holding the outcomes it got and the data
//! classes seen in its allowed answers.
//!
//! Invariants:
//! - rows are ordered by template, then method (the order of [`RowKey`]); a row's cells are
//!   read in the matrix's identity order, which is the scenario's, never alphabetical;
//! - an observation of an identity outside the matrix is left out, so every cell belongs to a
//!   column;
//! - data counts only in allowed answers: a deny page that happens to print an address
//!   exposes nothing the identity was given;
//! - nothing depends on how many URLs or records a template had, so a Site that merely grows
//!   keeps the same matrix (and the same file).
//!
//! The text form is one fact per line, in a fixed order, with nothing that moves when a Site
//! merely grows (no counts, no timestamps, no IDs):
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
//!
//! After the exposure rows come the action matrix's facts (`actions.rs`), one `ACTION` line
//! per identity that was shown an action in a page or a script, found it documented in the
//! Site's OpenAPI document, or had it write-probed:
//!
//! ```text
//! ACTION POST /team/compensation · anonymous · write-capable, not shown · refused
//! ACTION POST /team/compensation · carol · write-capable, shown (form) · authorized to attempt
//! ACTION DELETE /api/notes/{id} · carol · write-capable, documented (openapi)
//! ```
//!
//! `ACTION METHOD TEMPLATE · IDENTITY · KIND, PRESENCE` then `· PROBE` when a write probe
//! was sent: KIND is `read-only`, `write-capable`, `confirmation` or `forbidden`; PRESENCE is
//! `shown (SOURCES)`, `documented (openapi)` or `not shown`; PROBE is the answer's words or
//! `undecided`. A documented operation gets its line too: a new write operation in the API
//! document is worth a drift even when no page offers it. A file without `ACTION` lines
//! (from before they existed) still reads; every action of the run is then new.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::Path;

use super::actions::{ActionFact, ActionMatrix};
use crate::observe::{Observation, Outcome};

pub const FORMAT_VERSION: u32 = 1;
pub(crate) const SEPARATOR: &str = " · ";
/// What starts an action matrix line.
const ACTION: &str = "ACTION ";

/// What one identity got on one request template.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cell {
    pub outcomes: BTreeSet<Outcome>,
    /// Data classes seen in allowed answers.
    pub data: BTreeSet<String>,
}

impl Cell {
    /// The outcome a one-word view of the cell leads with: error, then allowed, hidden,
    /// denied, skipped. An error comes first because it hides what the identity would have
    /// got; allowed next because it is the exposure. `None` only for a cell without outcomes
    /// (a hand-edited file with a `sees` line alone).
    pub fn headline(&self) -> Option<Outcome> {
        [
            Outcome::Error,
            Outcome::Allowed,
            Outcome::Hidden,
            Outcome::Denied,
            Outcome::Skipped,
        ]
        .into_iter()
        .find(|o| self.outcomes.contains(o))
    }
}

/// A row of the matrix: one request template. The field order is the row order (template,
/// then method), so every view sorts the same way without a comparator of its own.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowKey {
    pub template: String,
    pub method: String,
}

impl RowKey {
    pub fn new(method: &str, template: &str) -> RowKey {
        RowKey {
            template: template.to_string(),
            method: method.to_string(),
        }
    }
}

/// `GET /api/employees/{id}`
impl std::fmt::Display for RowKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.template)
    }
}

/// One row laid out for a table: a cell slot per identity of the matrix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row<'a> {
    pub key: &'a RowKey,
    /// One per identity of [`Matrix::identities`], in that order; `None`: the identity has no
    /// observation on this template.
    pub cells: Vec<Option<&'a Cell>>,
    /// Data classes anyone saw in an allowed answer on this template.
    pub data: BTreeSet<&'a str>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matrix {
    pub site: String,
    /// The columns, in scenario order.
    pub identities: Vec<String>,
    /// By row, then by identity name; only identities of `identities` have cells.
    rows: BTreeMap<RowKey, BTreeMap<String, Cell>>,
    /// The action matrix's facts ([`ActionMatrix::facts`]), by action, then by identity
    /// name; only identities of `identities` have facts.
    actions: BTreeMap<RowKey, BTreeMap<String, ActionFact>>,
}

impl Matrix {
    /// The one place observations become cells. `identities`: the columns, in scenario order
    /// (for a run, the identities whose sessions are usable: the others have no observations,
    /// and a column of nothing would read as "denied everywhere").
    pub fn from_observations(
        site: &str,
        identities: &[String],
        observations: &[Observation],
    ) -> Matrix {
        let mut matrix = Matrix::empty(site, identities.to_vec());
        for obs in observations {
            if !identities.contains(&obs.identity) {
                continue;
            }
            let cell = matrix.cell_mut(&obs.method, &obs.template, &obs.identity);
            cell.outcomes.insert(obs.outcome);
            if obs.outcome == Outcome::Allowed {
                cell.data.extend(obs.data.keys().cloned());
            }
        }
        matrix
    }

    fn empty(site: &str, identities: Vec<String>) -> Matrix {
        Matrix {
            site: site.to_string(),
            identities,
            rows: BTreeMap::new(),
            actions: BTreeMap::new(),
        }
    }

    /// The same matrix with the action matrix's facts: the snapshot records what each
    /// identity may change beside what it can see. Facts of identities outside the columns
    /// are left out.
    pub fn with_actions(mut self, actions: &ActionMatrix) -> Matrix {
        for (key, identity, fact) in actions.facts() {
            if self.identities.iter().any(|i| i == identity) {
                self.actions
                    .entry(key)
                    .or_default()
                    .insert(identity.to_string(), fact);
            }
        }
        self
    }

    /// One action fact, if the identity has one there.
    pub fn action(&self, key: &RowKey, identity: &str) -> Option<&ActionFact> {
        self.actions.get(key).and_then(|r| r.get(identity))
    }

    /// Every action fact with its action and identity, by action, then by identity name.
    pub fn actions(&self) -> impl Iterator<Item = (&RowKey, &str, &ActionFact)> {
        self.actions.iter().flat_map(|(key, row)| {
            row.iter()
                .map(move |(identity, fact)| (key, identity.as_str(), fact))
        })
    }

    fn cell_mut(&mut self, method: &str, template: &str, identity: &str) -> &mut Cell {
        self.rows
            .entry(RowKey::new(method, template))
            .or_default()
            .entry(identity.to_string())
            .or_default()
    }

    pub fn cell(&self, key: &RowKey, identity: &str) -> Option<&Cell> {
        self.rows.get(key).and_then(|r| r.get(identity))
    }

    /// No exposure rows (action facts aside).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The request templates, in row order.
    pub fn keys(&self) -> impl Iterator<Item = &RowKey> {
        self.rows.keys()
    }

    /// Every cell with its row and identity, in row order, then by identity name.
    pub fn cells(&self) -> impl Iterator<Item = (&RowKey, &str, &Cell)> {
        self.rows.iter().flat_map(|(key, row)| {
            row.iter()
                .map(move |(identity, cell)| (key, identity.as_str(), cell))
        })
    }

    /// The rows as a table lays them out: in row order, cells in identity order.
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|(key, row)| Row {
            key,
            cells: self.identities.iter().map(|i| row.get(i)).collect(),
            data: row
                .values()
                .flat_map(|c| c.data.iter().map(String::as_str))
                .collect(),
        })
    }

    /// The file's text. Rows sorted by template then method; identities in scenario order.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# lowpriv exposure snapshot (format {FORMAT_VERSION})");
        out.push_str(
            "# One fact per line: `METHOD TEMPLATE · IDENTITY · OUTCOMES` or `... · sees CLASS`;\n\
             # then `ACTION METHOD TEMPLATE · IDENTITY · KIND, shown (SOURCES)` (or `documented`,\n\
             # `not shown`), with `· PROBE` when a write probe was sent.\n\
             # Approve a change with `lowpriv snapshot review` or `lowpriv snapshot accept NAME`.\n",
        );
        let _ = writeln!(out, "site {}", self.site);
        for identity in &self.identities {
            let _ = writeln!(out, "identity {identity}");
        }
        for row in self.rows() {
            out.push('\n');
            for (identity, cell) in self.identities.iter().zip(&row.cells) {
                let Some(cell) = cell else {
                    continue;
                };
                let _ = writeln!(
                    out,
                    "{}{SEPARATOR}{identity}{SEPARATOR}{}",
                    row.key,
                    outcomes_text(&cell.outcomes)
                );
                for class in &cell.data {
                    let _ = writeln!(
                        out,
                        "{}{SEPARATOR}{identity}{SEPARATOR}sees {class}",
                        row.key
                    );
                }
            }
        }
        for (key, facts) in &self.actions {
            out.push('\n');
            for identity in &self.identities {
                if let Some(fact) = facts.get(identity) {
                    let _ = writeln!(
                        out,
                        "{ACTION}{key}{SEPARATOR}{identity}{SEPARATOR}{}",
                        fact.text()
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
        // The site is known only once its line is read; the rows fill in meanwhile.
        let mut matrix = Matrix::empty("", Vec::new());
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
                matrix.identities.push(name.trim().to_string());
                continue;
            }
            if let Some(action) = line.strip_prefix(ACTION) {
                let (key, identity, fact) = split_fact(action).map_err(|m| error(number, m))?;
                if !matrix.identities.iter().any(|i| i == identity) {
                    return Err(error(
                        number,
                        format!(
                            "identity `{identity}` is not declared by an `identity` line above"
                        ),
                    ));
                }
                let fact = ActionFact::parse(fact).map_err(|m| error(number, m))?;
                let facts = matrix.actions.entry(key).or_default();
                if facts.insert(identity.to_string(), fact).is_some() {
                    return Err(error(
                        number,
                        format!("a second `ACTION` line for `{action}`'s action and `{identity}`"),
                    ));
                }
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
            if !matrix.identities.iter().any(|i| i == identity) {
                return Err(error(
                    number,
                    format!("identity `{identity}` is not declared by an `identity` line above"),
                ));
            }
            let cell = matrix.cell_mut(method, template, identity);
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
        matrix.site = site.ok_or_else(|| error(1, "no `site NAME` line".to_string()))?;
        Ok(matrix)
    }
}

/// `METHOD TEMPLATE · IDENTITY · FACT` of an `ACTION` line (its prefix gone).
fn split_fact(line: &str) -> Result<(RowKey, &str, &str), String> {
    let parts: Vec<&str> = line.splitn(3, SEPARATOR).collect();
    let [request, identity, fact] = parts.as_slice() else {
        return Err(format!(
            "expected `ACTION METHOD TEMPLATE · IDENTITY · KIND, PRESENCE`, found `ACTION {line}`"
        ));
    };
    let method_and_template = request.split_once(' ').filter(|(m, t)| {
        !m.is_empty() && m.chars().all(|c| c.is_ascii_uppercase()) && t.starts_with('/')
    });
    let Some((method, template)) = method_and_template else {
        return Err(format!(
            "expected an HTTP method and a path template after `ACTION`, found `{request}`"
        ));
    };
    Ok((RowKey::new(method, template), identity, fact))
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::crawl::Request;
    use crate::observe::DataHit;
    use Outcome::{Allowed, Denied, Error, Hidden, Skipped};

    fn obs(
        identity: &str,
        method: &str,
        template: &str,
        outcome: Outcome,
        data: &[&str],
    ) -> Observation {
        let url = url::Url::parse(&format!("http://s.test{template}")).unwrap();
        let mut request = Request::get(url);
        request.method = method.to_string();
        let mut o = Observation::skipped(identity, &request, "", true);
        o.template = template.to_string();
        o.outcome = outcome;
        o.data = data
            .iter()
            .map(|d| {
                let hit = DataHit {
                    kind: "json_keys",
                    count: 1,
                    examples: vec![],
                    values: vec![],
                };
                (d.to_string(), hit)
            })
            .collect::<BTreeMap<_, _>>();
        o
    }

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    fn set<T: Ord + Clone>(items: &[T]) -> BTreeSet<T> {
        items.iter().cloned().collect()
    }

    #[test]
    fn what_each_identity_got_on_a_template() {
        // (case, observations of carol on GET /r, her outcomes, her data, headline)
        type Case<'a> = (
            &'a str,
            Vec<(Outcome, &'a [&'a str])>,
            &'a [Outcome],
            &'a [&'a str],
            Option<Outcome>,
        );
        let cases: Vec<Case> = vec![
            (
                "one allowed answer",
                vec![(Allowed, &["email"])],
                &[Allowed],
                &["email"],
                Some(Allowed),
            ),
            (
                "mixed outcomes on one template",
                vec![(Denied, &[]), (Allowed, &["email"]), (Hidden, &[])],
                &[Allowed, Denied, Hidden],
                &["email"],
                Some(Allowed),
            ),
            (
                "an error leads, since it hid an answer",
                vec![(Allowed, &[]), (Error, &[])],
                &[Allowed, Error],
                &[],
                Some(Error),
            ),
            (
                "data only from allowed answers",
                vec![
                    (Denied, &["email"]),
                    (Hidden, &["salary"]),
                    (Allowed, &["iban"]),
                ],
                &[Allowed, Denied, Hidden],
                &["iban"],
                Some(Allowed),
            ),
            (
                "a deny page's data is not exposure",
                vec![(Denied, &["email"])],
                &[Denied],
                &[],
                Some(Denied),
            ),
            (
                "hidden beats denied",
                vec![(Denied, &[]), (Hidden, &[])],
                &[Denied, Hidden],
                &[],
                Some(Hidden),
            ),
            (
                "a skipped request is a cell",
                vec![(Skipped, &[])],
                &[Skipped],
                &[],
                Some(Skipped),
            ),
            (
                "classes of several answers add up",
                vec![(Allowed, &["email"]), (Allowed, &["email", "salary"])],
                &[Allowed],
                &["email", "salary"],
                Some(Allowed),
            ),
        ];
        for (case, seen, outcomes, data, headline) in cases {
            let observations: Vec<Observation> = seen
                .iter()
                .map(|(outcome, data)| obs("carol", "GET", "/r", *outcome, data))
                .collect();
            let m = Matrix::from_observations("s", &names(&["carol"]), &observations);
            let cell = m.cell(&RowKey::new("GET", "/r"), "carol").unwrap();
            assert_eq!(cell.outcomes, set(outcomes), "{case}");
            assert_eq!(
                cell.data,
                set(data).into_iter().map(String::from).collect(),
                "{case}"
            );
            assert_eq!(cell.headline(), headline, "{case}");
        }
    }

    #[test]
    fn cells_follow_the_scenario_order_and_absent_cells_stay_slots() {
        // Scenario order, deliberately not alphabetical.
        let identities = names(&["zoe", "anon", "alice"]);
        let observations = vec![
            obs("alice", "GET", "/r", Allowed, &["salary"]),
            obs("anon", "GET", "/r", Skipped, &[]),
            obs("zoe", "GET", "/r", Allowed, &["email"]),
            obs("alice", "GET", "/admin", Allowed, &[]),
        ];
        let m = Matrix::from_observations("s", &identities, &observations);
        assert_eq!(m.identities, identities);
        let rows: Vec<Row> = m.rows().collect();
        assert_eq!(rows.len(), 2);
        let outcomes = |row: &Row| -> Vec<Option<Vec<Outcome>>> {
            row.cells
                .iter()
                .map(|c| c.map(|c| c.outcomes.iter().copied().collect()))
                .collect()
        };
        assert_eq!(rows[0].key, &RowKey::new("GET", "/admin"));
        assert_eq!(outcomes(&rows[0]), vec![None, None, Some(vec![Allowed])]);
        assert!(rows[0].data.is_empty());
        assert_eq!(rows[1].key, &RowKey::new("GET", "/r"));
        assert_eq!(
            outcomes(&rows[1]),
            vec![
                Some(vec![Allowed]),
                Some(vec![Skipped]),
                Some(vec![Allowed])
            ]
        );
        // The row's data is anyone's, the cell's only its identity's.
        assert_eq!(rows[1].data, set(&["email", "salary"]));
        assert_eq!(rows[1].cells[0].map(|c| c.data.len()), Some(1));
        // The file lists identities, and each row's cells, in the same order.
        let text = m.render();
        let zoe = text.find("GET /r · zoe").unwrap();
        let anon = text.find("GET /r · anon").unwrap();
        let alice = text.find("GET /r · alice").unwrap();
        assert!(zoe < anon && anon < alice, "{text}");
        assert!(
            text.contains("identity zoe\nidentity anon\nidentity alice\n"),
            "{text}"
        );
    }

    #[test]
    fn rows_go_by_template_then_method() {
        let observations = vec![
            obs("a", "POST", "/b", Denied, &[]),
            obs("a", "GET", "/b", Denied, &[]),
            obs("a", "POST", "/a", Denied, &[]),
            obs("a", "GET", "/c", Denied, &[]),
        ];
        let m = Matrix::from_observations("s", &names(&["a"]), &observations);
        let keys: Vec<String> = m.keys().map(RowKey::to_string).collect();
        assert_eq!(keys, vec!["POST /a", "GET /b", "POST /b", "GET /c"]);
        let rows: Vec<String> = m.rows().map(|r| r.key.to_string()).collect();
        assert_eq!(rows, keys);
    }

    #[test]
    fn observations_outside_the_columns_are_left_out() {
        // An identity whose login failed is not a column: none of its answers make a cell,
        // a row, or a data class of a row.
        let observations = vec![
            obs("carol", "GET", "/r", Denied, &[]),
            obs("mallory", "GET", "/r", Allowed, &["salary"]),
            obs("mallory", "GET", "/only-mallory", Allowed, &[]),
        ];
        let m = Matrix::from_observations("s", &names(&["carol"]), &observations);
        let rows: Vec<Row> = m.rows().collect();
        assert_eq!(rows.len(), 1);
        assert!(rows[0].data.is_empty());
        assert_eq!(m.cells().count(), 1);
        assert!(m.cell(&RowKey::new("GET", "/r"), "mallory").is_none());
    }

    #[test]
    fn an_empty_run_is_an_empty_matrix() {
        let m = Matrix::from_observations("s", &names(&["a", "b"]), &[]);
        assert!(m.is_empty());
        assert_eq!(m.rows().count(), 0);
        assert!(m.render().ends_with("site s\nidentity a\nidentity b\n"));
    }
}
