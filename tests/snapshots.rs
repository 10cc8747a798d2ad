//! Insta snapshots of what a person and a machine read after `lowpriv demo` and
//! `lowpriv demo --fixed`: the terminal report (matrix, findings, verdict) and the JSON
//! report's findings, identities and summary. Volatile values (ports, durations, the random
//! runtime secret's fingerprint) are redacted.

use lowpriv::report::{json, terminal};
use lowpriv::{RunOptions, RunResult};

fn demo(fixed: bool) -> RunResult {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let options = RunOptions {
        // Review and expiry dates are judged against a fixed day, so the snapshot does not age.
        today: Some(jiff::civil::date(2026, 11, 25)),
        ..RunOptions::default()
    };
    let (result, stats) = runtime
        .block_on(lowpriv_demo::run(fixed, &options))
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

fn redact(text: &str) -> String {
    let port = regex::Regex::new(r"127\.0\.0\.1:\d+").unwrap();
    let duration = regex::Regex::new(r#""duration_ms": \d+"#).unwrap();
    let fingerprint = regex::Regex::new(r#""fingerprint": "[0-9a-f]{16}""#).unwrap();
    let text = port.replace_all(text, "127.0.0.1:[port]");
    let text = duration.replace_all(&text, r#""duration_ms": "[duration]""#);
    fingerprint
        .replace_all(&text, r#""fingerprint": "[hash]""#)
        .into_owned()
}

fn json_without_observations(result: &RunResult) -> String {
    let mut value: serde_json::Value = serde_json::from_str(&json::to_string(result)).unwrap();
    let observations = value["observations"].as_array().unwrap().len();
    value["observations"] = serde_json::json!(format!("[{observations} observations]"));
    redact(&serde_json::to_string_pretty(&value).unwrap())
}

#[test]
fn flawed_demo_reports() {
    let result = demo(false);
    insta::assert_snapshot!(
        "demo_terminal",
        redact(&terminal::render(&result, terminal::Style::default()))
    );
    insta::assert_snapshot!("demo_json", json_without_observations(&result));
}

#[test]
fn fixed_demo_reports() {
    let result = demo(true);
    insta::assert_snapshot!(
        "demo_fixed_terminal",
        redact(&terminal::render(&result, terminal::Style::default()))
    );
    insta::assert_snapshot!("demo_fixed_json", json_without_observations(&result));
}
