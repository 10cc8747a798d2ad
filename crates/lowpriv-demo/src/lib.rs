//! The embedded demo Site ("Acme Payroll"): a small axum app with deliberate
//! access-control flaws for the scanner to find, a `fixed` mode without them,
//! a second "foreign" origin that counts credentials leaked to it, and a third, the HR API,
//! a source system the Site reads (`hr.rs`).
//!
//! The flaws are documented next to the handlers that carry them (`pages.rs`,
//! `api.rs`, `browser.rs`, `team.rs`, `spa.rs`); `DemoConfig::fixed` switches every one of them off.
//!
//! # Layers
//!
//! Modules form layers, and a module imports only from layers below its own, never from its
//! own layer or above, so the handlers cannot grow back into a loop:
//!
//! | layer | modules | holds |
//! |-------|---------|-------|
//! | 0 | `config`, `data`, `table` | the caller's configuration and the Chaos kinds; accounts, employees, the HR API's tokens and records; the data browser's tables and views |
//! | 1 | `state` | `Site` (the handlers' shared state), `lock`, `random_hex`, `Counters`, `DemoStats` |
//! | 2 | `layout` | the page layout and the shared responses (`render`, `page`, `Denied`, `json_error`) |
//! | 3 | `gate` | who is asking (`identify`, `cookie`) and the login/team/role gates |
//! | 4 | `auth`, `pages`, `api`, `browser`, `chaos`, `hostile`, `foreign`, `watch`, `team`, `hr`, `graphql`, `spa` | the handlers (and the fault and counting middleware); the foreign origin's and the HR API's routers |
//! | 5 | `router` | the Site's axum `Router`: routes, fallback, middleware |
//! | 6 | this file | the public API: `DemoSite`, re-exports of the public types |
//! | 7 | `runner`, `fleet` | `run`/`run_with`: serve the Site and scan it; `DemoFleet`: serve many Sites and write their scenarios |
//!
//! A module names what it uses by its home (`crate::state::SiteState`), not through the
//! re-exports here: `crate::Item` means this file, layer 6. The `pub use` re-exports below
//! are the facade, not dependencies of this file's code, so they may reach any layer.
//! `layers.rs` reads the sources and fails on any import that does not go down a layer.

mod api;
mod auth;
mod browser;
mod chaos;
mod config;
mod data;
pub mod fleet;
mod foreign;
mod gate;
mod graphql;
mod hostile;
mod hr;
#[cfg(test)]
mod layers;
mod layout;
mod pages;
mod router;
mod runner;
mod spa;
mod state;
mod table;
mod team;
#[cfg(test)]
mod tests;
mod watch;

pub use config::{Chaos, DemoConfig, Faults, Flaw};
pub use data::{ALICE_TOTP_SEED, ALICE_TOTP_VAR, DemoUser, USERS};
pub use fleet::{DemoFleet, FleetMember, FleetPlan, SiteKind};
pub use runner::{DemoError, run, run_with};
pub use state::DemoStats;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use state::Counters;

/// Values for the demo scenario's variables: DEMO_ALICE_PASSWORD, DEMO_BOB_PASSWORD,
/// DEMO_CAROL_PASSWORD, DEMO_DAVE_PASSWORD -> the fixed passwords; DEMO_HR_ALICE_TOKEN,
/// DEMO_HR_BOB_TOKEN, DEMO_HR_CAROL_TOKEN, DEMO_HR_DAVE_TOKEN -> each person's HR API token;
/// anything else -> None.
pub fn demo_env(var: &str) -> Option<String> {
    let password = USERS
        .iter()
        .find(|user| user.env_var == var)
        .map(|user| user.password);
    let hr_token = || {
        data::HR_TOKENS
            .iter()
            .find(|hr| hr.env_var == var)
            .map(|hr| hr.token)
    };
    let totp = || (var == ALICE_TOTP_VAR).then_some(ALICE_TOTP_SEED);
    password.or_else(hr_token).or_else(totp).map(str::to_string)
}

/// One served origin: how to ask it to stop, and the task to wait for.
struct Server {
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

/// A running demo Site, its foreign origin and its HR API.
pub struct DemoSite {
    pub base_url: url::Url,
    pub foreign_url: url::Url,
    /// The HR API (`GET /employees`, `GET /employees/{id}`), the source system `/team` reads.
    pub hr_url: url::Url,
    stats: Arc<Counters>,
    servers: Vec<Server>,
}

/// In-flight requests (notably `/_bad/slow`) may hold a graceful stop open;
/// past this, the server task is aborted instead.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

impl DemoSite {
    /// Binds the Site on `addr` (tests pass 127.0.0.1:0), the second "foreign" origin and the
    /// HR API each on 127.0.0.1:0; serves all three in tokio tasks.
    pub async fn start(config: DemoConfig, addr: SocketAddr) -> std::io::Result<DemoSite> {
        let stats = Arc::new(Counters::default());
        let loopback = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

        let foreign_listener = TcpListener::bind(loopback).await?;
        let foreign_url = origin_url(foreign_listener.local_addr()?)?;
        let hr_listener = TcpListener::bind(loopback).await?;
        let hr_url = origin_url(hr_listener.local_addr()?)?;
        let site_listener = TcpListener::bind(addr).await?;
        let base_url = origin_url(site_listener.local_addr()?)?;

        let site_router =
            router::router(config, foreign_url.clone(), hr_url.clone(), stats.clone());
        let foreign_router = foreign::router(stats.clone());
        let hr_router = hr::router(stats.clone());

        let servers = vec![
            serve(site_listener, site_router),
            serve(foreign_listener, foreign_router),
            serve(hr_listener, hr_router),
        ];
        Ok(DemoSite {
            base_url,
            foreign_url,
            hr_url,
            stats,
            servers,
        })
    }

    pub fn stats(&self) -> DemoStats {
        self.stats.snapshot()
    }

    /// Graceful stop of every server.
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
/// The demo scenario's variable for the HR API's URL (its `[[source]] base_url`): the port is
/// chosen when the HR API is served, so `lowpriv demo` sets it, and a run by hand against
/// `lowpriv demo-site` exports the URL that command prints.
pub const HR_URL_VAR: &str = "DEMO_HR_URL";
/// Where the embedded scenario comes from, for diagnostics and reports.
pub const SCENARIO_PATH: &str = "scenarios/demo.toml";

/// A fresh value for the Site's runtime secret: random per run, so a test that finds it in
/// an output has found a real leak, not a constant that happens to be there.
pub fn random_secret() -> String {
    format!("demo-db-{}", state::random_hex())
}
