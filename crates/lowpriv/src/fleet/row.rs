//! One Site's row of the fleet report, from its scenario and (when it ran) its result.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{SiteFiles, SiteRow, SiteStatus, SnapshotCell};
use crate::RunResult;
use crate::observe::Outcome;
use crate::scenario::Scenario;
use crate::snapshot::{Direction, Status};
use crate::verdict::exit;

/// The row of a Site that has not run (yet): its metadata, and how it stands.
pub fn pending(
    name: &str,
    path: &std::path::Path,
    scenario: Option<&Scenario>,
    status: SiteStatus,
    exit_code: i32,
    reasons: Vec<String>,
) -> SiteRow {
    let verdict = match status {
        SiteStatus::Judged => "inconclusive",
        SiteStatus::Error => "error",
        SiteStatus::NotRun => "not-run",
    };
    let mut row = SiteRow {
        name: name.to_string(),
        scenario: path.display().to_string(),
        status,
        verdict: verdict.to_string(),
        exit_code,
        reasons,
        base_url: None,
        owner: None,
        audience: None,
        data_sources: Vec::new(),
        last_review: None,
        review_due: None,
        expires: None,
        data_by_tier: BTreeMap::new(),
        groups_by_severity: BTreeMap::new(),
        findings_by_severity: BTreeMap::new(),
        snapshot: None,
        login_failed: Vec::new(),
        requests: 0,
        duration_ms: 0,
        files: SiteFiles::default(),
    };
    if let Some(scenario) = scenario {
        let site = &scenario.site;
        row.base_url = Some(site.base_url.to_string());
        row.owner = site.owner.clone();
        row.audience = Some(site.audience.as_str().to_string());
        row.data_sources = site.data_sources.clone();
        row.last_review = site.last_review.map(|d| d.to_string());
        row.review_due = site.review_due().map(|d| d.to_string());
        row.expires = site.expires.map(|d| d.to_string());
    }
    row
}

/// The row of a Site whose run ended (however it ended).
pub fn judged(scenario: &Scenario, result: &RunResult, files: SiteFiles) -> SiteRow {
    let summary = &result.summary;
    let reasons = match summary.verdict {
        crate::Verdict::Pass => Vec::new(),
        _ => summary.reasons.clone(),
    };
    let mut row = pending(
        &scenario.site.name,
        &scenario.file,
        Some(scenario),
        SiteStatus::Judged,
        summary.exit_code,
        reasons,
    );
    row.verdict = summary.verdict.as_str().to_string();
    let tiers: BTreeMap<&str, &str> = result
        .identities
        .iter()
        .map(|i| (i.name.as_str(), i.tier.as_str()))
        .collect();
    let mut by_tier: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for obs in &result.observations {
        if obs.outcome != Outcome::Allowed || obs.data.is_empty() {
            continue;
        }
        if let Some(tier) = tiers.get(obs.identity.as_str()) {
            by_tier
                .entry((*tier).to_string())
                .or_default()
                .extend(obs.data.keys().cloned());
        }
    }
    row.data_by_tier = by_tier
        .into_iter()
        .map(|(tier, classes)| (tier, classes.into_iter().collect()))
        .collect();
    for group in result.groups.iter().filter(|g| g.accepted.is_none()) {
        *row.groups_by_severity
            .entry(group.severity.as_str().to_string())
            .or_default() += 1;
    }
    row.findings_by_severity = summary
        .findings
        .iter()
        .map(|(severity, n)| (severity.as_str().to_string(), *n))
        .collect();
    row.snapshot = result.snapshot.as_ref().map(|s| SnapshotCell {
        status: match s.status {
            Status::Match => "unchanged",
            Status::Drift => "drift",
            Status::New => "new",
            Status::Skipped => "skipped",
        }
        .to_string(),
        widened: s
            .changes
            .iter()
            .filter(|c| c.direction == Direction::Widening)
            .count(),
        narrowed: s
            .changes
            .iter()
            .filter(|c| c.direction != Direction::Widening)
            .count(),
        pending: None,
    });
    row.login_failed = result
        .identities
        .iter()
        .filter(|i| i.login_error.is_some())
        .map(|i| i.name.clone())
        .collect();
    row.requests = summary.requests;
    row.duration_ms = u64::try_from(summary.duration_ms).unwrap_or(u64::MAX);
    row.files = files;
    row
}

/// A run that stopped before judging (`lowpriv::Error`): bad input is exit 2, a login that
/// could not even start is inconclusive.
pub fn failed(scenario: &Scenario, err: &crate::Error) -> SiteRow {
    let code = match err {
        crate::Error::Scenario(_) | crate::Error::Snapshot(_) | crate::Error::Browser(_) => {
            exit::USAGE
        }
        crate::Error::Session(_) => exit::INCONCLUSIVE,
    };
    pending(
        &scenario.site.name,
        &scenario.file,
        Some(scenario),
        SiteStatus::Error,
        code,
        vec![error_chain(err)],
    )
}

/// An error and its causes on one line.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
