//! The forms a runtime secret takes in a response besides verbatim.
//!
//! Input: a secret's value. Output: labelled literal strings, each of which, found in a body,
//! means the secret is there. Invariant: every form is derived from the value alone, so each
//! is at least as specific as the value (the parser rejects values under 8 characters).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

/// (form name, literal) pairs, deduplicated, the verbatim value first.
pub fn forms(value: &str) -> Vec<(&'static str, String)> {
    let mut forms: Vec<(&'static str, String)> = vec![("verbatim", value.to_string())];
    for (name, engine) in [("base64", STANDARD_NO_PAD), ("base64url", URL_SAFE_NO_PAD)] {
        for form in base64_cores(&engine, value.as_bytes()) {
            forms.push((name, form));
        }
    }
    // URL encoders disagree on the space and on a few punctuation marks; each common one.
    for (space_plus, safe) in [
        (true, "*-._"),       // HTML forms, URLSearchParams
        (false, "-._~"),      // RFC 3986
        (true, "-._~"),       // Python's quote_plus
        (false, "-._~!*'()"), // JavaScript's encodeURIComponent
    ] {
        forms.push(("url-encoded", percent_encode(value, space_plus, safe)));
    }
    if let Ok(json) = serde_json::to_string(value) {
        let inner = json.trim_matches('"').to_string();
        // Some serialisers (PHP's, many JS templating helpers) also escape `/`.
        forms.push(("json-escaped", inner.replace('/', "\\/")));
        forms.push(("json-escaped", inner));
    }
    forms.push(("json-escaped", json_ascii(value)));
    let hex: String = value.bytes().map(|b| format!("{b:02x}")).collect();
    forms.push(("hex", hex.to_ascii_uppercase()));
    forms.push(("hex", hex));
    let mut seen = std::collections::HashSet::new();
    forms.retain(|(_, f)| !f.is_empty() && seen.insert(f.clone()));
    forms
}

/// The base64 characters that depend on the value alone, for each of the three alignments it
/// can have inside a longer encoded string. `Basic base64("user:" + secret)` puts the secret at
/// offset 5, so the standalone encoding never appears there, but one of these cores does. The
/// cores also match the standalone encoding, padded or not (alignment 0 is a prefix of it).
fn base64_cores(engine: &impl Engine, value: &[u8]) -> Vec<String> {
    let mut cores = Vec::with_capacity(3);
    for shift in 0..3usize {
        let mut bytes = vec![0u8; shift];
        bytes.extend_from_slice(value);
        let encoded = engine.encode(&bytes);
        // Characters wholly inside the value's bits: from ceil(8*shift/6) to floor(8*len/6).
        let start = (8 * shift).div_ceil(6);
        let end = 8 * bytes.len() / 6;
        if let Some(core) = encoded.get(start..end) {
            cores.push(core.to_string());
        }
    }
    cores
}

/// Percent-encoding of every byte but ASCII letters, digits and `safe`; a space as `+` or
/// `%20`.
fn percent_encode(value: &str, space_plus: bool, safe: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || safe.as_bytes().contains(&b) {
            out.push(char::from(b));
        } else if b == b' ' && space_plus {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A JSON string body with every non-ASCII character as `\uXXXX` (what `ensure_ascii`
/// serialisers write).
fn json_ascii(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || !c.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};

    const SECRET: &str = "p@ss/wörd+?=&x y\"1";

    fn found(haystack: &str) -> Option<&'static str> {
        forms(SECRET)
            .into_iter()
            .find(|(_, f)| haystack.contains(f.as_str()))
            .map(|(name, _)| name)
    }

    #[test]
    fn every_encoding_is_found() {
        let b = SECRET.as_bytes();
        let basic = STANDARD.encode(format!("admin:{SECRET}"));
        let cases: Vec<(String, &str)> = vec![
            (format!("x {SECRET} y"), "verbatim"),
            (STANDARD.encode(b), "base64"),
            (STANDARD_NO_PAD.encode(b), "base64"),
            (URL_SAFE.encode(b), "base64url"),
            (URL_SAFE_NO_PAD.encode(b), "base64url"),
            (format!("Authorization: Basic {basic}"), "base64"),
            (
                url::form_urlencoded::byte_serialize(b).collect::<String>(),
                "url-encoded",
            ),
            (
                format!("?p={}", percent_encode(SECRET, false, "-._~")),
                "url-encoded",
            ),
            // encodeURIComponent
            (
                "p%40ss%2Fw%C3%B6rd%2B%3F%3D%26x%20y%221".to_string(),
                "url-encoded",
            ),
            // Python's quote_plus
            (
                "p%40ss%2Fw%C3%B6rd%2B%3F%3D%26x+y%221".to_string(),
                "url-encoded",
            ),
            (
                serde_json::json!({ "p": SECRET }).to_string(),
                "json-escaped",
            ),
            (json_ascii(SECRET), "json-escaped"),
            (SECRET.bytes().map(|b| format!("{b:02x}")).collect(), "hex"),
            (SECRET.bytes().map(|b| format!("{b:02X}")).collect(), "hex"),
        ];
        for (haystack, expected) in cases {
            assert_eq!(found(&haystack), Some(expected), "in {haystack}");
        }
    }

    #[test]
    fn every_alignment_inside_a_longer_base64_string() {
        for prefix in ["", "a", "ab", "abc", "user:", "x-api:"] {
            for suffix in ["", "!", "!!", "tail"] {
                let encoded = STANDARD.encode(format!("{prefix}{SECRET}{suffix}"));
                assert!(
                    found(&encoded).is_some(),
                    "{prefix:?} + secret + {suffix:?}"
                );
            }
        }
    }

    #[test]
    fn forms_are_never_shorter_than_the_value_allows() {
        for (_, form) in forms("eight-ch") {
            assert!(form.len() >= 8, "{form}");
        }
    }
}
