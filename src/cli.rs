//! Command-line definitions and wiring only: every decision lives in the library.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use lowpriv::judge::Severity;
use lowpriv::report::{self, exit, terminal};
use lowpriv::scenario::{self, Scenario, ScenarioError};
use lowpriv::{RunOptions, RunResult};

#[derive(Parser, Debug)]
#[command(
    name = "lowpriv",
    version,
    about = "Who can see what on a deployed web app: crawl a Site as several identities, replay \
             what the privileged ones found as the others, classify the data, and judge it",
    after_help = "Exit codes: 0 pass · 1 findings at or above --fail-on · 2 bad usage or invalid \
                  scenario · 3 inconclusive (a login failed, the Site was unreachable, errors or \
                  limits hid part of the matrix).\n\nNot built yet: snapshots (`snapshot`), \
                  `--audience` previews, JUnit/SARIF/Markdown/HTML reports, `init`, `merge`, \
                  fleets of scenarios, `--browser`. See README.md."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print only the verdict line.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// More log detail on stderr (-v: progress, -vv: every request).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Colour: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, global = true, default_value = "auto", value_parser = ["auto", "always", "never"])]
    color: String,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario against its Site.
    Run {
        /// The scenario file.
        scenario: PathBuf,
        /// Use this base URL instead of the scenario's (same scenario, staging or prod).
        #[arg(long)]
        base_url: Option<url::Url>,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Validate scenario files without touching the network.
    Check {
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
    /// Serve the embedded demo Site in process and run scenarios/demo.toml against it.
    Demo {
        /// Serve the Site with every planted flaw fixed (the run should pass).
        #[arg(long)]
        fixed: bool,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Serve the embedded demo Site on 127.0.0.1 until interrupted.
    DemoSite {
        /// Port to listen on (0: any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Serve the Site with every planted flaw fixed.
        #[arg(long)]
        fixed: bool,
        /// Value of the runtime secret the flawed Site leaks (`DB_PASSWORD` in the scenario).
        #[arg(long, env = "DB_PASSWORD", hide_env_values = true)]
        db_password: Option<String>,
    },
}

#[derive(Args, Debug)]
struct ReportArgs {
    /// Findings at or above this severity fail the run.
    #[arg(long, value_enum, default_value = "high")]
    fail_on: Severity,
    /// Write the JSON report here (schema 1).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() {
                exit::USAGE
            } else {
                exit::PASS
            };
            let _ = err.print();
            return code;
        }
    };
    init_logging(cli.verbose);
    let color = match cli.color.as_str() {
        "always" => true,
        "never" => false,
        _ => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let style = terminal::Style { color };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return exit::INCONCLUSIVE;
        }
    };
    match cli.command {
        Command::Check { scenarios } => check(&scenarios),
        Command::Run {
            scenario,
            base_url,
            report,
        } => {
            let mut loaded = match load(&scenario, &scenario::process_env) {
                Ok(s) => s,
                Err(code) => return code,
            };
            if let Some(base_url) = base_url {
                loaded.site.base_url = base_url;
            }
            let options = RunOptions {
                fail_on: report.fail_on,
                ..RunOptions::default()
            };
            match runtime.block_on(lowpriv::run(&loaded, &options)) {
                Ok(result) => finish(&result, &report, cli.quiet, style, None),
                Err(err) => {
                    print_error(&err);
                    exit::INCONCLUSIVE
                }
            }
        }
        Command::Demo { fixed, report } => {
            let options = RunOptions {
                fail_on: report.fail_on,
                ..RunOptions::default()
            };
            match runtime.block_on(lowpriv::run_demo(fixed, &options)) {
                Ok((result, stats)) => {
                    let traps = format!(
                        "demo Site traps: {} logout hits · {} delete hits · {} credentials sent to the foreign origin",
                        stats.logout_hits, stats.delete_hits, stats.foreign_credentials
                    );
                    finish(&result, &report, cli.quiet, style, Some(traps))
                }
                Err(err) => {
                    print_error(&err);
                    match err {
                        lowpriv::Error::Scenario(_) => exit::USAGE,
                        _ => exit::INCONCLUSIVE,
                    }
                }
            }
        }
        Command::DemoSite {
            port,
            fixed,
            db_password,
        } => runtime.block_on(demo_site(port, fixed, db_password)),
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "warn,lowpriv=info",
        _ => "warn,lowpriv=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("LOWPRIV_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn load(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Scenario, i32> {
    scenario::load(path, env).map_err(|err| {
        match &err {
            ScenarioError::Invalid(diagnostics) => eprintln!("{diagnostics}"),
            other => print_error(other),
        }
        exit::USAGE
    })
}

fn check(paths: &[PathBuf]) -> i32 {
    let mut code = exit::PASS;
    for path in paths {
        match load(path, &scenario::process_env) {
            Ok(s) => println!(
                "{}: ok ({} identities, {} data classes, {} expectations)",
                path.display(),
                s.identities.len(),
                s.data.len(),
                s.expects.len()
            ),
            Err(c) => code = c,
        }
    }
    code
}

fn finish(
    result: &RunResult,
    args: &ReportArgs,
    quiet: bool,
    style: terminal::Style,
    footer: Option<String>,
) -> i32 {
    let mut stdout = std::io::stdout().lock();
    let text = if quiet {
        terminal::render_verdict(result, style)
    } else {
        terminal::render(result, style)
    };
    // A closed pipe (`| head`) is a normal way to stop reading.
    let _ = stdout.write_all(text.as_bytes());
    if let (Some(footer), false) = (footer, quiet) {
        let _ = writeln!(stdout, "{footer}");
    }
    let _ = stdout.flush();
    if let Some(path) = &args.json
        && let Err(err) = report::json::write(result, path)
    {
        eprintln!(
            "error: cannot write the JSON report to {}: {err}",
            path.display()
        );
        return exit::INCONCLUSIVE;
    }
    report::exit_code(result)
}

fn print_error(err: &dyn std::error::Error) {
    let mut text = format!("error: {err}");
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(&format!("\n  caused by: {cause}"));
        source = cause.source();
    }
    eprintln!("{text}");
}

async fn demo_site(port: u16, fixed: bool, db_password: Option<String>) -> i32 {
    let config = lowpriv::demo::DemoConfig {
        fixed,
        db_password: db_password.unwrap_or_else(lowpriv::demo::random_secret),
        ..Default::default()
    };
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let site = match lowpriv::demo::DemoSite::start(config, addr).await {
        Ok(site) => site,
        Err(err) => {
            eprintln!("error: cannot serve the demo Site on {addr}: {err}");
            return exit::INCONCLUSIVE;
        }
    };
    println!("{}", site.base_url);
    eprintln!(
        "demo Site ({}) at {} · foreign origin at {} · Ctrl-C stops it",
        if fixed { "fixed" } else { "flawed" },
        site.base_url,
        site.foreign_url
    );
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
    site.shutdown().await;
    exit::PASS
}
