//! The JUnit XML report (`--junit FILE`), for CI systems that render test results (GitLab,
//! Jenkins, Azure Pipelines, GitHub test-report actions). Written with `quick-junit`, the
//! serializer nextest uses.
//!
//! Schema: one `<testsuites name="lowpriv">` holding one `<testsuite>` per Site, named after
//! it. Its testcases are the checks of the run, each with `classname` = the check:
//!
//! - one check per declared `[[expect]]` (passing when it held), named by its location
//!   (`[[expect]] scenarios/demo.toml:88:1 access`, or `... data salary` for a data rule);
//! - one per automatic check kind: `audience-leak`, `unlinked-reachable`, `secret-exposed`,
//!   `cross-identity-data`, `inverted-privilege`, `review-overdue`, `site-expired`;
//! - `logins` (every identity's session) and `snapshot` (the comparison with the approved
//!   exposure snapshot; `<skipped>` when none was made).
//!
//! A check with no finding at or above `summary.fail_on` is ONE passing testcase; findings
//! below the threshold are listed in its `<system-out>`. A check with findings at or above
//! the threshold becomes one failing testcase PER FINDING (`audience-leak: dave GET
//! /admin/users`), whose `<failure>` carries the detail, severity, identity, URL and rule. So:
//!
//! - `failures` = the findings at or above `--fail-on` (`summary.findings_at_or_above_fail_on`
//!   less the `login-failed` and `inconclusive` ones below), plus one when the snapshot
//!   comparison failed the run. Counting findings, not checks, keeps the number CI shows equal
//!   to the number the terminal and JSON reports show, and equal to the `<failure>` elements
//!   a renderer counts itself.
//! - An inconclusive run is never a pass: each `login-failed` and `inconclusive` finding is an
//!   `<error>` testcase (under `logins` or `inconclusive`), and an inconclusive verdict with
//!   no such finding is one `<error>` testcase `verdict` carrying the reasons. `errors` > 0
//!   exactly when the verdict is inconclusive.
//!
//! ```xml
//! <testsuites name="lowpriv" tests="12" failures="2" errors="0">
//!   <testsuite name="acme-payroll" tests="12" failures="2" errors="0" time="0.812">
//!     <properties><property name="verdict" value="fail"/>...</properties>
//!     <testcase name="audience-leak: dave GET /reports/quarterly" classname="audience-leak">
//!       <failure message="dave (company tier) is outside ..." type="audience-leak (high)">
//!         severity: high ... url: http://127.0.0.1:8080/reports/quarterly
//!       </failure>
//!     </testcase>
//!     <testcase name="unlinked-reachable" classname="unlinked-reachable"/>
//!   </testsuite>
//! </testsuites>
//! ```

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::ReportError;
use crate::RunResult;
use crate::judge::{Finding, FindingKind};
use crate::snapshot::Status;
use crate::verdict::Verdict;

pub fn render(result: &RunResult) -> Result<String, ReportError> {
    report(result).to_string().map_err(|e| ReportError::Render {
        format: "JUnit",
        source: Box::new(e),
    })
}

/// The report as a data model, for callers that embed it in a larger one.
pub fn report(result: &RunResult) -> Report {
    let mut report = Report::new("lowpriv");
    report.add_test_suite(suite(result));
    report.set_time(Duration::from_millis(
        u64::try_from(result.summary.duration_ms).unwrap_or(u64::MAX),
    ));
    report
}

fn suite(result: &RunResult) -> TestSuite {
    let summary = &result.summary;
    let mut suite = TestSuite::new(result.site.name.as_str());
    suite.set_time(Duration::from_millis(
        u64::try_from(summary.duration_ms).unwrap_or(u64::MAX),
    ));
    suite.add_properties([
        Property::new("verdict", summary.verdict.as_str()),
        Property::new("fail_on", summary.fail_on.as_str()),
        Property::new("base_url", result.site.base_url.as_str()),
        Property::new("audience", result.site.evaluated_audience.as_str()),
        Property::new("scenario", result.scenario.as_str()),
    ]);
    let mut out = format!("verdict: {}\n", summary.verdict.as_str());
    for reason in &summary.reasons {
        let _ = writeln!(out, "- {reason}");
    }
    suite.set_system_out(out);

    let origin = result.site.base_url.trim_end_matches('/');
    let case = |check: &str, finding: &Finding, kind: NonSuccessKind| {
        finding_case(origin, check, finding, kind)
    };
    let at_or_above = |f: &&Finding| f.severity >= summary.fail_on;

    // Declared `[[expect]]`s, by location: every one the scenario holds (those that held pass),
    // and any finding's rule among them.
    let mut declared: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
    for expect in &result.expectations {
        let label = match (&expect.data, expect.kind) {
            (Some(class), "data") => format!("[[expect]] {} data {class}", expect.location),
            _ => format!("[[expect]] {} access", expect.location),
        };
        declared.entry(label).or_default();
    }
    for finding in &result.findings {
        if matches!(
            finding.kind,
            FindingKind::RuleViolation | FindingKind::DataExposure
        ) {
            declared
                .entry(declared_label(finding))
                .or_default()
                .push(finding);
        }
    }
    for (label, findings) in &declared {
        check_cases(&mut suite, label, findings, &at_or_above, &case);
    }
    // The automatic checks: each is a testcase even when it found nothing, so a CI history
    // shows the check ran and passed.
    for kind in FindingKind::ALL.into_iter().filter(|k| k.is_automatic()) {
        let findings: Vec<&Finding> = result.findings.iter().filter(|f| f.kind == kind).collect();
        check_cases(&mut suite, kind.as_str(), &findings, &at_or_above, &case);
    }

    // Logins: a failed login is an error (the run cannot be judged), never a failure or a pass.
    let failed_logins: Vec<&Finding> = result
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::LoginFailed)
        .collect();
    let mut errors = failed_logins.len();
    if failed_logins.is_empty() {
        let mut ok = TestCase::new("logins", TestCaseStatus::success());
        ok.set_classname("logins");
        let mut out = String::new();
        for identity in &result.identities {
            let _ = writeln!(
                out,
                "{}: {} ({})",
                identity.name,
                if identity.logged_in {
                    "session ok"
                } else {
                    "no session"
                },
                identity.login
            );
        }
        ok.set_system_out(out);
        suite.add_test_case(ok);
    }
    for finding in failed_logins {
        suite.add_test_case(case("logins", finding, NonSuccessKind::Error));
    }
    for finding in result
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::Inconclusive)
    {
        errors += 1;
        suite.add_test_case(case("inconclusive", finding, NonSuccessKind::Error));
    }
    if summary.verdict == Verdict::Inconclusive && errors == 0 {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status
            .set_message("the run is inconclusive")
            .set_type("inconclusive")
            .set_description(summary.reasons.join("\n"));
        let mut verdict = TestCase::new("verdict", status);
        verdict.set_classname("verdict");
        suite.add_test_case(verdict);
    }

    suite.add_test_case(snapshot_case(result));
    suite
}

/// One check's testcases: one passing testcase, or one failing testcase per finding at or
/// above the threshold. Findings below it go to the first testcase's `<system-out>`.
fn check_cases(
    suite: &mut TestSuite,
    check: &str,
    findings: &[&Finding],
    at_or_above: &dyn Fn(&&Finding) -> bool,
    case: &dyn Fn(&str, &Finding, NonSuccessKind) -> TestCase,
) {
    let (failing, below): (Vec<&Finding>, Vec<&Finding>) =
        findings.iter().copied().partition(|f| at_or_above(f));
    let mut cases: Vec<TestCase> = Vec::new();
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for finding in failing {
        let mut testcase = case(check, finding, NonSuccessKind::Failure);
        // Two findings of one check on one request (two secrets in one answer) keep apart:
        // some renderers merge testcases of the same name.
        let seen = names.entry(testcase.name.as_str().to_string()).or_insert(0);
        *seen += 1;
        if *seen > 1 {
            testcase.name = format!("{} #{seen}", testcase.name.as_str()).into();
        }
        cases.push(testcase);
    }
    if cases.is_empty() {
        let mut ok = TestCase::new(check, TestCaseStatus::success());
        ok.set_classname(check);
        cases.push(ok);
    }
    if !below.is_empty()
        && let Some(first) = cases.first_mut()
    {
        let mut out = format!("{} finding(s) below --fail-on:\n", below.len());
        for finding in below {
            let _ = writeln!(out, "{}", describe(finding));
        }
        first.set_system_out(out);
    }
    suite.add_test_cases(cases);
}

fn finding_case(origin: &str, check: &str, finding: &Finding, kind: NonSuccessKind) -> TestCase {
    let mut target = String::new();
    if let Some(identity) = &finding.identity {
        target.push_str(identity);
    }
    if let (Some(method), Some(url)) = (&finding.method, &finding.url) {
        let path = url.strip_prefix(origin).unwrap_or(url);
        let _ = write!(target, " {method} {path}");
    }
    let name = if target.is_empty() {
        // Site-wide findings (review-overdue, an [[expect]] that matched nothing) have no
        // identity or URL: the detail tells them apart.
        format!("{check}: {}", finding.detail)
    } else {
        format!("{check}: {}", target.trim_start())
    };
    let mut status = TestCaseStatus::non_success(kind);
    status
        .set_message(finding.detail.as_str())
        .set_type(format!(
            "{} ({})",
            finding.kind.as_str(),
            finding.severity.as_str()
        ))
        .set_description(describe(finding));
    let mut case = TestCase::new(name, status);
    case.set_classname(check);
    case
}

/// A finding as `key: value` lines: what a CI log shows under a failure.
fn describe(finding: &Finding) -> String {
    let mut text = format!(
        "{} ({}): {}\n",
        finding.kind.as_str(),
        finding.severity.as_str(),
        finding.detail
    );
    let fields = [
        ("identity", finding.identity.clone()),
        (
            "request",
            finding
                .method
                .as_ref()
                .zip(finding.url.as_ref())
                .map(|(m, u)| format!("{m} {u}")),
        ),
        ("template", finding.template.clone()),
        (
            "data",
            (!finding.data.is_empty()).then(|| finding.data.join(", ")),
        ),
        ("rule", finding.rule.clone()),
    ];
    for (key, value) in fields {
        if let Some(value) = value {
            let _ = writeln!(text, "  {key}: {value}");
        }
    }
    text
}

/// `[[expect]] FILE:LINE:COL access` or `... data CLASS`: the declared rule a finding comes
/// from, by its location in the scenario.
fn declared_label(finding: &Finding) -> String {
    let location = finding.rule.as_deref().unwrap_or("(no location)");
    match finding.kind {
        FindingKind::DataExposure if !finding.data.is_empty() => {
            format!("[[expect]] {location} data {}", finding.data.join(", "))
        }
        _ => format!("[[expect]] {location} access"),
    }
}

fn snapshot_case(result: &RunResult) -> TestCase {
    let Some(snapshot) = &result.snapshot else {
        let mut status = TestCaseStatus::skipped();
        status.set_message("no snapshot comparison in this run");
        let mut case = TestCase::new("snapshot", status);
        case.set_classname("snapshot");
        return case;
    };
    // The run's own verdict says whether the comparison failed it: `compare_snapshot` adds
    // the snapshot's message to the reasons exactly then.
    let failed_run = result.summary.reasons.contains(&snapshot.message);
    let status = match snapshot.status {
        Status::Skipped => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(snapshot.message.as_str());
            status
        }
        _ if failed_run => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let mut text = String::new();
            for change in &snapshot.changes {
                let _ = writeln!(text, "{:?}: {}", change.direction, change.sentence());
            }
            if !snapshot.diff.is_empty() {
                text.push('\n');
                text.push_str(&snapshot.diff);
            }
            status
                .set_message(snapshot.message.as_str())
                .set_type(format!("snapshot {:?}", snapshot.status).to_lowercase())
                .set_description(text);
            status
        }
        _ => TestCaseStatus::success(),
    };
    let mut case = TestCase::new("snapshot", status);
    case.set_classname("snapshot");
    if matches!(case.status, TestCaseStatus::Success { .. }) {
        case.set_system_out(snapshot.message.as_str());
    }
    case
}
