//! GraphQL per identity (`[crawl] graphql = "/graphql"`, opt-in): the schema each identity is
//! told about, how those schemas differ, and generated read-only queries as every identity.
//!
//! Input: the sessions and the scenario. Output: a [`GraphqlLog`]: the [`GraphqlReport`]
//! (per identity whether introspection worked, the schema diff, each generated query and
//! what became of each field not queried) and, per identity in session order, the
//! observations of the generated queries, which join the matrix beside the replay's.
//!
//! Invariants: nothing is sent without the opt-in, and then only to that one path on the
//! Site's origin ([`Session::post_graphql`] takes no URL); every document sent is one this
//! module wrote: the introspection query, or a `query` of one root *query* field, never a
//! mutation or a subscription; every generated query is sent as every usable identity (its
//! own replay), so the answers are judged like any other cell; introspection turned off is
//! reported, never an error; an endpoint that fails (5xx, no answer) is a reason the run is
//! incomplete; the order of everything reported is stable at any concurrency.
//!
//! A generated query's row is `POST <endpoint>?query.<field>=`: the field names the URL's
//! query key, so `scope::template` keeps one template per field (`/graphql?query.employees=
//! {query.employees}`) without any change to how templates are derived, while the path stays
//! the endpoint's, so path rules and `visible_to` rules speak for it as they would for a GET.
//! What is really sent is a POST to the endpoint itself, with the document as the body.

pub mod query;
pub mod schema;

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::StreamExt;
use serde::Serialize;
use url::Url;

use crate::crawl::{Observe, Request, Via};
use crate::scenario::Scenario;
use crate::session::{Answer, Failure, FetchError, Refusal, Response, Session, interpret};
use schema::{Introspected, Schema};

/// What one identity's introspection was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IntrospectionState {
    /// A schema came back.
    Schema,
    /// `errors` and no schema: introspection is turned off (for this identity).
    Disabled,
    /// 401/403, the login page, a deny marker: this identity may not use the endpoint.
    Refused,
    /// 5xx, no answer, or an answer that is not an introspection result.
    Error,
    /// The identity's login failed, or the run was stopped first.
    NotSent,
}

impl IntrospectionState {
    pub fn as_str(self) -> &'static str {
        match self {
            IntrospectionState::Schema => "schema",
            IntrospectionState::Disabled => "introspection disabled",
            IntrospectionState::Refused => "refused",
            IntrospectionState::Error => "error",
            IntrospectionState::NotSent => "not sent",
        }
    }
}

/// One identity's introspection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Introspection {
    pub identity: String,
    pub state: IntrospectionState,
    pub status: Option<u16>,
    /// Why this state, in a few words (the Site's error message when disabled).
    pub reason: String,
    /// Object types (introspection's own left out) and their fields, when a schema came back.
    pub types: usize,
    pub fields: usize,
}

/// What one identity's schema has that another's has not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SchemaDifference {
    /// Sees the elements.
    pub identity: String,
    /// Does not.
    pub other: String,
    /// `type Compensation`, `field Employee.salary`, `root mutation`; sorted.
    pub only_in_identity: Vec<String>,
}

/// One identity's answer to a generated query.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QueryAnswer {
    pub identity: String,
    pub status: Option<u16>,
    /// `data` (some data came back), `errors` (only GraphQL errors), `refused` or `error`.
    pub answer: &'static str,
    /// The first GraphQL error's message, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One generated query and how every identity was answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GeneratedQuery {
    /// The root query field.
    pub field: String,
    /// The document sent (`query { employees { id name } }`).
    pub document: String,
    /// The row's URL in the matrix (`.../graphql?query.employees=`).
    pub url: String,
    pub template: String,
    /// Where the request was found: always `graphql`.
    pub via: &'static str,
    /// Identities whose own schema has the field: it was shown to them.
    pub shown_to: Vec<String>,
    /// In session order.
    pub answers: Vec<QueryAnswer>,
}

/// A root query field that was not queried, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotQueried {
    pub field: String,
    pub reason: String,
}

/// The `graphql` section of the run's result.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GraphqlReport {
    /// The endpoint's path; `None` when the scenario did not opt in (nothing was sent).
    pub endpoint: Option<String>,
    /// In session order.
    pub introspection: Vec<Introspection>,
    /// Every ordered pair of identities whose schemas differ, by identity then other in
    /// session order. Whether a difference is a finding is the judge's to say (privilege).
    pub diff: Vec<SchemaDifference>,
    /// By field name.
    pub queries: Vec<GeneratedQuery>,
    pub not_queried: Vec<NotQueried>,
    /// Why part of the API went unobserved (the endpoint answered 5xx or not at all).
    pub failures: Vec<String>,
}

impl GraphqlReport {
    /// The scenario did not opt in: nothing was sent, nothing to report.
    pub fn is_off(&self) -> bool {
        self.endpoint.is_none()
    }
}

/// The stage's output: the report, and the observations of the generated queries per
/// identity in session order.
#[derive(Debug)]
pub struct GraphqlLog<O> {
    pub report: GraphqlReport,
    pub observations: Vec<Vec<(Request, O)>>,
}

/// Introspects as every identity, diffs the schemas, and sends every generated query as
/// every usable identity. Without `[crawl] graphql`, sends nothing.
pub async fn run<O: Observe>(
    sessions: &[Arc<Session>],
    scenario: &Scenario,
    observer: Arc<O>,
) -> GraphqlLog<O::Output> {
    let empty = || GraphqlLog {
        report: GraphqlReport::default(),
        observations: sessions.iter().map(|_| Vec::new()).collect(),
    };
    let Some(endpoint) = sessions.first().and_then(|s| s.site.graphql.clone()) else {
        return empty();
    };
    let mut report = GraphqlReport {
        endpoint: scenario.crawl.graphql.clone(),
        ..GraphqlReport::default()
    };
    let concurrency = scenario.crawl.concurrency.max(1);

    // 1. Introspection, as every identity.
    let answers = futures::future::join_all(sessions.iter().map(|session| async move {
        if !session.status.is_usable() {
            return None;
        }
        Some(session.post_graphql(schema::INTROSPECTION_QUERY).await)
    }))
    .await;
    let mut schemas: Vec<Option<Schema>> = Vec::new();
    for (session, answer) in sessions.iter().zip(answers) {
        let (introspection, schema) = introspection(session, answer.as_ref());
        if introspection.state == IntrospectionState::Error {
            report.failures.push(format!(
                "graphql: the introspection as `{}` got no usable answer ({})",
                introspection.identity, introspection.reason
            ));
        }
        report.introspection.push(introspection);
        schemas.push(schema);
    }

    // 2. The diff, every ordered pair.
    for (a, schema_a) in sessions.iter().zip(&schemas) {
        for (b, schema_b) in sessions.iter().zip(&schemas) {
            let (Some(schema_a), Some(schema_b)) = (schema_a, schema_b) else {
                continue;
            };
            if a.identity.name == b.identity.name {
                continue;
            }
            let only: Vec<String> = schema_a
                .elements()
                .difference(&schema_b.elements())
                .cloned()
                .collect();
            if !only.is_empty() {
                report.diff.push(SchemaDifference {
                    identity: a.identity.name.clone(),
                    other: b.identity.name.clone(),
                    only_in_identity: only,
                });
            }
        }
    }

    // 3. Generated queries from the union of the schemas: a field hidden from one identity's
    // schema is still asked as that identity, which is how a resolver that forgot the check
    // the schema makes is found.
    let mut union = Schema::default();
    for schema in schemas.iter().flatten() {
        union.merge(schema);
    }
    let fields: Vec<(String, schema::Field)> = union
        .query_fields()
        .map(|(name, field)| (name.clone(), field.clone()))
        .collect();
    // Fields without a required argument go first; their answers' ids fill the others.
    let (free, bound): (Vec<_>, Vec<_>) = fields
        .into_iter()
        .partition(|(_, f)| !f.args.iter().any(|(_, t)| t.is_required()));
    let mut observations: Vec<Vec<(Request, O::Output)>> =
        sessions.iter().map(|_| Vec::new()).collect();
    let mut ids = BTreeSet::new();
    for batch in [free, bound] {
        let mut planned = Vec::new();
        for (name, field) in batch {
            match query::plan(&union, &name, &field, &ids) {
                query::Plan::Query(document) => planned.push((name, document)),
                query::Plan::NotQueried(reason) => report.not_queried.push(NotQueried {
                    field: name,
                    reason,
                }),
            }
        }
        let sent = send_all(
            sessions,
            &schemas,
            &endpoint,
            planned,
            observer.clone(),
            concurrency,
        )
        .await;
        for (query, per_identity, found) in sent {
            ids.extend(found);
            for (index, observed) in per_identity {
                if let Some(list) = observations.get_mut(index) {
                    list.push(observed);
                }
            }
            report.queries.push(query);
        }
    }
    report.queries.sort_by(|a, b| a.field.cmp(&b.field));
    report.not_queried.sort_by(|a, b| a.field.cmp(&b.field));
    let failed: Vec<String> = report
        .queries
        .iter()
        .filter(|q| q.answers.iter().any(|a| a.answer == "error"))
        .map(|q| q.field.clone())
        .collect();
    if !failed.is_empty() {
        report.failures.push(format!(
            "graphql: generated queries got no usable answer for some identity: {}",
            failed.join(", ")
        ));
    }
    GraphqlLog {
        report,
        observations,
    }
}

/// The matrix row of the generated query of `field`.
pub fn row_url(endpoint: &Url, field: &str) -> Url {
    let mut url = endpoint.clone();
    url.set_query(None);
    url.query_pairs_mut()
        .append_pair(&format!("query.{field}"), "");
    crate::crawl::scope::normalize(&url)
}

type Sent<O> = (GeneratedQuery, Vec<(usize, (Request, O))>, BTreeSet<String>);

/// Sends each planned query as every usable identity; results by field name.
async fn send_all<O: Observe>(
    sessions: &[Arc<Session>],
    schemas: &[Option<Schema>],
    endpoint: &Url,
    planned: Vec<(String, String)>,
    observer: Arc<O>,
    concurrency: usize,
) -> Vec<Sent<O::Output>> {
    let jobs: Vec<(usize, usize)> = (0..planned.len())
        .flat_map(|q| {
            sessions
                .iter()
                .enumerate()
                .filter(|(_, s)| s.status.is_usable())
                .map(move |(i, _)| (q, i))
        })
        .collect();
    let planned = &planned;
    let done = futures::stream::iter(jobs)
        .map(|(q, i)| {
            let observer = observer.clone();
            async move {
                let (field, document) = &planned[q];
                let session = &sessions[i];
                let request = Request {
                    method: "POST".to_string(),
                    url: row_url(endpoint, field),
                };
                let shown = schemas[i]
                    .as_ref()
                    .is_some_and(|s| s.query_fields().any(|(name, _)| name == field));
                let response = session.post_graphql(document).await;
                let (answer, found) = read_answer(session, &response);
                let observed = observer.observe(&session.identity, &request, &response, shown);
                (q, i, request, answer, found, observed, shown)
            }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await;
    let mut out: Vec<Sent<O::Output>> = planned
        .iter()
        .map(|(field, document)| {
            let url = row_url(endpoint, field);
            (
                GeneratedQuery {
                    field: field.clone(),
                    document: document.clone(),
                    template: crate::crawl::scope::template(&url),
                    url: url.to_string(),
                    via: Via::Graphql.as_str(),
                    shown_to: Vec::new(),
                    answers: Vec::new(),
                },
                Vec::new(),
                BTreeSet::new(),
            )
        })
        .collect();
    let mut done = done;
    // Session order within each query, whatever order the answers arrived in.
    done.sort_by_key(|(q, i, ..)| (*q, *i));
    for (q, i, request, answer, found, observed, shown) in done {
        let Some((query, per_identity, ids)) = out.get_mut(q) else {
            continue;
        };
        if shown {
            query.shown_to.push(sessions[i].identity.name.clone());
        }
        query.answers.push(answer);
        per_identity.push((i, (request, observed)));
        ids.extend(found);
    }
    out
}

/// What one answer to a generated query was, and the ids its data showed.
fn read_answer(
    session: &Session,
    response: &Result<Response, FetchError>,
) -> (QueryAnswer, BTreeSet<String>) {
    let mut answer = QueryAnswer {
        identity: session.identity.name.clone(),
        status: None,
        answer: "error",
        error: None,
    };
    let mut ids = BTreeSet::new();
    let response = match response {
        Ok(response) => response,
        Err(error) => {
            answer.error = Some(error.describe());
            return (answer, ids);
        }
    };
    answer.status = Some(response.status);
    let text = response.text();
    answer.answer = match interpret(response, &text, &session.site.deny_markers) {
        Answer::Content => {
            let body = serde_json::from_str::<serde_json::Value>(&text).ok();
            answer.error = body
                .as_ref()
                .and_then(|b| b.get("errors"))
                .and_then(serde_json::Value::as_array)
                .map(|errors| schema::first_message(errors));
            // `{"data": {"payroll": null}, "errors": [...]}` is how a field-level check
            // refuses: a root of nulls beside errors is no data.
            let refused_roots = |d: &serde_json::Value| {
                answer.error.is_some()
                    && d.as_object()
                        .is_some_and(|o| o.values().all(serde_json::Value::is_null))
            };
            let data = body
                .as_ref()
                .and_then(|b| b.get("data"))
                .filter(|d| !d.is_null() && !refused_roots(d));
            match data {
                Some(data) => {
                    query::ids_in(data, &mut ids);
                    "data"
                }
                None if answer.error.is_some() => "errors",
                None => "error",
            }
        }
        Answer::Refused(_) => "refused",
        // A GraphQL server answers a query it rejects with 400 and `errors`: that is an
        // answer, not a failure of the endpoint.
        Answer::Offsite(_) | Answer::Failed(_) => "error",
    };
    (answer, ids)
}

fn introspection(
    session: &Session,
    answer: Option<&Result<Response, FetchError>>,
) -> (Introspection, Option<Schema>) {
    let mut out = Introspection {
        identity: session.identity.name.clone(),
        state: IntrospectionState::NotSent,
        status: None,
        reason: String::new(),
        types: 0,
        fields: 0,
    };
    let response = match answer {
        None => {
            out.reason = "the identity's login failed".to_string();
            return (out, None);
        }
        Some(Err(FetchError::Stopped { reason })) => {
            out.reason = format!("the run was stopped: {reason}");
            return (out, None);
        }
        Some(Err(error)) => {
            out.state = IntrospectionState::Error;
            out.reason = error.describe();
            return (out, None);
        }
        Some(Ok(response)) => response,
    };
    out.status = Some(response.status);
    let text = response.text();
    let body = serde_json::from_str::<serde_json::Value>(&text).ok();
    match interpret(response, &text, &session.site.deny_markers) {
        Answer::Refused(refusal) => {
            // A server that turns introspection off may answer 400 with `errors`.
            if let Some(Introspected::Disabled(why)) = body.as_ref().map(schema::parse) {
                out.state = IntrospectionState::Disabled;
                out.reason = why;
            } else {
                out.state = IntrospectionState::Refused;
                out.reason = refused(&refusal);
            }
            return (out, None);
        }
        Answer::Offsite(target) => {
            out.state = IntrospectionState::Refused;
            out.reason = format!(
                "redirects to another origin ({}); not followed",
                target.origin().ascii_serialization()
            );
            return (out, None);
        }
        Answer::Failed(failure) => {
            out.state = IntrospectionState::Error;
            out.reason = failed(&failure);
            return (out, None);
        }
        Answer::Content => {}
    }
    let Some(body) = body else {
        out.state = IntrospectionState::Error;
        out.reason = "the answer is not JSON".to_string();
        return (out, None);
    };
    match schema::parse(&body) {
        Introspected::Schema(schema) => {
            out.state = IntrospectionState::Schema;
            out.types = schema.types.values().filter(|t| t.kind == "OBJECT").count();
            out.fields = schema.types.values().map(|t| t.fields.len()).sum();
            out.reason = format!("{}", response.status);
            (out, Some(schema))
        }
        Introspected::Disabled(why) => {
            out.state = IntrospectionState::Disabled;
            out.reason = why;
            (out, None)
        }
        Introspected::Unreadable(why) => {
            out.state = IntrospectionState::Error;
            out.reason = why;
            (out, None)
        }
    }
}

fn refused(refusal: &Refusal<'_>) -> String {
    match refusal {
        Refusal::LoginRedirect => "redirect to the login page".to_string(),
        Refusal::LoginPage => "answered with a login page".to_string(),
        Refusal::DenyMarker(marker) => format!("deny marker `{marker}`"),
        Refusal::Status(status) => format!("{status}"),
    }
}

fn failed(failure: &Failure) -> String {
    match failure {
        Failure::Throttled(status) => format!("{status}: the Site is throttling or slow"),
        Failure::ServerError(status) => format!("{status}: server error"),
        Failure::Unexpected(status) => format!("unexpected status {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_the_opt_in_nothing_is_posted_and_the_stage_sends_nothing() {
        let scenario = crate::scenario::parse(
            "[site]\nname = \"t\"\nbase_url = \"http://127.0.0.1:9\"\n\n[[identity]]\nname = \"anon\"\ntier = \"external\"\n",
            std::path::Path::new("t.toml"),
            &|_: &str| None,
        )
        .unwrap();
        let site = crate::session::SiteContext::new(&scenario, crate::stop::Stop::new());
        assert!(site.graphql.is_none());
        let session = Arc::new(Session::new(scenario.identities[0].clone(), site).unwrap());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let refused = runtime.block_on(session.post_graphql("query { x }"));
        assert!(
            matches!(refused, Err(FetchError::NotAllowed { .. })),
            "{refused:?}"
        );
        struct Nothing;
        impl Observe for Nothing {
            type Output = ();
            fn observe(
                &self,
                _: &crate::scenario::Identity,
                _: &Request,
                _: &Result<Response, FetchError>,
                _: bool,
            ) {
                panic!("nothing may be observed without the opt-in");
            }
        }
        let log = runtime.block_on(run(&[session], &scenario, Arc::new(Nothing)));
        assert!(log.report.is_off());
        assert_eq!(log.observations, vec![Vec::new()]);
    }

    #[test]
    fn each_field_is_its_own_row() {
        let endpoint = Url::parse("http://127.0.0.1:1/graphql").unwrap();
        let employees = row_url(&endpoint, "employees");
        let projects = row_url(&endpoint, "projects");
        assert_eq!(
            employees.as_str(),
            "http://127.0.0.1:1/graphql?query.employees="
        );
        assert_eq!(employees.path(), "/graphql");
        assert_eq!(
            crate::crawl::scope::template(&employees),
            "/graphql?query.employees={query.employees}"
        );
        assert_ne!(
            crate::crawl::scope::template(&employees),
            crate::crawl::scope::template(&projects)
        );
    }
}
