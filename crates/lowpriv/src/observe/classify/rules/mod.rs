//! The built-in detectors' rule file: `rules.toml`, embedded in the binary and read once.
//!
//! Input: the embedded file. Output: every [`Rule`] in file order ([`RULES`]) and the rule behind
//! a builtin ([`rule`]). Invariants (held by the unit tests below, so they hold in every tested
//! build): the file parses; every rule compiles under `RULE_SIZE_LIMIT` and matches no empty
//! string; the rule ids are exactly the [`Builtin`]s, with the same `secret` flags.
//!
//! The rules are searched by the [`Engine`] (in `engine`); a regex match counts only once its
//! rule's [`Validator`] accepts it (in `validate`).

mod engine;
mod validate;

use std::sync::LazyLock;

use serde::Deserialize;

use crate::scenario::Builtin;

pub use engine::{Engine, Found};
pub use validate::{entropy, iban, jwt_header_decodes, luhn};

/// The rule file, compiled into the binary.
pub const SOURCE: &str = include_str!("../rules.toml");

/// Compiled-size cap for one rule; the joined pass gets one per rule it holds.
const RULE_SIZE_LIMIT: usize = 1 << 22;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    rules: Vec<Rule>,
}

/// How bad a hit of a rule is, as the rule file grades it (not a finding's severity: the judge
/// grades findings on its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleSeverity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl RuleSeverity {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleSeverity::Critical => "critical",
            RuleSeverity::High => "high",
            RuleSeverity::Medium => "medium",
            RuleSeverity::Low => "low",
            RuleSeverity::Info => "info",
        }
    }
}

/// A named check run on every regex match before it counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Validator {
    Email,
    Phone,
    Luhn,
    Iban,
    Ssn,
    Jwt,
    Pem,
    Password,
    Bcrypt,
    Assignment,
    /// A PBKDF2 hash's iteration count is one a framework would store (at least 1000).
    Iterations,
    /// A crypt(3) hash ends where its alphabet does, with a plausible `rounds=`.
    Crypt,
}

/// One `[[rules]]` entry of `rules.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub description: String,
    pub regex: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub group: usize,
    #[serde(default)]
    pub validator: Option<Validator>,
    #[serde(default)]
    pub entropy: Option<f64>,
    pub severity: RuleSeverity,
    pub secret: bool,
    #[serde(default)]
    pub fallback: bool,
    /// How far past a keyword a match may end, in bytes (default 2048): the regex runs only
    /// in windows around keyword hits.
    #[serde(default)]
    pub reach: Option<usize>,
    /// How far before a keyword a match may start, in bytes (default 256): `api_key` before
    /// `key`, a mailbox before `@`, `-----BEGIN RSA ` before `PRIVATE KEY`.
    #[serde(default)]
    pub before: Option<usize>,
}

/// Every rule in file order. The file is a constant of the build; a unit test parses it and
/// compiles every rule, so the `expect`s below cannot fire in a tested build.
#[allow(clippy::expect_used)]
pub static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    toml::from_str::<RuleFile>(SOURCE)
        .expect("embedded rules.toml parses")
        .rules
});

/// The rule behind a builtin.
pub fn rule(builtin: Builtin) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == builtin.as_str())
}

/// A rule whose regex ignores case has its keywords matched ignoring (ASCII) case too;
/// every other rule's keywords are matched exactly as written (`AKIA`, `eyJ`, `ghp_`).
fn ignores_case(rule: &Rule) -> bool {
    rule.regex.starts_with("(?i)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::{Regex, RegexBuilder};

    fn compile(pattern: &str, limit: usize) -> Result<Regex, regex::Error> {
        RegexBuilder::new(pattern).size_limit(limit).build()
    }

    #[test]
    fn the_rule_file_parses_and_every_rule_compiles() {
        assert!(!RULES.is_empty());
        for rule in RULES.iter() {
            let regex = compile(&rule.regex, RULE_SIZE_LIMIT)
                .unwrap_or_else(|e| panic!("rule {} does not compile: {e}", rule.id));
            assert!(
                rule.group < regex.captures_len(),
                "rule {} names group {} it does not have",
                rule.id,
                rule.group
            );
            assert!(!regex.is_match(""), "rule {} matches nothing", rule.id);
            for k in &rule.keywords {
                if ignores_case(rule) {
                    assert_eq!(
                        *k,
                        k.to_lowercase(),
                        "rule {}: keywords of a (?i) rule are lowercase",
                        rule.id
                    );
                }
                assert!(!k.is_empty(), "rule {}: an empty keyword", rule.id);
            }
            assert!(
                !rule.keywords.is_empty() || rule.group == 0,
                "rule {}: the joined pass takes a keywordless rule's whole match as its value",
                rule.id
            );
        }
    }

    #[test]
    fn rules_and_builtins_are_the_same_list() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id.as_str()).collect();
        let mut builtins: Vec<&str> = Builtin::ALL.iter().map(|b| b.as_str()).collect();
        ids.sort_unstable();
        builtins.sort_unstable();
        assert_eq!(ids, builtins);
        for b in Builtin::ALL {
            let rule = rule(b).map(|r| r.secret);
            assert_eq!(rule, Some(b.is_secret()), "secret flag of {}", b.as_str());
        }
    }
}
