//! HTML tables read as records: a column whose header names a `json_keys` key counts, for
//! every non-empty cell under it, as that key in a JSON record.
//!
//! Input: a body's text and the lowercase key → class map. Output: (class, header, cell
//! length) for each counted cell. A page that renders `/api/employees` as a table exposes the
//! same salaries; without this, the JSON endpoint would be flagged and the page would not.

use std::collections::HashMap;

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use scraper::{ElementRef, Html, Selector};

/// A counted cell: the class, the header as written, and the cell's length in characters.
pub struct Cell {
    pub class: String,
    pub header: String,
    pub chars: usize,
}

static TABLE: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(["<table"])
        .ok()
});

/// Cheap test before parsing: only documents with a table are parsed at all.
pub fn has_table(text: &str) -> bool {
    TABLE.as_ref().is_some_and(|ac| ac.is_match(text))
}

/// A row's own cells, not those of a table nested in one of them.
fn row_cells<'a>(row: &ElementRef<'a>) -> impl Iterator<Item = ElementRef<'a>> {
    row.children()
        .filter_map(ElementRef::wrap)
        .filter(|c| matches!(c.value().name(), "th" | "td"))
}

// Only ever called with constant selectors.
#[allow(clippy::expect_used)]
fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("constant selector parses")
}

/// Header text as a key: trimmed, inner whitespace collapsed to one space, lowercase.
fn key(cell: &ElementRef<'_>) -> String {
    cell.text()
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn span(cell: &ElementRef<'_>) -> usize {
    cell.value()
        .attr("colspan")
        .and_then(|s| s.trim().parse::<usize>().ok())
        .map_or(1, |n| n.clamp(1, 1000))
}

static TABLE_END: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(["</table>"])
        .ok()
});

/// From the first `<table` to the last `</table>`: all a table reader needs, so a long page
/// with one small table is not parsed whole.
fn tables_slice(text: &str) -> &str {
    let start = TABLE
        .as_ref()
        .and_then(|ac| ac.find(text))
        .map_or(0, |m| m.start());
    let end = TABLE_END
        .as_ref()
        .and_then(|ac| ac.find_iter(text).last())
        .map_or(text.len(), |m| m.end());
    // Both ends sit on ASCII bytes, so they are char boundaries; stay safe regardless.
    text.get(start..end.max(start)).unwrap_or(text)
}

pub fn cells(text: &str, keys: &HashMap<String, String>) -> Vec<Cell> {
    let document = Html::parse_fragment(crate::markup::bounded(tables_slice(text)));
    let tables = selector("table");
    let rows = selector("tr");
    let mut out = Vec::new();
    for table in document.select(&tables) {
        // The header row is the first row made of `th` cells; rows of nested tables belong to
        // those tables, which are visited on their own.
        let own_rows: Vec<ElementRef<'_>> = table
            .select(&rows)
            .filter(|row| {
                row.ancestors()
                    .filter_map(ElementRef::wrap)
                    .find(|a| a.value().name() == "table")
                    .is_some_and(|t| t.id() == table.id())
            })
            .collect();
        let Some(header_index) = own_rows.iter().position(|row| {
            let cells: Vec<_> = row_cells(row).collect();
            !cells.is_empty() && cells.iter().all(|c| c.value().name() == "th")
        }) else {
            continue;
        };
        // Column index → (class, header text).
        let mut columns: HashMap<usize, (String, String)> = HashMap::new();
        let mut column = 0;
        for cell in row_cells(&own_rows[header_index]) {
            let name = key(&cell);
            if let Some(class) = keys.get(&name) {
                let header = cell.text().collect::<String>().trim().to_string();
                columns.insert(column, (class.clone(), header));
            }
            column += span(&cell);
        }
        if columns.is_empty() {
            continue;
        }
        for row in &own_rows[header_index + 1..] {
            let mut column = 0;
            for cell in row_cells(row) {
                if let Some((class, header)) = columns.get(&column) {
                    let value = cell.text().collect::<String>();
                    let value = value.trim();
                    if !value.is_empty() && cell.value().name() == "td" {
                        out.push(Cell {
                            class: class.clone(),
                            header: header.clone(),
                            chars: value.chars().count(),
                        });
                    }
                }
                column += span(&cell);
            }
        }
    }
    out
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
        let cells = cells(html, &keys());
        assert_eq!(cells.len(), 2);
        assert_eq!(cells[0].class, "pay");
        assert_eq!(cells[0].header, "Salary");
        assert_eq!(cells[1].chars, 6);
    }

    #[test]
    fn tables_without_such_a_header_count_nothing() {
        let cases = [
            "<table><tr><td>Salary</td><td>1</td></tr></table>",
            "<table><tr><th>Metric</th><th>Value</th></tr><tr><td>Salary</td><td>1</td></tr></table>",
            "<p>no table</p>",
        ];
        for html in cases {
            assert!(cells(html, &keys()).is_empty(), "{html}");
        }
    }

    #[test]
    fn nested_tables_are_read_on_their_own() {
        let html = "<table><tr><th>Team</th></tr><tr><td><table><tr><th>BONUS</th></tr>
            <tr><td>5</td></tr></table></td></tr></table>";
        let cells = cells(html, &keys());
        assert_eq!(cells.len(), 1);
        assert_eq!(cells[0].header, "BONUS");
    }
}
