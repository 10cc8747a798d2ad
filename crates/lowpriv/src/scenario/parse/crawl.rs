//! `[crawl]`: where the crawl starts, what it may send, and its bounds.
//!
//! Input: the `[crawl]` table. Output: a [`Crawl`]: the [`CrawlConfig`], defaults filled in, plus
//! the compiled globs the `[[expect]]` reachability checks need. Invariants: `seeds` and `scope`
//! are not empty; every glob compiles; every bound is in its range; `probe_writes = true` comes
//! with a non-empty `write_scope` (without one it would send nothing, silently).

use std::ops::Range;

use super::super::glob::{self, Compiled, PathGlobs};
use super::super::model::*;
use super::Cx;
use super::table::{Table, globs, path, path_globs};

pub(super) const KEYS: &[&str] = &[
    "seeds",
    "scope",
    "exclude",
    "openapi",
    "graphql",
    "max_depth",
    "max_requests",
    "concurrency",
    "rate_limit",
    "timeout_secs",
    "max_body_bytes",
    "error_budget_percent",
    "max_per_template",
    "presentation_params",
    "data_params",
    "probe_writes",
    "write_scope",
];

/// The crawl settings plus the compiled globs the `[[expect]]` checks need, and where the
/// write-probe keys are (for the warnings about them).
pub(super) struct Crawl {
    pub(super) config: CrawlConfig,
    pub(super) scope: Vec<Compiled>,
    pub(super) exclude: Vec<Compiled>,
    pub(super) probe_writes_at: Option<Range<usize>>,
    pub(super) write_scope_at: Option<Range<usize>>,
}

impl Default for Crawl {
    fn default() -> Self {
        let config = CrawlConfig::default();
        let compile = |globs: &PathGlobs| {
            globs
                .patterns()
                .iter()
                .filter_map(|g| {
                    glob::compile(g).ok().map(|matcher| Compiled {
                        text: g.clone(),
                        matcher,
                    })
                })
                .collect()
        };
        Crawl {
            scope: compile(&config.scope),
            exclude: compile(&config.exclude),
            config,
            probe_writes_at: None,
            write_scope_at: None,
        }
    }
}

pub(super) fn crawl(cx: &mut Cx<'_>, t: &Table<'_, '_>) -> Crawl {
    let mut out = Crawl::default();
    let c = &mut out.config;
    if let Some(seeds) = t.str_list(cx, "seeds") {
        if seeds.is_empty() {
            cx.error(
                t.get("seeds").map_or(t.anchor(), |v| v.span()),
                "`seeds` must not be empty",
            );
        }
        c.seeds = seeds
            .into_iter()
            .filter_map(|s| path(cx, "seeds", s))
            .collect();
    }
    if let Some(scope) = t.str_list(cx, "scope") {
        if scope.is_empty() {
            cx.error(
                t.get("scope").map_or(t.anchor(), |v| v.span()),
                "`scope` must not be empty: nothing would be crawled",
            );
        }
        let span = t.get("scope").map_or(t.anchor(), |v| v.span());
        // Unknown scope means no reachability check, not a wrong one.
        out.scope = globs(cx, "scope", scope).unwrap_or_default();
        c.scope = path_globs(cx, "scope", span, &out.scope).unwrap_or_else(PathGlobs::empty);
    }
    if let Some(exclude) = t.str_list(cx, "exclude") {
        let span = t.get("exclude").map_or(t.anchor(), |v| v.span());
        out.exclude = globs(cx, "exclude", exclude).unwrap_or_default();
        c.exclude = path_globs(cx, "exclude", span, &out.exclude).unwrap_or_else(PathGlobs::empty);
    }
    c.openapi = t.str(cx, "openapi").and_then(|v| path(cx, "openapi", v));
    c.graphql = match t.str(cx, "graphql") {
        // `//host/x` starts with `/` but names another origin: POSTs go to the Site only.
        Some((value, span)) if value.starts_with("//") => {
            cx.error(
                span,
                "`graphql` must be a path on the Site, not `//host/...` (another origin)",
            );
            None
        }
        Some(value) => path(cx, "graphql", value),
        None => None,
    };
    if let Some(n) = t.int_in(cx, "max_depth", 0, u32::MAX.into()) {
        c.max_depth = n as u32;
    }
    if let Some(n) = t.int_in(cx, "max_requests", 1, u32::MAX.into()) {
        c.max_requests = n as u32;
    }
    if let Some(n) = t.int_in(cx, "concurrency", 1, 4096) {
        c.concurrency = n as usize;
    }
    if let Some(n) = t.int_in(cx, "rate_limit", 1, u32::MAX.into()) {
        c.rate_limit = n as u32;
    }
    if let Some(n) = t.int_in(cx, "timeout_secs", 1, 86_400) {
        c.timeout_secs = n as u64;
    }
    if let Some(n) = t.int_in(cx, "max_body_bytes", 1024, i64::MAX) {
        c.max_body_bytes = n as u64;
    }
    if let Some(n) = t.int_in(cx, "error_budget_percent", 0, 100) {
        c.error_budget_percent = n as u32;
    }
    if let Some(n) = t.int_in(cx, "max_per_template", 1, u32::MAX.into()) {
        c.max_per_template = n as u32;
    }
    let presentation = query_keys(cx, t, "presentation_params");
    let data = query_keys(cx, t, "data_params");
    for (key, span) in &data {
        if presentation.iter().any(|(p, _)| p == key) {
            cx.error(
                span.clone(),
                format!("`{key}` is in both `presentation_params` and `data_params`"),
            );
        }
    }
    let keys = |list: Vec<(String, std::ops::Range<usize>)>| -> Vec<String> {
        list.into_iter().map(|(k, _)| k).collect()
    };
    c.params = QueryParams::new(&keys(presentation), &keys(data));

    out.probe_writes_at = t.key_span("probe_writes");
    out.write_scope_at = t.key_span("write_scope");
    let probe_writes = t.bool(cx, "probe_writes");
    // `None`: written, but unreadable (its own error says why).
    let write_scope = match t.str_list(cx, "write_scope") {
        Some(list) => {
            let span = t.get("write_scope").map_or(t.anchor(), |v| v.span());
            globs(cx, "write_scope", list).and_then(|g| path_globs(cx, "write_scope", span, &g))
        }
        None if t.has("write_scope") => None,
        None => Some(PathGlobs::empty()),
    };
    if let Some((true, span)) = probe_writes.clone()
        && write_scope.as_ref().is_some_and(PathGlobs::is_empty)
    {
        cx.error_help(
            span,
            "`probe_writes` sends nothing without `write_scope`",
            "name the actions probes may send, e.g. write_scope = [\"/team/**\"]",
        );
    }
    let c = &mut out.config;
    c.probe_writes = probe_writes.is_some_and(|(probe, _)| probe);
    c.write_scope = write_scope.unwrap_or_else(PathGlobs::empty);
    out
}

/// A list of query keys: each non-empty and without `=`/`&`, which would never match a key.
fn query_keys(
    cx: &mut Cx<'_>,
    t: &Table<'_, '_>,
    key: &str,
) -> Vec<(String, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    for (name, span) in t.str_list(cx, key).unwrap_or_default() {
        if name.is_empty() || name.contains(['=', '&', '?', '#']) {
            cx.error(
                span,
                format!("`{key}` holds query keys, and `{name}` cannot be one"),
            );
        } else {
            out.push((name, span));
        }
    }
    out
}
