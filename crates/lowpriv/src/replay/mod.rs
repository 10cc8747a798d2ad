//! Replay: every request any identity was shown, sent as every identity that was not.
//!
//! Input: the [`CrawlMap`] and the sessions. Output: per identity (session order), the
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

pub async fn run<O: Observe>(
    sessions: &[Arc<Session>],
    crawl: &CrawlMap<O::Output>,
    observer: Arc<O>,
    concurrency: usize,
    progress: &ProgressHandle,
) -> Vec<Vec<(Request, O::Output)>> {
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
                if !session.status.is_usable() {
                    return Vec::new();
                }
                let stop = session.site.stop.clone();
                futures::stream::iter(todo)
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
                    .await
            }
        });
    futures::future::join_all(per_identity).await
}
