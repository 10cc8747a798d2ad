//! The fleet summary on stdout: one line per Site in row order (verdict, name, finding
//! groups by severity, and for a Site that could not be judged, its reasons underneath),
//! the governance findings, duplicates and missing Sites, and a last line with the fleet's
//! verdict, exit code and which Sites set it. Colour only when asked, in the per-Site
//! terminal report's colours.
//!
//! ```text
//! lowpriv fleet · 3 Site(s) · run, 4 job(s)
//!   FAIL          acme-payroll   2 high
//!   ERROR         hr-portal
//!                   - scenario error: unknown identity `admn`
//!   PASS          wiki
//! fleet: FAIL (exit 1) · 1 pass, 1 fail, 1 error · exit code 2 set by hr-portal
//! ```

use std::fmt::Write;

use crate::fleet::FleetReport;
use crate::judge::Severity;
use crate::report::terminal::{Style, severity_color};

/// Reasons shown under a Site that was not judged pass or fail.
const SHOWN_REASONS: usize = 3;

fn verdict_color(verdict: &str) -> &'static str {
    match verdict {
        "pass" => "32;1",
        "fail" | "error" | "missing" => "31;1",
        _ => "33;1",
    }
}

pub fn render(report: &FleetReport, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} · {} Site(s) · {}",
        style.paint("1", "lowpriv fleet"),
        report.summary.sites,
        super::source_text(report)
    );
    let width = report
        .sites
        .iter()
        .map(|r| r.name.chars().count())
        .chain(report.missing.iter().map(|m| m.chars().count()))
        .max()
        .unwrap_or(0);
    for row in &report.sites {
        let verdict = format!("{:12}", row.verdict.to_uppercase());
        let groups: Vec<String> = super::by_severity(&row.groups_by_severity)
            .into_iter()
            .map(|(name, n)| {
                let text = format!("{n} {name}");
                match Severity::parse(name) {
                    Some(severity) => style.paint(severity_color(severity), &text),
                    None => text,
                }
            })
            .collect();
        let mut extras = groups.join(", ");
        if let Some(snapshot) = row.snapshot.as_ref().filter(|s| s.status == "drift") {
            let drift = style.paint("31", &super::snapshot_text(Some(snapshot)));
            extras = [extras, drift].join(if groups.is_empty() { "" } else { " · " });
        }
        let _ = writeln!(
            out,
            "{}",
            format!(
                "  {}  {:width$}  {extras}",
                style.paint(verdict_color(&row.verdict), &verdict),
                row.name
            )
            .trim_end()
        );
        if !matches!(row.verdict.as_str(), "pass" | "fail") {
            // A fleet has many rows: the first reasons say enough, the Site's report the rest.
            for reason in row.reasons.iter().take(SHOWN_REASONS) {
                let _ = writeln!(out, "  {:12}    - {}", "", style.paint("2", reason));
            }
            if row.reasons.len() > SHOWN_REASONS {
                let more = format!(
                    "- and {} more in its report",
                    row.reasons.len() - SHOWN_REASONS
                );
                let _ = writeln!(out, "  {:12}    {}", "", style.paint("2", &more));
            }
        }
    }
    for name in &report.missing {
        let _ = writeln!(
            out,
            "  {}  {name:width$}  no shard reported it",
            style.paint(verdict_color("missing"), &format!("{:12}", "MISSING"))
        );
    }
    if !report.governance.is_empty() {
        let _ = writeln!(
            out,
            "{} ({})",
            style.paint("1", "Governance"),
            report.governance.len()
        );
        for finding in &report.governance {
            let severity = format!("{:8}", finding.severity.to_uppercase());
            let severity = match Severity::parse(&finding.severity) {
                Some(s) => style.paint(severity_color(s), &severity),
                None => severity,
            };
            let _ = writeln!(
                out,
                "  {severity}  {:width$}  {:24}  {}",
                finding.site,
                finding.kind.as_str(),
                finding.why
            );
        }
    }
    for duplicate in &report.duplicates {
        let _ = writeln!(
            out,
            "{} {}: from {}; kept {}",
            style.paint("33", "duplicate"),
            duplicate.site,
            duplicate.from.join(", "),
            duplicate.kept
        );
    }
    let verdict = super::fleet_verdict(report.summary.exit_code);
    let _ = writeln!(
        out,
        "fleet: {} (exit {}) · {} · {}",
        style.paint(verdict_color(verdict), &verdict.to_uppercase()),
        report.summary.exit_code,
        super::verdict_counts(report),
        super::worst_text(report)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::report::fixtures::Fixture;
    use crate::fleet::{Duplicate, FleetFindingKind};

    fn small() -> FleetReport {
        let mut f = Fixture::new();
        f.judged("acme-payroll", "fail", 1, 2);
        f.judged("wiki", "pass", 0, 0).snapshot = Some(crate::fleet::SnapshotCell {
            status: "drift".to_string(),
            widened: 2,
            narrowed: 1,
            pending: None,
        });
        f.failed("hr-portal", "scenario error: unknown identity `admn`");
        f.not_run("late");
        f.missing.push("gone".to_string());
        f.governance(
            "acme-payroll",
            FleetFindingKind::OwnerNotInRoster,
            "medium",
            "owner platform@acme.test is not in the roster",
        );
        let mut report = f.report();
        report.duplicates.push(Duplicate {
            site: "wiki".to_string(),
            from: vec!["shard 1".to_string(), "shard 2".to_string()],
            kept: "shard 1".to_string(),
        });
        report
    }

    #[test]
    fn snapshot_of_a_small_fleet() {
        insta::assert_snapshot!(render(&small(), Style { color: false }));
    }

    #[test]
    fn colour_only_when_asked() {
        let report = small();
        let plain = render(&report, Style { color: false });
        assert!(!plain.contains('\x1b'));
        let painted = render(&report, Style { color: true });
        assert!(painted.contains("\x1b[31;1mFAIL"));
        assert!(painted.contains("\x1b[32;1mPASS"));
        assert!(painted.contains("\x1b[31;1m2 high"));
    }
}
