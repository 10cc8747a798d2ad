//! HTML tables read as records: a column whose header names a `json_keys` key counts, for
//! every non-empty cell under it, as that key in a JSON record.
//!
//! Input: a body's text and the lowercase key → class map. Output: (class, header, cell
//! length) for each counted cell. A page that renders `/api/employees` as a table exposes the
//! same salaries; without this, the JSON endpoint would be flagged and the page would not.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::rc::Rc;

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

/// Tables nested deeper than this end the reading of the page (what is read still counts).
const MAX_TABLE_DEPTH: usize = 32;

/// A counted cell: the class, the header as written, and the cell's length in characters.
pub struct Cell<'k> {
    pub class: &'k str,
    /// Shared by every cell of the column.
    pub header: Rc<str>,
    pub chars: usize,
    /// The cell's value as [`super::value_key`] keys it, only for a class whose records are
    /// compared with a source's (the `sourced` classes given to [`cells`]).
    pub value: Option<u64>,
}

static TABLE: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(["<table"])
        .ok()
});

/// From the first `<table` on (nothing before it can hold a cell); `None` without a table, so
/// a page without one costs a single search.
fn tables_slice(text: &str) -> Option<&str> {
    let start = TABLE.as_ref()?.find(text)?.start();
    text.get(start..)
}

/// One table's rows as read so far: cells with their kind, span and text.
#[derive(Default)]
struct Table {
    rows: Vec<Vec<RawCell>>,
    /// Inside a `<tr>` (cells go to the last row).
    in_row: bool,
}

struct RawCell {
    header: bool,
    span: usize,
    /// Where its text lies in the page: one piece mostly, several around inner tags.
    /// Ranges, not copies: most cells sit in columns nobody asked about.
    first: Option<Range<usize>>,
    more: Vec<Range<usize>>,
    /// Still collecting text (not yet closed by `</td>`, the next cell or the row's end).
    open: bool,
}

/// Reads tables with a small tag scanner rather than a full HTML parser: the classifier
/// only needs rows, cells, their spans and their text, and a browser-grade parse of every
/// page with a table cost more than all the other checks together. Implicit ends (a `<tr>`
/// or `<td>` closing the previous one) follow HTML's rules for tables; nested tables are
/// read on their own; script, style and comments are skipped.
pub fn cells<'k>(
    text: &str,
    keys: &'k HashMap<String, String>,
    sourced: &HashSet<String>,
) -> Vec<Cell<'k>> {
    // No depth cut of the whole page first (`markup::bounded`, for the HTML parser): this
    // scanner is linear in the page except in nested tables, and those are capped below.
    let Some(html) = tables_slice(text) else {
        return Vec::new();
    };
    let bytes = html.as_bytes();
    let mut stack: Vec<Table> = Vec::new();
    let mut out = Vec::new();
    let mut i = 0;
    let mut text_start = 0;
    while i < bytes.len() {
        let Some(lt) = memchr::memchr(b'<', &bytes[i..]) else {
            break;
        };
        i += lt;
        push_text(&mut stack, text_start..i);
        let rest = &html[i..];
        if rest.starts_with("<!--") {
            i += rest.find("-->").map_or(rest.len(), |e| e + 3);
            text_start = i;
            continue;
        }
        let closing = rest.as_bytes().get(1) == Some(&b'/');
        let name_start = if closing { 2 } else { 1 };
        let name_len = rest.as_bytes()[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if name_len == 0 {
            // A stray `<`: text.
            i += 1;
            continue;
        }
        let raw_name = &rest.as_bytes()[name_start..name_start + name_len];
        // Only the tags that shape a table matter; the rest are skipped without allocating.
        let name = ["table", "tr", "td", "th", "script", "style"]
            .into_iter()
            .find(|known| raw_name.eq_ignore_ascii_case(known.as_bytes()))
            .unwrap_or("");
        let tag_end = tag_end(rest).unwrap_or(rest.len());
        let tag = &rest[..tag_end];
        i += tag_end;
        text_start = i;
        match (closing, name) {
            (false, "script" | "style") => {
                let close = format!("</{name}");
                let after = find_ignoring_case(&bytes[i..], close.as_bytes());
                i = after.map_or(html.len(), |a| i + a);
                text_start = i;
            }
            (false, "table") => {
                if stack.len() >= MAX_TABLE_DEPTH {
                    // Every text piece goes to every open table: a hostile page of nested
                    // tables would make the scan quadratic. Real pages nest two or three.
                    break;
                }
                stack.push(Table::default());
            }
            (true, "table") => {
                if let Some(table) = stack.pop() {
                    read_table(html, &table, keys, sourced, &mut out);
                }
            }
            (false, "tr") => {
                if let Some(table) = stack.last_mut() {
                    close_cell(table);
                    table.rows.push(Vec::new());
                    table.in_row = true;
                }
            }
            (true, "tr") => {
                if let Some(table) = stack.last_mut() {
                    close_cell(table);
                    table.in_row = false;
                }
            }
            (false, "td" | "th") => {
                if let Some(table) = stack.last_mut() {
                    close_cell(table);
                    if !table.in_row {
                        table.rows.push(Vec::new());
                        table.in_row = true;
                    }
                    if let Some(row) = table.rows.last_mut() {
                        row.push(RawCell {
                            header: name == "th",
                            span: colspan(tag),
                            first: None,
                            more: Vec::new(),
                            open: true,
                        });
                    }
                }
            }
            (true, "td" | "th") => {
                if let Some(table) = stack.last_mut() {
                    close_cell(table);
                }
            }
            _ => {}
        }
    }
    push_text(&mut stack, text_start.min(html.len())..html.len());
    // Tables left open at the end of the page are read as they stand.
    while let Some(table) = stack.pop() {
        read_table(html, &table, keys, sourced, &mut out);
    }
    out
}

/// The end of a tag (just past `>`), skipping `>` inside quoted attribute values.
fn tag_end(tag: &str) -> Option<usize> {
    let mut quote = None;
    for (index, byte) in tag.bytes().enumerate() {
        match (quote, byte) {
            (None, b'"' | b'\'') => quote = Some(byte),
            (Some(q), b) if b == q => quote = None,
            (None, b'>') => return Some(index + 1),
            _ => {}
        }
    }
    None
}

fn find_ignoring_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

fn colspan(tag: &str) -> usize {
    let Some(at) = find_ignoring_case(tag.as_bytes(), b"colspan") else {
        return 1;
    };
    let value: String = tag[at + "colspan".len()..]
        .trim_start_matches([' ', '=', '"', '\''])
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    value.parse::<usize>().map_or(1, |n| n.clamp(1, 1000))
}

fn push_text(stack: &mut [Table], text: Range<usize>) {
    if text.is_empty() {
        return;
    }
    // Text belongs to the open cell of the innermost table, and of every table around it
    // (a cell holding a table holds its text too, as a browser's `textContent` does).
    for table in stack.iter_mut() {
        if let Some(cell) = table.rows.last_mut().and_then(|r| r.last_mut())
            && cell.open
        {
            match &mut cell.first {
                None => cell.first = Some(text.clone()),
                Some(first) if first.end == text.start => first.end = text.end,
                Some(_) => cell.more.push(text.clone()),
            }
        }
    }
}

impl RawCell {
    /// The cell's text, decoded; borrowed from the page when it is one piece.
    fn text<'h>(&self, html: &'h str) -> Cow<'h, str> {
        let piece = |range: &Range<usize>| html.get(range.clone()).unwrap_or("");
        match &self.first {
            None => Cow::Borrowed(""),
            Some(first) if self.more.is_empty() => decode(piece(first)),
            Some(first) => {
                let mut whole = piece(first).to_string();
                for range in &self.more {
                    whole.push_str(piece(range));
                }
                Cow::Owned(decode(&whole).into_owned())
            }
        }
    }
}

fn close_cell(table: &mut Table) {
    if let Some(cell) = table.rows.last_mut().and_then(|r| r.last_mut()) {
        cell.open = false;
    }
}

/// Decodes the entities a header or cell is likely to hold, enough to judge emptiness and
/// length as a browser would.
fn decode(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let decoded = text
        .replace("&nbsp;", " ")
        .replace("&#160;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    Cow::Owned(decoded)
}

fn read_table<'k>(
    html: &str,
    table: &Table,
    keys: &'k HashMap<String, String>,
    sourced: &HashSet<String>,
    out: &mut Vec<Cell<'k>>,
) {
    // The header row is the first row made only of `th` cells.
    let Some(header_index) = table
        .rows
        .iter()
        .position(|row| !row.is_empty() && row.iter().all(|c| c.header))
    else {
        return;
    };
    // Indexed by column: a lookup per cell of every row, where hashing cost more than the
    // rest of the cell's reading.
    let mut columns: Vec<Option<(&'k str, Rc<str>)>> = Vec::new();
    let mut column = 0;
    for cell in &table.rows[header_index] {
        let header = cell.text(html);
        let name = header
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        if let Some(class) = keys.get(&name) {
            if columns.len() <= column {
                columns.resize(column + 1, None);
            }
            columns[column] = Some((class.as_str(), Rc::from(header.trim())));
        }
        column += cell.span;
    }
    if columns.is_empty() {
        return;
    }
    for row in &table.rows[header_index + 1..] {
        let mut column = 0;
        for cell in row {
            if let Some(Some((class, header))) = columns.get(column) {
                let value = cell.text(html);
                let value = value.trim();
                if !value.is_empty() && !cell.header {
                    out.push(Cell {
                        class,
                        header: Rc::clone(header),
                        chars: value.chars().count(),
                        value: (!sourced.is_empty() && sourced.contains(*class))
                            .then(|| super::value_key(value)),
                    });
                }
            }
            column += cell.span;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> HashMap<String, String> {
        HashMap::from([
            ("salary".to_string(), "pay".to_string()),
            ("bonus".to_string(), "pay".to_string()),
        ])
    }

    #[test]
    fn a_salary_column_counts_per_non_empty_cell() {
        let html = "<table><thead><tr><th>Name</th><th colspan=2>Contact</th><th> Salary </th></tr></thead>
            <tbody><tr><td>Ann</td><td>a</td><td>b</td><td>120000</td></tr>
            <tr><td>Bob</td><td>a</td><td>b</td><td> </td></tr>
            <tr><td>Cy</td><td>a</td><td>b</td><td>95 000</td></tr></tbody></table>";
        let keys = keys();
        let cells = cells(html, &keys, &HashSet::new());
        assert_eq!(cells.len(), 2);
        assert_eq!(cells[0].class, "pay");
        assert_eq!(&*cells[0].header, "Salary");
        assert_eq!(cells[1].chars, 6);
    }

    #[test]
    fn deeply_nested_tables_end_the_reading_not_the_run() {
        let mut html = String::from("<table><tr><th>Salary</th></tr><tr><td>1</td></tr>");
        for _ in 0..50_000 {
            html.push_str("<table><tr><td>x");
        }
        let keys = keys();
        let started = std::time::Instant::now();
        let cells = cells(&html, &keys, &HashSet::new());
        assert_eq!(cells.len(), 1, "the outer table is still read");
        // Generous for a debug build: quadratic would be minutes.
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn tables_without_such_a_header_count_nothing() {
        let cases = [
            "<table><tr><td>Salary</td><td>1</td></tr></table>",
            "<table><tr><th>Metric</th><th>Value</th></tr><tr><td>Salary</td><td>1</td></tr></table>",
            "<p>no table</p>",
        ];
        for html in cases {
            assert!(cells(html, &keys(), &HashSet::new()).is_empty(), "{html}");
        }
    }

    #[test]
    fn nested_tables_are_read_on_their_own() {
        let html = "<table><tr><th>Team</th></tr><tr><td><table><tr><th>BONUS</th></tr>
            <tr><td>5</td></tr></table></td></tr></table>";
        let keys = keys();
        let cells = cells(html, &keys, &HashSet::new());
        assert_eq!(cells.len(), 1);
        assert_eq!(&*cells[0].header, "BONUS");
    }

    #[test]
    fn implicit_ends_entities_scripts_and_quotes_are_read_as_a_browser_would() {
        let html = "<TABLE><TR><TH title='a > b'>Salary<TH>Name
            <TR><TD>100<TD>Ann
            <tr><td>&nbsp;</td><td>Bob</td>
            <tr><td><b>200</b> &amp; more</td><td>Cy</td>
            <script>var t = '<table><tr><th>salary</th></tr><tr><td>9</td></tr></table>';</script>
            <!-- <tr><td>300</td></tr> -->
            <tr><td>400";
        let keys = keys();
        let cells = cells(html, &keys, &HashSet::new());
        let lengths: Vec<usize> = cells.iter().map(|c| c.chars).collect();
        // 100; the &nbsp; cell is empty; "200 & more"; 400 in a table never closed.
        assert_eq!(lengths, vec![3, 10, 3]);
        assert!(cells.iter().all(|c| &*c.header == "Salary"));
    }
}
