//! `lowpriv merge`: shard reports combined into the fleet report an unsharded run would have
//! given. Per-Site files are copied beside the merged `fleet.json`; a Site found in two
//! shards is kept once and reported, and a Site of the inventory found in none is reported
//! missing (inconclusive), never dropped in silence.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::discover::FleetError;
use super::governance::{self, Roster};
use super::model::{
    Duplicate, FLEET_SCHEMA_VERSION, FleetFindingKind, FleetReport, FleetSource, SiteRow,
};
use crate::judge::Severity;
use crate::verdict::exit;

/// One shard's report, where it was read from.
struct Input {
    dir: PathBuf,
    report: FleetReport,
    /// The shards it stands for (1-based), and out of how many.
    shards: Vec<u32>,
    count: u32,
}

/// Reads a `fleet.json` (or a folder holding one).
pub fn read(path: &Path) -> Result<FleetReport, FleetError> {
    let file = if path.is_dir() {
        path.join("fleet.json")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file).map_err(|source| FleetError::ReadReport {
        path: file.clone(),
        source,
    })?;
    let not = |why: String| FleetError::NotAFleetReport {
        path: file.clone(),
        why,
    };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| not(e.to_string()))?;
    if value.get("kind").and_then(|k| k.as_str()) != Some(super::FLEET_KIND) {
        let hint = if value.get("site").is_some() {
            "it is a per-Site report; merge the shards' fleet.json files"
        } else {
            "its `kind` is not \"lowpriv-fleet\""
        };
        return Err(not(hint.to_string()));
    }
    let schema = value.get("schema").and_then(|s| s.as_u64());
    if schema != Some(u64::from(FLEET_SCHEMA_VERSION)) {
        return Err(not(format!(
            "schema {} (this lowpriv reads schema {FLEET_SCHEMA_VERSION})",
            schema.map_or("missing".to_string(), |s| s.to_string())
        )));
    }
    serde_json::from_value(value).map_err(|e| not(e.to_string()))
}

/// Merges the shard reports at `paths`, copies their per-Site files into `out`, writes
/// `out/fleet.json`, and returns the merged report (the caller writes the other formats).
pub fn merge(
    paths: &[PathBuf],
    out: &Path,
    roster: Option<&Roster>,
    fail_on: Severity,
) -> Result<FleetReport, FleetError> {
    let mut inputs = Vec::new();
    for path in paths {
        let report = read(path)?;
        let dir = if path.is_dir() {
            path.clone()
        } else {
            path.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        let (shards, count) = match &report.source {
            FleetSource::Run { .. } => (vec![1], 1),
            FleetSource::Shard { index, count, .. } => (vec![*index], *count),
            FleetSource::Merge { count, shards } => (shards.clone(), *count),
        };
        inputs.push(Input {
            dir,
            report,
            shards,
            count,
        });
    }
    let counts: BTreeSet<u32> = inputs.iter().map(|i| i.count).collect();
    if counts.len() > 1 {
        return Err(FleetError::ShardCounts {
            counts: inputs
                .iter()
                .map(|i| {
                    format!(
                        "{} has {} shards",
                        i.dir.join("fleet.json").display(),
                        i.count
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let count = counts.into_iter().next().unwrap_or(0);
    inputs.sort_by_key(|i| i.shards.first().copied().unwrap_or(0));

    let mut inventory: BTreeSet<String> = BTreeSet::new();
    let mut rows: BTreeMap<String, (SiteRow, String)> = BTreeMap::new();
    let mut copies: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut duplicates: BTreeMap<String, Duplicate> = BTreeMap::new();
    let mut governance = Vec::new();
    let mut shards: Vec<u32> = Vec::new();
    std::fs::create_dir_all(out).map_err(|source| FleetError::Write {
        path: out.to_path_buf(),
        source,
    })?;
    for input in &inputs {
        let label = label(&input.shards);
        shards.extend(&input.shards);
        inventory.extend(input.report.inventory.iter().cloned());
        for dup in &input.report.duplicates {
            duplicates.insert(dup.site.clone(), dup.clone());
        }
        for row in &input.report.sites {
            copies
                .entry(row.name.clone())
                .or_default()
                .push(label.clone());
            if rows.contains_key(&row.name) {
                continue;
            }
            let mut row = row.clone();
            copy_files(&mut row, &input.dir, out);
            let name = row.name.clone();
            governance.extend(
                input
                    .report
                    .governance
                    .iter()
                    .filter(|f| f.site == name)
                    .cloned(),
            );
            rows.insert(name, (row, label.clone()));
        }
    }
    for (site, from) in copies {
        if from.len() > 1
            && let Some((_, kept)) = rows.get(&site)
        {
            duplicates.insert(
                site.clone(),
                Duplicate {
                    site,
                    from,
                    kept: kept.clone(),
                },
            );
        }
    }
    if let Some(roster) = roster {
        // The roster given to the merge decides who has left, for every shard alike.
        governance.retain(|f| f.kind != FleetFindingKind::OwnerNotInRoster);
        for (row, _) in rows.values() {
            if let Some(owner) = &row.owner
                && !roster.holds(owner)
            {
                governance.push(governance::owner_left(&row.name, owner));
            }
        }
    }
    let missing: Vec<String> = inventory
        .iter()
        .filter(|name| !rows.contains_key(*name))
        .cloned()
        .collect();
    shards.sort_unstable();
    shards.dedup();
    let report = super::assemble(
        FleetSource::Merge { count, shards },
        inventory.into_iter().collect(),
        rows.into_values().map(|(row, _)| row).collect(),
        governance,
        duplicates.into_values().collect(),
        missing,
        fail_on,
    );
    super::write_json(&report, &out.join("fleet.json"))?;
    Ok(report)
}

fn label(shards: &[u32]) -> String {
    match shards {
        [one] => format!("shard {one}"),
        many => format!(
            "shards {}",
            many.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

/// Copies a row's per-Site files from its shard's folder into `out`; a file the row names
/// that is not there is said in the row, which then cannot pass.
fn copy_files(row: &mut SiteRow, from: &Path, out: &Path) {
    let mut named: Vec<&mut Option<String>> = vec![
        &mut row.files.json,
        &mut row.files.junit,
        &mut row.files.sarif,
        &mut row.files.markdown,
        &mut row.files.html,
    ];
    if let Some(cell) = &mut row.snapshot {
        named.push(&mut cell.pending);
    }
    let mut problems = Vec::new();
    for slot in named {
        let Some(rel) = slot.clone() else { continue };
        let (source, target) = (from.join(&rel), out.join(&rel));
        if same_file(&source, &target) {
            continue;
        }
        let copied = target
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::copy(&source, &target).map(drop));
        if let Err(err) = copied {
            problems.push(format!("{} could not be copied: {err}", source.display()));
            *slot = None;
        }
    }
    if !problems.is_empty() {
        row.reasons.extend(problems);
        row.exit_code = row.exit_code.max(exit::INCONCLUSIVE);
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::model::{SiteFiles, SiteStatus};
    use crate::fleet::row;

    fn row(name: &str, verdict: &str, code: i32) -> SiteRow {
        let mut row = row::pending(
            name,
            Path::new(&format!("sites/{name}.toml")),
            None,
            SiteStatus::Judged,
            code,
            Vec::new(),
        );
        row.verdict = verdict.to_string();
        row.owner = Some(format!("{name}@acme.example"));
        row.files = SiteFiles {
            json: Some(format!("sites/{name}.json")),
            ..SiteFiles::default()
        };
        row
    }

    /// Writes shard `index` of `count` holding `rows` (and their JSON files) under `root`.
    fn shard(
        root: &Path,
        index: u32,
        count: u32,
        inventory: &[&str],
        rows: Vec<SiteRow>,
    ) -> PathBuf {
        let dir = root.join(format!("shard-{index}"));
        std::fs::create_dir_all(dir.join("sites")).unwrap();
        for r in &rows {
            std::fs::write(dir.join(r.files.json.as_ref().unwrap()), &r.name).unwrap();
        }
        let report = crate::fleet::assemble(
            FleetSource::Shard {
                index,
                count,
                jobs: 1,
                duration_ms: 5,
            },
            inventory.iter().map(ToString::to_string).collect(),
            rows,
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Severity::High,
        );
        let path = dir.join("fleet.json");
        crate::fleet::write_json(&report, &path).unwrap();
        path
    }

    #[test]
    fn shards_merge_into_one_report_with_their_files() {
        let root = tempfile::tempdir().unwrap();
        let all = ["a", "b", "c"];
        let one = shard(
            root.path(),
            1,
            2,
            &all,
            vec![row("a", "pass", 0), row("c", "fail", 1)],
        );
        let two = shard(root.path(), 2, 2, &all, vec![row("b", "pass", 0)]);
        let out = root.path().join("fleet");
        let merged = merge(&[two, one], &out, None, Severity::High).unwrap();
        let names: Vec<&str> = merged.sites.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, all);
        assert_eq!(merged.summary.exit_code, 1);
        assert_eq!(merged.summary.worst, ["c"]);
        assert!(merged.missing.is_empty() && merged.duplicates.is_empty());
        assert_eq!(
            merged.source,
            FleetSource::Merge {
                count: 2,
                shards: vec![1, 2]
            }
        );
        for name in all {
            let copied = std::fs::read_to_string(out.join(format!("sites/{name}.json"))).unwrap();
            assert_eq!(copied, name);
        }
        assert_eq!(
            read(&out).unwrap(),
            merged,
            "fleet.json is what merge returned"
        );
    }

    #[test]
    fn a_missing_shard_and_a_site_reported_twice_are_said_never_dropped() {
        let root = tempfile::tempdir().unwrap();
        let all = ["a", "b", "c"];
        let one = shard(root.path(), 1, 3, &all, vec![row("a", "pass", 0)]);
        let two = shard(
            root.path(),
            2,
            3,
            &all,
            vec![row("a", "pass", 0), row("b", "pass", 0)],
        );
        let merged = merge(&[one, two], &root.path().join("out"), None, Severity::High).unwrap();
        assert_eq!(merged.missing, ["c"]);
        assert_eq!(merged.sites.len(), 2, "a is one row");
        assert_eq!(merged.duplicates.len(), 1);
        assert_eq!(merged.duplicates[0].from, ["shard 1", "shard 2"]);
        assert_eq!(merged.duplicates[0].kept, "shard 1");
        assert_eq!(merged.summary.exit_code, exit::INCONCLUSIVE);
        assert_eq!(merged.summary.by_verdict.get("missing"), Some(&1));
    }

    #[test]
    fn shards_of_different_fleets_and_other_files_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let one = shard(root.path(), 1, 2, &["a"], vec![row("a", "pass", 0)]);
        let other = shard(root.path(), 2, 3, &["b"], vec![row("b", "pass", 0)]);
        let out = root.path().join("out");
        assert!(matches!(
            merge(&[one.clone(), other], &out, None, Severity::High),
            Err(FleetError::ShardCounts { .. })
        ));
        let site_report = root.path().join("site.json");
        std::fs::write(&site_report, r#"{"schema": 1, "site": {"name": "a"}}"#).unwrap();
        let err = merge(&[one, site_report], &out, None, Severity::High).unwrap_err();
        assert!(
            err.to_string().contains("not a lowpriv fleet report"),
            "{err}"
        );
    }

    #[test]
    fn a_roster_given_to_the_merge_judges_every_shards_owners() {
        let root = tempfile::tempdir().unwrap();
        let one = shard(
            root.path(),
            1,
            1,
            &["a", "b"],
            vec![row("a", "pass", 0), row("b", "pass", 0)],
        );
        let roster = Roster::parse("a@acme.example\n");
        let merged = merge(
            &[one],
            &root.path().join("out"),
            Some(&roster),
            Severity::High,
        )
        .unwrap();
        let left: Vec<&str> = merged
            .governance
            .iter()
            .filter(|f| f.kind == FleetFindingKind::OwnerNotInRoster)
            .map(|f| f.site.as_str())
            .collect();
        assert_eq!(left, ["b"]);
        assert_eq!(
            merged.summary.exit_code, 0,
            "medium does not fail at --fail-on high"
        );
        let strict = merge(
            &[root.path().join("shard-1/fleet.json")],
            &root.path().join("out2"),
            Some(&roster),
            Severity::Medium,
        )
        .unwrap();
        assert_eq!(strict.summary.exit_code, exit::FAIL);
    }
}
