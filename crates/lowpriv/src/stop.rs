//! A run's stop signal: Ctrl-C, SIGTERM or the `--deadline` trip it, every stage selects on
//! it, and the report says why the run stopped. The first reason given is the one kept.

use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

#[derive(Clone, Debug, Default)]
pub struct Stop {
    token: CancellationToken,
    reason: Arc<Mutex<Option<String>>>,
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
        self.reason.lock().ok().and_then(|r| r.clone())
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
}
