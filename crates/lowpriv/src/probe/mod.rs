//! Write probes (`[crawl] probe_writes = true`, opt-in): each action whose path is in
//! `[crawl] write_scope` is sent as every identity with an empty body, never a valid one, and
//! the answer tells whether that identity got past the endpoint's authorization check.
//!
//! Input: the actions the crawl saw and the sessions. Output: one [`WriteProbe`] per
//! (action, identity). Invariants: nothing is sent unless the scenario opts in and names the
//! path; the body is always empty; `DELETE` (which acts without a body) and actions whose
//! path still holds an unfilled `{param}` are never sent; credentials go only to the Site.

use serde::Serialize;

/// What one identity's empty-bodied attempt at one action was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeAnswer {
    /// 401 or 403 (or the login page, or a deny marker): the endpoint refused who asked.
    Refused,
    /// 400 or 422: the identity got past the authorization check and only the empty body
    /// stopped it.
    AuthorizedToAttempt,
    /// 2xx: the endpoint took an empty body; it may have acted on it.
    Accepted,
    /// Anything else (404, 405, 409, a redirect elsewhere): says nothing about who may.
    Unclear,
    /// No answer (a timeout, a reset).
    Error,
}

impl ProbeAnswer {
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeAnswer::Refused => "refused",
            ProbeAnswer::AuthorizedToAttempt => "authorized to attempt",
            ProbeAnswer::Accepted => "accepted an empty body",
            ProbeAnswer::Unclear => "unclear",
            ProbeAnswer::Error => "error",
        }
    }

    /// The identity got past the authorization check.
    pub fn got_past_authorization(self) -> bool {
        matches!(
            self,
            ProbeAnswer::AuthorizedToAttempt | ProbeAnswer::Accepted
        )
    }
}

/// One identity's write probe of one action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WriteProbe {
    pub identity: String,
    pub method: String,
    /// The action's URL as the crawl saw it (query dropped), which is what was sent.
    pub url: String,
    pub status: Option<u16>,
    pub answer: ProbeAnswer,
    /// Why this answer, in a few words (`403`, `422`, `timed out after 10 s`).
    pub reason: String,
}

/// Every write probe of a run, and the actions in scope that were not sent (and why).
#[derive(Clone, Debug, Default, Serialize)]
pub struct WriteProbes {
    /// By URL, method, then identity in scenario order.
    pub probes: Vec<WriteProbe>,
    /// (method, url, why) of actions in `write_scope` that were not sent.
    pub not_sent: Vec<NotSent>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotSent {
    pub method: String,
    pub url: String,
    pub why: String,
}
