//! `[site]`: what the Site is, who it is shared with, and which paths anyone may reach.
//!
//! Input: the `[site]` table. Output: a [`Site`], or `None` with every problem recorded.
//! Invariants: `name` is usable as a file name; `base_url` is http(s), carries no credentials
//! and has no trailing slash; every `public` glob compiles.

use url::Url;

use super::super::glob::PathGlobs;
use super::super::model::*;
use super::table::{Table, globs, path_globs};
use super::{Cx, bad_choice};

pub(super) const KEYS: &[&str] = &[
    "name",
    "base_url",
    "audience",
    "owner",
    "data_sources",
    "last_review",
    "review_every_days",
    "expires",
    "public",
];
const AUDIENCES: &[&str] = &["draft", "team", "company", "external"];

pub(super) fn site(cx: &mut Cx<'_>, t: &Table<'_, '_>) -> Option<Site> {
    let name = t.str(cx, "name");
    let name = t.require(cx, "name", name).and_then(|(name, span)| {
        if is_file_name(&name) {
            Some(name)
        } else {
            cx.error_help(
                span,
                "`name` must be usable as a file name",
                "use letters, digits, `.`, `_` and `-` only",
            );
            None
        }
    });

    let base_url = t.str(cx, "base_url");
    let base_url = t
        .require(cx, "base_url", base_url)
        .and_then(|(raw, span)| http_url(cx, &raw, span, "[identity.login]"));

    let audience = t.str(cx, "audience").and_then(|(a, span)| {
        let parsed = Audience::parse(&a);
        if parsed.is_none() {
            bad_choice(cx, span, "audience", &a, AUDIENCES);
        }
        parsed
    });
    let owner = t.str(cx, "owner").map(|(s, _)| s);
    let data_sources = t
        .str_list(cx, "data_sources")
        .map(|v| v.into_iter().map(|(s, _)| s).collect());
    let last_review = t.date(cx, "last_review");
    let review_every_days = t
        .int_in(cx, "review_every_days", 1, u32::MAX.into())
        .map(|n| n as u32);
    let expires = t.date(cx, "expires");
    let public_span = t.get("public").map_or(t.anchor(), |v| v.span());
    let public = t
        .str_list(cx, "public")
        .and_then(|v| globs(cx, "public", v))
        .and_then(|g| path_globs(cx, "public", public_span, &g))
        .unwrap_or_else(PathGlobs::empty);

    Some(Site {
        name: name?,
        base_url: base_url?,
        // Unset means the narrowest audience: an undeclared audience must not hide a leak.
        audience: audience.unwrap_or(Audience::Draft),
        owner,
        data_sources: data_sources.unwrap_or_default(),
        last_review,
        review_every_days,
        expires,
        public: public.patterns().to_vec(),
        public_globs: public,
    })
}

/// Whether a name is usable as a file name: the Site's names its snapshot, a source's may
/// name files of its own.
pub(super) fn is_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A `base_url`: http(s), without credentials (`login_table` says where they go instead),
/// its path without a trailing slash.
pub(super) fn http_url(
    cx: &mut Cx<'_>,
    raw: &str,
    span: std::ops::Range<usize>,
    login_table: &str,
) -> Option<Url> {
    match Url::parse(raw) {
        Ok(url) if !matches!(url.scheme(), "http" | "https") => {
            cx.error(span, "`base_url` must be an http or https URL");
            None
        }
        Ok(url) if !url.username().is_empty() || url.password().is_some() => {
            // Credentials in a URL are a literal secret; hide the whole value.
            cx.masks.push(span.start.saturating_sub(1)..span.end + 1);
            cx.error_help(
                span,
                "`base_url` must not carry credentials",
                format!("declare them in {login_table} with a ${{VAR}} reference"),
            );
            None
        }
        Ok(mut url) => {
            let trimmed = url.path().trim_end_matches('/').to_string();
            url.set_path(if trimmed.is_empty() { "/" } else { &trimmed });
            Some(url)
        }
        Err(e) => {
            cx.error_help(
                span,
                "`base_url` must be an http or https URL",
                e.to_string(),
            );
            None
        }
    }
}
