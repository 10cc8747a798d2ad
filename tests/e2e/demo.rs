//! `lowpriv demo`: the embedded Site, run by the real binary, finds every planted flaw and
//! passes once they are fixed, over real HTTP on 127.0.0.1.

use crate::common::*;

const IDENTITIES: [&str; 5] = ["anonymous", "dave", "carol", "bob", "alice"];

#[test]
fn demo_reports_every_planted_flaw_and_nothing_on_correct_endpoints() {
    let dir = dir_with_approved_snapshots();
    let json = dir.path().join("out.json");
    let out = lowpriv_in(dir.path(), &["demo", "--json", json.to_str().unwrap()], &[]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    let report = read_json(&json);
    assert_eq!(report["schema"], 1);
    assert_eq!(report["summary"]["verdict"], "fail");

    for identity in report["identities"].as_array().unwrap() {
        assert_eq!(identity["logged_in"], true, "{identity}");
    }
    assert_eq!(report["identities"].as_array().unwrap().len(), 5);

    // One line per row of the flaw table in docs/demo-site.md.
    let expected = [
        ("rule-violation", "carol", "/admin/users"),
        ("rule-violation", "bob", "/admin/users"),
        ("unlinked-reachable", "carol", "/payroll/summary"),
        ("data-exposure", "carol", "/api/employees/{id}"),
        ("data-exposure", "dave", "/api/employees/{id}"),
        ("cross-identity-data", "carol", "/api/employees/{id}"),
        ("cross-identity-data", "dave", "/api/employees/{id}"),
        ("audience-leak", "dave", "/reports/quarterly"),
        ("data-exposure", "carol", "/api/directory"),
        ("data-exposure", "dave", "/api/directory"),
        ("audience-leak", "anonymous", "/api/admin/stats"),
        ("inverted-privilege", "carol", "/hr/reviews"),
        // The data browser's unfiltered export.
        ("rule-violation", "carol", "/data/employees.csv"),
        ("rule-violation", "dave", "/data/employees.csv"),
        ("cross-identity-data", "carol", "/data/employees.csv"),
        ("cross-identity-data", "dave", "/data/employees.csv"),
        ("cross-identity-data", "bob", "/data/employees.csv"),
        ("audience-leak", "dave", "/data/employees.csv"),
        // The team page reads the HR API with its service token; the form is shown to all.
        ("source-bypass", "carol", "/team"),
        ("action-exposure", "carol", "/team/compensation"),
        // The GraphQL Employee resolver answers the pay fields carol's schema hides.
        (
            "data-exposure",
            "carol",
            "/graphql?query.employees={query.employees}",
        ),
        (
            "data-exposure",
            "carol",
            "/graphql?query.employee={query.employee}",
        ),
    ];
    for (kind, identity, template) in expected {
        assert!(
            has_finding(&report, kind, identity, template),
            "missing {kind} for {identity} on {template}; findings: {:#?}",
            report["findings"]
        );
    }
    // The leaked runtime secret, for every identity that can load the bundle.
    for identity in IDENTITIES {
        assert!(
            has_finding(&report, "secret-exposed", identity, "/static/app.js"),
            "secret-exposed for {identity}"
        );
    }
    let secret = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "secret-exposed")
        .unwrap();
    assert_eq!(secret["data"][0], "db-password");

    // Correct endpoints: observed, and no finding.
    for template in ["/api/team/metrics", "/api/admin/audit"] {
        let on_it: Vec<_> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["template"] == template)
            .collect();
        assert!(on_it.is_empty(), "findings on {template}: {on_it:#?}");
    }
    // /api/team/metrics is referenced only from the JS bundle: found, and team-only.
    assert_eq!(
        outcomes(&report, "carol", "/api/team/metrics"),
        vec!["allowed"]
    );
    assert_eq!(
        outcomes(&report, "dave", "/api/team/metrics"),
        vec!["denied"]
    );
    // /api/admin/audit answers 404 to non-owners while alice gets it: hidden.
    assert_eq!(
        outcomes(&report, "alice", "/api/admin/audit"),
        vec!["allowed"]
    );
    assert_eq!(
        outcomes(&report, "carol", "/api/admin/audit"),
        vec!["hidden"]
    );
    // /api/admin/stats is listed only in the OpenAPI document; anonymous found it there itself.
    let stats = report["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["identity"] == "anonymous" && o["template"] == "/api/admin/stats")
        .expect("OpenAPI-only endpoint observed");
    assert_eq!(stats["outcome"], "allowed");
    assert_eq!(stats["shown"], true);

    // The data browser's thousands of URLs are sampled, and the run stays conclusive: every
    // template found was observed by every identity whose crawl found it.
    let coverage = &report["coverage"];
    assert!(coverage.get("unobserved").is_none(), "{coverage}");
    assert!(
        coverage["templates_found"].as_u64().unwrap() >= 40,
        "{coverage}"
    );
    assert!(
        coverage["sampled_out"].as_u64().unwrap() > 500,
        "{coverage}"
    );
    assert!(stdout.contains("coverage: "), "{stdout}");

    // Traps untouched.
    assert!(
        stdout.contains("0 logout hits · 0 delete hits · 0 credentials sent to the foreign origin"),
        "{stdout}"
    );
    assert_eq!(outcomes(&report, "carol", "/logout"), vec!["skipped"]);
    // The terminal report shows the matrix, the findings and the verdict.
    assert!(stdout.contains("Access matrix"));
    assert!(stdout.contains("verdict: FAIL (exit 1)"));

    // The exposure drifted from the approved (fixed) snapshot, and each flaw's widening is
    // named by its template and identity.
    assert_eq!(report["snapshot"]["status"], "drift");
    let widening: Vec<String> = report["snapshot"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["direction"] == "widening")
        .map(|c| {
            format!(
                "{} {} {}",
                c["identity"].as_str().unwrap(),
                c["template"].as_str().unwrap(),
                c["to"].as_str().unwrap()
            )
        })
        .collect();
    for expected in [
        "carol /admin/users allowed",
        "bob /admin/users allowed",
        "carol /payroll/summary allowed",
        "carol /api/employees/{id} sees salary",
        "dave /api/employees/{id} sees alice-private",
        "dave /reports/quarterly allowed",
        "dave /api/directory sees salary",
        "anonymous /api/admin/stats allowed",
        "carol /hr/reviews allowed",
        "anonymous /static/app.js sees db-password",
        "dave /data/employees.csv allowed",
        "carol /data/employees.csv sees alice-private",
        "carol /graphql?query.employees={query.employees} sees salary",
    ] {
        assert!(
            widening.contains(&expected.to_string()),
            "{expected} not in {widening:#?}"
        );
    }
    assert!(
        stdout.contains("+ dave: GET /reports/quarterly denied → allowed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+GET /reports/quarterly · dave · allowed"),
        "{stdout}"
    );
    // The approved snapshot is untouched; the drift waits in a pending file.
    let approved = std::fs::read_to_string(dir.path().join("snapshots/acme-payroll.snap")).unwrap();
    assert_eq!(
        approved,
        std::fs::read_to_string(repo().join("snapshots/acme-payroll.snap")).unwrap()
    );
    assert!(dir.path().join("snapshots/acme-payroll.snap.new").exists());
}

#[test]
fn demo_fixed_passes_over_a_matrix_it_really_observed() {
    let dir = dir_with_approved_snapshots();
    let json = dir.path().join("fixed.json");
    let out = lowpriv_in(
        dir.path(),
        &["demo", "--fixed", "--json", json.to_str().unwrap()],
        &[],
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    let report = read_json(&json);
    assert_eq!(report["summary"]["verdict"], "pass");
    assert!(
        report["findings"].as_array().unwrap().is_empty(),
        "{:#?}",
        report["findings"]
    );
    for identity in report["identities"].as_array().unwrap() {
        assert_eq!(identity["logged_in"], true);
    }
    // A pass is never a pass over nothing: each identity is allowed where the policy admits it.
    assert_eq!(
        outcome_at(&report, "alice", "/admin/users").as_deref(),
        Some("allowed")
    );
    assert_eq!(
        outcome_at(&report, "carol", "/api/employees/3").as_deref(),
        Some("allowed")
    );
    assert_eq!(
        outcome_at(&report, "bob", "/payroll/summary").as_deref(),
        Some("allowed")
    );
    assert_eq!(
        outcome_at(&report, "carol", "/reports/quarterly").as_deref(),
        Some("allowed")
    );
    assert_eq!(
        outcome_at(&report, "dave", "/api/me").as_deref(),
        Some("allowed")
    );
    // ...and denied where it does not.
    assert_eq!(
        outcome_at(&report, "carol", "/admin/users").as_deref(),
        Some("denied")
    );
    assert_eq!(
        outcome_at(&report, "dave", "/reports/quarterly").as_deref(),
        Some("denied")
    );
    assert_eq!(
        outcome_at(&report, "anonymous", "/api/admin/stats").as_deref(),
        Some("denied")
    );
    // The data browser: each table as its rule says, every format alike.
    for (identity, template, outcome) in [
        ("alice", "/data/audit_log", "allowed"),
        ("bob", "/data/audit_log.json", "denied"),
        ("bob", "/data/employees.csv", "allowed"),
        ("carol", "/data/employees.csv", "denied"),
        ("dave", "/data/employees.csv", "denied"),
        ("carol", "/data/projects", "allowed"),
        ("dave", "/data", "denied"),
        // The GraphQL rows: generated queries, each answered as every identity.
        (
            "bob",
            "/graphql?query.employees={query.employees}",
            "allowed",
        ),
        (
            "dave",
            "/graphql?query.employees={query.employees}",
            "denied",
        ),
        (
            "anonymous",
            "/graphql?query.payroll={query.payroll}",
            "denied",
        ),
    ] {
        let got = outcomes(&report, identity, template);
        assert!(
            !got.is_empty() && got.iter().all(|o| o == outcome),
            "{identity} {template}: {got:?}"
        );
    }
    let allowed = report["summary"]["outcomes"]["allowed"].as_u64().unwrap();
    assert!(allowed >= 20, "only {allowed} allowed observations");
    assert!(stdout.contains("0 logout hits · 0 delete hits · 0 credentials"));
    assert!(stdout.contains("verdict: PASS (exit 0)"));
    assert_eq!(
        report["snapshot"]["status"], "match",
        "{}",
        report["snapshot"]
    );
    assert!(!dir.path().join("snapshots/acme-payroll.snap.new").exists());
}
