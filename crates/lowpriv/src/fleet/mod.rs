//! Fleets: many scenarios in one process (`lowpriv run PATH...`), a deterministic share of
//! them per machine (`--shard K/N`), and shard reports merged into one fleet report
//! (`lowpriv merge`). lowpriv schedules nothing past one machine: an existing scheduler (a CI
//! matrix, a Kubernetes Indexed Job) starts the shards, and a last step merges them.
//!
//! | step | entry point |
//! | --- | --- |
//! | find and load the scenarios | [`discover::discover`], [`discover::load`] |
//! | pick this machine's share | [`shard::Shard::holds`] |
//! | run the Sites, `jobs` at once | [`run::run`] |
//! | combine shard reports | [`merge::merge`] |
//! | write `fleet.json` | [`write_json`] (the other fleet files: [`crate::fleet::report`]) |

pub mod discover;
pub mod governance;
pub mod merge;
pub mod model;
pub mod report;
pub mod row;
pub mod run;
pub mod shard;

use std::collections::BTreeMap;
use std::path::Path;

pub use discover::{FleetError, Member};
pub use governance::Roster;
pub use model::*;
pub use run::{FleetOptions, FleetProgress, Quiet};
pub use shard::{Shard, ShardError};

use crate::judge::Severity;
use crate::verdict::exit;

/// The fleet report from its rows, however they were gathered (one run, a shard, a merge):
/// rows and findings sorted, and the summary computed here alone.
pub fn assemble(
    source: FleetSource,
    inventory: Vec<String>,
    mut sites: Vec<SiteRow>,
    mut governance: Vec<FleetFinding>,
    mut duplicates: Vec<Duplicate>,
    mut missing: Vec<String>,
    fail_on: Severity,
) -> FleetReport {
    sites.sort_by(|a, b| a.name.cmp(&b.name));
    governance.sort();
    governance.dedup();
    duplicates.sort_by(|a, b| a.site.cmp(&b.site));
    missing.sort();
    let mut reasons = Vec::new();
    let mut by_verdict: BTreeMap<String, usize> = BTreeMap::new();
    for row in &sites {
        *by_verdict.entry(row.verdict.clone()).or_default() += 1;
    }
    let mut exit_code = sites
        .iter()
        .map(|r| r.exit_code)
        .max()
        .unwrap_or(exit::PASS);
    if sites.is_empty() {
        // A shard that holds no Site judged nothing: never a pass on nothing observed.
        reasons.push("no Site of the fleet is on this shard".to_string());
        exit_code = exit::INCONCLUSIVE;
    }
    let failing_governance: Vec<&FleetFinding> = governance
        .iter()
        .filter(|f| Severity::parse(&f.severity).is_some_and(|s| s >= fail_on))
        .collect();
    if !failing_governance.is_empty() && exit_code < exit::FAIL {
        exit_code = exit::FAIL;
    }
    if !missing.is_empty() {
        *by_verdict.entry("missing".to_string()).or_default() += missing.len();
        reasons.push(format!(
            "{} Site(s) of the inventory have no row (a shard did not report): {}",
            missing.len(),
            missing.join(", ")
        ));
        exit_code = exit::INCONCLUSIVE;
    }
    if !duplicates.is_empty() {
        reasons.push(format!(
            "{} Site name(s) appear more than once, each run and counted once: {}",
            duplicates.len(),
            duplicates
                .iter()
                .map(|d| d.site.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        exit_code = exit::INCONCLUSIVE;
    }
    let worst: Vec<String> = sites
        .iter()
        .filter(|r| r.exit_code == exit_code && exit_code != exit::PASS)
        .map(|r| r.name.clone())
        .collect();
    let count = |verdict: &str| by_verdict.get(verdict).copied().unwrap_or(0);
    for (verdict, what) in [
        ("fail", "failed"),
        ("inconclusive", "are inconclusive"),
        ("error", "could not run"),
        ("not-run", "were not run"),
    ] {
        let names: Vec<&str> = sites
            .iter()
            .filter(|r| r.verdict == verdict)
            .map(|r| r.name.as_str())
            .collect();
        if !names.is_empty() {
            reasons.push(format!(
                "{} Site(s) {what}: {}",
                count(verdict),
                names.join(", ")
            ));
        }
    }
    if !failing_governance.is_empty() {
        reasons.push(format!(
            "{} governance finding(s) at or above {}",
            failing_governance.len(),
            fail_on.as_str()
        ));
    }
    let summary = FleetSummary {
        exit_code,
        sites: sites.len(),
        by_verdict,
        worst,
        reasons,
        governance_findings: governance.len(),
    };
    FleetReport {
        schema: FLEET_SCHEMA_VERSION,
        kind: FLEET_KIND.to_string(),
        lowpriv_version: env!("CARGO_PKG_VERSION").to_string(),
        source,
        inventory,
        sites,
        governance,
        duplicates,
        missing,
        summary,
    }
}

/// `FleetReport.kind`.
pub const FLEET_KIND: &str = "lowpriv-fleet";

/// Writes `fleet.json` atomically.
pub fn write_json(report: &FleetReport, path: &Path) -> Result<(), FleetError> {
    let written = serde_json::to_string_pretty(report)
        .map_err(std::io::Error::other)
        .and_then(|mut text| {
            text.push('\n');
            crate::atomic_file::write(path, text.as_bytes())
        });
    written.map_err(|source| FleetError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, verdict: &str, code: i32) -> SiteRow {
        let mut row = row::pending(
            name,
            Path::new("x.toml"),
            None,
            SiteStatus::Judged,
            code,
            Vec::new(),
        );
        row.verdict = verdict.to_string();
        row
    }

    fn summary(rows: Vec<SiteRow>) -> FleetSummary {
        let source = FleetSource::Run {
            jobs: 1,
            duration_ms: 0,
        };
        assemble(
            source,
            Vec::new(),
            rows,
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Severity::High,
        )
        .summary
    }

    #[test]
    fn the_fleet_exits_with_its_worst_site_and_names_it() {
        let s = summary(vec![
            row("a", "pass", 0),
            row("b", "fail", 1),
            row("c", "pass", 0),
        ]);
        assert_eq!((s.exit_code, s.worst.clone()), (1, vec!["b".to_string()]));
        let s = summary(vec![
            row("a", "inconclusive", 3),
            row("b", "fail", 1),
            row("c", "error", 2),
        ]);
        assert_eq!((s.exit_code, s.worst.clone()), (3, vec!["a".to_string()]));
        let s = summary(vec![row("a", "pass", 0), row("b", "pass", 0)]);
        assert_eq!(s.exit_code, 0);
        assert!(s.worst.is_empty() && s.reasons.is_empty(), "{s:?}");
        assert_eq!(s.by_verdict.get("pass"), Some(&2));
    }

    #[test]
    fn a_fleet_of_nothing_is_never_a_pass() {
        assert_eq!(summary(Vec::new()).exit_code, exit::INCONCLUSIVE);
    }
}
