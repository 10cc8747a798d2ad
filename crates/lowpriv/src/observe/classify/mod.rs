//! Data classes in a response body: JSON keys at any depth (and HTML table columns named like
//! them), planted canaries, runtime secret values (verbatim and encoded), user patterns, and the
//! built-in detectors of `rules.toml`, each with its validator.
//!
//! Input: a body as text (the caller decodes bytes lossily, so any bytes are safe) and, when it
//! is JSON, its parsed value. Output: hits per class name, with counts and redacted examples,
//! and the JSON key paths. Invariants: an example never holds a matched value: secrets show a
//! rule id and a length, everything else at most a short prefix (or a card's last four); the
//! work is linear in the body (one literal pass for canaries and secrets, one regex pass for
//! the builtins' keywords and keywordless rules, then each keyword rule only in windows around
//! its keyword hits).

mod encode;
mod html;
pub mod rules;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::Regex;
use serde::Serialize;

use crate::scenario::{Builtin, DataClass, DataKind, Scenario};

/// A builtin's rule (severity, description, secret flag), for reports and the judge.
pub use rules::{Rule, RuleSeverity, rule};

/// At most this many redacted examples per class per response.
const MAX_EXAMPLES: usize = 3;
/// At most this many JSON key paths per response.
const MAX_JSON_PATHS: usize = 200;
/// At most this many distinct values kept per sourced class per response: a hit holding
/// this many may have had more (the judge then compares the class, not its records).
pub const MAX_VALUES: usize = 1024;
/// Values gathered before they are deduplicated: bounds a huge body's memory.
const MAX_RAW_VALUES: usize = 8 * MAX_VALUES;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DataHit {
    /// json_keys | text | env | builtin | pattern
    pub kind: &'static str,
    pub count: usize,
    /// Redacted: never the value.
    pub examples: Vec<String>,
    /// For a class with a `source`: the distinct values found, each as [`value_key`] keys
    /// it (a hash of the normalized value), sorted, at most [`MAX_VALUES`]. What lets the
    /// judge tell "another person's record" from "the viewer's own". Never in any output:
    /// a hash of a short number is a dictionary away from the number.
    #[serde(skip)]
    pub values: Vec<u64>,
}

/// A value as the Site and its source may each render it, hashed: numbers by their
/// numeric value (`185000`, `185,000.00` and `$185,000` are one), anything else trimmed,
/// with runs of whitespace as one space, and lowercased.
pub fn value_key(value: &str) -> u64 {
    let value = value.trim();
    let numeric: String = value
        .chars()
        .filter(|c| !matches!(c, ',' | '_' | ' ' | '$' | '€' | '£' | '\u{a0}'))
        .collect();
    if let Ok(number) = numeric.parse::<f64>()
        && number.is_finite()
    {
        let canonical = format!("#{number}");
        return crate::fnv::fnv1a64(canonical.bytes());
    }
    let mut words = String::with_capacity(value.len());
    for word in value.split_whitespace() {
        if !words.is_empty() {
            words.push(' ');
        }
        words.extend(word.chars().flat_map(char::to_lowercase));
    }
    crate::fnv::fnv1a64(words.bytes())
}

/// The value keys of a JSON value at a sourced key: a scalar's, or each scalar's of an array.
fn json_value_keys(value: &serde_json::Value, out: &mut Vec<u64>) {
    if out.len() >= MAX_RAW_VALUES {
        return;
    }
    match value {
        serde_json::Value::String(s) => out.push(value_key(s)),
        serde_json::Value::Number(n) => out.push(value_key(&n.to_string())),
        serde_json::Value::Bool(b) => out.push(value_key(if *b { "true" } else { "false" })),
        serde_json::Value::Array(items) => {
            for item in items.iter().filter(|i| !i.is_array()) {
                json_value_keys(item, out);
            }
        }
        serde_json::Value::Null | serde_json::Value::Object(_) => {}
    }
}

#[derive(Clone, Copy, Debug)]
enum Literal {
    Canary,
    /// A secret's value in the named form (verbatim, base64, hex, ...).
    Env(&'static str),
}

#[derive(Debug)]
pub struct Classifier {
    json_keys: HashMap<String, String>,
    /// Bit n set: some `json_keys` key is n bytes long (n < 64; bit 63 stands for any
    /// longer one). Most keys of a body are no `json_keys` key, and an ASCII key's length
    /// rules it out before any lowercasing or hashing.
    json_key_lengths: u64,
    /// The `json_keys` names, case-insensitively: a page without any of them has no table
    /// column worth parsing for.
    json_key_names: Option<AhoCorasick>,
    literals: Option<Literals>,
    /// Per literal pattern: (class, kind).
    literal_classes: Vec<(String, Literal)>,
    builtins: rules::Engine,
    /// (class, compiled pattern, secret).
    patterns: Vec<(String, Regex, bool)>,
    /// Classes with a `source`: their values are kept ([`DataHit::values`]).
    sourced: std::collections::HashSet<String>,
}

impl Classifier {
    /// A classifier for the declared classes only.
    pub fn new(classes: &[DataClass]) -> Classifier {
        Classifier::with_defaults(classes, &[])
    }

    /// A classifier for what a scenario declares plus the secret rules on by default
    /// ([`Scenario::default_secrets`]).
    pub fn for_scenario(scenario: &Scenario) -> Classifier {
        Classifier::with_defaults(&scenario.data, &scenario.default_secrets())
    }

    /// The declared classes, plus `defaults`: builtins run under their own id as the class
    /// name. A default's hit on text a declared secret class (an `env` value in any form, a
    /// secret `pattern`, a secret builtin) also matched is dropped: one leaked value is one
    /// finding, under the name the scenario gave it.
    pub fn with_defaults(classes: &[DataClass], defaults: &[Builtin]) -> Classifier {
        let mut json_keys = HashMap::new();
        let mut literals = Vec::new();
        let mut literal_classes = Vec::new();
        let mut builtins = Vec::new();
        let mut patterns = Vec::new();
        let sourced = classes
            .iter()
            .filter(|c| c.source.is_some())
            .map(|c| c.name.clone())
            .collect();
        for class in classes {
            match &class.kind {
                DataKind::JsonKeys(keys) => {
                    for key in keys {
                        json_keys.insert(key.to_lowercase(), class.name.clone());
                    }
                }
                DataKind::Text(text) => {
                    literals.push(text.clone());
                    literal_classes.push((class.name.clone(), Literal::Canary));
                }
                DataKind::Env { value, .. } => {
                    for (form, literal) in encode::forms(value.expose()) {
                        literals.push(literal);
                        literal_classes.push((class.name.clone(), Literal::Env(form)));
                    }
                }
                DataKind::Builtin(builtin) => builtins.push((class.name.clone(), *builtin)),
                DataKind::Pattern { regex, secret } => {
                    patterns.push((class.name.clone(), regex.clone(), *secret));
                }
            }
        }
        let literals = Literals::new(&literals);
        let json_key_names = if json_keys.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(json_keys.keys())
                .ok()
        };
        let json_key_lengths = json_keys
            .keys()
            .fold(0u64, |mask, key| mask | length_bit(key.len()));
        Classifier {
            json_key_lengths,
            json_keys,
            json_key_names,
            literals,
            literal_classes,
            builtins: rules::Engine::with_defaults(&builtins, defaults),
            patterns,
            sourced,
        }
    }

    /// The class a JSON key names, case-insensitively (without allocating for lowercase keys).
    fn json_class(&self, key: &str) -> Option<&String> {
        if self.json_keys.is_empty()
            || (key.is_ascii() && self.json_key_lengths & length_bit(key.len()) == 0)
        {
            return None;
        }
        if key.chars().any(char::is_uppercase) {
            self.json_keys.get(&key.to_lowercase())
        } else {
            self.json_keys.get(key)
        }
    }

    /// Classifies a body. `json` is the parsed body when it is JSON.
    pub fn classify(
        &self,
        text: &str,
        json: Option<&serde_json::Value>,
    ) -> (BTreeMap<String, DataHit>, Vec<String>) {
        let mut hits: BTreeMap<String, DataHit> = BTreeMap::new();
        let mut paths = PathSet::default();
        // Examples of the two kinds that repeat most (a record's key, a column's cell) are
        // written here first: most are one already kept, and need no allocation.
        let mut scratch = String::new();
        if let Some(json) = json {
            let mut path = String::from("$");
            walk_json(json, &mut path, &mut |path, key, value| {
                paths.see(path);
                if let Some(class) = self.json_class(key) {
                    record_into(&mut hits, class, "json_keys", &mut scratch, |out| {
                        redact_json_into(out, key, value)
                    });
                    if !self.sourced.is_empty()
                        && self.sourced.contains(class)
                        && let Some(hit) = hits.get_mut(class)
                    {
                        json_value_keys(value, &mut hit.values);
                    }
                }
            });
        } else if self
            .json_key_names
            .as_ref()
            .is_some_and(|names| names.is_match(text))
        {
            for cell in html::cells(text, &self.json_keys, &self.sourced) {
                record_into(&mut hits, cell.class, "json_keys", &mut scratch, |out| {
                    // Writing to a String cannot fail.
                    let _ = write!(out, "{}: <cell, {} chars>", cell.header, cell.chars);
                });
                if let Some(value) = cell.value {
                    self.keep_value(&mut hits, cell.class, || value);
                }
            }
        }
        // Where a declared secret class matched: a default-on rule stays silent there.
        let mut claimed: Vec<Range<usize>> = Vec::new();
        if let Some(literals) = &self.literals {
            for found in literals.find_iter(text) {
                if let Some((class, kind)) = self.literal_classes.get(found.pattern().as_usize()) {
                    let matched = &text[found.start()..found.end()];
                    match kind {
                        Literal::Canary => {
                            record(&mut hits, class, "text", || redact_prefix(matched));
                            self.keep_value(&mut hits, class, || value_key(matched));
                        }
                        Literal::Env(form) => {
                            claimed.push(found.start()..found.end());
                            record(&mut hits, class, "env", || format!("<secret, {form}>"));
                        }
                    }
                }
            }
        }
        let builtins = self.builtins.scan(text);
        for found in builtins.iter().filter(|f| !f.implicit) {
            if found.rule.secret {
                claimed.push(found.range.clone());
            }
            record(&mut hits, found.class, "builtin", || found.example(text));
            self.keep_value(&mut hits, found.class, || {
                value_key(text.get(found.range.clone()).unwrap_or_default())
            });
        }
        for (class, regex, secret) in &self.patterns {
            for m in regex.find_iter(text) {
                if *secret {
                    claimed.push(m.range());
                }
                record(&mut hits, class, "pattern", || {
                    if *secret {
                        format!("<{class}, {} chars>", m.as_str().chars().count())
                    } else {
                        redact_prefix(m.as_str())
                    }
                });
                self.keep_value(&mut hits, class, || value_key(m.as_str()));
            }
        }
        for found in builtins.into_iter().filter(|f| f.implicit) {
            let overlaps = claimed
                .iter()
                .any(|r| r.start < found.range.end && found.range.start < r.end);
            if !overlaps {
                record(&mut hits, found.class, "builtin", || found.example(text));
                self.keep_value(&mut hits, found.class, || {
                    value_key(text.get(found.range.clone()).unwrap_or_default())
                });
            }
        }
        if !self.sourced.is_empty() {
            for hit in hits.values_mut() {
                hit.values.sort_unstable();
                hit.values.dedup();
                hit.values.truncate(MAX_VALUES);
            }
        }
        (hits, paths.into_sorted())
    }

    /// Keeps a value of a sourced class's hit (the hit is already recorded).
    fn keep_value(
        &self,
        hits: &mut BTreeMap<String, DataHit>,
        class: &str,
        key: impl FnOnce() -> u64,
    ) {
        // Most scenarios name no source: then no class name is hashed on the hot path.
        if !self.sourced.is_empty()
            && self.sourced.contains(class)
            && let Some(hit) = hits.get_mut(class)
            && hit.values.len() < MAX_RAW_VALUES
        {
            hit.values.push(key());
        }
    }
}

/// The distinct JSON key paths of a body, at most [`MAX_JSON_PATHS`].
///
/// An array of records visits the same paths in the same order for every record, so the
/// path after the last one seen is tried first: one comparison per key instead of a search.
#[derive(Default)]
struct PathSet {
    /// In first-seen order.
    order: Vec<String>,
    index: HashMap<String, usize>,
    /// Where in `order` the next path is expected.
    cursor: usize,
}

impl PathSet {
    fn see(&mut self, path: &str) {
        if self.order.get(self.cursor).is_some_and(|next| next == path) {
            self.cursor += 1;
        } else if let Some(&at) = self.index.get(path) {
            self.cursor = at + 1;
        } else if self.order.len() < MAX_JSON_PATHS {
            self.index.insert(path.to_string(), self.order.len());
            self.order.push(path.to_string());
            self.cursor = self.order.len();
        }
    }

    fn into_sorted(mut self) -> Vec<String> {
        self.order.sort_unstable();
        self.order
    }
}

/// Canaries and secret forms, searched together in one case-sensitive pass.
///
/// Leftmost-longest, not overlapping: a canary that is a prefix of a longer one (`CANARY-1` in
/// `CANARY-10`) is not really there. Up to 128 literals go to a SIMD "Teddy" searcher, which
/// only wakes up where a literal's first bytes occur and runs at several GB/s; aho-corasick's
/// own choice stops at 64 patterns and falls back to a byte prefilter that, with a hundred
/// canaries and a few encoded secrets, reads most of a body through the automaton (~7 times
/// slower on the benchmark corpus). Past 128 literals, or without SIMD, the automaton does it.
/// Teddy's worst case is a body packed with a prefix every canary shares (each occurrence is
/// checked against all of them): still linear, about 60 MB/s against the automaton's 700
/// (5 MB of `CANARY-00` repeated, 120 canaries), and only a Site that knows the canaries can
/// serve it.
#[derive(Debug)]
enum Literals {
    Packed(aho_corasick::packed::Searcher),
    Automaton(AhoCorasick),
}

impl Literals {
    fn new(literals: &[String]) -> Option<Literals> {
        if literals.is_empty() {
            return None;
        }
        let packed = aho_corasick::packed::Config::new()
            .match_kind(aho_corasick::packed::MatchKind::LeftmostLongest)
            .heuristic_pattern_limits(false)
            .builder()
            .extend(literals)
            .build();
        if let Some(packed) = packed {
            return Some(Literals::Packed(packed));
        }
        // Building fails only past aho-corasick's size limits, far beyond any scenario; a
        // missing secret check must still be loud, not silent.
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(literals)
            .or_else(|_| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(literals)
            })
            .inspect_err(|error| {
                tracing::error!(%error, "canary and secret literals do not build; they are not checked")
            })
            .ok()
            .map(Literals::Automaton)
    }

    fn find_iter<'a>(
        &'a self,
        text: &'a str,
    ) -> Box<dyn Iterator<Item = aho_corasick::Match> + 'a> {
        match self {
            Literals::Packed(packed) => Box::new(packed.find_iter(text)),
            Literals::Automaton(automaton) => Box::new(automaton.find_iter(text)),
        }
    }

    #[cfg(test)]
    fn is_packed(&self) -> bool {
        matches!(self, Literals::Packed(_))
    }
}

fn length_bit(len: usize) -> u64 {
    1 << len.min(63)
}

/// Counts a hit; the example is only made while the class still has room for one.
fn record(
    hits: &mut BTreeMap<String, DataHit>,
    class: &str,
    kind: &'static str,
    example: impl FnOnce() -> String,
) {
    let hit = match hits.get_mut(class) {
        Some(hit) => hit,
        None => hits.entry(class.to_string()).or_insert(DataHit {
            kind,
            count: 0,
            examples: Vec::new(),
            values: Vec::new(),
        }),
    };
    hit.count += 1;
    if hit.examples.len() < MAX_EXAMPLES {
        let example = example();
        if !hit.examples.contains(&example) {
            hit.examples.push(example);
        }
    }
}

/// [`record`] for an example written into `scratch`, copied out only when it is kept.
fn record_into(
    hits: &mut BTreeMap<String, DataHit>,
    class: &str,
    kind: &'static str,
    scratch: &mut String,
    write: impl FnOnce(&mut String),
) {
    let hit = match hits.get_mut(class) {
        Some(hit) => hit,
        None => hits.entry(class.to_string()).or_insert(DataHit {
            kind,
            count: 0,
            examples: Vec::new(),
            values: Vec::new(),
        }),
    };
    hit.count += 1;
    if hit.examples.len() < MAX_EXAMPLES {
        scratch.clear();
        write(scratch);
        if !hit.examples.iter().any(|e| e == scratch) {
            hit.examples.push(scratch.clone());
        }
    }
}

/// The ways a secret value shows up in a response besides verbatim.
pub fn encoded_forms(value: &str) -> Vec<String> {
    encode::forms(value).into_iter().map(|(_, f)| f).collect()
}

/// Visits every object key with its path (`$.a[*].b`), reusing one path buffer.
fn walk_json<F: FnMut(&str, &str, &serde_json::Value)>(
    value: &serde_json::Value,
    path: &mut String,
    visit: &mut F,
) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                let len = path.len();
                if key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    path.push('.');
                    path.push_str(key);
                } else {
                    path.push('[');
                    path.push_str(&serde_json::Value::String(key.clone()).to_string());
                    path.push(']');
                }
                visit(path, key, child);
                walk_json(child, path, visit);
                path.truncate(len);
            }
        }
        serde_json::Value::Array(items) => {
            let len = path.len();
            path.push_str("[*]");
            for item in items {
                walk_json(item, path, visit);
            }
            path.truncate(len);
        }
        _ => {}
    }
}

/// `key: <shape>`, as [`redact_json`] makes it, into `out`.
fn redact_json_into(out: &mut String, key: &str, value: &serde_json::Value) {
    /// Counts what is written: a number's digits without printing it to a String.
    struct Count(usize);
    impl std::fmt::Write for Count {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0 += s.len();
            Ok(())
        }
    }
    // Writing to a String (or a counter) cannot fail.
    let _ = match value {
        serde_json::Value::Number(n) => {
            let mut digits = Count(0);
            let _ = write!(digits, "{n}");
            write!(out, "{key}: <number, {} digits>", digits.0)
        }
        serde_json::Value::String(s) => write!(out, "{key}: <string, {} chars>", s.chars().count()),
        serde_json::Value::Bool(_) => write!(out, "{key}: <bool>"),
        serde_json::Value::Null => write!(out, "{key}: <null>"),
        serde_json::Value::Array(a) => write!(out, "{key}: <array of {}>", a.len()),
        serde_json::Value::Object(_) => write!(out, "{key}: <object>"),
    };
}

/// The first two characters and the length: enough to recognise, not enough to use.
pub fn redact_prefix(value: &str) -> String {
    let prefix: String = value.chars().take(2).collect();
    format!("{prefix}…({} chars)", value.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Builtin, Secret};

    #[test]
    fn sourced_classes_keep_their_values_alike_in_json_and_tables_and_others_keep_none() {
        let mut pay = DataClass::new("pay", DataKind::JsonKeys(vec!["compensation".into()]));
        pay.source = Some("hr".into());
        let salary = DataClass::new("salary", DataKind::JsonKeys(vec!["salary".into()]));
        let classifier = Classifier::new(&[pay, salary]);
        let body = r#"{"rows":[{"compensation":185000,"salary":1},{"compensation":"92,500"}]}"#;
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        let (from_json, _) = classifier.classify(body, Some(&json));
        let page = "<table><tr><th>Name</th><th>Compensation</th><th>salary</th></tr>\
                    <tr><td>a</td><td>$185,000</td><td>1</td></tr>\
                    <tr><td>b</td><td> 92500.00 </td><td>2</td></tr></table>";
        let (from_page, _) = classifier.classify(page, None);
        assert_eq!(from_json["pay"].values.len(), 2);
        assert_eq!(from_json["pay"].values, from_page["pay"].values);
        assert!(
            from_json["salary"].values.is_empty(),
            "no source: no values kept"
        );
        assert!(from_page["salary"].values.is_empty());
        assert_ne!(value_key("185000"), value_key("18500"));
        assert_eq!(value_key("  Ann   Lee "), value_key("ann lee"));
    }

    #[test]
    fn each_kind_of_class_is_found_and_redacted() {
        let classifier = Classifier::new(&[
            DataClass::new("salary", DataKind::JsonKeys(vec!["salary".into()])),
            DataClass::new("canary", DataKind::Text("CANARY-X-1".into())),
            DataClass::new(
                "db",
                DataKind::Env {
                    var: "DB".into(),
                    value: Secret::new("hunter2-very-secret"),
                },
            ),
            DataClass::new("email", DataKind::Builtin(Builtin::Email)),
            DataClass::new("card", DataKind::Builtin(Builtin::CreditCard)),
        ]);
        let body = r#"{"people":[{"name":"a","salary":120000,"email":"ann@acme.example"}],
            "note":"CANARY-X-1","cfg":"aHVudGVyMi12ZXJ5LXNlY3JldA","card":"4111 1111 1111 1111","not":"4111 1111 1111 1112"}"#;
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        let (hits, paths) = classifier.classify(body, Some(&json));
        assert_eq!(hits["salary"].count, 1);
        assert_eq!(hits["salary"].examples, vec!["salary: <number, 6 digits>"]);
        assert_eq!(hits["canary"].count, 1);
        assert_eq!(hits["db"].count, 1, "base64 form of the secret");
        assert_eq!(hits["email"].examples, vec!["a…@acme.example"]);
        assert_eq!(hits["card"].count, 1, "only the Luhn-valid number");
        assert!(paths.contains(&"$.people[*].salary".to_string()));
        let rendered = format!("{hits:?}");
        assert!(!rendered.contains("hunter2"));
        assert!(!rendered.contains("120000"));
    }

    #[test]
    fn json_values_are_shown_by_shape_only() {
        let cases = [
            (r#"120000"#, "k: <number, 6 digits>"),
            (r#"-1.5"#, "k: <number, 4 digits>"),
            (r#""hunter2é""#, "k: <string, 8 chars>"),
            ("true", "k: <bool>"),
            ("null", "k: <null>"),
            ("[1, 2, 3]", "k: <array of 3>"),
            (r#"{"a": 1}"#, "k: <object>"),
        ];
        for (json, shown) in cases {
            let value: serde_json::Value = serde_json::from_str(json).unwrap();
            let mut out = String::from("left over");
            out.clear();
            redact_json_into(&mut out, "k", &value);
            assert_eq!(out, shown, "{json}");
            assert!(!out.contains("120000") && !out.contains("hunter2"));
        }
    }

    #[test]
    fn literals_read_the_same_through_either_searcher() {
        // 20 canaries and 200 canaries: the first fits the SIMD searcher, the second does not;
        // both must find the same things, longest first, never a prefix of a longer canary.
        for count in [20usize, 200] {
            let mut classes: Vec<DataClass> = (0..count)
                .map(|i| DataClass::new(&format!("c{i}"), DataKind::Text(format!("CANARY-{i}"))))
                .collect();
            classes.push(DataClass::new(
                "db",
                DataKind::Env {
                    var: "DB".into(),
                    value: Secret::new("hunter2-very-secret"),
                },
            ));
            let classifier = Classifier::new(&classes);
            let packed = classifier
                .literals
                .as_ref()
                .is_some_and(Literals::is_packed);
            assert_eq!(packed, count == 20, "{count} canaries");
            let body = "x CANARY-10 y CANARY-1. CANARY-19z aHVudGVyMi12ZXJ5LXNlY3JldA CANARY-";
            let (hits, _) = classifier.classify(body, None);
            let found: BTreeMap<&str, usize> =
                hits.iter().map(|(k, v)| (k.as_str(), v.count)).collect();
            assert_eq!(
                found,
                BTreeMap::from([("c1", 1), ("c10", 1), ("c19", 1), ("db", 1)]),
                "{count} canaries"
            );
        }
    }

    #[test]
    fn builtins_are_validated_and_redacted() {
        // (builtin, text, expected count, an expected example)
        let cases: &[(Builtin, &str, usize, &str)] = &[
            (
                Builtin::Jwt,
                "t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                1,
                "<jwt, 92 chars>",
            ),
            (
                Builtin::Jwt,
                "eyJnb3RhbGciOjF9.eyJub3RhbGc.abcdefghijkl",
                0,
                "",
            ),
            (Builtin::UsSsn, "123-45-6789 666-12-3456", 1, "ssn …6789"),
            (
                Builtin::CreditCard,
                "4111 1111 1111 1111, 4111 1111 1111 1112",
                1,
                "card …1111",
            ),
            (
                Builtin::Iban,
                "IBAN GB82 WEST 1234 5698 7654 32.",
                1,
                "GB…(27 chars)",
            ),
            (
                Builtin::Phone,
                "call +1 415-555-2671 today",
                1,
                "+1…(15 chars)",
            ),
            (
                Builtin::AwsAccessKey,
                "id=AKIAZ4Q7XK2M5N3P6R7T",
                1,
                "<aws_access_key, 20 chars>",
            ),
            (Builtin::AwsAccessKey, "id=AKIAIOSFODNN7EXAMPLE", 0, ""),
            (
                Builtin::ConnectionString,
                "DATABASE_URL=postgres://app:Zr8pq1Lk@db.internal:5432/app",
                1,
                "<connection_string, 8 chars>",
            ),
            (
                Builtin::ConnectionString,
                "postgres://user:password@localhost/db",
                0,
                "",
            ),
            (
                Builtin::PrivateKey,
                "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2PoLTJk\n-----END",
                1,
                "<private_key, 43 chars>",
            ),
            (
                Builtin::PrivateKey,
                "-----BEGIN RSA PRIVATE KEY-----\n...",
                0,
                "",
            ),
        ];
        for &(builtin, text, count, example) in cases {
            let classifier = Classifier::new(&[DataClass::new("c", DataKind::Builtin(builtin))]);
            let (hits, _) = classifier.classify(text, None);
            let got = hits.get("c").map_or(0, |h| h.count);
            assert_eq!(got, count, "{} in {text}", builtin.as_str());
            if count > 0 {
                assert_eq!(hits["c"].examples[0], example, "{}", builtin.as_str());
            }
        }
    }

    #[test]
    fn a_generic_secret_yields_to_a_specific_rule() {
        let classifier = Classifier::new(&[
            DataClass::new("gh", DataKind::Builtin(Builtin::GithubToken)),
            DataClass::new("generic", DataKind::Builtin(Builtin::GenericSecret)),
        ]);
        let text = r#"{"token": "ghp_Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2", "api_key": "q8Xz2Lp0Rk4Vn7Ws5Jt1"}"#;
        let (hits, _) = classifier.classify(text, None);
        assert_eq!(hits["gh"].count, 1);
        assert_eq!(hits["generic"].count, 1, "only the api_key");
    }

    #[test]
    fn default_secret_rules_run_under_their_own_names_and_yield_to_declared_classes() {
        let defaults: Vec<Builtin> = Builtin::ALL.into_iter().filter(|b| b.is_secret()).collect();
        let body =
            r#"{"id": "AKIAZ4Q7XK2M5N3P6R7T", "stripe": "sk_live_Q8xZ2Lp0Rk4Vn7Ws5Jt1Hd6M"}"#;
        // Nothing declared: each secret under its rule's id; personal data stays opt-in.
        let classifier = Classifier::with_defaults(&[], &defaults);
        let (hits, _) = classifier.classify(&format!("{body} ann@acme.example"), None);
        let names: Vec<&str> = hits.keys().map(String::as_str).collect();
        assert_eq!(names, ["aws_access_key", "stripe_key"]);
        assert_eq!(
            hits["aws_access_key"].examples,
            ["<aws_access_key, 20 chars>"]
        );

        // The stripe key is also a runtime secret the scenario names: one class, the env one.
        // A declared secret builtin and a secret pattern take their text the same way.
        let declared = [
            DataClass::new(
                "stripe-env",
                DataKind::Env {
                    var: "STRIPE".into(),
                    value: Secret::new("sk_live_Q8xZ2Lp0Rk4Vn7Ws5Jt1Hd6M"),
                },
            ),
            DataClass::new(
                "aws-ids",
                DataKind::Pattern {
                    regex: Regex::new(r"AKIA[A-Z0-9]{16}").unwrap(),
                    secret: true,
                },
            ),
        ];
        let classifier = Classifier::with_defaults(&declared, &defaults);
        let (hits, _) = classifier.classify(body, None);
        let names: Vec<&str> = hits.keys().map(String::as_str).collect();
        assert_eq!(names, ["aws-ids", "stripe-env"], "{hits:?}");

        // A declared generic class keeps what a default specific rule would have taken.
        let declared = [DataClass::new(
            "config-secret",
            DataKind::Builtin(Builtin::GenericSecret),
        )];
        let without_generic: Vec<Builtin> = defaults
            .iter()
            .copied()
            .filter(|b| *b != Builtin::GenericSecret)
            .collect();
        let classifier = Classifier::with_defaults(&declared, &without_generic);
        let (hits, _) =
            classifier.classify(r#"{"api_key": "sk_live_Q8xZ2Lp0Rk4Vn7Ws5Jt1Hd6M"}"#, None);
        let names: Vec<&str> = hits.keys().map(String::as_str).collect();
        assert_eq!(names, ["config-secret"], "{hits:?}");
    }

    #[test]
    fn user_patterns_count_and_secret_ones_show_no_prefix() {
        let classifier = Classifier::new(&[
            DataClass::new(
                "ticket",
                DataKind::Pattern {
                    regex: Regex::new(r"TCK-[0-9]{5}").unwrap(),
                    secret: false,
                },
            ),
            DataClass::new(
                "internal-key",
                DataKind::Pattern {
                    regex: Regex::new(r"ik_[a-z0-9]{12}").unwrap(),
                    secret: true,
                },
            ),
        ]);
        let (hits, _) = classifier.classify("TCK-12345 TCK-99999 ik_abcdef123456", None);
        assert_eq!(hits["ticket"].count, 2);
        assert_eq!(hits["ticket"].kind, "pattern");
        assert_eq!(hits["ticket"].examples[0], "TC…(9 chars)");
        assert_eq!(
            hits["internal-key"].examples,
            vec!["<internal-key, 15 chars>"]
        );
    }

    #[test]
    fn html_table_columns_count_as_json_keys() {
        let classifier = Classifier::new(&[DataClass::new(
            "salary",
            DataKind::JsonKeys(vec!["salary".into()]),
        )]);
        let page = "<html><body><table><tr><th>Name</th><th>SALARY </th></tr>
            <tr><td>Ann</td><td>120000</td></tr><tr><td>Bob</td><td></td></tr></table></body></html>";
        let (hits, paths) = classifier.classify(page, None);
        assert_eq!(hits["salary"].count, 1);
        assert_eq!(hits["salary"].examples, vec!["SALARY: <cell, 6 chars>"]);
        assert!(paths.is_empty());
    }

    #[test]
    fn arbitrary_bytes_and_large_bodies_are_safe() {
        let mut classes: Vec<DataClass> = Builtin::ALL
            .iter()
            .map(|b| DataClass::new(b.as_str(), DataKind::Builtin(*b)))
            .collect();
        classes.push(DataClass::new(
            "salary",
            DataKind::JsonKeys(vec!["salary".into()]),
        ));
        classes.push(DataClass::new(
            "db",
            DataKind::Env {
                var: "DB".into(),
                value: Secret::new("hunter2-very-secret"),
            },
        ));
        let classifier = Classifier::new(&classes);
        let mut bytes: Vec<u8> = vec![0xff, 0xfe, b'a', 0xc3, 0x28, 0xe2, 0x82, b' '];
        bytes.extend_from_slice(b"ann@acme.example \0 hunter2-very-secret ");
        bytes.extend_from_slice(&[0xf0, 0x9f, 0x92, 0x00, 0xed, 0xa0, 0x80]);
        let text = String::from_utf8_lossy(&bytes);
        let (hits, _) = classifier.classify(&text, None);
        assert_eq!(hits["email"].count, 1);
        assert_eq!(hits["db"].count, 1);

        // 5 MB: a repeated chunk of mixed text with one email, one secret and one table row
        // each time, and replacement characters from a lossy decode.
        let chunk = "<tr><td>x</td></tr> ann@acme.example hunter2-very-secret \u{fffd} 3f9c2b1e 2026-11-01T10:00:00Z\\n";
        let repeats = 5_000_000 / chunk.len();
        let mut big = String::from("<table><tr><th>Salary</th></tr>");
        big.push_str(&chunk.repeat(repeats));
        let started = std::time::Instant::now();
        let (hits, _) = classifier.classify(&big, None);
        assert_eq!(hits["email"].count, repeats);
        assert_eq!(hits["db"].count, repeats);
        assert_eq!(hits["salary"].count, repeats);
        assert!(hits["email"].examples.len() <= MAX_EXAMPLES);
        // Generous even for a debug build on a slow machine: the point is "no blow-up".
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
    }

    #[test]
    fn keyword_windows_keep_long_matches_and_multibyte_text_whole() {
        let classifier = Classifier::new(&[
            DataClass::new("key", DataKind::Builtin(Builtin::PrivateKey)),
            DataClass::new("generic", DataKind::Builtin(Builtin::GenericSecret)),
        ]);
        // A PEM body far longer than the default reach, after multibyte text.
        let body_line = "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2PoLTJkq8Xz2Lp0Rk4Vn7Ws5Jt1\n";
        let pem = format!(
            "{}-----BEGIN RSA PRIVATE KEY-----\n{}-----END RSA PRIVATE KEY-----\n",
            "é".repeat(300),
            body_line.repeat(80)
        );
        let (hits, _) = classifier.classify(&pem, None);
        assert_eq!(hits.get("key").map(|h| h.count), Some(1), "{hits:?}");
        // A key name before its keyword, multibyte text on both sides of the window.
        let text = format!(
            "{}api_key = \"q8Xz2Lp0Rk4Vn7Ws5Jt1\"{}",
            "ü".repeat(500),
            "ß".repeat(500)
        );
        let (hits, _) = classifier.classify(&text, None);
        assert_eq!(hits.get("generic").map(|h| h.count), Some(1), "{hits:?}");
    }
}
