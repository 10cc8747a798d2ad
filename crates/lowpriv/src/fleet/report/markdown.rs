//! The fleet Markdown summary (`DIR/fleet.md`), written for `$GITHUB_STEP_SUMMARY`.
//!
//! Sections, in order: the headline (the fleet's verdict and exit code, the verdict counts,
//! which Sites set the exit code, and the summary's reasons); the inventory table, one row
//! per Site, worst exit code first and then by name, so the Sites that need a look stay in
//! when the table is cut; the governance findings; duplicates; missing Sites.
//!
//! GitHub refuses a step summary over 1 MiB, so the whole file stays under [`MAX_BYTES`]:
//! table rows, then governance findings, duplicates and missing Sites are added while they
//! fit, and a line says how many were left out (`fleet.json` and `fleet.html` have them all).
//! Every cell is escaped with the per-Site report's [`escape`].
//!
//! ```markdown
//! ## lowpriv fleet · ❌ FAIL · exit 1
//!
//! 3 Site(s): 2 pass, 1 fail · exit code 1 set by acme-payroll · run, 4 job(s) · 1 governance finding(s)
//!
//! | Site | verdict | owner | audience | data sources | data seen by tier | last review | review due | expires | finding groups | snapshot |
//! |---|---|---|---|---|---|---|---|---|---|---|
//! | acme-payroll | **fail** | hr@acme.test | team | payroll-db | company: email; team: salary | 2026-06-01 | 2026-12-01 | - | 2 high | unchanged |
//! ```

use std::fmt::Write;

use crate::fleet::{FleetReport, SiteRow};
use crate::report::markdown::escape;

/// Below GitHub's 1 MiB step summary limit, with room for what other steps append.
pub const MAX_BYTES: usize = 1_000_000;

/// Room kept for each "left out" line.
const NOTE_ROOM: usize = 200;

/// The summary, and how many entries (rows, findings, duplicates, missing Sites) were left
/// out to stay under [`MAX_BYTES`].
pub fn render(report: &FleetReport) -> (String, usize) {
    render_capped(report, MAX_BYTES)
}

/// [`render`] under another size limit.
pub fn render_capped(report: &FleetReport, max_bytes: usize) -> (String, usize) {
    let mut out = headline(report);
    let tail = tail_sections(report);
    let tail_bytes: usize = tail
        .iter()
        .map(|s| s.title.len() + s.header.len() + s.lines.iter().map(String::len).sum::<usize>())
        .sum();
    // Budgets are on the whole text. The inventory comes first but may not starve the
    // sections after it of all room.
    let room = max_bytes.saturating_sub(out.len());
    let table_budget =
        max_bytes.saturating_sub(tail_bytes.min(room / 2) + NOTE_ROOM * (tail.len() + 1));
    let mut left_out = 0;

    out.push_str("\n### Sites\n\n");
    if report.sites.is_empty() {
        out.push_str("No Site in this report.\n");
    } else {
        out.push_str("| Site | verdict | owner | audience | data sources | data seen by tier | last review | review due | expires | finding groups | snapshot |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
        let mut rows: Vec<&SiteRow> = report.sites.iter().collect();
        rows.sort_by(|a, b| {
            b.exit_code
                .cmp(&a.exit_code)
                .then_with(|| a.name.cmp(&b.name))
        });
        let lines: Vec<String> = rows.into_iter().map(table_row).collect();
        left_out += push_lines(&mut out, &lines, table_budget, "Site(s)");
    }
    let sections = tail.len();
    for (i, section) in tail.into_iter().enumerate() {
        let _ = write!(out, "\n### {}\n\n{}", section.title, section.header);
        // Room for this section's "left out" line and the later sections' headings.
        let budget = max_bytes.saturating_sub(NOTE_ROOM * (sections - i));
        left_out += push_lines(&mut out, &section.lines, budget, "entries");
    }
    (out, left_out)
}

fn headline(report: &FleetReport) -> String {
    let summary = &report.summary;
    let verdict = match super::fleet_verdict(summary.exit_code) {
        "pass" => "✅ PASS",
        "fail" => "❌ FAIL",
        "error" => "⛔ ERROR",
        _ => "⚠️ INCONCLUSIVE",
    };
    let mut out = format!(
        "## lowpriv fleet · {verdict} · exit {}\n\n{} Site(s): {} · {} · {} · {} governance finding(s)\n\n",
        summary.exit_code,
        summary.sites,
        super::verdict_counts(report),
        escape(&super::worst_text(report)),
        super::source_text(report),
        summary.governance_findings,
    );
    for reason in &summary.reasons {
        let _ = writeln!(out, "- {}", escape(reason));
    }
    out
}

fn table_row(row: &SiteRow) -> String {
    // A Site that could not be judged says why in its verdict cell: there is nothing else
    // in its row to go on.
    let verdict = match row.verdict.as_str() {
        "pass" => row.verdict.clone(),
        "fail" => "**fail**".to_string(),
        _ if row.reasons.is_empty() => format!("**{}**", escape(&row.verdict)),
        _ => {
            // The first reasons say enough in a table cell; the Site's report has them all.
            let mut why = row.reasons[..row.reasons.len().min(3)].join("; ");
            if row.reasons.len() > 3 {
                why.push_str(&format!("; and {} more", row.reasons.len() - 3));
            }
            format!("**{}**: {}", escape(&row.verdict), escape(&why))
        }
    };
    let cells = [
        escape(&row.name),
        verdict,
        escape(super::or_dash(row.owner.as_ref())),
        escape(super::or_dash(row.audience.as_ref())),
        escape(&super::list_or_dash(&row.data_sources)),
        escape(&super::tiers_text(row)),
        escape(super::or_dash(row.last_review.as_ref())),
        escape(super::or_dash(row.review_due.as_ref())),
        escape(super::or_dash(row.expires.as_ref())),
        escape(&super::groups_text(row)),
        escape(&super::snapshot_text(row.snapshot.as_ref())),
    ];
    format!("| {} |\n", cells.join(" | "))
}

struct Section {
    title: String,
    header: &'static str,
    lines: Vec<String>,
}

/// The governance findings, duplicates and missing Sites; sections with nothing to say are
/// left out.
fn tail_sections(report: &FleetReport) -> Vec<Section> {
    let mut sections = Vec::new();
    if !report.governance.is_empty() {
        let lines = report.governance.iter().map(|g| {
            format!(
                "| {} | {} | {} | {} |\n",
                escape(&g.severity),
                escape(&g.site),
                escape(g.kind.as_str()),
                escape(&g.why)
            )
        });
        sections.push(Section {
            title: format!("Governance findings ({})", report.governance.len()),
            header: "| severity | Site | kind | why |\n|---|---|---|---|\n",
            lines: lines.collect(),
        });
    }
    if !report.duplicates.is_empty() {
        let lines = report
            .duplicates
            .iter()
            .map(|d| {
                format!(
                    "- **{}** came from {}; kept {}\n",
                    escape(&d.site),
                    escape(&d.from.join(", ")),
                    escape(&d.kept)
                )
            })
            .collect();
        sections.push(Section {
            title: format!("Duplicates ({})", report.duplicates.len()),
            header: "",
            lines,
        });
    }
    if !report.missing.is_empty() {
        let lines = report
            .missing
            .iter()
            .map(|m| format!("- {} (no shard reported it: inconclusive)\n", escape(m)))
            .collect();
        sections.push(Section {
            title: format!("Missing Sites ({})", report.missing.len()),
            header: "",
            lines,
        });
    }
    sections
}

/// Appends `lines` while the output stays within `budget` bytes, then says how many were
/// left out; returns that number.
fn push_lines(out: &mut String, lines: &[String], budget: usize, what: &str) -> usize {
    let mut shown = 0;
    for line in lines {
        if out.len() + line.len() > budget {
            break;
        }
        out.push_str(line);
        shown += 1;
    }
    let left = lines.len() - shown;
    if left > 0 {
        let _ = writeln!(
            out,
            "\n_{left} more {what} left out to keep this summary under {} KiB: fleet.json and fleet.html have them all._",
            MAX_BYTES / 1024
        );
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::FleetFindingKind;
    use crate::fleet::report::fixtures::Fixture;

    fn small() -> Fixture {
        let mut f = Fixture::new();
        f.judged("acme-payroll", "fail", 1, 2).expires = Some("2027-01-31".to_string());
        f.judged("wiki", "pass", 0, 0);
        f.failed("hr-portal", "scenario error: unknown identity `admn`");
        f.governance(
            "acme-payroll",
            FleetFindingKind::AudienceWiderThanData,
            "high",
            "shared company-wide while `salary` is admitted to team only",
        );
        f
    }

    #[test]
    fn snapshot_of_a_small_fleet() {
        let f = small();
        let (text, left_out) = render(&f.report());
        assert_eq!(left_out, 0);
        insta::assert_snapshot!(text);
    }

    #[test]
    fn cells_are_escaped() {
        let mut f = Fixture::new();
        f.judged("evil", "fail", 1, 1).owner = Some("a|b\n<script>x</script>".to_string());
        f.judged("plain", "pass", 0, 0);
        let (text, _) = render(&f.report());
        let evil = text.lines().find(|l| l.starts_with("| evil |")).unwrap();
        assert!(
            evil.contains(r"a\|b &lt;script&gt;x&lt;/script&gt;"),
            "{evil}"
        );
        assert!(!text.contains("<script>"));
        // Same column count in every row: the pipe did not make a cell.
        let plain = text.lines().find(|l| l.starts_with("| plain |")).unwrap();
        let columns = |l: &str| l.replace(r"\|", "").matches('|').count();
        assert_eq!(columns(evil), columns(plain));
    }

    #[test]
    fn the_table_is_capped_and_says_how_many_rows_are_left_out() {
        let mut f = Fixture::new();
        for i in 0..50 {
            f.judged(&format!("site-{i:02}"), "pass", 0, 0);
        }
        f.judged("zz-failing", "fail", 1, 1);
        f.governance("site-01", FleetFindingKind::NoOwner, "medium", "no owner");
        let report = f.report();
        let (full, none) = render(&report);
        assert_eq!(none, 0, "a small fleet is whole");
        assert!(!full.contains("left out"));

        let max = 4000;
        let (text, left_out) = render_capped(&report, max);
        assert!(text.len() <= max, "{} bytes", text.len());
        assert!(left_out > 0);
        let shown = text.lines().filter(|l| l.starts_with("| site-")).count();
        assert_eq!(shown + 1 + left_out, 51, "every row is shown or counted");
        assert!(text.contains(&format!("_{left_out} more Site(s) left out")));
        // The worst Site is first, so the cut keeps it; the governance section still shows.
        assert!(text.contains("| zz-failing |"));
        assert!(text.contains("### Governance findings (1)"));
        assert!(text.contains("no owner"));
    }

    /// At the real limit: ten thousand Sites with long reasons do not make a summary GitHub
    /// refuses.
    #[test]
    fn a_big_fleet_stays_under_the_real_limit() {
        let mut f = Fixture::new();
        f.failed("template", &"a long reason ".repeat(20));
        let mut report = f.report();
        let template = report.sites[0].clone();
        report.sites = (0..10_000)
            .map(|i| SiteRow {
                name: format!("site-{i:05}"),
                ..template.clone()
            })
            .collect();
        let (text, left_out) = render(&report);
        assert!(text.len() <= MAX_BYTES, "{} bytes", text.len());
        assert!(left_out > 0 && left_out < 10_000, "{left_out}");
    }
}
