//! Hand-built fleet reports with per-Site files in a temp folder, for the fleet renderers'
//! tests.

use std::collections::BTreeMap;
use std::path::Path;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde_json::{Value, json};

use crate::fleet::{
    FLEET_SCHEMA_VERSION, FleetFinding, FleetFindingKind, FleetReport, FleetSource, FleetSummary,
    SiteFiles, SiteRow, SiteStatus, SnapshotCell,
};
use crate::judge::FindingKind;

pub struct Fixture {
    dir: tempfile::TempDir,
    pub rows: Vec<SiteRow>,
    pub governance: Vec<FleetFinding>,
    pub missing: Vec<String>,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("sites")).unwrap();
        Fixture {
            dir,
            rows: Vec::new(),
            governance: Vec::new(),
            missing: Vec::new(),
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A Site that ran, with `results` high finding groups and its SARIF, JUnit and HTML
    /// files written as the per-Site reporters would shape them.
    pub fn judged(
        &mut self,
        name: &str,
        verdict: &str,
        exit_code: i32,
        results: usize,
    ) -> &mut SiteRow {
        let sites = self.dir.path().join("sites");
        std::fs::write(
            sites.join(format!("{name}.sarif")),
            site_sarif(name, results),
        )
        .unwrap();
        std::fs::write(
            sites.join(format!("{name}.junit.xml")),
            site_junit(name, results),
        )
        .unwrap();
        std::fs::write(sites.join(format!("{name}.html")), "<!DOCTYPE html>").unwrap();
        let mut row = row(name, SiteStatus::Judged, verdict, exit_code);
        row.owner = Some("platform@acme.test".to_string());
        row.audience = Some("team".to_string());
        row.data_sources = vec!["payroll-db".to_string()];
        row.last_review = Some("2026-06-01".to_string());
        row.review_due = Some("2026-12-01".to_string());
        row.data_by_tier = BTreeMap::from([
            ("company".to_string(), vec!["email".to_string()]),
            (
                "team".to_string(),
                vec!["email".to_string(), "salary".to_string()],
            ),
        ]);
        if results > 0 {
            row.groups_by_severity = BTreeMap::from([("high".to_string(), results)]);
            row.findings_by_severity = row.groups_by_severity.clone();
        }
        row.snapshot = Some(SnapshotCell {
            status: "unchanged".to_string(),
            ..SnapshotCell::default()
        });
        row.files = SiteFiles {
            json: Some(format!("sites/{name}.json")),
            junit: Some(format!("sites/{name}.junit.xml")),
            sarif: Some(format!("sites/{name}.sarif")),
            markdown: Some(format!("sites/{name}.md")),
            html: Some(format!("sites/{name}.html")),
        };
        self.push(row)
    }

    /// A Site whose run could not start: no per-Site files.
    pub fn failed(&mut self, name: &str, reason: &str) -> &mut SiteRow {
        let mut row = row(name, SiteStatus::Error, "error", 2);
        row.reasons = vec![reason.to_string()];
        self.push(row)
    }

    pub fn not_run(&mut self, name: &str) -> &mut SiteRow {
        let mut row = row(name, SiteStatus::NotRun, "not-run", 3);
        row.reasons = vec!["the fleet was interrupted before this Site started".to_string()];
        self.push(row)
    }

    fn push(&mut self, row: SiteRow) -> &mut SiteRow {
        self.rows.push(row);
        self.rows.last_mut().unwrap()
    }

    pub fn governance(&mut self, site: &str, kind: FleetFindingKind, severity: &str, why: &str) {
        self.governance.push(FleetFinding {
            site: site.to_string(),
            kind,
            severity: severity.to_string(),
            why: why.to_string(),
        });
    }

    /// The report, with the summary the fleet runner would compute.
    pub fn report(&self) -> FleetReport {
        let mut sites = self.rows.clone();
        sites.sort_by(|a, b| a.name.cmp(&b.name));
        let exit_code = sites
            .iter()
            .map(|r| r.exit_code)
            .chain(self.missing.iter().map(|_| 3))
            .max()
            .unwrap_or(0);
        let mut by_verdict = BTreeMap::new();
        for row in &sites {
            *by_verdict.entry(row.verdict.clone()).or_insert(0) += 1;
        }
        let worst: Vec<String> = sites
            .iter()
            .filter(|r| r.exit_code == exit_code)
            .map(|r| r.name.clone())
            .collect();
        let reasons = worst
            .iter()
            .map(|w| format!("site {w} ends with exit code {exit_code}"))
            .collect();
        let mut inventory: Vec<String> = sites
            .iter()
            .map(|r| r.name.clone())
            .chain(self.missing.iter().cloned())
            .collect();
        inventory.sort();
        FleetReport {
            schema: FLEET_SCHEMA_VERSION,
            kind: "lowpriv-fleet".to_string(),
            lowpriv_version: "0.1.0".to_string(),
            source: FleetSource::Run {
                jobs: 4,
                duration_ms: 1234,
            },
            inventory,
            summary: FleetSummary {
                exit_code,
                sites: sites.len(),
                by_verdict,
                worst,
                reasons,
                governance_findings: self.governance.len(),
            },
            sites,
            governance: self.governance.clone(),
            duplicates: Vec::new(),
            missing: self.missing.clone(),
        }
    }
}

fn row(name: &str, status: SiteStatus, verdict: &str, exit_code: i32) -> SiteRow {
    SiteRow {
        name: name.to_string(),
        scenario: format!("scenarios/{name}.toml"),
        status,
        verdict: verdict.to_string(),
        exit_code,
        reasons: Vec::new(),
        base_url: Some(format!("http://{name}.test/")),
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
        requests: 10,
        duration_ms: 100,
        files: SiteFiles::default(),
    }
}

/// A per-Site SARIF log shaped as `report::sarif` writes it: one run, the shared tool,
/// `results` audience-leak results.
fn site_sarif(name: &str, results: usize) -> String {
    let index = FindingKind::ALL
        .iter()
        .position(|k| *k == FindingKind::AudienceLeak)
        .unwrap();
    let results: Vec<Value> = (0..results)
        .map(|i| {
            json!({
                "ruleId": "audience-leak",
                "ruleIndex": index,
                "level": "error",
                "message": {"text": format!("dave reaches /r/{i}")},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": format!("scenarios/{name}.toml")},
                    "region": {"startLine": 1}}}],
                "partialFingerprints": {"lowprivGroup/v1": format!("{i:016x}")},
            })
        })
        .collect();
    let log = json!({
        "$schema": crate::report::sarif::SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": crate::report::sarif::tool("0.1.0", |_| None),
            "automationDetails": {"id": format!("lowpriv/{name}/")},
            "invocations": [{"executionSuccessful": true}],
            "results": results,
            "properties": {"site": name},
        }],
    });
    serde_json::to_string(&log).unwrap()
}

/// A per-Site JUnit file as `report::junit` writes it: one suite named after the Site, one
/// failing case per group (or one passing case).
fn site_junit(name: &str, failures: usize) -> String {
    let mut suite = TestSuite::new(name);
    for i in 0..failures {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status.set_message(format!("dave reaches /r/{i}"));
        let mut case = TestCase::new(format!("audience-leak: GET /r/{i} (dave)"), status);
        case.set_classname("audience-leak");
        suite.add_test_case(case);
    }
    let mut ok = TestCase::new("logins", TestCaseStatus::success());
    ok.set_classname("logins");
    suite.add_test_case(ok);
    let mut report = Report::new("lowpriv");
    report.add_test_suite(suite);
    report.to_string().unwrap()
}

/// The official SARIF 2.1.0 schema's complaints about `log` (none when valid).
pub fn sarif_schema_errors(log: &Value) -> Vec<String> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/sarif-2.1.0-rtm.5.json");
    let text = std::fs::read_to_string(path).unwrap();
    // Its `language` patterns have a stray `]` the validator's meta-schema check rejects;
    // escaping it keeps the meaning (as tests/e2e/reports.rs does).
    let stray = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    let text = text.replace(stray, r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#);
    let schema: Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    validator
        .iter_errors(log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}
