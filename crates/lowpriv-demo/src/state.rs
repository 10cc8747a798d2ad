//! What the running Site holds: the `Site` every handler gets as `SiteState` (its config, its
//! data, its session maps), the `Counters` both origins bump, and their `DemoStats` snapshot.
//!
//! Above `config` and `data`, below everything that serves requests: handlers read and update
//! this state but never define it, so no handler needs another to reach it.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::{DemoConfig, Faults, Flaw};
use crate::data::{self, ACCOUNTS, Employee};
use crate::table::{Cell, Column, Private, Table};

/// Everything the handlers share.
pub(crate) struct Site {
    fixed: bool,
    /// Flaws served even when `fixed` (to make one exposure change at a time).
    reopened: Vec<Flaw>,
    pub(crate) db_password: String,
    /// Each account's password, in `ACCOUNTS` order: the documented one unless the config
    /// replaced it.
    passwords: Vec<String>,
    pub(crate) employees: Vec<Employee>,
    /// Whether `/data` is served (`DemoConfig::data_browser`).
    pub(crate) data_browser: bool,
    /// The data browser's tables, in index order; empty when it is off.
    pub(crate) tables: Vec<Table>,
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
        let employees = data::employees(config.extra_employees);
        let passwords = ACCOUNTS
            .iter()
            .map(|account| {
                config
                    .passwords
                    .get(account.user.name)
                    .cloned()
                    .unwrap_or_else(|| account.user.password.to_string())
            })
            .collect();
        let tables = if config.data_browser {
            data_tables(&employees)
        } else {
            Vec::new()
        };
        Arc::new(Site {
            fixed: config.fixed,
            reopened: config.reopened,
            faults: config.faults,
            requests: AtomicU64::new(0),
            session_uses: Mutex::new(HashMap::new()),
            failed_once: Mutex::new(HashSet::new()),
            db_password: config.db_password,
            passwords,
            employees,
            data_browser: config.data_browser,
            tables,
            foreign_url,
            stats,
            sessions: Mutex::new(HashMap::new()),
            csrf: Mutex::new(HashMap::new()),
            issued: Mutex::new(Vec::new()),
        })
    }

    /// The password of `ACCOUNTS[index]` on this Site.
    pub(crate) fn password(&self, index: usize) -> Option<&str> {
        self.passwords.get(index).map(String::as_str)
    }

    /// Whether `password` is any account's password on this Site: one that is not was never
    /// given out here (a typo, or a credential from another Site of a fleet).
    pub(crate) fn is_own_password(&self, password: &str) -> bool {
        self.passwords.iter().any(|own| own == password)
    }

    /// Whether this Site ever issued `sid` as a form-login session id (a session since logged
    /// out included).
    pub(crate) fn issued_session(&self, sid: &str) -> bool {
        lock(&self.sessions).contains_key(sid) || lock(&self.issued).iter().any(|s| s == sid)
    }

    /// Whether this flaw is fixed in the Site being served.
    pub(crate) fn is_fixed(&self, flaw: Flaw) -> bool {
        self.fixed && !self.reopened.contains(&flaw)
    }
}

/// The data browser's tables, built once from the Site's data: `employees` (the same records
/// as the API, with each one's department and private notes), `expenses`, `projects` and
/// `audit_log`. Growing `extra_employees` adds rows (and so page numbers and facet values),
/// never columns.
fn data_tables(employees: &[Employee]) -> Vec<Table> {
    let columns = |names: &[(&'static str, bool)]| -> Vec<Column> {
        names
            .iter()
            .map(|&(name, facet)| Column { name, facet })
            .collect()
    };
    let text = |s: &str| Cell::Text(s.to_string());
    let employees = Table {
        name: "employees",
        columns: columns(&[
            ("id", false),
            ("name", false),
            ("email", false),
            ("title", true),
            ("department", true),
            ("salary", false),
            ("bonus", false),
            ("private_notes", false),
        ]),
        rows: employees
            .iter()
            .map(|e| {
                vec![
                    Cell::Int(i64::from(e.id)),
                    text(&e.name),
                    text(&e.email),
                    text(&e.title),
                    text(data::department(&e.title)),
                    Cell::Int(i64::try_from(e.salary).unwrap_or(i64::MAX)),
                    Cell::Int(i64::try_from(e.bonus).unwrap_or(i64::MAX)),
                    text(&e.private_notes),
                ]
            })
            .collect(),
        // Private notes are their employee's own, as in `/api/employees/{id}`.
        private: Some(Private {
            column: 7,
            owner: 0,
        }),
    };
    let expenses = Table {
        name: "expenses",
        columns: columns(&[
            ("id", false),
            ("employee", true),
            ("category", true),
            ("month", false),
            ("amount", false),
            ("status", true),
        ]),
        rows: data::expenses()
            .into_iter()
            .map(|x| {
                vec![
                    Cell::Int(i64::from(x.id)),
                    text(x.employee),
                    text(x.category),
                    text(x.month),
                    Cell::Int(x.amount),
                    text(x.status),
                ]
            })
            .collect(),
        private: None,
    };
    let projects = Table {
        name: "projects",
        columns: columns(&[
            ("id", false),
            ("name", false),
            ("department", true),
            ("lead", true),
            ("status", true),
            ("budget", false),
        ]),
        rows: data::projects()
            .into_iter()
            .map(|p| {
                vec![
                    Cell::Int(i64::from(p.id)),
                    text(&p.name),
                    text(p.department),
                    text(p.lead),
                    text(p.status),
                    Cell::Int(p.budget),
                ]
            })
            .collect(),
        private: None,
    };
    let audit_log = Table {
        name: "audit_log",
        columns: columns(&[
            ("id", false),
            ("at", false),
            ("actor", true),
            ("action", true),
            ("target", false),
        ]),
        rows: data::audit_log()
            .into_iter()
            .map(|a| {
                vec![
                    Cell::Int(i64::from(a.id)),
                    text(&a.at),
                    text(a.actor),
                    text(a.action),
                    text(&a.target),
                ]
            })
            .collect(),
        private: None,
    };
    vec![employees, expenses, projects, audit_log]
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
    /// Requests the Site's router received (the foreign origin's not counted), every route
    /// and identity together.
    #[serde(default)]
    pub requests: u64,
    /// The most requests the Site received within one wall-clock second (UTC seconds of the
    /// system clock), every identity together: a scanner keeping its `rate_limit` stays at or
    /// under it.
    #[serde(default)]
    pub max_requests_per_second: u64,
    /// Credentials this Site never gave out, each time one arrived: a session cookie (`sid`)
    /// it never issued, or a password (form login or Basic) that is none of its accounts'.
    /// In a fleet where every Site has its own passwords, anything here came from elsewhere.
    /// (Credentials sent *to* the foreign origin are `foreign_credentials`.)
    #[serde(default)]
    pub unknown_credentials: u64,
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
    pub(crate) requests: AtomicU64,
    pub(crate) unknown_credentials: AtomicU64,
    /// The wall-clock second being counted and its requests so far.
    second: Mutex<(u64, u64)>,
    max_requests_per_second: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn bump_fault(&self) {
        Counters::bump(&self.faults_injected);
    }

    /// Counts one request the Site received now.
    pub(crate) fn count_request(&self) {
        Counters::bump(&self.requests);
        let in_second = {
            let mut current = lock(&self.second);
            // Read under the lock, so the seconds counted never go backwards between callers.
            let second = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            if current.0 != second {
                *current = (second, 0);
            }
            current.1 += 1;
            current.1
        };
        self.max_requests_per_second
            .fetch_max(in_second, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> DemoStats {
        DemoStats {
            logout_hits: self.logout_hits.load(Ordering::Relaxed),
            delete_hits: self.delete_hits.load(Ordering::Relaxed),
            foreign_hits: self.foreign_hits.load(Ordering::Relaxed),
            foreign_credentials: self.foreign_credentials.load(Ordering::Relaxed),
            login_posts: self.login_posts.load(Ordering::Relaxed),
            faults_injected: self.faults_injected.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            max_requests_per_second: self.max_requests_per_second.load(Ordering::Relaxed),
            unknown_credentials: self.unknown_credentials.load(Ordering::Relaxed),
        }
    }
}
