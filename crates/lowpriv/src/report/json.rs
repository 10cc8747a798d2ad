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
//!   "unfilled_templates": ["/api/employees/{param}"],
//!   "write_probes": {"probes": [{"identity": "carol", "method": "POST",
//!                                "url": "http://…/team/compensation", "status": 422,
//!                                "answer": "authorized-to-attempt", "reason": "422"}],
//!                    "not_sent": [{"method": "DELETE", "url": "…", "why": "…"}]},
//!   "action_matrix": {"identities": ["anonymous", "carol", "alice"],
//!                     "rows": [{"method": "POST", "template": "/team/compensation",
//!                               "kind": "write-capable", "rule": "scenarios/demo.toml:120:1",
//!                               "fields": ["amount", "csrf", "employee"],
//!                               "cells": [{"identity": "anonymous", "seen_in": [], "probe": "refused"},
//!                                         {"identity": "carol", "seen_in": ["form"],
//!                                          "probe": "authorized-to-attempt"}, …]}]},
//!   "sources": [{"name": "hr-api", "base_url": "http://127.0.0.1:8081/",
//!                "identities": [{"identity": "carol", "login": "bearer", "logged_in": true}],
//!                "observations": [{"identity": "carol", "method": "GET",
//!                                  "url": "http://127.0.0.1:8081/employees", "outcome": "allowed",
//!                                  "data": {"email": {…}}, …}]}],
//!   "graphql": {"endpoint": "/graphql",
//!               "introspection": [{"identity": "carol", "state": "schema", "status": 200,
//!                                  "reason": "200", "types": 3, "fields": 9}, …],
//!               "diff": [{"identity": "bob", "other": "carol",
//!                         "only_in_identity": ["field Employee.salary", "type Compensation"]}],
//!               "queries": [{"field": "employees", "document": "query { employees { id name } }",
//!                            "url": "http://…/graphql?query.employees=",
//!                            "template": "/graphql?query.employees={query.employees}",
//!                            "via": "graphql", "shown_to": ["carol", "bob"],
//!                            "answers": [{"identity": "carol", "status": 200, "answer": "data"}]}],
//!               "not_queried": [], "failures": []},
//!   "expectations": [{"location": "scenarios/demo.toml:120:1", "kind": "actions",
//!                     "paths": ["/team/compensation"], "allow": ["alice", "bob"],
//!                     "action_kind": "write"}],
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
//! `graphql` is left out unless the scenario sets `[crawl] graphql`.
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
//! `write_probes` (`[crawl] probe_writes`, empty when off): `probes`, one per (action in
//! `write_scope`, identity), by URL, method, then identity in scenario order; `answer` is
//! `refused` (401, 403, the login page, a deny marker), `authorized-to-attempt` (400, 422:
//! past the authorization check, stopped by the empty body), `accepted` (2xx), `unclear` or
//! `error`; `status` is null when no answer came. `not_sent`: actions in scope not sent, and
//! why (a `DELETE`, an unfilled `{param}`).
//!
//! `action_matrix`: one row per action (method and path template; by template, then method),
//! `cells` one per column of `identities` (the identities whose sessions were usable, in
//! scenario order). `kind` is `read-only` (a GET form no rule declares), `write-capable`
//! (any other method, or a `kind = "write"` rule), `confirmation` or `forbidden` (from the
//! first `actions` rule in file order matching the path, whose location is `rule`).
//! `seen_in` lists where the identity came across it (`form`, `js`: shown; `openapi`: only
//! documented, which never raises a finding); `probe`, when a write probe was sent, is the
//! answer or `undecided` (the identity got past but nobody was refused, so the probe says
//! nothing about who may). The `.snap` file's `ACTION` lines record the same cells.
//!
//! `sources`: each `[[source]]` in file order: its `identities` (scenario order) with the
//! login kind used there (`none` when sent without credentials), whether it worked and why
//! not; its `observations`, ordinary observations (the same fields as `observations`), one
//! per (probe, identity) by probe in file order, none for an identity whose login failed.
//!
//! `expectations[].action_kind` (`write`, `confirm`, `forbidden`) is set on `actions` rules
//! only. The finding kinds of issue 17, `source-bypass`, `action-exposure`,
//! `forbidden-action` and `unauthorized-write`, are added in schema 1 without a bump: no
//! existing field changed meaning.
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

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// `schema/report.schema.json`'s complaints about `report` (none when valid).
    fn schema_errors(report: &Value) -> Vec<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../schema/report.schema.json");
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap();
        validator
            .iter_errors(report)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect()
    }

    /// Write probes, the action matrix, sources and an actions rule validate; a cell with an
    /// unknown probe answer, or a field the schema does not know, does not.
    #[test]
    fn actions_probes_and_sources_validate_against_the_schema() {
        let report: Value =
            serde_json::from_str(&super::to_string(&crate::report::fixture::result(true))).unwrap();
        assert_eq!(schema_errors(&report), Vec::<String>::new());
        let row = &report["action_matrix"]["rows"][1];
        assert_eq!(row["template"], "/team/compensation");
        assert_eq!(row["cells"][1]["probe"], "authorized-to-attempt");
        assert_eq!(report["expectations"][0]["action_kind"], "write");
        assert_eq!(report["sources"][0]["identities"][2]["logged_in"], false);

        let mut broken = report.clone();
        broken["action_matrix"]["rows"][1]["cells"][1]["probe"] = "perhaps".into();
        assert!(!schema_errors(&broken).is_empty());
        let mut broken = report.clone();
        broken["write_probes"]["probes"][0]["extra"] = 1.into();
        assert!(!schema_errors(&broken).is_empty());
        let mut broken = report;
        broken["expectations"][0]
            .as_object_mut()
            .unwrap()
            .remove("action_kind");
        assert!(!schema_errors(&broken).is_empty());
    }
}
