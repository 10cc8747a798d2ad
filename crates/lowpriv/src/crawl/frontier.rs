//! The frontier: one identity's requests still to send, chosen for coverage, not URL count.
//!
//! Input: the requests a crawl finds ([`Frontier::offer`]), with the depth each was found at.
//! Output: rounds of requests to send ([`Frontier::next_round`]), and at the end a
//! [`Coverage`]: which templates were found, which were observed, how many URLs were sent and
//! how many were *sampled out*.
//!
//! Invariants:
//! - Novelty first. A round holds the most novel requests waiting: the first of a template
//!   never sent, else a new set of query keys for a known template, else a new value of a
//!   data-selecting key, else a new value of a presentation key, else a new combination.
//! - Each template gets a sample of at most `max_per_template` requests; what is past it is
//!   counted as sampled out, never a hole: the template's row is already observed.
//! - Determinism: a round depends only on what earlier rounds found, never on which response
//!   came first. The crawl offers a round's discoveries after the whole round is answered, in
//!   URL order; candidates of a template are chosen greedily in URL order, so the same
//!   candidates offered in any order give the same rounds; a round is sent in (template, URL)
//!   order, so a `max_requests` cut keeps the same prefix at any concurrency.
//! - A hole is a template found in reach and never sent (max_requests, max_depth): that alone
//!   makes the crawl incomplete, and [`Coverage::unobserved`] names it.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use url::Url;

use super::Request;
use super::scope::Routes;
use crate::scenario::QueryParams;

/// The bounds the frontier applies.
#[derive(Clone, Debug)]
pub struct Budget {
    pub max_per_template: usize,
    pub max_depth: u32,
    pub max_requests: usize,
}

/// Why a template found was never sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unobserved {
    /// The crawl reached `max_requests` with it still waiting.
    MaxRequests,
    /// Only found past `max_depth`.
    MaxDepth,
    /// The run was stopped (Ctrl-C, deadline) before it was sent.
    Stopped,
}

/// What one identity's crawl covered.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Coverage {
    /// Templates of every in-scope request found (sent or not).
    pub templates_found: BTreeSet<String>,
    /// Templates at least one request of which was sent.
    pub templates_observed: BTreeSet<String>,
    /// Distinct in-scope URLs found.
    pub urls_seen: usize,
    /// Requests sent by the crawl.
    pub urls_sent: usize,
    /// URLs of observed templates not sent: past `max_per_template`, past `max_depth`, or
    /// still waiting when `max_requests` was reached. Counted, not holes.
    pub sampled_out: usize,
    /// Templates found and never sent, with why: each one is a hole in the matrix.
    pub unobserved: BTreeMap<String, Unobserved>,
}

/// A request waiting, with what makes it novel.
#[derive(Clone, Debug)]
struct Candidate {
    request: Request,
    depth: u32,
    /// Every query key, sorted, deduplicated.
    keys: Vec<String>,
    /// (key, value) of keys that are not presentation.
    data: Vec<(String, String)>,
    /// (key, value) of presentation keys.
    presentation: Vec<(String, String)>,
}

/// What one template's sample holds so far.
#[derive(Debug, Default)]
struct Sample {
    chosen: usize,
    key_sets: BTreeSet<Vec<String>>,
    data: BTreeSet<(String, String)>,
    presentation: BTreeSet<(String, String)>,
}

impl Sample {
    /// 0 most novel. Only ever grows as the sample grows, so the smallest tier left in a
    /// template never goes down within a round.
    fn tier(&self, c: &Candidate) -> u8 {
        if self.chosen == 0 {
            0
        } else if !self.key_sets.contains(&c.keys) {
            1
        } else if c.data.iter().any(|p| !self.data.contains(p)) {
            2
        } else if c
            .presentation
            .iter()
            .any(|p| !self.presentation.contains(p))
        {
            3
        } else {
            4
        }
    }

    fn add(&mut self, c: &Candidate) {
        self.chosen += 1;
        self.key_sets.insert(c.keys.clone());
        self.data.extend(c.data.iter().cloned());
        self.presentation.extend(c.presentation.iter().cloned());
    }
}

/// One identity's frontier. See the module docs.
#[derive(Debug)]
pub struct Frontier {
    routes: Routes,
    params: QueryParams,
    budget: Budget,
    /// Every in-scope URL offered so far: each is considered once.
    seen: HashSet<Url>,
    /// Waiting, by template, in URL order.
    waiting: BTreeMap<String, BTreeMap<Url, Candidate>>,
    samples: BTreeMap<String, Sample>,
    /// Templates sent at least once (a chosen request the crawl really sent).
    sent: BTreeSet<String>,
    /// Requests found past `max_depth`, by template.
    too_deep: BTreeMap<String, Vec<Request>>,
    /// URLs past a full sample, counted when offered.
    over_budget: usize,
    urls_sent: usize,
}

impl Frontier {
    pub fn new(params: &QueryParams, budget: Budget) -> Frontier {
        Frontier {
            routes: Routes::default().with_params(params),
            params: params.clone(),
            budget,
            seen: HashSet::new(),
            waiting: BTreeMap::new(),
            samples: BTreeMap::new(),
            sent: BTreeSet::new(),
            too_deep: BTreeMap::new(),
            over_budget: 0,
            urls_sent: 0,
        }
    }

    /// The Site declared route templates (OpenAPI paths): later templates use them. What is
    /// waiting is filed again under its new template; samples already taken keep theirs.
    pub fn learn_routes(&mut self, routes: &BTreeSet<String>) {
        self.routes = Routes::new(routes.iter()).with_params(&self.params);
        let waiting = std::mem::take(&mut self.waiting);
        for candidate in waiting.into_values().flat_map(BTreeMap::into_values) {
            let template = self.template(&candidate.request.url);
            self.waiting
                .entry(template)
                .or_default()
                .insert(candidate.request.url.clone(), candidate);
        }
    }

    pub fn template(&self, url: &Url) -> String {
        self.routes.template(url)
    }

    /// Files an in-scope request found at `depth`. Returns false if it was offered before.
    /// A request past `max_depth` is kept aside: a hole if its template is never sent.
    pub fn offer(&mut self, request: Request, depth: u32) -> bool {
        if !self.seen.insert(request.url.clone()) {
            return false;
        }
        let template = self.template(&request.url);
        if depth > self.budget.max_depth {
            self.too_deep.entry(template).or_default().push(request);
            return true;
        }
        if self
            .samples
            .get(&template)
            .is_some_and(|s| s.chosen >= self.budget.max_per_template)
        {
            self.over_budget += 1;
            return true;
        }
        let candidate = self.candidate(request, depth);
        self.waiting
            .entry(template)
            .or_default()
            .insert(candidate.request.url.clone(), candidate);
        true
    }

    fn candidate(&self, request: Request, depth: u32) -> Candidate {
        let mut keys = Vec::new();
        let mut data = Vec::new();
        let mut presentation = Vec::new();
        for (key, value) in request.url.query_pairs() {
            let pair = (key.to_string(), value.to_string());
            keys.push(pair.0.clone());
            if self.params.is_presentation(&pair.0) {
                presentation.push(pair);
            } else {
                data.push(pair);
            }
        }
        keys.sort();
        keys.dedup();
        Candidate {
            request,
            depth,
            keys,
            data,
            presentation,
        }
    }

    /// The next round: every waiting request of the most novel tier any template offers,
    /// within each template's sample budget, in (template, URL) order. Empty when nothing
    /// waits. A template whose sample is full has the rest of its waiting URLs sampled out.
    pub fn next_round(&mut self) -> Vec<(Request, u32)> {
        let max = self.budget.max_per_template;
        let best = self
            .waiting
            .iter()
            .filter_map(|(template, group)| {
                let sample = self.samples.get(template);
                // A full sample offers nothing (its rest is sampled out below).
                if sample.is_some_and(|s| s.chosen >= max) {
                    return None;
                }
                group
                    .values()
                    .map(|c| sample.map_or(0, |s| s.tier(c)))
                    .min()
            })
            .min();
        let Some(best) = best else {
            return Vec::new();
        };
        let mut round = Vec::new();
        for (template, group) in &mut self.waiting {
            let sample = self.samples.entry(template.clone()).or_default();
            while sample.chosen < max {
                // The first most novel candidate in URL order: independent of arrival order.
                let pick = group
                    .iter()
                    .map(|(url, c)| (sample.tier(c), url))
                    .min()
                    .filter(|(tier, _)| *tier == best)
                    .map(|(_, url)| url.clone());
                let Some(candidate) = pick.and_then(|url| group.remove(&url)) else {
                    break;
                };
                sample.add(&candidate);
                round.push((candidate.request, candidate.depth));
            }
            if sample.chosen >= max {
                self.over_budget += group.len();
                group.clear();
            }
        }
        self.waiting.retain(|_, group| !group.is_empty());
        round
    }

    /// A request of the round was sent.
    pub fn sent(&mut self, request: &Request) {
        self.urls_sent += 1;
        self.sent.insert(self.template(&request.url));
    }

    /// Requests of a round that were never sent (`max_requests`, a stop): waiting again.
    pub fn unsent(&mut self, requests: impl IntoIterator<Item = (Request, u32)>) {
        for (request, depth) in requests {
            let template = self.template(&request.url);
            let candidate = self.candidate(request, depth);
            self.waiting
                .entry(template)
                .or_default()
                .insert(candidate.request.url.clone(), candidate);
        }
    }

    /// How many requests wait.
    pub fn waiting(&self) -> usize {
        self.waiting.values().map(BTreeMap::len).sum()
    }

    /// Templates waiting that were never sent.
    pub fn unseen_waiting(&self) -> usize {
        self.waiting
            .keys()
            .filter(|t| !self.sent.contains(*t))
            .count()
    }

    /// Templates sent so far.
    pub fn templates_sent(&self) -> usize {
        self.sent.len()
    }

    /// The crawl is over: what it covered, and the requests of holes (templates never sent)
    /// that were kept aside, to be listed as skipped. `stopped`: the run was stopped, so
    /// whatever still waits is the stop's doing.
    pub fn finish(self, stopped: bool) -> (Coverage, Vec<(Request, Unobserved)>) {
        let mut coverage = Coverage {
            templates_observed: self.sent.clone(),
            urls_seen: self.seen.len(),
            urls_sent: self.urls_sent,
            sampled_out: self.over_budget,
            ..Coverage::default()
        };
        let mut holes = Vec::new();
        let waiting_reason = if stopped {
            Unobserved::Stopped
        } else {
            Unobserved::MaxRequests
        };
        let left = self
            .waiting
            .into_iter()
            .map(|(t, group)| {
                let requests: Vec<Request> = group.into_values().map(|c| c.request).collect();
                (t, requests, waiting_reason)
            })
            .chain(
                self.too_deep
                    .into_iter()
                    .map(|(t, requests)| (t, requests, Unobserved::MaxDepth)),
            );
        for (template, requests, why) in left {
            if self.sent.contains(&template) {
                coverage.sampled_out += requests.len();
                continue;
            }
            let entry = coverage.unobserved.entry(template.clone()).or_insert(why);
            // Waiting (max_requests) says more than past the depth: a bigger budget covers it.
            *entry = (*entry).min(why);
            holes.extend(requests.into_iter().map(|r| (r, why)));
        }
        coverage.templates_found = coverage
            .templates_observed
            .iter()
            .chain(coverage.unobserved.keys())
            .cloned()
            .collect();
        (coverage, holes)
    }
}

impl Coverage {
    /// Why the crawl is incomplete, naming the first few templates never sent and the
    /// setting that would cover them; `None` when every template found was observed.
    pub fn shortfall(&self, budget: &Budget) -> Option<String> {
        if self.unobserved.is_empty() {
            return None;
        }
        const NAMED: usize = 3;
        let mut names: Vec<&str> = self
            .unobserved
            .keys()
            .take(NAMED)
            .map(String::as_str)
            .collect();
        let more = self.unobserved.len().saturating_sub(NAMED);
        let mut list = names.join(", ");
        if more > 0 {
            list.push_str(&format!(" and {more} more"));
        }
        names.clear();
        let reasons: BTreeSet<Unobserved> = self.unobserved.values().copied().collect();
        let fixes: Vec<String> = reasons
            .iter()
            .filter_map(|why| match why {
                Unobserved::MaxRequests => Some(format!(
                    "raise [crawl] max_requests (now {})",
                    budget.max_requests
                )),
                Unobserved::MaxDepth => Some(format!(
                    "raise [crawl] max_depth (now {})",
                    budget.max_depth
                )),
                Unobserved::Stopped => None,
            })
            .collect();
        let count = self.unobserved.len();
        let noun = if count == 1 { "template" } else { "templates" };
        let mut text = format!("{count} {noun} found but never requested: {list}");
        if !fixes.is_empty() {
            text.push_str(&format!(" ({})", fixes.join("; ")));
        }
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(u: &str) -> Request {
        Request::get(Url::parse(&format!("http://h{u}")).unwrap())
    }

    fn budget(max_per_template: usize) -> Budget {
        Budget {
            max_per_template,
            max_depth: 8,
            max_requests: 1000,
        }
    }

    /// Runs the frontier dry: every round is "sent", nothing new is found.
    fn drain(frontier: &mut Frontier) -> Vec<Vec<String>> {
        let mut rounds = Vec::new();
        loop {
            let round = frontier.next_round();
            if round.is_empty() {
                return rounds;
            }
            for (r, _) in &round {
                frontier.sent(r);
            }
            rounds.push(
                round
                    .iter()
                    .map(|(r, _)| r.url.path_and_query_str())
                    .collect(),
            );
        }
    }

    trait PathAndQuery {
        fn path_and_query_str(&self) -> String;
    }

    impl PathAndQuery for Url {
        fn path_and_query_str(&self) -> String {
            match self.query() {
                Some(q) => format!("{}?{q}", self.path()),
                None => self.path().to_string(),
            }
        }
    }

    const TABLE: &[&str] = &[
        "/data/employees?_sort=salary",
        "/data/employees?_sort=name",
        "/data/employees?_sort_desc=name",
        "/data/employees?_page=2",
        "/data/employees?_page=3",
        "/data/employees?_size=50",
        "/data/employees?_facet=title",
        "/data/employees?_facet=title&_sort=name",
        "/data/employees?title=Engineer",
        "/data/employees?title=Manager",
        "/data/employees?title=Manager&_sort=name",
        "/data/employees",
        "/data/employees.csv?_sort=name",
        "/data/employees.csv",
        "/data/query?sql=select+1",
        "/data/query?sql=select+2",
    ];

    #[test]
    fn presentation_params_collapse_into_one_template() {
        let mut frontier = Frontier::new(&QueryParams::default(), budget(100));
        for u in TABLE {
            assert!(frontier.offer(request(u), 1));
        }
        assert!(!frontier.offer(request("/data/employees?_sort=name"), 2));
        drain(&mut frontier);
        let (coverage, holes) = frontier.finish(false);
        assert!(holes.is_empty());
        assert_eq!(
            coverage.templates_found.into_iter().collect::<Vec<_>>(),
            vec![
                "/data/employees",
                "/data/employees.csv",
                "/data/employees?title={title}",
                "/data/query?sql={sql}",
            ]
        );
        assert_eq!(coverage.urls_sent, TABLE.len());
    }

    #[test]
    fn novelty_orders_rounds_templates_then_key_sets_then_data_values() {
        let mut frontier = Frontier::new(&QueryParams::default(), budget(100));
        for u in TABLE {
            frontier.offer(request(u), 1);
        }
        let rounds = drain(&mut frontier);
        // Round 1: one request of each template, the first in URL order.
        assert_eq!(
            rounds[0],
            vec![
                "/data/employees",
                "/data/employees.csv",
                "/data/employees?_sort=name&title=Manager",
                "/data/query?sql=select+1",
            ]
        );
        // Round 2: a new set of query keys for each known template.
        assert_eq!(
            rounds[1],
            vec![
                "/data/employees?_facet=title",
                "/data/employees?_facet=title&_sort=name",
                "/data/employees?_page=2",
                "/data/employees?_size=50",
                "/data/employees?_sort=name",
                "/data/employees?_sort_desc=name",
                "/data/employees.csv?_sort=name",
                "/data/employees?title=Engineer",
            ]
        );
        // Round 3: a new value of a data key (the SQL) before new presentation values.
        assert_eq!(rounds[2], vec!["/data/query?sql=select+2"]);
        assert_eq!(
            rounds[3],
            vec!["/data/employees?_page=3", "/data/employees?_sort=salary"]
        );
        // Last, a combination of values already sampled.
        assert_eq!(rounds[4], vec!["/data/employees?title=Manager"]);
        assert_eq!(rounds.len(), 5);
    }

    #[test]
    fn data_params_keep_their_values_and_presentation_params_can_be_extended() {
        // `view` only presents on this Site; `format` selects data on it.
        let params = QueryParams::new(&["view".to_string()], &["format".to_string()]);
        let mut frontier = Frontier::new(&params, budget(100));
        for u in [
            "/r?view=wide",
            "/r?view=narrow",
            "/r",
            "/r?format=csv",
            "/r?format=json",
        ] {
            frontier.offer(request(u), 1);
        }
        drain(&mut frontier);
        let (coverage, _) = frontier.finish(false);
        assert_eq!(
            coverage.templates_found.into_iter().collect::<Vec<_>>(),
            vec!["/r", "/r?format={format}"]
        );
    }

    #[test]
    fn a_full_sample_is_sampled_out_not_a_hole() {
        let mut frontier = Frontier::new(&QueryParams::default(), budget(3));
        for u in TABLE {
            frontier.offer(request(u), 1);
        }
        drain(&mut frontier);
        // Offered after the sample is full: counted at once.
        frontier.offer(request("/data/employees?_page=9"), 2);
        let (coverage, holes) = frontier.finish(false);
        assert!(holes.is_empty());
        assert!(coverage.unobserved.is_empty());
        assert!(coverage.shortfall(&budget(3)).is_none());
        // employees: 3 of 9, the CSV: 2 of 2, the filter: 3 of 3, the query: 2 of 2.
        assert_eq!(coverage.urls_sent, 3 + 2 + 3 + 2);
        assert_eq!(coverage.sampled_out, TABLE.len() + 1 - coverage.urls_sent);
        assert_eq!(coverage.urls_seen, TABLE.len() + 1);
    }

    #[test]
    fn the_sample_is_independent_of_arrival_order() {
        let run = |order: Vec<&str>| {
            let mut frontier = Frontier::new(&QueryParams::default(), budget(4));
            for u in order {
                frontier.offer(request(u), 1);
            }
            drain(&mut frontier)
        };
        let forward = run(TABLE.to_vec());
        let mut reversed = TABLE.to_vec();
        reversed.reverse();
        let mut shuffled = TABLE.to_vec();
        shuffled.rotate_left(7);
        shuffled.swap(0, 5);
        assert_eq!(run(reversed), forward);
        assert_eq!(run(shuffled), forward);
    }

    #[test]
    fn templates_never_sent_are_holes_named_with_the_setting() {
        let mut frontier = Frontier::new(&QueryParams::default(), budget(5));
        for u in ["/a", "/b", "/c", "/d"] {
            frontier.offer(request(u), 1);
        }
        frontier.offer(request("/deep"), 9);
        frontier.offer(request("/a?page=2"), 9);
        let round = frontier.next_round();
        assert_eq!(round.len(), 4);
        // max_requests lets only the first through.
        let mut round = round.into_iter();
        let first = round.next().unwrap();
        frontier.sent(&first.0);
        frontier.unsent(round);
        let (coverage, holes) = frontier.finish(false);
        assert_eq!(
            coverage.unobserved,
            BTreeMap::from([
                ("/b".to_string(), Unobserved::MaxRequests),
                ("/c".to_string(), Unobserved::MaxRequests),
                ("/d".to_string(), Unobserved::MaxRequests),
                ("/deep".to_string(), Unobserved::MaxDepth),
            ])
        );
        // `/a?page=2` is past the depth but of an observed template: sampled out.
        assert_eq!(coverage.sampled_out, 1);
        assert_eq!(holes.len(), 4);
        let budget = Budget {
            max_requests: 1,
            ..budget(5)
        };
        assert_eq!(
            coverage.shortfall(&budget).unwrap(),
            "4 templates found but never requested: /b, /c, /d and 1 more \
             (raise [crawl] max_requests (now 1); raise [crawl] max_depth (now 8))"
        );
    }
}
