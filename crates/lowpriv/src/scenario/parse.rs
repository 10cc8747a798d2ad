//! The scenario walker: a spanned TOML document in, a [`Scenario`] or every problem out.
//!
//! Input: the source text, its path (for locations only) and an environment lookup. Output: a
//! validated [`Scenario`], or all the [`Problem`]s found plus the spans of literal secrets that
//! rendering must mask.
//!
//! The document is walked by hand instead of through serde because serde stops at the first
//! error and forgets spans; here every key is checked against its table's known keys so a typo
//! is reported, never silently ignored. A syntax error stops semantic checks: a recovered
//! document would produce follow-on errors that only confuse.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};
use url::Url;

use super::diagnostic::Problem;
use super::env;
use super::glob::{self, Compiled};
use super::model::*;

type Value<'i> = Spanned<DeValue<'i>>;
type Key<'i> = Spanned<DeString<'i>>;

/// What the walker found: the scenario if nothing was wrong, and what to mask either way.
pub(crate) struct Outcome {
    pub scenario: Option<Scenario>,
    pub problems: Vec<Problem>,
    pub masks: Vec<Range<usize>>,
}

pub(crate) fn parse(
    source: &str,
    file: &std::path::Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Outcome {
    let (doc, syntax) = DeTable::parse_recoverable(source);
    let mut cx = Cx {
        source,
        file,
        env,
        problems: Vec::new(),
        masks: Vec::new(),
    };
    mask_secret_values(&mut cx, doc.get_ref(), false);
    if !syntax.is_empty() {
        for e in syntax {
            let span = e.span().unwrap_or(0..0);
            cx.problems.push(Problem {
                span,
                message: format!("invalid TOML: {}", e.message().trim_end_matches('.')),
                help: None,
            });
        }
        mask_secret_lines(&mut cx);
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

    fn finish(mut self, scenario: Option<Scenario>) -> Outcome {
        if scenario.is_none() && self.problems.is_empty() {
            // Every rejection path records a problem; this keeps a missed one from rendering
            // as "0 problems" and still failing.
            self.error(
                0..0,
                "scenario rejected without a reason (a bug in lowpriv)",
            );
        }
        let ok = self.problems.is_empty();
        Outcome {
            scenario: if ok { scenario } else { None },
            problems: self.problems,
            masks: self.masks,
        }
    }
}

/// The closest known name, if it is close enough to be a likely typo.
pub(crate) fn suggest<'a>(
    wrong: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
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

/// Whether a form field or key name holds a credential, by its name.
fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["pass", "pwd", "token", "secret", "key", "otp", "pin"]
        .iter()
        .any(|p| lower.contains(p))
}

/// Whether a key may hold a credential, for masking only. Broader than [`is_secret_name`] so
/// that misspelt keys (`pasword`, `tokn`) are hidden too: over-masking costs nothing.
fn looks_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        "pas", "pwd", "pw", "tok", "secret", "key", "otp", "pin", "bearer", "cookie", "auth",
        "cred", "sid", "session",
    ]
    .iter()
    .any(|p| lower.contains(p))
}

/// Keys inside a login whose literal values are not credentials and stay readable.
const LOGIN_PLAIN: &[&str] = &["form", "user", "username", "email", "path", "contains"];

/// Masks every literal string that may be a credential anywhere in the document, including under
/// keys we will reject as unknown: a misspelt `pasword = "..."` must not be echoed either.
/// Inside a `login` table everything but [`LOGIN_PLAIN`] is masked.
fn mask_secret_values(cx: &mut Cx<'_>, table: &DeTable<'_>, in_login: bool) {
    for (key, value) in table.iter() {
        let k = key.get_ref().as_ref();
        let secret = looks_secret(k) || (in_login && !LOGIN_PLAIN.contains(&k));
        mask_value(cx, value, secret, in_login || k == "login");
    }
}

fn mask_value(cx: &mut Cx<'_>, value: &Value<'_>, secret: bool, in_login: bool) {
    match value.get_ref() {
        DeValue::String(s) if secret && !s.contains("${") => cx.masks.push(value.span()),
        DeValue::Table(t) => mask_secret_values(cx, t, in_login),
        DeValue::Array(items) => {
            for item in items.iter() {
                mask_value(cx, item, secret, in_login);
            }
        }
        _ => {}
    }
}

/// After a syntax error the recovered tree may miss the broken line, so mask by shape too:
/// a quoted value after a credential-like key, on any line.
fn mask_secret_lines(cx: &mut Cx<'_>) {
    let Ok(re) = regex::Regex::new(
        r#"(?i)[A-Za-z0-9_.\-"']*(?:pas|pw|tok|secret|key|otp|pin|bearer|cookie|auth|cred|sid|session)[A-Za-z0-9_.\-"']*\s*=\s*("(?:[^"\\\n]|\\.)*"?|'[^'\n]*'?)"#,
    ) else {
        return;
    };
    for caps in re.captures_iter(cx.source) {
        if let Some(m) = caps.get(1)
            && !m.as_str().contains("${")
        {
            cx.masks.push(m.range());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tables and typed getters

/// A table being validated: its entries in file order and a name for messages.
struct Table<'a, 'i> {
    entries: Vec<(&'a Key<'i>, &'a Value<'i>)>,
    /// How messages name it, e.g. `[crawl]`.
    name: String,
    span: Range<usize>,
}

impl<'a, 'i> Table<'a, 'i> {
    /// Wraps a table, reporting every key not in `known`; `None` means free-form keys
    /// (header names, data class names).
    fn new(
        cx: &mut Cx<'_>,
        table: &'a DeTable<'i>,
        span: Range<usize>,
        name: &str,
        known: Option<&[&str]>,
    ) -> Self {
        let mut entries: Vec<_> = table.iter().collect();
        // The map may be sorted by key; file order keeps diagnostics and form fields natural.
        entries.sort_by_key(|(k, _)| k.span().start);
        for (key, _) in &entries {
            let Some(known) = known else { break };
            let k: &str = key.get_ref();
            if !known.contains(&k) {
                let help = did_you_mean(k, known)
                    .unwrap_or_else(|| format!("expected one of: {}", known.join(", ")));
                cx.error_help(key.span(), format!("unknown key `{k}` in {name}"), help);
            }
        }
        Table {
            entries,
            name: name.to_string(),
            span,
        }
    }

    /// Wraps a value that must be a table.
    fn of(
        cx: &mut Cx<'_>,
        value: &'a Value<'i>,
        what: &str,
        name: &str,
        known: Option<&[&str]>,
    ) -> Option<Self> {
        match value.get_ref() {
            DeValue::Table(t) => Some(Table::new(cx, t, value.span(), name, known)),
            other => {
                cx.error(
                    value.span(),
                    format!("{what} must be a table, not {}", article(other)),
                );
                None
            }
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value<'i>> {
        self.entries
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(_, v)| *v)
    }

    fn key_span(&self, key: &str) -> Option<Range<usize>> {
        self.entries
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(k, _)| k.span())
    }

    fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Where a problem about the table as a whole points: its header, or its first key.
    fn anchor(&self) -> Range<usize> {
        self.span.clone()
    }

    fn require<T>(&self, cx: &mut Cx<'_>, key: &str, got: Option<T>) -> Option<T> {
        if got.is_none() && !self.has(key) {
            cx.error(
                self.anchor(),
                format!("`{key}` is required in {}", self.name),
            );
        }
        got
    }

    fn str(&self, cx: &mut Cx<'_>, key: &str) -> Option<(String, Range<usize>)> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::String(s) => Some((s.to_string(), cx.inner(value.span()))),
            other => {
                type_error(cx, key, "a string", other, value.span());
                None
            }
        }
    }

    fn bool(&self, cx: &mut Cx<'_>, key: &str) -> Option<(bool, Range<usize>)> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::Boolean(b) => Some((*b, value.span())),
            other => {
                type_error(cx, key, "true or false", other, value.span());
                None
            }
        }
    }

    fn int(&self, cx: &mut Cx<'_>, key: &str) -> Option<(i64, Range<usize>)> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Some((n, value.span())),
                Err(_) => {
                    cx.error(value.span(), format!("`{key}` is too large"));
                    None
                }
            },
            other => {
                type_error(cx, key, "an integer", other, value.span());
                None
            }
        }
    }

    /// An integer in `min..=max`.
    fn int_in(&self, cx: &mut Cx<'_>, key: &str, min: i64, max: i64) -> Option<i64> {
        let (n, span) = self.int(cx, key)?;
        if n < min {
            cx.error(span, format!("`{key}` must be at least {min}"));
            None
        } else if n > max {
            cx.error(span, format!("`{key}` must be at most {max}"));
            None
        } else {
            Some(n)
        }
    }

    fn str_list(&self, cx: &mut Cx<'_>, key: &str) -> Option<Vec<(String, Range<usize>)>> {
        let value = self.get(key)?;
        let DeValue::Array(items) = value.get_ref() else {
            type_error(
                cx,
                key,
                "an array of strings",
                value.get_ref(),
                value.span(),
            );
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push((s.to_string(), cx.inner(item.span()))),
                other => {
                    cx.error(
                        item.span(),
                        format!(
                            "`{key}` must be an array of strings, but holds {}",
                            article(other)
                        ),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn date(&self, cx: &mut Cx<'_>, key: &str) -> Option<jiff::civil::Date> {
        let value = self.get(key)?;
        let date = match value.get_ref() {
            DeValue::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
                (Some(d), None, None) => {
                    jiff::civil::Date::new(d.year as i16, d.month as i8, d.day as i8).ok()
                }
                _ => None,
            },
            DeValue::String(s) => {
                let shape = s.len() == 10
                    && s.bytes().enumerate().all(|(i, b)| {
                        if i == 4 || i == 7 {
                            b == b'-'
                        } else {
                            b.is_ascii_digit()
                        }
                    });
                if shape { s.parse().ok() } else { None }
            }
            _ => None,
        };
        if date.is_none() {
            cx.error(
                value.span(),
                format!("`{key}` must be a date such as 2026-11-01"),
            );
        }
        date
    }
}

fn article(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn type_error(cx: &mut Cx<'_>, key: &str, expected: &str, got: &DeValue<'_>, span: Range<usize>) {
    cx.error_help(
        span,
        format!("`{key}` must be {expected}"),
        format!("found {}", article(got)),
    );
}

/// A path (not a glob) that must start with `/`.
fn path(cx: &mut Cx<'_>, key: &str, (value, span): (String, Range<usize>)) -> Option<String> {
    if value.starts_with('/') {
        Some(value)
    } else {
        cx.error(span, format!("`{key}` must be a path starting with `/`"));
        None
    }
}

/// A list of globs; every bad one is reported. `None` if any was bad.
fn globs(cx: &mut Cx<'_>, key: &str, items: Vec<(String, Range<usize>)>) -> Option<Vec<Compiled>> {
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for (text, span) in items {
        match glob::compile(&text) {
            Ok(matcher) => out.push(Compiled { text, matcher }),
            Err(why) => {
                cx.error_help(span, format!("invalid glob in `{key}`"), why);
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

fn texts(globs: &[Compiled]) -> Vec<String> {
    globs.iter().map(|g| g.text.clone()).collect()
}

// ---------------------------------------------------------------------------------------------
// The document

const TOP: &[&str] = &["site", "session", "crawl", "identity", "data", "expect"];
const SITE: &[&str] = &[
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
const SESSION: &[&str] = &["login_path", "deny_markers"];
const CRAWL: &[&str] = &[
    "seeds",
    "scope",
    "exclude",
    "openapi",
    "max_depth",
    "max_requests",
    "concurrency",
    "rate_limit",
    "timeout_secs",
    "max_body_bytes",
    "error_budget_percent",
    "max_per_template",
];
const IDENTITY: &[&str] = &["name", "tier", "rank", "login"];
const LOGIN_METHODS: &[&str] = &["form", "bearer", "basic", "cookie", "headers"];
const LOGIN: &[&str] = &[
    "form", "fields", "bearer", "basic", "cookie", "headers", "verify",
];
const BASIC: &[&str] = &["user", "password"];
const VERIFY: &[&str] = &["path", "contains"];
const DATA_KINDS: &[&str] = &["json_keys", "builtin", "text", "env", "pattern"];
const DATA: &[&str] = &[
    "json_keys",
    "builtin",
    "text",
    "env",
    "pattern",
    "secret",
    "belongs_to",
];
const EXPECT: &[&str] = &["paths", "allow", "min_rank", "data", "visible_to"];
const TIERS: &[&str] = &["owner", "admin", "team", "company", "external"];
const AUDIENCES: &[&str] = &["draft", "team", "company", "external"];

fn scenario(cx: &mut Cx<'_>, doc: &DeTable<'_>, span: Range<usize>) -> Option<Scenario> {
    let top = Table::new(cx, doc, span, "the top level", Some(TOP));

    let site = match top.get("site") {
        Some(v) => Table::of(cx, v, "`site`", "[site]", Some(SITE)).and_then(|t| site(cx, &t)),
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
        Some(v) => {
            Table::of(cx, v, "`session`", "[session]", Some(SESSION)).map(|t| session(cx, &t))
        }
        None => Some(SessionConfig {
            login_path: "/login".to_string(),
            deny_markers: Vec::new(),
        }),
    };
    let crawl = match top.get("crawl") {
        Some(v) => Table::of(cx, v, "`crawl`", "[crawl]", Some(CRAWL)).map(|t| crawl(cx, &t)),
        None => Some(Crawl::default()),
    };

    // Names are collected even from entries with other problems, so that a rule naming them
    // is not reported as a second, misleading error.
    let mut names = Vec::new();
    let identities = match top.get("identity") {
        Some(v) => identities(cx, v, &mut names),
        None => {
            cx.error_help(
                0..0,
                "no [[identity]] declared",
                "declare at least one identity, e.g. [[identity]] name = \"anonymous\" tier = \"external\"",
            );
            Vec::new()
        }
    };

    let mut data_names = Vec::new();
    let data = match top.get("data") {
        Some(v) => data_classes(cx, v, &names, &mut data_names),
        None => Vec::new(),
    };

    let expects = match (top.get("expect"), &crawl) {
        (Some(v), Some(c)) => expectations(cx, v, &names, &data_names, c),
        (Some(v), None) => expectations(cx, v, &names, &data_names, &Crawl::default()),
        (None, _) => Vec::new(),
    };

    let (site, session, crawl) = (site?, session?, crawl?);
    Some(Scenario {
        file: cx.file.to_path_buf(),
        site,
        session,
        crawl: crawl.config,
        identities: identities.into_iter().map(|(i, _)| i).collect(),
        data,
        expects,
    })
}

fn site(cx: &mut Cx<'_>, t: &Table<'_, '_>) -> Option<Site> {
    let name = t.str(cx, "name");
    let name = t.require(cx, "name", name).and_then(|(name, span)| {
        let valid = !name.is_empty()
            && name != "."
            && name != ".."
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if valid {
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
    let base_url = t.require(cx, "base_url", base_url).and_then(|(raw, span)| {
        match Url::parse(&raw) {
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
                    "declare them in [identity.login] with a ${VAR} reference",
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
    });

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
    let public = t
        .str_list(cx, "public")
        .and_then(|v| globs(cx, "public", v))
        .map(|g| texts(&g));

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
        public: public.unwrap_or_default(),
    })
}

fn bad_choice(cx: &mut Cx<'_>, span: Range<usize>, key: &str, got: &str, choices: &[&str]) {
    let help = did_you_mean(got, choices)
        .unwrap_or_else(|| format!("expected one of: {}", choices.join(", ")));
    cx.error_help(span, format!("unknown {key} `{got}`"), help);
}

fn session(cx: &mut Cx<'_>, t: &Table<'_, '_>) -> SessionConfig {
    let login_path = t
        .str(cx, "login_path")
        .and_then(|v| path(cx, "login_path", v))
        .unwrap_or_else(|| "/login".to_string());
    let deny_markers = t
        .str_list(cx, "deny_markers")
        .map(|v| {
            v.into_iter()
                .filter_map(|(s, span)| {
                    if s.is_empty() {
                        cx.error(span, "an empty deny marker would match every page");
                        None
                    } else {
                        Some(s)
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    SessionConfig {
        login_path,
        deny_markers,
    }
}

/// The crawl settings plus the compiled globs the `[[expect]]` checks need.
struct Crawl {
    config: CrawlConfig,
    scope: Vec<Compiled>,
    exclude: Vec<Compiled>,
}

impl Default for Crawl {
    fn default() -> Self {
        let config = CrawlConfig::default();
        let compile = |globs: &[String]| {
            globs
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
        }
    }
}

fn crawl(cx: &mut Cx<'_>, t: &Table<'_, '_>) -> Crawl {
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
        // Unknown scope means no reachability check, not a wrong one.
        out.scope = globs(cx, "scope", scope).unwrap_or_default();
        c.scope = texts(&out.scope);
    }
    if let Some(exclude) = t.str_list(cx, "exclude") {
        out.exclude = globs(cx, "exclude", exclude).unwrap_or_default();
        c.exclude = texts(&out.exclude);
    }
    c.openapi = t.str(cx, "openapi").and_then(|v| path(cx, "openapi", v));
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
    out
}

/// Each element of an array of tables, or an error if `value` is something else.
fn array_of_tables<'a, 'i>(
    cx: &mut Cx<'_>,
    value: &'a Value<'i>,
    key: &str,
) -> Vec<(&'a DeTable<'i>, Range<usize>)> {
    let DeValue::Array(items) = value.get_ref() else {
        cx.error_help(
            value.span(),
            format!("`{key}` must be an array of tables"),
            format!("write each entry as [[{key}]]"),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items.iter() {
        match item.get_ref() {
            DeValue::Table(t) => out.push((t, item.span())),
            other => cx.error(
                item.span(),
                format!("each `{key}` entry must be a table, not {}", article(other)),
            ),
        }
    }
    out
}

/// Identities in file order, each with the span of its name.
fn identities(
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
                let first_line = super::diagnostic::line_column(cx.source, first.start).0;
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
        let label = name
            .as_ref()
            .map_or("identity", |(n, _)| n.as_str())
            .to_string();
        let login = t.get("login").and_then(|v| {
            let lt = Table::of(cx, v, "`login`", "[identity.login]", Some(LOGIN))?;
            login(cx, &lt, &label)
        });
        let login_ok = t.get("login").is_none() || login.is_some();
        if let (Some((name, span)), Some(tier), true) = (name, tier, login_ok) {
            out.push((
                Identity {
                    name,
                    tier,
                    rank: rank.unwrap_or_else(|| tier.default_rank()),
                    login,
                },
                span,
            ));
        }
    }
    out
}

fn login(cx: &mut Cx<'_>, t: &Table<'_, '_>, identity: &str) -> Option<Login> {
    let methods: Vec<&str> = t
        .entries
        .iter()
        .map(|(k, _)| k.get_ref().as_ref())
        .filter(|k| LOGIN_METHODS.contains(k))
        .collect();
    let Some(&method) = methods.first() else {
        cx.error_help(
            t.anchor(),
            "[identity.login] has no login method",
            "set exactly one of: form, bearer, basic, cookie, headers",
        );
        return None;
    };
    let mut ok = true;
    for extra in &methods[1..] {
        let span = t.key_span(extra).unwrap_or(t.anchor());
        cx.error_help(
            span,
            format!("`{extra}` conflicts with `{method}` in [identity.login]"),
            "a login has exactly one method",
        );
        ok = false;
    }
    if method != "form"
        && let Some(span) = t.key_span("fields")
    {
        cx.error(span, "`fields` only goes with `form`");
        ok = false;
    }

    let method =
        match method {
            "form" => form_login(cx, t, identity),
            "bearer" => credential(cx, t, "bearer", identity, true)
                .map(|v| LoginMethod::Bearer(Secret::new(v))),
            "cookie" => credential(cx, t, "cookie", identity, true)
                .map(|v| LoginMethod::Cookie(Secret::new(v))),
            "basic" => t
                .get("basic")
                .and_then(|v| Table::of(cx, v, "`basic`", "[identity.login] basic", Some(BASIC)))
                .and_then(|b| {
                    let user = credential(cx, &b, "user", identity, false);
                    let user = b.require(cx, "user", user);
                    let password = credential(cx, &b, "password", identity, true);
                    let password = b.require(cx, "password", password);
                    Some(LoginMethod::Basic {
                        user: user?,
                        password: Secret::new(password?),
                    })
                }),
            _ => t
                .get("headers")
                .and_then(|v| Table::of(cx, v, "`headers`", "[identity.login] headers", None))
                .and_then(|h| headers(cx, &h, identity)),
        };

    let verify = t.get("verify").and_then(|v| {
        let vt = Table::of(cx, v, "`verify`", "[identity.login] verify", Some(VERIFY))?;
        let path_value = vt.str(cx, "path");
        let path = vt
            .require(cx, "path", path_value)
            .and_then(|p| path(cx, "verify.path", p));
        let contains = vt.str(cx, "contains").map(|(s, _)| s);
        Some(Verify {
            path: path?,
            contains,
        })
    });
    if t.has("verify") && verify.is_none() {
        ok = false;
    }
    ok.then_some(Login {
        method: method?,
        verify,
    })
}

fn form_login(cx: &mut Cx<'_>, t: &Table<'_, '_>, identity: &str) -> Option<LoginMethod> {
    let form = t.str(cx, "form").and_then(|v| path(cx, "form", v));
    let Some(fields_value) = t.get("fields") else {
        cx.error_help(
            t.key_span("form").unwrap_or(t.anchor()),
            "`form` needs a `fields` table",
            "e.g. fields = { username = \"carol\", password = \"${CAROL_PASSWORD}\" }",
        );
        return None;
    };
    let DeValue::Table(table) = fields_value.get_ref() else {
        type_error(
            cx,
            "fields",
            "a table",
            fields_value.get_ref(),
            fields_value.span(),
        );
        return None;
    };
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    if entries.is_empty() {
        cx.error(fields_value.span(), "`fields` must not be empty");
        return None;
    }
    let mut fields = Vec::with_capacity(entries.len());
    let mut ok = true;
    for (key, value) in entries {
        let name: &str = key.get_ref();
        match resolve(cx, name, value, identity, is_secret_name(name)) {
            Some(v) => fields.push((name.to_string(), Secret::new(v))),
            None => ok = false,
        }
    }
    let form = form?;
    ok.then_some(LoginMethod::Form { form, fields })
}

fn headers(cx: &mut Cx<'_>, t: &Table<'_, '_>, identity: &str) -> Option<LoginMethod> {
    let mut out = Vec::with_capacity(t.entries.len());
    let mut ok = true;
    if t.entries.is_empty() {
        cx.error(t.anchor(), "`headers` must not be empty");
        return None;
    }
    for (key, value) in &t.entries {
        let name: &str = key.get_ref();
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !valid {
            cx.error(key.span(), format!("`{name}` is not a valid header name"));
            ok = false;
        }
        match resolve(cx, name, value, identity, true) {
            Some(v) => out.push((name.to_string(), Secret::new(v))),
            None => ok = false,
        }
    }
    ok.then_some(LoginMethod::Headers(out))
}

fn credential(
    cx: &mut Cx<'_>,
    t: &Table<'_, '_>,
    key: &str,
    identity: &str,
    secret: bool,
) -> Option<String> {
    let value = t.get(key)?;
    resolve(cx, key, value, identity, secret)
}

/// A credential value with its `${VAR}` references substituted. Never puts a value in a message.
fn resolve(
    cx: &mut Cx<'_>,
    key: &str,
    value: &Value<'_>,
    identity: &str,
    secret: bool,
) -> Option<String> {
    let DeValue::String(s) = value.get_ref() else {
        type_error(cx, key, "a string", value.get_ref(), value.span());
        return None;
    };
    let inner = cx.inner(value.span());
    // Point at the reference itself when the source text is the value verbatim (no escapes).
    let exact = cx.source.get(inner.clone()) == Some(s.as_ref());
    let at = |r: &Range<usize>| {
        if exact {
            inner.start + r.start..inner.start + r.end
        } else {
            inner.clone()
        }
    };
    let refs = match env::references(s) {
        Ok(refs) => refs,
        Err(m) => {
            if secret {
                cx.masks.push(value.span());
            }
            cx.error_help(
                if secret { value.span() } else { at(&m.range) },
                format!("malformed variable reference in `{key}`"),
                "write ${NAME} with NAME made of letters, digits and `_`",
            );
            return None;
        }
    };
    if refs.is_empty() && secret {
        cx.masks.push(value.span());
        let var: String = format!("{identity}_{key}")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        cx.error_help(
            value.span(),
            format!("`{key}` of identity `{identity}` is a literal secret"),
            format!("read it from the environment: {key} = \"${{{var}}}\""),
        );
        return None;
    }
    match env::substitute(s, &refs, cx.env) {
        Ok(v) => {
            if secret && v.is_empty() {
                cx.error(
                    inner,
                    format!("`{key}` of identity `{identity}` resolves to an empty value"),
                );
                return None;
            }
            Some(v)
        }
        Err(unset) => {
            for r in unset {
                cx.error(
                    at(&r.range),
                    format!("environment variable `{}` is not set", r.name),
                );
            }
            None
        }
    }
}

fn data_classes(
    cx: &mut Cx<'_>,
    value: &Value<'_>,
    identities: &[String],
    names: &mut Vec<String>,
) -> Vec<DataClass> {
    let Some(all) = Table::of(cx, value, "`data`", "[data]", None) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, v) in &all.entries {
        let name: &str = key.get_ref();
        names.push(name.to_string());
        let label = format!("[data.{name}]");
        let Some(t) = Table::of(cx, v, &format!("`data.{name}`"), &label, Some(DATA)) else {
            continue;
        };
        let kinds: Vec<&str> = t
            .entries
            .iter()
            .map(|(k, _)| k.get_ref().as_ref())
            .filter(|k| DATA_KINDS.contains(k))
            .collect();
        let Some(&kind) = kinds.first() else {
            cx.error_help(
                t.anchor(),
                format!("{label} has no detector"),
                "set exactly one of: json_keys, builtin, text, env, pattern",
            );
            continue;
        };
        let mut ok = true;
        for extra in &kinds[1..] {
            cx.error_help(
                t.key_span(extra).unwrap_or(t.anchor()),
                format!("`{extra}` conflicts with `{kind}` in {label}"),
                "a data class has exactly one detector",
            );
            ok = false;
        }
        let kind = match kind {
            "json_keys" => t.str_list(cx, "json_keys").and_then(|keys| {
                let span = t.get("json_keys").map_or(t.anchor(), |v| v.span());
                if keys.is_empty() {
                    cx.error(span, "`json_keys` must not be empty");
                    return None;
                }
                if let Some((_, s)) = keys.iter().find(|(k, _)| k.is_empty()) {
                    cx.error(s.clone(), "`json_keys` must not hold an empty key");
                    return None;
                }
                Some(DataKind::JsonKeys(
                    keys.into_iter().map(|(k, _)| k).collect(),
                ))
            }),
            "builtin" => t.str(cx, "builtin").and_then(|(b, span)| {
                let parsed = Builtin::parse(&b);
                if parsed.is_none() {
                    let builtins: Vec<&str> = Builtin::ALL.iter().map(|b| b.as_str()).collect();
                    bad_choice(cx, span, "builtin", &b, &builtins);
                }
                parsed.map(DataKind::Builtin)
            }),
            "text" => t.str(cx, "text").and_then(|(text, span)| {
                if text.is_empty() {
                    cx.error(span, "`text` must not be empty");
                    None
                } else {
                    Some(DataKind::Text(text))
                }
            }),
            "pattern" => t
                .str(cx, "pattern")
                .and_then(|(pattern, span)| user_regex(cx, &pattern, span))
                .map(|regex| DataKind::Pattern {
                    regex,
                    secret: false,
                }),
            _ => t.str(cx, "env").and_then(|(var, span)| {
                if !env::is_var_name(&var) {
                    cx.error_help(
                        span,
                        "`env` must be a variable name",
                        "e.g. env = \"DB_PASSWORD\"",
                    );
                    return None;
                }
                match (cx.env)(&var) {
                    None => {
                        cx.error(span, format!("environment variable `{var}` is not set"));
                        None
                    }
                    Some(value) if value.chars().count() < 8 => {
                        cx.error_help(
                            span,
                            format!("the value of `{var}` is shorter than 8 characters"),
                            "a value that short would match almost any response",
                        );
                        None
                    }
                    Some(value) => Some(DataKind::Env {
                        var,
                        value: Secret::new(value),
                    }),
                }
            }),
        };
        let belongs_to = t.str(cx, "belongs_to").and_then(|(owner, span)| {
            if !t.has("text") {
                cx.error(
                    t.key_span("belongs_to").unwrap_or(span),
                    "`belongs_to` only goes with `text`",
                );
                ok = false;
                return None;
            }
            if identities.contains(&owner) {
                Some(owner)
            } else {
                let help = suggest(&owner, identities.iter().map(String::as_str))
                    .map(|k| format!("did you mean `{k}`?"))
                    .unwrap_or_else(|| "`belongs_to` names a declared [[identity]]".to_string());
                cx.error_help(span, format!("unknown identity `{owner}`"), help);
                ok = false;
                None
            }
        });
        if t.has("belongs_to") && belongs_to.is_none() {
            ok = false;
        }
        let secret = t.bool(cx, "secret");
        let kind = match (kind, secret) {
            (Some(DataKind::Pattern { regex, .. }), Some((secret, _))) => {
                Some(DataKind::Pattern { regex, secret })
            }
            (kind, Some((_, span))) if !t.has("pattern") => {
                cx.error_help(
                    span,
                    "`secret` only goes with `pattern`",
                    "builtins know whether they are secret; `env` values always are",
                );
                ok = false;
                kind
            }
            (kind, None) if t.has("secret") => {
                ok = false;
                kind
            }
            (kind, _) => kind,
        };
        if let (Some(kind), true) = (kind, ok) {
            out.push(DataClass {
                name: name.to_string(),
                kind,
                belongs_to,
                location: cx.location(t.span.start),
            });
        }
    }
    out
}

/// How much memory one user pattern may compile to. The `regex` crate matches in linear time
/// whatever the pattern, so a hostile pattern cannot hang a run; this cap keeps one (`\w{1000}`
/// repeated, say) from taking memory instead.
pub(crate) const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// Compiles a user's `pattern`, reporting a syntax error at the character it names when the
/// source holds the pattern verbatim (a literal string, or a basic string without escapes).
fn user_regex(cx: &mut Cx<'_>, pattern: &str, span: Range<usize>) -> Option<regex::Regex> {
    if pattern.is_empty() {
        cx.error(span, "`pattern` must not be empty");
        return None;
    }
    let error = match regex::RegexBuilder::new(pattern)
        .size_limit(PATTERN_SIZE_LIMIT)
        .build()
    {
        Ok(regex) if regex.is_match("") => {
            cx.error_help(
                span,
                "`pattern` matches the empty string",
                "it would match every response; require at least one character",
            );
            return None;
        }
        Ok(regex) => return Some(regex),
        Err(error) => error,
    };
    let (message, help, at) = match &error {
        regex::Error::CompiledTooBig(limit) => (
            "`pattern` is too large".to_string(),
            format!("it compiles to more than {limit} bytes; simplify it"),
            None,
        ),
        other => {
            let (why, offset) = regex_syntax_error(&other.to_string());
            (
                "invalid regular expression in `pattern`".to_string(),
                why,
                offset,
            )
        }
    };
    let verbatim = cx.source.get(span.clone()) == Some(pattern);
    let span = match at {
        // Point at the offending character: a span within the pattern, in bytes.
        Some(offset) if verbatim => {
            let start = span.start + pattern.char_indices().nth(offset).map_or(0, |(i, _)| i);
            let len = pattern[start - span.start..]
                .chars()
                .next()
                .map_or(0, char::len_utf8);
            start..start + len
        }
        _ => span,
    };
    cx.error_help(span, message, help);
    None
}

/// The reason and the character offset (if shown) in the `regex` crate's rendered syntax
/// error, which quotes the pattern on one line and puts a caret under the fault on the next.
fn regex_syntax_error(rendered: &str) -> (String, Option<usize>) {
    let lines: Vec<&str> = rendered.lines().collect();
    let why = lines
        .iter()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or("the regex crate rejects it")
        .to_string();
    // Line 0 is a heading, line 1 the quoted pattern, line 2 the caret; multi-line patterns
    // are rendered differently, and then no offset is claimed.
    let offset = match (lines.get(1), lines.get(2)) {
        (Some(quoted), Some(carets)) if carets.trim_start().starts_with('^') => {
            let margin = quoted.len() - quoted.trim_start().len();
            let caret = carets.find('^').unwrap_or(0);
            carets[..caret].chars().count().checked_sub(margin)
        }
        _ => None,
    };
    (why, offset)
}

fn expectations(
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
        let is_data = t.has("data") || t.has("visible_to");
        let is_access = t.has("allow") || t.has("min_rank");
        let mut ok = true;

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
                "write an access rule (paths + allow and/or min_rank) or a data rule (data + visible_to)",
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
                        texts(&compiled)
                    }
                    None => {
                        ok = false;
                        Vec::new()
                    }
                }
            }
            None => {
                if t.has("paths") {
                    ok = false;
                }
                Vec::new()
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
                paths,
                rule,
            });
        }
    }
    out
}

/// Reports an `[[expect]]` glob that no crawled path could ever match.
fn reachable(cx: &mut Cx<'_>, g: &Compiled, span: Range<usize>, crawl: &Crawl) {
    if !crawl.scope.is_empty() && !glob::may_be_in_scope(g, &crawl.scope) {
        cx.error_help(
            span,
            "this [[expect]] path can never match: it is outside [crawl] scope",
            format!("scope is {}", crawl.config.scope.join(", ")),
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
