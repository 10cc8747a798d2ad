//! The validated scenario: what `scenario::load` returns and every later stage reads.
//!
//! Invariants (checked by the parser, relied on downstream): identity names are unique;
//! every name in an `[[expect]]` or `belongs_to` is a declared identity or a tier; every glob
//! compiles, and is compiled once, into the [`PathGlobs`] that carries it; every `${VAR}` is
//! resolved; secrets live only in [`Secret`].

use std::fmt;
use std::path::PathBuf;

use url::Url;

use super::glob::PathGlobs;

/// A credential or secret value. `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The real value, for the one place that must send or match it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Who an identity is relative to the Site's audience. Ordered from least to most trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    External,
    Company,
    Team,
    Admin,
    Owner,
}

impl Tier {
    pub const ALL: [Tier; 5] = [
        Tier::Owner,
        Tier::Admin,
        Tier::Team,
        Tier::Company,
        Tier::External,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::External => "external",
            Tier::Company => "company",
            Tier::Team => "team",
            Tier::Admin => "admin",
            Tier::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Rank used when an identity declares none: keeps tiers ordered and leaves room between.
    pub fn default_rank(self) -> i64 {
        match self {
            Tier::External => 0,
            Tier::Company => 20,
            Tier::Team => 40,
            Tier::Admin => 80,
            Tier::Owner => 100,
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who the Site is shared with now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    Draft,
    Team,
    Company,
    External,
}

impl Audience {
    pub const ALL: [Audience; 4] = [
        Audience::Draft,
        Audience::Team,
        Audience::Company,
        Audience::External,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Draft => "draft",
            Audience::Team => "team",
            Audience::Company => "company",
            Audience::External => "external",
        }
    }

    pub fn parse(s: &str) -> Option<Audience> {
        Audience::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Whether an identity of this tier is inside the audience.
    pub fn admits(self, tier: Tier) -> bool {
        let lowest = match self {
            Audience::Draft => Tier::Admin,
            Audience::Team => Tier::Team,
            Audience::Company => Tier::Company,
            Audience::External => Tier::External,
        };
        tier >= lowest
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A place in the scenario file, for pointing a finding back at its declaration.
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize)]
pub struct Location {
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

#[derive(Clone, Debug)]
pub struct Scenario {
    /// The file it was read from (as given on the command line).
    pub file: PathBuf,
    pub site: Site,
    pub session: SessionConfig,
    pub crawl: CrawlConfig,
    pub identities: Vec<Identity>,
    /// In file order.
    pub data: Vec<DataClass>,
    /// In file order.
    pub expects: Vec<Expectation>,
    /// Reviewed findings kept out of the verdict until their date passes, in file order.
    pub accepts: Vec<Acceptance>,
    /// `[classify]`: which default-on secret rules are turned off.
    pub classify: ClassifyConfig,
    /// `[[source]]`: the systems the Site reads its data from, probed as each identity to
    /// derive what each may see. In file order; names are unique.
    pub sources: Vec<Source>,
}

impl Scenario {
    /// The secret rules that run on every response under their own name: every secret
    /// builtin the scenario neither declares a class for (then the declared name is used)
    /// nor turns off in `[classify] disable`. In [`Builtin::ALL`] order.
    pub fn default_secrets(&self) -> Vec<Builtin> {
        Builtin::ALL
            .into_iter()
            .filter(|b| b.is_secret())
            .filter(|b| !self.classify.disable.contains(b))
            .filter(|b| {
                !self
                    .data
                    .iter()
                    .any(|c| matches!(c.kind, DataKind::Builtin(d) if d == *b))
            })
            .collect()
    }
}

/// `[classify]`: how the built-in detectors run.
#[derive(Clone, Debug, Default)]
pub struct ClassifyConfig {
    /// Secret rules not run by default (a declared `[data]` class of the same builtin still
    /// runs). In file order, without repeats.
    pub disable: Vec<Builtin>,
}

/// The finding kinds a scenario may name (`[[accept]] kind`), as the judge spells them; the
/// judge's tests check this list against its own.
pub const FINDING_KINDS: &[&str] = &[
    "rule-violation",
    "data-exposure",
    "audience-leak",
    "unlinked-reachable",
    "secret-exposed",
    "cross-identity-data",
    "inverted-privilege",
    "source-bypass",
    "action-exposure",
    "forbidden-action",
    "unauthorized-write",
    "graphql-schema-wider",
    "review-overdue",
    "site-expired",
    "login-failed",
    "inconclusive",
];

/// Kinds no `[[accept]]` may take out of the verdict: they say the run did not see the Site,
/// and accepting that would be a green over nothing.
pub const UNACCEPTABLE_KINDS: &[&str] = &["login-failed", "inconclusive"];

/// `[[accept]]`: a reviewed finding, kept visible in every report but out of the verdict until
/// `expires` passes.
#[derive(Clone, Debug)]
pub struct Acceptance {
    pub location: Location,
    /// One of [`FINDING_KINDS`], never one of [`UNACCEPTABLE_KINDS`].
    pub kind: String,
    /// Empty: every path (and the Site-wide findings, which have none).
    pub paths: PathGlobs,
    /// Empty: every identity.
    pub identities: Vec<String>,
    pub reason: String,
    /// The last day the acceptance holds.
    pub expires: jiff::civil::Date,
}

/// `[[source]]`: a system the Site reads its data from (an HR API, a document store), with
/// how each identity logs in to it and which of its read endpoints to probe.
#[derive(Clone, Debug)]
pub struct Source {
    /// Unique among the sources; what `[data.X] source = "..."` names.
    pub name: String,
    /// The source's origin (and base path): probes resolve against it, and its credentials
    /// are sent nowhere else.
    pub base_url: Url,
    /// `probes = [PATHS]`: its read endpoints (path and query, no `{param}`), each sent as
    /// every identity with GET. In file order, at least one.
    pub probes: Vec<String>,
    /// `[source.login.IDENTITY]`: how that identity logs in to the source (any login kind).
    /// An identity with none is sent without credentials. In file order; every name is a
    /// declared identity.
    pub logins: Vec<(String, Login)>,
    pub location: Location,
}

impl Source {
    /// How `identity` logs in to this source, if the scenario says.
    pub fn login_for(&self, identity: &str) -> Option<&Login> {
        self.logins
            .iter()
            .find(|(name, _)| name == identity)
            .map(|(_, login)| login)
    }
}

#[derive(Clone, Debug)]
pub struct Site {
    pub name: String,
    /// Always has a trailing-slash-free path prefix; only its origin and path are used.
    pub base_url: Url,
    pub audience: Audience,
    pub owner: Option<String>,
    pub data_sources: Vec<String>,
    pub last_review: Option<jiff::civil::Date>,
    pub review_every_days: Option<u32>,
    pub expires: Option<jiff::civil::Date>,
    /// Path globs anyone may reach, as written (what reports print); always
    /// `public_globs.patterns()`.
    pub public: Vec<String>,
    /// The same globs, compiled.
    pub public_globs: PathGlobs,
}

impl Site {
    /// The day a review falls due: `last_review + review_every_days`.
    pub fn review_due(&self) -> Option<jiff::civil::Date> {
        let (last, days) = (self.last_review?, self.review_every_days?);
        last.checked_add(jiff::Span::new().days(i64::from(days)))
            .ok()
    }
}

#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// Default "/login".
    pub login_path: String,
    /// Default empty.
    pub deny_markers: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct CrawlConfig {
    /// Paths (or same-origin absolute URLs) to start from. Default ["/"].
    pub seeds: Vec<String>,
    /// Path globs. Default ["/**"].
    pub scope: PathGlobs,
    /// Path globs, added to the built-in destructive defaults. Default empty.
    pub exclude: PathGlobs,
    pub openapi: Option<String>,
    /// `graphql = "/graphql"`: the Site's GraphQL endpoint (a same-origin path). Setting it is
    /// what allows lowpriv's read-only POSTs there: the introspection query and generated
    /// queries of root query fields, as every identity; never a mutation or a subscription.
    /// Default none: nothing is ever POSTed to it.
    pub graphql: Option<String>,
    /// Default 8.
    pub max_depth: u32,
    /// Per identity. Default 5000.
    pub max_requests: u32,
    /// In flight per identity. Default 8.
    pub concurrency: usize,
    /// Requests per second to the Site, all identities together. Default 20.
    pub rate_limit: u32,
    /// Default 15.
    pub timeout_secs: u64,
    /// Default [`DEFAULT_MAX_BODY_BYTES`] (32 MiB).
    pub max_body_bytes: u64,
    /// Error cells tolerated, as a share of the observed matrix in percent, when none of them
    /// touches an `[[expect]]` path rule. Default 0: any error cell makes the run inconclusive.
    pub error_budget_percent: u32,
    /// Requests of one template (`/calendar/{date}`, `/search?q={q}`) sent per identity: its
    /// sample. The most novel variants are chosen first (a new set of query keys, then new
    /// values); the rest are *sampled out*, counted, never a hole. Default 10.
    pub max_per_template: u32,
    /// Which query keys only present data (sort, page, format, facet) and which select it.
    pub params: QueryParams,
    /// `probe_writes = true`: send each action whose path is in `write_scope` with an empty
    /// body, as every identity, to tell refused (401/403) from authorized to attempt
    /// (400/422). Default false: no action is ever sent.
    pub probe_writes: bool,
    /// Path globs of the actions write probes may send. Default empty (none), even with
    /// `probe_writes`.
    pub write_scope: PathGlobs,
}

/// Query keys that only sort, page, size, format or facet a view: a URL's template ignores
/// them, so `/data/employees?_sort=name&_page=2` is one row with `/data/employees`. Keys that
/// select data keep their place in the template (`/search?q={q}`), as does any key in neither
/// list: a key we do not know is assumed to select data, since collapsing a data-selecting
/// key could hide a row, while keeping a presentation key only costs a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryParams {
    /// The built-in list plus `[crawl] presentation_params`, minus `[crawl] data_params`.
    pub presentation: std::collections::BTreeSet<String>,
    /// The built-in list plus `[crawl] data_params`, minus `[crawl] presentation_params`.
    pub data: std::collections::BTreeSet<String>,
}

impl QueryParams {
    /// Sorting, paging, sizing, formats and facets as common frameworks spell them: generic
    /// names, Datasette's `_`-prefixed ones, Django admin's `o`, `p`, `all` and
    /// `_changelist_filters` (the list's filters carried to a change form and back).
    pub const PRESENTATION: &'static [&'static str] = &[
        "sort",
        "sort_by",
        "order",
        "order_by",
        "ordering",
        "dir",
        "direction",
        "page",
        "per_page",
        "page_size",
        "pagesize",
        "limit",
        "offset",
        "format",
        "_sort",
        "_sort_desc",
        "_size",
        "_page",
        "_next",
        "_facet",
        "_format",
        "_shape",
        "_labels",
        "o",
        "p",
        "all",
        "_changelist_filters",
    ];
    /// Keys that select which data a page shows; their values are what a sample should vary.
    pub const DATA: &'static [&'static str] = &[
        "id", "q", "query", "sql", "filter", "search", "where", "_where", "_search",
    ];

    /// The built-in lists, extended by a scenario: a key the scenario names moves from the
    /// other built-in list into its own.
    pub fn new(presentation: &[String], data: &[String]) -> QueryParams {
        let mut out = QueryParams::default();
        for key in presentation {
            out.data.remove(key);
            out.presentation.insert(key.clone());
        }
        for key in data {
            out.presentation.remove(key);
            out.data.insert(key.clone());
        }
        out
    }

    pub fn is_presentation(&self, key: &str) -> bool {
        self.presentation.contains(key)
    }
}

impl Default for QueryParams {
    fn default() -> Self {
        let set = |keys: &[&str]| keys.iter().map(|k| k.to_string()).collect();
        QueryParams {
            presentation: set(Self::PRESENTATION),
            data: set(Self::DATA),
        }
    }
}

/// 32 MiB: a real single-page app ships bundles of several megabytes (and source maps of
/// tens), and a bundle is exactly where a build leaks a key; 5 MB cut them and made the run
/// inconclusive. Memory stays bounded: at most `concurrency` bodies in flight per identity.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;

impl Default for CrawlConfig {
    fn default() -> Self {
        CrawlConfig {
            seeds: vec!["/".to_string()],
            scope: PathGlobs::every_path(),
            exclude: PathGlobs::empty(),
            openapi: None,
            graphql: None,
            max_depth: 8,
            max_requests: 5000,
            concurrency: 8,
            rate_limit: 20,
            timeout_secs: 15,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            error_budget_percent: 0,
            max_per_template: 10,
            params: QueryParams::default(),
            probe_writes: false,
            write_scope: PathGlobs::empty(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Identity {
    pub name: String,
    pub tier: Tier,
    /// Declared `rank`, or [`Tier::default_rank`].
    pub rank: i64,
    /// Identities this one is at least as privileged as (`includes`): what they may reach,
    /// so may it. Only where some identity declares it does the judge use a declared order;
    /// otherwise it infers one from the run.
    pub includes: Vec<String>,
    /// None: no login (anonymous).
    pub login: Option<Login>,
}

#[derive(Clone, Debug)]
pub struct Login {
    pub method: LoginMethod,
    /// None: the default proof (the first seed is allowed and is not the login page).
    pub verify: Option<Verify>,
    /// `totp = { field, seed }`: a form or JSON login's second factor, the current code sent
    /// in `field` beside the other fields.
    pub totp: Option<Totp>,
}

/// A TOTP second factor: the field its code goes in, and the base32 seed (a secret).
#[derive(Clone, Debug)]
pub struct Totp {
    pub field: String,
    pub seed: Secret,
}

#[derive(Clone, Debug)]
pub enum LoginMethod {
    /// GET `form`, fill the form that has a password field with `fields`, submit it.
    Form {
        form: String,
        /// (input name, value) in file order. Every value is treated as secret in output.
        fields: Vec<(String, Secret)>,
    },
    /// POST `fields` to `path` as a JSON object (or form-encoded, `form_encoded`), and take
    /// the session from the answer: the cookies it sets, and the token at the JSON pointer
    /// `token` when given, sent as `Authorization: Bearer` or in `token_header`.
    Json {
        path: String,
        fields: Vec<(String, Secret)>,
        form_encoded: bool,
        token: Option<String>,
        token_header: Option<String>,
        /// `refresh = PATH` with `refresh_token = POINTER`: where a lost session is renewed
        /// with the refresh token the login answered (at POINTER), instead of the password.
        refresh: Option<Refresh>,
    },
    /// `oauth2 = { ... }`: a token from an OAuth2 token endpoint (or an OIDC issuer's), sent
    /// as a bearer, and a new one asked for when the session is lost.
    OAuth2(OAuth2),
    Bearer(Secret),
    Basic {
        user: String,
        password: Secret,
    },
    /// A `Cookie` header value such as `sid=...`, possibly several `a=b; c=d`.
    Cookie(Secret),
    /// Extra request headers (name, value).
    Headers(Vec<(String, Secret)>),
}

impl LoginMethod {
    pub fn kind(&self) -> &'static str {
        match self {
            LoginMethod::Form { .. } => "form",
            LoginMethod::Json { .. } => "json",
            LoginMethod::OAuth2(_) => "oauth2",
            LoginMethod::Bearer(_) => "bearer",
            LoginMethod::Basic { .. } => "basic",
            LoginMethod::Cookie(_) => "cookie",
            LoginMethod::Headers(_) => "headers",
        }
    }
}

/// An OAuth2 login: where the token comes from, and the grant.
#[derive(Clone, Debug)]
pub struct OAuth2 {
    pub endpoint: TokenEndpoint,
    pub grant: Grant,
    pub client_id: String,
    /// A confidential client's secret, sent with HTTP Basic (RFC 6749 §2.3.1); a public
    /// client sends only its `client_id`.
    pub client_secret: Option<Secret>,
    /// Space-separated, as the token endpoint reads it.
    pub scope: Option<String>,
}

/// Where the token endpoint is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenEndpoint {
    /// `token_url`: a path on the Site, or an absolute URL (an IdP is often another origin).
    Url(String),
    /// `issuer`: an OIDC issuer; its `/.well-known/openid-configuration` names the endpoint.
    Issuer(String),
}

/// The OAuth2 grant a login uses.
#[derive(Clone, Debug)]
pub enum Grant {
    /// The client's own identity (a service account).
    ClientCredentials,
    /// The resource-owner password grant: deprecated by the OAuth 2.0 Security Best Current
    /// Practice, so a scenario must name it (`grant = "password"`), and `check` warns.
    Password { username: String, password: Secret },
}

impl Grant {
    pub fn as_str(&self) -> &'static str {
        match self {
            Grant::ClientCredentials => "client_credentials",
            Grant::Password { .. } => "password",
        }
    }
}

/// How a JSON login's session is renewed: `POST path` with `{"refresh_token": ...}`, the
/// answer carrying a new access token at the login's `token` pointer and, when it rotates
/// them, a new refresh token at `token` (this pointer). A refresh that fails loses the
/// session: the password is not tried again behind the scenario's back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refresh {
    pub path: String,
    /// JSON pointer to the refresh token, in the login's answer and the refresh's.
    pub token: String,
}

#[derive(Clone, Debug)]
pub struct Verify {
    pub path: String,
    pub contains: Option<String>,
}

#[derive(Clone, Debug)]
pub struct DataClass {
    pub name: String,
    pub kind: DataKind,
    /// Only for `text` canaries: the identity whose records carry it.
    pub belongs_to: Option<String>,
    /// `source = "NAME"`: the `[[source]]` this data comes from; an identity may see it on
    /// the Site only as far as its own probes of that source returned it. Never set on an
    /// `env` class (a secret has no source records).
    pub source: Option<String>,
    pub location: Location,
}

impl DataClass {
    /// A class made in code rather than read from a scenario (no owner, no location).
    pub fn new(name: &str, kind: DataKind) -> DataClass {
        DataClass {
            name: name.to_string(),
            kind,
            belongs_to: None,
            source: None,
            location: Location::default(),
        }
    }
}

#[derive(Clone, Debug)]
pub enum DataKind {
    /// Any JSON object key with one of these names, at any depth (case-insensitive); also an
    /// HTML table column whose header is one of these names.
    JsonKeys(Vec<String>),
    /// A built-in detector.
    Builtin(Builtin),
    /// A literal canary, matched case-sensitively.
    Text(String),
    /// A runtime secret's value, read from the environment variable `var`.
    Env { var: String, value: Secret },
    /// A user's regular expression, compiled by the parser (so it is known to be valid and
    /// under the size limit). `secret` classes raise `secret-exposed` like secret builtins.
    Pattern { regex: regex::Regex, secret: bool },
}

/// The built-in detectors. Each is a rule in the classifier's embedded rule file, under the
/// id [`Builtin::as_str`]; a test keeps the two lists and their `secret` flags in step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    Email,
    Phone,
    CreditCard,
    Iban,
    UsSsn,
    Jwt,
    PrivateKey,
    AwsAccessKey,
    GithubToken,
    GitlabToken,
    SlackToken,
    StripeKey,
    GoogleApiKey,
    OpenaiKey,
    ConnectionString,
    BcryptHash,
    Argon2Hash,
    Pbkdf2Hash,
    ScryptHash,
    Sha512CryptHash,
    GenericSecret,
}

impl Builtin {
    pub const ALL: [Builtin; 21] = [
        Builtin::Email,
        Builtin::Phone,
        Builtin::CreditCard,
        Builtin::Iban,
        Builtin::UsSsn,
        Builtin::Jwt,
        Builtin::PrivateKey,
        Builtin::AwsAccessKey,
        Builtin::GithubToken,
        Builtin::GitlabToken,
        Builtin::SlackToken,
        Builtin::StripeKey,
        Builtin::GoogleApiKey,
        Builtin::OpenaiKey,
        Builtin::ConnectionString,
        Builtin::BcryptHash,
        Builtin::Argon2Hash,
        Builtin::Pbkdf2Hash,
        Builtin::ScryptHash,
        Builtin::Sha512CryptHash,
        Builtin::GenericSecret,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Builtin::Email => "email",
            Builtin::Phone => "phone",
            Builtin::CreditCard => "credit_card",
            Builtin::Iban => "iban",
            Builtin::UsSsn => "us_ssn",
            Builtin::Jwt => "jwt",
            Builtin::PrivateKey => "private_key",
            Builtin::AwsAccessKey => "aws_access_key",
            Builtin::GithubToken => "github_token",
            Builtin::GitlabToken => "gitlab_token",
            Builtin::SlackToken => "slack_token",
            Builtin::StripeKey => "stripe_key",
            Builtin::GoogleApiKey => "google_api_key",
            Builtin::OpenaiKey => "openai_key",
            Builtin::ConnectionString => "connection_string",
            Builtin::BcryptHash => "bcrypt_hash",
            Builtin::Argon2Hash => "argon2_hash",
            Builtin::Pbkdf2Hash => "pbkdf2_hash",
            Builtin::ScryptHash => "scrypt_hash",
            Builtin::Sha512CryptHash => "sha512_crypt_hash",
            Builtin::GenericSecret => "generic_secret",
        }
    }

    pub fn parse(s: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// Secret-bearing classes raise `secret-exposed` wherever they appear. Personal data
    /// (email, phone, card, IBAN, SSN) is exposure to be judged by `[[expect]]` rules instead.
    pub fn is_secret(self) -> bool {
        !matches!(
            self,
            Builtin::Email | Builtin::Phone | Builtin::CreditCard | Builtin::Iban | Builtin::UsSsn
        )
    }
}

impl DataKind {
    /// Whether a hit of this class is a `secret-exposed` finding wherever it appears.
    pub fn is_secret(&self) -> bool {
        match self {
            DataKind::Env { .. } => true,
            DataKind::Builtin(b) => b.is_secret(),
            DataKind::Pattern { secret, .. } => *secret,
            DataKind::JsonKeys(_) | DataKind::Text(_) => false,
        }
    }
}

/// An identity named directly, or every identity of a tier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    Identity(String),
    Tier(Tier),
}

impl Principal {
    pub fn matches(&self, identity: &Identity) -> bool {
        match self {
            Principal::Identity(name) => *name == identity.name,
            // A tier admits itself and every more privileged tier, as an audience does.
            Principal::Tier(tier) => identity.tier >= *tier,
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::Identity(name) => f.write_str(name),
            Principal::Tier(tier) => write!(f, "tier {tier} and above"),
        }
    }
}

/// One `[[expect]]` entry.
#[derive(Clone, Debug)]
pub struct Expectation {
    /// 0-based position among the `[[expect]]` entries.
    pub index: usize,
    /// Where the entry starts (its first key), for pointing findings back at it.
    pub location: Location,
    /// Path globs, as written (what reports print); always `path_globs.patterns()`. Empty for
    /// a pure data rule (then it applies to every path).
    pub paths: Vec<String>,
    /// The same globs, compiled. Empty for a pure data rule: test `is_empty` before matching.
    pub path_globs: PathGlobs,
    pub rule: ExpectRule,
}

#[derive(Clone, Debug)]
pub enum ExpectRule {
    /// Only these principals, and (if set) identities with rank >= min_rank, may be `allowed`
    /// on the paths; everyone else must be denied or hidden.
    Access {
        allow: Vec<Principal>,
        min_rank: Option<i64>,
    },
    /// Data class `data` may be seen only by `visible_to` (on `paths`, if any).
    Data {
        data: String,
        visible_to: Vec<Principal>,
    },
    /// `actions = [GLOBS]`: the actions (forms, non-GET operations, JS calls with a method)
    /// whose path matches `path_globs` are of `kind`, and only `allow` may be shown them
    /// (`forbidden`: nobody may). `paths` holds the `actions` globs for this rule.
    Actions {
        allow: Vec<Principal>,
        kind: ActionKind,
    },
}

/// What an action does, as the scenario declares it (`kind = "write" | "confirm" |
/// "forbidden"`); an action no rule declares is `write` when its method is not GET.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    /// Changes something (the default for a non-GET action).
    Write,
    /// Changes something only after the user confirms it (a second step).
    Confirm,
    /// Must not be offered to anyone.
    Forbidden,
}

impl ActionKind {
    pub const ALL: [ActionKind; 3] = [
        ActionKind::Write,
        ActionKind::Confirm,
        ActionKind::Forbidden,
    ];

    /// As the scenario spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Write => "write",
            ActionKind::Confirm => "confirm",
            ActionKind::Forbidden => "forbidden",
        }
    }

    pub fn parse(s: &str) -> Option<ActionKind> {
        ActionKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl Expectation {
    /// Whether the access rule admits this identity (data rules admit everyone).
    pub fn admits(&self, identity: &Identity) -> bool {
        match &self.rule {
            ExpectRule::Access { allow, min_rank } => {
                allow.iter().any(|p| p.matches(identity))
                    || min_rank.is_some_and(|min| identity.rank >= min)
            }
            ExpectRule::Data { .. } => true,
            ExpectRule::Actions { allow, .. } => allow.iter().any(|p| p.matches(identity)),
        }
    }
}
