//! A demo fleet: N demo Sites served in process on loopback ports, and one scenario file per
//! Site, so `lowpriv run DIR` (one process, shards, a merge) has a whole estate to judge.
//!
//! Input: a [`FleetPlan`] (how many Sites, where their scenarios go, the crawl budget).
//! Output: a running [`DemoFleet`]: the Sites, `DIR/<site>.toml` for each, the variables
//! those files need ([`DemoFleet::env`], [`DemoFleet::write_env_file`]), and each Site's
//! counters. Invariants: everything but the ports and the secrets is a function of the
//! Site's index (and of the plan's day), so a test with N Sites knows what each must give
//! ([`profile`]); every Site has its own passwords and runtime secret, and the files hold
//! only `${VAR}` references to them; the library prints nothing.
//!
//! Kinds by index (see `docs/demo-site.md`, "The demo fleet"): 0 flawed, 1 fixed, 2 down,
//! 3 wrong password, 4 slow (flawed), 5 fixed and company-wide with a narrower salary rule,
//! 6 its silent twin, 7 flawed and expired, 13 slow (fixed); past 7, every index divisible by
//! 3 is fixed and the rest flawed.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use lowpriv::fleet::FleetFindingKind;

use crate::config::{DemoConfig, Faults};
use crate::data::USERS;
use crate::state::DemoStats;
use crate::state::random_hex;
use crate::{DemoSite, SCENARIO, random_secret};

/// The env file `serve` writes next to the scenarios (not a `.toml`, so a folder scan of
/// scenarios passes it by).
pub const ENV_FILE: &str = "fleet.env";

/// The first line of every scenario file a fleet writes: how a later start recognises its
/// own stale files (a fleet of 30 after one of 40) and removes them, and nothing else.
const MARKER: &str = "# lowpriv demo fleet:";

/// What to serve and where to write the scenarios.
#[derive(Clone, Debug)]
pub struct FleetPlan {
    /// How many Sites (N).
    pub sites: usize,
    /// Where `<site-name>.toml` is written for each Site; created if missing.
    pub scenario_dir: PathBuf,
    /// `[crawl] rate_limit` of every scenario: requests per second to one Site, every
    /// identity together.
    pub rate_limit: u32,
    /// `[crawl] max_requests` of every scenario (each identity's crawl budget).
    pub max_requests: u32,
    /// Serve each Site's data browser (`/data`, about 1,300 requests a Site instead of 130)
    /// and keep its rules in the scenarios: a fleet of Sites the size of the demo, for the
    /// fleet bench. Set `max_requests` to the demo's 500 with it.
    pub data_browser: bool,
    /// The day the review and expiry dates are set around (overdue, expired, fresh); today
    /// when unset. A test that pins `RunOptions::today` pins this to the same day.
    pub today: Option<jiff::civil::Date>,
}

impl FleetPlan {
    /// Fast on loopback: the Sites are in process and cheap.
    pub const DEFAULT_RATE_LIMIT: u32 = 2000;
    /// A demo Site with the data browser off takes about 20 requests per identity (100 for
    /// its five identities): 200 leaves room and never truncates a crawl, which would make
    /// the Site inconclusive.
    pub const DEFAULT_MAX_REQUESTS: u32 = 200;

    pub fn new(sites: usize, scenario_dir: impl Into<PathBuf>) -> FleetPlan {
        FleetPlan {
            sites,
            scenario_dir: scenario_dir.into(),
            rate_limit: FleetPlan::DEFAULT_RATE_LIMIT,
            max_requests: FleetPlan::DEFAULT_MAX_REQUESTS,
            data_browser: false,
            today: None,
        }
    }
}

/// How a Site of the fleet behaves, and so what a run of its scenario gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SiteKind {
    /// Every planted flaw: verdict fail (exit 1).
    Flawed,
    /// Every flaw fixed: verdict pass (exit 0).
    Fixed,
    /// Nothing listens on its port (bound, never listening): connection refused,
    /// inconclusive (exit 3).
    Down,
    /// Its scenario's password for dave is wrong: login failed, inconclusive (exit 3).
    WrongPassword,
    /// Every response delayed ([`FleetMember::latency_ms`]), still judged: flawed or fixed
    /// as [`FleetMember::serves_fixed`] says.
    Slow,
}

impl SiteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SiteKind::Flawed => "flawed",
            SiteKind::Fixed => "fixed",
            SiteKind::Down => "down",
            SiteKind::WrongPassword => "wrong-password",
            SiteKind::Slow => "slow",
        }
    }
}

/// Everything about the Site at one index that does not depend on the running fleet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteProfile {
    pub index: usize,
    /// `[site] name`: distinct per index, file-name safe.
    pub name: String,
    pub kind: SiteKind,
    /// The Site is served with its flaws fixed.
    pub serves_fixed: bool,
    /// Added to every response.
    pub latency_ms: u64,
    /// The run's exit code with the default `--fail-on high`: 1 flawed, 0 fixed, 3 down or
    /// wrong password.
    pub expected_exit_code: i32,
    pub owner: Option<&'static str>,
    /// `[site] audience`: `team`, or `company` for the two audience cases.
    pub audience: &'static str,
    pub data_sources: &'static [&'static str],
    /// `last_review + review_every_days` is before the plan's day.
    pub review_overdue: bool,
    /// `expires` is before the plan's day (the Site is served all the same).
    pub expired: bool,
    /// The salary rule admits `company` (and above) besides alice and bob: on a company-wide
    /// Site, the rule then covers the audience.
    pub salary_rule_admits_company: bool,
    /// The fleet governance findings its metadata should raise (no roster given).
    pub expected_governance: Vec<FleetFindingKind>,
}

const TEAMS: [&str; 8] = [
    "payroll", "hr", "finance", "sales", "ops", "legal", "it", "support",
];
const APPS: [&str; 7] = [
    "expenses",
    "payslips",
    "reviews",
    "budgets",
    "directory",
    "timesheets",
    "benefits",
];
/// `former.lead` is the owner a roster test can leave out (someone who has left).
const OWNERS: [&str; 6] = [
    "alice@acme.example",
    "priya.shah@acme.example",
    "marco.rossi@acme.example",
    "lena.berg@acme.example",
    "sam.okafor@acme.example",
    "former.lead@acme.example",
];
const DATA_SOURCES: [&[&str]; 4] = [
    &["hr-db"],
    &["hr-db", "expenses-db"],
    &["finance-dw"],
    &["hr-db", "payroll-api"],
];

/// The slow Sites' latencies: enough to show in a fleet's timings, far under the scenario's
/// 10 s timeout.
const SLOW_FLAWED_MS: u64 = 150;
const SLOW_FIXED_MS: u64 = 250;

/// The Site at `index` (0-based): the same for every fleet, so a fleet of N is the first N
/// Sites of any larger one.
pub fn profile(index: usize) -> SiteProfile {
    let (kind, serves_fixed, latency_ms) = match index {
        0 => (SiteKind::Flawed, false, 0),
        1 => (SiteKind::Fixed, true, 0),
        2 => (SiteKind::Down, false, 0),
        3 => (SiteKind::WrongPassword, false, 0),
        4 => (SiteKind::Slow, false, SLOW_FLAWED_MS),
        5 | 6 => (SiteKind::Fixed, true, 0),
        7 => (SiteKind::Flawed, false, 0),
        13 => (SiteKind::Slow, true, SLOW_FIXED_MS),
        i if i % 3 == 0 => (SiteKind::Fixed, true, 0),
        _ => (SiteKind::Flawed, false, 0),
    };
    let expected_exit_code = match kind {
        SiteKind::Down | SiteKind::WrongPassword => 3,
        _ if serves_fixed => 0,
        _ => 1,
    };
    let owner = (index % 10 != 8).then(|| OWNERS[index % OWNERS.len()]);
    let audience = if matches!(index, 5 | 6) {
        "company"
    } else {
        "team"
    };
    let review_overdue = index % 5 == 4;
    let expired = index == 7;
    let salary_rule_admits_company = index == 6;
    let mut expected_governance = Vec::new();
    if review_overdue {
        expected_governance.push(FleetFindingKind::ReviewOverdue);
    }
    if expired {
        expected_governance.push(FleetFindingKind::ExpiredReachable);
    }
    if owner.is_none() {
        expected_governance.push(FleetFindingKind::NoOwner);
    }
    if audience == "company" && !salary_rule_admits_company {
        expected_governance.push(FleetFindingKind::AudienceWiderThanData);
    }
    SiteProfile {
        index,
        name: format!(
            "{}-{:02}-{}",
            TEAMS[index % TEAMS.len()],
            index + 1,
            APPS[index % APPS.len()]
        ),
        kind,
        serves_fixed,
        latency_ms,
        expected_exit_code,
        owner,
        audience,
        data_sources: DATA_SOURCES[index % DATA_SOURCES.len()],
        review_overdue,
        expired,
        salary_rule_admits_company,
        expected_governance,
    }
}

/// One Site of a running fleet.
#[derive(Clone, Debug)]
pub struct FleetMember {
    pub profile: SiteProfile,
    pub name: String,
    pub kind: SiteKind,
    pub serves_fixed: bool,
    pub latency_ms: u64,
    pub expected_exit_code: i32,
    /// Where the Site is served (for a down Site: the port nothing listens on).
    pub base_url: url::Url,
    pub scenario_path: PathBuf,
}

/// The variables one Site's scenario reads.
struct Vars {
    /// `(user name, variable, value)` for each login identity.
    passwords: Vec<(&'static str, String, String)>,
    db_var: String,
    db_password: String,
}

impl Vars {
    fn new(site: &str) -> Vars {
        let prefix = format!("FLEET_{}", site.to_ascii_uppercase().replace('-', "_"));
        Vars {
            passwords: USERS
                .iter()
                .map(|user| {
                    let var = format!("{prefix}_{}_PASSWORD", user.name.to_ascii_uppercase());
                    (user.name, var, format!("fleet-pw-{}", random_hex()))
                })
                .collect(),
            db_var: format!("{prefix}_DB_PASSWORD"),
            db_password: random_secret(),
        }
    }

    fn var(&self, user: &str) -> Option<&str> {
        self.passwords
            .iter()
            .find(|(name, _, _)| *name == user)
            .map(|(_, var, _)| var.as_str())
    }

    fn password(&self, user: &str) -> Option<&str> {
        self.passwords
            .iter()
            .find(|(name, _, _)| *name == user)
            .map(|(_, _, value)| value.as_str())
    }
}

/// A running demo fleet.
pub struct DemoFleet {
    members: Vec<FleetMember>,
    /// In member order; `None` for a down Site.
    sites: Vec<Option<DemoSite>>,
    /// The down Sites' ports: bound and never listening, so connecting is refused and no
    /// other process can take the port while the fleet runs.
    reserved: Vec<tokio::net::TcpSocket>,
    env: BTreeMap<String, String>,
}

impl DemoFleet {
    /// Serves `plan.sites` Sites on 127.0.0.1 (port 0 each) and writes their scenario files
    /// into `plan.scenario_dir`, removing stale ones an earlier fleet wrote there.
    pub async fn start(plan: FleetPlan) -> std::io::Result<DemoFleet> {
        std::fs::create_dir_all(&plan.scenario_dir)?;
        let today = plan
            .today
            .unwrap_or_else(|| jiff::ZonedDateTime::now().date());
        let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let mut fleet = DemoFleet {
            members: Vec::with_capacity(plan.sites),
            sites: Vec::with_capacity(plan.sites),
            reserved: Vec::new(),
            env: BTreeMap::new(),
        };
        let mut written = BTreeSet::new();
        for index in 0..plan.sites {
            let profile = profile(index);
            let vars = Vars::new(&profile.name);
            let (site, base_url) = if profile.kind == SiteKind::Down {
                let socket = tokio::net::TcpSocket::new_v4()?;
                socket.bind(loopback)?;
                let url = crate::origin_url(socket.local_addr()?)?;
                fleet.reserved.push(socket);
                (None, url)
            } else {
                let config = DemoConfig {
                    fixed: profile.serves_fixed,
                    db_password: vars.db_password.clone(),
                    data_browser: plan.data_browser,
                    passwords: vars
                        .passwords
                        .iter()
                        .map(|(user, _, value)| (user.to_string(), value.clone()))
                        .collect(),
                    faults: Faults {
                        latency_ms: profile.latency_ms,
                        ..Faults::default()
                    },
                    ..DemoConfig::default()
                };
                let site = DemoSite::start(config, loopback).await?;
                let url = site.base_url.clone();
                (Some(site), url)
            };
            let text = scenario_text(SCENARIO, &profile, &base_url, &vars, &plan, today)
                .map_err(std::io::Error::other)?;
            let file = format!("{}.toml", profile.name);
            let scenario_path = plan.scenario_dir.join(&file);
            std::fs::write(&scenario_path, text)?;
            written.insert(file);
            fleet.env.extend(scenario_env(&profile, &vars));
            fleet.sites.push(site);
            fleet.members.push(FleetMember {
                name: profile.name.clone(),
                kind: profile.kind,
                serves_fixed: profile.serves_fixed,
                latency_ms: profile.latency_ms,
                expected_exit_code: profile.expected_exit_code,
                base_url,
                scenario_path,
                profile,
            });
        }
        remove_stale(&plan.scenario_dir, &written)?;
        Ok(fleet)
    }

    /// The Sites, by index.
    pub fn members(&self) -> &[FleetMember] {
        &self.members
    }

    /// Every variable the fleet's scenarios read (each Site's passwords and `DB_PASSWORD`),
    /// for `lowpriv::scenario::load` or a shard process's environment.
    pub fn env(&self) -> BTreeMap<String, String> {
        self.env.clone()
    }

    /// Writes [`DemoFleet::env`] as `KEY=VALUE` lines, sorted (on Unix readable by the owner
    /// only: the file holds the fleet's passwords).
    pub fn write_env_file(&self, path: &Path) -> std::io::Result<()> {
        let text: String = self
            .env
            .iter()
            .map(|(key, value)| format!("{key}={value}\n"))
            .collect();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path)?;
        std::io::Write::write_all(&mut file, text.as_bytes())
    }

    /// Each Site's counters, by index (a down Site's stay 0: nothing reached it).
    pub fn stats(&self) -> Vec<(String, DemoStats)> {
        self.members
            .iter()
            .zip(&self.sites)
            .map(|(member, site)| {
                let stats = site.as_ref().map(DemoSite::stats).unwrap_or_default();
                (member.name.clone(), stats)
            })
            .collect()
    }

    /// Stops every Site (gracefully, each within `DemoSite::shutdown`'s grace) and releases
    /// the down Sites' ports.
    pub async fn shutdown(self) {
        futures::future::join_all(self.sites.into_iter().flatten().map(DemoSite::shutdown)).await;
        drop(self.reserved);
    }
}

/// `lowpriv demo-site --sites N --scenarios DIR` in one call: starts the fleet (which writes
/// the scenarios), writes `DIR/fleet.env` ([`ENV_FILE`]), hands the running fleet to `ready`
/// (the caller prints where each Site is), serves until `until` completes (the caller's
/// Ctrl-C or SIGTERM), then stops every Site and returns their counters.
pub async fn serve(
    plan: FleetPlan,
    ready: impl FnOnce(&DemoFleet),
    until: impl Future<Output = ()>,
) -> std::io::Result<Vec<(String, DemoStats)>> {
    let env_file = plan.scenario_dir.join(ENV_FILE);
    let fleet = DemoFleet::start(plan).await?;
    if let Err(err) = fleet.write_env_file(&env_file) {
        fleet.shutdown().await;
        return Err(err);
    }
    ready(&fleet);
    until.await;
    let stats = fleet.stats();
    fleet.shutdown().await;
    Ok(stats)
}

/// Reads an env file as [`DemoFleet::write_env_file`] writes it (blank lines and `#` lines
/// skipped), for a shard process or a test that was handed the file.
pub fn read_env_file(path: &Path) -> std::io::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path)?;
    let mut env = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        // The line is never quoted in the error: it holds a password.
        let (key, value) = line.split_once('=').ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}:{}: expected KEY=VALUE", path.display(), number + 1),
            )
        })?;
        env.insert(key.trim().to_string(), value.to_string());
    }
    Ok(env)
}

/// The variables one Site's scenario reads, with the values it is given: its own passwords,
/// except that the wrong-password Site's scenario gets carol's password for dave (one of
/// this Site's own, so the login fails without a credential from elsewhere arriving).
fn scenario_env(profile: &SiteProfile, vars: &Vars) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vars
        .passwords
        .iter()
        .map(|(user, var, value)| {
            let value = match (profile.kind, *user) {
                (SiteKind::WrongPassword, "dave") => vars.password("carol").unwrap_or_default(),
                _ => value.as_str(),
            };
            (var.clone(), value.to_string())
        })
        .collect();
    env.push((vars.db_var.clone(), vars.db_password.clone()));
    env
}

/// Removes `*.toml` files under `dir` that an earlier fleet wrote (they start with
/// [`MARKER`]) and this one did not: a folder scan must not find Sites that are gone.
fn remove_stale(dir: &Path, written: &BTreeSet<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        if !file.ends_with(".toml") || written.contains(file) {
            continue;
        }
        let ours = std::fs::read_to_string(&path).is_ok_and(|text| text.starts_with(MARKER));
        if ours {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// `scenarios/demo.toml` made into this Site's scenario: its own `[site]` metadata and
/// base URL, a small crawl budget, its own variables, and without the data browser's rules
/// (the fleet serves the Site without it, and a rule that matches nothing is inconclusive)
/// or the HR API source (a fleet Site is judged on its own answers).
/// Identities, the other expectations and the data classes are the demo's.
fn scenario_text(
    source: &str,
    profile: &SiteProfile,
    base_url: &url::Url,
    vars: &Vars,
    plan: &FleetPlan,
    today: jiff::civil::Date,
) -> Result<String, String> {
    let days = |n: i64| {
        today
            .checked_add(jiff::Span::new().days(n))
            .map_err(|e| format!("cannot shift {today} by {n} days: {e}"))
    };
    let last_review = days(if profile.review_overdue { -400 } else { -30 })?;
    let expires = days(if profile.expired { -10 } else { 365 })?;
    let quoted = |items: &[&str]| {
        items
            .iter()
            .map(|item| format!("\"{item}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut site_lines: BTreeMap<&str, Option<String>> = BTreeMap::from([
        ("name", Some(format!("name = \"{}\"", profile.name))),
        ("base_url", Some(format!("base_url = \"{base_url}\""))),
        (
            "audience",
            Some(format!("audience = \"{}\"", profile.audience)),
        ),
        (
            "owner",
            profile.owner.map(|owner| format!("owner = \"{owner}\"")),
        ),
        (
            "data_sources",
            Some(format!("data_sources = [{}]", quoted(profile.data_sources))),
        ),
        ("last_review", Some(format!("last_review = {last_review}"))),
        (
            "review_every_days",
            Some("review_every_days = 365".to_string()),
        ),
        ("expires", Some(format!("expires = {expires}"))),
    ]);
    let mut crawl_lines: BTreeMap<&str, String> = BTreeMap::from([
        (
            "max_requests",
            format!("max_requests = {}", plan.max_requests),
        ),
        ("rate_limit", format!("rate_limit = {}", plan.rate_limit)),
    ]);

    let what = match profile.kind {
        SiteKind::Slow if profile.serves_fixed => "slow, flaws fixed",
        SiteKind::Slow => "slow, flawed",
        kind => kind.as_str(),
    };
    let mut out: Vec<String> = vec![
        format!(
            "{MARKER} Site {} ({what}), derived from scenarios/demo.toml.",
            profile.index
        ),
        "# Written by lowpriv_demo::fleet for the Site it serves; the passwords are the"
            .to_string(),
        "# fleet's variables (its env file), never in this file.".to_string(),
        String::new(),
    ];
    let mut replaced_vars = 0;
    let mut db_env = false;
    let mut salary_rule = false;
    // Split into tables: a table is its header line and the lines up to the next header.
    let mut tables: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in source.lines() {
        if line.starts_with('[') {
            tables.push((line.trim(), Vec::new()));
        } else if let Some((_, lines)) = tables.last_mut() {
            lines.push(line);
        }
        // Lines before the first table are the demo's own header comment: replaced above.
    }
    for (header, lines) in tables {
        // The demo's HR API source is the single demo's: a fleet Site is judged on its own
        // answers (its `[data]` classes stay, without their `source`).
        if header == "[[source]]" || header.starts_with("[source.") {
            drop_table(&mut out);
            continue;
        }
        let data_browser_rule = !plan.data_browser
            && header == "[[expect]]"
            && lines
                .iter()
                .any(|line| line.trim_start().starts_with("paths") && line.contains("\"/data"));
        if data_browser_rule {
            drop_table(&mut out);
            continue;
        }
        out.push(header.to_string());
        let is_salary_rule = header == "[[expect]]"
            && lines
                .iter()
                .any(|line| line.replace(' ', "") == "data=\"salary\"");
        for line in lines {
            let key = line
                .split_once('=')
                .map(|(key, _)| key.trim())
                .unwrap_or_default();
            let mut line = line.to_string();
            if header.starts_with("[data.") && key == "source" {
                continue;
            }
            match header {
                "[site]" if site_lines.contains_key(key) => {
                    // An owner the Site does not have is left out, not emptied.
                    if let Some(new) = site_lines.remove(key).flatten() {
                        out.push(new);
                    }
                    continue;
                }
                "[crawl]" if crawl_lines.contains_key(key) => {
                    if let Some(new) = crawl_lines.remove(key) {
                        out.push(new);
                    }
                    continue;
                }
                "[data.db-password]" if key == "env" => {
                    line = format!("env = \"{}\"", vars.db_var);
                    db_env = true;
                }
                "[[expect]]" if is_salary_rule && key == "visible_to" => {
                    salary_rule = true;
                    if profile.salary_rule_admits_company {
                        line = "visible_to = [\"alice\", \"bob\", \"company\"]".to_string();
                    }
                }
                _ => {}
            }
            for user in &USERS {
                let reference = format!("${{{}}}", user.env_var);
                if line.contains(&reference)
                    && let Some(var) = vars.var(user.name)
                {
                    line = line.replace(&reference, &format!("${{{var}}}"));
                    replaced_vars += 1;
                }
            }
            out.push(line);
        }
    }
    // The demo scenario is ours: a key it stops having must fail here, not write a Site
    // whose metadata silently is the demo's.
    let missing: Vec<&str> = site_lines
        .keys()
        .chain(crawl_lines.keys())
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "scenarios/demo.toml has no {} line to derive a fleet Site from",
            missing.join(", ")
        ));
    }
    if replaced_vars != USERS.len() || !db_env || !salary_rule {
        return Err(
            "scenarios/demo.toml no longer has the password variables, the DB_PASSWORD class \
             and the salary rule a fleet Site is derived from"
                .to_string(),
        );
    }
    while out.last().is_some_and(|line| line.trim().is_empty()) {
        out.pop();
    }
    let mut text = out.join("\n");
    text.push('\n');
    Ok(text)
}

/// Leaves a dropped table out: the comment lines above it are about it, so they go too.
fn drop_table(out: &mut Vec<String>) {
    while out
        .last()
        .is_some_and(|line| line.trim().is_empty() || line.starts_with('#'))
    {
        out.pop();
    }
    out.push(String::new());
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use lowpriv::scenario::{self, Scenario};
    use lowpriv::{RunOptions, RunResult, Verdict};

    use super::*;

    /// A fresh folder under the system temp dir, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            let dir = std::env::temp_dir().join(format!(
                "lowpriv-fleet-{}-{}",
                std::process::id(),
                random_hex()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn load(fleet: &DemoFleet, member: &FleetMember) -> Scenario {
        let env = fleet.env();
        scenario::load(&member.scenario_path, &|var| env.get(var).cloned())
            .unwrap_or_else(|e| panic!("{}: {e:?}", member.scenario_path.display()))
    }

    async fn run(fleet: &DemoFleet, member: &FleetMember) -> (RunResult, std::time::Duration) {
        let started = Instant::now();
        let result = lowpriv::run(&load(fleet, member), &RunOptions::default())
            .await
            .unwrap();
        (result, started.elapsed())
    }

    fn member(fleet: &DemoFleet, kind: SiteKind) -> &FleetMember {
        fleet.members().iter().find(|m| m.kind == kind).unwrap()
    }

    #[test]
    fn kinds_by_index_for_thirty() {
        let profiles: Vec<SiteProfile> = (0..30).map(profile).collect();
        let kinds: Vec<SiteKind> = profiles.iter().map(|p| p.kind).collect();
        use SiteKind::*;
        #[rustfmt::skip]
        let expected = [
            Flawed, Fixed, Down, WrongPassword, Slow, Fixed, Fixed, Flawed, Flawed, Fixed,
            Flawed, Flawed, Fixed, Slow, Flawed, Fixed, Flawed, Flawed, Fixed, Flawed,
            Flawed, Fixed, Flawed, Flawed, Fixed, Flawed, Flawed, Fixed, Flawed, Flawed,
        ];
        assert_eq!(kinds, expected);
        let codes: Vec<i32> = profiles.iter().map(|p| p.expected_exit_code).collect();
        let count = |code| codes.iter().filter(|&&c| c == code).count();
        // 4 (slow) fails with the flawed; 13 (slow) passes with the fixed.
        assert_eq!((count(1), count(0), count(3)), (17, 11, 2));
        assert_eq!(
            (profiles[4].latency_ms, profiles[13].latency_ms),
            (150, 250)
        );
        assert!(
            profiles
                .iter()
                .filter(|p| p.kind != Slow)
                .all(|p| p.latency_ms == 0)
        );

        let names: BTreeSet<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names.len(), 30, "names are distinct");
        assert!(names.iter().all(|n| {
            n.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        }));
        assert_eq!(profile(0).name, "payroll-01-expenses");
        assert_eq!(profile(0), profile(0), "stable for an index");

        let governed = |kind: FleetFindingKind| -> Vec<usize> {
            profiles
                .iter()
                .filter(|p| p.expected_governance.contains(&kind))
                .map(|p| p.index)
                .collect()
        };
        assert_eq!(governed(FleetFindingKind::NoOwner), [8, 18, 28]);
        assert_eq!(
            governed(FleetFindingKind::ReviewOverdue),
            [4, 9, 14, 19, 24, 29]
        );
        assert_eq!(governed(FleetFindingKind::ExpiredReachable), [7]);
        assert_eq!(governed(FleetFindingKind::AudienceWiderThanData), [5]);
        // The silent twin: company-wide too, its salary rule covering the audience.
        assert_eq!(profiles[6].audience, "company");
        assert!(profiles[6].expected_governance.is_empty());
        assert!(profiles[1].expected_governance.is_empty());
    }

    #[tokio::test]
    async fn a_fleet_of_six() {
        let dir = TempDir::new();
        // A stale file of an earlier, larger fleet goes; a scenario of someone else's stays.
        std::fs::write(dir.0.join("gone-99-site.toml"), format!("{MARKER} old\n")).unwrap();
        std::fs::write(dir.0.join("mine.toml"), "[site]\n").unwrap();
        let fleet = DemoFleet::start(FleetPlan::new(6, &dir.0)).await.unwrap();
        assert!(!dir.0.join("gone-99-site.toml").exists());
        assert!(dir.0.join("mine.toml").exists());

        let kinds: Vec<(SiteKind, i32)> = fleet
            .members()
            .iter()
            .map(|m| (m.kind, m.expected_exit_code))
            .collect();
        use SiteKind::*;
        assert_eq!(
            kinds,
            [
                (Flawed, 1),
                (Fixed, 0),
                (Down, 3),
                (WrongPassword, 3),
                (Slow, 1),
                (Fixed, 0)
            ]
        );

        // Every file parses with the fleet's variables, as its own Site.
        let env = fleet.env();
        for member in fleet.members() {
            let scenario = load(&fleet, member);
            assert_eq!(scenario.site.name, member.name);
            assert_eq!(scenario.site.base_url, member.base_url);
            assert_eq!(
                member.scenario_path,
                dir.0.join(format!("{}.toml", member.name))
            );
            assert_eq!(scenario.crawl.max_requests, FleetPlan::DEFAULT_MAX_REQUESTS);
            assert_eq!(scenario.crawl.rate_limit, FleetPlan::DEFAULT_RATE_LIMIT);
            assert_eq!(scenario.identities.len(), 5);
            // No secret is written into a scenario file.
            let text = std::fs::read_to_string(&member.scenario_path).unwrap();
            for value in env.values() {
                assert!(!text.contains(value.as_str()), "{}", member.name);
            }
            assert!(!text.contains("/data"), "no data browser rules");
        }
        // Without the fleet's variables, a file does not load.
        let bare = scenario::load(&fleet.members()[0].scenario_path, &|_| None);
        assert!(bare.is_err());

        // Own passwords and secret per Site: 5 variables each, no value shared between Sites.
        assert_eq!(env.len(), 6 * 5);
        let mut owner_of: BTreeMap<&str, &str> = BTreeMap::new();
        for member in fleet.members() {
            let prefix = format!("FLEET_{}_", member.name.to_uppercase().replace('-', "_"));
            let own: Vec<(&String, &String)> =
                env.iter().filter(|(k, _)| k.starts_with(&prefix)).collect();
            assert_eq!(own.len(), 5, "{prefix}");
            for (_, value) in own {
                if let Some(other) = owner_of.insert(value, &member.name) {
                    assert_eq!(other, member.name, "a value shared by two Sites");
                }
            }
        }
        let wrong = &fleet.members()[3];
        let var = |user: &str| {
            let site = wrong.name.to_uppercase().replace('-', "_");
            env[&format!("FLEET_{site}_{user}_PASSWORD")].clone()
        };
        assert_eq!(var("DAVE"), var("CAROL"), "dave is given carol's password");
        assert_ne!(var("ALICE"), var("CAROL"));

        // The env file round-trips.
        let env_file = dir.0.join(ENV_FILE);
        fleet.write_env_file(&env_file).unwrap();
        assert_eq!(read_env_file(&env_file).unwrap(), env);
        assert!(read_env_file(&dir.0.join("absent.env")).is_err());

        // The down Site refuses connections; a served one accepts them.
        let addr = |m: &FleetMember| {
            let url = &m.base_url;
            format!("{}:{}", url.host_str().unwrap(), url.port().unwrap())
        };
        let refused = tokio::net::TcpStream::connect(addr(member(&fleet, Down))).await;
        assert_eq!(
            refused.unwrap_err().kind(),
            std::io::ErrorKind::ConnectionRefused
        );
        assert!(
            tokio::net::TcpStream::connect(addr(member(&fleet, Fixed)))
                .await
                .is_ok()
        );

        // A flawed Site fails and a fixed one passes, judged on their small budget.
        for (kind, verdict) in [(Flawed, Verdict::Fail), (Fixed, Verdict::Pass)] {
            let (result, took) = run(&fleet, member(&fleet, kind)).await;
            assert_eq!(
                result.summary.verdict, verdict,
                "{:?}",
                result.summary.reasons
            );
            assert!(result.identities.iter().all(|i| i.truncated.is_none()));
            eprintln!("{kind:?}: {} requests in {took:?}", result.summary.requests);
        }
        let stats: BTreeMap<String, DemoStats> = fleet.stats().into_iter().collect();
        assert_eq!(stats.len(), 6);
        for (name, stats) in &stats {
            assert_eq!(stats.unknown_credentials, 0, "{name}");
            assert_eq!((stats.logout_hits, stats.delete_hits), (0, 0), "{name}");
        }
        let flawed = &stats[&member(&fleet, Flawed).name];
        assert!(flawed.requests > 50, "{flawed:?}");
        assert!(flawed.max_requests_per_second > 0);
        assert_eq!(stats[&member(&fleet, Down).name], DemoStats::default());
        assert_eq!(stats[&member(&fleet, Slow).name].requests, 0, "not run");
        fleet.shutdown().await;
    }

    #[tokio::test]
    async fn wrong_password_and_down_are_inconclusive() {
        let dir = TempDir::new();
        let fleet = DemoFleet::start(FleetPlan::new(4, &dir.0)).await.unwrap();
        for kind in [SiteKind::WrongPassword, SiteKind::Down] {
            let (result, took) = run(&fleet, member(&fleet, kind)).await;
            assert_eq!(
                result.summary.verdict,
                Verdict::Inconclusive,
                "{kind:?}: {:?}",
                result.summary.reasons
            );
            assert_eq!(result.summary.exit_code, 3);
            eprintln!("{kind:?}: {} requests in {took:?}", result.summary.requests);
        }
        let wrong = &fleet.members()[3];
        let result = run(&fleet, wrong).await.0;
        let failed: Vec<&str> = result
            .identities
            .iter()
            .filter(|i| !i.logged_in)
            .map(|i| i.name.as_str())
            .collect();
        assert_eq!(failed, ["dave"]);
        // Carol's password for dave is this Site's own: no credential from elsewhere.
        let stats: BTreeMap<String, DemoStats> = fleet.stats().into_iter().collect();
        assert_eq!(stats[&wrong.name].unknown_credentials, 0);
        fleet.shutdown().await;
    }

    /// The form login over real HTTP: the session id, if the Site issued one.
    async fn form_login(base: &url::Url, user: &str, password: &str) -> Option<String> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let page = client
            .get(base.join("/login").unwrap())
            .send()
            .await
            .unwrap();
        let cookie = |response: &reqwest::Response, name: &str| {
            response
                .headers()
                .get_all("set-cookie")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .filter_map(|v| v.split(';').next()?.split_once('='))
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        };
        let pre = cookie(&page, "csrf_pre").unwrap();
        let body = page.text().await.unwrap();
        let marker = "name=\"csrf\" value=\"";
        let start = body.find(marker).unwrap() + marker.len();
        let csrf = &body[start..start + body[start..].find('"').unwrap()];
        let posted = client
            .post(base.join("/login").unwrap())
            .header("cookie", format!("csrf_pre={pre}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf={csrf}&username={user}&password={password}"))
            .send()
            .await
            .unwrap();
        cookie(&posted, "sid")
    }

    async fn me(base: &url::Url, sid: Option<&str>, basic: Option<(&str, &str)>) -> u16 {
        let mut request = reqwest::Client::new().get(base.join("/api/me").unwrap());
        if let Some(sid) = sid {
            request = request.header("cookie", format!("sid={sid}"));
        }
        if let Some((user, password)) = basic {
            request = request.basic_auth(user, Some(password));
        }
        request.send().await.unwrap().status().as_u16()
    }

    #[tokio::test]
    async fn credentials_from_another_site_are_refused_and_counted() {
        let dir = TempDir::new();
        let fleet = DemoFleet::start(FleetPlan::new(2, &dir.0)).await.unwrap();
        let env = fleet.env();
        let [a, b] = fleet.members() else {
            panic!("two Sites")
        };
        let password = |site: &FleetMember| {
            let site = site.name.to_uppercase().replace('-', "_");
            env[&format!("FLEET_{site}_CAROL_PASSWORD")].clone()
        };
        let unknown = |i: usize| fleet.stats()[i].1.unknown_credentials;

        // Each Site's own credentials work there and are not counted.
        let a_sid = form_login(&a.base_url, "carol", &password(a))
            .await
            .unwrap();
        let b_sid = form_login(&b.base_url, "carol", &password(b))
            .await
            .unwrap();
        assert_eq!(me(&a.base_url, Some(&a_sid), None).await, 200);
        assert_eq!(
            me(&a.base_url, None, Some(("carol", &password(a)))).await,
            200
        );
        // The documented demo password is not a fleet Site's.
        assert_eq!(
            me(&a.base_url, None, Some(("carol", "carol-demo-pw-3Xv8"))).await,
            401
        );
        assert_eq!((unknown(0), unknown(1)), (1, 0));

        // B's session, B's password (form and Basic) at A: refused, each counted at A only.
        assert_eq!(me(&a.base_url, Some(&b_sid), None).await, 401);
        assert_eq!(form_login(&a.base_url, "carol", &password(b)).await, None);
        assert_eq!(
            me(&a.base_url, None, Some(("carol", &password(b)))).await,
            401
        );
        assert_eq!((unknown(0), unknown(1)), (4, 0));
        fleet.shutdown().await;
    }

    #[tokio::test]
    async fn serve_writes_the_env_file_and_serves_until_told() {
        let dir = TempDir::new();
        let (tell, told) = tokio::sync::oneshot::channel::<()>();
        let mut seen = Vec::new();
        let served = serve(
            FleetPlan::new(3, &dir.0),
            |fleet| {
                seen = fleet.members().iter().map(|m| m.base_url.clone()).collect();
                // Stops only once the fleet is ready: serving went on until then.
                let _ = tell.send(());
            },
            async {
                let _ = told.await;
            },
        )
        .await
        .unwrap();
        assert_eq!(seen.len(), 3);
        assert_eq!(served.len(), 3);
        let env = read_env_file(&dir.0.join(ENV_FILE)).unwrap();
        assert_eq!(env.len(), 3 * 5);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.0.join(ENV_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the env file is the owner's only");
        }
        // Stopped: the first Site no longer answers.
        let url = &seen[0];
        let addr = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    }

    #[tokio::test]
    async fn requests_per_second_are_counted() {
        let dir = TempDir::new();
        let fleet = DemoFleet::start(FleetPlan::new(2, &dir.0)).await.unwrap();
        let base = &fleet.members()[0].base_url;
        let client = reqwest::Client::new();
        for path in ["/healthz", "/nowhere", "/_demo/stats"]
            .iter()
            .cycle()
            .take(30)
        {
            client.get(base.join(path).unwrap()).send().await.unwrap();
        }
        let stats = fleet.stats();
        assert_eq!(stats[0].1.requests, 30, "every route counted");
        // 30 quick requests fall in one second, or straddle two.
        let peak = stats[0].1.max_requests_per_second;
        assert!((15..=30).contains(&peak), "{peak}");
        assert_eq!(
            (stats[1].1.requests, stats[1].1.max_requests_per_second),
            (0, 0)
        );
        fleet.shutdown().await;
    }

    /// Not a check: the numbers behind the fleet's budget (`cargo test -p lowpriv-demo
    /// measure_every_kind -- --ignored --nocapture`).
    #[tokio::test]
    #[ignore]
    async fn measure_every_kind() {
        let dir = TempDir::new();
        let fleet = DemoFleet::start(FleetPlan::new(14, &dir.0)).await.unwrap();
        for member in fleet.members() {
            let (result, took) = run(&fleet, member).await;
            let per_identity: Vec<String> = result
                .identities
                .iter()
                .map(|i| format!("{}={}+{}", i.name, i.crawled, i.replayed))
                .collect();
            eprintln!(
                "{:2} {:24} {:14} exit {} (expected {}): {} requests in {:?} [{}]",
                member.profile.index,
                member.name,
                member.kind.as_str(),
                result.summary.exit_code,
                member.expected_exit_code,
                result.summary.requests,
                took,
                per_identity.join(" ")
            );
            assert_eq!(result.summary.exit_code, member.expected_exit_code);
        }
        for (name, stats) in fleet.stats() {
            eprintln!("{name}: {stats:?}");
        }
        fleet.shutdown().await;
    }

    /// Not a check either: how close a run at the fleet bench's `rate_limit = 20` comes to
    /// it in any wall-clock second, Sites run side by side (`-- --ignored --nocapture`).
    #[tokio::test(flavor = "multi_thread")]
    #[ignore]
    async fn measure_at_rate_20() {
        let dir = TempDir::new();
        let plan = FleetPlan {
            rate_limit: 20,
            ..FleetPlan::new(6, &dir.0)
        };
        let fleet = DemoFleet::start(plan).await.unwrap();
        let judged = [0, 1, 4, 5];
        let runs = judged.map(|i| run(&fleet, &fleet.members()[i]));
        for (i, (result, took)) in judged.iter().zip(futures::future::join_all(runs).await) {
            let stats = &fleet.stats()[*i].1;
            eprintln!(
                "{}: exit {} in {took:?}; the Site saw {} requests, at most {} in one second",
                fleet.members()[*i].name,
                result.summary.exit_code,
                stats.requests,
                stats.max_requests_per_second
            );
        }
        fleet.shutdown().await;
    }

    #[test]
    fn a_changed_demo_scenario_is_refused() {
        let vars = Vars::new("payroll-01-expenses");
        let plan = FleetPlan::new(1, "unused");
        let url = url::Url::parse("http://127.0.0.1:1/").unwrap();
        let today = jiff::civil::date(2026, 12, 1);
        let text = scenario_text(SCENARIO, &profile(0), &url, &vars, &plan, today).unwrap();
        assert!(text.starts_with(MARKER));
        assert!(text.contains("last_review = 2026-11-01\n"));
        assert!(text.contains("expires = 2027-12-01\n"));
        let without = SCENARIO.replace("max_requests = 500\n", "");
        let err = scenario_text(&without, &profile(0), &url, &vars, &plan, today).unwrap_err();
        assert!(err.contains("max_requests"), "{err}");
        let without = SCENARIO.replace("${DEMO_BOB_PASSWORD}", "bob-pw");
        assert!(scenario_text(&without, &profile(0), &url, &vars, &plan, today).is_err());

        // The metadata of the governance cases.
        let expired = scenario_text(SCENARIO, &profile(7), &url, &vars, &plan, today).unwrap();
        assert!(expired.contains("expires = 2026-11-21\n"));
        let overdue = scenario_text(SCENARIO, &profile(4), &url, &vars, &plan, today).unwrap();
        assert!(overdue.contains("last_review = 2025-10-27\n"));
        let no_owner = scenario_text(SCENARIO, &profile(8), &url, &vars, &plan, today).unwrap();
        assert!(!no_owner.contains("owner ="));
        assert!(text.contains("owner = \"alice@acme.example\"\n"));
        let twin = scenario_text(SCENARIO, &profile(6), &url, &vars, &plan, today).unwrap();
        assert!(twin.contains("visible_to = [\"alice\", \"bob\", \"company\"]"));
        let wider = scenario_text(SCENARIO, &profile(5), &url, &vars, &plan, today).unwrap();
        assert!(wider.contains("audience = \"company\""));
        assert!(wider.contains("visible_to = [\"alice\", \"bob\"]"));
    }
}
