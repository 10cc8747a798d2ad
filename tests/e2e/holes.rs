//! `{param}` holes filled from ids the same identity was shown: an OpenAPI path with no
//! example is requested with the ids its parent collection's listing returned, and a hole no
//! listing speaks for stays in `unfilled_templates`.

use crate::common::*;

fn serve(pages: Vec<(&'static str, &'static str, String)>) -> String {
    let pages = pages
        .into_iter()
        .map(|(p, k, b)| (p, k, b.into_bytes()))
        .collect();
    serve_pages(pages, None).0
}

#[test]
fn a_listing_fills_an_openapi_id_and_an_unlisted_hole_stays_unfilled() {
    let openapi = serde_json::json!({
        "openapi": "3.1.0",
        "paths": {
            "/files": {"get": {}},
            "/files/{id}": {"get": {"parameters": [{"name": "id", "in": "path"}]}},
            "/vaults/{vault}": {"get": {"parameters": [{"name": "vault", "in": "path"}]}}
        }
    })
    .to_string();
    let base_url = serve(vec![
        ("/", "text/html", "<p>files</p>".to_string()),
        ("/openapi.json", "application/json", openapi),
        (
            "/files",
            "application/json",
            r#"[{"id": 7, "name": "handbook.pdf"}, {"id": 9, "name": "public.pdf"}]"#.to_string(),
        ),
        ("/files/7", "application/json", r#"{"id": 7}"#.to_string()),
        (
            "/files/9",
            "application/json",
            r#"{"id": 9, "public": true}"#.to_string(),
        ),
    ]);
    let dir = temp_dir();
    let scenario = dir.path().join("files.toml");
    std::fs::write(
        &scenario,
        format!(
            "[site]\nname = \"files\"\nbase_url = \"{base_url}\"\naudience = \"external\"\n\n\
             [crawl]\nseeds = [\"/\"]\nopenapi = \"/openapi.json\"\n\n\
             [[identity]]\nname = \"anonymous\"\ntier = \"external\"\n"
        ),
    )
    .unwrap();
    let json = dir.path().join("report.json");
    let out = lowpriv_in(
        dir.path(),
        &[
            "run",
            scenario.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ],
        &[],
    );
    let report = read_json(&json);
    let urls: Vec<String> = report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["url"].as_str().unwrap().replace(&base_url, ""))
        .collect();
    for filled in ["/files/7", "/files/9"] {
        assert!(
            urls.iter().any(|u| u == filled),
            "{filled} requested: {urls:?}"
        );
    }
    assert_eq!(
        report["unfilled_templates"],
        serde_json::json!(["/vaults/{vault}"]),
        "only the hole no listing spoke for"
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}
