//! Judged actions: `[[expect]] actions = [...]` rules against the actions each identity was
//! shown (`action-exposure`, `forbidden-action`) and, when write probes ran, against who got
//! past an endpoint's authorization check (`unauthorized-write`).
//!
//! Input: the crawl's actions per identity ([`ActionSeen`]), the write probes and the
//! scenario's `actions` rules. Output: findings. Invariants:
//! - the first `actions` rule in file order whose globs match the action URL's path speaks
//!   for it; an action no rule matches is never a finding, and no rule speaks for a GET or
//!   HEAD form (a search reads, as a link does);
//! - a form with nothing to press (no submit button, not one text field to press Enter in)
//!   is no action at all: the crawl does not record it (`crawl::discover`);
//! - "shown" means shown in a page or a script (a form, a JavaScript call): an action listed
//!   only in an OpenAPI document is shown to nobody, since API documents list every
//!   operation whoever reads them, and it never raises `action-exposure` or
//!   `forbidden-action`;
//! - a probe proves an identity got past an endpoint's authorization check only when some
//!   other identity's probe of the same method and URL was refused: when every identity got
//!   past (400 or 422 for all), the endpoint validates before it authorizes and the probe
//!   says nothing about who may.
//!
//! The same rule lookup, "shown" and "decided" are what the action matrix
//! (`snapshot::actions`) lays out, so the matrix and the findings never disagree.

use std::collections::{BTreeMap, BTreeSet};

use super::Evidence;
use super::context::{Context, Rule};
use super::finding::{Finding, FindingKind};
use crate::crawl::scope::Routes;
use crate::observe::ActionSeen;
use crate::probe::{ProbeAnswer, WriteProbe, WriteProbes};
use crate::scenario::{ActionKind, ExpectRule, Expectation, Principal};

/// The `Action.source` of an operation read from an OpenAPI document: documented, not shown.
pub const OPENAPI: &str = "openapi";

/// Why the write probes leave part of what an `actions` rule speaks for unknown: a probe of
/// an action a rule covers that got no answer (a timeout, a reset, a session that could not
/// be proven alive) could have been the one identity past the check.
pub(super) fn incomplete(ctx: &Context<'_>, evidence: &Evidence<'_>) -> Vec<String> {
    evidence
        .write_probes
        .probes
        .iter()
        .filter(|p| p.answer == ProbeAnswer::Error)
        .filter(|p| rule_in(ctx, &p.method, path(&p.url)).is_some())
        .map(|p| {
            format!(
                "the write probe of {} {} as {} got no answer ({}): whether it gets past the \
                 authorization check is unknown",
                p.method, p.url, p.identity, p.reason
            )
        })
        .collect()
}

/// Findings about actions.
pub(super) fn check(ctx: &Context<'_>, evidence: &Evidence<'_>) -> Vec<Finding> {
    let templates = Templates::new(evidence.actions);
    let mut findings = Vec::new();

    // One finding per (identity, method, URL), however many pages or scripts showed it.
    let mut shown: BTreeMap<(&str, &str, &str), BTreeSet<&str>> = BTreeMap::new();
    for seen in evidence.actions {
        if is_shown(&seen.action.source) {
            shown
                .entry((
                    seen.identity.as_str(),
                    seen.action.method.as_str(),
                    seen.action.url.as_str(),
                ))
                .or_default()
                .insert(seen.action.source.as_str());
        }
    }
    for ((name, method, url), sources) in shown {
        let Some(identity) = ctx.identities.get(name).copied() else {
            continue;
        };
        let Some((rule, allow, kind)) = rule_in(ctx, method, path(url)) else {
            continue;
        };
        let template = templates.of(url);
        let sources = sources.into_iter().collect::<Vec<_>>().join(", ");
        let (finding_kind, detail) = match kind {
            ActionKind::Forbidden => (
                FindingKind::ForbiddenAction,
                format!(
                    "{name} was shown {method} {template} ({sources}), an action the rule \
                     forbids for everyone"
                ),
            ),
            ActionKind::Write | ActionKind::Confirm if !rule.expect.admits(identity) => (
                FindingKind::ActionExposure,
                format!(
                    "{name} was shown {method} {template} ({sources}), a {} action the rule \
                     shows {}",
                    kind.as_str(),
                    match principals(allow) {
                        Some(who) => format!("only to {who}"),
                        None => "to nobody".to_string(),
                    }
                ),
            ),
            ActionKind::Write | ActionKind::Confirm => continue,
        };
        findings.push(at(finding_kind, name, method, url, template, detail, rule));
    }

    for probe in &evidence.write_probes.probes {
        if !probe.answer.got_past_authorization() {
            continue;
        }
        let Some(identity) = ctx.identities.get(probe.identity.as_str()).copied() else {
            continue;
        };
        let Some((rule, allow, _)) = rule_in(ctx, &probe.method, path(&probe.url)) else {
            continue;
        };
        if rule.expect.admits(identity) {
            continue;
        }
        let refused = refused(evidence.write_probes, probe);
        // Nobody was refused: the endpoint answers an empty body before it asks who is
        // asking, so this answer is no proof of who may write.
        if refused.is_empty() {
            continue;
        }
        let template = templates.of(&probe.url);
        let answer = match probe.answer {
            ProbeAnswer::Accepted => probe.answer.as_str().to_string(),
            _ => format!("{} on an empty body", probe.answer.as_str()),
        };
        let detail = format!(
            "{} got past the authorization check of {} {template} ({}: {answer}) while {} {} \
             refused; the rule admits {}",
            probe.identity,
            probe.method,
            probe.reason,
            refused.join(", "),
            if refused.len() == 1 { "was" } else { "were" },
            match principals(allow) {
                Some(who) => format!("only {who}"),
                None => "nobody".to_string(),
            }
        );
        findings.push(at(
            FindingKind::UnauthorizedWrite,
            &probe.identity,
            &probe.method,
            &probe.url,
            template,
            detail,
            rule,
        ));
    }
    findings
}

fn at(
    kind: FindingKind,
    identity: &str,
    method: &str,
    url: &str,
    template: String,
    detail: String,
    rule: &Rule<'_>,
) -> Finding {
    let mut finding = Finding::new(kind, detail);
    finding.identity = Some(identity.to_string());
    finding.method = Some(method.to_string());
    finding.url = Some(url.to_string());
    finding.template = Some(template);
    finding.rule = Some(rule.location.clone());
    finding
}

/// The rule of the context that speaks for an action path, with its `allow` and kind.
fn rule_in<'r, 'a>(
    ctx: &'r Context<'a>,
    method: &str,
    path: &str,
) -> Option<(&'r Rule<'a>, &'a [Principal], ActionKind)> {
    if is_read_only(method) {
        return None;
    }
    ctx.rules.iter().find_map(|rule| {
        let (allow, kind) = actions_rule(rule.expect, path)?;
        Some((rule, allow, kind))
    })
}

/// A GET (or HEAD) form is a search or a filter: it reads, as any link does, so no `actions`
/// rule speaks for it (on a real Django admin, the changelist's search form shares its path
/// with the changelist's POST form).
pub(crate) fn is_read_only(method: &str) -> bool {
    matches!(method, "GET" | "HEAD")
}

/// `allow` and kind of `expect` when it is an `actions` rule whose globs match `path`.
fn actions_rule<'e>(expect: &'e Expectation, path: &str) -> Option<(&'e [Principal], ActionKind)> {
    match &expect.rule {
        ExpectRule::Actions { allow, kind } if expect.path_globs.is_match(path) => {
            Some((allow.as_slice(), *kind))
        }
        _ => None,
    }
}

/// The first `actions` rule in file order whose globs match the action path: the one that
/// speaks for it (none for a read-only method).
pub(crate) fn rule_for<'e>(
    expects: &'e [Expectation],
    method: &str,
    path: &str,
) -> Option<(&'e Expectation, ActionKind)> {
    if is_read_only(method) {
        return None;
    }
    expects
        .iter()
        .find_map(|e| actions_rule(e, path).map(|(_, kind)| (e, kind)))
}

/// Shown in a page or a script (form, js, ...), as opposed to listed in an API document.
pub(crate) fn is_shown(source: &str) -> bool {
    source != OPENAPI
}

/// The other identities whose probe of the same method and URL was refused, in probe order
/// (scenario order).
fn refused<'p>(probes: &'p WriteProbes, probe: &WriteProbe) -> Vec<&'p str> {
    probes
        .probes
        .iter()
        .filter(|p| {
            p.method == probe.method
                && p.url == probe.url
                && p.identity != probe.identity
                && p.answer == ProbeAnswer::Refused
        })
        .map(|p| p.identity.as_str())
        .collect()
}

/// Whether the probes of `method` `url` can tell who may: some identity was refused. When
/// none was, an identity getting past proves nothing (the endpoint validates first).
pub(crate) fn decided(probes: &WriteProbes, method: &str, url: &str) -> bool {
    probes
        .probes
        .iter()
        .any(|p| p.method == method && p.url == url && p.answer == ProbeAnswer::Refused)
}

/// The path of an action URL, its `{param}` braces kept as written (an OpenAPI operation's
/// URL holds them literally; a URL parser would percent-encode them): what its globs match.
pub(crate) fn path(url: &str) -> &str {
    crate::observe::url_path(url)
}

/// Action URLs → their row templates: the Site's own OpenAPI paths where they fit, else IDs
/// recognised in the path, as the exposure matrix's rows are made. Findings and the action
/// matrix use the same, so a finding names its matrix row.
pub(crate) struct Templates {
    routes: Routes,
}

impl Templates {
    pub fn new(actions: &[ActionSeen]) -> Templates {
        let routes: BTreeSet<String> = actions
            .iter()
            .filter(|a| a.action.source == OPENAPI)
            .map(|a| path(&a.action.url).to_string())
            .collect();
        Templates {
            routes: Routes::new(routes.iter()),
        }
    }

    pub fn of(&self, url: &str) -> String {
        let path = path(url);
        if path.contains('{') {
            return path.to_string();
        }
        match url::Url::parse(url) {
            Ok(parsed) => self.routes.template(&parsed),
            Err(_) => path.to_string(),
        }
    }
}

/// "alice, bob, tier owner and above"; `None` for nobody.
fn principals(allow: &[Principal]) -> Option<String> {
    if allow.is_empty() {
        return None;
    }
    Some(
        allow
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    )
}
