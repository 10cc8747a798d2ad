//! Hiding literal secrets in rendered diagnostics.
//!
//! Input: the document (or, after a syntax error, the raw source). Output: byte ranges pushed
//! to [`Cx::masks`]. Invariant: every literal string that may be a credential is masked, even
//! under a key that is rejected as unknown; `${VAR}` references stay readable because they are
//! not secrets and the user needs to see them.

use toml::de::{DeTable, DeValue};

use super::{Cx, Value};

/// Whether a key may hold a credential, for masking only. Broader than `login::is_secret_name` so
/// that misspelt keys (`pasword`, `tokn`) are hidden too: over-masking costs nothing.
fn looks_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        "pas", "pwd", "pw", "tok", "secret", "key", "otp", "pin", "bearer", "cookie", "auth",
        "cred", "sid", "session",
    ]
    .iter()
    .any(|p| lower.contains(p))
}

/// Keys inside a login whose literal values are not credentials and stay readable.
const LOGIN_PLAIN: &[&str] = &["form", "user", "username", "email", "path", "contains"];

/// Masks every literal string that may be a credential anywhere in the document, including under
/// keys we will reject as unknown: a misspelt `pasword = "..."` must not be echoed either.
/// Inside a `login` table everything but [`LOGIN_PLAIN`] is masked.
pub(super) fn secret_values(cx: &mut Cx<'_>, table: &DeTable<'_>, in_login: bool) {
    for (key, value) in table.iter() {
        let k = key.get_ref().as_ref();
        let secret = looks_secret(k) || (in_login && !LOGIN_PLAIN.contains(&k));
        mask_value(cx, value, secret, in_login || k == "login");
    }
}

fn mask_value(cx: &mut Cx<'_>, value: &Value<'_>, secret: bool, in_login: bool) {
    match value.get_ref() {
        DeValue::String(s) if secret && !s.contains("${") => cx.masks.push(value.span()),
        DeValue::Table(t) => secret_values(cx, t, in_login),
        DeValue::Array(items) => {
            for item in items.iter() {
                mask_value(cx, item, secret, in_login);
            }
        }
        _ => {}
    }
}

/// After a syntax error the recovered tree may miss the broken line, so mask by shape too:
/// a quoted value after a credential-like key, on any line.
pub(super) fn secret_lines(cx: &mut Cx<'_>) {
    let Ok(re) = regex::Regex::new(
        r#"(?i)[A-Za-z0-9_.\-"']*(?:pas|pw|tok|secret|key|otp|pin|bearer|cookie|auth|cred|sid|session)[A-Za-z0-9_.\-"']*\s*=\s*("(?:[^"\\\n]|\\.)*"?|'[^'\n]*'?)"#,
    ) else {
        return;
    };
    for caps in re.captures_iter(cx.source) {
        if let Some(m) = caps.get(1)
            && !m.as_str().contains("${")
        {
            cx.masks.push(m.range());
        }
    }
}
