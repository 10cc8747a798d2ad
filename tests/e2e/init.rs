//! `lowpriv init URL`: a draft scenario from what anonymous can see, which `check` accepts
//! without its secrets and whose run, with the variables it names set, logs every identity in.
//! Init itself sends only GET: the demo Site's counters prove no login, token request, logout,
//! delete or write was sent, and nothing went to the foreign origin.

use crate::common::*;
use lowpriv_demo::USERS;

fn password(name: &str) -> String {
    USERS
        .iter()
        .find(|u| u.name == name)
        .unwrap()
        .password
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_drafts_a_scenario_that_checks_and_logs_every_identity_in() {
    let site = start_site(true).await;
    let dir = temp_dir();
    let draft = dir.path().join("draft.toml");
    let url = site.base_url.to_string();
    let out = lowpriv(
        vec![
            "init".into(),
            url.clone(),
            "--out".into(),
            draft.display().to_string(),
        ],
        vec![],
    )
    .await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let stats = site.stats();
    assert_eq!(stats.login_posts, 0, "init tries no password");
    assert_eq!(stats.token_posts, 0);
    assert_eq!(stats.refresh_posts, 0);
    assert_eq!(stats.logout_hits, 0);
    assert_eq!(stats.delete_hits, 0);
    assert_eq!(stats.foreign_hits, 0, "nothing to another origin");
    assert!(stats.requests > 5, "it looked: {}", stats.requests);
    assert!(
        stdout.contains(
            "found: login form: /login (fields `username`, `password`, CSRF field `csrf`"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("found: API description: /openapi.json"),
        "{stdout}"
    );
    let toml = std::fs::read_to_string(&draft).unwrap();
    assert!(toml.contains("form = \"/login\""), "{toml}");
    assert!(toml.contains("${LOWPRIV_MEMBER_PASSWORD}"), "{toml}");
    assert!(
        toml.contains("public = [\"/healthz\", \"/static/**\"]"),
        "{toml}"
    );

    // An existing file is never overwritten without --force.
    let again = lowpriv(
        vec![
            "init".into(),
            url.clone(),
            "--out".into(),
            draft.display().to_string(),
        ],
        vec![],
    )
    .await;
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("pass --force"));
    assert_eq!(std::fs::read_to_string(&draft).unwrap(), toml);

    // `check` accepts it with no variable set, naming them.
    let check = lowpriv(vec!["check".into(), draft.display().to_string()], vec![]).await;
    let said = text(&check.stdout) + &text(&check.stderr);
    assert_eq!(check.status.code(), Some(0), "{said}");
    assert!(said.contains("LOWPRIV_MEMBER_PASSWORD"), "{said}");

    // With the variables set, every identity logs in and is observed. The draft's polite
    // rate limit is lifted for the in-process demo Site, as its own scenario does.
    let toml = toml.replace("rate_limit = 10\n", "rate_limit = 1000\n");
    assert!(toml.contains("rate_limit = 1000"));
    std::fs::write(&draft, &toml).unwrap();
    let env = vec![
        ("LOWPRIV_MEMBER_USERNAME".to_string(), "carol".to_string()),
        ("LOWPRIV_MEMBER_PASSWORD".to_string(), password("carol")),
        (
            "LOWPRIV_ADMINISTRATOR_USERNAME".to_string(),
            "alice".to_string(),
        ),
        (
            "LOWPRIV_ADMINISTRATOR_PASSWORD".to_string(),
            password("alice"),
        ),
    ];
    let json = dir.path().join("report.json");
    let run = lowpriv(
        vec![
            "-vv".into(),
            "run".into(),
            draft.display().to_string(),
            "--json".into(),
            json.display().to_string(),
        ],
        env.clone(),
    )
    .await;
    let said = text(&run.stdout) + &text(&run.stderr);
    let report = read_json(&json);
    let identities = report["identities"].as_array().unwrap();
    assert_eq!(identities.len(), 3);
    for identity in identities {
        assert_eq!(identity["logged_in"], true, "{identity}\n{said}");
        assert!(identity["crawled"].as_u64().unwrap() > 0, "{identity}");
    }
    assert_eq!(
        outcome_at(&report, "administrator", "/admin/users").as_deref(),
        Some("allowed"),
        "alice's session is real: she reaches the owner's page"
    );
    assert_ne!(
        outcome_at(&report, "member", "/admin/users").as_deref(),
        Some("allowed")
    );
    for (_, secret) in &env {
        if secret.len() > 6 {
            assert!(
                !said.contains(secret.as_str()),
                "a password reached the output"
            );
            assert!(
                !std::fs::read_to_string(&json)
                    .unwrap()
                    .contains(secret.as_str())
            );
        }
    }
}

#[test]
fn init_on_a_site_with_no_login_drafts_token_identities_and_says_so() {
    let (base_url, log) = serve_pages(
        vec![
            (
                "/",
                "text/html",
                b"<a href=\"/app.js\">x</a><a href=\"/status\">s</a>".to_vec(),
            ),
            (
                "/app.js",
                "application/javascript",
                b"fetch('/api/items')".to_vec(),
            ),
            ("/status", "application/json", br#"{"ok":true}"#.to_vec()),
        ],
        None,
    );
    let dir = temp_dir();
    let draft = dir.path().join("draft.toml");
    let out = lowpriv_sync(&["init", &base_url, "--out", draft.to_str().unwrap()], &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("no login found"), "{stdout}");
    let toml = std::fs::read_to_string(&draft).unwrap();
    assert!(
        toml.contains("bearer = \"${LOWPRIV_MEMBER_TOKEN}\""),
        "{toml}"
    );
    assert!(
        toml.contains("public = [\"/app.js\", \"/status\"]"),
        "{toml}"
    );
    assert!(
        !toml.contains("[session]"),
        "no login page, no login_path: {toml}"
    );
    assert!(!toml.contains("openapi ="), "{toml}");
    let check = lowpriv_sync(&["check", draft.to_str().unwrap()], &[]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    let asked = log.lock().unwrap().clone();
    assert!(asked.contains(&"/app.js".to_string()));
    // Unreachable: a clear error, nothing written.
    let nothing = dir.path().join("none.toml");
    let out = lowpriv_sync(
        &[
            "init",
            "http://127.0.0.1:9/",
            "--out",
            nothing.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("did not answer"),
        "{}",
        text(&out.stderr)
    );
    assert!(!nothing.exists());
}
