//! Response observation: one classifier with every builtin detector, canaries, an env secret
//! (matched verbatim and encoded), a user pattern and a `json_keys` class, over arbitrary
//! bodies (lossy UTF-8, parsed as JSON when they are). Also what else looks at a body or its
//! URL: the login-page test and request templating of URLs read from the input.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use lowpriv::observe::Classifier;
use lowpriv::scenario::Builtin;
use url::Url;

/// The secret's value; its verbatim and encoded forms are looked for. The same value as
/// `tests/e2e/classify_corpus.rs`, so the seeds taken from `tests/corpus/` carry it.
const SECRET: &str = "s3cr3t/Pa ss+W0rd\"x~~?";

/// Built from a scenario so the classes are exactly what a run would compile.
static CLASSIFIER: LazyLock<Classifier> = LazyLock::new(|| {
    let mut source = String::from(
        r#"
[site]
name = "fuzz"
base_url = "http://site.test"
audience = "team"

[[identity]]
name = "anonymous"
tier = "external"

[data.salary]
json_keys = ["salary", "bonus", "SSN", "e-mail"]

[data.alice-private]
text = "CANARY-ALICE-3f9c"
belongs_to = "anonymous"

[data.canary-short]
text = "CANARY-1"

[data.canary-long]
text = "CANARY-10"

[data.canary-unicode]
text = "Zürich-ĸ-🦀"

[data.db-password]
env = "DB_PASSWORD"

[data.ticket]
pattern = 'TCK-[0-9]{5}'

[data.internal-key]
pattern = 'ik_live_[a-z0-9]{24}'
secret = true
"#,
    );
    for builtin in Builtin::ALL {
        let name = builtin.as_str();
        source.push_str(&format!("\n[data.b-{name}]\nbuiltin = \"{name}\"\n"));
    }
    let env = |var: &str| (var == "DB_PASSWORD").then(|| SECRET.to_string());
    let scenario = lowpriv::scenario::parse(&source, Path::new("fuzz.toml"), &env)
        .unwrap_or_else(|error| panic!("the fuzz scenario is valid: {error}"));
    Classifier::new(&scenario.data)
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let json = serde_json::from_str::<serde_json::Value>(&text).ok();
    let (hits, paths) = CLASSIFIER.classify(&text, json.as_ref());
    for hit in hits.values() {
        assert!(hit.count >= 1, "a recorded hit is counted");
        // Examples go into reports: they must never carry the secret itself.
        for example in &hit.examples {
            assert!(!example.contains(SECRET), "an example leaks the secret: {example}");
        }
    }
    let _ = paths;
    let _ = lowpriv::session::is_login_page(&text);
    // URLs as a page or a redirect would give them, absolute or relative to a page.
    let base = Url::parse("http://site.test/app/page").expect("constant URL parses");
    // Only http(s) URLs reach the crawler (`discover::join` drops the rest): an opaque URL
    // (`x: a #b`) loses trailing spaces when its fragment goes, as WHATWG URL says it must.
    for candidate in text.lines().take(8) {
        let url = base.join(candidate.trim()).ok();
        if let Some(url) = url.filter(|url| matches!(url.scheme(), "http" | "https")) {
            let normal = lowpriv::crawl::scope::normalize(&url);
            assert_eq!(
                lowpriv::crawl::scope::normalize(&normal),
                normal,
                "normalize is one spelling per request"
            );
            assert_eq!(
                lowpriv::crawl::scope::template(&normal),
                lowpriv::crawl::scope::template(&url),
                "normalizing does not change the template"
            );
        }
    }
});
