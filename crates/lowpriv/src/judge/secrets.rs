//! `secret-exposed`: a runtime secret's value, a secret-bearing builtin or a secret pattern
//! in any answer. Raised on every outcome but `skipped`: a secret in a refused or cut-off
//! body has left the Site all the same.

use super::context::{Context, DataVerdict};
use super::finding::{Finding, FindingKind};
use crate::observe::Observation;
use crate::scenario::{DataKind, Identity};

/// A secret with a data rule (`visible_to`) is judged by it: an admitted identity gets
/// nothing, any other the finding, naming the rule. Without one it must never appear.
pub(crate) fn check(ctx: &Context, obs: &Observation, identity: &Identity) -> Vec<Finding> {
    let mut findings = Vec::new();
    for class in &ctx.scenario.data {
        let Some(hit) = obs.data.get(&class.name) else {
            continue;
        };
        let refused_by = match ctx.data_verdict(&class.name, obs.path(), identity) {
            DataVerdict::Admitted => continue,
            DataVerdict::Refused(rule) => Some(rule),
            DataVerdict::Undeclared => None,
        };
        let what = match &class.kind {
            DataKind::Env { var, .. } => format!("the value of ${var} (`{}`)", class.name),
            DataKind::Builtin(b) if b.is_secret() => format!("a {} (`{}`)", b.as_str(), class.name),
            DataKind::Pattern { secret: true, .. } => {
                format!("a match of the secret pattern `{}`", class.name)
            }
            _ => continue,
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
        finding.data = vec![class.name.clone()];
        findings.push(finding);
    }
    findings
}

fn visible_list(rule: &super::context::Rule) -> String {
    match &rule.expect.rule {
        crate::scenario::ExpectRule::Data { visible_to, .. } => visible_to
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        crate::scenario::ExpectRule::Access { .. } => String::new(),
    }
}
