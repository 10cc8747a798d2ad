//! The SARIF 2.1.0 report (`--sarif FILE`), for GitHub code scanning and other SARIF viewers.
//! Hand-written serde structs for the few objects used: lighter than a crate typing all of
//! SARIF, and `tests/e2e/reports.rs` validates the output against the official 2.1.0 schema.
//!
//! Schema: one `run`. `tool.driver` is `lowpriv` with one rule per finding kind (`id` = the
//! kind, a short description and help text; `properties.security-severity` from the most
//! severe group of that kind in this run, which is what GitHub ranks alerts by). One
//! `result` per finding GROUP (`RunResult.groups`: one per cause, a kind on one method and
//! template with one rule or data class), so an IDOR over a hundred records seen by two
//! identities is one code-scanning alert, not two hundred:
//!
//! - `level` from the group's severity (the most severe of its findings): critical, high →
//!   `error`; medium → `warning`; low, info → `note`. The original severity is in
//!   `properties.severity`.
//! - `message.text` = the group's why, then who saw it and over how many URLs.
//! - `locations`: a declared rule's group points at its `[[expect]]` (`rule` is
//!   `file:line:col`); an automatic check's group points at line 1 of the scenario file,
//!   with the request template as a logical location (`GET /admin/users`, kind `resource`).
//! - `partialFingerprints.lowprivGroup/v1` = the group's fingerprint: FNV-1a 64 (16 hex
//!   digits) of kind, rule, data classes, method and template (`judge::group` has the
//!   recipe). No host, port, identity list, count or detail text goes in, so the same flaw
//!   keeps one alert across nightly runs, however many records or identities it reaches.
//! - `properties`: severity, identities, method, template, every URL, the number of
//!   findings, data classes, rule.
//!
//! `run.properties` carries the verdict and its reasons; `invocations[0].executionSuccessful`
//! is false for an inconclusive run.
//!
//! ```json
//! {"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
//!  "runs": [{"tool": {"driver": {"name": "lowpriv", "rules": [{"id": "audience-leak", ...}]}},
//!            "results": [{"ruleId": "audience-leak", "ruleIndex": 2, "level": "error",
//!                         "message": {"text": "dave (company tier) is outside ... (first of 5); seen by dave over 5 URLs"},
//!                         "locations": [{"physicalLocation": {"artifactLocation":
//!                             {"uri": "scenarios/demo.toml"}, "region": {"startLine": 1}},
//!                           "logicalLocations": [{"name": "GET /api/employees/{id}", ...}]}],
//!                         "partialFingerprints": {"lowprivGroup/v1": "5c1d0e6f2a9b3c47"},
//!                         "properties": {"identities": ["dave"], "findings": 5, ...}}]}]}
//! ```

use serde::Serialize;
use serde_json::{Value, json};

use crate::RunResult;
use crate::judge::{FindingGroup, FindingKind, Severity};
use crate::verdict::Verdict;

pub(crate) const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// (short description, help) per kind; an exhaustive match, so a new kind must be described.
fn describe(kind: FindingKind) -> (&'static str, &'static str) {
    match kind {
        FindingKind::RuleViolation => (
            "An identity reached a path a declared [[expect]] denies it",
            "The scenario's [[expect]] at this location says who may reach these paths; this identity is not among them but got the content. Fix the Site's access check for the path, or widen the rule if the access is intended.",
        ),
        FindingKind::DataExposure => (
            "An identity saw a data class a declared [[expect]] keeps from it",
            "The scenario's data rule says who may see this data class; this identity saw it in an allowed answer. Remove the field from the response for this identity, or widen the rule if intended.",
        ),
        FindingKind::AudienceLeak => (
            "An identity outside the Site's audience reached a non-public path",
            "The Site is shared with an audience (site.audience); an identity of a tier outside it got an allowed answer on a path that is not listed in site.public. Restrict the path to the audience, or list it as public.",
        ),
        FindingKind::UnlinkedReachable => (
            "An identity reached content it was never shown",
            "The identity was never linked to this request, but replaying it returned the same content a higher-ranked identity got: hidden, not protected. Add an access check, or declare who may reach it with an [[expect]].",
        ),
        FindingKind::SecretExposed => (
            "A secret appears in a response",
            "A runtime secret's value (a [data] env class) or a secret-shaped value appears in what this identity got. Remove it from the response and rotate the secret.",
        ),
        FindingKind::CrossIdentityData => (
            "One identity's canary shows up for another",
            "A canary planted in the records of one identity (a [data] text class with belongs_to) appeared in another identity's answer, and no rule allows it: records of one user leak to another (often an IDOR).",
        ),
        FindingKind::InvertedPrivilege => (
            "A lower-ranked identity reaches what a higher-ranked one is denied",
            "Ranks order the identities' in-app privilege; here a lower-ranked identity is allowed where a higher-ranked one is refused, which usually means a role check is wrong. Declare the intended access with an [[expect]] if ranks do not apply.",
        ),
        FindingKind::SourceBypass => (
            "An identity sees on the Site data its source system does not give it",
            "The scenario's [[source]] was probed as this identity: the source refused it this data class, or returned other records, yet the Site showed it. The Site reads the source with its own credential and shows what that credential may see; filter what it shows by the viewer's own permission in the source.",
        ),
        FindingKind::ActionExposure => (
            "An identity is offered a write-capable action it is not admitted to",
            "A form or a script call that changes data is shown to this identity in a page or a script, and the scenario's [[expect]] actions rule does not admit it. An operation only listed in an OpenAPI document never counts: API documents list every operation to whoever reads them. Hide the action from this identity and check that the endpoint refuses it.",
        ),
        FindingKind::ForbiddenAction => (
            "An action the scenario forbids is offered",
            "The scenario marks these actions forbidden: no identity may be shown them in a page or a script (an operation only listed in an OpenAPI document does not count). Remove the action from the Site.",
        ),
        FindingKind::UnauthorizedWrite => (
            "An identity not admitted to an action got past its authorization check",
            "A write probe (an empty body) was answered 400/422 (or 2xx), not 401/403, while another identity's probe of the same action was refused: the endpoint checks who asks, let this identity through, and only the body stopped it. A valid body would have been acted on. When every identity gets 400/422 the endpoint validates before it authorizes and no finding is raised. Add the missing authorization check.",
        ),
        FindingKind::GraphqlSchemaWider => (
            "A less privileged identity's GraphQL schema has what a more privileged one's has not",
            "Introspection as each identity ([crawl] graphql) told this identity about types, fields or root operations that an identity including it was not told about: one of the two schemas is not the one its role should get. Check the schema each role is served, and that the resolvers behind the extra elements check who asks.",
        ),
        FindingKind::ReviewOverdue => (
            "The Site's access review is overdue",
            "site.last_review plus site.review_every_days is in the past: review who can see what and update last_review.",
        ),
        FindingKind::SiteExpired => (
            "The Site is past its expiry date and still reachable",
            "site.expires is in the past but identities still reach non-public paths: retire the Site or extend its expiry after a review.",
        ),
        FindingKind::LoginFailed => (
            "An identity could not log in: the run is inconclusive",
            "Without this identity's session part of the access matrix is unknown, so the run cannot pass. Check the credentials and the login settings in the scenario.",
        ),
        FindingKind::Inconclusive => (
            "Part of the access matrix is unknown: the run is inconclusive",
            "A request ended in error, a crawl was cut short, or an [[expect]] matched no request, so the run cannot pass. See the message for which.",
        ),
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's scale: over 9.0 critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low.
fn security_severity(severity: Severity) -> Option<&'static str> {
    match severity {
        Severity::Critical => Some("9.5"),
        Severity::High => Some("8.0"),
        Severity::Medium => Some("5.5"),
        Severity::Low => Some("2.0"),
        Severity::Info => None,
    }
}

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Value,
    automation_details: Value,
    invocations: Vec<Value>,
    results: Vec<Value>,
    properties: Value,
}

pub fn render(result: &RunResult) -> String {
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![run(result)],
    };
    // Plain data with string keys: serializing cannot fail.
    let mut text =
        serde_json::to_string_pretty(&log).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    text.push('\n');
    text
}

fn run(result: &RunResult) -> Run {
    let worst = |kind| {
        super::groups(result)
            .iter()
            .filter(|g| g.kind == kind)
            .map(|g| g.severity)
            .max()
    };
    let scenario_uri = uri(&result.scenario);
    let results = super::groups(result)
        .iter()
        .map(|g| group_result(result, g, &scenario_uri))
        .collect();
    let summary = &result.summary;
    Run {
        tool: tool(result.lowpriv_version, worst),
        // One category per Site, so code scanning keeps each Site's alerts apart.
        automation_details: json!({"id": format!("lowpriv/{}/", result.site.name)}),
        invocations: vec![json!({
            "executionSuccessful": summary.verdict != Verdict::Inconclusive,
        })],
        results,
        properties: json!({
            "site": result.site.name,
            "baseUrl": result.site.base_url,
            "verdict": summary.verdict.as_str(),
            "reasons": summary.reasons,
            "failOn": summary.fail_on.as_str(),
        }),
    }
}

/// `tool`: `lowpriv` with one rule per finding kind, always all of them in `FindingKind::ALL`
/// order, so a rule's index and id are the same in every run (the fleet SARIF relies on it).
/// `worst` gives the most severe group of a kind, for `security-severity`.
pub(crate) fn tool(version: &str, worst: impl Fn(FindingKind) -> Option<Severity>) -> Value {
    let rules: Vec<Value> = FindingKind::ALL
        .iter()
        .map(|&kind| {
            let (short, help) = describe(kind);
            let mut properties = json!({"tags": ["security", "access-control"]});
            if let Some(score) = worst(kind).and_then(security_severity) {
                properties["security-severity"] = json!(score);
            }
            json!({
                "id": kind.as_str(),
                "name": kind.as_str(),
                "shortDescription": {"text": short},
                "fullDescription": {"text": short},
                "help": {"text": help},
                "properties": properties,
            })
        })
        .collect();
    json!({"driver": {
        "name": "lowpriv",
        "version": version,
        "semanticVersion": version,
        "rules": rules,
    }})
}

fn group_result(result: &RunResult, group: &FindingGroup, scenario_uri: &str) -> Value {
    let rule_index = FindingKind::ALL.iter().position(|k| *k == group.kind);
    // `rule` is `file:line:col`; the file may itself contain colons, so split from the
    // right.
    let declared = group.rule.as_deref().and_then(|rule| {
        let mut parts = rule.rsplitn(3, ':');
        let column: u64 = parts.next()?.parse().ok()?;
        let line: u64 = parts.next()?.parse().ok()?;
        let file = parts.next()?;
        Some((uri(file), line.max(1), column.max(1)))
    });
    let physical = match declared {
        Some((file, line, column)) => json!({
            "artifactLocation": {"uri": file},
            "region": {"startLine": line, "startColumn": column},
        }),
        None => json!({
            "artifactLocation": {"uri": scenario_uri},
            "region": {"startLine": 1},
        }),
    };
    let mut location = json!({"physicalLocation": physical});
    if let (Some(method), Some(template)) = (&group.method, &group.template) {
        location["logicalLocations"] = json!([{
            "name": format!("{method} {template}"),
            "fullyQualifiedName": format!("{}/{method} {template}", result.site.name),
            "kind": "resource",
        }]);
    }
    let mut message = group.why.clone();
    if !group.identities.is_empty() {
        message.push_str(&format!("; seen by {}", group.identities.join(", ")));
        if group.urls.len() > 1 {
            message.push_str(&format!(" over {} URLs", group.urls.len()));
        }
    }
    let mut properties = json!({
        "severity": group.severity.as_str(),
        "identities": group.identities,
        "findings": group.findings,
    });
    for (key, value) in [
        ("method", &group.method),
        ("template", &group.template),
        ("rule", &group.rule),
    ] {
        if let Some(value) = value {
            properties[key] = json!(value);
        }
    }
    if !group.urls.is_empty() {
        properties["urls"] = json!(group.urls);
    }
    if !group.data.is_empty() {
        properties["data"] = json!(group.data);
    }
    let mut value = json!({
        "ruleId": group.kind.as_str(),
        "level": level(group.severity),
        "message": {"text": message},
        "locations": [location],
        "partialFingerprints": {"lowprivGroup/v1": group.fingerprint},
        "properties": properties,
    });
    if let Some(index) = rule_index {
        value["ruleIndex"] = json!(index);
    }
    value
}

/// A file path as a relative URI reference (`/` separators, the few characters that would
/// change its meaning percent-encoded), which is what code scanning matches against the
/// repository's files.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.replace('\\', "/").chars() {
        match c {
            ' ' => out.push_str("%20"),
            '%' => out.push_str("%25"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn uris_keep_paths_and_encode_what_would_change_them() {
        assert_eq!(super::uri("scenarios/demo.toml"), "scenarios/demo.toml");
        assert_eq!(super::uri("a b\\c#d.toml"), "a%20b/c%23d.toml");
    }
}
