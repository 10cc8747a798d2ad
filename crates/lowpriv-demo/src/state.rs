//! What the running Site holds: the `Site` every handler gets as `SiteState` (its config, its
//! data, its session maps), the `Counters` all three origins bump, and their `DemoStats`
//! snapshot; and `random_hex`, the random ids and tokens are made of.
//!
//! Above `config` and `data`, below everything that serves requests: handlers read and update
//! this state but never define it, so no handler needs another to reach it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::{DemoConfig, Faults, Flaw};
use crate::data::{self, ACCOUNTS, Account, Employee};
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
    /// alice's logins also need her TOTP code (`DemoConfig::alice_totp`).
    pub(crate) alice_totp: bool,
    /// `POST /graphql` answers introspection (`DemoConfig::graphql_introspection`).
    pub(crate) graphql_introspection: bool,
    /// The data browser's tables, in index order; empty when it is off.
    pub(crate) tables: Vec<Table>,
    pub(crate) foreign_url: url::Url,
    /// The HR API's origin, which `/team` reads with the Site's service token.
    pub(crate) hr_url: url::Url,
    /// The client `/team` reads the HR API with: no cookie store and no default headers, so
    /// nothing of a viewer's request can ride along. `None` if it could not be built; `/team`
    /// then answers 502 as for an unreachable HR API.
    pub(crate) hr_client: Option<reqwest::Client>,
    /// Each account's CSRF token for the `/team` form, in `ACCOUNTS` order: random per Site.
    form_tokens: Vec<String>,
    pub(crate) stats: Arc<Counters>,
    /// Form-login session id -> index into `ACCOUNTS`.
    pub(crate) sessions: Mutex<HashMap<String, usize>>,
    /// `csrf_pre` cookie value -> the CSRF token issued with it.
    pub(crate) csrf: Mutex<HashMap<String, String>>,
    /// Every form-login session id ever issued, for `/_demo/issued`.
    pub(crate) issued: Mutex<Vec<String>>,
    /// JSON-login refresh token -> index into `ACCOUNTS`; each is good for one refresh.
    pub(crate) refresh_tokens: Mutex<HashMap<String, usize>>,
    /// Every refresh token ever issued, for `/_demo/issued`.
    pub(crate) issued_refresh: Mutex<Vec<String>>,
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

/// How long `/team` waits for the HR API before answering 502.
const HR_TIMEOUT: Duration = Duration::from_secs(5);

/// 32 hex characters that are unpredictable enough for a loopback demo: no
/// rand crate is available, so std's randomly keyed SipHash is fed a counter and the clock.
pub(crate) fn random_hex() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut halves = [0u64; 2];
    for half in &mut halves {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        hasher.write_u128(nanos);
        *half = hasher.finish();
    }
    format!("{:016x}{:016x}", halves[0], halves[1])
}

impl Site {
    /// A fresh Site for `config`, linking to the foreign origin at `foreign_url`, reading the
    /// HR API at `hr_url`, and counting into `stats` (shared with both origins).
    pub(crate) fn new(
        config: DemoConfig,
        foreign_url: url::Url,
        hr_url: url::Url,
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
            alice_totp: config.alice_totp,
            graphql_introspection: config.graphql_introspection,
            tables,
            foreign_url,
            hr_url,
            hr_client: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(HR_TIMEOUT)
                .build()
                .ok(),
            form_tokens: ACCOUNTS.iter().map(|_| random_hex()).collect(),
            stats,
            sessions: Mutex::new(HashMap::new()),
            csrf: Mutex::new(HashMap::new()),
            issued: Mutex::new(Vec::new()),
            refresh_tokens: Mutex::new(HashMap::new()),
            issued_refresh: Mutex::new(Vec::new()),
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

    /// The CSRF token `account` gets in the `/team` form.
    pub(crate) fn form_token(&self, account: &Account) -> Option<&str> {
        let index = ACCOUNTS
            .iter()
            .position(|known| known.name() == account.name())?;
        self.form_tokens.get(index).map(String::as_str)
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
    /// `POST /api/auth/refresh` requests, answered or refused.
    #[serde(default)]
    pub refresh_posts: u64,
    /// `POST /oauth/token` requests, answered or refused.
    #[serde(default)]
    pub token_posts: u64,
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
    /// GET requests the HR API received (every path).
    #[serde(default)]
    pub hr_gets: u64,
    /// Requests of any other method the HR API received (each answered 405).
    #[serde(default)]
    pub hr_non_gets: u64,
    /// HR API requests per person whose token they carried, by identity name.
    #[serde(default)]
    pub hr_requests_by: BTreeMap<String, u64>,
    /// HR API requests with the Site's own service token (`/team` makes one per view).
    #[serde(default)]
    pub hr_service_requests: u64,
    /// HR API requests whose `Authorization` was no token the HR API knows.
    #[serde(default)]
    pub hr_unknown_tokens: u64,
    /// HR API requests without an `Authorization` header.
    #[serde(default)]
    pub hr_no_token: u64,
    /// HR API requests that carried any `Cookie` header. The HR API sets no cookie, so one
    /// can only be another origin's (the Site's session): it must stay 0.
    #[serde(default)]
    pub hr_cookies: u64,
    /// `POST /team/compensation` requests, whoever sent them and whatever they held.
    #[serde(default)]
    pub write_requests: u64,
    /// `POST /team/compensation` requests per signed-in caller, by identity name (anonymous
    /// ones are in `write_requests` only).
    #[serde(default)]
    pub write_requests_by: BTreeMap<String, u64>,
    /// `POST /team/compensation` requests whose body was not empty: a write probe sends an
    /// empty one, so this must stay 0 when lowpriv runs.
    #[serde(default)]
    pub write_nonempty_bodies: u64,
    /// `POST /graphql` requests, whoever sent them.
    #[serde(default)]
    pub graphql_posts: u64,
    /// Of those, introspection queries (a query naming `__schema`).
    #[serde(default)]
    pub graphql_introspections: u64,
    /// Of those, other queries.
    #[serde(default)]
    pub graphql_queries: u64,
    /// Of those, mutations and subscriptions (never executed): must stay 0 when lowpriv runs.
    #[serde(default)]
    pub graphql_mutations: u64,
    /// Writes that reached the single-page app's `POST /api/app/notes` (the app tries one on
    /// start): a browser driven by lowpriv must keep this 0.
    #[serde(default)]
    pub app_writes: u64,
}

/// Live counters shared by both origins; `DemoStats` is their snapshot.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) logout_hits: AtomicU64,
    pub(crate) delete_hits: AtomicU64,
    pub(crate) foreign_hits: AtomicU64,
    pub(crate) foreign_credentials: AtomicU64,
    pub(crate) login_posts: AtomicU64,
    pub(crate) refresh_posts: AtomicU64,
    pub(crate) token_posts: AtomicU64,
    pub(crate) faults_injected: AtomicU64,
    pub(crate) requests: AtomicU64,
    pub(crate) unknown_credentials: AtomicU64,
    pub(crate) hr_gets: AtomicU64,
    pub(crate) hr_non_gets: AtomicU64,
    pub(crate) hr_requests_by: Mutex<BTreeMap<String, u64>>,
    pub(crate) hr_service_requests: AtomicU64,
    pub(crate) hr_unknown_tokens: AtomicU64,
    pub(crate) hr_no_token: AtomicU64,
    pub(crate) hr_cookies: AtomicU64,
    pub(crate) write_requests: AtomicU64,
    pub(crate) write_requests_by: Mutex<BTreeMap<String, u64>>,
    pub(crate) write_nonempty_bodies: AtomicU64,
    pub(crate) graphql_posts: AtomicU64,
    pub(crate) graphql_introspections: AtomicU64,
    pub(crate) graphql_queries: AtomicU64,
    pub(crate) graphql_mutations: AtomicU64,
    pub(crate) app_writes: AtomicU64,
    /// The wall-clock second being counted and its requests so far.
    second: Mutex<(u64, u64)>,
    max_requests_per_second: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one under `name` in a per-identity map.
    pub(crate) fn bump_named(map: &Mutex<BTreeMap<String, u64>>, name: &str) {
        *lock(map).entry(name.to_string()).or_default() += 1;
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
            refresh_posts: self.refresh_posts.load(Ordering::Relaxed),
            token_posts: self.token_posts.load(Ordering::Relaxed),
            faults_injected: self.faults_injected.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            max_requests_per_second: self.max_requests_per_second.load(Ordering::Relaxed),
            unknown_credentials: self.unknown_credentials.load(Ordering::Relaxed),
            hr_gets: self.hr_gets.load(Ordering::Relaxed),
            hr_non_gets: self.hr_non_gets.load(Ordering::Relaxed),
            hr_requests_by: lock(&self.hr_requests_by).clone(),
            hr_service_requests: self.hr_service_requests.load(Ordering::Relaxed),
            hr_unknown_tokens: self.hr_unknown_tokens.load(Ordering::Relaxed),
            hr_no_token: self.hr_no_token.load(Ordering::Relaxed),
            hr_cookies: self.hr_cookies.load(Ordering::Relaxed),
            write_requests: self.write_requests.load(Ordering::Relaxed),
            write_requests_by: lock(&self.write_requests_by).clone(),
            write_nonempty_bodies: self.write_nonempty_bodies.load(Ordering::Relaxed),
            graphql_posts: self.graphql_posts.load(Ordering::Relaxed),
            graphql_introspections: self.graphql_introspections.load(Ordering::Relaxed),
            graphql_queries: self.graphql_queries.load(Ordering::Relaxed),
            graphql_mutations: self.graphql_mutations.load(Ordering::Relaxed),
            app_writes: self.app_writes.load(Ordering::Relaxed),
        }
    }
}
