//! Progress of a run, for whoever shows it (the CLI draws bars on a terminal and prints plain
//! lines elsewhere). The library only reports events; it never draws.

use std::fmt;
use std::sync::Arc;

/// What a run reports while it works. Every method has a default that ignores the event.
pub trait Progress: Send + Sync {
    /// A stage starts: "logging in", "crawling", "replaying", "judging".
    fn stage(&self, _stage: &str) {}
    /// One request as `identity` was answered (`error`: no usable answer).
    fn answered(&self, _identity: &str, _error: bool) {}
    /// How many requests wait in `identity`'s crawl queue.
    fn queued(&self, _identity: &str, _queued: usize) {}
    /// A round of `identity`'s crawl is over: templates and URLs done, and what waits.
    /// Calls `queued` by default, for a display that only shows the queue.
    fn crawled(&self, identity: &str, progress: CrawlProgress) {
        self.queued(identity, progress.queued);
    }
    /// The run is over.
    fn finish(&self) {}
}

/// Where one identity's crawl stands, after a round of its frontier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CrawlProgress {
    /// Templates at least one request of which was sent.
    pub templates_observed: usize,
    /// Templates found and waiting, never sent yet.
    pub templates_waiting: usize,
    /// Requests sent.
    pub sent: usize,
    /// Requests waiting (within their templates' samples).
    pub queued: usize,
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {}

/// A shareable [`Progress`].
#[derive(Clone)]
pub struct ProgressHandle(pub Arc<dyn Progress>);

impl Default for ProgressHandle {
    fn default() -> Self {
        ProgressHandle(Arc::new(Silent))
    }
}

impl fmt::Debug for ProgressHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProgressHandle")
    }
}

impl std::ops::Deref for ProgressHandle {
    type Target = dyn Progress;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}
