//! The team page, which shows data from a source system (the HR API, `hr.rs`) rather than
//! the Site's own, and its "adjust compensation" form with the endpoint it posts to.
//!
//! `/team` reads `GET /employees` over real HTTP with the Site's service token, which sees
//! every record's compensation: what a viewer is shown must be cut down to what their own HR
//! API token would give them, and the flawed Site forgets to.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::config::Flaw;
use crate::data::{self, HR_SERVICE_TOKEN, HrCaller, PAYROLL_TEAM, Role};
use crate::gate::{identify, login_html, role_html, team_html};
use crate::layout::{PageResult, escape, html_response, page, render};
use crate::state::{Counters, SiteState};

/// One record of the HR API's answer, as the Site reads it.
#[derive(serde::Deserialize)]
struct Row {
    name: String,
    team: String,
    email: String,
    compensation: Option<u64>,
}

#[derive(serde::Deserialize)]
struct Employees {
    employees: Vec<Row>,
}

/// Why `/team` could not get the HR API's records; each is a 502 to the viewer.
#[derive(Debug, thiserror::Error)]
enum HrError {
    #[error("no HTTP client for the HR API")]
    NoClient,
    #[error("cannot reach the HR API")]
    Unreachable(#[source] reqwest::Error),
    #[error("the HR API answered {0}")]
    Status(StatusCode),
    #[error("the HR API's answer is not its employee list")]
    Body(#[source] serde_json::Error),
}

/// The HR API's records as the Site's service token reads them. A fresh request carrying only
/// the service token: the viewer's headers (their session cookie above all) stay here.
async fn fetch_employees(site: &SiteState) -> Result<Vec<Row>, HrError> {
    let client = site.hr_client.as_ref().ok_or(HrError::NoClient)?;
    let url = site
        .hr_url
        .join("employees")
        .map_err(|_| HrError::NoClient)?;
    let response = client
        .get(url)
        .bearer_auth(HR_SERVICE_TOKEN)
        .send()
        .await
        .map_err(HrError::Unreachable)?;
    if !response.status().is_success() {
        return Err(HrError::Status(response.status()));
    }
    // No `json` feature on reqwest here (lowpriv does without it too): the bytes, then serde.
    let body = response.bytes().await.map_err(HrError::Unreachable)?;
    let answer: Employees = serde_json::from_slice(&body).map_err(HrError::Body)?;
    Ok(answer.employees)
}

/// Who may adjust compensation: HR and the owner.
const ADJUSTERS: &[Role] = &[Role::Owner, Role::Hr];

/// FLAW (default mode): every row's compensation, as the service token read it, goes to every
/// team member; carol sees what her own HR API token would not give her. Fixed: each cell is
/// shown only where the HR API would show it to the viewer's own token. The form follows
/// `Flaw::CompensationWrite`: every team member (flawed) or HR and the owner only (fixed).
pub(crate) async fn team(
    State(site): State<SiteState>,
    headers: HeaderMap,
    uri: Uri,
) -> PageResult {
    let viewer = login_html(&site, &headers, &uri)?;
    team_html(&site, viewer)?;
    let rows = match fetch_employees(&site).await {
        Ok(rows) => rows,
        Err(why) => {
            let main = format!(
                "<h1>Team</h1>\n<p>The HR system is unavailable ({}).</p>",
                escape(&why.to_string())
            );
            return Ok(html_response(
                StatusCode::BAD_GATEWAY,
                render(&site, Some(viewer), "Team", &main),
            ));
        }
    };
    let as_viewer = HrCaller::Person(viewer.name());
    let mut table = String::new();
    for row in rows.iter().filter(|row| row.team == PAYROLL_TEAM) {
        let shown = if site.is_fixed(Flaw::TeamCompensation) {
            row.compensation
                .filter(|_| as_viewer.sees_compensation(&row.name))
        } else {
            row.compensation
        };
        table.push_str(&format!(
            "<tr><td>{name}</td><td>{team}</td><td>{email}</td><td>{pay}</td></tr>\n",
            name = escape(&row.name),
            team = escape(&row.team),
            email = escape(&row.email),
            pay = shown.map(|pay| pay.to_string()).unwrap_or_default(),
        ));
    }
    let may_adjust = !site.is_fixed(Flaw::CompensationWrite) || ADJUSTERS.contains(&viewer.role);
    let form = match site.form_token(viewer) {
        Some(csrf) if may_adjust => format!(
            "<h2>Adjust compensation</h2>\n\
             <form method=\"post\" action=\"/team/compensation\">\n\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
             <label>Employee id <input name=\"employee\"></label>\n\
             <label>Amount <input name=\"amount\" type=\"number\"></label>\n\
             <button type=\"submit\">Adjust</button>\n\
             </form>\n",
            csrf = escape(csrf),
        ),
        _ => String::new(),
    };
    let main = format!(
        "<h1>Team</h1>\n<p>The payroll team, from the HR system.</p>\n<table>\n\
         <tr><th>name</th><th>team</th><th>email</th><th>compensation</th></tr>\n\
         {table}</table>\n{form}"
    );
    Ok(page(&site, viewer, "Team", &main))
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

/// `POST /team/compensation`: changes nothing, counts everything. FLAW (default mode): it
/// checks login, not role, so carol's (or dave's) empty body gets 422, the answer of an
/// endpoint that would have acted on a valid one. Fixed: 403 for anyone but HR and the owner.
/// Anonymous: 401 in both. A valid body (a known employee id, a whole amount, the caller's
/// CSRF token) is "recorded", still without changing anything.
pub(crate) async fn adjust(
    State(site): State<SiteState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Counted before any check, so every request that reached it shows.
    Counters::bump(&site.stats.write_requests);
    if !body.is_empty() {
        Counters::bump(&site.stats.write_nonempty_bodies);
    }
    let Some(viewer) = identify(&site, &headers) else {
        return plain(StatusCode::UNAUTHORIZED, "login required");
    };
    Counters::bump_named(&site.stats.write_requests_by, viewer.name());
    if site.is_fixed(Flaw::CompensationWrite)
        && let Err(refused) = role_html(&site, viewer, ADJUSTERS)
    {
        return refused.into_response();
    }
    let fields: HashMap<String, String> = url::form_urlencoded::parse(&body)
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or_default();
    let known_employee = field("employee")
        .parse::<u32>()
        .is_ok_and(|id| data::hr_records().iter().any(|record| record.id == id));
    let amount = field("amount").parse::<u64>().is_ok();
    let csrf = site
        .form_token(viewer)
        .is_some_and(|token| token == field("csrf"));
    if known_employee && amount && csrf {
        plain(StatusCode::OK, "recorded (demo: nothing changed)")
    } else {
        plain(
            StatusCode::UNPROCESSABLE_ENTITY,
            "an adjustment needs employee, amount and csrf",
        )
    }
}
