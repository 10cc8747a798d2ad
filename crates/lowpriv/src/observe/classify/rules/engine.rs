//! The rule engine: the rules a classifier uses, compiled into one matcher, and the search.
//!
//! Input: the builtin classes a scenario declares, and a body's text. Output: every validated
//! hit, each with the class it belongs to and a redacted example (never the value).
//!
//! Speed: a body is read whole once, plus memchr for one-byte keywords (`@`). One regex of many
//! patterns holds the rules without keywords (personal data made of digits and letters) and,
//! per keyword rule, its keywords: a keywordless match is judged on the spot, a keyword hit
//! opens a window (`before`/`reach` of the rule) in which alone that rule's regex runs. Every
//! pattern is a `regex` pattern, so matching is linear in the body whatever it holds.

use std::ops::Range;

use regex_automata::{Input, meta};

use super::validate::{entropy, placeholder, validate};
use super::{RULE_SIZE_LIMIT, RULES, Rule, Validator, ignores_case, rule};
use crate::scenario::Builtin;

/// How far past its keyword a match may end when a rule does not say (`reach`).
const DEFAULT_REACH: usize = 2048;
/// How far before its keyword a match may start when a rule does not say (`before`).
const DEFAULT_BEFORE: usize = 256;

/// Merged `[hit - before, hit + reach)` windows, on char boundaries.
fn windows(text: &str, hits: &[usize], before: usize, reach: usize) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    for &hit in hits {
        let mut start = hit.saturating_sub(before);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = hit.saturating_add(reach).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        match out.last_mut() {
            Some(last) if start <= last.end => last.end = last.end.max(end),
            _ => out.push(start..end),
        }
    }
    out
}

fn next_char(text: &str, at: usize) -> usize {
    let mut next = at + 1;
    while next < text.len() && !text.is_char_boundary(next) {
        next += 1;
    }
    next
}

/// The engine under `regex`, for searches bounded to a window that still see around it.
fn compile_meta(pattern: &str, limit: usize) -> Result<meta::Regex, Box<meta::BuildError>> {
    meta::Regex::builder()
        .configure(meta::Regex::config().nfa_size_limit(Some(limit)))
        .build(pattern)
        .map_err(Box::new)
}

/// A rule in use by one data class.
#[derive(Debug)]
struct Active {
    class: String,
    rule: &'static Rule,
    /// Run by default, not declared: its class is the rule id, and a declared class's hit
    /// on the same text takes precedence (see `scan` and the classifier).
    implicit: bool,
    /// The rule's own regex, for keyword rules (run in windows around their keyword hits);
    /// absent for rules run in the joined pass.
    regex: Option<meta::Regex>,
}

/// What one pattern of the joined pass stands for.
#[derive(Clone, Copy, Debug)]
enum Alternative {
    /// A keywordless rule's whole regex (index into `active`).
    Rule(usize),
    /// One of a keyword rule's keywords (index into `active`).
    Keyword(usize),
}

/// Every keywordless rule and every keyword of every keyword rule, read in a single pass:
/// `r0`, `r1`, ..., `(?-u:kw|kw)`, `(?i-u:kw|kw)` as the patterns of one regex.
#[derive(Debug)]
struct Joined {
    /// One pattern per alternative: a match says which one it is without resolving groups
    /// (a keywordless rule's value is its whole match; a test holds the rule file to it).
    regex: meta::Regex,
    /// Per pattern: what it stands for.
    alternatives: Vec<Alternative>,
}

/// A validated hit.
#[derive(Debug)]
pub struct Found<'e> {
    pub class: &'e str,
    pub rule: &'static Rule,
    /// From a default-on rule the scenario did not declare.
    pub implicit: bool,
    pub range: Range<usize>,
    pub example: String,
}

#[derive(Debug, Default)]
pub struct Engine {
    active: Vec<Active>,
    joined: Option<Joined>,
    /// Single-byte keywords (`@`), found with memchr: (byte, index into `active`). As an
    /// alternative of the joined pass, every mailbox would stop the automaton once.
    bytes: Vec<(u8, usize)>,
}

impl Engine {
    /// An engine for these (class name, builtin) pairs. A rule that does not compile is left
    /// out with an error log; the unit tests compile every rule, so it cannot happen in a
    /// tested build.
    pub fn new(classes: &[(String, Builtin)]) -> Engine {
        Engine::with_defaults(classes, &[])
    }

    /// An engine for the declared (class name, builtin) pairs plus `defaults`, rules run
    /// under their own id as the class name.
    pub fn with_defaults(classes: &[(String, Builtin)], defaults: &[Builtin]) -> Engine {
        let mut engine = Engine::default();
        let all = classes
            .iter()
            .map(|(c, b)| (c.clone(), *b, false))
            .chain(defaults.iter().map(|b| (b.as_str().to_string(), *b, true)));
        for (class, builtin, implicit) in all {
            let Some(rule) = rule(builtin) else {
                tracing::error!(builtin = builtin.as_str(), "no rule for this builtin");
                continue;
            };
            let regex = if rule.keywords.is_empty() {
                None
            } else {
                match compile_meta(&rule.regex, RULE_SIZE_LIMIT) {
                    Ok(regex) => Some(regex),
                    Err(error) => {
                        tracing::error!(rule = rule.id, %error, "a builtin rule does not compile");
                        continue;
                    }
                }
            };
            engine.active.push(Active {
                class,
                rule,
                implicit,
                regex,
            });
        }
        // The joined pass prefers earlier alternatives at the same place: keep file order,
        // which puts the stricter shapes first, whatever order the scenario lists classes in.
        let mut order: Vec<usize> = (0..engine.active.len()).collect();
        order.sort_by_key(|&i| {
            RULES
                .iter()
                .position(|r| std::ptr::eq(r, engine.active[i].rule))
        });
        for &index in &order {
            let rule = engine.active[index].rule;
            for keyword in &rule.keywords {
                if let &[byte] = keyword.as_bytes() {
                    engine.bytes.push((byte, index));
                    if ignores_case(rule) && byte.is_ascii_alphabetic() {
                        engine.bytes.push((byte.to_ascii_uppercase(), index));
                        engine.bytes.push((byte.to_ascii_lowercase(), index));
                    }
                }
            }
        }
        engine.bytes.dedup();
        engine.joined = join(&engine.active, &order);
        engine
    }

    /// Every validated hit in `text`, in rule order, then position.
    pub fn scan(&self, text: &str) -> Vec<Found<'_>> {
        let mut found = Vec::new();
        // Where each keyword rule's keywords occur.
        let mut hits: Vec<Vec<usize>> = vec![Vec::new(); self.active.len()];
        for &(byte, index) in &self.bytes {
            hits[index].extend(memchr::memchr_iter(byte, text.as_bytes()));
        }
        if let Some(joined) = &self.joined {
            let mut at = 0;
            while at <= text.len() {
                let Some(whole) = joined.regex.find(Input::new(text).span(at..text.len())) else {
                    break;
                };
                match joined.alternatives.get(whole.pattern().as_usize()) {
                    Some(Alternative::Rule(index)) => {
                        let active = &self.active[*index];
                        if let Some(hit) = judge(active, text, whole.range(), whole.range()) {
                            found.push(hit);
                        }
                    }
                    Some(Alternative::Keyword(index)) => {
                        hits[*index].push(whole.start());
                        // Keywords may overlap (one rule's keyword inside or across
                        // another's): look again from the next character, not past this one.
                        at = next_char(text, whole.start());
                        continue;
                    }
                    None => {}
                }
                at = if whole.end() > whole.start() {
                    whole.end()
                } else {
                    next_char(text, whole.end())
                };
            }
        }
        for (index, active) in self.active.iter().enumerate() {
            let Some(regex) = &active.regex else {
                continue;
            };
            // Every match holds one of its rule's keywords, so it lies in a window around a
            // keyword hit: the regex reads those windows, not the whole body.
            hits[index].sort_unstable();
            let before = active.rule.before.unwrap_or(DEFAULT_BEFORE);
            let reach = active.rule.reach.unwrap_or(DEFAULT_REACH);
            let mut captures = regex.create_captures();
            for window in windows(text, &hits[index], before, reach) {
                let mut at = window.start;
                while at < window.end {
                    // The search is bounded to the window but sees the text around it, so
                    // a `\b` at the window's edge is judged on the real next character,
                    // not on a cut.
                    let input = Input::new(text).span(at..window.end);
                    // Only a rule whose value is a group pays for finding groups.
                    let (whole, value) = if active.rule.group == 0 {
                        let Some(whole) = regex.find(input) else {
                            break;
                        };
                        (whole.range(), Some(whole.range()))
                    } else {
                        regex.search_captures(&input, &mut captures);
                        let Some(whole) = captures.get_match() else {
                            break;
                        };
                        let value = captures
                            .get_group(active.rule.group)
                            .map(|span| span.range());
                        (whole.range(), value)
                    };
                    if let Some(hit) =
                        value.and_then(|value| judge(active, text, whole.clone(), value))
                    {
                        found.push(hit);
                    }
                    at = if whole.end > whole.start {
                        whole.end
                    } else {
                        next_char(text, whole.end)
                    };
                }
            }
        }
        // A generic rule speaks only where no specific secret rule did: one leaked token is
        // one finding, under its most precise name. A declared generic class yields only to a
        // declared specific one: against a default-on rule, the scenario's own name wins (the
        // classifier drops the default's hit instead).
        let specific: Vec<(Range<usize>, bool)> = found
            .iter()
            .filter(|f| f.rule.secret && !f.rule.fallback)
            .map(|f| (f.range.clone(), f.implicit))
            .collect();
        found.retain(|f| {
            !f.rule.fallback
                || !specific.iter().any(|(r, implicit)| {
                    (f.implicit || !implicit) && r.start < f.range.end && f.range.start < r.end
                })
        });
        found
    }
}

/// The joined pass over `order` (indexes into `active`, in file order): keywordless rules
/// first, so that where one of them and a keyword start at the same place the rule wins.
fn join(active: &[Active], order: &[usize]) -> Option<Joined> {
    let mut patterns: Vec<String> = Vec::new();
    let mut alternatives = Vec::new();
    for &index in order {
        let rule = active[index].rule;
        if !rule.keywords.is_empty() {
            continue;
        }
        if rule.group != 0 {
            tracing::error!(
                rule = rule.id,
                "a rule without keywords must not name a group"
            );
            continue;
        }
        // Alone first: a rule that does not build is named and left out, not the whole pass.
        if let Err(error) = compile_meta(&rule.regex, RULE_SIZE_LIMIT) {
            tracing::error!(rule = rule.id, %error, "a builtin rule does not compile");
            continue;
        }
        patterns.push(rule.regex.clone());
        alternatives.push(Alternative::Rule(index));
    }
    for &index in order {
        let rule = active[index].rule;
        if active[index].regex.is_none() {
            continue;
        }
        let keywords: Vec<String> = rule
            .keywords
            .iter()
            .filter(|k| k.len() > 1)
            .map(|k| regex::escape(k))
            .collect();
        if keywords.is_empty() {
            continue;
        }
        let flags = if ignores_case(rule) { "i-u" } else { "-u" };
        patterns.push(format!("(?{flags}:{})", keywords.join("|")));
        alternatives.push(Alternative::Keyword(index));
    }
    if patterns.is_empty() {
        return None;
    }
    // Leftmost-first across patterns, as in one alternation: at the same place the earlier
    // pattern wins.
    let built = meta::Regex::builder()
        .configure(meta::Regex::config().nfa_size_limit(Some(RULE_SIZE_LIMIT * patterns.len())))
        .build_many(&patterns);
    match built {
        Ok(regex) => Some(Joined {
            regex,
            alternatives,
        }),
        Err(error) => {
            tracing::error!(%error, "the joined builtin pass does not compile");
            None
        }
    }
}

fn judge<'e>(
    active: &'e Active,
    text: &str,
    whole: Range<usize>,
    value: Range<usize>,
) -> Option<Found<'e>> {
    let rule = active.rule;
    let v = text.get(value.clone())?;
    if rule.entropy.is_some_and(|min| entropy(v) < min) {
        return None;
    }
    if rule.secret && placeholder(v) {
        return None;
    }
    if let Some(validator) = rule.validator
        && !validate(validator, text, whole.clone(), v)
    {
        return None;
    }
    let example = if rule.secret {
        // Secrets get no prefix at all: even four characters narrow a guess.
        format!("<{}, {} chars>", rule.id, v.chars().count())
    } else {
        match rule.validator {
            Some(Validator::Email) => {
                let (local, domain) = v.split_once('@').unwrap_or((v, ""));
                let first: String = local.chars().take(1).collect();
                format!("{first}…@{domain}")
            }
            // The last four digits: what receipts and support staff already show.
            Some(Validator::Luhn) => format!("card …{}", last_digits(v, 4)),
            Some(Validator::Ssn) => format!("ssn …{}", last_digits(v, 4)),
            _ => super::super::redact_prefix(v),
        }
    };
    Some(Found {
        class: &active.class,
        rule,
        implicit: active.implicit,
        range: whole,
        example,
    })
}

fn last_digits(value: &str, n: usize) -> String {
    let digits: Vec<char> = value.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(n)..].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The windows (`before`, `reach`) are tight: each keyword rule must still find, whole,
    /// the longest instance its format allows in practice, with its keyword far into it.
    #[test]
    fn windows_hold_the_longest_realistic_instance() {
        let b64 = |n: usize| -> String {
            "Zk3qP9xLm2Vb7Rt4Wn8Yc1Hd6Js0Ga5E"
                .chars()
                .cycle()
                .take(n)
                .collect()
        };
        let pem_body: String = (0..400).map(|_| format!("{}\n", b64(64))).collect();
        let jwt_payload = format!("eyJ{}", b64(12_000));
        // (builtin, text, the value's length in the example)
        let cases: Vec<(Builtin, String, usize)> = vec![
            (
                Builtin::Email,
                format!("to: {}@{}example.com,", "a".repeat(64), "sub.".repeat(40)),
                0,
            ),
            (
                Builtin::PrivateKey,
                format!(
                    "-----BEGIN ENCRYPTED OPENSSH PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n{pem_body}-----END"
                ),
                400 * 65 - 1,
            ),
            (
                Builtin::Jwt,
                format!("x eyJhbGciOiJIUzI1NiJ9.{jwt_payload}.{}", b64(43)),
                21 + 12_003 + 1 + 43,
            ),
            (
                Builtin::GithubToken,
                format!("github_pat_{}_{}", b64(22), b64(59)),
                93,
            ),
            (Builtin::GithubToken, format!("ghp_{}", b64(251)), 255),
            (Builtin::StripeKey, format!("sk_live_{}", b64(247)), 255),
            (
                Builtin::OpenaiKey,
                format!("sk-proj-{}T3BlbkFJ{}", b64(74), b64(74)),
                164,
            ),
            (
                Builtin::ConnectionString,
                format!("mongodb+srv://svc:{}@cluster0.example.net/db", b64(128)),
                128,
            ),
            (
                Builtin::Argon2Hash,
                format!("$argon2id$v=19$m=65536,t=3,p=4${}${}", b64(64), b64(342)),
                31 + 64 + 1 + 342,
            ),
            (
                Builtin::Pbkdf2Hash,
                format!("pbkdf2_sha512$100000000${}${}==", b64(64), b64(128)),
                14 + 9 + 1 + 64 + 1 + 130,
            ),
            (
                Builtin::ScryptHash,
                format!("scrypt$1048576${}$128$16${}==", b64(64), b64(128)),
                7 + 7 + 1 + 64 + 8 + 130,
            ),
            (
                Builtin::Sha512CryptHash,
                format!("$6$rounds=999999999${}${}", b64(16), b64(86)),
                3 + 17 + 16 + 1 + 86,
            ),
            (
                Builtin::GenericSecret,
                format!("encryption_key_for_backup_store   =   \"{}\"", b64(128)),
                128,
            ),
        ];
        for (builtin, text, length) in cases {
            let engine = Engine::new(&[("c".to_string(), builtin)]);
            let found = engine.scan(&text);
            assert_eq!(found.len(), 1, "{}: {found:?}", builtin.as_str());
            let shown = found[0].example.clone();
            let whole = if builtin == Builtin::Email {
                shown == format!("a…@{}example.com", "sub.".repeat(40))
            } else {
                shown.ends_with(&format!(", {length} chars>"))
            };
            assert!(
                whole,
                "{}: the whole value, not a window's worth: {shown}",
                builtin.as_str()
            );
        }
    }
}
