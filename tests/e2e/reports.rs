//! The file reports (JUnit, SARIF, Markdown, HTML) of the flawed and the fixed demo, each
//! written from the one `RunResult`:
//!
//! - insta snapshots of every format, volatile values redacted (ports, durations, temp dirs);
//! - every format lists the findings by cause: the flawed demo's IDOR (`GET
//!   /api/employees/{id}` for carol and dave over several URLs) is ONE entry naming both and
//!   the URL count, in each of them;
//! - the JUnit file parses, its failures are the finding groups at or above `--fail-on`,
//!   and an inconclusive run shows `<error>`s, never a pass;
//! - the SARIF validates against the official SARIF 2.1.0 schema
//!   (`tests/fixtures/sarif-2.1.0-rtm.5.json`), has one result per group, and its group
//!   fingerprints are stable across runs;
//! - the HTML page renders in headless Chromium (screenshot under
//!   `target/report-artifacts/`), its filters work (driven by the URL fragment, read back
//!   with `--dump-dom`), and it fetches nothing but itself (served by a 127.0.0.1 server that
//!   records every request);
//! - no output contains a demo password, token or the runtime DB secret.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lowpriv::Verdict;
use lowpriv::report::{self, Outputs, html, junit, markdown, sarif, terminal};
use lowpriv::scenario::{Audience, LoginMethod, Secret};
use lowpriv::snapshot::Store;
use lowpriv::{RunOptions, RunResult};
use lowpriv_demo::{DemoConfig, USERS};

use crate::common::*;

fn demo(fixed: bool) -> RunResult {
    run_demo(demo_config(fixed), |_| {}, &fixed_day())
}

/// The demo run compared with a copy of the repository's approved snapshots, so the drift
/// section is populated (flawed) or a match (fixed). Returns the temp dir to redact.
fn compared(fixed: bool) -> (RunResult, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("snapshots")).unwrap();
    std::fs::copy(
        repo().join("snapshots/acme-payroll.snap"),
        dir.path().join("snapshots/acme-payroll.snap"),
    )
    .unwrap();
    let options = RunOptions {
        snapshots: Some(Store::new(dir.path().join("snapshots"))),
        ..fixed_day()
    };
    let result = run_demo(demo_config(fixed), |_| {}, &options);
    (result, dir)
}

/// A run where carol's password is wrong: her login fails, the run is inconclusive.
fn inconclusive() -> RunResult {
    let result = run_demo(
        DemoConfig::default(),
        |scenario| {
            for identity in &mut scenario.identities {
                if identity.name != "carol" {
                    continue;
                }
                if let Some(LoginMethod::Form { fields, .. }) =
                    identity.login.as_mut().map(|l| &mut l.method)
                {
                    for (name, value) in fields.iter_mut() {
                        if name == "password" {
                            *value = Secret::new("not-carols-password");
                        }
                    }
                }
            }
        },
        &fixed_day(),
    );
    assert_eq!(result.summary.verdict, Verdict::Inconclusive);
    result
}

fn all_formats(result: &RunResult) -> [(&'static str, String); 4] {
    [
        ("junit", junit::render(result).unwrap()),
        ("sarif", sarif::render(result)),
        ("markdown", markdown::render(result)),
        ("html", html::render(result).unwrap()),
    ]
}

#[test]
fn flawed_demo_reports() {
    let (result, dir) = compared(false);
    assert_eq!(result.summary.verdict, Verdict::Fail);
    with_redactions(Some(dir.path()), || {
        for (format, text) in all_formats(&result) {
            insta::assert_snapshot!(format!("flawed_{format}"), text);
        }
    });
}

#[test]
fn fixed_demo_reports() {
    let (result, dir) = compared(true);
    assert_eq!(result.summary.verdict, Verdict::Pass);
    with_redactions(Some(dir.path()), || {
        for (format, text) in all_formats(&result) {
            insta::assert_snapshot!(format!("fixed_{format}"), text);
        }
    });
}

/// `--audience company`: the Markdown and HTML reports carry "If the audience widens".
#[test]
fn audience_preview_is_shown() {
    let options = RunOptions {
        audience: Some(Audience::Company),
        ..fixed_day()
    };
    let result = run_demo(DemoConfig::default(), |_| {}, &options);
    assert!(result.audience_preview.is_some());
    let md = markdown::render(&result);
    with_redactions(None, || insta::assert_snapshot!("preview_markdown", md));
    let page = html::render(&result).unwrap();
    assert!(page.contains("If the audience widens to company (from team)"));
    assert!(page.contains("dave (company) joins"));
}

// ---------------------------------------------------------------------------------------
// Groups: one cause, one entry, in every format

/// The flawed demo, run once for the group tests below (they only read it).
fn flawed() -> &'static RunResult {
    static FLAWED: std::sync::OnceLock<RunResult> = std::sync::OnceLock::new();
    FLAWED.get_or_init(|| demo(false))
}

const IDOR: &str = "GET /api/employees/{id}";

/// The flawed demo's IDOR: salaries of every record for carol and dave, a data-exposure
/// group over several URLs. Returns its URL count.
fn idor(result: &RunResult) -> usize {
    let groups: Vec<&lowpriv::judge::FindingGroup> = result
        .groups
        .iter()
        .filter(|g| {
            g.kind == lowpriv::judge::FindingKind::DataExposure
                && g.template.as_deref() == Some("/api/employees/{id}")
        })
        .collect();
    assert_eq!(groups.len(), 1, "{groups:#?}");
    let group = groups[0];
    assert_eq!(group.identities, ["carol", "dave"]);
    assert!(group.urls.len() > 1, "several URLs: {group:?}");
    assert_eq!(group.findings, 2 * group.urls.len());
    assert_eq!(group.data, ["salary"]);
    group.urls.len()
}

#[test]
fn groups_in_the_json_report_and_every_finding_kept() {
    let result = flawed();
    let urls = idor(result);
    let value: serde_json::Value = serde_json::from_str(&report::json::to_string(result)).unwrap();
    let groups = value["groups"].as_array().unwrap();
    let idor: Vec<&serde_json::Value> = groups
        .iter()
        .filter(|g| g["kind"] == "data-exposure" && g["template"] == "/api/employees/{id}")
        .collect();
    assert_eq!(idor.len(), 1);
    assert_eq!(idor[0]["identities"], serde_json::json!(["carol", "dave"]));
    assert_eq!(idor[0]["urls"].as_array().unwrap().len(), urls);
    assert_eq!(idor[0]["findings"], serde_json::json!(2 * urls));
    // `findings` is still the complete list: every finding, and each in exactly one group.
    let findings = value["findings"].as_array().unwrap();
    assert_eq!(findings.len(), result.findings.len());
    let held: u64 = groups.iter().map(|g| g["findings"].as_u64().unwrap()).sum();
    assert_eq!(held as usize, findings.len());
    let idor_findings = findings
        .iter()
        .filter(|f| f["kind"] == "data-exposure" && f["template"] == "/api/employees/{id}")
        .count();
    assert_eq!(idor_findings, 2 * urls);
    assert_eq!(
        value["summary"]["groups_at_or_above_fail_on"],
        serde_json::json!(result.summary.groups_at_or_above_fail_on)
    );

    // Same shape, different cause: kept apart. Three kinds on the IDOR's template are three
    // groups; one rule broken on two templates is two.
    let on_template = |template: &str| -> Vec<&str> {
        groups
            .iter()
            .filter(|g| g["template"] == template)
            .map(|g| g["kind"].as_str().unwrap())
            .collect()
    };
    assert_eq!(
        on_template("/api/employees/{id}"),
        ["data-exposure", "audience-leak", "cross-identity-data"]
    );
    let broken: Vec<&str> = groups
        .iter()
        .filter(|g| g["kind"] == "rule-violation")
        .map(|g| g["template"].as_str().unwrap())
        .collect();
    assert_eq!(
        broken,
        [
            "/admin/users",
            "/api/admin/stats",
            "/data/employees.csv",
            "/data/employees.csv?department={department}"
        ]
    );
}

#[test]
fn groups_in_the_terminal_report() {
    let result = flawed();
    let urls = idor(result);
    let text = terminal::render(result, terminal::Style::default());
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("data-exposure") && l.contains(IDOR))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].contains("carol, dave"), "{}", lines[0]);
    assert!(lines[0].contains(&format!("{urls} URLs")), "{}", lines[0]);
    // The verdict counts causes, and still says how many findings.
    let reason = format!(
        "{} finding group(s) at or above high ({} finding(s))",
        result.summary.groups_at_or_above_fail_on, result.summary.findings_at_or_above_fail_on
    );
    assert!(text.contains(&reason), "{text}");
}

#[test]
fn groups_in_the_markdown_report() {
    let result = flawed();
    let urls = idor(result);
    let md = markdown::render(result);
    let rows: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| data-exposure |") && l.contains(IDOR))
        .collect();
    assert_eq!(rows.len(), 1, "{md}");
    assert!(
        rows[0].contains(&format!("| carol, dave | {urls} URLs |")),
        "{}",
        rows[0]
    );
    // The findings' tables come last, after the matrices and the sources.
    let findings = &md[md.find("### Findings").unwrap()..];
    let finding_rows = findings
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| request") && !l.starts_with("| kind"))
        .filter(|l| !l.starts_with("| GET") && !l.starts_with("| POST"))
        .count();
    assert_eq!(finding_rows, result.groups.len(), "one row per group");
}

#[test]
fn groups_in_the_html_report() {
    let result = flawed();
    let urls = idor(result);
    let page = html::render(result).unwrap();
    let doc = scraper::Html::parse_document(&page);
    let select = |css: &str| scraper::Selector::parse(css).unwrap();
    let rows: Vec<Vec<String>> = doc
        .select(&select("tr.finding"))
        .map(|row| {
            row.select(&select("td"))
                .map(|td| td.text().collect::<String>())
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), result.groups.len(), "one row per group");
    let idor: Vec<&Vec<String>> = rows
        .iter()
        .filter(|cells| cells[1] == "data-exposure" && cells[3] == IDOR)
        .collect();
    assert_eq!(idor.len(), 1, "{rows:#?}");
    assert_eq!(idor[0][2], "carol, dave");
    assert_eq!(idor[0][4], format!("{urls} URLs"));
    let attrs = doc
        .select(&select("tr.finding"))
        .find(|row| row.text().any(|t| t == IDOR) && row.text().any(|t| t == "data-exposure"))
        .unwrap();
    assert_eq!(attrs.value().attr("data-identities"), Some("carol dave"));
}

#[test]
fn groups_in_the_junit_report() {
    let result = flawed();
    let urls = idor(result);
    let report = parse_junit(&junit::render(result).unwrap());
    let cases: Vec<&quick_junit::TestCase> = report.test_suites[0]
        .test_cases
        .iter()
        .filter(|c| {
            c.classname
                .as_ref()
                .is_some_and(|n| n.as_str().ends_with("data salary"))
                && c.name.as_str().contains(IDOR)
        })
        .collect();
    assert_eq!(cases.len(), 1, "{cases:#?}");
    let name = cases[0].name.as_str();
    assert!(name.contains(&format!("{urls} URLs")), "{name}");
    assert!(name.contains("(carol, dave)"), "{name}");
}

#[test]
fn groups_in_the_sarif_report() {
    let result = flawed();
    let urls = idor(result);
    let sarif: serde_json::Value = serde_json::from_str(&sarif::render(result)).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), result.groups.len(), "one result per group");
    let idor: Vec<&serde_json::Value> = results
        .iter()
        .filter(|r| {
            r["ruleId"] == "data-exposure"
                && r["locations"][0]["logicalLocations"][0]["name"] == IDOR
        })
        .collect();
    assert_eq!(idor.len(), 1);
    let r = idor[0];
    assert_eq!(
        r["properties"]["identities"],
        serde_json::json!(["carol", "dave"])
    );
    assert_eq!(r["properties"]["urls"].as_array().unwrap().len(), urls);
    assert_eq!(r["properties"]["findings"], serde_json::json!(2 * urls));
    let message = r["message"]["text"].as_str().unwrap();
    assert!(
        message.ends_with(&format!("; seen by carol, dave over {urls} URLs")),
        "{message}"
    );
    assert_valid_sarif(&sarif);
}

/// The matrix's colour says finding or as expected: alice's own `allow`s are not findings,
/// dave's `allow` on the IDOR template is. Same rule in the HTML classes.
#[test]
fn matrix_cells_say_finding_or_as_expected() {
    let result = flawed();
    let page = html::render(result).unwrap();
    let doc = scraper::Html::parse_document(&page);
    let select = |css: &str| scraper::Selector::parse(css).unwrap();
    let class_of = |request: &str, identity: &str| -> String {
        let row = doc
            .select(&select("#matrix tr"))
            .find(|tr| tr.text().next() == Some(request))
            .unwrap_or_else(|| panic!("{request} row"));
        let cell = row
            .select(&select("td[data-identity]"))
            .find(|td| td.value().attr("data-identity") == Some(identity))
            .unwrap();
        cell.value().attr("class").unwrap().to_string()
    };
    assert_eq!(class_of(IDOR, "dave"), "finding");
    assert_eq!(class_of(IDOR, "alice"), "expected");
    assert_eq!(class_of("GET /dashboard", "alice"), "expected");
    assert_eq!(class_of("GET /dashboard", "anonymous"), "expected");
    // Every allow some finding names is red; none other is.
    let named: std::collections::BTreeSet<(String, String)> = result
        .groups
        .iter()
        .filter(|g| g.kind != lowpriv::judge::FindingKind::Inconclusive)
        .filter_map(|g| Some((g.method.clone()?, g.template.clone()?, &g.identities)))
        .flat_map(|(m, t, ids)| ids.iter().map(move |i| (format!("{m} {t}"), i.clone())))
        .collect();
    for (key, identity, _) in result.exposure.cells() {
        let request = key.to_string();
        let class = class_of(&request, identity);
        let expected = if named.contains(&(request.clone(), identity.to_string())) {
            "finding"
        } else {
            "expected"
        };
        assert_eq!(class, expected, "{request} {identity}");
    }
}

// ---------------------------------------------------------------------------------------
// JUnit

fn parse_junit(xml: &str) -> quick_junit::Report {
    quick_junit::Report::deserialize_from_str(xml).expect("the JUnit report parses")
}

/// (failure elements, error elements) over every testcase.
fn non_successes(report: &quick_junit::Report) -> (usize, usize) {
    let mut counts = (0, 0);
    for case in report.test_suites.iter().flat_map(|s| &s.test_cases) {
        if let quick_junit::TestCaseStatus::NonSuccess { kind, .. } = case.status {
            match kind {
                quick_junit::NonSuccessKind::Failure => counts.0 += 1,
                quick_junit::NonSuccessKind::Error => counts.1 += 1,
            }
        }
    }
    counts
}

#[test]
fn junit_failures_are_the_groups_at_or_above_fail_on() {
    let result = demo(false);
    let report = parse_junit(&junit::render(&result).unwrap());
    let expected = result.summary.groups_at_or_above_fail_on;
    assert!(expected > 0);
    assert!(expected < result.summary.findings_at_or_above_fail_on);
    assert_eq!(report.failures, expected, "the testsuites attribute");
    assert_eq!(report.test_suites.len(), 1, "one suite per Site");
    let suite = &report.test_suites[0];
    assert_eq!(suite.name.as_str(), "acme-payroll");
    assert_eq!(suite.failures, expected, "the testsuite attribute");
    assert_eq!(
        non_successes(&report),
        (expected, 0),
        "the <failure> elements"
    );
    assert_eq!(report.errors, 0);
    // Every check is there, passing or not.
    let classnames: Vec<&str> = suite
        .test_cases
        .iter()
        .filter_map(|c| c.classname.as_ref().map(|n| n.as_str()))
        .collect();
    for check in [
        "audience-leak",
        "unlinked-reachable",
        "secret-exposed",
        "cross-identity-data",
        "inverted-privilege",
        "review-overdue",
        "site-expired",
        "logins",
        "snapshot",
        "[[expect]] scenarios/demo.toml:110:1 access",
        "[[expect]] scenarios/demo.toml:114:1 data salary",
        "[[expect]] scenarios/demo.toml:119:1 actions write",
        "source-bypass",
    ] {
        assert!(classnames.contains(&check), "{check} in {classnames:?}");
    }
    // Below the threshold (medium findings at fail-on high): in <system-out>, not failures.
    let unlinked = suite
        .test_cases
        .iter()
        .find(|c| c.name.as_str() == "unlinked-reachable")
        .unwrap();
    assert!(matches!(
        unlinked.status,
        quick_junit::TestCaseStatus::Success { .. }
    ));
    assert!(
        unlinked
            .system_out
            .as_ref()
            .is_some_and(|o| o.as_str().contains("carol"))
    );

    // A lower threshold counts the medium findings too.
    let options = RunOptions {
        fail_on: lowpriv::judge::Severity::Medium,
        ..fixed_day()
    };
    let medium = run_demo(DemoConfig::default(), |_| {}, &options);
    let report = parse_junit(&junit::render(&medium).unwrap());
    assert_eq!(report.failures, medium.summary.groups_at_or_above_fail_on);
    assert!(report.failures > expected);

    // Snapshot drift is one more failure: the run fails on it too.
    let (drifted, _dir) = compared(false);
    let report = parse_junit(&junit::render(&drifted).unwrap());
    assert_eq!(report.failures, expected + 1);

    // The fixed Site: everything passes.
    let (fixed, _dir) = compared(true);
    let report = parse_junit(&junit::render(&fixed).unwrap());
    assert_eq!((report.failures, report.errors), (0, 0));
    assert!(report.tests >= 9);
}

#[test]
fn an_inconclusive_run_is_errors_never_a_pass() {
    let result = inconclusive();
    let report = parse_junit(&junit::render(&result).unwrap());
    assert!(report.errors > 0, "errors: {}", report.errors);
    let suite = &report.test_suites[0];
    let login = suite
        .test_cases
        .iter()
        .find(|c| c.classname.as_ref().is_some_and(|n| n.as_str() == "logins"))
        .unwrap();
    assert!(
        matches!(
            login.status,
            quick_junit::TestCaseStatus::NonSuccess {
                kind: quick_junit::NonSuccessKind::Error,
                ..
            }
        ),
        "{login:?}"
    );
    assert!(login.name.as_str().contains("carol"));
    // Every format says so.
    assert!(markdown::render(&result).contains("INCONCLUSIVE"));
    assert!(
        html::render(&result)
            .unwrap()
            .contains(r#"class="verdict inconclusive""#)
    );
    let sarif: serde_json::Value = serde_json::from_str(&sarif::render(&result)).unwrap();
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"],
        serde_json::json!(false)
    );
    assert_valid_sarif(&sarif);

    // An inconclusive verdict with no finding behind it still is an error.
    let mut bare = demo(true);
    bare.summary.verdict = Verdict::Inconclusive;
    bare.summary.reasons = vec!["no identity was allowed anything".to_string()];
    let report = parse_junit(&junit::render(&bare).unwrap());
    assert_eq!(report.errors, 1);
}

// ---------------------------------------------------------------------------------------
// SARIF

/// The official SARIF 2.1.0 schema (rtm.5, the one schemastore and GitHub's docs point at),
/// shipped as-is in `tests/fixtures/`, taken from the npm package `@microsoft/jest-sarif`.
fn sarif_schema() -> serde_json::Value {
    let text =
        std::fs::read_to_string(repo().join("tests/fixtures/sarif-2.1.0-rtm.5.json")).unwrap();
    // Its `language` patterns have a stray `]`: a literal in ECMA-262's lenient mode but an
    // error to the validator's meta-schema check. Escaping it keeps the meaning.
    let stray = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert_eq!(
        text.matches(stray).count(),
        2,
        "the schema file is the shipped one"
    );
    let text = text.replace(stray, r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#);
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    schema
}

pub(crate) fn assert_valid_sarif(sarif: &serde_json::Value) {
    let schema = sarif_schema();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF schema errors: {errors:#?}");
}

#[test]
fn sarif_validates_against_the_schema_and_fingerprints_are_stable() {
    let flawed: serde_json::Value = serde_json::from_str(&sarif::render(&demo(false))).unwrap();
    let fixed: serde_json::Value = serde_json::from_str(&sarif::render(&demo(true))).unwrap();
    assert_valid_sarif(&flawed);
    assert_valid_sarif(&fixed);
    // The schema check itself bites: a result without a message is rejected.
    let mut broken = flawed.clone();
    broken["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    assert!(!jsonschema::is_valid(&sarif_schema(), &broken));

    let results = flawed["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    assert!(fixed["runs"][0]["results"].as_array().unwrap().is_empty());
    for r in results {
        let severity = r["properties"]["severity"].as_str().unwrap();
        let level = match severity {
            "critical" | "high" => "error",
            "medium" => "warning",
            _ => "note",
        };
        assert_eq!(r["level"], level);
        let uri = &r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
        assert_eq!(uri, "scenarios/demo.toml");
    }
    // A declared rule points at its [[expect]]; an automatic check at line 1 and the request.
    let rule = results
        .iter()
        .find(|r| r["ruleId"] == "rule-violation")
        .unwrap();
    assert_eq!(
        rule["locations"][0]["physicalLocation"]["region"]["startLine"],
        110
    );
    let leak = results
        .iter()
        .find(|r| r["ruleId"] == "audience-leak")
        .unwrap();
    assert_eq!(
        leak["locations"][0]["physicalLocation"]["region"]["startLine"],
        1
    );
    assert!(leak["locations"][0]["logicalLocations"][0]["name"].is_string());

    // One result per group, each with its own fingerprint.
    let result = demo(false);
    assert_eq!(results.len(), result.groups.len());
    assert!(results.len() < result.findings.len());
    let fingerprints = |v: &serde_json::Value| -> Vec<String> {
        v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["lowprivGroup/v1"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let first = fingerprints(&flawed);
    let unique: std::collections::BTreeSet<&String> = first.iter().collect();
    assert_eq!(
        unique.len(),
        first.len(),
        "no two groups share a fingerprint"
    );
    // Another run (another server, so another port, and another crawl fan-out): the same
    // flaws, the same fingerprints.
    let again = run_demo(
        demo_config(false),
        |s| s.crawl.concurrency = 1,
        &fixed_day(),
    );
    let again: serde_json::Value = serde_json::from_str(&sarif::render(&again)).unwrap();
    assert_eq!(first, fingerprints(&again), "stable across runs");
    // A fingerprint is a hash of the cause only: nothing of the host, port or identities.
    for fingerprint in &first {
        assert_eq!(fingerprint.len(), 16, "{fingerprint}");
        assert!(fingerprint.chars().all(|c| c.is_ascii_hexdigit()));
    }
    // A Site that grew (more records) keeps every alert it had.
    let grown = run_demo(
        DemoConfig {
            extra_employees: 20,
            ..DemoConfig::default()
        },
        |_| {},
        &fixed_day(),
    );
    assert!(
        grown.findings.len() > result.findings.len(),
        "the Site grew"
    );
    let grown: serde_json::Value = serde_json::from_str(&sarif::render(&grown)).unwrap();
    let grown = fingerprints(&grown);
    assert!(
        first.iter().all(|f| grown.contains(f)),
        "{first:?} in {grown:?}"
    );
}

/// Text from the Site (paths, reasons) and from the scenario reaches every format escaped: it
/// can neither open a tag in the HTML page or a PR comment, nor break a Markdown table.
#[test]
fn hostile_text_is_escaped_everywhere() {
    let mut result = demo(true);
    let hostile = "/x/<script>alert(1)</script>|`tick`&amp;";
    result.observations[0].template = hostile.to_string();
    result.observations[0].reason = "<img src=x onerror=alert(2)>".to_string();
    // The matrix is built once per run; an edited result rebuilds it as the run would.
    let columns: Vec<String> = result.identities.iter().map(|i| i.name.clone()).collect();
    result.exposure = lowpriv::snapshot::Matrix::from_observations(
        &result.site.name,
        &columns,
        &result.observations,
    );
    result.findings.push(lowpriv::judge::Finding {
        kind: lowpriv::judge::FindingKind::ReviewOverdue,
        severity: lowpriv::judge::Severity::Low,
        identity: None,
        method: Some("GET".to_string()),
        url: Some(format!("{}x?q=<b>\"'", result.site.base_url)),
        template: Some(hostile.to_string()),
        detail: "a | b `c` <i>d</i> \"e\" 'f'".to_string(),
        rule: None,
        data: Vec::new(),
        accepted: None,
    });
    // The groups are built once per run too.
    result.groups = lowpriv::judge::group(&result.findings);

    let page = html::render(&result).unwrap();
    for raw in ["<script>alert", "<img src=x", "<i>d</i>", "<b>\"'"] {
        assert!(!page.contains(raw), "HTML holds {raw}");
    }
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;|`tick`&amp;amp;"));

    let md = markdown::render(&result);
    for raw in ["<script>", "<img", "<i>"] {
        assert!(!md.contains(raw), "Markdown holds {raw}");
    }
    let row = md.lines().find(|l| l.contains("alert(1)")).unwrap();
    assert!(
        row.contains(r"&lt;script&gt;alert(1)&lt;/script&gt;\|\`tick\`&amp;amp;"),
        "{row}"
    );
    // The row keeps its column count: every `|` in the text is escaped.
    let columns = row.matches('|').count() - row.matches(r"\|").count();
    let header = md.lines().find(|l| l.starts_with("| request |")).unwrap();
    assert_eq!(columns, header.matches('|').count(), "{row}");

    let report = parse_junit(&junit::render(&result).unwrap());
    assert!(report.tests > 0);
    let sarif: serde_json::Value = serde_json::from_str(&sarif::render(&result)).unwrap();
    assert_valid_sarif(&sarif);
}

// ---------------------------------------------------------------------------------------
// Secrets, atomic writes

#[test]
fn no_output_contains_a_secret_and_all_are_written() {
    let (result, dir) = compared(false);
    let outputs = Outputs {
        junit: Some(dir.path().join("lowpriv.xml")),
        sarif: Some(dir.path().join("lowpriv.sarif")),
        markdown: Some(dir.path().join("lowpriv.md")),
        html: Some(dir.path().join("lowpriv.html")),
    };
    report::write_outputs(&result, &outputs).unwrap();
    let inconclusive = inconclusive();
    let mut texts: Vec<(String, String)> = Vec::new();
    for path in [
        &outputs.junit,
        &outputs.sarif,
        &outputs.markdown,
        &outputs.html,
    ] {
        let path = path.as_ref().unwrap();
        texts.push((
            path.display().to_string(),
            std::fs::read_to_string(path).unwrap(),
        ));
    }
    for (format, text) in all_formats(&inconclusive) {
        texts.push((format!("inconclusive {format}"), text));
    }
    for (name, text) in &texts {
        assert!(
            !text.contains("demo-db-"),
            "{name} holds the runtime DB secret"
        );
        for user in USERS {
            assert!(
                !text.contains(user.password),
                "{name} holds {}'s password",
                user.name
            );
            assert!(
                !text.contains(user.token),
                "{name} holds {}'s token",
                user.name
            );
        }
        assert!(!text.contains("not-carols-password"), "{name}");
        // The run probed the HR API as each identity, with that identity's token.
        for var in HR_TOKEN_VARS {
            let token = lowpriv_demo::demo_env(var).unwrap();
            assert!(!text.contains(&token), "{name} holds {var}");
        }
    }
    // The written files are exactly the renderings, and no temp file is left behind.
    assert_eq!(texts[2].1, markdown::render(&result));
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");

    // A path that cannot be written is an error naming the format; the others still land.
    let bad = Outputs {
        junit: Some(dir.path().join("missing/lowpriv.xml")),
        markdown: Some(dir.path().join("second.md")),
        ..Outputs::default()
    };
    let err = report::write_outputs(&result, &bad).unwrap_err();
    assert!(err.to_string().contains("JUnit"), "{err}");
    assert!(dir.path().join("second.md").exists());
}

// ---------------------------------------------------------------------------------------
// HTML in headless Chromium

const CHROMIUM: &str = "/usr/bin/chromium";

/// Chromium, or `None` (with a notice) where it is missing outside CI. In CI (`CI` set) a
/// missing Chromium fails the test: `.ci/run` installs it, so a skip there would hide a gap.
pub(crate) fn chromium() -> Option<&'static str> {
    if Path::new(CHROMIUM).exists() {
        return Some(CHROMIUM);
    }
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("{CHROMIUM} is missing in CI: .ci/run must `apt-get install -y chromium`");
    }
    eprintln!(
        "NOTICE: skipping the headless Chromium checks: {CHROMIUM} is missing \
         (apt-get install -y chromium)"
    );
    None
}

/// Runs Chromium headless on `url` with `extra` flags; kills it after 120 s.
pub(crate) fn chromium_run(binary: &str, extra: &[String], url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(binary);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("chromium starts");
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stdout), &mut text);
        text
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish in 120 s on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap()
}

/// A 127.0.0.1 server that serves the page at `/report.html` and records every request line.
pub(crate) struct PageServer {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PageServer {
    pub(crate) fn start(page: String) -> PageServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log, halt) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !halt.load(Ordering::Relaxed) {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut reader = BufReader::new(&stream);
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    continue;
                }
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
                        break;
                    }
                }
                let line = line.trim().to_string();
                log.lock().unwrap().push(line.clone());
                let (status, body) = if line.starts_with("GET /report.html ") {
                    ("200 OK", page.as_str())
                } else {
                    ("404 Not Found", "not here")
                };
                let mut stream = &stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        PageServer {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    pub(crate) fn url(&self, fragment: &str) -> String {
        format!("http://127.0.0.1:{}/report.html{fragment}", self.port)
    }

    pub(crate) fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn artifacts() -> PathBuf {
    let dir = repo().join("target/report-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn html_renders_filters_and_fetches_nothing_in_chromium() {
    let (result, _dir) = compared(false);
    let page = html::render(&result).unwrap();

    // Static: a strict CSP comes first, and nothing in the page is a resource to fetch.
    let head = &page[..page.find("</head>").unwrap()];
    let csp = head.find("Content-Security-Policy").unwrap();
    assert!(csp < head.find("<style>").unwrap() && csp < head.find("<title>").unwrap());
    assert!(head.contains("default-src 'none'"));
    let resource =
        regex::Regex::new(r#"(?i)(src|href|action|srcset)\s*=\s*"?(https?:|//)|url\(|@import"#)
            .unwrap();
    assert!(!resource.is_match(&page), "{:?}", resource.find(&page));
    for url in regex::Regex::new(r"https?://[^\s<\x22]+")
        .unwrap()
        .find_iter(&page)
    {
        // The only URLs are the Site's and its sources', shown as text.
        assert!(
            std::iter::once(&result.site.base_url)
                .chain(result.sources.iter().map(|s| &s.base_url))
                .any(|base| url.as_str().starts_with(base.trim_end_matches('/'))),
            "{}",
            url.as_str()
        );
    }
    std::fs::write(artifacts().join("demo.html"), &page).unwrap();

    let Some(binary) = chromium() else { return };
    let server = PageServer::start(page);

    // It renders: a screenshot, kept as an artifact.
    let shot = artifacts().join("demo.png");
    let _ = std::fs::remove_file(&shot);
    chromium_run(
        binary,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1400,2000".to_string(),
        ],
        &server.url(""),
    );
    let png = std::fs::read(&shot).expect("chromium wrote the screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    assert!(
        png.len() > 20_000,
        "a page, not a blank: {} bytes",
        png.len()
    );

    // Its filters work: the fragment selects carol and high; the script hides the rest.
    let dom = chromium_run(
        binary,
        &["--dump-dom".to_string()],
        &server.url("#identity=carol&severity=high"),
    );
    std::fs::write(artifacts().join("demo-filtered.html"), &dom).unwrap();
    let doc = scraper::Html::parse_document(&dom);
    let select = |css: &str| scraper::Selector::parse(css).unwrap();
    let mut shown = 0;
    let mut total = 0;
    for row in doc.select(&select("tr.finding")) {
        total += 1;
        // A group row names every identity it holds: shown when any of them is checked.
        let identities = row.value().attr("data-identities").unwrap();
        let severity = row.value().attr("data-severity").unwrap();
        let hidden = row.value().attr("hidden").is_some();
        let names: Vec<&str> = identities.split_whitespace().collect();
        let wanted = (names.is_empty() || names.contains(&"carol")) && severity == "high";
        assert_eq!(!hidden, wanted, "{identities} {severity} hidden={hidden}");
        shown += usize::from(wanted);
    }
    assert_eq!(total, result.groups.len());
    assert!(shown > 0 && shown < total, "{shown} of {total}");
    let count = doc
        .select(&select("#shown-count"))
        .next()
        .unwrap()
        .text()
        .collect::<String>();
    assert_eq!(count, format!("showing {shown} of {total} finding groups"));
    for th in doc.select(&select("#matrix th[data-identity]")) {
        let name = th.value().attr("data-identity").unwrap();
        assert_eq!(
            th.value().attr("hidden").is_none(),
            name == "carol",
            "{name}"
        );
    }
    // One identity checkbox per identity in the matrix.
    let identity_boxes = doc.select(&select(r#"input[name="identity"]"#)).count();
    assert_eq!(identity_boxes, result.identities.len());

    // The provenance filter: with only `openapi` checked, a matrix row shows only when one
    // of its URLs was found in the API description.
    let dom = chromium_run(
        binary,
        &["--dump-dom".to_string()],
        &server.url("#via=openapi"),
    );
    let doc = scraper::Html::parse_document(&dom);
    let (mut shown, mut rows) = (0, 0);
    for row in doc.select(&select("#matrix tr[data-via]")) {
        let vias: Vec<&str> = row
            .value()
            .attr("data-via")
            .unwrap()
            .split_whitespace()
            .collect();
        if vias.is_empty() {
            continue;
        }
        rows += 1;
        let visible = row.value().attr("hidden").is_none();
        assert_eq!(visible, vias.contains(&"openapi"), "{vias:?}");
        shown += usize::from(visible);
    }
    assert!(
        shown > 0 && shown < rows,
        "{shown} of {rows} rows found via openapi"
    );
    let via_boxes: Vec<String> = doc
        .select(&select(r#"input[name="via"]"#))
        .map(|b| b.value().attr("value").unwrap().to_string())
        .collect();
    for via in ["seed", "html", "js", "openapi", "robots"] {
        assert!(via_boxes.iter().any(|b| b == via), "{via_boxes:?}");
    }

    // It fetched nothing but itself (once per Chromium run).
    let requests = server.requests();
    assert!(
        requests.iter().all(|r| r.starts_with("GET /report.html ")),
        "{requests:?}"
    );
    assert_eq!(requests.len(), 3, "{requests:?}");
}
