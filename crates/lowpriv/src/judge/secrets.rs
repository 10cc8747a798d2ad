//! `secret-exposed`: a runtime secret's value, a secret-bearing builtin or a secret pattern
//! in any answer. Raised on every outcome but `skipped`: a secret in a refused or cut-off
//! body has left the Site all the same.
//!
//! The secret builtins a scenario does not declare run anyway, under their own id as the
//! class name ([`Scenario::default_secrets`]); the classifier has already dropped their hits
//! where a declared class matched the same text, so one value is one finding.

use super::finding::{Finding, FindingKind};
use crate::observe::Observation;
use crate::scenario::{DataKind, Scenario};

pub(crate) fn check(scenario: &Scenario, obs: &Observation) -> Vec<Finding> {
    let mut findings = Vec::new();
    let declared = scenario.data.iter().filter_map(|class| {
        let what = match &class.kind {
            DataKind::Env { var, .. } => format!("the value of ${var} (`{}`)", class.name),
            DataKind::Builtin(b) if b.is_secret() => format!("a {} (`{}`)", b.as_str(), class.name),
            DataKind::Pattern { secret: true, .. } => {
                format!("a match of the secret pattern `{}`", class.name)
            }
            _ => return None,
        };
        Some((class.name.as_str(), what))
    });
    let defaults = scenario
        .default_secrets()
        .into_iter()
        .map(|b| (b.as_str(), format!("a {} (on by default)", b.as_str())));
    for (name, what) in declared.chain(defaults) {
        let Some(hit) = obs.data.get(name) else {
            continue;
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
        finding.data = vec![name.to_string()];
        findings.push(finding);
    }
    findings
}
