//! What every handler's answer is made of: the page layout (viewer-specific `<nav>`,
//! viewer-neutral `<main>`), HTML, JSON-error and redirect responses, and `Denied`, the
//! refusal a gate returns.
//!
//! Above `state` (the layout links the foreign origin) and `data` (it names the viewer),
//! below the gates and the handlers: they all answer through here, so none needs another's.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::data::{Account, Role};
use crate::state::SiteState;

pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn html_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Everything that differs between viewers lives here, so the scanner can
/// compare `<main>` across identities.
fn nav(site: &SiteState, viewer: Option<&Account>) -> String {
    let Some(account) = viewer else {
        return "<nav><span>Not signed in</span> <a href=\"/login\">Sign in</a></nav>".to_string();
    };
    let mut links = vec![format!(
        "<span>Signed in as {}</span>",
        escape(account.name())
    )];
    let mut link = |href: &str, text: &str| {
        links.push(format!("<a href=\"{}\">{}</a>", escape(href), escape(text)));
    };
    if account.team_member {
        link("/", "Home");
        link("/dashboard", "Dashboard");
        link("/team", "Team");
        link("/app", "App");
        link("/reports/quarterly", "Quarterly report");
        link("/api/directory", "Directory");
        if let Some(id) = account.employee_id {
            link(&format!("/api/employees/{id}"), "My record");
        }
        link("/go/partner", "Partner portal");
        link(&format!("{}collect", site.foreign_url), "Partner site");
        match account.role {
            Role::Employee => link("/hr/reviews", "My reviews"),
            Role::Hr => {
                link("/hr/employees", "Employees");
                link("/hr/reviews", "Reviews");
                link("/payroll/summary", "Payroll summary");
            }
            Role::Owner => link("/admin/users", "Users"),
            Role::Staff => {}
        }
    } else {
        link("/", "Home");
        link("/api/me", "My account");
    }
    if site.data_browser && account.team_member {
        link("/data", "Data");
    }
    link("/logout", "Log out");
    format!("<nav>{}</nav>", links.join(" "))
}

pub(crate) fn render(
    site: &SiteState,
    viewer: Option<&Account>,
    title: &str,
    main: &str,
) -> String {
    format!(
        "<!doctype html><html><head><title>{title} — Acme Payroll</title>\
         <script src=\"/static/app.js\" defer></script></head>\
         <body>{nav}<main>{main}</main></body></html>",
        title = escape(title),
        nav = nav(site, viewer),
    )
}

pub(crate) fn page(site: &SiteState, viewer: &Account, title: &str, main: &str) -> Response {
    html_response(StatusCode::OK, render(site, Some(viewer), title, main))
}

pub(crate) type PageResult = Result<Response, Denied>;

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

pub(crate) fn json_error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

pub(crate) fn api_denied() -> Response {
    json_error(StatusCode::FORBIDDEN, "Access denied")
}

pub(crate) fn api_not_found() -> Response {
    json_error(StatusCode::NOT_FOUND, "not found")
}

pub(crate) fn redirect_found(location: &str) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

/// Used by the fallback so unknown `/api/*` paths answer in JSON like the rest of the API.
pub(crate) fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}
