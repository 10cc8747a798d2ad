//! Judging: declared expectations and the automatic checks turn observations into findings,
//! and the run's health into the reasons its matrix is incomplete. The verdict is decided
//! from these by [`crate::verdict`], not here.
//!
//! Input: the scenario, each identity's login status and crawl health, and the finalized
//! observations. Output: a [`Judgement`]. Invariants: declarations outrank heuristics, by
//! the order [`evaluate`] calls the checks in: the heuristics (`unlinked-reachable`,
//! `inverted-privilege`) only run on an answer where no `[[expect]]` path rule speaks, the
//! path is not public, and no declared check fired.
//!
//! The findings are grouped by cause once, at the end ([`group`]: kind, rule or data class,
//! method and template).
//!
//! One file per check: `declared.rs` (access and data rules, the audience, canaries),
//! `secrets.rs`, `heuristics.rs`, `governance.rs` (review and expiry dates), `health.rs` (what
//! hid part of the matrix), `source.rs` (what each `[[source]]` gives each identity),
//! `actions.rs` (actions shown and write probes), `graphql.rs` (the schemas each identity
//! was told about). A new check is a function there, called
//! from [`evaluate_all`].

pub(crate) mod actions;
mod context;
mod declared;
mod finding;
mod governance;
mod graphql;
mod group;
mod health;
mod heuristics;
mod preview;
pub mod privilege;
mod secrets;
mod source;

use std::collections::BTreeMap;

use serde::Serialize;

pub use finding::{Accepted, Finding, FindingKind, Severity};
pub use group::{FindingGroup, group};
pub use preview::{AudiencePreview, PreviewIdentity, PreviewReach, audience_preview};

use crate::graphql::GraphqlReport;
use crate::observe::{ActionSeen, Observation, Outcome};
use crate::probe::WriteProbes;
use crate::scenario::Scenario;
use crate::session::LoginStatus;
use crate::source::SourceLog;

/// What the judge needs to know about each identity besides its observations.
#[derive(Clone, Debug)]
pub struct IdentityHealth {
    pub login: LoginStatus,
    /// Why its crawl stopped early, if it did.
    pub truncated: Option<String>,
    /// Why its session was given up mid-run, if it was.
    pub lost: Option<String>,
}

/// The run's health: per identity (scenario order), and why the run was stopped early
/// (Ctrl-C, SIGTERM, `--deadline`), if it was.
#[derive(Clone, Debug, Default)]
pub struct RunHealth {
    pub identities: Vec<IdentityHealth>,
    pub stopped: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Judgement {
    /// Most severe first, then by kind, template, identity, URL.
    pub findings: Vec<Finding>,
    /// The findings grouped by cause ([`group`]), built once here: the verdict counts them
    /// and every report lays them out.
    pub groups: Vec<FindingGroup>,
    /// Why part of the matrix is unknown, most important first; empty when the run saw it
    /// all.
    pub incomplete: Vec<String>,
}

impl Judgement {
    /// Whether the run saw its whole matrix (only then is a verdict other than
    /// inconclusive possible, and only then is the snapshot compared).
    pub fn is_complete(&self) -> bool {
        self.incomplete.is_empty()
    }
}

/// What a run gathered besides the Site's own answers, for the checks that judge them.
#[derive(Clone, Copy, Debug)]
pub struct Evidence<'a> {
    /// The Site's answers, finalized and sorted.
    pub observations: &'a [Observation],
    /// The actions each identity was shown.
    pub actions: &'a [ActionSeen],
    /// The write probes, when `[crawl] probe_writes` sent any.
    pub write_probes: &'a WriteProbes,
    /// Each `[[source]]`, probed as each identity.
    pub sources: &'a SourceLog,
    /// `[crawl] graphql`: the schemas each identity was told about and what failed.
    pub graphql: &'a GraphqlReport,
}

/// Runs every check on the Site's answers alone (no actions, write probes or sources).
pub fn evaluate(
    scenario: &Scenario,
    health: &RunHealth,
    observations: &[Observation],
    today: jiff::civil::Date,
) -> Judgement {
    let (probes, sources) = (WriteProbes::default(), SourceLog::default());
    let graphql = GraphqlReport::default();
    let evidence = Evidence {
        observations,
        actions: &[],
        write_probes: &probes,
        sources: &sources,
        graphql: &graphql,
    };
    evaluate_all(scenario, health, &evidence, today)
}

/// Runs every check. `today` decides review and expiry findings.
pub fn evaluate_all(
    scenario: &Scenario,
    health: &RunHealth,
    evidence: &Evidence<'_>,
    today: jiff::civil::Date,
) -> Judgement {
    let observations = evidence.observations;
    let ctx = context::Context::new(scenario, observations);
    let mut findings = Vec::new();
    for obs in observations {
        let Some(identity) = ctx.identities.get(obs.identity.as_str()).copied() else {
            continue;
        };
        if obs.outcome == Outcome::Skipped {
            continue;
        }
        findings.extend(secrets::check(&ctx, obs, identity));
        if obs.outcome != Outcome::Allowed {
            continue;
        }
        let declared: Vec<Finding> = [
            declared::access,
            declared::audience,
            declared::data,
            declared::canaries,
        ]
        .iter()
        .flat_map(|check| check(&ctx, obs, identity))
        .collect();
        let path = obs.path();
        let speaks = !declared.is_empty() || ctx.covered(path) || ctx.public.is_match(path);
        findings.extend(declared);
        if !speaks {
            findings.extend(heuristics::check(&ctx, obs, identity));
        }
    }
    let mut incomplete = health::check(&ctx, health, observations, &mut findings);
    // Derived from the sources, so below every declaration: a class a `visible_to` rule
    // speaks for is judged by that rule alone.
    let sourced = source::check(&ctx, evidence);
    findings.extend(sourced.findings);
    incomplete.extend(sourced.incomplete);
    findings.extend(actions::check(&ctx, evidence));
    incomplete.extend(actions::incomplete(&ctx, evidence));
    findings.extend(governance::check(&ctx, observations, today));
    findings.extend(graphql::check(&ctx, evidence.graphql));
    incomplete.extend(graphql::incomplete(evidence.graphql));

    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.kind.cmp(&b.kind))
            .then(a.template.cmp(&b.template))
            .then(a.identity.cmp(&b.identity))
            .then(a.url.cmp(&b.url))
            .then(a.detail.cmp(&b.detail))
    });
    findings.dedup();
    accept(scenario, today, &mut findings);
    if let Some(why) = &health.stopped {
        // A stopped run says so first: nothing after it was looked at.
        let reason = format!("the run was stopped before it finished: {why}");
        findings.insert(0, Finding::new(FindingKind::Inconclusive, reason.clone()));
        incomplete.insert(0, reason);
    }
    Judgement {
        groups: group(&findings),
        findings,
        incomplete,
    }
}

/// Marks the findings a live `[[accept]]` entry covers; an expired one says so on the
/// finding, which counts again. The first matching entry in file order speaks.
fn accept(scenario: &Scenario, today: jiff::civil::Date, findings: &mut [Finding]) {
    for finding in findings {
        let path = finding
            .url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
            .map(|u| u.path().to_string());
        let entry = scenario.accepts.iter().find(|a| {
            a.kind == finding.kind.as_str()
                && (a.identities.is_empty()
                    || finding
                        .identity
                        .as_ref()
                        .is_some_and(|i| a.identities.contains(i)))
                && (a.paths.is_empty() || path.as_deref().is_some_and(|p| a.paths.is_match(p)))
        });
        let Some(entry) = entry else { continue };
        if today <= entry.expires {
            finding.detail.push_str(&format!(
                " · accepted until {} ({}): {}",
                entry.expires, entry.location, entry.reason
            ));
            finding.accepted = Some(Accepted {
                rule: entry.location.to_string(),
                reason: entry.reason.clone(),
                expires: entry.expires.to_string(),
            });
        } else {
            finding.detail.push_str(&format!(
                " · its acceptance ({}) expired on {}",
                entry.location, entry.expires
            ));
        }
    }
}

/// Counts per key, for summaries.
pub fn count_by<T, K: Ord>(items: &[T], key: impl Fn(&T) -> K) -> BTreeMap<K, usize> {
    let mut counts = BTreeMap::new();
    for item in items {
        *counts.entry(key(item)).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests;
