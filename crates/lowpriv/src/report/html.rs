//! The HTML report (`--html FILE`): one self-contained page for the reviewer who decides
//! whether a Site may be shared, or shared more widely.
//!
//! The page (template `templates/report.html`, rendered with minijinja and HTML
//! auto-escaping, so text from the Site cannot become markup) shows: the Site's metadata
//! (owner, audience, data sources, last review, expiry); the identities; the access matrix
//! with the data classes per cell, each cell coloured by its tone (`finding`: a finding names
//! it, with the kinds in its `title`; `expected`; `error`; `none`), not by its outcome; the
//! finding groups, one row per cause (kind, request, identities, how many URLs, why), each
//! with the evidence of its first finding (status, outcome, the redacted data examples of
//! the matching observation) and its URLs folded; the action matrix (the run's one
//! `ActionMatrix`: every action with its kind, rule and fields, and per identity where it was
//! shown and what its write probe got, coloured by tone like the access matrix; per identity
//! how many changing actions it was shown; what was not probed); each `[[source]]`'s probes
//! (per identity its login to the source, and per probe the outcome and data classes); the
//! snapshot drift; and "If the audience widens".
//!
//! Filters: checkboxes by identity (matrix columns, finding groups naming any checked
//! identity, actions) and by severity (finding groups). The URL fragment sets them, so a
//! link can point at a view: `report.html#identity=carol&severity=high,critical`. The
//! script is a few lines of plain JS inside the page.
//!
//! No network: CSS and JS are inline, the favicon is a `data:` URL, URLs of the Site are shown
//! as text (never as `src`/`href`), and a `Content-Security-Policy` meta tag
//! (`default-src 'none'`) forbids any fetch even if one slipped in. The page reads nothing but
//! the `RunResult` it was rendered from:
//!
//! ```html
//! <tr class="finding sev-high" data-identities="carol dave" data-severity="high">
//!   <td>high</td><td>data-exposure</td><td>carol, dave</td><td>GET /api/employees/{id}</td>
//!   <td>5 URLs</td><td>carol sees `salary` ... (first of 10)
//!     <div class="evidence">status 200 · allowed ...</div><details>...URLs...</details></td>
//! </tr>
//! ```

use std::collections::BTreeMap;

use minijinja::{AutoEscape, Environment};
use serde::Serialize;

use super::{CellTones, ReportError};
use crate::RunResult;
use crate::judge::{Finding, FindingGroup, Severity};
use crate::observe::Observation;

const TEMPLATE: &str = include_str!("templates/report.html");

/// Everything the template reads.
#[derive(Serialize)]
struct Page<'a> {
    r: &'a RunResult,
    verdict: &'static str,
    exit_code: i32,
    identities: Vec<String>,
    /// Every source some row was found by, for the provenance filter.
    vias: Vec<&'static str>,
    rows: Vec<Row>,
    groups: Vec<GroupView<'a>>,
    severities: Vec<&'static str>,
    severity_counts: BTreeMap<&'static str, usize>,
    actions: Vec<ActionRow>,
    /// Per identity: the changing actions (any kind but read-only) it was shown.
    write_capable: Vec<usize>,
    not_probed: Vec<String>,
    action_legend: String,
    sources: Vec<SourceView>,
    changes: Vec<(String, String)>,
}

#[derive(Serialize)]
struct Cell {
    label: String,
    /// CSS class of the cell's tone (`report::Tone`): `finding`, `expected`, `error`, `none`.
    class: &'static str,
    /// The kinds of the findings naming the cell, for its tooltip.
    kinds: String,
    data: Vec<String>,
}

#[derive(Serialize)]
struct Row {
    request: String,
    /// Space-separated: where the row's URLs were found (`html js`), for the filter.
    via: String,
    cells: Vec<Cell>,
    data: Vec<String>,
}

#[derive(Serialize)]
struct GroupView<'a> {
    severity: &'static str,
    kind: &'static str,
    /// Space-separated, for the identity filter (identity names have no spaces).
    identities: String,
    request: String,
    /// The one URL's path, or how many.
    urls: String,
    /// Every URL's path, folded under the row.
    paths: Vec<String>,
    why: &'a str,
    rule: Option<&'a str>,
    data: &'a [String],
    /// The first finding's observation: status, outcome and why, and the redacted data
    /// examples.
    evidence: Option<Evidence>,
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
    kind: &'static str,
    rule: Option<String>,
    fields: String,
    /// Per identity of the matrix.
    cells: Vec<ActionCellView>,
}

#[derive(Serialize)]
struct ActionCellView {
    /// The shared short words (`report::action_label`).
    label: String,
    /// The long words (`shown (form) · authorized to attempt`), for its tooltip.
    title: String,
    /// CSS class of the cell's tone.
    class: &'static str,
}

#[derive(Serialize)]
struct SourceView {
    name: String,
    base_url: String,
    probes: Vec<String>,
    rows: Vec<SourceRowView>,
}

#[derive(Serialize)]
struct SourceRowView {
    identity: String,
    login: String,
    logged_in: bool,
    cells: Vec<String>,
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
    let tones = CellTones::new(super::groups(result));
    // Where each row's URLs were found, for the provenance filter.
    let mut vias: BTreeMap<String, std::collections::BTreeSet<&'static str>> = BTreeMap::new();
    for o in &result.observations {
        if let Some(found) = &o.found {
            vias.entry(format!("{} {}", o.method, o.template))
                .or_default()
                .insert(found.via.as_str());
        }
    }
    let via_names: Vec<&'static str> = vias
        .values()
        .flatten()
        .copied()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let rows: Vec<Row> = matrix
        .rows()
        .map(|row| Row {
            via: vias
                .get(&row.key.to_string())
                .map(|v| v.iter().copied().collect::<Vec<_>>().join(" "))
                .unwrap_or_default(),
            request: row.key.to_string(),
            cells: row
                .cells
                .iter()
                .zip(&matrix.identities)
                .map(|(c, identity)| cell(&tones, row.key, identity, *c))
                .collect(),
            data: row.data.iter().map(|d| d.to_string()).collect(),
        })
        .collect();

    let observations: BTreeMap<(&str, &str, &str), &Observation> = result
        .observations
        .iter()
        .map(|o| ((o.identity.as_str(), o.method.as_str(), o.url.as_str()), o))
        .collect();
    let groups: Vec<GroupView> = super::groups(result)
        .iter()
        .map(|group| {
            // The judge sorts findings, so the first one a group holds is the one its why
            // quotes: its observation is the evidence shown.
            let first = result.findings.iter().find(|f| group.contains(f));
            group_view(result, group, first, &observations, &path_of)
        })
        .collect();

    let action_matrix = super::actions(result);
    let action_rows: Vec<ActionRow> = action_matrix
        .rows
        .iter()
        .map(|row| ActionRow {
            request: row.key().to_string(),
            kind: row.kind.as_str(),
            rule: row.rule.clone(),
            fields: row.fields.join(", "),
            cells: row
                .cells
                .iter()
                .map(|cell| ActionCellView {
                    label: super::action_label(cell),
                    title: cell.label(),
                    class: tones.action_tone(row, cell).as_str(),
                })
                .collect(),
        })
        .collect();
    let write_capable: Vec<usize> = (0..action_matrix.identities.len())
        .map(|i| {
            action_matrix
                .rows
                .iter()
                .filter(|r| r.kind != crate::snapshot::ActionRowKind::ReadOnly)
                .filter(|r| r.cells.get(i).is_some_and(|c| c.shown()))
                .count()
        })
        .collect();
    let sources: Vec<SourceView> = super::source_tables(result)
        .into_iter()
        .map(|t| SourceView {
            name: t.name,
            base_url: t.base_url,
            probes: t.probes,
            rows: t
                .rows
                .into_iter()
                .map(|r| SourceRowView {
                    identity: r.identity,
                    login: r.login,
                    logged_in: r.logged_in,
                    cells: r.cells,
                })
                .collect(),
        })
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
    // The filter counts what it shows: groups.
    let severity_counts: BTreeMap<&str, usize> = super::group_counts(result)
        .iter()
        .map(|(s, (groups, _))| (s.as_str(), *groups))
        .collect();

    let template = env.get_template("report.html").map_err(error)?;
    let page = Page {
        r: result,
        verdict: result.summary.verdict.as_str(),
        exit_code: result.summary.verdict.exit_code(),
        identities: matrix.identities.clone(),
        vias: via_names,
        rows,
        groups,
        severities,
        severity_counts,
        actions: action_rows,
        write_capable,
        not_probed: super::not_probed(result),
        action_legend: super::ACTION_LEGEND.join(" · "),
        sources,
        changes,
    };
    template
        .render(minijinja::value::Serde(&page))
        .map_err(error)
}

/// minijinja's HTML escaping, minus `/`: paths and URLs stay readable (and greppable) in the
/// page, while `&`, `<`, `>`, `"` and `'` are still escaped in every string, so nothing from
/// the Site can open a tag or leave an attribute.
pub(crate) fn formatter(
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

fn cell(
    tones: &CellTones,
    key: &crate::snapshot::RowKey,
    identity: &str,
    cell: Option<&crate::snapshot::Cell>,
) -> Cell {
    let kinds: Vec<&str> = tones
        .kinds(key, identity)
        .into_iter()
        .map(|k| k.as_str())
        .collect();
    Cell {
        label: super::cell_label(cell),
        class: tones.tone(key, identity, cell).as_str(),
        kinds: kinds.join(", "),
        data: cell.map_or_else(Vec::new, |c| c.data.iter().cloned().collect()),
    }
}

fn group_view<'a>(
    result: &RunResult,
    group: &'a FindingGroup,
    first: Option<&Finding>,
    observations: &BTreeMap<(&str, &str, &str), &Observation>,
    path_of: &dyn Fn(&str) -> String,
) -> GroupView<'a> {
    let origin = result.site.base_url.trim_end_matches('/');
    let evidence = first
        .and_then(|f| match (&f.identity, &f.method, &f.url) {
            (Some(identity), Some(method), Some(url)) => {
                observations.get(&(identity.as_str(), method.as_str(), url.as_str()))
            }
            _ => None,
        })
        .map(|obs| Evidence {
            status: obs.status.map_or("-".to_string(), |s| s.to_string()),
            outcome: obs.outcome.as_str(),
            reason: obs.reason.clone(),
            content_type: obs.content_type.clone(),
            // Observations keep only redacted examples (a shape, a prefix and a length),
            // never a value.
            examples: obs
                .data
                .iter()
                .map(|(class, hit)| format!("{class} ×{}: {}", hit.count, hit.examples.join(", ")))
                .collect(),
        });
    GroupView {
        severity: group.severity.as_str(),
        kind: group.kind.as_str(),
        identities: group.identities.join(" "),
        request: super::group_request(group).unwrap_or_default(),
        urls: super::group_urls(group, origin),
        paths: group.urls.iter().map(|u| path_of(u)).collect(),
        why: &group.why,
        rule: group.rule.as_deref(),
        data: &group.data,
        evidence,
    }
}
