//! What every check reads besides the observation at hand: the scenario's identities by
//! name, its rules and public paths (their globs compiled once, by the scenario parser), and
//! every identity's answer per request. Built once per judgement.

use std::collections::HashMap;

use super::privilege::PrivilegeOrder;
use crate::observe::Observation;
use crate::scenario::{
    DataClass, DataKind, ExpectRule, Expectation, Identity, PathGlobs, Scenario,
};

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
    /// Who includes whom, for `inverted-privilege`.
    pub order: PrivilegeOrder,
}

/// What the scenario's data rules say about one identity seeing one class on one path.
pub(crate) enum DataVerdict<'r, 'a> {
    /// No data rule speaks for the class there: only the class's own nature decides (a secret
    /// must never appear; other data is judged by nothing).
    Undeclared,
    /// Every data rule covering the path admits the identity (or it owns the canary).
    Admitted,
    /// This rule covers the path and does not admit the identity.
    Refused(&'r Rule<'a>),
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
            order: PrivilegeOrder::of(scenario, observations),
        }
    }

    pub fn class(&self, name: &str) -> Option<&'a DataClass> {
        self.scenario.data.iter().find(|c| c.name == name)
    }

    /// What the data rules covering `path` say about `identity` seeing `class`. The data
    /// rules speak for their class whatever its kind: a secret's rule admits some, a canary's
    /// owner is always admitted.
    pub fn data_verdict(
        &self,
        class: &str,
        path: &str,
        identity: &Identity,
    ) -> DataVerdict<'_, 'a> {
        let owner = self.class(class).and_then(|c| c.belongs_to.as_deref());
        let mut covering = self
            .rules
            .iter()
            .filter(|r| match &r.expect.rule {
                ExpectRule::Data { data, .. } => data == class && r.covers(path),
                ExpectRule::Access { .. } | ExpectRule::Actions { .. } => false,
            })
            .peekable();
        if covering.peek().is_none() {
            return DataVerdict::Undeclared;
        }
        if owner == Some(identity.name.as_str()) {
            return DataVerdict::Admitted;
        }
        for rule in covering {
            if let ExpectRule::Data { visible_to, .. } = &rule.expect.rule
                && !visible_to.iter().any(|p| p.matches(identity))
            {
                return DataVerdict::Refused(rule);
            }
        }
        DataVerdict::Admitted
    }

    pub fn access_rules(&self) -> impl Iterator<Item = &Rule<'a>> {
        self.rules.iter().filter(|r| r.is_access())
    }

    /// Whether an `[[expect]]` access rule speaks for this path.
    pub fn covered(&self, path: &str) -> bool {
        self.access_rules().any(|r| r.covers(path))
    }
}

/// A class whose every appearance outside its data rule is a `secret-exposed`.
pub(crate) fn is_secret(class: &DataClass) -> bool {
    match &class.kind {
        DataKind::Env { .. } => true,
        DataKind::Builtin(b) => b.is_secret(),
        DataKind::Pattern { secret, .. } => *secret,
        _ => false,
    }
}
