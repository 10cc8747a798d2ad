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
includes = ["carol"]

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
        found: None,
    }
}

fn with_data(mut o: Observation, class: &str, kind: &'static str) -> Observation {
    o.data.insert(
        class.to_string(),
        DataHit {
            kind,
            count: 1,
            examples: vec!["x…".to_string()],
            values: vec![],
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
            obs("anon", "/robots.txt", Outcome::Allowed),
            obs("anon", "/robots.txt/not-it", Outcome::Allowed),
            obs("anon", "/reports", Outcome::Allowed),
        ],
        Severity::High,
    );
    assert_eq!(
        kinds(&j),
        vec![
            (FindingKind::AudienceLeak, "anon".into(), "/reports".into()),
            (
                FindingKind::AudienceLeak,
                "anon".into(),
                "/robots.txt/not-it".into()
            )
        ],
        "robots.txt is for every crawler; a path under it is not"
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
    // The rule on the canary speaks for it: carol is not in `visible_to` (a data-exposure,
    // and a cross-identity-data as well, since the canary is alice's); bob is admitted by the
    // rule; alice owns it.
    assert_eq!(
        kinds(&j),
        vec![
            (FindingKind::DataExposure, "carol".into(), "/r/1".into()),
            (
                FindingKind::CrossIdentityData,
                "carol".into(),
                "/r/1".into()
            ),
        ]
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

/// The test scenario with extra TOML appended (more classes, rules, acceptances).
fn scenario_with(extra: &str) -> scenario::Scenario {
    let env = |var: &str| (var == "DB_PASSWORD").then(|| "db-secret-value-1".to_string());
    let text = format!("{SCENARIO}\n{extra}");
    match scenario::parse(&text, Path::new("t.toml"), &env) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

fn judge_in(scenario: &scenario::Scenario, extra: Vec<Observation>) -> Judgement {
    let mut all = baseline();
    all.extend(extra);
    evaluate(
        scenario,
        &healthy(4),
        &all,
        Severity::Info,
        jiff::civil::date(2026, 1, 15),
    )
}

/// One case per kind: what fires it, and the same shape that must stay silent. The table
/// must name every kind the judge raises from observations.
#[test]
fn every_kind_fires_on_its_case_and_stays_silent_on_its_near_miss() {
    let s = scenario();
    let allowed = |who: &str, path: &str| obs(who, path, Outcome::Allowed);
    let unshown = |who: &str, path: &str, same_as: &str| {
        let mut o = allowed(who, path);
        o.shown = false;
        o.same_as = Some(same_as.to_string());
        o
    };
    type Case = (FindingKind, Vec<Observation>, Vec<Observation>);
    let cases: Vec<Case> = vec![
        (
            FindingKind::RuleViolation,
            vec![allowed("carol", "/admin/x")],
            vec![allowed("alice", "/admin/x")],
        ),
        (
            FindingKind::DataExposure,
            vec![with_data(allowed("carol", "/api/p"), "salary", "json_keys")],
            vec![with_data(allowed("bob", "/api/p"), "salary", "json_keys")],
        ),
        (
            FindingKind::AudienceLeak,
            vec![allowed("anon", "/page")],
            vec![allowed("anon", "/healthz")],
        ),
        (
            FindingKind::SecretExposed,
            vec![with_data(obs("carol", "/e", Outcome::Denied), "db", "env")],
            vec![obs("carol", "/e", Outcome::Denied)],
        ),
        (
            FindingKind::CrossIdentityData,
            vec![with_data(allowed("carol", "/r/2"), "canary", "text")],
            vec![with_data(allowed("alice", "/r/2"), "canary", "text")],
        ),
        (
            FindingKind::InvertedPrivilege,
            vec![allowed("carol", "/q"), obs("bob", "/q", Outcome::Denied)],
            // alice is not declared to include carol: her refusal ranks nobody.
            vec![allowed("carol", "/q"), obs("alice", "/q", Outcome::Denied)],
        ),
        (
            FindingKind::UnlinkedReachable,
            vec![unshown("carol", "/u", "bob"), allowed("bob", "/u")],
            vec![allowed("carol", "/u"), allowed("bob", "/u")],
        ),
    ];
    for (kind, fires, silent) in cases {
        let found = judge_in(&s, fires.clone());
        assert!(
            found.findings.iter().any(|f| f.kind == kind),
            "{kind:?} should fire on {fires:?}: {:?}",
            kinds(&found)
        );
        let quiet = judge_in(&s, silent.clone());
        assert!(
            quiet.findings.iter().all(|f| f.kind != kind),
            "{kind:?} should stay silent on {silent:?}: {:?}",
            kinds(&quiet)
        );
    }
}

#[test]
fn the_scenario_names_the_kinds_the_judge_raises() {
    let names: Vec<&str> = FindingKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(names, scenario::FINDING_KINDS);
}

#[test]
fn visible_to_speaks_for_env_and_builtin_secrets() {
    let s = scenario_with(
        r#"
[data.cloud]
builtin = "aws_access_key"

[[expect]]
data = "db"
visible_to = ["alice"]

[[expect]]
data = "cloud"
visible_to = ["bob"]
"#,
    );
    let seen = |who: &str, class: &str, kind: &'static str| {
        with_data(obs(who, "/cfg", Outcome::Allowed), class, kind)
    };
    // The admitted identity gets nothing, whatever the class's kind.
    let j = judge_in(
        &s,
        vec![seen("alice", "db", "env"), seen("bob", "cloud", "builtin")],
    );
    assert!(j.findings.is_empty(), "{:?}", kinds(&j));
    // Anyone else gets a secret-exposed naming the rule, never also a data-exposure.
    let j = judge_in(
        &s,
        vec![seen("bob", "db", "env"), seen("carol", "cloud", "builtin")],
    );
    assert_eq!(
        kinds(&j),
        vec![
            (FindingKind::SecretExposed, "bob".into(), "/cfg".into()),
            (FindingKind::SecretExposed, "carol".into(), "/cfg".into()),
        ]
    );
    assert!(
        j.findings.iter().all(|f| f.rule.is_some()),
        "{:?}",
        j.findings
    );
    assert!(
        j.findings[0].detail.contains("admits only alice"),
        "{}",
        j.findings[0].detail
    );
    // Without a data rule, an env secret must never appear, even for the owner.
    let j = judge(vec![seen("alice", "db", "env")], Severity::High);
    assert_eq!(
        kinds(&j),
        vec![(FindingKind::SecretExposed, "alice".into(), "/cfg".into())]
    );
}

#[test]
fn a_tier_admits_itself_and_every_more_privileged_tier() {
    let s = scenario_with(
        r#"
[[expect]]
paths = ["/team/**"]
allow = ["team"]
"#,
    );
    // alice is the owner: `team` admits her too; anon (external) is below it.
    let j = judge_in(
        &s,
        vec![
            obs("alice", "/team/board", Outcome::Allowed),
            obs("carol", "/team/board", Outcome::Allowed),
            obs("anon", "/team/board", Outcome::Allowed),
        ],
    );
    let violations: Vec<_> = kinds(&j)
        .into_iter()
        .filter(|(k, ..)| *k == FindingKind::RuleViolation)
        .collect();
    assert_eq!(
        violations,
        vec![(
            FindingKind::RuleViolation,
            "anon".into(),
            "/team/board".into()
        )]
    );
}

#[test]
fn an_inferred_order_ranks_only_nested_roles() {
    // No `includes` anywhere: the order comes from the run. hr is allowed on all but one of
    // what staff is allowed on (nested); ops and hr each have their own corner (not nested).
    let text = r#"
[site]
name = "t"
base_url = "http://site.test"
audience = "external"

[[identity]]
name = "staff"
tier = "team"
rank = 10

[[identity]]
name = "hr"
tier = "team"
rank = 50

[[identity]]
name = "ops"
tier = "team"
rank = 10
"#;
    let s = scenario::parse(text, Path::new("t.toml"), &|_| None).unwrap();
    let mut all = Vec::new();
    for page in ["/a", "/b", "/c", "/d", "/e", "/f", "/g", "/h", "/i", "/j"] {
        all.push(obs("staff", page, Outcome::Allowed));
        all.push(obs("hr", page, Outcome::Allowed));
    }
    // The inversion: staff may, hr may not.
    all.push(obs("staff", "/reviews", Outcome::Allowed));
    all.push(obs("hr", "/reviews", Outcome::Denied));
    // hr's own corner, and ops's: the SQL export only ops may use, the HR records only hr.
    for page in ["/hr/1", "/hr/2", "/hr/3"] {
        all.push(obs("hr", page, Outcome::Allowed));
        all.push(obs("ops", page, Outcome::Denied));
        all.push(obs("staff", page, Outcome::Denied));
    }
    for page in ["/sql/1", "/sql/2", "/sql/3"] {
        all.push(obs("ops", page, Outcome::Allowed));
        all.push(obs("hr", page, Outcome::Denied));
        all.push(obs("staff", page, Outcome::Denied));
    }
    let judged = super::evaluate(
        &s,
        &RunHealth {
            identities: healthy(3),
            stopped: None,
        },
        &all,
        jiff::civil::date(2026, 1, 15),
    );
    let inverted: Vec<_> = judged
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::InvertedPrivilege)
        .map(|f| (f.identity.clone().unwrap(), f.template.clone().unwrap()))
        .collect();
    // staff over hr on /reviews fires (hr includes staff: 10 of 11); ops over hr on the SQL
    // export does not, though hr's rank is higher: neither includes the other.
    assert_eq!(
        inverted,
        vec![("staff".to_string(), "/reviews".to_string())]
    );
    let order = super::privilege::PrivilegeOrder::of(&s, &all);
    assert_eq!(order.source, super::privilege::Source::Inferred);
    assert!(order.includes("hr", "staff").is_some());
    assert!(order.includes("hr", "ops").is_none());
    assert!(order.includes("ops", "hr").is_none());
}

#[test]
fn a_declared_order_is_the_whole_order() {
    // bob includes carol (declared); alice includes nobody by declaration, so her refusal
    // where carol is allowed is no inversion, though her rank is the highest.
    let j = judge(
        vec![
            obs("carol", "/x", Outcome::Allowed),
            obs("alice", "/x", Outcome::Denied),
        ],
        Severity::Medium,
    );
    assert!(
        j.findings
            .iter()
            .all(|f| f.kind != FindingKind::InvertedPrivilege),
        "{:?}",
        kinds(&j)
    );
    let s = scenario();
    let order = super::privilege::PrivilegeOrder::of(&s, &[]);
    assert_eq!(order.source, super::privilege::Source::Declared);
    assert_eq!(order.pairs().collect::<Vec<_>>(), vec![("bob", "carol")]);
}

#[test]
fn an_acceptance_holds_until_its_date_and_not_a_day_after() {
    let s = scenario_with(
        r#"
[[accept]]
kind = "rule-violation"
paths = ["/admin/**"]
identities = ["carol"]
reason = "carol is the acting admin until the new hire starts"
expires = 2026-01-31
"#,
    );
    let leak = vec![obs("carol", "/admin/x", Outcome::Allowed)];
    let on = |day: jiff::civil::Date| {
        let mut all = baseline();
        all.extend(leak.clone());
        evaluate(&s, &healthy(4), &all, Severity::High, day)
    };
    let before = on(jiff::civil::date(2026, 1, 31));
    let finding = &before.findings[0];
    assert_eq!(finding.kind, FindingKind::RuleViolation);
    assert!(finding.accepted.is_some(), "kept visible, marked accepted");
    assert!(
        finding.detail.contains("accepted until 2026-01-31"),
        "{}",
        finding.detail
    );
    assert_eq!(before.verdict, Verdict::Pass, "{:?}", before.reasons);
    let after = on(jiff::civil::date(2026, 2, 1));
    assert!(after.findings[0].accepted.is_none());
    assert!(after.findings[0].detail.contains("expired on 2026-01-31"));
    assert_eq!(after.verdict, Verdict::Fail);
    // An acceptance names one identity: bob's own violation on the path still counts.
    let mut all = baseline();
    all.push(obs("bob", "/admin/x", Outcome::Allowed));
    let other = evaluate(
        &s,
        &healthy(4),
        &all,
        Severity::High,
        jiff::civil::date(2026, 1, 15),
    );
    assert_eq!(other.verdict, Verdict::Fail);
}

// ---------------------------------------------------------------------------------------
// Actions: `[[expect]] actions = [...]` against what each identity was shown and what its
// write probes got.

/// The test scenario with `actions` rules appended, in order: (glob, kind, allow).
fn with_action_rules(rules: &[(&str, scenario::ActionKind, &[&str])]) -> scenario::Scenario {
    let mut s = scenario();
    for (i, (glob, kind, allow)) in rules.iter().enumerate() {
        s.expects.push(scenario::Expectation {
            index: s.expects.len(),
            location: scenario::Location {
                file: "t.toml".into(),
                line: 100 + i,
                column: 1,
            },
            paths: vec![glob.to_string()],
            path_globs: scenario::PathGlobs::new(vec![glob.to_string()]).unwrap(),
            rule: ExpectRule::Actions {
                allow: allow
                    .iter()
                    .map(|a| match scenario::Tier::parse(a) {
                        Some(tier) => scenario::Principal::Tier(tier),
                        None => scenario::Principal::Identity(a.to_string()),
                    })
                    .collect(),
                kind: *kind,
            },
        });
    }
    s
}

fn shown(identity: &str, method: &str, path: &str, source: &str) -> crate::observe::ActionSeen {
    crate::observe::ActionSeen {
        identity: identity.to_string(),
        action: crate::crawl::Action {
            method: method.to_string(),
            url: format!("http://site.test{path}"),
            source: source.to_string(),
            fields: vec!["amount".to_string(), "csrf".to_string()],
        },
    }
}

fn probe(
    identity: &str,
    path: &str,
    answer: crate::probe::ProbeAnswer,
) -> crate::probe::WriteProbe {
    use crate::probe::ProbeAnswer;
    let status = match answer {
        ProbeAnswer::Refused => 403,
        ProbeAnswer::AuthorizedToAttempt => 422,
        ProbeAnswer::Accepted => 200,
        ProbeAnswer::Unclear => 404,
        ProbeAnswer::Error => 0,
    };
    crate::probe::WriteProbe {
        identity: identity.to_string(),
        method: "POST".to_string(),
        url: format!("http://site.test{path}"),
        status: (status != 0).then_some(status),
        answer,
        reason: status.to_string(),
    }
}

/// The action findings of the baseline plus these actions and probes.
fn judge_actions(
    s: &scenario::Scenario,
    actions: &[crate::observe::ActionSeen],
    probes: Vec<crate::probe::WriteProbe>,
) -> Vec<Finding> {
    let observations = baseline();
    let probes = crate::probe::WriteProbes {
        probes,
        not_sent: Vec::new(),
    };
    let sources = crate::source::SourceLog::default();
    let evidence = Evidence {
        observations: &observations,
        actions,
        write_probes: &probes,
        sources: &sources,
        graphql: &crate::graphql::GraphqlReport::default(),
    };
    let health = RunHealth {
        identities: healthy(4),
        stopped: None,
    };
    let judged = evaluate_all(s, &health, &evidence, jiff::civil::date(2026, 1, 15));
    judged
        .findings
        .into_iter()
        .filter(|f| {
            matches!(
                f.kind,
                FindingKind::ActionExposure
                    | FindingKind::ForbiddenAction
                    | FindingKind::UnauthorizedWrite
            )
        })
        .collect()
}

#[test]
fn actions_fire_on_their_case_and_stay_silent_on_its_near_miss() {
    use crate::probe::ProbeAnswer::{Accepted, AuthorizedToAttempt, Refused, Unclear};
    use scenario::ActionKind::{Confirm, Forbidden, Write};
    let team: &[(&str, scenario::ActionKind, &[&str])] = &[("/team/**", Write, &["alice", "bob"])];
    let confirm: &[(&str, scenario::ActionKind, &[&str])] =
        &[("/team/**", Confirm, &["alice", "bob"])];
    let forbidden: &[(&str, scenario::ActionKind, &[&str])] = &[("/admin/wipe", Forbidden, &[])];
    let comp = "/team/compensation";
    type Case<'a> = (
        &'a str,
        &'a [(&'a str, scenario::ActionKind, &'a [&'a str])],
        Vec<crate::observe::ActionSeen>,
        Vec<crate::probe::WriteProbe>,
        Vec<(FindingKind, &'a str)>,
    );
    let cases: Vec<Case> = vec![
        (
            "a write form shown to someone the rule does not admit",
            team,
            vec![shown("carol", "POST", comp, "form")],
            vec![],
            vec![(FindingKind::ActionExposure, "carol")],
        ),
        (
            "the same form shown to an admitted identity",
            team,
            vec![shown("bob", "POST", comp, "form")],
            vec![],
            vec![],
        ),
        (
            "a tier admits itself and above",
            &[("/team/**", Write, &["owner"])],
            vec![
                shown("alice", "POST", comp, "form"),
                shown("bob", "POST", comp, "form"),
            ],
            vec![],
            vec![(FindingKind::ActionExposure, "bob")],
        ),
        (
            "a script's call counts as shown",
            team,
            vec![shown("carol", "POST", comp, "js")],
            vec![],
            vec![(FindingKind::ActionExposure, "carol")],
        ),
        (
            "a GET form under the rule's globs is a search, not a write (a real Django admin's changelist)",
            team,
            vec![shown("carol", "GET", comp, "form")],
            vec![],
            vec![],
        ),
        (
            "an operation only listed in the OpenAPI document is shown to nobody",
            team,
            vec![shown("carol", "POST", comp, "openapi")],
            vec![],
            vec![],
        ),
        (
            "a confirmation shown to someone the rule does not admit",
            confirm,
            vec![shown("carol", "POST", comp, "form")],
            vec![],
            vec![(FindingKind::ActionExposure, "carol")],
        ),
        (
            "no rule matches: never a finding",
            team,
            vec![shown("carol", "POST", "/notes/new", "form")],
            vec![
                probe("anon", "/notes/new", Refused),
                probe("carol", "/notes/new", AuthorizedToAttempt),
            ],
            vec![],
        ),
        (
            "a forbidden action shown to anyone, even the owner",
            forbidden,
            vec![shown("alice", "POST", "/admin/wipe", "form")],
            vec![],
            vec![(FindingKind::ForbiddenAction, "alice")],
        ),
        (
            "a forbidden action only documented",
            forbidden,
            vec![shown("alice", "POST", "/admin/wipe", "openapi")],
            vec![],
            vec![],
        ),
        (
            "got past the check while someone else was refused",
            team,
            vec![],
            vec![
                probe("anon", comp, Refused),
                probe("carol", comp, AuthorizedToAttempt),
                probe("bob", comp, AuthorizedToAttempt),
            ],
            vec![(FindingKind::UnauthorizedWrite, "carol")],
        ),
        (
            "an empty body accepted while someone else was refused",
            team,
            vec![],
            vec![probe("anon", comp, Refused), probe("carol", comp, Accepted)],
            vec![(FindingKind::UnauthorizedWrite, "carol")],
        ),
        (
            "everyone got 422: the endpoint validates before it authorizes",
            team,
            vec![],
            vec![
                probe("anon", comp, AuthorizedToAttempt),
                probe("carol", comp, AuthorizedToAttempt),
                probe("bob", comp, AuthorizedToAttempt),
            ],
            vec![],
        ),
        (
            "a refusal of another URL proves nothing here",
            team,
            vec![],
            vec![
                probe("anon", "/team/other", Refused),
                probe("carol", comp, AuthorizedToAttempt),
            ],
            vec![],
        ),
        (
            "an unclear answer is not getting past",
            team,
            vec![],
            vec![probe("anon", comp, Refused), probe("carol", comp, Unclear)],
            vec![],
        ),
        (
            "nobody may get past a forbidden action",
            forbidden,
            vec![],
            vec![
                probe("anon", "/admin/wipe", Refused),
                probe("alice", "/admin/wipe", AuthorizedToAttempt),
            ],
            vec![(FindingKind::UnauthorizedWrite, "alice")],
        ),
        (
            "the first matching rule speaks: it admits carol",
            &[
                ("/team/**", Write, &["carol", "alice", "bob"]),
                ("/team/compensation", Forbidden, &[]),
            ],
            vec![shown("carol", "POST", comp, "form")],
            vec![],
            vec![],
        ),
        (
            "the first matching rule speaks: it forbids",
            &[
                ("/team/compensation", Forbidden, &[]),
                ("/team/**", Write, &["carol", "alice", "bob"]),
            ],
            vec![shown("carol", "POST", comp, "form")],
            vec![],
            vec![(FindingKind::ForbiddenAction, "carol")],
        ),
        (
            "shown by a form and a script: one finding",
            team,
            vec![
                shown("carol", "POST", comp, "form"),
                shown("carol", "POST", comp, "js"),
            ],
            vec![],
            vec![(FindingKind::ActionExposure, "carol")],
        ),
    ];
    for (case, rules, actions, probes, expected) in cases {
        let found: Vec<(FindingKind, String)> =
            judge_actions(&with_action_rules(rules), &actions, probes)
                .into_iter()
                .map(|f| (f.kind, f.identity.unwrap_or_default()))
                .collect();
        let expected: Vec<(FindingKind, String)> = expected
            .into_iter()
            .map(|(k, who)| (k, who.to_string()))
            .collect();
        assert_eq!(found, expected, "{case}");
    }
}

#[test]
fn action_findings_name_the_identity_request_rule_and_kind() {
    use crate::probe::ProbeAnswer::{AuthorizedToAttempt, Refused};
    use scenario::ActionKind::{Confirm, Forbidden};
    let s = with_action_rules(&[
        ("/team/**", Confirm, &["alice", "bob"]),
        ("/admin/**", Forbidden, &[]),
    ]);
    let findings = judge_actions(
        &s,
        &[
            shown("carol", "POST", "/team/compensation", "form"),
            shown("carol", "POST", "/team/compensation", "js"),
            shown("bob", "POST", "/admin/users/42/delete", "form"),
        ],
        vec![
            probe("anon", "/team/compensation", Refused),
            probe("carol", "/team/compensation", AuthorizedToAttempt),
        ],
    );
    let by_kind = |kind| findings.iter().find(|f| f.kind == kind).unwrap();

    let exposure = by_kind(FindingKind::ActionExposure);
    assert_eq!(exposure.severity, Severity::Medium);
    assert_eq!(exposure.identity.as_deref(), Some("carol"));
    assert_eq!(exposure.method.as_deref(), Some("POST"));
    assert_eq!(
        exposure.url.as_deref(),
        Some("http://site.test/team/compensation")
    );
    assert_eq!(exposure.template.as_deref(), Some("/team/compensation"));
    assert_eq!(exposure.rule.as_deref(), Some("t.toml:100:1"));
    assert_eq!(
        exposure.detail,
        "carol was shown POST /team/compensation (form, js), a confirm action the rule shows \
         only to alice, bob"
    );

    let forbidden = by_kind(FindingKind::ForbiddenAction);
    assert_eq!(forbidden.severity, Severity::High);
    assert_eq!(forbidden.rule.as_deref(), Some("t.toml:101:1"));
    // The template is the matrix row's: IDs in the path become placeholders.
    assert_eq!(
        forbidden.template.as_deref(),
        Some("/admin/users/{id}/delete")
    );
    assert!(
        forbidden.detail.contains("forbids for everyone"),
        "{}",
        forbidden.detail
    );

    let write = by_kind(FindingKind::UnauthorizedWrite);
    assert_eq!(write.severity, Severity::High);
    assert_eq!(write.rule.as_deref(), Some("t.toml:100:1"));
    assert_eq!(
        write.detail,
        "carol got past the authorization check of POST /team/compensation (422: authorized \
         to attempt on an empty body) while anon was refused; the rule admits only alice, bob"
    );
    assert_eq!(findings.len(), 3, "{findings:?}");

    // Nobody may: a forbidden rule's probe says so; an accepted empty body reads once.
    let s = with_action_rules(&[("/team/**", Forbidden, &[])]);
    let findings = judge_actions(
        &s,
        &[],
        vec![
            probe("anon", "/team/compensation", Refused),
            probe("bob", "/team/compensation", Refused),
            probe(
                "carol",
                "/team/compensation",
                crate::probe::ProbeAnswer::Accepted,
            ),
        ],
    );
    assert_eq!(
        findings[0].detail,
        "carol got past the authorization check of POST /team/compensation (200: accepted an \
         empty body) while anon, bob were refused; the rule admits nobody"
    );
}

#[test]
fn a_write_probe_without_an_answer_leaves_the_run_incomplete_only_where_a_rule_speaks() {
    use crate::probe::ProbeAnswer::{Error, Refused};
    let judged = |rules: &[(&str, scenario::ActionKind, &[&str])]| {
        let s = with_action_rules(rules);
        let observations = baseline();
        let probes = crate::probe::WriteProbes {
            probes: vec![
                probe("anon", "/team/compensation", Refused),
                probe("carol", "/team/compensation", Error),
            ],
            not_sent: Vec::new(),
        };
        let sources = crate::source::SourceLog::default();
        let evidence = Evidence {
            observations: &observations,
            actions: &[],
            write_probes: &probes,
            sources: &sources,
            graphql: &crate::graphql::GraphqlReport::default(),
        };
        let health = RunHealth {
            identities: healthy(4),
            stopped: None,
        };
        evaluate_all(&s, &health, &evidence, jiff::civil::date(2026, 1, 15))
    };
    let covered = judged(&[("/team/**", scenario::ActionKind::Write, &["alice"])]);
    assert_eq!(covered.incomplete.len(), 1, "{:?}", covered.incomplete);
    assert!(
        covered.incomplete[0].contains(
            "write probe of POST http://site.test/team/compensation as carol got no answer"
        ),
        "{}",
        covered.incomplete[0]
    );
    let decision = verdict::decide(&covered, &baseline(), Severity::High, None, false);
    assert_eq!(decision.verdict, Verdict::Inconclusive);
    // The same unanswered probe where no rule speaks for the action decides nothing.
    let uncovered = judged(&[("/elsewhere/**", scenario::ActionKind::Write, &["alice"])]);
    assert!(
        uncovered.incomplete.is_empty(),
        "{:?}",
        uncovered.incomplete
    );
}

/// The GraphQL findings and incomplete reasons of the baseline plus this report.
fn judge_graphql(report: &crate::graphql::GraphqlReport) -> (Vec<Finding>, Vec<String>) {
    let s = scenario();
    let observations = baseline();
    let (probes, sources) = (
        crate::probe::WriteProbes::default(),
        crate::source::SourceLog::default(),
    );
    let evidence = Evidence {
        observations: &observations,
        actions: &[],
        write_probes: &probes,
        sources: &sources,
        graphql: report,
    };
    let health = RunHealth {
        identities: healthy(4),
        stopped: None,
    };
    let judged = evaluate_all(&s, &health, &evidence, jiff::civil::date(2026, 1, 15));
    let findings = judged
        .findings
        .into_iter()
        .filter(|f| f.kind == FindingKind::GraphqlSchemaWider)
        .collect();
    (findings, judged.incomplete)
}

fn schema_diff(identity: &str, other: &str) -> crate::graphql::SchemaDifference {
    crate::graphql::SchemaDifference {
        identity: identity.to_string(),
        other: other.to_string(),
        only_in_identity: vec![
            "field Employee.salary".to_string(),
            "type Compensation".to_string(),
        ],
    }
}

#[test]
fn a_less_privileged_identitys_wider_graphql_schema_fires_and_the_plain_diff_stays_silent() {
    let report = |diff| crate::graphql::GraphqlReport {
        endpoint: Some("/graphql".to_string()),
        diff,
        ..Default::default()
    };
    // bob includes carol (declared): carol told about more than bob is the finding.
    let (fired, incomplete) = judge_graphql(&report(vec![schema_diff("carol", "bob")]));
    assert_eq!(fired.len(), 1, "{fired:?}");
    let finding = &fired[0];
    assert_eq!(finding.severity, Severity::Medium);
    assert_eq!(finding.identity.as_deref(), Some("carol"));
    assert_eq!(finding.template.as_deref(), Some("/graphql"));
    assert_eq!(finding.url.as_deref(), Some("http://site.test/graphql"));
    assert!(
        finding.detail.contains("field Employee.salary")
            && finding.detail.contains("bob includes carol"),
        "{}",
        finding.detail
    );
    assert!(incomplete.is_empty(), "{incomplete:?}");
    // The same shape, silent: the more privileged told about more (the plain diff), and a
    // pair the order does not rank (alice includes nobody by declaration).
    for (identity, other) in [("bob", "carol"), ("carol", "alice"), ("alice", "carol")] {
        let (silent, _) = judge_graphql(&report(vec![schema_diff(identity, other)]));
        assert!(silent.is_empty(), "{identity} over {other}: {silent:?}");
    }
    // Without the opt-in there is nothing to judge.
    let (off, _) = judge_graphql(&crate::graphql::GraphqlReport {
        diff: vec![schema_diff("carol", "bob")],
        ..Default::default()
    });
    assert!(off.is_empty());
}

#[test]
fn a_graphql_endpoint_that_failed_is_a_reason_the_run_is_incomplete() {
    let failed = crate::graphql::GraphqlReport {
        endpoint: Some("/graphql".to_string()),
        failures: vec![
            "graphql: the introspection as `carol` got no usable answer (500: server error)"
                .to_string(),
        ],
        ..Default::default()
    };
    let (_, incomplete) = judge_graphql(&failed);
    assert!(
        incomplete
            .iter()
            .any(|r| r.contains("introspection as `carol`")),
        "{incomplete:?}"
    );
    // Introspection turned off is reported by the stage, not a failure: nothing incomplete.
    let disabled = crate::graphql::GraphqlReport {
        endpoint: Some("/graphql".to_string()),
        ..Default::default()
    };
    assert!(judge_graphql(&disabled).1.is_empty());
}
