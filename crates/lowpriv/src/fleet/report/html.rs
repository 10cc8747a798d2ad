//! The fleet HTML page (`DIR/fleet.html`): the inventory a platform lead reads.
//!
//! One self-contained page (template `fleet.html`, minijinja with the per-Site
//! report's escaping formatter, so names, owners and reasons from scenario files cannot
//! become markup): the headline (verdict, exit code, verdict counts, which Sites set the
//! exit code, the reasons); the inventory table, one row per Site (name, linked to its
//! per-Site HTML report when one was written; verdict; owner; audience; data sources; data
//! seen per tier; last review; review due; expiry; finding groups by severity; snapshot);
//! the governance findings; duplicates; missing Sites.
//!
//! A few lines of inline JS sort the table by a click on a column header (numbers as
//! numbers; `data-sort` carries the key where the text is not it) and filter it by a text
//! box and by verdict, severity (Sites with finding groups of it) and audience. Without JS
//! the page is a plain table and the filters stay hidden. As in the per-Site page, a
//! `Content-Security-Policy` (`default-src 'none'`) forbids any fetch.
//!
//! ```html
//! <tr data-verdict="fail" data-severities="high" data-audience="team">
//!   <td><a href="sites/acme-payroll.html">acme-payroll</a></td>
//!   <td data-sort="1"><span class="verdict fail">fail</span></td> ...
//!   <td data-sort="2">2 high</td><td>unchanged</td>
//! </tr>
//! ```

use std::collections::BTreeSet;

use minijinja::Environment;
use serde::Serialize;

use crate::fleet::{FleetReport, SiteRow};
use crate::report::ReportError;

const TEMPLATE: &str = include_str!("fleet.html");

#[derive(Serialize)]
struct Page<'a> {
    r: &'a FleetReport,
    verdict: &'static str,
    counts: String,
    worst: String,
    source: String,
    rows: Vec<Row<'a>>,
    verdicts: Vec<&'a str>,
    audiences: Vec<&'a str>,
    severities: Vec<&'static str>,
}

#[derive(Serialize)]
struct Row<'a> {
    row: &'a SiteRow,
    /// The per-Site HTML report, relative to the page.
    href: Option<&'a str>,
    /// Space-separated severity names with finding groups, for the severity filter.
    severities: String,
    groups: String,
    /// Groups weighted by severity, so sorting puts one critical above many lows.
    groups_sort: u64,
    tiers: String,
    data_sources: String,
    snapshot: String,
}

pub fn render(report: &FleetReport) -> Result<String, ReportError> {
    let error = |e: minijinja::Error| ReportError::Render {
        format: "HTML",
        source: Box::new(e),
    };
    let mut env = Environment::new();
    env.set_formatter(crate::report::html::formatter);
    // The `.html` name turns on HTML auto-escaping for every `{{ }}`.
    env.add_template("fleet.html", TEMPLATE).map_err(error)?;
    let rows: Vec<Row> = report.sites.iter().map(row).collect();
    let verdicts: BTreeSet<&str> = report.sites.iter().map(|r| r.verdict.as_str()).collect();
    let audiences: BTreeSet<&str> = report
        .sites
        .iter()
        .filter_map(|r| r.audience.as_deref())
        .collect();
    let page = Page {
        r: report,
        verdict: super::fleet_verdict(report.summary.exit_code),
        counts: super::verdict_counts(report),
        worst: super::worst_text(report),
        source: super::source_text(report),
        rows,
        verdicts: verdicts.into_iter().collect(),
        audiences: audiences.into_iter().collect(),
        severities: crate::judge::Severity::ALL
            .iter()
            .rev()
            .map(|s| s.as_str())
            .collect(),
    };
    env.get_template("fleet.html")
        .and_then(|t| t.render(minijinja::value::Serde(&page)))
        .map_err(error)
}

fn row(row: &SiteRow) -> Row<'_> {
    let by_severity = super::by_severity(&row.groups_by_severity);
    let groups_sort = by_severity
        .iter()
        .map(|(name, n)| {
            let rank = crate::judge::Severity::parse(name).map_or(0, |s| s as u32);
            // Up to 999 groups per severity keep the order exact.
            (*n as u64).min(999) * 1_000u64.pow(rank)
        })
        .sum();
    Row {
        row,
        // Only a relative path the fleet runner wrote: never a scheme a scenario could set.
        href: row.files.html.as_deref().filter(|h| !h.contains(':')),
        severities: by_severity
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(" "),
        groups: super::groups_text(row),
        groups_sort,
        tiers: super::tiers_text(row),
        data_sources: super::list_or_dash(&row.data_sources),
        snapshot: super::snapshot_text(row.snapshot.as_ref()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::FleetFindingKind;
    use crate::fleet::report::fixtures::Fixture;

    #[test]
    fn hostile_names_owners_and_reasons_are_escaped() {
        let mut f = Fixture::new();
        f.judged("acme", "fail", 1, 1).owner = Some("<script>alert(1)</script>".to_string());
        f.failed("x\"><script>y</script>", "<img src=x onerror=alert(2)>");
        f.governance(
            "acme",
            FleetFindingKind::NoOwner,
            "medium",
            "<script>alert(3)</script>",
        );
        f.missing.push("<b>gone</b>".to_string());
        let page = render(&f.report()).unwrap();
        // The page's own inline script is the only one.
        assert_eq!(page.matches("<script>").count(), 1, "{page}");
        assert!(!page.contains("<img"));
        assert!(!page.contains("<b>gone"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("&lt;img src=x onerror=alert(2)&gt;"));
        assert!(page.contains("&lt;script&gt;alert(3)"));
    }

    #[test]
    fn a_site_links_to_its_report_only_when_one_was_written() {
        let mut f = Fixture::new();
        f.judged("acme", "fail", 1, 1);
        f.failed("broken", "scenario error");
        f.judged("sly", "pass", 0, 0).files.html = Some("javascript:alert(1)".to_string());
        let page = render(&f.report()).unwrap();
        assert!(page.contains(r#"<a href="sites/acme.html">acme</a>"#));
        assert!(!page.contains(r#"href="sites/broken"#));
        assert!(!page.contains("javascript:"));
        assert!(page.contains("<table id=\"sites\""));
        // Sort keys: a critical outweighs many lows.
        let mut critical = Fixture::new();
        critical.judged("c", "fail", 1, 0).groups_by_severity =
            [("critical".to_string(), 1)].into();
        critical.judged("l", "fail", 1, 0).groups_by_severity = [("low".to_string(), 50)].into();
        let report = critical.report();
        let keys: Vec<u64> = report.sites.iter().map(|r| row(r).groups_sort).collect();
        assert!(keys[0] > keys[1], "{keys:?}");
    }
}
