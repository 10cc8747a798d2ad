//! Command-line definitions and wiring only: every decision lives in the library.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

mod fleet;
mod manpage;
mod progress;

use clap::{Args, Parser, Subcommand};
use lowpriv::judge::Severity;
use lowpriv::report::{self, terminal};
use lowpriv::scenario::{self, Audience, Scenario, ScenarioError};
use lowpriv::snapshot::{self as snapshots, Store};
use lowpriv::{RunOptions, RunResult};

/// How a command ended; `main` maps it to the process exit code in one `match`.
pub enum Outcome {
    /// A run happened (its verdict decides) or stopped before judging (its error decides).
    Run(Box<Result<RunResult, lowpriv::Error>>),
    /// The command did what it was asked.
    Done,
    /// Bad usage or bad input (a scenario, a pending snapshot that is not there).
    Invalid,
    /// The command could not finish for a reason outside the input: the async runtime, a
    /// port to serve on, a report that could not be written.
    Failed,
    /// A fleet ran (or shard reports were merged): the fleet summary's exit code, the worst
    /// Site's.
    Fleet(i32),
}

#[derive(Parser, Debug)]
#[command(
    name = "lowpriv",
    version,
    about = "Who can see what on a deployed web app: crawl a Site as several identities, replay \
             what the privileged ones found as the others, classify the data, and judge it",
    after_help = "Exit codes: 0 pass · 1 findings at or above --fail-on · 2 bad usage or invalid \
                  scenario · 3 inconclusive (a login failed, the Site was unreachable, errors or \
                  limits hid part of the matrix).\n\nA fleet (several scenarios, a folder, --out or a shard option) exits with its \
                  worst Site's code.\n\nNot built yet: `init`, `--browser`. See README.md."
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
    /// Run a scenario against its Site, or a fleet: several files, or folders (every `*.toml`
    /// below them).
    Run {
        /// Scenario files and folders. One file without fleet options is a single run; more
        /// than one, a folder, `--out` or a shard option make it a fleet.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Use this base URL instead of the scenario's (same scenario, staging or prod); one
        /// scenario only.
        #[arg(long)]
        base_url: Option<url::Url>,
        #[command(flatten)]
        fleet: fleet::FleetArgs,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Combine shard runs' `fleet.json` files (or their folders) into one fleet report: the
    /// same files an unsharded run writes, per-Site files copied in.
    Merge {
        /// The shards' fleet.json files, or the folders holding them.
        #[arg(required = true, value_name = "FLEET_JSON")]
        reports: Vec<PathBuf>,
        /// Where the merged fleet files go.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Owners still here, one address per line: an owner not in it has left.
        #[arg(long, value_name = "FILE")]
        roster: Option<PathBuf>,
        /// Governance findings at or above this severity fail the fleet (as in the runs).
        #[arg(long, default_value = "high", value_parser = severity_parser())]
        fail_on: Severity,
    },
    /// Validate scenario files (and every `*.toml` below folders) without touching the
    /// network; needs no secrets unless `--require-env`.
    Check {
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        /// Also require every `${VAR}` to be set, and check the values (without it, an unset
        /// variable is checked for form only and named, so a lint job needs no secrets).
        #[arg(long)]
        require_env: bool,
    },
    /// Draft a scenario for a Site by looking at it as anonymous: its login (form, JSON
    /// endpoint, single sign-on), API description, GraphQL endpoint, public-looking paths and
    /// the data anonymous already sees. Sends only GET, never to another origin, and tries no
    /// password; every credential in the draft is a `${VAR}`.
    Init {
        /// The Site's base URL.
        url: url::Url,
        /// Where to write the draft (refused if it exists, unless --force).
        #[arg(long, short = 'o', value_name = "FILE", default_value = "lowpriv.toml")]
        out: PathBuf,
        /// Overwrite --out if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Serve the embedded demo Site in process and run scenarios/demo.toml against it.
    Demo {
        /// Serve the Site with every planted flaw fixed (the run should pass).
        #[arg(long)]
        fixed: bool,
        /// Serve N distinct demo Sites (flawed, fixed, one down, one with a wrong password,
        /// slow ones) and run them as a fleet (docs/demo-site.md, "The demo fleet").
        #[arg(long, value_name = "N", conflicts_with = "fixed")]
        fleet: Option<usize>,
        /// With --fleet: Sites run at once.
        #[arg(long, value_name = "N", default_value_t = 8, requires = "fleet")]
        jobs: usize,
        /// With --fleet: where the fleet files and per-Site reports go.
        #[arg(long, value_name = "DIR", requires = "fleet")]
        out: Option<PathBuf>,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Review or accept pending exposure snapshots (`NAME.snap.new`).
    Snapshot {
        #[command(subcommand)]
        action: SnapshotAction,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff): one page covering every command and option.
    Manpage {
        /// Write one page per command here instead (`lowpriv.1`, `lowpriv-run.1`, ...).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Serve the embedded demo Site on 127.0.0.1 until interrupted.
    DemoSite {
        /// Port to listen on (0: any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Serve N distinct demo Sites instead (the demo fleet), each on its own port, and
        /// write their scenarios and `fleet.env` (their passwords) into --scenarios DIR.
        #[arg(long, value_name = "N", requires = "scenarios")]
        sites: Option<usize>,
        /// With --sites: where the fleet's scenario files go.
        #[arg(long, value_name = "DIR", requires = "sites")]
        scenarios: Option<PathBuf>,
        /// With --sites: every scenario's `rate_limit` (requests per second to one Site).
        #[arg(long, value_name = "N", requires = "sites")]
        rate_limit: Option<u32>,
        /// With --sites: serve each Site's data browser too (Sites the size of `lowpriv
        /// demo`'s, about 1,300 requests each instead of 130), for the fleet bench.
        #[arg(long, requires = "sites")]
        data_browser: bool,
        /// Serve the Site with every planted flaw fixed.
        #[arg(long)]
        fixed: bool,
        /// Value of the runtime secret the flawed Site leaks (`DB_PASSWORD` in the scenario).
        #[arg(long, env = "DB_PASSWORD", hide_env_values = true)]
        db_password: Option<String>,
        /// Extra employee records (HR links every one), to grow the Site.
        #[arg(long, default_value_t = 0)]
        extra_employees: usize,
        /// Fault: delay every response by this many milliseconds.
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Fault: every Nth request answers 503.
        #[arg(long, value_name = "N")]
        unavailable_every: Option<u64>,
        /// Fault: every Nth request answers 429 with `Retry-After: 1`.
        #[arg(long, value_name = "N")]
        throttle_every: Option<u64>,
        /// Fault: a form-login session expires after N requests.
        #[arg(long, value_name = "N")]
        session_ttl: Option<u32>,
        /// Seeded faults: `all` (the default when given without a value) or a comma list of
        /// 5xx, reset, slow-headers, slow-body, throttle, truncated, oversized, gzip-bomb,
        /// redirect-loop, invalid-utf8, deep-html, calendar, query-trap, session-expiry.
        #[arg(long, value_name = "KINDS", num_args = 0..=1, default_missing_value = "all", require_equals = true)]
        chaos: Option<String>,
        /// Which requests the chaos hits; the same seed hits the same ones.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Subcommand, Debug)]
enum SnapshotAction {
    /// Walk the pending snapshots: show what changed (widening first) and accept, reject or
    /// skip each (needs a terminal; `d` at the prompt shows the raw diff).
    Review {
        /// Only this site's snapshot.
        name: Option<String>,
        /// Where snapshots live.
        #[arg(long, value_name = "DIR", default_value = "snapshots")]
        snapshots: PathBuf,
        /// Where the pending snapshots are, when not beside the approved ones (a fleet
        /// writes them to `--out DIR/sites`).
        #[arg(long, value_name = "DIR")]
        pending: Option<PathBuf>,
        /// Also show the raw unified diff of the snapshot files.
        #[arg(long)]
        diff: bool,
    },
    /// Promote pending snapshots to approved ones without asking.
    Accept {
        /// The site whose pending snapshot to accept.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        name: Option<String>,
        /// Accept every pending snapshot.
        #[arg(long)]
        all: bool,
        /// Where snapshots live.
        #[arg(long, value_name = "DIR", default_value = "snapshots")]
        snapshots: PathBuf,
        /// Where the pending snapshots are, when not beside the approved ones (a fleet
        /// writes them to `--out DIR/sites`).
        #[arg(long, value_name = "DIR")]
        pending: Option<PathBuf>,
    },
}

fn parse_audience(value: &str) -> Result<Audience, String> {
    Audience::parse(value)
        .ok_or_else(|| format!("`{value}` is not an audience (draft, team, company, external)"))
}

/// The library keeps clap out of its types; `--fail-on` lists the same values a derive would.
fn severity_parser() -> impl clap::builder::TypedValueParser<Value = Severity> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Severity::ALL.map(Severity::as_str))
        .try_map(|name| Severity::parse(&name).ok_or("not a severity"))
}

#[derive(Args, Debug)]
struct ReportArgs {
    /// Judge as if the Site were shared this widely, and show who would join the audience
    /// and what they reach: draft, team, company or external.
    #[arg(long, value_name = "TIER", value_parser = parse_audience)]
    audience: Option<Audience>,
    /// Where approved exposure snapshots live (`<site>.snap`); drift writes `<site>.snap.new`
    /// (a fleet with --out writes it under DIR/sites).
    #[arg(long, value_name = "DIR", default_value = "snapshots")]
    snapshots: PathBuf,
    /// Findings at or above this severity fail the run.
    #[arg(long, default_value = "high", value_parser = severity_parser())]
    fail_on: Severity,
    /// Stop the whole run after this many seconds (each Site's, in a fleet); what was
    /// gathered is reported, and the run is inconclusive.
    #[arg(long, value_name = "SECS")]
    deadline: Option<u64>,
    /// Also render each HTML page the crawl admits in headless Chromium, as each identity
    /// (its own browser context, cookies and headers), and crawl what the page requests or
    /// links once its scripts ran: single-page apps, built URLs, client-side routes, tabs.
    /// Only same-origin GETs leave the browser; anything else is blocked (a non-GET becomes
    /// an action). Costs up to 5 s per page template and identity, 2 pages at a time, and
    /// Chromium's start-up (about a second). Off by default.
    #[arg(long)]
    browser: bool,
    /// The Chromium executable for --browser (default: /usr/bin/chromium).
    #[arg(long, value_name = "PATH", env = "LOWPRIV_CHROMIUM")]
    chromium: Option<PathBuf>,
    /// Write the JSON report here (schema 1). One scenario; a fleet writes every report
    /// under --out.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write JUnit XML here (one suite per Site, one case per check; CI test views).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write SARIF 2.1.0 here (code scanning).
    #[arg(long, value_name = "FILE")]
    sarif: Option<PathBuf>,
    /// Write a Markdown summary here (a PR comment, `$GITHUB_STEP_SUMMARY`).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Write one self-contained HTML page here, for a reviewer.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

pub fn main() -> Outcome {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let outcome = if err.use_stderr() {
                Outcome::Invalid
            } else {
                Outcome::Done
            };
            let _ = err.print();
            return outcome;
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
            return Outcome::Failed;
        }
    };
    match cli.command {
        Command::Check {
            scenarios,
            require_env,
        } => check(&scenarios, require_env),
        Command::Init { url, out, force } => {
            let stop = lowpriv::stop::Stop::new();
            runtime.spawn(stop_on_signals(stop.clone()));
            init(&runtime, &url, &out, force, stop)
        }
        Command::Run {
            paths,
            base_url,
            fleet,
            report,
        } => {
            let scenario = match fleet::single(&paths, &fleet) {
                Some(scenario) => scenario,
                None => {
                    if let Err(why) = fleet::refuse_single_options(base_url.as_ref(), &report) {
                        eprintln!("error: {why}");
                        return Outcome::Invalid;
                    }
                    let options = run_options(&report, true);
                    runtime.spawn(stop_on_signals(options.stop.clone()));
                    return runtime.block_on(fleet::run(
                        &paths,
                        &fleet,
                        options,
                        &scenario::process_env,
                        cli.quiet,
                        style,
                    ));
                }
            };
            let Some(mut loaded) = load(&scenario, &scenario::process_env) else {
                return Outcome::Invalid;
            };
            if let Some(base_url) = base_url {
                loaded.site.base_url = base_url;
            }
            let options = run_options(&report, cli.quiet);
            runtime.spawn(stop_on_signals(options.stop.clone()));
            let outcome = runtime.block_on(lowpriv::run(&loaded, &options));
            finish(outcome, &report, cli.quiet, style, None)
        }
        Command::Merge {
            reports,
            out,
            roster,
            fail_on,
        } => fleet::merge(&reports, &out, roster.as_deref(), fail_on, cli.quiet, style),
        Command::Demo {
            fleet: Some(sites),
            jobs,
            out,
            report,
            ..
        } => {
            let options = run_options(&report, true);
            runtime.spawn(stop_on_signals(options.stop.clone()));
            runtime.block_on(fleet::demo(sites, jobs, out, options, cli.quiet, style))
        }
        Command::Demo { fixed, report, .. } => {
            let options = run_options(&report, cli.quiet);
            runtime.spawn(stop_on_signals(options.stop.clone()));
            match runtime.block_on(lowpriv_demo::run(fixed, &options)) {
                Ok((result, stats)) => {
                    let traps = format!(
                        "demo Site traps: {} logout hits · {} delete hits · {} credentials sent to the foreign origin\n\
                         demo HR API: {} GETs · {} other methods · {} cookies · {} unknown tokens · demo write endpoint: {} requests\n\
                         demo app: {} writes · foreign origin: {} visits",
                        stats.logout_hits,
                        stats.delete_hits,
                        stats.foreign_credentials,
                        stats.hr_gets,
                        stats.hr_non_gets,
                        stats.hr_cookies,
                        stats.hr_unknown_tokens,
                        stats.write_requests,
                        stats.app_writes,
                        stats.foreign_hits
                    );
                    finish(Ok(result), &report, cli.quiet, style, Some(traps))
                }
                Err(lowpriv_demo::DemoError::Run(err)) => {
                    finish(Err(err), &report, cli.quiet, style, None)
                }
                Err(err) => {
                    print_error(&err);
                    Outcome::Failed
                }
            }
        }
        Command::Snapshot { action } => snapshot_command(action, style),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "lowpriv", &mut std::io::stdout());
            Outcome::Done
        }
        Command::Manpage { dir } => {
            manpage::run(<Cli as clap::CommandFactory>::command(), dir.as_deref())
        }
        Command::DemoSite {
            sites: Some(sites),
            scenarios: Some(scenarios),
            rate_limit,
            data_browser,
            ..
        } => runtime.block_on(fleet::demo_sites(
            sites,
            scenarios,
            rate_limit,
            data_browser,
        )),
        Command::DemoSite {
            port,
            fixed,
            db_password,
            extra_employees,
            latency_ms,
            unavailable_every,
            throttle_every,
            session_ttl,
            chaos,
            seed,
            ..
        } => {
            let chaos = match chaos.as_deref().map(lowpriv_demo::Chaos::parse_list) {
                None => Vec::new(),
                Some(Ok(kinds)) => kinds,
                Some(Err(why)) => {
                    eprintln!("error: --chaos: {why}");
                    return Outcome::Invalid;
                }
            };
            let config = lowpriv_demo::DemoConfig {
                fixed,
                db_password: db_password.unwrap_or_else(lowpriv_demo::random_secret),
                extra_employees,
                faults: lowpriv_demo::Faults {
                    latency_ms,
                    unavailable_every,
                    throttle_every,
                    session_ttl,
                    chaos,
                    seed,
                    refresh_revoked: false,
                },
                ..Default::default()
            };
            runtime.block_on(demo_site(port, config))
        }
    }
}

fn run_options(report: &ReportArgs, quiet: bool) -> RunOptions {
    let progress: std::sync::Arc<dyn lowpriv::progress::Progress> = if quiet {
        std::sync::Arc::new(lowpriv::progress::Silent)
    } else if std::io::stderr().is_terminal() && !snapshots::in_ci() {
        std::sync::Arc::new(progress::Bars::new())
    } else {
        std::sync::Arc::new(progress::Lines::new())
    };
    RunOptions {
        fail_on: report.fail_on,
        audience: report.audience,
        deadline: report.deadline.map(std::time::Duration::from_secs),
        progress: lowpriv::progress::ProgressHandle(progress),
        snapshots: Some(Store::new(&report.snapshots)),
        ci: snapshots::in_ci(),
        browser: lowpriv::crawl::browser::BrowserOptions {
            enabled: report.browser,
            chromium: report.chromium.clone(),
        },
        ..RunOptions::default()
    }
}

/// Ctrl-C or SIGTERM stops sending at once and lets the run report what it gathered
/// (inconclusive, exit 3); a second one exits at once.
async fn stop_on_signals(stop: lowpriv::stop::Stop) {
    signal().await;
    eprintln!(
        "lowpriv: interrupted; stopping and writing the reports gathered so far (again to quit at once)"
    );
    stop.stop("interrupted by a signal");
    signal().await;
    // The second signal quits at once, before the run can report: inconclusive.
    std::process::exit(lowpriv::verdict::exit::INCONCLUSIVE);
}

pub(crate) async fn signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        // chromiumoxide (--browser) warns of every CDP event its types do not know: noise.
        0 => "warn,chromiumoxide=error",
        1 => "warn,chromiumoxide=error,lowpriv=info",
        _ => "warn,chromiumoxide=error,lowpriv=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("LOWPRIV_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// The scenario, or `None` once its problems are printed.
fn load(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Option<Scenario> {
    scenario::load(path, env)
        .map_err(|err| print_scenario_error(&err))
        .ok()
}

fn print_scenario_error(err: &ScenarioError) {
    match err {
        ScenarioError::Invalid(diagnostics) => eprintln!("{diagnostics}"),
        other => print_error(other),
    }
}

fn init(
    runtime: &tokio::runtime::Runtime,
    url: &url::Url,
    out: &Path,
    force: bool,
    stop: lowpriv::stop::Stop,
) -> Outcome {
    if out.exists() && !force {
        eprintln!(
            "error: {} exists; pass --force to overwrite it, or --out another file",
            out.display()
        );
        return Outcome::Invalid;
    }
    let draft = match runtime.block_on(lowpriv::init::draft(url, stop)) {
        Ok(draft) => draft,
        Err(err) => {
            eprintln!("error: {err}");
            return Outcome::Invalid;
        }
    };
    if let Err(err) = std::fs::write(out, &draft.toml) {
        eprintln!("error: cannot write {}: {err}", out.display());
        return Outcome::Failed;
    }
    println!("wrote {}", out.display());
    for line in &draft.found {
        println!("  found: {line}");
    }
    if !draft.variables.is_empty() {
        println!("set these before a run: {}", draft.variables.join(" "));
    }
    println!("then: lowpriv check {0} && lowpriv run {0}", out.display());
    Outcome::Done
}

fn check(paths: &[PathBuf], require_env: bool) -> Outcome {
    // Folders hold a fleet: every `*.toml` below them, as `run` finds them.
    let files = match lowpriv::fleet::discover::discover(paths) {
        Ok(files) => files,
        Err(err) => {
            print_error(&err);
            return Outcome::Invalid;
        }
    };
    let mut outcome = Outcome::Done;
    let mut names: std::collections::BTreeMap<String, PathBuf> = Default::default();
    for path in &files {
        let placeholders = scenario::PlaceholderEnv::new(&scenario::process_env);
        let lookup = |var: &str| placeholders.lookup(var);
        let env: &dyn Fn(&str) -> Option<String> = if require_env {
            &scenario::process_env
        } else {
            &lookup
        };
        let loaded = scenario::load_with_lints(path, env)
            .map_err(|err| print_scenario_error(&err))
            .ok();
        let unset = placeholders.unset();
        match loaded {
            Some((s, lints)) => {
                // Warnings do not fail the check: the scenario loads and runs as written.
                for lint in &lints {
                    eprintln!("{lint}");
                }
                if let Some(first) = names.insert(s.site.name.clone(), path.clone()) {
                    eprintln!(
                        "error: {} and {} both name the Site `{}`: a fleet runs only the first",
                        first.display(),
                        path.display(),
                        s.site.name
                    );
                    outcome = Outcome::Invalid;
                }
                println!(
                    "{}: ok ({} identities, {} data classes, {} expectations)",
                    path.display(),
                    s.identities.len(),
                    s.data.len(),
                    s.expects.len()
                );
                if !unset.is_empty() {
                    println!(
                        "  not set, checked for form only: {} (`--require-env` asks for their values)",
                        unset.join(", ")
                    );
                }
                println!("  {}", lowpriv::judge::privilege::describe(&s));
                for accepted in &s.accepts {
                    println!(
                        "  accepted until {}: {} at {} ({})",
                        accepted.expires, accepted.kind, accepted.location, accepted.reason
                    );
                }
            }
            None => outcome = Outcome::Invalid,
        }
    }
    outcome
}

/// Prints and writes every report of a run that happened; a run stopped before judging
/// prints its error instead.
fn finish(
    outcome: Result<RunResult, lowpriv::Error>,
    args: &ReportArgs,
    quiet: bool,
    style: terminal::Style,
    footer: Option<String>,
) -> Outcome {
    let result = match outcome {
        Ok(result) => result,
        Err(lowpriv::Error::Scenario(err)) => {
            print_scenario_error(&err);
            return Outcome::Run(Box::new(Err(lowpriv::Error::Scenario(err))));
        }
        Err(err) => {
            print_error(&err);
            return Outcome::Run(Box::new(Err(err)));
        }
    };
    let mut stdout = std::io::stdout().lock();
    let text = if quiet {
        terminal::render_verdict(&result, style)
    } else {
        terminal::render(&result, style)
    };
    // A closed pipe (`| head`) is a normal way to stop reading.
    let _ = stdout.write_all(text.as_bytes());
    if let (Some(footer), false) = (footer, quiet) {
        let _ = writeln!(stdout, "{footer}");
    }
    let _ = stdout.flush();
    if let Some(path) = &args.json
        && let Err(err) = report::json::write(&result, path)
    {
        eprintln!(
            "error: cannot write the JSON report to {}: {err}",
            path.display()
        );
        return Outcome::Failed;
    }
    let outputs = report::Outputs {
        junit: args.junit.clone(),
        sarif: args.sarif.clone(),
        markdown: args.markdown.clone(),
        html: args.html.clone(),
    };
    if let Err(err) = report::write_outputs(&result, &outputs) {
        print_error(&err);
        return Outcome::Failed;
    }
    Outcome::Run(Box::new(Ok(result)))
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

async fn demo_site(port: u16, config: lowpriv_demo::DemoConfig) -> Outcome {
    let fixed = config.fixed;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let site = match lowpriv_demo::DemoSite::start(config, addr).await {
        Ok(site) => site,
        Err(err) => {
            eprintln!("error: cannot serve the demo Site on {addr}: {err}");
            return Outcome::Failed;
        }
    };
    // The Site's URL stays the first line (scripts read it); the HR API's, the source system
    // a scenario's `[[source]]` points at, is the second.
    println!("{}", site.base_url);
    println!("{}", site.hr_url);
    eprintln!(
        "demo Site ({}) at {} · foreign origin at {} · HR API at {} · Ctrl-C stops it",
        if fixed { "fixed" } else { "flawed" },
        site.base_url,
        site.foreign_url,
        site.hr_url
    );
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
    site.shutdown().await;
    Outcome::Done
}

fn snapshot_command(action: SnapshotAction, style: terminal::Style) -> Outcome {
    let ci = snapshots::in_ci();
    match action {
        SnapshotAction::Accept {
            name,
            all,
            snapshots: dir,
            pending,
        } => {
            let store = store(&dir, pending);
            let names = if all {
                store.pending_names()
            } else {
                name.into_iter().collect()
            };
            if names.is_empty() {
                let pending = store.pending_dir.as_ref().unwrap_or(&store.dir);
                println!("no pending snapshots in {}", pending.display());
                return Outcome::Done;
            }
            let mut outcome = Outcome::Done;
            for name in names {
                match snapshots::accept(&store, &name, ci) {
                    Ok(path) => println!("accepted {}", path.display()),
                    Err(err) => {
                        print_error(&err);
                        outcome = Outcome::Invalid;
                    }
                }
            }
            outcome
        }
        SnapshotAction::Review {
            name,
            snapshots: dir,
            pending: pending_dir,
            diff: show_diff,
        } => {
            if ci || !std::io::stdin().is_terminal() {
                eprintln!(
                    "lowpriv snapshot review asks before each change, so it needs an interactive \
                     terminal (and not CI); use `lowpriv snapshot accept NAME` or `--all` instead"
                );
                return Outcome::Invalid;
            }
            let store = store(&dir, pending_dir);
            let names: Vec<String> = store
                .pending_names()
                .into_iter()
                .filter(|n| name.as_ref().is_none_or(|wanted| wanted == n))
                .collect();
            if names.is_empty() {
                let pending = store.pending_dir.as_ref().unwrap_or(&store.dir);
                println!("no pending snapshots in {}", pending.display());
                return Outcome::Done;
            }
            let stdin = std::io::stdin();
            for name in names {
                let pending = match snapshots::pending(&store, &name) {
                    Ok(pending) => pending,
                    Err(err) => {
                        print_error(&err);
                        return Outcome::Invalid;
                    }
                };
                print!("{}", review_text(&name, &store, &pending, style, show_diff));
                loop {
                    print!("{name}: [a]ccept, [r]eject, [s]kip, [d]iff? ");
                    let _ = std::io::stdout().flush();
                    let mut answer = String::new();
                    if stdin.read_line(&mut answer).unwrap_or(0) == 0 {
                        return Outcome::Done;
                    }
                    let outcome = match answer.trim() {
                        "a" | "accept" => snapshots::accept(&store, &name, ci)
                            .map(|p| format!("accepted {}", p.display())),
                        "r" | "reject" => snapshots::reject(&store, &name)
                            .map(|()| format!("rejected {}", store.pending(&name).display())),
                        "s" | "skip" => Ok(format!("skipped {name}")),
                        "d" | "diff" => {
                            print!("{}", terminal::paint_diff(&pending.diff, style, "  "));
                            continue;
                        }
                        _ => continue,
                    };
                    match outcome {
                        Ok(message) => println!("{message}"),
                        Err(err) => print_error(&err),
                    }
                    break;
                }
            }
            Outcome::Done
        }
    }
}

fn store(dir: &Path, pending: Option<PathBuf>) -> Store {
    let store = Store::new(dir);
    match pending {
        Some(pending) => store.with_pending_dir(pending),
        None => store,
    }
}

/// What `snapshot review` shows of one pending snapshot before asking: the drift as the
/// sentences a run prints (widening first, red), and the raw diff only when asked, since a
/// reviewer decides on who gained what, not on which lines of a file moved.
fn review_text(
    name: &str,
    store: &Store,
    pending: &snapshots::Pending,
    style: terminal::Style,
    show_diff: bool,
) -> String {
    let approved = store.approved(name);
    let mut out = if approved.exists() {
        format!(
            "{name}: {} against {}\n",
            store.pending(name).display(),
            approved.display()
        )
    } else {
        format!(
            "{name}: {} (no approved snapshot yet: every fact is new)\n",
            store.pending(name).display()
        )
    };
    if pending.changes.is_empty() {
        // Only headers or comments differ: the diff is all there is to see.
        out.push_str("  no fact of the exposure changed\n");
    }
    terminal::render_changes(&pending.changes, style, "  ", &mut out);
    if show_diff || pending.changes.is_empty() {
        out.push_str(&terminal::paint_diff(&pending.diff, style, "  "));
    }
    out
}
