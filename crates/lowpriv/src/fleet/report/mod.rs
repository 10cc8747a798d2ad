//! Fleet reports: renderings of a [`FleetReport`] and the per-Site files its rows name.
//!
//! Input: the fleet report and the folder holding it (`--out DIR`); each row's `files` are
//! relative to that folder, so the renderers work from files on disk alone, as
//! `lowpriv merge` must. Output, each file written atomically:
//!
//! ```text
//! DIR/fleet.md                Markdown summary for $GITHUB_STEP_SUMMARY (markdown.rs)
//! DIR/fleet.html              one page, sortable and filterable (html.rs)
//! DIR/fleet.junit.xml         one <testsuite> per Site (junit.rs)
//! DIR/sarif/fleet-<k>.sarif   one run per Site, at most 20 runs a file (sarif.rs)
//! ```
//!
//! `fleet.json` is the fleet runner's; the terminal summary ([`terminal::render`]) goes to
//! stdout. Like the per-Site reporters, these format and never re-judge: verdicts, exit codes
//! and governance findings come from the report as they are. A per-Site file that cannot be
//! read does not stop the fleet files: its Site is rendered from its row, marked as such,
//! and [`FleetFiles::notes`] says which file.

pub mod html;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod terminal;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::fleet::{FleetReport, FleetSource, SiteRow, SnapshotCell};
use crate::judge::Severity;
use crate::report::ReportError;

/// The fleet files one [`write_fleet_files`] wrote, and what a person should know about them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FleetFiles {
    pub markdown: PathBuf,
    pub html: PathBuf,
    pub junit: PathBuf,
    /// `DIR/sarif/fleet-1.sarif`, ... in order.
    pub sarif: Vec<PathBuf>,
    /// How the output was shaped to fit its consumers (SARIF split into files or parts, rows
    /// left out of the Markdown) and per-Site files that could not be read.
    pub notes: Vec<String>,
}

impl FleetFiles {
    /// Every file written.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        [&self.markdown, &self.html, &self.junit]
            .into_iter()
            .chain(&self.sarif)
            .map(PathBuf::as_path)
    }
}

/// Writes `fleet.md`, `fleet.html`, `fleet.junit.xml` and `sarif/fleet-<k>.sarif` under `dir`
/// (which must exist), reading the per-Site files the rows name from there. Every format is
/// attempted even when an earlier one fails; the first error is returned.
pub fn write_fleet_files(report: &FleetReport, dir: &Path) -> Result<FleetFiles, ReportError> {
    let mut files = FleetFiles {
        markdown: dir.join("fleet.md"),
        html: dir.join("fleet.html"),
        junit: dir.join("fleet.junit.xml"),
        ..FleetFiles::default()
    };
    let mut notes = Vec::new();
    let mut first_error = None;
    let mut keep = |result: Result<(), ReportError>| {
        if let Err(e) = result {
            first_error.get_or_insert(e);
        }
    };

    let (text, left_out) = markdown::render(report);
    if left_out > 0 {
        notes.push(format!(
            "fleet.md leaves out {left_out} entries to stay under {} bytes",
            markdown::MAX_BYTES
        ));
    }
    keep(write("Markdown", &files.markdown, &text));
    keep(html::render(report).and_then(|text| write("HTML", &files.html, &text)));
    keep(
        junit::render(report, dir, &mut notes).and_then(|text| write("JUnit", &files.junit, &text)),
    );
    match sarif::write(report, dir, &mut notes) {
        Ok(paths) => files.sarif = paths,
        Err(e) => keep(Err(e)),
    }

    files.notes = notes;
    first_error.map_or(Ok(files), Err)
}

fn write(format: &'static str, path: &Path, text: &str) -> Result<(), ReportError> {
    crate::atomic_file::write(path, text.as_bytes()).map_err(|source| ReportError::Write {
        format,
        path: path.to_path_buf(),
        source,
    })
}

/// A per-Site file named by a row (`None` when the row names none), or why it could not be
/// read, as a note.
fn read_site_file(dir: &Path, name: Option<&str>) -> Option<Result<String, String>> {
    let name = name?;
    let path = dir.join(name);
    Some(std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display())))
}

/// A count map keyed by severity name, most severe first; names that are not severities
/// (a newer `fleet.json`) come last, in their order, rather than being dropped.
fn by_severity(counts: &BTreeMap<String, usize>) -> Vec<(&str, usize)> {
    let rank = |name: &str| Severity::parse(name).map_or(0, |s| s as usize + 1);
    let mut out: Vec<(&str, usize)> = counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(name, n)| (name.as_str(), *n))
        .collect();
    out.sort_by_key(|(name, _)| std::cmp::Reverse(rank(name)));
    out
}

/// `1 critical, 2 high`, or `-` when there is none.
fn groups_text(row: &SiteRow) -> String {
    let parts: Vec<String> = by_severity(&row.groups_by_severity)
        .into_iter()
        .map(|(name, n)| format!("{n} {name}"))
        .collect();
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join(", ")
    }
}

/// `drift (+3 widened, -1 narrowed)`, `unchanged`, `new`, or `-` without a comparison.
fn snapshot_text(snapshot: Option<&SnapshotCell>) -> String {
    match snapshot {
        None => "-".to_string(),
        Some(cell) if cell.status == "drift" => format!(
            "drift (+{} widened, -{} narrowed)",
            cell.widened, cell.narrowed
        ),
        Some(cell) => cell.status.clone(),
    }
}

/// `company: email, salary; team: salary`, or `-` when nothing was seen.
fn tiers_text(row: &SiteRow) -> String {
    let parts: Vec<String> = row
        .data_by_tier
        .iter()
        .filter(|(_, classes)| !classes.is_empty())
        .map(|(tier, classes)| format!("{tier}: {}", classes.join(", ")))
        .collect();
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join("; ")
    }
}

fn or_dash(value: Option<&String>) -> &str {
    value.map_or("-", String::as_str)
}

fn list_or_dash(values: &[String]) -> String {
    if values.is_empty() {
        "-".to_string()
    } else {
        values.join(", ")
    }
}

/// How many Site names a headline lists before it says "and N more".
const NAMES_LISTED: usize = 10;

/// `exit code 3 set by a, b`: the headline's last words in every format.
fn worst_text(report: &FleetReport) -> String {
    let summary = &report.summary;
    let mut names = summary
        .worst
        .iter()
        .take(NAMES_LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if summary.worst.len() > NAMES_LISTED {
        names.push_str(&format!(" and {} more", summary.worst.len() - NAMES_LISTED));
    }
    if names.is_empty() {
        format!("exit code {}", summary.exit_code)
    } else {
        format!("exit code {} set by {names}", summary.exit_code)
    }
}

/// The fleet's verdict word, from its exit code (the one thing every Site agrees on).
fn fleet_verdict(exit_code: i32) -> &'static str {
    match exit_code {
        0 => "pass",
        1 => "fail",
        2 => "error",
        _ => "inconclusive",
    }
}

/// `8 pass, 2 fail, 1 error`: verdict counts in a fixed order, any unknown verdict last.
fn verdict_counts(report: &FleetReport) -> String {
    const ORDER: [&str; 5] = ["pass", "fail", "inconclusive", "error", "not-run"];
    let counts = &report.summary.by_verdict;
    let known = ORDER
        .iter()
        .filter_map(|v| counts.get(*v).map(|n| (*v, *n)));
    let other = counts
        .iter()
        .filter(|(v, _)| !ORDER.contains(&v.as_str()))
        .map(|(v, n)| (v.as_str(), *n));
    let parts: Vec<String> = known
        .chain(other)
        .filter(|(_, n)| *n > 0)
        .map(|(v, n)| format!("{n} {v}"))
        .collect();
    parts.join(", ")
}

/// `run, 4 jobs` | `shard 2 of 4, 4 jobs` | `merge of 3/4 shards`.
fn source_text(report: &FleetReport) -> String {
    match &report.source {
        FleetSource::Run { jobs, .. } => format!("run, {jobs} job(s)"),
        FleetSource::Shard {
            index, count, jobs, ..
        } => format!("shard {index} of {count}, {jobs} job(s)"),
        FleetSource::Merge { count, shards } => {
            format!("merge of {}/{count} shard(s)", shards.len())
        }
    }
}

#[cfg(test)]
mod fixtures;

#[cfg(test)]
mod tests {
    use super::*;
    use fixtures::Fixture;

    #[test]
    fn writes_every_fleet_file_and_lists_them() {
        let mut f = Fixture::new();
        f.judged("acme", "fail", 1, 2);
        f.failed("broken", "scenario error");
        let files = write_fleet_files(&f.report(), f.dir()).unwrap();
        let names: Vec<String> = files
            .paths()
            .map(|p| p.strip_prefix(f.dir()).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "fleet.md",
                "fleet.html",
                "fleet.junit.xml",
                "sarif/fleet-1.sarif"
            ]
        );
        for path in files.paths() {
            assert!(std::fs::metadata(path).unwrap().len() > 0, "{path:?}");
        }
        assert!(files.notes.is_empty(), "{:?}", files.notes);
        assert!(
            !f.dir().join("fleet.json").exists(),
            "fleet.json is the runner's"
        );

        // A per-Site file gone missing is a note, not a failure.
        std::fs::remove_file(f.dir().join("sites/acme.junit.xml")).unwrap();
        let files = write_fleet_files(&f.report(), f.dir()).unwrap();
        assert_eq!(files.notes.len(), 1, "{:?}", files.notes);
        assert!(files.notes[0].starts_with("site acme: cannot read"));
    }

    /// The per-Site JUnit and SARIF files of the demo, as the e2e suite snapshots them (with
    /// their redactions filled back in), read back case by case and result by result.
    #[test]
    fn the_real_per_site_files_read_back_whole() {
        let snapshot = |name: &str| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/e2e/snapshots")
                .join(name);
            let text = std::fs::read_to_string(path).unwrap();
            // insta's header is the front matter between the first two `---` lines.
            let body = text.splitn(3, "---\n").nth(2).unwrap();
            body.replace("[duration]", "0.5").replace("[port]", "8080")
        };
        let mut f = Fixture::new();
        f.judged("acme-payroll", "fail", 1, 0);
        let junit = snapshot("e2e__reports__flawed_junit.snap");
        let sarif = snapshot("e2e__reports__flawed_sarif.snap");
        std::fs::write(f.dir().join("sites/acme-payroll.junit.xml"), &junit).unwrap();
        std::fs::write(f.dir().join("sites/acme-payroll.sarif"), &sarif).unwrap();
        let files = write_fleet_files(&f.report(), f.dir()).unwrap();
        assert!(files.notes.is_empty(), "{:?}", files.notes);

        let read_junit = |path: &Path| {
            quick_junit::Report::deserialize_from_str(&std::fs::read_to_string(path).unwrap())
                .unwrap()
        };
        let site = quick_junit::Report::deserialize_from_str(&junit).unwrap();
        let fleet = read_junit(&files.junit);
        assert_eq!(fleet.test_suites, site.test_suites);
        assert_eq!((fleet.tests, fleet.failures), (site.tests, site.failures));
        assert!(fleet.failures > 0);

        let site: serde_json::Value = serde_json::from_str(&sarif).unwrap();
        let fleet: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&files.sarif[0]).unwrap()).unwrap();
        let (site_run, fleet_run) = (&site["runs"][0], &fleet["runs"][0]);
        assert!(!site_run["results"].as_array().unwrap().is_empty());
        assert_eq!(fleet_run["results"], site_run["results"]);
        assert_eq!(fleet_run["tool"], site_run["tool"]);
        assert_eq!(
            fleet_run["automationDetails"]["id"],
            "lowpriv/acme-payroll/"
        );
        let errors = fixtures::sarif_schema_errors(&fleet);
        assert!(errors.is_empty(), "{errors:#?}");
    }

    #[test]
    fn a_folder_that_cannot_be_written_is_an_error() {
        let f = Fixture::new();
        let missing = f.dir().join("no/such/folder");
        let err = write_fleet_files(&f.report(), &missing).unwrap_err();
        assert!(matches!(err, ReportError::Write { .. }), "{err}");
        assert!(!missing.exists(), "no folder is made up");
    }

    #[test]
    fn severities_read_most_severe_first_and_unknown_names_last() {
        let counts: BTreeMap<String, usize> =
            [("low", 1), ("critical", 2), ("zeta", 3), ("high", 0)]
                .map(|(k, v)| (k.to_string(), v))
                .into();
        assert_eq!(
            by_severity(&counts),
            [("critical", 2), ("low", 1), ("zeta", 3)]
        );
        assert!(by_severity(&BTreeMap::new()).is_empty());
    }
}
