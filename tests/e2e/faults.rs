//! A Site that is not a friend: throttling, 503s, sessions that expire mid-crawl, a run
//! stopped by SIGTERM or its deadline. Each run either recovers with every cell really
//! observed, or ends inconclusive saying why; never a pass over a matrix it did not see.

use std::time::{Duration, Instant};

use crate::common::*;
use lowpriv_demo::{DemoConfig, Faults};

fn fixed_with(faults: Faults) -> DemoConfig {
    DemoConfig {
        fixed: true,
        faults,
        ..Default::default()
    }
}

/// Runs the demo scenario with the shipped snapshots against `site`; returns the exit code,
/// the JSON report and stdout+stderr.
async fn run_against(
    site: &lowpriv_demo::DemoSite,
    extra: &[&str],
) -> (i32, serde_json::Value, String, tempfile::TempDir) {
    let dir = dir_with_approved_snapshots();
    let json = dir.path().join("r.json");
    let mut args = vec![
        "run".to_string(),
        demo_scenario().display().to_string(),
        "--base-url".to_string(),
        site.base_url.to_string(),
        "--json".to_string(),
        json.display().to_string(),
        "--snapshots".to_string(),
        dir.path().join("snapshots").display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = lowpriv(args, demo_env_for(site)).await;
    let output = text(&out.stdout) + &text(&out.stderr);
    (out.status.code().unwrap(), read_json(&json), output, dir)
}

fn assert_traps_untouched(site: &lowpriv_demo::DemoSite) {
    let stats = site.stats();
    assert_eq!(
        (
            stats.logout_hits,
            stats.delete_hits,
            stats.foreign_credentials
        ),
        (0, 0, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_503s_are_retried_and_the_run_recovers() {
    let site = start_site_with(fixed_with(Faults {
        unavailable_every: Some(7),
        throttle_every: Some(23),
        ..Default::default()
    }))
    .await;
    let (code, report, output, _dir) = run_against(&site, &[]).await;
    assert_eq!(code, 0, "{output}");
    assert_eq!(
        report["snapshot"]["status"], "match",
        "every cell observed as approved"
    );
    let retried = report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["reason"].as_str().unwrap().contains("retries)"))
        .count();
    assert!(
        retried >= 5,
        "faults were really injected and recovered from: {retried}"
    );
    assert_traps_untouched(&site);
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_that_expire_mid_crawl_are_renewed_and_never_read_as_denied() {
    // A TTL of 12 requests with 8 in flight per identity makes a re-login's proof race the
    // requests that spend the new session, once the demo has its data browser's thousand
    // requests: 40 still expires every session many times over.
    let site = start_site_with(fixed_with(Faults {
        session_ttl: Some(40),
        ..Default::default()
    }))
    .await;
    let (code, report, output, _dir) = run_against(&site, &[]).await;
    assert_eq!(code, 0, "{output}");
    assert_eq!(
        report["snapshot"]["status"], "match",
        "{}",
        report["snapshot"]
    );
    let relogins: u64 = report["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["relogins"].as_u64().unwrap())
        .sum();
    assert!(
        relogins >= 4,
        "sessions really expired and were renewed: {relogins}"
    );
    assert_traps_untouched(&site);
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_that_keep_dying_make_the_run_inconclusive() {
    let site = start_site_with(fixed_with(Faults {
        session_ttl: Some(3),
        ..Default::default()
    }))
    .await;
    let (code, report, output, dir) = run_against(&site, &[]).await;
    assert_eq!(code, 3, "{output}");
    assert_eq!(report["summary"]["verdict"], "inconclusive");
    let reasons = report["summary"]["reasons"].to_string();
    assert!(
        reasons.contains("lost mid-run") || reasons.contains("could not log in"),
        "{reasons}"
    );
    assert_eq!(report["snapshot"]["status"], "skipped");
    assert!(!dir.path().join("snapshots/acme-payroll.snap.new").exists());
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_stops_the_run_and_reports_it_inconclusive() {
    let site = start_site_with(fixed_with(Faults {
        latency_ms: 400,
        ..Default::default()
    }))
    .await;
    let started = Instant::now();
    let (code, report, output, _dir) = run_against(&site, &["--deadline", "1"]).await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "stopped near its deadline"
    );
    assert_eq!(code, 3, "{output}");
    assert_eq!(report["summary"]["verdict"], "inconclusive");
    let reasons = report["summary"]["reasons"].to_string();
    assert!(reasons.contains("the deadline of 1 s passed"), "{reasons}");
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_halfway_leaves_a_valid_inconclusive_report_and_the_snapshot_untouched() {
    let site = start_site_with(fixed_with(Faults {
        latency_ms: 150,
        ..Default::default()
    }))
    .await;
    let dir = dir_with_approved_snapshots();
    let json = dir.path().join("r.json");
    let approved = dir.path().join("snapshots/acme-payroll.snap");
    let before = std::fs::read(&approved).unwrap();
    let mut child = std::process::Command::new(bin())
        .args([
            "run",
            demo_scenario().to_str().unwrap(),
            "--base-url",
            site.base_url.as_str(),
            "--json",
            json.to_str().unwrap(),
        ])
        .current_dir(dir.path())
        .env_remove("CI")
        .envs(demo_env_for(&site))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Halfway: once the crawl has started (its progress line says so) and has had time to
    // gather some answers.
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut lines = Vec::new();
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("lowpriv: crawling") {
                let _ = tx.send(());
            }
            lines.push(line);
        }
        lines.join("\n")
    });
    tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(30)))
        .await
        .unwrap()
        .expect("the crawl started");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr = reader.join().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stdout));
    assert!(stderr.contains("interrupted"), "{stderr}");
    let report = read_json(&json);
    assert_eq!(report["summary"]["verdict"], "inconclusive");
    assert!(
        report["summary"]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("stopped before it finished: interrupted by a signal")
    );
    assert!(
        report["summary"]["requests"].as_u64().unwrap() > 0,
        "it had gathered something"
    );
    assert_eq!(std::fs::read(&approved).unwrap(), before);
    assert!(!dir.path().join("snapshots/acme-payroll.snap.new").exists());
    assert_traps_untouched(&site);
    site.shutdown().await;
}
