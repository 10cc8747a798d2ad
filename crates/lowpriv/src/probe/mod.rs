//! Write probes (`[crawl] probe_writes = true`, opt-in): each action whose path is in
//! `[crawl] write_scope` is sent as every identity with an empty body, never a valid one, and
//! the answer tells whether that identity got past the endpoint's authorization check.
//!
//! Input: the actions the crawl saw and the sessions. Output: one [`WriteProbe`] per
//! (action, identity). Invariants: nothing is sent unless the scenario opts in and names the
//! path; the body is always empty; `DELETE` (which acts without a body) and actions whose
//! path still holds an unfilled `{param}` are never sent; `write_scope` opts paths in but never
//! past what the crawl refuses (`[crawl] scope` and `exclude`, the login page, paths that name
//! a destructive act); each (action, identity) is sent once, never retried; credentials go
//! only to the Site (the session checks every hop's origin).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use reqwest::Method;
use serde::Serialize;
use url::Url;

use crate::crawl::Action;
use crate::crawl::scope::{Admission, Scope};
use crate::scenario::Scenario;
use crate::session::{Answer, FetchError, Refusal, Response, Session, interpret};

/// What one identity's empty-bodied attempt at one action was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeAnswer {
    /// 401 or 403 (or the login page, or a deny marker): the endpoint refused who asked.
    Refused,
    /// 400 or 422: the identity got past the authorization check and only the empty body
    /// stopped it.
    AuthorizedToAttempt,
    /// 2xx: the endpoint took an empty body; it may have acted on it.
    Accepted,
    /// Anything else (404, 405, 409, a redirect elsewhere): says nothing about who may.
    Unclear,
    /// No answer (a timeout, a reset).
    Error,
}

impl ProbeAnswer {
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeAnswer::Refused => "refused",
            ProbeAnswer::AuthorizedToAttempt => "authorized to attempt",
            ProbeAnswer::Accepted => "accepted an empty body",
            ProbeAnswer::Unclear => "unclear",
            ProbeAnswer::Error => "error",
        }
    }

    /// The identity got past the authorization check.
    pub fn got_past_authorization(self) -> bool {
        matches!(
            self,
            ProbeAnswer::AuthorizedToAttempt | ProbeAnswer::Accepted
        )
    }
}

/// One identity's write probe of one action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WriteProbe {
    pub identity: String,
    pub method: String,
    /// The action's URL as the crawl saw it (query dropped), which is what was sent.
    pub url: String,
    pub status: Option<u16>,
    pub answer: ProbeAnswer,
    /// Why this answer, in a few words (`403`, `422`, `timed out after 10 s`).
    pub reason: String,
}

/// Every write probe of a run, and the actions in scope that were not sent (and why).
#[derive(Clone, Debug, Default, Serialize)]
pub struct WriteProbes {
    /// By URL, method, then identity in scenario order.
    pub probes: Vec<WriteProbe>,
    /// (method, url, why) of actions in `write_scope` that were not sent.
    pub not_sent: Vec<NotSent>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotSent {
    pub method: String,
    pub url: String,
    pub why: String,
}

/// Sends every action in `write_scope` as every usable identity (see the module docs), and
/// lists the ones in scope it would not send. `actions` is the union of every identity's
/// crawled actions. Nothing at all is sent unless `[crawl] probe_writes` is on.
pub async fn run(
    sessions: &[Arc<Session>],
    scenario: &Scenario,
    actions: &BTreeSet<Action>,
) -> WriteProbes {
    if !scenario.crawl.probe_writes {
        return WriteProbes::default();
    }
    let plan = plan(scenario, actions);
    let order = |name: &str| {
        scenario
            .identities
            .iter()
            .position(|i| i.name == name)
            .unwrap_or(usize::MAX)
    };
    let per_identity = sessions
        .iter()
        .filter(|session| session.status.is_usable())
        .map(|session| probe_as(session, &plan.send));
    let mut probes = Vec::new();
    let mut unsent: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (done, stopped) in futures::future::join_all(per_identity).await {
        probes.extend(done);
        for (method, url, identity) in stopped {
            unsent.entry((method, url)).or_default().push(identity);
        }
    }
    probes.sort_by(|a, b| {
        (&a.url, &a.method, order(&a.identity)).cmp(&(&b.url, &b.method, order(&b.identity)))
    });
    let mut not_sent = plan.not_sent;
    let reason = sessions
        .first()
        .and_then(|s| s.site.stop.reason())
        .unwrap_or_else(|| "stopped".to_string());
    for ((method, url), mut identities) in unsent {
        identities.sort_by_key(|name| order(name));
        not_sent.push(NotSent {
            method,
            url,
            why: format!(
                "the run stopped ({reason}) before it was sent as {}",
                identities.join(", ")
            ),
        });
    }
    not_sent.sort_by(|a, b| (&a.url, &a.method, &a.why).cmp(&(&b.url, &b.method, &b.why)));
    WriteProbes { probes, not_sent }
}

/// One action to send: its method, URL and the content type its empty body goes with.
#[derive(Debug)]
struct ToSend {
    method: Method,
    /// The action's URL as the crawl wrote it: what the probe is reported under, so that it
    /// joins the action it probes.
    label: String,
    url: Url,
    content_type: Option<&'static str>,
}

#[derive(Debug, Default)]
struct Plan {
    send: Vec<ToSend>,
    not_sent: Vec<NotSent>,
}

/// Which actions are sent and which, in `write_scope`, are not (and why). Actions off the
/// Site or outside `write_scope` are neither: the scenario never asked for them.
fn plan(scenario: &Scenario, actions: &BTreeSet<Action>) -> Plan {
    let scope = Scope::new(scenario);
    let origin = scenario.site.base_url.origin();
    let mut plan = Plan::default();
    // The same endpoint may be seen as a form and in the OpenAPI document: sent once, with
    // the content type of the first source (by the set's order).
    let mut seen = BTreeSet::new();
    for action in actions {
        let Ok(url) = scenario.site.base_url.join(&action.url) else {
            continue;
        };
        if url.origin() != origin || !scenario.crawl.write_scope.is_match(url.path()) {
            continue;
        }
        let method = action.method.to_ascii_uppercase();
        if !seen.insert((method.clone(), url.to_string())) {
            continue;
        }
        let mut skip = |why: String| {
            plan.not_sent.push(NotSent {
                method: method.clone(),
                url: action.url.clone(),
                why,
            })
        };
        let parsed = match method.as_str() {
            "GET" | "HEAD" => {
                skip(format!("{method} is not a write (the crawl reads it)"));
                continue;
            }
            "DELETE" => {
                skip("DELETE acts without a body".to_string());
                continue;
            }
            // OPTIONS asks nothing of the endpoint's authorization, and a form's
            // `method="dialog"` never leaves the page.
            "POST" => Method::POST,
            "PUT" => Method::PUT,
            "PATCH" => Method::PATCH,
            _ => {
                skip(format!("{method} is not a write method"));
                continue;
            }
        };
        if let Some(segment) = template_segment(url.path()) {
            skip(format!("the path still holds `{segment}`"));
            continue;
        }
        // `write_scope` opts paths in; it never overrides what the crawl itself refuses:
        // `[crawl] exclude`, the login page, and paths that name a destructive act
        // (`/items/5/delete` needs no body to act, like DELETE).
        match scope.check(&url) {
            Admission::Crawl => {}
            Admission::Skip(why) => {
                skip(why);
                continue;
            }
            Admission::Offsite => continue,
        }
        plan.send.push(ToSend {
            method: parsed,
            label: action.url.clone(),
            content_type: content_type(&action.source),
            url,
        });
    }
    plan
}

/// The content type an empty body goes with: the one the endpoint is built to take (a form's
/// urlencoded, an OpenAPI operation's JSON), so that a server checking the type before who
/// is asking (a 415) is not mistaken for its authorization check. An action of any other
/// kind (a script's call) gets none: its body type is unknown, and zero bytes need none.
fn content_type(source: &str) -> Option<&'static str> {
    match source {
        "form" => Some("application/x-www-form-urlencoded"),
        "openapi" => Some("application/json"),
        _ => None,
    }
}

/// The first path segment that is still a `{param}` template (braces as written, or as the
/// URL parser percent-encodes them).
fn template_segment(path: &str) -> Option<String> {
    path.split('/').find_map(|segment| {
        let decoded = segment.replace("%7B", "{").replace("%7b", "{");
        let decoded = decoded.replace("%7D", "}").replace("%7d", "}");
        let open = decoded.find('{')?;
        decoded[open..].contains('}').then_some(decoded)
    })
}

/// One identity's probes, one at a time (the Site's rate limit spaces them anyway); and the
/// (method, url, identity) left unsent because the run stopped.
async fn probe_as(
    session: &Session,
    plan: &[ToSend],
) -> (Vec<WriteProbe>, Vec<(String, String, String)>) {
    let identity = session.identity.name.clone();
    let mut probes = Vec::new();
    let mut stopped = Vec::new();
    for action in plan {
        if session.site.stop.is_stopped() {
            stopped.push((
                action.method.to_string(),
                action.label.clone(),
                identity.clone(),
            ));
            continue;
        }
        let result = session
            .send_empty(action.method.clone(), &action.url, action.content_type)
            .await;
        let (status, answer, reason) = classify(&result, &session.site.deny_markers);
        tracing::debug!(
            identity = %identity,
            method = %action.method,
            url = %action.url,
            status,
            answer = answer.as_str(),
            reason = %reason,
            "write probe"
        );
        probes.push(WriteProbe {
            identity: identity.clone(),
            method: action.method.to_string(),
            url: action.label.clone(),
            status,
            answer,
            reason,
        });
    }
    (probes, stopped)
}

/// What one answer says about the identity's authorization, by the session's refusal rule
/// ([`interpret`]) except where an empty body changes the reading: 400 and 422 are the body
/// refused, not the identity; any other 4xx says nothing about who may.
fn classify(
    result: &Result<Response, FetchError>,
    deny_markers: &[String],
) -> (Option<u16>, ProbeAnswer, String) {
    let response = match result {
        Ok(response) => response,
        Err(error) => return (None, ProbeAnswer::Error, error.describe()),
    };
    let status = Some(response.status);
    let code = response.status.to_string();
    let (answer, reason) = match interpret(response, &response.text(), deny_markers) {
        Answer::Refused(Refusal::LoginRedirect) => {
            (ProbeAnswer::Refused, "redirect to login".to_string())
        }
        Answer::Refused(Refusal::LoginPage) => (ProbeAnswer::Refused, "login page".to_string()),
        Answer::Refused(Refusal::DenyMarker(marker)) => {
            (ProbeAnswer::Refused, format!("deny marker `{marker}`"))
        }
        Answer::Refused(Refusal::Status(401 | 403)) => (ProbeAnswer::Refused, code),
        Answer::Refused(Refusal::Status(400 | 422)) => (ProbeAnswer::AuthorizedToAttempt, code),
        Answer::Refused(Refusal::Status(_)) | Answer::Failed(_) => (ProbeAnswer::Unclear, code),
        Answer::Offsite(target) => (
            ProbeAnswer::Unclear,
            format!(
                "redirect to another origin ({})",
                target.origin().ascii_serialization()
            ),
        ),
        // A 2xx after a redirect (post, redirect, get) lands on some other page: whether the
        // write was taken is not what that page says.
        Answer::Content => match response.redirects.last() {
            Some(last) => (ProbeAnswer::Unclear, format!("redirect to {}", last.path())),
            None => (ProbeAnswer::Accepted, code),
        },
    };
    (status, answer, reason)
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Mutex;
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;
    use crate::scenario::PathGlobs;
    use crate::session::{SiteContext, open_all};
    use crate::stop::Stop;

    /// One request as the test Site received it.
    #[derive(Clone, Debug)]
    struct Seen {
        method: String,
        path: String,
        /// `alice`, `bob`, or `None` (no credentials).
        who: Option<String>,
        /// Every `Content-Length` header (one, or a duplicate would show).
        content_length: Vec<String>,
        content_type: Option<String>,
        chunked: bool,
        body_len: usize,
    }

    /// A real HTTP/1.1 server on 127.0.0.1:0 that records every request and answers by path:
    /// `/w/401` answers 401 and so on; `/w/team` depends on who asks.
    async fn serve() -> (Url, Arc<Mutex<Vec<Seen>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(answer(stream, log.clone()));
            }
        });
        (base, seen)
    }

    async fn answer(mut stream: tokio::net::TcpStream, log: Arc<Mutex<Vec<Seen>>>) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let mut lines = head.lines();
        let mut request_line = lines.next().unwrap_or_default().split(' ');
        let method = request_line.next().unwrap_or_default().to_string();
        let path = request_line.next().unwrap_or_default().to_string();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let content_length: Vec<String> = headers
            .iter()
            .filter(|(n, _)| n == "content-length")
            .map(|(_, v)| v.clone())
            .collect();
        let want: usize = content_length
            .first()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + want {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let who = header("authorization")
            .and_then(|v| v.strip_prefix("Bearer ").map(str::to_string))
            .and_then(|token| token.strip_suffix("-token").map(str::to_string));
        let proofs = {
            let mut seen = log.lock().unwrap();
            seen.push(Seen {
                method: method.clone(),
                path: path.clone(),
                who: who.clone(),
                content_length,
                content_type: header("content-type"),
                chunked: header("transfer-encoding").is_some(),
                body_len: buf.len() - head_end,
            });
            // `dead` logs in (its first proof holds) and is logged out from then on.
            seen.iter()
                .filter(|s| s.method == "GET" && s.path == "/" && s.who == who)
                .count()
        };
        let (status, extra, body) = if who.as_deref() == Some("dead") && path == "/" && proofs > 1 {
            (302, "location: /login\r\n".to_string(), String::new())
        } else {
            route(&method, &path, who.as_deref()).await
        };
        let response = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\
             connection: close\r\n{extra}\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    }

    const LOGIN_PAGE: &str =
        r#"<form method="post"><input name="u"><input type="password" name="p"></form>"#;

    async fn route(method: &str, path: &str, who: Option<&str>) -> (u16, String, String) {
        let plain = |status: u16| (status, String::new(), String::new());
        let redirect = |to: &str| (302, format!("location: {to}\r\n"), String::new());
        match (method, path) {
            ("GET", "/") => (200, String::new(), "<p>home</p>".to_string()),
            ("GET", "/login") => (200, String::new(), LOGIN_PAGE.to_string()),
            ("GET", "/done") => (200, String::new(), "<p>saved</p>".to_string()),
            (_, "/w/login") => redirect("/login"),
            (_, "/w/elsewhere") => redirect("/done"),
            (_, "/w/offsite") => redirect("http://elsewhere.test/"),
            (_, "/w/deny") => (200, String::new(), "<p>Access denied</p>".to_string()),
            (_, "/w/loginpage") => (200, String::new(), LOGIN_PAGE.to_string()),
            (_, "/w/slow") => {
                tokio::time::sleep(Duration::from_secs(3)).await;
                plain(200)
            }
            (_, "/w/team") => match who {
                Some("alice") => plain(422),
                Some(_) => plain(403),
                None => plain(401),
            },
            (_, other) => match other.strip_prefix("/w/").and_then(|s| s.parse().ok()) {
                Some(status) => plain(status),
                None => plain(404),
            },
        }
    }

    fn scenario(base: &Url, probe_writes: bool, write_scope: &[&str]) -> Scenario {
        scenario_with(base, probe_writes, write_scope, "")
    }

    /// The scenario, with more `[[identity]]` tables after alice, bob and anonymous.
    fn scenario_with(base: &Url, probe_writes: bool, write_scope: &[&str], more: &str) -> Scenario {
        let text = format!(
            "[site]\nname = \"probe\"\nbase_url = \"{base}\"\naudience = \"team\"\n\n\
             [[identity]]\nname = \"alice\"\ntier = \"owner\"\n[identity.login]\n\
             bearer = \"${{ALICE}}\"\n\n\
             [[identity]]\nname = \"bob\"\ntier = \"team\"\n[identity.login]\n\
             bearer = \"${{BOB}}\"\n\n\
             [[identity]]\nname = \"anonymous\"\ntier = \"external\"\n{more}"
        );
        let env = |var: &str| match var {
            "ALICE" => Some("alice-token".to_string()),
            "BOB" => Some("bob-token".to_string()),
            "DEAD" => Some("dead-token".to_string()),
            _ => None,
        };
        let mut scenario = crate::scenario::parse(&text, Path::new("probe.toml"), &env).unwrap();
        scenario.crawl.probe_writes = probe_writes;
        scenario.crawl.write_scope =
            PathGlobs::new(write_scope.iter().map(|g| g.to_string()).collect()).unwrap();
        scenario.crawl.timeout_secs = 1;
        scenario.crawl.rate_limit = 1000;
        scenario.session.deny_markers = vec!["Access denied".to_string()];
        scenario
    }

    async fn sessions(scenario: &Scenario, stop: Stop) -> Vec<Arc<Session>> {
        let site = SiteContext::new(scenario, stop);
        let sessions = open_all(scenario, &site).await.unwrap();
        assert!(
            sessions.iter().all(|s| s.status.is_usable()),
            "{sessions:?}"
        );
        sessions.into_iter().map(Arc::new).collect()
    }

    fn action(method: &str, url: &str, source: &str) -> Action {
        Action {
            method: method.to_string(),
            url: url.to_string(),
            source: source.to_string(),
            fields: Vec::new(),
        }
    }

    /// What reached the Site other than GETs (the logins' proofs), as (method, path, who).
    fn writes(seen: &Mutex<Vec<Seen>>) -> Vec<Seen> {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|s| s.method != "GET")
            .cloned()
            .collect()
    }

    #[tokio::test]
    async fn nothing_is_sent_unless_the_scenario_opts_in() {
        let (base, seen) = serve().await;
        let actions = BTreeSet::from([action("POST", &format!("{base}w/200"), "form")]);
        for (probe_writes, expected) in [(false, 0), (true, 3)] {
            seen.lock().unwrap().clear();
            let scenario = scenario(&base, probe_writes, &["/w/**"]);
            let sessions = sessions(&scenario, Stop::new()).await;
            let probes = run(&sessions, &scenario, &actions).await;
            assert_eq!(
                probes.probes.len(),
                expected,
                "probe_writes = {probe_writes}"
            );
            assert_eq!(
                writes(&seen).len(),
                expected,
                "probe_writes = {probe_writes}"
            );
            assert!(probes.not_sent.is_empty());
        }
    }

    #[tokio::test]
    async fn each_action_in_write_scope_goes_once_per_identity_with_an_empty_body() {
        let (base, seen) = serve().await;
        let port = base.port().unwrap();
        let on = |path: &str| format!("{base}{}", path.trim_start_matches('/'));
        let actions = BTreeSet::from([
            action("POST", &on("/w/200"), "form"),
            action("PUT", &on("/w/422"), "openapi"),
            action("PATCH", &on("/w/400"), "javascript"),
            // Seen twice (a form and the OpenAPI document): sent once.
            action("POST", &on("/w/200"), "openapi"),
            action("DELETE", &on("/w/200"), "openapi"),
            action("POST", &on("/w/{id}"), "openapi"),
            action("GET", &on("/w/search"), "form"),
            action("POST", &on("/w/5/delete"), "form"),
            action("POST", &on("/w/excluded"), "form"),
            action("OPTIONS", &on("/w/200"), "openapi"),
            // Outside write_scope, and another origin (the same server under another name):
            // neither is sent nor listed.
            action("POST", &on("/other/200"), "form"),
            action("POST", &format!("http://localhost:{port}/w/200"), "form"),
        ]);
        let mut scenario = scenario(&base, true, &["/w/**"]);
        scenario.crawl.exclude = PathGlobs::new(vec!["/w/excluded".to_string()]).unwrap();
        let sessions = sessions(&scenario, Stop::new()).await;
        let probes = run(&sessions, &scenario, &actions).await;

        let mut sent: Vec<(String, String, Option<String>)> = writes(&seen)
            .iter()
            .map(|s| (s.method.clone(), s.path.clone(), s.who.clone()))
            .collect();
        sent.sort();
        let mut expected = Vec::new();
        for (method, path) in [("PATCH", "/w/400"), ("POST", "/w/200"), ("PUT", "/w/422")] {
            for who in [Some("alice"), Some("bob"), None] {
                expected.push((
                    method.to_string(),
                    path.to_string(),
                    who.map(str::to_string),
                ));
            }
        }
        expected.sort();
        assert_eq!(
            sent, expected,
            "each once per identity, with its own credentials"
        );
        for s in writes(&seen) {
            assert_eq!(s.body_len, 0, "{s:?}");
            assert_eq!(s.content_length, ["0"], "{s:?}");
            assert!(!s.chunked, "{s:?}");
            let content_type = match s.path.as_str() {
                "/w/200" => Some("application/x-www-form-urlencoded"),
                "/w/422" => Some("application/json"),
                _ => None,
            };
            assert_eq!(s.content_type.as_deref(), content_type, "{s:?}");
        }

        let rows: Vec<(&str, &str, &str, ProbeAnswer)> = probes
            .probes
            .iter()
            .map(|p| {
                (
                    p.url.trim_start_matches(base.as_str()),
                    p.method.as_str(),
                    p.identity.as_str(),
                    p.answer,
                )
            })
            .collect();
        use ProbeAnswer::*;
        assert_eq!(
            rows,
            [
                ("w/200", "POST", "alice", Accepted),
                ("w/200", "POST", "bob", Accepted),
                ("w/200", "POST", "anonymous", Accepted),
                ("w/400", "PATCH", "alice", AuthorizedToAttempt),
                ("w/400", "PATCH", "bob", AuthorizedToAttempt),
                ("w/400", "PATCH", "anonymous", AuthorizedToAttempt),
                ("w/422", "PUT", "alice", AuthorizedToAttempt),
                ("w/422", "PUT", "bob", AuthorizedToAttempt),
                ("w/422", "PUT", "anonymous", AuthorizedToAttempt),
            ],
            "sorted by url, method, then identity in scenario order"
        );

        let not_sent: Vec<(&str, &str, &str)> = probes
            .not_sent
            .iter()
            .map(|n| {
                (
                    n.url.trim_start_matches(base.as_str()),
                    n.method.as_str(),
                    n.why.as_str(),
                )
            })
            .collect();
        assert_eq!(
            not_sent,
            [
                ("w/200", "DELETE", "DELETE acts without a body"),
                ("w/200", "OPTIONS", "OPTIONS is not a write method"),
                ("w/5/delete", "POST", "unsafe: looks destructive (`delete`)"),
                (
                    "w/excluded",
                    "POST",
                    "excluded by [crawl] exclude `/w/excluded`"
                ),
                ("w/search", "GET", "GET is not a write (the crawl reads it)"),
                ("w/{id}", "POST", "the path still holds `{id}`"),
            ]
        );
    }

    #[tokio::test]
    async fn write_scope_decides_which_paths_are_sent() {
        let (base, seen) = serve().await;
        let actions = BTreeSet::from([
            action("POST", &format!("{base}w/200"), "form"),
            action("POST", &format!("{base}other/200"), "form"),
        ]);
        for (glob, path) in [("/w/**", "/w/200"), ("/other/*", "/other/200")] {
            seen.lock().unwrap().clear();
            let scenario = scenario(&base, true, &[glob]);
            let sessions = sessions(&scenario, Stop::new()).await;
            let probes = run(&sessions, &scenario, &actions).await;
            let paths: BTreeSet<String> = writes(&seen).into_iter().map(|s| s.path).collect();
            assert_eq!(paths, BTreeSet::from([path.to_string()]), "{glob}");
            assert_eq!(probes.probes.len(), 3, "{glob}");
            assert!(probes.not_sent.is_empty(), "{glob}");
        }
        // probe_writes on with an empty write_scope: still nothing.
        seen.lock().unwrap().clear();
        let scenario = scenario(&base, true, &[]);
        let sessions = sessions(&scenario, Stop::new()).await;
        let probes = run(&sessions, &scenario, &actions).await;
        assert!(probes.probes.is_empty() && writes(&seen).is_empty());
    }

    #[tokio::test]
    async fn answers_are_read_as_refused_authorized_accepted_or_unclear() {
        let (base, _seen) = serve().await;
        use ProbeAnswer::*;
        let cases: &[(&str, Option<u16>, ProbeAnswer, &str)] = &[
            ("/w/401", Some(401), Refused, "401"),
            ("/w/403", Some(403), Refused, "403"),
            ("/w/login", Some(302), Refused, "redirect to login"),
            ("/w/loginpage", Some(200), Refused, "login page"),
            ("/w/deny", Some(200), Refused, "deny marker `Access denied`"),
            ("/w/400", Some(400), AuthorizedToAttempt, "400"),
            ("/w/422", Some(422), AuthorizedToAttempt, "422"),
            ("/w/200", Some(200), Accepted, "200"),
            ("/w/204", Some(204), Accepted, "204"),
            ("/w/404", Some(404), Unclear, "404"),
            ("/w/405", Some(405), Unclear, "405"),
            ("/w/500", Some(500), Unclear, "500"),
            ("/w/elsewhere", Some(200), Unclear, "redirect to /done"),
            (
                "/w/offsite",
                Some(302),
                Unclear,
                "redirect to another origin (http://elsewhere.test)",
            ),
            ("/w/slow", None, Error, "timed out after 1 s"),
        ];
        let actions: BTreeSet<Action> = cases
            .iter()
            .map(|(path, ..)| action("POST", &format!("{base}{}", &path[1..]), "form"))
            .collect();
        let scenario = scenario(&base, true, &["/w/**"]);
        let sessions = sessions(&scenario, Stop::new()).await;
        // Alice alone: the mapping does not depend on who asks (the next test's does).
        let probes = run(&sessions[..1], &scenario, &actions).await;
        for (path, status, answer, reason) in cases {
            let url = format!("{base}{}", &path[1..]);
            let probe = probes
                .probes
                .iter()
                .find(|p| p.url == url)
                .unwrap_or_else(|| panic!("{path} not probed"));
            assert_eq!(
                (probe.status, probe.answer, probe.reason.as_str()),
                (*status, *answer, *reason),
                "{path}"
            );
        }
        assert_eq!(probes.probes.len(), cases.len());
    }

    #[tokio::test]
    async fn each_identity_is_answered_for_itself() {
        let (base, _seen) = serve().await;
        let actions = BTreeSet::from([action("POST", &format!("{base}w/team"), "form")]);
        let scenario = scenario(&base, true, &["/w/**"]);
        let sessions = sessions(&scenario, Stop::new()).await;
        let probes = run(&sessions, &scenario, &actions).await;
        let rows: Vec<(&str, ProbeAnswer, &str)> = probes
            .probes
            .iter()
            .map(|p| (p.identity.as_str(), p.answer, p.reason.as_str()))
            .collect();
        assert_eq!(
            rows,
            [
                ("alice", ProbeAnswer::AuthorizedToAttempt, "422"),
                ("bob", ProbeAnswer::Refused, "403"),
                ("anonymous", ProbeAnswer::Refused, "401"),
            ]
        );
        assert!(rows.iter().filter(|r| r.1.got_past_authorization()).count() == 1);
    }

    #[tokio::test]
    async fn a_stopped_run_sends_nothing_and_says_so() {
        let (base, seen) = serve().await;
        let actions = BTreeSet::from([action("POST", &format!("{base}w/200"), "form")]);
        let scenario = scenario(&base, true, &["/w/**"]);
        let stop = Stop::new();
        let sessions = sessions(&scenario, stop.clone()).await;
        stop.stop("the deadline of 5 s passed");
        let probes = run(&sessions, &scenario, &actions).await;
        assert!(probes.probes.is_empty());
        assert!(writes(&seen).is_empty());
        assert_eq!(
            probes.not_sent,
            [NotSent {
                method: "POST".to_string(),
                url: format!("{base}w/200"),
                why: "the run stopped (the deadline of 5 s passed) before it was sent as \
                      alice, bob, anonymous"
                    .to_string(),
            }]
        );
    }

    /// A refusal from a session that turns out to be logged out is no refusal: the probe is an
    /// error, and it is not sent again. The same refusal to a live session stays a refusal.
    #[tokio::test]
    async fn a_refusal_counts_only_from_a_session_proven_alive() {
        let (base, seen) = serve().await;
        let url = format!("{base}w/403");
        let actions = BTreeSet::from([action("POST", &url, "form")]);
        let dead = "\n[[identity]]\nname = \"dead\"\ntier = \"team\"\n[identity.login]\n\
                    bearer = \"${DEAD}\"\n";
        let scenario = scenario_with(&base, true, &["/w/**"], dead);
        let sessions = sessions(&scenario, Stop::new()).await;
        let probes = run(&sessions, &scenario, &actions).await;
        let rows: Vec<(&str, ProbeAnswer)> = probes
            .probes
            .iter()
            .map(|p| (p.identity.as_str(), p.answer))
            .collect();
        assert_eq!(
            rows,
            [
                ("alice", ProbeAnswer::Refused),
                ("bob", ProbeAnswer::Refused),
                ("anonymous", ProbeAnswer::Refused),
                ("dead", ProbeAnswer::Error),
            ]
        );
        let dead = &probes.probes[3];
        assert_eq!(dead.status, None);
        assert!(
            dead.reason.contains("could not be proven alive") && !dead.reason.contains("token"),
            "{}",
            dead.reason
        );
        let sent_as_dead = writes(&seen)
            .iter()
            .filter(|s| s.who.as_deref() == Some("dead"))
            .count();
        assert_eq!(sent_as_dead, 1, "not sent again");
    }

    #[test]
    fn template_segments_are_found_as_written_and_percent_encoded() {
        for (path, expected) in [
            ("/items/{id}", Some("{id}")),
            ("/items/%7Bid%7D/edit", Some("{id}")),
            ("/items/%7bid%7d", Some("{id}")),
            ("/items/x{id}y", Some("x{id}y")),
            ("/items/5", None),
            ("/items/{", None),
            ("/items/}", None),
        ] {
            assert_eq!(template_segment(path).as_deref(), expected, "{path}");
        }
    }
}
