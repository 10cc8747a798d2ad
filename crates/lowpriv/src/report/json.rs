//! The JSON report (`--json FILE`), schema version [`crate::SCHEMA_VERSION`].
//!
//! One object:
//!
//! ```json
//! {
//!   "schema": 1,
//!   "lowpriv_version": "0.1.0",
//!   "scenario": "scenarios/demo.toml",
//!   "site": {"name": "acme-payroll", "base_url": "http://127.0.0.1:41234/", "audience": "team", ...},
//!   "identities": [{"name": "carol", "tier": "team", "rank": 10, "login": "form",
//!                   "logged_in": true, "crawled": 14, "replayed": 9}],
//!   "observations": [{"identity": "carol", "method": "GET", "url": "http://…/api/employees/1",
//!                     "template": "/api/employees/{id}", "status": 200, "outcome": "allowed",
//!                     "reason": "200", "data": {"salary": {"kind": "json_keys", "count": 2,
//!                     "examples": ["salary: <number, 6 digits>"]}}, "shown": false, ...}],
//!   "actions": [{"identity": "alice", "method": "POST", "url": "…", "source": "form", "fields": []}],
//!   "findings": [{"kind": "data-exposure", "severity": "high", "identity": "carol",
//!                 "method": "GET", "url": "…", "template": "/api/employees/{id}",
//!                 "detail": "…", "rule": "scenarios/demo.toml:84:1", "data": ["salary"]}],
//!   "summary": {"verdict": "fail", "reasons": ["…"], "fail_on": "high", "requests": 120,
//!               "outcomes": {"allowed": 40, ...}, "findings": {"high": 12, ...}, "duration_ms": 812}
//! }
//! ```
//!
//! Values are redacted where they are written: data examples carry a shape or a prefix and a
//! length, never a value; no credential, cookie or secret value is ever part of a `RunResult`.

use std::path::Path;

use crate::RunResult;

pub fn to_string(result: &RunResult) -> String {
    // Serializing plain data (strings, numbers, maps with string keys) cannot fail.
    serde_json::to_string_pretty(result).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// Writes the report atomically, so a reader (or a crash) never sees half a report.
pub fn write(result: &RunResult, path: &Path) -> std::io::Result<()> {
    let mut text = to_string(result);
    text.push('\n');
    crate::atomic_file::write(path, text.as_bytes())
}
