//! What the judge produces: findings, each of a kind with a severity.
//!
//! A finding is a claim a person will act on: it names the identity, the request and the
//! template it is about, why it is a finding in one line, and the scenario entry it comes
//! from when a declared rule raised it.

use serde::Serialize;

use crate::observe::Observation;

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
    SourceBypass,
    ActionExposure,
    ForbiddenAction,
    UnauthorizedWrite,
    GraphqlSchemaWider,
    ReviewOverdue,
    SiteExpired,
    LoginFailed,
    Inconclusive,
}

impl FindingKind {
    /// Every kind, in the order reports list them (SARIF's rules array).
    pub const ALL: [FindingKind; 16] = [
        FindingKind::RuleViolation,
        FindingKind::DataExposure,
        FindingKind::AudienceLeak,
        FindingKind::UnlinkedReachable,
        FindingKind::SecretExposed,
        FindingKind::CrossIdentityData,
        FindingKind::InvertedPrivilege,
        FindingKind::SourceBypass,
        FindingKind::ActionExposure,
        FindingKind::ForbiddenAction,
        FindingKind::UnauthorizedWrite,
        FindingKind::GraphqlSchemaWider,
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
            | FindingKind::SourceBypass
            | FindingKind::ActionExposure
            | FindingKind::ForbiddenAction
            | FindingKind::UnauthorizedWrite
            // Only with `[crawl] graphql`: a Site without the opt-in was not checked for it.
            | FindingKind::GraphqlSchemaWider
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
            FindingKind::SourceBypass => "source-bypass",
            FindingKind::ActionExposure => "action-exposure",
            FindingKind::ForbiddenAction => "forbidden-action",
            FindingKind::UnauthorizedWrite => "unauthorized-write",
            FindingKind::GraphqlSchemaWider => "graphql-schema-wider",
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
            | FindingKind::SourceBypass
            | FindingKind::ForbiddenAction
            | FindingKind::UnauthorizedWrite
            | FindingKind::Inconclusive => Severity::High,
            FindingKind::UnlinkedReachable
            | FindingKind::InvertedPrivilege
            | FindingKind::GraphqlSchemaWider
            | FindingKind::ActionExposure => Severity::Medium,
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
    /// The `[[accept]]` entry that keeps this finding out of the verdict, while it holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<Accepted>,
}

/// A reviewed finding: visible in every report, out of the verdict until `expires`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Accepted {
    /// `file:line:col` of the `[[accept]]` entry.
    pub rule: String,
    pub reason: String,
    pub expires: String,
}

impl Finding {
    pub(crate) fn new(kind: FindingKind, detail: String) -> Finding {
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
            accepted: None,
        }
    }

    pub(crate) fn at(kind: FindingKind, obs: &Observation, detail: String) -> Finding {
        Finding {
            identity: Some(obs.identity.clone()),
            method: Some(obs.method.clone()),
            url: Some(obs.url.clone()),
            template: Some(obs.template.clone()),
            ..Finding::new(kind, detail)
        }
    }
}
