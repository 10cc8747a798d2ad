//! Fleets against the demo fleet (`lowpriv_demo::fleet`): real Sites on loopback ports, each
//! with its own passwords; the real binary runs them as one fleet, as shards, and merges the
//! shards. What each Site must give is known by its index (`lowpriv_demo::fleet::profile`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use lowpriv_demo::fleet::{DemoFleet, FleetPlan, SiteKind};
use serde_json::Value;

use crate::common::*;

/// Runs the binary in `cwd` with the fleet's variables, off the async runtime (the Sites
/// keep serving meanwhile).
async fn fleet_cmd(cwd: &Path, args: Vec<String>, env: Vec<(String, String)>) -> Output {
    let cwd = cwd.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        lowpriv_in(&cwd, &args, &env)
    })
    .await
    .expect("join")
}

fn args(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_string).collect()
}

fn env_of(fleet: &DemoFleet) -> Vec<(String, String)> {
    fleet.env().into_iter().collect()
}

/// A fleet report without what differs between one run, shards and a merge: how the rows
/// were gathered and how long each took.
fn normalized(mut fleet: Value) -> Value {
    fleet.as_object_mut().unwrap().remove("source");
    for row in fleet["sites"].as_array_mut().unwrap() {
        row.as_object_mut().unwrap().remove("duration_ms");
    }
    fleet
}

async fn run_invocation(
    invocation: crate::examples::Invocation,
    mut env: Vec<(String, String)>,
) -> Output {
    env.extend(invocation.env);
    fleet_cmd(&invocation.cwd, invocation.args, env).await
}

/// The folder an invocation's `--out` names, from its working directory.
fn out_dir(invocation: &crate::examples::Invocation) -> PathBuf {
    let at = invocation
        .args
        .iter()
        .position(|a| a == "--out")
        .expect("--out");
    invocation.cwd.join(&invocation.args[at + 1])
}

fn rows(fleet: &Value) -> BTreeMap<String, Value> {
    fleet["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

fn listed(out: &Output) -> BTreeSet<String> {
    text(&out.stdout)
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_of_30_is_judged_site_by_site_and_its_shards_merge_to_the_same_report() {
    let dir = temp_dir();
    let root = dir.path();
    let fleet = DemoFleet::start(FleetPlan::new(30, root.join("sites")))
        .await
        .expect("the demo fleet starts");
    let env = env_of(&fleet);

    // The whole fleet in one process.
    let out = fleet_cmd(
        root,
        args("run sites --jobs 8 --out out/all --snapshots snapshots"),
        env.clone(),
    )
    .await;
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let all = read_json(&root.join("out/all/fleet.json"));
    crate::schema::validate_fleet_json(&all);
    let by_name = rows(&all);
    assert_eq!(by_name.len(), 30);
    let mut worst = BTreeSet::new();
    let mut governance_wanted = BTreeSet::new();
    for member in fleet.members() {
        let row = &by_name[&member.name];
        let code = row["exit_code"].as_i64().unwrap() as i32;
        assert_eq!(code, member.expected_exit_code, "{}: {row}", member.name);
        let verdict = match code {
            0 => "pass",
            1 => "fail",
            _ => "inconclusive",
        };
        assert_eq!(row["verdict"], verdict, "{}", member.name);
        match member.kind {
            SiteKind::Down | SiteKind::WrongPassword => {
                worst.insert(member.name.clone());
            }
            _ => {
                // Judged on what was really observed: requests answered, a report written.
                assert!(row["requests"].as_u64().unwrap() > 20, "{row}");
                let report = read_json(
                    &root
                        .join("out/all")
                        .join(row["files"]["json"].as_str().unwrap()),
                );
                crate::schema::validate_report_json(&report);
                assert_eq!(report["site"]["name"], member.name.as_str());
                assert!(report["summary"]["outcomes"]["allowed"].as_u64().unwrap() > 0);
                // No approved snapshot yet: the pending one is with the Site's reports.
                assert_eq!(row["snapshot"]["status"], "new", "{row}");
                let pending = row["snapshot"]["pending"].as_str().unwrap();
                assert!(pending.starts_with("sites/") && pending.ends_with(".snap.new"));
                assert!(
                    root.join("out/all").join(pending).exists(),
                    "{pending} written"
                );
            }
        }
        if member.kind == SiteKind::WrongPassword {
            assert_eq!(row["login_failed"], serde_json::json!(["dave"]), "{row}");
        }
        for kind in &member.profile.expected_governance {
            governance_wanted.insert((member.name.clone(), kind.as_str().to_string()));
        }
    }
    let governance_seen: BTreeSet<(String, String)> = all["governance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["site"].as_str().unwrap().to_string(),
                f["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        governance_seen, governance_wanted,
        "every governance finding, and no other"
    );
    let kinds: BTreeSet<&str> = governance_wanted.iter().map(|(_, k)| k.as_str()).collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            "audience-wider-than-data",
            "expired-reachable",
            "no-owner",
            "review-overdue"
        ]),
        "the fleet plants each kind a scenario alone can show"
    );
    let worst_seen: BTreeSet<String> = all["summary"]["worst"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    assert_eq!(worst_seen, worst, "the Sites that set exit code 3");
    for name in &worst {
        assert!(
            stdout.contains(name.as_str()),
            "the summary names {name}: {stdout}"
        );
    }

    // The fleet files, within code scanning's limits.
    let sarif_dir = root.join("out/all/sarif");
    let mut ids = BTreeSet::new();
    let mut files = 0;
    for entry in std::fs::read_dir(&sarif_dir).unwrap() {
        let sarif = read_json(&entry.unwrap().path());
        crate::reports::assert_valid_sarif(&sarif);
        let runs = sarif["runs"].as_array().unwrap();
        assert!(runs.len() <= 20, "at most 20 runs per file");
        for run in runs {
            assert!(run["results"].as_array().unwrap().len() <= 25_000);
            let id = run["automationDetails"]["id"].as_str().unwrap().to_string();
            assert!(ids.insert(id.clone()), "{id} is unique");
        }
        files += 1;
    }
    assert_eq!((files, ids.len()), (2, 30), "30 runs in 2 files");
    let junit = std::fs::read_to_string(root.join("out/all/fleet.junit.xml")).unwrap();
    assert_eq!(junit.matches("<testsuite ").count(), 30, "a suite per Site");
    let html = std::fs::read_to_string(root.join("out/all/fleet.html")).unwrap();
    let markdown = std::fs::read_to_string(root.join("out/all/fleet.md")).unwrap();
    for member in fleet.members() {
        assert!(html.contains(&member.name) && markdown.contains(&member.name));
    }
    fleet_html_filters_and_sorts_in_chromium(html, &all);

    // Each example's shards, run as their scheduler runs them (three processes at once), then
    // its merge: the same fleet report as the one run. The Kubernetes example runs in a
    // folder of its own (its /sites and /out moved there), the scenarios linked in.
    let commands = crate::examples::example_commands();
    let k8s_root = root.join("k8s");
    std::fs::create_dir_all(&k8s_root).unwrap();
    std::os::unix::fs::symlink(root.join("sites"), k8s_root.join("sites")).unwrap();
    for (example, at) in [
        (&commands.github, root.to_path_buf()),
        (&commands.kubernetes, k8s_root),
    ] {
        let shards: Vec<_> = (1..=example.shards)
            .map(|k| tokio::spawn(run_invocation(example.shard(k, &at), env.clone())))
            .collect();
        let mut union = BTreeSet::new();
        for (k, shard) in shards.into_iter().enumerate() {
            let shard = shard.await.unwrap();
            assert!(
                matches!(shard.status.code(), Some(0 | 1 | 3)),
                "{}",
                text(&shard.stderr)
            );
            let report = read_json(&out_dir(&example.shard(k as u32 + 1, &at)).join("fleet.json"));
            crate::schema::validate_fleet_json(&report);
            assert_eq!(
                report["inventory"].as_array().unwrap().len(),
                30,
                "every shard knows the fleet"
            );
            for name in rows(&report).into_keys() {
                assert!(union.insert(name.clone()), "{name} is on one shard only");
            }
        }
        assert_eq!(union.len(), 30, "the shards cover the fleet");
        let merge = example.merge(&at);
        let merged_dir = out_dir(&merge);
        let merged = run_invocation(merge, env.clone()).await;
        assert_eq!(merged.status.code(), Some(3), "{}", text(&merged.stderr));
        let merged_text = std::fs::read_to_string(merged_dir.join("fleet.json"))
            .unwrap()
            .replace(&format!("{}/", at.display()), "");
        let merged: Value = serde_json::from_str(&merged_text).unwrap();
        crate::schema::validate_fleet_json(&merged);
        assert_eq!(
            normalized(merged),
            normalized(all.clone()),
            "merge = the unsharded run"
        );
        for name in ["fleet.md", "fleet.html", "fleet.junit.xml"] {
            assert!(merged_dir.join(name).exists(), "{name} merged");
        }
        let mut ids = BTreeSet::new();
        for k in 1..=2 {
            let sarif = read_json(&merged_dir.join(format!("sarif/fleet-{k}.sarif")));
            for run in sarif["runs"].as_array().unwrap() {
                assert!(ids.insert(run["automationDetails"]["id"].to_string()));
            }
        }
        assert_eq!(
            ids.len(),
            30,
            "the merged SARIF has a run per Site, each id once"
        );
    }

    // Sites added to the fleet move no other Site to another shard.
    let before: Vec<BTreeSet<String>> = (1..=3)
        .map(|k| {
            listed(&lowpriv_in(
                root,
                &["run", "sites", "--shard", &format!("{k}/3"), "--list"],
                &[],
            ))
        })
        .collect();
    let template = std::fs::read_to_string(&fleet.members()[0].scenario_path).unwrap();
    for extra in 0..12 {
        let renamed = template.replacen(
            &format!("name = \"{}\"", fleet.members()[0].name),
            &format!("name = \"added-later-{extra}\""),
            1,
        );
        std::fs::write(
            root.join(format!("sites/added-later-{extra}.toml")),
            renamed,
        )
        .unwrap();
    }
    let mut everyone = BTreeSet::new();
    for k in 1..=3u32 {
        let after = listed(&lowpriv_in(
            root,
            &["run", "sites", "--shard", &format!("{k}/3"), "--list"],
            &[],
        ));
        let index = k - 1;
        let from_index = listed(&lowpriv_in(
            root,
            &["run", "sites", "--shards", "3", "--list"],
            &[("JOB_COMPLETION_INDEX", &index.to_string())],
        ));
        assert_eq!(
            after, from_index,
            "--shards 3 with index {index} is --shard {k}/3"
        );
        assert!(
            before[index as usize].is_subset(&after),
            "shard {k} kept its Sites"
        );
        everyone.extend(after);
    }
    assert_eq!(everyone.len(), 42, "the added Sites are on some shard");
    fleet.shutdown().await;
}

/// Every secret of every Site of a fleet, verbatim and in every encoded form.
fn secret_forms(fleet: &DemoFleet) -> Vec<String> {
    fleet
        .env()
        .into_values()
        .flat_map(|s| lowpriv::observe::classify::encoded_forms(&s))
        .filter(|f| f.len() >= 8)
        .collect()
}

fn every_file(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(next) = dirs.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_keeps_each_sites_rate_limit_and_credentials_and_prints_no_secret() {
    let dir = temp_dir();
    let root = dir.path();
    let mut plan = FleetPlan::new(6, root.join("sites"));
    plan.rate_limit = 20;
    let fleet = DemoFleet::start(plan).await.expect("the demo fleet starts");
    let out = fleet_cmd(
        root,
        args("run sites --jobs 6 --out out --snapshots snapshots -vv"),
        env_of(&fleet),
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let report = read_json(&root.join("out/fleet.json"));
    let by_name = rows(&report);
    for (name, stats) in fleet.stats() {
        let member = fleet.members().iter().find(|m| m.name == name).unwrap();
        if member.kind == SiteKind::Down {
            continue;
        }
        assert!(
            by_name[&name]["requests"].as_u64().unwrap() > 20,
            "{name} was really run"
        );
        assert!(
            (15..=20).contains(&stats.max_requests_per_second),
            "{name} got at most {} requests in one second: its rate_limit is 20 (and was reached)",
            stats.max_requests_per_second
        );
        assert_eq!(
            stats.unknown_credentials, 0,
            "{name} got another Site's credentials"
        );
        assert_eq!(
            stats.foreign_credentials, 0,
            "{name}'s credentials left its origin"
        );
        assert_eq!((stats.logout_hits, stats.delete_hits), (0, 0));
    }
    let forms = secret_forms(&fleet);
    let mut outputs = vec![
        ("stdout".to_string(), text(&out.stdout)),
        ("stderr".to_string(), text(&out.stderr)),
    ];
    for file in every_file(&root.join("out")) {
        outputs.push((
            file.display().to_string(),
            String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned(),
        ));
    }
    assert!(outputs.len() > 20, "the reports were written");
    for (name, content) in &outputs {
        for form in &forms {
            assert!(!content.contains(form.as_str()), "{name} holds a secret");
        }
    }
    fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_the_sites_in_flight_with_their_reports_and_lists_the_rest_as_not_run() {
    use std::io::{BufRead, BufReader};
    let dir = temp_dir();
    let root = dir.path().to_path_buf();
    let mut plan = FleetPlan::new(8, root.join("sites"));
    // Slow enough that the second Site is still in flight when the signal comes.
    plan.rate_limit = 30;
    let fleet = DemoFleet::start(plan).await.expect("the demo fleet starts");
    let env = env_of(&fleet);
    let done = tokio::task::spawn_blocking(move || {
        let mut child = std::process::Command::new(bin())
            .args([
                "run",
                "sites",
                "--jobs",
                "1",
                "--out",
                "out",
                "--snapshots",
                "snapshots",
            ])
            .current_dir(&root)
            .env_remove("CI")
            .envs(env)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let mut lines = Vec::new();
        for line in stderr.lines() {
            let line = line.unwrap();
            let first_done = line.starts_with("[1/");
            lines.push(line);
            if first_done {
                std::thread::sleep(std::time::Duration::from_millis(300));
                let pid = child.id().to_string();
                std::process::Command::new("kill")
                    .args(["-TERM", &pid])
                    .status()
                    .unwrap();
            }
        }
        let status = child.wait().unwrap();
        (status.code(), lines, root)
    })
    .await
    .unwrap();
    let (code, lines, root) = done;
    assert_eq!(code, Some(3), "{lines:?}");
    let report = read_json(&root.join("out/fleet.json"));
    let verdicts: Vec<String> = report["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["verdict"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(verdicts.len(), 8, "{verdicts:?}");
    let not_run = verdicts.iter().filter(|v| *v == "not-run").count();
    assert!((1..=6).contains(&not_run), "{verdicts:?}");
    let stopped: Vec<&Value> = report["sites"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["reasons"]
                .to_string()
                .contains("stopped before it finished")
        })
        .collect();
    assert_eq!(stopped.len(), 1, "one Site was in flight: {verdicts:?}");
    let partial = root
        .join("out")
        .join(stopped[0]["files"]["json"].as_str().unwrap());
    assert!(
        partial.exists(),
        "the Site in flight wrote its partial report"
    );
    fleet.shutdown().await;
}

/// The fleet page in headless Chromium: a view given in the link (fail Sites only, sorted by
/// name, descending) hides the other rows and orders the rest; nothing is fetched.
fn fleet_html_filters_and_sorts_in_chromium(page: String, fleet: &Value) {
    use crate::reports::{PageServer, chromium, chromium_run};
    let Some(binary) = chromium() else { return };
    let server = PageServer::start(page);
    let dom = chromium_run(
        binary,
        &["--dump-dom".to_string()],
        &server.url("#verdict=fail&sort=site&desc"),
    );
    let doc = scraper::Html::parse_document(&dom);
    let rows = scraper::Selector::parse("#sites tbody tr").unwrap();
    let first_cell = scraper::Selector::parse("td").unwrap();
    let mut shown = Vec::new();
    let mut order = Vec::new();
    for row in doc.select(&rows) {
        let cell = row.select(&first_cell).next().unwrap();
        let name = cell.text().collect::<String>().trim().to_string();
        order.push(name.clone());
        if row.value().attr("hidden").is_none() {
            assert_eq!(row.value().attr("data-verdict"), Some("fail"), "{name}");
            shown.push(name);
        }
    }
    let failing: BTreeSet<String> = rows_of(fleet, "fail");
    assert_eq!(
        shown.iter().cloned().collect::<BTreeSet<_>>(),
        failing,
        "only fail rows shown"
    );
    let mut sorted = order.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(order, sorted, "sorted by Site name, descending");
    assert_eq!(order.len(), 30);
    assert_eq!(
        server.requests(),
        ["GET /report.html HTTP/1.1"],
        "the page fetched nothing"
    );
}

fn rows_of(fleet: &Value, verdict: &str) -> BTreeSet<String> {
    fleet["sites"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verdict"] == verdict)
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

/// Arguments, environment, and what the error must say.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

#[test]
fn bad_fleet_usage_is_exit_2_and_says_what() {
    let dir = temp_dir();
    let root = dir.path();
    std::fs::create_dir_all(root.join("sites")).unwrap();
    let demo = std::fs::read_to_string(demo_scenario()).unwrap();
    std::fs::write(root.join("sites/a.toml"), &demo).unwrap();
    std::fs::write(root.join("sites/b.toml"), &demo).unwrap();
    let cases: [Case; 7] = [
        (
            &["run", "sites", "--shard", "4/3", "--list"],
            &[],
            "is not a shard",
        ),
        (
            &["run", "sites", "--shards", "3", "--list"],
            &[],
            "JOB_COMPLETION_INDEX",
        ),
        (
            &["run", "sites", "--shards", "3", "--list"],
            &[("JOB_COMPLETION_INDEX", "3")],
            "from 0 to N-1",
        ),
        (
            &["run", "nowhere", "--out", "out"],
            &[],
            "nowhere does not exist",
        ),
        (
            &["run", "sites", "--json", "x.json"],
            &[],
            "under --out DIR",
        ),
        (
            &["run", "sites", "--base-url", "http://127.0.0.1:9"],
            &[],
            "one scenario",
        ),
        (
            &["merge", "missing.json", "--out", "m"],
            &[],
            "cannot read the fleet report",
        ),
    ];
    for (args, env, says) in cases {
        let out = lowpriv_in(root, args, env);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?} says {says:?}: {stderr}");
        assert!(
            !root.join("out").exists() && !root.join("m").exists(),
            "{args:?} wrote nothing"
        );
    }
    // Two scenarios naming one Site: a lint of the folder says so.
    let env = demo_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = lowpriv_in(root, &["check", "sites"], &env);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("both name the Site `acme-payroll`"),
        "{}",
        text(&out.stderr)
    );
    // A per-Site report is not a shard report.
    std::fs::write(
        root.join("site.json"),
        r#"{"schema": 1, "site": {"name": "a"}}"#,
    )
    .unwrap();
    let out = lowpriv_in(root, &["merge", "site.json", "--out", "m"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("per-Site report"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_whose_scenario_is_broken_is_its_error_row_and_the_others_are_judged() {
    let dir = temp_dir();
    let root = dir.path();
    let fleet = DemoFleet::start(FleetPlan::new(2, root.join("sites")))
        .await
        .expect("the demo fleet starts");
    // A typo'd key and an unset variable: that Site's problems, printed with file:line:col.
    std::fs::write(
        root.join("sites/zz-broken.toml"),
        "[site]\nname = \"zz-broken\"\nbase_url = \"http://127.0.0.1:9\"\nadience = \"team\"\n\n\
         [[identity]]\nname = \"a\"\ntier = \"external\"\n[identity.login]\nbearer = \"${UNSET_TOKEN_VAR}\"\n",
    )
    .unwrap();
    let out = fleet_cmd(root, args("run sites --out out"), env_of(&fleet)).await;
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "the worst row is an invalid scenario: {stderr}"
    );
    assert!(stderr.contains("sites/zz-broken.toml:4:1"), "{stderr}");
    assert!(stderr.contains("UNSET_TOKEN_VAR"), "{stderr}");
    let report = read_json(&root.join("out/fleet.json"));
    let by_name = rows(&report);
    assert_eq!(by_name["zz-broken"]["verdict"], "error");
    assert_eq!(by_name["zz-broken"]["exit_code"], 2);
    let judged: Vec<&str> = fleet.members().iter().map(|m| m.name.as_str()).collect();
    assert_eq!(by_name[judged[0]]["verdict"], "fail");
    assert_eq!(by_name[judged[1]]["verdict"], "pass");
    assert_eq!(report["summary"]["worst"], serde_json::json!(["zz-broken"]));
    fleet.shutdown().await;
}

/// The demo fleet from the command line, as a shard process would use it: `demo-site --sites`
/// serves the Sites and writes their scenarios and `fleet.env`; a fleet run with those
/// variables judges them, and no output holds any of them. `demo --fleet` does both in one.
#[test]
fn the_demo_fleet_commands_serve_run_and_keep_their_secrets() {
    use std::io::{BufRead, BufReader};
    let dir = temp_dir();
    let root = dir.path();
    let mut server = std::process::Command::new(bin())
        .args(["demo-site", "--sites", "4", "--scenarios", "sites"])
        .current_dir(root)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // One line per Site (name, kind, URL) once every Site listens and the files are written.
    let mut listed = Vec::new();
    for line in BufReader::new(server.stdout.take().unwrap())
        .lines()
        .take(4)
    {
        listed.push(line.unwrap());
    }
    assert_eq!(listed.len(), 4, "{listed:?}");
    assert!(listed.iter().any(|l| l.contains("\tdown\t")), "{listed:?}");
    let vars = lowpriv_demo::fleet::read_env_file(&root.join("sites/fleet.env")).unwrap();
    assert!(
        vars.len() >= 8,
        "each Site's passwords and secret: {}",
        vars.len()
    );
    let env: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = lowpriv_in(
        root,
        &["run", "sites", "--jobs", "4", "--out", "out", "-vv"],
        &env,
    );
    let pid = server.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(
        server.wait().unwrap().success(),
        "demo-site ends on SIGTERM"
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stdout));
    let report = read_json(&root.join("out/fleet.json"));
    let verdicts: BTreeSet<String> = report["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["verdict"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        verdicts,
        BTreeSet::from(["fail".into(), "pass".into(), "inconclusive".into()])
    );
    let forms: Vec<String> = vars
        .values()
        .flat_map(|s| lowpriv::observe::classify::encoded_forms(s))
        .filter(|f| f.len() >= 8)
        .collect();
    let mut outputs = vec![text(&out.stdout), text(&out.stderr)];
    for file in every_file(&root.join("out")) {
        outputs.push(String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned());
    }
    for content in &outputs {
        assert!(
            !forms.iter().any(|f| content.contains(f.as_str())),
            "a secret was written"
        );
    }

    let demo = lowpriv_in(root, &["demo", "--fleet", "4", "--jobs", "4"], &[]);
    let stdout = text(&demo.stdout);
    assert_eq!(demo.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("fleet: INCONCLUSIVE (exit 3)"), "{stdout}");
    assert!(
        stdout.contains("0 logout hits · 0 delete hits · 0 credentials sent to a foreign origin · 0 from another Site"),
        "{stdout}"
    );
}
