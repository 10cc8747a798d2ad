//! lowpriv: who can see what on a deployed web app.
//!
//! A one-way pipeline, one module per stage; no stage imports a later one:
//!
//! ```text
//! scenario ─► session ─► crawl ─► replay ─► observe ─► judge ─► report
//! ```
//!
//! - [`scenario`]: TOML → [`scenario::Scenario`], every problem reported with file:line:col.
//! - [`session`]: one HTTP client and cookie jar per identity; login and its proof.
//! - [`crawl`]: per identity, a bounded concurrent frontier; discovery from HTML, JS, OpenAPI.
//! - [`replay`]: every request any identity found, sent as every identity.
//! - [`observe`]: a response → an outcome, data classes and a fingerprint. The crawl and the
//!   replay call it while a body is held (through [`crawl::Observe`]), so bodies are dropped
//!   as soon as they are read.
//! - [`judge`]: declared expectations and automatic checks → findings and a verdict.
//! - [`report`]: terminal and JSON renderings of a [`RunResult`]; exit codes.
//!
//! A library user calls [`run`] and renders the [`RunResult`] however they like.

// Input and network data never reach an unwrap: a hostile Site must not crash a run. The
// few `expect`s left are on constants (selectors, patterns, the embedded rule file), each
// allowed where it stands.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod crawl;
pub mod judge;
pub mod observe;
pub mod progress;
pub mod replay;
pub mod report;
pub mod scenario;
pub mod session;
pub mod snapshot;
pub mod stop;

mod atomic_file;
pub mod markup;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crawl::{Action, Request};
use judge::{IdentityHealth, Judgement, Severity, Verdict};
use observe::{Observation, Observer, Outcome};
use scenario::{Audience, Scenario, Tier};
use session::{LoginStatus, SiteContext};

/// The JSON report's schema version. Bump it when a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug)]
pub struct RunOptions {
    pub fail_on: Severity,
    /// The day review and expiry dates are judged against; today when unset.
    pub today: Option<jiff::civil::Date>,
    /// Judge as if the Site were shared this widely (`--audience`), and preview who joins.
    pub audience: Option<Audience>,
    /// Stops the run early (Ctrl-C, SIGTERM); what was gathered is reported, inconclusive.
    pub stop: stop::Stop,
    /// The whole run's time limit (`--deadline`): past it, the run stops as above.
    pub deadline: Option<std::time::Duration>,
    /// Told about the run as it goes (bars on a terminal, plain lines elsewhere).
    pub progress: progress::ProgressHandle,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            fail_on: Severity::High,
            today: None,
            audience: None,
            stop: stop::Stop::new(),
            deadline: None,
            progress: progress::ProgressHandle::default(),
        }
    }
}

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
    /// The scenario's `[[expect]]` entries, so every format can list the ones that held too.
    pub expectations: Vec<ExpectationReport>,
    pub findings: Vec<judge::Finding>,
    /// Comparison with the approved exposure snapshot, when one was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<snapshot::SnapshotReport>,
    /// "If the audience widens to TIER", when `--audience` was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience_preview: Option<judge::AudiencePreview>,
    pub summary: Summary,
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
    /// access | data
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
}

impl ExpectationReport {
    fn new(expect: &scenario::Expectation) -> ExpectationReport {
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
        }
        report
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ActionReport {
    pub identity: String,
    #[serde(flatten)]
    pub action: Action,
}

#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub verdict: Verdict,
    pub reasons: Vec<String>,
    pub fail_on: Severity,
    pub findings_at_or_above_fail_on: usize,
    pub requests: usize,
    pub templates: usize,
    pub outcomes: BTreeMap<Outcome, usize>,
    pub findings: BTreeMap<Severity, usize>,
    /// Wall time of the run; volatile, redact it in snapshots.
    pub duration_ms: u128,
}

/// Errors that stop a run before it can judge anything.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Scenario(#[from] scenario::ScenarioError),
    #[error("could not open sessions")]
    Session(#[from] session::LoginError),
}

/// Runs the whole pipeline against the Site the scenario names.
pub async fn run(scenario: &Scenario, options: &RunOptions) -> Result<RunResult, Error> {
    let started = Instant::now();
    let stop = options.stop.clone();
    let deadline = options.deadline.map(|limit| {
        let stop = stop.clone();
        tokio::spawn(async move {
            if stop.sleep(limit).await {
                stop.stop(format!("the deadline of {} s passed", limit.as_secs()));
            }
        })
    });
    let site = SiteContext::new(scenario, stop.clone());
    let progress = options.progress.clone();
    progress.stage("logging in");
    let sessions: Vec<Arc<session::Session>> = session::open_all(scenario, &site)
        .await?
        .into_iter()
        .map(Arc::new)
        .collect();
    let observer = Arc::new(Observer::new(scenario, site.clone()));
    progress.stage("crawling");
    let crawled = crawl::run(&sessions, scenario, observer.clone(), &progress).await;
    progress.stage("replaying");
    let replayed = replay::run(
        &sessions,
        &crawled,
        observer.clone(),
        scenario.crawl.concurrency,
        &progress,
    )
    .await;
    progress.stage("judging");

    let sent = replay::union(&crawled);
    let mut skipped: BTreeMap<&Request, &str> = BTreeMap::new();
    for identity in &crawled.identities {
        for (request, reason) in &identity.skipped {
            if !sent.contains(request) {
                skipped.entry(request).or_insert(reason.as_str());
            }
        }
    }

    let mut observations = Vec::new();
    let mut identities = Vec::new();
    let mut health = Vec::new();
    let mut actions = Vec::new();
    let mut unfilled = std::collections::BTreeSet::new();
    for ((session, own), replays) in sessions.iter().zip(&crawled.identities).zip(replayed) {
        let identity = &session.identity;
        let usable = session.status.is_usable();
        identities.push(IdentityReport {
            name: identity.name.clone(),
            tier: identity.tier,
            rank: identity.rank,
            login: identity.login.as_ref().map_or("none", |l| l.method.kind()),
            logged_in: usable,
            login_error: match &session.status {
                LoginStatus::Failed(why) => Some(why.clone()),
                _ => None,
            },
            crawled: own.fetched.len(),
            replayed: replays.len(),
            relogins: session.relogins(),
            session_lost: session.lost(),
            truncated: own.truncated.clone(),
        });
        health.push(IdentityHealth {
            login: session.status.clone(),
            truncated: own.truncated.clone(),
            lost: session.lost(),
        });
        if !usable {
            continue;
        }
        observations.extend(own.fetched.iter().map(|(_, o)| o.clone()));
        observations.extend(replays.into_iter().map(|(_, o)| o));
        for (request, reason) in &skipped {
            let shown = own.skipped.contains_key(*request);
            observations.push(Observation::skipped(&identity.name, request, reason, shown));
        }
        actions.extend(own.actions.iter().map(|a| ActionReport {
            identity: identity.name.clone(),
            action: a.clone(),
        }));
        unfilled.extend(own.templates.iter().cloned());
    }
    // The Site's own route templates (OpenAPI paths) name the rows where they fit.
    let routes: std::collections::BTreeSet<&String> = crawled
        .identities
        .iter()
        .flat_map(|c| c.routes.iter())
        .collect();
    if !routes.is_empty() {
        let routes = crawl::scope::Routes::new(routes);
        for obs in &mut observations {
            if let Ok(url) = url::Url::parse(&obs.url) {
                obs.template = routes.template(&url);
            }
        }
    }
    observe::finalize(&mut observations, &scenario.identities);
    let order: BTreeMap<&str, usize> = scenario
        .identities
        .iter()
        .enumerate()
        .map(|(i, id)| (id.name.as_str(), i))
        .collect();
    observations.sort_by(|a, b| {
        (a.template.as_str(), a.method.as_str(), a.url.as_str())
            .cmp(&(b.template.as_str(), b.method.as_str(), b.url.as_str()))
            .then(
                order
                    .get(a.identity.as_str())
                    .cmp(&order.get(b.identity.as_str())),
            )
    });

    let today = options
        .today
        .unwrap_or_else(|| jiff::ZonedDateTime::now().date());
    let widened;
    let judged = match options.audience {
        Some(audience) if audience != scenario.site.audience => {
            let mut copy = scenario.clone();
            copy.site.audience = audience;
            widened = copy;
            &widened
        }
        _ => scenario,
    };
    let mut judgement = judge::evaluate(judged, &health, &observations, options.fail_on, today);
    if let Some(why) = stop.reason() {
        judgement.inconclusive(format!("the run was stopped before it finished: {why}"));
    }
    if let Some(task) = deadline {
        task.abort();
    }
    let audience_preview = options
        .audience
        .map(|to| judge::audience_preview(scenario, &observations, to));
    let mut result = assemble(
        judged,
        identities,
        observations,
        actions,
        unfilled.into_iter().collect(),
        judgement,
        started.elapsed().as_millis(),
    );
    result.site.audience = scenario.site.audience;
    result.audience_preview = audience_preview;
    progress.finish();
    Ok(result)
}

fn assemble(
    scenario: &Scenario,
    identities: Vec<IdentityReport>,
    observations: Vec<Observation>,
    actions: Vec<ActionReport>,
    unfilled_templates: Vec<String>,
    judgement: Judgement,
    duration_ms: u128,
) -> RunResult {
    let site = &scenario.site;
    let templates = observations
        .iter()
        .map(|o| (&o.method, &o.template))
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let summary = Summary {
        verdict: judgement.verdict,
        reasons: judgement.reasons,
        fail_on: judgement.fail_on,
        findings_at_or_above_fail_on: judgement.at_or_above_fail_on,
        requests: identities.iter().map(|i| i.crawled + i.replayed).sum(),
        templates,
        outcomes: judge::count_by(&observations, |o| o.outcome),
        findings: judge::count_by(&judgement.findings, |f| f.severity),
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
            evaluated_audience: site.audience,
            owner: site.owner.clone(),
            data_sources: site.data_sources.clone(),
            last_review: site.last_review.map(|d| d.to_string()),
            review_every_days: site.review_every_days,
            expires: site.expires.map(|d| d.to_string()),
            public: site.public.clone(),
        },
        identities,
        observations,
        actions,
        unfilled_templates,
        expectations: scenario
            .expects
            .iter()
            .map(ExpectationReport::new)
            .collect(),
        findings: judgement.findings,
        snapshot: None,
        audience_preview: None,
        summary,
    }
}

/// Compares the run's exposure with the approved snapshot in `store` (writing a pending one
/// when it differs) and folds the outcome into the verdict: drift fails the run, and so does
/// a missing snapshot in CI. An inconclusive run is not compared.
pub fn compare_snapshot(result: &mut RunResult, store: &snapshot::Store, ci: bool) {
    let identities: Vec<String> = result
        .identities
        .iter()
        .filter(|i| i.logged_in)
        .map(|i| i.name.clone())
        .collect();
    let matrix =
        snapshot::Matrix::from_observations(&result.site.name, &identities, &result.observations);
    let complete = result.summary.verdict != Verdict::Inconclusive;
    let report = snapshot::check(store, &matrix, complete, ci);
    if report.fails(ci) {
        if result.summary.verdict == Verdict::Pass {
            result.summary.verdict = Verdict::Fail;
            result.summary.reasons.clear();
        }
        result.summary.reasons.push(report.message.clone());
    }
    result.snapshot = Some(report);
}
