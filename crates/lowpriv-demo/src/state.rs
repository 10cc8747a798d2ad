//! What the running Site holds: the `Site` every handler gets as `SiteState` (its config, its
//! data, its session maps), the `Counters` both origins bump, and their `DemoStats` snapshot.
//!
//! Above `config` and `data`, below everything that serves requests: handlers read and update
//! this state but never define it, so no handler needs another to reach it.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::config::{DemoConfig, Faults, Flaw};
use crate::data::{self, Employee};

/// Everything the handlers share.
pub(crate) struct Site {
    fixed: bool,
    /// Flaws served even when `fixed` (to make one exposure change at a time).
    reopened: Vec<Flaw>,
    pub(crate) db_password: String,
    pub(crate) employees: Vec<Employee>,
    pub(crate) foreign_url: url::Url,
    pub(crate) stats: Arc<Counters>,
    /// Form-login session id -> index into `ACCOUNTS`.
    pub(crate) sessions: Mutex<HashMap<String, usize>>,
    /// `csrf_pre` cookie value -> the CSRF token issued with it.
    pub(crate) csrf: Mutex<HashMap<String, String>>,
    /// Every form-login session id ever issued, for `/_demo/issued`.
    pub(crate) issued: Mutex<Vec<String>>,
    pub(crate) faults: Faults,
    /// Requests counted for `faults` (login and `/_demo/*` excepted).
    pub(crate) requests: AtomicU64,
    /// Requests made with each form-login session, for `faults.session_ttl`.
    pub(crate) session_uses: Mutex<HashMap<String, u32>>,
    /// Requests (by path, query and credentials) that already failed once: the same request
    /// never fails twice, so a client that retries always recovers.
    pub(crate) failed_once: Mutex<HashSet<String>>,
}

pub(crate) type SiteState = Arc<Site>;

impl Site {
    /// A fresh Site for `config`, linking to the foreign origin at `foreign_url` and counting
    /// into `stats` (shared with that origin).
    pub(crate) fn new(
        config: DemoConfig,
        foreign_url: url::Url,
        stats: Arc<Counters>,
    ) -> SiteState {
        Arc::new(Site {
            fixed: config.fixed,
            reopened: config.reopened,
            faults: config.faults,
            requests: AtomicU64::new(0),
            session_uses: Mutex::new(HashMap::new()),
            failed_once: Mutex::new(HashSet::new()),
            db_password: config.db_password,
            employees: data::employees(config.extra_employees),
            foreign_url,
            stats,
            sessions: Mutex::new(HashMap::new()),
            csrf: Mutex::new(HashMap::new()),
            issued: Mutex::new(Vec::new()),
        })
    }

    /// Whether this flaw is fixed in the Site being served.
    pub(crate) fn is_fixed(&self, flaw: Flaw) -> bool {
        self.fixed && !self.reopened.contains(&flaw)
    }
}

/// A poisoned lock only means another handler panicked mid-update; the maps
/// stay usable for a demo, so carry on rather than fail every later request.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Counters the tests and the CLI read to prove the scanner stayed clear of traps.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DemoStats {
    pub logout_hits: u64,
    pub delete_hits: u64,
    pub foreign_hits: u64,
    pub foreign_credentials: u64,
    pub login_posts: u64,
    /// Faults the chaos injected (every kind counted).
    pub faults_injected: u64,
}

/// Live counters shared by both origins; `DemoStats` is their snapshot.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) logout_hits: AtomicU64,
    pub(crate) delete_hits: AtomicU64,
    pub(crate) foreign_hits: AtomicU64,
    pub(crate) foreign_credentials: AtomicU64,
    pub(crate) login_posts: AtomicU64,
    pub(crate) faults_injected: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn bump_fault(&self) {
        Counters::bump(&self.faults_injected);
    }

    pub(crate) fn snapshot(&self) -> DemoStats {
        DemoStats {
            logout_hits: self.logout_hits.load(Ordering::Relaxed),
            delete_hits: self.delete_hits.load(Ordering::Relaxed),
            foreign_hits: self.foreign_hits.load(Ordering::Relaxed),
            foreign_credentials: self.foreign_credentials.load(Ordering::Relaxed),
            login_posts: self.login_posts.load(Ordering::Relaxed),
            faults_injected: self.faults_injected.load(Ordering::Relaxed),
        }
    }
}
