//! Source-derived expectations: an identity may see on the Site what its own probes of the
//! data's `[[source]]` returned (`source-bypass`), unless a declaration speaks for the class
//! (a `visible_to` rule covering the path, or a canary's `belongs_to`).
//!
//! Two grains, both proven by the probes, never assumed:
//! - the class: the source gave this identity none of it, while it gave it to another
//!   identity (so the probes do reach that data);
//! - the records: the identity saw values of the class that the source returned to another
//!   identity and never to it (a colleague's compensation, when its own is fine).
//!
//! A value the Site shows that no probe returned to anyone (a sum, a rounded figure) proves
//! nothing and stays silent. A source whose login failed or whose probe errored leaves that
//! identity's view unknown: a reason the run is incomplete, never a silent pass.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::Evidence;
use super::context::{Context, DataVerdict};
use super::finding::{Finding, FindingKind};
use crate::observe::classify::MAX_VALUES;
use crate::observe::{Observation, Outcome};
use crate::source::SourceProbes;

/// What the sources say: findings, and why part of it is unknown.
#[derive(Default)]
pub(super) struct Sourced {
    pub findings: Vec<Finding>,
    pub incomplete: Vec<String>,
}

/// What one identity got of one class from one source.
#[derive(Default)]
struct View<'a> {
    /// Some probe's allowed answer held the class.
    seen: bool,
    values: HashSet<u64>,
    /// Some answer held as many values as are kept: its records cannot be compared.
    capped: bool,
    /// This identity's probes, in probe order.
    probes: Vec<&'a Observation>,
}

/// One source's answers, by class then identity.
struct Derived<'a> {
    source: &'a SourceProbes,
    views: HashMap<(&'a str, &'a str), View<'a>>,
    /// Per class, per value: the identities the source returned it to (scenario order).
    holders: HashMap<&'a str, HashMap<u64, BTreeSet<&'a str>>>,
    /// Identities whose view of the source is unknown (failed login, an errored probe).
    unknown: HashSet<&'a str>,
}

pub(super) fn check(ctx: &Context<'_>, evidence: &Evidence<'_>) -> Sourced {
    let mut out = Sourced::default();
    let mut derived: BTreeMap<&str, Derived<'_>> = BTreeMap::new();
    for source in &evidence.sources.sources {
        let classes: Vec<&str> = ctx
            .scenario
            .data
            .iter()
            .filter(|c| c.source.as_deref() == Some(source.name.as_str()))
            .map(|c| c.name.as_str())
            .collect();
        if classes.is_empty() {
            continue;
        }
        let view = derive(source, &classes);
        for identity in &source.identities {
            if !identity.logged_in {
                out.incomplete.push(format!(
                    "source `{}`: {} could not log in ({}): what it may see there is unknown",
                    source.name,
                    identity.identity,
                    identity.failure.as_deref().unwrap_or("no reason given")
                ));
            }
        }
        for obs in source.observations.iter().filter(|o| unanswered(o)) {
            out.incomplete.push(format!(
                "source `{}`: the probe {} as {} was not answered ({}): what it may see there \
                 is unknown",
                source.name, obs.url, obs.identity, obs.reason
            ));
        }
        derived.insert(source.name.as_str(), view);
    }
    if derived.is_empty() {
        return out;
    }
    for obs in evidence.observations {
        if obs.outcome != Outcome::Allowed {
            continue;
        }
        let Some(identity) = ctx.identities.get(obs.identity.as_str()).copied() else {
            continue;
        };
        for (class_name, hit) in &obs.data {
            let Some(class) = ctx.class(class_name) else {
                continue;
            };
            let Some(source) = class.source.as_deref().and_then(|s| derived.get(s)) else {
                continue;
            };
            // Declarations outrank what the source says.
            if class.belongs_to.is_some()
                || !matches!(
                    ctx.data_verdict(class_name, obs.path(), identity),
                    DataVerdict::Undeclared
                )
                || source.unknown.contains(identity.name.as_str())
            {
                continue;
            }
            if let Some(finding) = judge(source, obs, class_name, &hit.values) {
                let mut finding = finding;
                finding.rule = ctx
                    .scenario
                    .sources
                    .iter()
                    .find(|s| s.name == source.source.name)
                    .map(|s| s.location.to_string());
                finding.data = vec![class_name.clone()];
                out.findings.push(finding);
            }
        }
    }
    out
}

fn derive<'a>(source: &'a SourceProbes, classes: &[&'a str]) -> Derived<'a> {
    let mut derived = Derived {
        source,
        views: HashMap::new(),
        holders: HashMap::new(),
        unknown: HashSet::new(),
    };
    // A stopped run leaves some identity with fewer probes answered than another: what the
    // missing ones would have said is unknown.
    let mut answered: HashMap<&str, usize> = HashMap::new();
    for obs in &source.observations {
        *answered.entry(obs.identity.as_str()).or_default() += 1;
    }
    let most = answered.values().copied().max().unwrap_or(0);
    for identity in &source.identities {
        let name = identity.identity.as_str();
        if !identity.logged_in || answered.get(name).copied().unwrap_or(0) < most {
            derived.unknown.insert(name);
        }
    }
    for obs in &source.observations {
        if unanswered(obs) {
            derived.unknown.insert(obs.identity.as_str());
        }
        for &class in classes {
            let view = derived
                .views
                .entry((class, obs.identity.as_str()))
                .or_default();
            view.probes.push(obs);
            if obs.outcome != Outcome::Allowed {
                continue;
            }
            let Some(hit) = obs.data.get(class) else {
                continue;
            };
            view.seen = true;
            view.capped |= hit.values.len() >= MAX_VALUES;
            view.values.extend(hit.values.iter().copied());
            let holders = derived.holders.entry(class).or_default();
            for value in &hit.values {
                holders
                    .entry(*value)
                    .or_default()
                    .insert(obs.identity.as_str());
            }
        }
    }
    derived
}

/// A probe that says nothing about what the identity may read: an error, or not sent (a
/// redirect to another origin, a single sign-on page, is not a refusal).
fn unanswered(obs: &Observation) -> bool {
    matches!(obs.outcome, Outcome::Error | Outcome::Skipped)
}

/// The finding for one Site answer and one sourced class it holds, if the source proves one.
fn judge(source: &Derived<'_>, obs: &Observation, class: &str, shown: &[u64]) -> Option<Finding> {
    let name = &source.source.name;
    let who = obs.identity.as_str();
    let empty = View::default();
    let view = source.views.get(&(class, who)).unwrap_or(&empty);
    // The witness is the first identity in scenario order that the source gave it to.
    let in_order = || source.source.identities.iter().map(|i| i.identity.as_str());
    if !view.seen {
        // The probes must reach the data for its absence to mean anything.
        let holder = in_order().find(|identity| {
            *identity != who
                && source
                    .views
                    .get(&(class, *identity))
                    .is_some_and(|v| v.seen)
        })?;
        let probe = witness(source, class, who, holder, "it");
        return Some(Finding::at(
            FindingKind::SourceBypass,
            obs,
            format!(
                "{who} sees `{class}` here, but source `{name}` gives {who} none of it: {probe}"
            ),
        ));
    }
    if view.capped || shown.is_empty() {
        return None;
    }
    let foreign: Vec<u64> = shown
        .iter()
        .copied()
        .filter(|v| !view.values.contains(v))
        .filter(|v| source.holders.get(class).is_some_and(|h| h.contains_key(v)))
        .collect();
    if foreign.is_empty() {
        return None;
    }
    let holders = source.holders.get(class)?;
    let holder = in_order().find(|identity| {
        foreign
            .iter()
            .any(|v| holders.get(v).is_some_and(|h| h.contains(identity)))
    })?;
    let probe = witness(source, class, who, holder, "those records");
    let own = shown.len() - foreign.len();
    Some(Finding::at(
        FindingKind::SourceBypass,
        obs,
        format!(
            "{who} sees {} `{class}` record(s) here that source `{name}` returns to others \
             but not to {who} (besides {own} of {who}'s own): {probe}",
            foreign.len()
        ),
    ))
}

/// The probe that shows the difference, in words: where `holder` got the class and `who`
/// was refused it or got less.
fn witness(source: &Derived<'_>, class: &str, who: &str, holder: &str, what: &str) -> String {
    let name = &source.source.name;
    let held = source
        .views
        .get(&(class, holder))
        .and_then(|v| {
            v.probes
                .iter()
                .find(|o| o.outcome == Outcome::Allowed && o.data.contains_key(class))
        })
        .copied();
    let Some(held) = held else {
        return format!("{holder} got it from `{name}`");
    };
    let mine = source
        .views
        .get(&(class, who))
        .and_then(|v| v.probes.iter().find(|o| o.url == held.url).copied());
    let path = display_path(&held.url);
    match mine {
        Some(mine) if mine.outcome == Outcome::Allowed => format!(
            "probe GET {path} on `{name}` returned it to {holder}, and to {who} without {what}"
        ),
        Some(mine) => format!(
            "probe GET {path} on `{name}` returned it to {holder} and refused {who} ({})",
            mine.reason
        ),
        None => {
            format!("probe GET {path} on `{name}` returned it to {holder}; {who} was not answered")
        }
    }
}

fn display_path(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(url) => match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        },
        Err(_) => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;
    use crate::observe::DataHit;
    use crate::probe::WriteProbes;
    use crate::scenario::{self, Location, Scenario};
    use crate::source::{SourceIdentity, SourceLog};

    const SCENARIO: &str = r#"
[site]
name = "t"
base_url = "http://site.test"
audience = "team"

[[identity]]
name = "carol"
tier = "team"

[[identity]]
name = "bob"
tier = "team"
rank = 50

[data.pay]
json_keys = ["compensation"]

[data.salary]
json_keys = ["salary"]

[[expect]]
data = "salary"
visible_to = ["bob"]
"#;

    fn scenario() -> Scenario {
        let mut scenario =
            scenario::parse(SCENARIO, Path::new("t.toml"), &|_: &str| None).expect("parses");
        for class in &mut scenario.data {
            class.source = Some("hr".to_string());
        }
        scenario.sources.push(scenario::Source {
            name: "hr".to_string(),
            base_url: url::Url::parse("http://hr.test/").expect("url"),
            probes: vec!["/employees".to_string()],
            logins: Vec::new(),
            location: Location {
                file: "t.toml".into(),
                line: 30,
                column: 1,
            },
        });
        scenario
    }

    fn answer(
        base: &str,
        identity: &str,
        path: &str,
        outcome: Outcome,
        data: &[(&str, &[u64])],
    ) -> Observation {
        let request =
            crate::crawl::Request::get(url::Url::parse(&format!("{base}{path}")).expect("url"));
        let mut o = Observation::skipped(identity, &request, "", true);
        o.outcome = outcome;
        o.status = Some(if outcome == Outcome::Allowed {
            200
        } else {
            403
        });
        o.reason = o.status.map(|s| s.to_string()).unwrap_or_default();
        o.data = data
            .iter()
            .map(|(class, values)| {
                let hit = DataHit {
                    kind: "json_keys",
                    count: values.len(),
                    examples: vec![],
                    values: values.to_vec(),
                };
                (class.to_string(), hit)
            })
            .collect::<BTreeMap<_, _>>();
        o
    }

    fn source(carol: Option<Observation>, bob: Observation, carol_logged_in: bool) -> SourceLog {
        let identity = |name: &str, logged_in: bool| SourceIdentity {
            identity: name.to_string(),
            login: "bearer",
            logged_in,
            failure: (!logged_in).then(|| "401 on the proof".to_string()),
        };
        SourceLog {
            sources: vec![SourceProbes {
                name: "hr".to_string(),
                base_url: "http://hr.test/".to_string(),
                identities: vec![identity("carol", carol_logged_in), identity("bob", true)],
                observations: carol.into_iter().chain([bob]).collect(),
            }],
        }
    }

    fn judge(site: &[Observation], sources: &SourceLog) -> Sourced {
        let scenario = scenario();
        let ctx = Context::new(&scenario, site);
        let probes = WriteProbes::default();
        let evidence = Evidence {
            observations: site,
            actions: &[],
            write_probes: &probes,
            sources,
            graphql: &crate::graphql::GraphqlReport::default(),
        };
        check(&ctx, &evidence)
    }

    const HR: &str = "http://hr.test";
    const SITE: &str = "http://site.test";

    #[test]
    fn a_class_the_source_refuses_the_identity_is_a_bypass_and_its_own_view_is_not() {
        let bob = answer(
            HR,
            "bob",
            "/employees",
            Outcome::Allowed,
            &[("pay", &[1, 2])],
        );
        let refused = answer(HR, "carol", "/employees", Outcome::Denied, &[]);
        let site = [answer(
            SITE,
            "carol",
            "/team",
            Outcome::Allowed,
            &[("pay", &[1])],
        )];
        let judged = judge(&site, &source(Some(refused), bob.clone(), true));
        assert_eq!(
            judged.findings.len(),
            1,
            "{:?}",
            judged
                .findings
                .iter()
                .map(|f| &f.detail)
                .collect::<Vec<_>>()
        );
        let finding = &judged.findings[0];
        assert_eq!(finding.kind, FindingKind::SourceBypass);
        assert_eq!(finding.identity.as_deref(), Some("carol"));
        assert_eq!(finding.data, vec!["pay"]);
        assert_eq!(finding.rule.as_deref(), Some("t.toml:30:1"));
        assert!(
            finding.detail.contains("GET /employees"),
            "{}",
            finding.detail
        );
        assert!(
            finding.detail.contains("refused carol (403)"),
            "{}",
            finding.detail
        );
        assert!(judged.incomplete.is_empty());

        // The same shape, where the source gives carol that record: silent.
        let own = answer(
            HR,
            "carol",
            "/employees",
            Outcome::Allowed,
            &[("pay", &[1])],
        );
        let judged = judge(&site, &source(Some(own), bob, true));
        assert!(judged.findings.is_empty());
    }

    #[test]
    fn records_the_source_gives_only_to_others_are_a_bypass_and_unknown_values_are_not() {
        let bob = answer(
            HR,
            "bob",
            "/employees",
            Outcome::Allowed,
            &[("pay", &[1, 2, 3])],
        );
        let own = answer(
            HR,
            "carol",
            "/employees",
            Outcome::Allowed,
            &[("pay", &[1])],
        );
        let leak = [answer(
            SITE,
            "carol",
            "/team",
            Outcome::Allowed,
            &[("pay", &[1, 2, 3])],
        )];
        let judged = judge(&leak, &source(Some(own.clone()), bob.clone(), true));
        assert_eq!(judged.findings.len(), 1);
        let detail = &judged.findings[0].detail;
        assert!(detail.contains("2 `pay` record(s)"), "{detail}");
        assert!(detail.contains("besides 1 of carol's own"), "{detail}");
        assert!(
            detail.contains("to carol without those records"),
            "{detail}"
        );

        // A figure no probe returned to anyone (a total, a rounding) proves nothing.
        let total = [answer(
            SITE,
            "carol",
            "/team",
            Outcome::Allowed,
            &[("pay", &[1, 99])],
        )];
        assert!(
            judge(&total, &source(Some(own), bob, true))
                .findings
                .is_empty()
        );
    }

    #[test]
    fn declarations_outrank_the_source_and_unreached_data_proves_nothing() {
        // `salary` has a visible_to rule: the declared check speaks, not the source.
        let bob = answer(
            HR,
            "bob",
            "/employees",
            Outcome::Allowed,
            &[("salary", &[5])],
        );
        let refused = answer(HR, "carol", "/employees", Outcome::Denied, &[]);
        let site = [answer(
            SITE,
            "carol",
            "/team",
            Outcome::Allowed,
            &[("salary", &[5])],
        )];
        assert!(
            judge(&site, &source(Some(refused.clone()), bob, true))
                .findings
                .is_empty()
        );

        // No identity got `pay` from the source: its probes do not reach that data.
        let bob = answer(HR, "bob", "/employees", Outcome::Allowed, &[]);
        let site = [answer(
            SITE,
            "carol",
            "/team",
            Outcome::Allowed,
            &[("pay", &[1])],
        )];
        assert!(
            judge(&site, &source(Some(refused), bob, true))
                .findings
                .is_empty()
        );
    }

    #[test]
    fn a_probe_sent_elsewhere_is_unknown_not_a_refusal() {
        let bob = answer(
            HR,
            "bob",
            "/employees",
            Outcome::Allowed,
            &[("pay", &[1, 2])],
        );
        let mut elsewhere = answer(HR, "carol", "/employees", Outcome::Skipped, &[]);
        elsewhere.reason = "redirects to another origin (http://sso.test); not followed".into();
        let site = [answer(
            SITE,
            "carol",
            "/team",
            Outcome::Allowed,
            &[("pay", &[2])],
        )];
        let judged = judge(&site, &source(Some(elsewhere), bob, true));
        assert!(judged.findings.is_empty());
        assert_eq!(judged.incomplete.len(), 1, "{:?}", judged.incomplete);
        assert!(
            judged.incomplete[0].contains("was not answered (redirects"),
            "{}",
            judged.incomplete[0]
        );
    }

    #[test]
    fn a_failed_source_login_is_unknown_never_a_pass_or_a_finding() {
        let bob = answer(
            HR,
            "bob",
            "/employees",
            Outcome::Allowed,
            &[("pay", &[1, 2])],
        );
        let site = [answer(
            SITE,
            "carol",
            "/team",
            Outcome::Allowed,
            &[("pay", &[2])],
        )];
        let judged = judge(&site, &source(None, bob, false));
        assert!(judged.findings.is_empty());
        assert_eq!(judged.incomplete.len(), 1);
        assert!(
            judged.incomplete[0].contains("source `hr`: carol could not log in"),
            "{}",
            judged.incomplete[0]
        );
    }
}
