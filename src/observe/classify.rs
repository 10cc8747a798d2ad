//! Data classes in a response body: JSON keys at any depth, planted canaries, runtime secret
//! values (verbatim and encoded), and built-in detectors with validators. Examples are kept
//! only in redacted form.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use base64::Engine;
use regex::Regex;
use serde::Serialize;

use crate::scenario::{Builtin, DataClass, DataKind};

/// At most this many redacted examples per class per response.
const MAX_EXAMPLES: usize = 3;
/// At most this many JSON key paths per response.
const MAX_JSON_PATHS: usize = 200;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DataHit {
    /// json_keys | text | env | builtin
    pub kind: &'static str,
    pub count: usize,
    /// Redacted: never the value.
    pub examples: Vec<String>,
}

#[derive(Clone, Copy, Debug)]
enum Literal {
    Canary,
    Env,
}

#[derive(Debug)]
pub struct Classifier {
    json_keys: HashMap<String, String>,
    literals: Option<AhoCorasick>,
    /// Per literal pattern: (class, kind).
    literal_classes: Vec<(String, Literal)>,
    builtins: Vec<(String, Builtin)>,
}

impl Classifier {
    pub fn new(classes: &[DataClass]) -> Classifier {
        let mut json_keys = HashMap::new();
        let mut patterns = Vec::new();
        let mut literal_classes = Vec::new();
        let mut builtins = Vec::new();
        for class in classes {
            match &class.kind {
                DataKind::JsonKeys(keys) => {
                    for key in keys {
                        json_keys.insert(key.to_lowercase(), class.name.clone());
                    }
                }
                DataKind::Text(text) => {
                    patterns.push(text.clone());
                    literal_classes.push((class.name.clone(), Literal::Canary));
                }
                DataKind::Env { value, .. } => {
                    for form in encoded_forms(value.expose()) {
                        patterns.push(form);
                        literal_classes.push((class.name.clone(), Literal::Env));
                    }
                }
                DataKind::Builtin(builtin) => builtins.push((class.name.clone(), *builtin)),
            }
        }
        let literals = if patterns.is_empty() {
            None
        } else {
            AhoCorasick::new(&patterns).ok()
        };
        Classifier {
            json_keys,
            literals,
            literal_classes,
            builtins,
        }
    }

    /// Classifies a body. `json` is the parsed body when it is JSON.
    pub fn classify(
        &self,
        text: &str,
        json: Option<&serde_json::Value>,
    ) -> (BTreeMap<String, DataHit>, Vec<String>) {
        let mut hits: BTreeMap<String, DataHit> = BTreeMap::new();
        let mut paths = BTreeSet::new();
        if let Some(json) = json {
            walk_json(json, "$", &mut |path, key, value| {
                if paths.len() < MAX_JSON_PATHS {
                    paths.insert(path.to_string());
                }
                if let Some(class) = self.json_keys.get(&key.to_lowercase()) {
                    record(&mut hits, class, "json_keys", redact_json(key, value));
                }
            });
        }
        if let Some(literals) = &self.literals {
            for found in literals.find_overlapping_iter(text) {
                if let Some((class, kind)) = self.literal_classes.get(found.pattern().as_usize()) {
                    let matched = &text[found.start()..found.end()];
                    let (kind, example) = match kind {
                        Literal::Canary => ("text", redact_prefix(matched)),
                        Literal::Env => ("env", format!("<secret, {} chars>", matched.len())),
                    };
                    record(&mut hits, class, kind, example);
                }
            }
        }
        for (class, builtin) in &self.builtins {
            for example in detect(*builtin, text) {
                record(&mut hits, class, "builtin", example);
            }
        }
        (hits, paths.into_iter().collect())
    }
}

fn record(hits: &mut BTreeMap<String, DataHit>, class: &str, kind: &'static str, example: String) {
    let hit = hits.entry(class.to_string()).or_insert(DataHit {
        kind,
        count: 0,
        examples: Vec::new(),
    });
    hit.count += 1;
    if hit.examples.len() < MAX_EXAMPLES && !hit.examples.contains(&example) {
        hit.examples.push(example);
    }
}

/// The ways a secret value shows up in a response besides verbatim.
pub fn encoded_forms(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_string()];
    let b64 = base64::engine::general_purpose::STANDARD.encode(value);
    forms.push(b64.trim_end_matches('=').to_string());
    forms.push(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value));
    forms.push(url::form_urlencoded::byte_serialize(value.as_bytes()).collect());
    if let Ok(json) = serde_json::to_string(value) {
        forms.push(json.trim_matches('"').to_string());
    }
    forms.push(value.bytes().map(|b| format!("{b:02x}")).collect());
    forms.sort();
    forms.dedup();
    forms
}

fn walk_json(
    value: &serde_json::Value,
    path: &str,
    visit: &mut dyn FnMut(&str, &str, &serde_json::Value),
) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                let child_path = if key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    format!("{path}.{key}")
                } else {
                    format!("{path}[{}]", serde_json::Value::String(key.clone()))
                };
                visit(&child_path, key, child);
                walk_json(child, &child_path, visit);
            }
        }
        serde_json::Value::Array(items) => {
            let child_path = format!("{path}[*]");
            for item in items {
                walk_json(item, &child_path, visit);
            }
        }
        _ => {}
    }
}

fn redact_json(key: &str, value: &serde_json::Value) -> String {
    let shape = match value {
        serde_json::Value::Number(n) => format!("number, {} digits", n.to_string().len()),
        serde_json::Value::String(s) => format!("string, {} chars", s.chars().count()),
        serde_json::Value::Bool(_) => "bool".to_string(),
        serde_json::Value::Null => "null".to_string(),
        serde_json::Value::Array(a) => format!("array of {}", a.len()),
        serde_json::Value::Object(_) => "object".to_string(),
    };
    format!("{key}: <{shape}>")
}

/// The first two characters and the length: enough to recognise, not enough to use.
pub fn redact_prefix(value: &str) -> String {
    let prefix: String = value.chars().take(2).collect();
    format!("{prefix}…({} chars)", value.chars().count())
}

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("constant pattern compiles")
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}\b")
});
static CARD: LazyLock<Regex> = LazyLock::new(|| regex(r"\b\d(?:[ -]?\d){12,18}\b"));
static JWT: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"));
static PRIVATE_KEY: LazyLock<Regex> =
    LazyLock::new(|| regex(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----"));
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?:\+\d{1,3}[ .-]?)?\(?\d{2,4}\)?[ .-]\d{3,4}[ .-]\d{3,4}\b"));
static IBAN: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"));
static SSN: LazyLock<Regex> = LazyLock::new(|| regex(r"\b(\d{3})-(\d{2})-(\d{4})\b"));

/// Redacted examples of a built-in class found in `text`.
fn detect(builtin: Builtin, text: &str) -> Vec<String> {
    match builtin {
        Builtin::Email => EMAIL
            .find_iter(text)
            .map(|m| {
                let value = m.as_str();
                let (local, domain) = value.split_once('@').unwrap_or((value, ""));
                let first: String = local.chars().take(1).collect();
                format!("{first}…@{domain}")
            })
            .collect(),
        Builtin::CreditCard => CARD
            .find_iter(text)
            .filter_map(|m| {
                let digits: Vec<u32> = m.as_str().chars().filter_map(|c| c.to_digit(10)).collect();
                (luhn(&digits) && digits.len() >= 13).then(|| {
                    let last: String = digits[digits.len() - 4..]
                        .iter()
                        .map(|d| char::from_digit(*d, 10).unwrap_or('?'))
                        .collect();
                    format!("card …{last}")
                })
            })
            .collect(),
        Builtin::Jwt => JWT
            .find_iter(text)
            .filter(|m| jwt_header_decodes(m.as_str()))
            .map(|m| format!("<jwt, {} chars>", m.as_str().len()))
            .collect(),
        Builtin::PrivateKey => PRIVATE_KEY
            .find_iter(text)
            .map(|m| {
                format!(
                    "<{} block>",
                    m.as_str().trim_matches('-').trim_start_matches("BEGIN ")
                )
            })
            .collect(),
        Builtin::Phone => PHONE
            .find_iter(text)
            .filter(|m| {
                let digits = m.as_str().chars().filter(char::is_ascii_digit).count();
                (10..=15).contains(&digits)
            })
            .map(|m| redact_prefix(m.as_str()))
            .collect(),
        Builtin::Iban => IBAN
            .find_iter(text)
            .filter(|m| iban_valid(m.as_str()))
            .map(|m| redact_prefix(m.as_str()))
            .collect(),
        Builtin::UsSsn => SSN
            .captures_iter(text)
            .filter(|c| {
                let area = &c[1];
                area != "000"
                    && area != "666"
                    && !area.starts_with('9')
                    && &c[2] != "00"
                    && &c[3] != "0000"
            })
            .map(|c| format!("ssn …{}", &c[3]))
            .collect(),
    }
}

fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    !digits.is_empty() && sum.is_multiple_of(10)
}

fn jwt_header_decodes(token: &str) -> bool {
    let Some(header) = token.split('.').next() else {
        return false;
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .is_some_and(|h| h.get("alg").is_some())
}

fn iban_valid(candidate: &str) -> bool {
    let compact: String = candidate.chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let rearranged = format!("{}{}", &compact[4..], &compact[..4]);
    let mut remainder: u32 = 0;
    for c in rearranged.chars() {
        let value = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        for digit in value.to_string().chars() {
            remainder = (remainder * 10 + digit.to_digit(10).unwrap_or(0)) % 97;
        }
    }
    remainder == 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Location, Secret};

    fn class(name: &str, kind: DataKind) -> DataClass {
        DataClass {
            name: name.to_string(),
            kind,
            belongs_to: None,
            location: Location::default(),
        }
    }

    #[test]
    fn each_kind_of_class_is_found_and_redacted() {
        let classifier = Classifier::new(&[
            class("salary", DataKind::JsonKeys(vec!["salary".into()])),
            class("canary", DataKind::Text("CANARY-X-1".into())),
            class(
                "db",
                DataKind::Env {
                    var: "DB".into(),
                    value: Secret::new("hunter2-very-secret"),
                },
            ),
            class("email", DataKind::Builtin(Builtin::Email)),
            class("card", DataKind::Builtin(Builtin::CreditCard)),
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
    fn validators_reject_lookalikes() {
        assert!(luhn(&[4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]));
        assert!(!luhn(&[4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]));
        assert!(iban_valid("GB82 WEST 1234 5698 7654 32"));
        assert!(!iban_valid("GB82 WEST 1234 5698 7654 33"));
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(detect(Builtin::Jwt, jwt).len(), 1);
        assert!(detect(Builtin::Jwt, "eyJnb3Rh.eyJub3RhbGc.abcdefghijkl").is_empty());
        assert_eq!(detect(Builtin::UsSsn, "123-45-6789 666-12-3456").len(), 1);
        assert_eq!(
            detect(Builtin::PrivateKey, "-----BEGIN RSA PRIVATE KEY-----\nMII").len(),
            1
        );
    }
}
