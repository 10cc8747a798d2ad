//! Rendering the problems found in one scenario file.
//!
//! Input: the source text, the problems (byte spans) and the spans of values that must never be
//! shown. Output: [`Diagnostics`], whose items carry 1-based line:column locations (columns in
//! characters, from the original source) and whose `Display` is the full plain-text report.
//!
//! Invariant: the rendered text is built from a copy of the source in which every masked span
//! reads `"***"`, so a literal secret found in the file is never echoed back.

use std::fmt;
use std::ops::Range;
use std::path::Path;

use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};

use super::model::Location;

/// One problem found in a scenario file.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub message: String,
    pub location: Location,
    pub help: Option<String>,
}

/// Every problem found in one file, rendered once.
#[derive(Debug)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
    rendered: String,
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rendered)
    }
}

/// A problem as the parser records it: a byte span into the original source.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub span: Range<usize>,
    pub message: String,
    pub help: Option<String>,
}

const MASK: &str = "\"***\"";

impl Diagnostics {
    /// Sorts the problems by position, drops exact duplicates and renders them.
    pub(crate) fn new(
        source: &str,
        file: &Path,
        mut problems: Vec<Problem>,
        masks: Vec<Range<usize>>,
    ) -> Diagnostics {
        problems.sort_by(|a, b| {
            (a.span.start, a.span.end, &a.message).cmp(&(b.span.start, b.span.end, &b.message))
        });
        problems.dedup_by(|a, b| a.span == b.span && a.message == b.message);

        let masked = Masked::new(source, masks);
        let path = file.display().to_string();
        let renderer = Renderer::plain();
        let mut rendered = String::new();
        let mut items = Vec::with_capacity(problems.len());
        for p in &problems {
            let span = clamp(source, &p.span);
            let (line, column) = line_column(source, span.start);
            items.push(Diagnostic {
                message: p.message.clone(),
                location: Location {
                    file: file.to_path_buf(),
                    line,
                    column,
                },
                help: p.help.clone(),
            });
            let shown = masked.map(&span);
            let label = p.help.as_ref().map(|h| format!("help: {h}"));
            let report = &[Level::ERROR.primary_title(p.message.as_str()).element(
                Snippet::source(masked.text.as_str())
                    .annotation(AnnotationKind::Primary.span(shown).label(label)),
            )];
            let text = renderer.render(report);
            rendered.push_str(&with_location(&text, &format!("{path}:{line}:{column}")));
            rendered.push_str("\n\n");
        }
        let n = items.len();
        let noun = if n == 1 { "problem" } else { "problems" };
        rendered.push_str(&format!("{path}: {n} {noun}"));
        Diagnostics { items, rendered }
    }
}

/// Inserts the `--> file:line:col` line under the title. The renderer would compute it from
/// the masked text, whose columns differ from the file's after a masked value on the same line;
/// the file's own position is the one a user can jump to.
fn with_location(text: &str, location: &str) -> String {
    let Some((title, body)) = text.split_once('\n') else {
        return format!("{text}\n --> {location}");
    };
    // The gutter is as wide as the largest line number shown; the arrow sits one to its left.
    let gutter = body.find('|').unwrap_or(1);
    let pad = " ".repeat(gutter.saturating_sub(1));
    format!("{title}\n{pad}--> {location}\n{body}")
}

/// 1-based line and character column of a byte offset.
pub(crate) fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Keeps a span inside the source and on character boundaries, since spans from recovered
/// syntax errors may point one past the end.
fn clamp(source: &str, span: &Range<usize>) -> Range<usize> {
    let fix = |mut i: usize| {
        i = i.min(source.len());
        while !source.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = fix(span.start);
    start..fix(span.end).max(start)
}

/// The source with secret spans replaced, and the offset mapping from the original.
struct Masked {
    text: String,
    /// (original span, span in `text`), sorted and disjoint.
    spans: Vec<(Range<usize>, Range<usize>)>,
}

impl Masked {
    fn new(source: &str, mut masks: Vec<Range<usize>>) -> Masked {
        masks.retain(|m| m.start < m.end && m.end <= source.len());
        masks.sort_by_key(|m| (m.start, m.end));
        let mut merged: Vec<Range<usize>> = Vec::new();
        for m in masks {
            match merged.last_mut() {
                Some(last) if m.start <= last.end => last.end = last.end.max(m.end),
                _ => merged.push(m),
            }
        }
        let mut text = String::with_capacity(source.len());
        let mut spans = Vec::with_capacity(merged.len());
        let mut last = 0;
        for m in merged {
            text.push_str(&source[last..m.start]);
            let start = text.len();
            text.push_str(MASK);
            // Keep the line count, so line numbers of later diagnostics stay true.
            for _ in source[m.clone()].matches('\n') {
                text.push('\n');
            }
            spans.push((m.clone(), start..start + MASK.len()));
            last = m.end;
        }
        text.push_str(&source[last..]);
        Masked { text, spans }
    }

    fn map(&self, span: &Range<usize>) -> Range<usize> {
        let start = self.map_offset(span.start, false);
        let end = self.map_offset(span.end, true);
        start..end.max(start)
    }

    fn map_offset(&self, offset: usize, is_end: bool) -> usize {
        let mut shift: isize = 0;
        for (orig, shown) in &self.spans {
            if offset <= orig.start {
                break;
            }
            if offset < orig.end || (is_end && offset == orig.end) {
                return if is_end { shown.end } else { shown.start };
            }
            shift += (shown.end - shown.start) as isize - (orig.end - orig.start) as isize;
        }
        offset.saturating_add_signed(shift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_characters() {
        let src = "a = 1\nnäme = \"x\"\n";
        assert_eq!(line_column(src, 0), (1, 1));
        assert_eq!(line_column(src, 6), (2, 1));
        let at_eq = src.find('=').map(|_| src.rfind('=').unwrap()).unwrap();
        assert_eq!(line_column(src, at_eq), (2, 6));
    }

    #[test]
    fn masking_hides_values_and_maps_spans() {
        let src = "a = \"hunter2\"\nb = 1\n";
        let masks: Vec<Range<usize>> = std::iter::once(4..13).collect();
        let m = Masked::new(src, masks);
        assert_eq!(m.text, "a = \"***\"\nb = 1\n");
        assert_eq!(m.map(&(4..13)), 4..9);
        assert_eq!(m.map(&(14..15)), 10..11);
        assert_eq!(m.map(&(0..1)), 0..1);
    }
}
