//! One full demo run (flawed and fixed), end to end over loopback HTTP: login, crawl,
//! replay, observe, judge. Prints wall time per run and request throughput.
//!
//! `cargo bench --bench demo` (`LOWPRIV_BENCH_RUNS=N` to change the number of runs).

use std::time::{Duration, Instant};

use lowpriv::RunOptions;

fn main() {
    let runs: usize = std::env::var("LOWPRIV_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for fixed in [false, true] {
        let mut times: Vec<Duration> = Vec::new();
        let mut requests = 0;
        for _ in 0..runs {
            let started = Instant::now();
            let (result, _) = runtime
                .block_on(lowpriv::run_demo(fixed, &RunOptions::default()))
                .expect("demo run");
            times.push(started.elapsed());
            requests = result.summary.requests;
        }
        times.sort();
        let median = times[times.len() / 2];
        let total: Duration = times.iter().sum();
        println!(
            "demo{:8} runs {runs:3}  requests/run {requests:4}  min {:7.1} ms  median {:7.1} ms  max {:7.1} ms  {:7.0} requests/s",
            if fixed { " --fixed" } else { "" },
            times[0].as_secs_f64() * 1000.0,
            median.as_secs_f64() * 1000.0,
            times[times.len() - 1].as_secs_f64() * 1000.0,
            (requests * runs) as f64 / total.as_secs_f64(),
        );
    }
}
