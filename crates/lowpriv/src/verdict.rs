//! The verdict: pass, fail or inconclusive, and why. Nothing else in the crate decides one.
//!
//! Input: the judge's findings (and their groups, which the reasons count), the reasons it
//! found the matrix incomplete, and the snapshot comparison. Output: a [`Decision`]. Invariants, in this order: anything that hid
//! part of the matrix (a failed login, a cut crawl, error cells, a stopped run, a rule that
//! matched nothing) makes the run inconclusive, whatever else holds; otherwise a finding at
//! or above `fail_on` fails it; otherwise snapshot drift (or a missing snapshot in CI) fails
//! it; only then is it a pass, and a pass always says what it was observed over.

use serde::Serialize;

use crate::judge::{Judgement, Severity};
use crate::observe::{Observation, Outcome};
use crate::snapshot::SnapshotReport;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Inconclusive,
}

/// Process exit codes, one constant per meaning (nextest's `NextestExitCode` is the model).
/// The `lowpriv` command's `main` picks one in a single `match`; reports show the one their
/// verdict maps to.
pub mod exit {
    pub const PASS: i32 = 0;
    /// Findings at or above `--fail-on`, or snapshot drift.
    pub const FAIL: i32 = 1;
    /// Bad usage, an invalid scenario or an invalid approved snapshot.
    pub const USAGE: i32 = 2;
    /// The run could not see the whole matrix: a login failed, the Site was unreachable,
    /// errors or limits hid part of it, or it was stopped.
    pub const INCONCLUSIVE: i32 = 3;
}

impl Verdict {
    /// The exit code a run with this verdict ends with.
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Pass => exit::PASS,
            Verdict::Fail => exit::FAIL,
            Verdict::Inconclusive => exit::INCONCLUSIVE,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// A verdict with its reasons, most important first.
#[derive(Clone, Debug, Serialize)]
pub struct Decision {
    pub verdict: Verdict,
    pub reasons: Vec<String>,
    pub fail_on: Severity,
    /// Findings at or above `fail_on`.
    pub at_or_above_fail_on: usize,
    /// Finding groups (causes) at or above `fail_on`: what a person has to fix.
    pub groups_at_or_above_fail_on: usize,
}

/// Decides the verdict of a run from its judgement and, when one was made, its snapshot
/// comparison (`ci`: a missing approved snapshot fails the run there).
pub fn decide(
    judgement: &Judgement,
    observations: &[Observation],
    fail_on: Severity,
    snapshot: Option<&SnapshotReport>,
    ci: bool,
) -> Decision {
    // An accepted finding stays in every report but out of the count, until its date passes.
    let at_or_above = judgement
        .findings
        .iter()
        .filter(|f| f.severity >= fail_on && f.accepted.is_none())
        .count();
    // Counted, not decided on: a group is at or above the threshold exactly when one of its
    // findings is, so the decision below stays on findings.
    let groups_at_or_above = judgement
        .groups
        .iter()
        .filter(|g| g.severity >= fail_on && g.accepted.is_none())
        .count();
    let drift = snapshot.filter(|r| r.fails(ci));
    let mut decision = Decision {
        verdict: Verdict::Pass,
        reasons: Vec::new(),
        fail_on,
        at_or_above_fail_on: at_or_above,
        groups_at_or_above_fail_on: groups_at_or_above,
    };
    if !judgement.is_complete() {
        decision.verdict = Verdict::Inconclusive;
        decision.reasons = judgement.incomplete.clone();
    } else if at_or_above > 0 {
        decision.verdict = Verdict::Fail;
        // Groups, not findings: an IDOR over a hundred records is one thing to fix.
        decision.reasons.push(format!(
            "{groups_at_or_above} finding group(s) at or above {} ({at_or_above} finding(s))",
            fail_on.as_str()
        ));
    } else if drift.is_some() {
        decision.verdict = Verdict::Fail;
    } else {
        // A pass names what it stands on, so "nothing observed" can never read as green.
        let allowed = observations
            .iter()
            .filter(|o| o.outcome == Outcome::Allowed)
            .count();
        let refused = observations
            .iter()
            .filter(|o| o.outcome.is_refused())
            .count();
        decision.reasons.push(format!(
            "no finding at or above {}; {allowed} allowed and {refused} refused answers observed",
            fail_on.as_str()
        ));
    }
    // Drift is worth saying whatever else decided the verdict.
    if let Some(report) = drift {
        decision.reasons.push(report.message.clone());
    }
    decision
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::{Finding, FindingKind};

    fn judgement(findings: Vec<Finding>) -> Judgement {
        Judgement {
            groups: crate::judge::group(&findings),
            findings,
            incomplete: Vec::new(),
        }
    }

    fn leak(identity: &str, url: &str, severity: Severity) -> Finding {
        Finding {
            kind: FindingKind::AudienceLeak,
            severity,
            identity: Some(identity.to_string()),
            method: Some("GET".to_string()),
            url: Some(format!("http://s.test{url}")),
            template: Some("/r/{id}".to_string()),
            detail: format!("{identity} got it"),
            rule: None,
            data: Vec::new(),
            accepted: None,
        }
    }

    /// The reason counts causes; the decision still stands on findings.
    #[test]
    fn reasons_count_groups_and_the_decision_is_unchanged() {
        let findings = vec![
            leak("carol", "/r/1", Severity::High),
            leak("carol", "/r/2", Severity::High),
            leak("dave", "/r/1", Severity::High),
        ];
        let decision = decide(&judgement(findings), &[], Severity::High, None, false);
        assert_eq!(decision.verdict, Verdict::Fail);
        assert_eq!(
            (
                decision.at_or_above_fail_on,
                decision.groups_at_or_above_fail_on
            ),
            (3, 1)
        );
        assert_eq!(
            decision.reasons,
            ["1 finding group(s) at or above high (3 finding(s))"]
        );
        // Below the threshold: a pass, whatever the grouping.
        let low = vec![leak("carol", "/r/1", Severity::Medium)];
        let decision = decide(&judgement(low), &[], Severity::High, None, false);
        assert_eq!(decision.verdict, Verdict::Pass);
        assert_eq!(decision.groups_at_or_above_fail_on, 0);
        // One finding at the threshold in a group of lower ones still fails the run.
        let mixed = vec![
            leak("carol", "/r/1", Severity::Medium),
            leak("dave", "/r/2", Severity::High),
        ];
        let decision = decide(&judgement(mixed), &[], Severity::High, None, false);
        assert_eq!(decision.verdict, Verdict::Fail);
        assert_eq!(
            (
                decision.at_or_above_fail_on,
                decision.groups_at_or_above_fail_on
            ),
            (1, 1)
        );
    }
}
