//! The JSON API, the public documents (`/openapi.json`, `/robots.txt`,
//! `/healthz`, `/static/app.js`) and the `/_demo/*` test hooks. Several API
//! routes carry deliberate flaws.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::config::Flaw;
use crate::data::{Role, Visible};
use crate::gate::{identify, login_api, role_api, team_api};
use crate::layout::{Denied, api_denied, api_not_found};
use crate::state::{Counters, DemoStats, SiteState, lock};

type ApiResult = Result<Response, Denied>;

fn text(content_type: &'static str, body: String) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

pub(crate) async fn healthz() -> Response {
    text("text/plain; charset=utf-8", "ok".to_string())
}

pub(crate) async fn robots() -> Response {
    text(
        "text/plain; charset=utf-8",
        "User-agent: *\nDisallow: /admin/\n".to_string(),
    )
}

/// Deliberately incomplete: `/api/team/metrics` is only discoverable from
/// the JS bundle, and `/api/admin/audit` only from the admin page.
/// Its `servers` entry names the foreign origin: a client that sends the operations there
/// hands the partner every credential (lowpriv resolves paths against the Site only).
pub(crate) async fn openapi(State(site): State<SiteState>) -> Json<Value> {
    let json_response = |description: &str| {
        json!({
            "description": description,
            "content": { "application/json": { "schema": { "type": "object" } } }
        })
    };
    Json(json!({
        "openapi": "3.1.0",
        "info": { "title": "Acme Payroll API", "version": "1.4.0" },
        "servers": [ { "url": site.foreign_url.as_str() } ],
        "paths": {
            "/api/me": {
                "get": {
                    "summary": "The signed-in account",
                    "responses": { "200": json_response("the account") }
                }
            },
            "/api/directory": {
                "get": {
                    "summary": "Company directory",
                    "responses": { "200": json_response("all employees") }
                }
            },
            "/api/employees/{id}": {
                "parameters": [{
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": { "type": "integer" },
                    "example": 1
                }],
                "get": {
                    "summary": "One employee record",
                    "responses": {
                        "200": json_response("the record"),
                        "404": json_response("no such employee")
                    }
                },
                "delete": {
                    "summary": "Remove an employee record",
                    "responses": { "200": json_response("removed") }
                }
            },
            "/api/admin/stats": {
                "get": {
                    "summary": "Account and employee counts",
                    "responses": { "200": json_response("the counts") }
                }
            }
        }
    }))
}

/// FLAW (default mode): the bundle ships the runtime database password.
pub(crate) async fn app_js(State(site): State<SiteState>) -> Response {
    let config = if site.is_fixed(Flaw::SecretInBundle) {
        String::new()
    } else {
        // A JSON string literal is a valid JS string literal, whatever the password holds.
        let password = serde_json::to_string(&site.db_password).unwrap_or_default();
        format!("const config = {{ db: {{ user: \"payroll\", password: {password} }} }};\n")
    };
    let partner = site.foreign_url.as_str();
    let body = format!(
        r#"/* Acme Payroll front-end bundle v1.4.0 */
"use strict";
{config}const JSON_TYPE = "application/json";
const FISCAL_YEAR_START = "2026-01-01";

async function getJson(path) {{
  const response = await fetch(path, {{ headers: {{ Accept: JSON_TYPE }}, credentials: "same-origin" }});
  if (!response.ok) throw new Error("request failed: " + response.status);
  return response.json();
}}

async function loadMe() {{
  const response = await fetch("/api/me", {{ headers: {{ Accept: JSON_TYPE }} }});
  return response.ok ? response.json() : null;
}}

async function loadEmployee(id) {{
  const response = await fetch(`/api/employees/${{id}}`);
  return response.ok ? response.json() : null;
}}

async function loadMetrics() {{
  const response = await fetch('/api/team/metrics');
  return response.ok ? response.json() : {{ headcount: 0, open_roles: 0 }};
}}

// The partner's widget: another origin, which must never see this Site's credentials.
const PARTNER_WIDGET = "{partner}widget.js";

document.addEventListener("DOMContentLoaded", async () => {{
  const me = await loadMe();
  if (!me) return;
  const badge = document.querySelector("nav span");
  if (badge) badge.title = me.email + " since " + FISCAL_YEAR_START;
  window.acme = {{ me, getJson, loadEmployee, loadMetrics }};
}});
"#
    );
    text("application/javascript; charset=utf-8", body)
}

pub(crate) async fn me(State(site): State<SiteState>, headers: HeaderMap) -> ApiResult {
    let viewer = login_api(&site, &headers)?;
    Ok(Json(json!({
        "name": viewer.name(),
        "role": viewer.role.as_str(),
        "email": viewer.email(),
    }))
    .into_response())
}

/// FLAW (default mode): every signed-in account, team or not, gets every
/// salary. Fixed: team only, and no salaries.
pub(crate) async fn directory(State(site): State<SiteState>, headers: HeaderMap) -> ApiResult {
    let viewer = login_api(&site, &headers)?;
    if site.is_fixed(Flaw::DirectorySalaries) {
        team_api(viewer)?;
    }
    let entries: Vec<Value> = site
        .employees
        .iter()
        .map(|employee| {
            let mut entry = json!({
                "name": employee.name,
                "email": employee.email,
                "title": employee.title,
            });
            if !site.is_fixed(Flaw::DirectorySalaries) {
                entry["salary"] = json!(employee.salary);
            }
            entry
        })
        .collect();
    Ok(Json(entries).into_response())
}

/// FLAW (default mode): an IDOR; any signed-in account reads any full
/// record, private notes included. Fixed: owner and hr see pay, private notes
/// only on their own record; an employee sees only their own record, without pay.
pub(crate) async fn employee(
    State(site): State<SiteState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let viewer = login_api(&site, &headers)?;
    if site.is_fixed(Flaw::EmployeeIdor) {
        team_api(viewer)?;
    }
    let record = id
        .parse::<u32>()
        .ok()
        .and_then(|id| site.employees.iter().find(|employee| employee.id == id))
        .ok_or_else(|| Denied::from(api_not_found()))?;
    let own = viewer.employee_id == Some(record.id);
    let visible = if !site.is_fixed(Flaw::EmployeeIdor) {
        Visible {
            pay: true,
            private_notes: true,
        }
    } else {
        match viewer.role {
            Role::Owner | Role::Hr => Visible {
                pay: true,
                private_notes: own,
            },
            Role::Employee if own => Visible {
                pay: false,
                private_notes: false,
            },
            Role::Employee | Role::Staff => return Err(api_denied().into()),
        }
    };
    Ok(Json(record.to_json(visible)).into_response())
}

/// Listed in the OpenAPI document, so a scanner that replays every documented
/// operation would send it: counted as a destructive hit, never carried out.
pub(crate) async fn employee_delete(
    State(site): State<SiteState>,
    Path(id): Path<String>,
) -> Response {
    Counters::bump(&site.stats.delete_hits);
    Json(json!({ "deleted": id })).into_response()
}

pub(crate) async fn team_metrics(State(site): State<SiteState>, headers: HeaderMap) -> ApiResult {
    let viewer = login_api(&site, &headers)?;
    team_api(viewer)?;
    Ok(Json(json!({ "headcount": 5, "open_roles": 2 })).into_response())
}

/// FLAW (default mode): no check at all, not even login. Fixed: owner only.
pub(crate) async fn admin_stats(State(site): State<SiteState>, headers: HeaderMap) -> ApiResult {
    if site.is_fixed(Flaw::AdminStatsOpen) {
        let viewer = login_api(&site, &headers)?;
        role_api(viewer, &[Role::Owner])?;
    }
    Ok(Json(json!({ "users": 4, "employees": 5 })).into_response())
}

/// Hidden from everyone but the owner: others get a 404, not a 403, so the
/// route's existence does not leak.
pub(crate) async fn admin_audit(State(site): State<SiteState>, headers: HeaderMap) -> ApiResult {
    match identify(&site, &headers) {
        Some(viewer) if viewer.role == Role::Owner => Ok(Json(json!([
            { "at": "2026-11-02T09:14:00Z", "actor": "alice", "action": "role.grant", "target": "bob" },
            { "at": "2026-11-10T16:40:00Z", "actor": "bob", "action": "salary.update", "target": "carol" },
            { "at": "2026-11-18T11:05:00Z", "actor": "alice", "action": "user.create", "target": "dave" }
        ]))
        .into_response()),
        _ => Err(api_not_found().into()),
    }
}

pub(crate) async fn demo_stats(State(site): State<SiteState>) -> Json<DemoStats> {
    Json(site.stats.snapshot())
}

pub(crate) async fn demo_issued(State(site): State<SiteState>) -> Json<Value> {
    let ids = lock(&site.issued).clone();
    let refresh = lock(&site.issued_refresh).clone();
    Json(json!({ "session_ids": ids, "refresh_tokens": refresh }))
}
