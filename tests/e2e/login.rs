//! Every login method against the demo Site, proof of login, and credentials that stay home.

use crate::common::*;
use lowpriv_demo::USERS;

fn token(name: &str) -> String {
    USERS
        .iter()
        .find(|u| u.name == name)
        .unwrap()
        .token
        .to_string()
}

fn password(name: &str) -> String {
    USERS
        .iter()
        .find(|u| u.name == name)
        .unwrap()
        .password
        .to_string()
}

fn scenario(base_url: &url::Url, identities: &str) -> String {
    format!(
        r#"[site]
name = "logins"
base_url = "{base_url}"
audience = "team"
public = ["/healthz", "/static/**", "/openapi.json", "/api/me"]

[session]
deny_markers = ["Access denied"]

[crawl]
seeds = ["/"]
exclude = ["/_demo/**", "/_bad/**"]
rate_limit = 500

[[identity]]
name = "anonymous"
tier = "external"
{identities}
"#
    )
}

async fn run(
    site_url: &url::Url,
    identities: &str,
    env: Vec<(String, String)>,
) -> (i32, serde_json::Value, String) {
    let dir = temp_dir();
    let path = dir.path().join("logins.toml");
    std::fs::write(&path, scenario(site_url, identities)).unwrap();
    let json = dir.path().join("report.json");
    // Debug logs on: the secrets greps of these tests read them too.
    let out = lowpriv(
        vec![
            "-vv".into(),
            "run".into(),
            path.display().to_string(),
            "--json".into(),
            json.display().to_string(),
        ],
        env,
    )
    .await;
    let stdout = text(&out.stdout);
    let report = read_json(&json);
    (
        out.status.code().unwrap(),
        report,
        stdout + &text(&out.stderr),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_basic_cookie_and_header_logins_all_hold() {
    let site = start_site(true).await;
    let identities = r#"
[[identity]]
name = "alice"
tier = "owner"
rank = 100
[identity.login]
bearer = "${ALICE_TOKEN}"
verify = { path = "/api/me", contains = "alice" }

[[identity]]
name = "bob"
tier = "team"
rank = 50
[identity.login]
basic = { user = "bob", password = "${BOB_PASSWORD}" }
verify = { path = "/api/me", contains = "bob" }

[[identity]]
name = "carol"
tier = "team"
rank = 10
[identity.login]
cookie = "sid=${CAROL_TOKEN}"

[[identity]]
name = "dave"
tier = "company"
rank = 5
[identity.login]
headers = { "X-Api-Token" = "${DAVE_TOKEN}" }
verify = { path = "/api/me", contains = "dave" }
"#;
    let env = vec![
        ("ALICE_TOKEN".to_string(), token("alice")),
        ("BOB_PASSWORD".to_string(), password("bob")),
        ("CAROL_TOKEN".to_string(), token("carol")),
        ("DAVE_TOKEN".to_string(), token("dave")),
    ];
    let (code, report, output) = run(&site.base_url, identities, env).await;
    assert_eq!(code, 0, "{output}");
    let logins: Vec<(String, String, bool)> = report["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap().to_string(),
                i["login"].as_str().unwrap().to_string(),
                i["logged_in"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        logins,
        vec![
            ("anonymous".into(), "none".into(), true),
            ("alice".into(), "bearer".into(), true),
            ("bob".into(), "basic".into(), true),
            ("carol".into(), "cookie".into(), true),
            ("dave".into(), "headers".into(), true),
        ]
    );
    // Each identity really saw the Site as itself.
    assert_eq!(
        outcome_at(&report, "alice", "/admin/users").as_deref(),
        Some("allowed")
    );
    assert_eq!(
        outcome_at(&report, "bob", "/payroll/summary").as_deref(),
        Some("allowed")
    );
    assert_eq!(
        outcome_at(&report, "carol", "/api/employees/3").as_deref(),
        Some("allowed")
    );
    assert_eq!(
        outcome_at(&report, "dave", "/api/me").as_deref(),
        Some("allowed")
    );
    assert_eq!(outcome_at(&report, "dave", "/").as_deref(), Some("denied"));
    for user in USERS {
        assert!(!output.contains(user.token));
        assert!(!output.contains(user.password));
    }
    assert_eq!(site.stats().foreign_credentials, 0);
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_form_posting_to_another_origin_is_refused() {
    let site = start_site(true).await;
    let identities = r#"
[[identity]]
name = "carol"
tier = "team"
[identity.login]
form = "/_bad/foreign-login"
fields = { username = "carol", password = "${CAROL_PASSWORD}" }
"#;
    let env = vec![("CAROL_PASSWORD".to_string(), password("carol"))];
    let (code, report, output) = run(&site.base_url, identities, env).await;
    assert_eq!(code, 3, "{output}");
    let failed = &report["findings"].as_array().unwrap()[0];
    assert_eq!(failed["kind"], "login-failed", "{failed}");
    assert!(
        failed["detail"]
            .as_str()
            .unwrap()
            .contains("another origin"),
        "{failed}"
    );
    let stats = site.stats();
    assert_eq!(
        stats.foreign_hits, 0,
        "nothing at all was sent to the foreign origin"
    );
    assert_eq!(stats.foreign_credentials, 0);
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proof_that_redirects_away_fails_without_following() {
    let site = start_site(true).await;
    let identities = r#"
[[identity]]
name = "carol"
tier = "team"
[identity.login]
bearer = "${CAROL_TOKEN}"
verify = { path = "/go/partner" }
"#;
    let env = vec![("CAROL_TOKEN".to_string(), token("carol"))];
    let (code, report, output) = run(&site.base_url, identities, env).await;
    assert_eq!(code, 3, "{output}");
    let carol = &report["identities"].as_array().unwrap()[1];
    assert_eq!(carol["logged_in"], false);
    assert!(
        carol["login_error"]
            .as_str()
            .unwrap()
            .contains("another origin"),
        "{carol}"
    );
    assert_eq!(site.stats().foreign_hits, 0);
    site.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proof_that_does_not_hold_is_login_failed() {
    let site = start_site(true).await;
    // A valid login, but the proof names someone else: the run must not trust it.
    let identities = r#"
[[identity]]
name = "carol"
tier = "team"
[identity.login]
form = "/login"
fields = { username = "carol", password = "${CAROL_PASSWORD}" }
verify = { path = "/api/me", contains = "alice" }
"#;
    let env = vec![("CAROL_PASSWORD".to_string(), password("carol"))];
    let (code, report, output) = run(&site.base_url, identities, env).await;
    assert_eq!(code, 3, "{output}");
    assert_eq!(
        findings(&report, "login-failed"),
        vec![("carol".to_string(), String::new())]
    );
    assert!(output.contains("does not contain `alice`"), "{output}");
    site.shutdown().await;
}

/// The single-page-app login: `POST /api/auth/login` with a JSON body; alice's session is the
/// token in the answer, bob's the cookie it sets. The Site expires every session after a few
/// requests, so both logins are replayed during the run and the answers stay the real ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logins_hold_by_token_and_by_cookie_and_are_replayed_when_lost() {
    let mut config = demo_config(true);
    config.faults.session_ttl = Some(12);
    let site = start_site_with(config).await;
    let identities = r#"
[[identity]]
name = "alice"
tier = "owner"
rank = 100
[identity.login]
json = "/api/auth/login"
fields = { username = "alice", password = "${ALICE_PASSWORD}" }
token = "/access_token"
verify = { path = "/api/me", contains = "alice" }

[[identity]]
name = "bob"
tier = "team"
rank = 50
[identity.login]
json = "/api/auth/login"
fields = { username = "bob", password = "${BOB_PASSWORD}" }
verify = { path = "/api/me", contains = "bob" }
"#;
    let env = vec![
        ("ALICE_PASSWORD".to_string(), password("alice")),
        ("BOB_PASSWORD".to_string(), password("bob")),
    ];
    let (code, report, output) = run(&site.base_url, identities, env.clone()).await;
    assert_eq!(code, 0, "{output}");
    for who in ["alice", "bob"] {
        let identity = report["identities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == who)
            .unwrap();
        assert_eq!(identity["login"], "json", "{identity}");
        assert_eq!(identity["logged_in"], true, "{identity}");
        assert!(
            identity["relogins"].as_u64().unwrap() > 0,
            "the session expired and was renewed: {identity}"
        );
        assert!(
            identity.get("session_lost").is_none_or(|l| l.is_null()),
            "{identity}"
        );
    }
    assert_eq!(
        outcome_at(&report, "alice", "/admin/users").as_deref(),
        Some("allowed")
    );
    assert_eq!(
        outcome_at(&report, "bob", "/payroll/summary").as_deref(),
        Some("allowed")
    );
    assert_eq!(
        outcome_at(&report, "bob", "/admin/users").as_deref(),
        Some("denied")
    );

    // Every token the Site issued, and the passwords, stay out of what lowpriv wrote.
    let issued: serde_json::Value = reqwest::get(site.base_url.join("/_demo/issued").unwrap())
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    let tokens = issued["session_ids"].as_array().unwrap();
    assert!(
        tokens.len() >= 4,
        "logins and re-logins issued sessions: {issued}"
    );
    let report_text = report.to_string();
    for secret in tokens
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .chain(env.iter().map(|(_, v)| v.clone()))
    {
        assert!(
            !output.contains(&secret) && !report_text.contains(&secret),
            "a secret was written"
        );
    }
    assert_eq!(
        (
            site.stats().foreign_credentials,
            site.stats().unknown_credentials
        ),
        (0, 0)
    );

    // A wrong password: the login fails, naming the identity and the answer, and the run is
    // inconclusive.
    let wrong = vec![
        (
            "ALICE_PASSWORD".to_string(),
            "not-alices-password".to_string(),
        ),
        ("BOB_PASSWORD".to_string(), password("bob")),
    ];
    let (code, report, output) = run(&site.base_url, identities, wrong).await;
    assert_eq!(code, 3, "{output}");
    let alice = report["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "alice")
        .unwrap();
    assert_eq!(alice["logged_in"], false);
    let why = alice["login_error"].as_str().unwrap();
    assert!(why.contains("POST /api/auth/login answered 401"), "{why}");
    site.shutdown().await;
}

/// A JSON login with a refresh token: the Site expires sessions after a few requests, and
/// each lost session is renewed with the refresh token (rotated each time), never with the
/// password again. A refresh token that stops working loses the session: inconclusive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_login_renews_with_its_refresh_token_and_a_dead_one_is_inconclusive() {
    let identities = r#"
[[identity]]
name = "alice"
tier = "owner"
rank = 100
[identity.login]
json = "/api/auth/login"
fields = { username = "alice", password = "${ALICE_PASSWORD}" }
token = "/access_token"
refresh = "/api/auth/refresh"
refresh_token = "/refresh_token"
verify = { path = "/api/me", contains = "alice" }
"#;
    let env = vec![("ALICE_PASSWORD".to_string(), password("alice"))];

    let mut config = demo_config(true);
    config.faults.session_ttl = Some(12);
    let site = start_site_with(config).await;
    let (code, report, output) = run(&site.base_url, identities, env.clone()).await;
    assert_eq!(code, 0, "{output}");
    let alice = identity(&report, "alice");
    assert_eq!(alice["logged_in"], true, "{alice}");
    let renewed = alice["relogins"].as_u64().unwrap();
    assert!(renewed > 0, "the session expired and was renewed: {alice}");
    let stats = site.stats();
    assert_eq!(
        stats.login_posts, 1,
        "the password was sent once, at the start"
    );
    assert!(
        stats.refresh_posts >= renewed,
        "every renewal was a refresh: {} refreshes for {renewed} renewals",
        stats.refresh_posts
    );
    assert_eq!(
        outcome_at(&report, "alice", "/admin/users").as_deref(),
        Some("allowed"),
        "the answers after each refresh are alice's"
    );
    // Every access and refresh token the Site issued stays out of what lowpriv wrote.
    let issued = issued(&site).await;
    assert!(issued.refresh_tokens.len() as u64 > renewed, "{issued:?}");
    let report_text = report.to_string();
    for secret in issued.all().chain(env.iter().map(|(_, v)| v.clone())) {
        assert!(
            !output.contains(&secret) && !report_text.contains(&secret),
            "a secret was written"
        );
    }
    site.shutdown().await;

    // The same login where the refresh token stops working: the first lost session cannot
    // be renewed, the identity is given up, and the run is inconclusive, never a pass.
    let mut config = demo_config(true);
    config.faults.session_ttl = Some(12);
    config.faults.refresh_revoked = true;
    let site = start_site_with(config).await;
    let (code, report, output) = run(&site.base_url, identities, env).await;
    assert_eq!(code, 3, "{output}");
    assert_eq!(report["summary"]["verdict"], "inconclusive");
    let lost = identity(&report, "alice")["session_lost"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        lost.contains("the refresh token no longer works"),
        "{lost}\n{output}"
    );
    assert_eq!(
        site.stats().login_posts,
        1,
        "no password behind the scenario's back"
    );
    site.shutdown().await;
}

fn identity<'r>(report: &'r serde_json::Value, name: &str) -> &'r serde_json::Value {
    report["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap()
}

/// OAuth2 against the demo Site's token endpoint: dave as the `ops-bot` service account
/// (client credentials, the endpoint found through the issuer's OIDC discovery document) and
/// carol through the password grant, which a scenario must name and `check` warns about.
/// Sessions expire after a few requests: dave's is renewed by asking for a token again,
/// carol's with her refresh token; a refresh token that stops working is inconclusive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth2_client_credentials_and_the_opt_in_password_grant_hold_and_renew() {
    let mut config = demo_config(true);
    config.faults.session_ttl = Some(12);
    let site = start_site_with(config).await;
    let issuer = site.base_url.as_str().trim_end_matches('/').to_string();
    let identities = format!(
        r#"
[[identity]]
name = "dave"
tier = "company"
rank = 5
[identity.login]
oauth2 = {{ issuer = "{issuer}", grant = "client_credentials", client_id = "ops-bot", client_secret = "${{OPS_BOT_SECRET}}" }}
verify = {{ path = "/api/me", contains = "dave" }}

[[identity]]
name = "carol"
tier = "team"
rank = 10
[identity.login]
oauth2 = {{ token_url = "/oauth/token", grant = "password", client_id = "dashboard", client_secret = "${{DASHBOARD_SECRET}}", username = "carol", password = "${{CAROL_PASSWORD}}" }}
verify = {{ path = "/api/me", contains = "carol" }}
"#
    );
    let env = vec![
        (
            "OPS_BOT_SECRET".to_string(),
            "ops-bot-secret-5c2e9a71d3".to_string(),
        ),
        (
            "DASHBOARD_SECRET".to_string(),
            "dashboard-secret-8b4f06c2e1".to_string(),
        ),
        ("CAROL_PASSWORD".to_string(), password("carol")),
    ];

    // `check` accepts it and warns about the password grant, naming carol.
    let dir = temp_dir();
    let path = dir.path().join("oauth.toml");
    std::fs::write(&path, scenario(&site.base_url, &identities)).unwrap();
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let checked = lowpriv_sync(&["check", path.to_str().unwrap()], &env_refs);
    assert_eq!(checked.status.code(), Some(0), "{}", text(&checked.stderr));
    let warning = text(&checked.stderr);
    assert!(
        warning.contains("warning: identity `carol` uses the resource-owner password grant"),
        "{warning}"
    );
    assert!(
        !warning.contains("dave"),
        "client credentials are not warned about: {warning}"
    );

    let (code, report, output) = run(&site.base_url, &identities, env.clone()).await;
    assert_eq!(code, 0, "{output}");
    for who in ["dave", "carol"] {
        let identity = identity(&report, who);
        assert_eq!(identity["login"], "oauth2", "{identity}");
        assert_eq!(identity["logged_in"], true, "{identity}");
        assert!(
            identity["relogins"].as_u64().unwrap() > 0,
            "the token expired and was renewed: {identity}"
        );
    }
    assert_eq!(
        outcome_at(&report, "carol", "/dashboard").as_deref(),
        Some("allowed"),
        "carol's token is carol's"
    );
    assert_eq!(
        outcome_at(&report, "dave", "/dashboard").as_deref(),
        Some("denied"),
        "the service account acts as dave, outside the team"
    );
    let stats = site.stats();
    assert!(stats.token_posts >= 4, "two grants and renewals: {stats:?}");
    assert_eq!(stats.login_posts, 0, "no form or JSON login was used");
    assert_eq!(
        (stats.foreign_credentials, stats.unknown_credentials),
        (0, 0)
    );

    // No secret, token or refresh token the Site issued is in what lowpriv wrote.
    let issued = issued(&site).await;
    let report_text = report.to_string();
    assert!(issued.refresh_tokens.len() > 1, "{issued:?}");
    for secret in issued.all().chain(env.iter().map(|(_, v)| v.clone())) {
        assert!(
            !output.contains(&secret)
                && !report_text.contains(&secret)
                && !warning.contains(&secret),
            "a secret was written"
        );
    }
    site.shutdown().await;

    // A wrong client secret: dave's token request is refused, a failed login naming him.
    let mut config = demo_config(true);
    config.faults.session_ttl = Some(12);
    let site = start_site_with(config).await;
    let moved = identities.replace(&issuer, site.base_url.as_str().trim_end_matches('/'));
    let mut wrong = env.clone();
    wrong[0].1 = "not-the-ops-bot-secret".to_string();
    let (code, report, output) = run(&site.base_url, &moved, wrong).await;
    assert_eq!(code, 3, "{output}");
    assert_eq!(
        findings(&report, "login-failed"),
        vec![("dave".to_string(), String::new())]
    );
    assert!(output.contains("/oauth/token answered 401"), "{output}");
    assert!(
        !output.contains("not-the-ops-bot-secret"),
        "the wrong secret is a secret too"
    );
    site.shutdown().await;

    // carol's refresh token stops working: her first lost session cannot be renewed.
    let mut config = demo_config(true);
    config.faults.session_ttl = Some(12);
    config.faults.refresh_revoked = true;
    let site = start_site_with(config).await;
    let identities = identities.replace(&issuer, site.base_url.as_str().trim_end_matches('/'));
    let (code, report, output) = run(&site.base_url, &identities, env).await;
    assert_eq!(code, 3, "{output}");
    let lost = identity(&report, "carol")["session_lost"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        lost.contains("the refresh token no longer works"),
        "{lost}\n{output}"
    );
    assert!(
        identity(&report, "dave")["session_lost"].is_null(),
        "dave's client credentials still renew"
    );
    site.shutdown().await;
}

/// A second factor: with `alice_totp` the demo Site also asks alice for her TOTP code, in
/// the form login and in the JSON one. The code comes from her seed in a variable; a wrong
/// seed is a failed login naming her, and neither the seed nor any code is ever written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_totp_second_factor_logs_in_from_its_seed_and_a_wrong_seed_fails_naming_who() {
    let mut config = demo_config(true);
    config.alice_totp = true;
    let site = start_site_with(config).await;
    let identities = |login: &str| {
        format!(
            r#"
[[identity]]
name = "alice"
tier = "owner"
rank = 100
[identity.login]
{login}
fields = {{ username = "alice", password = "${{ALICE_PASSWORD}}" }}
totp = {{ field = "otp", seed = "${{ALICE_TOTP_SEED}}" }}
verify = {{ path = "/api/me", contains = "alice" }}
"#
        )
    };
    let env = |seed: &str| {
        vec![
            ("ALICE_PASSWORD".to_string(), password("alice")),
            ("ALICE_TOTP_SEED".to_string(), seed.to_string()),
        ]
    };
    let seed = lowpriv_demo::ALICE_TOTP_SEED;
    let step_before = lowpriv::session::totp::current_step();
    let mut outputs = Vec::new();
    for login in [
        "form = \"/login\"",
        "json = \"/api/auth/login\"\ntoken = \"/access_token\"",
    ] {
        let (code, report, output) = run(&site.base_url, &identities(login), env(seed)).await;
        assert_eq!(code, 0, "{login}: {output}");
        assert_eq!(identity(&report, "alice")["logged_in"], true, "{login}");
        assert_eq!(
            outcome_at(&report, "alice", "/admin/users").as_deref(),
            Some("allowed"),
            "{login}"
        );
        outputs.push(output + &report.to_string());
    }

    // Without the second factor, and with another seed, alice's login fails, named.
    let without = identities("form = \"/login\"").replace(
        "totp = { field = \"otp\", seed = \"${ALICE_TOTP_SEED}\" }\n",
        "",
    );
    let (code, report, output) = run(&site.base_url, &without, env(seed)).await;
    assert_eq!(code, 3, "{output}");
    assert_eq!(identity(&report, "alice")["logged_in"], false);
    let wrong = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    let (code, report, output) =
        run(&site.base_url, &identities("form = \"/login\""), env(wrong)).await;
    assert_eq!(code, 3, "{output}");
    assert_eq!(
        findings(&report, "login-failed"),
        vec![("alice".to_string(), String::new())]
    );
    outputs.push(output + &report.to_string());

    // The seeds, and every code of the steps the runs spanned, are in no output.
    let step_after = lowpriv::session::totp::current_step();
    let mut secrets = vec![seed.to_string(), wrong.to_string(), password("alice")];
    for s in [seed, wrong] {
        let bytes = lowpriv::session::totp::decode_seed(s).unwrap();
        for step in step_before.saturating_sub(1)..=step_after {
            secrets.push(lowpriv::session::totp::code_at_step(&bytes, step));
        }
    }
    for output in &outputs {
        for secret in &secrets {
            assert!(
                !output.contains(secret.as_str()),
                "a seed or a code was written"
            );
        }
    }
    site.shutdown().await;
}

/// Every session id (access token) and refresh token the demo Site issued so far.
#[derive(Debug)]
struct Issued {
    session_ids: Vec<String>,
    refresh_tokens: Vec<String>,
}

impl Issued {
    fn all(&self) -> impl Iterator<Item = String> + '_ {
        self.session_ids.iter().chain(&self.refresh_tokens).cloned()
    }
}

async fn issued(site: &lowpriv_demo::DemoSite) -> Issued {
    let text = reqwest::get(site.base_url.join("/_demo/issued").unwrap())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let issued: serde_json::Value = serde_json::from_str(&text).unwrap();
    let list = |key: &str| {
        issued[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect()
    };
    Issued {
        session_ids: list("session_ids"),
        refresh_tokens: list("refresh_tokens"),
    }
}
