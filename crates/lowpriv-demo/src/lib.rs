//! The embedded demo Site ("Acme Payroll"): a small axum app with deliberate
//! access-control flaws for the scanner to find, a `fixed` mode without them,
//! and a second "foreign" origin that counts credentials leaked to it.
//!
//! The flaws are documented next to the handlers that carry them (`pages.rs`,
//! `api.rs`); `DemoConfig::fixed` switches every one of them off.

mod api;
mod auth;
mod chaos;
mod data;
mod foreign;
mod hostile;
mod pages;
mod runner;
mod site;
#[cfg(test)]
mod tests;

pub use runner::{DemoError, run, run_with};

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

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
    /// Seeded fault kinds (`--chaos`); see [`Chaos`].
    pub chaos: Vec<Chaos>,
    /// Chooses which requests the chaos hits; the same seed hits the same ones.
    pub seed: u64,
}

pub use chaos::Chaos;

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
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            fixed: false,
            db_password: "demo-db-password-not-set".to_string(),
            extra_employees: 0,
            reopened: Vec::new(),
            faults: Faults::default(),
        }
    }
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
    logout_hits: AtomicU64,
    delete_hits: AtomicU64,
    foreign_hits: AtomicU64,
    foreign_credentials: AtomicU64,
    login_posts: AtomicU64,
    faults_injected: AtomicU64,
}

impl Counters {
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn bump_fault(&self) {
        Counters::bump(&self.faults_injected);
    }

    fn snapshot(&self) -> DemoStats {
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

/// A demo account.
pub struct DemoUser {
    pub name: &'static str,
    pub password: &'static str,
    pub token: &'static str,
    /// The scenario variable that carries this user's password.
    pub env_var: &'static str,
}

/// The demo accounts, with fixed, documented credentials (they only ever
/// guard a loopback demo):
///
/// | user  | role                      | password             | API token              |
/// |-------|---------------------------|----------------------|------------------------|
/// | alice | owner                     | `alice-demo-pw-7Hq2` | `tok-alice-4f1d9a7c2b` |
/// | bob   | hr                        | `bob-demo-pw-9Lm4`   | `tok-bob-8e2c5b1a9d`   |
/// | carol | employee                  | `carol-demo-pw-3Xv8` | `tok-carol-3a7f0e6d1c` |
/// | dave  | staff, not on the team    | `dave-demo-pw-5Tn1`  | `tok-dave-6b9d2c8e4f`  |
pub const USERS: [DemoUser; 4] = [
    DemoUser {
        name: "alice",
        password: "alice-demo-pw-7Hq2",
        token: "tok-alice-4f1d9a7c2b",
        env_var: "DEMO_ALICE_PASSWORD",
    },
    DemoUser {
        name: "bob",
        password: "bob-demo-pw-9Lm4",
        token: "tok-bob-8e2c5b1a9d",
        env_var: "DEMO_BOB_PASSWORD",
    },
    DemoUser {
        name: "carol",
        password: "carol-demo-pw-3Xv8",
        token: "tok-carol-3a7f0e6d1c",
        env_var: "DEMO_CAROL_PASSWORD",
    },
    DemoUser {
        name: "dave",
        password: "dave-demo-pw-5Tn1",
        token: "tok-dave-6b9d2c8e4f",
        env_var: "DEMO_DAVE_PASSWORD",
    },
];

/// Values for the demo scenario's variables: DEMO_ALICE_PASSWORD, DEMO_BOB_PASSWORD,
/// DEMO_CAROL_PASSWORD, DEMO_DAVE_PASSWORD -> the fixed passwords; anything else -> None.
pub fn demo_env(var: &str) -> Option<String> {
    USERS
        .iter()
        .find(|user| user.env_var == var)
        .map(|user| user.password.to_string())
}

/// One served origin: how to ask it to stop, and the task to wait for.
struct Server {
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

/// A running demo Site and its foreign origin.
pub struct DemoSite {
    pub base_url: url::Url,
    pub foreign_url: url::Url,
    stats: Arc<Counters>,
    servers: Vec<Server>,
}

/// In-flight requests (notably `/_bad/slow`) may hold a graceful stop open;
/// past this, the server task is aborted instead.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

impl DemoSite {
    /// Binds the Site on `addr` (tests pass 127.0.0.1:0) and the second "foreign" origin on 127.0.0.1:0; serves both in tokio tasks.
    pub async fn start(config: DemoConfig, addr: SocketAddr) -> std::io::Result<DemoSite> {
        let stats = Arc::new(Counters::default());

        let foreign_listener =
            TcpListener::bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)).await?;
        let foreign_url = origin_url(foreign_listener.local_addr()?)?;
        let site_listener = TcpListener::bind(addr).await?;
        let base_url = origin_url(site_listener.local_addr()?)?;

        let site_router = site::router(config, foreign_url.clone(), stats.clone());
        let foreign_router = foreign::router(stats.clone());

        let servers = vec![
            serve(site_listener, site_router),
            serve(foreign_listener, foreign_router),
        ];
        Ok(DemoSite {
            base_url,
            foreign_url,
            stats,
            servers,
        })
    }

    pub fn stats(&self) -> DemoStats {
        self.stats.snapshot()
    }

    /// Graceful stop of both servers.
    pub async fn shutdown(self) {
        let mut tasks = Vec::new();
        for server in self.servers {
            // A send error only means that server already stopped on its own.
            let _ = server.stop.send(());
            tasks.push(server.task);
        }
        for mut task in tasks {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

fn serve(listener: TcpListener, router: axum::Router) -> Server {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                // Dropping the sender (DemoSite dropped without shutdown) also stops.
                let _ = stopped.await;
            })
            .await
    });
    Server { stop, task }
}

/// The URL under which a bound listener is reachable; an unspecified bind
/// address is advertised as loopback so links on the pages stay usable.
fn origin_url(addr: SocketAddr) -> std::io::Result<url::Url> {
    let shown = if addr.ip().is_unspecified() {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
    } else {
        addr
    };
    url::Url::parse(&format!("http://{shown}/"))
        .map_err(|e| std::io::Error::other(format!("bad listener address {shown}: {e}")))
}

/// The demo scenario, embedded so `lowpriv demo` works from any directory.
pub const SCENARIO: &str = include_str!("../../../scenarios/demo.toml");
/// Where the embedded scenario comes from, for diagnostics and reports.
pub const SCENARIO_PATH: &str = "scenarios/demo.toml";

/// A fresh value for the Site's runtime secret: random per run, so a test that finds it in
/// an output has found a real leak, not a constant that happens to be there.
pub fn random_secret() -> String {
    format!("demo-db-{}", auth::random_hex())
}
