//! Judged actions: `[[expect]] actions = [...]` rules against the actions each identity was
//! shown (`action-exposure`, `forbidden-action`) and, when write probes ran, against who got
//! past an endpoint's authorization check (`unauthorized-write`).

use super::Evidence;
use super::context::Context;
use super::finding::Finding;

/// Findings about actions.
pub(super) fn check(_ctx: &Context<'_>, _evidence: &Evidence<'_>) -> Vec<Finding> {
    Vec::new()
}
