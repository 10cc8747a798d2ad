//! The run's health: whatever hid part of the matrix. A failed login, a session lost
//! mid-run, a crawl cut short, error cells (beyond the scenario's `error_budget_percent`, and
//! never on a path a rule covers), an access rule that matched no observed request, or a run
//! where nothing was allowed at all. Each becomes a finding and a reason the matrix is
//! incomplete; the verdict module turns any such reason into `inconclusive`.

use super::context::Context;
use super::finding::{Finding, FindingKind, Severity};
use super::{IdentityHealth, RunHealth};
use crate::observe::{Observation, Outcome};
use crate::session::LoginStatus;

/// Pushes the health findings and returns the reasons the matrix is incomplete, most
/// important first (the stopped run's reason is added by `evaluate`, ahead of these).
pub(crate) fn check(
    ctx: &Context,
    health: &RunHealth,
    observations: &[Observation],
    findings: &mut Vec<Finding>,
) -> Vec<String> {
    let mut incomplete = Vec::new();
    for (identity, h) in ctx.scenario.identities.iter().zip(&health.identities) {
        identity_health(&identity.name, h, findings, &mut incomplete);
    }
    let judged: Vec<&Observation> = observations
        .iter()
        .filter(|o| ctx.identities.contains_key(o.identity.as_str()))
        .collect();
    errors(ctx, &judged, observations, findings, &mut incomplete);
    for rule in ctx.access_rules() {
        let hits = judged
            .iter()
            .filter(|o| !matches!(o.outcome, Outcome::Skipped | Outcome::Error))
            .any(|o| rule.covers(o.path()));
        if hits {
            continue;
        }
        let mut finding = Finding::new(
            FindingKind::Inconclusive,
            format!(
                "the [[expect]] for {} matched no observed request: nothing was checked",
                rule.expect.paths.join(", ")
            ),
        );
        finding.rule = Some(rule.location.clone());
        findings.push(finding);
        incomplete.push(format!(
            "the [[expect]] at {} matched no observed request",
            rule.location
        ));
    }
    if !observations.iter().any(|o| o.outcome == Outcome::Allowed) {
        incomplete.push("no identity was allowed anything: nothing was observed".to_string());
    }
    incomplete
}

fn identity_health(
    name: &str,
    h: &IdentityHealth,
    findings: &mut Vec<Finding>,
    incomplete: &mut Vec<String>,
) {
    let mut push = |kind, detail: String, reason: String| {
        let mut finding = Finding::new(kind, detail);
        finding.identity = Some(name.to_string());
        findings.push(finding);
        incomplete.push(reason);
    };
    if let LoginStatus::Failed(why) = &h.login {
        push(
            FindingKind::LoginFailed,
            format!("identity `{name}` could not log in: {why}"),
            format!("identity `{name}` could not log in"),
        );
    }
    if let Some(why) = &h.lost {
        push(
            FindingKind::Inconclusive,
            format!("the session of `{name}` was lost mid-run: {why}"),
            format!("the session of `{name}` was lost mid-run"),
        );
    }
    if let Some(why) = &h.truncated {
        push(
            FindingKind::Inconclusive,
            format!("the crawl as `{name}` was cut short: {why}"),
            format!("the crawl as `{name}` was cut short: {why}"),
        );
    }
}

/// Error cells: an error on a path a rule speaks of hides that rule's answer and is never
/// tolerated; elsewhere a scenario may tolerate a small share (`error_budget_percent`), as
/// `info` findings.
fn errors(
    ctx: &Context,
    judged: &[&Observation],
    observations: &[Observation],
    findings: &mut Vec<Finding>,
    incomplete: &mut Vec<String>,
) {
    let errors: Vec<&Observation> = judged
        .iter()
        .copied()
        .filter(|o| o.outcome == Outcome::Error)
        .collect();
    if errors.is_empty() {
        return;
    }
    let judged_cells = observations
        .iter()
        .filter(|o| o.outcome != Outcome::Skipped)
        .count()
        .max(1);
    let on_rules = errors.iter().filter(|obs| ctx.covered(obs.path())).count();
    let budget = ctx.scenario.crawl.error_budget_percent as usize;
    let tolerated = on_rules == 0 && errors.len() * 100 <= budget * judged_cells;
    for obs in &errors {
        let mut finding = Finding::at(
            FindingKind::Inconclusive,
            obs,
            if tolerated {
                format!(
                    "no answer to judge: {} (tolerated by error_budget_percent = {budget})",
                    obs.reason
                )
            } else {
                format!("no answer to judge: {}", obs.reason)
            },
        );
        if tolerated {
            finding.severity = Severity::Info;
        }
        findings.push(finding);
    }
    if tolerated {
        return;
    }
    incomplete.push(if on_rules > 0 {
        format!(
            "{} request(s) ended in error, {on_rules} of them on paths an [[expect]] rule covers, \
             so part of the matrix is unknown",
            errors.len()
        )
    } else {
        format!(
            "{} request(s) ended in error ({}% of {judged_cells} cells; error_budget_percent = {budget}), \
             so part of the matrix is unknown",
            errors.len(),
            errors.len() * 100 / judged_cells
        )
    });
}
