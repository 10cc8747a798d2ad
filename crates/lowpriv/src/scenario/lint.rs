//! Warnings about a valid scenario: settings that load but do not do what they seem to.
//!
//! Input: a validated [`Scenario`] and where the parser found the keys the warnings point at.
//! Output: the [`Lint`]s, sorted by position. A warning never fails a load: `lowpriv check`
//! prints them and still exits 0. Like diagnostics, a warning names keys, classes and
//! sources, never a value.

use std::fmt;

use super::model::{ExpectRule, Location, Scenario};

/// One warning, at the key it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lint {
    pub location: Location,
    pub message: String,
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: warning: {}", self.location, self.message)
    }
}

/// Where the parser found the keys that no model type keeps a location for.
#[derive(Debug, Default)]
pub(crate) struct Places {
    pub probe_writes: Option<Location>,
    pub write_scope: Option<Location>,
    /// A data class's name, and where its `source` key is.
    pub data_sources: Vec<(String, Location)>,
}

pub(crate) fn lints(scenario: &Scenario, at: &Places) -> Vec<Lint> {
    let mut out = Vec::new();
    for class in &scenario.data {
        let Some(source) = &class.source else {
            continue;
        };
        let location = at
            .data_sources
            .iter()
            .find(|(name, _)| *name == class.name)
            .map_or_else(|| class.location.clone(), |(_, l)| l.clone());
        for expect in &scenario.expects {
            if matches!(&expect.rule, ExpectRule::Data { data, .. } if *data == class.name) {
                out.push(Lint {
                    location: location.clone(),
                    message: format!(
                        "both the [[expect]] on line {} and source `{source}` speak for class `{}`: the declared rule decides, the source's answers are not used for it",
                        expect.location.line, class.name
                    ),
                });
            }
        }
    }
    let crawl = &scenario.crawl;
    if let Some(location) = &at.write_scope
        && !crawl.probe_writes
        && !crawl.write_scope.is_empty()
    {
        out.push(Lint {
            location: location.clone(),
            message: "`write_scope` is set but `probe_writes` is not true: no action is sent"
                .to_string(),
        });
    }
    if let Some(location) = &at.probe_writes
        && crawl.probe_writes
    {
        out.push(Lint {
            location: location.clone(),
            message: format!(
                "`probe_writes = true`: every action matching {} will be sent, with an empty body, as every identity",
                crawl.write_scope.patterns().join(", ")
            ),
        });
    }
    for source in &scenario.sources {
        let named = scenario
            .data
            .iter()
            .any(|c| c.source.as_deref() == Some(source.name.as_str()));
        if !named {
            out.push(Lint {
                location: source.location.clone(),
                message: format!(
                    "no [data] class names source `{0}`: its probes would derive nothing (add source = \"{0}\" to the classes it holds)",
                    source.name
                ),
            });
        }
    }
    out.sort_by_key(|l| (l.location.line, l.location.column));
    out
}
