//! The Site's route table: every handler under its path, the `/_bad/*` routes merged in,
//! the fallback, and the fault middleware (`chaos::faults`) in front of them all.
//!
//! The top of the Site: it alone names the handlers, so handlers never need each other.
//! Only `lib.rs` (`DemoSite::start`) sits above it.

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::config::DemoConfig;
use crate::state::{Counters, Site};
use crate::{api, auth, browser, chaos, graphql, hostile, pages, spa, team, watch};

pub(crate) fn router(
    config: DemoConfig,
    foreign_url: url::Url,
    hr_url: url::Url,
    stats: Arc<Counters>,
) -> Router {
    let data_browser = config.data_browser;
    let site = Site::new(config, foreign_url, hr_url, stats);
    let routes = Router::new()
        .route("/login", get(auth::login_page).post(auth::login_submit))
        .route("/api/auth/login", post(auth::login_json))
        .route("/api/auth/refresh", post(auth::refresh_json))
        .route("/oauth/token", post(auth::oauth_token))
        .route(
            "/.well-known/openid-configuration",
            get(auth::openid_configuration),
        )
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
        .route("/team", get(team::team))
        .route("/team/compensation", post(team::adjust))
        .route("/graphql", post(graphql::graphql))
        .route("/_bad/graphql-500", post(graphql::broken))
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
        .route("/calendar/{date}", get(chaos::calendar))
        .route("/app", get(spa::app))
        .route("/app/app.js", get(spa::app_js))
        .route("/app/live", get(spa::live))
        .route("/api/app/me", get(spa::me))
        .route("/api/app/people", get(spa::people))
        .route("/api/app/reports/{team}", get(spa::report))
        .route("/api/app/salaries", get(spa::salaries))
        .route("/api/app/notes", post(spa::notes))
        .route("/api/app/ping", get(spa::ping))
        .merge(hostile::router());
    // Off by default: without it the Site is exactly the one the demo scenario describes.
    let routes = if data_browser {
        routes
            .route("/data", get(browser::index))
            .route("/data/query", get(browser::query))
            .route("/data/{table}", get(browser::table))
    } else {
        routes
    };
    routes
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            site.clone(),
            chaos::faults,
        ))
        // The last layer is the outermost: every request is counted, faulted or not.
        .layer(axum::middleware::from_fn_with_state(
            site.clone(),
            watch::watch,
        ))
        .with_state(site)
}
