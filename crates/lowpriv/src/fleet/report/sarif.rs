//! The fleet SARIF files (`DIR/sarif/fleet-<k>.sarif`, k from 1), for GitHub code scanning.
//!
//! Schema: SARIF 2.1.0 logs holding one run per Site, in row order. A Site's run is its
//! per-Site SARIF run (`row.files.sarif`, see `report/sarif.rs`) as written, with
//! `automationDetails.id` = `lowpriv/<site>/`: code scanning keeps one category per Site, so
//! one Site's upload never closes another's alerts. The tool and its rules (one per finding
//! kind, in `FindingKind::ALL` order) are the same in every run, so rule ids and indexes are
//! stable across Sites.
//!
//! - A row without a per-Site SARIF file (an error, a Site not run, or a file that cannot be
//!   read) gets a run with no results, the same `tool.driver`, `invocations[0]`
//!   `executionSuccessful: false` and one `toolExecutionNotifications` entry per reason.
//! - GitHub accepts at most [`MAX_RESULTS_PER_RUN`] results a run: a bigger run is split
//!   into parts, each its own run with id `lowpriv/<site>/part-<n>/` (n from 1) and
//!   `properties.part` = `{"index": n, "of": parts}`. A run of exactly the limit stays whole.
//! - GitHub accepts at most [`MAX_RUNS_PER_FILE`] runs a file: runs are packed in order into
//!   files of at most that many. A fleet of no Site still writes `fleet-1.sarif` (no runs),
//!   so an upload step finds its file; `fleet-<k>.sarif` files of an earlier, bigger fleet
//!   are removed, so uploading the folder never sends stale runs.
//!
//! ```json
//! {"version": "2.1.0", "runs": [
//!   {"tool": {...}, "automationDetails": {"id": "lowpriv/acme-payroll/"}, "results": [...]},
//!   {"tool": {...}, "automationDetails": {"id": "lowpriv/hr-portal/"}, "results": [],
//!    "invocations": [{"executionSuccessful": false, "toolExecutionNotifications":
//!      [{"level": "error", "message": {"text": "scenario error: ..."}}]}]}]}
//! ```

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::fleet::{FleetReport, SiteRow, SiteStatus};
use crate::report::ReportError;
use crate::report::sarif::{SCHEMA, tool};

/// GitHub code scanning's limit on runs in one uploaded file.
pub const MAX_RUNS_PER_FILE: usize = 20;
/// GitHub code scanning's limit on results in one run.
pub const MAX_RESULTS_PER_RUN: usize = 25_000;

/// How big a file and a run may get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub runs_per_file: usize,
    pub results_per_run: usize,
}

impl Limits {
    pub const GITHUB: Limits = Limits {
        runs_per_file: MAX_RUNS_PER_FILE,
        results_per_run: MAX_RESULTS_PER_RUN,
    };
}

/// The SARIF logs, one per file in order, within GitHub's limits. Notes say how the output
/// was split and which per-Site files could not be read.
pub fn render(report: &FleetReport, dir: &Path, notes: &mut Vec<String>) -> Vec<Value> {
    render_with(report, dir, Limits::GITHUB, notes)
}

/// [`render`] with other limits (each at least 1).
pub fn render_with(
    report: &FleetReport,
    dir: &Path,
    limits: Limits,
    notes: &mut Vec<String>,
) -> Vec<Value> {
    let mut runs = Vec::new();
    for row in &report.sites {
        let run = site_run(row, dir, &report.lowpriv_version, notes);
        let parts = split(run, &row.name, limits.results_per_run.max(1));
        if parts.len() > 1 {
            notes.push(format!(
                "the SARIF run for site {} is split into {} parts of at most {} results",
                row.name,
                parts.len(),
                limits.results_per_run
            ));
        }
        runs.extend(parts);
    }
    let logs = pack(runs, limits.runs_per_file.max(1));
    if logs.len() > 1 {
        notes.push(format!(
            "the fleet SARIF is split into {} files of at most {} runs",
            logs.len(),
            limits.runs_per_file
        ));
    }
    logs
}

/// Writes the logs as `dir/sarif/fleet-<k>.sarif` and removes higher-numbered ones left by
/// an earlier run.
pub(super) fn write(
    report: &FleetReport,
    dir: &Path,
    notes: &mut Vec<String>,
) -> Result<Vec<PathBuf>, ReportError> {
    let folder = dir.join("sarif");
    // Not `create_dir_all`: a mistyped `dir` is an error, not a new tree.
    match std::fs::create_dir(&folder) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            return Err(ReportError::Write {
                format: "SARIF",
                path: folder,
                source: e,
            });
        }
        _ => {}
    }
    let mut paths = Vec::new();
    for (k, log) in render(report, dir, notes).iter().enumerate() {
        let path = folder.join(file_name(k + 1));
        // Plain data with string keys: serializing cannot fail.
        let mut text = serde_json::to_string_pretty(log).unwrap_or_default();
        text.push('\n');
        super::write("SARIF", &path, &text)?;
        paths.push(path);
    }
    remove_stale(&folder, paths.len());
    Ok(paths)
}

fn file_name(k: usize) -> String {
    format!("fleet-{k}.sarif")
}

/// Best effort: a stale file that cannot be removed is no reason to fail the fleet.
fn remove_stale(folder: &Path, written: usize) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let k = name
            .to_str()
            .and_then(|n| n.strip_prefix("fleet-"))
            .and_then(|n| n.strip_suffix(".sarif"))
            .and_then(|n| n.parse::<usize>().ok());
        if k.is_some_and(|k| k > written) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn category(site: &str) -> String {
    format!("lowpriv/{site}/")
}

/// The Site's per-Site run with its category, or a run without results saying why there is
/// none.
fn site_run(row: &SiteRow, dir: &Path, version: &str, notes: &mut Vec<String>) -> Value {
    let mut why = match super::read_site_file(dir, row.files.sarif.as_deref()) {
        None => Vec::new(),
        Some(Ok(text)) => match single_run(&text) {
            Ok(mut run) => {
                run["automationDetails"] = json!({"id": category(&row.name)});
                return run;
            }
            Err(e) => vec![format!(
                "the per-Site SARIF file {} is not usable: {e}",
                row.files.sarif.as_deref().unwrap_or_default()
            )],
        },
        Some(Err(e)) => vec![e],
    };
    notes.extend(why.iter().map(|w| format!("site {}: {w}", row.name)));
    why.extend(row.reasons.iter().cloned());
    if why.is_empty() {
        why.push(format!("site {}: no per-Site SARIF file", row.name));
    }
    let level = if row.status == SiteStatus::NotRun {
        "warning"
    } else {
        "error"
    };
    let notifications: Vec<Value> = why
        .iter()
        .map(|text| json!({"level": level, "message": {"text": text}}))
        .collect();
    json!({
        "tool": tool(version, |_| None),
        "automationDetails": {"id": category(&row.name)},
        "invocations": [{
            "executionSuccessful": false,
            "toolExecutionNotifications": notifications,
        }],
        "results": [],
        "properties": {
            "site": row.name,
            "baseUrl": row.base_url,
            "verdict": row.verdict,
            "reasons": row.reasons,
        },
    })
}

fn single_run(text: &str) -> Result<Value, String> {
    let mut log: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    match log.get_mut("runs").and_then(Value::as_array_mut) {
        Some(runs) if runs.len() == 1 && runs[0].is_object() => Ok(runs.remove(0)),
        Some(runs) => Err(format!("{} runs, expected one", runs.len())),
        None => Err("no runs".to_string()),
    }
}

/// The run itself when it has at most `max` results; otherwise parts of at most `max`
/// results, each a whole run with its own id.
fn split(mut run: Value, site: &str, max: usize) -> Vec<Value> {
    let count = run["results"].as_array().map_or(0, Vec::len);
    if count <= max {
        return vec![run];
    }
    let results = match run["results"].take() {
        Value::Array(results) => results,
        _ => Vec::new(),
    };
    let parts = results.len().div_ceil(max);
    results
        .chunks(max)
        .enumerate()
        .map(|(i, chunk)| {
            let mut part = run.clone();
            part["results"] = Value::Array(chunk.to_vec());
            part["automationDetails"] = json!({"id": format!("lowpriv/{site}/part-{}/", i + 1)});
            if !part["properties"].is_object() {
                part["properties"] = json!({});
            }
            part["properties"]["part"] = json!({"index": i + 1, "of": parts});
            part
        })
        .collect()
}

/// Runs in order into logs of at most `max` runs; always at least one log.
fn pack(runs: Vec<Value>, max: usize) -> Vec<Value> {
    let log = |runs: &[Value]| json!({"$schema": SCHEMA, "version": "2.1.0", "runs": runs});
    if runs.is_empty() {
        return vec![log(&[])];
    }
    runs.chunks(max).map(log).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::report::fixtures::{Fixture, sarif_schema_errors};

    fn ids(logs: &[Value]) -> Vec<String> {
        logs.iter()
            .flat_map(|log| log["runs"].as_array().cloned().unwrap_or_default())
            .map(|run| run["automationDetails"]["id"].as_str().unwrap().to_string())
            .collect()
    }

    fn result_counts(logs: &[Value]) -> Vec<usize> {
        logs.iter()
            .flat_map(|log| log["runs"].as_array().cloned().unwrap_or_default())
            .map(|run| run["results"].as_array().unwrap().len())
            .collect()
    }

    #[test]
    fn one_run_per_site_with_its_category_and_a_run_for_a_site_without_sarif() {
        let mut f = Fixture::new();
        f.judged("acme", "fail", 1, 3);
        f.judged("wiki", "pass", 0, 0);
        f.failed("broken", "scenario error: unknown identity `admn`");
        f.not_run("late");
        let mut notes = Vec::new();
        let logs = render(&f.report(), f.dir(), &mut notes);
        assert_eq!(logs.len(), 1);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(
            ids(&logs),
            [
                "lowpriv/acme/",
                "lowpriv/broken/",
                "lowpriv/late/",
                "lowpriv/wiki/"
            ]
        );
        assert_eq!(result_counts(&logs), [3, 0, 0, 0]);
        let runs = logs[0]["runs"].as_array().unwrap();
        let broken = &runs[1]["invocations"][0];
        assert_eq!(broken["executionSuccessful"], false);
        assert_eq!(
            broken["toolExecutionNotifications"][0]["message"]["text"],
            "scenario error: unknown identity `admn`"
        );
        assert_eq!(
            runs[2]["invocations"][0]["toolExecutionNotifications"][0]["level"],
            "warning"
        );
        // A judged Site keeps its own invocation: no notification, the run succeeded.
        assert_eq!(runs[3]["invocations"][0]["executionSuccessful"], true);
        assert!(runs[3]["invocations"][0]["toolExecutionNotifications"].is_null());
        // Same rules, same order, in every run: rule ids are stable.
        let rules = |run: &Value| -> Vec<Value> {
            run["tool"]["driver"]["rules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].clone())
                .collect()
        };
        assert!(runs.iter().all(|run| rules(run) == rules(&runs[0])));
        let errors = sarif_schema_errors(&logs[0]);
        assert!(errors.is_empty(), "{errors:#?}");
        // The schema check itself bites: a run without a tool is rejected.
        let mut broken = logs[0].clone();
        broken["runs"][1].as_object_mut().unwrap().remove("tool");
        assert!(!sarif_schema_errors(&broken).is_empty());
    }

    #[test]
    fn an_unreadable_sarif_file_is_a_run_without_results_and_a_note() {
        let mut f = Fixture::new();
        f.judged("acme", "fail", 1, 2);
        f.judged("wiki", "pass", 0, 0);
        std::fs::write(f.dir().join("sites/acme.sarif"), "{not json").unwrap();
        std::fs::remove_file(f.dir().join("sites/wiki.sarif")).unwrap();
        let mut notes = Vec::new();
        let logs = render(&f.report(), f.dir(), &mut notes);
        assert_eq!(result_counts(&logs), [0, 0]);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[0]
                .starts_with("site acme: the per-Site SARIF file sites/acme.sarif is not usable")
        );
        assert!(notes[1].starts_with("site wiki: cannot read"));
        for run in logs[0]["runs"].as_array().unwrap() {
            assert_eq!(run["invocations"][0]["executionSuccessful"], false);
        }
    }

    #[test]
    fn runs_split_above_the_result_limit_and_files_above_the_run_limit() {
        let mut f = Fixture::new();
        f.judged("a", "fail", 1, 5); // 5 results: 3 parts of 2, 2, 1
        f.judged("b", "fail", 1, 2); // exactly the limit: whole
        f.judged("c", "pass", 0, 0);
        f.judged("d", "fail", 1, 1);
        let limits = Limits {
            runs_per_file: 3,
            results_per_run: 2,
        };
        let mut notes = Vec::new();
        let logs = render_with(&f.report(), f.dir(), limits, &mut notes);
        assert_eq!(
            ids(&logs),
            [
                "lowpriv/a/part-1/",
                "lowpriv/a/part-2/",
                "lowpriv/a/part-3/",
                "lowpriv/b/",
                "lowpriv/c/",
                "lowpriv/d/"
            ]
        );
        assert_eq!(result_counts(&logs), [2, 2, 1, 2, 0, 1]);
        let per_file: Vec<usize> = logs
            .iter()
            .map(|l| l["runs"].as_array().unwrap().len())
            .collect();
        assert_eq!(per_file, [3, 3]);
        assert_eq!(
            notes,
            [
                "the SARIF run for site a is split into 3 parts of at most 2 results",
                "the fleet SARIF is split into 2 files of at most 3 runs"
            ]
        );
        assert_eq!(
            logs[0]["runs"][2]["properties"]["part"],
            json!({"index": 3, "of": 3})
        );
        // Every result keeps its rule index valid in its part.
        for log in &logs {
            assert!(sarif_schema_errors(log).is_empty());
        }
    }

    #[test]
    fn exactly_at_the_limits_nothing_splits() {
        let mut f = Fixture::new();
        for i in 0..3 {
            f.judged(&format!("s{i}"), "fail", 1, 2);
        }
        let limits = Limits {
            runs_per_file: 3,
            results_per_run: 2,
        };
        let mut notes = Vec::new();
        let logs = render_with(&f.report(), f.dir(), limits, &mut notes);
        assert_eq!(logs.len(), 1);
        assert_eq!(ids(&logs), ["lowpriv/s0/", "lowpriv/s1/", "lowpriv/s2/"]);
        assert!(notes.is_empty(), "{notes:?}");
    }

    /// GitHub's real limits: 25,000 results stay one run, 25,001 make two; 20 Sites are one
    /// file, 21 two.
    #[test]
    fn the_real_limits() {
        let mut f = Fixture::new();
        f.judged("at", "fail", 1, MAX_RESULTS_PER_RUN);
        f.judged("over", "fail", 1, MAX_RESULTS_PER_RUN + 1);
        for i in 0..18 {
            f.judged(&format!("p{i:02}"), "pass", 0, 0);
        }
        let mut notes = Vec::new();
        let logs = render(&f.report(), f.dir(), &mut notes);
        // 20 Sites, one split in two: 21 runs, so two files.
        assert_eq!(logs.len(), 2);
        let counts = result_counts(&logs);
        assert_eq!(counts.len(), 21);
        assert_eq!(counts[0], MAX_RESULTS_PER_RUN);
        assert_eq!(&counts[1..3], [MAX_RESULTS_PER_RUN, 1]);
        let all = ids(&logs);
        assert_eq!(
            &all[..3],
            [
                "lowpriv/at/",
                "lowpriv/over/part-1/",
                "lowpriv/over/part-2/"
            ]
        );
        let unique: std::collections::BTreeSet<&String> = all.iter().collect();
        assert_eq!(unique.len(), all.len(), "ids are unique");
        assert_eq!(logs[0]["runs"].as_array().unwrap().len(), MAX_RUNS_PER_FILE);
    }

    #[test]
    fn writes_numbered_files_and_removes_stale_ones() {
        let mut f = Fixture::new();
        f.judged("acme", "fail", 1, 1);
        let folder = f.dir().join("sarif");
        std::fs::create_dir_all(&folder).unwrap();
        for name in [
            "fleet-1.sarif",
            "fleet-2.sarif",
            "fleet-x.sarif",
            "other.sarif",
        ] {
            std::fs::write(folder.join(name), "{}").unwrap();
        }
        let paths = write(&f.report(), f.dir(), &mut Vec::new()).unwrap();
        assert_eq!(paths, [folder.join("fleet-1.sarif")]);
        let mut left: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["fleet-1.sarif", "fleet-x.sarif", "other.sarif"]);

        // No Site at all: still one file, with no runs.
        let empty = Fixture::new();
        let paths = write(&empty.report(), empty.dir(), &mut Vec::new()).unwrap();
        let log: Value =
            serde_json::from_str(&std::fs::read_to_string(&paths[0]).unwrap()).unwrap();
        assert_eq!(log["runs"], json!([]));
        assert!(sarif_schema_errors(&log).is_empty());
    }
}
