//! The fleet JUnit file (`DIR/fleet.junit.xml`), for CI systems that render test results.
//!
//! Schema: one `<testsuites name="lowpriv-fleet">` holding one `<testsuite>` per Site, named
//! after it, in row order, then one per missing Site:
//!
//! - a Site with a per-Site JUnit file (`row.files.junit`, see `report/junit.rs`): the
//!   suite(s) of that file as written, read back with quick-junit's own deserializer (the
//!   file is quick-junit's output), so the fleet file and the per-Site file agree case by
//!   case;
//! - a Site without one (its run could not start, or the file cannot be read): a suite with
//!   one `verdict` testcase carrying the row's verdict and reasons: `<error>` for error and
//!   inconclusive, `<failure>` for fail, `<skipped>` for a Site not run, passing for pass;
//! - a Site of the inventory no shard reported (`missing`): a suite with one `<error>`
//!   testcase `missing`.
//!
//! The totals on `<testsuites>` are the sums of the suites'.
//!
//! ```xml
//! <testsuites name="lowpriv-fleet" tests="14" failures="2" errors="1">
//!   <testsuite name="acme-payroll" tests="12" failures="2" errors="0">...</testsuite>
//!   <testsuite name="hr-portal" tests="1" failures="0" errors="1">
//!     <properties><property name="verdict" value="error"/>...</properties>
//!     <testcase name="verdict" classname="verdict">
//!       <error message="scenario error: unknown identity `admn`" type="error">...</error>
//!     </testcase>
//!   </testsuite>
//! </testsuites>
//! ```

use std::path::Path;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::fleet::{FleetReport, SiteRow};
use crate::report::ReportError;

pub fn render(
    report: &FleetReport,
    dir: &Path,
    notes: &mut Vec<String>,
) -> Result<String, ReportError> {
    self::report(report, dir, notes)
        .to_string()
        .map_err(|e| ReportError::Render {
            format: "JUnit",
            source: Box::new(e),
        })
}

/// The fleet's JUnit report as a data model.
pub fn report(report: &FleetReport, dir: &Path, notes: &mut Vec<String>) -> Report {
    let mut out = Report::new("lowpriv-fleet");
    for row in &report.sites {
        match site_suites(row, dir) {
            Ok(suites) => {
                out.add_test_suites(suites);
            }
            Err(why) => {
                if let Some(why) = &why {
                    notes.push(format!("site {}: {why}", row.name));
                }
                out.add_test_suite(row_suite(row, why));
            }
        }
    }
    for name in &report.missing {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status
            .set_message("no shard reported this Site")
            .set_type("missing");
        let mut case = TestCase::new("missing", status);
        case.set_classname("missing");
        let mut suite = TestSuite::new(name.as_str());
        suite.add_property(Property::new("verdict", "missing"));
        suite.add_test_case(case);
        out.add_test_suite(suite);
    }
    out
}

/// The suites of the row's per-Site JUnit file; `Err(None)` when the row names none,
/// `Err(Some(why))` when it cannot be used.
fn site_suites(row: &SiteRow, dir: &Path) -> Result<Vec<TestSuite>, Option<String>> {
    let text = super::read_site_file(dir, row.files.junit.as_deref())
        .ok_or(None)?
        .map_err(Some)?;
    let parsed = Report::deserialize_from_str(&text).map_err(|e| {
        Some(format!(
            "the per-Site JUnit file {} is not usable: {e}",
            row.files.junit.as_deref().unwrap_or_default()
        ))
    })?;
    if parsed.test_suites.is_empty() {
        return Err(Some(format!(
            "the per-Site JUnit file {} holds no testsuite",
            row.files.junit.as_deref().unwrap_or_default()
        )));
    }
    Ok(parsed.test_suites)
}

/// A Site's suite from its row alone: one `verdict` testcase. `unreadable` says why its
/// per-Site file could not be used, when it could not.
fn row_suite(row: &SiteRow, unreadable: Option<String>) -> TestSuite {
    let mut suite = TestSuite::new(row.name.as_str());
    suite.add_properties([
        Property::new("verdict", row.verdict.as_str()),
        Property::new("scenario", row.scenario.as_str()),
    ]);
    let reasons = row.reasons.join("\n");
    let message = row
        .reasons
        .first()
        .cloned()
        .unwrap_or_else(|| format!("verdict {}", row.verdict));
    let mut status = match row.verdict.as_str() {
        "pass" => TestCaseStatus::success(),
        "not-run" => TestCaseStatus::skipped(),
        "fail" => TestCaseStatus::non_success(NonSuccessKind::Failure),
        _ => TestCaseStatus::non_success(NonSuccessKind::Error),
    };
    if !matches!(status, TestCaseStatus::Success { .. }) {
        status.set_message(message);
    }
    if let TestCaseStatus::NonSuccess { .. } = status {
        status
            .set_type(row.verdict.as_str())
            .set_description(reasons.as_str());
    }
    let mut case = TestCase::new("verdict", status);
    case.set_classname("verdict");
    if let Some(why) = unreadable {
        case.set_system_err(why);
    }
    suite.add_test_case(case);
    suite
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::report::fixtures::Fixture;

    fn suite<'a>(report: &'a Report, name: &str) -> &'a TestSuite {
        report
            .test_suites
            .iter()
            .find(|s| s.name.as_str() == name)
            .unwrap()
    }

    #[test]
    fn one_suite_per_site_taken_from_its_file_or_made_from_its_row() {
        let mut f = Fixture::new();
        f.judged("acme", "fail", 1, 2);
        f.judged("wiki", "pass", 0, 0);
        f.failed("broken", "scenario error: unknown identity `admn`");
        f.not_run("late");
        f.missing.push("gone".to_string());
        let mut notes = Vec::new();
        let xml = render(&f.report(), f.dir(), &mut notes).unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        let report = Report::deserialize_from_str(&xml).unwrap();
        let names: Vec<&str> = report.test_suites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["acme", "broken", "late", "wiki", "gone"]);

        // Taken from the per-Site file: its cases, as written.
        let acme = suite(&report, "acme");
        assert_eq!((acme.tests, acme.failures, acme.errors), (3, 2, 0));
        let wiki = suite(&report, "wiki");
        assert_eq!((wiki.tests, wiki.failures, wiki.errors), (1, 0, 0));
        // Made from the row: one case carrying the verdict and reasons.
        let broken = suite(&report, "broken");
        assert_eq!((broken.tests, broken.errors), (1, 1));
        assert!(xml.contains("scenario error: unknown identity `admn`"));
        let late = suite(&report, "late");
        assert_eq!((late.tests, late.skipped, late.errors), (1, 1, 0));
        let gone = suite(&report, "gone");
        assert_eq!(gone.errors, 1);
        assert_eq!(
            (report.tests, report.failures, report.errors, report.skipped),
            (7, 2, 2, 1)
        );
    }

    #[test]
    fn an_unreadable_junit_file_falls_back_to_the_row_with_a_note() {
        let mut f = Fixture::new();
        f.judged("acme", "fail", 1, 2);
        f.judged("wiki", "pass", 0, 0);
        std::fs::write(f.dir().join("sites/acme.junit.xml"), "<testsuites").unwrap();
        let mut notes = Vec::new();
        let report = report(&f.report(), f.dir(), &mut notes);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].starts_with("site acme: the per-Site JUnit file"));
        let acme = suite(&report, "acme");
        assert_eq!((acme.tests, acme.failures), (1, 1), "the row's verdict");
        let wiki = suite(&report, "wiki");
        assert_eq!(wiki.tests, 1, "read from its file, untouched");
    }
}
