//! Snapshot rendering, parsing, comparison and the file rules (CI, atomic, never overwrite).

use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::observe::{Observation, Outcome};

fn obs(identity: &str, template: &str, outcome: Outcome, data: &[&str]) -> Observation {
    let mut o = Observation::skipped(
        identity,
        &crate::crawl::Request::get(url::Url::parse(&format!("http://s.test{template}")).unwrap()),
        "",
        true,
    );
    o.template = template.to_string();
    o.outcome = outcome;
    o.data = data
        .iter()
        .map(|d| {
            (
                d.to_string(),
                crate::observe::DataHit {
                    kind: "json_keys",
                    count: 1,
                    examples: vec![],
                    values: vec![],
                },
            )
        })
        .collect::<BTreeMap<_, _>>();
    o
}

fn ids() -> Vec<String> {
    vec!["anon".into(), "carol".into(), "alice".into()]
}

fn base() -> Vec<Observation> {
    vec![
        obs("anon", "/r/{id}", Outcome::Denied, &[]),
        obs("carol", "/r/{id}", Outcome::Allowed, &["email"]),
        obs("carol", "/r/{id}", Outcome::Denied, &[]),
        obs("alice", "/r/{id}", Outcome::Allowed, &["email", "salary"]),
        obs("anon", "/admin", Outcome::Denied, &[]),
        obs("carol", "/admin", Outcome::Denied, &[]),
        obs("alice", "/admin", Outcome::Allowed, &[]),
    ]
}

/// As a run compares: the approved file read first (it is valid in these cases), then the
/// comparison.
fn check(store: &Store, current: &Matrix, complete: bool, ci: bool) -> SnapshotReport {
    let approved = Approved::load(store, &current.site, &current.identities).unwrap();
    super::check(store, approved.as_ref(), current, complete, ci)
}

fn matrix(observations: &[Observation]) -> Matrix {
    Matrix::from_observations("site", &ids(), observations)
}

#[test]
fn render_is_one_fact_per_line_and_parses_back() {
    let m = matrix(&base());
    let text = m.render();
    insta::assert_snapshot!("rendered_matrix", text);
    let parsed = Matrix::parse(&text, Path::new("site.snap")).unwrap();
    assert_eq!(parsed, m);
    assert_eq!(parsed.render(), text);
}

#[test]
fn absent_outcome_parses_back() {
    // Found by `fuzz/` (snapshot_parse): a cell with only a `sees` line renders as `absent`,
    // which parse rejected as an unknown outcome.
    let text = "site s\nidentity a\nGET /x · a · sees salary\n";
    let m = Matrix::parse(text, Path::new("s.snap")).unwrap();
    let rendered = m.render();
    assert!(rendered.contains("GET /x · a · absent\n"), "{rendered}");
    assert_eq!(Matrix::parse(&rendered, Path::new("s.snap")).unwrap(), m);
}

#[test]
fn growing_data_changes_nothing() {
    // More records of the same kind: same cells, same text.
    let mut more = base();
    for _ in 0..50 {
        more.push(obs("carol", "/r/{id}", Outcome::Denied, &[]));
        more.push(obs("alice", "/r/{id}", Outcome::Allowed, &["salary"]));
    }
    assert_eq!(matrix(&more).render(), matrix(&base()).render());
}

#[test]
fn parse_errors_name_the_line_and_what_was_expected() {
    let cases = [
        (
            "site s\nidentity a\nGET /x · a · alowed\n",
            3,
            "unknown outcome `alowed`",
        ),
        (
            "site s\nidentity a\nGET /x a allowed\n",
            3,
            "expected `site NAME`",
        ),
        (
            "site s\nidentity a\nGET /x · b · allowed\n",
            3,
            "identity `b` is not declared",
        ),
        (
            "identity a\nGET /x · a · allowed\n",
            1,
            "no `site NAME` line",
        ),
        ("site s\nsite t\n", 2, "a second `site` line"),
        (
            "site s\nidentity a\nget x · a · allowed\n",
            3,
            "expected an HTTP method and a path template",
        ),
    ];
    for (text, line, message) in cases {
        let err = Matrix::parse(text, Path::new("s.snap")).unwrap_err();
        assert_eq!(err.line, line, "{text}");
        assert!(err.message.contains(message), "{err}");
        assert!(
            err.to_string().starts_with(&format!("s.snap:{line}: ")),
            "{err}"
        );
    }
}

#[test]
fn changes_say_which_way_exposure_moved() {
    let approved = matrix(&base());
    let mut now = base();
    now[4] = obs("anon", "/admin", Outcome::Allowed, &["email"]); // widening, plus data
    now[6] = obs("alice", "/admin", Outcome::Hidden, &[]); // narrowing
    now[0] = obs("anon", "/r/{id}", Outcome::Hidden, &[]); // neutral
    let changes = changes(&approved, &matrix(&now));
    let sentences: Vec<(Direction, String)> = changes
        .iter()
        .map(|c| (c.direction, c.sentence()))
        .collect();
    assert_eq!(
        sentences,
        vec![
            (
                Direction::Widening,
                "anon: GET /admin denied → allowed".to_string()
            ),
            (
                Direction::Widening,
                "anon: GET /admin now sees email".to_string()
            ),
            (
                Direction::Narrowing,
                "alice: GET /admin allowed → hidden".to_string()
            ),
            (
                Direction::Neutral,
                "anon: GET /r/{id} denied → hidden".to_string()
            ),
        ]
    );
}

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("snapshots"));
    (dir, store)
}

#[test]
fn a_first_run_writes_pending_and_fails_only_in_ci() {
    let (_dir, store) = store();
    let report = check(&store, &matrix(&base()), true, false);
    assert_eq!(report.status, Status::New);
    assert!(!report.fails(false));
    assert!(report.fails(true));
    assert!(
        report.message.contains("lowpriv snapshot accept site"),
        "{}",
        report.message
    );
    assert!(store.pending("site").exists());
    assert!(!store.approved("site").exists());
    accept(&store, "site", false).unwrap();
    assert!(store.approved("site").exists());
    assert!(!store.pending("site").exists());
    let again = check(&store, &matrix(&base()), true, false);
    assert_eq!(again.status, Status::Match);
}

#[test]
fn drift_writes_pending_and_never_touches_the_approved_file() {
    let (_dir, store) = store();
    std::fs::create_dir_all(&store.dir).unwrap();
    std::fs::write(store.approved("site"), matrix(&base()).render()).unwrap();
    let before = std::fs::metadata(store.approved("site"))
        .unwrap()
        .modified()
        .unwrap();
    let mut now = base();
    now[4] = obs("anon", "/admin", Outcome::Allowed, &[]);
    for ci in [false, true] {
        let report = check(&store, &matrix(&now), true, ci);
        assert_eq!(report.status, Status::Drift);
        assert!(report.fails(ci));
        assert_eq!(report.widening(), 1);
        assert_eq!(
            report.added,
            vec!["GET /admin · anon · allowed".to_string()]
        );
        assert_eq!(
            report.removed,
            vec!["GET /admin · anon · denied".to_string()]
        );
        assert!(
            report.diff.contains("-GET /admin · anon · denied"),
            "{}",
            report.diff
        );
        assert!(report.diff.contains("+GET /admin · anon · allowed"));
    }
    assert_eq!(
        std::fs::read_to_string(store.approved("site")).unwrap(),
        matrix(&base()).render()
    );
    let after = std::fs::metadata(store.approved("site"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after);
    assert!(matches!(
        accept(&store, "site", true),
        Err(SnapshotError::InCi)
    ));
}

#[test]
fn a_broken_or_foreign_snapshot_is_refused_before_the_run_and_not_overwritten() {
    let (_dir, store) = store();
    std::fs::create_dir_all(&store.dir).unwrap();
    let cases = [
        (
            "site site\nidentity anon\nGET /x · anon · maybe\n",
            "snapshots/site.snap:3: unknown outcome",
        ),
        (
            "site other\nidentity anon\n",
            "snapshot of site `other`, not `site`",
        ),
        (
            "site site\nidentity bob\n",
            "identities the scenario does not declare: `bob`",
        ),
    ];
    for (text, expected) in cases {
        std::fs::write(store.approved("site"), text).unwrap();
        let err = Approved::load(&store, "site", &ids()).unwrap_err();
        assert!(err.to_string().contains(expected), "{err}");
        assert_eq!(
            std::fs::read_to_string(store.approved("site")).unwrap(),
            text
        );
        assert!(!store.pending("site").exists(), "nothing is written");
    }
}

#[test]
fn an_inconclusive_run_is_not_compared() {
    let (_dir, store) = store();
    let report = check(&store, &matrix(&base()), false, false);
    assert_eq!(report.status, Status::Skipped);
    assert!(!store.dir.exists(), "nothing written");
}

#[test]
fn accepting_needs_a_valid_pending_file() {
    let (_dir, store) = store();
    assert!(matches!(
        accept(&store, "site", false),
        Err(SnapshotError::NoPending { .. })
    ));
    std::fs::create_dir_all(&store.dir).unwrap();
    std::fs::write(store.pending("site"), "garbage line\n").unwrap();
    assert!(matches!(
        accept(&store, "site", false),
        Err(SnapshotError::Parse(_))
    ));
    assert!(!store.approved("site").exists());
}
