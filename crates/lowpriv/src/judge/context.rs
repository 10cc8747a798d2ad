//! What every check reads besides the observation at hand: the scenario's identities by
//! name, its rules and public paths (their globs compiled once, by the scenario parser), and
//! every identity's answer per request. Built once per judgement.

use std::collections::HashMap;

use crate::observe::Observation;
use crate::scenario::{ExpectRule, Expectation, Identity, PathGlobs, Scenario};

/// One `[[expect]]` entry, with its location as findings name it.
pub(crate) struct Rule<'a> {
    pub expect: &'a Expectation,
    pub location: String,
}

impl Rule<'_> {
    /// An entry that names no paths speaks for every path.
    pub fn covers(&self, path: &str) -> bool {
        let globs = &self.expect.path_globs;
        globs.is_empty() || globs.is_match(path)
    }

    pub fn is_access(&self) -> bool {
        matches!(self.expect.rule, ExpectRule::Access { .. })
    }
}

pub(crate) struct Context<'a> {
    pub scenario: &'a Scenario,
    pub identities: HashMap<&'a str, &'a Identity>,
    pub public: &'a PathGlobs,
    /// Every `[[expect]]`, in scenario order.
    pub rules: Vec<Rule<'a>>,
    /// Per (method, URL), every identity's answer: what the heuristics compare.
    pub by_request: HashMap<(&'a str, &'a str), Vec<&'a Observation>>,
}

impl<'a> Context<'a> {
    pub fn new(scenario: &'a Scenario, observations: &'a [Observation]) -> Context<'a> {
        let mut by_request: HashMap<(&str, &str), Vec<&Observation>> = HashMap::new();
        for obs in observations {
            by_request
                .entry((obs.method.as_str(), obs.url.as_str()))
                .or_default()
                .push(obs);
        }
        Context {
            scenario,
            identities: scenario
                .identities
                .iter()
                .map(|i| (i.name.as_str(), i))
                .collect(),
            public: &scenario.site.public_globs,
            rules: scenario
                .expects
                .iter()
                .map(|expect| Rule {
                    expect,
                    location: expect.location.to_string(),
                })
                .collect(),
            by_request,
        }
    }

    pub fn access_rules(&self) -> impl Iterator<Item = &Rule<'a>> {
        self.rules.iter().filter(|r| r.is_access())
    }

    /// Whether an `[[expect]]` access rule speaks for this path.
    pub fn covered(&self, path: &str) -> bool {
        self.access_rules().any(|r| r.covers(path))
    }
}
