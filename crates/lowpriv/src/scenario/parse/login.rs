//! `[identity.login]` and `[source.login.IDENTITY]`: one login method and its proof, with
//! credentials read from the environment.
//!
//! Input: an identity's `login` table (or its login to a source) and the environment lookup. Output: a [`Login`], or `None`
//! with every problem recorded. Invariants: exactly one method; a secret is never a literal
//! (it must be a `${VAR}` reference) and never empty once resolved; no message ever quotes a
//! value, and literal secrets are masked.

use std::ops::Range;

use toml::de::DeValue;

use super::super::env;
use super::super::model::*;
use super::table::{Table, path, type_error};
use super::{Cx, Value};

const LOGIN_METHODS: &[&str] = &[
    "form", "json", "oauth2", "bearer", "basic", "cookie", "headers",
];
pub(super) const KEYS: &[&str] = &[
    "form",
    "json",
    "fields",
    "token",
    "token_header",
    "encoding",
    "refresh",
    "refresh_token",
    "oauth2",
    "totp",
    "bearer",
    "basic",
    "cookie",
    "headers",
    "verify",
];
/// Keys that only a JSON login takes.
const JSON_ONLY: &[&str] = &[
    "token",
    "token_header",
    "encoding",
    "refresh",
    "refresh_token",
];
const BASIC: &[&str] = &["user", "password"];
const TOTP: &[&str] = &["field", "seed"];
const OAUTH2: &[&str] = &[
    "token_url",
    "issuer",
    "grant",
    "client_id",
    "client_secret",
    "scope",
    "username",
    "password",
];
const VERIFY: &[&str] = &["path", "contains"];

/// Whose login a table is: how messages name the table and its owner, and the variable name a
/// literal secret's help suggests. An identity's and a source's logins read the same keys.
pub(super) struct Whose {
    /// `[identity.login]`, `[source.login.alice]`.
    pub(super) table: String,
    /// ``identity `alice` ``, ``identity `alice` at source `hr-api` ``.
    pub(super) owner: String,
    /// The start of a suggested variable name: `alice`, `hr-api_alice`.
    pub(super) var: String,
}

impl Whose {
    pub(super) fn identity(name: &str) -> Whose {
        Whose {
            table: "[identity.login]".to_string(),
            owner: format!("identity `{name}`"),
            var: name.to_string(),
        }
    }

    pub(super) fn source(source: &str, identity: &str) -> Whose {
        Whose {
            table: format!("[source.login.{identity}]"),
            owner: format!("identity `{identity}` at source `{source}`"),
            var: format!("{source}_{identity}"),
        }
    }
}

/// Whether a form field or key name holds a credential, by its name.
fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["pass", "pwd", "token", "secret", "key", "otp", "pin"]
        .iter()
        .any(|p| lower.contains(p))
}

pub(super) fn login(cx: &mut Cx<'_>, t: &Table<'_, '_>, whose: &Whose) -> Option<Login> {
    let methods: Vec<&str> = t
        .entries
        .iter()
        .map(|(k, _)| k.get_ref().as_ref())
        .filter(|k| LOGIN_METHODS.contains(k))
        .collect();
    let Some(&method) = methods.first() else {
        cx.error_help(
            t.anchor(),
            format!("{} has no login method", whose.table),
            "set exactly one of: form, json, oauth2, bearer, basic, cookie, headers",
        );
        return None;
    };
    let mut ok = true;
    for extra in &methods[1..] {
        let span = t.key_span(extra).unwrap_or(t.anchor());
        cx.error_help(
            span,
            format!("`{extra}` conflicts with `{method}` in {}", whose.table),
            "a login has exactly one method",
        );
        ok = false;
    }
    if !matches!(method, "form" | "json")
        && let Some(span) = t.key_span("fields")
    {
        cx.error(span, "`fields` only goes with `form` or `json`");
        ok = false;
    }
    if method != "json" {
        for key in JSON_ONLY {
            if let Some(span) = t.key_span(key) {
                cx.error(span, format!("`{key}` only goes with `json`"));
                ok = false;
            }
        }
    }

    let method =
        match method {
            "form" => form_login(cx, t, whose),
            "json" => json_login(cx, t, whose),
            "oauth2" => oauth2_login(cx, t, whose),
            "bearer" => credential(cx, t, "bearer", whose, true)
                .map(|v| LoginMethod::Bearer(Secret::new(v))),
            "cookie" => credential(cx, t, "cookie", whose, true)
                .map(|v| LoginMethod::Cookie(Secret::new(v))),
            "basic" => t
                .get("basic")
                .and_then(|v| {
                    let name = format!("{} basic", whose.table);
                    Table::of(cx, v, "`basic`", &name, Some(BASIC))
                })
                .and_then(|b| {
                    let user = credential(cx, &b, "user", whose, false);
                    let user = b.require(cx, "user", user);
                    let password = credential(cx, &b, "password", whose, true);
                    let password = b.require(cx, "password", password);
                    Some(LoginMethod::Basic {
                        user: user?,
                        password: Secret::new(password?),
                    })
                }),
            _ => t
                .get("headers")
                .and_then(|v| {
                    let name = format!("{} headers", whose.table);
                    Table::of(cx, v, "`headers`", &name, None)
                })
                .and_then(|h| headers(cx, &h, whose)),
        };

    let verify = t.get("verify").and_then(|v| {
        let name = format!("{} verify", whose.table);
        let vt = Table::of(cx, v, "`verify`", &name, Some(VERIFY))?;
        let path_value = vt.str(cx, "path");
        let path = vt
            .require(cx, "path", path_value)
            .and_then(|p| path(cx, "verify.path", p));
        let contains = vt.str(cx, "contains").map(|(s, _)| s);
        Some(Verify {
            path: path?,
            contains,
        })
    });
    if t.has("verify") && verify.is_none() {
        ok = false;
    }
    let totp = match t.get("totp") {
        None => None,
        Some(v) => {
            let name = format!("{} totp", whose.table);
            let parsed = Table::of(cx, v, "`totp`", &name, Some(TOTP)).and_then(|tt| {
                let field = tt.str(cx, "field").map(|(f, _)| f);
                let field = tt.require(cx, "field", field);
                let seed = credential(cx, &tt, "seed", whose, true);
                let seed = tt.require(cx, "seed", seed);
                Some(Totp {
                    field: field?,
                    seed: Secret::new(seed?),
                })
            });
            if !matches!(
                method.as_ref(),
                Some(LoginMethod::Form { .. } | LoginMethod::Json { .. })
            ) && method.is_some()
            {
                cx.error(
                    t.key_span("totp").unwrap_or(t.anchor()),
                    "`totp` only goes with `form` or `json`: it is a field they send",
                );
                ok = false;
            }
            if parsed.is_none() {
                ok = false;
            }
            parsed
        }
    };
    ok.then_some(Login {
        method: method?,
        verify,
        totp,
    })
}

fn form_login(cx: &mut Cx<'_>, t: &Table<'_, '_>, whose: &Whose) -> Option<LoginMethod> {
    let form = t.str(cx, "form").and_then(|v| path(cx, "form", v));
    let fields = login_fields(cx, t, "form", whose)?;
    Some(LoginMethod::Form {
        form: form?,
        fields,
    })
}

/// `oauth2 = { token_url | issuer, grant, client_id, client_secret, scope, username,
/// password }`. The grant has no default: the password grant is deprecated, so a scenario
/// names it to use it (and `check` warns).
fn oauth2_login(cx: &mut Cx<'_>, t: &Table<'_, '_>, whose: &Whose) -> Option<LoginMethod> {
    let name = format!("{} oauth2", whose.table);
    let o = Table::of(cx, t.get("oauth2")?, "`oauth2`", &name, Some(OAUTH2))?;
    let mut ok = true;
    let token_url = o.str(cx, "token_url").map(|(v, _)| v);
    let issuer = o.str(cx, "issuer").map(|(v, _)| v);
    let endpoint = match (token_url, issuer) {
        (Some(url), None) => Some(TokenEndpoint::Url(url)),
        (None, Some(issuer)) => Some(TokenEndpoint::Issuer(issuer)),
        (Some(_), Some(_)) => {
            cx.error_help(
                o.key_span("issuer").unwrap_or(o.anchor()),
                "`issuer` conflicts with `token_url`",
                "name the token endpoint, or the OIDC issuer whose discovery document names it",
            );
            None
        }
        (None, None) => {
            if !o.has("token_url") && !o.has("issuer") {
                cx.error_help(
                    o.anchor(),
                    format!("{name} needs `token_url` or `issuer`"),
                    "token_url = \"/oauth/token\", or issuer = \"https://idp.example\"",
                );
            }
            None
        }
    };
    let client_id = o.str(cx, "client_id").map(|(v, _)| v);
    let client_id = o.require(cx, "client_id", client_id);
    let client_secret = credential(cx, &o, "client_secret", whose, true).map(Secret::new);
    if o.has("client_secret") && client_secret.is_none() {
        ok = false;
    }
    let scope = o.str(cx, "scope").map(|(v, _)| v);
    let grant = match o.str(cx, "grant") {
        Some((g, _)) if g == "client_credentials" => {
            for key in ["username", "password"] {
                if let Some(span) = o.key_span(key) {
                    cx.error(span, format!("`{key}` only goes with grant = \"password\""));
                    ok = false;
                }
            }
            Some(Grant::ClientCredentials)
        }
        Some((g, span)) if g == "password" => {
            cx.lints.push(crate::scenario::Lint {
                location: cx.location(span.start),
                message: format!(
                    "{} uses the resource-owner password grant, which the OAuth 2.0 Security Best \
                     Current Practice deprecates: prefer a browser login through the IdP, or a \
                     client credentials grant for a service account",
                    whose.owner
                ),
            });
            let username = credential(cx, &o, "username", whose, false);
            let username = o.require(cx, "username", username);
            let password = credential(cx, &o, "password", whose, true);
            let password = o.require(cx, "password", password);
            match (username, password) {
                (Some(username), Some(password)) => Some(Grant::Password {
                    username,
                    password: Secret::new(password),
                }),
                _ => None,
            }
        }
        Some((g, span)) => {
            cx.error_help(
                span,
                format!("unknown grant `{g}`"),
                "client_credentials, or password (deprecated: named only by choice)",
            );
            None
        }
        None => {
            cx.error_help(
                o.anchor(),
                format!("`grant` is required in {name}"),
                "grant = \"client_credentials\" (a service account), or \"password\" (deprecated)",
            );
            None
        }
    };
    let (endpoint, grant, client_id) = (endpoint?, grant?, client_id?);
    ok.then_some(LoginMethod::OAuth2(OAuth2 {
        endpoint,
        grant,
        client_id,
        client_secret,
        scope,
    }))
}

/// `json = "/api/auth/login"`, its `fields`, and where the answer keeps the session.
fn json_login(cx: &mut Cx<'_>, t: &Table<'_, '_>, whose: &Whose) -> Option<LoginMethod> {
    let login_path = t.str(cx, "json").and_then(|v| path(cx, "json", v));
    let fields = login_fields(cx, t, "json", whose);
    let mut ok = true;
    let token = t.str(cx, "token").and_then(|(pointer, span)| {
        if pointer.starts_with('/') {
            Some(pointer)
        } else {
            cx.error_help(
                span,
                "`token` is a JSON pointer into the login's answer",
                "e.g. token = \"/access_token\" for {\"access_token\": \"...\"}",
            );
            ok = false;
            None
        }
    });
    let token_header = t.str(cx, "token_header").and_then(|(name, span)| {
        let valid = is_header_name(&name);
        if !valid {
            cx.error(span, format!("`{name}` is not a valid header name"));
            ok = false;
        }
        valid.then_some(name)
    });
    if token_header.is_some() && token.is_none() && ok {
        cx.error(
            t.key_span("token_header").unwrap_or(t.anchor()),
            "`token_header` needs `token`: the pointer to the token it carries",
        );
        ok = false;
    }
    let form_encoded = match t.str(cx, "encoding") {
        None => false,
        Some((e, _)) if e == "json" => false,
        Some((e, _)) if e == "form" => true,
        Some((e, span)) => {
            cx.error_help(span, format!("unknown encoding `{e}`"), "json or form");
            ok = false;
            false
        }
    };
    let refresh_path = t.str(cx, "refresh").and_then(|v| path(cx, "refresh", v));
    let refresh_token = t.str(cx, "refresh_token").and_then(|(pointer, span)| {
        if pointer.starts_with('/') {
            Some(pointer)
        } else {
            cx.error_help(
                span,
                "`refresh_token` is a JSON pointer into the login's answer",
                "e.g. refresh_token = \"/refresh_token\"",
            );
            ok = false;
            None
        }
    });
    let refresh = match (refresh_path, refresh_token) {
        (Some(path), Some(token)) if ok => Some(Refresh { path, token }),
        (None, None) if !t.has("refresh") && !t.has("refresh_token") => None,
        (path, token) => {
            if ok && (path.is_some() || token.is_some()) {
                let (has, lacks) = if path.is_some() {
                    ("refresh", "refresh_token")
                } else {
                    ("refresh_token", "refresh")
                };
                cx.error_help(
                    t.key_span(has).unwrap_or(t.anchor()),
                    format!("`{has}` needs `{lacks}`"),
                    "refresh = \"/api/auth/refresh\" with refresh_token = \"/refresh_token\": \
                     where to renew, and where the login's answer keeps the refresh token",
                );
            }
            ok = false;
            None
        }
    };
    if refresh.is_some() && token.is_none() {
        cx.error(
            t.key_span("refresh").unwrap_or(t.anchor()),
            "`refresh` needs `token`: the pointer to the access token a refresh answers",
        );
        ok = false;
    }
    let (path, fields) = (login_path?, fields?);
    ok.then_some(LoginMethod::Json {
        path,
        fields,
        form_encoded,
        token,
        token_header,
        refresh,
    })
}

/// The `fields` a form or JSON login sends, in file order, credentials resolved.
fn login_fields(
    cx: &mut Cx<'_>,
    t: &Table<'_, '_>,
    method: &str,
    whose: &Whose,
) -> Option<Vec<(String, Secret)>> {
    let Some(fields_value) = t.get("fields") else {
        cx.error_help(
            t.key_span(method).unwrap_or(t.anchor()),
            format!("`{method}` needs a `fields` table"),
            "e.g. fields = { username = \"carol\", password = \"${CAROL_PASSWORD}\" }",
        );
        return None;
    };
    let DeValue::Table(table) = fields_value.get_ref() else {
        type_error(
            cx,
            "fields",
            "a table",
            fields_value.get_ref(),
            fields_value.span(),
        );
        return None;
    };
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    if entries.is_empty() {
        cx.error(fields_value.span(), "`fields` must not be empty");
        return None;
    }
    let mut fields = Vec::with_capacity(entries.len());
    let mut ok = true;
    for (key, value) in entries {
        let name: &str = key.get_ref();
        match resolve(cx, name, value, is_secret_name(name).then_some(whose)) {
            Some(v) => fields.push((name.to_string(), Secret::new(v))),
            None => ok = false,
        }
    }
    ok.then_some(fields)
}

fn headers(cx: &mut Cx<'_>, t: &Table<'_, '_>, whose: &Whose) -> Option<LoginMethod> {
    let mut out = Vec::with_capacity(t.entries.len());
    let mut ok = true;
    if t.entries.is_empty() {
        cx.error(t.anchor(), "`headers` must not be empty");
        return None;
    }
    for (key, value) in &t.entries {
        let name: &str = key.get_ref();
        if !is_header_name(name) {
            cx.error(key.span(), format!("`{name}` is not a valid header name"));
            ok = false;
        }
        match resolve(cx, name, value, Some(whose)) {
            Some(v) => out.push((name.to_string(), Secret::new(v))),
            None => ok = false,
        }
    }
    ok.then_some(LoginMethod::Headers(out))
}

/// An HTTP header name: a non-empty token (RFC 9110, 5.6.2).
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn credential(
    cx: &mut Cx<'_>,
    t: &Table<'_, '_>,
    key: &str,
    whose: &Whose,
    secret: bool,
) -> Option<String> {
    let value = t.get(key)?;
    resolve(cx, key, value, secret.then_some(whose))
}

/// A value with its `${VAR}` references substituted. Never puts a value in a message. A
/// `secret` value (of whose login it is) must hold a reference and must not resolve to
/// nothing; a plain one (a user name, a source's `base_url`) may be literal.
pub(super) fn resolve(
    cx: &mut Cx<'_>,
    key: &str,
    value: &Value<'_>,
    secret: Option<&Whose>,
) -> Option<String> {
    let DeValue::String(s) = value.get_ref() else {
        type_error(cx, key, "a string", value.get_ref(), value.span());
        return None;
    };
    let inner = cx.inner(value.span());
    // Point at the reference itself when the source text is the value verbatim (no escapes).
    let exact = cx.source.get(inner.clone()) == Some(s.as_ref());
    let at = |r: &Range<usize>| {
        if exact {
            inner.start + r.start..inner.start + r.end
        } else {
            inner.clone()
        }
    };
    let refs = match env::references(s) {
        Ok(refs) => refs,
        Err(m) => {
            if secret.is_some() {
                cx.masks.push(value.span());
            }
            cx.error_help(
                if secret.is_some() {
                    value.span()
                } else {
                    at(&m.range)
                },
                format!("malformed variable reference in `{key}`"),
                "write ${NAME} with NAME made of letters, digits and `_`",
            );
            return None;
        }
    };
    if let (true, Some(whose)) = (refs.is_empty(), secret) {
        cx.masks.push(value.span());
        let var: String = format!("{}_{key}", whose.var)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        cx.error_help(
            value.span(),
            format!("`{key}` of {} is a literal secret", whose.owner),
            format!("read it from the environment: {key} = \"${{{var}}}\""),
        );
        return None;
    }
    match env::substitute(s, &refs, cx.env) {
        Ok(v) => {
            if let (true, Some(whose)) = (v.is_empty(), secret) {
                cx.error(
                    inner,
                    format!("`{key}` of {} resolves to an empty value", whose.owner),
                );
                return None;
            }
            Some(v)
        }
        Err(unset) => {
            for r in unset {
                cx.error(
                    at(&r.range),
                    format!("environment variable `{}` is not set", r.name),
                );
            }
            None
        }
    }
}
