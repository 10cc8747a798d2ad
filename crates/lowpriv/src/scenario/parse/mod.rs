//! The scenario walker: a spanned TOML document in, a [`Scenario`] or every problem out.
//!
//! Input: the source text, its path (for locations only) and an environment lookup. Output: a
//! [`Parsed`]: the validated [`Scenario`], or all the [`Problem`]s found, plus the spans of
//! literal secrets that rendering must mask either way.
//!
//! The document is walked by hand instead of through serde because serde stops at the first
//! error and forgets spans; here every key is checked against its table's known keys so a typo
//! is reported, never silently ignored. A syntax error stops semantic checks: a recovered
//! document would produce follow-on errors that only confuse.
//!
//! This file holds the walk of the top level and the shared plumbing (the `Cx` that collects
//! problems and masks, name suggestions); `table` the typed getters; one file per TOML table
//! the checks of that table; `mask` the hiding of literal secrets.

mod accept;
mod classify;
mod crawl;
mod data;
mod expect;
mod identity;
mod login;
mod mask;
mod session;
mod site;
mod source;
mod table;

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

use super::diagnostic::Problem;
use super::lint::{self, Lint, Places};
use super::model::*;
use table::Table;

type Value<'i> = Spanned<DeValue<'i>>;
type Key<'i> = Spanned<DeString<'i>>;

/// What the walker found: the scenario and its warnings if nothing was wrong, and what to mask
/// either way.
pub(crate) struct Parsed {
    pub scenario: Option<Scenario>,
    pub problems: Vec<Problem>,
    pub masks: Vec<Range<usize>>,
    /// Empty unless the scenario is valid.
    pub lints: Vec<Lint>,
}

pub(crate) fn parse(
    source: &str,
    file: &std::path::Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Parsed {
    let (doc, syntax) = DeTable::parse_recoverable(source);
    let mut cx = Cx {
        source,
        file,
        env,
        problems: Vec::new(),
        masks: Vec::new(),
        lints: Vec::new(),
    };
    mask::secret_values(&mut cx, doc.get_ref(), false);
    if !syntax.is_empty() {
        for e in syntax {
            let span = e.span().unwrap_or(0..0);
            cx.problems.push(Problem {
                span,
                message: format!("invalid TOML: {}", e.message().trim_end_matches('.')),
                help: None,
            });
        }
        mask::secret_lines(&mut cx);
        return cx.finish(None);
    }
    let scenario = scenario(&mut cx, doc.get_ref(), doc.span());
    cx.finish(scenario)
}

struct Cx<'s> {
    source: &'s str,
    file: &'s std::path::Path,
    env: &'s dyn Fn(&str) -> Option<String>,
    problems: Vec<Problem>,
    masks: Vec<Range<usize>>,
    lints: Vec<Lint>,
}

impl Cx<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.problems.push(Problem {
            span,
            message: message.into(),
            help: None,
        });
    }

    fn error_help(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.problems.push(Problem {
            span,
            message: message.into(),
            help: Some(help.into()),
        });
    }

    fn location(&self, offset: usize) -> Location {
        let (line, column) = super::diagnostic::line_column(self.source, offset);
        Location {
            file: self.file.to_path_buf(),
            line,
            column,
        }
    }

    /// The span of a string's contents, without its quotes, so carets sit under the text.
    fn inner(&self, span: Range<usize>) -> Range<usize> {
        let text = self.source.get(span.clone()).unwrap_or("");
        for q in ["\"\"\"", "'''", "\"", "'"] {
            if text.len() >= 2 * q.len() && text.starts_with(q) && text.ends_with(q) {
                return span.start + q.len()..span.end - q.len();
            }
        }
        span
    }

    fn finish(mut self, scenario: Option<Scenario>) -> Parsed {
        if scenario.is_none() && self.problems.is_empty() {
            // Every rejection path records a problem; this keeps a missed one from rendering
            // as "0 problems" and still failing.
            self.error(
                0..0,
                "scenario rejected without a reason (a bug in lowpriv)",
            );
        }
        let ok = self.problems.is_empty();
        Parsed {
            scenario: if ok { scenario } else { None },
            problems: self.problems,
            masks: self.masks,
            lints: if ok { self.lints } else { Vec::new() },
        }
    }
}

/// The closest known name, if it is close enough to be a likely typo.
fn suggest<'a>(wrong: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (strsim::jaro_winkler(wrong, k), k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

fn did_you_mean(wrong: &str, known: &[&str]) -> Option<String> {
    suggest(wrong, known.iter().copied()).map(|k| format!("did you mean `{k}`?"))
}

fn bad_choice(cx: &mut Cx<'_>, span: Range<usize>, key: &str, got: &str, choices: &[&str]) {
    let help = did_you_mean(got, choices)
        .unwrap_or_else(|| format!("expected one of: {}", choices.join(", ")));
    cx.error_help(span, format!("unknown {key} `{got}`"), help);
}

const TOP: &[&str] = &[
    "site", "session", "crawl", "classify", "identity", "source", "data", "expect", "accept",
];

fn scenario(cx: &mut Cx<'_>, doc: &DeTable<'_>, span: Range<usize>) -> Option<Scenario> {
    let top = Table::new(cx, doc, span, "the top level", Some(TOP));

    let site = match top.get("site") {
        Some(v) => {
            Table::of(cx, v, "`site`", "[site]", Some(site::KEYS)).and_then(|t| site::site(cx, &t))
        }
        None => {
            cx.error_help(
                0..0,
                "missing [site] table",
                "add [site] with `name` and `base_url`",
            );
            None
        }
    };
    let session = match top.get("session") {
        Some(v) => Table::of(cx, v, "`session`", "[session]", Some(session::KEYS))
            .map(|t| session::session(cx, &t)),
        None => Some(SessionConfig {
            login_path: "/login".to_string(),
            deny_markers: Vec::new(),
        }),
    };
    let crawl = match top.get("crawl") {
        Some(v) => {
            Table::of(cx, v, "`crawl`", "[crawl]", Some(crawl::KEYS)).map(|t| crawl::crawl(cx, &t))
        }
        None => Some(crawl::Crawl::default()),
    };

    let classify = match top.get("classify") {
        Some(v) => Table::of(cx, v, "`classify`", "[classify]", Some(classify::KEYS))
            .map(|t| classify::classify(cx, &t)),
        None => Some(ClassifyConfig::default()),
    };

    // Names are collected even from entries with other problems, so that a rule naming them
    // is not reported as a second, misleading error.
    let mut names = Vec::new();
    let identities = match top.get("identity") {
        Some(v) => identity::identities(cx, v, &mut names),
        None => {
            cx.error_help(
                0..0,
                "no [[identity]] declared",
                "declare at least one identity, e.g. [[identity]] name = \"anonymous\" tier = \"external\"",
            );
            Vec::new()
        }
    };

    let mut source_names = Vec::new();
    let sources = match top.get("source") {
        Some(v) => source::sources(
            cx,
            v,
            &names,
            site.as_ref().map(|s| &s.base_url),
            &mut source_names,
        ),
        None => Vec::new(),
    };

    let mut data_names = Vec::new();
    let mut data_sources = Vec::new();
    let data = match top.get("data") {
        Some(v) => data::data_classes(
            cx,
            v,
            &names,
            &source_names,
            &mut data_names,
            classify.as_ref().map_or(&[][..], |c| &c.disable[..]),
            &mut data_sources,
        ),
        None => Vec::new(),
    };

    let expects = match (top.get("expect"), &crawl) {
        (Some(v), Some(c)) => expect::expectations(cx, v, &names, &data_names, c),
        (Some(v), None) => {
            expect::expectations(cx, v, &names, &data_names, &crawl::Crawl::default())
        }
        (None, _) => Vec::new(),
    };

    let accepts = match top.get("accept") {
        Some(v) => accept::acceptances(cx, v, &names),
        None => Vec::new(),
    };

    let (site, session, crawl, classify) = (site?, session?, crawl?, classify?);
    let places = Places {
        probe_writes: crawl.probe_writes_at.map(|s| cx.location(s.start)),
        write_scope: crawl.write_scope_at.map(|s| cx.location(s.start)),
        data_sources: data_sources
            .into_iter()
            .map(|(class, span)| (class, cx.location(span.start)))
            .collect(),
    };
    let scenario = Scenario {
        file: cx.file.to_path_buf(),
        site,
        session,
        crawl: crawl.config,
        identities: identities.into_iter().map(|(i, _)| i).collect(),
        data,
        expects,
        accepts,
        classify,
        sources,
    };
    // The parser's own warnings (the password grant) join the ones about the whole scenario.
    let mut lints = lint::lints(&scenario, &places);
    lints.append(&mut cx.lints);
    lints.sort_by_key(|l| (l.location.line, l.location.column));
    cx.lints = lints;
    Some(scenario)
}
