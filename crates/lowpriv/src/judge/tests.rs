//! Table cases for the judge: hand-made observations against a small scenario.

use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::observe::{DataHit, Observation, Outcome};
use crate::scenario::{self, ExpectRule};
use crate::session::LoginStatus;
use crate::verdict::{self, Verdict};

/// The judge and the verdict together, as a run uses them: these tests speak of both.
struct Judgement {
    findings: Vec<Finding>,
    verdict: Verdict,
    reasons: Vec<String>,
}

fn evaluate(
    scenario: &scenario::Scenario,
    health: &[IdentityHealth],
    observations: &[Observation],
    fail_on: Severity,
    today: jiff::civil::Date,
) -> Judgement {
    let health = RunHealth {
        identities: health.to_vec(),
        stopped: None,
    };
    let judged = super::evaluate(scenario, &health, observations, today);
    let decision = verdict::decide(&judged, observations, fail_on, None, false);
    Judgement {
        findings: judged.findings,
        verdict: decision.verdict,
        reasons: decision.reasons,
    }
}

const SCENARIO: &str = r#"
[site]
name = "t"
base_url = "http://site.test"
audience = "team"
public = ["/healthz"]
last_review = 2026-01-01
review_every_days = 30
expires = 2026-06-01

[[identity]]
name = "anon"
tier = "external"
rank = 0

[[identity]]
name = "carol"
tier = "team"
rank = 10

[[identity]]
name = "bob"
tier = "team"
rank = 50

[[identity]]
name = "alice"
tier = "owner"
rank = 100

[data.salary]
json_keys = ["salary"]

[data.canary]
text = "CANARY-ALICE"
belongs_to = "alice"

[data.db]
env = "DB_PASSWORD"

[[expect]]
paths = ["/admin/**"]
allow = ["owner"]

[[expect]]
paths = ["/hr/**"]
min_rank = 50

[[expect]]
data = "salary"
visible_to = ["bob", "alice"]
paths = ["/api/**"]

[[expect]]
data = "canary"
visible_to = ["bob"]
"#;

fn scenario() -> scenario::Scenario {
    let env = |var: &str| (var == "DB_PASSWORD").then(|| "db-secret-value-1".to_string());
    scenario::parse(SCENARIO, Path::new("t.toml"), &env).expect("test scenario parses")
}

fn obs(identity: &str, path: &str, outcome: Outcome) -> Observation {
    Observation {
        identity: identity.to_string(),
        method: "GET".to_string(),
        url: format!("http://site.test{path}"),
        template: path.to_string(),
        status: Some(match outcome {
            Outcome::Allowed => 200,
            Outcome::Denied => 403,
            Outcome::Hidden => 404,
            _ => 500,
        }),
        outcome,
        reason: String::new(),
        content_type: None,
        bytes: 0,
        data: BTreeMap::new(),
        json_paths: Vec::new(),
        fingerprint: Some("f".to_string()),
        shown: true,
        truncated: false,
        same_as: None,
    }
}

fn with_data(mut o: Observation, class: &str, kind: &'static str) -> Observation {
    o.data.insert(
        class.to_string(),
        DataHit {
            kind,
            count: 1,
            examples: vec!["x…".to_string()],
        },
    );
    o
}

fn healthy(n: usize) -> Vec<IdentityHealth> {
    vec![
        IdentityHealth {
            login: LoginStatus::LoggedIn,
            truncated: None,
            lost: None,
        };
        n
    ]
}

/// Observations that satisfy every rule, so a case can add one thing and see what it does.
fn baseline() -> Vec<Observation> {
    vec![
        obs("alice", "/admin/users", Outcome::Allowed),
        obs("carol", "/admin/users", Outcome::Hidden),
        obs("bob", "/hr/list", Outcome::Allowed),
        obs("carol", "/hr/list", Outcome::Denied),
    ]
}

fn judge(extra: Vec<Observation>, fail_on: Severity) -> Judgement {
    let mut all = baseline();
    all.extend(extra);
    evaluate(
        &scenario(),
        &healthy(4),
        &all,
        fail_on,
        jiff::civil::date(2026, 1, 15),
    )
}

fn kinds(j: &Judgement) -> Vec<(FindingKind, String, String)> {
    j.findings
        .iter()
        .map(|f| {
            (
                f.kind,
                f.identity.clone().unwrap_or_default(),
                f.template.clone().unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn the_baseline_passes_over_what_it_observed() {
    let j = judge(vec![], Severity::High);
    assert_eq!(j.verdict, Verdict::Pass, "{:?}", j.findings);
    assert!(j.findings.is_empty());
    assert!(
        j.reasons[0].contains("2 allowed and 2 refused"),
        "{:?}",
        j.reasons
    );
}

#[test]
fn access_rules_admit_by_tier_and_by_rank() {
    use FindingKind::*;
    let cases = [
        // (identity, path, expected finding)
        ("bob", "/admin/users", Some(RuleViolation)), // team is not owner
        ("alice", "/admin/x", None),                  // owner tier admitted
        ("carol", "/hr/list", Some(RuleViolation)),   // rank 10 < 50
        ("alice", "/hr/list", None),                  // rank 100 >= 50
    ];
    for (identity, path, expected) in cases {
        let j = judge(vec![obs(identity, path, Outcome::Allowed)], Severity::High);
        let got: Vec<_> = kinds(&j)
            .into_iter()
            .filter(|(_, i, t)| i == identity && t == path)
            .map(|(k, _, _)| k)
            .collect();
        assert_eq!(
            got,
            expected.into_iter().collect::<Vec<_>>(),
            "{identity} {path}"
        );
    }
}

#[test]
fn denied_and_hidden_satisfy_a_rule_and_errors_are_never_judged() {
    let j = judge(
        vec![obs("bob", "/admin/users", Outcome::Denied)],
        Severity::High,
    );
    assert_eq!(j.verdict, Verdict::Pass);
    let j = judge(
        vec![obs("bob", "/admin/users", Outcome::Error)],
        Severity::High,
    );
    assert_eq!(j.verdict, Verdict::Inconclusive);
    assert_eq!(
        kinds(&j),
        vec![(
            FindingKind::Inconclusive,
            "bob".into(),
            "/admin/users".into()
        )]
    );
}

#[test]
fn audience_leaks_spare_public_paths() {
    let j = judge(
        vec![
            obs("anon", "/healthz", Outcome::Allowed),
            obs("anon", "/reports", Outcome::Allowed),
        ],
        Severity::High,
    );
    assert_eq!(
        kinds(&j),
        vec![(FindingKind::AudienceLeak, "anon".into(), "/reports".into())]
    );
}

#[test]
fn data_rules_apply_on_their_paths_only() {
    let j = judge(
        vec![
            with_data(
                obs("carol", "/api/people", Outcome::Allowed),
                "salary",
                "json_keys",
            ),
            with_data(obs("carol", "/me", Outcome::Allowed), "salary", "json_keys"),
            with_data(
                obs("bob", "/api/people", Outcome::Allowed),
                "salary",
                "json_keys",
            ),
        ],
        Severity::High,
    );
    assert_eq!(
        kinds(&j),
        vec![(
            FindingKind::DataExposure,
            "carol".into(),
            "/api/people".into()
        )]
    );
}

#[test]
fn canaries_cross_identities_unless_a_rule_lets_them() {
    let j = judge(
        vec![
            with_data(obs("carol", "/r/1", Outcome::Allowed), "canary", "text"),
            with_data(obs("bob", "/r/1", Outcome::Allowed), "canary", "text"),
            with_data(obs("alice", "/r/1", Outcome::Allowed), "canary", "text"),
        ],
        Severity::High,
    );
    // The rule on the canary speaks for it: carol is not in `visible_to`; alice owns it.
    assert_eq!(
        kinds(&j),
        vec![(FindingKind::DataExposure, "carol".into(), "/r/1".into())]
    );
    // Without a rule, the automatic check catches it.
    let mut scenario = scenario();
    scenario
        .expects
        .retain(|e| !matches!(&e.rule, ExpectRule::Data { data, .. } if data == "canary"));
    let mut all = baseline();
    all.push(with_data(
        obs("bob", "/r/1", Outcome::Allowed),
        "canary",
        "text",
    ));
    all.push(with_data(
        obs("alice", "/r/1", Outcome::Allowed),
        "canary",
        "text",
    ));
    let j = evaluate(
        &scenario,
        &healthy(4),
        &all,
        Severity::High,
        jiff::civil::date(2026, 1, 15),
    );
    assert_eq!(
        kinds(&j),
        vec![(FindingKind::CrossIdentityData, "bob".into(), "/r/1".into())]
    );
}

#[test]
fn secrets_are_critical_in_any_answer() {
    let j = judge(
        vec![with_data(
            obs("carol", "/err", Outcome::Denied),
            "db",
            "env",
        )],
        Severity::Critical,
    );
    assert_eq!(
        kinds(&j),
        vec![(FindingKind::SecretExposed, "carol".into(), "/err".into())]
    );
    assert_eq!(j.findings[0].severity, Severity::Critical);
    assert_eq!(j.verdict, Verdict::Fail);
}

#[test]
fn default_secret_rules_raise_secret_exposed_under_their_own_name() {
    // Nothing in the scenario declares these: a default-on secret rule's class is found,
    // a personal-data builtin's never is (it only runs when declared).
    let j = judge(
        vec![
            with_data(
                obs("carol", "/js", Outcome::Allowed),
                "stripe_key",
                "builtin",
            ),
            with_data(obs("carol", "/me", Outcome::Allowed), "phone", "builtin"),
        ],
        Severity::Critical,
    );
    assert_eq!(
        kinds(&j),
        vec![(FindingKind::SecretExposed, "carol".into(), "/js".into())]
    );
    assert_eq!(j.findings[0].data, ["stripe_key"]);
    assert!(
        j.findings[0].detail.contains("on by default"),
        "{}",
        j.findings[0].detail
    );
}

#[test]
fn heuristics_yield_to_declarations() {
    // Inverted privilege where no rule speaks...
    let j = judge(
        vec![
            obs("carol", "/reviews", Outcome::Allowed),
            obs("bob", "/reviews", Outcome::Denied),
        ],
        Severity::High,
    );
    assert_eq!(
        kinds(&j),
        vec![(
            FindingKind::InvertedPrivilege,
            "carol".into(),
            "/reviews".into()
        )]
    );
    assert_eq!(j.verdict, Verdict::Pass, "medium is below --fail-on high");
    // ...but where a rule covers the path, the rule's answer stands (bob is admitted there).
    let j = judge(
        vec![
            obs("alice", "/hr/reviews", Outcome::Denied),
            obs("bob", "/hr/reviews", Outcome::Allowed),
        ],
        Severity::Medium,
    );
    assert_eq!(j.verdict, Verdict::Pass, "{:?}", j.findings);
}

#[test]
fn unlinked_reachable_needs_an_unshown_request_and_the_same_content() {
    let mut replayed = obs("carol", "/payroll", Outcome::Allowed);
    replayed.shown = false;
    replayed.same_as = Some("bob".to_string());
    let mut shown = replayed.clone();
    shown.shown = true;
    let mut different = replayed.clone();
    different.same_as = None;
    let j = judge(vec![replayed], Severity::Medium);
    assert_eq!(
        kinds(&j),
        vec![(
            FindingKind::UnlinkedReachable,
            "carol".into(),
            "/payroll".into()
        )]
    );
    assert_eq!(j.verdict, Verdict::Fail);
    assert!(judge(vec![shown], Severity::Medium).findings.is_empty());
    assert!(judge(vec![different], Severity::Medium).findings.is_empty());
}

#[test]
fn review_and_expiry_dates_are_judged_against_today() {
    let all = baseline();
    let j = evaluate(
        &scenario(),
        &healthy(4),
        &all,
        Severity::High,
        jiff::civil::date(2026, 7, 1),
    );
    let found: Vec<_> = j.findings.iter().map(|f| f.kind).collect();
    assert_eq!(
        found,
        vec![FindingKind::SiteExpired, FindingKind::ReviewOverdue]
    );
}

#[test]
fn a_failed_login_or_a_cut_crawl_is_never_a_pass() {
    let all = baseline();
    let mut health = healthy(4);
    health[1].login = LoginStatus::Failed("wrong password".into());
    let j = evaluate(
        &scenario(),
        &health,
        &all,
        Severity::High,
        jiff::civil::date(2026, 1, 15),
    );
    assert_eq!(j.verdict, Verdict::Inconclusive);
    assert_eq!(j.findings[0].kind, FindingKind::LoginFailed);
    let mut health = healthy(4);
    health[3].truncated = Some("max_requests (5) reached".into());
    let j = evaluate(
        &scenario(),
        &health,
        &all,
        Severity::High,
        jiff::civil::date(2026, 1, 15),
    );
    assert_eq!(j.verdict, Verdict::Inconclusive);
}

#[test]
fn nothing_observed_is_never_a_pass() {
    let j = evaluate(
        &scenario(),
        &healthy(4),
        &[],
        Severity::High,
        jiff::civil::date(2026, 1, 15),
    );
    assert_eq!(j.verdict, Verdict::Inconclusive);
    assert!(
        j.reasons.iter().any(|r| r.contains("nothing was observed")),
        "{:?}",
        j.reasons
    );
}

#[test]
fn a_secret_in_a_cut_off_body_is_still_reported() {
    let mut cut = with_data(obs("carol", "/big", Outcome::Error), "db", "env");
    cut.truncated = true;
    let j = judge(vec![cut], Severity::High);
    assert_eq!(j.verdict, Verdict::Inconclusive);
    let kinds: Vec<FindingKind> = j.findings.iter().map(|f| f.kind).collect();
    assert!(kinds.contains(&FindingKind::SecretExposed), "{kinds:?}");
    assert!(kinds.contains(&FindingKind::Inconclusive), "{kinds:?}");
}

#[test]
fn an_error_budget_tolerates_a_few_errors_off_the_rules_and_none_on_them() {
    let mut scenario = scenario();
    scenario.crawl.error_budget_percent = 25;
    let mut all = baseline();
    all.push(obs("alice", "/logo.png", Outcome::Error));
    let j = evaluate(
        &scenario,
        &healthy(4),
        &all,
        Severity::High,
        jiff::civil::date(2026, 1, 15),
    );
    assert_eq!(j.verdict, Verdict::Pass, "{:?}", j.reasons);
    assert_eq!(j.findings.len(), 1);
    assert_eq!(j.findings[0].severity, Severity::Info, "listed, not hidden");
    assert!(j.findings[0].detail.contains("tolerated"));
    // Over the share: inconclusive.
    all.push(obs("bob", "/logo.png", Outcome::Error));
    let j = evaluate(
        &scenario,
        &healthy(4),
        &all,
        Severity::High,
        jiff::civil::date(2026, 1, 15),
    );
    assert_eq!(j.verdict, Verdict::Inconclusive);
    // On a rule's path: never tolerated.
    let mut all = baseline();
    all.push(obs("bob", "/admin/users", Outcome::Error));
    let j = evaluate(
        &scenario,
        &healthy(4),
        &all,
        Severity::High,
        jiff::civil::date(2026, 1, 15),
    );
    assert_eq!(j.verdict, Verdict::Inconclusive);
    assert!(
        j.reasons[0].contains("on paths an [[expect]] rule covers"),
        "{:?}",
        j.reasons
    );
}
