//! Replay: every request any identity was shown, sent as every identity that was not.
//!
//! Input: the [`CrawlMap`] and the sessions. Output: a [`ReplayLog`]: per identity (session order), the
//! observations of the requests it was never shown. This is how a page that is hidden from
//! an identity but not protected from it is found. Only requests some identity really sent
//! are replayed (skipped ones stay skipped), so replay is as safe as the crawl.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use futures::StreamExt;

use crate::crawl::{CrawlMap, Observe, Request};
use crate::progress::ProgressHandle;
use crate::session::Session;

/// The union of every request sent during the crawl, in a stable order.
pub fn union<O>(crawl: &CrawlMap<O>) -> BTreeSet<Request> {
    crawl
        .identities
        .iter()
        .flat_map(|c| c.fetched.iter().map(|(r, _)| r.clone()))
        .collect()
}

/// What the replay sent, per identity in session order.
#[derive(Debug)]
pub struct ReplayLog<O> {
    pub identities: Vec<IdentityReplay<O>>,
}

/// One identity's replayed requests (the ones it was never shown), in the order they
/// completed.
#[derive(Debug)]
pub struct IdentityReplay<O> {
    pub identity: String,
    pub replayed: Vec<(Request, O)>,
}

pub async fn run<O: Observe>(
    sessions: &[Arc<Session>],
    crawl: &CrawlMap<O::Output>,
    observer: Arc<O>,
    concurrency: usize,
    progress: &ProgressHandle,
) -> ReplayLog<O::Output> {
    let all = union(crawl);
    let per_identity = sessions
        .iter()
        .zip(&crawl.identities)
        .map(|(session, own)| {
            let observer = observer.clone();
            let session = session.clone();
            let progress = progress.clone();
            let already: HashSet<&Request> = own.fetched.iter().map(|(r, _)| r).collect();
            let todo: Vec<Request> = all
                .iter()
                .filter(|r| !already.contains(r))
                .cloned()
                .collect();
            async move {
                let identity = session.identity.name.clone();
                if !session.status.is_usable() {
                    return IdentityReplay {
                        identity,
                        replayed: Vec::new(),
                    };
                }
                let stop = session.site.stop.clone();
                let replayed = futures::stream::iter(todo)
                    // Nothing new is sent once the run is stopped.
                    .take_until(Box::pin(async move { stop.stopped().await }))
                    .map(|request| {
                        let session = session.clone();
                        let observer = observer.clone();
                        let progress = progress.clone();
                        async move {
                            let response = session.fetch(&request.url).await;
                            let failed = response.as_ref().map_or(true, |r| r.status >= 500);
                            progress.answered(&session.identity.name, failed);
                            let observation =
                                observer.observe(&session.identity, &request, &response, false);
                            (request, observation)
                        }
                    })
                    .buffer_unordered(concurrency.max(1))
                    .collect::<Vec<_>>()
                    .await;
                IdentityReplay { identity, replayed }
            }
        });
    ReplayLog {
        identities: futures::future::join_all(per_identity).await,
    }
}
