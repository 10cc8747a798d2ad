//! The checks the scenario declares: `[[expect]]` access rules (`rule-violation`), data
//! rules (`data-exposure`), the Site's audience (`audience-leak`) and canaries that belong to
//! someone (`cross-identity-data`). Each takes one allowed observation and says what it
//! breaks; together they decide whether the heuristics may speak at all.

use super::context::{Context, DataVerdict, is_secret};
use super::finding::{Finding, FindingKind};
use crate::observe::Observation;
use crate::scenario::{DataKind, ExpectRule, Identity};

/// `rule-violation`: every access rule covering the path must admit the identity (rules are
/// constraints, not alternatives).
pub(crate) fn access(ctx: &Context, obs: &Observation, identity: &Identity) -> Vec<Finding> {
    let path = obs.path();
    ctx.access_rules()
        .filter(|rule| rule.covers(path) && !rule.expect.admits(identity))
        .map(|rule| {
            let mut finding = Finding::at(
                FindingKind::RuleViolation,
                obs,
                format!(
                    "{} is not admitted by the rule for {} but got {}",
                    identity.name,
                    rule.expect.paths.join(", "),
                    obs.reason
                ),
            );
            finding.rule = Some(rule.location.clone());
            finding.data = obs.data.keys().cloned().collect();
            finding
        })
        .collect()
}

/// `audience-leak`: an identity outside the Site's audience got a non-public answer.
pub(crate) fn audience(ctx: &Context, obs: &Observation, identity: &Identity) -> Vec<Finding> {
    let audience = ctx.scenario.site.audience;
    // robots.txt is written for every crawler there is (RFC 9309 has it fetched without
    // credentials), so anyone reading it is no leak; what it names is judged where it leads.
    let for_crawlers = obs.path() == "/robots.txt";
    if audience.admits(identity.tier) || ctx.public.is_match(obs.path()) || for_crawlers {
        return Vec::new();
    }
    let mut finding = Finding::at(
        FindingKind::AudienceLeak,
        obs,
        format!(
            "{} ({} tier) is outside the Site's audience `{}` but got {}",
            identity.name, identity.tier, audience, obs.reason
        ),
    );
    finding.data = obs.data.keys().cloned().collect();
    vec![finding]
}

/// `data-exposure`: a data rule's class seen by an identity it does not admit.
pub(crate) fn data(ctx: &Context, obs: &Observation, identity: &Identity) -> Vec<Finding> {
    let path = obs.path();
    let mut findings = Vec::new();
    for rule in &ctx.rules {
        let ExpectRule::Data { data, visible_to } = &rule.expect.rule else {
            continue;
        };
        // A secret's data rule is judged where secrets are, on every answer, as a
        // `secret-exposed`: never also a `data-exposure`.
        if ctx.class(data).is_some_and(is_secret) {
            continue;
        }
        // A canary's owner may always see it; the rule speaks of everyone else.
        let owner = ctx
            .scenario
            .data
            .iter()
            .find(|c| c.name == *data)
            .and_then(|c| c.belongs_to.as_deref());
        if !obs.data.contains_key(data)
            || !rule.covers(path)
            || owner == Some(identity.name.as_str())
            || visible_to.iter().any(|p| p.matches(identity))
        {
            continue;
        }
        let mut finding = Finding::at(
            FindingKind::DataExposure,
            obs,
            format!(
                "{} sees `{data}` ({}), which is visible only to {}",
                identity.name,
                obs.data[data].examples.join(", "),
                visible_to
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        finding.rule = Some(rule.location.clone());
        finding.data = vec![data.clone()];
        findings.push(finding);
    }
    findings
}

/// `cross-identity-data`: a canary that belongs to someone else, unless a data rule covering
/// the path admits the identity (a rule that does not admit it adds its `data-exposure`).
pub(crate) fn canaries(ctx: &Context, obs: &Observation, identity: &Identity) -> Vec<Finding> {
    let path = obs.path();
    let mut findings = Vec::new();
    for class in &ctx.scenario.data {
        let (DataKind::Text(_), Some(owner)) = (&class.kind, &class.belongs_to) else {
            continue;
        };
        if *owner == identity.name || !obs.data.contains_key(&class.name) {
            continue;
        }
        if matches!(
            ctx.data_verdict(&class.name, path, identity),
            DataVerdict::Admitted
        ) {
            continue;
        }
        let mut finding = Finding::at(
            FindingKind::CrossIdentityData,
            obs,
            format!(
                "{} sees the canary `{}` that belongs to {owner}",
                identity.name, class.name
            ),
        );
        finding.data = vec![class.name.clone()];
        findings.push(finding);
    }
    findings
}
