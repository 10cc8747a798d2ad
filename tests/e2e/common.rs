//! Shared helpers for the end-to-end tests: the real binary, the real demo Site, real HTTP on
//! 127.0.0.1 with a port chosen by the OS; the in-process demo run; the redactions every
//! snapshot goes through. Each is written once here and used by every module.

use std::path::{Path, PathBuf};
use std::process::Output;

use lowpriv::scenario::Scenario;
use lowpriv::{RunOptions, RunResult};
use lowpriv_demo::{DemoConfig, DemoSite, USERS};

pub const DB_PASSWORD: &str = "e2e-db-password-4c1f9b7a";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_lowpriv")
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn demo_scenario() -> PathBuf {
    repo().join("scenarios/demo.toml")
}

/// Starts the demo Site in this process on 127.0.0.1:0.
pub async fn start_site(fixed: bool) -> DemoSite {
    start_site_with(DemoConfig {
        fixed,
        ..Default::default()
    })
    .await
}

/// Starts the demo Site with a configuration of the test's (its secret is `DB_PASSWORD`).
pub async fn start_site_with(mut config: DemoConfig) -> DemoSite {
    config.db_password = DB_PASSWORD.to_string();
    DemoSite::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("demo site starts")
}

/// The variables of the demo scenario's HR API tokens.
pub const HR_TOKEN_VARS: [&str; 4] = [
    "DEMO_HR_DAVE_TOKEN",
    "DEMO_HR_CAROL_TOKEN",
    "DEMO_HR_BOB_TOKEN",
    "DEMO_HR_ALICE_TOKEN",
];

/// The environment the demo scenario needs, with the real demo passwords and HR API tokens,
/// for a run that never reaches the HR API (a check, an unreachable Site): its URL is a
/// loopback port nothing serves. A run against a served Site takes [`demo_env_for`].
pub fn demo_env() -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = USERS
        .iter()
        .map(|u| (u.env_var.to_string(), u.password.to_string()))
        .collect();
    env.push(("DB_PASSWORD".to_string(), DB_PASSWORD.to_string()));
    for var in HR_TOKEN_VARS {
        env.push((var.to_string(), lowpriv_demo::demo_env(var).unwrap()));
    }
    env.push((
        lowpriv_demo::HR_URL_VAR.to_string(),
        "http://127.0.0.1:9/".to_string(),
    ));
    env
}

/// [`demo_env`] for a run against `site`: the scenario's HR API source is `site`'s.
pub fn demo_env_for(site: &DemoSite) -> Vec<(String, String)> {
    let mut env = demo_env();
    for (key, value) in &mut env {
        if key == lowpriv_demo::HR_URL_VAR {
            *value = site.hr_url.to_string();
        }
    }
    env
}

/// Runs the binary off the async runtime (the Site keeps serving meanwhile), in a fresh
/// working directory so default outputs (`snapshots/`) never land in the repository.
pub async fn lowpriv(args: Vec<String>, env: Vec<(String, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        lowpriv_sync(&args, &env)
    })
    .await
    .expect("join")
}

pub fn lowpriv_sync(args: &[&str], env: &[(&str, &str)]) -> Output {
    let cwd = temp_dir();
    lowpriv_in(cwd.path(), args, env)
}

/// Runs the binary in `cwd` (`CI` unset unless `env` sets it).
pub fn lowpriv_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = std::process::Command::new(bin());
    command
        .args(args)
        .current_dir(cwd)
        .env_remove("CI")
        .env("NO_COLOR", "1");
    for var in [
        "DEMO_ALICE_PASSWORD",
        "DEMO_BOB_PASSWORD",
        "DEMO_CAROL_PASSWORD",
        "DEMO_DAVE_PASSWORD",
        "DB_PASSWORD",
    ] {
        command.env_remove(var);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("lowpriv runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("report written");
    serde_json::from_str(&text).expect("report is JSON")
}

/// Findings of a kind, as (identity, template) pairs.
pub fn findings(report: &serde_json::Value, kind: &str) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .map(|f| {
            (
                f["identity"].as_str().unwrap_or("").to_string(),
                f["template"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

pub fn has_finding(report: &serde_json::Value, kind: &str, identity: &str, template: &str) -> bool {
    findings(report, kind)
        .iter()
        .any(|(i, t)| i == identity && t == template)
}

/// The outcomes one identity got on one template.
pub fn outcomes(report: &serde_json::Value, identity: &str, template: &str) -> Vec<String> {
    report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["identity"] == identity && o["template"] == template)
        .map(|o| o["outcome"].as_str().unwrap().to_string())
        .collect()
}

pub fn outcome_at(report: &serde_json::Value, identity: &str, path: &str) -> Option<String> {
    report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| {
            o["identity"] == identity
                && o["url"].as_str().is_some_and(|u| {
                    url::Url::parse(u)
                        .map(|u| u.path() == path)
                        .unwrap_or(false)
                })
        })
        .map(|o| o["outcome"].as_str().unwrap().to_string())
}

pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// A working directory holding a copy of the shipped `snapshots/`.
pub fn dir_with_approved_snapshots() -> tempfile::TempDir {
    let dir = temp_dir();
    let snapshots = dir.path().join("snapshots");
    std::fs::create_dir_all(&snapshots).unwrap();
    for entry in std::fs::read_dir(repo().join("snapshots")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name.to_string_lossy().ends_with(".snap") {
            std::fs::copy(entry.path(), snapshots.join(name)).unwrap();
        }
    }
    dir
}

// ---------------------------------------------------------------------------------------
// The demo pipeline in this process

/// The Site served flawed or `fixed`, otherwise as shipped.
pub fn demo_config(fixed: bool) -> DemoConfig {
    DemoConfig {
        fixed,
        ..Default::default()
    }
}

/// Run options with a fixed "today": review and expiry dates are judged against one day, so
/// snapshots of the findings do not age.
pub fn fixed_day() -> RunOptions {
    RunOptions {
        today: Some(jiff::civil::date(2026, 11, 25)),
        ..RunOptions::default()
    }
}

/// The whole pipeline in this process (`lowpriv_demo::run_with`): the demo Site from
/// `config` on 127.0.0.1:0, the demo scenario with `adjust`'s last word on it, run with
/// `options`. Its own tokio runtime, since the tests calling it are not async. Whatever the
/// test checks, the run must leave the traps untouched: no logout, no delete, no identity's
/// credentials sent as another's.
pub fn run_demo(
    config: DemoConfig,
    adjust: impl FnOnce(&mut Scenario),
    options: &RunOptions,
) -> RunResult {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (result, stats) = runtime
        .block_on(lowpriv_demo::run_with(config, adjust, options))
        .unwrap();
    assert_eq!(
        (
            stats.logout_hits,
            stats.delete_hits,
            stats.foreign_credentials
        ),
        (0, 0, 0)
    );
    result
}

// ---------------------------------------------------------------------------------------
// Snapshot redactions

/// Runs `assertions` (insta snapshot assertions) with the volatile parts of a run redacted,
/// so a snapshot changes only when the code does:
///
/// - the test's temp dir `dir`, where reports point at the approved snapshot: `[dir]`;
/// - the Site's port, `127.0.0.1:[port]`; JUnit's `time="[duration]"`;
/// - in JSON snapshots (`assert_json_snapshot!`), `duration_ms` at any depth is
///   `"[duration]"`, and `fingerprint` (of a response, which may hold the random runtime
///   secret) `"[hash]"`.
pub fn with_redactions<R>(dir: Option<&Path>, assertions: impl FnOnce() -> R) -> R {
    let mut settings = insta::Settings::clone_current();
    if let Some(dir) = dir {
        settings.add_filter(&regex::escape(&dir.display().to_string()), "[dir]");
    }
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]");
    settings.add_filter(r#"time="[0-9.]+""#, r#"time="[duration]""#);
    settings.add_redaction(".**.duration_ms", "[duration]");
    settings.add_redaction(".**.fingerprint", "[hash]");
    settings.bind(assertions)
}

/// One fixed answer of a [`serve_pages`] Site: path with query → (content type, body).
pub type Page = (&'static str, &'static str, Vec<u8>);

/// A Site of fixed answers on 127.0.0.1:0, `Connection: close`, one thread per connection:
/// each request target (path and query) is looked up in `pages`; anything else gets
/// `fallback` (a catch-all page, as single-page apps and some hosts serve) or a 404. Returns
/// the base URL and the log of request targets, in arrival order.
pub fn serve_pages(
    pages: Vec<Page>,
    fallback: Option<Page>,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local addr").port();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let requests = log.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
            let target = request_line.split_whitespace().nth(1).unwrap_or("/");
            requests.lock().unwrap().push(target.to_string());
            let (status, kind, body) = match pages.iter().find(|(p, ..)| *p == target) {
                Some((_, kind, body)) => ("200 OK", *kind, body.as_slice()),
                None => match &fallback {
                    Some((_, kind, body)) => ("200 OK", *kind, body.as_slice()),
                    None => ("404 Not Found", "text/plain", b"not found".as_slice()),
                },
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(body);
        }
    });
    (format!("http://127.0.0.1:{port}"), log)
}
