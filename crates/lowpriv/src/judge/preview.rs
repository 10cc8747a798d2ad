//! `--audience TIER`: who would join (or leave) the audience if the Site were shared that
//! widely, and what each of them reaches today beyond the public paths.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::observe::{Observation, Outcome};
use crate::scenario::{Identity, Scenario};

/// "If the audience widens to TIER": who would join (or leave) the audience, and what each
/// of them reaches today beyond the public paths.
#[derive(Clone, Debug, Serialize)]
pub struct AudiencePreview {
    pub from: crate::scenario::Audience,
    pub to: crate::scenario::Audience,
    pub joining: Vec<PreviewIdentity>,
    pub leaving: Vec<PreviewIdentity>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PreviewIdentity {
    pub name: String,
    pub tier: crate::scenario::Tier,
    /// Request templates it is allowed on (outside `public`), with the data classes seen.
    pub reaches: Vec<PreviewReach>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PreviewReach {
    pub method: String,
    pub template: String,
    pub data: Vec<String>,
}

pub fn audience_preview(
    scenario: &Scenario,
    observations: &[Observation],
    to: crate::scenario::Audience,
) -> AudiencePreview {
    let from = scenario.site.audience;
    let public = &scenario.site.public_globs;
    let describe = |identity: &Identity| {
        let mut reaches: BTreeMap<(String, String), std::collections::BTreeSet<String>> =
            BTreeMap::new();
        for obs in observations {
            if obs.identity == identity.name
                && obs.outcome == Outcome::Allowed
                && !public.is_match(obs.path())
            {
                reaches
                    .entry((obs.method.clone(), obs.template.clone()))
                    .or_default()
                    .extend(obs.data.keys().cloned());
            }
        }
        PreviewIdentity {
            name: identity.name.clone(),
            tier: identity.tier,
            reaches: reaches
                .into_iter()
                .map(|((method, template), data)| PreviewReach {
                    method,
                    template,
                    data: data.into_iter().collect(),
                })
                .collect(),
        }
    };
    let joining = scenario
        .identities
        .iter()
        .filter(|i| to.admits(i.tier) && !from.admits(i.tier))
        .map(describe)
        .collect();
    let leaving = scenario
        .identities
        .iter()
        .filter(|i| from.admits(i.tier) && !to.admits(i.tier))
        .map(describe)
        .collect();
    AudiencePreview {
        from,
        to,
        joining,
        leaving,
    }
}
