//! API descriptions: OpenAPI 3.x and Swagger 2.0, in JSON or YAML. GET operations become
//! links (path parameters filled from the document's examples, defaults or enums), other
//! methods become actions, and every path is a route template for the frontier.
//!
//! Where the API lives: OpenAPI 3's `servers` (with their variables' defaults) and Swagger's
//! `host` + `basePath`. A server on this Site's origin gives its path as a prefix; a server on
//! another origin is never sent anything: it is reported (`Discovery::offsite_servers`), and
//! when no server is on this origin the paths are read against the document's own origin,
//! which is where a deployment that copied a production document serves them.
//!
//! YAML is read by an event parser into JSON values with a node budget, so an alias bomb (a
//! few lines that expand to billions of nodes) costs at most the budget: YAML's own loader
//! clones every alias.

use serde_json::{Map, Value};
use url::Url;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::discover::{Action, Discovery, Via};

/// Nodes (scalars, sequences, mappings, alias copies included) a YAML document may hold.
const MAX_YAML_NODES: usize = 500_000;

/// Whether a response is an API description, by its URL, type and first bytes. `declared`:
/// the scenario's `[crawl] openapi` names this URL.
pub fn looks_like(text: &str, path: &str, content_type: &str, declared: bool) -> Option<Format> {
    let yaml_path = path.ends_with(".yaml") || path.ends_with(".yml");
    let yaml_type = content_type.contains("yaml");
    let head = text.trim_start();
    if head.starts_with('{') {
        let json_ish = declared || content_type.contains("json") || path.ends_with(".json");
        let marked = text.contains("\"openapi\"") || text.contains("\"swagger\"");
        return (json_ish && (declared || marked)).then_some(Format::Json);
    }
    if declared || yaml_path || yaml_type {
        let marked = text
            .lines()
            .take(200)
            .any(|l| l.starts_with("openapi:") || l.starts_with("swagger:"));
        return (declared || marked).then_some(Format::Yaml);
    }
    None
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
}

/// Everything an API description says, read against the URL it was served from.
pub fn discover(body: &str, format: Format, page: &Url) -> Discovery {
    let doc = match format {
        Format::Json => serde_json::from_str::<Value>(body).ok(),
        Format::Yaml => yaml_to_json(body),
    };
    match doc {
        Some(doc) => from_document(&doc, page),
        None => Discovery::default(),
    }
}

fn from_document(doc: &Value, page: &Url) -> Discovery {
    let mut found = Discovery::default();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return found;
    };
    let prefixes = base_paths(doc, page, &mut found.offsite_servers);
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        if !path.starts_with('/') {
            continue;
        }
        for prefix in &prefixes {
            operations(doc, &format!("{prefix}{path}"), item, page, &mut found);
        }
    }
    found
}

fn operations(
    doc: &Value,
    path: &str,
    item: &Map<String, Value>,
    page: &Url,
    found: &mut Discovery,
) {
    found.routes.push(path.to_string());
    let shared_params = item.get("parameters");
    for (method, operation) in item {
        let method = method.to_ascii_uppercase();
        if !matches!(
            method.as_str(),
            "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS"
        ) {
            continue;
        }
        if method == "GET" || method == "HEAD" {
            let filled = fill_path(doc, path, [shared_params, operation.get("parameters")]);
            match filled.and_then(|p| same_origin(page, &p)) {
                Some(url) => found.links.push((url, Via::Openapi)),
                None => found.templates.push(path.to_string()),
            }
        } else {
            let url = same_origin(page, path)
                .map(|u| u.to_string())
                .unwrap_or_else(|| path.to_string());
            found.actions.push(Action {
                method,
                // Keep the template's braces readable rather than percent-encoded.
                url: url.replace("%7B", "{").replace("%7D", "}"),
                source: "openapi".to_string(),
                fields: Vec::new(),
            });
        }
    }
}

/// The path prefixes the document's operations live under on this origin: one per server on
/// this origin (OpenAPI 3) or the `basePath` (Swagger 2), `""` when it names none here.
/// Servers on another origin go to `offsite`, without any credentials in their URL.
fn base_paths(doc: &Value, page: &Url, offsite: &mut Vec<String>) -> Vec<String> {
    let mut prefixes = Vec::new();
    if let Some(servers) = doc.get("servers").and_then(Value::as_array) {
        for server in servers {
            let Some(raw) = server.get("url").and_then(Value::as_str) else {
                continue;
            };
            let resolved = substitute_variables(raw, server.get("variables"));
            match page.join(&resolved) {
                Ok(url) if url.origin() == page.origin() => {
                    prefixes.push(url.path().trim_end_matches('/').to_string());
                }
                Ok(url) => offsite.push(display_origin(&url)),
                Err(_) => {}
            }
        }
    } else if doc.get("swagger").is_some() {
        let base = doc
            .get("basePath")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim_end_matches('/')
            .to_string();
        let host = doc.get("host").and_then(Value::as_str);
        let here = page.host_str().map(|h| match page.port() {
            Some(port) => format!("{h}:{port}"),
            None => h.to_string(),
        });
        match host {
            Some(host) if Some(host) != here.as_deref() => {
                let scheme = doc
                    .get("schemes")
                    .and_then(Value::as_array)
                    .and_then(|s| s.first())
                    .and_then(Value::as_str)
                    .unwrap_or("https");
                offsite.push(format!("{scheme}://{host}{base}"));
            }
            _ => prefixes.push(base.clone()),
        }
        if prefixes.is_empty() {
            prefixes.push(base);
        }
        return prefixes;
    }
    if prefixes.is_empty() {
        prefixes.push(String::new());
    }
    prefixes.sort();
    prefixes.dedup();
    prefixes
}

/// `https://{region}.example.com/{version}` with each variable's default.
fn substitute_variables(url: &str, variables: Option<&Value>) -> String {
    let mut out = url.to_string();
    if let Some(vars) = variables.and_then(Value::as_object) {
        for (name, var) in vars {
            if let Some(default) = var.get("default").and_then(Value::as_str) {
                out = out.replace(&format!("{{{name}}}"), default);
            }
        }
    }
    out
}

/// A server's origin and path, never its user name or password.
fn display_origin(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// A path on the page's origin; an absolute URL elsewhere is not this Site's.
fn same_origin(page: &Url, path: &str) -> Option<Url> {
    let url = page.join(path).ok()?;
    (url.origin() == page.origin()).then_some(url)
}

fn fill_path(doc: &Value, path: &str, params: [Option<&Value>; 2]) -> Option<String> {
    let mut filled = path.to_string();
    let mut from = 0;
    while let Some(start) = filled[from..].find('{').map(|i| i + from) {
        let end = start + filled[start..].find('}')?;
        let name = filled[start + 1..end].to_string();
        let example = params
            .iter()
            .flatten()
            .filter_map(|p| p.as_array())
            .flatten()
            .map(|p| resolve(doc, p))
            .find(|p| {
                p.get("name").and_then(Value::as_str) == Some(name.as_str())
                    && p.get("in").and_then(Value::as_str) == Some("path")
            })
            .and_then(example_of)?;
        filled.replace_range(start..=end, &example);
        from = start + example.len();
    }
    Some(filled)
}

/// A local `$ref` (`#/components/parameters/Id`, `#/parameters/Id`), one level deep.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    value
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|pointer| doc.pointer(pointer))
        .unwrap_or(value)
}

/// A parameter's example: `example`, the schema's, the first of `examples`, Swagger's
/// `x-example`, a `default`, or the first `enum` value.
fn example_of(param: &Value) -> Option<String> {
    let schema = param.get("schema");
    let value = param
        .get("example")
        .or_else(|| schema.and_then(|s| s.get("example")))
        .or_else(|| {
            param
                .get("examples")
                .and_then(Value::as_object)
                .and_then(|e| e.values().next())
                .and_then(|e| e.get("value"))
        })
        .or_else(|| param.get("x-example"))
        .or_else(|| param.get("default"))
        .or_else(|| schema.and_then(|s| s.get("default")))
        .or_else(|| param.get("enum").and_then(|e| e.get(0)))
        .or_else(|| schema.and_then(|s| s.get("enum")).and_then(|e| e.get(0)))?;
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A YAML document as JSON values (scalars as strings, except plain `null`/`~`), or None when
/// it does not parse or holds more than [`MAX_YAML_NODES`].
pub fn yaml_to_json(text: &str) -> Option<Value> {
    let mut builder = YamlBuilder::default();
    Parser::new_from_str(text).load(&mut builder, false).ok()?;
    if builder.over_budget {
        tracing::debug!("a YAML document holds more than {MAX_YAML_NODES} nodes: not read");
        return None;
    }
    builder.done
}

#[derive(Default)]
struct YamlBuilder {
    /// Open sequences and mappings, with their anchor id; a mapping keeps its pending key.
    stack: Vec<(Open, usize)>,
    anchors: std::collections::HashMap<usize, (Value, usize)>,
    nodes: usize,
    over_budget: bool,
    done: Option<Value>,
}

enum Open {
    Seq(Vec<Value>),
    Map(Map<String, Value>, Option<String>),
}

impl YamlBuilder {
    fn count(&mut self, nodes: usize) -> bool {
        self.nodes = self.nodes.saturating_add(nodes);
        if self.nodes > MAX_YAML_NODES {
            self.over_budget = true;
        }
        !self.over_budget
    }

    fn insert(&mut self, value: Value, anchor: usize, size: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, (value.clone(), size));
        }
        match self.stack.last_mut() {
            None => {
                if self.done.is_none() {
                    self.done = Some(value);
                }
            }
            Some((Open::Seq(items), _)) => items.push(value),
            Some((Open::Map(map, key), _)) => match key.take() {
                None => {
                    let name = match value {
                        Value::String(s) => s,
                        Value::Null => "null".to_string(),
                        other => other.to_string(),
                    };
                    *key = Some(name);
                }
                Some(name) => {
                    map.insert(name, value);
                }
            },
        }
    }
}

impl MarkedEventReceiver for YamlBuilder {
    fn on_event(&mut self, event: Event, _mark: Marker) {
        if self.over_budget {
            return;
        }
        match event {
            Event::SequenceStart(anchor, _) if self.count(1) => {
                self.stack.push((Open::Seq(Vec::new()), anchor));
            }
            Event::MappingStart(anchor, _) if self.count(1) => {
                self.stack.push((Open::Map(Map::new(), None), anchor));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((open, anchor)) = self.stack.pop() {
                    let value = match open {
                        Open::Seq(items) => Value::Array(items),
                        Open::Map(map, _) => Value::Object(map),
                    };
                    // An anchored collection's size is what an alias to it would copy.
                    let size = if anchor > 0 { node_count(&value) } else { 0 };
                    self.insert(value, anchor, size);
                }
            }
            Event::Scalar(text, style, anchor, _) => {
                if !self.count(1) {
                    return;
                }
                let plain_null =
                    style == TScalarStyle::Plain && matches!(text.as_str(), "null" | "~" | "");
                let value = if plain_null {
                    Value::Null
                } else {
                    Value::String(text)
                };
                self.insert(value, anchor, 1);
            }
            Event::Alias(id) => {
                let Some((value, size)) = self.anchors.get(&id).cloned() else {
                    return;
                };
                if self.count(size.max(1)) {
                    self.insert(value, 0, size);
                }
            }
            _ => {}
        }
    }
}

fn node_count(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(node_count).sum::<usize>(),
        Value::Object(map) => 1 + map.values().map(node_count).sum::<usize>(),
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("http://site.test/docs/openapi.json").unwrap()
    }

    fn paths(d: &Discovery) -> Vec<String> {
        d.links.iter().map(|(u, _)| u.path().to_string()).collect()
    }

    #[test]
    fn openapi_gets_are_links_with_examples_and_writes_are_actions() {
        let doc = r#"{"openapi":"3.1.0","paths":{
            "/api/me":{"get":{}},
            "/api/employees/{id}":{"get":{"parameters":[{"name":"id","in":"path","example":1}]},
                                   "delete":{}},
            "/api/things/{thing}":{"get":{}}}}"#;
        let found = discover(doc, Format::Json, &page());
        assert_eq!(paths(&found), vec!["/api/employees/1", "/api/me"]);
        assert_eq!(found.templates, vec!["/api/things/{thing}"]);
        assert_eq!(found.actions[0].method, "DELETE");
        assert_eq!(found.actions[0].url, "http://site.test/api/employees/{id}");
        assert!(found.links.iter().all(|(_, via)| *via == Via::Openapi));
        assert!(found.offsite_servers.is_empty());
    }

    #[test]
    fn yaml_documents_read_like_json_ones_with_refs_defaults_and_enums() {
        let doc = "openapi: 3.0.3\n\
            info: {title: t, version: '1'}\n\
            servers:\n  - url: /v2\n  - url: 'https://api.example.com/{stage}'\n    variables:\n      stage: {default: prod}\n\
            components:\n  parameters:\n    Team:\n      name: team\n      in: path\n      schema: {type: string, enum: [ops, hr]}\n\
            paths:\n  /teams/{team}:\n    get:\n      parameters:\n        - $ref: '#/components/parameters/Team'\n\
            \x20 /status:\n    get: {}\n    post: {}\n  /people/{id}:\n    get:\n      parameters:\n        - {name: id, in: path, schema: {type: integer, default: 7}}\n";
        let found = discover(doc, Format::Yaml, &page());
        assert_eq!(
            paths(&found),
            vec!["/v2/people/7", "/v2/status", "/v2/teams/ops"]
        );
        assert_eq!(found.actions.len(), 1);
        assert_eq!(found.actions[0].url, "http://site.test/v2/status");
        assert_eq!(found.offsite_servers, vec!["https://api.example.com/prod"]);
        assert!(found.routes.contains(&"/v2/teams/{team}".to_string()));
    }

    #[test]
    fn swagger_2_uses_its_base_path_and_reports_another_host() {
        let here = r#"{"swagger":"2.0","basePath":"/api/v1/","paths":{
            "/items/{id}":{"get":{"parameters":[{"name":"id","in":"path","type":"integer","x-example":3}]}}}}"#;
        let found = discover(here, Format::Json, &page());
        assert_eq!(paths(&found), vec!["/api/v1/items/3"]);
        assert!(found.offsite_servers.is_empty());

        let elsewhere = r#"{"swagger":"2.0","host":"petstore.example.com","basePath":"/v2",
            "schemes":["https"],"paths":{"/pets":{"get":{}}}}"#;
        let found = discover(elsewhere, Format::Json, &page());
        assert_eq!(
            paths(&found),
            vec!["/v2/pets"],
            "read on the document's own origin"
        );
        assert_eq!(
            found.offsite_servers,
            vec!["https://petstore.example.com/v2"]
        );

        let same_host = r#"{"swagger":"2.0","host":"site.test","paths":{"/pets":{"get":{}}}}"#;
        assert_eq!(
            paths(&discover(same_host, Format::Json, &page())),
            vec!["/pets"]
        );
    }

    #[test]
    fn an_absolute_server_on_this_origin_is_a_prefix_and_credentials_are_never_shown() {
        let doc = r#"{"openapi":"3.1.0","servers":[{"url":"http://site.test/base/"},
            {"url":"https://user:pw@other.test/x?k=v"}],"paths":{"/a":{"get":{}}}}"#;
        let found = discover(doc, Format::Json, &page());
        assert_eq!(paths(&found), vec!["/base/a"]);
        assert_eq!(found.offsite_servers, vec!["https://other.test/x"]);
    }

    #[test]
    fn an_alias_bomb_costs_at_most_the_node_budget() {
        let mut doc = String::from("openapi: 3.0.0\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = format!("*a{}", i - 1);
            doc.push_str(&format!(
                "a{i}: &a{i} [{}]\n",
                std::iter::repeat_n(prev.as_str(), 10)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        doc.push_str("paths: {/a: {get: {}}}\n");
        assert!(yaml_to_json(&doc).is_none(), "10^12 nodes are refused");
        let small = "openapi: 3.0.0\nbase: &b {get: {}}\npaths:\n  /a: *b\n";
        let found = discover(small, Format::Yaml, &page());
        assert_eq!(paths(&found), vec!["/a"], "a small alias is expanded");
    }

    #[test]
    fn only_descriptions_are_taken_for_descriptions() {
        assert_eq!(
            looks_like("{\"openapi\":\"3.1.0\"}", "/x", "application/json", false),
            Some(Format::Json)
        );
        assert_eq!(
            looks_like("{\"users\":[]}", "/api/users", "application/json", false),
            None
        );
        assert_eq!(
            looks_like(
                "openapi: 3.1.0\npaths: {}\n",
                "/openapi.yaml",
                "text/plain",
                false
            ),
            Some(Format::Yaml)
        );
        assert_eq!(
            looks_like(
                "name: ci\non: push\n",
                "/.github/ci.yml",
                "text/yaml",
                false
            ),
            None
        );
        assert_eq!(
            looks_like("swagger: '2.0'\n", "/spec", "application/x-yaml", false),
            Some(Format::Yaml)
        );
        assert_eq!(
            looks_like("openapi: 3.1.0\n", "/docs/api", "text/html", false),
            None,
            "an HTML page quoting a document is a page"
        );
    }
}
