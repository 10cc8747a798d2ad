//! What the crawler may send: the Site's origin, the scenario's scope and exclude globs, and
//! a built-in refusal of anything that looks destructive. Also URL normalization and templates.
//!
//! Input: the scenario (its origin, login path and the [`PathGlobs`]s it compiled at parse time)
//! and a URL. Output: an [`Admission`]: crawl it, skip it with a reason, or leave it as off
//! the Site. Invariants: nothing off the origin and nothing that looks destructive is ever
//! admitted; the globs are the scenario's own sets, never compiled again here.

use url::{Origin, Url};

/// The scenario's lenient glob compiler, where the judge still calls it; new code reads the
/// model's [`PathGlobs`]s.
use crate::scenario::{PathGlobs, QueryParams, Scenario};

/// Words that make a link unsafe to follow with GET: Sites written in a hurry put logout and
/// delete behind plain links. Matched against whole path or query tokens, case-insensitively.
pub const DESTRUCTIVE_WORDS: &[&str] = &[
    "logout",
    "log-out",
    "log_out",
    "signout",
    "sign-out",
    "sign_out",
    "logoff",
    "delete",
    "remove",
    "destroy",
    "revoke",
    "purge",
    "drop",
    "erase",
    "wipe",
    "truncate",
    "deactivate",
    "disable",
    "unsubscribe",
    "terminate",
    "kill",
    "reset",
    "cancel",
    "shutdown",
    "restart",
    "approve",
    "reject",
];

/// Whether a URL found while crawling is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Send it.
    Crawl,
    /// Not the Site's origin (or not http): never sent, never listed.
    Offsite,
    /// On the Site but not sent, with the reason; listed as `skipped`.
    Skip(String),
}

#[derive(Debug)]
pub struct Scope {
    origin: Origin,
    login_path: String,
    scope: PathGlobs,
    exclude: PathGlobs,
}

impl Scope {
    pub fn new(scenario: &Scenario) -> Scope {
        Scope {
            origin: scenario.site.base_url.origin(),
            login_path: scenario.session.login_path.clone(),
            scope: scenario.crawl.scope.clone(),
            exclude: scenario.crawl.exclude.clone(),
        }
    }

    pub fn check(&self, url: &Url) -> Admission {
        if !matches!(url.scheme(), "http" | "https") || url.origin() != self.origin {
            return Admission::Offsite;
        }
        let path = url.path();
        if path == self.login_path {
            return Admission::Skip("the login page".to_string());
        }
        if let Some(word) = destructive_word(url) {
            return Admission::Skip(format!("unsafe: looks destructive (`{word}`)"));
        }
        if let Some(which) = self.exclude.first_match(path) {
            return Admission::Skip(format!("excluded by [crawl] exclude `{which}`"));
        }
        if !self.scope.is_match(path) {
            return Admission::Skip("outside [crawl] scope".to_string());
        }
        Admission::Crawl
    }
}

/// The destructive word in a URL's path or query, if any.
pub fn destructive_word(url: &Url) -> Option<&'static str> {
    destructive_token(&format!("{}?{}", url.path(), url.query().unwrap_or("")))
}

/// The destructive word in any text (a URL, a button's label, id and class), by whole token.
pub fn destructive_token(text: &str) -> Option<&'static str> {
    let text = text.to_ascii_lowercase();
    let tokens = text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    for token in tokens {
        for word in DESTRUCTIVE_WORDS {
            if token == *word
                || token
                    .split(['-', '_'])
                    .any(|part| part == *word && !word.contains(['-', '_']))
            {
                return Some(word);
            }
        }
    }
    None
}

/// One spelling per request: no fragment, query pairs sorted, no empty query.
pub fn normalize(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_fragment(None);
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if pairs.is_empty() {
        url.set_query(None);
    } else {
        pairs.sort();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url
}

/// The request template: IDs in the path become placeholders, query values become `{key}`,
/// and keys that only present data (the built-in [`QueryParams`]) are left out. One template
/// stands for many requests; the matrix and findings speak of templates.
pub fn template(url: &Url) -> String {
    Routes::default().template(url)
}

/// Route templates the Site declares (its OpenAPI paths, `/api/users/{username}`). A URL
/// whose path fits one takes that template, so parameters the heuristics cannot recognise
/// (a user name, a slug) still collapse into one row; other URLs fall back to recognising IDs.
///
/// Query keys the scenario's [`QueryParams`] call presentation are left out of the template.
#[derive(Clone, Debug, Default)]
pub struct Routes {
    routes: Vec<Vec<String>>,
    params: QueryParams,
}

impl Routes {
    pub fn new<'a>(routes: impl IntoIterator<Item = &'a String>) -> Routes {
        let mut routes: Vec<Vec<String>> = routes
            .into_iter()
            .map(|r| r.split('/').skip(1).map(str::to_string).collect())
            .collect();
        // The most literal route wins: `/users/me` before `/users/{name}`.
        routes.sort_by_key(|segments: &Vec<String>| {
            std::cmp::Reverse(segments.iter().filter(|s| !is_param(s)).count())
        });
        Routes {
            routes,
            params: QueryParams::default(),
        }
    }

    /// The same routes, with the scenario's presentation and data keys.
    pub fn with_params(mut self, params: &QueryParams) -> Routes {
        self.params = params.clone();
        self
    }

    fn route_for(&self, path: &str) -> Option<String> {
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        self.routes
            .iter()
            .find(|route| {
                route.len() == segments.len()
                    && route
                        .iter()
                        .zip(&segments)
                        .all(|(r, s)| is_param(r) || r == s)
            })
            .map(|route| format!("/{}", route.join("/")))
    }

    pub fn template(&self, url: &Url) -> String {
        let mut out = match self.route_for(url.path()) {
            Some(route) => route,
            None => heuristic_path(url.path()),
        };
        let mut keys: Vec<String> = url
            .query_pairs()
            .map(|(k, _)| k.into_owned())
            .filter(|k| !self.params.is_presentation(k))
            .collect();
        keys.sort();
        keys.dedup();
        if !keys.is_empty() {
            out.push('?');
            let parts: Vec<String> = keys.iter().map(|k| format!("{k}={{{k}}}")).collect();
            out.push_str(&parts.join("&"));
        }
        out
    }
}

fn is_param(segment: &str) -> bool {
    segment.len() > 2 && segment.starts_with('{') && segment.ends_with('}')
}

fn heuristic_path(path: &str) -> String {
    let mut out = String::new();
    for segment in path.split('/').skip(1) {
        out.push('/');
        out.push_str(&placeholder(segment).unwrap_or_else(|| segment.to_string()));
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

fn placeholder(segment: &str) -> Option<String> {
    if segment.is_empty() {
        return None;
    }
    if segment.bytes().all(|b| b.is_ascii_digit()) {
        return Some("{id}".to_string());
    }
    let is_date = segment.len() == 10
        && segment.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    if is_date {
        return Some("{date}".to_string());
    }
    let is_uuid = segment.len() == 36
        && segment.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    if is_uuid {
        return Some("{uuid}".to_string());
    }
    if segment.len() >= 12
        && segment.bytes().all(|b| b.is_ascii_hexdigit())
        && segment.bytes().any(|b| b.is_ascii_digit())
    {
        return Some("{hex}".to_string());
    }
    let tokenish = segment.len() >= 20
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && segment.bytes().any(|b| b.is_ascii_digit())
        && segment.bytes().any(|b| b.is_ascii_alphabetic());
    tokenish.then(|| "{token}".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn destructive_links_are_recognised_by_whole_tokens() {
        let cases = [
            ("http://h/logout", Some("logout")),
            ("http://h/admin/users/5/delete", Some("delete")),
            ("http://h/account/sign-out", Some("sign-out")),
            ("http://h/api/x?action=remove", Some("remove")),
            ("http://h/delete-account", Some("delete")),
            ("http://h/deleted-items-report", None),
            ("http://h/api/employees/1", None),
            ("http://h/dropdown", None),
        ];
        for (u, expected) in cases {
            assert_eq!(destructive_word(&url(u)), expected, "{u}");
        }
    }

    #[test]
    fn normalization_drops_fragments_and_orders_queries() {
        assert_eq!(
            normalize(&url("http://h/a?b=2&a=1#top")).as_str(),
            "http://h/a?a=1&b=2"
        );
        assert_eq!(normalize(&url("http://h/a?")).as_str(), "http://h/a");
    }

    #[test]
    fn templates_replace_ids_and_query_values() {
        let cases = [
            ("http://h/api/employees/17", "/api/employees/{id}"),
            (
                "http://h/r/3f2b8c1e-1111-4a2b-9c3d-0123456789ab/x",
                "/r/{uuid}/x",
            ),
            ("http://h/blob/0123456789abcdef0123", "/blob/{hex}"),
            ("http://h/search?q=abc&page=2", "/search?q={q}"),
            ("http://h/search?q=abc&x=2", "/search?q={q}&x={x}"),
            ("http://h/", "/"),
            ("http://h/static/app.js", "/static/app.js"),
            (
                "http://h/calendar/2026-11-25/events",
                "/calendar/{date}/events",
            ),
        ];
        for (u, expected) in cases {
            assert_eq!(template(&url(u)), expected, "{u}");
        }
    }

    #[test]
    fn presentation_keys_collapse_and_data_keys_keep_their_place() {
        let custom = QueryParams::new(&["view".to_string()], &["format".to_string()]);
        // (url, template with the built-in lists, template with the custom lists)
        let cases = [
            (
                "http://h/data/employees?_sort=name&_page=2&_size=50",
                "/data/employees",
                "/data/employees",
            ),
            (
                "http://h/data/employees.csv?_facet=title&title=Engineer",
                "/data/employees.csv?title={title}",
                "/data/employees.csv?title={title}",
            ),
            (
                "http://h/admin/users/?o=1.-2&p=3&q=smith&all=",
                "/admin/users/?q={q}",
                "/admin/users/?q={q}",
            ),
            (
                "http://h/report?format=csv&view=wide",
                "/report?view={view}",
                "/report?format={format}",
            ),
            (
                "http://h/data/query?sql=select+1&_size=10",
                "/data/query?sql={sql}",
                "/data/query?sql={sql}",
            ),
        ];
        let routes = Routes::default().with_params(&custom);
        for (u, default, with_custom) in cases {
            assert_eq!(template(&url(u)), default, "{u}");
            assert_eq!(routes.template(&url(u)), with_custom, "{u}");
        }
    }

    #[test]
    fn declared_routes_name_parameters_the_heuristics_cannot_see() {
        let routes = [
            "/api/users/{username}".to_string(),
            "/api/users/me".to_string(),
            "/api/teams/{team}/members/{member}".to_string(),
        ];
        let routes = Routes::new(routes.iter());
        let cases = [
            ("http://h/api/users/alice", "/api/users/{username}"),
            ("http://h/api/users/me", "/api/users/me"),
            (
                "http://h/api/teams/core/members/7?x=1",
                "/api/teams/{team}/members/{member}?x={x}",
            ),
            (
                "http://h/api/users/alice/photos/3",
                "/api/users/alice/photos/{id}",
            ),
        ];
        for (u, expected) in cases {
            assert_eq!(routes.template(&url(u)), expected, "{u}");
        }
    }
}
