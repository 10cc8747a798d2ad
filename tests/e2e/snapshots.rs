//! Insta snapshots of what a person and a machine read after `lowpriv demo` and
//! `lowpriv demo --fixed`: the terminal report (matrix, findings, verdict) and the JSON
//! report's findings, identities and summary. Volatile values (ports, durations, the random
//! runtime secret's fingerprint) are redacted.

use lowpriv::RunResult;
use lowpriv::report::{json, terminal};

use crate::common::*;

fn demo(fixed: bool) -> RunResult {
    run_demo(demo_config(fixed), |_| {}, &fixed_day())
}

fn json_without_observations(result: &RunResult) -> serde_json::Value {
    let mut value: serde_json::Value = serde_json::from_str(&json::to_string(result)).unwrap();
    let observations = value["observations"].as_array().unwrap().len();
    value["observations"] = serde_json::json!(format!("[{observations} observations]"));
    value
}

#[test]
fn flawed_demo_reports() {
    let result = demo(false);
    with_redactions(None, || {
        insta::assert_snapshot!(
            "demo_terminal",
            terminal::render(&result, terminal::Style::default())
        );
        insta::assert_json_snapshot!("demo_json", json_without_observations(&result));
    });
}

#[test]
fn fixed_demo_reports() {
    let result = demo(true);
    with_redactions(None, || {
        insta::assert_snapshot!(
            "demo_fixed_terminal",
            terminal::render(&result, terminal::Style::default())
        );
        insta::assert_json_snapshot!("demo_fixed_json", json_without_observations(&result));
    });
}
