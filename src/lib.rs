//! lowpriv: who can see what on a deployed web app.
//!
//! A one-way pipeline, one module per stage; no stage imports a later one:
//!
//! ```text
//! scenario ─► session ─► crawl ─► replay ─► observe ─► judge ─► report
//! ```
//!
//! - [`scenario`]: TOML → [`scenario::Scenario`], every problem reported with file:line:col.
//! - [`session`]: one HTTP client and cookie jar per identity; login and its proof.
//! - [`crawl`]: per identity, a bounded concurrent frontier; discovery from HTML, JS, OpenAPI.
//! - [`replay`]: every request any identity found, sent as every identity.
//! - [`observe`]: a response → an outcome, data classes and a fingerprint.
//! - [`judge`]: declared expectations and automatic checks → findings and a verdict.
//! - [`report`]: terminal and JSON renderings of a [`RunResult`]; exit codes.
//! - [`demo`]: the embedded demo Site used by `lowpriv demo`, the tests and the benchmarks.
//!
//! A library user calls [`run`] and renders the [`RunResult`] however they like.

pub mod scenario;
pub mod demo;
