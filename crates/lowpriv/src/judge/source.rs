//! Source-derived expectations: an identity may see on the Site what its own probes of the
//! data's `[[source]]` returned (`source-bypass`), unless a declared `visible_to` rule speaks
//! for the class.

use super::Evidence;
use super::context::Context;
use super::finding::Finding;

/// What the sources say: findings, and why part of it is unknown.
#[derive(Default)]
pub(super) struct Sourced {
    pub findings: Vec<Finding>,
    pub incomplete: Vec<String>,
}

pub(super) fn check(_ctx: &Context<'_>, _evidence: &Evidence<'_>) -> Sourced {
    Sourced::default()
}
