//! A run's stop signal: Ctrl-C, SIGTERM or the `--deadline` trip it, every stage selects on
//! it, and the report says why the run stopped. The first reason given is the one kept.

use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

#[derive(Clone, Debug, Default)]
pub struct Stop {
    token: CancellationToken,
    reason: Arc<Mutex<Option<String>>>,
    /// A fleet's stop, for one Site's run: stopping the fleet stops the Site (with the
    /// fleet's reason), stopping the Site (its deadline) leaves the fleet running.
    parent: Option<Box<Stop>>,
}

impl Stop {
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Stops the run; later reasons are ignored.
    pub fn stop(&self, reason: impl Into<String>) {
        if let Ok(mut slot) = self.reason.lock()
            && slot.is_none()
        {
            *slot = Some(reason.into());
        }
        self.token.cancel();
    }

    pub fn is_stopped(&self) -> bool {
        self.token.is_cancelled()
    }

    pub fn reason(&self) -> Option<String> {
        let own = self.reason.lock().ok().and_then(|r| r.clone());
        own.or_else(|| self.parent.as_ref().and_then(|p| p.reason()))
    }

    /// A stop of its own that the parent's stop also trips (one per Site of a fleet).
    pub fn child(&self) -> Stop {
        Stop {
            token: self.token.child_token(),
            reason: Arc::default(),
            parent: Some(Box::new(self.clone())),
        }
    }

    /// Resolves once the run is stopped.
    pub async fn stopped(&self) {
        self.token.cancelled().await;
    }

    /// Sleeps, unless the run stops first; returns whether the whole sleep happened.
    pub async fn sleep(&self, duration: std::time::Duration) -> bool {
        tokio::select! {
            _ = self.token.cancelled() => false,
            _ = tokio::time::sleep(duration) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_first_reason_is_kept_and_sleeps_end_early() {
        let stop = super::Stop::new();
        assert!(!stop.is_stopped());
        let sleeper = stop.clone();
        let sleep =
            tokio::spawn(async move { sleeper.sleep(std::time::Duration::from_secs(30)).await });
        stop.stop("deadline");
        stop.stop("interrupted");
        assert!(!sleep.await.unwrap(), "the sleep was cut short");
        assert_eq!(stop.reason().as_deref(), Some("deadline"));
    }

    #[test]
    fn a_child_stops_with_its_parent_and_alone() {
        let fleet = super::Stop::new();
        let (one, two) = (fleet.child(), fleet.child());
        one.stop("the deadline of 5 s passed");
        assert!(one.is_stopped() && !two.is_stopped() && !fleet.is_stopped());
        fleet.stop("interrupted by a signal");
        assert!(two.is_stopped());
        assert_eq!(two.reason().as_deref(), Some("interrupted by a signal"));
        assert_eq!(one.reason().as_deref(), Some("the deadline of 5 s passed"));
    }
}
