//! `[[accept]]`: reviewed findings kept visible but out of the verdict until a date.
//!
//! Input: the `accept` array of tables and the declared identity names. Output: the
//! acceptances in file order. Invariants: the kind is a finding kind that a reviewer may
//! accept (never `login-failed` or `inconclusive`: those say the run did not see the Site);
//! every identity is declared; the globs compile; a reason and an expiry date are given, so
//! no acceptance is forever and none is without a why.

use super::super::glob::PathGlobs;
use super::super::model::*;
use super::table::{Table, array_of_tables, globs, path_globs};
use super::{Cx, Value, suggest};

const ACCEPT: &[&str] = &["kind", "paths", "identities", "reason", "expires"];

pub(super) fn acceptances(
    cx: &mut Cx<'_>,
    value: &Value<'_>,
    identities: &[String],
) -> Vec<Acceptance> {
    let mut out = Vec::new();
    for (table, span) in array_of_tables(cx, value, "accept") {
        let t = Table::new(cx, table, span, "[[accept]]", Some(ACCEPT));
        let start = t
            .entries
            .first()
            .map_or(t.span.start, |(k, _)| k.span().start);
        let location = cx.location(start);
        let mut ok = true;

        let kind = t.str(cx, "kind");
        let kind = t.require(cx, "kind", kind).and_then(|(kind, span)| {
            if UNACCEPTABLE_KINDS.contains(&kind.as_str()) {
                cx.error_help(
                    span,
                    format!("`{kind}` findings cannot be accepted"),
                    "they mean part of the Site was not seen: fix the run instead",
                );
                None
            } else if FINDING_KINDS.contains(&kind.as_str()) {
                Some(kind)
            } else {
                let help = suggest(&kind, FINDING_KINDS.iter().copied())
                    .map(|k| format!("did you mean `{k}`?"))
                    .unwrap_or_else(|| format!("one of: {}", FINDING_KINDS.join(", ")));
                cx.error_help(span, format!("unknown finding kind `{kind}`"), help);
                None
            }
        });

        let paths = match t.str_list(cx, "paths") {
            Some(p) => {
                let span = t.get("paths").map_or(t.anchor(), |v| v.span());
                match globs(cx, "paths", p) {
                    Some(compiled) => path_globs(cx, "paths", span, &compiled),
                    None => None,
                }
            }
            None if t.has("paths") => None,
            None => Some(PathGlobs::empty()),
        };
        ok &= paths.is_some();

        let mut named = Vec::new();
        for (name, span) in t.str_list(cx, "identities").unwrap_or_default() {
            if identities.contains(&name) {
                named.push(name);
            } else {
                let help = suggest(&name, identities.iter().map(String::as_str))
                    .map(|k| format!("did you mean `{k}`?"))
                    .unwrap_or_else(|| "name a declared [[identity]]".to_string());
                cx.error_help(span, format!("unknown identity `{name}`"), help);
                ok = false;
            }
        }

        let reason = t.str(cx, "reason");
        let reason = t.require(cx, "reason", reason).and_then(|(reason, span)| {
            if reason.trim().is_empty() {
                cx.error(span, "`reason` must say why the finding is accepted");
                None
            } else {
                Some(reason)
            }
        });
        let expires = t.date(cx, "expires");
        let expires = t.require(cx, "expires", expires);

        if let (Some(kind), Some(paths), Some(reason), Some(expires), true) =
            (kind, paths, reason, expires, ok)
        {
            out.push(Acceptance {
                location,
                kind,
                paths,
                identities: named,
                reason,
                expires,
            });
        }
    }
    out
}
