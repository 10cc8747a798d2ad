//! The `lowpriv` command: clap arguments → the library → an exit code.

// As in the library: no input or network data reaches an unwrap.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod cli;

fn main() {
    std::process::exit(cli::main());
}
