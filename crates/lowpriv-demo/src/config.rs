//! What a caller asks of the Site: the configuration (`DemoConfig`, its `Faults`), the planted
//! `Flaw`s that `fixed` switches off, and the `Chaos` fault kinds.
//!
//! The bottom layer with `data`: plain values, no axum, no imports from the crate, so every
//! other layer can name them. `chaos.rs` injects the faults described here.

use std::collections::BTreeMap;
use std::str::FromStr;

/// How the demo Site behaves.
#[derive(Clone, Debug)]
pub struct DemoConfig {
    /// Serve the Site with every deliberate flaw fixed.
    pub fixed: bool,
    /// The "runtime database password" that the flawed `/static/app.js` leaks.
    pub db_password: String,
    /// Generated employees appended after the fixed ones (ids 7..), for load tests.
    pub extra_employees: usize,
    /// Flaws served even when `fixed` is set: one exposure change at a time, for tests of
    /// drift.
    pub reopened: Vec<Flaw>,
    /// Faults for reliability tests (all off by default).
    pub faults: Faults,
    /// Serve the data-browser section under `/data` (sortable, faceted, paginated tables with
    /// CSV and JSON twins: tens of thousands of query-variant URLs, see docs/demo-site.md).
    /// On by default: `lowpriv demo`, the tests and the demo scenario cover it; off serves the
    /// Site without `/data`.
    pub data_browser: bool,
    /// Passwords that replace the documented ones (`USERS`), by user name. A demo fleet gives
    /// each Site its own, so a password carried over from another Site is refused there, and
    /// counted (`DemoStats::unknown_credentials`).
    pub passwords: BTreeMap<String, String>,
    /// alice's form and JSON logins also ask for a TOTP code (`otp`) from
    /// [`crate::ALICE_TOTP_SEED`], the current 30-second step's or the one before.
    pub alice_totp: bool,
    /// `POST /graphql` answers introspection (on by default); off, it answers `errors` and
    /// no `__schema`, as production servers often do.
    pub graphql_introspection: bool,
}

/// Deterministic faults: every Nth request (counted over the whole Site, the login form and
/// `/_demo/*` excepted) misbehaves, but the same request (URL and credentials) never twice,
/// so a client that retries recovers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Added to every response.
    pub latency_ms: u64,
    /// Every Nth request answers 503.
    pub unavailable_every: Option<u64>,
    /// Every Nth request answers 429 with `Retry-After: 1`.
    pub throttle_every: Option<u64>,
    /// A form-login session expires after this many requests.
    pub session_ttl: Option<u32>,
    /// `POST /api/auth/refresh` refuses every refresh token (401): a refresh token that
    /// stopped working.
    pub refresh_revoked: bool,
    /// Seeded fault kinds (`--chaos`); see [`Chaos`].
    pub chaos: Vec<Chaos>,
    /// Chooses which requests the chaos hits; the same seed hits the same ones.
    pub seed: u64,
}

/// The planted flaws, one per row of docs/demo-site.md's table (the JS-only and 404 endpoints are
/// correct, so they are not here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flaw {
    /// `/admin/users` checks login, not role.
    AdminUsers,
    /// `/payroll/summary` checks login, not role.
    PayrollSummary,
    /// `/api/employees/{id}` returns any record to any signed-in user.
    EmployeeIdor,
    /// `/static/app.js` embeds the runtime database password.
    SecretInBundle,
    /// `/reports/quarterly` admits company-tier users.
    QuarterlyAudience,
    /// `/api/directory` returns salaries to everyone signed in.
    DirectorySalaries,
    /// `/api/admin/stats` checks nothing.
    AdminStatsOpen,
    /// `/hr/reviews` admits employees but not HR.
    ReviewsInverted,
    /// `/data/employees.csv` skips the view's access check and private-notes filter (only
    /// served with `DemoConfig::data_browser`).
    DataExportUnfiltered,
    /// `/team` shows every row's compensation, read from the HR API with the Site's service
    /// token, to every team member: more than the viewer's own HR API token gives them.
    TeamCompensation,
    /// `/team` shows the "adjust compensation" form to every team member, and
    /// `POST /team/compensation` checks login, not role.
    CompensationWrite,
    /// `POST /graphql`: the schema hides `Employee`'s pay fields from employees,
    /// but the resolver answers them when asked.
    GraphqlPayFields,
    /// `/api/app/salaries` (the single-page app's "Salaries" tab, `spa.rs`) checks login,
    /// not role.
    AppSalaries,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            fixed: false,
            db_password: "demo-db-password-not-set".to_string(),
            extra_employees: 0,
            reopened: Vec::new(),
            faults: Faults::default(),
            data_browser: true,
            passwords: BTreeMap::new(),
            alice_totp: false,
            graphql_introspection: true,
        }
    }
}

/// A seeded fault kind (`--chaos`); `chaos.rs` explains the three families and injects them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Chaos {
    ServerError,
    Reset,
    SlowHeaders,
    SlowBody,
    Throttle,
    Truncated,
    Oversized,
    GzipBomb,
    RedirectLoop,
    InvalidUtf8,
    DeepHtml,
    Calendar,
    QueryTrap,
    /// Form-login sessions expire every few requests, mid-crawl.
    SessionExpiry,
}

impl Chaos {
    pub const ALL: [Chaos; 14] = [
        Chaos::ServerError,
        Chaos::Reset,
        Chaos::SlowHeaders,
        Chaos::SlowBody,
        Chaos::Throttle,
        Chaos::Truncated,
        Chaos::Oversized,
        Chaos::GzipBomb,
        Chaos::RedirectLoop,
        Chaos::InvalidUtf8,
        Chaos::DeepHtml,
        Chaos::Calendar,
        Chaos::QueryTrap,
        Chaos::SessionExpiry,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Chaos::ServerError => "5xx",
            Chaos::Reset => "reset",
            Chaos::SlowHeaders => "slow-headers",
            Chaos::SlowBody => "slow-body",
            Chaos::Throttle => "throttle",
            Chaos::Truncated => "truncated",
            Chaos::Oversized => "oversized",
            Chaos::GzipBomb => "gzip-bomb",
            Chaos::RedirectLoop => "redirect-loop",
            Chaos::InvalidUtf8 => "invalid-utf8",
            Chaos::DeepHtml => "deep-html",
            Chaos::Calendar => "calendar",
            Chaos::QueryTrap => "query-trap",
            Chaos::SessionExpiry => "session-expiry",
        }
    }

    /// Hits a request once; a retry gets the real answer.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Chaos::ServerError
                | Chaos::Reset
                | Chaos::SlowHeaders
                | Chaos::SlowBody
                | Chaos::Throttle
                | Chaos::Truncated
        )
    }

    /// Always hits the same URLs: no client can recover them.
    pub fn is_persistent(self) -> bool {
        matches!(
            self,
            Chaos::Oversized | Chaos::GzipBomb | Chaos::RedirectLoop
        )
    }

    /// `all`, or a comma-separated list of kinds.
    pub fn parse_list(text: &str) -> Result<Vec<Chaos>, String> {
        if text.trim() == "all" {
            return Ok(Chaos::ALL.to_vec());
        }
        text.split(',')
            .map(|k| k.trim().parse())
            .collect::<Result<Vec<_>, _>>()
    }
}

impl FromStr for Chaos {
    type Err = String;
    fn from_str(s: &str) -> Result<Chaos, String> {
        Chaos::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Chaos::ALL.iter().map(|c| c.as_str()).collect();
                format!(
                    "unknown chaos kind `{s}` (expected all or {})",
                    names.join(", ")
                )
            })
    }
}
