use url::Url;

/// Why one request could not produce a response. Becomes an `error` observation, never an abort.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("refused to send to another origin: {url}")]
    OffOrigin { url: Url },
    #[error("timed out after {secs} s")]
    Timeout { secs: u64 },
    #[error("connection failed")]
    Connect {
        #[source]
        source: reqwest::Error,
    },
    #[error("redirect loop after {hops} hops (last: {last})")]
    RedirectLoop { hops: usize, last: Url },
    #[error("redirect with an invalid Location header")]
    BadRedirect,
    /// The first `limit` bytes are kept so what they carry is still classified.
    #[error("body exceeds max_body_bytes ({limit} bytes)")]
    BodyTooLarge { limit: u64, prefix: Vec<u8> },
    #[error("the gzip body could not be decoded")]
    Decode {
        #[source]
        source: super::gunzip::GunzipError,
    },
    #[error("response broken off while reading the body")]
    Body {
        #[source]
        source: reqwest::Error,
    },
    #[error("request failed")]
    Request {
        #[source]
        source: reqwest::Error,
    },
    #[error("not sent: {reason}")]
    Stopped { reason: String },
    #[error("session lost: {reason}")]
    SessionLost { reason: String },
    /// A request the scenario did not opt in to; never sent.
    #[error("not sent: {what} is not allowed")]
    NotAllowed { what: &'static str },
}

impl FetchError {
    /// One line for reports: the message and its causes, which never carry credentials
    /// (reqwest errors name the URL only, and our URLs carry none).
    pub fn describe(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            if !text.contains(&cause_text) {
                text.push_str(": ");
                text.push_str(&cause_text);
            }
            source = cause.source();
        }
        text
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("login form page {url} could not be fetched: {reason}")]
    FormPage { url: String, reason: String },
    #[error("login form page {url} answered {status}")]
    FormStatus { url: String, status: u16 },
    #[error("no form with a password field at {url}")]
    FormNotFound { url: String },
    #[error("the login form at {url} has no field `{field}` (it has: {available})")]
    FieldMissing {
        url: String,
        field: String,
        available: String,
    },
    #[error("the login form posts to another origin ({action}); credentials stay home")]
    ForeignAction { action: String },
    #[error("submitting the login form failed: {reason}")]
    Submit { reason: String },
    #[error("proof of login failed: {reason}")]
    Verify { reason: String },
    #[error("invalid credential header `{name}`")]
    BadHeader { name: String },
    #[error("could not build the HTTP client")]
    Client {
        #[source]
        source: reqwest::Error,
    },
}
