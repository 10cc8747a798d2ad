//! `lowpriv run PATH...` as a fleet, `lowpriv merge`, `lowpriv demo --fleet N`: options and
//! printing only; the fleet itself is `lowpriv::fleet`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use lowpriv::fleet::{self, FleetOptions, FleetProgress, FleetReport, Roster, Shard, SiteRow};
use lowpriv::judge::Severity;
use lowpriv::report::terminal;
use lowpriv_demo::fleet::{DemoFleet, FleetPlan};

use super::{Outcome, ReportArgs, print_error};

#[derive(Args, Debug)]
pub struct FleetArgs {
    /// Sites run at once; each keeps its own rate limit and concurrency.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    jobs: u16,
    /// Run only this shard of the fleet, K of N (1-based): Sites are split by a stable hash
    /// of their name, so N machines share a fleet with no coordination.
    #[arg(
        long,
        value_name = "K/N",
        env = "LOWPRIV_SHARD",
        conflicts_with = "shards"
    )]
    shard: Option<String>,
    /// Split the fleet into N shards and run the one `JOB_COMPLETION_INDEX` (0-based, set by
    /// a Kubernetes Indexed Job) names.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    shards: Option<u32>,
    /// Write fleet.json, fleet.md, fleet.html, fleet.junit.xml, sarif/fleet-K.sarif and the
    /// per-Site reports (sites/NAME.*, pending snapshots too) here.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Owners still here, one address per line: an owner not in it has left.
    #[arg(long, value_name = "FILE")]
    roster: Option<PathBuf>,
    /// Print the Sites this shard holds (name, then scenario file) and stop: nothing is sent.
    #[arg(long)]
    list: bool,
}

impl FleetArgs {
    fn is_fleet(&self) -> bool {
        self.shard.is_some()
            || self.shards.is_some()
            || self.out.is_some()
            || self.roster.is_some()
            || self.list
    }

    fn shard(&self) -> Result<Option<Shard>, String> {
        let env = std::env::var("JOB_COMPLETION_INDEX").ok();
        match (&self.shard, self.shards) {
            (Some(text), _) => Shard::parse(text).map(Some),
            (None, Some(count)) => Shard::from_index(count, env.as_deref()).map(Some),
            (None, None) => Ok(None),
        }
        .map_err(|e| e.to_string())
    }
}

/// The one scenario of a single run, or `None` for a fleet.
pub fn single(paths: &[PathBuf], args: &FleetArgs) -> Option<PathBuf> {
    match paths {
        [one] if !one.is_dir() && !args.is_fleet() => Some(one.clone()),
        _ => None,
    }
}

/// The single-run report flags make no sense for many Sites: `--out` holds every report.
pub fn refuse_single_options(
    base_url: Option<&url::Url>,
    report: &ReportArgs,
) -> Result<(), String> {
    if base_url.is_some() {
        return Err("--base-url applies to one scenario; a fleet's Sites keep their own".into());
    }
    let given: Vec<&str> = [
        ("--json", report.json.is_some()),
        ("--junit", report.junit.is_some()),
        ("--sarif", report.sarif.is_some()),
        ("--markdown", report.markdown.is_some()),
        ("--html", report.html.is_some()),
    ]
    .into_iter()
    .filter_map(|(flag, set)| set.then_some(flag))
    .collect();
    if !given.is_empty() {
        return Err(format!(
            "{} write one Site's report; a fleet writes every format per Site and for the fleet under --out DIR",
            given.join(", ")
        ));
    }
    Ok(())
}

/// One stderr line per Site as it ends (none with `-q`).
struct Lines {
    quiet: bool,
}

impl FleetProgress for Lines {
    fn site_done(&self, row: &SiteRow, done: usize, total: usize) {
        if self.quiet {
            return;
        }
        let why = match row.reasons.first() {
            Some(why) if row.verdict != "pass" && row.verdict != "fail" => format!(" ({why})"),
            _ => String::new(),
        };
        eprintln!(
            "[{done}/{total}] {}: {} in {:.1} s{why}",
            row.name,
            row.verdict,
            row.duration_ms as f64 / 1000.0
        );
    }
}

pub async fn run(
    paths: &[PathBuf],
    args: &FleetArgs,
    run: lowpriv::RunOptions,
    env: &dyn Fn(&str) -> Option<String>,
    quiet: bool,
    style: terminal::Style,
) -> Outcome {
    let shard = match args.shard() {
        Ok(shard) => shard,
        Err(why) => {
            eprintln!("error: {why}");
            return Outcome::Invalid;
        }
    };
    let roster = match args.roster.as_deref().map(Roster::load).transpose() {
        Ok(roster) => roster,
        Err(err) => {
            print_error(&err);
            return Outcome::Invalid;
        }
    };
    let files = match fleet::discover::discover(paths) {
        Ok(files) => files,
        Err(err) => {
            print_error(&err);
            return Outcome::Invalid;
        }
    };
    let members = fleet::discover::load(files, env);
    if args.list {
        let mut stdout = std::io::stdout().lock();
        for member in members
            .iter()
            .filter(|m| shard.is_none_or(|s| s.holds(&m.name)))
        {
            let _ = writeln!(stdout, "{}\t{}", member.name, member.path.display());
        }
        return Outcome::Done;
    }
    for member in &members {
        if let Err(err) = &member.scenario
            && shard.is_none_or(|s| s.holds(&member.name))
        {
            eprintln!("{}: this Site will not run:", member.path.display());
            super::print_scenario_error(err);
        }
    }
    let options = FleetOptions {
        jobs: usize::from(args.jobs),
        shard,
        out: args.out.clone(),
        roster,
        run,
    };
    let report = fleet::run::run(members, &options, Arc::new(Lines { quiet })).await;
    finish(&report, args.out.as_deref(), quiet, style)
}

pub fn merge(
    reports: &[PathBuf],
    out: &Path,
    roster: Option<&Path>,
    fail_on: Severity,
    quiet: bool,
    style: terminal::Style,
) -> Outcome {
    let roster = match roster.map(Roster::load).transpose() {
        Ok(roster) => roster,
        Err(err) => {
            print_error(&err);
            return Outcome::Invalid;
        }
    };
    match fleet::merge::merge(reports, out, roster.as_ref(), fail_on) {
        Ok(report) => finish(&report, Some(out), quiet, style),
        Err(err) => {
            print_error(&err);
            Outcome::Invalid
        }
    }
}

/// Prints the fleet summary and writes the fleet files; the exit code is the fleet's, or 3
/// when a file could not be written (CI must not pass on a report it cannot upload).
fn finish(
    report: &FleetReport,
    out: Option<&Path>,
    quiet: bool,
    style: terminal::Style,
) -> Outcome {
    let mut stdout = std::io::stdout().lock();
    let text = render(report, quiet, style);
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
    let Some(out) = out else {
        return Outcome::Fleet(report.summary.exit_code);
    };
    let written = std::fs::create_dir_all(out)
        .map_err(|source| fleet::FleetError::Write {
            path: out.to_path_buf(),
            source,
        })
        .and_then(|()| fleet::write_json(report, &out.join("fleet.json")));
    if let Err(err) = written {
        print_error(&err);
        return Outcome::Failed;
    }
    match fleet::report::write_fleet_files(report, out) {
        Ok(files) => {
            if !quiet {
                for note in &files.notes {
                    eprintln!("note: {note}");
                }
            }
            Outcome::Fleet(report.summary.exit_code)
        }
        Err(err) => {
            print_error(&err);
            Outcome::Failed
        }
    }
}

fn render(report: &FleetReport, quiet: bool, style: terminal::Style) -> String {
    let text = fleet::report::terminal::render(report, style);
    if quiet {
        text.lines()
            .last()
            .map(|l| format!("{l}\n"))
            .unwrap_or_default()
    } else {
        text
    }
}

/// `lowpriv demo --fleet N`: the demo fleet served in process, its scenarios in a temporary
/// folder, run as a fleet. No snapshots are compared: the demo fleet is about the fleet view.
pub async fn demo(
    sites: usize,
    jobs: usize,
    out: Option<PathBuf>,
    mut run: lowpriv::RunOptions,
    quiet: bool,
    style: terminal::Style,
) -> Outcome {
    let scenarios = std::env::temp_dir().join(format!("lowpriv-demo-fleet-{}", std::process::id()));
    let fleet = match DemoFleet::start(FleetPlan::new(sites, &scenarios)).await {
        Ok(fleet) => fleet,
        Err(err) => {
            eprintln!("error: cannot serve the demo fleet: {err}");
            let _ = std::fs::remove_dir_all(&scenarios);
            return Outcome::Failed;
        }
    };
    let env = fleet.env();
    let members = match fleet::discover::discover(std::slice::from_ref(&scenarios)) {
        Ok(files) => fleet::discover::load(files, &|var| env.get(var).cloned()),
        Err(err) => {
            print_error(&err);
            fleet.shutdown().await;
            let _ = std::fs::remove_dir_all(&scenarios);
            return Outcome::Failed;
        }
    };
    run.snapshots = None;
    let options = FleetOptions {
        jobs: jobs.max(1),
        shard: None,
        out: out.clone(),
        roster: None,
        run,
    };
    let report = fleet::run::run(members, &options, Arc::new(Lines { quiet })).await;
    let stats = fleet.stats();
    fleet.shutdown().await;
    let _ = std::fs::remove_dir_all(&scenarios);
    let outcome = finish(&report, out.as_deref(), quiet, style);
    if !quiet {
        let total = |pick: fn(&lowpriv_demo::DemoStats) -> u64| {
            stats.iter().map(|(_, s)| pick(s)).sum::<u64>()
        };
        println!(
            "demo fleet traps: {} logout hits · {} delete hits · {} credentials sent to a foreign origin · {} from another Site",
            total(|s| s.logout_hits),
            total(|s| s.delete_hits),
            total(|s| s.foreign_credentials),
            total(|s| s.unknown_credentials),
        );
    }
    outcome
}

/// `lowpriv demo-site --sites N --scenarios DIR`: serves the demo fleet until Ctrl-C or
/// SIGTERM, its scenario files and `fleet.env` (the passwords, for shard processes) in DIR.
pub async fn demo_sites(
    sites: usize,
    scenarios: PathBuf,
    rate_limit: Option<u32>,
    data_browser: bool,
) -> Outcome {
    let mut plan = FleetPlan::new(sites, &scenarios);
    if let Some(rate) = rate_limit {
        plan.rate_limit = rate;
    }
    if data_browser {
        plan.data_browser = true;
        plan.max_requests = 500;
    }
    let ready = |fleet: &DemoFleet| {
        let mut stdout = std::io::stdout().lock();
        for member in fleet.members() {
            let _ = writeln!(
                stdout,
                "{}\t{}\t{}",
                member.name,
                member.kind.as_str(),
                member.base_url
            );
        }
        let _ = stdout.flush();
        eprintln!(
            "{} demo Sites · scenarios in {} · their variables in {} · Ctrl-C stops them",
            fleet.members().len(),
            scenarios.display(),
            scenarios.join(lowpriv_demo::fleet::ENV_FILE).display()
        );
    };
    match lowpriv_demo::fleet::serve(plan, ready, super::signal()).await {
        Ok(_) => Outcome::Done,
        Err(err) => {
            eprintln!("error: cannot serve the demo fleet: {err}");
            Outcome::Failed
        }
    }
}
