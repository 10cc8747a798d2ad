//! How the command line shows a run's progress: bars per identity on a terminal, a few plain
//! lines on stderr elsewhere (CI logs, pipes), nothing with `-q`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use lowpriv::progress::Progress;

#[derive(Default)]
struct Counts {
    answered: u64,
    errors: u64,
    queued: usize,
}

/// Live bars, one per identity: requests answered, queue, errors.
pub struct Bars {
    multi: MultiProgress,
    bars: Mutex<BTreeMap<String, (ProgressBar, Counts)>>,
}

impl Bars {
    pub fn new() -> Bars {
        Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(BTreeMap::new()),
        }
    }

    fn update(&self, identity: &str, change: impl FnOnce(&mut Counts)) {
        let Ok(mut bars) = self.bars.lock() else {
            return;
        };
        let (bar, counts) = bars.entry(identity.to_string()).or_insert_with(|| {
            let bar = self.multi.add(ProgressBar::new_spinner());
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} {prefix:>12} {pos:>6} answered  {msg}")
            {
                bar.set_style(style);
            }
            bar.set_prefix(identity.to_string());
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            (bar, Counts::default())
        });
        change(counts);
        bar.set_position(counts.answered);
        bar.set_message(format!(
            "{} queued · {} errors",
            counts.queued, counts.errors
        ));
    }
}

impl Progress for Bars {
    fn stage(&self, stage: &str) {
        let _ = self.multi.println(format!("lowpriv: {stage}…"));
    }

    fn answered(&self, identity: &str, error: bool) {
        self.update(identity, |c| {
            c.answered += 1;
            c.errors += u64::from(error);
        });
    }

    fn queued(&self, identity: &str, queued: usize) {
        self.update(identity, |c| c.queued = queued);
    }

    fn finish(&self) {
        if let Ok(bars) = self.bars.lock() {
            for (bar, _) in bars.values() {
                bar.finish_and_clear();
            }
        }
        let _ = self.multi.clear();
    }
}

/// A line per stage with the totals so far: readable in a CI log.
pub struct Lines {
    started: Instant,
    counts: Mutex<BTreeMap<String, Counts>>,
}

impl Lines {
    pub fn new() -> Lines {
        Lines {
            started: Instant::now(),
            counts: Mutex::new(BTreeMap::new()),
        }
    }

    fn totals(&self) -> String {
        let Ok(counts) = self.counts.lock() else {
            return String::new();
        };
        counts
            .iter()
            .map(|(identity, c)| format!("{identity} {} ({} errors)", c.answered, c.errors))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Progress for Lines {
    fn stage(&self, stage: &str) {
        let totals = self.totals();
        if totals.is_empty() {
            eprintln!("lowpriv: {stage}");
        } else {
            eprintln!("lowpriv: {stage} (answered so far: {totals})");
        }
    }

    fn answered(&self, identity: &str, error: bool) {
        if let Ok(mut counts) = self.counts.lock() {
            let c = counts.entry(identity.to_string()).or_default();
            c.answered += 1;
            c.errors += u64::from(error);
        }
    }

    fn finish(&self) {
        eprintln!(
            "lowpriv: done in {:.1} s (answered: {})",
            self.started.elapsed().as_secs_f64(),
            self.totals()
        );
    }
}
