//! Who is asking: credential parsing (session cookie, API token, Basic auth),
//! form login with CSRF, logout, and the login/team/role gates every route uses.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;

use super::Counters;
use super::data::{ACCOUNTS, Account, Role};
use super::pages::{escape, html_response, render};
use super::site::{SiteState, lock};

/// 32 hex characters that are unpredictable enough for a loopback demo: no
/// rand crate is available, so std's randomly keyed SipHash is fed a counter and the clock.
pub(crate) fn random_hex() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut halves = [0u64; 2];
    for half in &mut halves {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        hasher.write_u128(nanos);
        *half = hasher.finish();
    }
    format!("{:016x}{:016x}", halves[0], halves[1])
}

/// The value of cookie `name`, across every `Cookie` header.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

fn by_token(token: &str) -> Option<&'static Account> {
    ACCOUNTS.iter().find(|account| account.user.token == token)
}

fn by_password(name: &str, password: &str) -> Option<&'static Account> {
    ACCOUNTS
        .iter()
        .find(|account| account.user.name == name && account.user.password == password)
}

fn from_authorization(value: &str) -> Option<&'static Account> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        by_token(rest)
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (name, password) = decoded.split_once(':')?;
        by_password(name, password)
    } else {
        None
    }
}

/// The account behind the request's credentials, if any is valid. Every
/// accepted kind of credential is tried, so a stale cookie does not shadow a
/// good token.
pub(crate) fn identify(site: &SiteState, headers: &HeaderMap) -> Option<&'static Account> {
    let from_header = headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(from_authorization);
    let from_api_token = || {
        headers
            .get_all("x-api-token")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(|token| by_token(token.trim()))
    };
    let from_cookie = || {
        let sid = cookie(headers, "sid")?;
        if let Some(&index) = lock(&site.sessions).get(&sid) {
            return ACCOUNTS.get(index);
        }
        // API tokens double as static session ids.
        by_token(&sid)
    };
    from_header.or_else(from_api_token).or_else(from_cookie)
}

/// A gate's refusal, boxed because a bare `Response` is too large to pass
/// around in every `Result`.
pub(crate) struct Denied(Box<Response>);

impl From<Response> for Denied {
    fn from(response: Response) -> Self {
        Denied(Box::new(response))
    }
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        *self.0
    }
}

fn json_error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

pub(crate) fn api_denied() -> Response {
    json_error(StatusCode::FORBIDDEN, "Access denied")
}

pub(crate) fn api_not_found() -> Response {
    json_error(StatusCode::NOT_FOUND, "not found")
}

/// Login for an HTML route: anonymous visitors go to the login form and come back.
pub(crate) fn login_html(
    site: &SiteState,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<&'static Account, Denied> {
    identify(site, headers).ok_or_else(|| {
        let back = uri.path_and_query().map_or("/", |pq| pq.as_str());
        let next: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
        redirect_found(&format!("/login?next={next}")).into()
    })
}

pub(crate) fn login_api(site: &SiteState, headers: &HeaderMap) -> Result<&'static Account, Denied> {
    identify(site, headers)
        .ok_or_else(|| json_error(StatusCode::UNAUTHORIZED, "login required").into())
}

/// The team gate answers 200 with a denial page on purpose: the scanner must
/// recognise denials by their text, not only by status.
pub(crate) fn team_html(site: &SiteState, account: &Account) -> Result<(), Denied> {
    if account.team_member {
        return Ok(());
    }
    let main =
        "<h1>Access denied</h1>\n<p>Access denied: you are not a member of the payroll team.</p>";
    Err(html_response(
        StatusCode::OK,
        render(site, Some(account), "Access denied", main),
    )
    .into())
}

pub(crate) fn team_api(account: &Account) -> Result<(), Denied> {
    if account.team_member {
        Ok(())
    } else {
        Err(api_denied().into())
    }
}

pub(crate) fn role_html(
    site: &SiteState,
    account: &Account,
    allowed: &[Role],
) -> Result<(), Denied> {
    if allowed.contains(&account.role) {
        return Ok(());
    }
    let main = "<h1>Access denied</h1>\n<p>Access denied: your role may not open this page.</p>";
    Err(html_response(
        StatusCode::FORBIDDEN,
        render(site, Some(account), "Access denied", main),
    )
    .into())
}

pub(crate) fn role_api(account: &Account, allowed: &[Role]) -> Result<(), Denied> {
    if allowed.contains(&account.role) {
        Ok(())
    } else {
        Err(api_denied().into())
    }
}

pub(crate) fn redirect_found(location: &str) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

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
         <button type=\"submit\">Sign in</button>\n\
         </form>\n\
         <p><a href=\"/healthz\">Service status</a></p>",
        csrf = escape(csrf),
        next = escape(next),
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
    let Some(index) = ACCOUNTS.iter().position(|account| {
        account.user.name == field("username") && account.user.password == field("password")
    }) else {
        return login_response(&site, &headers, &next, Some("Invalid username or password"));
    };

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
