//! The Site's shared state and its route table.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::routing::get;

use super::Counters;
use super::data::{self, Employee};
use super::{DemoConfig, api, auth, hostile, pages};

/// Everything the handlers share.
pub(crate) struct Site {
    fixed: bool,
    /// Flaws served even when `fixed` (to make one exposure change at a time).
    reopened: Vec<super::Flaw>,
    pub(crate) db_password: String,
    pub(crate) employees: Vec<Employee>,
    pub(crate) foreign_url: url::Url,
    pub(crate) stats: Arc<Counters>,
    /// Form-login session id -> index into `ACCOUNTS`.
    pub(crate) sessions: Mutex<HashMap<String, usize>>,
    /// `csrf_pre` cookie value -> the CSRF token issued with it.
    pub(crate) csrf: Mutex<HashMap<String, String>>,
    /// Every form-login session id ever issued, for `/_demo/issued`.
    pub(crate) issued: Mutex<Vec<String>>,
    pub(crate) faults: super::Faults,
    /// Requests counted for `faults` (login and `/_demo/*` excepted).
    pub(crate) requests: std::sync::atomic::AtomicU64,
    /// Requests made with each form-login session, for `faults.session_ttl`.
    session_uses: Mutex<HashMap<String, u32>>,
    /// Requests (by path, query and credentials) that already failed once: the same request
    /// never fails twice, so a client that retries always recovers.
    pub(crate) failed_once: Mutex<std::collections::HashSet<String>>,
}

pub(crate) type SiteState = Arc<Site>;

impl Site {
    /// Whether this flaw is fixed in the Site being served.
    pub(crate) fn is_fixed(&self, flaw: super::Flaw) -> bool {
        self.fixed && !self.reopened.contains(&flaw)
    }
}

/// A poisoned lock only means another handler panicked mid-update; the maps
/// stay usable for a demo, so carry on rather than fail every later request.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) fn router(config: DemoConfig, foreign_url: url::Url, stats: Arc<Counters>) -> Router {
    let site = Arc::new(Site {
        fixed: config.fixed,
        reopened: config.reopened,
        faults: config.faults,
        requests: std::sync::atomic::AtomicU64::new(0),
        session_uses: Mutex::new(HashMap::new()),
        failed_once: Mutex::new(std::collections::HashSet::new()),
        db_password: config.db_password,
        employees: data::employees(config.extra_employees),
        foreign_url,
        stats,
        sessions: Mutex::new(HashMap::new()),
        csrf: Mutex::new(HashMap::new()),
        issued: Mutex::new(Vec::new()),
    });
    Router::new()
        .route("/login", get(auth::login_page).post(auth::login_submit))
        .route("/logout", get(auth::logout))
        .route("/", get(pages::home))
        .route("/dashboard", get(pages::dashboard))
        .route("/search", get(pages::search))
        .route("/reports/quarterly", get(pages::quarterly))
        .route("/admin/users", get(pages::admin_users))
        .route("/admin/users/{id}/delete", get(pages::admin_delete))
        .route("/payroll/summary", get(pages::payroll_summary))
        .route("/hr/reviews", get(pages::hr_reviews))
        .route("/hr/employees", get(pages::hr_employees))
        .route("/go/partner", get(pages::go_partner))
        .route("/healthz", get(api::healthz))
        .route("/robots.txt", get(api::robots))
        .route("/openapi.json", get(api::openapi))
        .route("/static/app.js", get(api::app_js))
        .route("/api/me", get(api::me))
        .route("/api/directory", get(api::directory))
        .route(
            "/api/employees/{id}",
            get(api::employee).delete(api::employee_delete),
        )
        .route("/api/team/metrics", get(api::team_metrics))
        .route("/api/admin/stats", get(api::admin_stats))
        .route("/api/admin/audit", get(api::admin_audit))
        .route("/_demo/stats", get(api::demo_stats))
        .route("/_demo/issued", get(api::demo_issued))
        .route("/_bad/foreign-login", get(hostile::foreign_login))
        .route("/calendar/{date}", get(super::chaos::calendar))
        .merge(hostile::router())
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(site.clone(), faults))
        .with_state(site)
}

/// Injects the configured faults before the handler runs.
async fn faults(
    axum::extract::State(site): axum::extract::State<SiteState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let faults = &site.faults;
    if faults.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(faults.latency_ms)).await;
    }
    let path = request.uri().path();
    if path != "/login" && !path.starts_with("/_demo/") {
        let n = site
            .requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        // In a block of its own: the closures borrow the request, which must not be held
        // across the awaits below.
        let knob_fault = {
            let due = |every: Option<u64>| every.is_some_and(|k| k > 0 && n % k == 0);
            let first_failure = || {
                let headers = request.headers();
                let credentials = [
                    header_text(headers, "cookie"),
                    header_text(headers, "authorization"),
                ];
                let key = format!("{} {}", request.uri(), credentials.join(";"));
                lock(&site.failed_once).insert(key)
            };
            if due(faults.unavailable_every) && first_failure() {
                Some((axum::http::StatusCode::SERVICE_UNAVAILABLE, "try again").into_response())
            } else if due(faults.throttle_every) && first_failure() {
                Some(
                    (
                        axum::http::StatusCode::TOO_MANY_REQUESTS,
                        [(axum::http::header::RETRY_AFTER, "1")],
                        "slow down",
                    )
                        .into_response(),
                )
            } else {
                None
            }
        };
        if let Some(fault) = knob_fault {
            return fault;
        }
        let ttl = faults.session_ttl.or_else(|| {
            faults
                .chaos
                .contains(&super::Chaos::SessionExpiry)
                .then_some(super::chaos::SESSION_EXPIRY_TTL)
        });
        if let (Some(ttl), Some(sid)) = (ttl, auth::cookie(request.headers(), "sid")) {
            let mut uses = lock(&site.session_uses);
            let used = uses.entry(sid.clone()).or_insert(0);
            *used += 1;
            if *used > ttl {
                lock(&site.sessions).remove(&sid);
            }
        }
        if !faults.chaos.is_empty() {
            let uri = request.uri().clone();
            if let Some(fault) = super::chaos::before(&site, &uri, request.headers()) {
                return fault;
            }
            let response = next.run(request).await;
            return super::chaos::after(&site, &uri, response).await;
        }
    }
    next.run(request).await
}

fn header_text(headers: &axum::http::HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}
