//! Issue 15, GraphQL per identity, end to end: the demo Site's `POST /graphql` (a schema per
//! role, `Flaw::GraphqlPayFields`), introspected and queried as every identity over real
//! HTTP on 127.0.0.1, with the Site's own counters of what reached the endpoint.

use lowpriv::graphql::IntrospectionState;
use lowpriv::{RunResult, Verdict};
use lowpriv_demo::{DemoConfig, DemoStats, USERS};

use crate::common::*;

fn demo(
    config: DemoConfig,
    adjust: impl FnOnce(&mut lowpriv::scenario::Scenario),
) -> (RunResult, DemoStats) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (result, stats) = runtime
        .block_on(lowpriv_demo::run_with(config, adjust, &fixed_day()))
        .unwrap();
    assert_eq!(
        (
            stats.logout_hits,
            stats.delete_hits,
            stats.foreign_credentials
        ),
        (0, 0, 0)
    );
    (result, stats)
}

fn state(result: &RunResult, identity: &str) -> IntrospectionState {
    result
        .graphql
        .introspection
        .iter()
        .find(|i| i.identity == identity)
        .map(|i| i.state)
        .unwrap_or_else(|| panic!("no introspection for {identity}"))
}

/// The observation of `identity` on the generated query of `field`.
fn cell<'a>(
    result: &'a RunResult,
    identity: &str,
    field: &str,
) -> &'a lowpriv::observe::Observation {
    let template = format!("/graphql?query.{field}={{query.{field}}}");
    result
        .observations
        .iter()
        .find(|o| o.identity == identity && o.template == template && o.method == "POST")
        .unwrap_or_else(|| panic!("no {identity} cell on {template}"))
}

/// What the endpoint received: one introspection per identity whose login held, one query
/// per generated field and identity, never a mutation; and nothing else POSTed there.
fn assert_only_queries_reached_the_endpoint(result: &RunResult, stats: &DemoStats) {
    let queries: u64 = result
        .graphql
        .queries
        .iter()
        .map(|q| q.answers.len() as u64)
        .sum();
    assert_eq!(
        stats.graphql_mutations, 0,
        "no mutation was sent: {stats:?}"
    );
    assert_eq!(stats.graphql_introspections, 5, "{stats:?}");
    assert_eq!(stats.graphql_queries, queries, "{stats:?}");
    assert_eq!(
        stats.graphql_posts,
        stats.graphql_introspections + stats.graphql_queries,
        "{stats:?}"
    );
    for query in &result.graphql.queries {
        assert!(query.document.starts_with("query {"), "{}", query.document);
    }
}

#[test]
fn graphql_schema_diff_and_the_pay_field_flaw_are_reported() {
    let (result, stats) = demo(demo_config(false), |_| {});
    let graphql = &result.graphql;
    assert_eq!(graphql.endpoint.as_deref(), Some("/graphql"));
    // Who could introspect: the payroll team; staff and anonymous are refused.
    assert_eq!(state(&result, "anonymous"), IntrospectionState::Refused);
    assert_eq!(state(&result, "dave"), IntrospectionState::Refused);
    for identity in ["carol", "bob", "alice"] {
        assert_eq!(state(&result, identity), IntrospectionState::Schema);
    }

    // The schema diff between bob (HR) and carol (an employee), in that direction only.
    let bob_over_carol = graphql
        .diff
        .iter()
        .find(|d| d.identity == "bob" && d.other == "carol")
        .expect("bob's schema has what carol's has not");
    for element in [
        "type Compensation",
        "field Employee.salary",
        "field Query.payroll",
        "root mutation",
    ] {
        assert!(
            bob_over_carol
                .only_in_identity
                .contains(&element.to_string()),
            "{element} in {bob_over_carol:?}"
        );
    }
    assert!(
        !graphql
            .diff
            .iter()
            .any(|d| d.identity == "carol" || (d.identity == "alice" && d.other == "bob")),
        "carol's schema is not wider than anyone's, alice's is bob's: {:?}",
        graphql.diff
    );
    // The plain diff (the more privileged sees more) is not a finding.
    assert!(
        !result
            .findings
            .iter()
            .any(|f| f.kind.as_str() == "graphql-schema-wider"),
        "{:#?}",
        result.findings
    );

    // The generated queries: every root query field, and never a mutation's.
    let fields: Vec<&str> = graphql.queries.iter().map(|q| q.field.as_str()).collect();
    assert_eq!(fields, ["employee", "employees", "payroll", "projects"]);
    assert!(!fields.contains(&"raiseSalary"));
    let employee = &graphql.queries[0];
    assert!(
        employee.document.contains("employee(id: \"1\")"),
        "filled from an id an answer showed: {}",
        employee.document
    );
    assert!(graphql.not_queried.is_empty(), "{:?}", graphql.not_queried);

    // The field-level flaw: carol's schema has no salary, the resolver gave it anyway. The
    // cell was really observed: allowed, with the class in it, judged by the data rule.
    for field in ["employees", "employee"] {
        let carol = cell(&result, "carol", field);
        assert_eq!(carol.outcome, lowpriv::observe::Outcome::Allowed);
        assert!(carol.data.contains_key("salary"), "{carol:?}");
        assert!(carol.shown, "carol's own schema has the field");
        let template = format!("/graphql?query.{field}={{query.{field}}}");
        assert!(
            has_finding_in(&result, "data-exposure", "carol", &template),
            "data-exposure for carol on {template}: {:#?}",
            result.findings
        );
    }
    // The same shape where it is correct: payroll is refused to carol by validation, and bob
    // sees salary there as the rule allows.
    assert!(
        !cell(&result, "carol", "payroll")
            .data
            .contains_key("salary")
    );
    assert!(cell(&result, "bob", "payroll").data.contains_key("salary"));
    assert!(!has_finding_in(
        &result,
        "data-exposure",
        "bob",
        "/graphql?query.employees={query.employees}"
    ));
    assert_eq!(result.summary.verdict, Verdict::Fail);
    assert_only_queries_reached_the_endpoint(&result, &stats);

    // Secrets: no password or token of any demo account reaches a report.
    let json = serde_json::to_string(&result).unwrap();
    let terminal = lowpriv::report::terminal::render(
        &result,
        lowpriv::report::terminal::Style { color: false },
    );
    let markdown = lowpriv::report::markdown::render(&result);
    assert!(terminal.contains("GraphQL · POST /graphql"), "{terminal}");
    assert!(terminal.contains("bob has, carol has not"), "{terminal}");
    assert!(markdown.contains("### GraphQL"), "{markdown}");
    for text in [&json, &terminal, &markdown] {
        for user in USERS.iter() {
            assert!(!text.contains(user.password), "{} leaked", user.name);
            assert!(!text.contains(user.token), "{}'s token leaked", user.name);
        }
    }
}

fn has_finding_in(result: &RunResult, kind: &str, identity: &str, template: &str) -> bool {
    result.findings.iter().any(|f| {
        f.kind.as_str() == kind
            && f.identity.as_deref() == Some(identity)
            && f.template.as_deref() == Some(template)
    })
}

#[test]
fn graphql_fixed_is_silent_over_rows_it_really_observed() {
    let (result, stats) = demo(demo_config(true), |_| {});
    assert_eq!(
        result.summary.verdict,
        Verdict::Pass,
        "{:#?}",
        result.findings
    );
    let on_graphql: Vec<_> = result
        .findings
        .iter()
        .filter(|f| {
            f.template
                .as_deref()
                .is_some_and(|t| t.starts_with("/graphql"))
        })
        .collect();
    assert!(on_graphql.is_empty(), "{on_graphql:#?}");
    // Observed: bob's and alice's answers carry salary; carol's query was rejected.
    for field in ["employees", "employee", "payroll"] {
        for identity in ["bob", "alice"] {
            let seen = cell(&result, identity, field);
            assert_eq!(seen.outcome, lowpriv::observe::Outcome::Allowed);
            assert!(seen.data.contains_key("salary"), "{seen:?}");
        }
        assert!(!cell(&result, "carol", field).data.contains_key("salary"));
        assert!(cell(&result, "dave", field).outcome.is_refused());
        assert!(cell(&result, "anonymous", field).outcome.is_refused());
    }
    let carol = result.graphql.queries[1]
        .answers
        .iter()
        .find(|a| a.identity == "carol")
        .unwrap();
    assert_eq!(carol.answer, "errors");
    // Errors and no data is a refused cell, with the endpoint's reason, not an empty allow.
    let payroll = cell(&result, "carol", "payroll");
    assert_eq!(
        payroll.outcome,
        lowpriv::observe::Outcome::Denied,
        "{payroll:?}"
    );
    assert!(
        payroll.reason.starts_with("GraphQL errors and no data"),
        "{payroll:?}"
    );
    assert_eq!(
        payroll.found.as_ref().map(|f| f.via),
        Some(lowpriv::crawl::Via::Graphql)
    );
    assert_only_queries_reached_the_endpoint(&result, &stats);
}

#[test]
fn graphql_introspection_disabled_is_reported_not_an_error() {
    let mut config = demo_config(true);
    config.graphql_introspection = false;
    let (result, stats) = demo(config, |_| {});
    for identity in ["carol", "bob", "alice"] {
        assert_eq!(state(&result, identity), IntrospectionState::Disabled);
    }
    let bob = &result.graphql.introspection[3];
    assert_eq!(bob.reason, "GraphQL introspection is not allowed");
    assert!(result.graphql.failures.is_empty());
    assert!(result.graphql.queries.is_empty());
    // Not inconclusive on its account: the fixed Site passes.
    assert_eq!(
        result.summary.verdict,
        Verdict::Pass,
        "{:?}",
        result.summary.reasons
    );
    assert_eq!(stats.graphql_introspections, 5);
    assert_eq!((stats.graphql_queries, stats.graphql_mutations), (0, 0));
    let terminal = lowpriv::report::terminal::render(
        &result,
        lowpriv::report::terminal::Style { color: false },
    );
    assert!(
        terminal.contains("bob: introspection disabled (GraphQL introspection is not allowed)"),
        "{terminal}"
    );
}

#[test]
fn graphql_endpoint_that_fails_makes_the_run_inconclusive() {
    let (result, stats) = demo(demo_config(true), |scenario| {
        scenario.crawl.graphql = Some("/_bad/graphql-500".to_string());
    });
    assert_eq!(state(&result, "carol"), IntrospectionState::Error);
    assert_eq!(
        result.summary.verdict,
        Verdict::Inconclusive,
        "{:?}",
        result.summary.reasons
    );
    assert!(
        result
            .graphql
            .failures
            .iter()
            .any(|f| f.contains("introspection as `carol`")),
        "{:?}",
        result.graphql.failures
    );
    // The 500 was really answered to each identity's one POST, and nothing more was sent.
    assert_eq!(stats.graphql_posts, 5, "{stats:?}");
}

#[test]
fn graphql_without_the_opt_in_posts_nothing_there() {
    let (result, stats) = demo(demo_config(true), |scenario| {
        scenario.crawl.graphql = None;
    });
    assert_eq!(stats.graphql_posts, 0, "{stats:?}");
    assert!(result.graphql.is_off());
    assert!(
        !result
            .observations
            .iter()
            .any(|o| o.url.contains("/graphql")),
        "no GraphQL row without the opt-in"
    );
    let json = serde_json::to_value(&result).unwrap();
    assert!(json.get("graphql").is_none());
    assert_eq!(result.summary.verdict, Verdict::Pass);
}
