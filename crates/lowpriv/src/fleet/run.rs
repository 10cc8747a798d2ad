//! Runs the fleet's Sites, up to `jobs` at once. Each Site is an ordinary run with its own
//! politeness budget (its scenario's rate limit and concurrency), so a fleet never hits one
//! Site harder than a single run would; each runs in its own task, so one Site's failure (or
//! panic) is that Site's row and never stops or hides the others.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument;

use super::discover::Member;
use super::governance::{self, Roster};
use super::model::{
    Duplicate, FleetFinding, FleetReport, FleetSource, SiteFiles, SiteRow, SiteStatus,
};
use super::row;
use super::shard::Shard;
use crate::report;
use crate::scenario::Scenario;
use crate::verdict::exit;
use crate::{RunOptions, RunResult};

#[derive(Clone, Debug)]
pub struct FleetOptions {
    /// Sites run at once (at least 1).
    pub jobs: usize,
    /// This machine's share of the fleet; `None`: every Site.
    pub shard: Option<Shard>,
    /// Where per-Site reports (`sites/<name>.*`, pending snapshots too) are written.
    pub out: Option<PathBuf>,
    /// Owners still here (`--roster`).
    pub roster: Option<Roster>,
    /// What every Site's run gets: severity to fail on, the day, `--deadline` (per Site),
    /// the snapshot store. Its `stop` is the fleet's: each Site gets a child of it. Its
    /// `progress` is ignored (Sites run silently; the fleet reports each as it ends).
    pub run: RunOptions,
}

/// Told as each Site ends, in the order they end.
pub trait FleetProgress: Send + Sync {
    fn site_done(&self, row: &SiteRow, done: usize, total: usize);
}

pub struct Quiet;

impl FleetProgress for Quiet {
    fn site_done(&self, _: &SiteRow, _: usize, _: usize) {}
}

/// One Site's row and metadata findings.
type Outcome = (SiteRow, Vec<FleetFinding>);

/// A Site in flight: its name, file and scenario (shared with its task, not copied), for the
/// row of a task that panicked.
type Running = (String, PathBuf, Option<Arc<Scenario>>);

/// Runs every member this shard holds and assembles the fleet report. Per-Site reports are
/// written as each Site ends, so an interrupted fleet loses nothing already written.
pub async fn run(
    members: Vec<Member>,
    options: &FleetOptions,
    progress: Arc<dyn FleetProgress>,
) -> FleetReport {
    let runner: SiteRunner = Arc::new(|scenario, options| {
        Box::pin(async move { crate::run(&scenario, &options).await })
    });
    run_with(members, options, progress, runner).await
}

/// How one Site is run: [`crate::run`], except in the tests of the fleet's own failure paths.
type SiteRunner = Arc<
    dyn Fn(
            Arc<Scenario>,
            RunOptions,
        ) -> futures::future::BoxFuture<'static, Result<RunResult, crate::Error>>
        + Send
        + Sync,
>;

async fn run_with(
    members: Vec<Member>,
    options: &FleetOptions,
    progress: Arc<dyn FleetProgress>,
    runner: SiteRunner,
) -> FleetReport {
    let started = Instant::now();
    let mut inventory: Vec<String> = members.iter().map(|m| m.name.clone()).collect();
    inventory.sort();
    inventory.dedup();
    let mine: Vec<Member> = members
        .into_iter()
        .filter(|m| options.shard.is_none_or(|s| s.holds(&m.name)))
        .collect();
    let (members, duplicates) = split_duplicates(mine);
    let total = members.len();
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(total);
    let slots = Arc::new(Semaphore::new(options.jobs.max(1)));
    let stop = options.run.stop.clone();
    let mut tasks: JoinSet<Outcome> = JoinSet::new();
    // Which task is which, so a panicked task still gets its Site's row.
    let mut running: BTreeMap<tokio::task::Id, Running> = BTreeMap::new();
    let mut queue = members.into_iter();
    let mut done = 0;
    let mut finish = |outcome: Outcome, outcomes: &mut Vec<Outcome>| {
        done += 1;
        progress.site_done(&outcome.0, done, total);
        outcomes.push(outcome);
    };
    loop {
        // Start the next Site once a slot is free; meanwhile collect Sites that end.
        let next = if stop.is_stopped() {
            None
        } else {
            queue.next()
        };
        let Some(member) = next else { break };
        let permit = tokio::select! {
            biased;
            _ = stop.stopped() => None,
            permit = slots.clone().acquire_owned() => permit.ok(),
        };
        // A slot freed by a Site the stop ended must not start another.
        let Some(permit) = permit.filter(|_| !stop.is_stopped()) else {
            finish(not_run(member, options), &mut outcomes);
            break;
        };
        let scenario = match member.scenario {
            Ok(scenario) => scenario,
            Err(err) => {
                finish(invalid(&member.name, &member.path, &err), &mut outcomes);
                continue;
            }
        };
        let site_options = site_options(options);
        let out = options.out.clone();
        let roster = options.roster.clone();
        let scenario = Arc::new(scenario);
        let runner = runner.clone();
        // Every log line of this Site's run names it: many Sites log at once.
        let span = tracing::warn_span!("site", name = %scenario.site.name);
        let own = scenario.clone();
        let handle = tasks.spawn(
            async move {
                let result = runner(own.clone(), site_options).await;
                let outcome = site_outcome(&own, result, out.as_deref(), roster.as_ref());
                drop(permit);
                outcome
            }
            .instrument(span),
        );
        running.insert(handle.id(), (member.name, member.path, Some(scenario)));
        while let Some(joined) = tasks.try_join_next_with_id() {
            let outcome = joined_outcome(joined, &mut running);
            finish(outcome, &mut outcomes);
        }
    }
    for member in queue {
        finish(not_run(member, options), &mut outcomes);
    }
    while let Some(joined) = tasks.join_next_with_id().await {
        let outcome = joined_outcome(joined, &mut running);
        finish(outcome, &mut outcomes);
    }
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let jobs = options.jobs.max(1);
    let source = match options.shard {
        Some(shard) => FleetSource::Shard {
            index: shard.index,
            count: shard.count,
            jobs,
            duration_ms,
        },
        None => FleetSource::Run { jobs, duration_ms },
    };
    let (rows, governance): (Vec<SiteRow>, Vec<Vec<FleetFinding>>) = outcomes.into_iter().unzip();
    super::assemble(
        source,
        inventory,
        rows,
        governance.into_iter().flatten().collect(),
        duplicates,
        Vec::new(),
        options.run.fail_on,
    )
}

/// Two scenarios naming one Site would write one set of reports and one snapshot: the first
/// (by path) runs, and the others are reported, never run or counted.
fn split_duplicates(members: Vec<Member>) -> (Vec<Member>, Vec<Duplicate>) {
    let mut by_name: BTreeMap<String, Vec<Member>> = BTreeMap::new();
    for member in members {
        by_name.entry(member.name.clone()).or_default().push(member);
    }
    let mut kept = Vec::new();
    let mut duplicates = Vec::new();
    for (name, mut copies) in by_name {
        copies.sort_by(|a, b| a.path.cmp(&b.path));
        if copies.len() > 1 {
            duplicates.push(Duplicate {
                site: name,
                from: copies
                    .iter()
                    .map(|m| m.path.display().to_string())
                    .collect(),
                kept: copies[0].path.display().to_string(),
            });
        }
        kept.push(copies.swap_remove(0));
    }
    kept.sort_by(|a, b| a.path.cmp(&b.path));
    (kept, duplicates)
}

/// A scenario that does not load is that Site's error row (exit 2), run or not.
fn invalid(name: &str, path: &Path, err: &crate::scenario::ScenarioError) -> Outcome {
    let why = format!("invalid scenario: {}", one_line(&err.to_string()));
    let row = row::pending(name, path, None, SiteStatus::Error, exit::USAGE, vec![why]);
    (row, Vec::new())
}

fn not_run(member: Member, options: &FleetOptions) -> Outcome {
    if let Err(err) = &member.scenario {
        return invalid(&member.name, &member.path, err);
    }
    let why = options
        .run
        .stop
        .reason()
        .unwrap_or_else(|| "the fleet stopped".to_string());
    let scenario = member.scenario.as_ref().ok();
    let row = row::pending(
        &member.name,
        &member.path,
        scenario,
        SiteStatus::NotRun,
        exit::INCONCLUSIVE,
        vec![format!("not run: {why} before it started")],
    );
    let findings = scenario
        .map(|s| governance::site_findings(s, None, options.roster.as_ref()))
        .unwrap_or_default();
    (row, findings)
}

fn site_options(options: &FleetOptions) -> RunOptions {
    let mut run = options.run.clone();
    run.stop = options.run.stop.child();
    run.progress = crate::progress::ProgressHandle::default();
    if let (Some(store), Some(out)) = (&run.snapshots, &options.out) {
        run.snapshots = Some(store.clone().with_pending_dir(out.join(SITES_DIR)));
    }
    run
}

/// Per-Site reports live in this folder of `--out`.
pub const SITES_DIR: &str = "sites";

fn site_outcome(
    scenario: &Scenario,
    result: Result<RunResult, crate::Error>,
    out: Option<&Path>,
    roster: Option<&Roster>,
) -> Outcome {
    match result {
        Ok(result) => {
            let (files, problem) = match out {
                Some(out) => write_site_reports(&result, out),
                None => (SiteFiles::default(), None),
            };
            let mut row = row::judged(scenario, &result, files);
            if let (Some(cell), Some(pending)) = (&mut row.snapshot, &result.snapshot)
                && let Some(path) = &pending.pending
                && let Some(out) = out
            {
                cell.pending = Some(relative(Path::new(path), out));
            }
            if let Some(problem) = problem {
                row.reasons.push(problem);
                row.exit_code = row.exit_code.max(exit::INCONCLUSIVE);
            }
            let findings = governance::site_findings(scenario, Some(&result), roster);
            (row, findings)
        }
        Err(err) => {
            let findings = governance::site_findings(scenario, None, roster);
            (row::failed(scenario, &err), findings)
        }
    }
}

/// Writes `sites/<name>.{json,junit.xml,sarif,md,html}`; a file that cannot be written is
/// named in the row (and makes the Site inconclusive: CI must not pass on a missing report).
fn write_site_reports(result: &RunResult, out: &Path) -> (SiteFiles, Option<String>) {
    let dir = out.join(SITES_DIR);
    if let Err(err) = std::fs::create_dir_all(&dir) {
        return (
            SiteFiles::default(),
            Some(format!("cannot create {}: {err}", dir.display())),
        );
    }
    let name = &result.site.name;
    let file = |ext: &str| format!("{SITES_DIR}/{name}.{ext}");
    let files = SiteFiles {
        json: Some(file("json")),
        junit: Some(file("junit.xml")),
        sarif: Some(file("sarif")),
        markdown: Some(file("md")),
        html: Some(file("html")),
    };
    let path = |rel: &Option<String>| rel.as_ref().map(|r| out.join(r));
    let mut problem = report::json::write(result, &out.join(file("json")))
        .err()
        .map(|err| format!("cannot write the JSON report: {err}"));
    let outputs = report::Outputs {
        junit: path(&files.junit),
        sarif: path(&files.sarif),
        markdown: path(&files.markdown),
        html: path(&files.html),
    };
    if let Err(err) = report::write_outputs(result, &outputs) {
        problem.get_or_insert(row::error_chain(&err));
    }
    (files, problem)
}

fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn joined_outcome(
    joined: Result<(tokio::task::Id, Outcome), tokio::task::JoinError>,
    running: &mut BTreeMap<tokio::task::Id, Running>,
) -> Outcome {
    match joined {
        Ok((id, outcome)) => {
            running.remove(&id);
            outcome
        }
        Err(err) => {
            let (name, path, scenario) = running
                .remove(&err.id())
                .unwrap_or_else(|| ("?".to_string(), PathBuf::new(), None));
            let why = if err.is_panic() {
                let payload = err.into_panic();
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".to_string());
                format!(
                    "the run of this Site crashed (a bug in lowpriv: please report it): {message}"
                )
            } else {
                "the run of this Site was cancelled".to_string()
            };
            let row = row::pending(
                &name,
                &path,
                scenario.as_deref(),
                SiteStatus::Error,
                exit::INCONCLUSIVE,
                vec![why],
            );
            (row, Vec::new())
        }
    }
}

/// The first line of a multi-line message (scenario diagnostics are drawn over many).
pub(crate) fn one_line(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    match lines.as_slice() {
        [] => String::new(),
        [one] => one.trim().to_string(),
        [first, rest @ ..] => format!("{} (and {} more lines)", first.trim(), rest.len()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::scenario::ScenarioError;

    fn member(name: &str) -> Member {
        let text = format!(
            "[site]\nname = \"{name}\"\nbase_url = \"http://127.0.0.1:1\"\naudience = \"team\"\n\
             owner = \"o@acme.example\"\n\n[[identity]]\nname = \"anonymous\"\ntier = \"external\"\n"
        );
        let path = PathBuf::from(format!("{name}.toml"));
        Member {
            name: name.to_string(),
            scenario: crate::scenario::parse(&text, &path, &|_| None),
            path,
        }
    }

    fn options(jobs: usize) -> FleetOptions {
        FleetOptions {
            jobs,
            shard: None,
            out: None,
            roster: None,
            run: RunOptions::default(),
        }
    }

    /// A run that ends without judging (no Site is contacted).
    fn refused(scenario: &Scenario) -> Result<RunResult, crate::Error> {
        Err(crate::Error::Scenario(ScenarioError::Read {
            path: scenario.file.clone(),
            source: std::io::Error::other("not a real run"),
        }))
    }

    #[tokio::test]
    async fn a_site_that_panics_is_its_own_row_and_the_others_still_run() {
        let runner: SiteRunner = Arc::new(|scenario, _| {
            Box::pin(async move {
                if scenario.site.name == "boom" {
                    panic!("kaboom");
                }
                refused(&scenario)
            })
        });
        let members = vec![member("a"), member("boom"), member("c")];
        let report = run_with(members, &options(2), Arc::new(Quiet), runner).await;
        let rows: Vec<(&str, &str)> = report
            .sites
            .iter()
            .map(|r| (r.name.as_str(), r.verdict.as_str()))
            .collect();
        assert_eq!(rows, [("a", "error"), ("boom", "error"), ("c", "error")]);
        let boom = &report.sites[1];
        assert!(boom.reasons[0].contains("crashed") && boom.reasons[0].contains("kaboom"));
        assert_eq!(boom.exit_code, exit::INCONCLUSIVE);
        assert_eq!(
            boom.owner.as_deref(),
            Some("o@acme.example"),
            "metadata kept"
        );
        assert_eq!(report.summary.exit_code, exit::INCONCLUSIVE);
    }

    #[tokio::test]
    async fn no_more_than_jobs_sites_run_at_once_and_all_of_them_run() {
        let (now, peak, ran) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        );
        let counters = (now.clone(), peak.clone(), ran.clone());
        let runner: SiteRunner = Arc::new(move |scenario, _| {
            let (now, peak, ran) = counters.clone();
            Box::pin(async move {
                let in_flight = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(in_flight, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(30)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                ran.fetch_add(1, Ordering::SeqCst);
                refused(&scenario)
            })
        });
        let members = (0..12).map(|i| member(&format!("s{i:02}"))).collect();
        let report = run_with(members, &options(3), Arc::new(Quiet), runner).await;
        assert_eq!(report.sites.len(), 12);
        assert_eq!(ran.load(Ordering::SeqCst), 12);
        assert_eq!(peak.load(Ordering::SeqCst), 3, "three at once, never more");
    }

    #[tokio::test]
    async fn a_stopped_fleet_lists_the_sites_it_never_started() {
        let runner: SiteRunner = Arc::new(|scenario, options| {
            Box::pin(async move {
                // The first Site trips the fleet's stop, as Ctrl-C would.
                options.stop.stopped().await;
                refused(&scenario)
            })
        });
        let fleet = options(1);
        let stop = fleet.run.stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            stop.stop("interrupted by a signal");
        });
        let members = vec![member("a"), member("b"), member("c")];
        let report = run_with(members, &fleet, Arc::new(Quiet), runner).await;
        let rows: Vec<(&str, &str)> = report
            .sites
            .iter()
            .map(|r| (r.name.as_str(), r.verdict.as_str()))
            .collect();
        assert_eq!(rows, [("a", "error"), ("b", "not-run"), ("c", "not-run")]);
        assert!(report.sites[1].reasons[0].contains("interrupted by a signal"));
        assert_eq!(report.summary.exit_code, exit::INCONCLUSIVE);
    }

    #[test]
    fn two_scenarios_naming_one_site_run_once_and_are_reported() {
        let mut second = member("a");
        second.path = PathBuf::from("z/a.toml");
        let (kept, duplicates) = split_duplicates(vec![second, member("a"), member("b")]);
        assert_eq!(kept.len(), 2);
        assert_eq!(duplicates.len(), 1);
        assert_eq!(duplicates[0].kept, "a.toml");
        assert_eq!(duplicates[0].from, ["a.toml", "z/a.toml"]);
    }
}
