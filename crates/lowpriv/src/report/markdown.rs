//! The Markdown report (`--markdown FILE`): a compact summary for a PR comment or
//! `$GITHUB_STEP_SUMMARY` (GitHub-flavoured tables).
//!
//! Sections, in order: the verdict and its reasons; the access matrix (request templates ×
//! identities; `allow`, `deny`, `hidden`, `ERROR`, `skip`, `*` when data was seen, and the
//! data classes; a cell a finding names, or an error, in bold); the action matrix (the
//! actions some identity was shown in a page or script, or write-probed: where, and what the
//! probe got, in the terminal's words; bold where a finding names the cell; how many
//! operations are only documented; what was not probed); each `[[source]]`'s probes (a row
//! per identity: its login to the source, and per probe the outcome and data classes); the
//! finding groups by severity, one row per cause (kind, request, identities, URLs: the one URL's path or how
//! many, why) like the terminal report; the snapshot drift as sentences (widening apart
//! from narrowing, the unified diff folded); "If the audience widens" when `--audience` was
//! given.
//!
//! ```markdown
//! ## lowpriv · acme-payroll · FAIL
//!
//! `http://127.0.0.1:8080/` · audience team · fail on high · 100 requests · 18 templates
//!
//! - 12 finding group(s) at or above high (38 finding(s))
//!
//! ### Access matrix
//! | request | anonymous | dave | data |
//! | --- | --- | --- | --- |
//! | GET /api/directory | deny | **allow\*** | email, salary |
//!
//! ### Action matrix
//! | action | kind | anonymous | carol | alice |
//! | --- | --- | --- | --- | --- |
//! | POST /team/compensation | write-capable | refused | **form, authorized** | form, authorized |
//!
//! ### Findings (14 group(s), 40 finding(s))
//! #### HIGH (11 group(s), 33 finding(s))
//! | kind | request | identities | URLs | why |
//! | --- | --- | --- | --- | --- |
//! | data\-exposure | GET /api/employees/{id} | carol, dave | 5 URLs | carol sees ... (first of 10) |
//! ```
//!
//! Every cell is escaped: `|`, backticks and Markdown punctuation are backslash-escaped and
//! `<`, `>`, `&` become entities, so text from the Site (paths, reasons) cannot break a table
//! or inject markup into a PR page.

use std::fmt::Write;

use super::{CellTones, Tone};
use crate::RunResult;
use crate::snapshot::Matrix;
use crate::verdict::Verdict;

/// Escapes text for a table cell (and for inline text generally).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' | '`' | '\\' | '*' | '_' | '[' | ']' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

pub fn render(result: &RunResult) -> String {
    let mut out = String::new();
    let summary = &result.summary;
    let verdict = match summary.verdict {
        Verdict::Pass => "✅ PASS",
        Verdict::Fail => "❌ FAIL",
        Verdict::Inconclusive => "⚠️ INCONCLUSIVE",
    };
    let _ = writeln!(
        out,
        "## lowpriv · {} · {verdict}\n",
        escape(&result.site.name)
    );
    let _ = writeln!(
        out,
        "{} · audience {} · fail on {} · {} requests · {} templates · {} findings in {} group(s)\n",
        escape(&result.site.base_url),
        result.site.evaluated_audience.as_str(),
        summary.fail_on.as_str(),
        summary.requests,
        summary.templates,
        result.findings.len(),
        result.groups.len()
    );
    for reason in &summary.reasons {
        let _ = writeln!(out, "- {}", escape(reason));
    }
    let _ = writeln!(out, "\n{}\n", escape(&result.coverage.line()));
    if let Some(line) = result.coverage.unrendered_line() {
        let _ = writeln!(out, "{}\n", escape(&line));
    }
    let failed: Vec<String> = result
        .identities
        .iter()
        .filter_map(|i| {
            i.login_error
                .as_ref()
                .map(|why| format!("{}: {why}", i.name))
        })
        .collect();
    if !failed.is_empty() {
        out.push_str("\n**Logins failed** (their columns are missing):\n\n");
        for line in failed {
            let _ = writeln!(out, "- {}", escape(&line));
        }
    }

    render_matrix(
        super::exposure(result),
        &CellTones::new(super::groups(result)),
        &mut out,
    );
    render_actions(result, &CellTones::new(super::groups(result)), &mut out);
    render_sources(result, &mut out);
    render_graphql(result, &mut out);
    render_findings(result, &mut out);
    render_snapshot(result, &mut out);
    render_preview(result, &mut out);
    out
}

fn render_matrix(matrix: &Matrix, tones: &CellTones, out: &mut String) {
    out.push_str("\n### Access matrix\n\n");
    if matrix.is_empty() {
        out.push_str("Nothing was observed.\n");
        return;
    }
    out.push_str(
        "`allow` · `deny` · `hidden` (404 while others got it) · `ERROR` · `skip` (not sent) · `*` data seen · **bold**: a finding names the cell, or an error hid it\n\n",
    );
    out.push_str("| request |");
    for name in &matrix.identities {
        let _ = write!(out, " {} |", escape(name));
    }
    out.push_str(" data |\n|---|");
    for _ in &matrix.identities {
        out.push_str("---|");
    }
    out.push_str("---|\n");
    for row in matrix.rows() {
        let _ = write!(out, "| {} |", escape(&row.key.to_string()));
        for (cell, identity) in row.cells.iter().zip(&matrix.identities) {
            let label = escape(&super::cell_label(*cell));
            // Bold what a reviewer must read: what a finding names, and errors that hid an
            // answer; an allow nobody objects to (the owner's own page) is plain.
            if matches!(
                tones.tone(row.key, identity, *cell),
                Tone::Finding | Tone::Error
            ) {
                let _ = write!(out, " **{label}** |");
            } else {
                let _ = write!(out, " {label} |");
            }
        }
        let data: Vec<&str> = row.data.into_iter().collect();
        let _ = writeln!(out, " {} |", escape(&data.join(", ")));
    }
}

fn render_actions(result: &RunResult, tones: &CellTones, out: &mut String) {
    let matrix = super::actions(result);
    let not_probed = super::not_probed(result);
    let rows: Vec<_> = matrix.shown_or_probed().collect();
    if rows.is_empty() && not_probed.is_empty() {
        return;
    }
    out.push_str("\n### Action matrix\n\n");
    let _ = writeln!(
        out,
        "{} · **bold**: a finding names the cell\n",
        escape(&super::ACTION_LEGEND.join(" · "))
    );
    if !rows.is_empty() {
        out.push_str("| action | kind |");
        for name in &matrix.identities {
            let _ = write!(out, " {} |", escape(name));
        }
        out.push_str("\n|---|---|");
        for _ in &matrix.identities {
            out.push_str("---|");
        }
        out.push('\n');
        for row in &rows {
            let mut kind = row.kind.as_str().to_string();
            if let Some(rule) = &row.rule {
                let _ = write!(kind, " [{rule}]");
            }
            let _ = write!(
                out,
                "| {} | {} |",
                escape(&row.key().to_string()),
                escape(&kind)
            );
            for cell in &row.cells {
                let label = escape(&super::action_label(cell));
                if matches!(tones.action_tone(row, cell), Tone::Finding | Tone::Error) {
                    let _ = write!(out, " **{label}** |");
                } else {
                    let _ = write!(out, " {label} |");
                }
            }
            out.push('\n');
        }
    }
    let documented = matrix.rows.len() - rows.len();
    if documented > 0 {
        let _ = writeln!(
            out,
            "\n{documented} more action(s) only documented in the OpenAPI document: see the HTML or JSON report."
        );
    }
    if !not_probed.is_empty() {
        let _ = writeln!(out, "\nNot probed: {}", escape(&not_probed.join(" · ")));
    }
}

fn render_sources(result: &RunResult, out: &mut String) {
    let tables = super::source_tables(result);
    if tables.is_empty() {
        return;
    }
    out.push_str("\n### Sources\n\nWhat each identity's own login to the source returned.\n");
    for table in tables {
        let _ = writeln!(
            out,
            "\n**{}** · {}\n",
            escape(&table.name),
            escape(&table.base_url)
        );
        out.push_str("| identity | login |");
        for probe in &table.probes {
            let _ = write!(out, " {} |", escape(probe));
        }
        out.push_str("\n|---|---|");
        for _ in &table.probes {
            out.push_str("---|");
        }
        out.push('\n');
        for row in &table.rows {
            let login = if row.logged_in {
                escape(&row.login)
            } else {
                format!("**{}**", escape(&row.login))
            };
            let _ = write!(out, "| {} | {login} |", escape(&row.identity));
            for cell in &row.cells {
                let _ = write!(out, " {} |", escape(cell));
            }
            out.push('\n');
        }
    }
}

fn render_graphql(result: &RunResult, out: &mut String) {
    let Some(view) = super::graphql_view(result) else {
        return;
    };
    let _ = writeln!(
        out,
        "\n### GraphQL · `POST {}`\n\nEach identity's schema; each generated query is a row of the matrix.\n",
        escape(&view.endpoint)
    );
    for line in &view.introspection {
        let _ = writeln!(out, "- introspection {}", escape(line));
    }
    if view.diff.is_empty() {
        out.push_str("- schema diff: every schema that came back is the same\n");
    }
    for (heading, elements) in &view.diff {
        let _ = writeln!(out, "- {}: {}", escape(heading), escape(elements));
    }
    if !view.queries.is_empty() {
        out.push_str("\n| field | query | answers |\n|---|---|---|\n");
        for (field, document, answers) in &view.queries {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                escape(field),
                escape(document),
                escape(answers)
            );
        }
    }
    for (field, why) in &view.not_queried {
        let _ = writeln!(out, "- {}: not queried, {}", escape(field), escape(why));
    }
}

fn render_findings(result: &RunResult, out: &mut String) {
    let groups = super::groups(result);
    if groups.is_empty() {
        out.push_str("\n### Findings: none\n");
        return;
    }
    let _ = writeln!(
        out,
        "\n### Findings ({} group(s), {} finding(s))",
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
                "\n#### {} ({n} group(s), {findings} finding(s))\n\n| kind | request | identities | URLs | why |\n|---|---|---|---|---|",
                group.severity.as_str().to_uppercase()
            );
        }
        let mut why = group.why.clone();
        if let Some(rule) = &group.rule {
            let _ = write!(why, " [{rule}]");
        }
        let identities = if group.identities.is_empty() {
            "-".to_string()
        } else {
            group.identities.join(", ")
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            escape(group.kind.as_str()),
            escape(&super::group_request(group).unwrap_or_else(|| "-".to_string())),
            escape(&identities),
            escape(&super::group_urls(group, origin)),
            escape(&why)
        );
    }
}

fn render_snapshot(result: &RunResult, out: &mut String) {
    use crate::snapshot::{Direction, Status};
    let Some(snapshot) = &result.snapshot else {
        return;
    };
    let word = match snapshot.status {
        Status::Match => "matches",
        Status::Drift => "DRIFT",
        Status::New => "new",
        Status::Skipped => "not compared",
    };
    let _ = writeln!(
        out,
        "\n### Snapshot: {word}\n\n{}",
        escape(&snapshot.message)
    );
    for (direction, title) in [
        (Direction::Widening, "Exposure widened"),
        (Direction::Narrowing, "Exposure narrowed"),
        (Direction::Neutral, "Other changes"),
    ] {
        let lines: Vec<String> = snapshot
            .changes
            .iter()
            .filter(|c| c.direction == direction)
            .map(|c| escape(&c.sentence()))
            .collect();
        if lines.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n**{title}** ({}):\n", lines.len());
        for line in lines {
            let _ = writeln!(out, "- {line}");
        }
    }
    if !snapshot.diff.is_empty() {
        // A fence longer than any backtick run in the diff, so the diff cannot close it.
        let longest = snapshot
            .diff
            .split(|c| c != '`')
            .map(str::len)
            .max()
            .unwrap_or(0);
        let fence = "`".repeat(longest.max(2) + 1);
        let _ = writeln!(
            out,
            "\n<details><summary>diff</summary>\n\n{fence}diff\n{}\n{fence}\n\n</details>",
            snapshot.diff.trim_end()
        );
    }
}

fn render_preview(result: &RunResult, out: &mut String) {
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
        "\n### If the audience {verb} to {} (from {})\n",
        preview.to.as_str(),
        preview.from.as_str()
    );
    if preview.joining.is_empty() && preview.leaving.is_empty() {
        out.push_str("No identity of the scenario joins or leaves the audience.\n");
    }
    for (word, group) in [("joins", &preview.joining), ("leaves", &preview.leaving)] {
        for identity in group {
            if identity.reaches.is_empty() {
                let _ = writeln!(
                    out,
                    "- **{}** ({}) {word}; today it reaches nothing beyond the public paths",
                    escape(&identity.name),
                    identity.tier.as_str()
                );
                continue;
            }
            let _ = writeln!(
                out,
                "- **{}** ({}) {word}; today it reaches {} template(s) beyond the public paths:",
                escape(&identity.name),
                identity.tier.as_str(),
                identity.reaches.len()
            );
            for reach in &identity.reaches {
                let data = if reach.data.is_empty() {
                    String::new()
                } else {
                    format!(" — sees {}", escape(&reach.data.join(", ")))
                };
                let _ = writeln!(
                    out,
                    "  - {}{data}",
                    escape(&format!("{} {}", reach.method, reach.template))
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cells_cannot_break_a_table_or_inject_markup() {
        assert_eq!(
            super::escape("a|b `c` <img src=x> [l](u)\nnext"),
            r"a\|b \`c\` &lt;img src=x&gt; \[l\](u) next"
        );
    }
}
