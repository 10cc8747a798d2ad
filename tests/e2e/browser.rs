//! `--browser`: the demo's single-page section (`/app`, crates/lowpriv-demo/src/spa.rs) is
//! seen only when its scripts run in headless Chromium, and the browser itself sends nothing
//! but same-origin GETs, leaves no process behind, and gives a page that never settles no
//! more than its cap.
//!
//! Needs Debian's chromium at /usr/bin/chromium: each test says so loudly and returns where
//! it is missing (`.ci/run` installs it, so CI never skips them).

use std::path::Path;
use std::time::{Duration, Instant};

use lowpriv_demo::USERS;

use crate::common::*;

const CHROMIUM: &str = "/usr/bin/chromium";

fn chromium_missing(test: &str) -> bool {
    if Path::new(CHROMIUM).is_file() {
        return false;
    }
    eprintln!("SKIPPED {test}: {CHROMIUM} is missing (apt-get install chromium)");
    true
}

/// The processes whose command line names `dir` (the run's TMPDIR holds Chromium's profile).
fn processes_under(dir: &Path) -> Vec<String> {
    let needle = dir.to_string_lossy().to_string();
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        // A zombie has an empty command line; its state says so.
        let state = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let zombie = state
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z'));
        if cmdline.contains(&needle) || (zombie && cmdline.is_empty() && is_ours(&state)) {
            found.push(format!("{name}: {cmdline} {}", state.trim()));
        }
    }
    found
}

/// A zombie whose parent is this test process (a lowpriv we spawned would be reaped by us).
fn is_ours(stat: &str) -> bool {
    let parent = stat
        .rsplit(')')
        .next()
        .and_then(|rest| rest.split_whitespace().nth(1))
        .and_then(|p| p.parse::<u32>().ok());
    parent == Some(std::process::id())
}

/// Polls until no process names `dir`, for a while: Chromium's helpers leave just after it.
fn assert_no_process_left(dir: &Path) {
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let left = processes_under(dir);
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < until, "processes left behind: {left:#?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn assert_no_secrets(texts: &[&str]) {
    for user in USERS {
        for secret in [user.password, user.token] {
            for text in texts {
                assert!(!text.contains(secret), "a secret of {} leaked", user.name);
            }
        }
    }
}

/// Runs `lowpriv demo` with `args` in a fresh folder whose TMPDIR is its own.
fn demo(args: &[&str]) -> (tempfile::TempDir, std::process::Output, serde_json::Value) {
    let dir = temp_dir();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let json = dir.path().join("out.json");
    let mut all = vec!["demo", "-vv", "--json", json.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = lowpriv_in(dir.path(), &all, &[("TMPDIR", tmp.to_str().unwrap())]);
    let report = read_json(&json);
    (dir, out, report)
}

fn unrendered<'a>(report: &'a serde_json::Value, template: &str) -> Vec<&'a str> {
    report["coverage"]["unrendered"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|u| u["template"] == template)
                .filter_map(|u| u["why"].as_str())
                .collect()
        })
        .unwrap_or_default()
}

fn observed(report: &serde_json::Value, template: &str) -> bool {
    report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["template"] == template)
}

#[test]
fn without_browser_the_single_page_app_is_listed_unrendered_and_its_flaw_unseen() {
    let (_dir, out, report) = demo(&[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    // Reached only by code that runs: absent from the matrix, so no finding either.
    for template in ["/api/app/salaries", "/api/app/reports/payroll"] {
        assert!(!observed(&report, template), "{template} observed");
    }
    assert!(!has_finding(
        &report,
        "data-exposure",
        "carol",
        "/api/app/salaries"
    ));
    // The statically visible call is found from the script's text alone.
    assert_eq!(outcomes(&report, "carol", "/api/app/me"), vec!["allowed"]);
    // The shell loads a same-origin script: it is said to be not rendered.
    assert_eq!(unrendered(&report, "/app"), vec!["no-browser"]);
    assert!(stdout.contains("not rendered: "), "{stdout}");
    assert!(stdout.contains("/app"), "{stdout}");
    // A page with no script of the Site's is not listed (precision).
    assert!(unrendered(&report, "/api/directory").is_empty());
}

#[test]
fn with_browser_the_single_page_app_flaw_is_found_and_the_browser_sends_nothing_unsafe() {
    if chromium_missing("with_browser_the_single_page_app_flaw_is_found") {
        return;
    }
    let (dir, out, report) = demo(&["--browser"]);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    // The tab-only endpoint, found by clicking the tab, and replayed as everyone.
    assert!(
        has_finding(&report, "data-exposure", "carol", "/api/app/salaries"),
        "{:#?}",
        report["findings"]
    );
    assert!(has_finding(
        &report,
        "data-exposure",
        "dave",
        "/api/app/salaries"
    ));
    assert_eq!(
        outcomes(&report, "anonymous", "/api/app/salaries"),
        vec!["denied"]
    );
    // The route table's built URL: observed, correct, silent (precision).
    assert_eq!(
        outcomes(&report, "carol", "/api/app/reports/payroll"),
        vec!["allowed"]
    );
    assert_eq!(
        outcomes(&report, "dave", "/api/app/reports/payroll"),
        vec!["denied"]
    );
    let on_reports: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["template"] == "/api/app/reports/payroll")
        .collect();
    assert!(on_reports.is_empty(), "{on_reports:#?}");
    // The narrowed call the route made is in the matrix too.
    assert!(
        report["observations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["url"]
                .as_str()
                .is_some_and(|u| u.contains("/api/app/people?fields="))),
        "narrowed people call not observed"
    );
    // The app's POST was blocked and recorded as an action, never sent; the cross-origin
    // fetch never left; no cookie went to the foreign origin.
    let browser_actions: Vec<_> = report["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["source"] == "browser")
        .collect();
    assert!(
        browser_actions.iter().any(
            |a| a["method"] == "POST" && a["url"].as_str().unwrap().ends_with("/api/app/notes")
        ),
        "{browser_actions:#?}"
    );
    assert!(
        stdout.contains("demo app: 0 writes · foreign origin: 0 visits"),
        "{stdout}"
    );
    assert!(
        stdout.contains("0 credentials sent to the foreign origin"),
        "{stdout}"
    );
    // The page that never settles is listed as having hit the cap; the shell rendered.
    assert_eq!(unrendered(&report, "/app/live"), vec!["hit-cap"]);
    assert!(
        unrendered(&report, "/app").is_empty(),
        "{}",
        report["coverage"]
    );
    assert!(stdout.contains("hit the cap"), "{stdout}");
    // Chromium and its helpers are gone.
    assert_no_process_left(dir.path());
    let json = std::fs::read_to_string(dir.path().join("out.json")).unwrap();
    assert_no_secrets(&[&stdout, &stderr, &json]);
}

#[test]
fn fixed_with_browser_passes_over_the_single_page_app_it_observed() {
    if chromium_missing("fixed_with_browser_passes") {
        return;
    }
    let (dir, out, report) = demo(&["--fixed", "--browser"]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    // Observed, and allowed exactly to those the salary rule admits.
    for (identity, outcome) in [
        ("alice", "allowed"),
        ("bob", "allowed"),
        ("carol", "denied"),
        ("dave", "denied"),
        ("anonymous", "denied"),
    ] {
        assert_eq!(
            outcomes(&report, identity, "/api/app/salaries"),
            vec![outcome],
            "{identity}"
        );
    }
    assert!(
        stdout.contains("demo app: 0 writes · foreign origin: 0 visits"),
        "{stdout}"
    );
    assert_no_process_left(dir.path());
}

#[test]
fn sigterm_to_a_browser_run_leaves_no_chromium_behind() {
    if chromium_missing("sigterm_to_a_browser_run_leaves_no_chromium_behind") {
        return;
    }
    let dir = temp_dir();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let mut child = std::process::Command::new(bin())
        .args(["demo", "--browser", "-q"])
        .current_dir(dir.path())
        .env_remove("CI")
        .env("TMPDIR", &tmp)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for Chromium to be up (its profile lives under our TMPDIR).
    let until = Instant::now() + Duration::from_secs(60);
    while processes_under(&tmp).is_empty() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "lowpriv ended before Chromium started"
        );
        assert!(Instant::now() < until, "Chromium never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    // Stopped early: what was gathered is reported, inconclusive.
    assert_eq!(status.code(), Some(3), "{status:?}");
    assert_no_process_left(&tmp);
}

#[test]
fn browser_without_chromium_is_an_input_error_that_says_how_to_install_it() {
    let dir = temp_dir();
    for (args, env) in [
        (
            vec!["demo", "--browser", "--chromium", "/nonexistent/chromium"],
            vec![],
        ),
        (
            vec!["demo", "--browser"],
            vec![("LOWPRIV_CHROMIUM", "/nonexistent/chromium")],
        ),
    ] {
        let out = lowpriv_in(dir.path(), &args, &env);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("apt-get install chromium"), "{stderr}");
        assert!(stderr.contains("/nonexistent/chromium"), "{stderr}");
    }
}
