//! Issue 17 end to end: the demo Site's HR API as a `[[source]]` (source-derived
//! expectations, `source-bypass`), the `/team/compensation` action judged and in every
//! report and the snapshot, and opt-in write probes, all over real HTTP on 127.0.0.1 with
//! the HR API's own counters asserted.

use lowpriv::probe::ProbeAnswer;
use lowpriv::scenario::PathGlobs;
use lowpriv::snapshot::ProbeCell;
use lowpriv::{RunResult, Verdict};
use lowpriv_demo::{DemoStats, Flaw};

use crate::common::*;

const IDENTITIES: [&str; 5] = ["anonymous", "dave", "carol", "bob", "alice"];

/// The demo pipeline in process, with the Site's counters (the HR API's among them).
fn demo(
    fixed: bool,
    adjust: impl FnOnce(&mut lowpriv::scenario::Scenario),
    options: &lowpriv::RunOptions,
) -> (RunResult, DemoStats) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (result, stats) = runtime
        .block_on(lowpriv_demo::run_with(demo_config(fixed), adjust, options))
        .unwrap();
    assert_eq!(
        (
            stats.logout_hits,
            stats.delete_hits,
            stats.foreign_credentials
        ),
        (0, 0, 0)
    );
    (result, stats)
}

fn kinds_for(result: &RunResult, kind: &str) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = result
        .findings
        .iter()
        .filter(|f| f.kind.as_str() == kind)
        .map(|f| {
            (
                f.identity.clone().unwrap_or_default(),
                f.template.clone().unwrap_or_default(),
            )
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

/// What every run with the HR API as a source must show of the HR API's own counters: only
/// GETs, each identity's probes with its own token (anonymous with none), the Site's reads
/// with its service token, no cookie ever.
fn assert_hr_api_saw_only_gets_with_the_right_tokens(stats: &DemoStats, probes: u64) {
    assert_eq!(
        stats.hr_non_gets, 0,
        "only GETs reached the HR API: {stats:?}"
    );
    assert_eq!(
        stats.hr_cookies, 0,
        "no cookie of the Site's reached the HR API"
    );
    assert_eq!(
        stats.hr_unknown_tokens, 0,
        "every token sent was one the HR API issued"
    );
    for name in ["dave", "carol", "bob", "alice"] {
        assert_eq!(
            stats.hr_requests_by.get(name).copied().unwrap_or(0),
            probes + 1,
            "{name}'s proof of login and probes, each with {name}'s own token: {stats:?}"
        );
    }
    assert_eq!(
        stats.hr_no_token, probes,
        "anonymous probes without a token"
    );
    assert!(
        stats.hr_service_requests > 0,
        "the Site read the HR API for /team"
    );
}

#[test]
fn the_demo_reports_the_planted_source_bypass_naming_the_probe_and_fixed_passes() {
    let (result, stats) = demo(false, |_| {}, &fixed_day());
    assert_eq!(result.sources.len(), 1);
    let source = &result.sources[0];
    assert_eq!(source.name, "hr-api");
    assert!(
        source.identities.iter().all(|i| i.logged_in),
        "{:?}",
        source.identities
    );
    assert_eq!(source.observations.len(), IDENTITIES.len());

    assert_eq!(
        kinds_for(&result, "source-bypass"),
        vec![("carol".to_string(), "/team".to_string())],
        "only carol is shown compensation the HR API does not give her"
    );
    let finding = result
        .findings
        .iter()
        .find(|f| f.kind.as_str() == "source-bypass")
        .unwrap();
    assert!(
        finding.detail.contains("source `hr-api`"),
        "{}",
        finding.detail
    );
    assert!(
        finding.detail.contains("GET /employees"),
        "{}",
        finding.detail
    );
    assert_eq!(finding.data, vec!["compensation"]);
    assert!(
        finding
            .rule
            .as_deref()
            .unwrap()
            .starts_with("scenarios/demo.toml:")
    );
    assert_hr_api_saw_only_gets_with_the_right_tokens(&stats, 1);
    assert_eq!(stats.write_requests, 0, "write probes are off by default");

    // Fixed: the same page, the same class, each viewer shown what the HR API gives them.
    let (fixed, stats) = demo(true, |_| {}, &fixed_day());
    assert_eq!(
        fixed.summary.verdict,
        Verdict::Pass,
        "{:?}",
        fixed.summary.reasons
    );
    assert!(kinds_for(&fixed, "source-bypass").is_empty());
    let carol_team = fixed
        .observations
        .iter()
        .find(|o| o.identity == "carol" && o.template == "/team")
        .expect("carol's /team was observed");
    assert_eq!(carol_team.outcome.as_str(), "allowed");
    assert!(
        carol_team.data.contains_key("compensation"),
        "carol really saw her own compensation there: the silence is about a real answer"
    );
    assert_hr_api_saw_only_gets_with_the_right_tokens(&stats, 1);
    assert_eq!(stats.write_requests, 0);
}

#[test]
fn a_wrong_source_token_is_inconclusive_never_a_pass() {
    let (result, _) = demo(
        true,
        |scenario| {
            for (name, login) in &mut scenario.sources[0].logins {
                if name == "carol" {
                    login.method = lowpriv::scenario::LoginMethod::Bearer(
                        lowpriv::scenario::Secret::new("hr-not-carols-token"),
                    );
                }
            }
        },
        &fixed_day(),
    );
    assert_eq!(result.summary.verdict, Verdict::Inconclusive);
    assert_eq!(result.summary.exit_code, 3);
    assert!(
        result
            .summary
            .reasons
            .iter()
            .any(|r| r.contains("source `hr-api`: carol could not log in")),
        "{:?}",
        result.summary.reasons
    );
}

#[test]
fn a_write_form_shown_to_an_identity_not_admitted_is_action_exposure() {
    let (result, _) = demo(false, |_| {}, &fixed_day());
    assert_eq!(
        kinds_for(&result, "action-exposure"),
        vec![("carol".to_string(), "/team/compensation".to_string())]
    );
    let (fixed, _) = demo(true, |_| {}, &fixed_day());
    assert!(kinds_for(&fixed, "action-exposure").is_empty());
}

fn with_write_probes(scenario: &mut lowpriv::scenario::Scenario) {
    scenario.crawl.probe_writes = true;
    scenario.crawl.write_scope = PathGlobs::new(vec!["/team/**".to_string()]).unwrap();
}

fn answers(result: &RunResult) -> Vec<(String, ProbeAnswer)> {
    result
        .write_probes
        .probes
        .iter()
        .filter(|p| p.url.ends_with("/team/compensation"))
        .map(|p| (p.identity.clone(), p.answer))
        .collect()
}

/// The action matrix's probe cells of the compensation form, by identity.
fn matrix_probes(result: &RunResult) -> Vec<(String, Option<ProbeCell>)> {
    let row = result
        .action_matrix
        .rows
        .iter()
        .find(|r| r.method == "POST" && r.template == "/team/compensation")
        .expect("the compensation form is a row of the action matrix");
    row.cells
        .iter()
        .map(|c| (c.identity.clone(), c.probe))
        .collect()
}

/// What the matrix must say for these answers, when some identity was refused.
fn answers_as_cells(answers: &[(String, ProbeAnswer)]) -> Vec<(String, Option<ProbeCell>)> {
    answers
        .iter()
        .map(|(identity, answer)| {
            let cell = match answer {
                ProbeAnswer::Refused => ProbeCell::Refused,
                ProbeAnswer::AuthorizedToAttempt => ProbeCell::AuthorizedToAttempt,
                other => panic!("{identity}: {other:?}"),
            };
            (identity.clone(), Some(cell))
        })
        .collect()
}

#[test]
fn write_probes_send_empty_bodies_only_when_asked_and_tell_who_got_past_the_check() {
    use ProbeAnswer::*;
    let (flawed, stats) = demo(false, with_write_probes, &fixed_day());
    let s = |v: &str| v.to_string();
    assert_eq!(
        answers(&flawed),
        vec![
            (s("anonymous"), Refused),
            (s("dave"), AuthorizedToAttempt),
            (s("carol"), AuthorizedToAttempt),
            (s("bob"), AuthorizedToAttempt),
            (s("alice"), AuthorizedToAttempt),
        ]
    );
    assert_eq!(stats.write_requests, 5, "one probe per identity: {stats:?}");
    assert_eq!(
        stats.write_nonempty_bodies, 0,
        "every probe's body was empty"
    );
    assert_eq!(
        kinds_for(&flawed, "unauthorized-write"),
        vec![
            (s("carol"), s("/team/compensation")),
            (s("dave"), s("/team/compensation")),
        ]
    );

    // The matrix says it per identity, and so does every rendering of it.
    assert_eq!(matrix_probes(&flawed), answers_as_cells(&answers(&flawed)));
    let terminal = lowpriv::report::terminal::render(&flawed, Default::default());
    let row = terminal
        .lines()
        .find(|l| l.contains("POST /team/compensation"))
        .unwrap();
    assert!(row.contains("authorized"), "{row}");
    assert!(
        flawed
            .exposure
            .render()
            .contains("ACTION POST /team/compensation · carol · write-capable, shown (form) · authorized to attempt"),
        "{}",
        flawed.exposure.render()
    );

    // What a run with write probes renders holds no credential either.
    let rendered = [
        serde_json::to_string(&flawed).unwrap(),
        terminal,
        lowpriv::report::markdown::render(&flawed),
        lowpriv::report::html::render(&flawed).unwrap(),
        lowpriv::report::sarif::render(&flawed),
        lowpriv::report::junit::render(&flawed).unwrap(),
        flawed.exposure.render(),
    ];
    for (var, value) in demo_env() {
        if var == lowpriv_demo::HR_URL_VAR {
            continue;
        }
        assert!(rendered.iter().all(|t| !t.contains(&value)), "{var} leaked");
    }

    let (fixed, stats) = demo(true, with_write_probes, &fixed_day());
    assert_eq!(
        answers(&fixed),
        vec![
            (s("anonymous"), Refused),
            (s("dave"), Refused),
            (s("carol"), Refused),
            (s("bob"), AuthorizedToAttempt),
            (s("alice"), AuthorizedToAttempt),
        ]
    );
    assert_eq!((stats.write_requests, stats.write_nonempty_bodies), (5, 0));
    assert_eq!(matrix_probes(&fixed), answers_as_cells(&answers(&fixed)));
    assert!(kinds_for(&fixed, "unauthorized-write").is_empty());
}

#[test]
fn the_action_matrix_is_in_every_report_and_the_snapshot_and_a_new_write_action_drifts_wider() {
    let dir = dir_with_approved_snapshots();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let out = lowpriv_in(
        dir.path(),
        &[
            "-vv",
            "demo",
            "--fixed",
            "--markdown",
            &path("out.md"),
            "--html",
            &path("out.html"),
            "--json",
            &path("out.json"),
        ],
        &[],
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let row = "POST /team/compensation";
    assert!(
        stdout.contains("Action matrix") && stdout.contains(row),
        "{stdout}"
    );
    let markdown = std::fs::read_to_string(path("out.md")).unwrap();
    assert!(markdown.contains("### Action matrix"), "{markdown}");
    assert!(
        markdown.contains(&format!("| {row} | write-capable")),
        "{markdown}"
    );
    let html = std::fs::read_to_string(path("out.html")).unwrap();
    assert!(html.contains("/team/compensation"));
    let json = read_json(&dir.path().join("out.json"));
    assert!(
        json["action_matrix"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["method"] == "POST" && r["template"] == "/team/compensation"),
        "{}",
        json["action_matrix"]
    );
    let shipped = std::fs::read_to_string(repo().join("snapshots/acme-payroll.snap")).unwrap();
    for identity in ["bob", "alice"] {
        let line = format!("ACTION {row} · {identity} · write-capable, shown (form)");
        assert!(shipped.contains(&line), "{line}");
    }
    assert!(!shipped.contains(&format!("ACTION {row} · carol")));
    // The secrets of this run: no HR API token, password or runtime secret anywhere, the
    // snapshots folder included.
    let mut texts = vec![stdout, text(&out.stderr), markdown, html];
    texts.push(std::fs::read_to_string(path("out.json")).unwrap());
    for entry in std::fs::read_dir(dir.path().join("snapshots")).unwrap() {
        texts.push(std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    for (var, value) in demo_env() {
        if var == lowpriv_demo::HR_URL_VAR {
            continue;
        }
        for t in &texts {
            assert!(!t.contains(&value), "{var} leaked");
        }
    }

    // The fixed Site with the form shown to carol again: one new write path, widening.
    let store = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo().join("snapshots/acme-payroll.snap"),
        store.path().join("acme-payroll.snap"),
    )
    .unwrap();
    let options = lowpriv::RunOptions {
        snapshots: Some(lowpriv::snapshot::Store::new(store.path().to_path_buf())),
        ..fixed_day()
    };
    let mut config = demo_config(true);
    config.reopened = vec![Flaw::CompensationWrite];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (result, _) = runtime
        .block_on(lowpriv_demo::run_with(config, |_| {}, &options))
        .unwrap();
    let snapshot = result.snapshot.as_ref().unwrap();
    let widening: Vec<String> = snapshot
        .changes
        .iter()
        .filter(|c| c.direction == lowpriv::snapshot::Direction::Widening)
        .map(|c| c.sentence())
        .collect();
    assert_eq!(
        widening,
        vec!["carol: action POST /team/compensation now write-capable, shown (form)".to_string()],
        "{:?}",
        snapshot.changes
    );
    assert!(
        snapshot
            .added
            .iter()
            .any(|l| l == &format!("ACTION {row} · carol · write-capable, shown (form)")),
        "{:?}",
        snapshot.added
    );
    assert_eq!(
        result.summary.verdict,
        Verdict::Fail,
        "the drift (and carol's action-exposure) fail it"
    );
}
