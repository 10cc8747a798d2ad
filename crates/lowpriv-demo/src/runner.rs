//! `lowpriv demo`: serve the Site on a loopback port, run the embedded demo scenario against
//! it, stop the Site. The binary, the end-to-end tests and the benchmarks all run the demo
//! through here, so there is one demo runner.

use lowpriv::scenario::{self, Scenario};
use lowpriv::{RunOptions, RunResult};

use crate::{
    DemoConfig, DemoSite, DemoStats, HR_URL_VAR, SCENARIO, SCENARIO_PATH, demo_env, random_secret,
};

/// Why the demo could not be run at all (a run that happened, however it ended, is `Ok`).
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot serve the demo Site")]
    Serve {
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Run(#[from] lowpriv::Error),
}

impl From<scenario::ScenarioError> for DemoError {
    fn from(err: scenario::ScenarioError) -> Self {
        DemoError::Run(lowpriv::Error::Scenario(err))
    }
}

/// Serves the demo Site (flawed, or `fixed`), runs the demo scenario against it, and returns
/// the result with the Site's trap counters (which must all stay 0).
pub async fn run(fixed: bool, options: &RunOptions) -> Result<(RunResult, DemoStats), DemoError> {
    let config = DemoConfig {
        fixed,
        ..Default::default()
    };
    run_with(config, |_| {}, options).await
}

/// [`run`] with a Site configuration of the caller's (its runtime secret is replaced by a
/// random one) and a last word on the scenario (benchmarks lift the politeness limits).
pub async fn run_with(
    mut config: DemoConfig,
    adjust: impl FnOnce(&mut Scenario),
    options: &RunOptions,
) -> Result<(RunResult, DemoStats), DemoError> {
    config.db_password = random_secret();
    let db_password = config.db_password.clone();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let site = DemoSite::start(config, addr)
        .await
        .map_err(|source| DemoError::Serve { source })?;
    // The HR API's port is only known once it is served: the scenario names it by variable.
    let hr_url = site.hr_url.to_string();
    let env = |var: &str| match var {
        "DB_PASSWORD" => Some(db_password.clone()),
        HR_URL_VAR => Some(hr_url.clone()),
        _ => demo_env(var),
    };
    let mut scenario = match scenario::parse(SCENARIO, std::path::Path::new(SCENARIO_PATH), &env) {
        Ok(scenario) => scenario,
        Err(err) => {
            site.shutdown().await;
            return Err(err.into());
        }
    };
    scenario.site.base_url = site.base_url.clone();
    adjust(&mut scenario);
    let result = lowpriv::run(&scenario, options).await;
    let stats = site.stats();
    site.shutdown().await;
    Ok((result?, stats))
}
