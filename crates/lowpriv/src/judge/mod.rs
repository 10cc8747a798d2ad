//! Judging: declared expectations and the automatic checks turn observations into findings,
//! and findings plus the run's health into a verdict.
//!
//! Input: the scenario, each identity's login status and crawl health, and the finalized
//! observations. Output: a [`Judgement`]. Invariants: a run with a failed login, an error
//! cell, a truncated crawl, or a rule that observed nothing is never `pass`; declarations
//! outrank heuristics (`unlinked-reachable` and `inverted-privilege` only fire where no
//! `[[expect]]` path rule speaks, and not where a declared check already fired).

use std::collections::{BTreeMap, HashMap};

use globset::GlobSet;
use serde::Serialize;

use crate::crawl::scope::compile_globs;
use crate::observe::{Observation, Outcome};
use crate::scenario::{DataKind, ExpectRule, Expectation, Identity, Scenario};
use crate::session::LoginStatus;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Least severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The severity named `name` (`info` … `critical`), as `as_str` writes it.
    pub fn parse(name: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    RuleViolation,
    DataExposure,
    AudienceLeak,
    UnlinkedReachable,
    SecretExposed,
    CrossIdentityData,
    InvertedPrivilege,
    ReviewOverdue,
    SiteExpired,
    LoginFailed,
    Inconclusive,
}

impl FindingKind {
    /// Every kind, in the order reports list them (SARIF's rules array).
    pub const ALL: [FindingKind; 11] = [
        FindingKind::RuleViolation,
        FindingKind::DataExposure,
        FindingKind::AudienceLeak,
        FindingKind::UnlinkedReachable,
        FindingKind::SecretExposed,
        FindingKind::CrossIdentityData,
        FindingKind::InvertedPrivilege,
        FindingKind::ReviewOverdue,
        FindingKind::SiteExpired,
        FindingKind::LoginFailed,
        FindingKind::Inconclusive,
    ];

    /// An automatic check: runs on every Site whatever the scenario declares (as opposed to
    /// a declared `[[expect]]`, a login, or the run's own completeness).
    pub fn is_automatic(self) -> bool {
        match self {
            FindingKind::AudienceLeak
            | FindingKind::UnlinkedReachable
            | FindingKind::SecretExposed
            | FindingKind::CrossIdentityData
            | FindingKind::InvertedPrivilege
            | FindingKind::ReviewOverdue
            | FindingKind::SiteExpired => true,
            FindingKind::RuleViolation
            | FindingKind::DataExposure
            | FindingKind::LoginFailed
            | FindingKind::Inconclusive => false,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::RuleViolation => "rule-violation",
            FindingKind::DataExposure => "data-exposure",
            FindingKind::AudienceLeak => "audience-leak",
            FindingKind::UnlinkedReachable => "unlinked-reachable",
            FindingKind::SecretExposed => "secret-exposed",
            FindingKind::CrossIdentityData => "cross-identity-data",
            FindingKind::InvertedPrivilege => "inverted-privilege",
            FindingKind::ReviewOverdue => "review-overdue",
            FindingKind::SiteExpired => "site-expired",
            FindingKind::LoginFailed => "login-failed",
            FindingKind::Inconclusive => "inconclusive",
        }
    }

    fn severity(self) -> Severity {
        match self {
            FindingKind::SecretExposed | FindingKind::LoginFailed => Severity::Critical,
            FindingKind::RuleViolation
            | FindingKind::DataExposure
            | FindingKind::AudienceLeak
            | FindingKind::CrossIdentityData
            | FindingKind::SiteExpired
            | FindingKind::Inconclusive => Severity::High,
            FindingKind::UnlinkedReachable | FindingKind::InvertedPrivilege => Severity::Medium,
            FindingKind::ReviewOverdue => Severity::Low,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub severity: Severity,
    pub identity: Option<String>,
    pub method: Option<String>,
    pub url: Option<String>,
    pub template: Option<String>,
    /// One line: why this is a finding.
    pub detail: String,
    /// The scenario entry it comes from (`file:line:col`), for declared rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Data classes involved.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<String>,
}

impl Finding {
    fn new(kind: FindingKind, detail: String) -> Finding {
        Finding {
            kind,
            severity: kind.severity(),
            identity: None,
            method: None,
            url: None,
            template: None,
            detail,
            rule: None,
            data: Vec::new(),
        }
    }

    fn at(kind: FindingKind, obs: &Observation, detail: String) -> Finding {
        Finding {
            identity: Some(obs.identity.clone()),
            method: Some(obs.method.clone()),
            url: Some(obs.url.clone()),
            template: Some(obs.template.clone()),
            ..Finding::new(kind, detail)
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Inconclusive,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// What the judge needs to know about each identity besides its observations.
#[derive(Clone, Debug)]
pub struct IdentityHealth {
    pub login: LoginStatus,
    /// Why its crawl stopped early, if it did.
    pub truncated: Option<String>,
    /// Why its session was given up mid-run, if it was.
    pub lost: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Judgement {
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
    /// Why the verdict is what it is, most important first.
    pub reasons: Vec<String>,
    pub fail_on: Severity,
    pub at_or_above_fail_on: usize,
}

struct Rule<'a> {
    expect: &'a Expectation,
    paths: Option<GlobSet>,
    location: String,
}

impl Rule<'_> {
    fn covers(&self, path: &str) -> bool {
        self.paths.as_ref().is_none_or(|g| g.is_match(path))
    }
}

impl Judgement {
    /// Marks the run inconclusive for a reason the judge could not see (it was stopped).
    pub fn inconclusive(&mut self, reason: String) {
        self.findings
            .insert(0, Finding::new(FindingKind::Inconclusive, reason.clone()));
        if self.verdict != Verdict::Inconclusive {
            self.reasons.clear();
        }
        self.verdict = Verdict::Inconclusive;
        self.reasons.insert(0, reason);
    }
}

/// Evaluates every check. `today` decides review and expiry findings.
pub fn evaluate(
    scenario: &Scenario,
    health: &[IdentityHealth],
    observations: &[Observation],
    fail_on: Severity,
    today: jiff::civil::Date,
) -> Judgement {
    let identities: HashMap<&str, &Identity> = scenario
        .identities
        .iter()
        .map(|i| (i.name.as_str(), i))
        .collect();
    let public = compile_globs(&scenario.site.public);
    let rules: Vec<Rule> = scenario
        .expects
        .iter()
        .map(|expect| Rule {
            expect,
            paths: (!expect.paths.is_empty()).then(|| compile_globs(&expect.paths)),
            location: expect.location.to_string(),
        })
        .collect();
    let access_rules: Vec<&Rule> = rules
        .iter()
        .filter(|r| matches!(r.expect.rule, ExpectRule::Access { .. }))
        .collect();
    let mut findings = Vec::new();
    let mut reasons = Vec::new();

    // Per request, every identity's answer: for inverted-privilege.
    let mut by_request: HashMap<(&str, &str), Vec<&Observation>> = HashMap::new();
    for obs in observations {
        by_request
            .entry((obs.method.as_str(), obs.url.as_str()))
            .or_default()
            .push(obs);
    }
    let mut rule_hits = vec![0usize; rules.len()];
    let mut errors = Vec::new();

    for obs in observations {
        let Some(identity) = identities.get(obs.identity.as_str()) else {
            continue;
        };
        match obs.outcome {
            Outcome::Skipped => continue,
            Outcome::Error => {
                // Not judged for access, but a secret in what was read is still a leak.
                secrets(scenario, obs, &mut findings);
                errors.push(obs);
                continue;
            }
            _ => {}
        }
        let path = obs.path();
        let is_public = public.is_match(path);
        let covering: Vec<usize> = access_rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.covers(path))
            .map(|(i, _)| i)
            .collect();
        for (index, rule) in rules.iter().enumerate() {
            if matches!(rule.expect.rule, ExpectRule::Access { .. }) && rule.covers(path) {
                rule_hits[index] += 1;
            }
        }
        secrets(scenario, obs, &mut findings);
        if obs.outcome != Outcome::Allowed {
            continue;
        }
        let mut declared = false;
        for &i in &covering {
            let rule = access_rules[i];
            if !rule.expect.admits(identity) {
                declared = true;
                let mut finding = Finding::at(
                    FindingKind::RuleViolation,
                    obs,
                    format!(
                        "{} is not admitted by the rule for {} but got {}",
                        identity.name,
                        rule.expect.paths.join(", "),
                        obs.reason
                    ),
                );
                finding.rule = Some(rule.location.clone());
                finding.data = obs.data.keys().cloned().collect();
                findings.push(finding);
            }
        }
        if !scenario.site.audience.admits(identity.tier) && !is_public {
            declared = true;
            let mut finding = Finding::at(
                FindingKind::AudienceLeak,
                obs,
                format!(
                    "{} ({} tier) is outside the Site's audience `{}` but got {}",
                    identity.name, identity.tier, scenario.site.audience, obs.reason
                ),
            );
            finding.data = obs.data.keys().cloned().collect();
            findings.push(finding);
        }
        for rule in &rules {
            let ExpectRule::Data { data, visible_to } = &rule.expect.rule else {
                continue;
            };
            // A canary's owner may always see it; the rule speaks of everyone else.
            let owner = scenario
                .data
                .iter()
                .find(|c| c.name == *data)
                .and_then(|c| c.belongs_to.as_deref());
            if obs.data.contains_key(data)
                && rule.covers(path)
                && owner != Some(identity.name.as_str())
                && !visible_to.iter().any(|p| p.matches(identity))
            {
                let mut finding = Finding::at(
                    FindingKind::DataExposure,
                    obs,
                    format!(
                        "{} sees `{data}` ({}), which is visible only to {}",
                        identity.name,
                        obs.data[data].examples.join(", "),
                        visible_to
                            .iter()
                            .map(|p| p.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                finding.rule = Some(rule.location.clone());
                finding.data = vec![data.clone()];
                findings.push(finding);
                declared = true;
            }
        }
        for class in &scenario.data {
            let (DataKind::Text(_), Some(owner)) = (&class.kind, &class.belongs_to) else {
                continue;
            };
            if *owner == identity.name || !obs.data.contains_key(&class.name) {
                continue;
            }
            // Where a data rule speaks of this canary, its answer stands (a `data-exposure`
            // above, or nothing); the automatic check covers canaries no rule mentions.
            let declared_by_rule = rules.iter().any(|r| match &r.expect.rule {
                ExpectRule::Data { data, .. } => *data == class.name && r.covers(path),
                _ => false,
            });
            if !declared_by_rule {
                let mut finding = Finding::at(
                    FindingKind::CrossIdentityData,
                    obs,
                    format!(
                        "{} sees the canary `{}` that belongs to {owner}",
                        identity.name, class.name
                    ),
                );
                finding.data = vec![class.name.clone()];
                findings.push(finding);
                declared = true;
            }
        }
        if declared || !covering.is_empty() || is_public {
            continue;
        }
        let higher_refused = by_request
            .get(&(obs.method.as_str(), obs.url.as_str()))
            .into_iter()
            .flatten()
            .filter(|other| other.outcome.is_refused())
            .filter_map(|other| identities.get(other.identity.as_str()))
            .filter(|other| other.rank > identity.rank)
            .max_by_key(|other| other.rank);
        if let Some(higher) = higher_refused {
            findings.push(Finding::at(
                FindingKind::InvertedPrivilege,
                obs,
                format!(
                    "{} (rank {}) is allowed where {} (rank {}) is denied",
                    identity.name, identity.rank, higher.name, higher.rank
                ),
            ));
        } else if let (false, Some(higher)) = (obs.shown, &obs.same_as) {
            findings.push(Finding::at(
                FindingKind::UnlinkedReachable,
                obs,
                format!(
                    "{} was never shown this request but got the same content as {higher}",
                    identity.name
                ),
            ));
        }
    }

    // The run's health: anything that hid part of the matrix makes it inconclusive.
    for (identity, h) in scenario.identities.iter().zip(health) {
        if let LoginStatus::Failed(why) = &h.login {
            let mut finding = Finding::new(
                FindingKind::LoginFailed,
                format!("identity `{}` could not log in: {why}", identity.name),
            );
            finding.identity = Some(identity.name.clone());
            findings.push(finding);
            reasons.push(format!("identity `{}` could not log in", identity.name));
        }
        if let Some(why) = &h.lost {
            let mut finding = Finding::new(
                FindingKind::Inconclusive,
                format!("the session of `{}` was lost mid-run: {why}", identity.name),
            );
            finding.identity = Some(identity.name.clone());
            findings.push(finding);
            reasons.push(format!(
                "the session of `{}` was lost mid-run",
                identity.name
            ));
        }
        if let Some(why) = &h.truncated {
            let mut finding = Finding::new(
                FindingKind::Inconclusive,
                format!("the crawl as `{}` was cut short: {why}", identity.name),
            );
            finding.identity = Some(identity.name.clone());
            findings.push(finding);
            reasons.push(format!(
                "the crawl as `{}` was cut short: {why}",
                identity.name
            ));
        }
    }
    if !errors.is_empty() {
        // An error cell on a path a rule speaks of hides that rule's answer: never tolerated.
        // Elsewhere, a scenario may tolerate a small share (`error_budget_percent`).
        let judged_cells = observations
            .iter()
            .filter(|o| o.outcome != Outcome::Skipped)
            .count()
            .max(1);
        let on_rules = errors
            .iter()
            .filter(|obs| access_rules.iter().any(|r| r.covers(obs.path())))
            .count();
        let budget = scenario.crawl.error_budget_percent as usize;
        let tolerated = on_rules == 0 && errors.len() * 100 <= budget * judged_cells;
        for obs in &errors {
            let mut finding = Finding::at(
                FindingKind::Inconclusive,
                obs,
                if tolerated {
                    format!(
                        "no answer to judge: {} (tolerated by error_budget_percent = {budget})",
                        obs.reason
                    )
                } else {
                    format!("no answer to judge: {}", obs.reason)
                },
            );
            if tolerated {
                finding.severity = Severity::Info;
            }
            findings.push(finding);
        }
        if !tolerated {
            reasons.push(if on_rules > 0 {
                format!(
                    "{} request(s) ended in error, {on_rules} of them on paths an [[expect]] rule covers, \
                     so part of the matrix is unknown",
                    errors.len()
                )
            } else {
                format!(
                    "{} request(s) ended in error ({}% of {judged_cells} cells; error_budget_percent = {budget}), \
                     so part of the matrix is unknown",
                    errors.len(),
                    errors.len() * 100 / judged_cells
                )
            });
        }
    }
    for (rule, hits) in rules.iter().zip(&rule_hits) {
        if matches!(rule.expect.rule, ExpectRule::Access { .. }) && *hits == 0 {
            let mut finding = Finding::new(
                FindingKind::Inconclusive,
                format!(
                    "the [[expect]] for {} matched no observed request: nothing was checked",
                    rule.expect.paths.join(", ")
                ),
            );
            finding.rule = Some(rule.location.clone());
            findings.push(finding);
            reasons.push(format!(
                "the [[expect]] at {} matched no observed request",
                rule.location
            ));
        }
    }
    let anything_allowed = observations.iter().any(|o| o.outcome == Outcome::Allowed);
    if !anything_allowed {
        reasons.push("no identity was allowed anything: nothing was observed".to_string());
    }

    site_metadata(scenario, observations, &public, today, &mut findings);

    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.kind.cmp(&b.kind))
            .then(a.template.cmp(&b.template))
            .then(a.identity.cmp(&b.identity))
            .then(a.url.cmp(&b.url))
            .then(a.detail.cmp(&b.detail))
    });
    findings.dedup();

    let at_or_above = findings.iter().filter(|f| f.severity >= fail_on).count();
    let verdict = if !reasons.is_empty() {
        Verdict::Inconclusive
    } else if at_or_above > 0 {
        reasons.push(format!(
            "{at_or_above} finding(s) at or above {}",
            fail_on.as_str()
        ));
        Verdict::Fail
    } else {
        let allowed = observations
            .iter()
            .filter(|o| o.outcome == Outcome::Allowed)
            .count();
        reasons.push(format!(
            "no finding at or above {}; {allowed} allowed and {} refused answers observed",
            fail_on.as_str(),
            observations
                .iter()
                .filter(|o| o.outcome.is_refused())
                .count()
        ));
        Verdict::Pass
    };
    Judgement {
        findings,
        verdict,
        reasons,
        fail_on,
        at_or_above_fail_on: at_or_above,
    }
}

/// `secret-exposed`: a runtime secret's value or a secret-bearing builtin in any answer.
fn secrets(scenario: &Scenario, obs: &Observation, findings: &mut Vec<Finding>) {
    for class in &scenario.data {
        let Some(hit) = obs.data.get(&class.name) else {
            continue;
        };
        let what = match &class.kind {
            DataKind::Env { var, .. } => format!("the value of ${var} (`{}`)", class.name),
            DataKind::Builtin(b) if b.is_secret() => format!("a {} (`{}`)", b.as_str(), class.name),
            DataKind::Pattern { secret: true, .. } => {
                format!("a match of the secret pattern `{}`", class.name)
            }
            _ => continue,
        };
        let mut finding = Finding::at(
            FindingKind::SecretExposed,
            obs,
            format!(
                "{what} appears {} time(s) in what {} got ({})",
                hit.count,
                obs.identity,
                obs.outcome.as_str()
            ),
        );
        finding.data = vec![class.name.clone()];
        findings.push(finding);
    }
}

fn site_metadata(
    scenario: &Scenario,
    observations: &[Observation],
    public: &GlobSet,
    today: jiff::civil::Date,
    findings: &mut Vec<Finding>,
) {
    let site = &scenario.site;
    if let (Some(last), Some(days)) = (site.last_review, site.review_every_days) {
        let due = last.checked_add(jiff::Span::new().days(i64::from(days)));
        if let Ok(due) = due
            && due < today
        {
            findings.push(Finding::new(
                FindingKind::ReviewOverdue,
                format!("last reviewed {last}; a review was due by {due}"),
            ));
        }
    }
    if let Some(expires) = site.expires
        && expires < today
    {
        let reachable = observations
            .iter()
            .any(|o| o.outcome == Outcome::Allowed && !public.is_match(o.path()));
        if reachable {
            findings.push(Finding::new(
                FindingKind::SiteExpired,
                format!("the Site expired on {expires} and is still reachable"),
            ));
        }
    }
}

/// Counts per key, for summaries.
pub fn count_by<T, K: Ord>(items: &[T], key: impl Fn(&T) -> K) -> BTreeMap<K, usize> {
    let mut counts = BTreeMap::new();
    for item in items {
        *counts.entry(key(item)).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests;

/// "If the audience widens to TIER": who would join (or leave) the audience, and what each
/// of them reaches today beyond the public paths.
#[derive(Clone, Debug, Serialize)]
pub struct AudiencePreview {
    pub from: crate::scenario::Audience,
    pub to: crate::scenario::Audience,
    pub joining: Vec<PreviewIdentity>,
    pub leaving: Vec<PreviewIdentity>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PreviewIdentity {
    pub name: String,
    pub tier: crate::scenario::Tier,
    /// Request templates it is allowed on (outside `public`), with the data classes seen.
    pub reaches: Vec<PreviewReach>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PreviewReach {
    pub method: String,
    pub template: String,
    pub data: Vec<String>,
}

pub fn audience_preview(
    scenario: &Scenario,
    observations: &[Observation],
    to: crate::scenario::Audience,
) -> AudiencePreview {
    let from = scenario.site.audience;
    let public = compile_globs(&scenario.site.public);
    let describe = |identity: &Identity| {
        let mut reaches: BTreeMap<(String, String), std::collections::BTreeSet<String>> =
            BTreeMap::new();
        for obs in observations {
            if obs.identity == identity.name
                && obs.outcome == Outcome::Allowed
                && !public.is_match(obs.path())
            {
                reaches
                    .entry((obs.method.clone(), obs.template.clone()))
                    .or_default()
                    .extend(obs.data.keys().cloned());
            }
        }
        PreviewIdentity {
            name: identity.name.clone(),
            tier: identity.tier,
            reaches: reaches
                .into_iter()
                .map(|((method, template), data)| PreviewReach {
                    method,
                    template,
                    data: data.into_iter().collect(),
                })
                .collect(),
        }
    };
    let joining = scenario
        .identities
        .iter()
        .filter(|i| to.admits(i.tier) && !from.admits(i.tier))
        .map(describe)
        .collect();
    let leaving = scenario
        .identities
        .iter()
        .filter(|i| from.admits(i.tier) && !to.admits(i.tier))
        .map(describe)
        .collect();
    AudiencePreview {
        from,
        to,
        joining,
        leaving,
    }
}
