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

// ---------------------------------------------------------------------------------------
// Action lines

/// One action row: `cells` is (identity, sources, probe) for the identities that have one.
fn action(
    method: &str,
    template: &str,
    kind: ActionRowKind,
    cells: &[(&str, &[&str], Option<ProbeCell>)],
) -> ActionRow {
    ActionRow {
        method: method.to_string(),
        template: template.to_string(),
        kind,
        rule: None,
        fields: vec!["amount".to_string()],
        cells: ids()
            .into_iter()
            .map(|identity| {
                let found = cells.iter().find(|(who, ..)| *who == identity);
                ActionCell {
                    seen_in: found.map_or_else(Vec::new, |(_, seen, _)| {
                        seen.iter().map(|s| s.to_string()).collect()
                    }),
                    probe: found.and_then(|(.., probe)| *probe),
                    identity,
                }
            })
            .collect(),
    }
}

fn with_actions(rows: Vec<ActionRow>) -> Matrix {
    matrix(&base()).with_actions(&ActionMatrix {
        identities: ids(),
        rows,
    })
}

fn compensation(carol: Option<ProbeCell>) -> ActionRow {
    action(
        "POST",
        "/team/compensation",
        ActionRowKind::WriteCapable,
        &[
            ("anon", &[], Some(ProbeCell::Refused)),
            ("carol", &["form"], carol),
            ("alice", &["form"], Some(ProbeCell::AuthorizedToAttempt)),
        ],
    )
}

fn documented() -> ActionRow {
    action(
        "DELETE",
        "/api/notes/{id}",
        ActionRowKind::WriteCapable,
        &[("carol", &["openapi"], None), ("alice", &["openapi"], None)],
    )
}

#[test]
fn action_lines_follow_the_exposure_and_parse_back() {
    // A row nobody has a fact on (a probe of an identity outside the columns, say) writes
    // no line.
    let nobody = action("POST", "/nobody", ActionRowKind::WriteCapable, &[]);
    let m = with_actions(vec![
        documented(),
        compensation(Some(ProbeCell::AuthorizedToAttempt)),
        nobody,
    ]);
    let text = m.render();
    insta::assert_snapshot!("rendered_matrix_with_actions", text);
    let parsed = Matrix::parse(&text, Path::new("site.snap")).unwrap();
    assert_eq!(parsed, m);
    assert_eq!(parsed.render(), text);
    assert!(!text.contains("/nobody"), "{text}");
}

#[test]
fn a_snapshot_without_action_lines_still_loads_and_its_actions_are_new() {
    let (_dir, store) = store();
    std::fs::create_dir_all(&store.dir).unwrap();
    // As written before action lines existed: the old header, no `ACTION` line.
    let old = matrix(&base())
        .render()
        .replace(
            "`... · sees CLASS`;\n# then `ACTION METHOD TEMPLATE · IDENTITY · KIND, shown (SOURCES)` (or `documented`,\n# `not shown`), with `· PROBE` when a write probe was sent.\n",
            "`... · sees CLASS`.\n",
        );
    assert!(old.starts_with("# lowpriv exposure snapshot (format 1)\n# One fact per line"));
    assert!(!old.contains("ACTION"), "{old}");
    std::fs::write(store.approved("site"), &old).unwrap();

    // The same exposure and no actions: a match, though the header comment changed.
    let same = check(&store, &matrix(&base()), true, false);
    assert_eq!(same.status, Status::Match, "{}", same.message);

    // With actions: each new fact is a change, widening where the identity is shown the
    // action or gets past its check; a documented or refused one alone is not widening.
    let now = with_actions(vec![
        compensation(Some(ProbeCell::AuthorizedToAttempt)),
        documented(),
    ]);
    let report = check(&store, &now, true, false);
    assert_eq!(report.status, Status::Drift);
    let sentences: Vec<(Direction, String)> = report
        .changes
        .iter()
        .map(|c| (c.direction, c.sentence()))
        .collect();
    assert_eq!(
        sentences,
        vec![
            (
                Direction::Widening,
                "alice: action POST /team/compensation now write-capable, shown (form) · authorized to attempt".to_string()
            ),
            (
                Direction::Widening,
                "carol: action POST /team/compensation now write-capable, shown (form) · authorized to attempt".to_string()
            ),
            (
                Direction::Neutral,
                "alice: action DELETE /api/notes/{id} now write-capable, documented (openapi)".to_string()
            ),
            (
                Direction::Neutral,
                "carol: action DELETE /api/notes/{id} now write-capable, documented (openapi)".to_string()
            ),
            (
                Direction::Neutral,
                "anon: action POST /team/compensation now write-capable, not shown · refused".to_string()
            ),
        ]
    );
    assert!(
        report.added.contains(
            &"ACTION DELETE /api/notes/{id} · carol · write-capable, documented (openapi)"
                .to_string()
        ),
        "{:?}",
        report.added
    );
}

#[test]
fn a_new_write_action_is_widening_and_an_unchanged_one_matches() {
    let (_dir, store) = store();
    std::fs::create_dir_all(&store.dir).unwrap();
    let approved = with_actions(vec![compensation(Some(ProbeCell::Refused))]);
    std::fs::write(store.approved("site"), approved.render()).unwrap();

    let same = check(
        &store,
        &with_actions(vec![compensation(Some(ProbeCell::Refused))]),
        true,
        false,
    );
    assert_eq!(same.status, Status::Match, "{}", same.message);
    assert!(same.changes.is_empty());

    let wipe = action(
        "POST",
        "/admin/wipe",
        ActionRowKind::WriteCapable,
        &[("carol", &["form"], None)],
    );
    let report = check(
        &store,
        &with_actions(vec![compensation(Some(ProbeCell::Refused)), wipe]),
        true,
        false,
    );
    assert_eq!(report.status, Status::Drift);
    assert_eq!(report.widening(), 1);
    assert_eq!(
        report.changes[0].sentence(),
        "carol: action POST /admin/wipe now write-capable, shown (form)"
    );
    assert_eq!(
        report.added,
        vec!["ACTION POST /admin/wipe · carol · write-capable, shown (form)".to_string()]
    );
    assert!(report.removed.is_empty());
}

#[test]
fn a_changed_action_fact_drifts_by_what_it_reaches() {
    let carol = |seen: &[&str], probe, kind| {
        action(
            "POST",
            "/team/compensation",
            kind,
            &[("carol", seen, probe)],
        )
    };
    use ActionRowKind::{Confirmation, WriteCapable};
    let refused = Some(ProbeCell::Refused);
    let past = Some(ProbeCell::AuthorizedToAttempt);
    let cases = [
        (
            "the check now lets carol past",
            carol(&["form"], refused, WriteCapable),
            carol(&["form"], past, WriteCapable),
            Direction::Widening,
        ),
        (
            "undecided still got past",
            carol(&["form"], past, WriteCapable),
            carol(&["form"], Some(ProbeCell::Undecided), WriteCapable),
            Direction::Neutral,
        ),
        (
            "the check now refuses carol",
            carol(&["form"], past, WriteCapable),
            carol(&["form"], refused, WriteCapable),
            Direction::Narrowing,
        ),
        (
            "no longer shown, only documented",
            carol(&["form", "openapi"], None, WriteCapable),
            carol(&["openapi"], None, WriteCapable),
            Direction::Narrowing,
        ),
        (
            "a rule now calls it a confirmation",
            carol(&["form"], None, WriteCapable),
            carol(&["form"], None, Confirmation),
            Direction::Neutral,
        ),
        (
            "shown elsewhere",
            carol(&["form"], None, WriteCapable),
            carol(&["js"], None, WriteCapable),
            Direction::Neutral,
        ),
        (
            "shown but refused, was past unshown",
            carol(&[], past, WriteCapable),
            carol(&["form"], refused, WriteCapable),
            Direction::Neutral,
        ),
    ];
    for (case, before, after, direction) in cases {
        let changes = changes(&with_actions(vec![before]), &with_actions(vec![after]));
        assert_eq!(changes.len(), 1, "{case}: {changes:?}");
        assert_eq!(
            changes[0].direction,
            direction,
            "{case}: {}",
            changes[0].sentence()
        );
        assert_eq!(changes[0].kind, "action", "{case}");
    }
    // Gone entirely: narrowing when it reached, neutral when it was only documented.
    let gone = changes(
        &with_actions(vec![compensation(None), documented()]),
        &with_actions(vec![]),
    );
    let directions: Vec<(Direction, String)> =
        gone.iter().map(|c| (c.direction, c.sentence())).collect();
    assert_eq!(
        directions,
        vec![
            (Direction::Narrowing, "alice: action POST /team/compensation no longer write-capable, shown (form) · authorized to attempt".to_string()),
            (Direction::Narrowing, "carol: action POST /team/compensation no longer write-capable, shown (form)".to_string()),
            (Direction::Neutral, "alice: action DELETE /api/notes/{id} no longer write-capable, documented (openapi)".to_string()),
            (Direction::Neutral, "carol: action DELETE /api/notes/{id} no longer write-capable, documented (openapi)".to_string()),
            (Direction::Neutral, "anon: action POST /team/compensation no longer write-capable, not shown · refused".to_string()),
        ]
    );
}

#[test]
fn action_line_errors_name_the_line_and_what_was_expected() {
    let cases = [
        (
            "site s\nidentity a\nACTION POST /x · b · write-capable, shown (form)\n",
            3,
            "identity `b` is not declared",
        ),
        (
            "site s\nidentity a\nACTION POST /x · a · write-capable, shown (form)\nACTION POST /x · a · write-capable, shown (js)\n",
            4,
            "a second `ACTION` line",
        ),
        (
            "site s\nidentity a\nACTION /x · a · write-capable, shown (form)\n",
            3,
            "expected an HTTP method and a path template after `ACTION`",
        ),
        (
            "site s\nidentity a\nACTION POST /x · a\n",
            3,
            "expected `ACTION METHOD TEMPLATE · IDENTITY · KIND, PRESENCE`",
        ),
        (
            "site s\nidentity a\nACTION POST /x · a · write-capable, shown (form) · perhaps\n",
            3,
            "unknown probe answer `perhaps`",
        ),
        (
            "site s\nidentity a\nACTION POST /x · a · writable, shown (form)\n",
            3,
            "unknown action kind `writable`",
        ),
    ];
    for (text, line, message) in cases {
        let err = Matrix::parse(text, Path::new("s.snap")).unwrap_err();
        assert_eq!(err.line, line, "{text}");
        assert!(err.message.contains(message), "{err}");
    }
}
