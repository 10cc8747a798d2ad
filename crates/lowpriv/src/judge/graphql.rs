//! `graphql-schema-wider`: a less privileged identity is told about more of the GraphQL API
//! than a more privileged one, and what the GraphQL endpoint's failures hid.
//!
//! Input: the [`GraphqlReport`] (its schema diff, every ordered pair) and the privilege order
//! (`privilege.rs`). Output: findings and incomplete reasons. Invariants: only between
//! identities where one includes the other, as `inverted-privilege`; the plain diff (a more
//! privileged identity sees more) is reported, never judged; introspection turned off is not
//! a failure, an endpoint that answered 5xx or nothing is.

use super::context::Context;
use super::finding::{Finding, FindingKind};
use crate::graphql::GraphqlReport;

pub(crate) fn check(ctx: &Context, report: &GraphqlReport) -> Vec<Finding> {
    let Some(endpoint) = &report.endpoint else {
        return Vec::new();
    };
    let url = ctx
        .scenario
        .site
        .base_url
        .join(endpoint)
        .map(|u| u.to_string())
        .ok();
    report
        .diff
        .iter()
        .filter_map(|difference| {
            let why = ctx
                .order
                .includes(&difference.other, &difference.identity)?;
            let shown: Vec<&str> = difference
                .only_in_identity
                .iter()
                .take(5)
                .map(String::as_str)
                .collect();
            let more = difference.only_in_identity.len().saturating_sub(shown.len());
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            Some(Finding {
                identity: Some(difference.identity.clone()),
                method: Some("POST".to_string()),
                url: url.clone(),
                template: Some(endpoint.clone()),
                ..Finding::new(
                    FindingKind::GraphqlSchemaWider,
                    format!(
                        "{}'s GraphQL schema has what {}'s has not ({}{more}), though {} includes {} ({why})",
                        difference.identity,
                        difference.other,
                        shown.join(", "),
                        difference.other,
                        difference.identity
                    ),
                )
            })
        })
        .collect()
}

pub(crate) fn incomplete(report: &GraphqlReport) -> Vec<String> {
    report.failures.clone()
}
