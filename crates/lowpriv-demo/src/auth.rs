//! Form login with CSRF, and logout: the handlers that create and end the sessions that
//! `gate.rs` recognises.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::data::ACCOUNTS;
use crate::gate::cookie;
use crate::layout::{escape, html_response, json_error, redirect_found, render};
use crate::state::{Counters, SiteState, lock};
// Its home is `state` now (the Site draws its `/team` form tokens from it); still named here
// for `fleet`, until its import moves too.
use crate::state::random_hex;

/// Only same-site absolute paths, so `next` cannot become an open redirect
/// (`//host` and `/\host` are treated by browsers as other hosts); visible
/// ASCII only, so it is always a valid header value.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(next)
            if next.starts_with('/')
                && !next.starts_with("//")
                && !next.contains('\\')
                && next.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            next.to_string()
        }
        _ => "/".to_string(),
    }
}

/// Keeps unauthenticated `GET /login` traffic from growing the CSRF map forever.
const MAX_PENDING_CSRF: usize = 10_000;

fn login_form(site: &SiteState, csrf: &str, next: &str, error: Option<&str>) -> String {
    let error = error
        .map(|message| format!("<p class=\"error\">{}</p>\n", escape(message)))
        .unwrap_or_default();
    let main = format!(
        "<h1>Sign in</h1>\n\
         <form action=\"/search\" method=\"get\"><input name=\"q\" placeholder=\"Search\"></form>\n\
         {error}\
         <form method=\"post\" action=\"/login\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\n\
         <label>Username <input name=\"username\"></label>\n\
         <label>Password <input type=\"password\" name=\"password\"></label>\n\
         {otp}\
         <button type=\"submit\">Sign in</button>\n\
         </form>\n\
         <p><a href=\"/healthz\">Service status</a></p>",
        csrf = escape(csrf),
        next = escape(next),
        otp = if site.alice_totp {
            "<label>One-time code <input name=\"otp\" inputmode=\"numeric\" autocomplete=\"one-time-code\"></label>\n"
        } else {
            ""
        },
    );
    render(site, None, "Sign in", &main)
}

/// The CSRF token already bound to this browser's `csrf_pre` cookie, or a
/// fresh pair (with the cookie to set) when there is none.
fn csrf_for(site: &SiteState, headers: &HeaderMap) -> (String, Option<String>) {
    if let Some(pre) = cookie(headers, "csrf_pre")
        && let Some(token) = lock(&site.csrf).get(&pre)
    {
        return (token.clone(), None);
    }
    let pre = random_hex();
    let token = random_hex();
    let mut pending = lock(&site.csrf);
    if pending.len() >= MAX_PENDING_CSRF {
        pending.clear();
    }
    pending.insert(pre.clone(), token.clone());
    (token, Some(pre))
}

fn login_response(
    site: &SiteState,
    headers: &HeaderMap,
    next: &str,
    error: Option<&str>,
) -> Response {
    let (token, new_pre) = csrf_for(site, headers);
    let mut response = html_response(StatusCode::OK, login_form(site, &token, next, error));
    if let Some(pre) = new_pre
        && let Ok(value) = format!("csrf_pre={pre}; HttpOnly; Path=/").parse()
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

pub(crate) async fn login_page(
    State(site): State<SiteState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let next = safe_next(query.get("next").map(String::as_str));
    login_response(&site, &headers, &next, None)
}

pub(crate) async fn login_submit(
    State(site): State<SiteState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Counted before any parsing, so even malformed posts show up in the stats.
    Counters::bump(&site.stats.login_posts);
    let fields: HashMap<String, String> = url::form_urlencoded::parse(&body)
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or_default();
    let password = field("password");
    // Before the CSRF check: a password that arrived counts, whether or not it could log in.
    if !password.is_empty() && !site.is_own_password(password) {
        Counters::bump(&site.stats.unknown_credentials);
    }

    let expected = cookie(&headers, "csrf_pre").and_then(|pre| lock(&site.csrf).get(&pre).cloned());
    if expected.is_none_or(|token| token != field("csrf")) {
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "csrf token invalid",
        )
            .into_response();
    }

    let next = safe_next(fields.get("next").map(String::as_str));
    let Some(index) = ACCOUNTS.iter().enumerate().position(|(index, account)| {
        account.user.name == field("username") && site.password(index) == Some(password)
    }) else {
        return login_response(&site, &headers, &next, Some("Invalid username or password"));
    };
    if !second_factor_ok(&site, index, field("otp")) {
        return login_response(&site, &headers, &next, Some("Invalid one-time code"));
    }

    let sid = random_hex();
    lock(&site.sessions).insert(sid.clone(), index);
    lock(&site.issued).push(sid.clone());
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, next),
            (
                header::SET_COOKIE,
                format!("sid={sid}; HttpOnly; Path=/; SameSite=Lax"),
            ),
        ],
    )
        .into_response()
}

/// `POST /api/auth/login` with `{"username": ..., "password": ...}`: the single-page-app
/// login. Answers `{"access_token": ..., "token_type": "Bearer"}` and sets the same session
/// as a cookie: a client may use either (the token is the session id, so the session's
/// expiry applies to both). No CSRF token: a JSON body cannot come from a plain HTML form.
pub(crate) async fn login_json(State(site): State<SiteState>, body: Bytes) -> Response {
    Counters::bump(&site.stats.login_posts);
    let fields: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let field = |name: &str| {
        fields
            .get(name)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
    };
    let password = field("password");
    if !password.is_empty() && !site.is_own_password(password) {
        Counters::bump(&site.stats.unknown_credentials);
    }
    let Some(index) = ACCOUNTS.iter().enumerate().position(|(index, account)| {
        account.user.name == field("username") && site.password(index) == Some(password)
    }) else {
        return json_error(StatusCode::UNAUTHORIZED, "invalid username or password");
    };
    if !second_factor_ok(&site, index, field("otp")) {
        return json_error(StatusCode::UNAUTHORIZED, "invalid one-time code");
    }
    let (sid, answer) = issue_tokens(&site, index, true);
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::SET_COOKIE,
                format!("sid={sid}; HttpOnly; Path=/; SameSite=Lax"),
            ),
        ],
        answer.to_string(),
    )
        .into_response()
}

/// A new session for `ACCOUNTS[index]` (its id is the access token) and, when `refreshable`,
/// a refresh token for it: the session id and the token endpoint's JSON answer.
fn issue_tokens(site: &SiteState, index: usize, refreshable: bool) -> (String, serde_json::Value) {
    let sid = random_hex();
    lock(&site.sessions).insert(sid.clone(), index);
    lock(&site.issued).push(sid.clone());
    let mut answer = serde_json::json!({
        "access_token": sid,
        "token_type": "Bearer",
        "expires_in": 3600,
    });
    if refreshable {
        let refresh = random_hex();
        lock(&site.refresh_tokens).insert(refresh.clone(), index);
        lock(&site.issued_refresh).push(refresh.clone());
        answer["refresh_token"] = serde_json::Value::String(refresh);
    }
    (sid, answer)
}

/// With `DemoConfig::alice_totp`, alice also needs the current TOTP code; nobody else does.
fn second_factor_ok(site: &SiteState, index: usize, code: &str) -> bool {
    let alice = ACCOUNTS.get(index).is_some_and(|a| a.user.name == "alice");
    !(site.alice_totp && alice) || crate::data::alice_totp_ok(code)
}

/// `POST /api/auth/refresh` with `{"refresh_token": ...}`: a new session (access token) for
/// the refresh token's account, and a new refresh token; the old one is spent (rotation).
/// An unknown or spent token, or any token with `Faults::refresh_revoked`, is 401.
pub(crate) async fn refresh_json(State(site): State<SiteState>, body: Bytes) -> Response {
    Counters::bump(&site.stats.refresh_posts);
    let fields: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let presented = fields
        .get("refresh_token")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let account = if site.faults.refresh_revoked {
        None
    } else {
        lock(&site.refresh_tokens).remove(presented)
    };
    let Some(index) = account else {
        return json_error(StatusCode::UNAUTHORIZED, "invalid refresh token");
    };
    let (_, answer) = issue_tokens(&site, index, true);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json".to_string())],
        answer.to_string(),
    )
        .into_response()
}

/// `POST /oauth/token` (RFC 6749): `client_credentials` for a client with an account of its
/// own, `password` (the deprecated resource-owner grant, for `dashboard`) and
/// `refresh_token`. The client authenticates with HTTP Basic. The access token is a session
/// id, so `Faults::session_ttl` expires it like any session; the password grant also answers
/// a refresh token, spent by its use (`Faults::refresh_revoked` refuses every one).
pub(crate) async fn oauth_token(
    State(site): State<SiteState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    Counters::bump(&site.stats.token_posts);
    let oauth_error = |status: StatusCode, error: &str| {
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::json!({ "error": error }).to_string(),
        )
            .into_response()
    };
    let client = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.decode(b).ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|pair| {
            let (id, secret) = pair.split_once(':')?;
            crate::data::OAUTH_CLIENTS
                .iter()
                .find(|(cid, csecret, _)| *cid == id && *csecret == secret)
        });
    let Some((_, _, service)) = client else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    };
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let account_named = |name: &str| ACCOUNTS.iter().position(|a| a.user.name == name);
    let (index, refreshable) = match field("grant_type") {
        "client_credentials" => match service.and_then(account_named) {
            Some(index) => (index, false),
            None => return oauth_error(StatusCode::BAD_REQUEST, "unauthorized_client"),
        },
        "password" if service.is_none() => {
            let password = field("password");
            let found = ACCOUNTS.iter().enumerate().position(|(index, account)| {
                account.user.name == field("username") && site.password(index) == Some(password)
            });
            match found {
                Some(index) => (index, true),
                None => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant"),
            }
        }
        "refresh_token" => {
            let account = if site.faults.refresh_revoked {
                None
            } else {
                lock(&site.refresh_tokens).remove(field("refresh_token"))
            };
            match account {
                Some(index) => (index, true),
                None => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant"),
            }
        }
        _ => return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    };
    let (_, answer) = issue_tokens(&site, index, refreshable);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        answer.to_string(),
    )
        .into_response()
}

/// `GET /.well-known/openid-configuration`: the issuer (this origin, as the request names it)
/// and its token endpoint.
pub(crate) async fn openid_configuration(headers: HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let issuer = format!("http://{host}");
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({
            "issuer": issuer,
            "token_endpoint": format!("{issuer}/oauth/token"),
            "grant_types_supported": ["client_credentials", "password", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        })
        .to_string(),
    )
        .into_response()
}

/// A trap: a scanner that follows this link ends its own session.
pub(crate) async fn logout(State(site): State<SiteState>, headers: HeaderMap) -> Response {
    Counters::bump(&site.stats.logout_hits);
    if let Some(sid) = cookie(&headers, "sid") {
        lock(&site.sessions).remove(&sid);
    }
    let mut response = redirect_found("/login");
    if let Ok(value) = "sid=; Max-Age=0; HttpOnly; Path=/; SameSite=Lax".parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
