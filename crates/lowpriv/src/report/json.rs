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
//!   "groups": [{"kind": "data-exposure", "severity": "high", "rule": "scenarios/demo.toml:84:1",
//!               "data": ["salary"], "method": "GET", "template": "/api/employees/{id}",
//!               "identities": ["carol", "dave"], "urls": ["http://…/api/employees/1", "…"],
//!               "findings": 10, "why": "carol sees `salary` … (first of 10)",
//!               "fingerprint": "85842c5f46e74174"}],
//!   "summary": {"verdict": "fail", "reasons": ["…"], "fail_on": "high",
//!               "findings_at_or_above_fail_on": 38, "groups_at_or_above_fail_on": 12,
//!               "requests": 120, "outcomes": {"allowed": 40, ...}, "findings": {"high": 12, ...},
//!               "duration_ms": 812}
//! }
//! ```
//!
//! `findings` is the complete list: one per identity and URL. `groups` holds the same
//! findings by cause (`judge::group`): one per kind, rule, data class (for the kinds about a
//! class: `data-exposure`, `secret-exposed`, `cross-identity-data`), method and template,
//! most severe first, then by kind and template. `identities` and `urls` are sorted; `data`
//! lists every class involved; `severity` is the most severe of its findings; `findings`
//! counts them (the counts sum to `findings`' length); `why` is its first finding's detail
//! and how many it stands for. A finding without a template (a failed login, an overdue
//! review, a stopped run) is a group of its own, with `method` and `template` null.
//! `fingerprint` (16 hex digits) hashes kind, rule, data class, method and template only,
//! so the same flaw keeps it across runs: SARIF's `partialFingerprints` carry it. Added in
//! schema 1 without a bump: nothing existing changed meaning.
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
