//! `secret-exposed`: a runtime secret's value, a secret-bearing builtin or a secret pattern
//! in any answer. Raised on every outcome but `skipped`: a secret in a refused or cut-off
//! body has left the Site all the same.

use super::finding::{Finding, FindingKind};
use crate::observe::Observation;
use crate::scenario::{DataKind, Scenario};

pub(crate) fn check(scenario: &Scenario, obs: &Observation) -> Vec<Finding> {
    let mut findings = Vec::new();
    for class in &scenario.data {
        let Some(hit) = obs.data.get(&class.name) else {
            continue;
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
        finding.data = vec![class.name.clone()];
        findings.push(finding);
    }
    findings
}
