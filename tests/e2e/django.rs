//! A real third-party Site: the Django admin project in tests/fixtures/django, served by
//! waitress on 127.0.0.1 with a port the OS picks, crawled by the real binary as five
//! identities that log in through Django's own login forms (CSRF and all).
//!
//! The fixed variant must pass with no finding; the flawed one (the finance group was also
//! granted `hr.view_employee`) must report that mistake and nothing else.
//!
//! The fixture runs in a virtualenv made by `bash tests/fixtures/django/setup.sh` (CI's
//! `.ci/run` makes it first; without it, the test runs the script itself).

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use crate::common::*;

/// Identity name in the scenario → the password variable the fixture and the scenario read.
const LOGINS: [(&str, &str); 4] = [
    ("member", "DJ_MEMBER_PASSWORD"),
    ("finance", "DJ_FINANCE_PASSWORD"),
    ("hr", "DJ_HR_PASSWORD"),
    ("superuser", "DJ_ADMIN_PASSWORD"),
];

fn fixture() -> PathBuf {
    repo().join("tests/fixtures/django")
}

/// The virtualenv's python, made on first use by `tests/fixtures/django/setup.sh` (so the
/// README's `cargo test` needs nothing done by hand), or `None` when it cannot be made outside
/// CI (no python3-venv, no PyPI): then the test says so loudly and skips. In CI (`CI` set) a
/// missing venv fails the test, since `.ci/run` makes it; `LOWPRIV_SKIP_DJANGO=1` skips.
fn venv_python() -> Option<PathBuf> {
    static MADE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let venv = std::env::var_os("LOWPRIV_DJANGO_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/django-venv"));
    let python = venv.join("bin/python");
    if std::env::var("LOWPRIV_SKIP_DJANGO").as_deref() == Ok("1") && !python.is_file() {
        eprintln!(
            "\n**************************************************************\n\
             * SKIPPED tests/e2e/django.rs: LOWPRIV_SKIP_DJANGO=1 and no venv  *\n\
             * at {}\n\
             * create it with: bash tests/fixtures/django/setup.sh        *\n\
             **************************************************************\n",
            venv.display()
        );
        return None;
    }
    // The tests of this file run in parallel: one of them makes the venv, the others wait.
    let _made = MADE.lock().unwrap_or_else(|e| e.into_inner());
    if python.is_file() {
        return Some(python);
    }
    let setup = std::process::Command::new("bash")
        .arg(fixture().join("setup.sh"))
        .env("LOWPRIV_DJANGO_VENV", &venv)
        .output();
    let why = match setup {
        Ok(out) if out.status.success() && python.is_file() => return Some(python),
        Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
        Err(err) => err.to_string(),
    };
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!(
            "the Django fixture's virtualenv could not be made at {} in CI: {why}",
            venv.display()
        );
    }
    eprintln!(
        "\n**************************************************************\n\
         * SKIPPED tests/e2e/django.rs: no virtualenv at {}\n\
         * and `bash tests/fixtures/django/setup.sh` failed:\n{why}\n\
         * (it needs python3-venv and PyPI; CI makes it in .ci/run)\n\
         **************************************************************\n",
        venv.display()
    );
    None
}

/// A password no one could guess and the test can grep for.
fn password(role: &str) -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write(role.as_bytes());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    format!("dj-{role}-{:016x}", h.finish())
}

/// The Django server, killed (and reaped) when dropped, a panicking test included.
struct Django {
    child: Child,
    base_url: String,
    log: Arc<Mutex<String>>,
    _db: tempfile::TempDir,
}

impl Drop for Django {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Django {
    fn start(python: &Path, variant: &str, passwords: &BTreeMap<&str, String>) -> Django {
        let db = temp_dir();
        let mut command = Command::new(python);
        command
            .arg(fixture().join("serve.py"))
            .current_dir(fixture())
            .env("LOWPRIV_DJANGO_DB_DIR", db.path())
            .env("LOWPRIV_DJANGO_VARIANT", variant)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (var, value) in passwords {
            command.env(var, value);
        }
        let mut child = command.spawn().expect("start the Django fixture");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stderr);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                sink.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("LISTENING ") {
                    let _ = tx.send(url.to_string());
                }
                sink.lock().unwrap().push_str(&line);
                sink.lock().unwrap().push('\n');
            }
        });
        let mut server = Django {
            child,
            base_url: String::new(),
            log,
            _db: db,
        };
        // Migrating a fresh SQLite database and seeding it takes a few seconds.
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(url) => server.base_url = url,
            Err(_) => panic!(
                "the Django fixture did not report its port; its output:\n{}",
                server.log()
            ),
        }
        assert!(
            server.base_url.starts_with("http://127.0.0.1:"),
            "{}",
            server.base_url
        );
        server.wait_until_it_answers();
        server
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// `GET /` until it answers 200 (waitress is listening once it printed the port; this
    /// proves Django answers too).
    fn wait_until_it_answers(&mut self) {
        let addr = self.base_url.trim_start_matches("http://").to_string();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the Django fixture exited ({status}):\n{}", self.log());
            }
            if let Ok(mut stream) = TcpStream::connect(&addr) {
                use std::io::Write;
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let request =
                    format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
                let mut answer = String::new();
                if stream.write_all(request.as_bytes()).is_ok()
                    && stream.read_to_string(&mut answer).is_ok()
                    && answer.starts_with("HTTP/1.1 200")
                {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the Django fixture never answered GET / with 200:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    json_text: String,
    report: serde_json::Value,
    server_log: String,
}

/// The run of one variant, made once and shared by every test that reads it (each costs a
/// Django server and a whole crawl).
fn run(variant: &str) -> Option<std::sync::Arc<Run>> {
    static FIXED: std::sync::OnceLock<Option<std::sync::Arc<Run>>> = std::sync::OnceLock::new();
    static FLAWED: std::sync::OnceLock<Option<std::sync::Arc<Run>>> = std::sync::OnceLock::new();
    let cell = if variant == "fixed" { &FIXED } else { &FLAWED };
    cell.get_or_init(|| fresh_run(variant).map(std::sync::Arc::new))
        .clone()
}

/// Serves one variant and runs the scenario against it with the real binary.
fn fresh_run(variant: &str) -> Option<Run> {
    let python = venv_python()?;
    let passwords: BTreeMap<&str, String> = LOGINS
        .iter()
        .map(|(role, var)| (*var, password(role)))
        .collect();
    let server = Django::start(&python, variant, &passwords);
    let cwd = temp_dir();
    let json = cwd.path().join("report.json");
    let scenario = fixture().join("scenario.toml");
    let env: Vec<(&str, &str)> = passwords
        .iter()
        .map(|(var, value)| (*var, value.as_str()))
        .collect();
    let out = lowpriv_in(
        cwd.path(),
        &[
            "run",
            scenario.to_str().unwrap(),
            "--base-url",
            &server.base_url,
            "--json",
            json.to_str().unwrap(),
        ],
        &env,
    );
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    let json_text = std::fs::read_to_string(&json)
        .unwrap_or_else(|e| panic!("no JSON report ({e}); stdout:\n{stdout}\nstderr:\n{stderr}"));
    let report: serde_json::Value = serde_json::from_str(&json_text).expect("report is JSON");
    let run = Run {
        code: out.status.code(),
        stdout,
        stderr,
        json_text,
        report,
        server_log: server.log(),
    };
    // One line for `--nocapture`: what this run cost and found.
    eprintln!(
        "django {variant}: {} coverage {}",
        run.report["summary"], run.report["coverage"]
    );
    for (var, value) in &passwords {
        for (name, output) in [
            ("stdout", &run.stdout),
            ("stderr", &run.stderr),
            ("the JSON report", &run.json_text),
        ] {
            assert!(
                !output.contains(value.as_str()),
                "the value of ${var} appears in {name}"
            );
        }
    }
    Some(run)
}

impl Run {
    fn context(&self) -> String {
        format!(
            "exit {:?}\nstdout:\n{}\nstderr:\n{}\nserver log:\n{}",
            self.code, self.stdout, self.stderr, self.server_log
        )
    }

    /// The checks both variants share: a conclusive run, every identity logged in the way
    /// the scenario says, a matrix that really saw the admin.
    fn assert_conclusive_and_logged_in(&self) {
        assert_ne!(self.code, Some(3), "inconclusive:\n{}", self.context());
        let identities = self.report["identities"].as_array().unwrap();
        let names: Vec<&str> = identities
            .iter()
            .map(|i| i["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["anonymous", "member", "finance", "hr", "superuser"],
            "{}",
            self.context()
        );
        for identity in identities {
            assert_eq!(
                identity["logged_in"],
                true,
                "{identity}\n{}",
                self.context()
            );
            if identity["name"] != "anonymous" {
                assert_eq!(identity["login"], "form", "{identity}");
            }
        }
        // What Django answered, as lowpriv classified it.
        let cases = [
            ("superuser", "/admin/vault/document/", "allowed"),
            ("hr", "/admin/hr/employee/", "allowed"),
            ("finance", "/admin/finance/expense/", "allowed"),
            // Staff without the model permission: Django's 403.
            ("hr", "/admin/finance/expense/", "denied"),
            ("finance", "/admin/vault/document/", "denied"),
            // Anonymous and non-staff: a redirect to /admin/login/?next=...
            ("anonymous", "/admin/", "denied"),
            ("member", "/admin/", "denied"),
            ("member", "/me/", "allowed"),
            ("anonymous", "/me/", "denied"),
        ];
        for (identity, path, outcome) in cases {
            assert_eq!(
                outcome_at(&self.report, identity, path).as_deref(),
                Some(outcome),
                "{identity} GET {path}\n{}",
                self.context()
            );
        }
    }

    fn findings(&self) -> Vec<(String, String, String)> {
        self.report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["kind"].as_str().unwrap_or("").to_string(),
                    f["identity"].as_str().unwrap_or("").to_string(),
                    f["template"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }
}

#[test]
fn django_admin_fixed_variant_passes_with_no_finding() {
    let Some(run) = run("fixed") else { return };
    run.assert_conclusive_and_logged_in();
    assert_eq!(run.code, Some(0), "{}", run.context());
    assert_eq!(run.report["summary"]["verdict"], "pass");
    assert_eq!(
        run.findings(),
        Vec::<(String, String, String)>::new(),
        "{}",
        run.context()
    );
    // The data classes were really seen where they belong, so "no finding" means something.
    for (identity, path, class) in [
        ("hr", "/admin/hr/employee/", "salary"),
        ("superuser", "/admin/hr/employee/", "salary"),
        (
            "superuser",
            "/admin/vault/document/1/change/",
            "board-minutes",
        ),
    ] {
        assert!(
            sees(&run.report, identity, path, class),
            "{identity} should see {class} on {path}\n{}",
            run.context()
        );
    }
    // The actions rules were judged on forms really shown: each admitted identity was offered
    // its own change form, and a GET search form stays read-only under the same globs.
    let change = "/admin/hr/employee/{id}/change/";
    assert_eq!(offered(&run.report, "POST", change), ["hr", "superuser"]);
    assert_eq!(
        offered(&run.report, "POST", "/admin/finance/expense/{id}/change/"),
        ["finance", "superuser"]
    );
    assert_eq!(
        action_kind(&run.report, "GET", "/admin/hr/employee/"),
        "read-only"
    );
    assert_eq!(action_kind(&run.report, "POST", change), "write-capable");
}

/// The identities shown (in a page) the action `method template`, per the action matrix.
fn offered(report: &serde_json::Value, method: &str, template: &str) -> Vec<String> {
    action_row(report, method, template)["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["seen_in"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s != "openapi")
        })
        .map(|c| c["identity"].as_str().unwrap().to_string())
        .collect()
}

fn action_kind(report: &serde_json::Value, method: &str, template: &str) -> String {
    action_row(report, method, template)["kind"]
        .as_str()
        .unwrap()
        .to_string()
}

fn action_row<'r>(
    report: &'r serde_json::Value,
    method: &str,
    template: &str,
) -> &'r serde_json::Value {
    report["action_matrix"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["method"] == method && r["template"] == template)
        .unwrap_or_else(|| {
            panic!(
                "no action row {method} {template}: {}",
                report["action_matrix"]
            )
        })
}

#[test]
fn django_admin_flawed_variant_reports_exactly_the_planted_permission() {
    let Some(run) = run("flawed") else { return };
    run.assert_conclusive_and_logged_in();
    assert_eq!(run.code, Some(1), "{}", run.context());
    assert_eq!(run.report["summary"]["verdict"], "fail");
    // The planted mistake, once per template: finance reaches the HR admin (the app index,
    // the changelist, each employee's change and history pages) and sees salaries on the
    // changelist and change pages. Django's sort orders (`o`) and the list's filters carried
    // to a change page (`_changelist_filters`) only present, so they are the same rows.
    let employee = "/admin/hr/employee";
    let change = format!("{employee}/{{id}}/change/");
    let history = format!("{employee}/{{id}}/history/");
    let mut expected: Vec<(String, String, String)> = Vec::new();
    for template in [
        "/admin/hr/".to_string(),
        format!("{employee}/"),
        change.clone(),
        history.clone(),
    ] {
        expected.push(("rule-violation".into(), "finance".into(), template));
    }
    for template in [format!("{employee}/"), change.clone()] {
        expected.push(("data-exposure".into(), "finance".into(), template));
    }
    expected.sort();
    // ... and nothing else.
    let mut found = run.findings();
    found.sort();
    found.dedup();
    assert_eq!(found, expected, "{}", run.context());
    for finding in run.report["findings"].as_array().unwrap() {
        assert_eq!(finding["severity"], "high", "{finding}");
        if finding["kind"] == "data-exposure" {
            assert_eq!(finding["data"], serde_json::json!(["salary"]), "{finding}");
        }
    }
    assert!(sees(
        &run.report,
        "finance",
        "/admin/hr/employee/",
        "salary"
    ));
    // finance may read the employees (the planted grant) but not edit them: Django shows it
    // the record without a button, which is no write action offered, so no action-exposure.
    assert_eq!(
        offered(&run.report, "POST", "/admin/hr/employee/{id}/change/"),
        ["hr", "superuser"]
    );
}

/// Whether `identity` was allowed on `path` and saw data class `class` there.
fn sees(report: &serde_json::Value, identity: &str, path: &str, class: &str) -> bool {
    report["observations"].as_array().unwrap().iter().any(|o| {
        o["identity"] == identity
            && o["outcome"] == "allowed"
            && o["url"]
                .as_str()
                .and_then(|u| url::Url::parse(u).ok())
                .is_some_and(|u| u.path() == path && u.query().is_none())
            && o["data"].get(class).is_some()
    })
}

/// Django's own forms with password fields (a password change, a new user), opened by users
/// who may open them, are pages they are allowed on, not login pages: lowpriv once took any
/// 200 page with a password field for a login page and recorded "denied" there, a false cell
/// and a place where a real exposure would have read as a refusal. A login form asks for one
/// password; these ask for two or three.
#[test]
fn django_admin_password_forms_are_allowed_for_who_may_open_them() {
    let Some(run) = run("fixed") else { return };
    run.assert_conclusive_and_logged_in();
    for (identity, path) in [
        ("finance", "/admin/password_change/"),
        ("hr", "/admin/password_change/"),
        ("superuser", "/admin/password_change/"),
        ("superuser", "/admin/auth/user/add/"),
        ("superuser", "/admin/auth/user/1/password/"),
    ] {
        assert_eq!(
            outcome_at(&run.report, identity, path).as_deref(),
            Some("allowed"),
            "{identity} GET {path}"
        );
    }
}

/// `lowpriv init` on a Site nobody here wrote: it finds the admin's login form (with Django's
/// CSRF field), sends Django nothing it refuses,
/// and its draft, with staff credentials in the variables it names, logs both identities in
/// through Django's own form.
#[test]
fn init_drafts_a_scenario_for_the_django_admin_whose_run_logs_staff_in() {
    let Some(python) = venv_python() else { return };
    let passwords: BTreeMap<&str, String> = LOGINS
        .iter()
        .map(|(role, var)| (*var, password(role)))
        .collect();
    let server = Django::start(&python, "fixed", &passwords);
    let dir = temp_dir();
    let draft = dir.path().join("draft.toml");
    let out = lowpriv_in(
        dir.path(),
        &["init", &server.base_url, "--out", draft.to_str().unwrap()],
        &[],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(
            "found: login form: /admin/login/ (fields `username`, `password`, CSRF field `csrfmiddlewaretoken`"
        ),
        "{stdout}"
    );
    // Django logs what it refuses: a POST without its CSRF token would be a `Forbidden`.
    let log = server.log();
    assert!(
        log.contains("Not Found: /openapi.json"),
        "init looked: {log}"
    );
    assert!(!log.contains("Forbidden"), "{log}");

    let check = lowpriv_in(dir.path(), &["check", draft.to_str().unwrap()], &[]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    let toml = std::fs::read_to_string(&draft)
        .unwrap()
        .replace("rate_limit = 10\n", "rate_limit = 1000\n")
        // The logins are what this test is about: two links deep reaches the user list, and
        // the whole admin is crawled by the tests above.
        .replace("seeds = [\"/\"]\n", "seeds = [\"/\"]\nmax_depth = 2\n");
    std::fs::write(&draft, toml).unwrap();
    let env = [
        ("LOWPRIV_MEMBER_USERNAME", "hanna.hr".to_string()),
        (
            "LOWPRIV_MEMBER_PASSWORD",
            passwords["DJ_HR_PASSWORD"].clone(),
        ),
        ("LOWPRIV_ADMINISTRATOR_USERNAME", "olivia.owner".to_string()),
        (
            "LOWPRIV_ADMINISTRATOR_PASSWORD",
            passwords["DJ_ADMIN_PASSWORD"].clone(),
        ),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let json = dir.path().join("report.json");
    let run = lowpriv_in(
        dir.path(),
        &[
            "run",
            draft.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ],
        &env,
    );
    let said = text(&run.stdout) + &text(&run.stderr);
    let report = read_json(&json);
    for identity in report["identities"].as_array().unwrap() {
        assert_eq!(identity["logged_in"], true, "{identity}\n{said}");
    }
    assert_eq!(
        outcome_at(&report, "administrator", "/admin/auth/user/").as_deref(),
        Some("allowed"),
        "the superuser's session is real\n{said}"
    );
    for (_, secret) in &env {
        if secret.starts_with("dj-") {
            assert!(!said.contains(secret));
            assert!(!std::fs::read_to_string(&json).unwrap().contains(secret));
        }
    }
}
