//! How the command line shows a run's progress: bars per identity on a terminal, a few plain
//! lines on stderr elsewhere (CI logs, pipes), nothing with `-q`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use lowpriv::progress::{CrawlProgress, Progress};

#[derive(Default)]
struct Counts {
    answered: u64,
    errors: u64,
    queued: usize,
    /// The crawl's last round, once one is over.
    crawl: Option<CrawlProgress>,
}

impl Counts {
    /// `12 templates (3 waiting) · 240 URLs sent · 80 queued`, or just the queue before the
    /// crawl's first round is over.
    fn crawl_text(&self) -> String {
        match self.crawl {
            Some(c) => format!(
                "{} templates ({} waiting) · {} URLs sent · {} queued",
                c.templates_observed, c.templates_waiting, c.sent, c.queued
            ),
            None => format!("{} queued", self.queued),
        }
    }
}

/// Without a terminal, a crawl progress line at most this often: a CI log stays readable on a
/// long crawl and still shows it is alive.
const LINE_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

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
            "{} · {} errors",
            counts.crawl_text(),
            counts.errors
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

    fn crawled(&self, identity: &str, progress: CrawlProgress) {
        self.update(identity, |c| {
            c.queued = progress.queued;
            c.crawl = Some(progress);
        });
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
    /// When the last crawl line was printed ([`LINE_EVERY`]).
    last_line: Mutex<Instant>,
}

impl Lines {
    pub fn new() -> Lines {
        Lines {
            started: Instant::now(),
            counts: Mutex::new(BTreeMap::new()),
            last_line: Mutex::new(Instant::now()),
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

    fn crawled(&self, identity: &str, progress: CrawlProgress) {
        let Ok(mut counts) = self.counts.lock() else {
            return;
        };
        counts.entry(identity.to_string()).or_default().crawl = Some(progress);
        let Ok(mut last) = self.last_line.lock() else {
            return;
        };
        if last.elapsed() < LINE_EVERY {
            return;
        }
        *last = Instant::now();
        let line: Vec<String> = counts
            .iter()
            .filter(|(_, c)| c.crawl.is_some())
            .map(|(identity, c)| format!("{identity}: {}", c.crawl_text()))
            .collect();
        eprintln!(
            "lowpriv: crawling, {:.0} s: {}",
            self.started.elapsed().as_secs_f64(),
            line.join("; ")
        );
    }

    fn finish(&self) {
        eprintln!(
            "lowpriv: done in {:.1} s (answered: {})",
            self.started.elapsed().as_secs_f64(),
            self.totals()
        );
    }
}
