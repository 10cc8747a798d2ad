//! Findings grouped by cause: one flaw, one group. An IDOR over a hundred records, seen by
//! two identities, is two hundred findings and ONE group, so a person (and code scanning)
//! reads six flaws, not sixteen hundred lines.
//!
//! Input: the judge's findings, sorted. Output: [`FindingGroup`]s, built once by
//! [`crate::judge::evaluate`] and carried in `Judgement::groups` and `RunResult.groups`; every
//! report lays them out and none regroups.
//!
//! Invariants:
//! - a group is (kind, rule, data classes, method, template): what is wrong and where, not
//!   who saw it or on which record. Its identities and URLs are what it was seen over. The
//!   data classes are part of the cause only for the kinds that are about a class
//!   ([`data_is_the_cause`]); elsewhere (an access rule broken, an audience leak) they are
//!   what the answers happened to carry, and the group lists them all;
//! - a finding without a template (a failed login, a review date, a stopped run) is a group
//!   of its own: nothing says two of them have one cause;
//! - every finding is in exactly one group, so `findings` summed over the groups is the
//!   number of findings;
//! - sorted by severity (most severe first), kind, template, then the rest of the key, so
//!   the order never depends on the crawl's;
//! - the fingerprint hashes the key only ([`fingerprint`]), so it is the same on every run
//!   of the same flaw, whatever port the Site listens on, who saw it, or how many records.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::finding::{Finding, FindingKind, Severity};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FindingGroup {
    pub kind: FindingKind,
    /// The most severe of its findings.
    pub severity: Severity,
    /// The `[[expect]]` the findings come from (`file:line:col`), for declared rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The data classes involved: the cause's (a declared data rule's class, a secret, a
    /// canary), or, for the other kinds, every class the findings' answers carried.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<String>,
    pub method: Option<String>,
    pub template: Option<String>,
    /// Who the findings are about, sorted.
    pub identities: Vec<String>,
    /// Where they were seen, sorted.
    pub urls: Vec<String>,
    /// How many findings the group holds.
    pub findings: usize,
    /// One line: the first finding's why, and how many it stands for.
    pub why: String,
    /// A hash of the group's key (see [`fingerprint`]): 16 hex digits.
    pub fingerprint: String,
    /// The `[[accept]]` its findings are under, while it holds: accepted findings are a group
    /// of their own, in every report but out of the verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<super::Accepted>,
}

impl FindingGroup {
    /// Whether `finding` belongs to this group.
    pub fn contains(&self, finding: &Finding) -> bool {
        finding.kind == self.kind
            && finding.accepted == self.accepted
            && finding.rule == self.rule
            && (!data_is_the_cause(self.kind) || finding.data == self.data)
            && finding.method == self.method
            && finding.template == self.template
            && match &self.template {
                Some(_) => true,
                // A site-wide group holds one finding: its identity and why tell it apart.
                None => {
                    finding.identity.as_ref() == self.identities.first()
                        && self.why == finding.detail
                }
            }
    }
}

/// Whether a kind's data classes say what is wrong (a group per class), rather than what
/// the answer happened to carry. Exhaustive, so a new kind must say which.
fn data_is_the_cause(kind: FindingKind) -> bool {
    match kind {
        FindingKind::DataExposure
        | FindingKind::SecretExposed
        | FindingKind::CrossIdentityData
        | FindingKind::SourceBypass => true,
        FindingKind::RuleViolation
        | FindingKind::AudienceLeak
        | FindingKind::UnlinkedReachable
        | FindingKind::InvertedPrivilege
        | FindingKind::ActionExposure
        | FindingKind::ForbiddenAction
        | FindingKind::UnauthorizedWrite
        | FindingKind::GraphqlSchemaWider
        | FindingKind::ReviewOverdue
        | FindingKind::SiteExpired
        | FindingKind::LoginFailed
        | FindingKind::Inconclusive => false,
    }
}

/// What makes two findings one group.
type Key = (
    FindingKind,
    Option<String>,
    Vec<String>,
    Option<String>,
    Option<String>,
    // Accepted or not: a reviewed cause is a group of its own.
    Option<String>,
);

/// Groups `findings` by cause; see the module docs for the invariants.
pub fn group(findings: &[Finding]) -> Vec<FindingGroup> {
    let mut by_key: BTreeMap<Key, Vec<&Finding>> = BTreeMap::new();
    let mut site_wide: Vec<&Finding> = Vec::new();
    for finding in findings {
        if finding.template.is_none() {
            site_wide.push(finding);
            continue;
        }
        let data = if data_is_the_cause(finding.kind) {
            finding.data.clone()
        } else {
            Vec::new()
        };
        let key = (
            finding.kind,
            finding.rule.clone(),
            data,
            finding.method.clone(),
            finding.template.clone(),
            finding.accepted.as_ref().map(|a| a.rule.clone()),
        );
        by_key.entry(key).or_default().push(finding);
    }
    let mut groups: Vec<FindingGroup> = by_key
        .into_values()
        .map(|members| build(&members))
        .chain(site_wide.into_iter().map(|f| build(&[f])))
        .collect();
    groups.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.kind.cmp(&b.kind))
            .then(a.template.cmp(&b.template))
            .then(a.method.cmp(&b.method))
            .then(a.rule.cmp(&b.rule))
            .then(a.data.cmp(&b.data))
            .then(a.identities.cmp(&b.identities))
            .then(a.why.cmp(&b.why))
    });
    // Site-wide groups of one kind and identity (a session lost and a crawl cut short) hash
    // alike: the later one in the sorted order gets an ordinal, which is stable as long as
    // the same findings recur.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for group in &mut groups {
        let n = seen.entry(group.fingerprint.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            group.fingerprint = hash(&[&group.fingerprint, &n.to_string()]);
        }
    }
    groups
}

/// `members` is non-empty and sorted as the judge sorts findings.
fn build(members: &[&Finding]) -> FindingGroup {
    let first = members[0];
    let identities: BTreeSet<&String> =
        members.iter().filter_map(|f| f.identity.as_ref()).collect();
    let urls: BTreeSet<&String> = members.iter().filter_map(|f| f.url.as_ref()).collect();
    let mut why = first.detail.clone();
    if members.len() > 1 {
        why.push_str(&format!(" (first of {})", members.len()));
    }
    let identities: Vec<String> = identities.into_iter().cloned().collect();
    FindingGroup {
        kind: first.kind,
        severity: members
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(first.severity),
        rule: first.rule.clone(),
        data: first.data.clone(),
        method: first.method.clone(),
        template: first.template.clone(),
        fingerprint: fingerprint(first, &identities),
        accepted: first.accepted.clone(),
        identities,
        urls: urls.into_iter().cloned().collect(),
        findings: members.len(),
        why,
    }
}

/// The fingerprint recipe: FNV-1a 64 over `kind`, `rule`, the data classes (joined by `,`;
/// only where they are the cause, else empty), `method` and `template`, separated by
/// U+001F. Nothing that moves between runs of the same flaw goes
/// in: no host or port (URLs are left out), no identity list (who saw it may grow), no count,
/// no detail text (it carries numbers and names). A site-wide group has no template, so its
/// one identity (a failed login's) tells two apart; it is not a list, so it cannot reorder.
/// Code scanning keeps one alert per fingerprint across nightly runs; moving the `[[expect]]`
/// to another line of the scenario changes `rule`, and with it the fingerprint.
fn fingerprint(first: &Finding, identities: &[String]) -> String {
    let data = if data_is_the_cause(first.kind) {
        first.data.join(",")
    } else {
        String::new()
    };
    let site_wide = match &first.template {
        Some(_) => "",
        None => identities.first().map_or("", String::as_str),
    };
    hash(&[
        first.kind.as_str(),
        first.rule.as_deref().unwrap_or(""),
        &data,
        first.method.as_deref().unwrap_or(""),
        first.template.as_deref().unwrap_or(""),
        site_wide,
    ])
}

/// FNV-1a, 64 bits: stable across runs, platforms and Rust versions, unlike the std hasher.
/// Not a security hash; it only needs to keep a run's few groups apart.
fn hash(parts: &[&str]) -> String {
    let bytes = parts.iter().enumerate().flat_map(|(i, part)| {
        let separator: &[u8] = if i == 0 { b"" } else { b"\x1f" };
        separator.iter().chain(part.as_bytes()).copied()
    });
    format!("{:016x}", crate::fnv::fnv1a64(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(kind: FindingKind, identity: &str, template: &str, url: &str) -> Finding {
        Finding {
            kind,
            severity: Severity::High,
            identity: Some(identity.to_string()),
            method: Some("GET".to_string()),
            url: Some(format!("http://127.0.0.1:4000{url}")),
            template: Some(template.to_string()),
            detail: format!("{identity} got {url}"),
            rule: None,
            data: Vec::new(),
            accepted: None,
        }
    }

    fn idor() -> Vec<Finding> {
        let mut findings = Vec::new();
        for identity in ["carol", "dave"] {
            for id in 1..=5 {
                let mut f = finding(
                    FindingKind::DataExposure,
                    identity,
                    "/api/employees/{id}",
                    &format!("/api/employees/{id}"),
                );
                f.rule = Some("scenarios/demo.toml:92:1".to_string());
                f.data = vec!["salary".to_string()];
                findings.push(f);
            }
        }
        findings
    }

    #[test]
    fn an_idor_over_many_records_and_identities_is_one_group() {
        let groups = group(&idor());
        assert_eq!(groups.len(), 1, "{groups:#?}");
        let g = &groups[0];
        assert_eq!(g.identities, ["carol", "dave"]);
        assert_eq!(g.urls.len(), 5);
        assert_eq!(g.findings, 10);
        assert_eq!(g.why, "carol got /api/employees/1 (first of 10)");
        assert_eq!(g.data, ["salary"]);
    }

    /// The same-shape precision cases: what differs in cause stays apart.
    #[test]
    fn two_templates_or_two_kinds_stay_two_groups() {
        let templates = [
            finding(
                FindingKind::RuleViolation,
                "bob",
                "/admin/users",
                "/admin/users",
            ),
            finding(
                FindingKind::RuleViolation,
                "bob",
                "/api/admin/stats",
                "/api/admin/stats",
            ),
        ];
        assert_eq!(group(&templates).len(), 2);
        let kinds = [
            finding(
                FindingKind::RuleViolation,
                "dave",
                "/admin/users",
                "/admin/users",
            ),
            finding(
                FindingKind::AudienceLeak,
                "dave",
                "/admin/users",
                "/admin/users",
            ),
        ];
        let groups = group(&kinds);
        assert_eq!(groups.len(), 2);
        assert_ne!(groups[0].fingerprint, groups[1].fingerprint);
        // Two data classes, or two rules, on one template and kind are two causes too.
        let mut other_class = idor();
        for f in other_class.iter_mut().take(3) {
            f.data = vec!["email".to_string()];
        }
        assert_eq!(group(&other_class).len(), 2);
        let mut other_rule = idor();
        other_rule[0].rule = Some("scenarios/demo.toml:99:1".to_string());
        assert_eq!(group(&other_rule).len(), 2);
    }

    /// An audience leak over records of which one also carries a canary is still one leak:
    /// what an answer carried is not the cause, and the group lists every class.
    #[test]
    fn incidental_data_does_not_split_a_group() {
        let mut leaks: Vec<Finding> = (1..=3)
            .map(|id| {
                let mut f = finding(
                    FindingKind::AudienceLeak,
                    "dave",
                    "/api/employees/{id}",
                    &format!("/api/employees/{id}"),
                );
                f.data = vec!["email".to_string()];
                f
            })
            .collect();
        leaks[0].data.insert(0, "alice-private".to_string());
        let groups = group(&leaks);
        assert_eq!(groups.len(), 1, "{groups:#?}");
        assert_eq!(groups[0].data, ["alice-private", "email"]);
        assert_eq!(groups[0].findings, 3);
        let plain = group(&leaks[1..]);
        assert_eq!(groups[0].fingerprint, plain[0].fingerprint);
        assert!(leaks.iter().all(|f| groups[0].contains(f)));
    }

    #[test]
    fn site_wide_findings_are_groups_of_their_own() {
        let mut carol = Finding::new(FindingKind::LoginFailed, "carol could not".to_string());
        carol.identity = Some("carol".to_string());
        let mut dave = Finding::new(FindingKind::LoginFailed, "dave could not".to_string());
        dave.identity = Some("dave".to_string());
        let mut lost = Finding::new(FindingKind::Inconclusive, "dave: lost".to_string());
        lost.identity = Some("dave".to_string());
        let mut cut = Finding::new(FindingKind::Inconclusive, "dave: cut".to_string());
        cut.identity = Some("dave".to_string());
        let findings = [carol, dave, lost, cut];
        let groups = group(&findings);
        assert_eq!(groups.len(), 4);
        let prints: BTreeSet<&str> = groups.iter().map(|g| g.fingerprint.as_str()).collect();
        assert_eq!(prints.len(), 4, "every group keeps its own fingerprint");
        for finding in &findings {
            let holders = groups.iter().filter(|g| g.contains(finding)).count();
            assert_eq!(holders, 1, "{finding:?}");
        }
    }

    #[test]
    fn severity_is_the_max_and_the_order_is_by_severity_then_kind_then_template() {
        let mut findings = idor();
        findings[3].severity = Severity::Critical;
        findings.push(finding(
            FindingKind::UnlinkedReachable,
            "carol",
            "/payroll/summary",
            "/payroll/summary",
        ));
        findings.last_mut().unwrap().severity = Severity::Medium;
        findings.push(finding(FindingKind::AudienceLeak, "dave", "/b", "/b"));
        findings.push(finding(FindingKind::AudienceLeak, "dave", "/a", "/a"));
        let groups = group(&findings);
        let order: Vec<(Severity, FindingKind, Option<&str>)> = groups
            .iter()
            .map(|g| (g.severity, g.kind, g.template.as_deref()))
            .collect();
        assert_eq!(
            order,
            [
                (
                    Severity::Critical,
                    FindingKind::DataExposure,
                    Some("/api/employees/{id}")
                ),
                (Severity::High, FindingKind::AudienceLeak, Some("/a")),
                (Severity::High, FindingKind::AudienceLeak, Some("/b")),
                (
                    Severity::Medium,
                    FindingKind::UnlinkedReachable,
                    Some("/payroll/summary")
                ),
            ]
        );
    }

    #[test]
    fn fingerprints_ignore_ports_identities_and_counts() {
        let all = group(&idor());
        // Fewer records, one identity, another port: the same flaw, the same fingerprint.
        let mut fewer: Vec<Finding> = idor().into_iter().skip(7).collect();
        for f in &mut fewer {
            f.url = f.url.as_ref().map(|u| u.replace(":4000", ":5999"));
        }
        let some = group(&fewer);
        assert_eq!(some[0].identities, ["dave"]);
        assert_eq!(all[0].fingerprint, some[0].fingerprint);
        assert_eq!(all[0].fingerprint.len(), 16);
        // A known value: the recipe is a contract with code scanning's history.
        assert_eq!(
            all[0].fingerprint,
            hash(&[
                "data-exposure",
                "scenarios/demo.toml:92:1",
                "salary",
                "GET",
                "/api/employees/{id}",
                ""
            ])
        );
    }
}
