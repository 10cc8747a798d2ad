//! Who includes whom: the order `inverted-privilege` is judged by.
//!
//! Privilege in real Sites is not a ladder: HR and the platform team each see what the other
//! does not, and a rank number that puts one above the other makes every one of those
//! differences an "inversion". So an identity is above another only where it really includes
//! it:
//!
//! - **Declared**: where any `[[identity]]` has `includes = [...]`, that (and its transitive
//!   closure) is the whole order; nothing is inferred.
//! - **Inferred** otherwise, from the run: A includes B when, of the requests B was allowed on
//!   that A also answered, A was allowed on at least [`INCLUDES_PERCENT`]% (and on at least
//!   [`INCLUDES_MIN_SHARED`] of them), and that share is higher than B's of A's. On equal
//!   shares the higher `rank` includes the lower: rank breaks a tie between two identities
//!   that each cover nearly all of the other, and never decides alone. Requests are counted
//!   by URL, so a corner of many URLs (a whole export) weighs as much as it is big.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::observe::{Observation, Outcome};
use crate::scenario::Scenario;

/// The share of B's allowed requests A must be allowed on to include B.
pub const INCLUDES_PERCENT: usize = 90;
/// Fewer shared allowed requests than this say nothing about an order.
pub const INCLUDES_MIN_SHARED: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Declared,
    Inferred,
}

#[derive(Clone, Debug)]
pub struct PrivilegeOrder {
    pub source: Source,
    /// identity → every identity it includes, with why, in words.
    includes: BTreeMap<String, BTreeMap<String, String>>,
}

impl PrivilegeOrder {
    /// Whether `higher` includes `lower`, and why.
    pub fn includes(&self, higher: &str, lower: &str) -> Option<&str> {
        self.includes
            .get(higher)
            .and_then(|below| below.get(lower))
            .map(String::as_str)
    }

    /// Every (higher, lower) pair, for `lowpriv check` and the docs.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.includes.iter().flat_map(|(higher, below)| {
            below
                .keys()
                .map(move |lower| (higher.as_str(), lower.as_str()))
        })
    }

    pub fn declared(scenario: &Scenario) -> Option<PrivilegeOrder> {
        if scenario.identities.iter().all(|i| i.includes.is_empty()) {
            return None;
        }
        let direct: HashMap<&str, &[String]> = scenario
            .identities
            .iter()
            .map(|i| (i.name.as_str(), i.includes.as_slice()))
            .collect();
        let mut includes = BTreeMap::new();
        for identity in &scenario.identities {
            // The transitive closure: bob includes carol, carol includes dave → bob includes dave.
            let mut reached = BTreeSet::new();
            let mut todo: Vec<&str> = identity.includes.iter().map(String::as_str).collect();
            while let Some(next) = todo.pop() {
                if next != identity.name && reached.insert(next.to_string()) {
                    todo.extend(
                        direct
                            .get(next)
                            .into_iter()
                            .flat_map(|n| n.iter())
                            .map(String::as_str),
                    );
                }
            }
            let why = reached
                .into_iter()
                .map(|lower| (lower, "declared with `includes`".to_string()))
                .collect();
            includes.insert(identity.name.clone(), why);
        }
        Some(PrivilegeOrder {
            source: Source::Declared,
            includes,
        })
    }

    /// The declared order, or else the one the run shows.
    pub fn of(scenario: &Scenario, observations: &[Observation]) -> PrivilegeOrder {
        PrivilegeOrder::declared(scenario).unwrap_or_else(|| infer(scenario, observations))
    }
}

/// What `lowpriv check` says about the order `inverted-privilege` will use.
pub fn describe(scenario: &Scenario) -> String {
    match PrivilegeOrder::declared(scenario) {
        Some(order) => {
            let pairs: Vec<String> = order
                .pairs()
                .map(|(higher, lower)| format!("{higher} includes {lower}"))
                .collect();
            format!(
                "privilege order: declared with `includes` ({}); inverted-privilege fires only between these",
                pairs.join(", ")
            )
        }
        None => format!(
            "privilege order: inferred from each run (no identity declares `includes`): A includes B when A is \
             allowed on at least {INCLUDES_PERCENT}% of the requests B is allowed on (at least \
             {INCLUDES_MIN_SHARED}), more than B is of A's; rank only breaks a tie"
        ),
    }
}

fn infer(scenario: &Scenario, observations: &[Observation]) -> PrivilegeOrder {
    // Per identity, every request it got an answer to, and whether that answer was allowed.
    let mut answers: HashMap<&str, HashMap<(&str, &str), bool>> = HashMap::new();
    for obs in observations {
        if matches!(obs.outcome, Outcome::Skipped | Outcome::Error) {
            continue;
        }
        answers.entry(obs.identity.as_str()).or_default().insert(
            (obs.method.as_str(), obs.url.as_str()),
            obs.outcome == Outcome::Allowed,
        );
    }
    let empty = HashMap::new();
    // (allowed for a among b's allowed requests a answered, how many those are)
    let cover = |a: &str, b: &str| -> (usize, usize) {
        let (of_a, of_b) = (
            answers.get(a).unwrap_or(&empty),
            answers.get(b).unwrap_or(&empty),
        );
        let shared: Vec<bool> = of_b
            .iter()
            .filter(|(_, allowed)| **allowed)
            .filter_map(|(request, _)| of_a.get(request).copied())
            .collect();
        (shared.iter().filter(|a| **a).count(), shared.len())
    };
    let mut includes: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for a in &scenario.identities {
        for b in &scenario.identities {
            if a.name == b.name {
                continue;
            }
            let (kept, shared) = cover(&a.name, &b.name);
            if shared < INCLUDES_MIN_SHARED || kept * 100 < INCLUDES_PERCENT * shared {
                continue;
            }
            let (back_kept, back_shared) = cover(&b.name, &a.name);
            // a's share of b's must beat b's share of a's (cross-multiplied, no floats); on
            // equal shares, the scenario's rank breaks the tie (never alone: both must first
            // cover nearly all of the other).
            let (ours, theirs) = (kept * back_shared, back_kept * shared);
            if back_shared > 0 && (ours < theirs || (ours == theirs && a.rank <= b.rank)) {
                continue;
            }
            let tie = if ours == theirs {
                format!(
                    ", as many as the other way round; {}'s rank is higher",
                    a.name
                )
            } else {
                String::new()
            };
            includes.entry(a.name.clone()).or_default().insert(
                b.name.clone(),
                format!(
                    "inferred: {} is allowed on {kept} of the {shared} requests {} is allowed on{tie}",
                    a.name, b.name
                ),
            );
        }
    }
    PrivilegeOrder {
        source: Source::Inferred,
        includes,
    }
}
