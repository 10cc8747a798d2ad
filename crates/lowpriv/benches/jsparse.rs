//! JavaScript discovery throughput: `cargo bench -p lowpriv --bench jsparse`.
//!
//! Generates a ~5 MB minified bundle in memory (bundler-style modules on one line, short
//! names reused in every module, each with a URL constant, an axios instance with a base
//! URL, fetch, XMLHttpRequest and jQuery calls, a route table, and filler code: loops,
//! regexes, strings that are not paths, template literals of class names), deterministically,
//! and reads it as the crawl reads a script (`discover::javascript`). Prints MB/s, what was
//! found against what was planted, and the process's peak RSS before and after parsing
//! (Linux's VmHWM). Nothing touches the network.

use std::time::Instant;

use lowpriv::crawl::discover;
use url::Url;

const TARGET_BYTES: usize = 5 * 1024 * 1024;
const ROUNDS: usize = 5;

/// A small deterministic generator, so every run parses the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// What the bundle plants: each is found by exactly one call.
#[derive(Default)]
struct Planted {
    modules: usize,
    gets: usize,
    templates: usize,
    actions: usize,
}

fn module(rng: &mut Rng, k: usize, out: &mut String, planted: &mut Planted) {
    use std::fmt::Write;
    let next = k + 1;
    let _ = write!(
        out,
        "{k}:function(e,t,n){{\"use strict\";n.r(t);var r=n({next}),o=n.n(r),a=\"/api/m{k}\",c=o.a.create({{baseURL:\"/svc/m{k}\"}});"
    );
    // The constant and the base are path literals of their own.
    planted.gets += 2;
    match rng.below(4) {
        0 => {
            let _ = write!(
                out,
                "function s(e){{return fetch(`${{a}}/items/${{e}}`).then(function(e){{return e.json()}})}}\
                 function u(e,t){{return fetch(a+\"/items\",{{method:\"POST\",headers:{{\"Content-Type\":\"application/json\"}},body:JSON.stringify({{name:e,note:t}})}})}}"
            );
            planted.templates += 1;
            planted.actions += 1;
        }
        1 => {
            let _ = write!(
                out,
                "function s(){{return c.get(\"/status\")}}function u(e){{return c.delete(\"/cache/\"+e)}}\
                 function l(e){{return c.patch(\"/settings\",{{theme:e}})}}"
            );
            planted.gets += 1;
            planted.actions += 2;
        }
        2 => {
            let _ = write!(
                out,
                "function s(e,t){{var n=new XMLHttpRequest;n.open(\"GET\",a+\"/export?fmt=\"+e),n.onload=t,n.send()}}\
                 function u(e){{return $.ajax({{url:a+\"/notes\",type:\"POST\",data:{{text:e}}}})}}"
            );
            planted.templates += 1;
            planted.actions += 1;
        }
        _ => {
            let _ = write!(
                out,
                "var s=[{{path:\"/m{k}/reports\",component:r.a}},{{path:\"/m{k}/teams/:team\",component:r.b}}];\
                 function u(){{return $.getJSON(a+\"/summary.json\")}}"
            );
            planted.gets += 2;
            planted.templates += 1;
        }
    }
    // Filler: what a bundle is mostly made of, with strings and regexes that are not paths.
    for _ in 0..1 + rng.below(3) {
        let _ = write!(
            out,
            "function i(e,t){{for(var n=0;n<e.length;n++)if(e[n]===t)return n;return-1}}\
             var p=/^[a-z]+\\/\\d+$/i,d={{\"Content-Type\":\"application/json\",Accept:\"text/html\"}},\
             f=function(e){{return e?\"btn btn-\"+e:\"btn\"}},h=`col-${{e}} row`,\
             m=new Date(\"2026/01/02\"),g=e&&e.t?e.t:\"/\";\
             t.default=function(e){{var t=e.items,n=void 0===t?[]:t;return o.a.createElement(\"ul\",{{className:f(e.kind)}},n.map(function(e){{return o.a.createElement(\"li\",{{key:e.id}},e.name)}}))}};"
        );
    }
    out.push_str("},");
}

fn bundle() -> (String, Planted) {
    let mut rng = Rng(0x5eed_0fb0_d1e5);
    let mut out = String::from("(self.webpackChunkapp=self.webpackChunkapp||[]).push([[1],{");
    let mut planted = Planted::default();
    let mut k = 0;
    while out.len() < TARGET_BYTES {
        module(&mut rng, k, &mut out, &mut planted);
        k += 1;
        planted.modules = k;
    }
    out.push_str("}]);");
    (out, planted)
}

/// The process's peak resident set (VmHWM), in MiB, where Linux reports it.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let (code, planted) = bundle();
    let page = Url::parse("https://app.example/").expect("page URL");
    let mb = code.len() as f64 / 1e6;
    let before = peak_rss_mib();
    let mut times = Vec::new();
    let mut found = discover::Discovery::default();
    for _ in 0..ROUNDS {
        let started = Instant::now();
        found = discover::javascript(&code, &page);
        times.push(started.elapsed().as_secs_f64());
    }
    let after = peak_rss_mib();
    times.sort_by(f64::total_cmp);
    let best = times[0];
    let median = times[times.len() / 2];
    let mut links: Vec<String> = found.links.iter().map(|(u, _)| u.to_string()).collect();
    links.sort();
    links.dedup();
    let mut templates = found.templates.clone();
    templates.sort();
    templates.dedup();
    let mut actions: Vec<String> = found
        .actions
        .iter()
        .map(|a| format!("{} {}", a.method, a.url))
        .collect();
    actions.sort();
    actions.dedup();
    println!(
        "jsparse: {mb:.1} MB minified bundle of {} modules, one line, parsed with oxc (lexer \
         fallback over {} MiB)",
        planted.modules,
        discover::MAX_PARSE_BYTES >> 20
    );
    println!(
        "  throughput: {:.0} MB/s (best of {ROUNDS}, {:.0} ms per pass; median {:.0} MB/s)",
        mb / best,
        best * 1e3,
        mb / median
    );
    println!(
        "  found: {} links (planted {}), {} templates (planted {}), {} actions (planted {})",
        links.len(),
        planted.gets,
        templates.len(),
        planted.templates,
        actions.len(),
        planted.actions
    );
    if let (Some(before), Some(after)) = (before, after) {
        println!(
            "  peak RSS: {before:.0} MiB with the bundle built, {after:.0} MiB after parsing (+{:.0} MiB)",
            after - before
        );
    }
    assert_eq!(links.len(), planted.gets, "links");
    assert_eq!(templates.len(), planted.templates, "templates");
    assert_eq!(actions.len(), planted.actions, "actions");
}
