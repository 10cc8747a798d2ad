//! The HR API: a third loopback origin, the source system the Site's `/team` page reads.
//! `GET /employees` and `GET /employees/{id}` answer by bearer token (`data::HR_TOKENS`, the
//! Site's `HR_SERVICE_TOKEN`): the service, HR and the owner get every record with its
//! compensation; any other person every record, with compensation only in their own; no or
//! an unknown token, 401. Any other method is 405.
//!
//! A handler-layer module like `foreign`: its own router, counting into the Site's
//! `Counters`, so a test (or `lowpriv demo`) sees what reached the source system, and with
//! which credentials.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Value, json};

use crate::data::{self, HrCaller, HrRecord};
use crate::layout::{Denied, json_error};
use crate::state::Counters;

struct Hr {
    stats: Arc<Counters>,
    records: Vec<HrRecord>,
}

type HrState = Arc<Hr>;

pub(crate) fn router(stats: Arc<Counters>) -> Router {
    let hr = Arc::new(Hr {
        stats,
        records: data::hr_records(),
    });
    Router::new()
        // `any`, not `get`: a non-GET is answered (and counted) here, with a JSON body.
        .route("/employees", any(list))
        .route("/employees/{id}", any(one))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(hr.clone(), count))
        .with_state(hr)
}

/// What the request's `Authorization` says: `None` without one, `Some(None)` for one the
/// HR API does not know (any scheme but Bearer included).
fn caller(headers: &HeaderMap) -> Option<Option<HrCaller>> {
    let value = headers.get(header::AUTHORIZATION)?;
    let known = value
        .to_str()
        .ok()
        .and_then(|value| value.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .and_then(|(_, token)| HrCaller::from_token(token.trim()));
    Some(known)
}

/// Counts every request before it is answered: its method, its token, and any cookie.
async fn count(State(hr): State<HrState>, request: Request, next: Next) -> Response {
    let stats = &hr.stats;
    if request.method() == Method::GET {
        Counters::bump(&stats.hr_gets);
    } else {
        Counters::bump(&stats.hr_non_gets);
    }
    if request.headers().contains_key(header::COOKIE) {
        Counters::bump(&stats.hr_cookies);
    }
    match caller(request.headers()) {
        None => Counters::bump(&stats.hr_no_token),
        Some(None) => Counters::bump(&stats.hr_unknown_tokens),
        Some(Some(HrCaller::Service)) => Counters::bump(&stats.hr_service_requests),
        Some(Some(HrCaller::Person(name))) => Counters::bump_named(&stats.hr_requests_by, name),
    }
    next.run(request).await
}

/// The method check, then the token check, in that order: a non-GET is 405 whoever sends it.
fn admit(method: &Method, headers: &HeaderMap) -> Result<HrCaller, Denied> {
    if method != Method::GET {
        let mut refused = json_error(StatusCode::METHOD_NOT_ALLOWED, "read-only API");
        refused
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET"));
        return Err(refused.into());
    }
    caller(headers).flatten().ok_or_else(|| {
        json_error(StatusCode::UNAUTHORIZED, "a valid bearer token is required").into()
    })
}

fn record_json(caller: HrCaller, record: &HrRecord) -> Value {
    record.to_json(caller.sees_compensation(record.name))
}

async fn list(
    State(hr): State<HrState>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, Denied> {
    let caller = admit(&method, &headers)?;
    let employees: Vec<Value> = hr
        .records
        .iter()
        .map(|record| record_json(caller, record))
        .collect();
    Ok(axum::Json(json!({ "employees": employees })).into_response())
}

async fn one(
    State(hr): State<HrState>,
    method: Method,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Denied> {
    let caller = admit(&method, &headers)?;
    let record = id
        .parse::<u32>()
        .ok()
        .and_then(|id| hr.records.iter().find(|record| record.id == id));
    Ok(match record {
        Some(record) => axum::Json(record_json(caller, record)).into_response(),
        None => json_error(StatusCode::NOT_FOUND, "no such employee"),
    })
}

async fn not_found() -> Response {
    json_error(StatusCode::NOT_FOUND, "not found")
}
