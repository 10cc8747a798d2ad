//! `lowpriv run` against the demo Site served by the test: traps, secrets, failed logins,
//! an unreachable Site, bad scenarios and hostile responses.

use crate::common::*;
use lowpriv_demo::USERS;

fn s(v: &str) -> String {
    v.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_leaves_traps_untouched_and_never_prints_a_secret() {
    let site = start_site(false).await;
    let dir = temp_dir();
    let out_dir = dir.path().join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let path = |name: &str| out_dir.join(name).display().to_string();
    let out = lowpriv(
        vec![
            s("-vv"),
            s("run"),
            demo_scenario().display().to_string(),
            s("--base-url"),
            site.base_url.to_string(),
            s("--json"),
            path("report.json"),
            s("--junit"),
            path("junit.xml"),
            s("--sarif"),
            path("report.sarif"),
            s("--markdown"),
            path("summary.md"),
            s("--html"),
            path("report.html"),
            s("--snapshots"),
            path("snapshots"),
        ],
        demo_env_for(&site),
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stats = site.stats();
    assert_eq!(stats.logout_hits, 0);
    assert_eq!(stats.delete_hits, 0);
    assert_eq!(stats.foreign_credentials, 0);
    assert!(stats.login_posts >= 4, "the four form logins happened");
    // The other origin is linked, redirected to, named in the JS bundle and listed as the
    // OpenAPI server; nothing at all was sent there.
    let foreign = site.foreign_url.to_string();
    for path in ["/static/app.js", "/openapi.json"] {
        let body = reqwest::get(site.base_url.join(path).unwrap())
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(body.contains(&foreign), "{path} points at the other origin");
    }
    assert_eq!(
        stats.foreign_hits, 0,
        "nothing was sent to the other origin"
    );

    // Everything that could leak: passwords, tokens, every session cookie the Site issued,
    // the runtime secret; each verbatim and in every encoded form the classifier knows.
    let issued: serde_json::Value = reqwest::get(site.base_url.join("/_demo/issued").unwrap())
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    let mut secrets: Vec<String> = vec![DB_PASSWORD.to_string()];
    for user in USERS {
        secrets.push(user.password.to_string());
        secrets.push(user.token.to_string());
    }
    let sessions = issued["session_ids"].as_array().unwrap();
    assert!(sessions.len() >= 4, "session cookies were issued: {issued}");
    secrets.extend(sessions.iter().map(|v| v.as_str().unwrap().to_string()));
    let forms: Vec<String> = secrets
        .iter()
        .flat_map(|s| lowpriv::observe::classify::encoded_forms(s))
        .filter(|f| f.len() >= 8)
        .collect();

    let mut outputs = vec![
        ("stdout".to_string(), text(&out.stdout)),
        ("stderr (-vv logs)".to_string(), text(&out.stderr)),
    ];
    let mut files = vec![out_dir.clone()];
    while let Some(next) = files.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let entry = entry.unwrap().path();
            if entry.is_dir() {
                files.push(entry);
            } else {
                let content = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned();
                outputs.push((entry.display().to_string(), content));
            }
        }
    }
    let names: Vec<&str> = outputs.iter().map(|(n, _)| n.as_str()).collect();
    for wanted in [
        "report.json",
        "junit.xml",
        "report.sarif",
        "summary.md",
        "report.html",
        "acme-payroll.snap.new",
    ] {
        assert!(
            names.iter().any(|n| n.ends_with(wanted)),
            "{wanted} written: {names:?}"
        );
    }
    assert!(outputs[1].1.contains("request"), "debug logs were on");
    for (name, content) in &outputs {
        for form in &forms {
            assert!(
                !content.contains(form.as_str()),
                "{name} contains a secret form"
            );
        }
    }
    // The secret was really found (so the grep above is not vacuous).
    let report = read_json(&out_dir.join("report.json"));
    assert!(has_finding(
        &report,
        "secret-exposed",
        "carol",
        "/static/app.js"
    ));
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_login_failed_and_inconclusive() {
    let site = start_site(true).await;
    let dir = temp_dir();
    let json = dir.path().join("report.json");
    let mut env = demo_env_for(&site);
    for (k, v) in env.iter_mut() {
        if k == "DEMO_CAROL_PASSWORD" {
            *v = s("not-carols-password");
        }
    }
    let out = lowpriv(
        vec![
            s("run"),
            demo_scenario().display().to_string(),
            s("--base-url"),
            site.base_url.to_string(),
            s("--json"),
            json.display().to_string(),
        ],
        env,
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stdout));
    let report = read_json(&json);
    assert_eq!(report["summary"]["verdict"], "inconclusive");
    let failed = findings(&report, "login-failed");
    assert_eq!(failed, vec![(s("carol"), s(""))]);
    let carol = report["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "carol")
        .unwrap();
    assert_eq!(carol["logged_in"], false);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("carol"), "{stdout}");
    assert!(stdout.contains("INCONCLUSIVE"), "{stdout}");
    assert!(!stdout.contains("not-carols-password"));
    site.shutdown().await;
}

#[test]
fn an_unreachable_site_is_inconclusive() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env: Vec<(String, String)> = demo_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let url = format!("http://127.0.0.1:{port}/");
    let out = lowpriv_sync(
        &["run", demo_scenario().to_str().unwrap(), "--base-url", &url],
        &env,
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("INCONCLUSIVE"));
    assert!(stdout.contains("could not log in"), "{stdout}");
}

#[test]
fn a_typo_in_a_key_is_exit_2_with_file_line_col() {
    let dir = temp_dir();
    let path = dir.path().join("typo.toml");
    let source = std::fs::read_to_string(demo_scenario())
        .unwrap()
        .replace("max_requests = 500", "max_requets = 500");
    std::fs::write(&path, &source).unwrap();
    for command in ["check", "run"] {
        let out = lowpriv_sync(&[command, path.to_str().unwrap()], &[]);
        assert_eq!(out.status.code(), Some(2), "{command}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains("max_requets"), "{stderr}");
        assert!(stderr.contains("typo.toml:"), "{stderr}");
        let line = source
            .lines()
            .position(|l| l.starts_with("max_requets"))
            .unwrap()
            + 1;
        assert!(stderr.contains(&format!("typo.toml:{line}:1")), "{stderr}");
        assert!(
            stderr.contains("max_requests"),
            "suggests the right key: {stderr}"
        );
    }
}

#[test]
fn an_unset_variable_is_exit_2_naming_it() {
    let mut env = demo_env();
    env.retain(|(k, _)| k != "DEMO_BOB_PASSWORD");
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = lowpriv_sync(&["run", demo_scenario().to_str().unwrap()], &env);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("DEMO_BOB_PASSWORD"), "{stderr}");
    assert!(stderr.contains("demo.toml:"), "{stderr}");
    assert!(text(&out.stdout).is_empty());
}

#[test]
fn check_needs_no_secrets_unless_asked_and_still_checks_their_form() {
    let scenario = demo_scenario();
    let scenario = scenario.to_str().unwrap();
    // No variable at all: a lint job's check. The references are named, nothing fails.
    let out = lowpriv_sync(&["check", scenario], &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(stdout.contains("demo.toml: ok (5 identities"), "{stdout}");
    assert!(
        stdout.contains("not set, checked for form only: DB_PASSWORD, DEMO_ALICE_PASSWORD"),
        "{stdout}"
    );
    // `--require-env` wants every value, and says where each one is missing.
    let out = lowpriv_sync(&["check", "--require-env", scenario], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("environment variable `DEMO_BOB_PASSWORD` is not set")
            && stderr.contains("demo.toml:"),
        "{stderr}"
    );
    // Form is still checked without the values: a malformed reference is refused either way.
    let dir = temp_dir();
    let broken = dir.path().join("broken.toml");
    let source = std::fs::read_to_string(demo_scenario())
        .unwrap()
        .replace("${DEMO_BOB_PASSWORD}", "${DEMO_BOB_PASSWORD");
    std::fs::write(&broken, source).unwrap();
    let out = lowpriv_sync(&["check", broken.to_str().unwrap()], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("malformed variable reference"), "{stderr}");
    assert!(stderr.contains("broken.toml:"), "{stderr}");
    // `run` never stands in for a value: an unset one stops it before any request.
    let out = lowpriv_sync(&["run", scenario], &[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_accepts_the_demo_scenario_without_network() {
    let env = demo_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = lowpriv_sync(&["check", demo_scenario().to_str().unwrap()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("5 identities"));
}

/// Hostile responses each become an observation that names the URL and what went wrong, and
/// the run is inconclusive, never a pass and never a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_responses_are_clear_observations_and_never_a_pass() {
    let site = start_site(false).await;
    let dir = temp_dir();
    let scenario = dir.path().join("hostile.toml");
    std::fs::write(
        &scenario,
        format!(
            r#"[site]
name = "hostile"
base_url = "{}"
audience = "external"

[crawl]
seeds = ["/_bad/redirect-loop", "/_bad/huge", "/_bad/binary", "/_bad/broken-html", "/_bad/hangup", "/_bad/500", "/_bad/slow"]
timeout_secs = 2
max_body_bytes = 100000

[[identity]]
name = "anonymous"
tier = "external"
"#,
            site.base_url
        ),
    )
    .unwrap();
    let json = dir.path().join("hostile.json");
    let out = lowpriv(
        vec![
            s("run"),
            scenario.display().to_string(),
            s("--json"),
            json.display().to_string(),
        ],
        vec![],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(!text(&out.stderr).contains("panicked"));
    let report = read_json(&json);
    let reason = |path: &str| -> (String, String) {
        let obs = report["observations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["url"].as_str().unwrap().ends_with(path))
            .unwrap_or_else(|| panic!("{path} observed"));
        (
            obs["outcome"].as_str().unwrap().to_string(),
            obs["reason"].as_str().unwrap().to_string(),
        )
    };
    let (outcome, why) = reason("/_bad/redirect-loop");
    assert_eq!(outcome, "error");
    assert!(why.contains("redirect loop"), "{why}");
    let (outcome, why) = reason("/_bad/huge");
    assert_eq!(outcome, "error");
    assert!(why.contains("max_body_bytes"), "{why}");
    let huge = report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["url"].as_str().unwrap().ends_with("/_bad/huge"))
        .unwrap();
    assert_eq!(
        huge["truncated"], true,
        "marked truncated, read up to the limit"
    );
    assert_eq!(huge["bytes"], 100000);
    let (outcome, why) = reason("/_bad/hangup");
    assert_eq!(outcome, "error", "{why}");
    let (outcome, why) = reason("/_bad/500");
    assert_eq!(outcome, "error");
    assert!(why.contains("500"), "{why}");
    let (outcome, why) = reason("/_bad/slow");
    assert_eq!(outcome, "error");
    assert!(why.contains("timed out"), "{why}");
    // Non-UTF-8 and broken HTML are read as well as they can be.
    assert_eq!(reason("/_bad/binary").0, "allowed");
    assert_eq!(reason("/_bad/broken-html").0, "allowed");
    assert_eq!(
        reason("/healthz").0,
        "allowed",
        "a link inside broken HTML was followed"
    );
    // Each error is listed as a finding naming its URL.
    let errors = findings(&report, "inconclusive");
    assert!(errors.len() >= 5, "{errors:?}");
    assert_eq!(report["summary"]["verdict"], "inconclusive");
    site.shutdown().await;
}

/// Runs the demo scenario with `[crawl]` edited by `edit` against a fixed Site.
async fn run_edited(edit: impl Fn(String) -> String) -> (i32, serde_json::Value, String) {
    let site = start_site(true).await;
    let dir = temp_dir();
    let path = dir.path().join("edited.toml");
    let source = edit(std::fs::read_to_string(demo_scenario()).unwrap());
    std::fs::write(&path, source).unwrap();
    let json = dir.path().join("edited.json");
    let out = lowpriv(
        vec![
            s("run"),
            path.display().to_string(),
            s("--base-url"),
            site.base_url.to_string(),
            s("--json"),
            json.display().to_string(),
        ],
        demo_env_for(&site),
    )
    .await;
    site.shutdown().await;
    (
        out.status.code().unwrap(),
        read_json(&json),
        text(&out.stdout) + &text(&out.stderr),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_cut_short_by_max_requests_is_inconclusive() {
    let (code, report, output) =
        run_edited(|s| s.replace("max_requests = 500", "max_requests = 3")).await;
    assert_eq!(code, 3, "{output}");
    assert_eq!(report["summary"]["verdict"], "inconclusive");
    let cut: Vec<_> = report["identities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| {
            i["truncated"]
                .as_str()
                .is_some_and(|t| t.contains("max_requests (now 3)"))
        })
        .collect();
    assert!(cut.len() >= 3, "{:#?}", report["identities"]);
    assert!(output.contains("cut short"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_cut_short_by_max_depth_is_inconclusive() {
    let (code, report, output) = run_edited(|s| s.replace("max_depth = 8", "max_depth = 0")).await;
    assert_eq!(code, 3, "{output}");
    assert!(output.contains("max_depth (now 0)"), "{output}");
    assert_eq!(report["summary"]["verdict"], "inconclusive");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_that_matched_nothing_is_inconclusive() {
    let (code, report, output) =
        run_edited(|s| s + "\n[[expect]]\npaths = [\"/finance/**\"]\nallow = [\"alice\"]\n").await;
    assert_eq!(code, 3, "{output}");
    let reasons = report["summary"]["reasons"].to_string();
    assert!(reasons.contains("matched no observed request"), "{reasons}");
}

#[test]
fn demo_site_serves_until_stopped_and_prints_its_url() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(bin())
        .args(["demo-site", "--port", "0", "--fixed"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap();
    let url = url::Url::parse(line.trim()).expect("first line is the URL");
    assert_eq!(url.host_str(), Some("127.0.0.1"));
    let health = std::net::TcpStream::connect(("127.0.0.1", url.port().unwrap()));
    assert!(health.is_ok(), "the Site listens");
    child.kill().unwrap();
    child.wait().unwrap();
}
