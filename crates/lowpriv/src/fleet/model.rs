//! The fleet report: one row per Site, the fleet's governance findings, and a summary.
//! `fleet.json` serializes [`FleetReport`]; the fleet Markdown, HTML, JUnit and SARIF files
//! render it (with the per-Site files it names). `lowpriv merge` reads shards' `fleet.json`
//! back, so every type here is `Deserialize` too.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The fleet report's schema version. Bump it when a field changes meaning or disappears.
pub const FLEET_SCHEMA_VERSION: u32 = 1;

/// Everything a fleet run (or a merge of shard runs) found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FleetReport {
    pub schema: u32,
    /// Always `"lowpriv-fleet"`, so a reader tells it from a per-Site report.
    pub kind: String,
    pub lowpriv_version: String,
    /// How the rows were gathered: one run, one shard of a fleet, or a merge of shards.
    /// Volatile across the three ways of running the same fleet (compare without it).
    pub source: FleetSource,
    /// Every Site of the fleet as discovered before sharding, sorted by name: a merge uses it
    /// to tell a missing Site from one that is not in the fleet.
    pub inventory: Vec<String>,
    /// One row per Site this report covers, sorted by name.
    pub sites: Vec<SiteRow>,
    /// Findings about the fleet's metadata (owners, reviews, expiry, audience against data),
    /// sorted by site then kind.
    pub governance: Vec<FleetFinding>,
    /// Sites that appeared more than once (two scenarios naming one Site, or one Site in two
    /// shards): each is one row, flagged here, never counted twice.
    pub duplicates: Vec<Duplicate>,
    /// Sites of the inventory with no row (a shard that never reported): inconclusive.
    pub missing: Vec<String>,
    pub summary: FleetSummary,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum FleetSource {
    /// Every Site of the inventory was scheduled here.
    Run { jobs: usize, duration_ms: u64 },
    /// Shard `index` of `count` (1-based): the Sites whose name hashes there.
    Shard {
        index: u32,
        count: u32,
        jobs: usize,
        duration_ms: u64,
    },
    /// Shard reports combined by `lowpriv merge`: which shards came in, by their index.
    Merge { count: u32, shards: Vec<u32> },
}

/// How one Site's run ended, from the fleet's point of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SiteStatus {
    /// The run happened and judged; `verdict` says how it came out (inconclusive included).
    Judged,
    /// The run could not start or stopped before judging: an invalid scenario, a snapshot
    /// that is not this Site's, a task that panicked. `error` says what. Exit 2 or 3.
    Error,
    /// Never started: the fleet was interrupted first. Inconclusive.
    NotRun,
}

/// One Site of the fleet: the inventory a platform lead reads, and how its run came out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteRow {
    /// `[site] name`; for a scenario whose name cannot be read, its file stem.
    pub name: String,
    /// The scenario file, as given on the command line or found under a folder.
    pub scenario: String,
    pub status: SiteStatus,
    /// pass | fail | inconclusive | error | not-run: what a person filters on.
    pub verdict: String,
    /// The exit code this Site alone would give (0, 1, 2 or 3).
    pub exit_code: i32,
    /// Why the run could not judge, or why it is inconclusive (the verdict's reasons).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// The scenario's metadata; `None` where the scenario could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    #[serde(default)]
    pub data_sources: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_review: Option<String>,
    /// `last_review + review_every_days`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_due: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Data classes seen on allowed answers, per identity tier (tier name → classes, sorted).
    #[serde(default)]
    pub data_by_tier: BTreeMap<String, Vec<String>>,
    /// Finding groups in the verdict, by severity name (accepted groups not counted).
    #[serde(default)]
    pub groups_by_severity: BTreeMap<String, usize>,
    /// Every finding, by severity name.
    #[serde(default)]
    pub findings_by_severity: BTreeMap<String, usize>,
    /// Snapshot comparison (`None`: no snapshots compared) and how many facts widened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotCell>,
    /// Identities whose login failed, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub login_failed: Vec<String>,
    pub requests: usize,
    /// Volatile.
    pub duration_ms: u64,
    /// The per-Site files written for this row, relative to the fleet report's folder.
    #[serde(default)]
    pub files: SiteFiles,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotCell {
    /// new | unchanged | drift | skipped
    pub status: String,
    pub widened: usize,
    pub narrowed: usize,
    /// The pending snapshot written, relative to the fleet report's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
}

/// Paths relative to the folder holding `fleet.json`; absent when not written (a Site that
/// could not run has no per-Site report).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteFiles {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub junit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sarif: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

/// A finding about a Site's metadata, judged across the fleet.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FleetFinding {
    pub site: String,
    pub kind: FleetFindingKind,
    /// low | medium | high
    pub severity: String,
    pub why: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FleetFindingKind {
    /// The last review is older than `review_every_days`.
    ReviewOverdue,
    /// Past `expires` and still reachable beyond its public paths.
    ExpiredReachable,
    /// No `owner` in the scenario.
    NoOwner,
    /// The owner is not in the `--roster` file (they have left).
    OwnerNotInRoster,
    /// Shared company-wide (or outside) while serving a data class whose declared rule
    /// admits less than that audience.
    AudienceWiderThanData,
}

impl FleetFindingKind {
    pub const ALL: [FleetFindingKind; 5] = [
        FleetFindingKind::ReviewOverdue,
        FleetFindingKind::ExpiredReachable,
        FleetFindingKind::NoOwner,
        FleetFindingKind::OwnerNotInRoster,
        FleetFindingKind::AudienceWiderThanData,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FleetFindingKind::ReviewOverdue => "review-overdue",
            FleetFindingKind::ExpiredReachable => "expired-reachable",
            FleetFindingKind::NoOwner => "no-owner",
            FleetFindingKind::OwnerNotInRoster => "owner-not-in-roster",
            FleetFindingKind::AudienceWiderThanData => "audience-wider-than-data",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duplicate {
    pub site: String,
    /// Where each copy came from (scenario paths, or shard indexes as `shard K`).
    pub from: Vec<String>,
    /// What was kept.
    pub kept: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetSummary {
    /// The worst Site's exit code (3 > 2 > 1 > 0), or 3 when a Site is missing, not run or a
    /// duplicate disagreed.
    pub exit_code: i32,
    pub sites: usize,
    /// Rows by `verdict` (pass, fail, inconclusive, error, not-run).
    pub by_verdict: BTreeMap<String, usize>,
    /// The Sites that set `exit_code` (every Site with that code), sorted.
    pub worst: Vec<String>,
    /// One sentence per reason the fleet's exit code is what it is.
    pub reasons: Vec<String>,
    pub governance_findings: usize,
}
