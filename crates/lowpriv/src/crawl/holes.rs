//! Holes filled from ids the same identity saw.
//!
//! An OpenAPI path (`/files/{id}`) or a JS template (`/api/teams/${team}/members` becomes
//! `/api/teams/{param}/members`) names no value, so it was never requested: a silent hole in
//! the matrix, and on a real headless CMS a public file nobody requested. The values are
//! usually on the Site already, in the listing of the parent collection (`GET /files` answers
//! `[{"id": 7, ...}]`). [`IdIndex`] keeps, per path an identity fetched, the scalar fields of
//! the items its JSON listed (a few values each); [`IdIndex::fill`] turns a template into requests with those
//! values.
//!
//! Invariants: only values the same identity was shown (an id leaked to one identity is
//! never tried as another: replay does that, on the same URLs, for everyone); only scalar
//! values that make one path segment; at most `limit` URLs per template, chosen in a stable
//! order (the listing's own order), so two runs fill the same URLs.

use std::collections::BTreeMap;

/// Keys whose values name an item, whatever the parameter is called.
const ID_KEYS: &[&str] = &["id", "uuid", "slug", "key", "name", "username", "handle"];
/// A value longer than this is a body, not an id.
const MAX_ID_LEN: usize = 128;
/// Items looked at per listing, and values kept per field: enough for the few values a
/// template is filled with, and a bound on what a huge listing costs.
const MAX_ITEMS: usize = 200;
const MAX_VALUES: usize = 20;

/// Per fetched path, the id-like fields of the items its JSON answer listed, in order.
#[derive(Clone, Debug, Default)]
pub struct IdIndex {
    /// path → key → values (first seen first, no repeats).
    by_path: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

impl IdIndex {
    /// Reads a JSON answer to `path` for listed items: a top-level array of objects, or an
    /// array under a wrapper key (`items`, `data`, `results`, ...: any key, one level down).
    pub fn record(&mut self, path: &str, json: &serde_json::Value) {
        let path = trim(path);
        let mut lists: Vec<&Vec<serde_json::Value>> = Vec::new();
        match json {
            serde_json::Value::Array(items) => lists.push(items),
            serde_json::Value::Object(map) => {
                lists.extend(map.values().filter_map(|v| v.as_array()));
            }
            _ => {}
        }
        for items in lists {
            for item in items.iter().take(MAX_ITEMS) {
                let Some(fields) = item.as_object() else {
                    continue;
                };
                for (key, value) in fields {
                    let Some(value) = segment_value(value) else {
                        continue;
                    };
                    // Every scalar field is kept (a parameter may be named like any of them),
                    // each with a few values.
                    let key = key.to_ascii_lowercase();
                    let values = self
                        .by_path
                        .entry(path.to_string())
                        .or_default()
                        .entry(key)
                        .or_default();
                    if values.len() < MAX_VALUES && !values.contains(&value) {
                        values.push(value);
                    }
                }
            }
        }
    }

    /// Takes in what another index holds (the same identity's other answers).
    pub fn merge(&mut self, other: IdIndex) {
        for (path, fields) in other.by_path {
            let mine = self.by_path.entry(path).or_default();
            for (key, values) in fields {
                let list = mine.entry(key).or_default();
                for value in values {
                    if list.len() < MAX_VALUES && !list.contains(&value) {
                        list.push(value);
                    }
                }
            }
        }
    }

    /// Up to `limit` paths for `template`, each hole filled left to right from the listing of
    /// the path before it (`/teams/{team}/members` from `GET /teams`). A hole no listing can
    /// fill leaves the template unfilled (an empty answer).
    pub fn fill(&self, template: &str, limit: usize) -> Vec<String> {
        let mut partial = vec![String::new()];
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            let Some(len) = rest[start..].find('}') else {
                return Vec::new();
            };
            let literal = &rest[..start];
            let name = &rest[start + 1..start + len];
            rest = &rest[start + len + 1..];
            let mut next = Vec::new();
            for prefix in &partial {
                let parent = format!("{prefix}{literal}");
                for value in self.values_for(&parent, name) {
                    if next.len() >= limit {
                        break;
                    }
                    next.push(format!("{parent}{}", encode(value)));
                }
            }
            if next.is_empty() {
                return Vec::new();
            }
            partial = next;
        }
        partial.into_iter().map(|p| format!("{p}{rest}")).collect()
    }

    /// The values a listing at `parent` offers for a parameter called `name`: a field of that
    /// very name first (`{team_id}` ← `team_id`), then its stem (`{team_id}` ← `team`), then
    /// the generic id keys in [`ID_KEYS`] order.
    fn values_for(&self, parent: &str, name: &str) -> &[String] {
        let Some(fields) = self.by_path.get(trim(parent)) else {
            return &[];
        };
        let name = name.to_ascii_lowercase();
        let stem = name
            .strip_suffix("_id")
            .or_else(|| name.strip_suffix("id"))
            .unwrap_or(&name)
            .trim_end_matches('_');
        let named = [name.as_str(), stem].into_iter();
        named
            .chain(ID_KEYS.iter().copied())
            .find_map(|key| fields.get(key).filter(|v| !v.is_empty()))
            .map_or(&[], Vec::as_slice)
    }
}

fn trim(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() { "/" } else { trimmed }
}

/// A scalar that can stand as one path segment.
fn segment_value(value: &serde_json::Value) -> Option<String> {
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let usable = !text.is_empty()
        && text.len() <= MAX_ID_LEN
        && !text.contains('/')
        && !text.chars().any(char::is_whitespace);
    usable.then_some(text)
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        // `byte_serialize` is for queries; in a path a space is %20, never `+`.
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_listing_fills_its_items_template() {
        let mut index = IdIndex::default();
        index.record(
            "/api/files",
            &json!([{"id": 7, "name": "a.pdf"}, {"id": 9}]),
        );
        assert_eq!(
            index.fill("/api/files/{id}", 5),
            ["/api/files/7", "/api/files/9"]
        );
        // A wrapper object, a parameter named otherwise, a trailing slash on the listing.
        let mut index = IdIndex::default();
        index.record(
            "/teams/",
            &json!({"data": [{"team": "core"}, {"team": "ops"}]}),
        );
        assert_eq!(
            index.fill("/teams/{team_id}/members", 5),
            ["/teams/core/members", "/teams/ops/members"]
        );
    }

    #[test]
    fn holes_fill_left_to_right_and_stay_bounded() {
        let mut index = IdIndex::default();
        index.record("/t", &json!([{"id": 1}, {"id": 2}, {"id": 3}]));
        index.record("/t/1/m", &json!([{"uuid": "u-1"}]));
        index.record("/t/2/m", &json!([{"uuid": "u-2"}]));
        assert_eq!(index.fill("/t/{a}/m/{b}", 10), ["/t/1/m/u-1", "/t/2/m/u-2"]);
        assert_eq!(index.fill("/t/{a}", 2), ["/t/1", "/t/2"], "at most `limit`");
    }

    #[test]
    fn nothing_is_invented() {
        let mut index = IdIndex::default();
        // No listing for the parent; unusable values; no field named like the parameter or
        // like an id.
        index.record(
            "/a",
            &json!([{"id": "has/slash"}, {"id": ""}, {"title": "x"}]),
        );
        index.record("/b", &json!({"id": 5}));
        assert!(index.fill("/c/{id}", 5).is_empty());
        assert!(index.fill("/a/{id}", 5).is_empty());
        assert!(
            index.fill("/b/{id}", 5).is_empty(),
            "an object is no listing"
        );
        assert!(index.fill("/a/{id", 5).is_empty(), "an unclosed hole");
    }

    #[test]
    fn values_are_path_segments() {
        let mut index = IdIndex::default();
        // A value with spaces is a display name, not an id; others are percent-encoded.
        index.record(
            "/u",
            &json!([{"username": "ann lee"}, {"username": "bé"}, {"username": "a&b"}]),
        );
        assert_eq!(index.fill("/u/{user}", 5), ["/u/b%C3%A9", "/u/a%26b"]);
    }
}
