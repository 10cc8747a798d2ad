//! `secret-exposed`: a runtime secret's value, a secret-bearing builtin or a secret pattern
//! in any answer. Raised on every outcome but `skipped`: a secret in a refused or cut-off
//! body has left the Site all the same.
//!
//! The secret builtins a scenario does not declare run anyway, under their own id as the
//! class name ([`Scenario::default_secrets`]); the classifier has already dropped their hits
//! where a declared class matched the same text, so one value is one finding. A declared
//! class with a data rule (`visible_to`) is judged by it: an admitted identity gets nothing,
//! any other the finding, naming the rule. Without one a secret must never appear.
//!
//! [`Scenario::default_secrets`]: crate::scenario::Scenario::default_secrets

use super::context::{Context, DataVerdict, Rule, is_secret};
use super::finding::{Finding, FindingKind};
use crate::observe::Observation;
use crate::scenario::{DataKind, ExpectRule, Identity};

pub(crate) fn check(ctx: &Context, obs: &Observation, identity: &Identity) -> Vec<Finding> {
    let scenario = ctx.scenario;
    let mut findings = Vec::new();
    // Which classes are secrets is `is_secret`'s to say; this only words them.
    let declared = scenario.data.iter().filter(|c| is_secret(c)).map(|class| {
        let what = match &class.kind {
            DataKind::Env { var, .. } => format!("the value of ${var} (`{}`)", class.name),
            DataKind::Builtin(b) => format!("a {} (`{}`)", b.as_str(), class.name),
            _ => format!("a match of the secret pattern `{}`", class.name),
        };
        (class.name.as_str(), what)
    });
    let defaults = scenario
        .default_secrets()
        .into_iter()
        .map(|b| (b.as_str(), format!("a {} (on by default)", b.as_str())));
    for (name, what) in declared.chain(defaults) {
        let Some(hit) = obs.data.get(name) else {
            continue;
        };
        let refused_by = match ctx.data_verdict(name, obs.path(), identity) {
            DataVerdict::Admitted => continue,
            DataVerdict::Refused(rule) => Some(rule),
            DataVerdict::Undeclared => None,
        };
        let mut finding = Finding::at(
            FindingKind::SecretExposed,
            obs,
            format!(
                "{what} appears {} time(s) in what {} got ({})",
                hit.count,
                obs.identity,
                obs.outcome.as_str()
            ),
        );
        if let Some(rule) = refused_by {
            finding.detail.push_str(&format!(
                "; its data rule admits only {}",
                visible_list(rule)
            ));
            finding.rule = Some(rule.location.clone());
        }
        finding.data = vec![name.to_string()];
        findings.push(finding);
    }
    findings
}

fn visible_list(rule: &Rule) -> String {
    match &rule.expect.rule {
        ExpectRule::Data { visible_to, .. } => visible_to
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        ExpectRule::Access { .. } | ExpectRule::Actions { .. } => String::new(),
    }
}
