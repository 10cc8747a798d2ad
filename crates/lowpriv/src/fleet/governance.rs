//! Findings about a Site's metadata that a platform lead reads across the fleet: reviews,
//! expiry, owners (and owners who have left, from `--roster`), and an audience wider than the
//! data the Site serves allows.

use std::collections::BTreeSet;
use std::path::Path;

use super::discover::FleetError;
use super::model::{FleetFinding, FleetFindingKind};
use crate::RunResult;
use crate::judge::FindingKind;
use crate::observe::Outcome;
use crate::scenario::{Audience, ExpectRule, Principal, Scenario, Tier};

/// The people who are still here: one address per line (`#` comments and blank lines
/// ignored), compared without case.
#[derive(Clone, Debug, Default)]
pub struct Roster {
    addresses: BTreeSet<String>,
}

impl Roster {
    pub fn load(path: &Path) -> Result<Roster, FleetError> {
        let text = std::fs::read_to_string(path).map_err(|source| FleetError::Roster {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Roster::parse(&text))
    }

    pub fn parse(text: &str) -> Roster {
        let addresses = text
            .lines()
            .map(|line| line.split('#').next().unwrap_or("").trim().to_lowercase())
            .filter(|line| !line.is_empty())
            .collect();
        Roster { addresses }
    }

    pub fn holds(&self, owner: &str) -> bool {
        self.addresses.contains(&owner.trim().to_lowercase())
    }
}

fn finding(site: &str, kind: FleetFindingKind, severity: &str, why: String) -> FleetFinding {
    FleetFinding {
        site: site.to_string(),
        kind,
        severity: severity.to_string(),
        why,
    }
}

/// `owner-not-in-roster` for `site`.
pub fn owner_left(site: &str, owner: &str) -> FleetFinding {
    finding(
        site,
        FleetFindingKind::OwnerNotInRoster,
        "medium",
        format!("the owner {owner} is not in the roster: they may have left"),
    )
}

/// The metadata findings of one Site: from its scenario alone (owner, roster), and from its
/// run when it ran (overdue review and expiry as the Site's own judge found them; data
/// served against the audience).
pub fn site_findings(
    scenario: &Scenario,
    result: Option<&RunResult>,
    roster: Option<&Roster>,
) -> Vec<FleetFinding> {
    let site = &scenario.site;
    let mut findings = Vec::new();
    match &site.owner {
        None => findings.push(finding(
            &site.name,
            FleetFindingKind::NoOwner,
            "medium",
            "no owner is declared ([site] owner): nobody answers for this Site".to_string(),
        )),
        Some(owner) => {
            if let Some(roster) = roster
                && !roster.holds(owner)
            {
                findings.push(owner_left(&site.name, owner));
            }
        }
    }
    let Some(result) = result else {
        return findings;
    };
    for own in &result.findings {
        let kind = match own.kind {
            FindingKind::ReviewOverdue => FleetFindingKind::ReviewOverdue,
            FindingKind::SiteExpired => FleetFindingKind::ExpiredReachable,
            _ => continue,
        };
        findings.push(finding(
            &site.name,
            kind,
            own.severity.as_str(),
            own.detail.clone(),
        ));
    }
    findings.extend(audience_wider_than_data(scenario, result));
    findings
}

/// A Site shared with the whole company (or outside it) that serves a data class whose
/// declared rule admits no one by tier at that breadth: the audience relies on the Site's own
/// checks alone to keep that data from most of it. Team and draft Sites are expected to use
/// in-app roles, so they are not judged here; classes with no rule say nothing either way.
fn audience_wider_than_data(scenario: &Scenario, result: &RunResult) -> Vec<FleetFinding> {
    let site = &scenario.site;
    let floor = match site.audience {
        Audience::Company => Tier::Company,
        Audience::External => Tier::External,
        Audience::Team | Audience::Draft => return Vec::new(),
    };
    let mut findings = Vec::new();
    for expect in &scenario.expects {
        let ExpectRule::Data { data, visible_to } = &expect.rule else {
            continue;
        };
        // A canary in one identity's own records says who owns a record, not who may use
        // the Site: a company-wide Site where each person sees their own is as intended
        // (the run's cross-identity check guards it).
        let personal = scenario
            .data
            .iter()
            .any(|class| class.name == *data && class.belongs_to.is_some());
        if personal {
            continue;
        }
        let admits_audience = visible_to
            .iter()
            .any(|p| matches!(p, Principal::Tier(t) if *t <= floor));
        if admits_audience {
            continue;
        }
        let served = result.observations.iter().any(|o| {
            o.outcome == Outcome::Allowed
                && o.data.contains_key(data)
                && (expect.path_globs.is_empty() || expect.path_globs.is_match(o.path()))
        });
        if served {
            let who: Vec<String> = visible_to.iter().map(ToString::to_string).collect();
            findings.push(finding(
                &site.name,
                FleetFindingKind::AudienceWiderThanData,
                "medium",
                format!(
                    "shared with the {} audience while it serves {data}, which its rule at {} \
                     admits only to {}",
                    site.audience,
                    expect.location,
                    who.join(", ")
                ),
            ));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_roster_matches_addresses_without_case_and_ignores_comments() {
        let roster = Roster::parse("# staff\nAlice@Acme.example\n\n bob@acme.example # hr\n");
        assert!(roster.holds("alice@acme.example"));
        assert!(roster.holds(" BOB@acme.example"));
        assert!(!roster.holds("carol@acme.example"));
        assert!(!roster.holds("# staff"));
    }
}
