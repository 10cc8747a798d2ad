//! The HTML pages, several of which carry deliberate flaws, and the fallback for unknown
//! paths. Their layout is `layout.rs`; their gates are `gate.rs`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::config::Flaw;
use crate::data::{ACCOUNTS, Role};
use crate::gate::{identify, login_html, role_html, team_html};
use crate::layout::{
    PageResult, api_not_found, escape, html_response, is_api_path, page, redirect_found, render,
};
use crate::state::{Counters, SiteState};

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
    if is_api_path(uri.path()) {
        return api_not_found();
    }
    let viewer = identify(&site, &headers);
    html_response(
        StatusCode::NOT_FOUND,
        render(&site, viewer, "Not found", "<h1>Not found</h1>"),
    )
}
