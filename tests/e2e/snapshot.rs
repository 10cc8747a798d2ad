//! Exposure snapshots end to end: stable across runs, concurrency and data growth; sharp on
//! any change; never rewritten in CI; never half-written; bad files named by file:line.

use std::path::Path;

use crate::common::*;
use lowpriv::report::terminal;
use lowpriv::snapshot::{self, Matrix, Store};
use lowpriv::{RunOptions, RunResult};
use lowpriv_demo::{DemoConfig, Flaw};

/// The demo pipeline with the crawl's fan-out set to `concurrency`.
fn run(config: DemoConfig, concurrency: usize) -> RunResult {
    run_with(config, concurrency, &RunOptions::default())
}

fn run_with(config: DemoConfig, concurrency: usize, options: &RunOptions) -> RunResult {
    run_demo(config, |s| s.crawl.concurrency = concurrency, options)
}

/// The run's `.snap` text: the exposure and the action matrix, as the run built them.
fn snap(result: &RunResult) -> String {
    result.exposure.render()
}

fn shipped() -> String {
    std::fs::read_to_string(repo().join("snapshots/acme-payroll.snap")).unwrap()
}

#[test]
fn snapshots_are_byte_identical_across_runs_and_concurrency() {
    for fixed in [false, true] {
        let texts: Vec<String> = [1, 8, 32, 1, 8, 32]
            .into_iter()
            .map(|c| snap(&run(demo_config(fixed), c)))
            .collect();
        assert!(texts.iter().all(|t| *t == texts[0]), "fixed={fixed}");
        assert!(texts[0].lines().count() > 80, "a real matrix: {}", texts[0]);
        if fixed {
            assert_eq!(
                texts[0],
                shipped(),
                "the shipped snapshot is the fixed demo's"
            );
        }
    }
}

#[test]
fn growing_the_data_leaves_the_snapshot_unchanged() {
    for fixed in [false, true] {
        let small = run(demo_config(fixed), 8);
        let big = run(
            DemoConfig {
                fixed,
                extra_employees: 60,
                ..Default::default()
            },
            8,
        );
        // The Site grew by thousands of URLs (pages, facet values) of the same templates:
        // the crawl samples them, so what grows is what is sampled out, and the run stays
        // conclusive with the same snapshot.
        assert!(
            big.coverage.urls_seen > small.coverage.urls_seen + 100,
            "the Site really grew: {:?} vs {:?}",
            big.coverage.urls_seen,
            small.coverage.urls_seen
        );
        assert!(big.coverage.unobserved.is_empty(), "{:?}", big.coverage);
        assert_ne!(big.summary.verdict, lowpriv::Verdict::Inconclusive);
        assert_eq!(snap(&small), snap(&big), "fixed={fixed}");
    }
}

#[test]
fn one_more_reachable_template_changes_exactly_its_lines() {
    let before = snap(&run(demo_config(true), 8));
    let after = snap(&run(
        DemoConfig {
            fixed: true,
            reopened: vec![Flaw::QuarterlyAudience],
            ..Default::default()
        },
        8,
    ));
    let removed: Vec<&str> = before
        .lines()
        .filter(|l| !after.lines().any(|a| a == *l))
        .collect();
    let added: Vec<&str> = after
        .lines()
        .filter(|l| !before.lines().any(|b| b == *l))
        .collect();
    assert_eq!(removed, vec!["GET /reports/quarterly · dave · denied"]);
    assert_eq!(added, vec!["GET /reports/quarterly · dave · allowed"]);
    let changes = snapshot::changes(
        &Matrix::parse(&before, Path::new("before")).unwrap(),
        &Matrix::parse(&after, Path::new("after")).unwrap(),
    );
    assert_eq!(changes.len(), 1);
    assert_eq!(
        changes[0].sentence(),
        "dave: GET /reports/quarterly denied → allowed"
    );
    assert_eq!(changes[0].direction, snapshot::Direction::Widening);
}

/// The drift a reviewer reads after the flawed demo, redacted of ports and paths.
#[test]
fn drift_rendering() {
    let dir = dir_with_approved_snapshots();
    let options = RunOptions {
        snapshots: Some(Store::new(dir.path().join("snapshots"))),
        ..RunOptions::default()
    };
    let result = run_with(demo_config(false), 8, &options);
    let mut text = String::new();
    terminal::render_snapshot(&result, terminal::Style::default(), &mut text);
    with_redactions(Some(dir.path()), || {
        insta::assert_snapshot!("drift_terminal", text)
    });
    insta::assert_snapshot!("fixed_demo_snap", snap(&run(demo_config(true), 8)));
}

fn mtime(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

#[test]
fn in_ci_the_approved_file_never_changes() {
    let dir = dir_with_approved_snapshots();
    let approved = dir.path().join("snapshots/acme-payroll.snap");
    let (bytes, time) = (std::fs::read(&approved).unwrap(), mtime(&approved));
    let ci = [("CI", "true")];
    let out = lowpriv_in(dir.path(), &["demo"], &ci);
    assert_eq!(out.status.code(), Some(1));
    let out = lowpriv_in(dir.path(), &["snapshot", "accept", "acme-payroll"], &ci);
    assert_eq!(out.status.code(), Some(2), "accept is refused in CI");
    assert!(text(&out.stderr).contains("in CI"), "{}", text(&out.stderr));
    let out = lowpriv_in(dir.path(), &["snapshot", "accept", "--all"], &ci);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&approved).unwrap(), bytes);
    assert_eq!(mtime(&approved), time);
}

#[test]
fn without_an_approved_snapshot_ci_fails_and_a_person_is_told_how_to_accept() {
    let dir = temp_dir();
    let out = lowpriv_in(dir.path(), &["demo", "--fixed"], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "outside CI a first run still passes"
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("no approved snapshot yet"), "{stdout}");
    assert!(
        stdout.contains("lowpriv snapshot accept acme-payroll"),
        "{stdout}"
    );
    assert!(dir.path().join("snapshots/acme-payroll.snap.new").exists());

    let ci_dir = temp_dir();
    let out = lowpriv_in(ci_dir.path(), &["demo", "--fixed"], &[("CI", "1")]);
    assert_eq!(out.status.code(), Some(1), "in CI a missing snapshot fails");
    assert!(text(&out.stdout).contains("in CI one must be approved first"));
    assert!(!ci_dir.path().join("snapshots/acme-payroll.snap").exists());

    // Accepting makes the next run match.
    let out = lowpriv_in(dir.path(), &["snapshot", "accept", "acme-payroll"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("snapshots/acme-payroll.snap")).unwrap(),
        shipped()
    );
    let out = lowpriv_in(dir.path(), &["demo", "--fixed"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("Snapshot matches"));
}

#[test]
fn a_killed_run_never_leaves_a_half_written_snapshot() {
    let dir = dir_with_approved_snapshots();
    let approved = dir.path().join("snapshots/acme-payroll.snap");
    let pending = dir.path().join("snapshots/acme-payroll.snap.new");
    // A complete flawed run tells what a whole pending file holds.
    assert_eq!(
        lowpriv_in(dir.path(), &["demo"], &[]).status.code(),
        Some(1)
    );
    let whole = std::fs::read_to_string(&pending).unwrap();
    for delay_ms in [0u64, 20, 40, 60, 80, 100, 130, 160] {
        std::fs::remove_file(&pending).ok();
        let mut child = std::process::Command::new(bin())
            .arg("demo")
            .current_dir(dir.path())
            .env_remove("CI")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        child.wait().unwrap();
        if let Ok(text) = std::fs::read_to_string(&pending) {
            assert_eq!(
                text, whole,
                "killed after {delay_ms} ms: the pending file is whole or absent"
            );
        }
        assert_eq!(std::fs::read_to_string(&approved).unwrap(), shipped());
    }
}

#[test]
fn a_broken_or_foreign_snapshot_is_named_and_never_overwritten() {
    let original = shipped();
    let line = original
        .lines()
        .position(|l| l == "GET /reports/quarterly · dave · denied")
        .unwrap()
        + 1;
    let cases = [
        (
            original.replace(
                "GET /reports/quarterly · dave · denied",
                "GET /reports/quarterly · dave · denid",
            ),
            format!("snapshots/acme-payroll.snap:{line}: unknown outcome `denid`"),
        ),
        (
            original.replace("site acme-payroll", "site other-site"),
            "snapshot of site `other-site`, not `acme-payroll`".to_string(),
        ),
        (
            original.replace("identity alice", "identity alice\nidentity eve"),
            "does not declare: `eve`".to_string(),
        ),
    ];
    for (edited, expected) in cases {
        let dir = temp_dir();
        std::fs::create_dir_all(dir.path().join("snapshots")).unwrap();
        let approved = dir.path().join("snapshots/acme-payroll.snap");
        std::fs::write(&approved, &edited).unwrap();
        let out = lowpriv_in(dir.path(), &["demo", "--fixed"], &[]);
        assert_eq!(out.status.code(), Some(2), "{expected}");
        // Bad input, found before the run: an error naming it, and no report.
        let stderr = text(&out.stderr);
        assert!(stderr.contains(&expected), "{expected}\n{stderr}");
        assert!(stderr.contains("error:"), "{stderr}");
        assert!(!text(&out.stdout).contains("verdict:"), "no run, no report");
        assert_eq!(std::fs::read_to_string(&approved).unwrap(), edited);
        assert!(!dir.path().join("snapshots/acme-payroll.snap.new").exists());
    }
}

/// An invalid approved snapshot is an input error (exit 2) found before the first request:
/// the Site, a bare listener that counts connections, is never contacted.
#[test]
fn an_invalid_snapshot_stops_the_run_before_any_request() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let dir = temp_dir();
    std::fs::create_dir_all(dir.path().join("snapshots")).unwrap();
    let broken = shipped().replace(
        "GET /reports/quarterly · dave · denied",
        "GET /reports/quarterly · dave · denid",
    );
    std::fs::write(dir.path().join("snapshots/acme-payroll.snap"), &broken).unwrap();
    let scenario = demo_scenario();
    let base_url = format!("http://127.0.0.1:{port}");
    let env = demo_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = lowpriv_in(
        dir.path(),
        &["run", scenario.to_str().unwrap(), "--base-url", &base_url],
        &env,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("snapshots/acme-payroll.snap:")
            && stderr.contains("unknown outcome `denid`"),
        "file:line and what is wrong: {stderr}"
    );
    let mut connections = 0;
    while listener.accept().is_ok() {
        connections += 1;
    }
    assert_eq!(connections, 0, "no request reached the Site");
    // The same run with the shipped snapshot does contact the listener (it then fails to
    // get answers): the count above is not zero by construction.
    std::fs::write(dir.path().join("snapshots/acme-payroll.snap"), shipped()).unwrap();
    let out = lowpriv_in(
        dir.path(),
        &[
            "run",
            scenario.to_str().unwrap(),
            "--base-url",
            &base_url,
            "--deadline",
            "5",
        ],
        &env,
    );
    assert_ne!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let mut connections = 0;
    while listener.accept().is_ok() {
        connections += 1;
    }
    assert!(connections > 0, "the valid run did reach the listener");
}

#[test]
fn review_needs_a_terminal_and_accept_all_promotes_every_pending_file() {
    let dir = dir_with_approved_snapshots();
    assert_eq!(
        lowpriv_in(dir.path(), &["demo"], &[]).status.code(),
        Some(1)
    );
    let out = lowpriv_in(dir.path(), &["snapshot", "review"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("needs an interactive terminal"));
    let out = lowpriv_in(dir.path(), &["snapshot", "accept", "--all"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("accepted snapshots/acme-payroll.snap"));
    // The flawed exposure is now the approved one: the snapshot matches, findings still fail.
    let json = dir.path().join("r.json");
    let out = lowpriv_in(dir.path(), &["demo", "--json", json.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(read_json(&json)["snapshot"]["status"], "match");
}

#[test]
fn widening_the_audience_previews_who_joins_and_what_they_reach() {
    let dir = dir_with_approved_snapshots();
    let json = dir.path().join("wide.json");
    let out = lowpriv_in(
        dir.path(),
        &[
            "demo",
            "--audience",
            "company",
            "--json",
            json.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("If the audience widens to company (from team)"),
        "{stdout}"
    );
    let report = read_json(&json);
    assert_eq!(report["site"]["audience"], "team");
    assert_eq!(report["site"]["evaluated_audience"], "company");
    let joining = report["audience_preview"]["joining"].as_array().unwrap();
    assert_eq!(joining.len(), 1);
    assert_eq!(joining[0]["name"], "dave");
    let reaches: Vec<&str> = joining[0]["reaches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["template"].as_str().unwrap())
        .collect();
    assert!(reaches.contains(&"/reports/quarterly"), "{reaches:?}");
    assert!(reaches.contains(&"/api/employees/{id}"), "{reaches:?}");
    // Inside a company audience dave is no audience leak; his data exposure still is.
    assert!(
        findings(&report, "audience-leak")
            .iter()
            .all(|(i, _)| i != "dave")
    );
    assert!(has_finding(
        &report,
        "data-exposure",
        "dave",
        "/api/directory"
    ));

    let out = lowpriv_in(
        dir.path(),
        &["demo", "--fixed", "--audience", "external"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "anonymous (external) joins; today it reaches nothing beyond the public paths"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("dave (company) joins; today it reaches nothing beyond the public paths"),
        "{stdout}"
    );
}

/// `snapshot review` on a real terminal (a pty from util-linux's `script`): reject drops the
/// pending file, accept promotes it.
#[test]
fn review_on_a_terminal_accepts_and_rejects() {
    use std::io::Write;
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("util-linux `script` is needed to give `snapshot review` a terminal");
    }
    let dir = dir_with_approved_snapshots();
    let approved = dir.path().join("snapshots/acme-payroll.snap");
    let pending = dir.path().join("snapshots/acme-payroll.snap.new");
    let review = |args: &str, answers: &str| {
        let mut child = std::process::Command::new("script")
            .args([
                "-qec",
                &format!("{} snapshot review {args}", bin()),
                "/dev/null",
            ])
            .current_dir(dir.path())
            .env_remove("CI")
            .env_remove("NO_COLOR")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(answers.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        text(&out.stdout)
    };
    let diff_line = "+GET /reports/quarterly · dave · allowed";
    assert_eq!(
        lowpriv_in(dir.path(), &["demo"], &[]).status.code(),
        Some(1)
    );
    let flawed = std::fs::read_to_string(&pending).unwrap();
    // The drift reads as the sentences `run` prints, widening first and red (a terminal gets
    // colour); the raw diff only on request.
    let shown = review("", "what\ns\n");
    let sentence = "+ dave: GET /reports/quarterly denied → allowed";
    assert!(shown.contains(&format!("\x1b[31m{sentence}")), "{shown}");
    let widened = shown.find("exposure widened").expect("a widening heading");
    if let Some(narrowed) = shown.find("exposure narrowed") {
        assert!(widened < narrowed, "{shown}");
    }
    assert!(!shown.contains(diff_line), "no diff unless asked: {shown}");
    assert!(shown.contains("skipped acme-payroll"), "{shown}");
    assert!(pending.exists());
    // `d` at the prompt shows the diff and asks again.
    let shown = review("", "d\nr\n");
    let diff_at = shown.find(diff_line).expect("the diff after `d`");
    assert!(shown.find(sentence).unwrap() < diff_at, "{shown}");
    assert!(shown.contains("rejected"), "{shown}");
    assert!(!pending.exists());
    assert_eq!(std::fs::read_to_string(&approved).unwrap(), shipped());

    assert_eq!(
        lowpriv_in(dir.path(), &["demo"], &[]).status.code(),
        Some(1)
    );
    // `--diff` shows it up front.
    let shown = review("--diff", "a\n");
    assert!(shown.contains(diff_line), "{shown}");
    assert!(shown.contains("accepted"), "{shown}");
    assert!(!pending.exists());
    assert_eq!(std::fs::read_to_string(&approved).unwrap(), flawed);
}

/// Never a false green: a Site with more templates than `max_requests` lets the crawl reach
/// ends inconclusive, naming templates left unseen and the setting that would cover them.
#[test]
fn more_templates_than_max_requests_allows_is_inconclusive_and_named() {
    let result = run_demo(
        demo_config(true),
        |s| s.crawl.max_requests = 25,
        &RunOptions::default(),
    );
    assert_eq!(result.summary.verdict, lowpriv::Verdict::Inconclusive);
    let unseen = &result.coverage.unobserved;
    assert!(!unseen.is_empty(), "{:?}", result.coverage);
    let alice = result
        .identities
        .iter()
        .find(|i| i.name == "alice")
        .unwrap();
    let why = alice.truncated.as_deref().unwrap_or_default();
    assert!(
        why.contains("found but never requested")
            && why.contains(
                &unseen
                    .iter()
                    .find(|u| u.identity == "alice")
                    .unwrap()
                    .template
            )
            && why.contains("raise [crawl] max_requests (now 25)"),
        "{why}"
    );
    let verdict = terminal::render_verdict(&result, terminal::Style::default());
    assert!(
        verdict.contains("raise [crawl] max_requests (now 25)"),
        "{verdict}"
    );
    assert!(verdict.contains("never requested"), "{verdict}");
}
