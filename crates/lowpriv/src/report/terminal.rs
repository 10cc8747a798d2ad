//! The terminal report: who the run was, the access matrix (the run's exposure matrix as
//! templates × identities), the findings grouped by severity with a one-line why, and the
//! verdict with its reasons. Colour only when asked (a TTY without `NO_COLOR`).

use std::fmt::Write;

use crate::RunResult;
use crate::judge::Severity;
use crate::observe::Outcome;
use crate::snapshot::{Cell, Matrix};
use crate::verdict::Verdict;

#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
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
    render_matrix(super::exposure(result), style, &mut out);
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

/// The access matrix: one row per request template, one column per identity.
pub fn render_matrix(matrix: &Matrix, style: Style, out: &mut String) {
    let _ = writeln!(
        out,
        "{}  (allow · deny · hidden: 404 while others got it · ERROR · skip: not sent; * data seen)",
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
        for (cell, w) in row.cells.iter().zip(&col_widths) {
            let padded = format!("{:w$}", super::cell_label(*cell));
            let code = match cell.and_then(Cell::headline) {
                Some(Outcome::Error) => "31",
                Some(Outcome::Allowed) => "1",
                _ => "2",
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

fn severity_color(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "31;1",
        Severity::Medium => "33",
        Severity::Low => "34",
        Severity::Info => "2",
    }
}

/// Findings grouped by severity, most severe first. Findings of one kind for one identity on
/// one template are one entry (with the number of URLs), so an IDOR over a hundred records
/// reads as one line, not a hundred; the JSON report keeps every one.
pub fn render_findings(result: &RunResult, style: Style, out: &mut String) {
    if result.findings.is_empty() {
        let _ = writeln!(out, "{}: none", style.paint("1", "Findings"));
        return;
    }
    let _ = writeln!(
        out,
        "{} ({})",
        style.paint("1", "Findings"),
        result.findings.len()
    );
    let origin = result.site.base_url.trim_end_matches('/');
    let mut current = None;
    for group in super::finding_groups(&result.findings) {
        let first = &group[0];
        if current != Some(first.severity) {
            current = Some(first.severity);
            let count = result
                .summary
                .findings
                .get(&first.severity)
                .copied()
                .unwrap_or(0);
            let _ = writeln!(
                out,
                "  {}",
                style.paint(
                    severity_color(first.severity),
                    &format!("{} ({count})", first.severity.as_str().to_uppercase())
                )
            );
        }
        let target = super::finding_target(group, origin).unwrap_or_default();
        let _ = writeln!(
            out,
            "    {:20} {:10} {}",
            first.kind.as_str(),
            first.identity.as_deref().unwrap_or("-"),
            target
        );
        let mut why = first.detail.clone();
        if group.len() > 1 {
            why.push_str(" (first of them)");
        }
        if let Some(rule) = &first.rule {
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
    use crate::snapshot::{Direction, Status};
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
    for (direction, title, mark, color) in [
        (Direction::Widening, "exposure widened", "+", "31"),
        (Direction::Narrowing, "exposure narrowed", "-", "32"),
        (Direction::Neutral, "other changes", "~", "2"),
    ] {
        let lines: Vec<&crate::snapshot::Change> = snapshot
            .changes
            .iter()
            .filter(|c| c.direction == direction)
            .collect();
        if lines.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  {title} ({}):", lines.len());
        for change in lines {
            let _ = writeln!(
                out,
                "    {}",
                style.paint(color, &format!("{mark} {}", change.sentence()))
            );
        }
    }
    if !snapshot.diff.is_empty() {
        out.push_str(&paint_diff(&snapshot.diff, style, "  "));
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
        "verdict: {} (exit {exit}) · {} requests · {} templates · {} findings\n",
        style.paint(code, word),
        summary.requests,
        summary.templates,
        result.findings.len()
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
    use crate::observe::Observation;

    #[test]
    fn matrix_cells_are_painted_by_their_headline() {
        let request = crate::crawl::Request::get(url::Url::parse("http://s.test/r").unwrap());
        let observation = |identity: &str, outcome| {
            let mut o = Observation::skipped(identity, &request, "", true);
            o.outcome = outcome;
            o
        };
        let observations = [
            observation("a", Outcome::Allowed),
            observation("a", Outcome::Error),
            observation("b", Outcome::Denied),
            observation("b", Outcome::Allowed),
            observation("c", Outcome::Hidden),
        ];
        let identities: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
        let matrix = Matrix::from_observations("s", &identities, &observations);
        let mut out = String::new();
        render_matrix(&matrix, Style { color: true }, &mut out);
        let row = out.lines().last().unwrap_or_default();
        for painted in [
            "\x1b[31mallow+ERROR",
            "\x1b[1mallow+deny ",
            "\x1b[2mhidden ",
            "\x1b[2m-  ",
        ] {
            assert!(row.contains(painted), "{painted:?} in {row:?}");
        }
    }
}
