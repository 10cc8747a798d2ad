//! Source systems (`[[source]]`): each is probed as each identity, with that identity's own
//! login to the source, and what it returned derives what that identity may see on the Site.
//!
//! Input: the scenario's sources and the Site's identities. Output: a [`SourceLog`], one
//! [`SourceProbes`] per source. Invariants: only GET is sent; each source's credentials go
//! only to its own origin (and the Site's never do); the same politeness as the Site's crawl
//! (rate limit, concurrency, timeouts, body bound); a source login that fails, or a probe
//! answered with an error, makes the source's answers unknown, which the judge reports as
//! incomplete (never a pass).

use serde::Serialize;

use crate::observe::Observation;

/// How one identity fared logging in to one source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceIdentity {
    pub identity: String,
    /// The login kind (`bearer`, `form`, ...), or `none` when sent without credentials.
    pub login: &'static str,
    pub logged_in: bool,
    /// Why the login failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// One source: who logged in, and every probe as every identity.
#[derive(Clone, Debug, Serialize)]
pub struct SourceProbes {
    pub name: String,
    pub base_url: String,
    /// In scenario order.
    pub identities: Vec<SourceIdentity>,
    /// One per (probe, identity), by probe in file order then identity in scenario order.
    /// An identity whose source login failed has none.
    pub observations: Vec<Observation>,
}

/// Every source of a run, in file order.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SourceLog {
    pub sources: Vec<SourceProbes>,
}
