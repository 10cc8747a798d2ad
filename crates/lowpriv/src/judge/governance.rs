//! The Site's own metadata: `review-overdue` (the last review is older than the scenario's
//! `review_every_days`) and `site-expired` (past `expires` and still reachable beyond its
//! public paths).

use super::context::Context;
use super::finding::{Finding, FindingKind};
use crate::observe::{Observation, Outcome};

pub(crate) fn check(
    ctx: &Context,
    observations: &[Observation],
    today: jiff::civil::Date,
) -> Vec<Finding> {
    let site = &ctx.scenario.site;
    let mut findings = Vec::new();
    if let (Some(last), Some(due)) = (site.last_review, site.review_due())
        && due < today
    {
        findings.push(Finding::new(
            FindingKind::ReviewOverdue,
            format!("last reviewed {last}; a review was due by {due}"),
        ));
    }
    if let Some(expires) = site.expires
        && expires < today
    {
        let reachable = observations
            .iter()
            .any(|o| o.outcome == Outcome::Allowed && !ctx.public.is_match(o.path()));
        if reachable {
            findings.push(Finding::new(
                FindingKind::SiteExpired,
                format!("the Site expired on {expires} and is still reachable"),
            ));
        }
    }
    findings
}
