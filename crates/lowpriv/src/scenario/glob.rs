//! Path globs: compiling them the one way every stage will, and telling whether an
//! `[[expect]]` glob can ever meet a crawled path.
//!
//! Input: glob text from the scenario. Output: a [`PathGlobs`] (the globs of one key, compiled
//! once, at parse time, and carried by the model so no later stage compiles or re-validates
//! them), a [`GlobMatcher`] or a reason a glob is invalid, and sample paths a glob matches.
//! Invariant: `*` and `?` stay within a segment, `**` crosses segments
//! (`literal_separator(true)`), so `/admin/*` does not cover `/admin/a/b`.
//!
//! Whether two globs overlap is undecidable cheaply in general; [`samples`] gives two concrete
//! paths per glob and the checks below only report "can never match" when every sample agrees,
//! so they err towards staying quiet rather than rejecting a valid rule.

use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};

/// The globs of one scenario key (`site.public`, `crawl.scope`, `crawl.exclude`, an
/// `[[expect]]`'s `paths`), as written and compiled. Built only from globs that are valid path
/// globs, so the model never silently drops one.
#[derive(Clone, Debug)]
pub struct PathGlobs {
    patterns: Vec<String>,
    set: GlobSet,
}

/// Why globs do not make a [`PathGlobs`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GlobError {
    #[error("`{glob}` is not a path glob: {reason}")]
    Glob {
        /// Its position among the patterns.
        index: usize,
        glob: String,
        reason: String,
    },
    /// Each glob compiles, but not all of them together (too large, say).
    #[error("the globs do not compile together: {reason}")]
    Set { reason: String },
}

impl PathGlobs {
    /// Compiles `patterns`, or says which one is not a path glob.
    pub fn new(patterns: Vec<String>) -> Result<PathGlobs, GlobError> {
        let mut builder = GlobSetBuilder::new();
        for (index, pattern) in patterns.iter().enumerate() {
            let glob = path_glob(pattern).map_err(|reason| GlobError::Glob {
                index,
                glob: pattern.clone(),
                reason,
            })?;
            builder.add(glob);
        }
        let set = builder.build().map_err(|e| GlobError::Set {
            reason: e.kind().to_string(),
        })?;
        Ok(PathGlobs { patterns, set })
    }

    /// No globs: matches no path.
    pub fn empty() -> PathGlobs {
        PathGlobs {
            patterns: Vec::new(),
            set: GlobSet::empty(),
        }
    }

    /// `/**`: every path (the default `[crawl] scope`).
    pub fn every_path() -> PathGlobs {
        // A constant glob; `every_path_matches_every_path` builds it in every tested build.
        #[allow(clippy::expect_used)]
        PathGlobs::new(vec!["/**".to_string()]).expect("`/**` is a path glob")
    }

    /// The globs as written, in file order: what reports print.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    pub fn is_match(&self, path: &str) -> bool {
        self.set.is_match(path)
    }

    /// The first glob (in file order) that matches `path`, to name it in a reason.
    pub fn first_match(&self, path: &str) -> Option<&str> {
        self.set
            .matches(path)
            .first()
            .and_then(|&i| self.patterns.get(i))
            .map(String::as_str)
    }

    /// The compiled set, for callers that hold a [`GlobSet`] today.
    pub fn glob_set(&self) -> &GlobSet {
        &self.set
    }
}

/// Two are the same when they hold the same globs in the same order: the compiled form
/// follows from the text.
impl PartialEq for PathGlobs {
    fn eq(&self, other: &PathGlobs) -> bool {
        self.patterns == other.patterns
    }
}

impl Eq for PathGlobs {}

/// A path glob, the one way every stage compiles it, or why it is not one.
fn path_glob(glob: &str) -> Result<Glob, String> {
    if !glob.starts_with('/') {
        return Err("a path glob must start with `/`".to_string());
    }
    GlobBuilder::new(glob)
        .literal_separator(true)
        .build()
        .map_err(|e| e.kind().to_string())
}

/// Compiles a path glob, or says why it is not one.
pub(crate) fn compile(glob: &str) -> Result<GlobMatcher, String> {
    path_glob(glob).map(|g| g.compile_matcher())
}

/// Two paths the glob matches, built differently (first vs last alternative, short vs deep
/// `**`), so that a glob that covers only one of them is not mistaken for covering the other.
pub(crate) fn samples(glob: &str) -> [String; 2] {
    [sample(glob, 0), sample(glob, 1)]
}

/// A compiled glob with its text, for the overlap checks.
pub(crate) struct Compiled {
    pub text: String,
    pub matcher: GlobMatcher,
}

/// Whether some path matched by `glob` may be inside one of the `scope` globs.
pub(crate) fn may_be_in_scope(glob: &Compiled, scope: &[Compiled]) -> bool {
    let ours = samples(&glob.text);
    scope.iter().any(|s| {
        ours.iter().any(|p| s.matcher.is_match(p))
            || samples(&s.text).iter().any(|p| glob.matcher.is_match(p))
    })
}

/// Whether one `exclude` glob covers every sample of `glob`.
pub(crate) fn excluded_by<'a>(glob: &Compiled, exclude: &'a [Compiled]) -> Option<&'a Compiled> {
    let ours = samples(&glob.text);
    exclude
        .iter()
        .find(|e| ours.iter().all(|p| e.matcher.is_match(p)))
}

fn sample(glob: &str, variant: usize) -> String {
    let chars: Vec<char> = glob.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                if let Some(&c) = chars.get(i + 1) {
                    out.push(c);
                }
                i += 2;
            }
            '*' => {
                let start = i;
                while chars.get(i) == Some(&'*') {
                    i += 1;
                }
                let whole_segment = i - start >= 2
                    && (start == 0 || chars[start - 1] == '/')
                    && (i == chars.len() || chars[i] == '/');
                out.push_str(match (whole_segment, variant) {
                    (true, 0) => "x",
                    (true, _) => "q/r/s",
                    (false, 0) => "x",
                    (false, _) => "q9",
                });
            }
            '?' => {
                out.push(if variant == 0 { 'x' } else { 'q' });
                i += 1;
            }
            '[' => {
                let (class, next) = class_end(&chars, i);
                out.push(pick_from_class(class, variant));
                i = next;
            }
            '{' => {
                let (alternatives, next) = alternatives(&chars, i);
                let chosen = if variant == 0 {
                    alternatives.first()
                } else {
                    alternatives.last()
                };
                if let Some(alt) = chosen {
                    out.push_str(&sample(alt, variant));
                }
                i = next;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// The inside of a `[...]` class starting at `open`, and the index after its `]`.
fn class_end(chars: &[char], open: usize) -> (&[char], usize) {
    let mut j = open + 1;
    if matches!(chars.get(j), Some('!' | '^')) {
        j += 1;
    }
    // A `]` right after `[` or `[!` is a member, not the end.
    if chars.get(j) == Some(&']') {
        j += 1;
    }
    while j < chars.len() && chars[j] != ']' {
        j += 1;
    }
    let end = j.min(chars.len());
    (&chars[open + 1..end], (end + 1).min(chars.len() + 1))
}

fn pick_from_class(class: &[char], variant: usize) -> char {
    let (negated, body) = match class.first() {
        Some('!' | '^') => (true, &class[1..]),
        _ => (false, class),
    };
    let mut ranges = Vec::new();
    let mut k = 0;
    while k < body.len() {
        if k + 2 < body.len() && body[k + 1] == '-' {
            ranges.push((body[k], body[k + 2]));
            k += 3;
        } else {
            ranges.push((body[k], body[k]));
            k += 1;
        }
    }
    if negated {
        let admitted = |c: char| !ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
        let candidates = if variant == 0 { "xqz09aZ_" } else { "q9zxa0Z_" };
        return candidates.chars().find(|&c| admitted(c)).unwrap_or('~');
    }
    match (variant, ranges.first(), ranges.last()) {
        (0, Some(&(lo, _)), _) => lo,
        (_, _, Some(&(_, hi))) => hi,
        _ => 'x',
    }
}

/// The top-level alternatives of a `{a,b}` starting at `open`, and the index after its `}`.
fn alternatives(chars: &[char], open: usize) -> (Vec<String>, usize) {
    let mut alts = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut j = open + 1;
    while j < chars.len() {
        match chars[j] {
            '\\' => {
                current.push('\\');
                if let Some(&c) = chars.get(j + 1) {
                    current.push(c);
                }
                j += 1;
            }
            '{' => {
                depth += 1;
                current.push('{');
            }
            '}' if depth == 0 => {
                alts.push(current);
                return (alts, j + 1);
            }
            '}' => {
                depth -= 1;
                current.push('}');
            }
            ',' if depth == 0 => alts.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
        j += 1;
    }
    alts.push(current);
    (alts, chars.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(globs: &[&str]) -> Vec<Compiled> {
        globs
            .iter()
            .map(|g| Compiled {
                text: g.to_string(),
                matcher: compile(g).unwrap(),
            })
            .collect()
    }

    #[test]
    fn samples_match_their_own_glob() {
        let globs = [
            "/",
            "/**",
            "/admin/**",
            "/api/*/x",
            "/a/**/b",
            "/f?o",
            "/x/[abc]",
            "/x/[!a-z]",
            "/x/[]a]",
            "/{a,b}/c",
            "/{a,b/**}",
            "/a/**.json",
            "/esc\\*",
        ];
        for g in globs {
            let m = compile(g).unwrap();
            for s in samples(g) {
                assert!(m.is_match(&s), "{g} should match its sample {s}");
            }
        }
    }

    #[test]
    fn compile_rejects_bad_globs() {
        assert!(compile("admin/**").unwrap_err().contains("start with `/`"));
        assert!(compile("/a/[").is_err());
        assert!(compile("/a/{b").is_err());
    }

    #[test]
    fn path_globs_match_as_their_globs_do() {
        let set = PathGlobs::new(vec!["/admin/*".to_string(), "/a/**".to_string()]).unwrap();
        assert_eq!(set.patterns(), ["/admin/*", "/a/**"]);
        assert!(set.is_match("/admin/x"));
        assert!(!set.is_match("/admin/x/y"), "`*` stays within a segment");
        assert!(set.is_match("/a/b/c"));
        assert_eq!(set.first_match("/a/x"), Some("/a/**"));
        assert_eq!(set.first_match("/nope"), None);
        let both = PathGlobs::new(vec!["/a/**".to_string(), "/a/*".to_string()]).unwrap();
        assert_eq!(
            both.first_match("/a/x"),
            Some("/a/**"),
            "file order names the glob"
        );
        assert!(!PathGlobs::empty().is_match("/"));
        assert!(PathGlobs::empty().is_empty());
    }

    #[test]
    fn path_globs_reject_what_compile_rejects() {
        let cases = ["admin/**", "/a/[", "/a/{b"];
        for glob in cases {
            let got = PathGlobs::new(vec!["/ok".to_string(), glob.to_string()]);
            let Err(GlobError::Glob { index, reason, .. }) = got else {
                panic!("{glob} should be rejected, got {got:?}");
            };
            assert_eq!(index, 1, "{glob}");
            assert_eq!(Some(reason), compile(glob).err(), "{glob}");
        }
    }

    #[test]
    fn every_path_matches_every_path() {
        let every = PathGlobs::every_path();
        assert_eq!(every.patterns(), ["/**"]);
        for path in ["/", "/a", "/a/b/c.json"] {
            assert!(every.is_match(path), "{path}");
        }
    }

    #[test]
    fn scope_and_exclude_checks() {
        let cases = [
            // (expect glob, scope, exclude, in scope, excluded)
            ("/admin/**", vec!["/**"], vec![], true, false),
            ("/admin/**", vec!["/app/**"], vec![], false, false),
            ("/**", vec!["/app/**"], vec![], true, false),
            ("/admin/**", vec!["/**"], vec!["/admin/**"], true, true),
            ("/admin/**", vec!["/**"], vec!["/admin/*"], true, false),
            ("/api/*", vec!["/**"], vec!["/api/x"], true, false),
            ("/a/{b,c}", vec!["/**"], vec!["/a/b"], true, false),
            ("/logout", vec!["/**"], vec!["/log*"], true, true),
        ];
        for (glob, scope, exclude, in_scope, excluded) in cases {
            let g = &compiled(&[glob])[0];
            assert_eq!(
                may_be_in_scope(g, &compiled(&scope)),
                in_scope,
                "{glob} scope"
            );
            assert_eq!(
                excluded_by(g, &compiled(&exclude)).is_some(),
                excluded,
                "{glob} exclude"
            );
        }
    }
}
