//! `lowpriv init URL`: a first scenario for a Site, drafted by looking at it as anonymous.
//!
//! Input: the Site's base URL. Output: a [`Draft`]: a commented TOML scenario with a `${VAR}`
//! for every credential, and the list of what was found. What it looks for: the login (an
//! HTML form with a password field, its field names and CSRF field; a JSON login endpoint
//! named by the Site's scripts or API description; an OIDC redirect to an identity provider;
//! an OAuth2 token endpoint in the API description or the OIDC discovery document), the API
//! description, a GraphQL endpoint, robots.txt and the sitemap, the paths that look public
//! (static files and health checks that answer anonymously), and the data classes anonymous
//! can already see.
//!
//! Invariants: only GET is sent (through an ordinary anonymous session, so the scope's
//! destructive-link rules, the rate limit and the body limit hold), never to another origin,
//! and no password is ever tried: the draft's logins are guesses for a person to check.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use url::Url;

use crate::crawl::scope::{Admission, Scope};
use crate::crawl::{Observe, Request, discover, openapi};
use crate::markup;
use crate::observe::{Observer, Outcome};
use crate::scenario;
use crate::session::{Response, Session, SiteContext};
use crate::stop::Stop;

/// Pages read from the start page outwards, at most.
pub const MAX_PAGES: usize = 40;

/// Where API descriptions usually are, tried in this order when no page links one.
const API_DESCRIPTIONS: &[&str] = &[
    "/openapi.json",
    "/openapi.yaml",
    "/swagger.json",
    "/api/openapi.json",
    "/v3/api-docs",
    "/api-docs",
    "/swagger/v1/swagger.json",
];
const HEALTH_CHECKS: &[&str] = &[
    "/healthz", "/health", "/livez", "/readyz", "/status", "/ping",
];
const GRAPHQL: &[&str] = &["/graphql", "/api/graphql"];

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("`{0}` is not an http(s) URL with a host")]
    BadUrl(String),
    #[error("{url} did not answer: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("internal: the probing scenario does not load: {0}")]
    Internal(String),
}

/// The drafted scenario and what it rests on.
#[derive(Debug)]
pub struct Draft {
    pub toml: String,
    /// One line per thing found, for the command to print.
    pub found: Vec<String>,
    /// The variables the draft names, each to be set before a run.
    pub variables: Vec<String>,
}

/// How the Site's users log in, as far as anonymous can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LoginGuess {
    Form {
        path: String,
        username: String,
        password: String,
        csrf: Option<String>,
        totp: Option<String>,
    },
    Json {
        path: String,
    },
    Oidc {
        idp: String,
    },
}

/// Probes `base` as anonymous and drafts a scenario for it.
pub async fn draft(base: &Url, stop: Stop) -> Result<Draft, InitError> {
    if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
        return Err(InitError::BadUrl(base.to_string()));
    }
    let mut origin = base.clone();
    origin.set_path("/");
    origin.set_query(None);
    origin.set_fragment(None);
    let probe_toml = format!(
        "[site]\nname = \"init\"\nbase_url = \"{origin}\"\n\n[crawl]\nrate_limit = 10\n\n\
         [[identity]]\nname = \"anonymous\"\ntier = \"external\"\n"
    );
    let mut scenario = scenario::parse(&probe_toml, std::path::Path::new("init.toml"), &|_| None)
        .map_err(|e| InitError::Internal(e.to_string()))?;
    // The login page is what init looks for, so no path is set apart as one: a redirect to it
    // is followed and its form read like any page (no path is empty, so none matches).
    scenario.session.login_path = String::new();
    let site = SiteContext::new(&scenario, stop);
    let identity = scenario
        .identities
        .first()
        .cloned()
        .ok_or_else(|| InitError::Internal("no identity".to_string()))?;
    let session = Session::new(identity.clone(), site.clone())
        .map_err(|e| InitError::Internal(e.to_string()))?;
    let mut probe = Probe {
        session,
        scope: Scope::new(&scenario),
        observer: Observer::new(&scenario, site.clone()),
        site,
        seen: BTreeSet::new(),
        classes: BTreeMap::new(),
        public: BTreeSet::new(),
        login: None,
        sso: None,
        api: None,
        oauth_token_url: None,
        oidc_issuer: None,
        graphql: None,
        robots: false,
        sitemap: false,
        json_login: None,
        protected: BTreeSet::new(),
        other_forms: BTreeSet::new(),
        pages: 0,
    };
    let start = base.clone();
    let first = probe.get(&start).await;
    if let Err(reason) = &first {
        return Err(InitError::Unreachable {
            url: start.to_string(),
            reason: reason.clone(),
        });
    }
    probe.walk(start).await;
    probe.well_known().await;
    Ok(probe.write(&origin))
}

struct Probe {
    session: Session,
    scope: Scope,
    observer: Observer,
    site: Arc<SiteContext>,
    seen: BTreeSet<Url>,
    /// Data class → paths where anonymous saw it.
    classes: BTreeMap<String, BTreeSet<String>>,
    public: BTreeSet<String>,
    login: Option<LoginGuess>,
    sso: Option<LoginGuess>,
    api: Option<String>,
    oauth_token_url: Option<String>,
    oidc_issuer: Option<String>,
    graphql: Option<String>,
    robots: bool,
    sitemap: bool,
    json_login: Option<String>,
    /// Paths anonymous was refused (a login redirect, 401/403): what the identities are for.
    protected: BTreeSet<String>,
    /// Login forms found after the first: a Site may have one for staff and one for others.
    other_forms: BTreeSet<String>,
    pages: usize,
}

impl Probe {
    /// GET through the anonymous session, classified; `Err` when no answer came.
    async fn get(&mut self, url: &Url) -> Result<Response, String> {
        let request = Request::get(url.clone());
        let result = self.session.get(&request.url).await;
        let observation = self
            .observer
            .observe(&self.session.identity, &request, &result, true);
        let response = result.map_err(|e| e.to_string())?;
        if let Some(target) = &response.offsite_redirect
            && self.sso.is_none()
            && is_authorization_request(target)
        {
            self.sso = Some(LoginGuess::Oidc {
                idp: target.origin().ascii_serialization(),
            });
        }
        match observation.outcome {
            Outcome::Allowed => {
                for class in observation.data.keys() {
                    self.classes
                        .entry(class.clone())
                        .or_default()
                        .insert(observation.path().to_string());
                }
            }
            // A 404 is no refusal: only a login page or a 401/403 says "sign in first".
            Outcome::Denied
                if matches!(observation.status, Some(401 | 403))
                    || observation.reason.contains("login") =>
            {
                self.protected.insert(observation.path().to_string());
            }
            _ => {}
        }
        Ok(response)
    }

    /// The start page and what it links, breadth first, up to [`MAX_PAGES`] pages.
    async fn walk(&mut self, start: Url) {
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(url) = queue.pop_front() {
            if self.pages >= MAX_PAGES || self.site.stop.is_stopped() {
                break;
            }
            let url = crate::crawl::scope::normalize(&url);
            if !self.seen.insert(url.clone()) || !matches!(self.scope.check(&url), Admission::Crawl)
            {
                continue;
            }
            self.pages += 1;
            let Ok(response) = self.get(&url).await else {
                continue;
            };
            let path = response.final_url.path().to_string();
            if (200..300).contains(&response.status) && looks_static(&path) {
                self.public.insert(static_glob(&path));
            }
            let text = response.text().into_owned();
            if response.is_html() {
                if let Some(form) = login_form(&text, &response.final_url) {
                    if self.login.is_none() {
                        self.login = Some(form);
                    } else if self.login.as_ref() != Some(&form) {
                        self.other_forms.insert(form_path(&form));
                    }
                }
                let found = discover::html(&text, &response.final_url);
                for (link, _) in found.links {
                    queue.push_back(link);
                }
            } else if path.ends_with(".js") || path.ends_with(".mjs") {
                let found = discover::javascript(&text, &response.final_url);
                for (link, _) in &found.links {
                    if self.json_login.is_none() && is_login_endpoint(link.path()) {
                        self.json_login = Some(link.path().to_string());
                    }
                }
                for action in &found.actions {
                    if let Ok(target) = Url::parse(&action.url)
                        && self.json_login.is_none()
                        && action.method == "POST"
                        && is_login_endpoint(target.path())
                    {
                        self.json_login = Some(target.path().to_string());
                    }
                }
            }
        }
    }

    /// API descriptions, OIDC discovery, GraphQL, robots.txt, the sitemap, health checks.
    async fn well_known(&mut self) {
        for path in API_DESCRIPTIONS {
            if self.api.is_some() {
                break;
            }
            let Some(url) = self.site.resolve(path) else {
                continue;
            };
            let Ok(response) = self.get(&url).await else {
                continue;
            };
            if !(200..300).contains(&response.status) || !response.redirects.is_empty() {
                continue;
            }
            let text = response.text().into_owned();
            let content_type = response.content_type.as_deref().unwrap_or("");
            let Some(format) = openapi::looks_like(&text, path, content_type, false) else {
                continue;
            };
            self.api = Some(path.to_string());
            let doc = match format {
                openapi::Format::Json => serde_json::from_str(&text).ok(),
                openapi::Format::Yaml => openapi::yaml_to_json(&text),
            };
            if let Some(doc) = doc {
                self.read_api(&doc);
            }
        }
        if let Some(url) = self.site.resolve("/.well-known/openid-configuration")
            && let Ok(response) = self.get(&url).await
            && (200..300).contains(&response.status)
            && let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&response.body)
        {
            self.oidc_issuer = doc
                .get("issuer")
                .and_then(|v| v.as_str())
                .map(str::to_string);
        }
        for path in GRAPHQL {
            let Some(url) = self.site.resolve(path) else {
                continue;
            };
            // A GraphQL server answers a GET without a query with 400 or 405 (or a page of
            // its own); only a 404 says there is none. Nothing is ever POSTed here.
            if let Ok(response) = self.get(&url).await
                && matches!(response.status, 200 | 400 | 405)
                && !response.is_html()
                && response.redirects.is_empty()
            {
                self.graphql = Some(path.to_string());
                break;
            }
        }
        for (path, flag) in [("/robots.txt", 0), ("/sitemap.xml", 1)] {
            if let Some(url) = self.site.resolve(path)
                && let Ok(response) = self.get(&url).await
                && (200..300).contains(&response.status)
                && !response.is_html()
            {
                if flag == 0 {
                    self.robots = true;
                } else {
                    self.sitemap = true;
                }
            }
        }
        for path in HEALTH_CHECKS {
            if let Some(url) = self.site.resolve(path)
                && let Ok(response) = self.get(&url).await
                && (200..300).contains(&response.status)
                && response.redirects.is_empty()
                && !is_page_with_password(&response)
            {
                self.public.insert(path.to_string());
            }
        }
    }

    /// A login endpoint and the token endpoints an API description declares.
    fn read_api(&mut self, doc: &serde_json::Value) {
        if let Some(paths) = doc.get("paths").and_then(|p| p.as_object()) {
            for (path, item) in paths {
                if self.json_login.is_none()
                    && item.get("post").is_some()
                    && is_login_endpoint(path)
                {
                    self.json_login = Some(path.clone());
                }
            }
        }
        let schemes = doc
            .pointer("/components/securitySchemes")
            .or_else(|| doc.get("securityDefinitions"))
            .and_then(|s| s.as_object());
        for scheme in schemes.into_iter().flat_map(|s| s.values()) {
            let token_url = scheme
                .pointer("/flows/clientCredentials/tokenUrl")
                .or_else(|| scheme.pointer("/flows/password/tokenUrl"))
                .or_else(|| scheme.get("tokenUrl"))
                .and_then(|v| v.as_str());
            if let Some(token_url) = token_url
                && self.oauth_token_url.is_none()
            {
                self.oauth_token_url = Some(token_url.to_string());
            }
        }
    }

    fn write(self, origin: &Url) -> Draft {
        let mut found = Vec::new();
        let mut variables = Vec::new();
        let name = site_name(origin);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# A first scenario for {origin}, drafted by `lowpriv init` as anonymous: it sent\n\
             # only GET requests ({} pages read) and tried no password. Every value below is a\n\
             # guess to check. Set the variables it names, then `lowpriv check` this file and run it.\n",
            self.pages
        );
        let _ = writeln!(out, "[site]\nname = \"{name}\"\nbase_url = \"{origin}\"");
        out.push_str(
            "# Who the Site is shared with: draft, team, company or external.\naudience = \"team\"\n\
             # owner = \"you@example.com\"\n",
        );
        let public: Vec<String> = self.public.iter().map(|p| format!("\"{p}\"")).collect();
        if !public.is_empty() {
            found.push(format!(
                "public-looking paths: {}",
                self.public.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
            let _ = writeln!(
                out,
                "# Answered anonymous and look public (static files, health checks).\npublic = [{}]",
                public.join(", ")
            );
        }
        let login_path = match &self.login {
            Some(LoginGuess::Form { path, .. }) => Some(path.clone()),
            _ => None,
        };
        if let Some(path) = &login_path {
            let _ = writeln!(out, "\n[session]\nlogin_path = \"{path}\"");
        }
        out.push_str("\n[crawl]\nseeds = [\"/\"]\n");
        if let Some(api) = &self.api {
            found.push(format!("API description: {api}"));
            let _ = writeln!(out, "openapi = \"{api}\"");
        }
        if let Some(graphql) = &self.graphql {
            found.push(format!(
                "GraphQL endpoint: {graphql} (answers GET without a query)"
            ));
            let _ = writeln!(
                out,
                "# A GraphQL endpoint answers at {graphql}. Uncomment to let lowpriv POST its\n\
                 # read-only introspection and generated queries there as every identity:\n\
                 # graphql = \"{graphql}\""
            );
        }
        if self.robots || self.sitemap {
            let files: Vec<&str> = [(self.robots, "robots.txt"), (self.sitemap, "sitemap.xml")]
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, f)| *f)
                .collect();
            found.push(format!(
                "crawler files: {} (read on every run)",
                files.join(", ")
            ));
        }
        out.push_str(
            "# Requests per second to the Site, all identities together.\nrate_limit = 10\n",
        );

        out.push_str("\n[[identity]]\nname = \"anonymous\"\ntier = \"external\"\nrank = 0\n");
        // One stub per privilege a Site usually has; copy a block for each tier tested.
        let tiers = [("member", "team", 10), ("administrator", "admin", 90)];
        let login = self.login.clone().or_else(|| {
            self.json_login
                .clone()
                .map(|path| LoginGuess::Json { path })
        });
        match (&login, &self.sso) {
            (
                Some(LoginGuess::Form {
                    path,
                    username,
                    password,
                    csrf,
                    totp,
                }),
                _,
            ) => {
                found.push(format!(
                    "login form: {path} (fields `{username}`, `{password}`{}{})",
                    csrf.as_ref()
                        .map(|c| format!(", CSRF field `{c}` filled from the form"))
                        .unwrap_or_default(),
                    totp.as_ref()
                        .map(|t| format!(", one-time code `{t}`"))
                        .unwrap_or_default()
                ));
                let others: Vec<&str> = self
                    .other_forms
                    .iter()
                    .filter(|p| *p != path)
                    .map(|p| p.as_str())
                    .collect();
                if !others.is_empty() {
                    found.push(format!("other login forms: {}", others.join(", ")));
                    let _ = writeln!(
                        out,
                        "\n# The Site has other login forms too ({}): one may be the one for\n\
                         # some identities (an admin form often refuses ordinary accounts).",
                        others.join(", ")
                    );
                }
                for (who, tier, rank) in tiers {
                    let user_var = variable(who, "USERNAME", &mut variables);
                    let pass_var = variable(who, "PASSWORD", &mut variables);
                    let _ = writeln!(
                        out,
                        "{}[identity.login]\nform = \"{path}\"\n\
                         fields = {{ {username} = \"${{{user_var}}}\", {password} = \"${{{pass_var}}}\" }}",
                        identity_head(who, tier, rank)
                    );
                    if let Some(field) = totp {
                        let seed_var = variable(who, "TOTP_SEED", &mut variables);
                        let _ = writeln!(
                            out,
                            "totp = {{ field = \"{field}\", seed = \"${{{seed_var}}}\" }}"
                        );
                    }
                    out.push_str(
                        "# Proof of login: a page only a signed-in user gets, and a word on it.\n\
                         # verify = { path = \"/\", contains = \"Sign out\" }\n",
                    );
                }
            }
            (Some(LoginGuess::Json { path }), _) => {
                found.push(format!(
                    "JSON login endpoint (guessed from the Site's scripts or API description): {path}"
                ));
                for (who, tier, rank) in tiers {
                    let user_var = variable(who, "USERNAME", &mut variables);
                    let pass_var = variable(who, "PASSWORD", &mut variables);
                    let _ = writeln!(
                        out,
                        "{}[identity.login]\njson = \"{path}\"\n\
                         # Check the field names the endpoint wants, and where the token is in its answer.\n\
                         fields = {{ username = \"${{{user_var}}}\", password = \"${{{pass_var}}}\" }}\n\
                         # token = \"/access_token\"",
                        identity_head(who, tier, rank)
                    );
                }
            }
            (_, Some(LoginGuess::Oidc { idp })) => {
                found.push(format!(
                    "single sign-on: the Site sends anonymous to the identity provider at {idp}"
                ));
                for (who, tier, rank) in tiers {
                    let cookie_var = variable(who, "COOKIE", &mut variables);
                    let _ = writeln!(
                        out,
                        "{}# The Site signs in through {idp}. Browser logins are not built yet in\n\
                         # this version: paste a session cookie of this identity, or use `oauth2`\n\
                         # if the IdP issues tokens the Site accepts.\n\
                         [identity.login]\ncookie = \"${{{cookie_var}}}\"",
                        identity_head(who, tier, rank)
                    );
                }
            }
            _ => {
                found.push(
                    "no login found: the draft's identities log in with a bearer token".to_string(),
                );
                for (who, tier, rank) in tiers {
                    let token_var = variable(who, "TOKEN", &mut variables);
                    let _ = writeln!(
                        out,
                        "{}# No login page or endpoint was found anonymously: a token is a guess.\n\
                         [identity.login]\nbearer = \"${{{token_var}}}\"",
                        identity_head(who, tier, rank)
                    );
                }
            }
        }
        if let Some(token_url) = &self.oauth_token_url {
            found.push(format!(
                "OAuth2 token endpoint (API description): {token_url}"
            ));
            let _ = writeln!(
                out,
                "\n# The API description names an OAuth2 token endpoint. A service account could log\n\
                 # in with its client credentials instead:\n\
                 # [identity.login]\n\
                 # oauth2 = {{ token_url = \"{token_url}\", grant = \"client_credentials\", client_id = \"${{LOWPRIV_CLIENT_ID}}\", client_secret = \"${{LOWPRIV_CLIENT_SECRET}}\" }}"
            );
        }
        if let Some(issuer) = &self.oidc_issuer {
            found.push(format!("OIDC discovery document, issuer {issuer}"));
        }

        let mut protected = self.protected.clone();
        if let Some(path) = &login_path {
            protected.remove(path);
        }
        if !protected.is_empty() {
            let shown: Vec<&String> = protected.iter().take(8).collect();
            found.push(format!(
                "refused to anonymous: {}{}",
                shown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                if protected.len() > 8 { ", …" } else { "" }
            ));
        }
        out.push_str(
            "\n# What each identity may reach. A sketch to edit; every [[expect]] is checked.\n\
             # [[expect]]\n# paths = [\"/admin/**\"]\n# allow = [\"administrator\"]\n",
        );
        if !self.classes.is_empty() {
            out.push_str(
                "\n# Data anonymous can already see. If one of these should be private, say who may\n\
                 # see it, e.g. `[[expect]]` `data = \"email\"` `visible_to = [\"admin\"]`.\n",
            );
            for (class, paths) in &self.classes {
                let list: Vec<&str> = paths.iter().take(5).map(|s| s.as_str()).collect();
                let _ = writeln!(out, "#   {class}: {}", list.join(", "));
                found.push(format!("anonymous sees `{class}` on {}", list.join(", ")));
            }
        }
        Draft {
            toml: out,
            found,
            variables,
        }
    }
}

/// A stub identity's header.
fn identity_head(who: &str, tier: &str, rank: i64) -> String {
    format!("\n[[identity]]\nname = \"{who}\"\ntier = \"{tier}\"\nrank = {rank}\n")
}

/// `LOWPRIV_<WHO>_<WHAT>`, added to the variables the draft names.
fn variable(who: &str, what: &str, variables: &mut Vec<String>) -> String {
    let name = format!("LOWPRIV_{}_{what}", who.to_ascii_uppercase());
    variables.push(name.clone());
    name
}

fn form_path(form: &LoginGuess) -> String {
    match form {
        LoginGuess::Form { path, .. } | LoginGuess::Json { path } => path.clone(),
        LoginGuess::Oidc { idp } => idp.clone(),
    }
}

/// A redirect to an identity provider's authorization endpoint (OAuth2/OIDC).
fn is_authorization_request(target: &Url) -> bool {
    let keys: BTreeSet<String> = target.query_pairs().map(|(k, _)| k.into_owned()).collect();
    keys.contains("client_id") && (keys.contains("response_type") || keys.contains("redirect_uri"))
}

fn is_login_endpoint(path: &str) -> bool {
    let path = path.to_ascii_lowercase();
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    matches!(
        last,
        "login" | "signin" | "sign-in" | "sign_in" | "authenticate" | "session" | "sessions"
    ) && !path.contains("logout")
}

fn is_page_with_password(response: &Response) -> bool {
    response.is_html()
        && response
            .text()
            .to_ascii_lowercase()
            .contains("type=\"password\"")
}

/// A form with a password field: its target, the user and password field names, a hidden
/// field that looks like a CSRF token, and a one-time-code field.
fn login_form(body: &str, page: &Url) -> Option<LoginGuess> {
    let document = scraper::Html::parse_document(markup::bounded(body));
    let forms = markup::selector("form");
    let inputs = markup::selector("input[name]");
    for form in document.select(&forms) {
        let mut password = None;
        let mut username = None;
        let mut csrf = None;
        let mut totp = None;
        for input in form.select(&inputs) {
            let Some(name) = input.value().attr("name") else {
                continue;
            };
            let kind = input
                .value()
                .attr("type")
                .unwrap_or("text")
                .to_ascii_lowercase();
            let lower = name.to_ascii_lowercase();
            match kind.as_str() {
                "password" if password.is_none() => password = Some(name.to_string()),
                "hidden" if lower.contains("csrf") || lower.contains("token") => {
                    csrf = Some(name.to_string())
                }
                "text" | "email" | "tel" | "number"
                    if ["otp", "totp", "code", "2fa", "mfa"]
                        .iter()
                        .any(|w| lower.contains(w)) =>
                {
                    totp = Some(name.to_string())
                }
                "text" | "email" if username.is_none() => username = Some(name.to_string()),
                _ => {}
            }
        }
        if let Some(password) = password {
            // The scenario's `form` is the page the form is on: lowpriv GETs it and fills it.
            return Some(LoginGuess::Form {
                path: page.path().to_string(),
                username: username.unwrap_or_else(|| "username".to_string()),
                password,
                csrf,
                totp,
            });
        }
    }
    None
}

fn looks_static(path: &str) -> bool {
    const EXTENSIONS: &[&str] = &[
        ".css", ".js", ".mjs", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico", ".woff", ".woff2",
        ".ttf", ".map", ".webp",
    ];
    EXTENSIONS.iter().any(|e| path.ends_with(e))
}

/// `/static/app.js` → `/static/**`; a file at the root stays itself.
fn static_glob(path: &str) -> String {
    match path.trim_start_matches('/').split_once('/') {
        Some((dir, _)) => format!("/{dir}/**"),
        None => path.to_string(),
    }
}

/// A Site name from its host: `payroll.acme.example` → `payroll-acme-example`.
fn site_name(origin: &Url) -> String {
    let mut name = scenario::slug(origin.host_str().unwrap_or("site"));
    if let Some(port) = origin.port() {
        name.push_str(&format!("-{port}"));
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_form_gives_its_fields_and_csrf_and_a_search_form_is_no_login() {
        let page = Url::parse("http://site.test/accounts/login/?next=/").unwrap();
        let body = r#"<form action="/search"><input name="q"></form>
            <form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="x">
            <input type="text" name="username"><input type="password" name="password">
            <input type="text" name="otp_code"><button>Log in</button></form>"#;
        assert_eq!(
            login_form(body, &page),
            Some(LoginGuess::Form {
                path: "/accounts/login/".to_string(),
                username: "username".to_string(),
                password: "password".to_string(),
                csrf: Some("csrfmiddlewaretoken".to_string()),
                totp: Some("otp_code".to_string()),
            })
        );
        assert_eq!(login_form(r#"<form><input name="q"></form>"#, &page), None);
    }

    #[test]
    fn login_endpoints_static_globs_and_authorization_redirects_are_told_apart() {
        assert!(is_login_endpoint("/api/auth/login"));
        assert!(is_login_endpoint("/api/v1/sessions"));
        assert!(!is_login_endpoint("/api/login-history"));
        assert!(!is_login_endpoint("/logout"));
        assert_eq!(static_glob("/static/css/app.css"), "/static/**");
        assert_eq!(static_glob("/favicon.ico"), "/favicon.ico");
        assert!(is_authorization_request(
            &Url::parse("https://idp.test/authorize?client_id=a&response_type=code&redirect_uri=x")
                .unwrap()
        ));
        assert!(!is_authorization_request(
            &Url::parse("https://cdn.test/x?client_id=a").unwrap()
        ));
        assert_eq!(
            site_name(&Url::parse("http://127.0.0.1:8080/").unwrap()),
            "127-0-0-1-8080"
        );
    }
}
