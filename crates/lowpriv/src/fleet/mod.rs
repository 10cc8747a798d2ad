//! Fleets: many scenarios in one process (`lowpriv run PATH...`), a deterministic share of
//! them per machine (`--shard K/N`), and shard reports merged into one fleet report
//! (`lowpriv merge`). lowpriv schedules nothing past one machine: an existing scheduler (a CI
//! matrix, a Kubernetes Indexed Job) starts the shards, and a last step merges them.

pub mod model;

pub use model::*;
