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

fn inverted_privilege(ctx: &Context, obs: &Observation, identity: &Identity) -> Option<Finding> {
    let higher = ctx
        .by_request
        .get(&(obs.method.as_str(), obs.url.as_str()))
        .into_iter()
        .flatten()
        .filter(|other| other.outcome.is_refused())
        .filter_map(|other| ctx.identities.get(other.identity.as_str()))
        .filter(|other| other.rank > identity.rank)
        .max_by_key(|other| other.rank)?;
    Some(Finding::at(
        FindingKind::InvertedPrivilege,
        obs,
        format!(
            "{} (rank {}) is allowed where {} (rank {}) is denied",
            identity.name, identity.rank, higher.name, higher.rank
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
