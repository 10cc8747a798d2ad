//! Link discovery: what a page, a script, a source map or an OpenAPI document yields, on arbitrary bodies
//! (lossy UTF-8, as the crawler decodes them) under one fixed page URL.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use url::Url;

static PAGE: LazyLock<Url> =
    LazyLock::new(|| Url::parse("http://site.test/app/page").expect("constant URL parses"));

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let base = &*PAGE;
    for discovery in [
        lowpriv::crawl::discover::html(&text, base),
        lowpriv::crawl::discover::javascript(&text, base),
        lowpriv::crawl::discover::source_map(&text, base),
        lowpriv::crawl::discover::openapi(&text, base),
    ] {
        // The crawler normalizes and templates every discovered URL next, against the routes
        // the Site declared.
        let routes = lowpriv::crawl::scope::Routes::new(&discovery.routes);
        for url in &discovery.links {
            let normal = lowpriv::crawl::scope::normalize(url);
            let _ = routes.template(&normal);
            let _ = lowpriv::crawl::scope::template(&normal);
        }
        let _ = format!("{discovery:?}");
    }
});
