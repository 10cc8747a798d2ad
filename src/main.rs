//! The `lowpriv` command: clap arguments → the library → an exit code.

// As in the library: no input or network data reaches an unwrap.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod cli;

use cli::Outcome;
use lowpriv::verdict::exit;

fn main() {
    std::process::exit(exit_code(&cli::main()));
}

/// The one place a command's outcome becomes the process exit code.
fn exit_code(outcome: &Outcome) -> i32 {
    match outcome {
        Outcome::Run(run) => match run.as_ref() {
            Ok(result) => result.summary.verdict.exit_code(),
            Err(
                lowpriv::Error::Scenario(_)
                | lowpriv::Error::Snapshot(_)
                | lowpriv::Error::Browser(_),
            ) => exit::USAGE,
            Err(lowpriv::Error::Session(_)) => exit::INCONCLUSIVE,
        },
        Outcome::Done => exit::PASS,
        Outcome::Invalid => exit::USAGE,
        Outcome::Failed => exit::INCONCLUSIVE,
        Outcome::Fleet(code) => *code,
    }
}
