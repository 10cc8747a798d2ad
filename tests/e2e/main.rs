//! The end-to-end tests, one binary with a module per area (as ripgrep keeps its tests): the
//! real `lowpriv` binary and the real demo Site over HTTP on 127.0.0.1, ports chosen by the OS.
//!
//! Run one area with a filter on its module, e.g. `cargo test --test e2e chaos -- --nocapture`.
//! The helpers every area shares (the binary, the Site, the in-process demo run, the snapshot
//! redactions) are in `common`; insta keeps the snapshots in `snapshots/`, named
//! `e2e__<module>__<name>.snap`.

mod common;

mod browser;
mod chaos;
mod classify_corpus;
mod cli;
mod demo;
mod discovery;
mod django;
mod examples;
mod faults;
mod fleet;
mod graphql;
mod holes;
mod init;
mod layers;
mod leak_site;
mod login;
mod manpage;
mod reports;
mod run;
mod schema;
mod snapshot;
mod snapshots;
mod sources;
