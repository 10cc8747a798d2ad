//! Reports: renderings of a [`RunResult`], and the exit code it maps to.
//!
//! Every format reads the same `RunResult`; none re-judges. The terminal report is for a
//! person (matrix, findings by severity, verdict); the JSON report is the machine contract
//! (see `json.rs` for its schema).

pub mod json;
pub mod terminal;

use crate::RunResult;
use crate::judge::Verdict;

/// Process exit codes, one place.
pub mod exit {
    pub const PASS: i32 = 0;
    /// Findings at or above `--fail-on`.
    pub const FAIL: i32 = 1;
    /// Bad usage or an invalid scenario.
    pub const USAGE: i32 = 2;
    /// The run could not see the whole matrix: a login failed, the Site was unreachable,
    /// errors or limits hid part of it.
    pub const INCONCLUSIVE: i32 = 3;
}

pub fn exit_code(result: &RunResult) -> i32 {
    let invalid_snapshot = result
        .snapshot
        .as_ref()
        .is_some_and(|s| s.status == crate::snapshot::Status::Invalid);
    if invalid_snapshot && result.summary.verdict != Verdict::Inconclusive {
        // The approved file is bad input, like an invalid scenario.
        return exit::USAGE;
    }
    match result.summary.verdict {
        Verdict::Pass => exit::PASS,
        Verdict::Fail => exit::FAIL,
        Verdict::Inconclusive => exit::INCONCLUSIVE,
    }
}
