//! The single-page section (`/app`): a client-rendered app in plain JS. Its HTML is an empty
//! shell and `/app/app.js`; what it shows comes from `/api/app/*`, reached only from code that
//! runs in a browser, except `/api/app/me`, a plain `fetch` that a JS parser (or the lexer)
//! finds in the script's text.
//!
//! How the app reaches its endpoints (docs/demo-site.md, "The single-page app"):
//! - `GET /api/app/me`: a literal `fetch('/api/app/me')`; the viewer, their team, and the
//!   partner origin's URL (so the cross-origin probe below is built from data, not text).
//! - `GET /api/app/people?fields=name,team`: the `#/people` route of the route table the
//!   router walks; the bare path (no `fields`) returns more (titles and emails), never pay.
//! - `GET /api/app/reports/{team}`: the `#/reports` route, its URL joined from pieces and the
//!   team `/api/app/me` named.
//! - `GET /api/app/salaries`: fetched only after a click on the "Salaries" tab.
//! - `POST /api/app/notes` and a fetch to the partner origin: the app tries both on start; a
//!   browser driven by lowpriv must send neither (`DemoStats::app_writes`, `foreign_hits`).
//! - `/app/live`: a status page whose script long-polls `/api/app/ping` (held 1 s) forever:
//!   a request is always open, so it never settles.
//!
//! Access: the payroll team (the Site's audience), like `/team`: anonymous goes to the login
//! form (401 for JSON), dave is refused; a report only of one's own team; salaries hr and
//! owner.
//! FLAW (default mode, `Flaw::AppSalaries`): `/api/app/salaries` checks login only, so dave
//! and carol read every salary once they click the tab.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::config::Flaw;
use crate::data::Role;
use crate::gate::{login_api, login_html, role_api, team_api, team_html};
use crate::layout::{Denied, html_response, json_error};
use crate::state::{Counters, SiteState};

type Answer = Result<Response, Denied>;

/// How long `/api/app/ping` holds each long poll (well under the Site's shutdown grace).
const PING_HOLD: std::time::Duration = std::time::Duration::from_millis(1000);

/// The one team the demo has.
const TEAM: &str = "payroll";

fn shell(title: &str, body: &str) -> Response {
    html_response(
        StatusCode::OK,
        format!(
            "<!doctype html><html><head><title>{title} — Acme Payroll</title></head>\
             <body><div id=\"root\"></div>{body}</body></html>"
        ),
    )
}

fn team_page(site: &SiteState, headers: &HeaderMap, uri: &Uri) -> Result<(), Denied> {
    let viewer = login_html(site, headers, uri)?;
    team_html(site, viewer)
}

pub(crate) async fn app(State(site): State<SiteState>, headers: HeaderMap, uri: Uri) -> Answer {
    team_page(&site, &headers, &uri)?;
    Ok(shell(
        "App",
        "<script src=\"/app/app.js\" defer></script>\
         <footer><a href=\"/app/live\">Live status</a></footer>",
    ))
}

pub(crate) async fn live(State(site): State<SiteState>, headers: HeaderMap, uri: Uri) -> Answer {
    team_page(&site, &headers, &uri)?;
    // A long poll, asked again the moment it answers: some request is always open, so a
    // browser never sees this page settle, however busy the machine.
    Ok(shell(
        "Live status",
        "<script>(async () => { for (;;) { try { await fetch(['', 'api', 'app', 'ping'].join('/')); } \
         catch (e) { await new Promise((r) => setTimeout(r, 100)); } } })();</script>",
    ))
}

pub(crate) async fn app_js(State(site): State<SiteState>, headers: HeaderMap) -> Answer {
    let viewer = login_api(&site, &headers)?;
    team_api(viewer)?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        APP_JS,
    )
        .into_response())
}

/// Path pieces are joined at run time on purpose: only `/api/app/me` is in the text.
const APP_JS: &str = r##"/* Acme Payroll app: client-rendered, no framework */
"use strict";
const API = ["", "api", "app"].join("/");
const root = document.getElementById("root");
let me = null;

async function get(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  return response.ok ? response.json() : null;
}

const routes = [
  { hash: "people", title: "People", load: () => get(API + "/" + "people?fields=name,team") },
  { hash: "reports", title: "Reports", load: () => get([API, "reports", me.team].join("/")) },
];

function show(title, data) {
  const section = document.createElement("section");
  const heading = document.createElement("h2");
  heading.textContent = title;
  const pre = document.createElement("pre");
  pre.textContent = JSON.stringify(data, null, 2);
  section.append(heading, pre);
  root.querySelector("#view").replaceChildren(section);
}

async function route() {
  const name = location.hash.replace(/^#\//, "");
  const found = routes.find((r) => r.hash === name);
  if (found && me && me.team) show(found.title, await found.load());
}

function tab(label, endpoint) {
  const button = document.createElement("button");
  button.type = "button";
  button.setAttribute("role", "tab");
  button.dataset.endpoint = endpoint;
  button.textContent = label;
  button.addEventListener("click", async () => show(label, await get([API, button.dataset.endpoint].join("/"))));
  return button;
}

async function start() {
  const answer = await fetch("/api/app/me");
  if (!answer.ok) return;
  me = await answer.json();
  const nav = document.createElement("nav");
  for (const r of routes) {
    const link = document.createElement("a");
    link.href = "#/" + r.hash;
    link.textContent = r.title;
    nav.append(link, " ");
  }
  nav.append(tab("Salaries", "salaries"));
  const view = document.createElement("div");
  view.id = "view";
  root.append(nav, view);
  addEventListener("hashchange", route);
  route();
  // What a browser under lowpriv must never send: a write, and a request to another origin.
  fetch([API, "notes"].join("/"), { method: "POST", body: "{}" }).catch(() => {});
  fetch(me.partner + "collect", { credentials: "include" }).catch(() => {});
}

start();
"##;

pub(crate) async fn me(State(site): State<SiteState>, headers: HeaderMap) -> Answer {
    let viewer = login_api(&site, &headers)?;
    team_api(viewer)?;
    Ok(Json(json!({
        "name": viewer.name(),
        "role": viewer.role.as_str(),
        "team": TEAM,
        "partner": site.foreign_url.as_str(),
    }))
    .into_response())
}

#[derive(serde::Deserialize)]
pub(crate) struct Fields {
    fields: Option<String>,
}

/// The people list: `fields` narrows it, as the app asks; without it, every listed field.
pub(crate) async fn people(
    State(site): State<SiteState>,
    headers: HeaderMap,
    Query(query): Query<Fields>,
) -> Answer {
    let viewer = login_api(&site, &headers)?;
    team_api(viewer)?;
    let wanted: Option<Vec<String>> = query
        .fields
        .map(|f| f.split(',').map(|s| s.trim().to_string()).collect());
    let people: Vec<Value> = site
        .employees
        .iter()
        .map(|employee| {
            let all = json!({
                "name": employee.name,
                "team": TEAM,
                "title": employee.title,
                "email": employee.email,
            });
            match &wanted {
                None => all,
                Some(keys) => {
                    let mut narrowed = serde_json::Map::new();
                    for key in keys {
                        if let Some(value) = all.get(key) {
                            narrowed.insert(key.clone(), value.clone());
                        }
                    }
                    Value::Object(narrowed)
                }
            }
        })
        .collect();
    Ok(Json(people).into_response())
}

pub(crate) async fn report(
    State(site): State<SiteState>,
    headers: HeaderMap,
    Path(team): Path<String>,
) -> Answer {
    let viewer = login_api(&site, &headers)?;
    team_api(viewer)?;
    if team != TEAM {
        return Err(json_error(StatusCode::NOT_FOUND, "no such team").into());
    }
    Ok(Json(json!({
        "team": TEAM,
        "headcount": site.employees.len(),
        "quarter": "2026-Q3",
        "status": "on track",
    }))
    .into_response())
}

/// FLAW (default mode): login only. Fixed: hr and owner.
pub(crate) async fn salaries(State(site): State<SiteState>, headers: HeaderMap) -> Answer {
    let viewer = login_api(&site, &headers)?;
    if site.is_fixed(Flaw::AppSalaries) {
        role_api(viewer, &[Role::Hr, Role::Owner])?;
    }
    let rows: Vec<Value> = site
        .employees
        .iter()
        .map(|e| json!({ "name": e.name, "salary": e.salary }))
        .collect();
    Ok(Json(rows).into_response())
}

/// Counts every write that reaches it (a test asserts none does), then refuses it.
pub(crate) async fn notes(State(site): State<SiteState>) -> Response {
    Counters::bump(&site.stats.app_writes);
    json_error(StatusCode::FORBIDDEN, "read-only demo")
}

pub(crate) async fn ping(State(site): State<SiteState>, headers: HeaderMap) -> Answer {
    let viewer = login_api(&site, &headers)?;
    team_api(viewer)?;
    tokio::time::sleep(PING_HOLD).await;
    Ok(Json(json!({ "ok": true })).into_response())
}
