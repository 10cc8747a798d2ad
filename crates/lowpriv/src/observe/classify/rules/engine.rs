//! The rule engine: the rules a classifier uses, compiled into one matcher, and the search.
//!
//! Input: the builtin classes a scenario declares, and a body's text. Output: every validated
//! hit, each with the class it belongs to and a redacted example (never the value).
//!
//! Speed: a body is read whole by three fast passes: memchr for one-byte keywords (`@`), one
//! Aho-Corasick automaton for every other keyword of every keyword rule, and a byte-class scan
//! for the runs of text the rules without keywords (personal data made of digits, capitals
//! and separators) could match at all; one regex of many patterns holds those rules and reads
//! only the runs long enough for one of their matches. A keywordless match is judged on the
//! spot, a keyword hit opens a window (`before`/`reach` of the rule) in which alone that
//! rule's regex runs. Every pattern is a `regex` pattern, so matching is linear in the body
//! whatever it holds.

use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex_automata::nfa::thompson::{self, State};
use regex_automata::util::primitives::StateID;
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

/// The rules without keywords, as one regex of many patterns (file order: at the same place
/// the earlier rule wins), and where in a body they can match at all.
#[derive(Debug)]
struct Keywordless {
    /// One pattern per rule: a match says which one it is without resolving groups (a
    /// keywordless rule's value is its whole match; a test holds the rule file to it).
    regex: meta::Regex,
    /// Per pattern: index into `active`.
    rules: Vec<usize>,
    /// Every byte some pattern can consume. A match lies inside one maximal run of these
    /// (look-arounds such as `\b` consume nothing), so only runs are searched.
    alphabet: [bool; 256],
    /// The shortest match of any pattern, in bytes: a shorter run holds none.
    min_len: usize,
}

/// The multi-byte keywords of every keyword rule: those matched exactly in a SIMD literal
/// searcher, those of rules that ignore case in an automaton.
#[derive(Debug)]
struct Keywords {
    exact: Option<KeywordSet>,
    folded: Option<KeywordSet>,
}

#[derive(Debug)]
struct KeywordSet {
    searcher: KeywordSearcher,
    /// Per pattern: (index into `active`, the rule's place in file order).
    patterns: Vec<(usize, usize)>,
}

#[derive(Debug)]
enum KeywordSearcher {
    Packed(aho_corasick::packed::Searcher),
    /// Keywords matched ignoring (ASCII) case, as lowercase literals searched in a lowercase
    /// copy of the text, a chunk at a time. An automaton of the keywords reads every byte
    /// (they start with common letters, so nothing lets it skip); SIMD case forms of them
    /// flood the searcher's buckets. Lowering a chunk is a vectorised copy.
    Lowered {
        searcher: aho_corasick::packed::Searcher,
        /// The longest keyword, in bytes: chunks overlap by one less.
        longest: usize,
    },
    Automaton(AhoCorasick),
}

/// How much text is lowered at a time for [`KeywordSearcher::Lowered`].
const LOWERED_CHUNK: usize = 64 * 1024;

/// A validated hit.
#[derive(Debug)]
pub struct Found<'e> {
    pub class: &'e str,
    pub rule: &'static Rule,
    /// From a default-on rule the scenario did not declare.
    pub implicit: bool,
    pub range: Range<usize>,
    /// The value the example is made from (inside `range`).
    value: Range<usize>,
}

impl Found<'_> {
    /// The redacted example of this hit in `text` (the text it was found in). Made on demand:
    /// a class keeps a few examples, and a page of a thousand mailboxes needs three.
    pub fn example(&self, text: &str) -> String {
        let v = text.get(self.value.clone()).unwrap_or_default();
        let rule = self.rule;
        if rule.secret {
            // Secrets get no prefix at all: even four characters narrow a guess.
            return format!("<{}, {} chars>", rule.id, v.chars().count());
        }
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
    }
}

#[derive(Debug, Default)]
pub struct Engine {
    active: Vec<Active>,
    keywordless: Option<Keywordless>,
    keywords: Option<Keywords>,
    /// Single-byte keywords (`@`), found with memchr: (byte, index into `active`). In the
    /// automaton, every mailbox would stop it once.
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
        engine.keywordless = keywordless(&engine.active, &order);
        engine.keywords = keywords(&engine.active, &order);
        engine
    }

    /// Every validated hit in `text`, in rule order, then position.
    pub fn scan(&self, text: &str) -> Vec<Found<'_>> {
        let (mut found, mut hits) = self.first_pass(text);
        self.windows_pass(text, &mut hits, &mut found);
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

    /// The keywordless rules' hits, and per rule where its keywords occur (unsorted).
    fn first_pass(&self, text: &str) -> (Vec<Found<'_>>, Vec<Vec<usize>>) {
        let mut found = Vec::new();
        // Where each keyword rule's keywords occur.
        let mut hits: Vec<Vec<usize>> = vec![Vec::new(); self.active.len()];
        for &(byte, index) in &self.bytes {
            hits[index].extend(memchr::memchr_iter(byte, text.as_bytes()));
        }
        // Where a keywordless rule matched (validated or not): its text is taken, and a keyword
        // inside it (or starting with it) opens no window, as in one alternation of all.
        let mut taken: Vec<Range<usize>> = Vec::new();
        if let Some(keywordless) = &self.keywordless {
            keywordless.scan(text, |pattern, whole| {
                taken.push(whole.clone());
                if let Some(active) = keywordless.rules.get(pattern).map(|&i| &self.active[i])
                    && let Some(hit) = judge(active, text, whole.clone(), whole)
                {
                    found.push(hit);
                }
            });
        }
        if let Some(keywords) = &self.keywords {
            keywords.scan(text, &taken, &mut hits);
        }
        (found, hits)
    }

    /// Each keyword rule's regex, in the windows around its keyword hits.
    fn windows_pass<'e>(&'e self, text: &str, hits: &mut [Vec<usize>], found: &mut Vec<Found<'e>>) {
        for (index, active) in self.active.iter().enumerate() {
            let Some(regex) = &active.regex else {
                continue;
            };
            // Every match holds one of its rule's keywords, so it lies in a window around a
            // keyword hit: the regex reads those windows, not the whole body.
            hits[index].sort_unstable();
            let before = active.rule.before.unwrap_or(DEFAULT_BEFORE);
            let reach = active.rule.reach.unwrap_or(DEFAULT_REACH);
            if hits[index].is_empty() {
                continue;
            }
            let mut captures = if active.rule.group == 0 {
                regex_automata::util::captures::Captures::empty(regex.group_info().clone())
            } else {
                regex.create_captures()
            };
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
    }
}

impl Keywordless {
    /// Calls `each(pattern, range)` for every match, leftmost first, never overlapping: as
    /// the regex iterated over the whole body would, since no match leaves its run.
    fn scan(&self, text: &str, mut each: impl FnMut(usize, Range<usize>)) {
        let bytes = text.as_bytes();
        let alphabet = |at: usize| self.alphabet[usize::from(bytes[at])];
        let len = self.min_len.max(1);
        // No run of `len` or more starts before `next` unless already searched; the byte
        // before `next` is outside the alphabet. Every run that long holds the byte
        // `len - 1` past `next` if it starts within `len` of it: probing that byte alone
        // skips `len` bytes of ordinary text (lowercase words, markup) at a time.
        let mut next = 0;
        while next + len <= bytes.len() {
            let probe = next + len - 1;
            if !alphabet(probe) {
                next = probe + 1;
                continue;
            }
            let mut start = probe;
            while start > next && alphabet(start - 1) {
                start -= 1;
            }
            let mut i = probe + 1;
            while i < bytes.len() && alphabet(i) {
                i += 1;
            }
            next = i;
            if i - start < len {
                continue;
            }
            // The search sees past the run, so `\b` at its edges reads the real neighbours.
            let mut at = start;
            while at < i {
                let Some(whole) = self.regex.find(Input::new(text).span(at..i)) else {
                    break;
                };
                each(whole.pattern().as_usize(), whole.range());
                at = if whole.end() > whole.start() {
                    whole.end()
                } else {
                    next_char(text, whole.end())
                };
            }
        }
    }
}

impl Keywords {
    /// Adds to `hits[rule]` every place one of the rule's keywords starts, outside `taken`
    /// (sorted, disjoint); where keywords of several rules start at one place, the earliest
    /// rule in file order alone gets it: what one leftmost-first alternation of them all,
    /// searched again from the next byte after each hit, would give.
    fn scan(&self, text: &str, taken: &[Range<usize>], hits: &mut [Vec<usize>]) {
        // (start, priority, active)
        let mut starts: Vec<(usize, usize, usize)> = Vec::new();
        for set in [&self.exact, &self.folded].into_iter().flatten() {
            set.scan(text, &mut starts);
        }
        starts.sort_unstable();
        starts.dedup_by_key(|s| s.0);
        let mut taken = taken.iter().peekable();
        for (start, _, active) in starts {
            while taken.next_if(|r| r.end <= start).is_some() {}
            if taken.peek().is_some_and(|r| r.start <= start) {
                continue;
            }
            if let Some(hits) = hits.get_mut(active) {
                hits.push(start);
            }
        }
    }
}

impl KeywordSet {
    fn scan_lowered(
        &self,
        searcher: &aho_corasick::packed::Searcher,
        longest: usize,
        text: &str,
        starts: &mut Vec<(usize, usize, usize)>,
    ) {
        thread_local! {
            static LOWER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        LOWER.with_borrow_mut(|lower| {
            let bytes = text.as_bytes();
            let mut chunk = 0;
            while chunk < bytes.len() {
                let end = (chunk + LOWERED_CHUNK).min(bytes.len());
                // A keyword starting in this chunk ends in its overlap.
                let copy_end = (end + longest.saturating_sub(1)).min(bytes.len());
                lower.clear();
                // One vectorised pass: copying and then lowering in place reads it twice.
                lower.extend(bytes[chunk..copy_end].iter().map(u8::to_ascii_lowercase));
                let mut at = 0;
                while at < end - chunk {
                    let Some(found) =
                        searcher.find_in(&lower, aho_corasick::Span::from(at..lower.len()))
                    else {
                        break;
                    };
                    if found.start() >= end - chunk {
                        break;
                    }
                    if let Some(&(active, priority)) = self.patterns.get(found.pattern().as_usize())
                    {
                        starts.push((chunk + found.start(), priority, active));
                    }
                    at = found.start() + 1;
                }
                chunk = end;
            }
        });
    }

    /// Every place a keyword of the set starts, with the first pattern (in file order) that
    /// starts there: leftmost-first, searched again from the next byte after each hit.
    fn scan(&self, text: &str, starts: &mut Vec<(usize, usize, usize)>) {
        let mut at = 0;
        while at < text.len() {
            let found = match &self.searcher {
                KeywordSearcher::Packed(packed) => {
                    packed.find_in(text, aho_corasick::Span::from(at..text.len()))
                }
                KeywordSearcher::Automaton(automaton) => {
                    automaton.find(aho_corasick::Input::new(text).span(at..text.len()))
                }
                KeywordSearcher::Lowered { searcher, longest } => {
                    self.scan_lowered(searcher, *longest, text, starts);
                    return;
                }
            };
            let Some(found) = found else {
                break;
            };
            if let Some(&(active, priority)) = self.patterns.get(found.pattern().as_usize()) {
                starts.push((found.start(), priority, active));
            }
            at = found.start() + 1;
        }
    }
}

/// The keywordless rules of `order` (indexes into `active`, in file order) as one regex.
fn keywordless(active: &[Active], order: &[usize]) -> Option<Keywordless> {
    let mut patterns: Vec<&str> = Vec::new();
    let mut rules = Vec::new();
    let mut min_len = usize::MAX;
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
        let shortest = regex_automata::util::syntax::parse(&rule.regex)
            .ok()
            .and_then(|hir| hir.properties().minimum_len())
            .unwrap_or(0);
        min_len = min_len.min(shortest.max(1));
        patterns.push(&rule.regex);
        rules.push(index);
    }
    if patterns.is_empty() {
        return None;
    }
    let limit = RULE_SIZE_LIMIT * patterns.len();
    // Leftmost-first across patterns, as in one alternation: at the same place the earlier
    // pattern wins.
    let built = meta::Regex::builder()
        .configure(meta::Regex::config().nfa_size_limit(Some(limit)))
        .build_many(&patterns);
    let regex = match built {
        Ok(regex) => regex,
        Err(error) => {
            tracing::error!(%error, "the keywordless builtin rules do not compile together");
            return None;
        }
    };
    let alphabet = match thompson::NFA::compiler()
        .configure(
            thompson::Config::new()
                .nfa_size_limit(Some(limit))
                .which_captures(thompson::WhichCaptures::None),
        )
        .build_many(&patterns)
    {
        Ok(nfa) => consumed_bytes(&nfa),
        // Every byte: the runs are then the whole body, correct and only slower.
        Err(_) => [true; 256],
    };
    Some(Keywordless {
        regex,
        rules,
        alphabet,
        min_len,
    })
}

/// Every byte an anchored match of `nfa` can consume (the unanchored start's `.*?` prefix,
/// reachable only from the unanchored start, is not walked).
fn consumed_bytes(nfa: &thompson::NFA) -> [bool; 256] {
    let mut bytes = [false; 256];
    let mut seen = vec![false; nfa.states().len()];
    let mut stack: Vec<StateID> = vec![nfa.start_anchored()];
    let mark = |bytes: &mut [bool; 256], start: u8, end: u8| {
        for b in start..=end {
            bytes[usize::from(b)] = true;
        }
    };
    while let Some(id) = stack.pop() {
        let Some(slot) = seen.get_mut(id.as_usize()) else {
            continue;
        };
        if std::mem::replace(slot, true) {
            continue;
        }
        match nfa.state(id) {
            State::ByteRange { trans } => {
                mark(&mut bytes, trans.start, trans.end);
                stack.push(trans.next);
            }
            State::Sparse(sparse) => {
                for trans in sparse.transitions.iter() {
                    mark(&mut bytes, trans.start, trans.end);
                    stack.push(trans.next);
                }
            }
            State::Dense(dense) => {
                for (b, &next) in dense.transitions.iter().enumerate() {
                    if next != StateID::ZERO {
                        bytes[b] = true;
                        stack.push(next);
                    }
                }
            }
            State::Look { next, .. } | State::Capture { next, .. } => stack.push(*next),
            State::Union { alternates } => stack.extend(alternates.iter().copied()),
            State::BinaryUnion { alt1, alt2 } => {
                stack.push(*alt1);
                stack.push(*alt2);
            }
            State::Fail | State::Match { .. } => {}
        }
    }
    bytes
}

/// Every multi-byte keyword of the keyword rules of `order`, in priority (file) order.
fn keywords(active: &[Active], order: &[usize]) -> Option<Keywords> {
    let mut exact: (Vec<&str>, Vec<(usize, usize)>) = Default::default();
    let mut folded: (Vec<&str>, Vec<(usize, usize)>) = Default::default();
    for (priority, &index) in order.iter().enumerate() {
        let rule = active[index].rule;
        if active[index].regex.is_none() {
            continue;
        }
        let set = if ignores_case(rule) {
            &mut folded
        } else {
            &mut exact
        };
        for keyword in rule.keywords.iter().filter(|k| k.len() > 1) {
            set.0.push(keyword);
            set.1.push((index, priority));
        }
    }
    let exact = keyword_set(exact.0, exact.1, false);
    let folded = keyword_set(folded.0, folded.1, true);
    (exact.is_some() || folded.is_some()).then_some(Keywords { exact, folded })
}

fn keyword_set(
    literals: Vec<&str>,
    patterns: Vec<(usize, usize)>,
    fold_case: bool,
) -> Option<KeywordSet> {
    if literals.is_empty() {
        return None;
    }
    if !fold_case {
        let packed = aho_corasick::packed::Config::new()
            .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(&literals)
            .build();
        if let Some(packed) = packed {
            return Some(KeywordSet {
                searcher: KeywordSearcher::Packed(packed),
                patterns,
            });
        }
    }
    if fold_case && let Some(searcher) = lowered(&literals) {
        return Some(KeywordSet { searcher, patterns });
    }
    let build = |kind| {
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .ascii_case_insensitive(fold_case)
            .kind(kind)
            .build(&literals)
    };
    match build(Some(AhoCorasickKind::DFA)).or_else(|_| build(None)) {
        Ok(automaton) => Some(KeywordSet {
            searcher: KeywordSearcher::Automaton(automaton),
            patterns,
        }),
        Err(error) => {
            tracing::error!(%error, "the builtin rules' keywords do not build");
            None
        }
    }
}

/// The searcher for case-insensitive `literals` (see [`KeywordSearcher::Lowered`]); `None`
/// where the SIMD searcher is not available.
fn lowered(literals: &[&str]) -> Option<KeywordSearcher> {
    let lowercase: Vec<Vec<u8>> = literals
        .iter()
        .map(|l| l.as_bytes().to_ascii_lowercase())
        .collect();
    let searcher = aho_corasick::packed::Config::new()
        .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
        .builder()
        .extend(&lowercase)
        .build()?;
    Some(KeywordSearcher::Lowered {
        searcher,
        longest: lowercase.iter().map(Vec::len).max().unwrap_or(1),
    })
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
    Some(Found {
        class: &active.class,
        rule,
        implicit: active.implicit,
        range: whole,
        value,
    })
}

fn last_digits(value: &str, n: usize) -> String {
    let digits: Vec<char> = value.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(n)..].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A keywordless rule's validated match: (rule id, range).
    type RuleHit = (String, Range<usize>);

    /// The first pass as one regex of every keywordless rule and every rule's keywords, read
    /// leftmost-first and searched again from the next character after each keyword: the
    /// definition the fast passes must agree with. Returns (rule id, range) of each keywordless
    /// match judged valid, and the sorted keyword hits per rule.
    fn reference_first_pass(engine: &Engine, text: &str) -> (Vec<RuleHit>, Vec<Vec<usize>>) {
        let mut order: Vec<usize> = (0..engine.active.len()).collect();
        order.sort_by_key(|&i| {
            RULES
                .iter()
                .position(|r| std::ptr::eq(r, engine.active[i].rule))
        });
        // (pattern, Some(keywordless rule) | None for a keyword rule's keywords, active index)
        let mut patterns: Vec<String> = Vec::new();
        let mut alternatives: Vec<(bool, usize)> = Vec::new();
        for &index in &order {
            let rule = engine.active[index].rule;
            if rule.keywords.is_empty() {
                patterns.push(rule.regex.clone());
                alternatives.push((true, index));
            }
        }
        for &index in &order {
            let rule = engine.active[index].rule;
            let keywords: Vec<String> = rule
                .keywords
                .iter()
                .filter(|k| k.len() > 1)
                .map(|k| regex::escape(k))
                .collect();
            if engine.active[index].regex.is_none() || keywords.is_empty() {
                continue;
            }
            let flags = if ignores_case(rule) { "i-u" } else { "-u" };
            patterns.push(format!("(?{flags}:{})", keywords.join("|")));
            alternatives.push((false, index));
        }
        let mut found = Vec::new();
        let mut hits: Vec<Vec<usize>> = vec![Vec::new(); engine.active.len()];
        for &(byte, index) in &engine.bytes {
            hits[index].extend(memchr::memchr_iter(byte, text.as_bytes()));
        }
        let regex = meta::Regex::builder()
            .configure(meta::Regex::config().nfa_size_limit(Some(RULE_SIZE_LIMIT * 40)))
            .build_many(&patterns)
            .unwrap();
        let mut at = 0;
        while at <= text.len() {
            let Some(whole) = regex.find(Input::new(text).span(at..text.len())) else {
                break;
            };
            let (keywordless, index) = alternatives[whole.pattern().as_usize()];
            if !keywordless {
                hits[index].push(whole.start());
                at = next_char(text, whole.start());
                continue;
            }
            let active = &engine.active[index];
            if judge(active, text, whole.range(), whole.range()).is_some() {
                found.push((active.rule.id.clone(), whole.range()));
            }
            at = whole.end();
        }
        for h in &mut hits {
            h.sort_unstable();
        }
        (found, hits)
    }

    #[test]
    fn the_fast_first_pass_agrees_with_one_alternation_of_everything() {
        let engine = Engine::new(
            &Builtin::ALL
                .iter()
                .map(|b| (b.as_str().to_string(), *b))
                .collect::<Vec<_>>(),
        );
        assert!(engine.keywordless.is_some() && engine.keywords.is_some());
        // Pieces that start, hold or cut keywords and keywordless shapes, with multibyte
        // text and mixed case; a deterministic generator glues them into many bodies.
        const PIECES: &[&str] = &[
            "key",
            "KEY",
            "Key",
            "kEy",
            "secret",
            "SeCrEt",
            "token",
            "passw",
            "PASSPHRASE",
            "passphrase",
            "pwd",
            "PRIVATE KEY",
            "private key",
            "postgres",
            "MYSQL",
            "Redis",
            "amqp",
            "mongodb",
            "mariadb",
            "eyJ",
            "EYJ",
            "AKIA",
            "akia",
            "ASIA",
            "AIza",
            "ghp_",
            "gho_",
            "github_pat_",
            "glpat-",
            "xoxb-",
            "sk_live_",
            "rk_live_",
            "sk-",
            "SK-",
            "$2a$",
            "$2b$",
            "$argon2",
            "pbkdf2",
            "PBKDF2",
            "scrypt$",
            "$7$",
            "$6$",
            "4111",
            "1111",
            " ",
            "-",
            ".",
            "+1 ",
            "(415)",
            "415",
            "555",
            "2671",
            "123",
            "45",
            "6789",
            "GB82",
            "WEST",
            "1234",
            "5698",
            "7654",
            "32",
            "DE89",
            "3704",
            "0044",
            "0532",
            "0130",
            "00",
            "@",
            "ann",
            "acme.example",
            "é",
            "ü",
            "ß",
            "\u{fffd}",
            "\n",
            "\"",
            "=",
            ":",
            "_",
            "x",
            "Q8xZ2Lp0Rk4Vn7Ws5Jt1",
            "Z4Q7XK2M5N3P6R7T",
            "<td>",
            "</td>",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut bodies: Vec<String> = vec![
            super::super::SOURCE.to_string(),
            "GB82AKIAZ4Q7XK2M5N3P6R7T".into(),
            "4111 1111 1111 1111KEY".into(),
            "PASSPHRASEpasswordKEYkey".into(),
        ];
        for _ in 0..3000 {
            let pieces = 1 + next() % 40;
            bodies.push(
                (0..pieces)
                    .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                    .collect(),
            );
        }
        for body in &bodies {
            let (found, mut hits) = engine.first_pass(body);
            for h in &mut hits {
                h.sort_unstable();
            }
            let found: Vec<RuleHit> = found
                .iter()
                .map(|f| (f.rule.id.clone(), f.range.clone()))
                .collect();
            let (want_found, want_hits) = reference_first_pass(&engine, body);
            assert_eq!(found, want_found, "{body:?}");
            assert_eq!(hits, want_hits, "{body:?}");
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
            let shown = found[0].example(&text);
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
