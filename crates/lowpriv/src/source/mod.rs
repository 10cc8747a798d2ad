//! Source systems (`[[source]]`): each is probed as each identity, with that identity's own
//! login to the source, and what it returned derives what that identity may see on the Site.
//!
//! Input: the scenario's sources and the Site's identities. Output: a [`SourceLog`], one
//! [`SourceProbes`] per source. Invariants: only GET is sent; each source's credentials go
//! only to its own origin (and the Site's never do); the same politeness as the Site's crawl
//! (rate limit, concurrency, timeouts, body bound); a source login that fails, or a probe
//! answered with an error, makes the source's answers unknown, which the judge reports as
//! incomplete (never a pass).

use serde::Serialize;

use crate::observe::Observation;

/// How one identity fared logging in to one source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceIdentity {
    pub identity: String,
    /// The login kind (`bearer`, `form`, ...), or `none` when sent without credentials.
    pub login: &'static str,
    pub logged_in: bool,
    /// Why the login failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// One source: who logged in, and every probe as every identity.
#[derive(Clone, Debug, Serialize)]
pub struct SourceProbes {
    pub name: String,
    pub base_url: String,
    /// In scenario order.
    pub identities: Vec<SourceIdentity>,
    /// One per (probe, identity), by probe in file order then identity in scenario order.
    /// An identity whose source login failed has none.
    pub observations: Vec<Observation>,
}

/// Every source of a run, in file order.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SourceLog {
    pub sources: Vec<SourceProbes>,
}

use std::sync::Arc;

use crate::crawl::{Observe, Request};
use crate::observe::{self, Observer};
use crate::scenario::{Builtin, LoginMethod, Scenario, Source};
use crate::session::{self, LoginStatus, Session, SiteContext};
use crate::stop::Stop;

/// Probes every `[[source]]` as every identity: one source after another, each identity's
/// probes in file order, the identities at once (the source's rate limit spaces them).
pub async fn run(scenario: &Scenario, stop: &Stop) -> SourceLog {
    let mut sources = Vec::new();
    for source in &scenario.sources {
        if stop.is_stopped() {
            break;
        }
        sources.push(probe(scenario, source, stop).await);
    }
    SourceLog { sources }
}

/// The scenario as the source sees it: the source's origin, each identity with its login
/// to the source (or none), the classes that name this source, and the Site's politeness.
/// Nothing of the Site's own logins, public paths or deny markers carries over.
fn as_source(scenario: &Scenario, source: &Source) -> Scenario {
    let mut derived = scenario.clone();
    derived.site.base_url = source.base_url.clone();
    derived.site.public = Vec::new();
    derived.site.public_globs = crate::scenario::PathGlobs::empty();
    derived.session.deny_markers = Vec::new();
    // A form or JSON login to the source says where its login lives; a redirect there is a
    // refusal, as the Site's login path is for the Site.
    if let Some(path) = source
        .logins
        .iter()
        .find_map(|(_, login)| match &login.method {
            LoginMethod::Form { form, .. } => Some(form.clone()),
            LoginMethod::Json { path, .. } => Some(path.clone()),
            _ => None,
        })
    {
        derived.session.login_path = path;
    }
    derived.crawl.seeds = source.probes.clone();
    for identity in &mut derived.identities {
        identity.login = source.login_for(&identity.name).cloned();
    }
    derived.data = scenario
        .data
        .iter()
        .filter(|class| class.source.as_deref() == Some(source.name.as_str()))
        .cloned()
        .collect();
    // The secret rules judge the Site's answers; a source's answers only say what it gives.
    derived.classify.disable = Builtin::ALL.into_iter().filter(|b| b.is_secret()).collect();
    derived.sources = Vec::new();
    derived.expects = Vec::new();
    derived.accepts = Vec::new();
    derived
}

async fn probe(scenario: &Scenario, source: &Source, stop: &Stop) -> SourceProbes {
    let derived = as_source(scenario, source);
    let site = SiteContext::new(&derived, stop.clone());
    let mut report = SourceProbes {
        name: source.name.clone(),
        base_url: source.base_url.to_string(),
        identities: Vec::new(),
        observations: Vec::new(),
    };
    let sessions = match session::open_all(&derived, &site).await {
        Ok(sessions) => sessions,
        Err(error) => {
            // No client could be built: every identity's view of the source is unknown.
            report.identities = derived
                .identities
                .iter()
                .map(|identity| SourceIdentity {
                    identity: identity.name.clone(),
                    login: login_kind(source, &identity.name),
                    logged_in: false,
                    failure: Some(error.to_string()),
                })
                .collect();
            return report;
        }
    };
    let sessions: Vec<Arc<Session>> = sessions.into_iter().map(Arc::new).collect();
    report.identities = sessions
        .iter()
        .map(|session| SourceIdentity {
            identity: session.identity.name.clone(),
            login: login_kind(source, &session.identity.name),
            logged_in: session.status.is_usable(),
            failure: match &session.status {
                LoginStatus::Failed(why) => Some(why.clone()),
                LoginStatus::NotRequired | LoginStatus::LoggedIn => None,
            },
        })
        .collect();
    let observer = Arc::new(Observer::new(&derived, site.clone()));
    let probes: Vec<Request> = source
        .probes
        .iter()
        .filter_map(|path| site.resolve(path))
        .map(Request::get)
        .collect();
    let per_identity = sessions
        .iter()
        .filter(|session| session.status.is_usable())
        .map(|session| {
            let (observer, probes, stop) = (observer.clone(), probes.clone(), stop.clone());
            let session = session.clone();
            async move {
                let mut seen = Vec::new();
                for request in &probes {
                    if stop.is_stopped() {
                        break;
                    }
                    let result = session.fetch(&request.url).await;
                    tracing::debug!(
                        source = %source.name,
                        identity = %session.identity.name,
                        url = %request.url,
                        "source probe"
                    );
                    seen.push(observer.observe(&session.identity, request, &result, true));
                }
                seen
            }
        });
    let mut observations: Vec<observe::Observation> = futures::future::join_all(per_identity)
        .await
        .into_iter()
        .flatten()
        .collect();
    observe::finalize(&mut observations, &derived.identities);
    let order = |name: &str| derived.identities.iter().position(|i| i.name == name);
    let probe_order = |url: &str| probes.iter().position(|r| r.url.as_str() == url);
    observations.sort_by_key(|o| (probe_order(&o.url), order(&o.identity)));
    report.observations = observations;
    report
}

fn login_kind(source: &Source, identity: &str) -> &'static str {
    source
        .login_for(identity)
        .map_or("none", |login| login.method.kind())
}
