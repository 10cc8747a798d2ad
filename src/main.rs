//! The `lowpriv` command: clap arguments → the library → an exit code.

mod bars;
mod cli;

fn main() {
    std::process::exit(cli::main());
}
