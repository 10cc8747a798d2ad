//! The pipeline, one call per stage: read as the crate's plot.
//!
//! scenario (given) → approved snapshot (read and validated before any request) → sessions →
//! crawl map → replay log → GraphQL queries (opt-in) → write probes (opt-in) → observations → judgement → snapshot comparison → verdict →
//! [`RunResult`]. Each stage returns its own type; none reaches into a later one.

use std::sync::Arc;
use std::time::Instant;

use crate::judge::{self, IdentityHealth, RunHealth, Severity};
use crate::observe::{self, Observer};
use crate::result::{IdentityReport, Parts, RunResult};
use crate::scenario::{self, Audience, Scenario};
use crate::session::{self, LoginStatus, SiteContext};
use crate::snapshot::{self, Approved, Store};
use crate::{crawl, progress, replay, stop, verdict};

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
    /// Where approved exposure snapshots live; `None`: the run is not compared with one.
    pub snapshots: Option<Store>,
    /// Running in CI: a missing approved snapshot fails the run, and none is ever written
    /// there (see [`snapshot::in_ci`]).
    pub ci: bool,
    /// `--browser`: render the HTML pages the crawl admits in headless Chromium (off by
    /// default; see `crawl::browser`).
    pub browser: crawl::browser::BrowserOptions,
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
            snapshots: None,
            ci: false,
            browser: crawl::browser::BrowserOptions::default(),
        }
    }
}

/// Errors that stop a run before it can judge anything.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Scenario(#[from] scenario::ScenarioError),
    /// The approved snapshot is broken or belongs to something else: bad input, found before
    /// any request is sent.
    #[error(transparent)]
    Snapshot(#[from] snapshot::SnapshotError),
    #[error("could not open sessions")]
    Session(#[from] session::LoginError),
    /// `--browser` without a Chromium that starts: bad input, found before any request.
    #[error(transparent)]
    Browser(#[from] crawl::browser::BrowserError),
}

/// Runs the whole pipeline against the Site the scenario names.
pub async fn run(scenario: &Scenario, options: &RunOptions) -> Result<RunResult, Error> {
    let started = Instant::now();
    let names: Vec<String> = scenario.identities.iter().map(|i| i.name.clone()).collect();
    let approved = match &options.snapshots {
        Some(store) => Approved::load(store, &scenario.site.name, &names)?,
        None => None,
    };
    let chromium = if options.browser.enabled {
        Some(crawl::browser::locate(options.browser.chromium.as_deref())?)
    } else {
        None
    };
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
    let renderer = match &chromium {
        Some(path) => Some(Arc::new(
            crawl::browser::Renderer::launch(path, scenario).await?,
        )),
        None => None,
    };
    progress.stage("crawling");
    let crawled = crawl::run(
        &sessions,
        scenario,
        observer.clone(),
        &progress,
        renderer.clone(),
    )
    .await;
    // Every task holding it has ended with the crawl: close Chromium now, before the replay.
    if let Some(renderer) = renderer.and_then(|r| Arc::try_unwrap(r).ok()) {
        renderer.close().await;
    }
    progress.stage("replaying");
    let replayed = replay::run(
        &sessions,
        &crawled,
        observer.clone(),
        scenario.crawl.concurrency,
        &progress,
    )
    .await;
    if scenario.crawl.graphql.is_some() {
        progress.stage("querying graphql");
    }
    let graphql = crate::graphql::run(&sessions, scenario, observer.clone()).await;
    if scenario.crawl.probe_writes {
        progress.stage("probing writes");
    }
    let crawled_actions: std::collections::BTreeSet<crawl::Action> = crawled
        .identities
        .iter()
        .flat_map(|own| own.actions.iter().cloned())
        .collect();
    let write_probes = crate::probe::run(&sessions, scenario, &crawled_actions).await;
    if !scenario.sources.is_empty() {
        progress.stage("probing sources");
    }
    let sources = crate::source::run(scenario, &stop).await;
    progress.stage("judging");
    let identities = identity_reports(&sessions, &crawled, &replayed);
    // The generated queries are the GraphQL endpoint's own replay: their cells join the
    // replay's, so they are finalized, sorted and judged with every other answer.
    let mut replayed = replayed;
    // Provenance of a generated query: the first identity, in scenario order, whose schema
    // has its field (the rest were sent it as a replay).
    let mut first_shown: std::collections::BTreeMap<String, String> = Default::default();
    for queried in &graphql.observations {
        for (_, obs) in queried {
            if obs.shown {
                first_shown
                    .entry(obs.url.clone())
                    .or_insert_with(|| obs.identity.clone());
            }
        }
    }
    // An answer of GraphQL errors and no data is the endpoint refusing the field (or the
    // identity's schema not having it): a refused cell, not an allowed one with nothing in it.
    let refused: std::collections::BTreeMap<(&str, &str), Option<&str>> = graphql
        .report
        .queries
        .iter()
        .flat_map(|q| {
            q.answers
                .iter()
                .filter(|a| a.answer == "errors")
                .map(move |a| ((q.url.as_str(), a.identity.as_str()), a.error.as_deref()))
        })
        .collect();
    let mut queried_all = Vec::new();
    for queried in graphql.observations {
        let mut marked = Vec::with_capacity(queried.len());
        for (request, mut obs) in queried {
            obs.found = first_shown.get(&obs.url).map(|by| observe::Found {
                via: crawl::Via::Graphql,
                by: by.clone(),
            });
            if obs.outcome == observe::Outcome::Allowed
                && obs.data.is_empty()
                && let Some(error) = refused.get(&(obs.url.as_str(), obs.identity.as_str()))
            {
                obs.outcome = observe::Outcome::Denied;
                let said: String = error.unwrap_or("").chars().take(120).collect();
                obs.reason = format!("GraphQL errors and no data: {said}");
            }
            marked.push((request, obs));
        }
        queried_all.push(marked);
    }
    for (replays, queried) in replayed.identities.iter_mut().zip(queried_all) {
        replays.replayed.extend(queried);
    }
    let graphql = graphql.report;
    let observations = observe::collect(scenario, &sessions, &crawled, replayed);

    let health = RunHealth {
        identities: sessions
            .iter()
            .zip(&crawled.identities)
            .map(|(session, own)| IdentityHealth {
                login: session.status.clone(),
                truncated: own
                    .truncated
                    .clone()
                    .or_else(|| crawl::browser::failures(&own.unrendered)),
                lost: session.lost(),
            })
            .collect(),
        stopped: stop.reason(),
    };
    let today = options
        .today
        .unwrap_or_else(|| jiff::ZonedDateTime::now().date());
    let evaluated = options.audience.unwrap_or(scenario.site.audience);
    let widened;
    let judged = if evaluated == scenario.site.audience {
        scenario
    } else {
        let mut copy = scenario.clone();
        copy.site.audience = evaluated;
        widened = copy;
        &widened
    };
    let evidence = judge::Evidence {
        observations: &observations.all,
        actions: &observations.actions,
        write_probes: &write_probes,
        sources: &sources,
        graphql: &graphql,
    };
    let judgement = judge::evaluate_all(judged, &health, &evidence, today);
    if let Some(task) = deadline {
        task.abort();
    }
    // The columns are the identities whose sessions were real: a failed login has no cells.
    let logged_in: Vec<String> = identities
        .iter()
        .filter(|i| i.logged_in)
        .map(|i| i.name.clone())
        .collect();
    // Built once: the snapshot records its facts beside the exposure, and every report
    // lays it out.
    let action_matrix =
        snapshot::ActionMatrix::build(&logged_in, &observations.actions, &write_probes, scenario);
    let exposure =
        snapshot::Matrix::from_observations(&scenario.site.name, &logged_in, &observations.all)
            .with_actions(&action_matrix);
    let snapshot = options.snapshots.as_ref().map(|store| {
        snapshot::check(
            store,
            approved.as_ref(),
            &exposure,
            judgement.is_complete(),
            options.ci,
        )
    });
    let decision = verdict::decide(
        &judgement,
        &observations.all,
        options.fail_on,
        snapshot.as_ref(),
        options.ci,
    );
    let audience_preview = options
        .audience
        .map(|to| judge::audience_preview(scenario, &observations.all, to));
    let coverage = crate::result::CoverageReport::new(
        scenario.crawl.max_per_template,
        sessions
            .iter()
            .zip(&crawled.identities)
            .filter(|(session, _)| session.status.is_usable())
            .map(|(session, own)| (session.identity.name.as_str(), &own.coverage)),
    )
    .with_discovery(&crawled.identities)
    .with_unrendered(
        sessions
            .iter()
            .zip(&crawled.identities)
            .filter(|(session, _)| session.status.is_usable())
            .map(|(session, own)| (session.identity.name.as_str(), &own.unrendered)),
    );
    let result = RunResult::assemble(
        scenario,
        evaluated,
        Parts {
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
            duration_ms: started.elapsed().as_millis(),
        },
    );
    progress.finish();
    Ok(result)
}

fn identity_reports(
    sessions: &[Arc<session::Session>],
    crawled: &crawl::CrawlMap<observe::Observation>,
    replayed: &replay::ReplayLog<observe::Observation>,
) -> Vec<IdentityReport> {
    sessions
        .iter()
        .zip(&crawled.identities)
        .zip(&replayed.identities)
        .map(|((session, own), replays)| {
            let identity = &session.identity;
            IdentityReport {
                name: identity.name.clone(),
                tier: identity.tier,
                rank: identity.rank,
                login: identity.login.as_ref().map_or("none", |l| l.method.kind()),
                logged_in: session.status.is_usable(),
                login_error: match &session.status {
                    LoginStatus::Failed(why) => Some(why.clone()),
                    _ => None,
                },
                crawled: own.fetched.len(),
                replayed: replays.replayed.len(),
                relogins: session.relogins(),
                session_lost: session.lost(),
                truncated: own.truncated.clone(),
            }
        })
        .collect()
}
