//! The terminal report: who the run was, the access matrix (the run's exposure matrix as
//! templates × identities; a cell is red when a finding names it, dim when it is as
//! expected, yellow on an error), the action matrix (compact: only the actions some identity
//! was shown in a page or script, or write-probed; coloured the same way), each `[[source]]`'s
//! probes per identity, the finding groups by severity (one entry per cause: kind,
//! request, identities, URLs, and a one-line why), and the verdict with its reasons. Colour
//! only when asked (a TTY without `NO_COLOR`).

use std::fmt::Write;

use super::{CellTones, Tone};
use crate::RunResult;
use crate::judge::Severity;
use crate::snapshot::{Change, Matrix};
use crate::verdict::Verdict;

#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub(crate) fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Everything: header, identities, matrix, findings, verdict.
pub fn render(result: &RunResult, style: Style) -> String {
    let mut out = String::new();
    let site = &result.site;
    let _ = writeln!(
        out,
        "{} {} · {} · audience {}",
        style.paint("1", "lowpriv"),
        style.paint("1", &site.name),
        site.base_url,
        site.audience.as_str()
    );
    out.push('\n');
    render_identities(result, style, &mut out);
    out.push('\n');
    render_matrix(
        super::exposure(result),
        &CellTones::new(super::groups(result)),
        style,
        &mut out,
    );
    let tones = CellTones::new(super::groups(result));
    if super::actions(result).shown_or_probed().next().is_some()
        || !result.write_probes.not_sent.is_empty()
    {
        out.push('\n');
        render_actions(result, &tones, style, &mut out);
    }
    if !result.sources.is_empty() {
        out.push('\n');
        render_sources(result, style, &mut out);
    }
    if let Some(view) = super::graphql_view(result) {
        out.push('\n');
        render_graphql(&view, style, &mut out);
    }
    out.push('\n');
    render_findings(result, style, &mut out);
    if result.audience_preview.is_some() {
        out.push('\n');
        render_audience_preview(result, style, &mut out);
    }
    if result.snapshot.is_some() {
        out.push('\n');
        render_snapshot(result, style, &mut out);
    }
    // Before the verdict, which `-q` prints alone: a note, not part of the verdict.
    if let Some(line) = result.coverage.unrendered_line() {
        out.push('\n');
        let _ = writeln!(out, "{line}");
    }
    out.push('\n');
    out.push_str(&render_verdict(result, style));
    out
}

fn render_identities(result: &RunResult, style: Style, out: &mut String) {
    let _ = writeln!(out, "{}", style.paint("1", "Identities"));
    let width = result
        .identities
        .iter()
        .map(|i| i.name.len())
        .max()
        .unwrap_or(8);
    for identity in &result.identities {
        let login = match (&identity.login_error, identity.login) {
            (Some(why), kind) => style.paint("31", &format!("{kind} login FAILED: {why}")),
            (None, "none") => "no login".to_string(),
            (None, kind) => format!("{kind} login ok"),
        };
        let _ = writeln!(
            out,
            "  {:width$}  {:8}  rank {:<4}  {:>4} crawled  {:>4} replayed  {}",
            identity.name,
            identity.tier.as_str(),
            identity.rank,
            identity.crawled,
            identity.replayed,
            login,
        );
        if let Some(why) = &identity.truncated {
            let _ = writeln!(
                out,
                "  {:width$}  {}",
                "",
                style.paint("33", &format!("crawl cut short: {why}"))
            );
        }
    }
}

/// The access matrix: one row per request template, one column per identity. A cell's
/// colour is its tone (a finding names it, or it is as expected), not its outcome.
pub fn render_matrix(matrix: &Matrix, tones: &CellTones, style: Style, out: &mut String) {
    let legend = if style.color {
        "; red: a finding names the cell, dim: as expected"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "{}  (allow · deny · hidden: 404 while others got it · ERROR · skip: not sent; * data seen{legend})",
        style.paint("1", "Access matrix")
    );
    let label_width = matrix
        .keys()
        .map(|k| k.template.len() + k.method.len() + 1)
        .max()
        .unwrap_or(10)
        .clamp(10, 60);
    let col_widths: Vec<usize> = matrix.identities.iter().map(|n| n.len().max(11)).collect();
    let mut header = format!("  {:label_width$}", "request");
    for (name, w) in matrix.identities.iter().zip(&col_widths) {
        let _ = write!(header, "  {name:w$}");
    }
    header.push_str("  data");
    let _ = writeln!(out, "{}", style.paint("2", header.trim_end()));
    for row in matrix.rows() {
        let mut label = row.key.to_string();
        if label.chars().count() > label_width {
            label = label.chars().take(label_width - 1).collect::<String>() + "…";
        }
        let mut line = format!("  {label:label_width$}");
        for ((cell, identity), w) in row.cells.iter().zip(&matrix.identities).zip(&col_widths) {
            let padded = format!("{:w$}", super::cell_label(*cell));
            let code = match tones.tone(row.key, identity, *cell) {
                Tone::Finding => "31;1",
                // Yellow, as an inconclusive verdict is: an error hides the answer.
                Tone::Error => "33;1",
                Tone::Expected | Tone::None => "2",
            };
            let _ = write!(line, "  {}", style.paint(code, &padded));
        }
        if !row.data.is_empty() {
            let data: Vec<&str> = row.data.into_iter().collect();
            let _ = write!(line, "  {}", data.join(", "));
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// The action matrix, compact: one row per action some identity was shown in a page or a
/// script or write-probed (an operation only documented in the OpenAPI document is left to
/// the JSON and HTML reports), a column per identity; then the actions in `write_scope` that
/// were not probed, and why.
pub fn render_actions(result: &RunResult, tones: &CellTones, style: Style, out: &mut String) {
    let matrix = super::actions(result);
    let _ = writeln!(
        out,
        "{}  (what each identity may change)",
        style.paint("1", "Action matrix")
    );
    for legend in super::ACTION_LEGEND {
        let _ = writeln!(out, "  {}", style.paint("2", legend));
    }
    let rows: Vec<_> = matrix.shown_or_probed().collect();
    if !rows.is_empty() {
        let labels: Vec<String> = rows.iter().map(|r| super::action_row_label(r)).collect();
        let label_width = labels
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(10)
            .clamp(10, 80);
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| r.cells.iter().map(super::action_label).collect())
            .collect();
        let col_widths: Vec<usize> = matrix
            .identities
            .iter()
            .enumerate()
            .map(|(i, name)| {
                cells
                    .iter()
                    .filter_map(|c| c.get(i).map(|l| l.chars().count()))
                    .chain([name.len(), 6])
                    .max()
                    .unwrap_or(6)
            })
            .collect();
        let mut header = format!("  {:label_width$}", "action");
        for (name, w) in matrix.identities.iter().zip(&col_widths) {
            let _ = write!(header, "  {name:w$}");
        }
        let _ = writeln!(out, "{}", style.paint("2", header.trim_end()));
        for ((row, label), labels) in rows.iter().zip(labels).zip(cells) {
            let mut label = label;
            if label.chars().count() > label_width {
                label = label.chars().take(label_width - 1).collect::<String>() + "…";
            }
            let mut line = format!("  {label:label_width$}");
            for ((cell, text), w) in row.cells.iter().zip(labels).zip(&col_widths) {
                let padded = format!("{text:w$}");
                let code = match tones.action_tone(row, cell) {
                    Tone::Finding => "31;1",
                    Tone::Error => "33;1",
                    Tone::Expected | Tone::None => "2",
                };
                let _ = write!(line, "  {}", style.paint(code, &padded));
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    let not_probed = super::not_probed(result);
    if !not_probed.is_empty() {
        let _ = writeln!(out, "  not probed: {}", not_probed.join(" · "));
    }
}

/// Each `[[source]]`: its base URL, then per identity its login to the source and what each
/// probe returned (outcome and the data classes seen).
pub fn render_sources(result: &RunResult, style: Style, out: &mut String) {
    let _ = writeln!(
        out,
        "{}  (what each identity's own login to the source returned)",
        style.paint("1", "Sources")
    );
    for table in super::source_tables(result) {
        let _ = writeln!(
            out,
            "  {} · {}",
            style.paint("1", &table.name),
            table.base_url
        );
        let id_width = table
            .rows
            .iter()
            .map(|r| r.identity.len())
            .chain(["identity".len()])
            .max()
            .unwrap_or(8);
        let login_width = table
            .rows
            .iter()
            .map(|r| r.login.chars().count())
            .chain(["login".len()])
            .max()
            .unwrap_or(5);
        let col_widths: Vec<usize> = table
            .probes
            .iter()
            .enumerate()
            .map(|(i, probe)| {
                table
                    .rows
                    .iter()
                    .filter_map(|r| r.cells.get(i).map(|c| c.chars().count()))
                    .chain([probe.chars().count()])
                    .max()
                    .unwrap_or(4)
            })
            .collect();
        let mut header = format!("    {:id_width$}  {:login_width$}", "identity", "login");
        for (probe, w) in table.probes.iter().zip(&col_widths) {
            let _ = write!(header, "  {probe:w$}");
        }
        let _ = writeln!(out, "{}", style.paint("2", header.trim_end()));
        for row in &table.rows {
            let login = if row.logged_in {
                format!("{:login_width$}", row.login)
            } else {
                style.paint("31", &format!("{:login_width$}", row.login))
            };
            let mut line = format!("    {:id_width$}  {login}", row.identity);
            for (cell, w) in row.cells.iter().zip(&col_widths) {
                let _ = write!(line, "  {cell:w$}");
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
}

pub fn render_graphql(view: &super::GraphqlView, style: Style, out: &mut String) {
    let _ = writeln!(
        out,
        "{} · POST {}  (each identity's schema; generated queries are rows of the matrix)",
        style.paint("1", "GraphQL"),
        view.endpoint
    );
    let _ = writeln!(out, "  introspection: {}", view.introspection.join(" · "));
    if view.diff.is_empty() {
        let _ = writeln!(
            out,
            "  schema diff: every schema that came back is the same"
        );
    }
    for (heading, elements) in &view.diff {
        let _ = writeln!(out, "  {heading}: {elements}");
    }
    for (field, document, answers) in &view.queries {
        let _ = writeln!(out, "  {} {document}", style.paint("1", field));
        let _ = writeln!(out, "    {}", style.paint("2", answers));
    }
    for (field, why) in &view.not_queried {
        let _ = writeln!(out, "  {field}: not queried, {why}");
    }
}

pub(crate) fn severity_color(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "31;1",
        Severity::Medium => "33",
        Severity::Low => "34",
        Severity::Info => "2",
    }
}

/// The finding groups by severity, most severe first: one entry per cause (kind, request,
/// identities, URLs) with its why, so an IDOR over a hundred records seen by two identities
/// reads as one entry, not two hundred; the JSON report keeps every finding.
pub fn render_findings(result: &RunResult, style: Style, out: &mut String) {
    let groups = super::groups(result);
    if groups.is_empty() {
        let _ = writeln!(out, "{}: none", style.paint("1", "Findings"));
        return;
    }
    let _ = writeln!(
        out,
        "{} ({} group(s), {} finding(s))",
        style.paint("1", "Findings"),
        groups.len(),
        result.findings.len()
    );
    let origin = result.site.base_url.trim_end_matches('/');
    let counts = super::group_counts(result);
    let mut current = None;
    for group in groups {
        if current != Some(group.severity) {
            current = Some(group.severity);
            let (n, findings) = counts.get(&group.severity).copied().unwrap_or_default();
            let _ = writeln!(
                out,
                "  {}",
                style.paint(
                    severity_color(group.severity),
                    &format!(
                        "{} ({n} group(s), {findings} finding(s))",
                        group.severity.as_str().to_uppercase()
                    )
                )
            );
        }
        let target = super::group_target(group, origin).unwrap_or_default();
        let mut head = format!("    {:20} {target}", group.kind.as_str());
        if !group.identities.is_empty() {
            let _ = write!(head, " · {}", group.identities.join(", "));
        }
        let _ = writeln!(out, "{}", head.trim_end());
        let mut why = group.why.clone();
        if let Some(rule) = &group.rule {
            let _ = write!(why, "  [{rule}]");
        }
        let _ = writeln!(out, "    {:20} {}", "", style.paint("2", &why));
    }
}

/// "If the audience widens to TIER": who joins, and what each reaches today.
pub fn render_audience_preview(result: &RunResult, style: Style, out: &mut String) {
    let Some(preview) = &result.audience_preview else {
        return;
    };
    let verb = if preview.to > preview.from {
        "widens"
    } else {
        "changes"
    };
    let _ = writeln!(
        out,
        "{}",
        style.paint(
            "1",
            &format!(
                "If the audience {verb} to {} (from {})",
                preview.to.as_str(),
                preview.from.as_str()
            )
        )
    );
    if preview.joining.is_empty() && preview.leaving.is_empty() {
        let _ = writeln!(
            out,
            "  no identity of the scenario joins or leaves the audience"
        );
    }
    for (word, group) in [("joins", &preview.joining), ("leaves", &preview.leaving)] {
        for identity in group {
            if identity.reaches.is_empty() {
                let _ = writeln!(
                    out,
                    "  {} ({}) {word}; today it reaches nothing beyond the public paths",
                    identity.name,
                    identity.tier.as_str()
                );
                continue;
            }
            let _ = writeln!(
                out,
                "  {} ({}) {word}; today it reaches {} template(s) beyond the public paths:",
                identity.name,
                identity.tier.as_str(),
                identity.reaches.len()
            );
            for reach in &identity.reaches {
                let data = if reach.data.is_empty() {
                    String::new()
                } else {
                    format!("  sees {}", reach.data.join(", "))
                };
                let _ = writeln!(out, "    {} {}{data}", reach.method, reach.template);
            }
        }
    }
}

/// The comparison with the approved snapshot: what changed as sentences, then the diff.
pub fn render_snapshot(result: &RunResult, style: Style, out: &mut String) {
    use crate::snapshot::Status;
    let Some(snapshot) = &result.snapshot else {
        return;
    };
    let (word, code) = match snapshot.status {
        Status::Match => ("matches", "32"),
        Status::Drift => ("DRIFT", "31;1"),
        Status::New => ("new", "33"),
        Status::Skipped => ("not compared", "33"),
    };
    let _ = writeln!(
        out,
        "{} {}: {}",
        style.paint("1", "Snapshot"),
        style.paint(code, word),
        snapshot.message
    );
    render_changes(&snapshot.changes, style, "  ", out);
    if !snapshot.diff.is_empty() {
        out.push_str(&paint_diff(&snapshot.diff, style, "  "));
    }
}

/// What changed in an exposure snapshot, as sentences under a heading per direction:
/// widening first and red (it is the risk), narrowing green, the rest dim. `run` and
/// `lowpriv snapshot review` both print drift this way.
pub fn render_changes(changes: &[Change], style: Style, indent: &str, out: &mut String) {
    use crate::snapshot::Direction;
    for (direction, title, mark, color) in [
        (Direction::Widening, "exposure widened", "+", "31"),
        (Direction::Narrowing, "exposure narrowed", "-", "32"),
        (Direction::Neutral, "other changes", "~", "2"),
    ] {
        let lines: Vec<&Change> = changes
            .iter()
            .filter(|c| c.direction == direction)
            .collect();
        if lines.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{indent}{title} ({}):", lines.len());
        for change in lines {
            let _ = writeln!(
                out,
                "{indent}  {}",
                style.paint(color, &format!("{mark} {}", change.sentence()))
            );
        }
    }
}

/// A unified diff, coloured when the style allows, each line indented.
pub fn paint_diff(diff: &str, style: Style, indent: &str) -> String {
    let mut out = String::new();
    for line in diff.lines() {
        let code = if line.starts_with("+++") || line.starts_with("---") {
            "1"
        } else if line.starts_with('+') {
            "32"
        } else if line.starts_with('-') {
            "31"
        } else if line.starts_with("@@") {
            "36"
        } else {
            ""
        };
        let text = if code.is_empty() {
            line.to_string()
        } else {
            style.paint(code, line)
        };
        let _ = writeln!(out, "{indent}{text}");
    }
    out
}

/// The verdict and why, in one or a few lines.
pub fn render_verdict(result: &RunResult, style: Style) -> String {
    let summary = &result.summary;
    let (word, code) = match summary.verdict {
        Verdict::Pass => ("PASS", "32;1"),
        Verdict::Fail => ("FAIL", "31;1"),
        Verdict::Inconclusive => ("INCONCLUSIVE", "33;1"),
    };
    let exit = result.summary.verdict.exit_code();
    let mut out = format!(
        "verdict: {} (exit {exit}) · {} requests · {} templates · {} findings in {} group(s)\n",
        style.paint(code, word),
        summary.requests,
        summary.templates,
        result.findings.len(),
        result.groups.len()
    );
    for reason in &summary.reasons {
        let _ = writeln!(out, "  - {reason}");
    }
    let _ = writeln!(out, "{}", result.coverage.line());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::{Finding, FindingKind};
    use crate::observe::{Observation, Outcome};

    /// The colour says finding or as expected, not the outcome: an owner's `allow` is dim,
    /// another identity's `allow` a finding names is red, an error keeps its yellow.
    #[test]
    fn matrix_cells_are_painted_by_their_tone() {
        let request = crate::crawl::Request::get(url::Url::parse("http://s.test/r").unwrap());
        let observation = |identity: &str, outcome| {
            let mut o = Observation::skipped(identity, &request, "", true);
            o.outcome = outcome;
            o
        };
        let observations = [
            observation("a", Outcome::Allowed),
            observation("a", Outcome::Error),
            observation("b", Outcome::Allowed),
            observation("c", Outcome::Denied),
            observation("owner", Outcome::Allowed),
        ];
        let identities: Vec<String> = ["a", "b", "c", "owner", "d"].map(String::from).to_vec();
        let matrix = Matrix::from_observations("s", &identities, &observations);
        let findings: Vec<Finding> = ["a", "b"]
            .into_iter()
            .map(|who| {
                Finding::at(
                    FindingKind::RuleViolation,
                    &observation(who, Outcome::Allowed),
                    "not admitted".to_string(),
                )
            })
            .collect();
        let groups = crate::judge::group(&findings);
        let mut out = String::new();
        render_matrix(
            &matrix,
            &CellTones::new(&groups),
            Style { color: true },
            &mut out,
        );
        let row = out.lines().last().unwrap_or_default();
        for painted in [
            "\x1b[33;1mallow+ERROR",
            "\x1b[31;1mallow ",
            "\x1b[2mdeny ",
            "\x1b[2mallow ",
            "\x1b[2m-  ",
        ] {
            assert!(row.contains(painted), "{painted:?} in {row:?}");
        }
        assert_eq!(row.matches("\x1b[31;1m").count(), 1, "{row:?}");
    }
}
