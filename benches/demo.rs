//! Full demo runs end to end over loopback HTTP: login, crawl, replay, observe, judge.
//! Prints wall time per run and request throughput, for the demo Site as shipped and for a
//! larger one (more employee records, each linked from HR's list and replayed as everyone).
//!
//! `cargo bench --bench demo` (`LOWPRIV_BENCH_RUNS=N` changes the number of runs).

use std::time::{Duration, Instant};

use lowpriv::RunOptions;
use lowpriv_demo::DemoConfig;

fn main() {
    let runs: usize = std::env::var("LOWPRIV_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let cases = [
        ("demo (flawed)", false, 0, runs),
        ("demo --fixed", true, 0, runs),
        ("flawed, 2000 extra records", false, 2000, 3),
    ];
    for (label, fixed, extra_employees, runs) in cases {
        let mut times: Vec<Duration> = Vec::new();
        let mut requests = 0;
        for _ in 0..runs {
            let config = DemoConfig {
                fixed,
                extra_employees,
                ..Default::default()
            };
            let started = Instant::now();
            let (result, stats) = runtime
                .block_on(lowpriv_demo::run_with(
                    config,
                    |scenario| {
                        // Measure lowpriv, not the politeness budget.
                        scenario.crawl.rate_limit = 1_000_000;
                        scenario.crawl.max_requests = 100_000;
                        scenario.crawl.max_per_template = 100_000;
                    },
                    &RunOptions::default(),
                ))
                .expect("demo run");
            times.push(started.elapsed());
            assert_eq!(stats.logout_hits + stats.delete_hits, 0);
            requests = result.summary.requests;
        }
        times.sort();
        let median = times[times.len() / 2];
        let total: Duration = times.iter().sum();
        println!(
            "{label:28} runs {runs:3}  requests/run {requests:6}  min {:8.1} ms  median {:8.1} ms  max {:8.1} ms  {:7.0} requests/s",
            times[0].as_secs_f64() * 1000.0,
            median.as_secs_f64() * 1000.0,
            times[times.len() - 1].as_secs_f64() * 1000.0,
            (requests * runs) as f64 / total.as_secs_f64(),
        );
    }
}
