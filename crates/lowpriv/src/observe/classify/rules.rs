//! The built-in detectors: rules read from the embedded `rules.toml`, compiled into one
//! [`Engine`] per classifier.
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
use std::sync::LazyLock;

use base64::Engine as _;
use regex_automata::{Input, meta};
use serde::Deserialize;

use crate::scenario::Builtin;

/// The rule file, compiled into the binary.
pub const SOURCE: &str = include_str!("rules.toml");

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

/// Compiled-size cap for one rule; the joined pass gets one per rule it holds.
const RULE_SIZE_LIMIT: usize = 1 << 22;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    rules: Vec<Rule>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
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
    pub severity: Severity,
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

/// A rule whose regex ignores case has its keywords matched ignoring (ASCII) case too;
/// every other rule's keywords are matched exactly as written (`AKIA`, `eyJ`, `ghp_`).
fn ignores_case(rule: &Rule) -> bool {
    rule.regex.starts_with("(?i)")
}

impl Engine {
    /// An engine for these (class name, builtin) pairs. A rule that does not compile is left
    /// out with an error log; the unit tests compile every rule, so it cannot happen in a
    /// tested build.
    pub fn new(classes: &[(String, Builtin)]) -> Engine {
        let mut engine = Engine::default();
        for (class, builtin) in classes {
            let Some(rule) = rule(*builtin) else {
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
                class: class.clone(),
                rule,
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
        // one finding, under its most precise name.
        let specific: Vec<Range<usize>> = found
            .iter()
            .filter(|f| f.rule.secret && !f.rule.fallback)
            .map(|f| f.range.clone())
            .collect();
        found.retain(|f| {
            !f.rule.fallback
                || !specific
                    .iter()
                    .any(|r| r.start < f.range.end && f.range.start < r.end)
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
            _ => super::redact_prefix(v),
        }
    };
    Some(Found {
        class: &active.class,
        rule,
        range: whole,
        example,
    })
}

fn last_digits(value: &str, n: usize) -> String {
    let digits: Vec<char> = value.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(n)..].iter().collect()
}

/// Shannon entropy in bits per character.
pub fn entropy(value: &str) -> f64 {
    let mut counts = [0usize; 256];
    let mut total = 0usize;
    for b in value.bytes() {
        counts[usize::from(b)] += 1;
        total += 1;
    }
    if total == 0 {
        return 0.0;
    }
    let total = total as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / total;
            -p * p.log2()
        })
        .sum()
}

/// Documentation values and template holes, which look like secrets but are not.
fn placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    const WORDS: &[&str] = &[
        "example",
        "xxxxx",
        "*****",
        "your_",
        "your-",
        "yourpassword",
        "placeholder",
        "redacted",
        "dummy",
        "${",
        "{{",
        "<",
        ">",
        "%s",
    ];
    if WORDS.iter().any(|w| lower.contains(w)) {
        return true;
    }
    let mut chars = value.chars();
    let first = chars.next();
    first.is_none() || chars.all(|c| Some(c) == first)
}

fn validate(validator: Validator, text: &str, whole: Range<usize>, value: &str) -> bool {
    match validator {
        Validator::Email => email(value) && !in_url_userinfo(text, whole.start),
        Validator::Phone => isolated(text, &whole) && phone(value),
        Validator::Luhn => isolated(text, &whole) && card(value),
        Validator::Iban => isolated(text, &whole) && iban(value),
        Validator::Ssn => isolated(text, &whole) && ssn(value),
        Validator::Jwt => jwt_header_decodes(value),
        Validator::Pem => {
            value
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/'))
                .count()
                >= 40
        }
        Validator::Password => password(value),
        Validator::Bcrypt => value
            .get(4..6)
            .and_then(|cost| cost.parse::<u8>().ok())
            .is_some_and(|cost| (4..=31).contains(&cost)),
        Validator::Assignment => assignment(text, whole.start, value),
    }
}

/// A number standing alone, not a piece of a version, a date, an IP address, an order or
/// asset id (`v1.2.3`, `ORD-2026-...`, `4.1%`).
fn isolated(text: &str, whole: &Range<usize>) -> bool {
    let before = text[..whole.start].chars().next_back();
    let mut after = text[whole.end..].chars();
    let next = after.next();
    let next2 = after.next();
    let joined_before = before.is_some_and(|c| {
        c.is_alphanumeric() || matches!(c, '-' | '.' | '/' | '_' | '#' | '+' | '$' | '€' | '£')
    });
    let joined_after = next.is_some_and(|c| {
        c.is_alphanumeric()
            || matches!(c, '-' | '/' | '_' | '%')
            || (matches!(c, '.' | ',') && next2.is_some_and(|d| d.is_ascii_digit()))
    });
    !joined_before && !joined_after
}

/// File extensions that follow an `@` in asset names (`logo@2x.png`), never a domain.
const NOT_TLDS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "ico", "js", "mjs", "css", "map", "json",
    "woff", "woff2", "ttf", "html", "txt",
];

fn email(value: &str) -> bool {
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    let tld = domain.rsplit('.').next().unwrap_or("");
    !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && !NOT_TLDS.iter().any(|not| not.eq_ignore_ascii_case(tld))
        && !domain
            .split('.')
            .any(|label| label.starts_with('-') || label.ends_with('-'))
}

/// Whether `start` sits in the `user:password@host` part of a URL, where `password@host`
/// looks like an address but is a credential (the `connection_string` rule's business).
fn in_url_userinfo(text: &str, start: usize) -> bool {
    let mut from = start.saturating_sub(256);
    // Never cut inside a character (slicing there would panic on non-ASCII bodies).
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let head = text.get(from..start).unwrap_or("");
    // Most addresses are nowhere near a URL: one SIMD search settles them.
    if memchr::memmem::rfind(head.as_bytes(), b"://").is_none() {
        return false;
    }
    let token_start = head
        .rfind(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '(' | '='))
        .map_or(0, |i| i + 1);
    let token = &head[token_start..];
    token
        .find("://")
        .is_some_and(|i| !token[i + 3..].contains(['/', '@']))
}

fn phone(value: &str) -> bool {
    let digits: Vec<u8> = value
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    if digits.iter().all(|&d| d == digits[0]) {
        return false;
    }
    if value.starts_with('+') {
        return (8..=15).contains(&digits.len());
    }
    match digits.first() {
        // A national number with a trunk prefix (020 7946 0958, 030 1234 5678).
        Some(0) => (10..=11).contains(&digits.len()) && digits.get(1) != Some(&0),
        // North American numbering: area code and exchange start with 2-9.
        Some(_) => digits.len() == 10 && digits[0] >= 2 && digits[3] >= 2,
        None => false,
    }
}

fn card(value: &str) -> bool {
    let digits: Vec<u32> = value.chars().filter_map(|c| c.to_digit(10)).collect();
    let separators: Vec<char> = value.chars().filter(|c| !c.is_ascii_digit()).collect();
    // One kind of separator throughout, or none: `4111 1111-1111 1111` is not how cards print.
    if separators.windows(2).any(|w| w[0] != w[1]) {
        return false;
    }
    if digits.iter().all(|&d| d == digits[0]) || !luhn(&digits) {
        return false;
    }
    let prefix = |n: usize| digits.iter().take(n).fold(0u32, |acc, &d| acc * 10 + d);
    let len = digits.len();
    match digits.first() {
        Some(4) => matches!(len, 13 | 16 | 19),
        Some(3) => match prefix(2) {
            34 | 37 => len == 15,
            35 => (16..=19).contains(&len),
            30 | 36 | 38 | 39 => (14..=19).contains(&len),
            _ => false,
        },
        Some(5) => (51..=55).contains(&prefix(2)) && len == 16,
        Some(2) => (2221..=2720).contains(&prefix(4)) && len == 16,
        Some(6) => {
            (prefix(4) == 6011
                || prefix(2) == 65
                || (644..=649).contains(&prefix(3))
                || prefix(2) == 62)
                && (16..=19).contains(&len)
        }
        _ => false,
    }
}

pub fn luhn(digits: &[u32]) -> bool {
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

/// IBAN lengths by country (ISO 13616 registry).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

pub fn iban(candidate: &str) -> bool {
    let compact: String = candidate.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(country) = compact.get(..2) else {
        return false;
    };
    if !IBAN_LENGTHS.contains(&(country, compact.len())) {
        return false;
    }
    let rearranged = format!("{}{}", &compact[4..], &compact[..4]);
    let mut remainder: u32 = 0;
    for c in rearranged.chars() {
        let Some(value) = c.to_digit(36) else {
            return false;
        };
        remainder = if value < 10 {
            (remainder * 10 + value) % 97
        } else {
            (remainder * 100 + value) % 97
        };
    }
    remainder == 1
}

fn ssn(value: &str) -> bool {
    let mut parts = value.split('-');
    let (Some(area), Some(group), Some(serial)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    // Never issued: area 000, 666 and 9xx, group 00, serial 0000; and the two numbers printed
    // on sample cards and in advertising, which are everywhere and belong to no one.
    area != "000"
        && area != "666"
        && !area.starts_with('9')
        && group != "00"
        && serial != "0000"
        && value != "078-05-1120"
        && value != "219-09-9999"
}

pub fn jwt_header_decodes(token: &str) -> bool {
    let Some(header) = token.split('.').next() else {
        return false;
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .is_some_and(|h| h.get("alg").is_some_and(serde_json::Value::is_string))
}

/// A connection string's password that is a real one, not a documentation stand-in.
fn password(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    let stand_in = matches!(
        lower.as_str(),
        "password" | "pass" | "passwd" | "pwd" | "secret" | "user" | "username" | "pw"
    );
    let template = lower.starts_with(['{', '[', ':']);
    !stand_in && !template
}

/// Key names that contain a secret-looking word but hold nothing secret.
const HARMLESS_NAMES: &[&str] = &[
    "csrf", "xsrf", "public", "page", "next", "cursor", "sort", "cache", "nonce", "hint", "policy",
    "length", "type", "expir", "field", "count", "limit", "url", "name", "id_",
];

/// `api_key = "..."`: the name is a real secret's, and the value has letters and digits.
fn assignment(text: &str, start: usize, value: &str) -> bool {
    let head = &text[..start];
    let name_start = head
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .last()
        .map_or(start, |(i, _)| i);
    let rest = &text[start..];
    let name_end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-')))
        .map_or(text.len(), |i| start + i);
    let name = text[name_start..name_end].to_ascii_lowercase();
    if HARMLESS_NAMES.iter().any(|h| name.contains(h)) {
        return false;
    }
    value.bytes().any(|b| b.is_ascii_digit()) && value.bytes().any(|b| b.is_ascii_alphabetic())
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

    #[test]
    fn validators_table() {
        let cases: &[(Validator, &str, bool)] = &[
            (Validator::Luhn, "4111 1111 1111 1111", true),
            (Validator::Luhn, "4111 1111 1111 1112", false),
            (Validator::Luhn, "4111-1111 1111-1111", false),
            (Validator::Luhn, "0000000000000000", false),
            (Validator::Luhn, "378282246310005", true),
            (Validator::Luhn, "5555555555554444", true),
            (Validator::Luhn, "1767225600000", false),
            (Validator::Iban, "GB82 WEST 1234 5698 7654 32", true),
            (Validator::Iban, "GB82 WEST 1234 5698 7654 33", false),
            (Validator::Iban, "DE89370400440532013000", true),
            (Validator::Iban, "DE8937040044053201300", false),
            (Validator::Ssn, "123-45-6789", true),
            (Validator::Ssn, "666-12-3456", false),
            (Validator::Ssn, "912-12-3456", false),
            (Validator::Ssn, "123-00-3456", false),
            (Validator::Ssn, "078-05-1120", false),
            (Validator::Phone, "+44 20 7946 0958", true),
            (Validator::Phone, "(415) 555-2671", true),
            (Validator::Phone, "123-456-7890", false),
            (Validator::Phone, "(415) 155-2671", false),
            (Validator::Phone, "000-000-0000", false),
            (Validator::Email, "ann@acme.example", true),
            (Validator::Email, "logo@2x.png", false),
            (Validator::Password, "password", false),
            (Validator::Password, "Zr8-pq1", true),
            (Validator::Bcrypt, "$2b$12$", true),
            (Validator::Bcrypt, "$2b$99$", false),
        ];
        for &(validator, value, expected) in cases {
            let got = validate(validator, value, 0..value.len(), value);
            assert_eq!(got, expected, "{validator:?} on {value:?}");
        }
    }

    #[test]
    fn isolation_rejects_pieces_of_bigger_numbers() {
        let text = "v4111111111111111 ORD-123-45-6789 123-45-6789 4.1%";
        let ssn = text.find("123-45-6789 4").unwrap_or(0);
        assert!(isolated(text, &(ssn..ssn + 11)));
        let order = text.find("123-45-6789 1").unwrap_or(0);
        assert!(!isolated(text, &(order..order + 11)));
        assert!(!isolated(text, &(1..17)));
    }

    #[test]
    fn entropy_and_placeholders() {
        assert!(entropy("aaaaaaaaaaaaaaaa") < 0.01);
        assert!(entropy("q8Xz2Lp0Rk4Vn7Ws") > 3.5);
        assert!(placeholder("AKIAIOSFODNN7EXAMPLE"));
        assert!(placeholder("${DB_PASSWORD}"));
        assert!(!placeholder("q8Xz2Lp0Rk4Vn7Ws"));
    }
}
