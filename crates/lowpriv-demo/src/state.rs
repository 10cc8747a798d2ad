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
use crate::table::{Cell, Column, Private, Table};

/// Everything the handlers share.
pub(crate) struct Site {
    fixed: bool,
    /// Flaws served even when `fixed` (to make one exposure change at a time).
    reopened: Vec<Flaw>,
    pub(crate) db_password: String,
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
