//! `[[expect]]`: the access, data and actions rules the run is judged against.
//!
//! Input: the `expect` array of tables, the declared identity and data class names, and the
//! crawl settings (to tell a path that can never be crawled). Output: the expectations in file
//! order. Invariants: each entry is exactly one kind of rule; every name it holds is a declared
//! identity, a tier or a declared data class; every glob compiles, and every `paths` glob may
//! meet a crawled path (`actions` globs name action paths, which need not be crawlable); a
//! forbidden action admits nobody.

use std::ops::Range;

use super::super::glob::{self, Compiled, PathGlobs};
use super::super::model::*;
use super::crawl::Crawl;
use super::identity::TIERS;
use super::table::{Table, array_of_tables, globs, path_globs};
use super::{Cx, Value, did_you_mean, suggest};

const EXPECT: &[&str] = &[
    "paths",
    "allow",
    "min_rank",
    "data",
    "visible_to",
    "actions",
    "kind",
];
/// Keys an actions rule cannot share an entry with.
const NOT_WITH_ACTIONS: &[&str] = &["paths", "data", "visible_to", "min_rank"];
const ACTION_KINDS: &[&str] = &["write", "confirm", "forbidden"];

pub(super) fn expectations(
    cx: &mut Cx<'_>,
    value: &Value<'_>,
    identities: &[String],
    data: &[String],
    crawl: &Crawl,
) -> Vec<Expectation> {
    let mut out = Vec::new();
    for (index, (table, span)) in array_of_tables(cx, value, "expect").into_iter().enumerate() {
        let t = Table::new(cx, table, span, "[[expect]]", Some(EXPECT));
        let start = t
            .entries
            .first()
            .map_or(t.span.start, |(k, _)| k.span().start);
        let location = cx.location(start);
        if t.has("actions") {
            if let Some((globs, rule)) = actions(cx, &t, identities) {
                out.push(Expectation {
                    index,
                    location,
                    paths: globs.patterns().to_vec(),
                    path_globs: globs,
                    rule,
                });
            }
            continue;
        }
        let mut ok = true;
        if let Some(span) = t.key_span("kind") {
            cx.error_help(
                span,
                "`kind` goes only with `actions`",
                "it says what the actions do: actions = [\"/team/compensation\"] with kind = \"write\"",
            );
            ok = false;
            // With nothing but `allow` beside it, this was meant as an actions rule: the one
            // error says what is missing, without a second one about access rules.
            if !NOT_WITH_ACTIONS.iter().any(|k| t.has(k)) {
                continue;
            }
        }
        let is_data = t.has("data") || t.has("visible_to");
        let is_access = t.has("allow") || t.has("min_rank");

        if is_data && is_access {
            let (a, b) = if t.has("data") {
                ("data", "allow")
            } else {
                ("visible_to", "allow")
            };
            let b = if t.has(b) { b } else { "min_rank" };
            cx.error_help(
                t.key_span(b).unwrap_or(t.anchor()),
                format!("`{b}` does not go with `{a}` in one [[expect]]"),
                "split it: an access rule (paths + allow/min_rank) and a data rule (data + visible_to)",
            );
            ok = false;
        } else if !is_data && !is_access {
            cx.error_help(
                t.key_span("paths").unwrap_or(t.anchor()),
                "this [[expect]] is not a rule",
                "write an access rule (paths + allow and/or min_rank), a data rule (data + visible_to) or an actions rule (actions + allow)",
            );
            ok = false;
        }

        let paths = t.str_list(cx, "paths");
        let paths_span = t.get("paths").map_or(t.anchor(), |v| v.span());
        let paths = match paths {
            Some(p) => {
                if p.is_empty() {
                    cx.error(paths_span.clone(), "`paths` must not be empty");
                    ok = false;
                }
                let spans: Vec<Range<usize>> = p.iter().map(|(_, s)| s.clone()).collect();
                match globs(cx, "paths", p) {
                    Some(compiled) => {
                        for (g, span) in compiled.iter().zip(spans) {
                            reachable(cx, g, span, crawl);
                        }
                        path_globs(cx, "paths", paths_span.clone(), &compiled).unwrap_or_else(
                            || {
                                ok = false;
                                PathGlobs::empty()
                            },
                        )
                    }
                    None => {
                        ok = false;
                        PathGlobs::empty()
                    }
                }
            }
            None => {
                if t.has("paths") {
                    ok = false;
                }
                PathGlobs::empty()
            }
        };

        let rule = if is_data && !is_access {
            let data_name = t.str(cx, "data");
            let data_name = t.require(cx, "data", data_name).and_then(|(name, span)| {
                if data.contains(&name) {
                    Some(name)
                } else {
                    let help = suggest(&name, data.iter().map(String::as_str))
                        .map(|k| format!("did you mean `{k}`?"))
                        .unwrap_or_else(|| "`data` names a declared [data.NAME] table".to_string());
                    cx.error_help(span, format!("unknown data class `{name}`"), help);
                    None
                }
            });
            let visible = principals(cx, &t, "visible_to", identities);
            let visible = t.require(cx, "visible_to", visible);
            match (data_name, visible) {
                (Some(data), Some(visible_to)) => Some(ExpectRule::Data { data, visible_to }),
                _ => None,
            }
        } else if is_access && !is_data {
            if !t.has("paths") {
                cx.error_help(
                    t.key_span("allow")
                        .or(t.key_span("min_rank"))
                        .unwrap_or(t.anchor()),
                    "an access rule needs `paths`",
                    "e.g. paths = [\"/admin/**\"]",
                );
            }
            let allow = principals(cx, &t, "allow", identities);
            let min_rank = t.int(cx, "min_rank").map(|(n, _)| n);
            let allow_ok = !t.has("allow") || allow.is_some();
            let rank_ok = !t.has("min_rank") || min_rank.is_some();
            (allow_ok && rank_ok && t.has("paths")).then(|| ExpectRule::Access {
                allow: allow.unwrap_or_default(),
                min_rank,
            })
        } else {
            None
        };

        if let (Some(rule), true) = (rule, ok) {
            out.push(Expectation {
                index,
                location,
                paths: paths.patterns().to_vec(),
                path_globs: paths,
                rule,
            });
        }
    }
    out
}

/// An actions rule: `actions` globs, who may be shown them (`allow`) and what they do (`kind`).
/// Its globs name action paths, not pages: a form may post outside `[crawl] scope`, and an
/// action may sit under an `exclude` glob, which keeps the crawl from following it but not
/// the rule from judging it, so neither reachability check applies.
fn actions(
    cx: &mut Cx<'_>,
    t: &Table<'_, '_>,
    identities: &[String],
) -> Option<(PathGlobs, ExpectRule)> {
    let mut ok = true;
    for key in NOT_WITH_ACTIONS {
        if let Some(span) = t.key_span(key) {
            cx.error_help(
                span,
                format!("`{key}` does not go with `actions` in one [[expect]]"),
                "split it: an actions rule (actions + allow, kind) and an access rule (paths + allow/min_rank) or a data rule (data + visible_to)",
            );
            ok = false;
        }
    }
    let span = t.get("actions").map_or(t.anchor(), |v| v.span());
    let globs = match t.str_list(cx, "actions") {
        Some(list) if list.is_empty() => {
            cx.error(span.clone(), "`actions` must not be empty");
            None
        }
        Some(list) => globs(cx, "actions", list)
            .and_then(|compiled| path_globs(cx, "actions", span.clone(), &compiled)),
        None => None,
    };
    let kind = match t.str(cx, "kind") {
        None if t.has("kind") => None,
        None => Some(ActionKind::Write),
        Some((kind, span)) => {
            let parsed = ActionKind::parse(&kind);
            if parsed.is_none() {
                let choices = format!("`kind` is one of: {}", ACTION_KINDS.join(", "));
                let help = match did_you_mean(&kind, ACTION_KINDS) {
                    Some(close) => format!("{close} ({choices})"),
                    None => choices,
                };
                cx.error_help(span, format!("unknown action kind `{kind}`"), help);
            }
            parsed
        }
    };
    let allow = principals(cx, t, "allow", identities);
    let allow = match (kind, allow) {
        (Some(ActionKind::Forbidden), Some(allow)) if !allow.is_empty() => {
            cx.error_help(
                t.key_span("allow").unwrap_or(t.anchor()),
                "a forbidden action admits nobody",
                "drop `allow`, or say what the action does (kind = \"write\") to name who may be shown it",
            );
            None
        }
        (Some(ActionKind::Forbidden), None) if !t.has("allow") => Some(Vec::new()),
        // Beside a key that belongs to another rule, the entry was not meant as this rule
        // alone: the split says more than a missing `allow`.
        (Some(_), None) if !t.has("allow") && ok => {
            cx.error_help(
                t.key_span("actions").unwrap_or(t.anchor()),
                "an actions rule needs `allow`",
                "name who may be shown the actions, e.g. allow = [\"alice\"], or write kind = \"forbidden\" if nobody may",
            );
            None
        }
        (_, allow) => allow,
    };
    match (globs, kind, allow, ok) {
        (Some(globs), Some(kind), Some(allow), true) => {
            Some((globs, ExpectRule::Actions { allow, kind }))
        }
        _ => None,
    }
}

/// Reports an `[[expect]]` glob that no crawled path could ever match.
fn reachable(cx: &mut Cx<'_>, g: &Compiled, span: Range<usize>, crawl: &Crawl) {
    if !crawl.scope.is_empty() && !glob::may_be_in_scope(g, &crawl.scope) {
        cx.error_help(
            span,
            "this [[expect]] path can never match: it is outside [crawl] scope",
            format!("scope is {}", crawl.config.scope.patterns().join(", ")),
        );
    } else if let Some(e) = glob::excluded_by(g, &crawl.exclude) {
        cx.error_help(
            span,
            "this [[expect]] path can never match: it is excluded by [crawl] exclude",
            format!("excluded by `{}`", e.text),
        );
    }
}

/// Names in `allow` / `visible_to`: each an identity or a tier.
fn principals(
    cx: &mut Cx<'_>,
    t: &Table<'_, '_>,
    key: &str,
    identities: &[String],
) -> Option<Vec<Principal>> {
    let names = t.str_list(cx, key)?;
    let mut out = Vec::with_capacity(names.len());
    let mut ok = true;
    for (name, span) in names {
        if identities.contains(&name) {
            out.push(Principal::Identity(name));
        } else if let Some(tier) = Tier::parse(&name) {
            out.push(Principal::Tier(tier));
        } else {
            let known = identities
                .iter()
                .map(String::as_str)
                .chain(TIERS.iter().copied());
            let help = suggest(&name, known)
                .map(|k| format!("did you mean `{k}`?"))
                .unwrap_or_else(|| "name a declared [[identity]] or a tier".to_string());
            cx.error_help(span, format!("unknown identity or tier `{name}`"), help);
            ok = false;
        }
    }
    ok.then_some(out)
}
