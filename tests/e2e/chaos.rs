//! The fault matrix: for each kind of chaos the demo Site can inject, a run of the demo
//! scenario (against the fixed Site) either recovers — and then every approved cell was
//! really observed — or ends inconclusive naming the fault. Never a pass with missing
//! cells, never a panic, never past the deadline; the traps stay untouched throughout.
//!
//! Each test prints its row of the matrix (`cargo test --test e2e chaos -- --nocapture`):
//! fault · injected · recovered (retries, re-logins) · outcome.

use std::time::{Duration, Instant};

use crate::common::*;
use lowpriv_demo::{Chaos, DemoConfig, Faults};

/// What a kind must end in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    /// Exit 0, verdict pass, the approved snapshot matched cell for cell.
    Recovers,
    /// Every approved cell observed; the only drift is the trap's own template.
    RecoversWithTrap(&'static str),
    /// Exit 3, inconclusive, a finding naming this symptom.
    Inconclusive(&'static str),
}

async fn row(name: &str, faults: Faults, expect: Expect) {
    let site = start_site_with(DemoConfig {
        fixed: true,
        faults,
        ..Default::default()
    })
    .await;
    let dir = dir_with_approved_snapshots();
    // Timeouts shorter than the chaos's stalls (3 s), so slow faults really time out.
    let scenario = dir.path().join("chaos.toml");
    std::fs::write(
        &scenario,
        std::fs::read_to_string(demo_scenario())
            .unwrap()
            .replace("timeout_secs = 10", "timeout_secs = 2"),
    )
    .unwrap();
    let json = dir.path().join("r.json");
    let started = Instant::now();
    let out = lowpriv(
        vec![
            "run".into(),
            scenario.display().to_string(),
            "--base-url".into(),
            site.base_url.to_string(),
            "--json".into(),
            json.display().to_string(),
            "--snapshots".into(),
            dir.path().join("snapshots").display().to_string(),
            "--deadline".into(),
            "90".into(),
        ],
        demo_env_for(&site),
    )
    .await;
    let elapsed = started.elapsed();
    let code = out.status.code().unwrap_or(-1);
    let stderr = text(&out.stderr);
    let report = read_json(&json);
    let stats = site.stats();
    site.shutdown().await;

    let observations = report["observations"].as_array().unwrap();
    let retried = observations
        .iter()
        .filter(|o| o["reason"].as_str().unwrap_or("").contains("retries)"))
        .count();
    let relogins: u64 = report["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["relogins"].as_u64().unwrap_or(0))
        .sum();
    let verdict = report["summary"]["verdict"].as_str().unwrap().to_string();
    println!(
        "| {name:<14} | {:>8} | {:>3} retried, {:>2} re-logins | exit {code}, {verdict:<12} | {:>5.1} s |",
        stats.faults_injected,
        retried,
        relogins,
        elapsed.as_secs_f64()
    );

    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    assert!(
        elapsed < Duration::from_secs(120),
        "{name}: past the deadline"
    );
    assert_eq!(
        (
            stats.logout_hits,
            stats.delete_hits,
            stats.foreign_credentials
        ),
        (0, 0, 0)
    );
    assert!(
        stats.faults_injected > 0 || relogins > 0,
        "{name}: the fault was really injected"
    );
    let snapshot = &report["snapshot"];
    match expect {
        Expect::Recovers => {
            assert_eq!(code, 0, "{name}: {}", report["summary"]["reasons"]);
            assert_eq!(verdict, "pass");
            assert_eq!(
                snapshot["status"], "match",
                "{name}: every approved cell observed"
            );
        }
        Expect::RecoversWithTrap(template) => {
            assert_ne!(
                verdict, "inconclusive",
                "{name}: {}",
                report["summary"]["reasons"]
            );
            assert!(
                snapshot["removed"].as_array().unwrap().is_empty(),
                "{name}: {snapshot}"
            );
            for added in snapshot["added"].as_array().unwrap() {
                assert!(
                    added.as_str().unwrap().contains(template),
                    "{name}: {added}"
                );
            }
            // The trap's further URLs are sampled out (counted, not sent, not holes).
            let sampled_out = report["coverage"]["sampled_out"].as_u64().unwrap_or(0);
            assert!(sampled_out > 0, "{name}: the trap was bounded and said so");
            let findings_at_or_above = report["summary"]["findings_at_or_above_fail_on"].as_u64();
            assert_eq!(
                findings_at_or_above,
                Some(0),
                "{name}: only drift, no finding"
            );
        }
        Expect::Inconclusive(symptom) => {
            assert_eq!(code, 3, "{name}");
            assert_eq!(verdict, "inconclusive");
            let named = report["findings"].as_array().unwrap().iter().any(|f| {
                f["kind"] == "inconclusive" && f["detail"].as_str().unwrap().contains(symptom)
            });
            assert!(named, "{name}: a finding names `{symptom}`");
            assert_eq!(snapshot["status"], "skipped");
        }
    }
}

fn chaos(kind: Chaos) -> Faults {
    Faults {
        chaos: vec![kind],
        seed: 7,
        ..Default::default()
    }
}

macro_rules! fault_rows {
    ($($test:ident: $kind:expr => $expect:expr;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            row($kind.as_str(), chaos($kind), $expect).await;
        }
    )*};
}

fault_rows! {
    server_errors_are_retried: Chaos::ServerError => Expect::Recovers;
    resets_are_retried: Chaos::Reset => Expect::Recovers;
    slow_headers_time_out_and_are_retried: Chaos::SlowHeaders => Expect::Recovers;
    slow_bodies_time_out_and_are_retried: Chaos::SlowBody => Expect::Recovers;
    throttling_is_waited_out: Chaos::Throttle => Expect::Recovers;
    truncated_bodies_are_retried: Chaos::Truncated => Expect::Recovers;
    invalid_utf8_changes_nothing: Chaos::InvalidUtf8 => Expect::Recovers;
    deep_html_changes_nothing: Chaos::DeepHtml => Expect::Recovers;
    an_endless_calendar_is_bounded: Chaos::Calendar => Expect::RecoversWithTrap("/calendar/{date}");
    ever_new_queries_are_bounded: Chaos::QueryTrap => Expect::RecoversWithTrap("/search?q={q}");
    oversized_bodies_are_inconclusive: Chaos::Oversized => Expect::Inconclusive("max_body_bytes");
    gzip_bombs_are_inconclusive: Chaos::GzipBomb => Expect::Inconclusive("max_body_bytes");
    redirect_loops_are_inconclusive: Chaos::RedirectLoop => Expect::Inconclusive("redirect loop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expiring_mid_crawl_are_renewed() {
    row(
        Chaos::SessionExpiry.as_str(),
        chaos(Chaos::SessionExpiry),
        Expect::Recovers,
    )
    .await;
}

#[test]
fn every_chaos_kind_has_a_row() {
    // The rows above name each kind once; a new kind without a row fails here.
    let source = include_str!("chaos.rs");
    for kind in Chaos::ALL {
        let variant = format!("{kind:?}");
        assert!(
            source.contains(&format!("Chaos::{variant}")),
            "{variant} has no row"
        );
    }
}
