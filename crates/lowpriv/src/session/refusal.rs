//! The refusal rule: what one answer says about access, decided in one place.
//!
//! Input: a [`Response`], its body as text, and the Site's deny markers. Output: an [`Answer`]:
//! content, a [`Refusal`] (and which kind), a [`Failure`] that says nothing about access, or a
//! redirect off the origin. Both the session (which must tell a refusal from a session that
//! quietly expired) and the observer (which records `denied`) read it, so the two can never
//! disagree about one answer.
//!
//! Invariants: 429 and 408 are failures, never refusals (the Site is throttling or slow, and
//! says nothing about who may see what); a login page or a deny marker in a 2xx is a refusal,
//! never content; any other 4xx is a refusal; 5xx and statuses outside 2xx/4xx are failures.

use std::sync::LazyLock;

use regex::Regex;
use url::Url;

use super::Response;

/// What an answer says about access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer<'a> {
    /// A 2xx that is neither a login page nor carries a deny marker.
    Content,
    /// The Site said no, or a session that was logged out looks as if it had.
    Refused(Refusal<'a>),
    /// The Site gave no answer about access.
    Failed(Failure),
    /// A redirect to another origin: not followed, so nothing is known.
    Offsite(&'a Url),
}

impl Answer<'_> {
    pub fn is_refusal(&self) -> bool {
        matches!(self, Answer::Refused(_))
    }
}

/// How the Site said no.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal<'a> {
    /// A redirect to the login page (not followed).
    LoginRedirect,
    /// A 2xx that asks for a password.
    LoginPage,
    /// A 2xx carrying this deny marker.
    DenyMarker(&'a str),
    /// A 4xx other than 408 and 429. A 404 may later turn out to be a hidden page (the
    /// observer decides that across identities).
    Status(u16),
}

/// Why an answer says nothing about access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// 408 or 429: the Site is throttling or slow.
    Throttled(u16),
    /// 5xx.
    ServerError(u16),
    /// Anything else outside 2xx and 4xx (an unfollowed 304, a 1xx).
    Unexpected(u16),
}

/// The one rule: reads `response` (its body already decoded as `text`).
pub fn interpret<'a>(response: &'a Response, text: &str, deny_markers: &'a [String]) -> Answer<'a> {
    if response.login_redirect {
        return Answer::Refused(Refusal::LoginRedirect);
    }
    if let Some(target) = &response.offsite_redirect {
        return Answer::Offsite(target);
    }
    match response.status {
        200..=299 => {
            if is_login_page(text) {
                Answer::Refused(Refusal::LoginPage)
            } else if let Some(marker) = deny_marker(deny_markers, text) {
                Answer::Refused(Refusal::DenyMarker(marker))
            } else {
                Answer::Content
            }
        }
        status @ (408 | 429) => Answer::Failed(Failure::Throttled(status)),
        status @ 400..=499 => Answer::Refused(Refusal::Status(status)),
        status @ 500..=599 => Answer::Failed(Failure::ServerError(status)),
        status => Answer::Failed(Failure::Unexpected(status)),
    }
}

/// A page whose form asks for one password is a login page, wherever it is served.
pub fn is_login_page(body: &str) -> bool {
    // A constant pattern: it compiles in every build the tests pass on.
    #[allow(clippy::expect_used)]
    static PASSWORD_INPUT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?i)<input\b[^>]*\btype\s*=\s*["']?password\b"#)
            .expect("constant pattern compiles")
    });
    if !PASSWORD_INPUT.is_match(body) {
        return false;
    }
    // A login form asks for one password. A form with two or three (a password change, a new
    // user with its confirmation) is a page a signed-in identity works on, not a refusal:
    // Django's admin serves both to its staff.
    let lower = body.to_ascii_lowercase();
    let forms: Vec<&str> = lower.split("<form").skip(1).collect();
    if forms.is_empty() {
        return PASSWORD_INPUT.find_iter(body).count() == 1;
    }
    forms.iter().any(|form| {
        let form = form.split("</form").next().unwrap_or(form);
        PASSWORD_INPUT.find_iter(form).count() == 1
    })
}

/// The first of `markers` the body carries, if any. An empty marker never counts: it would
/// match every page.
pub(super) fn deny_marker<'a>(markers: &'a [String], body: &str) -> Option<&'a str> {
    markers
        .iter()
        .find(|m| !m.is_empty() && body.contains(m.as_str()))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, login_redirect: bool, offsite: Option<&str>) -> Response {
        let url = Url::parse("http://site.test/x").unwrap();
        Response {
            final_url: url.clone(),
            url,
            status,
            content_type: None,
            body: Vec::new(),
            redirects: Vec::new(),
            login_redirect,
            offsite_redirect: offsite.map(|o| Url::parse(o).unwrap()),
            link_headers: Vec::new(),
            retries: 0,
            truncated: false,
        }
    }

    #[test]
    fn the_refusal_rule() {
        let markers = vec!["Access denied".to_string()];
        let login_page = r#"<form><input type="password" name="pw"></form>"#;
        let offsite = Url::parse("http://elsewhere.test/").unwrap();
        let cases: Vec<(&str, Response, &str, Answer<'_>)> = vec![
            ("200", response(200, false, None), "hello", Answer::Content),
            ("204", response(204, false, None), "", Answer::Content),
            (
                "401",
                response(401, false, None),
                "",
                Answer::Refused(Refusal::Status(401)),
            ),
            (
                "403",
                response(403, false, None),
                "",
                Answer::Refused(Refusal::Status(403)),
            ),
            (
                "404",
                response(404, false, None),
                "",
                Answer::Refused(Refusal::Status(404)),
            ),
            (
                "407",
                response(407, false, None),
                "",
                Answer::Refused(Refusal::Status(407)),
            ),
            (
                "400",
                response(400, false, None),
                "",
                Answer::Refused(Refusal::Status(400)),
            ),
            (
                "408",
                response(408, false, None),
                "",
                Answer::Failed(Failure::Throttled(408)),
            ),
            (
                "429",
                response(429, false, None),
                "",
                Answer::Failed(Failure::Throttled(429)),
            ),
            (
                "500",
                response(500, false, None),
                "",
                Answer::Failed(Failure::ServerError(500)),
            ),
            (
                "503",
                response(503, false, None),
                "",
                Answer::Failed(Failure::ServerError(503)),
            ),
            (
                "304",
                response(304, false, None),
                "",
                Answer::Failed(Failure::Unexpected(304)),
            ),
            (
                "login redirect",
                response(302, true, None),
                "",
                Answer::Refused(Refusal::LoginRedirect),
            ),
            (
                "login page",
                response(200, false, None),
                login_page,
                Answer::Refused(Refusal::LoginPage),
            ),
            (
                "deny marker",
                response(200, false, None),
                "<p>Access denied</p>",
                Answer::Refused(Refusal::DenyMarker("Access denied")),
            ),
            (
                "deny marker outside 2xx",
                response(500, false, None),
                "Access denied",
                Answer::Failed(Failure::ServerError(500)),
            ),
            (
                "offsite redirect",
                response(302, false, Some("http://elsewhere.test/")),
                "",
                Answer::Offsite(&offsite),
            ),
        ];
        for (name, response, text, expected) in &cases {
            assert_eq!(interpret(response, text, &markers), *expected, "{name}");
        }
    }

    /// README: "429 and 408 are errors, never refusals". The session used to count a 408 as
    /// a refusal (and log in again) while the observer recorded it as an error.
    #[test]
    fn a_login_form_asks_for_one_password() {
        let input = |name: &str| format!(r#"<input type="password" name="{name}">"#);
        let form = |fields: &str| format!(r#"<form method="post">{fields}</form>"#);
        let login = form(&format!(r#"<input name="username">{}"#, input("password")));
        let change = form(&[input("old"), input("new1"), input("new2")].concat());
        let new_user = form(&format!(
            r#"<input name="username">{}{}"#,
            input("p1"),
            input("p2")
        ));
        assert!(is_login_page(&login));
        assert!(
            !is_login_page(&change),
            "a password change form is a page, not a refusal"
        );
        assert!(!is_login_page(&new_user));
        assert!(
            is_login_page(&format!("{change}{login}")),
            "a login form beside another"
        );
        assert!(
            is_login_page(&input("password")),
            "a password field outside any form"
        );
        assert!(!is_login_page("<p>no form here</p>"));
    }

    #[test]
    fn throttling_is_never_a_refusal() {
        for status in [408, 429] {
            let response = response(status, false, None);
            assert!(!interpret(&response, "", &[]).is_refusal(), "{status}");
        }
    }

    #[test]
    fn empty_deny_markers_never_match() {
        let markers = vec![String::new(), "nope".to_string()];
        assert_eq!(deny_marker(&markers, "all good"), None);
        assert_eq!(deny_marker(&markers, "nope"), Some("nope"));
    }

    #[test]
    fn login_pages_are_recognised_by_their_password_input() {
        let cases = [
            (r#"<form><input type="password" name="pw"></form>"#, true),
            (r#"<INPUT TYPE=PASSWORD name=x>"#, true),
            (r#"<input name="password" type='password'/>"#, true),
            (r#"<input name="password" type="text">"#, false),
            ("the password policy says", false),
        ];
        for (body, expected) in cases {
            assert_eq!(is_login_page(body), expected, "{body}");
        }
    }
}
