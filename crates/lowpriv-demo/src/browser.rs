//! The data-browser section (`/data`, served only with `DemoConfig::data_browser`), modelled
//! on Datasette-like apps: an index, each table as sortable, faceted, paginated HTML with CSV
//! and JSON twins of every view, and a query page that runs only its canned queries.
//!
//! Input: the Site's `tables` (`state.rs`) and the caller. Output: pages whose links reach
//! every view a real app would show (each column's sort both ways, each facet and facet
//! value, every page, every size, the twins): over ten thousand distinct URLs, all built from
//! the templates `/data`, `/data/{table}`, `/data/{table}.csv`, `/data/{table}.json` and
//! `/data/query`, so growing the data never adds a path.
//!
//! Access (docs/demo-site.md): the index, `projects` and `expenses` the payroll team,
//! `employees` hr and owner, `audit_log` the owner; anonymous callers go to the login form
//! (401 for JSON). In `employees`, each caller sees only their own private notes.
//! FLAW (default mode, `Flaw::DataExportUnfiltered`): `/data/employees.csv` checks login only
//! and exports the stored table, so anyone signed in (dave too) downloads every salary and every
//! private note, alice's canary included, while its HTML and JSON twins refuse them.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::config::Flaw;
use crate::data::{Account, Role};
use crate::gate::{login_api, login_html, role_api, role_html, team_api, team_html};
use crate::layout::{
    Denied, PageResult, api_not_found, escape, html_response, json_error, page, render,
};
use crate::state::SiteState;
use crate::table::{Cell, Order, SIZES, Selection, Table, View, ViewError};

/// Who may open a table (and run a canned query over it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    Team,
    Roles(&'static [Role]),
}

/// The section's access rule, one line per table. Nothing is open to every signed-in
/// account: the Site's audience is the payroll team, so dave (company-wide) reaching any of
/// it would be an audience leak, in the fixed Site too.
fn access(table: &str) -> Access {
    match table {
        "employees" => Access::Roles(&[Role::Owner, Role::Hr]),
        "audit_log" => Access::Roles(&[Role::Owner]),
        // `expenses`, `projects`, and any table added later until someone decides otherwise.
        _ => Access::Team,
    }
}

fn may_open(table: &str, account: &Account) -> bool {
    match access(table) {
        Access::Team => account.team_member,
        Access::Roles(roles) => roles.contains(&account.role),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Html,
    Csv,
    Json,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Html => "",
            Format::Csv => ".csv",
            Format::Json => ".json",
        }
    }

    /// `employees.csv` -> (`employees`, Csv).
    fn split(segment: &str) -> (&str, Format) {
        if let Some(name) = segment.strip_suffix(".csv") {
            (name, Format::Csv)
        } else if let Some(name) = segment.strip_suffix(".json") {
            (name, Format::Json)
        } else {
            (segment, Format::Html)
        }
    }
}

/// The link to `view` of `table` in `format`.
fn href(table: &Table, view: &View, format: Format) -> String {
    let query = view.query(table);
    let path = format!("/data/{}{}", table.name, format.extension());
    if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    }
}

fn link(out: &mut String, href: &str, text: &str) {
    let _ = write!(out, "<a href=\"{}\">{}</a>", escape(href), escape(text));
}

/// A table view's `<main>`: every link a data-browsing app shows for it.
fn view_main(table: &Table, view: &View, selection: &Selection<'_>) -> String {
    let mut out = format!(
        "<h1>{}</h1>\n<p>{} rows",
        escape(table.name),
        selection.matched
    );
    if let Some((column, value)) = &view.filter {
        let _ = write!(
            out,
            " where {} = “{}”",
            escape(table.columns[*column].name),
            escape(value)
        );
    }
    let _ = writeln!(out, ", page {} of {}</p>", view.page, selection.pages);

    out.push_str("<p>This view as ");
    link(&mut out, &href(table, view, Format::Csv), "CSV");
    out.push(' ');
    link(&mut out, &href(table, view, Format::Json), "JSON");
    out.push_str("</p>\n<p>Sort by:");
    for (c, column) in table.columns.iter().enumerate() {
        let _ = write!(out, " {} ", escape(column.name));
        link(
            &mut out,
            &href(table, &view.sorted(c, Order::Asc), Format::Html),
            "▲",
        );
        out.push(' ');
        link(
            &mut out,
            &href(table, &view.sorted(c, Order::Desc), Format::Html),
            "▼",
        );
    }
    out.push_str("</p>\n<p>Facet by:");
    for (c, column) in table.columns.iter().enumerate().filter(|(_, c)| c.facet) {
        out.push(' ');
        link(
            &mut out,
            &href(table, &view.faceted(Some(c)), Format::Html),
            column.name,
        );
    }
    if view.facet.is_some() {
        out.push(' ');
        link(
            &mut out,
            &href(table, &view.faceted(None), Format::Html),
            "no facet",
        );
    }
    out.push_str("</p>\n");
    if let Some(facet) = view.facet {
        let _ = writeln!(out, "<h2>{}</h2>\n<ul>", escape(table.columns[facet].name));
        for (value, count) in table.facet_counts(facet) {
            out.push_str("<li>");
            let filtered = view.filtered(Some((facet, value.clone())));
            link(&mut out, &href(table, &filtered, Format::Html), &value);
            let _ = writeln!(out, " {count}</li>");
        }
        out.push_str("</ul>\n");
    }
    if view.filter.is_some() {
        out.push_str("<p>");
        link(
            &mut out,
            &href(table, &view.filtered(None), Format::Html),
            "Remove the filter",
        );
        out.push_str("</p>\n");
    }

    // The header cell's text is the bare column name, so a reader of HTML tables (lowpriv's
    // classifier) sees `salary` as the column it is; the link toggles the order, as apps do.
    out.push_str("<table>\n<tr>");
    for (c, column) in table.columns.iter().enumerate() {
        let order = match view.sort {
            Some((sorted, Order::Asc)) if sorted == c => Order::Desc,
            _ => Order::Asc,
        };
        out.push_str("<th>");
        link(
            &mut out,
            &href(table, &view.sorted(c, order), Format::Html),
            column.name,
        );
        out.push_str("</th>");
    }
    out.push_str("</tr>\n");
    for row in &selection.rows {
        out.push_str("<tr>");
        for cell in row.iter() {
            let _ = write!(out, "<td>{}</td>", escape(&cell.text()));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n<p>Pages:");
    for page in 1..=selection.pages {
        out.push(' ');
        if page == view.page {
            let _ = write!(out, "<strong>{page}</strong>");
        } else {
            link(
                &mut out,
                &href(table, &view.at_page(page), Format::Html),
                &page.to_string(),
            );
        }
    }
    out.push_str("</p>\n<p>Rows per page:");
    for size in SIZES {
        out.push(' ');
        if size == view.size {
            let _ = write!(out, "<strong>{size}</strong>");
        } else {
            link(
                &mut out,
                &href(table, &view.sized(size), Format::Html),
                &size.to_string(),
            );
        }
    }
    out.push_str("</p>");
    out
}

/// A canned query: the only SQL the query page runs (this demo has no SQL engine).
struct Canned {
    sql: &'static str,
    table: &'static str,
    group_by: &'static str,
    /// `None` counts rows; `Some(column)` sums it.
    sum: Option<&'static str>,
}

const CANNED: [Canned; 2] = [
    Canned {
        sql: "select status, count(*) from projects group by status order by status",
        table: "projects",
        group_by: "status",
        sum: None,
    },
    Canned {
        sql: "select category, sum(amount) from expenses group by category order by category",
        table: "expenses",
        group_by: "category",
        sum: Some("amount"),
    },
];

fn query_href(canned: &Canned) -> String {
    let sql: String = url::form_urlencoded::byte_serialize(canned.sql.as_bytes()).collect();
    format!("/data/query?sql={sql}")
}

/// The group-by result: (group, count or sum), by group.
fn run_canned(canned: &Canned, table: &Table) -> Vec<(String, i64)> {
    let Some(group) = table.column(canned.group_by) else {
        return Vec::new();
    };
    let sum = canned.sum.and_then(|name| table.column(name));
    let mut groups: BTreeMap<String, i64> = BTreeMap::new();
    for row in &table.rows {
        let add = match sum.map(|column| &row[column]) {
            Some(Cell::Int(n)) => *n,
            Some(Cell::Text(_)) => 0,
            None => 1,
        };
        *groups.entry(row[group].text().into_owned()).or_default() += add;
    }
    groups.into_iter().collect()
}

fn find<'s>(site: &'s SiteState, name: &str) -> Option<&'s Table> {
    site.tables.iter().find(|table| table.name == name)
}

/// The HTML gate for a table: a team denial is a 200 page, a role denial a 403, like the
/// rest of the Site.
fn gate_html(site: &SiteState, account: &Account, table: &str) -> Result<(), Denied> {
    match access(table) {
        Access::Team => team_html(site, account),
        Access::Roles(roles) => role_html(site, account, roles),
    }
}

fn gate_json(account: &Account, table: &str) -> Result<(), Denied> {
    match access(table) {
        Access::Team => team_api(account),
        Access::Roles(roles) => role_api(account, roles),
    }
}

fn plain(status: StatusCode, body: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn not_found_html(site: &SiteState, viewer: &Account) -> Response {
    html_response(
        StatusCode::NOT_FOUND,
        render(site, Some(viewer), "Not found", "<h1>Not found</h1>"),
    )
}

pub(crate) async fn index(
    State(site): State<SiteState>,
    headers: HeaderMap,
    uri: Uri,
) -> PageResult {
    let viewer = login_html(&site, &headers, &uri)?;
    team_html(&site, viewer)?;
    let mut main = String::from("<h1>Data</h1>\n<h2>Tables</h2>\n<ul>\n");
    for table in site.tables.iter().filter(|t| may_open(t.name, viewer)) {
        main.push_str("<li>");
        link(&mut main, &format!("/data/{}", table.name), table.name);
        let _ = writeln!(main, " {} rows</li>", table.rows.len());
    }
    main.push_str("</ul>\n<h2>Queries</h2>\n<ul>\n");
    for canned in CANNED.iter().filter(|c| may_open(c.table, viewer)) {
        main.push_str("<li>");
        link(&mut main, &query_href(canned), canned.sql);
        main.push_str("</li>\n");
    }
    main.push_str("</ul>");
    Ok(page(&site, viewer, "Data", &main))
}

pub(crate) async fn table(
    State(site): State<SiteState>,
    Path(segment): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    uri: Uri,
) -> PageResult {
    let (name, format) = Format::split(&segment);
    let viewer = match format {
        Format::Json => login_api(&site, &headers)?,
        Format::Html | Format::Csv => login_html(&site, &headers, &uri)?,
    };
    let Some(stored) = find(&site, name) else {
        return Ok(match format {
            Format::Html => not_found_html(&site, viewer),
            Format::Csv => plain(StatusCode::NOT_FOUND, "not found"),
            Format::Json => api_not_found(),
        });
    };
    // The HR download has a code path of its own, written for a payroll export, and it
    // skipped the view's policy: no access check, and the stored rows rather than the
    // caller's view of them. Every other export goes through the view.
    let unfiltered = format == Format::Csv
        && stored.name == "employees"
        && !site.is_fixed(Flaw::DataExportUnfiltered);
    if !unfiltered {
        match format {
            Format::Html => gate_html(&site, viewer, name)?,
            Format::Json => gate_json(viewer, name)?,
            Format::Csv if !may_open(name, viewer) => {
                return Ok(plain(StatusCode::FORBIDDEN, "Access denied"));
            }
            Format::Csv => {}
        }
    }
    let seen = if unfiltered {
        Cow::Borrowed(stored)
    } else {
        stored.for_viewer(viewer.employee_id.map(i64::from))
    };
    let selection = View::parse(&seen, query.as_deref().unwrap_or_default()).and_then(|view| {
        let selection = seen.select(&view)?;
        Ok((view, selection))
    });
    let (view, selection) = match selection {
        Ok(found) => found,
        Err(error) => return Ok(refuse_view(&site, viewer, format, &error)),
    };
    Ok(match format {
        Format::Html => page(
            &site,
            viewer,
            seen.name,
            &view_main(&seen, &view, &selection),
        ),
        Format::Csv => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            seen.csv(&selection),
        )
            .into_response(),
        Format::Json => axum::Json(seen.json(&view, &selection)).into_response(),
    })
}

/// A query string the view cannot serve: 404 past the last page, 400 otherwise.
fn refuse_view(site: &SiteState, viewer: &Account, format: Format, error: &ViewError) -> Response {
    let status = match error {
        ViewError::NoSuchPage { .. } => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    let message = error.to_string();
    match format {
        Format::Html => {
            let main = format!("<h1>Invalid view</h1>\n<p>{}</p>", escape(&message));
            html_response(status, render(site, Some(viewer), "Invalid view", &main))
        }
        Format::Csv => plain(status, &message),
        Format::Json => json_error(status, &message),
    }
}

pub(crate) async fn query(
    State(site): State<SiteState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    uri: Uri,
) -> PageResult {
    let viewer = login_html(&site, &headers, &uri)?;
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let asked = match pairs.as_slice() {
        [(key, sql)] if key == "sql" => sql.split_whitespace().collect::<Vec<_>>().join(" "),
        _ => String::new(),
    };
    let Some(canned) = CANNED.iter().find(|c| c.sql.eq_ignore_ascii_case(&asked)) else {
        let main = "<h1>Query refused</h1>\n<p>This demo has no SQL engine: it runs only the \
                    canned queries listed on the data index, given as one <code>sql</code> \
                    parameter.</p>";
        return Ok(html_response(
            StatusCode::BAD_REQUEST,
            render(&site, Some(viewer), "Query refused", main),
        ));
    };
    gate_html(&site, viewer, canned.table)?;
    let Some(table) = find(&site, canned.table) else {
        return Ok(not_found_html(&site, viewer));
    };
    let value = canned.sum.unwrap_or("count");
    let mut main = format!(
        "<h1>Query</h1>\n<pre>{}</pre>\n<table>\n<tr><th>{}</th><th>{}</th></tr>\n",
        escape(canned.sql),
        escape(canned.group_by),
        escape(value),
    );
    for (group, total) in run_canned(canned, table) {
        let _ = writeln!(main, "<tr><td>{}</td><td>{total}</td></tr>", escape(&group));
    }
    main.push_str("</table>");
    Ok(page(&site, viewer, "Query", &main))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, VecDeque};
    use std::sync::Arc;

    use crate::browser::{CANNED, Format, View, run_canned, view_main};
    use crate::config::DemoConfig;
    use crate::state::Site;

    use crate::table::Table;

    fn tables(extra_employees: usize) -> Vec<Table> {
        let config = DemoConfig {
            data_browser: true,
            extra_employees,
            ..DemoConfig::default()
        };
        let foreign = url::Url::parse("http://127.0.0.1:9/").unwrap();
        let site = Site::new(config, foreign.clone(), foreign, Arc::default());
        site.tables.clone()
    }

    /// Every `href` in `html`, entities undone.
    fn hrefs(html: &str) -> Vec<String> {
        html.split("href=\"")
            .skip(1)
            .filter_map(|rest| rest.split_once('"'))
            .map(|(href, _)| href.replace("&amp;", "&"))
            .collect()
    }

    /// The distinct URLs reachable from `/data/{table}` for each table, by following every
    /// link of every HTML view (the CSV and JSON twins carry no links, so they are counted,
    /// not opened). Uses the owner's view, which is the widest.
    fn walk(tables: &[Table]) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut queue: VecDeque<String> = VecDeque::new();
        for table in tables {
            let start = format!("/data/{}", table.name);
            seen.insert(start.clone());
            queue.push_back(start);
        }
        while let Some(url) = queue.pop_front() {
            let (path, query) = url.split_once('?').unwrap_or((&url, ""));
            let (name, format) = Format::split(path.trim_start_matches("/data/"));
            if format != Format::Html {
                continue;
            }
            let table = tables
                .iter()
                .find(|t| t.name == name)
                .unwrap_or_else(|| panic!("{url}: no such table"));
            let seen_by = table.for_viewer(Some(1));
            let view = View::parse(&seen_by, query).unwrap_or_else(|e| panic!("{url}: {e}"));
            let selection = seen_by
                .select(&view)
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            for found in hrefs(&view_main(&seen_by, &view, &selection)) {
                if seen.insert(found.clone()) {
                    queue.push_back(found);
                }
            }
        }
        seen
    }

    #[test]
    fn over_ten_thousand_urls_are_reachable_and_always_the_same() {
        let first = walk(&tables(0));
        let per_table = |name: &str| {
            first
                .iter()
                .filter(|u| u.starts_with(&format!("/data/{name}")))
                .count()
        };
        let counts: Vec<(&str, usize)> = ["employees", "expenses", "projects", "audit_log"]
            .into_iter()
            .map(|name| (name, per_table(name)))
            .collect();
        eprintln!("reachable: {} {counts:?}", first.len());
        assert!(first.len() > 10_000, "{counts:?}");
        // Even carol, with neither employees nor the audit log, meets over ten thousand.
        assert!(
            per_table("expenses") + per_table("projects") > 10_000,
            "{counts:?}"
        );
        assert_eq!(walk(&tables(0)), first);
    }

    #[test]
    fn more_data_adds_urls_of_the_same_templates_only() {
        let paths = |urls: &BTreeSet<String>| -> BTreeSet<String> {
            urls.iter()
                .map(|url| {
                    url.split_once('?')
                        .map_or(url.as_str(), |(p, _)| p)
                        .to_string()
                })
                .collect()
        };
        let names = |urls: &BTreeSet<String>| -> BTreeSet<String> {
            urls.iter()
                .filter_map(|url| url.split_once('?'))
                .flat_map(|(_, query)| url::form_urlencoded::parse(query.as_bytes()))
                .map(|(key, _)| key.into_owned())
                .collect()
        };
        // Only `employees` grows with `extra_employees`.
        let employees = |extra| -> Vec<Table> {
            tables(extra)
                .into_iter()
                .filter(|t| t.name == "employees")
                .collect()
        };
        let small = walk(&employees(0));
        let large = walk(&employees(40));
        assert!(large.len() > small.len());
        assert_eq!(paths(&large), paths(&small));
        // The five employees fit on one page, so `_page` may first appear with more of them;
        // every other parameter is already there.
        let mut known = names(&small);
        known.insert("_page".to_string());
        assert!(names(&large).is_subset(&known), "{:?}", names(&large));
    }

    #[test]
    fn canned_queries_compute_from_the_tables() {
        let tables = tables(0);
        let projects = tables.iter().find(|t| t.name == "projects").unwrap();
        let counts = run_canned(&CANNED[0], projects);
        assert_eq!(counts.iter().map(|(_, n)| n).sum::<i64>(), 40);
        let expenses = tables.iter().find(|t| t.name == "expenses").unwrap();
        let totals = run_canned(&CANNED[1], expenses);
        assert_eq!(totals.len(), 5);
        assert!(totals.iter().all(|(_, total)| *total > 0));
    }
}
