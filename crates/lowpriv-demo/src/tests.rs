//! Tests of the demo Site over real loopback HTTP: login, every credential
//! kind, each deliberate flaw and its fix, the traps and the foreign origin.

use std::net::SocketAddr;

use reqwest::redirect::Policy;
use serde_json::Value;

use super::*;

const CAROL_PW: &str = "carol-demo-pw-3Xv8";

async fn site(fixed: bool) -> DemoSite {
    let config = DemoConfig {
        fixed,
        db_password: "s3cret-db-pw-Zz9".to_string(),
        ..DemoConfig::default()
    };
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    DemoSite::start(config, addr).await.unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

fn token(user: &str) -> &'static str {
    USERS.iter().find(|u| u.name == user).unwrap().token
}

struct Got {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    fn main(&self) -> &str {
        let start = self.body.find("<main>").unwrap();
        let end = self.body.find("</main>").unwrap();
        &self.body[start..end]
    }

    fn location(&self) -> &str {
        self.headers.get("location").unwrap().to_str().unwrap()
    }
}

async fn send(request: reqwest::RequestBuilder) -> Got {
    let response = request.send().await.unwrap();
    Got {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

/// GET as `user` (by bearer token), or anonymously.
async fn get(site: &DemoSite, path: &str, user: Option<&str>) -> Got {
    let mut request = client().get(site.base_url.join(path).unwrap());
    if let Some(user) = user {
        request = request.bearer_auth(token(user));
    }
    send(request).await
}

fn set_cookie(got: &Got, name: &str) -> Option<String> {
    got.headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with(&format!("{name}=")))
}

fn cookie_value(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap();
    pair.split_once('=').unwrap().1.to_string()
}

fn csrf_from(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).unwrap() + marker.len();
    let len = page[start..].find('"').unwrap();
    page[start..start + len].to_string()
}

/// Runs the whole form login; returns the POST's response and the `csrf_pre` cookie.
async fn form_login(site: &DemoSite, user: &str, password: &str, next: &str) -> (Got, String) {
    let page = get(site, &format!("/login?next={next}"), None).await;
    let pre = cookie_value(&set_cookie(&page, "csrf_pre").unwrap());
    let csrf = csrf_from(&page.body);
    let body = format!("csrf={csrf}&next={next}&username={user}&password={password}");
    let got = send(
        client()
            .post(site.base_url.join("/login").unwrap())
            .header("cookie", format!("csrf_pre={pre}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body),
    )
    .await;
    (got, pre)
}

#[tokio::test]
async fn login_page_has_search_form_first_then_login_form() {
    let site = site(false).await;
    let page = get(&site, "/login?next=%2Fdashboard", None).await;
    assert_eq!(page.status, 200);
    let pre = set_cookie(&page, "csrf_pre").unwrap();
    assert!(pre.contains("HttpOnly") && pre.contains("Path=/"), "{pre}");
    let search = page.body.find("action=\"/search\"").unwrap();
    let login = page.body.find("action=\"/login\"").unwrap();
    assert!(search < login);
    assert!(page.body.contains("name=\"next\" value=\"/dashboard\""));
    assert!(
        page.body
            .contains("<script src=\"/static/app.js\" defer></script>")
    );
    assert!(page.body.contains("href=\"/healthz\""));
    assert!(page.body.contains("<title>Sign in — Acme Payroll</title>"));
    site.shutdown().await;
}

#[tokio::test]
async fn form_login_sets_sid_and_redirects_to_next() {
    let site = site(false).await;
    let (got, _) = form_login(&site, "carol", CAROL_PW, "/dashboard").await;
    assert_eq!(got.status, 303);
    assert_eq!(got.location(), "/dashboard");
    let sid_cookie = set_cookie(&got, "sid").unwrap();
    assert!(sid_cookie.contains("HttpOnly") && sid_cookie.contains("SameSite=Lax"));
    let sid = cookie_value(&sid_cookie);
    assert_eq!(sid.len(), 32);

    let me = send(
        client()
            .get(site.base_url.join("/api/me").unwrap())
            .header("cookie", format!("sid={sid}")),
    )
    .await;
    assert_eq!(me.json()["name"], "carol");
    assert_eq!(me.json()["role"], "employee");

    let issued = get(&site, "/_demo/issued", None).await.json();
    assert_eq!(issued["session_ids"][0], sid.as_str());
    assert_eq!(site.stats().login_posts, 1);
    site.shutdown().await;
}

#[tokio::test]
async fn login_rejects_offsite_next() {
    let site = site(false).await;
    for next in [
        "%2F%2Fevil.example%2F",
        "https%3A%2F%2Fevil.example%2F",
        "%2F%5Cevil",
    ] {
        let (got, _) = form_login(&site, "carol", CAROL_PW, next).await;
        assert_eq!(got.status, 303);
        assert_eq!(got.location(), "/", "next {next}");
    }
    site.shutdown().await;
}

#[tokio::test]
async fn wrong_csrf_is_400() {
    let site = site(false).await;
    let page = get(&site, "/login", None).await;
    let pre = cookie_value(&set_cookie(&page, "csrf_pre").unwrap());
    let post = |cookie: Option<String>| {
        let mut request = client()
            .post(site.base_url.join("/login").unwrap())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf=forged&username=carol&password={CAROL_PW}"));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        send(request)
    };
    let got = post(Some(format!("csrf_pre={pre}"))).await;
    assert_eq!(got.status, 400);
    assert!(got.body.contains("csrf token invalid"));
    assert!(set_cookie(&got, "sid").is_none());
    // No csrf_pre cookie at all.
    assert_eq!(post(None).await.status, 400);
    assert_eq!(site.stats().login_posts, 2);
    site.shutdown().await;
}

#[tokio::test]
async fn wrong_password_shows_login_page_again() {
    let site = site(false).await;
    let (got, _) = form_login(&site, "carol", "nope", "/").await;
    assert_eq!(got.status, 200);
    assert!(got.body.contains("Invalid username or password"));
    assert!(got.body.contains("action=\"/login\""));
    assert!(set_cookie(&got, "sid").is_none());
    let issued = get(&site, "/_demo/issued", None).await.json();
    assert_eq!(issued["session_ids"].as_array().unwrap().len(), 0);
    site.shutdown().await;
}

#[tokio::test]
async fn anonymous_is_sent_to_login_or_gets_401() {
    let site = site(false).await;
    let page = get(&site, "/search?q=x", None).await;
    assert_eq!(page.status, 302);
    assert_eq!(page.location(), "/login?next=%2Fsearch%3Fq%3Dx");
    let api = get(&site, "/api/me", None).await;
    assert_eq!(api.status, 401);
    assert_eq!(api.json()["error"], "login required");
    site.shutdown().await;
}

#[tokio::test]
async fn every_credential_kind_authenticates() {
    let site = site(false).await;
    let me = |request: reqwest::RequestBuilder| async { send(request).await };
    let url = site.base_url.join("/api/me").unwrap();

    let bearer = me(client().get(url.clone()).bearer_auth("tok-bob-8e2c5b1a9d")).await;
    assert_eq!(bearer.json()["name"], "bob");
    let basic = me(client()
        .get(url.clone())
        .basic_auth("alice", Some("alice-demo-pw-7Hq2")))
    .await;
    assert_eq!(basic.json()["name"], "alice");
    let api_token = me(client()
        .get(url.clone())
        .header("x-api-token", "tok-dave-6b9d2c8e4f"))
    .await;
    assert_eq!(api_token.json()["name"], "dave");
    let sid_token = me(client()
        .get(url.clone())
        .header("cookie", "theme=dark; sid=tok-carol-3a7f0e6d1c"))
    .await;
    assert_eq!(sid_token.json()["name"], "carol");

    let bad_basic = me(client().get(url.clone()).basic_auth("alice", Some("wrong"))).await;
    assert_eq!(bad_basic.status, 401);
    let bad_bearer = me(client().get(url.clone()).bearer_auth("tok-nobody")).await;
    assert_eq!(bad_bearer.status, 401);
    site.shutdown().await;
}

#[tokio::test]
async fn team_gate_denies_dave_with_200_page_and_403_json() {
    let site = site(false).await;
    for path in ["/", "/dashboard", "/search?q=a"] {
        let page = get(&site, path, Some("dave")).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(
            page.main()
                .contains("Access denied: you are not a member of the payroll team"),
            "{path}"
        );
    }
    let metrics = get(&site, "/api/team/metrics", Some("dave")).await;
    assert_eq!(metrics.status, 403);
    assert_eq!(metrics.json()["error"], "Access denied");
    let metrics = get(&site, "/api/team/metrics", Some("carol")).await;
    assert_eq!(metrics.json()["headcount"], 5);
    // /api/me has no team gate.
    assert_eq!(get(&site, "/api/me", Some("dave")).await.status, 200);
    site.shutdown().await;
}

#[tokio::test]
async fn search_escapes_the_query() {
    let site = site(false).await;
    let page = get(&site, "/search?q=%3Cscript%3E", Some("carol")).await;
    assert!(page.body.contains("&lt;script&gt;"));
    assert!(!page.main().contains("<script>"));
    site.shutdown().await;
}

#[tokio::test]
async fn nav_links_depend_on_role() {
    let site = site(false).await;
    let carol = get(&site, "/", Some("carol")).await.body;
    let bob = get(&site, "/", Some("bob")).await.body;
    let alice = get(&site, "/", Some("alice")).await.body;
    assert!(carol.contains("Signed in as carol"));
    assert!(carol.contains("href=\"/api/employees/3\""));
    assert!(carol.contains("href=\"/hr/reviews\""));
    assert!(carol.contains(&format!("href=\"{}collect\"", site.foreign_url)));
    assert!(carol.contains("href=\"/go/partner\"") && carol.contains("href=\"/logout\""));
    assert!(bob.contains("href=\"/payroll/summary\"") && bob.contains("href=\"/hr/employees\""));
    assert!(alice.contains("href=\"/admin/users\""));
    for (who, body) in [("carol", &carol), ("alice", &alice)] {
        assert!(!body.contains("/payroll/summary"), "{who}");
    }
    for (who, body) in [("carol", &carol), ("bob", &bob)] {
        assert!(!body.contains("/admin/users"), "{who}");
    }
    site.shutdown().await;
}

#[tokio::test]
async fn flawed_admin_users_open_to_everyone_signed_in() {
    let site = site(false).await;
    let carol = get(&site, "/admin/users", Some("carol")).await;
    assert_eq!(carol.status, 200);
    assert!(carol.main().contains("href=\"/admin/users/2/delete\""));
    assert!(carol.main().contains("href=\"/api/admin/audit\""));
    let dave = get(&site, "/admin/users", Some("dave")).await;
    let alice = get(&site, "/admin/users", Some("alice")).await;
    assert_eq!(dave.main(), alice.main());
    assert_eq!(get(&site, "/admin/users", None).await.status, 302);
    site.shutdown().await;
}

#[tokio::test]
async fn fixed_admin_users_owner_only() {
    let site = site(true).await;
    assert_eq!(get(&site, "/admin/users", Some("alice")).await.status, 200);
    for user in ["bob", "carol", "dave"] {
        let got = get(&site, "/admin/users", Some(user)).await;
        assert_eq!(got.status, 403, "{user}");
        assert!(got.body.contains("Access denied"));
    }
    site.shutdown().await;
}

#[tokio::test]
async fn flawed_employee_records_are_an_idor() {
    let site = site(false).await;
    for user in ["carol", "dave"] {
        let got = get(&site, "/api/employees/1", Some(user)).await;
        assert_eq!(got.status, 200, "{user}");
        let record = got.json();
        assert_eq!(record["salary"], 250_000);
        assert_eq!(record["bonus"], 50_000);
        assert!(
            record["private_notes"]
                .as_str()
                .unwrap()
                .contains("CANARY-ALICE-3f9c")
        );
    }
    assert_eq!(get(&site, "/api/employees/1", None).await.status, 401);
    site.shutdown().await;
}

#[tokio::test]
async fn fixed_employee_records_follow_roles() {
    let site = site(true).await;
    assert_eq!(
        get(&site, "/api/employees/1", Some("carol")).await.status,
        403
    );
    assert_eq!(
        get(&site, "/api/employees/1", Some("dave")).await.status,
        403
    );

    let own = get(&site, "/api/employees/3", Some("carol")).await.json();
    assert_eq!(own["name"], "carol");
    assert!(own.get("salary").is_none() && own.get("bonus").is_none());
    assert!(own.get("private_notes").is_none());

    let by_bob = get(&site, "/api/employees/1", Some("bob")).await.json();
    assert_eq!(by_bob["salary"], 250_000);
    assert!(by_bob.get("private_notes").is_none());
    assert!(!by_bob.to_string().contains("CANARY"));

    let by_alice = get(&site, "/api/employees/1", Some("alice")).await.json();
    assert!(
        by_alice["private_notes"]
            .as_str()
            .unwrap()
            .contains("CANARY")
    );
    let bob_by_alice = get(&site, "/api/employees/2", Some("alice")).await.json();
    assert_eq!(bob_by_alice["salary"], 120_000);
    assert!(bob_by_alice.get("private_notes").is_none());
    site.shutdown().await;
}

#[tokio::test]
async fn unknown_employee_is_404_json() {
    for fixed in [false, true] {
        let site = site(fixed).await;
        for path in [
            "/api/employees/4",
            "/api/employees/abc",
            "/api/employees/99999999999",
        ] {
            let got = get(&site, path, Some("alice")).await;
            assert_eq!(got.status, 404, "{path}");
            assert!(got.json().get("error").is_some());
        }
        site.shutdown().await;
    }
}

#[tokio::test]
async fn directory_flaw_and_fix() {
    let flawed = site(false).await;
    let got = get(&flawed, "/api/directory", Some("dave")).await;
    assert_eq!(got.status, 200);
    let entries = got.json();
    assert_eq!(entries.as_array().unwrap().len(), 5);
    assert_eq!(entries[0]["salary"], 250_000);
    flawed.shutdown().await;

    let fixed = site(true).await;
    assert_eq!(
        get(&fixed, "/api/directory", Some("dave")).await.status,
        403
    );
    let got = get(&fixed, "/api/directory", Some("carol")).await;
    assert_eq!(got.status, 200);
    assert!(!got.body.contains("salary"));
    fixed.shutdown().await;
}

#[tokio::test]
async fn admin_stats_flaw_and_fix() {
    let flawed = site(false).await;
    let got = get(&flawed, "/api/admin/stats", None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["users"], 4);
    flawed.shutdown().await;

    let fixed = site(true).await;
    assert_eq!(get(&fixed, "/api/admin/stats", None).await.status, 401);
    assert_eq!(
        get(&fixed, "/api/admin/stats", Some("carol")).await.status,
        403
    );
    assert_eq!(
        get(&fixed, "/api/admin/stats", Some("alice")).await.status,
        200
    );
    fixed.shutdown().await;
}

#[tokio::test]
async fn admin_audit_is_404_except_for_owner() {
    for fixed in [false, true] {
        let site = site(fixed).await;
        for user in [None, Some("bob"), Some("dave")] {
            assert_eq!(get(&site, "/api/admin/audit", user).await.status, 404);
        }
        let got = get(&site, "/api/admin/audit", Some("alice")).await;
        assert_eq!(got.status, 200);
        assert!(got.json().as_array().is_some_and(|a| !a.is_empty()));
        site.shutdown().await;
    }
}

#[tokio::test]
async fn hr_reviews_flaw_and_fix() {
    let flawed = site(false).await;
    let bob = get(&flawed, "/hr/reviews", Some("bob")).await;
    assert_eq!(bob.status, 403);
    assert!(bob.body.contains("Access denied"));
    let carol = get(&flawed, "/hr/reviews", Some("carol")).await;
    let alice = get(&flawed, "/hr/reviews", Some("alice")).await;
    assert_eq!(carol.status, 200);
    assert_eq!(carol.main(), alice.main());
    let dave = get(&flawed, "/hr/reviews", Some("dave")).await;
    assert_eq!(dave.status, 200);
    assert!(dave.main().contains("not a member of the payroll team"));
    flawed.shutdown().await;

    let fixed = site(true).await;
    let bob = get(&fixed, "/hr/reviews", Some("bob")).await;
    let alice = get(&fixed, "/hr/reviews", Some("alice")).await;
    assert_eq!(bob.status, 200);
    assert_eq!(bob.main(), alice.main());
    assert_eq!(get(&fixed, "/hr/reviews", Some("carol")).await.status, 403);
    fixed.shutdown().await;
}

#[tokio::test]
async fn quarterly_report_flaw_and_fix() {
    let flawed = site(false).await;
    let dave = get(&flawed, "/reports/quarterly", Some("dave")).await;
    let carol = get(&flawed, "/reports/quarterly", Some("carol")).await;
    assert_eq!(dave.status, 200);
    assert!(dave.main().contains("Payroll cost"));
    assert_eq!(dave.main(), carol.main());
    flawed.shutdown().await;

    let fixed = site(true).await;
    let dave = get(&fixed, "/reports/quarterly", Some("dave")).await;
    assert_eq!(dave.status, 200);
    assert!(dave.main().contains("not a member of the payroll team"));
    assert!(!dave.main().contains("Payroll cost"));
    fixed.shutdown().await;
}

#[tokio::test]
async fn payroll_summary_flaw_and_fix() {
    let flawed = site(false).await;
    let carol = get(&flawed, "/payroll/summary", Some("carol")).await;
    let bob = get(&flawed, "/payroll/summary", Some("bob")).await;
    assert_eq!(carol.status, 200);
    assert!(carol.main().contains("Total payroll"));
    assert_eq!(carol.main(), bob.main());
    assert_eq!(
        get(&flawed, "/payroll/summary", Some("dave")).await.status,
        200
    );
    flawed.shutdown().await;

    let fixed = site(true).await;
    assert_eq!(
        get(&fixed, "/payroll/summary", Some("carol")).await.status,
        403
    );
    assert_eq!(
        get(&fixed, "/payroll/summary", Some("dave")).await.status,
        403
    );
    assert_eq!(
        get(&fixed, "/payroll/summary", Some("bob")).await.status,
        200
    );
    fixed.shutdown().await;
}

#[tokio::test]
async fn hr_employees_for_hr_and_owner_only() {
    let site = site(false).await;
    let bob = get(&site, "/hr/employees", Some("bob")).await;
    assert_eq!(bob.status, 200);
    for id in [1, 2, 3, 5, 6] {
        assert!(
            bob.main()
                .contains(&format!("href=\"/api/employees/{id}\""))
        );
    }
    assert_eq!(
        bob.main(),
        get(&site, "/hr/employees", Some("alice")).await.main()
    );
    assert_eq!(get(&site, "/hr/employees", Some("carol")).await.status, 403);
    assert_eq!(get(&site, "/hr/employees", Some("dave")).await.status, 403);
    site.shutdown().await;
}

#[tokio::test]
async fn app_js_leaks_db_password_only_when_flawed() {
    let flawed = site(false).await;
    let js = get(&flawed, "/static/app.js", None).await;
    assert_eq!(js.status, 200);
    assert!(
        js.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/javascript")
    );
    assert!(js.body.contains("s3cret-db-pw-Zz9"));
    assert!(js.body.contains("fetch(\"/api/me\""));
    assert!(js.body.contains("fetch(`/api/employees/${id}`)"));
    assert!(js.body.contains("fetch('/api/team/metrics')"));
    assert!(js.body.contains("\"application/json\"") && js.body.contains("\"2026-01-01\""));
    flawed.shutdown().await;

    let fixed = site(true).await;
    let js = get(&fixed, "/static/app.js", None).await;
    assert!(!js.body.contains("s3cret-db-pw-Zz9"));
    assert!(!js.body.contains("password"));
    assert!(js.body.contains("fetch('/api/team/metrics')"));
    fixed.shutdown().await;
}

#[tokio::test]
async fn public_documents() {
    let site = site(false).await;
    let health = get(&site, "/healthz", None).await;
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));
    let robots = get(&site, "/robots.txt", None).await;
    assert_eq!(robots.body, "User-agent: *\nDisallow: /admin/\n");

    let spec = get(&site, "/openapi.json", None).await.json();
    assert_eq!(spec["openapi"], "3.1.0");
    let paths = spec["paths"].as_object().unwrap();
    let mut listed: Vec<&str> = paths.keys().map(String::as_str).collect();
    listed.sort_unstable();
    assert_eq!(
        listed,
        [
            "/api/admin/stats",
            "/api/directory",
            "/api/employees/{id}",
            "/api/me"
        ]
    );
    let employee = &paths["/api/employees/{id}"];
    assert!(employee.get("get").is_some() && employee.get("delete").is_some());
    assert_eq!(employee["parameters"][0]["name"], "id");
    assert_eq!(employee["parameters"][0]["example"], 1);
    let text = spec.to_string();
    assert!(!text.contains("/api/team/metrics") && !text.contains("/api/admin/audit"));
    site.shutdown().await;
}

#[tokio::test]
async fn traps_count_and_logout_ends_the_session() {
    let site = site(false).await;
    let (login, _) = form_login(&site, "bob", "bob-demo-pw-9Lm4", "/").await;
    let sid = cookie_value(&set_cookie(&login, "sid").unwrap());
    let with_sid = |path: &str| {
        send(
            client()
                .get(site.base_url.join(path).unwrap())
                .header("cookie", format!("sid={sid}")),
        )
    };
    assert_eq!(with_sid("/api/me").await.status, 200);
    let out = with_sid("/logout").await;
    assert_eq!(out.status, 302);
    assert_eq!(out.location(), "/login");
    assert_eq!(with_sid("/api/me").await.status, 401);

    let deleted = get(&site, "/admin/users/3/delete", Some("alice")).await;
    assert_eq!((deleted.status, deleted.body.as_str()), (200, "deleted"));
    let stats = site.stats();
    assert_eq!(stats.logout_hits, 1);
    assert_eq!(stats.delete_hits, 1);
    assert_eq!(
        get(&site, "/_demo/stats", None).await.json()["logout_hits"],
        1
    );
    site.shutdown().await;
}

#[tokio::test]
async fn foreign_origin_counts_hits_and_credentials() {
    let site = site(false).await;
    let partner = get(&site, "/go/partner", Some("carol")).await;
    assert_eq!(partner.status, 302);
    let target = format!("{}collect", site.foreign_url);
    assert_eq!(partner.location(), target);
    assert_eq!(site.foreign_url.host_str(), Some("127.0.0.1"));
    assert_ne!(site.foreign_url.port(), site.base_url.port());

    let plain = send(client().get(&target)).await;
    assert_eq!(plain.status, 200);
    assert!(plain.body.contains("partner site"));
    send(client().get(&target).header("cookie", "sid=abc")).await;
    send(client().get(&target).bearer_auth("tok-carol-3a7f0e6d1c")).await;
    send(client().get(&target).header("x-api-token", "t")).await;
    let stats = site.stats();
    assert_eq!(stats.foreign_hits, 4);
    assert_eq!(stats.foreign_credentials, 3);
    site.shutdown().await;
}

#[tokio::test]
async fn hostile_routes_misbehave_as_intended() {
    let site = site(false).await;
    let looped = get(&site, "/_bad/redirect-loop", None).await;
    assert_eq!(
        (looped.status, looped.location()),
        (302, "/_bad/redirect-loop")
    );
    assert_eq!(get(&site, "/_bad/500", None).await.status, 500);
    let broken = get(&site, "/_bad/broken-html", None).await;
    assert!(broken.body.contains("href=\"/healthz\""));

    let binary = client()
        .get(site.base_url.join("/_bad/binary").unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        binary.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(String::from_utf8(binary.bytes().await.unwrap().to_vec()).is_err());

    let reset = client()
        .get(site.base_url.join("/_bad/hangup").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status().as_u16(), 200);
    assert!(reset.bytes().await.is_err());

    let mut huge = client()
        .get(site.base_url.join("/_bad/huge").unwrap())
        .send()
        .await
        .unwrap();
    let mut total = 0usize;
    while let Some(chunk) = huge.chunk().await.unwrap() {
        total += chunk.len();
    }
    assert_eq!(total, 50 * 1024 * 1024);

    let slow = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        client()
            .get(site.base_url.join("/_bad/slow").unwrap())
            .send(),
    )
    .await;
    assert!(slow.is_err(), "slow route answered early");
    site.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_are_404() {
    let site = site(false).await;
    assert_eq!(get(&site, "/nope", Some("carol")).await.status, 404);
    let api = get(&site, "/api/nope", Some("carol")).await;
    assert_eq!(api.status, 404);
    assert!(api.json().get("error").is_some());
    site.shutdown().await;
}

#[tokio::test]
async fn extra_employees_are_generated() {
    let config = DemoConfig {
        extra_employees: 3,
        ..DemoConfig::default()
    };
    let site = DemoSite::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let directory = get(&site, "/api/directory", Some("alice")).await.json();
    assert_eq!(directory.as_array().unwrap().len(), 8);
    let extra = get(&site, "/api/employees/9", Some("alice")).await.json();
    assert!(extra["email"].as_str().unwrap().ends_with("@acme.example"));
    assert!(extra["salary"].as_u64().unwrap() >= 60_000);
    site.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_both_origins() {
    let site = site(false).await;
    let base = site.base_url.clone();
    let foreign = site.foreign_url.clone();
    // A pending request must not hold shutdown open for the full 30 s.
    let pending = tokio::spawn(client().get(base.join("/_bad/slow").unwrap()).send());
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    site.shutdown().await;
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    pending.abort();
    assert!(
        client()
            .get(base.join("/healthz").unwrap())
            .send()
            .await
            .is_err()
    );
    assert!(client().get(foreign).send().await.is_err());
}

#[test]
fn demo_env_maps_password_variables() {
    assert_eq!(
        demo_env("DEMO_ALICE_PASSWORD").as_deref(),
        Some("alice-demo-pw-7Hq2")
    );
    assert_eq!(
        demo_env("DEMO_BOB_PASSWORD").as_deref(),
        Some("bob-demo-pw-9Lm4")
    );
    assert_eq!(demo_env("DEMO_CAROL_PASSWORD").as_deref(), Some(CAROL_PW));
    assert_eq!(
        demo_env("DEMO_DAVE_PASSWORD").as_deref(),
        Some("dave-demo-pw-5Tn1")
    );
    assert_eq!(demo_env("DB_PASSWORD"), None);
    assert_eq!(
        DemoConfig::default().db_password,
        "demo-db-password-not-set"
    );
}

#[test]
fn random_values_are_distinct_hex() {
    let a = state::random_hex();
    let b = state::random_hex();
    assert_eq!(a.len(), 32);
    assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(a, b);
}

async fn data_site(fixed: bool, reopened: Vec<Flaw>) -> DemoSite {
    let config = DemoConfig {
        fixed,
        reopened,
        data_browser: true,
        ..DemoConfig::default()
    };
    DemoSite::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

const DATA_TABLES: [&str; 4] = ["employees", "expenses", "projects", "audit_log"];

/// Who may open each data-browser table (docs/demo-site.md).
fn may_open(user: &str, table: &str) -> bool {
    match table {
        "employees" => ["alice", "bob"].contains(&user),
        "audit_log" => user == "alice",
        _ => ["alice", "bob", "carol"].contains(&user),
    }
}

#[tokio::test]
async fn data_browser_access_per_identity_and_table() {
    for fixed in [false, true] {
        let site = data_site(fixed, Vec::new()).await;
        for table in DATA_TABLES {
            let html = format!("/data/{table}");
            let csv = format!("/data/{table}.csv");
            let json = format!("/data/{table}.json");
            for path in [&html, &csv] {
                let got = get(&site, path, None).await;
                assert_eq!(got.status, 302, "anonymous {path}");
                assert!(got.location().starts_with("/login?next="), "{path}");
            }
            assert_eq!(
                get(&site, &json, None).await.status,
                401,
                "anonymous {json}"
            );

            for user in ["alice", "bob", "carol", "dave"] {
                let case = format!("fixed={fixed} {user} {table}");
                let allowed = may_open(user, table);
                let page = get(&site, &html, Some(user)).await;
                if allowed {
                    assert_eq!(page.status, 200, "{case}");
                    assert!(page.main().contains(&format!("<h1>{table}</h1>")), "{case}");
                } else {
                    // The team gate answers 200 with a denial page, role gates 403.
                    let team_table = table == "expenses" || table == "projects";
                    let status = if team_table && user == "dave" {
                        200
                    } else {
                        403
                    };
                    assert_eq!(page.status, status, "{case}");
                    assert!(page.main().contains("Access denied"), "{case}");
                }
                let got = get(&site, &json, Some(user)).await;
                assert_eq!(got.status, if allowed { 200 } else { 403 }, "{case} json");
                if allowed {
                    assert_eq!(got.json()["table"], table, "{case}");
                }
                let got = get(&site, &csv, Some(user)).await;
                let leaks = !fixed && table == "employees";
                let status = if allowed || leaks { 200 } else { 403 };
                assert_eq!(got.status, status, "{case} csv");
                if status == 200 {
                    let kind = got.headers.get("content-type").unwrap().to_str().unwrap();
                    assert!(kind.starts_with("text/csv"), "{case}: {kind}");
                }
            }
        }
        site.shutdown().await;
    }
}

#[tokio::test]
async fn data_index_lists_what_the_viewer_may_open() {
    let site = data_site(false, Vec::new()).await;
    let page = get(&site, "/data", None).await;
    assert_eq!(page.status, 302);
    // dave is outside the payroll team, the Site's audience: the whole section refuses him.
    let dave = get(&site, "/data", Some("dave")).await;
    assert_eq!(dave.status, 200);
    assert!(dave.main().contains("Access denied"));
    assert!(!dave.body.contains("href=\"/data"));
    for user in ["alice", "bob", "carol"] {
        let page = get(&site, "/data", Some(user)).await;
        assert_eq!(page.status, 200, "{user}");
        assert!(
            page.body.contains("<a href=\"/data\">Data</a>"),
            "{user}: nav"
        );
        for table in DATA_TABLES {
            let linked = page.main().contains(&format!("href=\"/data/{table}\""));
            assert_eq!(linked, may_open(user, table), "{user} {table}");
        }
        assert!(page.main().contains("sql=select+category"), "{user}");
        assert!(page.main().contains("sql=select+status"), "{user}");
    }
    site.shutdown().await;
}

#[tokio::test]
async fn data_export_leak_flawed_fixed_and_reopened() {
    let canary = "CANARY-ALICE-3f9c";
    let flawed = data_site(false, Vec::new()).await;
    let fixed = data_site(true, Vec::new()).await;
    let reopened = data_site(true, vec![Flaw::DataExportUnfiltered]).await;

    for site in [&flawed, &reopened] {
        for user in ["carol", "dave", "bob"] {
            let csv = get(site, "/data/employees.csv", Some(user)).await;
            assert_eq!(csv.status, 200, "{user}");
            assert!(
                csv.body
                    .starts_with("id,name,email,title,department,salary,bonus,private_notes\r\n")
            );
            assert!(csv.body.contains(canary), "{user}: every private note");
            assert!(csv.body.contains("250000"), "{user}: alice's salary");
            for name in ["alice", "bob", "carol", "erin", "frank"] {
                assert!(
                    csv.body.contains(&format!("{name}@acme.example")),
                    "{user} {name}"
                );
            }
        }
        // Its HTML and JSON twins keep the policy.
        assert_eq!(
            get(site, "/data/employees", Some("carol")).await.status,
            403
        );
        assert_eq!(
            get(site, "/data/employees.json", Some("carol"))
                .await
                .status,
            403
        );
        // Anonymous callers are still sent to the login form: the flaw is authorization.
        assert_eq!(get(site, "/data/employees.csv", None).await.status, 302);
    }

    for user in ["carol", "dave"] {
        let csv = get(&fixed, "/data/employees.csv", Some(user)).await;
        assert_eq!(csv.status, 403, "{user}");
        assert!(!csv.body.contains(canary));
    }
    // Each reader sees only their own private notes, in every format.
    for site in [&flawed, &fixed] {
        for path in ["/data/employees", "/data/employees.json"] {
            assert!(
                !get(site, path, Some("bob")).await.body.contains(canary),
                "{path}"
            );
            assert!(
                get(site, path, Some("alice")).await.body.contains(canary),
                "{path}"
            );
        }
        let bob = get(site, "/data/employees", Some("bob")).await;
        assert!(
            bob.main()
                .contains("<th><a href=\"/data/employees?_sort=salary\">salary</a></th>")
        );
        assert!(bob.main().contains("<td>250000</td>"));
    }
    let bob_csv = get(&fixed, "/data/employees.csv", Some("bob")).await;
    assert_eq!(bob_csv.status, 200);
    assert!(!bob_csv.body.contains(canary));
    assert!(
        get(&fixed, "/data/employees.csv", Some("alice"))
            .await
            .body
            .contains(canary)
    );

    for site in [flawed, fixed, reopened] {
        site.shutdown().await;
    }
}

#[tokio::test]
async fn data_views_refuse_what_they_cannot_serve() {
    let site = data_site(false, Vec::new()).await;
    let cases = [
        ("/data/projects?_size=7", 400),
        ("/data/projects?_sort=nope", 400),
        ("/data/projects?_facet=budget", 400),
        ("/data/projects?color=red", 400),
        ("/data/projects?status=active&lead=bob", 400),
        ("/data/projects?_page=99", 404),
        ("/data/projects.json?_sort=nope", 400),
        ("/data/projects.csv?_page=0", 400),
        ("/data/nope", 404),
        ("/data/nope.json", 404),
        ("/data/query", 400),
        ("/data/query?sql=select+*+from+employees", 400),
        (
            "/data/projects?status=active&_sort_desc=budget&_size=10",
            200,
        ),
        ("/data/projects.csv?_facet=status&_page=2&_size=10", 200),
    ];
    for (path, status) in cases {
        assert_eq!(
            get(&site, path, Some("alice")).await.status,
            status,
            "{path}"
        );
    }
    let json = get(&site, "/data/projects.json?_sort=nope", Some("alice")).await;
    assert!(json.json()["error"].as_str().unwrap().contains("nope"));

    let page = get(
        &site,
        "/data/projects?status=active&_size=10",
        Some("carol"),
    )
    .await;
    assert!(page.main().contains("where status = “active”"));
    let json = get(
        &site,
        "/data/projects.json?_facet=status&_size=10&_page=2",
        Some("carol"),
    )
    .await;
    let json = json.json();
    assert_eq!(json["page"], 2);
    assert_eq!(json["rows"].as_array().unwrap().len(), 10);
    assert!(json["facets"]["status"].as_array().unwrap().len() == 3);

    // A canned query answers a small table; its table's gate applies.
    let sql = "/data/query?sql=select+category%2C+sum%28amount%29+from+expenses+group+by+category+order+by+category";
    let got = get(&site, sql, Some("carol")).await;
    assert_eq!(got.status, 200);
    assert!(got.main().contains("<td>travel</td>"));
    let denied = get(&site, sql, Some("dave")).await;
    assert!(denied.main().contains("Access denied"));
    site.shutdown().await;
}

/// A breadth-first walk over HTTP as `user`, from `/data`, opening at most `pages` HTML
/// pages and requesting every `/data` link they hold; returns every URL in the order met,
/// each with its status.
async fn walk_data(site: &DemoSite, user: &str, pages: usize) -> Vec<(String, u16)> {
    let mut met: Vec<(String, u16)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut queue = std::collections::VecDeque::from(["/data".to_string()]);
    seen.insert("/data".to_string());
    let mut opened = 0;
    while let Some(url) = queue.pop_front() {
        let got = get(site, &url, Some(user)).await;
        met.push((url.clone(), got.status));
        let html = !url.contains(".csv") && !url.contains(".json");
        if !html || opened >= pages {
            continue;
        }
        opened += 1;
        for rest in got.main().split("href=\"").skip(1) {
            let href = rest.split('"').next().unwrap().replace("&amp;", "&");
            if href.starts_with("/data") && seen.insert(href.clone()) {
                queue.push_back(href);
            }
        }
    }
    met
}

#[tokio::test]
async fn every_data_link_answers_and_the_walk_is_deterministic() {
    let first = data_site(false, Vec::new()).await;
    let second = data_site(false, Vec::new()).await;
    let walked = walk_data(&first, "alice", 40).await;
    assert!(walked.len() > 300, "{}", walked.len());
    for (url, status) in &walked {
        assert_eq!(*status, 200, "{url}");
    }
    let twins = walked.iter().filter(|(u, _)| u.contains(".csv?")).count();
    assert!(twins > 20, "{twins}");
    assert_eq!(walk_data(&second, "alice", 40).await, walked);
    first.shutdown().await;
    second.shutdown().await;
}

#[tokio::test]
async fn data_browser_off_serves_none_of_it() {
    let config = DemoConfig {
        data_browser: false,
        ..DemoConfig::default()
    };
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let site = DemoSite::start(config, addr).await.unwrap();
    for path in [
        "/data",
        "/data/projects",
        "/data/employees.csv",
        "/data/employees.json",
        "/data/query?sql=select+status%2C+count%28*%29+from+projects+group+by+status+order+by+status",
    ] {
        assert_eq!(get(&site, path, Some("alice")).await.status, 404, "{path}");
    }
    assert!(!get(&site, "/", Some("alice")).await.body.contains("/data"));
    site.shutdown().await;
}

#[test]
fn the_documented_data_browser_rules_are_the_demo_scenarios() {
    // docs/demo-site.md lists the rules a scenario should carry; the demo scenario does.
    let docs = include_str!("../../../docs/demo-site.md");
    let start = docs.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let block = &docs[start..][..docs[start..].find("```").unwrap()];
    assert!(block.contains("/data/employees.*"));
    assert!(
        SCENARIO.contains(block.trim()),
        "scenarios/demo.toml carries:\n{block}"
    );
    let env = |var: &str| match var {
        "DB_PASSWORD" => Some(random_secret()),
        crate::HR_URL_VAR => Some("http://127.0.0.1:9/".to_string()),
        _ => demo_env(var),
    };
    let path = std::path::Path::new(SCENARIO_PATH);
    let demo = lowpriv::scenario::parse(SCENARIO, path, &env).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(
        demo.expects
            .iter()
            .any(|e| e.paths.iter().any(|p| p == "/data/employees.*"))
    );
}

// --- The HR API, /team and POST /team/compensation ---

/// Each HR record's id and compensation, as `data::hr_records` holds them.
const COMPENSATION: [(u32, &str, u64); 6] = [
    (1, "alice", 287_413),
    (2, "bob", 131_729),
    (3, "carol", 104_387),
    (4, "dave", 97_651),
    (5, "erin", 108_943),
    (6, "frank", 93_207),
];

fn hr_token(user: &str) -> String {
    demo_env(&format!("DEMO_HR_{}_TOKEN", user.to_uppercase())).unwrap()
}

/// GET on the HR API with `token` as bearer, or without credentials.
async fn hr_get(site: &DemoSite, path: &str, token: Option<&str>) -> Got {
    let mut request = client().get(site.hr_url.join(path).unwrap());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    send(request).await
}

/// The ids of the records in an HR answer that carry `compensation`.
fn with_compensation(records: &[Value]) -> Vec<u64> {
    records
        .iter()
        .filter(|r| r.get("compensation").is_some())
        .map(|r| r["id"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn hr_api_gives_each_token_its_rows_and_fields() {
    let site = site(false).await;
    assert_eq!(site.hr_url.host_str(), Some("127.0.0.1"));
    assert_ne!(site.hr_url.port(), site.base_url.port());
    assert_ne!(site.hr_url.port(), site.foreign_url.port());
    for user in ["alice", "bob"] {
        let got = hr_get(&site, "/employees", Some(&hr_token(user))).await;
        assert_eq!(got.status, 200, "{user}");
        let records = got.json()["employees"].as_array().unwrap().clone();
        assert_eq!(with_compensation(&records), [1, 2, 3, 4, 5, 6], "{user}");
        for (record, (id, name, pay)) in records.iter().zip(COMPENSATION) {
            assert_eq!(record["id"], id);
            assert_eq!(record["name"], name);
            assert_eq!(record["email"], format!("{name}@acme.example"));
            assert_eq!(record["compensation"], pay);
            let team = if name == "dave" {
                "operations"
            } else {
                "payroll"
            };
            assert_eq!(record["team"], team);
        }
    }
    for (user, own) in [("carol", 3), ("dave", 4)] {
        let got = hr_get(&site, "/employees", Some(&hr_token(user))).await;
        assert_eq!(got.status, 200, "{user}");
        let records = got.json()["employees"].as_array().unwrap().clone();
        assert_eq!(records.len(), 6, "{user}: every record");
        assert!(records.iter().all(|r| r["email"].is_string()), "{user}");
        assert_eq!(with_compensation(&records), [own], "{user}: own only");
    }
    // One record, the same rules.
    let bob_on_carol = hr_get(&site, "/employees/3", Some(&hr_token("bob"))).await;
    assert_eq!(bob_on_carol.json()["compensation"], 104_387);
    let carol_on_alice = hr_get(&site, "/employees/1", Some(&hr_token("carol"))).await;
    assert_eq!(carol_on_alice.status, 200);
    assert_eq!(carol_on_alice.json()["name"], "alice");
    assert!(carol_on_alice.json().get("compensation").is_none());
    let carol_on_carol = hr_get(&site, "/employees/3", Some(&hr_token("carol"))).await;
    assert_eq!(carol_on_carol.json()["compensation"], 104_387);
    let missing = hr_get(&site, "/employees/99", Some(&hr_token("alice"))).await;
    assert_eq!(missing.status, 404);
    let service = hr_get(&site, "/employees", Some(data::HR_SERVICE_TOKEN)).await;
    let records = service.json()["employees"].as_array().unwrap().clone();
    assert_eq!(with_compensation(&records), [1, 2, 3, 4, 5, 6]);

    // No token, an unknown one, the Site's own API token, a password: 401 JSON, no data.
    let site_token = token("alice");
    for (what, token) in [
        ("none", None),
        ("unknown", Some("hr-nobody-000")),
        ("site token", Some(site_token)),
    ] {
        for path in ["/employees", "/employees/1"] {
            let got = hr_get(&site, path, token).await;
            assert_eq!(got.status, 401, "{what} {path}");
            assert!(got.json()["error"].is_string(), "{what} {path}");
            assert!(!got.body.contains("compensation"), "{what} {path}");
        }
    }
    let basic = send(
        client()
            .get(site.hr_url.join("/employees").unwrap())
            .basic_auth("alice", Some("alice-demo-pw-7Hq2")),
    )
    .await;
    assert_eq!(basic.status, 401);
    site.shutdown().await;
}

#[tokio::test]
async fn hr_api_refuses_other_methods_and_counts_every_request() {
    let site = site(false).await;
    let url = site.hr_url.join("/employees").unwrap();
    let alice = hr_token("alice");
    for request in [
        client().post(url.clone()).bearer_auth(&alice),
        client().delete(site.hr_url.join("/employees/3").unwrap()),
        client().put(url.clone()).body("{}"),
    ] {
        let got = send(request).await;
        assert_eq!(got.status, 405);
        assert_eq!(got.headers["allow"], "GET");
    }
    assert_eq!(site.stats().hr_non_gets, 3);
    assert_eq!(site.stats().hr_gets, 0);

    hr_get(&site, "/employees", Some(&hr_token("carol"))).await;
    hr_get(&site, "/employees/3", Some(&hr_token("carol"))).await;
    hr_get(&site, "/employees", Some(&hr_token("dave"))).await;
    hr_get(&site, "/employees", Some("hr-nobody-000")).await;
    hr_get(&site, "/employees", None).await;
    hr_get(&site, "/nothing-here", None).await;
    let stats = site.stats();
    assert_eq!(stats.hr_gets, 6);
    assert_eq!(stats.hr_non_gets, 3);
    let by: Vec<(&str, u64)> = stats
        .hr_requests_by
        .iter()
        .map(|(name, n)| (name.as_str(), *n))
        .collect();
    assert_eq!(by, [("alice", 1), ("carol", 2), ("dave", 1)]);
    assert_eq!(stats.hr_unknown_tokens, 1);
    assert_eq!(stats.hr_no_token, 4, "the DELETE, the PUT and two GETs");
    assert_eq!(stats.hr_service_requests, 0);
    assert_eq!(stats.hr_cookies, 0, "no request so far carried a cookie");
    // None of it reached the Site.
    assert_eq!(stats.requests, 0);

    let with_cookie = send(client().get(url.clone()).header("cookie", "sid=abc")).await;
    assert_eq!(with_cookie.status, 401);
    assert_eq!(site.stats().hr_cookies, 1);
    site.shutdown().await;
}

#[test]
fn demo_env_maps_hr_token_variables_and_keeps_the_passwords() {
    for (user, token) in [
        ("ALICE", "hr-alice-71c4e9b2d0"),
        ("BOB", "hr-bob-2f8a6d3e15"),
        ("CAROL", "hr-carol-9b0e4c7a58"),
        ("DAVE", "hr-dave-4d6f1a8c93"),
    ] {
        assert_eq!(
            demo_env(&format!("DEMO_HR_{user}_TOKEN")).as_deref(),
            Some(token)
        );
    }
    assert_eq!(demo_env("DEMO_CAROL_PASSWORD").as_deref(), Some(CAROL_PW));
    assert_eq!(demo_env("DEMO_HR_ERIN_TOKEN"), None);
    // The service token is no scenario's to hold.
    assert!(!["ALICE", "BOB", "CAROL", "DAVE"].iter().any(|u| {
        demo_env(&format!("DEMO_HR_{u}_TOKEN")).as_deref() == Some(data::HR_SERVICE_TOKEN)
    }));
}

/// The compensation figures a `/team` page shows, in the order of `COMPENSATION`.
fn shown_compensation(main: &str) -> Vec<u64> {
    COMPENSATION
        .iter()
        .filter(|(_, _, pay)| main.contains(&format!("<td>{pay}</td>")))
        .map(|&(_, _, pay)| pay)
        .collect()
}

const PAYROLL: [u64; 5] = [287_413, 131_729, 104_387, 108_943, 93_207];

#[tokio::test]
async fn team_page_shows_every_compensation_only_when_flawed() {
    let flawed = site(false).await;
    let fixed = site(true).await;
    for user in ["alice", "bob", "carol"] {
        let page = get(&flawed, "/team", Some(user)).await;
        assert_eq!(page.status, 200, "{user}");
        assert!(
            page.main()
                .contains("<th>name</th><th>team</th><th>email</th><th>compensation</th>")
        );
        assert!(page.main().contains("<td>erin@acme.example</td>"), "{user}");
        assert_eq!(shown_compensation(page.main()), PAYROLL, "flawed, {user}");
    }
    for user in ["alice", "bob"] {
        let page = get(&fixed, "/team", Some(user)).await;
        assert_eq!(shown_compensation(page.main()), PAYROLL, "fixed, {user}");
    }
    let carol = get(&fixed, "/team", Some("carol")).await;
    assert_eq!(carol.status, 200);
    assert_eq!(shown_compensation(carol.main()), [104_387], "fixed, carol");
    // Her colleagues' rows are there, their compensation cells blank.
    assert!(
        carol
            .main()
            .contains("<td>alice</td><td>payroll</td><td>alice@acme.example</td><td></td>")
    );
    for site in [&flawed, &fixed] {
        // dave is off the payroll team: neither his row nor the page for him.
        let dave = get(site, "/team", Some("dave")).await;
        assert_eq!(dave.status, 200);
        assert!(
            dave.main()
                .contains("Access denied: you are not a member of the payroll team")
        );
        assert!(shown_compensation(&dave.body).is_empty());
        let alice = get(site, "/team", Some("alice")).await;
        assert!(!alice.main().contains("97651") && !alice.main().contains("dave"));
        let anonymous = get(site, "/team", None).await;
        assert_eq!(anonymous.status, 302);
        assert_eq!(anonymous.location(), "/login?next=%2Fteam");
        // Linked for the team, not for dave.
        assert!(alice.body.contains("href=\"/team\""));
        assert!(!dave.body.contains("href=\"/team\""));
    }
    // Each team member's view is one read with the service token (dave's and the anonymous
    // one none).
    assert_eq!(flawed.stats().hr_service_requests, 4);
    assert_eq!(fixed.stats().hr_service_requests, 4);
    flawed.shutdown().await;
    fixed.shutdown().await;
}

#[tokio::test]
async fn a_reopened_team_compensation_flaw_shows_carol_everything_again() {
    let config = DemoConfig {
        fixed: true,
        reopened: vec![Flaw::TeamCompensation],
        ..DemoConfig::default()
    };
    let site = DemoSite::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let carol = get(&site, "/team", Some("carol")).await;
    assert_eq!(shown_compensation(carol.main()), PAYROLL);
    // The form's flaw stays fixed.
    assert!(!carol.main().contains("/team/compensation"));
    site.shutdown().await;
}

#[tokio::test]
async fn team_form_is_shown_to_the_team_when_flawed_and_to_hr_and_owner_when_fixed() {
    let form = "<form method=\"post\" action=\"/team/compensation\">";
    let flawed = site(false).await;
    let fixed = site(true).await;
    for user in ["alice", "bob", "carol"] {
        let page = get(&flawed, "/team", Some(user)).await;
        assert!(page.main().contains(form), "flawed, {user}");
        for field in ["name=\"csrf\"", "name=\"employee\"", "name=\"amount\""] {
            assert!(page.main().contains(field), "flawed, {user}: {field}");
        }
    }
    for (user, shown) in [("alice", true), ("bob", true), ("carol", false)] {
        let page = get(&fixed, "/team", Some(user)).await;
        assert_eq!(page.main().contains(form), shown, "fixed, {user}");
    }
    flawed.shutdown().await;
    fixed.shutdown().await;
}

/// POST to `/team/compensation` as `user` (bearer), or anonymously, with a form body.
async fn adjust(site: &DemoSite, user: Option<&str>, body: &str) -> Got {
    let mut request = client()
        .post(site.base_url.join("/team/compensation").unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string());
    if let Some(user) = user {
        request = request.bearer_auth(token(user));
    }
    send(request).await
}

/// A valid adjustment body for `user`, with the CSRF token their `/team` form carries.
async fn valid_body(site: &DemoSite, user: &str) -> String {
    let page = get(site, "/team", Some(user)).await;
    format!("employee=3&amount=1000&csrf={}", csrf_from(&page.body))
}

#[tokio::test]
async fn flawed_compensation_write_checks_login_only() {
    let site = site(false).await;
    for user in ["alice", "bob", "carol", "dave"] {
        let got = adjust(&site, Some(user), "").await;
        assert_eq!(got.status, 422, "{user}");
    }
    assert_eq!(adjust(&site, None, "").await.status, 401);
    let body = valid_body(&site, "carol").await;
    let recorded = adjust(&site, Some("carol"), &body).await;
    assert_eq!(
        (recorded.status, recorded.body.as_str()),
        (200, "recorded (demo: nothing changed)")
    );
    // Another's CSRF token, an unknown employee, a missing amount: not valid.
    let alice_body = valid_body(&site, "alice").await;
    assert_eq!(adjust(&site, Some("carol"), &alice_body).await.status, 422);
    let csrf = csrf_from(&get(&site, "/team", Some("carol")).await.body);
    for bad in [
        format!("employee=99&amount=1&csrf={csrf}"),
        format!("employee=3&csrf={csrf}"),
        format!("employee=3&amount=lots&csrf={csrf}"),
    ] {
        assert_eq!(
            adjust(&site, Some("carol"), &bad).await.status,
            422,
            "{bad}"
        );
    }
    let stats = site.stats();
    assert_eq!(stats.write_requests, 10);
    assert_eq!(stats.write_nonempty_bodies, 5);
    let by: Vec<(&str, u64)> = stats
        .write_requests_by
        .iter()
        .map(|(name, n)| (name.as_str(), *n))
        .collect();
    assert_eq!(
        by,
        [("alice", 1), ("bob", 1), ("carol", 6), ("dave", 1)],
        "the anonymous one is in the total only"
    );
    site.shutdown().await;
}

#[tokio::test]
async fn fixed_compensation_write_is_for_hr_and_owner_only() {
    let site = site(true).await;
    for user in ["carol", "dave"] {
        assert_eq!(adjust(&site, Some(user), "").await.status, 403, "{user}");
    }
    // carol's token from the flawed form would not help: she is refused before the body.
    assert_eq!(
        adjust(&site, Some("carol"), "employee=3&amount=1&csrf=x")
            .await
            .status,
        403
    );
    assert_eq!(adjust(&site, None, "").await.status, 401);
    for user in ["alice", "bob"] {
        assert_eq!(adjust(&site, Some(user), "").await.status, 422, "{user}");
        let body = valid_body(&site, user).await;
        assert_eq!(adjust(&site, Some(user), &body).await.status, 200, "{user}");
    }
    let stats = site.stats();
    assert_eq!(stats.write_requests, 8);
    assert_eq!(stats.write_nonempty_bodies, 3);
    // A GET is no write: not routed there, not counted.
    let got = get(&site, "/team/compensation", Some("alice")).await;
    assert_eq!(got.status, 405);
    assert_eq!(site.stats().write_requests, 8);
    site.shutdown().await;
}

#[tokio::test]
async fn team_page_never_forwards_the_viewers_credentials_to_the_hr_api() {
    let site = site(false).await;
    let (login, _) = form_login(&site, "carol", CAROL_PW, "/team").await;
    let sid = cookie_value(&set_cookie(&login, "sid").unwrap());
    let page = send(
        client()
            .get(site.base_url.join("/team").unwrap())
            .header("cookie", format!("sid={sid}; theme=dark")),
    )
    .await;
    assert_eq!(page.status, 200);
    assert_eq!(shown_compensation(page.main()), PAYROLL);
    // A bearer viewer too: the Site's API token must not travel either.
    assert_eq!(get(&site, "/team", Some("bob")).await.status, 200);
    let stats = site.stats();
    assert_eq!(stats.hr_service_requests, 2);
    assert_eq!(stats.hr_cookies, 0);
    assert_eq!(stats.hr_unknown_tokens, 0);
    assert_eq!(stats.hr_no_token, 0);
    assert!(stats.hr_requests_by.is_empty());
    // The same count sees a cookie when one does arrive.
    send(
        client()
            .get(site.hr_url.join("/employees").unwrap())
            .header("cookie", format!("sid={sid}")),
    )
    .await;
    assert_eq!(site.stats().hr_cookies, 1);
    site.shutdown().await;
}

#[tokio::test]
async fn team_page_answers_502_when_the_hr_api_is_down() {
    // A port that was bound and released: nothing listens there.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hr_url = url::Url::parse(&format!("http://{}/", closed.local_addr().unwrap())).unwrap();
    drop(closed);
    let foreign = url::Url::parse("http://127.0.0.1:9/").unwrap();
    let stats = Arc::new(Counters::default());
    let app = router::router(DemoConfig::default(), foreign, hr_url, stats);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = url::Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let got = send(
        client()
            .get(base.join("/team").unwrap())
            .bearer_auth(token("carol")),
    )
    .await;
    assert_eq!(got.status, 502);
    assert!(got.main().contains("The HR system is unavailable"));
    assert!(shown_compensation(&got.body).is_empty());
    // The rest of the Site is unaffected.
    let home = send(
        client()
            .get(base.join("/").unwrap())
            .bearer_auth(token("carol")),
    )
    .await;
    assert_eq!(home.status, 200);
    server.abort();
}

#[tokio::test]
async fn shutdown_stops_the_hr_api_too() {
    let site = site(false).await;
    let hr = site.hr_url.join("/employees").unwrap();
    assert_eq!(send(client().get(hr.clone())).await.status, 401);
    site.shutdown().await;
    assert!(client().get(hr).send().await.is_err());
}
