//! Logging in: the six methods (form, JSON, bearer, basic, cookie, headers), the proof that a login
//! held, and logging in again when a refusal turns out to be a session that quietly expired.
//!
//! Input: a [`Session`] and its identity's [`Login`](crate::scenario::Login). Output: the
//! session's [`LoginStatus`](super::LoginStatus), its credential headers and cookies, and
//! answers that are never a lost session mistaken for a refusal. Invariants: credentials go
//! only to the Site's origin (a form whose action is elsewhere is refused, and so is a form
//! that would put them in a URL); a refusal counts only once a proof that started after it
//! arrived holds; a session that keeps dying is given up, never recorded as denied.

use std::sync::atomic::Ordering;
use std::time::Instant;

use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use scraper::{ElementRef, Html};
use url::Url;

use super::transport::Body;
use super::{FetchError, LoginError, LoginStatus, Response, Session, refusal};
use crate::markup;
use crate::scenario::{LoginMethod, Secret, Verify};

/// Re-logins in a row that bought no confirmed answer before the session counts as lost.
pub const MAX_FUTILE_RELOGINS: u32 = 3;
/// Tries at logging in again before a lost session is given up.
const RELOGIN_ATTEMPTS: u32 = 3;

impl Session {
    /// Logs in (if the identity has a login) and proves it; sets [`Session::status`].
    pub async fn login(&mut self, first_seed: &str) -> Result<(), LoginError> {
        self.first_seed = first_seed.to_string();
        let Some(login) = self.identity.login.clone() else {
            self.status = LoginStatus::NotRequired;
            return Ok(());
        };
        let result = async {
            match &login.method {
                LoginMethod::Form { form, fields } => {
                    form_login(self, form, fields, login.totp.as_ref()).await?;
                }
                LoginMethod::Json { .. } => {
                    json_login_with(self, &login.method, login.totp.as_ref()).await?;
                }
                LoginMethod::OAuth2(oauth) => {
                    oauth2_login(self, oauth).await?;
                }
                LoginMethod::Bearer(token) => {
                    self.add_header("authorization", &format!("Bearer {}", token.expose()))?;
                }
                LoginMethod::Basic { user, password } => {
                    use base64::Engine;
                    let pair = format!("{user}:{}", password.expose());
                    let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                    self.add_header("authorization", &format!("Basic {encoded}"))?;
                }
                LoginMethod::Cookie(cookie) => {
                    let mut jar = self.jar.lock().map_err(|_| LoginError::Verify {
                        reason: "cookie jar poisoned".into(),
                    })?;
                    for pair in cookie.expose().split(';') {
                        let pair = pair.trim();
                        if pair.is_empty() {
                            continue;
                        }
                        // Path=/ so the cookie covers the whole Site, as a browser's would.
                        let _ = jar.parse(&format!("{pair}; Path=/"), &self.site.base);
                    }
                }
                LoginMethod::Headers(headers) => {
                    for (name, value) in headers {
                        self.add_header(name, value.expose())?;
                    }
                }
            }
            verify(self, login.verify.as_ref(), first_seed).await
        }
        .await;
        match result {
            Ok(()) => {
                self.status = LoginStatus::LoggedIn;
                Ok(())
            }
            Err(err) => {
                self.status = LoginStatus::Failed(err.to_string());
                Err(err)
            }
        }
    }

    fn add_header(&self, name: &str, value: &str) -> Result<(), LoginError> {
        let bad = || LoginError::BadHeader {
            name: name.to_string(),
        };
        let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
        let mut header_value = HeaderValue::from_str(value).map_err(|_| bad())?;
        header_value.set_sensitive(true);
        let mut headers = self.headers.write().map_err(|_| LoginError::Verify {
            reason: "credential headers poisoned".into(),
        })?;
        headers.insert(header_name, header_value);
        Ok(())
    }

    /// The credentials every request carries (a copy: a replayed login may replace them).
    pub(super) fn credential_headers(&self) -> reqwest::header::HeaderMap {
        self.headers.read().map(|h| h.clone()).unwrap_or_default()
    }

    /// GET `url` as this identity, making sure a refusal is not a session that quietly
    /// expired. Any refusal (a login page or redirect, 401, 403, 404, a deny marker) counts
    /// only once the session is proven alive *after* it arrived, with no re-login in between
    /// (one proof covers every refusal that arrived before it started). A dead session is
    /// logged in again and the request asked again. A session that keeps dying is given up
    /// ([`FetchError::SessionLost`]): a lost session is never recorded as "denied".
    pub async fn fetch(&self, url: &Url) -> Result<Response, FetchError> {
        self.fetch_with(|| self.get(url)).await
    }

    /// [`Session::fetch`]'s rule for any request that may be asked again after a re-login:
    /// a GET, or a GraphQL query (read-only), never a login or a write probe.
    pub(super) async fn fetch_with<F, Fut>(&self, send: F) -> Result<Response, FetchError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Response, FetchError>>,
    {
        let Some(login) = self.identity.login.as_ref() else {
            return send().await;
        };
        loop {
            if let Some(reason) = self.lost() {
                return Err(FetchError::SessionLost { reason });
            }
            let epoch = self.relogins.load(Ordering::Acquire);
            let response = send().await;
            let received = Instant::now();
            if !self.is_refusal(&response) {
                self.confirmed_since_relogin.fetch_add(1, Ordering::Relaxed);
                return response;
            }
            let mut proof = self.proof.lock().await;
            if self.relogins.load(Ordering::Acquire) != epoch {
                // Logged in again meanwhile: this answer came from the old session; ask again.
                continue;
            }
            if proof
                .is_some_and(|(started, proven_epoch)| started > received && proven_epoch == epoch)
            {
                self.confirmed_since_relogin.fetch_add(1, Ordering::Relaxed);
                return response;
            }
            let started = Instant::now();
            if verify(self, login.verify.as_ref(), &self.first_seed)
                .await
                .is_ok()
            {
                *proof = Some((started, epoch));
                self.confirmed_since_relogin.fetch_add(1, Ordering::Relaxed);
                return response;
            }
            let count = self.relogins.load(Ordering::Acquire);
            if self.confirmed_since_relogin.swap(0, Ordering::Relaxed) == 0 && count > 0 {
                let futile = self.futile_relogins.fetch_add(1, Ordering::Relaxed) + 1;
                if futile >= MAX_FUTILE_RELOGINS {
                    let reason = format!(
                        "the session kept expiring: {futile} re-logins in a row bought no answer; \
                         giving up on `{}`",
                        self.identity.name
                    );
                    return Err(self.give_up(reason));
                }
            } else {
                self.futile_relogins.store(0, Ordering::Relaxed);
            }
            tracing::info!(identity = %self.identity.name, count = count + 1, "session lost; logging in again");
            // The fresh session races the requests in flight: on a Site that expires sessions
            // after a few requests, those can use it up before the proof is asked. One failed
            // proof is no reason to give the identity up; a few in a row are.
            let mut result = self.relogin(login).await;
            for _ in 1..RELOGIN_ATTEMPTS {
                if result.is_ok() {
                    break;
                }
                result = self.relogin(login).await;
            }
            self.relogins.fetch_add(1, Ordering::AcqRel);
            match result {
                Ok(()) => *proof = Some((Instant::now(), count + 1)),
                Err(err) => return Err(self.give_up(format!("logging in again failed: {err}"))),
            }
        }
    }

    /// Sends `method` to `url` once with an empty body (`Content-Length: 0`): a write probe.
    /// Never retried and never sent again after a re-login, since a write goes at most once
    /// per identity. A refusal counts only once the session is proven alive after it arrived,
    /// as in [`Session::fetch`] (a probe refused because the session quietly expired would
    /// otherwise hide an identity that may write); when the proof fails the answer is an
    /// error, not a refusal, and the session is not logged in again here.
    pub(crate) async fn send_empty(
        &self,
        method: Method,
        url: &Url,
        content_type: Option<&'static str>,
    ) -> Result<Response, FetchError> {
        if let Some(reason) = self.lost() {
            return Err(FetchError::SessionLost { reason });
        }
        let epoch = self.relogins.load(Ordering::Acquire);
        let response = self
            .send(method, url, Some(Body::empty(content_type)))
            .await;
        let received = Instant::now();
        let Some(login) = self.identity.login.as_ref() else {
            return response;
        };
        if !self.is_refusal(&response) {
            self.confirmed_since_relogin.fetch_add(1, Ordering::Relaxed);
            return response;
        }
        let unproven = |why: String| FetchError::SessionLost {
            reason: format!("refused, but {why}; not sent again"),
        };
        let mut proof = self.proof.lock().await;
        if self.relogins.load(Ordering::Acquire) != epoch {
            return Err(unproven(
                "the session was renewed while it was answered".to_string(),
            ));
        }
        if proof.is_some_and(|(started, proven_epoch)| started > received && proven_epoch == epoch)
        {
            self.confirmed_since_relogin.fetch_add(1, Ordering::Relaxed);
            return response;
        }
        let started = Instant::now();
        match verify(self, login.verify.as_ref(), &self.first_seed).await {
            Ok(()) => {
                *proof = Some((started, epoch));
                self.confirmed_since_relogin.fetch_add(1, Ordering::Relaxed);
                response
            }
            Err(err) => Err(unproven(format!(
                "the session could not be proven alive afterwards ({err})"
            ))),
        }
    }

    fn give_up(&self, reason: String) -> FetchError {
        if let Ok(mut lost) = self.lost.lock() {
            lost.get_or_insert(reason.clone());
        }
        FetchError::SessionLost { reason }
    }

    /// An answer that refuses: what a lost session also looks like. A failed request is not
    /// one (the Site did not speak), and neither is throttling: logging in again would not
    /// make a 429 or a 408 go away, only add load.
    fn is_refusal(&self, response: &Result<Response, FetchError>) -> bool {
        response
            .as_ref()
            .is_ok_and(|r| refusal::interpret(r, &r.text(), &self.site.deny_markers).is_refusal())
    }

    /// Logs in again after the session was lost: a fresh jar and the form again, or, for
    /// static credentials, just the proof (they cannot be renewed).
    async fn relogin(&self, login: &crate::scenario::Login) -> Result<(), LoginError> {
        match &login.method {
            LoginMethod::Form { form, fields } => {
                if let Ok(mut jar) = self.jar.lock() {
                    jar.clear();
                }
                form_login(self, form, fields, login.totp.as_ref()).await?;
            }
            LoginMethod::Json {
                refresh: Some(_), ..
            } => {
                // The scenario says how this session is renewed: a refresh that fails loses
                // it, rather than the password quietly standing in.
                refresh_json_login(self, &login.method).await?;
            }
            LoginMethod::Json { .. } => {
                if let Ok(mut jar) = self.jar.lock() {
                    jar.clear();
                }
                json_login_with(self, &login.method, login.totp.as_ref()).await?;
            }
            LoginMethod::OAuth2(oauth) => {
                // A new token for the lost one: a refresh token when the last answer had
                // one, else the grant again (a client's credentials do not expire).
                oauth2_login(self, oauth).await?;
            }
            _ => {}
        }
        verify(self, login.verify.as_ref(), &self.first_seed).await
    }
}

/// POST the login's fields as JSON (or form-encoded) to its path on the Site's origin, and
/// take the session from the answer: its cookies (the jar keeps them), and the token at the
/// JSON pointer when the scenario names one, sent on every request from then on.
/// A login's TOTP second factor while it is being sent: the code of the current step, and
/// one more try when the step turned while a login was refused (the code went stale on its
/// way, a real phone's user would just type the next one).
struct SecondFactor<'t> {
    totp: &'t crate::scenario::Totp,
    seed: Vec<u8>,
    step: u64,
    retried: bool,
}

impl<'t> SecondFactor<'t> {
    fn new(
        totp: Option<&'t crate::scenario::Totp>,
    ) -> Result<Option<SecondFactor<'t>>, LoginError> {
        let Some(totp) = totp else {
            return Ok(None);
        };
        let seed =
            super::totp::decode_seed(totp.seed.expose()).ok_or_else(|| LoginError::Submit {
                reason: format!("the TOTP seed for `{}` is not base32", totp.field),
            })?;
        Ok(Some(SecondFactor {
            totp,
            seed,
            step: 0,
            retried: false,
        }))
    }

    /// `fields` and the current code.
    fn with_code(&mut self, fields: &[(String, Secret)]) -> Vec<(String, Secret)> {
        self.step = super::totp::current_step();
        let mut all = fields.to_vec();
        all.push((
            self.totp.field.clone(),
            Secret::new(super::totp::code_at_step(&self.seed, self.step)),
        ));
        all
    }

    fn again(&mut self) -> bool {
        let turned = !self.retried && super::totp::current_step() != self.step;
        if turned {
            tracing::debug!("the TOTP step turned during the login; trying once more");
            self.retried = true;
        }
        turned
    }

    fn explain(&self, err: LoginError) -> LoginError {
        LoginError::Submit {
            reason: format!("{err} (with a TOTP code in `{}`)", self.totp.field),
        }
    }
}

async fn form_login(
    session: &Session,
    form: &str,
    fields: &[(String, Secret)],
    totp: Option<&crate::scenario::Totp>,
) -> Result<(), LoginError> {
    let Some(mut factor) = SecondFactor::new(totp)? else {
        return submit_form(session, form, fields).await;
    };
    loop {
        match submit_form(session, form, &factor.with_code(fields)).await {
            Ok(()) => return Ok(()),
            Err(_) if factor.again() => {}
            Err(err) => return Err(factor.explain(err)),
        }
    }
}

async fn json_login_with(
    session: &Session,
    method: &LoginMethod,
    totp: Option<&crate::scenario::Totp>,
) -> Result<(), LoginError> {
    let Some(mut factor) = SecondFactor::new(totp)? else {
        return json_login(session, method, &[]).await;
    };
    loop {
        match json_login(session, method, &factor.with_code(&[])).await {
            Ok(()) => return Ok(()),
            Err(_) if factor.again() => {}
            Err(err) => return Err(factor.explain(err)),
        }
    }
}

async fn json_login(
    session: &Session,
    method: &LoginMethod,
    extra: &[(String, Secret)],
) -> Result<(), LoginError> {
    let LoginMethod::Json {
        path,
        fields,
        form_encoded,
        token,
        token_header,
        refresh,
    } = method
    else {
        return Ok(());
    };
    let fields: Vec<(String, Secret)> = fields.iter().chain(extra).cloned().collect();
    let url = session
        .site
        .resolve(path)
        .ok_or_else(|| LoginError::Submit {
            reason: format!("login path `{path}` is not on the Site's origin"),
        })?;
    let body = if *form_encoded {
        Body::form(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields.iter().map(|(n, v)| (n.as_str(), v.expose())))
                .finish(),
        )
    } else {
        let object: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|(n, v)| (n.clone(), serde_json::Value::from(v.expose())))
            .collect();
        Body::json(serde_json::Value::Object(object).to_string())
    };
    let response = session
        .send(Method::POST, &url, Some(body))
        .await
        .map_err(|e| LoginError::Submit {
            reason: e.describe(),
        })?;
    if !(200..300).contains(&response.status) {
        return Err(LoginError::Submit {
            reason: format!("POST {path} answered {}", response.status),
        });
    }
    let Some(pointer) = token else {
        return Ok(());
    };
    let value = answer_json(&response, path, pointer)?;
    let found = token_at(&value, path, pointer, "token")?;
    if let Some(refresh) = refresh {
        let renewal = token_at(&value, path, &refresh.token, "refresh token")?;
        session.keep_refresh_token(renewal);
    }
    use_token(session, token_header.as_deref(), found)
}

/// Renews a JSON login's session with the refresh token it holds: `POST refresh.path` with
/// `{"refresh_token": ...}`, the new access token taken at the login's `token` pointer and a
/// rotated refresh token, if the answer has one, kept for next time. Never the password.
async fn refresh_json_login(session: &Session, method: &LoginMethod) -> Result<(), LoginError> {
    let LoginMethod::Json {
        token: Some(pointer),
        token_header,
        refresh: Some(refresh),
        ..
    } = method
    else {
        return Ok(());
    };
    let path = &refresh.path;
    let held = session.refresh_token().ok_or_else(|| LoginError::Submit {
        reason: "no refresh token is held to renew the session with".to_string(),
    })?;
    let url = session
        .site
        .resolve(path)
        .ok_or_else(|| LoginError::Submit {
            reason: format!("refresh path `{path}` is not on the Site's origin"),
        })?;
    let body = serde_json::json!({ "refresh_token": held.expose() }).to_string();
    let response = session
        .send(Method::POST, &url, Some(Body::json(body)))
        .await
        .map_err(|e| LoginError::Submit {
            reason: format!("refreshing the session: {}", e.describe()),
        })?;
    if !(200..300).contains(&response.status) {
        return Err(LoginError::Submit {
            reason: format!(
                "refreshing the session: POST {path} answered {}; the refresh token no longer works",
                response.status
            ),
        });
    }
    let value = answer_json(&response, path, pointer)?;
    let found = token_at(&value, path, pointer, "token")?;
    if let Ok(rotated) = token_at(&value, path, &refresh.token, "refresh token") {
        session.keep_refresh_token(rotated);
    }
    use_token(session, token_header.as_deref(), found)
}

/// The most of a token endpoint's (or discovery document's) answer that is read.
const MAX_TOKEN_ANSWER: usize = 1024 * 1024;

/// An OAuth2 token: from the token endpoint (found through the issuer's discovery document
/// when the scenario names an issuer), with the grant the scenario names, sent as a bearer.
/// Asked through a client of its own, without the session's cookies: the token endpoint is
/// often another origin (an IdP), and the Site's cookies never go there, nor the IdP's to the
/// Site. A refresh token in the answer is used for the next renewal.
async fn oauth2_login(
    session: &Session,
    oauth: &crate::scenario::OAuth2,
) -> Result<(), LoginError> {
    use crate::scenario::{Grant, TokenEndpoint};
    let fail = |reason: String| LoginError::Submit { reason };
    let client = super::transport::plain_client(session.site.timeout)
        .map_err(|source| LoginError::Client { source })?;
    let absolute = |url: &str| -> Result<Url, LoginError> {
        match Url::parse(url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(url),
            Ok(url) => Err(fail(format!("`{url}` is not an http(s) URL"))),
            Err(_) => session
                .site
                .resolve(url)
                .ok_or_else(|| fail(format!("`{url}` is not on the Site's origin"))),
        }
    };
    let token_url = match &oauth.endpoint {
        TokenEndpoint::Url(url) => absolute(url)?,
        TokenEndpoint::Issuer(issuer) => {
            let discovery = format!(
                "{}/.well-known/openid-configuration",
                issuer.trim_end_matches('/')
            );
            let url = absolute(&discovery)?;
            let answer = bounded_json(client.get(url.clone()), &url).await?;
            let endpoint = answer
                .get("token_endpoint")
                .and_then(|v| v.as_str())
                .ok_or_else(|| fail(format!("{url} names no token_endpoint")))?;
            absolute(endpoint)?
        }
    };
    let held = session.refresh_token();
    let mut form: Vec<(&str, String)> = match (&held, &oauth.grant) {
        (Some(refresh), _) => vec![
            ("grant_type", "refresh_token".to_string()),
            ("refresh_token", refresh.expose().to_string()),
        ],
        (None, Grant::ClientCredentials) => vec![("grant_type", "client_credentials".to_string())],
        (None, Grant::Password { username, password }) => vec![
            ("grant_type", "password".to_string()),
            ("username", username.clone()),
            ("password", password.expose().to_string()),
        ],
    };
    if let Some(scope) = &oauth.scope {
        form.push(("scope", scope.clone()));
    }
    let mut request = client.post(token_url.clone());
    match &oauth.client_secret {
        Some(secret) => request = request.basic_auth(&oauth.client_id, Some(secret.expose())),
        None => form.push(("client_id", oauth.client_id.clone())),
    }
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let request = request
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body);
    let grant = if held.is_some() {
        "refresh_token"
    } else {
        oauth.grant.as_str()
    };
    let answer = match bounded_json(request, &token_url).await {
        Ok(answer) => answer,
        Err(err) if held.is_some() => {
            return Err(fail(format!(
                "renewing the token with its refresh token: {err}; the refresh token no longer works"
            )));
        }
        Err(err) => return Err(err),
    };
    let token = answer
        .get("access_token")
        .and_then(|v| v.as_str())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            fail(format!(
                "the {grant} grant at {token_url} answered no access_token"
            ))
        })?;
    match answer.get("refresh_token").and_then(|v| v.as_str()) {
        Some(refresh) if !refresh.is_empty() => session.keep_refresh_token(refresh),
        _ => {}
    }
    session.add_header("authorization", &format!("Bearer {token}"))
}

/// GET or POST `request` and read its JSON answer, at most [`MAX_TOKEN_ANSWER`] bytes. A
/// non-2xx answer is an error naming the status; the body is never quoted (it may hold a
/// token or echo a secret).
async fn bounded_json(
    request: reqwest::RequestBuilder,
    url: &Url,
) -> Result<serde_json::Value, LoginError> {
    let fail = |reason: String| LoginError::Submit { reason };
    let mut response = request
        .send()
        .await
        .map_err(|e| fail(format!("{url}: {}", e.without_url())))?;
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| fail(format!("{url}: {}", e.without_url())))?
    {
        if body.len() + chunk.len() > MAX_TOKEN_ANSWER {
            return Err(fail(format!(
                "{url} answered more than {MAX_TOKEN_ANSWER} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        return Err(fail(format!("{url} answered {}", status.as_u16())));
    }
    serde_json::from_slice(&body).map_err(|_| fail(format!("{url} did not answer JSON")))
}

/// The answer of a login or refresh as JSON. Its text is never quoted in an error: it holds
/// tokens.
fn answer_json(
    response: &super::Response,
    path: &str,
    pointer: &str,
) -> Result<serde_json::Value, LoginError> {
    serde_json::from_slice(&response.body).map_err(|_| LoginError::Submit {
        reason: format!("POST {path} did not answer JSON, so it has no token at {pointer}"),
    })
}

fn token_at<'v>(
    value: &'v serde_json::Value,
    path: &str,
    pointer: &str,
    what: &str,
) -> Result<&'v str, LoginError> {
    value
        .pointer(pointer)
        .and_then(|v| v.as_str())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| LoginError::Submit {
            reason: format!("POST {path} answered no {what} (a non-empty string) at {pointer}"),
        })
}

fn use_token(session: &Session, header: Option<&str>, token: &str) -> Result<(), LoginError> {
    match header {
        Some(name) => session.add_header(name, token),
        None => session.add_header("authorization", &format!("Bearer {token}")),
    }
}

/// GET the form page, pick the form with a password field, carry its hidden fields (CSRF
/// tokens), fill the scenario's fields, and submit it to the Site's own origin only.
pub(super) async fn submit_form(
    session: &Session,
    form_path: &str,
    fields: &[(String, Secret)],
) -> Result<(), LoginError> {
    let page_url = session
        .site
        .resolve(form_path)
        .ok_or_else(|| LoginError::Submit {
            reason: format!("form path `{form_path}` is not on the Site's origin"),
        })?;
    let page = session
        .get(&page_url)
        .await
        .map_err(|e| LoginError::FormPage {
            url: page_url.to_string(),
            reason: e.describe(),
        })?;
    if !(200..300).contains(&page.status) {
        return Err(LoginError::FormStatus {
            url: page_url.to_string(),
            status: page.status,
        });
    }
    let form = find_login_form(&page).ok_or_else(|| LoginError::FormNotFound {
        url: page.final_url.to_string(),
    })?;
    if form.action.origin() != session.site.origin {
        return Err(LoginError::ForeignAction {
            action: form.action.to_string(),
        });
    }
    if !form.post {
        return Err(LoginError::Submit {
            reason: "the login form uses GET; refusing to put credentials in a URL".to_string(),
        });
    }
    let mut values = form.inputs;
    for (name, value) in fields {
        match values.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value.expose().to_string(),
            None => {
                return Err(LoginError::FieldMissing {
                    url: page.final_url.to_string(),
                    field: name.clone(),
                    available: values
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
    }
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(values.iter().map(|(n, v)| (n.as_str(), v.as_str())))
        .finish();
    let response = session
        .send(Method::POST, &form.action, Some(Body::form(body)))
        .await
        .map_err(|e| LoginError::Submit {
            reason: e.describe(),
        })?;
    if response.status >= 400 {
        return Err(LoginError::Submit {
            reason: format!("the Site answered {}", response.status),
        });
    }
    Ok(())
}

struct LoginForm {
    action: Url,
    post: bool,
    /// Every successful control with its default value, in document order.
    inputs: Vec<(String, String)>,
}

fn find_login_form(page: &Response) -> Option<LoginForm> {
    let html = Html::parse_document(crate::markup::bounded(&page.text()));
    let forms = markup::selector("form");
    let password = markup::selector("input[type=password i]");
    let form = html
        .select(&forms)
        .find(|form| form.select(&password).next().is_some())?;
    let action = match form.value().attr("action").map(str::trim) {
        Some(action) if !action.is_empty() => page.final_url.join(action).ok()?,
        _ => page.final_url.clone(),
    };
    let post = form
        .value()
        .attr("method")
        .is_some_and(|m| m.eq_ignore_ascii_case("post"));
    Some(LoginForm {
        action,
        post,
        inputs: form_controls(form),
    })
}

fn form_controls(form: ElementRef<'_>) -> Vec<(String, String)> {
    let controls = markup::selector("input[name], select[name], textarea[name]");
    let mut inputs = Vec::new();
    for control in form.select(&controls) {
        let element = control.value();
        let Some(name) = element.attr("name") else {
            continue;
        };
        let kind = element.attr("type").unwrap_or("text").to_ascii_lowercase();
        let value = match element.name() {
            "textarea" => control.text().collect::<String>(),
            "select" => control
                .select(&markup::selector("option"))
                .find(|o| o.value().attr("selected").is_some())
                .or_else(|| control.select(&markup::selector("option")).next())
                .and_then(|o| o.value().attr("value").map(str::to_string))
                .unwrap_or_default(),
            _ => match kind.as_str() {
                "submit" | "button" | "image" | "reset" | "file" => continue,
                "checkbox" | "radio" if element.attr("checked").is_none() => continue,
                "checkbox" | "radio" => element.attr("value").unwrap_or("on").to_string(),
                _ => element.attr("value").unwrap_or_default().to_string(),
            },
        };
        inputs.push((name.to_string(), value));
    }
    inputs
}

/// Proof of login: `verify` if given, else the first seed must be reachable and not the login page.
pub(super) async fn verify(
    session: &Session,
    verify: Option<&Verify>,
    first_seed: &str,
) -> Result<(), LoginError> {
    let path = verify.map_or(first_seed, |v| v.path.as_str());
    let url = session
        .site
        .resolve(path)
        .ok_or_else(|| LoginError::Verify {
            reason: format!("`{path}` is not on the Site's origin"),
        })?;
    let response = session.get(&url).await.map_err(|e| LoginError::Verify {
        reason: format!("{path}: {}", e.describe()),
    })?;
    let fail = |why: String| {
        Err(LoginError::Verify {
            reason: format!("{path}: {why}"),
        })
    };
    if response.login_redirect {
        return fail("redirected to the login page".to_string());
    }
    if let Some(offsite) = &response.offsite_redirect {
        return fail(format!(
            "redirected to another origin ({})",
            offsite.origin().ascii_serialization()
        ));
    }
    if !(200..300).contains(&response.status) {
        return fail(format!("answered {}", response.status));
    }
    let text = response.text();
    if refusal::is_login_page(&text) {
        return fail("answered with a login page".to_string());
    }
    if let Some(marker) = session.site.deny_marker(&text) {
        return fail(format!("answered with deny marker `{marker}`"));
    }
    if let Some(expected) = verify.and_then(|v| v.contains.as_deref())
        && !text.contains(expected)
    {
        return fail(format!("the response does not contain `{expected}`"));
    }
    Ok(())
}
