//! Discovery: every URL and action a response reveals. HTML (links, frames, scripts, meta
//! refresh, forms), the Site's own JavaScript (parsed: the calls it makes with their
//! methods, its URL constants, route tables and literals, see `js.rs`; a lexer over its
//! string literals when it cannot be parsed) and the sources its source maps hold. API
//! descriptions are read in `openapi.rs`, robots.txt and sitemaps in `sitemap.rs`. Results
//! are absolute URLs; the frontier decides what is in scope.

use oxc_span::SourceType;
use scraper::Html;
use url::Url;

use crate::markup;

// A child of this module: it shares the path filter and `Discovery` with the lexer it
// stands in front of.
#[path = "js.rs"]
mod js;

pub use js::{MAX_NESTING, MAX_PARSE_BYTES};

/// A write-capable endpoint an identity can see. Recorded, never sent.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Action {
    pub method: String,
    pub url: String,
    /// form | openapi | js
    pub source: String,
    pub fields: Vec<String>,
}

/// Where a request was found: its provenance in the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// `[crawl] seeds` (and the start page).
    Seed,
    /// A link, frame, script, image or meta refresh in an HTML page.
    Html,
    /// The Site's own JavaScript (a script file or an inline script).
    Js,
    /// A request a rendered page made, or a link in its rendered DOM (`--browser`).
    Browser,
    /// An OpenAPI or Swagger document.
    Openapi,
    /// A sitemap, or a `Sitemap:` line of `robots.txt`.
    Sitemap,
    /// A path an `Allow` or `Disallow` line of `robots.txt` names.
    Robots,
    /// A generated GraphQL query.
    Graphql,
    /// A redirect's `Location` or a `Link` header.
    Redirect,
    /// A `{param}` hole filled with an id a listing showed.
    Hole,
    /// The same API path without the field selector an app narrowed it with.
    Unnarrowed,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Seed => "seed",
            Via::Html => "html",
            Via::Js => "js",
            Via::Browser => "browser",
            Via::Openapi => "openapi",
            Via::Sitemap => "sitemap",
            Via::Robots => "robots",
            Via::Graphql => "graphql",
            Via::Redirect => "redirect",
            Via::Hole => "hole",
            Via::Unnarrowed => "unnarrowed",
        }
    }
}

#[derive(Debug, Default)]
pub struct Discovery {
    /// Each URL found, with where it was found.
    pub links: Vec<(Url, Via)>,
    pub actions: Vec<Action>,
    /// Paths with holes that no value filled (`/api/employees/{param}`).
    pub templates: Vec<String>,
    /// Route templates the Site declares (OpenAPI paths): how its URLs are shaped.
    pub routes: Vec<String>,
    /// The ids a JSON listing showed, to fill holes with (see `holes.rs`).
    pub ids: super::holes::IdIndex,
    /// API servers an OpenAPI document names on other origins: never sent anything.
    pub offsite_servers: Vec<String>,
}

/// What an HTML page links to.
pub fn html(body: &str, page: &Url) -> Discovery {
    let document = Html::parse_document(crate::markup::bounded(body));
    let mut found = Discovery::default();
    let base = document
        .select(&markup::selector("base[href]"))
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| page.join(href).ok())
        .unwrap_or_else(|| page.clone());
    let attrs = [
        ("a[href]", "href"),
        ("area[href]", "href"),
        ("link[href]", "href"),
        ("iframe[src]", "src"),
        ("frame[src]", "src"),
        ("script[src]", "src"),
        ("img[src]", "src"),
    ];
    for (css, attr) in attrs {
        for element in document.select(&markup::selector(css)) {
            if let Some(value) = element.value().attr(attr)
                && let Some(url) = join(&base, value)
            {
                found.links.push((url, Via::Html));
            }
        }
    }
    for meta in document.select(&markup::selector("meta[http-equiv]")) {
        let refresh = meta
            .value()
            .attr("http-equiv")
            .is_some_and(|v| v.eq_ignore_ascii_case("refresh"));
        if let (true, Some(content)) = (refresh, meta.value().attr("content"))
            && let Some(pos) = content.to_ascii_lowercase().find("url=")
            && let Some(url) = join(&base, content[pos + 4..].trim_matches(['\'', '"', ' ']))
        {
            found.links.push((url, Via::Html));
        }
    }
    let fields = markup::selector("input[name], select[name], textarea[name], button[name]");
    let controls = markup::selector("input, button");
    for form in document.select(&markup::selector("form")) {
        if !submittable(&form, &controls) {
            // Nothing a person can press or type Enter in: not an action they are offered
            // (Django's admin renders a view-only record as a POST form with a CSRF field
            // and no button).
            continue;
        }
        let action = form
            .value()
            .attr("action")
            .filter(|a| !a.trim().is_empty())
            .and_then(|a| join(&base, a))
            .unwrap_or_else(|| page.clone());
        let method = form
            .value()
            .attr("method")
            .unwrap_or("get")
            .to_ascii_uppercase();
        let mut names: Vec<String> = form
            .select(&fields)
            .filter_map(|f| f.value().attr("name").map(str::to_string))
            .collect();
        names.sort();
        names.dedup();
        let mut action_url = action;
        action_url.set_query(None);
        found.actions.push(Action {
            method,
            url: action_url.to_string(),
            source: "form".to_string(),
            fields: names,
        });
    }
    // Inline scripts are the Site's own JavaScript too.
    for script in document.select(&markup::selector("script:not([src])")) {
        let code: String = script.text().collect();
        let more = javascript(&code, page);
        found.links.extend(more.links);
        found.templates.extend(more.templates);
        found.actions.extend(more.actions);
    }
    found
}

/// Whether a person can submit the form: it has a submit button (a `<button>` without a
/// type or of type submit, an `<input type=submit|image>`), or, as HTML's implicit
/// submission allows, exactly one text-like field to press Enter in.
fn submittable(form: &scraper::ElementRef<'_>, controls: &scraper::Selector) -> bool {
    let mut text_fields = 0;
    for control in form.select(controls) {
        let element = control.value();
        let kind = element
            .attr("type")
            .map(|t| t.trim().to_ascii_lowercase())
            .unwrap_or_default();
        match (element.name(), kind.as_str()) {
            ("button", "" | "submit") | ("input", "submit" | "image") => return true,
            (
                "input",
                "" | "text" | "search" | "url" | "tel" | "email" | "password" | "date" | "month"
                | "week" | "time" | "datetime-local" | "number",
            ) => text_fields += 1,
            _ => {}
        }
    }
    text_fields == 1
}

fn join(base: &Url, reference: &str) -> Option<Url> {
    let reference = reference.trim();
    if reference.is_empty() || reference.starts_with('#') {
        return None;
    }
    let url = base.join(reference).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// The requests a script makes (see `js.rs`), and its source map when it names one on this
/// Site.
pub fn javascript(code: &str, page: &Url) -> Discovery {
    // Served scripts are compiled: no JSX, and either a classic script or a module.
    script(code, page, SourceType::unambiguous())
}

fn script(code: &str, page: &Url, source_type: SourceType) -> Discovery {
    let mut found = js::discover(code, page, source_type).unwrap_or_else(|| literals(code, page));
    if let Some(map) = source_map_link(code, page) {
        found.links.push((map, Via::Js));
    }
    found
}

/// The `//# sourceMappingURL=` a script ends with, when it is on the script's own origin.
/// An inline `data:` map is not read: it repeats what the script says, and decoding one
/// per script would cost more than the script.
fn source_map_link(code: &str, page: &Url) -> Option<Url> {
    let tail = code.trim_end();
    let last = tail.rsplit('\n').next()?.trim();
    let reference = last
        .strip_prefix("//# sourceMappingURL=")
        .or_else(|| last.strip_prefix("//@ sourceMappingURL="))?
        .trim();
    if reference.is_empty() || reference.starts_with("data:") || reference.len() > 2048 {
        return None;
    }
    let url = join(page, reference)?;
    (url.origin() == page.origin()).then_some(url)
}

/// Whether a response is a source map: a `.map` path or JSON with `mappings` and
/// `sourcesContent`, an object either way.
pub fn is_source_map(path: &str, content_type: &str, body: &str) -> bool {
    let object = body.trim_start().starts_with('{');
    let shaped = body.contains("\"mappings\"");
    object
        && shaped
        && (path.ends_with(".map")
            || (content_type.contains("json") && body.contains("\"sourcesContent\"")))
}

/// The requests the original sources in a source map make: each `sourcesContent` entry is
/// read as `javascript` reads a script (TypeScript and JSX by the source's extension).
/// Entries over `MAX_PARSE_BYTES` and third-party code (`node_modules/`, the bundler's
/// runtime) are skipped: they are not the Site's, and their strings are not its paths.
pub fn source_map(body: &str, page: &Url) -> Discovery {
    let mut found = Discovery::default();
    let Ok(map) = serde_json::from_str::<serde_json::Value>(body) else {
        return found;
    };
    let Some(contents) = map.get("sourcesContent").and_then(|c| c.as_array()) else {
        return found;
    };
    let sources = map.get("sources").and_then(|s| s.as_array());
    for (i, content) in contents.iter().enumerate() {
        let Some(code) = content.as_str() else {
            continue;
        };
        let name = sources
            .and_then(|s| s.get(i))
            .and_then(|s| s.as_str())
            .unwrap_or("");
        if name.contains("node_modules/")
            || name.starts_with("webpack/")
            || name.contains("/webpack/")
        {
            continue;
        }
        if code.len() > MAX_PARSE_BYTES {
            tracing::info!(
                map = %page,
                source = name,
                bytes = code.len(),
                "source map entry over {} MiB skipped",
                MAX_PARSE_BYTES >> 20
            );
            continue;
        }
        let source_type = match name.rsplit_once('.').map(|(_, ext)| ext) {
            Some("ts" | "mts" | "cts") => SourceType::ts(),
            Some("tsx") => SourceType::tsx(),
            // React sources are `.js` as often as `.jsx`.
            _ => SourceType::unambiguous().with_jsx(true),
        };
        let more = script(code, page, source_type);
        found.links.extend(more.links);
        found.actions.extend(more.actions);
        found.templates.extend(more.templates);
    }
    found
}

/// URLs in JavaScript source the lexer reads (a script that cannot be parsed): string and
/// template literals that look like same-Site paths.
fn literals(code: &str, page: &Url) -> Discovery {
    let mut found = Discovery::default();
    for literal in string_literals(code) {
        let Some(path) = path_like(&literal) else {
            continue;
        };
        if path.contains('{') {
            found.templates.push(path);
        } else if let Some(url) = join(page, &path) {
            found.links.push((url, Via::Js));
        }
    }
    found
}

/// Whether a literal looks like a path on this Site (or an absolute http URL); template holes
/// (`${id}`) become `{param}`.
fn path_like(literal: &str) -> Option<String> {
    let is_absolute = literal.starts_with("http://") || literal.starts_with("https://");
    if !(literal.starts_with('/') || is_absolute) || literal.starts_with("//") {
        return None;
    }
    if literal.len() < 2 || literal.len() > 2048 {
        return None;
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "/-._~%?=&+:,;@!$'()*{}".contains(c);
    if !literal.chars().all(allowed) {
        return None;
    }
    // A path has a letter in it; `/` alone or `/2026/01` are more likely arithmetic or dates.
    if !is_absolute && !literal[1..].chars().any(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    Some(literal.to_string())
}

/// The contents of string and template literals, with `${...}` holes replaced by `{param}`.
/// Skips comments and regex literals, which is what a regex over the text gets wrong.
fn string_literals(code: &str) -> Vec<String> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    // Whether a `/` here starts a regex literal (after an operator) or is division.
    let mut regex_allowed = true;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                    i += 1;
                }
                i += 2;
            }
            '/' if regex_allowed => {
                i += 1;
                let mut in_class = false;
                while i < chars.len() && chars[i] != '\n' {
                    match chars[i] {
                        '\\' => i += 1,
                        '[' => in_class = true,
                        ']' => in_class = false,
                        '/' if !in_class => break,
                        _ => {}
                    }
                    i += 1;
                }
                i += 1;
                regex_allowed = false;
            }
            '"' | '\'' => {
                let quote = c;
                let mut text = String::new();
                i += 1;
                while i < chars.len() && chars[i] != quote && chars[i] != '\n' {
                    if chars[i] == '\\' {
                        i += 1;
                        if let Some(&escaped) = chars.get(i) {
                            text.push(escaped);
                        }
                    } else {
                        text.push(chars[i]);
                    }
                    i += 1;
                }
                i += 1;
                out.push(text);
                regex_allowed = false;
            }
            '`' => {
                let mut text = String::new();
                i += 1;
                while i < chars.len() && chars[i] != '`' {
                    match chars[i] {
                        '\\' => {
                            i += 1;
                            if let Some(&escaped) = chars.get(i) {
                                text.push(escaped);
                            }
                        }
                        '$' if chars.get(i + 1) == Some(&'{') => {
                            let mut depth = 0;
                            while i < chars.len() {
                                match chars[i] {
                                    '{' => depth += 1,
                                    '}' => {
                                        depth -= 1;
                                        if depth == 0 {
                                            break;
                                        }
                                    }
                                    _ => {}
                                }
                                i += 1;
                            }
                            text.push_str("{param}");
                        }
                        other => text.push(other),
                    }
                    i += 1;
                }
                i += 1;
                out.push(text);
                regex_allowed = false;
            }
            c if c.is_whitespace() => i += 1,
            c if c.is_alphanumeric() || c == '_' || c == '$' || c == ')' || c == ']' => {
                // After a value, `/` divides; keywords like `return` still allow a regex.
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
                {
                    i += 1;
                }
                if i == start {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                regex_allowed = matches!(
                    word.as_str(),
                    "return"
                        | "typeof"
                        | "case"
                        | "do"
                        | "else"
                        | "in"
                        | "of"
                        | "new"
                        | "delete"
                        | "void"
                        | "throw"
                        | "yield"
                        | "await"
                );
            }
            _ => {
                regex_allowed = true;
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("http://site.test/app/page").unwrap()
    }

    fn paths(d: &Discovery) -> Vec<String> {
        d.links.iter().map(|(u, _)| u.path().to_string()).collect()
    }

    #[test]
    fn html_links_scripts_frames_and_refresh_are_found() {
        let body = r##"<html><head><script src="/static/app.js"></script>
            <meta http-equiv="refresh" content="5; url=/next"></head>
            <body><a href="/a">a</a><a href="rel">r</a><a href="#x">frag</a>
            <a href="mailto:x@y">m</a><iframe src="/frame"></iframe>
            <form method="post" action="/save"><input name="title"><input type="hidden" name="csrf"></form>
            <script>fetch("/api/inline")</script></body></html>"##;
        let found = html(body, &page());
        assert_eq!(
            paths(&found),
            vec![
                "/a",
                "/app/rel",
                "/frame",
                "/static/app.js",
                "/next",
                "/api/inline"
            ]
        );
        assert_eq!(found.actions.len(), 1);
        assert_eq!(found.actions[0].method, "POST");
        assert_eq!(found.actions[0].fields, vec!["csrf", "title"]);
    }

    #[test]
    fn only_forms_a_person_can_submit_are_actions() {
        let body = r##"<html><body>
            <form method="post" action="/view-only"><input type="hidden" name="csrfmiddlewaretoken">
              <div class="readonly">Ann Lee</div><button type="button">Close</button></form>
            <form method="post" action="/two-fields"><input name="a"><input name="b" type="email"></form>
            <form method="post" action="/button"><input name="a"><input name="b"><button>Save</button></form>
            <form method="post" action="/input-submit"><input type="hidden" name="t"><input type="submit" value="Delete"></form>
            <form method="post" action="/enter"><input type="hidden" name="t"><input type="search" name="q"></form>
            </body></html>"##;
        let found = html(body, &page());
        let urls: Vec<&str> = found.actions.iter().map(|a| a.url.as_str()).collect();
        assert_eq!(
            urls,
            vec![
                "http://site.test/button",
                "http://site.test/input-submit",
                "http://site.test/enter"
            ],
            "a view-only record and a form with nothing to press are not offered"
        );
    }

    #[test]
    fn broken_html_still_yields_its_links() {
        let found = html("<div><<a href='/healthz'>x<p><table></div", &page());
        assert_eq!(paths(&found), vec!["/healthz"]);
    }

    #[test]
    fn a_script_that_does_not_parse_still_yields_its_literals() {
        // A syntax error the parser cannot recover from: the lexer reads the literals.
        let code = r#"fetch("/api/broken"); function ( { const x = `/api/t/${id}`"#;
        let found = javascript(code, &page());
        assert_eq!(paths(&found), ["/api/broken"]);
        assert_eq!(found.templates, ["/api/t/{param}"]);
        // Parsed, the same call with a write method is an action, not a GET link.
        let found = javascript(r#"fetch("/api/broken", {method: "POST"})"#, &page());
        assert!(found.links.is_empty());
        assert_eq!(found.actions.len(), 1);
        assert_eq!(found.actions[0].url, "http://site.test/api/broken");
    }

    #[test]
    fn a_script_links_its_source_map_on_its_own_origin_only() {
        let script = Url::parse("http://site.test/static/app.js").unwrap();
        let maps = |code: &str| -> Vec<String> {
            javascript(code, &script)
                .links
                .iter()
                .filter(|(u, _)| u.path().ends_with(".map"))
                .map(|(u, via)| {
                    assert_eq!(*via, Via::Js);
                    u.to_string()
                })
                .collect()
        };
        assert_eq!(
            maps("var a=1;\n//# sourceMappingURL=app.js.map\n"),
            ["http://site.test/static/app.js.map"]
        );
        assert_eq!(
            maps("var a=1;\n//@ sourceMappingURL=/maps/app.js.map"),
            ["http://site.test/maps/app.js.map"]
        );
        // Another origin, an inline map, or a mention that is not the script's last line.
        assert!(maps("var a=1;\n//# sourceMappingURL=https://cdn.example/app.js.map").is_empty());
        assert!(
            maps("var a=1;\n//# sourceMappingURL=data:application/json;base64,e30=").is_empty()
        );
        assert!(maps("//# sourceMappingURL=app.js.map\nvar a=1;").is_empty());
    }

    #[test]
    fn a_source_maps_own_sources_are_parsed_and_third_party_code_is_not() {
        let map = serde_json::json!({
            "version": 3,
            "sources": [
                "webpack://app/./src/api/teams.ts",
                "webpack://app/./src/views/Reports.jsx",
                "webpack://app/./node_modules/axios/lib/core/Axios.js",
                "webpack://app/webpack/bootstrap",
            ],
            "sourcesContent": [
                "const API: string = '/api/v1';\nexport const members = (team: number) => fetch(`${API}/teams/${team}/members`);\nexport const rename = (team: number, name: string) => fetch(`${API}/teams/${team}`, {method: 'PATCH', body: JSON.stringify({name})});",
                "export default () => <a href=\"/reports/annual\">Annual</a>;",
                "fetch('/from/a/library')",
                "var x = '/from/the/runtime'",
            ],
            "mappings": "AAAA",
        })
        .to_string();
        let url = Url::parse("http://site.test/static/app.js.map").unwrap();
        assert!(is_source_map(url.path(), "application/json", &map));
        assert!(is_source_map("/x", "application/json; charset=utf-8", &map));
        assert!(!is_source_map(
            "/api/x",
            "application/json",
            r#"{"mappings": 1}"#
        ));
        assert!(!is_source_map("/geo.map", "text/plain", "not json"));
        let found = source_map(&map, &url);
        assert_eq!(paths(&found), ["/api/v1", "/reports/annual"]);
        assert_eq!(found.templates, ["/api/v1/teams/{param}/members"]);
        assert_eq!(found.actions.len(), 1);
        assert_eq!(found.actions[0].method, "PATCH");
        assert_eq!(found.actions[0].fields, ["name"]);
        assert_eq!(
            found.actions[0].url,
            "http://site.test/api/v1/teams/%7Bparam%7D"
        );
    }

    #[test]
    fn javascript_paths_come_from_literals_not_comments_or_regexes() {
        let code = r#"
            // fetch("/commented/out")
            /* "/also/commented" */
            const re = /\/not\/a\/path/g;
            const ratio = a / b / c;
            fetch("/api/me"); axios.get('/api/team/metrics');
            fetch(`/api/employees/${id}`);
            const t = "application/json", d = "2026-01-01", slash = "/", date = "/2026/01";
            const abs = "http://site.test/api/abs";
        "#;
        let found = javascript(code, &page());
        assert_eq!(
            paths(&found),
            vec!["/api/me", "/api/team/metrics", "/api/abs"]
        );
        assert_eq!(found.templates, vec!["/api/employees/{param}"]);
    }
}
