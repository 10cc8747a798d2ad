//! `robots.txt` and sitemaps (the sitemaps.org protocol: `<urlset>`, `<sitemapindex>`, either
//! one gzipped), the paths a Site names for crawlers.
//!
//! Input: a body and the URL it came from. Output: links, [`Via::Sitemap`] for a sitemap's
//! `<loc>`s and `Sitemap:` lines, [`Via::Robots`] for the paths `Allow`/`Disallow` name (a
//! tester reads what a Site asks crawlers to leave alone). Every URL goes to the frontier,
//! which keeps another origin's out; a gzipped sitemap is inflated to at most
//! [`MAX_SITEMAP_BYTES`], so a gzip bomb costs that much and no more.

use quick_xml::Reader;
use quick_xml::events::Event;
use url::Url;

use super::discover::{Discovery, Via};
use crate::session::gunzip::Gunzip;

/// The protocol's own limit for one sitemap, uncompressed, is 50 MB; past this many bytes a
/// gzipped one is read as far as inflated.
pub const MAX_SITEMAP_BYTES: usize = 16 * 1024 * 1024;

/// Whether a response is a sitemap: a gzip file named like one, or XML whose root is
/// `<urlset>` or `<sitemapindex>`.
pub fn looks_like(body: &[u8], path: &str) -> bool {
    if body.starts_with(&[0x1f, 0x8b]) {
        return path.ends_with(".xml.gz") || path.contains("sitemap");
    }
    let head = &body[..body.len().min(2048)];
    let head = String::from_utf8_lossy(head);
    head.contains("<urlset") || head.contains("<sitemapindex")
}

/// The URLs a sitemap (or a sitemap index) lists; gzip is inflated first.
pub fn sitemap(body: &[u8], page: &Url) -> Discovery {
    let mut found = Discovery::default();
    let inflated;
    let xml: &[u8] = if body.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        let mut gunzip = Gunzip::default();
        if let Err(err) = gunzip.feed(body, &mut out, MAX_SITEMAP_BYTES) {
            tracing::debug!(%page, "a gzipped sitemap does not inflate: {err}");
        }
        if out.len() > MAX_SITEMAP_BYTES {
            tracing::debug!(%page, "a sitemap inflates past {MAX_SITEMAP_BYTES} bytes: read that far");
            out.truncate(MAX_SITEMAP_BYTES);
        }
        inflated = out;
        &inflated
    } else {
        body
    };
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut in_loc = false;
    let mut text = String::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) if e.local_name().as_ref() == b"loc" => {
                in_loc = true;
                text.clear();
            }
            Ok(Event::Text(t)) if in_loc => {
                if let Ok(decoded) = t.decode() {
                    text.push_str(&decoded);
                }
            }
            Ok(Event::GeneralRef(r)) if in_loc => {
                // `&amp;` and friends arrive apart from the text around them.
                if let Ok(Some(ch)) = r.resolve_char_ref() {
                    text.push(ch);
                } else {
                    let name: &[u8] = &r;
                    match name {
                        b"amp" => text.push('&'),
                        b"lt" => text.push('<'),
                        b"gt" => text.push('>'),
                        b"quot" => text.push('"'),
                        b"apos" => text.push('\''),
                        _ => {}
                    }
                }
            }
            Ok(Event::CData(t)) if in_loc => {
                if let Ok(decoded) = t.decode() {
                    text.push_str(&decoded);
                }
            }
            Ok(Event::End(e)) if e.local_name().as_ref() == b"loc" => {
                in_loc = false;
                if let Ok(url) = page.join(text.trim()) {
                    found.links.push((url, Via::Sitemap));
                }
            }
            Ok(Event::Eof) => break,
            Err(err) => {
                // What was read before the break stands; a sitemap cut short is still a list.
                tracing::debug!(%page, "a sitemap stops parsing: {err}");
                break;
            }
            _ => {}
        }
        buf.clear();
    }
    found
}

/// `Sitemap:` lines and the literal paths of `Allow`/`Disallow` lines (a pattern with `*` or
/// `$`, or `/` alone, names no one page).
pub fn robots(body: &str, page: &Url) -> Discovery {
    let mut found = Discovery::default();
    for line in body.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let Some((field, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match field.trim().to_ascii_lowercase().as_str() {
            "sitemap" => {
                if let Ok(url) = page.join(value) {
                    found.links.push((url, Via::Sitemap));
                }
            }
            "allow" | "disallow" => {
                let literal = value.starts_with('/')
                    && value.len() > 1
                    && !value.contains(['*', '$'])
                    && !value.starts_with("//");
                if literal && let Ok(url) = page.join(value) {
                    found.links.push((url, Via::Robots));
                }
            }
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(path: &str) -> Url {
        Url::parse("http://site.test").unwrap().join(path).unwrap()
    }

    fn found(d: &Discovery) -> Vec<(String, Via)> {
        d.links.iter().map(|(u, v)| (u.to_string(), *v)).collect()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        // A stored (uncompressed) deflate block inside a gzip frame: enough to test the
        // inflate path without a compressor in the library.
        let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
        for (i, chunk) in bytes.chunks(65_535).enumerate() {
            let last = (i + 1) * 65_535 >= bytes.len();
            out.push(u8::from(last));
            let len = chunk.len() as u16;
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&(!len).to_le_bytes());
            out.extend_from_slice(chunk);
        }
        out.extend_from_slice(&[0; 8]);
        out
    }

    #[test]
    fn robots_names_its_sitemaps_and_the_literal_paths_it_fences_off() {
        let body = "User-agent: *\nDisallow: /admin/\nDisallow: /*.pdf$\nAllow: /public/report # why\n\
                    Disallow: /\nDisallow:\nSitemap: /sitemap-index.xml\nsitemap: http://other.test/s.xml\n";
        assert_eq!(
            found(&robots(body, &page("/robots.txt"))),
            vec![
                ("http://site.test/admin/".to_string(), Via::Robots),
                ("http://site.test/public/report".to_string(), Via::Robots),
                (
                    "http://site.test/sitemap-index.xml".to_string(),
                    Via::Sitemap
                ),
                ("http://other.test/s.xml".to_string(), Via::Sitemap),
            ]
        );
    }

    #[test]
    fn a_sitemap_and_an_index_list_their_locs_with_entities_decoded() {
        let urlset = br#"<?xml version="1.0" encoding="UTF-8"?>
            <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
              <url><loc>http://site.test/reports?year=2026&amp;q=3</loc><lastmod>2026-01-01</lastmod></url>
              <url><loc> /relative/page </loc></url>
              <url><loc><![CDATA[http://site.test/cdata]]></loc></url>
            </urlset>"#;
        assert!(looks_like(urlset, "/sitemap.xml"));
        assert_eq!(
            found(&sitemap(urlset, &page("/sitemap.xml")))
                .into_iter()
                .map(|(u, _)| u)
                .collect::<Vec<_>>(),
            vec![
                "http://site.test/reports?year=2026&q=3",
                "http://site.test/relative/page",
                "http://site.test/cdata"
            ]
        );
        let index = br#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            <sitemap><loc>http://site.test/sitemaps/a.xml.gz</loc></sitemap></sitemapindex>"#;
        assert!(looks_like(index, "/sitemap.xml"));
        assert_eq!(
            found(&sitemap(index, &page("/sitemap.xml"))),
            vec![(
                "http://site.test/sitemaps/a.xml.gz".to_string(),
                Via::Sitemap
            )]
        );
    }

    #[test]
    fn a_gzipped_sitemap_is_inflated_and_a_broken_one_keeps_what_was_read() {
        let urlset = b"<urlset><url><loc>/gz/page</loc></url></urlset>";
        let gz = gzip(urlset);
        assert!(looks_like(&gz, "/sitemaps/a.xml.gz"));
        assert_eq!(
            found(&sitemap(&gz, &page("/sitemaps/a.xml.gz"))),
            vec![("http://site.test/gz/page".to_string(), Via::Sitemap)]
        );
        let cut = b"<urlset><url><loc>/first</loc></url><url><loc>/second";
        assert_eq!(found(&sitemap(cut, &page("/s.xml"))).len(), 1);
        assert!(
            sitemap(b"\x1f\x8bgarbage", &page("/s.xml.gz"))
                .links
                .is_empty()
        );
    }

    #[test]
    fn other_xml_and_feeds_are_not_sitemaps() {
        assert!(!looks_like(
            b"<rss><channel><link>/x</link></channel></rss>",
            "/feed.xml"
        ));
        assert!(!looks_like(
            b"<html><body>sitemap</body></html>",
            "/sitemap"
        ));
    }
}
