//! A hand-built run for the renderers' tests: three identities, a team page, a compensation
//! form an `actions` rule admits to alice only, its write probes, an operation only the
//! OpenAPI document lists, and one `[[source]]` probed as each identity. Assembled as
//! `run` assembles a result, so the reports read the same models they do in a run.

use std::collections::BTreeMap;
use std::path::Path;

use crate::RunResult;
use crate::crawl::{Action, Request};
use crate::judge::{self, IdentityHealth, RunHealth, Severity};
use crate::observe::{ActionSeen, DataHit, Observation, Observations, Outcome};
use crate::probe::{NotSent, ProbeAnswer, WriteProbe, WriteProbes};
use crate::result::{CoverageReport, IdentityReport, Parts};
use crate::scenario::{self, ActionKind, ExpectRule, Principal, Tier};
use crate::session::LoginStatus;
use crate::snapshot::{ActionMatrix, Matrix};
use crate::source::{SourceIdentity, SourceLog, SourceProbes};

const SCENARIO: &str = r#"
[site]
name = "acme"
base_url = "http://site.test"
audience = "team"

[[identity]]
name = "anonymous"
tier = "external"

[[identity]]
name = "carol"
tier = "team"
rank = 10

[[identity]]
name = "alice"
tier = "owner"
rank = 100
"#;

const ORIGIN: &str = "http://site.test";

fn scenario(with_rule: bool) -> scenario::Scenario {
    let mut s = scenario::parse(SCENARIO, Path::new("t.toml"), &|_: &str| None)
        .expect("the fixture scenario parses");
    if with_rule {
        s.expects.push(scenario::Expectation {
            index: 0,
            location: scenario::Location {
                file: "t.toml".into(),
                line: 30,
                column: 1,
            },
            paths: vec!["/team/**".to_string()],
            path_globs: scenario::PathGlobs::new(vec!["/team/**".to_string()])
                .expect("a valid glob"),
            rule: ExpectRule::Actions {
                allow: vec![
                    Principal::Identity("alice".to_string()),
                    Principal::Tier(Tier::Owner),
                ],
                kind: ActionKind::Write,
            },
        });
    }
    s
}

fn observation(identity: &str, url: &str, outcome: Outcome, data: &[&str]) -> Observation {
    let request = Request::get(url::Url::parse(url).expect("a valid URL"));
    let mut o = Observation::skipped(identity, &request, "", true);
    o.outcome = outcome;
    o.status = Some(match outcome {
        Outcome::Allowed => 200,
        _ => 401,
    });
    o.reason = o.status.map(|s| s.to_string()).unwrap_or_default();
    o.data = data
        .iter()
        .map(|d| {
            let hit = DataHit {
                kind: "json_keys",
                count: 1,
                examples: vec![format!("{d}: <number, 5 digits>")],
                values: vec![],
            };
            (d.to_string(), hit)
        })
        .collect::<BTreeMap<_, _>>();
    o
}

fn seen(identity: &str, method: &str, path: &str, source: &str) -> ActionSeen {
    ActionSeen {
        identity: identity.to_string(),
        action: Action {
            method: method.to_string(),
            url: format!("{ORIGIN}{path}"),
            source: source.to_string(),
            fields: if source == "form" {
                vec!["amount".to_string(), "employee".to_string()]
            } else {
                Vec::new()
            },
        },
    }
}

fn probe(identity: &str, answer: ProbeAnswer, status: u16) -> WriteProbe {
    WriteProbe {
        identity: identity.to_string(),
        method: "POST".to_string(),
        url: format!("{ORIGIN}/team/compensation"),
        status: Some(status),
        answer,
        reason: status.to_string(),
    }
}

fn identity(name: &str, tier: Tier, login: &'static str) -> IdentityReport {
    IdentityReport {
        name: name.to_string(),
        tier,
        rank: 0,
        login,
        logged_in: true,
        login_error: None,
        crawled: 3,
        replayed: 2,
        relogins: 0,
        session_lost: None,
        truncated: None,
    }
}

/// The run; `rich`: with actions, write probes and a source, else the Site's answers alone.
pub fn result(rich: bool) -> RunResult {
    let scenario = scenario(rich);
    let all = vec![
        observation("anonymous", "http://site.test/team", Outcome::Denied, &[]),
        observation(
            "carol",
            "http://site.test/team",
            Outcome::Allowed,
            &["compensation"],
        ),
        observation(
            "alice",
            "http://site.test/team",
            Outcome::Allowed,
            &["compensation"],
        ),
    ];
    let actions = if rich {
        vec![
            seen("carol", "POST", "/team/compensation", "form"),
            seen("alice", "POST", "/team/compensation", "form"),
            seen("carol", "DELETE", "/api/notes/{id}", "openapi"),
            seen("alice", "DELETE", "/api/notes/{id}", "openapi"),
        ]
    } else {
        Vec::new()
    };
    let write_probes = if rich {
        WriteProbes {
            probes: vec![
                probe("anonymous", ProbeAnswer::Refused, 401),
                probe("carol", ProbeAnswer::AuthorizedToAttempt, 422),
                probe("alice", ProbeAnswer::AuthorizedToAttempt, 422),
            ],
            not_sent: vec![NotSent {
                method: "DELETE".to_string(),
                url: format!("{ORIGIN}/api/notes/{{id}}"),
                why: "DELETE acts without a body: never sent".to_string(),
            }],
        }
    } else {
        WriteProbes::default()
    };
    let sources = if rich {
        let hr = |who: &str, outcome, data: &[&str]| {
            observation(who, "http://hr.test/employees", outcome, data)
        };
        SourceLog {
            sources: vec![SourceProbes {
                name: "hr-api".to_string(),
                base_url: "http://hr.test/".to_string(),
                identities: vec![
                    SourceIdentity {
                        identity: "anonymous".to_string(),
                        login: "none",
                        logged_in: true,
                        failure: None,
                    },
                    SourceIdentity {
                        identity: "carol".to_string(),
                        login: "bearer",
                        logged_in: true,
                        failure: None,
                    },
                    SourceIdentity {
                        identity: "alice".to_string(),
                        login: "bearer",
                        logged_in: false,
                        failure: Some("401 from http://hr.test/employees".to_string()),
                    },
                ],
                observations: vec![
                    hr("anonymous", Outcome::Denied, &[]),
                    hr("carol", Outcome::Allowed, &["email"]),
                ],
            }],
        }
    } else {
        SourceLog::default()
    };
    let health = RunHealth {
        identities: vec![
            IdentityHealth {
                login: LoginStatus::LoggedIn,
                truncated: None,
                lost: None,
            };
            3
        ],
        stopped: None,
    };
    let evidence = judge::Evidence {
        observations: &all,
        actions: &actions,
        write_probes: &write_probes,
        sources: &sources,
        graphql: &crate::graphql::GraphqlReport::default(),
    };
    let judgement = judge::evaluate_all(
        &scenario,
        &health,
        &evidence,
        jiff::civil::date(2026, 1, 15),
    );
    let decision = crate::verdict::decide(&judgement, &all, Severity::High, None, false);
    let identities = vec![
        identity("anonymous", Tier::External, "none"),
        identity("carol", Tier::Team, "form"),
        identity("alice", Tier::Owner, "form"),
    ];
    let names: Vec<String> = identities.iter().map(|i| i.name.clone()).collect();
    let action_matrix = ActionMatrix::build(&names, &actions, &write_probes, &scenario);
    let exposure = Matrix::from_observations("acme", &names, &all).with_actions(&action_matrix);
    crate::RunResult::assemble(
        &scenario,
        scenario.site.audience,
        Parts {
            identities,
            write_probes,
            action_matrix,
            sources,
            graphql: crate::graphql::GraphqlReport::default(),
            observations: Observations {
                all,
                actions,
                unfilled_templates: Vec::new(),
            },
            exposure,
            judgement,
            decision,
            snapshot: None,
            audience_preview: None,
            coverage: CoverageReport::default(),
            duration_ms: 0,
        },
    )
}

/// The lines of `text` from the one starting with `from` up to (not including) the next
/// line starting with any of `until`.
pub fn section(text: &str, from: &str, until: &[&str]) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in text.lines() {
        if inside && until.iter().any(|u| line.starts_with(u)) {
            break;
        }
        if line.starts_with(from) {
            inside = true;
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
