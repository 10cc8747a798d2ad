//! The action matrix: what each identity may change. One row per action (method and path
//! template: a form, a JavaScript call, an OpenAPI operation), one cell per identity whose
//! session was usable, saying whether the identity was shown the action (and where) and
//! what its write probe was answered. Built once per run ([`ActionMatrix::build`]); the
//! `.snap` file's `ACTION` lines ([`ActionFact`]), and the terminal, Markdown and HTML
//! reports lay it out, and none rebuilds it.
//!
//! Input: the identities (columns, scenario order), the actions each was shown, the write
//! probes and the scenario's `actions` rules. Output: an [`ActionMatrix`]. Invariants:
//! - rows are ordered by template, then method (as [`RowKey`]); cells follow the columns;
//! - a row's kind is its rule's (the first `actions` rule in file order matching the action
//!   path, as the judge reads it): `write` → write-capable, `confirm` → confirmation,
//!   `forbidden` → forbidden; a GET (or HEAD) form is read-only whatever the rules say (it
//!   reads, as a link does), and any other action without a rule write-capable;
//! - "shown" means in a page or a script; an OpenAPI operation is only documented;
//! - a probe cell reads `undecided` when the identity got past but nobody's probe of that
//!   method and URL was refused (the endpoint validates before it authorizes): the same
//!   condition under which the judge raises no `unauthorized-write`;
//! - several URLs of one template make one row: a cell holds every source its identity was
//!   shown the template's actions in, and the most telling probe answer
//!   ([`ProbeCell`]'s order), so a Site that merely grows keeps the same matrix.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::RowKey;
use crate::judge::actions::{self as judged, Templates};
use crate::observe::ActionSeen;
use crate::probe::{ProbeAnswer, WriteProbes};
use crate::scenario::{ActionKind, Scenario};

/// What an action does, as the matrix says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionRowKind {
    /// A GET (or HEAD) form no `actions` rule declares: a search box, a filter.
    ReadOnly,
    /// Changes something: any other method no rule declares, or a `kind = "write"` rule.
    WriteCapable,
    /// A `kind = "confirm"` rule: changes something after a second step.
    Confirmation,
    /// A `kind = "forbidden"` rule: must be offered to nobody.
    Forbidden,
}

impl ActionRowKind {
    pub const ALL: [ActionRowKind; 4] = [
        ActionRowKind::ReadOnly,
        ActionRowKind::WriteCapable,
        ActionRowKind::Confirmation,
        ActionRowKind::Forbidden,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionRowKind::ReadOnly => "read-only",
            ActionRowKind::WriteCapable => "write-capable",
            ActionRowKind::Confirmation => "confirmation",
            ActionRowKind::Forbidden => "forbidden",
        }
    }

    pub fn parse(word: &str) -> Option<ActionRowKind> {
        ActionRowKind::ALL.into_iter().find(|k| k.as_str() == word)
    }
}

/// What one identity's write probe of an action was answered, as the matrix says it. The
/// order is how telling an answer is when one template's several URLs disagree: getting past
/// reads first, then "undecided", an error (it hid an answer), refused, and unclear.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeCell {
    /// 2xx on an empty body, while someone else was refused.
    Accepted,
    /// 400 or 422 on an empty body, while someone else was refused.
    AuthorizedToAttempt,
    /// Got past, but so did everyone: the endpoint validates before it authorizes, so the
    /// probe says nothing about who may.
    Undecided,
    Error,
    Refused,
    Unclear,
}

impl ProbeCell {
    pub const ALL: [ProbeCell; 6] = [
        ProbeCell::Accepted,
        ProbeCell::AuthorizedToAttempt,
        ProbeCell::Undecided,
        ProbeCell::Error,
        ProbeCell::Refused,
        ProbeCell::Unclear,
    ];

    /// An answer, given whether the probes of its method and URL can tell who may.
    pub fn of(answer: ProbeAnswer, decided: bool) -> ProbeCell {
        match answer {
            _ if answer.got_past_authorization() && !decided => ProbeCell::Undecided,
            ProbeAnswer::Accepted => ProbeCell::Accepted,
            ProbeAnswer::AuthorizedToAttempt => ProbeCell::AuthorizedToAttempt,
            ProbeAnswer::Refused => ProbeCell::Refused,
            ProbeAnswer::Unclear => ProbeCell::Unclear,
            ProbeAnswer::Error => ProbeCell::Error,
        }
    }

    /// The words of the probe's answer (`probe::ProbeAnswer::as_str`), and `undecided`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeCell::Accepted => ProbeAnswer::Accepted.as_str(),
            ProbeCell::AuthorizedToAttempt => ProbeAnswer::AuthorizedToAttempt.as_str(),
            ProbeCell::Undecided => "undecided",
            ProbeCell::Error => ProbeAnswer::Error.as_str(),
            ProbeCell::Refused => ProbeAnswer::Refused.as_str(),
            ProbeCell::Unclear => ProbeAnswer::Unclear.as_str(),
        }
    }

    pub fn parse(words: &str) -> Option<ProbeCell> {
        ProbeCell::ALL.into_iter().find(|p| p.as_str() == words)
    }

    /// The identity got past the endpoint's authorization check (decided or not): what a
    /// snapshot counts as write reach.
    pub fn got_past(self) -> bool {
        matches!(
            self,
            ProbeCell::Accepted | ProbeCell::AuthorizedToAttempt | ProbeCell::Undecided
        )
    }
}

/// One identity on one action.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ActionCell {
    pub identity: String,
    /// Where the identity came across the action: `form`, `js` (shown in a page or a
    /// script) or `openapi` (only documented). Sorted; empty when it never did.
    pub seen_in: Vec<String>,
    /// The write probe's answer, when one was sent as this identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<ProbeCell>,
}

impl ActionCell {
    /// Shown in a page or a script (not only listed in an API document).
    pub fn shown(&self) -> bool {
        self.seen_in.iter().any(|s| judged::is_shown(s))
    }

    /// Whether the cell says anything: seen (shown or documented) or probed.
    pub fn is_empty(&self) -> bool {
        self.seen_in.is_empty() && self.probe.is_none()
    }

    /// `shown (form)`, `documented (openapi)` or `not shown`, then ` · PROBE` when probed:
    /// the words every report and the snapshot line use.
    pub fn label(&self) -> String {
        let mut text = presence(&self.seen_in);
        if let Some(probe) = self.probe {
            text.push_str(" · ");
            text.push_str(probe.as_str());
        }
        text
    }
}

fn presence<S: AsRef<str>>(seen_in: &[S]) -> String {
    if seen_in.is_empty() {
        return "not shown".to_string();
    }
    let sources: Vec<&str> = seen_in.iter().map(AsRef::as_ref).collect();
    let word = if sources.iter().any(|s| judged::is_shown(s)) {
        "shown"
    } else {
        "documented"
    };
    format!("{word} ({})", sources.join(", "))
}

/// One action: a method and a path template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActionRow {
    pub method: String,
    pub template: String,
    pub kind: ActionRowKind,
    /// `file:line:col` of the `actions` rule that speaks for it, if one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The form fields it was shown with (every URL and identity), sorted.
    pub fields: Vec<String>,
    /// One per column of the matrix, in that order.
    pub cells: Vec<ActionCell>,
}

impl ActionRow {
    pub fn key(&self) -> RowKey {
        RowKey::new(&self.method, &self.template)
    }

    /// Whether any identity was shown it, had it documented, or probed it.
    pub fn is_empty(&self) -> bool {
        self.cells.iter().all(ActionCell::is_empty)
    }

    /// Whether any identity was shown it in a page or script, or probed it: what the
    /// compact views list.
    pub fn shown_or_probed(&self) -> bool {
        self.cells.iter().any(|c| c.shown() || c.probe.is_some())
    }
}

/// Every action of a run × every identity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ActionMatrix {
    /// The columns: the identities whose sessions were usable, in scenario order.
    pub identities: Vec<String>,
    /// By template, then method.
    pub rows: Vec<ActionRow>,
}

impl ActionMatrix {
    /// The one place actions and write probes become cells. `identities`: the columns, in
    /// scenario order; actions and probes of anyone else are left out.
    pub fn build(
        identities: &[String],
        actions: &[ActionSeen],
        probes: &WriteProbes,
        scenario: &Scenario,
    ) -> ActionMatrix {
        #[derive(Default)]
        struct Building {
            urls: BTreeSet<String>,
            fields: BTreeSet<String>,
            seen: BTreeMap<String, BTreeSet<String>>,
            probes: BTreeMap<String, ProbeCell>,
        }
        let templates = Templates::new(actions);
        let mut rows: BTreeMap<RowKey, Building> = BTreeMap::new();
        for seen in actions {
            if !identities.contains(&seen.identity) {
                continue;
            }
            let action = &seen.action;
            let row = rows
                .entry(RowKey::new(&action.method, &templates.of(&action.url)))
                .or_default();
            row.urls.insert(action.url.clone());
            row.fields.extend(action.fields.iter().cloned());
            row.seen
                .entry(seen.identity.clone())
                .or_default()
                .insert(action.source.clone());
        }
        for probe in &probes.probes {
            if !identities.contains(&probe.identity) {
                continue;
            }
            let row = rows
                .entry(RowKey::new(&probe.method, &templates.of(&probe.url)))
                .or_default();
            row.urls.insert(probe.url.clone());
            let cell = ProbeCell::of(
                probe.answer,
                judged::decided(probes, &probe.method, &probe.url),
            );
            row.probes
                .entry(probe.identity.clone())
                .and_modify(|c| *c = (*c).min(cell))
                .or_insert(cell);
        }
        let rows = rows
            .into_iter()
            .map(|(key, mut row)| {
                // One rule per row: the one speaking for its first URL.
                let rule = row.urls.first().and_then(|url| {
                    judged::rule_for(&scenario.expects, &key.method, judged::path(url))
                });
                let kind = match rule.map(|(_, kind)| kind) {
                    Some(ActionKind::Write) => ActionRowKind::WriteCapable,
                    Some(ActionKind::Confirm) => ActionRowKind::Confirmation,
                    Some(ActionKind::Forbidden) => ActionRowKind::Forbidden,
                    None if matches!(key.method.as_str(), "GET" | "HEAD") => {
                        ActionRowKind::ReadOnly
                    }
                    None => ActionRowKind::WriteCapable,
                };
                ActionRow {
                    cells: identities
                        .iter()
                        .map(|identity| ActionCell {
                            identity: identity.clone(),
                            seen_in: row
                                .seen
                                .remove(identity)
                                .map_or_else(Vec::new, |s| s.into_iter().collect()),
                            probe: row.probes.get(identity).copied(),
                        })
                        .collect(),
                    method: key.method,
                    template: key.template,
                    kind,
                    rule: rule.map(|(expect, _)| expect.location.to_string()),
                    fields: row.fields.into_iter().collect(),
                }
            })
            .collect();
        ActionMatrix {
            identities: identities.to_vec(),
            rows,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows a compact view lists: some identity was shown the action in a page or a
    /// script, or probed it.
    pub fn shown_or_probed(&self) -> impl Iterator<Item = &ActionRow> {
        self.rows.iter().filter(|r| r.shown_or_probed())
    }

    /// The snapshot's facts: one per cell that was seen (shown or documented) or probed.
    pub fn facts(&self) -> impl Iterator<Item = (RowKey, &str, ActionFact)> {
        self.rows.iter().flat_map(|row| {
            row.cells.iter().filter(|c| !c.is_empty()).map(move |cell| {
                (
                    row.key(),
                    cell.identity.as_str(),
                    ActionFact {
                        kind: row.kind,
                        seen_in: cell.seen_in.iter().cloned().collect(),
                        probe: cell.probe,
                    },
                )
            })
        })
    }
}

/// One `ACTION` line of a snapshot: what one identity had of one action, without what moves
/// when a Site merely grows (no fields, no URLs, no status codes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionFact {
    pub kind: ActionRowKind,
    pub seen_in: BTreeSet<String>,
    pub probe: Option<ProbeCell>,
}

impl ActionFact {
    /// `write-capable, shown (form)`, then ` · authorized to attempt` when probed.
    pub fn text(&self) -> String {
        let seen: Vec<&String> = self.seen_in.iter().collect();
        let mut text = format!("{}, {}", self.kind.as_str(), presence(&seen));
        if let Some(probe) = self.probe {
            text.push_str(" · ");
            text.push_str(probe.as_str());
        }
        text
    }

    /// Shown in a page or a script.
    pub fn shown(&self) -> bool {
        self.seen_in.iter().any(|s| judged::is_shown(s))
    }

    /// Shown, or got past the endpoint's authorization check: what drifts as widening when
    /// it appears and as narrowing when it goes.
    pub fn reach(&self) -> (bool, bool) {
        (self.shown(), self.probe.is_some_and(ProbeCell::got_past))
    }

    /// Reads what [`ActionFact::text`] writes; `Err` says what was expected.
    pub fn parse(text: &str) -> Result<ActionFact, String> {
        let (fact, probe) = match text.split_once(super::matrix::SEPARATOR) {
            Some((fact, probe)) => {
                let cell = ProbeCell::parse(probe).ok_or_else(|| {
                    format!(
                        "unknown probe answer `{probe}` (expected {})",
                        ProbeCell::ALL.map(ProbeCell::as_str).join(", ")
                    )
                })?;
                (fact, Some(cell))
            }
            None => (text, None),
        };
        let Some((kind, presence)) = fact.split_once(", ") else {
            return Err(format!(
                "expected `KIND, shown (SOURCES)`, `KIND, documented (openapi)` or \
                 `KIND, not shown`, found `{fact}`"
            ));
        };
        let kind = ActionRowKind::parse(kind).ok_or_else(|| {
            format!(
                "unknown action kind `{kind}` (expected {})",
                ActionRowKind::ALL.map(ActionRowKind::as_str).join(", ")
            )
        })?;
        let seen_in: BTreeSet<String> = if presence == "not shown" {
            BTreeSet::new()
        } else {
            let (word, list) = presence
                .strip_suffix(')')
                .and_then(|p| p.split_once(" ("))
                .ok_or_else(|| {
                    format!("expected `shown (SOURCES)`, `documented (openapi)` or `not shown`, found `{presence}`")
                })?;
            let sources: BTreeSet<String> = list.split(", ").map(str::to_string).collect();
            if let Some(bad) = sources.iter().find(|s| !is_source_word(s)) {
                return Err(format!(
                    "expected sources such as `form`, `js` or `openapi`, found `{bad}`"
                ));
            }
            let shown = sources.iter().any(|s| judged::is_shown(s));
            match (word, shown) {
                ("shown", true) | ("documented", false) => sources,
                ("shown", false) => {
                    return Err(format!(
                        "`shown ({list})` names no page or script source: write `documented ({list})`"
                    ));
                }
                ("documented", true) => {
                    return Err(format!(
                        "`documented ({list})` names a page or script source: write `shown ({list})`"
                    ));
                }
                _ => {
                    return Err(format!(
                        "expected `shown (SOURCES)`, `documented (openapi)` or `not shown`, found `{presence}`"
                    ));
                }
            }
        };
        if seen_in.is_empty() && probe.is_none() {
            return Err("an action line that is neither shown, documented nor probed".to_string());
        }
        Ok(ActionFact {
            kind,
            seen_in,
            probe,
        })
    }
}

/// A source as the crawl names it (`form`, `js`, `openapi`): a lowercase word, so a list of
/// them reads back unambiguously.
fn is_source_word(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::crawl::Action;
    use crate::probe::WriteProbe;

    const SCENARIO: &str = r#"
[site]
name = "t"
base_url = "http://site.test"

[[identity]]
name = "anon"
tier = "external"

[[identity]]
name = "carol"
tier = "team"

[[identity]]
name = "alice"
tier = "owner"
"#;

    fn scenario(rules: &[(&str, ActionKind, &[&str])]) -> Scenario {
        let mut scenario =
            crate::scenario::parse(SCENARIO, Path::new("t.toml"), &|_: &str| None).unwrap();
        for (i, (glob, kind, allow)) in rules.iter().enumerate() {
            scenario.expects.push(crate::scenario::Expectation {
                index: i,
                location: crate::scenario::Location {
                    file: "t.toml".into(),
                    line: 40 + i,
                    column: 1,
                },
                paths: vec![glob.to_string()],
                path_globs: crate::scenario::PathGlobs::new(vec![glob.to_string()]).unwrap(),
                rule: crate::scenario::ExpectRule::Actions {
                    allow: allow
                        .iter()
                        .map(|a| crate::scenario::Principal::Identity(a.to_string()))
                        .collect(),
                    kind: *kind,
                },
            });
        }
        scenario
    }

    fn seen(identity: &str, method: &str, path: &str, source: &str) -> ActionSeen {
        ActionSeen {
            identity: identity.to_string(),
            action: Action {
                method: method.to_string(),
                url: format!("http://site.test{path}"),
                source: source.to_string(),
                fields: vec!["amount".to_string()],
            },
        }
    }

    fn probe(identity: &str, path: &str, answer: ProbeAnswer) -> WriteProbe {
        WriteProbe {
            identity: identity.to_string(),
            method: "POST".to_string(),
            url: format!("http://site.test{path}"),
            status: None,
            answer,
            reason: String::new(),
        }
    }

    fn ids() -> Vec<String> {
        ["anon", "carol", "alice"].map(String::from).to_vec()
    }

    fn labels(m: &ActionMatrix, template: &str) -> Vec<String> {
        let row = m.rows.iter().find(|r| r.template == template).unwrap();
        row.cells.iter().map(ActionCell::label).collect()
    }

    #[test]
    fn kinds_come_from_the_first_matching_rule_then_the_method() {
        let scenario = scenario(&[
            ("/team/**", ActionKind::Confirm, &["alice"]),
            ("/team/compensation", ActionKind::Forbidden, &[]),
            ("/admin/**", ActionKind::Forbidden, &[]),
            ("/search", ActionKind::Write, &["alice"]),
        ]);
        let actions = [
            seen("carol", "POST", "/team/compensation", "form"),
            seen("carol", "POST", "/admin/wipe", "form"),
            seen("carol", "GET", "/find", "form"),
            seen("carol", "GET", "/search", "form"),
            seen("carol", "DELETE", "/notes/{id}", "openapi"),
        ];
        let m = ActionMatrix::build(&ids(), &actions, &WriteProbes::default(), &scenario);
        let kinds: Vec<(String, ActionRowKind, Option<String>)> = m
            .rows
            .iter()
            .map(|r| (r.key().to_string(), r.kind, r.rule.clone()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (
                    "POST /admin/wipe".to_string(),
                    ActionRowKind::Forbidden,
                    Some("t.toml:42:1".to_string())
                ),
                ("GET /find".to_string(), ActionRowKind::ReadOnly, None),
                (
                    "DELETE /notes/{id}".to_string(),
                    ActionRowKind::WriteCapable,
                    None
                ),
                // A GET form reads: no rule speaks for it, whatever its globs say.
                ("GET /search".to_string(), ActionRowKind::ReadOnly, None),
                (
                    "POST /team/compensation".to_string(),
                    ActionRowKind::Confirmation,
                    Some("t.toml:40:1".to_string())
                ),
            ]
        );
    }

    #[test]
    fn cells_say_where_it_was_shown_and_what_the_probe_got() {
        let scenario = scenario(&[("/team/**", ActionKind::Write, &["alice"])]);
        let actions = [
            seen("carol", "POST", "/team/compensation", "form"),
            seen("carol", "POST", "/team/compensation", "openapi"),
            seen("alice", "POST", "/team/compensation", "form"),
            seen("anon", "POST", "/team/compensation", "openapi"),
            // Not a column: its session did not count.
            seen("mallory", "POST", "/team/compensation", "form"),
        ];
        let probes = WriteProbes {
            probes: vec![
                probe("anon", "/team/compensation", ProbeAnswer::Refused),
                probe(
                    "carol",
                    "/team/compensation",
                    ProbeAnswer::AuthorizedToAttempt,
                ),
                probe("alice", "/team/compensation", ProbeAnswer::Accepted),
                probe("carol", "/team/validate", ProbeAnswer::AuthorizedToAttempt),
                probe("alice", "/team/validate", ProbeAnswer::AuthorizedToAttempt),
            ],
            not_sent: Vec::new(),
        };
        let m = ActionMatrix::build(&ids(), &actions, &probes, &scenario);
        assert_eq!(
            labels(&m, "/team/compensation"),
            [
                "documented (openapi) · refused",
                "shown (form, openapi) · authorized to attempt",
                "shown (form) · accepted an empty body",
            ]
        );
        // Nobody was refused: getting past says nothing.
        assert_eq!(
            labels(&m, "/team/validate"),
            [
                "not shown",
                "not shown · undecided",
                "not shown · undecided"
            ]
        );
        let facts: Vec<String> = m
            .facts()
            .map(|(key, who, fact)| format!("{key} · {who} · {}", fact.text()))
            .collect();
        assert_eq!(
            facts,
            [
                "POST /team/compensation · anon · write-capable, documented (openapi) · refused",
                "POST /team/compensation · carol · write-capable, shown (form, openapi) · authorized to attempt",
                "POST /team/compensation · alice · write-capable, shown (form) · accepted an empty body",
                "POST /team/validate · carol · write-capable, not shown · undecided",
                "POST /team/validate · alice · write-capable, not shown · undecided",
            ]
        );
    }

    #[test]
    fn several_urls_of_a_template_make_one_row_with_the_most_telling_answer() {
        let scenario = scenario(&[]);
        let actions = [
            seen("carol", "POST", "/notes/1/delete", "form"),
            seen("carol", "POST", "/notes/2/delete", "js"),
        ];
        let probes = WriteProbes {
            probes: vec![
                probe("anon", "/notes/1/delete", ProbeAnswer::Refused),
                probe("carol", "/notes/1/delete", ProbeAnswer::Refused),
                probe("anon", "/notes/2/delete", ProbeAnswer::Refused),
                probe("carol", "/notes/2/delete", ProbeAnswer::AuthorizedToAttempt),
            ],
            not_sent: Vec::new(),
        };
        let m = ActionMatrix::build(&ids(), &actions, &probes, &scenario);
        assert_eq!(m.rows.len(), 1);
        assert_eq!(
            labels(&m, "/notes/{id}/delete"),
            [
                "not shown · refused",
                "shown (form, js) · authorized to attempt",
                "not shown"
            ]
        );
        assert!(m.rows[0].shown_or_probed());
    }

    #[test]
    fn facts_parse_back_and_bad_ones_say_what_was_expected() {
        for text in [
            "write-capable, shown (form)",
            "confirmation, shown (form, js, openapi) · authorized to attempt",
            "forbidden, documented (openapi)",
            "read-only, not shown · undecided",
            "write-capable, not shown · accepted an empty body",
        ] {
            let fact = ActionFact::parse(text).unwrap();
            assert_eq!(fact.text(), text);
        }
        for (text, message) in [
            ("writable, shown (form)", "unknown action kind `writable`"),
            (
                "write-capable, shown (form) · maybe",
                "unknown probe answer `maybe`",
            ),
            (
                "write-capable, shown (openapi)",
                "write `documented (openapi)`",
            ),
            ("write-capable, documented (form)", "write `shown (form)`"),
            ("write-capable, seen (form)", "expected `shown (SOURCES)`"),
            ("write-capable, shown (Form!)", "expected sources such as"),
            (
                "write-capable, not shown",
                "neither shown, documented nor probed",
            ),
            ("write-capable", "expected `KIND, shown (SOURCES)`"),
        ] {
            let err = ActionFact::parse(text).unwrap_err();
            assert!(err.contains(message), "{text}: {err}");
        }
    }
}
