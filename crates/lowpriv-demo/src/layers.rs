//! The layering check: reads the crate's own sources and fails when a module imports from
//! its own layer or a higher one (the table in `lib.rs`'s docs), so the old import loop
//! between the handlers cannot come back unnoticed.
//!
//! The scan is textual on purpose: every module is a direct child of the crate root, so each
//! path into the crate starts with `crate::`, `super::`, or (from the root, or after a `use`)
//! a bare module name, and a missed path can only come from a form rustfmt never writes.

use std::path::Path;

/// Each source file's layer, lowest first, as `lib.rs` documents it. The test-only files sit
/// above everything because they may reach any module.
const LAYERS: &[(&str, u8)] = &[
    ("config", 0),
    ("data", 0),
    ("table", 0),
    ("state", 1),
    ("layout", 2),
    ("gate", 3),
    ("auth", 4),
    ("pages", 4),
    ("api", 4),
    ("chaos", 4),
    ("hostile", 4),
    ("foreign", 4),
    ("browser", 4),
    ("watch", 4),
    ("hr", 4),
    ("team", 4),
    ("graphql", 4),
    ("spa", 4),
    ("router", 5),
    ("lib", 6),
    ("runner", 7),
    ("fleet", 7),
    ("layers", 8),
    ("tests", 8),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|&(_, layer)| layer)
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The identifier starting at byte `at`, if any.
fn ident_at(text: &str, at: usize) -> &str {
    let rest = &text[at..];
    let end = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
    &rest[..end]
}

/// What a path segment right after `crate::` names: one of the modules, or else an item of
/// the root (`lib.rs`), which is a layer of its own.
fn target(segment: &str) -> &str {
    match layer(segment) {
        Some(_) => segment,
        None => "lib",
    }
}

/// The modules `source` refers to, with 1-based line numbers: the first segment after
/// `crate::` or `super::` (each entry of a `{...}` group, which may span lines), and bare
/// `module::` paths. Comment lines are skipped; in `lib.rs`, `pub use` re-exports are too,
/// being the facade rather than a dependency of its code.
fn references(file_module: &str, source: &str) -> Vec<(usize, String)> {
    // Blank out what is skipped but keep the newlines, so offsets still give line numbers.
    let mut code = String::with_capacity(source.len());
    let mut in_reexport = false;
    for line in source.lines() {
        let trimmed = line.trim_start();
        let reexport = file_module == "lib" && (in_reexport || trimmed.starts_with("pub use "));
        if reexport {
            // A re-export may span lines when rustfmt wraps its group.
            in_reexport = !trimmed.trim_end().ends_with(';');
        }
        if !reexport && !trimmed.starts_with("//") {
            code.push_str(line);
        }
        code.push('\n');
    }

    let mut found: Vec<(usize, String)> = Vec::new();
    let mut add = |at: usize, target: &str| {
        let entry = (code[..at].matches('\n').count() + 1, target.to_string());
        // A group entry such as `data::Role` is seen twice: as a group head and as a path.
        if !found.contains(&entry) {
            found.push(entry);
        }
    };
    for (at, _) in code.match_indices("::") {
        let start = code[..at]
            .char_indices()
            .rev()
            .find(|&(_, c)| !is_ident(c))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let head = &code[start..at];
        // `a::b::c` is one path: only its first segment can name a module of this crate.
        if head.is_empty() || code[..start].ends_with("::") {
            continue;
        }
        let after = at + 2;
        if head == "crate" || head == "super" {
            if code[after..].starts_with('{') {
                for segment in group_heads(&code[after + 1..]) {
                    add(at, target(segment));
                }
            } else {
                add(at, target(ident_at(&code, after)));
            }
        } else if layer(head).is_some() {
            add(at, head);
        }
    }
    found
}

/// The first segment of each entry of a `use` group, `rest` starting just inside its `{`:
/// `api, data::{self, Role}, Flaw}` gives `api`, `data`, `Flaw`.
fn group_heads(rest: &str) -> Vec<&str> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut entry_start = true;
    for (at, c) in rest.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => entry_start = true,
            c if entry_start && is_ident(c) => {
                entry_start = false;
                if depth == 0 {
                    heads.push(ident_at(rest, at));
                }
            }
            _ => {}
        }
    }
    heads
}

/// Every import of `module` (whose source is `source`) that does not go strictly down a layer.
fn violations(module: &str, source: &str) -> Vec<String> {
    let Some(own) = layer(module) else {
        return vec![format!(
            "{module}.rs has no layer: add it to LAYERS here and to the table in lib.rs"
        )];
    };
    references(module, source)
        .into_iter()
        .filter(|(_, target)| target != module)
        .filter_map(|(line, target)| {
            let theirs = layer(&target)?;
            (theirs >= own).then(|| {
                format!(
                    "{module}.rs:{line}: `{module}` (layer {own}) imports `{target}` (layer \
                     {theirs}); import only from lower layers"
                )
            })
        })
        .collect()
}

#[test]
fn modules_import_only_from_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut problems = Vec::new();
    let mut seen = 0;
    let mut paths: Vec<_> = std::fs::read_dir(&src)
        .expect("read src/")
        .map(|entry| entry.expect("read src/ entry").path())
        .collect();
    // read_dir's order is the filesystem's: sort so the report reads the same everywhere.
    paths.sort();
    for path in paths {
        if path.is_dir() {
            problems.push(format!(
                "{}: a module folder; the check only knows flat files, extend it",
                path.display()
            ));
            continue;
        }
        if path.extension().is_none_or(|ext| ext != "rs") {
            continue;
        }
        let module = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name");
        let source = std::fs::read_to_string(&path).expect("read source");
        problems.extend(violations(module, &source));
        seen += 1;
    }
    // Guards against a wrong directory making the check pass vacuously.
    assert_eq!(seen, LAYERS.len(), "src/ and LAYERS list different files");
    assert!(
        problems.is_empty(),
        "layering broken:\n{}",
        problems.join("\n")
    );
}

#[test]
fn references_are_found() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("pages", "use crate::layout::{escape, page};", &["layout"]),
        ("state", "use crate::data::{self, Employee};", &["data"]),
        (
            "router",
            "use crate::{api, auth, state::Site};",
            &["api", "auth", "state"],
        ),
        (
            "api",
            "use crate::{Flaw, data::{Role, Visible}};",
            &["lib", "data"],
        ),
        (
            "router",
            "use crate::{\n    api,\n    auth,\n};",
            &["api", "auth"],
        ),
        (
            "lib",
            "pub use config::{\n    Chaos, DemoConfig,\n};\nuse state::Counters;",
            &["state"],
        ),
        ("auth", "use super::pages::escape;", &["pages"]),
        (
            "pages",
            "    if super::api::is_api_path(uri.path()) {",
            &["api"],
        ),
        ("lib", "let r = router::router(config);", &["router"]),
        ("lib", "pub use runner::{DemoError, run};", &[]),
        ("api", "// crate::router is named in a comment only", &[]),
        (
            "chaos",
            "use axum::extract::State; std::sync::Arc::new(x)",
            &[],
        ),
        ("chaos", "axum::http::header::HeaderValue", &[]),
    ];
    for &(module, line, expected) in cases {
        let found: Vec<String> = references(module, line)
            .into_iter()
            .map(|(_, target)| target)
            .collect();
        assert_eq!(found, expected, "{module}: {line}");
    }
}

#[test]
fn the_old_loop_is_caught() {
    // Each line is one edge of the loop this layering replaced.
    let cases = [
        ("auth", "use crate::pages::{escape, html_response, render};"),
        ("api", "use crate::auth::{Denied, identify};"),
        ("layout", "use crate::gate::identify;"),
        ("state", "use crate::router::router;"),
        ("data", "use crate::{DemoUser, USERS};"),
    ];
    for (module, line) in cases {
        assert_eq!(violations(module, line).len(), 1, "{module}: {line}");
    }
    assert!(violations("router", "use crate::{api, chaos};").is_empty());
}
