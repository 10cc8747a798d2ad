//! The HTML pages: one shared layout (viewer-specific `<nav>`, viewer-neutral
//! `<main>`) and the handlers, several of which carry deliberate flaws.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::Counters;
use super::Flaw;
use super::auth::{Denied, login_html, redirect_found, role_html, team_html};
use super::data::{ACCOUNTS, Account, Role};
use super::site::SiteState;

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

pub(crate) async fn home(
    State(site): State<SiteState>,
    headers: HeaderMap,
    uri: Uri,
) -> PageResult {
    let viewer = login_html(&site, &headers, &uri)?;
    team_html(&site, viewer)?;
    Ok(page(
        &site,
        viewer,
        "Home",
        "<h1>Welcome to Acme Payroll</h1>\n\
         <p>Pay runs, reviews and reports for the payroll team.</p>\n\
         <p>Use the links above to find your way around.</p>",
    ))
}

pub(crate) async fn dashboard(
    State(site): State<SiteState>,
    headers: HeaderMap,
    uri: Uri,
) -> PageResult {
    let viewer = login_html(&site, &headers, &uri)?;
    team_html(&site, viewer)?;
    Ok(page(
        &site,
        viewer,
        "Dashboard",
        "<h1>Dashboard</h1>\n<ul>\n\
         <li>Next pay run: 2026-12-01</li>\n\
         <li>Pending approvals: 3</li>\n\
         <li>Open roles: 2</li>\n</ul>",
    ))
}

pub(crate) async fn search(
    State(site): State<SiteState>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    let viewer = login_html(&site, &headers, &uri)?;
    team_html(&site, viewer)?;
    let q = query.get("q").map(String::as_str).unwrap_or_default();
    let main = format!("<h1>Search</h1>\n<p>No results for “{}”.</p>", escape(q));
    Ok(page(&site, viewer, "Search", &main))
}

/// FLAW (default mode): no team gate, so dave, who is outside the payroll
/// team, reads the report.
pub(crate) async fn quarterly(
    State(site): State<SiteState>,
    headers: HeaderMap,
    uri: Uri,
) -> PageResult {
    let viewer = login_html(&site, &headers, &uri)?;
    if site.is_fixed(Flaw::QuarterlyAudience) {
        team_html(&site, viewer)?;
    }
    Ok(page(
        &site,
        viewer,
        "Quarterly report",
        "<h1>Quarterly report Q3 2026</h1>\n<table>\n\
         <tr><th>Metric</th><th>Value</th></tr>\n\
         <tr><td>Payroll cost</td><td>1,840,000</td></tr>\n\
         <tr><td>Overtime hours</td><td>312</td></tr>\n\
         <tr><td>Attrition</td><td>4.1%</td></tr>\n</table>",
    ))
}

/// FLAW (default mode): any signed-in account, even one outside the team,
/// manages users. Fixed: owner only.
pub(crate) async fn admin_users(
    State(site): State<SiteState>,
    headers: HeaderMap,
    uri: Uri,
) -> PageResult {
    let viewer = login_html(&site, &headers, &uri)?;
    if site.is_fixed(Flaw::AdminUsers) {
        role_html(&site, viewer, &[Role::Owner])?;
    }
    let mut rows = String::new();
    for account in &ACCOUNTS {
        rows.push_str(&format!(
            "<tr><td>{name}</td><td>{role}</td><td>{email}</td>\
             <td><a href=\"/admin/users/{id}/delete\">Delete</a></td></tr>\n",
            name = escape(account.name()),
            role = account.role.as_str(),
            email = escape(&account.email()),
            id = account.user_id,
        ));
    }
    let main = format!(
        "<h1>Users</h1>\n<table>\n<tr><th>Name</th><th>Role</th><th>Email</th><th></th></tr>\n\
         {rows}</table>\n<p><a href=\"/api/admin/audit\">Audit log</a></p>"
    );
    Ok(page(&site, viewer, "Users", &main))
}

/// A trap: a destructive action behind a plain GET link.
pub(crate) async fn admin_delete(
    State(site): State<SiteState>,
    Path(_id): Path<String>,
) -> Response {
    Counters::bump(&site.stats.delete_hits);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "deleted",
    )
        .into_response()
}

/// FLAW (default mode): any signed-in account sees the payroll totals.
/// Fixed: hr and owner only.
pub(crate) async fn payroll_summary(
    State(site): State<SiteState>,
    headers: HeaderMap,
    uri: Uri,
) -> PageResult {
    let viewer = login_html(&site, &headers, &uri)?;
    if site.is_fixed(Flaw::PayrollSummary) {
        role_html(&site, viewer, &[Role::Owner, Role::Hr])?;
    }
    let salaries: u64 = site.employees.iter().map(|e| e.salary).sum();
    let bonuses: u64 = site.employees.iter().map(|e| e.bonus).sum();
    let main = format!(
        "<h1>Payroll summary</h1>\n<table>\n\
         <tr><td>Employees</td><td>{count}</td></tr>\n\
         <tr><td>Total salaries</td><td>{salaries}</td></tr>\n\
         <tr><td>Total bonuses</td><td>{bonuses}</td></tr>\n\
         <tr><td>Total payroll</td><td>{total}</td></tr>\n</table>",
        count = site.employees.len(),
        total = salaries + bonuses,
    );
    Ok(page(&site, viewer, "Payroll summary", &main))
}

/// FLAW (default mode): the role check lists employee and owner but forgets
/// hr, so bob, who should run reviews, is denied. Fixed: hr and owner.
pub(crate) async fn hr_reviews(
    State(site): State<SiteState>,
    headers: HeaderMap,
    uri: Uri,
) -> PageResult {
    let viewer = login_html(&site, &headers, &uri)?;
    team_html(&site, viewer)?;
    let allowed: &[Role] = if site.is_fixed(Flaw::ReviewsInverted) {
        &[Role::Hr, Role::Owner]
    } else {
        &[Role::Employee, Role::Owner]
    };
    role_html(&site, viewer, allowed)?;
    Ok(page(
        &site,
        viewer,
        "Reviews",
        "<h1>Performance reviews 2026</h1>\n<ul>\n\
         <li>Review cycle opens 2026-10-01</li>\n\
         <li>Self-assessments due 2026-10-15</li>\n\
         <li>Calibration meeting 2026-11-03</li>\n</ul>",
    ))
}

pub(crate) async fn hr_employees(
    State(site): State<SiteState>,
    headers: HeaderMap,
    uri: Uri,
) -> PageResult {
    let viewer = login_html(&site, &headers, &uri)?;
    role_html(&site, viewer, &[Role::Hr, Role::Owner])?;
    let mut items = String::new();
    for employee in &site.employees {
        items.push_str(&format!(
            "<li><a href=\"/api/employees/{id}\">{name}</a> — {title}</li>\n",
            id = employee.id,
            name = escape(&employee.name),
            title = escape(&employee.title),
        ));
    }
    let main = format!("<h1>Employees</h1>\n<ul>\n{items}</ul>");
    Ok(page(&site, viewer, "Employees", &main))
}

/// Sends the browser to the second origin; a scanner must not carry the
/// Site's credentials along.
pub(crate) async fn go_partner(State(site): State<SiteState>) -> Response {
    redirect_found(&format!("{}collect", site.foreign_url))
}

pub(crate) async fn not_found(
    State(site): State<SiteState>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    if super::api::is_api_path(uri.path()) {
        return super::auth::api_not_found();
    }
    let viewer = super::auth::identify(&site, &headers);
    html_response(
        StatusCode::NOT_FOUND,
        render(&site, viewer, "Not found", "<h1>Not found</h1>"),
    )
}
