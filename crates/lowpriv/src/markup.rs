//! What lowpriv lets an HTML parser see. html5ever follows the browsers' rules, and some of
//! them cost time in proportion to how deeply elements nest, so a hostile page of a few
//! thousand nested `<div>`s turns every parse quadratic. Real pages nest a few dozen deep;
//! past [`MAX_DEPTH`] the rest of the document is not parsed (its text is still classified
//! as text, by the observe stage, and the cut is cheap: one pass over the tags).

/// A CSS selector written in the source. `'static` keeps it to constants: nothing from a page
/// or a scenario becomes a selector, so the `expect` fires only on a typo that every test run
/// would hit first.
#[allow(clippy::expect_used)]
pub fn selector(css: &'static str) -> scraper::Selector {
    scraper::Selector::parse(css).expect("constant selector parses")
}

/// Open elements deeper than this end what is parsed.
pub const MAX_DEPTH: usize = 256;

/// Elements that never have children, so they do not nest.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "!doctype",
];

/// The prefix of `html` whose elements nest at most [`MAX_DEPTH`] deep (an estimate that
/// counts start and end tags; it never cuts a page whose tags balance within the limit).
pub fn bounded(html: &str) -> &str {
    let bytes = html.as_bytes();
    let mut depth: usize = 0;
    let mut i = 0;
    while let Some(offset) = memchr_lt(&bytes[i..]) {
        let start = i + offset;
        let rest = &bytes[start + 1..];
        match rest.first() {
            Some(b'/') => depth = depth.saturating_sub(1),
            Some(c) if c.is_ascii_alphabetic() => {
                let name_len = rest
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'!')
                    .count();
                let name = &rest[..name_len];
                let tag_end = memchr::memchr(b'>', rest);
                let self_closing = tag_end.is_some_and(|e| e > 0 && rest[e - 1] == b'/');
                let void = VOID.iter().any(|v| v.as_bytes().eq_ignore_ascii_case(name));
                if !void && !self_closing {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return &html[..start];
                    }
                }
            }
            _ => {}
        }
        i = start + 1;
    }
    html
}

fn memchr_lt(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b'<', bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_pages_are_untouched_and_deep_nesting_is_cut() {
        let page = "<!doctype html><html><head><meta charset=utf-8><link rel=x href=/a></head>\
                    <body><div><p>a<br>b<img src=x/></p></div><input name=q></body></html>";
        assert_eq!(bounded(page), page);
        let flat = "<p>x</p>".repeat(10_000);
        assert_eq!(bounded(&flat), flat);
        let deep = format!(
            "<a href=/first>first</a>{}<a href=/last>last</a>",
            "<div>".repeat(20_000)
        );
        let cut = bounded(&deep);
        assert!(cut.contains("/first"));
        assert!(!cut.contains("/last"));
        assert!(cut.len() < 2_000, "{}", cut.len());
    }

    #[test]
    fn cutting_is_linear() {
        let deep = "<div>".repeat(200_000);
        let started = std::time::Instant::now();
        let _ = bounded(&deep);
        // Generous: a quadratic scan of 200k tags would take minutes.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
