//! The leak site: `tests/fixtures/leak-site/`, a static Site with ten real-format secrets and
//! 28 harmless look-alikes (its `EXPECTED.toml`), served as plain files over real HTTP on
//! 127.0.0.1, crawled by the real binary with a scenario that declares no data class at all.
//!
//! What it holds the classifier to: every secret is a `secret-exposed` finding named by its
//! own rule, on its own file; nothing else is found anywhere (the look-alikes stay silent);
//! and no secret value reaches any output, verbatim or encoded. Plus the body limit: a 6 MB
//! bundle is read whole at the defaults, and past a lower limit it is classified as far as
//! read without making the run inconclusive.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::common::{lowpriv_in, read_json, repo, temp_dir, text};

fn fixture() -> PathBuf {
    repo().join("tests/fixtures/leak-site")
}

/// Extra in-memory files a test serves besides (or over) the fixture's: path → body.
type Overlay = BTreeMap<String, Vec<u8>>;

/// A static file server on 127.0.0.1:0: one thread per connection, `Connection: close`,
/// GET only, a content type by extension. `EXPECTED.toml` and `README.md` describe the
/// fixture and are not part of the Site. Returns the base URL.
fn serve(root: PathBuf, overlay: Overlay) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local addr").port();
    let overlay = Arc::new(overlay);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (root, overlay) = (root.clone(), Arc::clone(&overlay));
            std::thread::spawn(move || answer(stream, &root, &overlay));
        }
    });
    format!("http://127.0.0.1:{port}")
}

fn answer(mut stream: TcpStream, root: &Path, overlay: &Overlay) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Read the rest of the head; the body of a GET is empty.
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
        line.clear();
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let path = if path == "/" { "/index.html" } else { path };
    let body = if method != "GET" {
        None
    } else if let Some(body) = overlay.get(path) {
        Some(body.clone())
    } else if path.contains("..") || matches!(path, "/EXPECTED.toml" | "/README.md") {
        None
    } else {
        std::fs::read(root.join(path.trim_start_matches('/'))).ok()
    };
    let head = match &body {
        Some(body) => format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            content_type(path),
            body.len()
        ),
        None => "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found"
            .to_string(),
    };
    let _ = stream.write_all(head.as_bytes());
    if let Some(body) = body {
        let _ = stream.write_all(&body);
    }
    let _ = stream.flush();
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "application/javascript",
        "css" => "text/css",
        "json" => "application/json",
        // `.env`: what a static server sends for an unknown extension.
        _ => "text/plain",
    }
}

/// One `[[secret]]` or `[[lookalike]]` of `EXPECTED.toml`.
#[derive(Debug)]
struct Planted {
    kind: String,
    file: String,
    builtin: String,
    value: String,
}

/// `EXPECTED.toml`, read by hand (the test binary has no TOML parser, and the file uses
/// only `key = "basic"`, `key = 'literal'` and `key = '''multi-line literal'''`).
fn expected() -> (Vec<Planted>, Vec<Planted>) {
    let source = std::fs::read_to_string(fixture().join("EXPECTED.toml")).expect("EXPECTED.toml");
    let (mut secrets, mut lookalikes) = (Vec::new(), Vec::new());
    let mut current: Option<(bool, BTreeMap<String, String>)> = None;
    let mut finish = |entry: Option<(bool, BTreeMap<String, String>)>| {
        if let Some((secret, mut fields)) = entry {
            let mut take = |k: &str| fields.remove(k).unwrap_or_default();
            let planted = Planted {
                kind: take("kind"),
                file: take("file"),
                builtin: take("builtin"),
                value: take("value"),
            };
            if secret {
                secrets.push(planted);
            } else {
                lookalikes.push(planted);
            }
        }
    };
    let mut lines = source.lines();
    while let Some(line) = lines.next() {
        let line = line.trim_end();
        match line {
            "[[secret]]" => finish(current.replace((true, BTreeMap::new()))),
            "[[lookalike]]" => finish(current.replace((false, BTreeMap::new()))),
            _ => {
                let Some((key, rest)) = line.split_once(" = ") else {
                    continue;
                };
                let Some((_, fields)) = current.as_mut() else {
                    continue;
                };
                let value = if rest == "'''" {
                    // A multi-line literal: its first newline is not part of it.
                    let mut value = Vec::new();
                    for next in lines.by_ref() {
                        if let Some(last) = next.strip_suffix("'''") {
                            value.push(last);
                            break;
                        }
                        value.push(next);
                    }
                    value.join("\n")
                } else {
                    let quote = &rest[..1];
                    rest[1..].split(quote).next().unwrap_or("").to_string()
                };
                fields.insert(key.trim().to_string(), value);
            }
        }
    }
    finish(current);
    (secrets, lookalikes)
}

/// A scenario that declares no data class: everything found is found by default. The
/// audience is `external` because the Site is public by design: the anonymous identity
/// reaching it is no finding, so the findings are the secrets alone.
fn scenario(dir: &Path, base_url: &str, crawl: &str) -> PathBuf {
    let path = dir.join("leak-site.toml");
    let toml = format!(
        "[site]\nname = \"leak-site\"\nbase_url = \"{base_url}\"\naudience = \"external\"\n\n\
         [crawl]\nseeds = [\"/\"]\n{crawl}\n\n\
         [[identity]]\nname = \"anonymous\"\ntier = \"external\"\n"
    );
    std::fs::write(&path, toml).expect("scenario written");
    path
}

struct Run {
    code: Option<i32>,
    report: serde_json::Value,
    /// stdout, stderr and every file the run wrote.
    outputs: Vec<(String, String)>,
}

fn run(base_url: &str, crawl: &str) -> Run {
    let dir = temp_dir();
    let scenario = scenario(dir.path(), base_url, crawl);
    let out_dir = dir.path().join("out");
    std::fs::create_dir_all(&out_dir).expect("out dir");
    let file = |name: &str| out_dir.join(name).display().to_string();
    let args = [
        "run".to_string(),
        scenario.display().to_string(),
        "--json".to_string(),
        file("report.json"),
        "--junit".to_string(),
        file("junit.xml"),
        "--sarif".to_string(),
        file("report.sarif"),
        "--markdown".to_string(),
        file("summary.md"),
        "--html".to_string(),
        file("report.html"),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = lowpriv_in(dir.path(), &args, &[]);
    let report = read_json(&out_dir.join("report.json"));
    let mut outputs = vec![
        ("stdout".to_string(), text(&out.stdout)),
        ("stderr".to_string(), text(&out.stderr)),
    ];
    let mut pending = vec![dir.path().to_path_buf()];
    while let Some(at) = pending.pop() {
        for entry in std::fs::read_dir(&at).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path != scenario {
                let bytes = std::fs::read(&path).expect("read output");
                outputs.push((path.display().to_string(), text(&bytes)));
            }
        }
    }
    Run {
        code: out.status.code(),
        report,
        outputs,
    }
}

fn path_of(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.path().to_string())
        .unwrap_or_default()
}

/// (path, class) → count of `secret-exposed` findings.
fn secret_findings(report: &serde_json::Value) -> BTreeMap<(String, String), usize> {
    let mut found = BTreeMap::new();
    for f in report["findings"].as_array().expect("findings") {
        if f["kind"] != "secret-exposed" {
            continue;
        }
        let path = path_of(f["url"].as_str().unwrap_or(""));
        for class in f["data"].as_array().into_iter().flatten() {
            let class = class.as_str().unwrap_or("").to_string();
            *found.entry((path.clone(), class)).or_insert(0) += 1;
        }
    }
    found
}

/// The ways a value may leak into an output: verbatim and every encoded form; for a PEM
/// key, each line of its body too (a report that printed one line would leak it).
fn leak_forms(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_string()];
    forms.extend(lowpriv::observe::classify::encoded_forms(value));
    forms.extend(
        value
            .lines()
            .filter(|l| l.len() >= 40 && !l.starts_with("-----"))
            .map(str::to_string),
    );
    forms
}

fn assert_no_value_leaks(run: &Run, values: &[&str]) {
    for value in values {
        for form in leak_forms(value) {
            for (name, output) in &run.outputs {
                assert!(
                    !output.contains(&form),
                    "a secret (or an encoded form of it) appears in {name}"
                );
            }
        }
    }
}

#[test]
fn every_secret_is_found_by_its_own_rule_and_nothing_else_is() {
    let (secrets, lookalikes) = expected();
    assert_eq!(secrets.len(), 10, "EXPECTED.toml lists ten secrets");
    assert_eq!(lookalikes.len(), 28, "EXPECTED.toml lists 28 look-alikes");
    let base_url = serve(fixture(), Overlay::new());
    let run = run(&base_url, "");

    // Findings, not inconclusive: every page was read whole.
    assert_eq!(run.code, Some(1), "{}", run.outputs[0].1);
    assert_eq!(run.report["summary"]["verdict"], "fail");

    // Every secret under its own rule, on its own file; nothing else.
    let mut want: BTreeMap<(String, String), usize> = BTreeMap::new();
    for secret in &secrets {
        assert!(
            !secret.builtin.is_empty(),
            "{}: EXPECTED.toml names the rule that finds it",
            secret.kind
        );
        *want
            .entry((format!("/{}", secret.file), secret.builtin.clone()))
            .or_insert(0) += 1;
    }
    let want_findings: BTreeMap<(String, String), usize> =
        want.keys().map(|k| (k.clone(), 1)).collect();
    let got = secret_findings(&run.report);
    for secret in &secrets {
        let key = (format!("/{}", secret.file), secret.builtin.clone());
        assert!(
            got.contains_key(&key),
            "{} not reported as `{}` on {}: {got:#?}",
            secret.kind,
            secret.builtin,
            key.0
        );
    }
    assert_eq!(
        got, want_findings,
        "one finding per file and rule, none elsewhere"
    );

    // The observations carry exactly those classes, each counted once per planted value:
    // a look-alike in the same file (the documented AWS key next to a real one, a
    // `sk_live_xxxx` placeholder, a UUID, a digest, a data: image, a test card) adds nothing.
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for obs in run.report["observations"].as_array().expect("observations") {
        let path = path_of(obs["url"].as_str().unwrap_or(""));
        if let Some(data) = obs["data"].as_object() {
            for (class, hit) in data {
                let count = hit["count"].as_u64().unwrap_or(0) as usize;
                *seen.entry((path.clone(), class.clone())).or_insert(0) += count;
            }
        }
    }
    assert_eq!(seen, want, "data classes per file, with counts");

    // No other finding names a look-alike's file.
    let lookalike_files: BTreeSet<String> =
        lookalikes.iter().map(|l| format!("/{}", l.file)).collect();
    for f in run.report["findings"].as_array().expect("findings") {
        let path = path_of(f["url"].as_str().unwrap_or(""));
        if lookalike_files.contains(&path) {
            assert_eq!(f["kind"], "secret-exposed", "{f:#}");
        }
    }

    let values: Vec<&str> = secrets.iter().map(|s| s.value.as_str()).collect();
    assert_no_value_leaks(&run, &values);
    // The password the base64 secret encodes, as well.
    assert_no_value_leaks(&run, &["E!iV3CPv9NSZSRi5KHbCuj"]);
}

/// A random-looking live Stripe key, planted only by this test.
const BUNDLE_KEY_END: &str = "sk_live_T4x9Qm2LpV7rZ8kW3nB6yH1c";
const BUNDLE_KEY_START: &str = "sk_live_Jd5Rw8Nq2Xs7Lm4Pz9Kv3Gt6";

/// 6 MB of minified JavaScript with one key near the start and one at the very end.
fn bundle() -> Vec<u8> {
    let mut js = format!("!function(){{var cfg={{k:\"{BUNDLE_KEY_START}\"}};");
    let filler = "function f(a,b){return a.map(function(x){return x*b+1})}var q=[1,2,3];";
    while js.len() < 6_000_000 {
        js.push_str(filler);
    }
    js.push_str(&format!("var late={{secret:\"{BUNDLE_KEY_END}\"}}}}();"));
    js.into_bytes()
}

fn bundle_site() -> String {
    let page = "<!doctype html><html><head><script src=\"/static/big.js\"></script></head>\
                <body><main><h1>SPA</h1></main></body></html>";
    let overlay = Overlay::from([
        ("/index.html".to_string(), page.as_bytes().to_vec()),
        ("/static/big.js".to_string(), bundle()),
    ]);
    serve(fixture(), overlay)
}

fn bundle_observation(report: &serde_json::Value) -> serde_json::Value {
    report["observations"]
        .as_array()
        .expect("observations")
        .iter()
        .find(|o| path_of(o["url"].as_str().unwrap_or("")) == "/static/big.js")
        .cloned()
        .expect("the bundle was fetched")
}

#[test]
fn a_six_megabyte_bundle_is_read_whole_at_the_defaults() {
    let base_url = bundle_site();
    let run = run(&base_url, "");
    assert_eq!(run.code, Some(1), "{}", run.outputs[0].1);
    assert_eq!(run.report["summary"]["verdict"], "fail", "conclusive");
    let obs = bundle_observation(&run.report);
    assert_eq!(obs["outcome"], "allowed");
    assert!(obs["bytes"].as_u64().unwrap_or(0) > 6_000_000, "{obs:#}");
    assert!(obs.get("truncated").is_none(), "{obs:#}");
    assert_eq!(obs["data"]["stripe_key"]["count"], 2, "{obs:#}");
    assert_no_value_leaks(&run, &[BUNDLE_KEY_START, BUNDLE_KEY_END]);
}

#[test]
fn a_bundle_past_the_limit_is_classified_as_read_and_stays_conclusive() {
    let base_url = bundle_site();
    let run = run(&base_url, "max_body_bytes = 1048576");
    assert_eq!(run.code, Some(1), "{}", run.outputs[0].1);
    assert_eq!(run.report["summary"]["verdict"], "fail", "conclusive");
    let obs = bundle_observation(&run.report);
    assert_eq!(obs["outcome"], "allowed", "a static asset keeps its status");
    assert_eq!(obs["truncated"], true);
    assert_eq!(obs["bytes"], 1_048_576);
    // The key near the start is found; the one past the cut cannot be.
    assert_eq!(obs["data"]["stripe_key"]["count"], 1, "{obs:#}");
    assert_no_value_leaks(&run, &[BUNDLE_KEY_START, BUNDLE_KEY_END]);
}
