//! The checks nobody declared: `inverted-privilege` (allowed where a more privileged identity
//! is refused) and `unlinked-reachable` (reached without ever being shown the request, with
//! the same content another identity was shown). They are guesses, so they only run where
//! nothing declared speaks for the request (see `evaluate`).

use super::context::Context;
use super::finding::{Finding, FindingKind};
use crate::observe::Observation;
use crate::scenario::Identity;

/// The first heuristic that fires, if any: one guess per answer is enough to look at it.
pub(crate) fn check(ctx: &Context, obs: &Observation, identity: &Identity) -> Option<Finding> {
    inverted_privilege(ctx, obs, identity).or_else(|| unlinked_reachable(obs, identity))
}

/// Only between identities where one really includes the other (declared with `includes`,
/// or inferred from the run: see `privilege.rs`); a rank alone ranks nobody.
fn inverted_privilege(ctx: &Context, obs: &Observation, identity: &Identity) -> Option<Finding> {
    let (higher, why) = ctx
        .by_request
        .get(&(obs.method.as_str(), obs.url.as_str()))
        .into_iter()
        .flatten()
        .filter(|other| other.outcome.is_refused())
        .filter_map(|other| ctx.identities.get(other.identity.as_str()))
        .filter_map(|other| {
            ctx.order
                .includes(&other.name, &identity.name)
                .map(|why| (*other, why))
        })
        // The most privileged refused one is the sharpest sentence; names break ties.
        .max_by(|a, b| (a.0.rank, &b.0.name).cmp(&(b.0.rank, &a.0.name)))?;
    Some(Finding::at(
        FindingKind::InvertedPrivilege,
        obs,
        format!(
            "{} is allowed where {} is denied, though {} includes {} ({why})",
            identity.name, higher.name, higher.name, identity.name
        ),
    ))
}

fn unlinked_reachable(obs: &Observation, identity: &Identity) -> Option<Finding> {
    let (false, Some(higher)) = (obs.shown, &obs.same_as) else {
        return None;
    };
    Some(Finding::at(
        FindingKind::UnlinkedReachable,
        obs,
        format!(
            "{} was never shown this request but got the same content as {higher}",
            identity.name
        ),
    ))
}
