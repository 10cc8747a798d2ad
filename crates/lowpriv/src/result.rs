//! The result of one run: what the JSON report serializes and every report renders.
//!
//! Built once, at the end of [`crate::run`], from each stage's output; reports read it and
//! never re-judge. Field order is the JSON report's (`report/json.rs` documents the schema).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::judge::{AudiencePreview, Finding, FindingGroup, Severity};
pub use crate::observe::ActionSeen as ActionReport;
use crate::observe::{Observation, Outcome};
use crate::scenario::{self, Audience, Tier};
use crate::snapshot::{ActionMatrix, Matrix, SnapshotReport};
use crate::verdict::Verdict;

/// The JSON report's schema version. Bump it when a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything one run found: what the JSON report serializes and every renderer reads.
#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    pub schema: u32,
    pub lowpriv_version: &'static str,
    pub scenario: String,
    pub site: SiteReport,
    pub identities: Vec<IdentityReport>,
    /// Sorted by template, URL, then identity in scenario order.
    pub observations: Vec<Observation>,
    /// Write-capable endpoints each identity was shown (recorded, never sent).
    pub actions: Vec<ActionReport>,
    /// Paths with parameters no value filled; not sent.
    pub unfilled_templates: Vec<String>,
    /// Write probes (`[crawl] probe_writes`); empty when off.
    pub write_probes: crate::probe::WriteProbes,
    /// The action matrix (action × identity → shown where, write probe's answer), built
    /// once from `actions`, `write_probes` and the `actions` rules: the `.snap` file's
    /// `ACTION` lines and the terminal, Markdown and HTML action tables all render this one.
    pub action_matrix: ActionMatrix,
    /// Each `[[source]]` probed as each identity; empty without sources.
    pub sources: Vec<crate::source::SourceProbes>,
    /// `[crawl] graphql`: each identity's introspection, the schema diff and the generated
    /// queries (their answers are cells in `observations`); absent without the opt-in.
    #[serde(skip_serializing_if = "crate::graphql::GraphqlReport::is_off")]
    pub graphql: crate::graphql::GraphqlReport,
    /// The scenario's `[[expect]]` entries, so every format can list the ones that held too.
    pub expectations: Vec<ExpectationReport>,
    /// Every finding, one per identity and URL (the complete list).
    pub findings: Vec<Finding>,
    /// The same findings grouped by cause (kind, rule or data class, method and template),
    /// built once by the judge: every report lists these, and the verdict counts them.
    pub groups: Vec<FindingGroup>,
    /// The exposure matrix (template × identity → outcomes and data seen), built once from
    /// `observations`: the `.snap` file and the terminal, Markdown and HTML matrices all
    /// render this one. Not in the JSON, which carries the observations themselves.
    #[serde(skip)]
    pub exposure: Matrix,
    /// Comparison with the approved exposure snapshot, when one was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotReport>,
    /// "If the audience widens to TIER", when `--audience` was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience_preview: Option<AudiencePreview>,
    /// What the crawl covered: templates found and observed, URLs seen, sent, sampled out.
    pub coverage: CoverageReport,
    pub summary: Summary,
}

/// What the crawl covered ("coverage, not URL count"): a run is complete when every template
/// found was observed by every identity whose crawl found it; query variants past a
/// template's sample (`max_per_template`) are sampled out, counted here, never holes.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CoverageReport {
    /// Distinct templates any identity's crawl found in reach.
    pub templates_found: usize,
    /// Distinct templates some identity's crawl sent a request of.
    pub templates_observed: usize,
    /// Per identity whose session was usable, in scenario order.
    pub identities: Vec<IdentityCoverage>,
    /// Summed over identities: distinct in-scope URLs each crawl found.
    pub urls_seen: usize,
    /// Summed over identities: requests the crawls sent (the replay comes on top).
    pub urls_sent: usize,
    /// Summed over identities: URLs of observed templates not sent.
    pub sampled_out: usize,
    /// The scenario's `[crawl] max_per_template`.
    pub max_per_template: u32,
    /// Templates an identity's crawl found and never sent, by identity then template.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unobserved: Vec<UnobservedTemplate>,
    /// Distinct URLs found, by where each was first found (`html`, `js`, `openapi`,
    /// `sitemap`, `robots`, `redirect`, `hole`, `unnarrowed`, ...), over every identity.
    pub found_via: BTreeMap<crate::crawl::Via, usize>,
    /// API servers on other origins an OpenAPI document named: never sent anything.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub offsite_servers: Vec<String>,
    /// HTML pages whose scripts did not run to the end, by template: without `--browser`,
    /// those that load same-origin scripts (what they fetch once running was not seen); with
    /// it, those whose render failed or hit the per-page cap. A note, not a hole: the plain
    /// crawl's matrix is complete for what it could find.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unrendered: Vec<UnrenderedTemplate>,
}

#[derive(Clone, Debug, Serialize)]
pub struct UnrenderedTemplate {
    /// A path template (without the query).
    pub template: String,
    /// Distinct URLs of the template, query variants included, over identities.
    pub pages: usize,
    /// The identities whose crawl reached them, in scenario order.
    pub identities: Vec<String>,
    /// no-browser | hit-cap | failed
    pub why: &'static str,
    /// What the last failure said (`failed` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct IdentityCoverage {
    pub identity: String,
    pub templates_found: usize,
    pub templates_observed: usize,
    pub urls_seen: usize,
    pub urls_sent: usize,
    pub sampled_out: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct UnobservedTemplate {
    pub identity: String,
    pub template: String,
    pub reason: crate::crawl::Unobserved,
}

impl CoverageReport {
    /// From each usable identity's crawl coverage, in scenario order.
    pub(crate) fn new<'a>(
        max_per_template: u32,
        crawls: impl IntoIterator<Item = (&'a str, &'a crate::crawl::Coverage)>,
    ) -> CoverageReport {
        let mut report = CoverageReport {
            max_per_template,
            ..CoverageReport::default()
        };
        let mut found = std::collections::BTreeSet::new();
        let mut observed = std::collections::BTreeSet::new();
        for (identity, c) in crawls {
            found.extend(c.templates_found.iter());
            observed.extend(c.templates_observed.iter());
            report.urls_seen += c.urls_seen;
            report.urls_sent += c.urls_sent;
            report.sampled_out += c.sampled_out;
            report.identities.push(IdentityCoverage {
                identity: identity.to_string(),
                templates_found: c.templates_found.len(),
                templates_observed: c.templates_observed.len(),
                urls_seen: c.urls_seen,
                urls_sent: c.urls_sent,
                sampled_out: c.sampled_out,
            });
            report
                .unobserved
                .extend(
                    c.unobserved
                        .iter()
                        .map(|(template, why)| UnobservedTemplate {
                            identity: identity.to_string(),
                            template: template.clone(),
                            reason: *why,
                        }),
                );
        }
        report.templates_found = found.len();
        report.templates_observed = observed.len();
        report
    }

    /// Where the URLs were found and the API servers left alone, from every identity's crawl.
    pub(crate) fn with_discovery<O>(mut self, crawls: &[crate::crawl::IdentityCrawl<O>]) -> Self {
        let mut first: BTreeMap<u64, crate::crawl::Via> = BTreeMap::new();
        let mut servers = std::collections::BTreeSet::new();
        for crawl in crawls {
            for (key, via) in &crawl.via {
                first.entry(*key).or_insert(*via);
            }
            servers.extend(crawl.offsite_servers.iter().cloned());
        }
        for via in first.into_values() {
            *self.found_via.entry(via).or_default() += 1;
        }
        self.offsite_servers = servers.into_iter().collect();
        self
    }

    /// Adds each usable identity's unrendered pages (in scenario order), grouped by template
    /// and reason.
    pub(crate) fn with_unrendered<'a>(
        mut self,
        crawls: impl IntoIterator<
            Item = (
                &'a str,
                &'a std::collections::BTreeMap<url::Url, crate::crawl::browser::Unrendered>,
            ),
        >,
    ) -> CoverageReport {
        use crate::crawl::browser::Unrendered;
        let mut by: std::collections::BTreeMap<(String, &'static str), UnrenderedTemplate> =
            std::collections::BTreeMap::new();
        let mut urls: std::collections::BTreeMap<
            (String, &'static str),
            std::collections::BTreeSet<&url::Url>,
        > = std::collections::BTreeMap::new();
        for (identity, pages) in crawls {
            for (url, why) in pages {
                let (kind, detail) = match why {
                    Unrendered::NoBrowser => ("no-browser", None),
                    Unrendered::HitCap => ("hit-cap", None),
                    Unrendered::Failed(why) => ("failed", Some(why.clone())),
                };
                // By path template, as `--browser` renders them: a view's query variants
                // run the same scripts.
                let template = crate::crawl::scope::template(url);
                let path = template.split('?').next().unwrap_or(&template).to_string();
                let key = (path, kind);
                let entry = by.entry(key.clone()).or_insert_with(|| UnrenderedTemplate {
                    template: key.0.clone(),
                    pages: 0,
                    identities: Vec::new(),
                    why: kind,
                    detail: None,
                });
                if !entry.identities.iter().any(|i| i == identity) {
                    entry.identities.push(identity.to_string());
                }
                if detail.is_some() {
                    entry.detail = detail;
                }
                urls.entry(key).or_default().insert(url);
            }
        }
        for (key, entry) in &mut by {
            entry.pages = urls.get(key).map_or(0, |u| u.len());
        }
        self.unrendered = by.into_values().collect();
        self
    }

    /// The unrendered pages in a line (terminal and Markdown), if there are any.
    pub fn unrendered_line(&self) -> Option<String> {
        if self.unrendered.is_empty() {
            return None;
        }
        let mut parts = Vec::new();
        for (kind, said) in [
            (
                "no-browser",
                "load same-origin scripts, not rendered (--browser renders them)",
            ),
            (
                "hit-cap",
                "hit the cap: still busy after the per-page wait, kept what they made by then",
            ),
            ("failed", "render failed"),
        ] {
            let templates: Vec<&str> = self
                .unrendered
                .iter()
                .filter(|u| u.why == kind)
                .map(|u| u.template.as_str())
                .collect();
            if templates.is_empty() {
                continue;
            }
            const SHOWN: usize = 12;
            let mut list = templates
                .iter()
                .take(SHOWN)
                .copied()
                .collect::<Vec<_>>()
                .join(", ");
            if templates.len() > SHOWN {
                list.push_str(&format!(", … {} more", templates.len() - SHOWN));
            }
            parts.push(format!(
                "{} page template(s) {said}: {list}",
                templates.len()
            ));
        }
        Some(format!("not rendered: {}", parts.join(" · ")))
    }

    /// One line for the terminal and Markdown reports.
    pub fn line(&self) -> String {
        let per_identity: Vec<String> = self
            .identities
            .iter()
            .map(|i| {
                format!(
                    "{} {}/{}",
                    i.identity, i.templates_observed, i.templates_found
                )
            })
            .collect();
        let mut line = format!(
            "coverage: {} templates found, observed per identity {} · {} URLs seen, {} sent, \
             {} sampled out (max_per_template {})",
            self.templates_found,
            if per_identity.is_empty() {
                "(none)".to_string()
            } else {
                per_identity.join(", ")
            },
            self.urls_seen,
            self.urls_sent,
            self.sampled_out,
            self.max_per_template,
        );
        if !self.unobserved.is_empty() {
            let templates: std::collections::BTreeSet<&str> = self
                .unobserved
                .iter()
                .map(|u| u.template.as_str())
                .collect();
            line.push_str(&format!(" · {} never requested", templates.len()));
        }
        if !self.found_via.is_empty() {
            let sources: Vec<String> = self
                .found_via
                .iter()
                .map(|(via, n)| format!("{} {n}", via.as_str()))
                .collect();
            line.push_str(&format!(" · found via {}", sources.join(", ")));
        }
        if !self.offsite_servers.is_empty() {
            line.push_str(&format!(
                " · API servers on other origins, not sent anything: {}",
                self.offsite_servers.join(", ")
            ));
        }
        line
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct SiteReport {
    pub name: String,
    pub base_url: String,
    /// Who the Site is shared with now (the scenario's `audience`).
    pub audience: Audience,
    /// The audience the findings were judged against (`--audience`, else the same).
    pub evaluated_audience: Audience,
    pub owner: Option<String>,
    pub data_sources: Vec<String>,
    pub last_review: Option<String>,
    pub review_every_days: Option<u32>,
    pub expires: Option<String>,
    pub public: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct IdentityReport {
    pub name: String,
    pub tier: Tier,
    pub rank: i64,
    /// none | form | bearer | basic | cookie | headers
    pub login: &'static str,
    /// The identity's session is what the scenario declares: logged in and proven, or
    /// anonymous by design.
    pub logged_in: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_error: Option<String>,
    /// Requests sent while crawling as this identity.
    pub crawled: usize,
    /// Requests replayed from other identities' discoveries.
    pub replayed: usize,
    /// Times the session was found logged out mid-run and logged in again.
    pub relogins: u32,
    /// Why the session was given up mid-run, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_lost: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ExpectationReport {
    /// `file:line:col` of the entry; findings name it in their `rule`.
    pub location: String,
    /// access | data | actions
    pub kind: &'static str,
    pub paths: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_rank: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub visible_to: Vec<String>,
    /// For an `actions` rule: write | confirm | forbidden.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_kind: Option<scenario::ActionKind>,
}

impl ExpectationReport {
    pub(crate) fn new(expect: &scenario::Expectation) -> ExpectationReport {
        let names = |principals: &[scenario::Principal]| {
            principals
                .iter()
                .map(|p| match p {
                    scenario::Principal::Identity(name) => name.clone(),
                    scenario::Principal::Tier(tier) => tier.as_str().to_string(),
                })
                .collect()
        };
        let mut report = ExpectationReport {
            location: expect.location.to_string(),
            kind: "access",
            paths: expect.paths.clone(),
            allow: Vec::new(),
            min_rank: None,
            data: None,
            visible_to: Vec::new(),
            action_kind: None,
        };
        match &expect.rule {
            scenario::ExpectRule::Access { allow, min_rank } => {
                report.allow = names(allow);
                report.min_rank = *min_rank;
            }
            scenario::ExpectRule::Data { data, visible_to } => {
                report.kind = "data";
                report.data = Some(data.clone());
                report.visible_to = names(visible_to);
            }
            scenario::ExpectRule::Actions { allow, kind } => {
                report.kind = "actions";
                report.allow = names(allow);
                report.action_kind = Some(*kind);
            }
        }
        report
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub verdict: Verdict,
    /// The process exit code this verdict maps to (0 pass, 1 fail, 3 inconclusive).
    pub exit_code: i32,
    pub reasons: Vec<String>,
    pub fail_on: Severity,
    pub findings_at_or_above_fail_on: usize,
    /// Finding groups at or above `fail_on` (what the verdict's reason counts).
    pub groups_at_or_above_fail_on: usize,
    pub requests: usize,
    pub templates: usize,
    pub outcomes: BTreeMap<Outcome, usize>,
    pub findings: BTreeMap<Severity, usize>,
    /// Wall time of the run; volatile, redact it in snapshots.
    pub duration_ms: u128,
}

/// Each stage's output, handed to [`RunResult::assemble`].
pub(crate) struct Parts {
    pub identities: Vec<IdentityReport>,
    pub write_probes: crate::probe::WriteProbes,
    /// Built by the run before the snapshot check ([`ActionMatrix::build`]).
    pub action_matrix: ActionMatrix,
    pub sources: crate::source::SourceLog,
    pub graphql: crate::graphql::GraphqlReport,
    pub observations: crate::observe::Observations,
    pub exposure: Matrix,
    pub judgement: crate::judge::Judgement,
    pub decision: crate::verdict::Decision,
    pub snapshot: Option<SnapshotReport>,
    pub audience_preview: Option<AudiencePreview>,
    pub coverage: CoverageReport,
    pub duration_ms: u128,
}

impl RunResult {
    /// `evaluated`: the audience the findings were judged against (`--audience`, else the
    /// scenario's).
    pub(crate) fn assemble(
        scenario: &scenario::Scenario,
        evaluated: Audience,
        parts: Parts,
    ) -> RunResult {
        let Parts {
            identities,
            write_probes,
            action_matrix,
            sources,
            graphql,
            observations,
            exposure,
            judgement,
            decision,
            snapshot,
            audience_preview,
            coverage,
            duration_ms,
        } = parts;
        let site = &scenario.site;
        let observations_all = observations.all;
        let templates = observations_all
            .iter()
            .map(|o| (&o.method, &o.template))
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let summary = Summary {
            verdict: decision.verdict,
            exit_code: decision.verdict.exit_code(),
            reasons: decision.reasons,
            fail_on: decision.fail_on,
            findings_at_or_above_fail_on: decision.at_or_above_fail_on,
            groups_at_or_above_fail_on: decision.groups_at_or_above_fail_on,
            requests: identities.iter().map(|i| i.crawled + i.replayed).sum(),
            templates,
            outcomes: crate::judge::count_by(&observations_all, |o| o.outcome),
            findings: crate::judge::count_by(&judgement.findings, |f| f.severity),
            duration_ms,
        };
        RunResult {
            schema: SCHEMA_VERSION,
            lowpriv_version: env!("CARGO_PKG_VERSION"),
            scenario: scenario.file.display().to_string(),
            site: SiteReport {
                name: site.name.clone(),
                base_url: site.base_url.to_string(),
                audience: site.audience,
                evaluated_audience: evaluated,
                owner: site.owner.clone(),
                data_sources: site.data_sources.clone(),
                last_review: site.last_review.map(|d| d.to_string()),
                review_every_days: site.review_every_days,
                expires: site.expires.map(|d| d.to_string()),
                public: site.public.clone(),
            },
            identities,
            observations: observations_all,
            actions: observations.actions,
            unfilled_templates: observations.unfilled_templates,
            write_probes,
            action_matrix,
            sources: sources.sources,
            graphql,
            expectations: scenario
                .expects
                .iter()
                .map(ExpectationReport::new)
                .collect(),
            findings: judgement.findings,
            groups: judgement.groups,
            exposure,
            snapshot,
            audience_preview,
            coverage,
            summary,
        }
    }
}
