//! The HTML report (`--html FILE`): one self-contained page for the reviewer who decides
//! whether a Site may be shared, or shared more widely.
//!
//! The page (template `templates/report.html`, rendered with minijinja and HTML
//! auto-escaping, so text from the Site cannot become markup) shows: the Site's metadata
//! (owner, audience, data sources, last review, expiry); the identities; the access matrix
//! with outcomes coloured and the data classes per cell; every finding with its evidence
//! (status, outcome, the redacted data examples of the matching observation, the URL); the
//! action matrix (write-capable endpoints per identity); the snapshot drift; and "If the
//! audience widens".
//!
//! Filters: checkboxes by identity (matrix columns, findings, actions) and by severity
//! (findings). The URL fragment sets them, so a link can point at a view:
//! `report.html#identity=carol&severity=high,critical`. The script is a few lines of plain
//! JS inside the page.
//!
//! No network: CSS and JS are inline, the favicon is a `data:` URL, URLs of the Site are shown
//! as text (never as `src`/`href`), and a `Content-Security-Policy` meta tag
//! (`default-src 'none'`) forbids any fetch even if one slipped in. The page reads nothing but
//! the `RunResult` it was rendered from:
//!
//! ```html
//! <tr class="finding sev-high" data-identity="dave" data-severity="high">
//!   <td>high</td><td>audience-leak</td><td>dave</td><td>GET /reports/quarterly</td>
//!   <td>dave (company tier) is outside ... <div class="evidence">200 allowed ...</div></td>
//! </tr>
//! ```

use std::collections::{BTreeMap, BTreeSet};

use minijinja::{AutoEscape, Environment};
use serde::Serialize;

use super::ReportError;
use super::finding_groups;
use crate::RunResult;
use crate::judge::{Finding, Severity};
use crate::observe::{Observation, Outcome};

const TEMPLATE: &str = include_str!("templates/report.html");

/// Everything the template reads.
#[derive(Serialize)]
struct Page<'a> {
    r: &'a RunResult,
    verdict: &'static str,
    exit_code: i32,
    identities: Vec<String>,
    rows: Vec<Row>,
    findings: Vec<FindingView<'a>>,
    severities: Vec<&'static str>,
    severity_counts: BTreeMap<&'static str, usize>,
    actions: Vec<ActionRow>,
    write_capable: Vec<usize>,
    changes: Vec<(String, String)>,
}

#[derive(Serialize)]
struct Cell {
    label: String,
    /// CSS class of the cell's headline outcome (error > allowed > hidden > denied > skipped),
    /// `none` without an observation.
    class: &'static str,
    data: Vec<String>,
}

#[derive(Serialize)]
struct Row {
    request: String,
    cells: Vec<Cell>,
    data: Vec<String>,
}

#[derive(Serialize)]
struct FindingView<'a> {
    severity: &'static str,
    kind: &'static str,
    identity: &'a str,
    request: String,
    url: Option<&'a str>,
    detail: &'a str,
    rule: Option<&'a str>,
    data: &'a [String],
    /// The matching observation: status, outcome and why, and the redacted data examples.
    evidence: Option<Evidence>,
    /// Findings of the same kind, identity and template beyond this one (shown once).
    group: usize,
}

#[derive(Serialize)]
struct Evidence {
    status: String,
    outcome: &'static str,
    reason: String,
    content_type: Option<String>,
    examples: Vec<String>,
}

#[derive(Serialize)]
struct ActionRow {
    request: String,
    source: String,
    fields: String,
    /// Per identity of the matrix: whether it was shown this endpoint.
    shown: Vec<bool>,
}

pub fn render(result: &RunResult) -> Result<String, ReportError> {
    let error = |e: minijinja::Error| ReportError::Render {
        format: "HTML",
        source: Box::new(e),
    };
    let mut env = Environment::new();
    env.set_formatter(formatter);
    // The `.html` name turns on HTML auto-escaping for every `{{ }}`.
    env.add_template("report.html", TEMPLATE).map_err(error)?;
    let origin = result.site.base_url.trim_end_matches('/');
    let path_of = |url: &str| url.strip_prefix(origin).unwrap_or(url).to_string();

    let matrix = super::exposure(result);
    let rows: Vec<Row> = matrix
        .rows()
        .map(|row| Row {
            request: row.key.to_string(),
            cells: row.cells.iter().map(|c| cell(*c)).collect(),
            data: row.data.iter().map(|d| d.to_string()).collect(),
        })
        .collect();

    let observations: BTreeMap<(&str, &str, &str), &Observation> = result
        .observations
        .iter()
        .map(|o| ((o.identity.as_str(), o.method.as_str(), o.url.as_str()), o))
        .collect();
    let findings: Vec<FindingView> = finding_groups(&result.findings)
        .into_iter()
        .flat_map(|group| {
            group
                .iter()
                .enumerate()
                .map(move |(i, f)| (f, i, group.len()))
        })
        .map(|(f, index, len)| {
            finding_view(f, &observations, &path_of, if index == 0 { len } else { 0 })
        })
        .collect();

    // (path, method) → (source, field names, identities shown it)
    type Endpoint<'a> = (String, BTreeSet<String>, BTreeSet<&'a str>);
    let mut actions: BTreeMap<(String, String), Endpoint> = BTreeMap::new();
    for report in &result.actions {
        let action = &report.action;
        let entry = actions
            .entry((path_of(&action.url), action.method.clone()))
            .or_default();
        entry.0 = action.source.clone();
        entry.1.extend(action.fields.iter().cloned());
        entry.2.insert(report.identity.as_str());
    }
    let action_rows: Vec<ActionRow> = actions
        .into_iter()
        .map(|((path, method), (source, fields, who))| ActionRow {
            request: format!("{method} {path}"),
            source,
            fields: fields.into_iter().collect::<Vec<_>>().join(", "),
            shown: matrix
                .identities
                .iter()
                .map(|i| who.contains(i.as_str()))
                .collect(),
        })
        .collect();
    let write_capable: Vec<usize> = matrix
        .identities
        .iter()
        .enumerate()
        .map(|(i, _)| action_rows.iter().filter(|r| r.shown[i]).count())
        .collect();

    let changes: Vec<(String, String)> = result
        .snapshot
        .iter()
        .flat_map(|s| s.changes.iter())
        .map(|c| (format!("{:?}", c.direction).to_lowercase(), c.sentence()))
        .collect();
    let severities: Vec<&str> = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ]
    .iter()
    .map(|s| s.as_str())
    .collect();
    let severity_counts: BTreeMap<&str, usize> = result
        .summary
        .findings
        .iter()
        .map(|(s, n)| (s.as_str(), *n))
        .collect();

    let template = env.get_template("report.html").map_err(error)?;
    let page = Page {
        r: result,
        verdict: result.summary.verdict.as_str(),
        exit_code: result.summary.verdict.exit_code(),
        identities: matrix.identities.clone(),
        rows,
        findings,
        severities,
        severity_counts,
        actions: action_rows,
        write_capable,
        changes,
    };
    template
        .render(minijinja::value::Serde(&page))
        .map_err(error)
}

/// minijinja's HTML escaping, minus `/`: paths and URLs stay readable (and greppable) in the
/// page, while `&`, `<`, `>`, `"` and `'` are still escaped in every string, so nothing from
/// the Site can open a tag or leave an attribute.
fn formatter(
    out: &mut minijinja::Output,
    state: &mut minijinja::State,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    match value.as_str() {
        Some(text) if matches!(state.auto_escape(), AutoEscape::Html) && !value.is_safe() => {
            let mut escaped = String::with_capacity(text.len());
            for c in text.chars() {
                match c {
                    '&' => escaped.push_str("&amp;"),
                    '<' => escaped.push_str("&lt;"),
                    '>' => escaped.push_str("&gt;"),
                    '"' => escaped.push_str("&quot;"),
                    '\'' => escaped.push_str("&#x27;"),
                    _ => escaped.push(c),
                }
            }
            out.write_str(&escaped).map_err(minijinja::Error::from)
        }
        _ => minijinja::escape_formatter(out, state, value),
    }
}

fn cell(cell: Option<&crate::snapshot::Cell>) -> Cell {
    let class = match cell.and_then(crate::snapshot::Cell::headline) {
        Some(Outcome::Error) => "error",
        Some(Outcome::Allowed) => "allowed",
        Some(Outcome::Hidden) => "hidden",
        Some(Outcome::Denied) => "denied",
        Some(Outcome::Skipped) => "skipped",
        None => "none",
    };
    Cell {
        label: super::cell_label(cell),
        class,
        data: cell.map_or_else(Vec::new, |c| c.data.iter().cloned().collect()),
    }
}

fn finding_view<'a>(
    finding: &'a Finding,
    observations: &BTreeMap<(&str, &str, &str), &Observation>,
    path_of: &dyn Fn(&str) -> String,
    group: usize,
) -> FindingView<'a> {
    let evidence = match (&finding.identity, &finding.method, &finding.url) {
        (Some(identity), Some(method), Some(url)) => observations
            .get(&(identity.as_str(), method.as_str(), url.as_str()))
            .map(|obs| Evidence {
                status: obs.status.map_or("-".to_string(), |s| s.to_string()),
                outcome: obs.outcome.as_str(),
                reason: obs.reason.clone(),
                content_type: obs.content_type.clone(),
                // Observations keep only redacted examples (a shape, a prefix and a
                // length), never a value.
                examples: obs
                    .data
                    .iter()
                    .map(|(class, hit)| {
                        format!("{class} ×{}: {}", hit.count, hit.examples.join(", "))
                    })
                    .collect(),
            }),
        _ => None,
    };
    FindingView {
        severity: finding.severity.as_str(),
        kind: finding.kind.as_str(),
        identity: finding.identity.as_deref().unwrap_or(""),
        request: match (&finding.method, &finding.url) {
            (Some(m), Some(u)) => format!("{m} {}", path_of(u)),
            _ => String::new(),
        },
        url: finding.url.as_deref(),
        detail: &finding.detail,
        rule: finding.rule.as_deref(),
        data: &finding.data,
        evidence,
        group,
    }
}
