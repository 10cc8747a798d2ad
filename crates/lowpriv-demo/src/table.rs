//! The data browser's tables as plain values: a `Table` (named columns, rows of `Cell`s), the
//! `View` a query string asks for (sort, facet, one filter, page size, page), its canonical
//! query string, the page of rows it selects, facet counts, and the CSV and JSON forms.
//!
//! The bottom layer with `config` and `data`: no imports from the crate and no axum, so the
//! link-walking test can build every view without a server. Invariants: `View::query` is
//! canonical (fixed parameter order, defaults left out), so one view has one URL; `View::parse`
//! refuses unknown parameters, unknown columns, sizes outside `SIZES` and pages past the end,
//! so the URL space is finite, and growing a table adds page numbers and facet values only.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// The page sizes a view offers (`_size`).
pub(crate) const SIZES: [usize; 4] = [10, 25, 50, 100];
/// The page size when `_size` is absent; `View::query` leaves it out.
pub(crate) const DEFAULT_SIZE: usize = 25;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Cell {
    Int(i64),
    Text(String),
}

impl Cell {
    pub(crate) fn text(&self) -> Cow<'_, str> {
        match self {
            Cell::Int(n) => Cow::Owned(n.to_string()),
            Cell::Text(text) => Cow::Borrowed(text),
        }
    }

    fn json(&self) -> Value {
        match self {
            Cell::Int(n) => json!(n),
            Cell::Text(text) => json!(text),
        }
    }

    /// Numbers by value, so `_sort=amount` does not put 1000 before 20.
    fn order(&self, other: &Cell) -> Ordering {
        match (self, other) {
            (Cell::Int(a), Cell::Int(b)) => a.cmp(b),
            (Cell::Text(a), Cell::Text(b)) => a.cmp(b),
            (Cell::Int(_), Cell::Text(_)) => Ordering::Less,
            (Cell::Text(_), Cell::Int(_)) => Ordering::Greater,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Column {
    pub(crate) name: &'static str,
    /// Offered as `_facet`: a column with few distinct values.
    pub(crate) facet: bool,
}

/// Cells only their row's owner may read: the `column` cell is blanked in every row whose
/// `owner` cell is not the viewer's id (the data browser's per-caller row filter).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Private {
    pub(crate) column: usize,
    pub(crate) owner: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct Table {
    pub(crate) name: &'static str,
    pub(crate) columns: Vec<Column>,
    /// In id order, which is also the order of ties when sorting.
    pub(crate) rows: Vec<Vec<Cell>>,
    pub(crate) private: Option<Private>,
}

/// The rows a view selects from a table.
pub(crate) struct Selection<'t> {
    /// The requested page of the matching rows, in the view's order.
    pub(crate) rows: Vec<&'t [Cell]>,
    /// How many rows match the filter, over all pages.
    pub(crate) matched: usize,
    /// At least 1: an empty result is one empty page, not a missing one.
    pub(crate) pages: usize,
}

impl Table {
    pub(crate) fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|column| column.name == name)
    }

    /// The table as the viewer with `owner_id` may read it: private cells of other rows blank.
    pub(crate) fn for_viewer(&self, owner_id: Option<i64>) -> Cow<'_, Table> {
        let Some(private) = self.private else {
            return Cow::Borrowed(self);
        };
        let mut table = self.clone();
        for row in &mut table.rows {
            let own = matches!((owner_id, &row[private.owner]), (Some(id), Cell::Int(owner)) if id == *owner);
            if !own {
                row[private.column] = Cell::Text(String::new());
            }
        }
        Cow::Owned(table)
    }

    pub(crate) fn select(&self, view: &View) -> Result<Selection<'_>, ViewError> {
        let mut rows: Vec<&[Cell]> = self
            .rows
            .iter()
            .map(Vec::as_slice)
            .filter(|row| match &view.filter {
                Some((column, value)) => row[*column].text() == value.as_str(),
                None => true,
            })
            .collect();
        if let Some((column, order)) = view.sort {
            // Stable, so ties stay in id order and every run pages the same way.
            rows.sort_by(|a, b| {
                let by_value = a[column].order(&b[column]);
                match order {
                    Order::Asc => by_value,
                    Order::Desc => by_value.reverse(),
                }
            });
        }
        let matched = rows.len();
        let pages = matched.div_ceil(view.size).max(1);
        if view.page > pages {
            return Err(ViewError::NoSuchPage {
                page: view.page,
                pages,
            });
        }
        let start = (view.page - 1) * view.size;
        let rows = rows.into_iter().skip(start).take(view.size).collect();
        Ok(Selection {
            rows,
            matched,
            pages,
        })
    }

    /// The distinct values of `column` over the whole table with their row counts, most
    /// frequent first (ties by value), as a facet lists them.
    pub(crate) fn facet_counts(&self, column: usize) -> Vec<(String, usize)> {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for row in &self.rows {
            *counts.entry(row[column].text().into_owned()).or_default() += 1;
        }
        let mut counts: Vec<(String, usize)> = counts.into_iter().collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        counts
    }

    /// RFC 4180 CSV: a header line, then the selected rows.
    pub(crate) fn csv(&self, selection: &Selection<'_>) -> String {
        let mut out = String::new();
        let header: Vec<Cow<'_, str>> = self
            .columns
            .iter()
            .map(|column| Cow::Borrowed(column.name))
            .collect();
        push_csv_line(&mut out, &header);
        for row in &selection.rows {
            let cells: Vec<Cow<'_, str>> = row.iter().map(Cell::text).collect();
            push_csv_line(&mut out, &cells);
        }
        out
    }

    /// The selected rows as records keyed by column name (so a JSON-key data class finds
    /// them), with the paging and, when the view asks for one, the facet's counts.
    pub(crate) fn json(&self, view: &View, selection: &Selection<'_>) -> Value {
        let rows: Vec<Value> = selection
            .rows
            .iter()
            .map(|row| {
                let record: Map<String, Value> = self
                    .columns
                    .iter()
                    .zip(row.iter())
                    .map(|(column, cell)| (column.name.to_string(), cell.json()))
                    .collect();
                Value::Object(record)
            })
            .collect();
        let mut body = json!({
            "table": self.name,
            "columns": self.columns.iter().map(|c| c.name).collect::<Vec<_>>(),
            "rows": rows,
            "matched": selection.matched,
            "page": view.page,
            "pages": selection.pages,
            "size": view.size,
        });
        if let Some(facet) = view.facet {
            let values: Vec<Value> = self
                .facet_counts(facet)
                .into_iter()
                .map(|(value, count)| json!({ "value": value, "count": count }))
                .collect();
            body["facets"] = json!({ self.columns[facet].name: values });
        }
        body
    }
}

fn push_csv_line(out: &mut String, cells: &[Cow<'_, str>]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if cell.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&cell.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(cell);
        }
    }
    out.push_str("\r\n");
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Order {
    Asc,
    Desc,
}

/// What a query string asks of a table; column indexes are into `Table::columns`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct View {
    pub(crate) sort: Option<(usize, Order)>,
    pub(crate) facet: Option<usize>,
    /// One `{column}={value}` at a time: a facet value's link replaces the filter instead of
    /// adding to it, which keeps the number of views a product rather than a power set.
    pub(crate) filter: Option<(usize, String)>,
    pub(crate) size: usize,
    /// From 1.
    pub(crate) page: usize,
}

impl Default for View {
    fn default() -> Self {
        View {
            sort: None,
            facet: None,
            filter: None,
            size: DEFAULT_SIZE,
            page: 1,
        }
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ViewError {
    #[error("no column `{0}` to sort by")]
    Sort(String),
    #[error("`{0}` is not a facet of this table")]
    Facet(String),
    #[error("`_size` must be one of 10, 25, 50 or 100")]
    Size,
    #[error("`_page` must be a page number from 1")]
    Page,
    #[error("no page {page}: this view has {pages}")]
    NoSuchPage { page: usize, pages: usize },
    #[error("`{0}` is neither a column nor a parameter of this table")]
    Unknown(String),
    #[error("`{0}` is given more than once")]
    Repeated(String),
    #[error("one column filter at a time")]
    TwoFilters,
}

impl View {
    /// Reads a query string (without the `?`). The page is checked against the data by
    /// `Table::select`, not here.
    pub(crate) fn parse(table: &Table, query: &str) -> Result<View, ViewError> {
        let mut view = View::default();
        let mut seen: Vec<String> = Vec::new();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            // `_sort` and `_sort_desc` set the same thing, so they count as one parameter.
            let slot = if key == "_sort_desc" { "_sort" } else { &key };
            if seen.iter().any(|s| s == slot) {
                return Err(ViewError::Repeated(key.into_owned()));
            }
            seen.push(slot.to_string());
            match &*key {
                "_sort" | "_sort_desc" => {
                    let column = table
                        .column(&value)
                        .ok_or_else(|| ViewError::Sort(value.to_string()))?;
                    let order = if key == "_sort" {
                        Order::Asc
                    } else {
                        Order::Desc
                    };
                    view.sort = Some((column, order));
                }
                "_facet" => {
                    let column = table
                        .column(&value)
                        .filter(|&c| table.columns[c].facet)
                        .ok_or_else(|| ViewError::Facet(value.to_string()))?;
                    view.facet = Some(column);
                }
                "_size" => {
                    view.size = value
                        .parse()
                        .ok()
                        .filter(|size| SIZES.contains(size))
                        .ok_or(ViewError::Size)?;
                }
                "_page" => {
                    view.page = value
                        .parse()
                        .ok()
                        .filter(|&page| page >= 1)
                        .ok_or(ViewError::Page)?;
                }
                name => {
                    let column = table
                        .column(name)
                        .ok_or_else(|| ViewError::Unknown(name.to_string()))?;
                    if view.filter.is_some() {
                        return Err(ViewError::TwoFilters);
                    }
                    view.filter = Some((column, value.into_owned()));
                }
            }
        }
        Ok(view)
    }

    /// The canonical query string (without the `?`; empty for the default view).
    pub(crate) fn query(&self, table: &Table) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        match self.sort {
            Some((column, Order::Asc)) => {
                query.append_pair("_sort", table.columns[column].name);
            }
            Some((column, Order::Desc)) => {
                query.append_pair("_sort_desc", table.columns[column].name);
            }
            None => {}
        }
        if let Some(column) = self.facet {
            query.append_pair("_facet", table.columns[column].name);
        }
        if let Some((column, value)) = &self.filter {
            query.append_pair(table.columns[*column].name, value);
        }
        if self.size != DEFAULT_SIZE {
            query.append_pair("_size", &self.size.to_string());
        }
        if self.page != 1 {
            query.append_pair("_page", &self.page.to_string());
        }
        query.finish()
    }

    /// This view sorted another way; a new order starts again at page 1, as in the apps this
    /// imitates.
    pub(crate) fn sorted(&self, column: usize, order: Order) -> View {
        View {
            sort: Some((column, order)),
            page: 1,
            ..self.clone()
        }
    }

    pub(crate) fn faceted(&self, facet: Option<usize>) -> View {
        View {
            facet,
            page: 1,
            ..self.clone()
        }
    }

    pub(crate) fn filtered(&self, filter: Option<(usize, String)>) -> View {
        View {
            filter,
            page: 1,
            ..self.clone()
        }
    }

    pub(crate) fn sized(&self, size: usize) -> View {
        View {
            size,
            page: 1,
            ..self.clone()
        }
    }

    pub(crate) fn at_page(&self, page: usize) -> View {
        View {
            page,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::table::{Cell, Column, Private, Table, View, ViewError};

    fn table() -> Table {
        Table {
            name: "t",
            columns: vec![
                Column {
                    name: "id",
                    facet: false,
                },
                Column {
                    name: "kind",
                    facet: true,
                },
                Column {
                    name: "note",
                    facet: false,
                },
            ],
            rows: (1..=30)
                .map(|id| {
                    vec![
                        Cell::Int(id),
                        Cell::Text(["a b", "c"][(id % 2) as usize].to_string()),
                        Cell::Text(format!("note {id}")),
                    ]
                })
                .collect(),
            private: Some(Private {
                column: 2,
                owner: 0,
            }),
        }
    }

    #[test]
    fn queries_round_trip_canonically() {
        let table = table();
        let cases = [
            ("", ""),
            ("_size=25&_page=1", ""),
            ("_page=2&_sort_desc=id", "_sort_desc=id&_page=2"),
            (
                "kind=a+b&_facet=kind&_size=10",
                "_facet=kind&kind=a+b&_size=10",
            ),
            ("note=x%26y", "note=x%26y"),
        ];
        for (given, canonical) in cases {
            let view = View::parse(&table, given).unwrap();
            assert_eq!(view.query(&table), canonical, "{given}");
            assert_eq!(View::parse(&table, canonical).unwrap(), view, "{given}");
        }
    }

    #[test]
    fn bad_queries_are_refused() {
        let table = table();
        let cases = [
            ("_sort=nope", ViewError::Sort("nope".into())),
            ("_facet=id", ViewError::Facet("id".into())),
            ("_size=7", ViewError::Size),
            ("_page=0", ViewError::Page),
            ("_page=x", ViewError::Page),
            ("color=red", ViewError::Unknown("color".into())),
            (
                "_sort=id&_sort_desc=id",
                ViewError::Repeated("_sort_desc".into()),
            ),
            ("kind=c&note=x", ViewError::TwoFilters),
            ("_stream=on", ViewError::Unknown("_stream".into())),
        ];
        for (given, error) in cases {
            assert_eq!(View::parse(&table, given), Err(error), "{given}");
        }
    }

    #[test]
    fn select_filters_sorts_and_pages() {
        let table = table();
        let view = View::parse(&table, "kind=c&_sort_desc=id&_size=10&_page=2").unwrap();
        let selection = table.select(&view).unwrap();
        assert_eq!(selection.matched, 15);
        assert_eq!(selection.pages, 2);
        let ids: Vec<String> = selection.rows.iter().map(|r| r[0].text().into()).collect();
        assert_eq!(ids, ["9", "7", "5", "3", "1"]);
        let past = view.at_page(3);
        assert_eq!(
            table.select(&past).err(),
            Some(ViewError::NoSuchPage { page: 3, pages: 2 })
        );
        // No match is one empty page.
        let none = View::parse(&table, "kind=zzz").unwrap();
        assert_eq!(table.select(&none).unwrap().pages, 1);
    }

    #[test]
    fn numbers_sort_by_value() {
        let table = table();
        let view = View::parse(&table, "_sort=id&_size=10").unwrap();
        let tenth = table.select(&view).unwrap().rows[9][0].clone();
        assert_eq!(tenth, Cell::Int(10));
    }

    #[test]
    fn private_cells_show_only_to_their_owner() {
        let table = table();
        let seen = table.for_viewer(Some(3));
        let notes: Vec<String> = seen.rows.iter().map(|r| r[2].text().into()).collect();
        assert_eq!(notes.iter().filter(|n| !n.is_empty()).count(), 1);
        assert_eq!(notes[2], "note 3");
        assert!(
            table
                .for_viewer(None)
                .rows
                .iter()
                .all(|r| r[2].text().is_empty())
        );
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let mut table = table();
        table.rows.truncate(1);
        table.rows[0][2] = Cell::Text("say \"hi\", then go".into());
        let selection = table.select(&View::default()).unwrap();
        assert_eq!(
            table.csv(&selection),
            "id,kind,note\r\n1,c,\"say \"\"hi\"\", then go\"\r\n"
        );
    }
}
