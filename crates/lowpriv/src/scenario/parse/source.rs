//! `[[source]]`: the systems the Site reads its data from, and how each identity logs in to
//! them.
//!
//! Input: the `source` array of tables, the declared identity names and the Site's base URL
//! (to refuse a source that is the Site itself). Output: the sources in file order, and every
//! source name declared (even from entries with other problems, so a `[data] source` naming
//! one is not reported as a second, misleading error). Invariants: names are unique and
//! usable as file names; `base_url` is an absolute http(s) URL on another origin than the
//! Site's, `${VAR}` resolved, without credentials; `probes` is a non-empty list of concrete
//! paths on that origin; every `[source.login.IDENTITY]` names a declared identity and is a
//! valid login of any kind.

use std::ops::Range;

use url::Url;

use super::super::model::*;
use super::login::{self, Whose};
use super::site::{http_url, is_file_name};
use super::table::{Table, array_of_tables};
use super::{Cx, Value, suggest};

const SOURCE: &[&str] = &["name", "base_url", "probes", "login"];

pub(super) fn sources(
    cx: &mut Cx<'_>,
    value: &Value<'_>,
    identities: &[String],
    site: Option<&Url>,
    names: &mut Vec<String>,
) -> Vec<Source> {
    let mut out = Vec::new();
    let mut seen: Vec<(String, Range<usize>)> = Vec::new();
    for (table, span) in array_of_tables(cx, value, "source") {
        let t = Table::new(cx, table, span, "[[source]]", Some(SOURCE));
        let start = t
            .entries
            .first()
            .map_or(t.span.start, |(k, _)| k.span().start);
        let location = cx.location(start);

        let name = t.str(cx, "name");
        let name = t.require(cx, "name", name).and_then(|(name, span)| {
            if !is_file_name(&name) {
                cx.error_help(
                    span,
                    format!("invalid source name `{name}`"),
                    "use letters, digits, `.`, `_` and `-` only",
                );
                None
            } else if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
                let first_line = super::super::diagnostic::line_column(cx.source, first.start).0;
                cx.error_help(
                    span,
                    format!("source `{name}` is declared twice"),
                    format!("first declared on line {first_line}"),
                );
                None
            } else {
                names.push(name.clone());
                seen.push((name.clone(), span));
                Some(name)
            }
        });
        let label = name.as_deref().unwrap_or("source").to_string();

        let base_url = t.get("base_url").and_then(|v| base_url(cx, v, site));
        let base_url = t.require(cx, "base_url", base_url);
        let probes = probes(cx, &t);
        let probes = t.require(cx, "probes", probes);

        let logins = match t.get("login") {
            Some(v) => logins(cx, v, &label, identities),
            None => Some(Vec::new()),
        };

        if let (Some(name), Some(base_url), Some(probes), Some(logins)) =
            (name, base_url, probes, logins)
        {
            out.push(Source {
                name,
                base_url,
                probes,
                logins,
                location,
            });
        }
    }
    out
}

/// The source's `base_url`, `${VAR}` resolved: an http(s) URL that is not the Site's origin.
fn base_url(cx: &mut Cx<'_>, value: &Value<'_>, site: Option<&Url>) -> Option<Url> {
    let raw = login::resolve(cx, "base_url", value, None)?;
    let span = cx.inner(value.span());
    let url = http_url(cx, &raw, span.clone(), "[source.login.IDENTITY]")?;
    if url.query().is_some() || url.fragment().is_some() {
        cx.error_help(
            span,
            "a source's `base_url` must not have a query or fragment",
            "put the query on the probe: probes = [\"/employees?active=1\"]",
        );
        return None;
    }
    if let Some(site) = site
        && site.origin() == url.origin()
    {
        cx.error_help(
            span,
            "this [[source]] is the Site itself: its `base_url` has the Site's origin",
            "a source is another system the Site reads its data from; the Site's own pages are crawled already",
        );
        return None;
    }
    Some(url)
}

/// `probes = [PATHS]`: concrete GET paths on the source, each sent as every identity.
fn probes(cx: &mut Cx<'_>, t: &Table<'_, '_>) -> Option<Vec<String>> {
    let list = t.str_list(cx, "probes")?;
    if list.is_empty() {
        cx.error_help(
            t.get("probes").map_or(t.anchor(), |v| v.span()),
            "`probes` must not be empty",
            "name the source's read endpoints, e.g. probes = [\"/employees\"]",
        );
        return None;
    }
    let mut out = Vec::with_capacity(list.len());
    let mut ok = true;
    for (probe, span) in list {
        let problem = if !probe.starts_with('/') {
            Some("a probe is a path on the source, starting with `/`")
        } else if probe.starts_with("//") {
            // `//host/x` resolves to another host, where the source's credentials must not go.
            Some("`//` would start another host: a probe is a path on the source")
        } else if probe.contains(['{', '}']) {
            Some("a probe is sent as written: put a real value where the `{param}` is")
        } else if probe.contains('#') {
            Some("a fragment is never sent: drop the `#...`")
        } else if probe.chars().any(char::is_whitespace) {
            Some("a probe is sent as written: percent-encode the whitespace (`%20`)")
        } else {
            None
        };
        match problem {
            Some(why) => {
                cx.error_help(span, format!("invalid probe `{probe}`"), why);
                ok = false;
            }
            None => out.push(probe),
        }
    }
    ok.then_some(out)
}

/// `[source.login.IDENTITY]` tables, in file order, each parsed as an identity's login is.
fn logins(
    cx: &mut Cx<'_>,
    value: &Value<'_>,
    source: &str,
    identities: &[String],
) -> Option<Vec<(String, Login)>> {
    let all = Table::of(cx, value, "`login`", "[source.login]", None)?;
    let mut out = Vec::with_capacity(all.entries.len());
    let mut ok = true;
    for (key, v) in &all.entries {
        let identity: &str = key.get_ref();
        if !identities.iter().any(|i| i == identity) {
            let help = suggest(identity, identities.iter().map(String::as_str))
                .map(|k| format!("did you mean `{k}`?"))
                .unwrap_or_else(|| {
                    "each [source.login.NAME] names a declared [[identity]]".to_string()
                });
            cx.error_help(
                key.span(),
                format!("unknown identity `{identity}` in [source.login]"),
                help,
            );
            ok = false;
            continue;
        }
        let whose = Whose::source(source, identity);
        let login = Table::of(
            cx,
            v,
            &format!("`login.{identity}`"),
            &whose.table,
            Some(login::KEYS),
        )
        .and_then(|lt| login::login(cx, &lt, &whose));
        match login {
            Some(login) => out.push((identity.to_string(), login)),
            None => ok = false,
        }
    }
    ok.then_some(out)
}
