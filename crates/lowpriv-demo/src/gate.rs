//! Who is asking, and may they: credential parsing (session cookie, API token, Basic auth)
//! into an `Account`, and the login/team/role gates every route passes. A gate's refusal is a
//! ready answer (`Denied`): a redirect to the login form, a denial page, or a JSON error.
//!
//! Above `layout` (denials are rendered pages) and below the handlers, which all call the
//! gates; the form login that creates sessions is a handler (`auth.rs`).

use axum::http::{HeaderMap, StatusCode, Uri, header};
use base64::Engine;

use crate::data::{ACCOUNTS, Account, Role};
use crate::layout::{Denied, api_denied, html_response, json_error, redirect_found, render};
use crate::state::{SiteState, lock};

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

fn by_password(site: &SiteState, name: &str, password: &str) -> Option<&'static Account> {
    ACCOUNTS
        .iter()
        .enumerate()
        .find(|&(index, account)| {
            account.user.name == name && site.password(index) == Some(password)
        })
        .map(|(_, account)| account)
}

/// The name and password of a `Basic` authorization value.
fn basic(value: &str) -> Option<(String, String)> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (name, password) = decoded.split_once(':')?;
    Some((name.to_string(), password.to_string()))
}

fn from_authorization(site: &SiteState, value: &str) -> Option<&'static Account> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        // A JSON login's access token is its session id (see `auth::login_json`).
        let token = rest.trim();
        by_token(token).or_else(|| {
            let index = *lock(&site.sessions).get(token)?;
            ACCOUNTS.get(index)
        })
    } else {
        let (name, password) = basic(value)?;
        by_password(site, &name, &password)
    }
}

/// How many credentials on this request the Site never gave out: a `sid` cookie it never
/// issued (an API token, which doubles as a static session id, is its own), or a Basic
/// password that none of its accounts (and none of its OAuth2 clients) has. Form-login passwords are checked where the form
/// is read (`auth::login_submit`).
pub(crate) fn unknown_credentials(site: &SiteState, headers: &HeaderMap) -> u64 {
    let sid = cookie(headers, "sid")
        .filter(|sid| !sid.is_empty() && by_token(sid).is_none() && !site.issued_session(sid));
    let passwords = headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(basic)
        .filter(|(user, password)| {
            // An OAuth2 client's own credentials (`POST /oauth/token`) are the Site's too.
            !site.is_own_password(password)
                && !crate::data::OAUTH_CLIENTS
                    .iter()
                    .any(|(id, secret, _)| id == user && secret == password)
        })
        .count();
    u64::from(sid.is_some()) + u64::try_from(passwords).unwrap_or(u64::MAX)
}

/// The account behind the request's credentials, if any is valid. Every
/// accepted kind of credential is tried, so a stale cookie does not shadow a
/// good token.
pub(crate) fn identify(site: &SiteState, headers: &HeaderMap) -> Option<&'static Account> {
    let from_header = headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| from_authorization(site, value));
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
