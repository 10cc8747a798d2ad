//! The validators: the checks a regex match must pass before it counts as a hit.
//!
//! Input: the body's text, the match's place in it and the candidate value. Output: yes or no.
//! Invariants: each check is pure and reads only the text around the match; they exist because
//! a shape alone (sixteen digits, `x@y.z`) also fits order numbers, versions and asset names,
//! and a false hit is a false finding.
//!
//! Checksums (Luhn, the IBAN mod-97), registries (IBAN lengths, SSN ranges, top-level domains),
//! decoding (a JWT's header), entropy and placeholder words.

use std::ops::Range;

use base64::Engine as _;

use super::Validator;

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
pub(super) fn placeholder(value: &str) -> bool {
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

pub(super) fn validate(validator: Validator, text: &str, whole: Range<usize>, value: &str) -> bool {
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
        Validator::Iterations => iterations(value),
        Validator::Crypt => crypt(text, &whole, value),
    }
}

/// The first all-digit `$` field of a PBKDF2 hash, its iteration count: every framework
/// stores thousands (Django 1,000,000, passlib 29,000); fewer is a made-up example.
fn iterations(value: &str) -> bool {
    value
        .split('$')
        .find(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse::<u64>().ok())
        .is_some_and(|n| (1000..=100_000_000).contains(&n))
}

/// A crypt(3) hash has a fixed length: one followed by more of its alphabet is a piece of a
/// longer string, not a hash. `rounds=` is 1000 to 999,999,999 where present (glibc's range).
fn crypt(text: &str, whole: &Range<usize>, value: &str) -> bool {
    let next = text.get(whole.end..).and_then(|rest| rest.chars().next());
    if next.is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/')) {
        return false;
    }
    match value.split('$').find_map(|p| p.strip_prefix("rounds=")) {
        Some(rounds) => rounds
            .parse::<u64>()
            .is_ok_and(|n| (1000..=999_999_999).contains(&n)),
        None => true,
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
            (
                Validator::Iterations,
                "pbkdf2_sha256$1000000$salt$hash",
                true,
            ),
            (
                Validator::Iterations,
                "$pbkdf2-sha256$29000$salt$hash",
                true,
            ),
            (Validator::Iterations, "pbkdf2_sha256$10$salt$hash", false),
            (Validator::Crypt, "$6$rounds=5000$salt$hash", true),
            (Validator::Crypt, "$6$rounds=10$salt$hash", false),
            (Validator::Crypt, "$6$salt$hash", true),
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
