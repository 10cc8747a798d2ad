//! lowpriv: who can see what on a deployed web app.
//!
//! A one-way pipeline, one module per stage; no stage imports a later one (a test,
//! `tests/e2e/layers.rs`, keeps it so):
//!
//! ```text
//! scenario ─► session ─► crawl ─► replay ─► graphql ─► observe ─► judge ─► snapshot ─► verdict ─► report
//! ```
//!
//! [`run()`] (in `run.rs`) reads as that pipeline, one call per stage:
//!
//! | stage | entry point | returns |
//! | --- | --- | --- |
//! | [`scenario`] | [`scenario::load`] | [`scenario::Scenario`]: TOML, every problem with file:line:col |
//! | [`snapshot`] | [`snapshot::Approved::load`] | the approved snapshot, validated before any request |
//! | [`session`] | [`session::open_all`] | one HTTP client, cookie jar and proven login per identity |
//! | [`crawl`] | [`crawl::run`] | [`crawl::CrawlMap`]: per identity, what a bounded frontier found (HTML, JS, OpenAPI) |
//! | [`replay`] | [`replay::run`] | [`replay::ReplayLog`]: every request some identity found, sent as every other |
//! | [`graphql`] | [`graphql::run`] | [`graphql::GraphqlLog`]: opt-in, each identity's schema, the diff, and generated queries sent as every identity |
//! | [`probe`] | [`probe::run`] | [`probe::WriteProbes`]: opt-in, each action in `write_scope` sent with an empty body as every identity |
//! | [`observe`] | [`observe::collect`] | [`observe::Observations`]: outcome, data classes, fingerprint per (identity, request), sorted |
//! | [`source`] | [`source::run`] | [`source::SourceLog`]: each `[[source]]` probed as each identity, with its own login there |
//! | [`judge`] | [`judge::evaluate`] | [`judge::Judgement`]: findings, and why the matrix is incomplete |
//! | [`snapshot`] | [`snapshot::check`] | [`snapshot::SnapshotReport`]: the exposure matrix against the approved one: match, drift or new |
//! | [`verdict`] | [`verdict::decide`] | [`verdict::Decision`]: pass, fail or inconclusive, and why |
//! | [`report`] | one `render`/`write` per format | terminal, JSON, JUnit, SARIF, Markdown, HTML |
//!
//! The crawl and the replay call [`observe`] while a body is held (through
//! [`crawl::Observe`]), so bodies are dropped as soon as they are read. Everything one run
//! found is a [`RunResult`] (`result.rs`); every report renders it and none re-judges.
//!
//! A library user calls [`run()`] and renders the [`RunResult`] however they like. The demo
//! Site and the `lowpriv` command are separate crates of this workspace, so neither a web
//! server nor a CLI framework comes with this one.

// Input and network data never reach an unwrap: a hostile Site must not crash a run. The
// few `expect`s left are on constants (selectors, patterns, the embedded rule file), each
// allowed where it stands.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod crawl;
pub mod fleet;
pub mod graphql;
pub mod init;
pub mod judge;
pub mod observe;
pub mod probe;
pub mod replay;
pub mod report;
pub mod scenario;
pub mod session;
pub mod snapshot;
pub mod source;
pub mod verdict;

// Shared by every stage: progress reporting, stopping, helpers for markup and files.
mod atomic_file;
mod fnv;
pub mod markup;
pub mod progress;
pub mod stop;

mod result;
mod run;

pub use result::{
    ActionReport, ExpectationReport, IdentityReport, RunResult, SCHEMA_VERSION, SiteReport, Summary,
};
pub use run::{Error, RunOptions, run};
pub use verdict::Verdict;
