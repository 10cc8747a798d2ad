//! Discovery sources beyond pages and scripts, each proven by an endpoint only it names:
//! robots.txt (its `Disallow` paths and `Sitemap` lines), a sitemap index, a plain sitemap and
//! a gzipped one (made by the system's `gzip`), an OpenAPI document in YAML with one server
//! here and one elsewhere, a Swagger 2.0 document with a `basePath`, and a field selector
//! left off. Every observation says where its request was found; nothing is sent to the
//! servers a document names on other origins; the guessed `/sitemap.xml` that is not there is
//! not a row; and a Site that answers every path with its app page is not taken for having a
//! robots.txt or a sitemap.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::*;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut child = Command::new("gzip")
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip (Debian's gzip package) runs");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(&out.stdout[..2], &[0x1f, 0x8b]);
    out.stdout
}

fn run(base_url: &str, dir: &std::path::Path) -> (i32, Value, String) {
    let scenario = dir.join("discovery.toml");
    std::fs::write(
        &scenario,
        format!(
            "[site]\nname = \"discovery\"\nbase_url = \"{base_url}\"\naudience = \"external\"\n\n\
             [crawl]\nseeds = [\"/\"]\n\n\
             [[identity]]\nname = \"anonymous\"\ntier = \"external\"\n"
        ),
    )
    .unwrap();
    let json = dir.join("report.json");
    let html = dir.join("report.html");
    let out = lowpriv_in(
        dir,
        &[
            "run",
            scenario.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ],
        &[],
    );
    (
        out.status.code().unwrap_or(-1),
        read_json(&json),
        std::fs::read_to_string(&html).unwrap(),
    )
}

/// path → (outcome, via) for every observation.
fn found(report: &Value) -> Vec<(String, String, String)> {
    report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let url = o["url"].as_str().unwrap();
            let path = url.splitn(4, '/').nth(3).unwrap_or("");
            (
                format!("/{path}"),
                o["outcome"].as_str().unwrap().to_string(),
                o["found"]["via"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

#[test]
fn robots_sitemaps_yaml_openapi_swagger_and_unnarrowed_paths_each_find_an_endpoint() {
    let urlset = |paths: &[&str]| {
        let urls: String = paths
            .iter()
            .map(|p| format!("<url><loc>{p}</loc></url>"))
            .collect();
        format!(
            "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">{urls}</urlset>"
        )
        .into_bytes()
    };
    let yaml = "openapi: 3.0.3\ninfo: {title: reports, version: '2'}\nservers:\n  - url: /api/v2\n  - url: https://api.elsewhere.invalid/v2\npaths:\n  /reports/{id}:\n    get:\n      parameters:\n        - {name: id, in: path, example: 5}\n    put: {}\n";
    let swagger = r#"{"swagger":"2.0","basePath":"/legacy","paths":{"/items":{"get":{}}}}"#;
    let html = r#"<html><body><a href="/about">about</a>
        <script>fetch("/api/people?fields=name,team").then(r => r.json())</script></body></html>"#;
    let pages: Vec<Page> = vec![
        ("/", "text/html", html.as_bytes().to_vec()),
        ("/about", "text/html", b"<p>about us</p>".to_vec()),
        (
            "/robots.txt",
            "text/plain",
            b"User-agent: *\nDisallow: /internal/report\nDisallow: /*.pdf$\nSitemap: /sitemap-index.xml\n"
                .to_vec(),
        ),
        (
            "/sitemap-index.xml",
            "application/xml",
            b"<sitemapindex><sitemap><loc>/sitemaps/pages.xml</loc></sitemap>\
              <sitemap><loc>/sitemaps/more.xml.gz</loc></sitemap></sitemapindex>"
                .to_vec(),
        ),
        (
            "/sitemaps/pages.xml",
            "application/xml",
            urlset(&[
                "/pages/from-sitemap",
                "/docs/openapi.yaml",
                "/docs/swagger.json",
                "http://elsewhere.invalid/off-origin",
            ]),
        ),
        (
            "/sitemaps/more.xml.gz",
            "application/gzip",
            gzip(&urlset(&["/pages/from-gzip"])),
        ),
        ("/docs/openapi.yaml", "application/yaml", yaml.as_bytes().to_vec()),
        ("/docs/swagger.json", "application/json", swagger.as_bytes().to_vec()),
        ("/internal/report", "text/html", b"<p>internal report</p>".to_vec()),
        ("/pages/from-sitemap", "text/html", b"<p>from the sitemap</p>".to_vec()),
        ("/pages/from-gzip", "text/html", b"<p>from the gzipped sitemap</p>".to_vec()),
        ("/api/v2/reports/5", "application/json", br#"{"id":5}"#.to_vec()),
        ("/legacy/items", "application/json", br#"{"items":[]}"#.to_vec()),
        (
            // As lowpriv normalizes the query the script wrote.
            "/api/people?fields=name%2Cteam",
            "application/json",
            br#"{"people":[{"name":"Ann","team":"ops"}]}"#.to_vec(),
        ),
        (
            "/api/people",
            "application/json",
            br#"{"people":[{"name":"Ann","team":"ops","level":"L4"}]}"#.to_vec(),
        ),
    ];
    let (base_url, log) = serve_pages(pages, None);
    let dir = temp_dir();
    let (code, report, html) = run(&base_url, dir.path());
    assert_eq!(code, 0, "a Site with nothing declared passes");
    let found = found(&report);
    let want = [
        ("/internal/report", "robots"),
        ("/sitemap-index.xml", "sitemap"),
        ("/pages/from-sitemap", "sitemap"),
        ("/pages/from-gzip", "sitemap"),
        ("/api/v2/reports/5", "openapi"),
        ("/legacy/items", "openapi"),
        ("/api/people?fields=name%2Cteam", "js"),
        ("/api/people", "unnarrowed"),
        ("/about", "html"),
        ("/", "seed"),
        ("/robots.txt", "robots"),
    ];
    for (path, via) in want {
        assert!(
            found
                .iter()
                .any(|(p, outcome, v)| p == path && outcome == "allowed" && v == via),
            "{path} observed as allowed, found via {via}: {found:#?}"
        );
    }
    for o in report["observations"].as_array().unwrap() {
        assert_eq!(o["found"]["by"], "anonymous", "{o}");
    }
    assert!(
        !found.iter().any(|(p, ..)| p == "/sitemap.xml"),
        "the guessed sitemap that is not there is no row: {found:#?}"
    );
    let asked = log.lock().unwrap().clone();
    assert!(
        asked.contains(&"/sitemap.xml".to_string()),
        "it was asked for"
    );
    assert!(
        !asked.iter().any(|t| t.ends_with(".pdf") || t.contains('*')),
        "a robots.txt pattern is not a path: {asked:?}"
    );
    let coverage = &report["coverage"];
    assert_eq!(
        coverage["offsite_servers"],
        serde_json::json!(["https://api.elsewhere.invalid/v2"])
    );
    assert_eq!(coverage["found_via"]["sitemap"], 7, "{coverage}");
    let actions: Vec<&str> = report["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["url"].as_str().unwrap())
        .collect();
    assert!(
        actions.iter().any(|u| u.ends_with("/api/v2/reports/{id}")),
        "the YAML document's PUT is an action on this origin: {actions:?}"
    );
    // The HTML report filters rows by where they were found.
    assert!(html.contains(r#"<fieldset id="via-filter">"#));
    assert!(
        html.contains(r#"<tr data-via="unnarrowed">"#),
        "a row per source"
    );
}

#[test]
fn a_site_that_answers_every_path_with_its_app_page_has_no_robots_or_sitemap() {
    let app = b"<html><body><div id=app></div><a href=\"/settings\">settings</a></body></html>";
    let (base_url, log) = serve_pages(vec![], Some(("", "text/html", app.to_vec())));
    let dir = temp_dir();
    let (code, report, _) = run(&base_url, dir.path());
    assert_eq!(code, 0);
    let paths: Vec<String> = found(&report).into_iter().map(|(p, ..)| p).collect();
    assert_eq!(paths, vec!["/", "/settings"], "only what the app links");
    let asked = log.lock().unwrap().clone();
    assert!(asked.contains(&"/robots.txt".to_string()));
    assert!(asked.contains(&"/sitemap.xml".to_string()));
    assert!(report["coverage"].get("offsite_servers").is_none());
}
