//! The JUnit XML report (`--junit FILE`), for CI systems that render test results (GitLab,
//! Jenkins, Azure Pipelines, GitHub test-report actions). Written with `quick-junit`, the
//! serializer nextest uses.
//!
//! Schema: one `<testsuites name="lowpriv">` holding one `<testsuite>` per Site, named after
//! it. Its testcases are the checks of the run, each with `classname` = the check:
//!
//! - one check per declared `[[expect]]` (passing when it held), named by its location
//!   (`[[expect]] scenarios/demo.toml:88:1 access`, `... data salary` for a data rule, or
//!   `... actions write` for an actions rule, whose `action-exposure`, `forbidden-action` and
//!   `unauthorized-write` groups fail it);
//! - one per automatic check kind: `audience-leak`, `unlinked-reachable`, `secret-exposed`,
//!   `cross-identity-data`, `inverted-privilege`, `review-overdue`, `site-expired`;
//! - `source-bypass` when the scenario has a `[[source]]` (or a group of that kind exists);
//! - `logins` (every identity's session) and `snapshot` (the comparison with the approved
//!   exposure snapshot; `<skipped>` when none was made).
//!
//! The testcases are the run's finding GROUPS (`RunResult.groups`: one per cause, a kind on
//! one method and template with one rule or data class), not its findings: an IDOR over a
//! hundred records seen by two identities is one failing testcase, not two hundred. A check
//! with no group at or above `summary.fail_on` is ONE passing testcase; groups below the
//! threshold are listed in its `<system-out>`. A check with groups at or above the threshold
//! becomes one failing testcase PER GROUP (`data-exposure: GET /api/employees/{id} · 5 URLs
//! (carol, dave)`), whose `<failure>` carries the why, severity, identities, the URLs (the
//! first ten, and how many more), the data classes and the rule. So:
//!
//! - `failures` = the groups at or above `--fail-on` (`summary.groups_at_or_above_fail_on`
//!   less the `login-failed` and `inconclusive` ones below), plus one when the snapshot
//!   comparison failed the run. Counting groups keeps the number CI shows equal to the
//!   number of causes the terminal and Markdown reports list and the verdict's reason
//!   counts, and equal to the `<failure>` elements a renderer counts itself.
//! - An inconclusive run is never a pass: each `login-failed` and `inconclusive` group is an
//!   `<error>` testcase (under `logins` or `inconclusive`), and an inconclusive verdict with
//!   no such group is one `<error>` testcase `verdict` carrying the reasons. `errors` > 0
//!   exactly when the verdict is inconclusive.
//!
//! ```xml
//! <testsuites name="lowpriv" tests="12" failures="2" errors="0">
//!   <testsuite name="acme-payroll" tests="12" failures="2" errors="0" time="0.812">
//!     <properties><property name="verdict" value="fail"/>...</properties>
//!     <testcase name="audience-leak: GET /reports/quarterly (dave)" classname="audience-leak">
//!       <failure message="dave (company tier) is outside ..." type="audience-leak (high)">
//!         audience-leak (high): ... identities: dave ... urls: http://127.0.0.1:8080/reports/quarterly
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
use crate::judge::{FindingGroup, FindingKind};
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
    let case = |check: &str, group: &FindingGroup, kind: NonSuccessKind| {
        group_case(origin, check, group, kind)
    };
    let at_or_above = |g: &&FindingGroup| g.severity >= summary.fail_on;
    let groups = super::groups(result);

    // Declared `[[expect]]`s, by location: every one the scenario holds (those that held pass),
    // and any group's rule among them.
    let mut declared: BTreeMap<String, Vec<&FindingGroup>> = BTreeMap::new();
    for expect in &result.expectations {
        let label = match (&expect.data, expect.kind, expect.action_kind) {
            (Some(class), "data", _) => format!("[[expect]] {} data {class}", expect.location),
            (_, "actions", Some(kind)) => {
                format!("[[expect]] {} actions {}", expect.location, kind.as_str())
            }
            _ => format!("[[expect]] {} access", expect.location),
        };
        declared.entry(label).or_default();
    }
    for group in groups {
        if matches!(
            group.kind,
            FindingKind::RuleViolation
                | FindingKind::DataExposure
                | FindingKind::ActionExposure
                | FindingKind::ForbiddenAction
                | FindingKind::UnauthorizedWrite
        ) {
            declared
                .entry(declared_label(group, &result.expectations))
                .or_default()
                .push(group);
        }
    }
    for (label, groups) in &declared {
        check_cases(&mut suite, label, groups, &at_or_above, &case);
    }
    // The automatic checks: each is a testcase even when it found nothing, so a CI history
    // shows the check ran and passed.
    for kind in FindingKind::ALL.into_iter().filter(|k| k.is_automatic()) {
        let of_kind: Vec<&FindingGroup> = groups.iter().filter(|g| g.kind == kind).collect();
        check_cases(&mut suite, kind.as_str(), &of_kind, &at_or_above, &case);
    }
    // Derived from the sources: a check of its own whenever the scenario has one, so a run
    // with sources shows the comparison ran.
    let bypasses: Vec<&FindingGroup> = groups
        .iter()
        .filter(|g| g.kind == FindingKind::SourceBypass)
        .collect();
    if !result.sources.is_empty() || !bypasses.is_empty() {
        let check = FindingKind::SourceBypass.as_str();
        check_cases(&mut suite, check, &bypasses, &at_or_above, &case);
    }

    // Logins: a failed login is an error (the run cannot be judged), never a failure or a pass.
    let failed_logins: Vec<&FindingGroup> = groups
        .iter()
        .filter(|g| g.kind == FindingKind::LoginFailed)
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
    for group in failed_logins {
        suite.add_test_case(case("logins", group, NonSuccessKind::Error));
    }
    for group in groups
        .iter()
        .filter(|g| g.kind == FindingKind::Inconclusive)
    {
        errors += 1;
        suite.add_test_case(case("inconclusive", group, NonSuccessKind::Error));
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

/// One check's testcases: one passing testcase, or one failing testcase per group at or
/// above the threshold. Groups below it go to the first testcase's `<system-out>`.
fn check_cases(
    suite: &mut TestSuite,
    check: &str,
    groups: &[&FindingGroup],
    at_or_above: &dyn Fn(&&FindingGroup) -> bool,
    case: &dyn Fn(&str, &FindingGroup, NonSuccessKind) -> TestCase,
) {
    let (failing, below): (Vec<&FindingGroup>, Vec<&FindingGroup>) =
        groups.iter().copied().partition(|g| at_or_above(g));
    let mut cases: Vec<TestCase> = Vec::new();
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for group in failing {
        let mut testcase = case(check, group, NonSuccessKind::Failure);
        // Two groups of one check on one request (two secrets in one answer) keep apart:
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
        let mut out = format!("{} finding group(s) below --fail-on:\n", below.len());
        for group in below {
            let _ = writeln!(out, "{}", describe(group));
        }
        first.set_system_out(out);
    }
    suite.add_test_cases(cases);
}

/// `check: GET /api/employees/{id} · 5 URLs (carol, dave)`: what and where, as the terminal
/// writes it, then who.
fn group_case(origin: &str, check: &str, group: &FindingGroup, kind: NonSuccessKind) -> TestCase {
    let name = match super::group_target(group, origin) {
        Some(target) if group.identities.is_empty() => format!("{check}: {target}"),
        Some(target) => format!("{check}: {target} ({})", group.identities.join(", ")),
        // Site-wide groups (review-overdue, an [[expect]] that matched nothing, a failed
        // login) have no request: the why tells them apart.
        None => format!("{check}: {}", group.why),
    };
    let mut status = TestCaseStatus::non_success(kind);
    status
        .set_message(group.why.as_str())
        .set_type(format!(
            "{} ({})",
            group.kind.as_str(),
            group.severity.as_str()
        ))
        .set_description(describe(group));
    let mut case = TestCase::new(name, status);
    case.set_classname(check);
    case
}

/// How many URLs a group's description lists: enough to start from, short enough for a CI
/// log; the JSON report has them all.
const URLS_LISTED: usize = 10;

/// A group as `key: value` lines: what a CI log shows under a failure.
fn describe(group: &FindingGroup) -> String {
    let mut text = format!(
        "{} ({}): {}\n",
        group.kind.as_str(),
        group.severity.as_str(),
        group.why
    );
    let mut urls: Vec<String> = group.urls.iter().take(URLS_LISTED).cloned().collect();
    if group.urls.len() > URLS_LISTED {
        urls.push(format!("… and {} more", group.urls.len() - URLS_LISTED));
    }
    let fields = [
        (
            "identities",
            (!group.identities.is_empty()).then(|| group.identities.join(", ")),
        ),
        ("request", super::group_request(group)),
        ("findings", Some(group.findings.to_string())),
        ("urls", (!urls.is_empty()).then(|| urls.join(", "))),
        (
            "data",
            (!group.data.is_empty()).then(|| group.data.join(", ")),
        ),
        ("rule", group.rule.clone()),
    ];
    for (key, value) in fields {
        if let Some(value) = value {
            let _ = writeln!(text, "  {key}: {value}");
        }
    }
    text
}

/// `[[expect]] FILE:LINE:COL access`, `... data CLASS` or `... actions KIND`: the declared
/// rule a group comes from, by its location in the scenario.
fn declared_label(group: &FindingGroup, expectations: &[crate::ExpectationReport]) -> String {
    let location = group.rule.as_deref().unwrap_or("(no location)");
    match group.kind {
        FindingKind::DataExposure if !group.data.is_empty() => {
            format!("[[expect]] {location} data {}", group.data.join(", "))
        }
        FindingKind::ActionExposure
        | FindingKind::ForbiddenAction
        | FindingKind::UnauthorizedWrite => {
            let kind = expectations
                .iter()
                .find(|e| Some(e.location.as_str()) == group.rule.as_deref())
                .and_then(|e| e.action_kind);
            match kind {
                Some(kind) => format!("[[expect]] {location} actions {}", kind.as_str()),
                None => format!("[[expect]] {location} actions"),
            }
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
