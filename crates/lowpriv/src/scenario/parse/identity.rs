//! `[[identity]]`: who the run logs in as.
//!
//! Input: the `identity` array of tables. Output: the identities in file order, each with the
//! span of its name, and (even from entries with other problems) every name declared, so that a
//! rule naming one is not reported as a second, misleading error. Invariants: names are unique,
//! made of letters, digits, `_` and `-`, and never a tier's name; the tier is known.

use std::ops::Range;

use toml::de::DeValue;

use super::super::model::*;
use super::table::{Table, array_of_tables};
use super::{Cx, Value, bad_choice, login};

const IDENTITY: &[&str] = &["name", "tier", "rank", "includes", "login"];
pub(super) const TIERS: &[&str] = &["owner", "admin", "team", "company", "external"];

/// Names as written, each with its span.
type Named = Vec<(String, Range<usize>)>;

/// Identities in file order, each with the span of its name.
pub(super) fn identities(
    cx: &mut Cx<'_>,
    value: &Value<'_>,
    names: &mut Vec<String>,
) -> Vec<(Identity, Range<usize>)> {
    let entries = array_of_tables(cx, value, "identity");
    if entries.is_empty() && matches!(value.get_ref(), DeValue::Array(_)) {
        cx.error(value.span(), "no [[identity]] declared");
    }
    let mut out: Vec<(Identity, Range<usize>)> = Vec::new();
    let mut seen: Vec<(String, Range<usize>)> = Vec::new();
    // `includes` may name identities declared further down: checked once all are known.
    let mut includes: Vec<(usize, Named)> = Vec::new();
    for (table, span) in entries {
        let t = Table::new(cx, table, span, "[[identity]]", Some(IDENTITY));
        let name = t.str(cx, "name");
        let name = t.require(cx, "name", name).and_then(|(name, span)| {
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
            {
                cx.error_help(
                    span,
                    format!("invalid identity name `{name}`"),
                    "use letters, digits, `_` and `-` only",
                );
                None
            } else if Tier::parse(&name).is_some() {
                cx.error_help(
                    span,
                    format!("identity name `{name}` is also a tier name"),
                    "rules name identities and tiers alike, so pick a name that is not a tier",
                );
                None
            } else if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
                let first_line = super::super::diagnostic::line_column(cx.source, first.start).0;
                cx.error_help(
                    span,
                    format!("identity `{name}` is declared twice"),
                    format!("first declared on line {first_line}"),
                );
                None
            } else {
                names.push(name.clone());
                seen.push((name.clone(), span.clone()));
                Some((name, span))
            }
        });
        let tier = t.str(cx, "tier");
        let tier = t.require(cx, "tier", tier).and_then(|(s, span)| {
            let tier = Tier::parse(&s);
            if tier.is_none() {
                bad_choice(cx, span, "tier", &s, TIERS);
            }
            tier
        });
        let rank = t.int(cx, "rank").map(|(n, _)| n);
        let included = t.str_list(cx, "includes").unwrap_or_default();
        let label = name
            .as_ref()
            .map_or("identity", |(n, _)| n.as_str())
            .to_string();
        let login = t.get("login").and_then(|v| {
            let lt = Table::of(cx, v, "`login`", "[identity.login]", Some(login::KEYS))?;
            login::login(cx, &lt, &login::Whose::identity(&label))
        });
        let login_ok = t.get("login").is_none() || login.is_some();
        if let (Some((name, span)), Some(tier), true) = (name, tier, login_ok) {
            includes.push((out.len(), included));
            out.push((
                Identity {
                    name,
                    tier,
                    rank: rank.unwrap_or_else(|| tier.default_rank()),
                    includes: Vec::new(),
                    login,
                },
                span,
            ));
        }
    }
    for (index, included) in includes {
        let own = out[index].0.name.clone();
        for (name, span) in included {
            if name == own {
                cx.error_help(
                    span,
                    format!("identity `{own}` includes itself"),
                    "`includes` names the other identities this one is at least as privileged as",
                );
            } else if names.contains(&name) {
                out[index].0.includes.push(name);
            } else {
                let help = super::suggest(&name, names.iter().map(String::as_str))
                    .map(|k| format!("did you mean `{k}`?"))
                    .unwrap_or_else(|| "name a declared [[identity]]".to_string());
                cx.error_help(
                    span,
                    format!("unknown identity `{name}` in `includes`"),
                    help,
                );
            }
        }
    }
    out
}
