//! The library's stages import only earlier ones (docs/architecture.md: "no stage imports a later
//! one"), checked on its source: every `.rs` file under `crates/lowpriv/src/` belongs to the
//! stage named by its first path component there, and every `crate::<name>` it mentions in
//! code (a `use` line or a path in an expression; comments, doc comments and string literals
//! are skipped) names a stage that must not come later in `ORDER`. A stage's unit tests
//! (`tests.rs`) are left out: they may drive a later stage to check their own.
//!
//! `crate::<Name>` for a re-export at the crate root (`crate::RunResult`, `crate::Verdict`,
//! `crate::run`) counts as the stage it is re-exported from, read off lib.rs's `pub use`
//! lines. A name that is neither a stage, a shared helper nor a re-export fails the test, so
//! the scan cannot miss an import by not understanding it. `super::` and `self::` paths stay
//! inside their own stage and are not followed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::*;

/// The stages in pipeline order; a file may import its own stage and earlier ones.
const ORDER: [&str; 18] = [
    "base", "scenario", "session", "crawl", "replay", "graphql", "probe", "observe", "source",
    "judge", "snapshot", "verdict", "result", "report", "run", "fleet", "init", "lib",
];

/// Shared helpers: importable by every stage, importing none.
const BASE: [&str; 5] = ["atomic_file", "fnv", "markup", "progress", "stop"];

fn rank(stage: &str) -> Option<usize> {
    ORDER.iter().position(|s| *s == stage)
}

/// The stage of a module at the crate root (`judge`, `result`, `markup`...), if it is one.
fn module_stage(module: &str) -> Option<&'static str> {
    if BASE.contains(&module) {
        return Some("base");
    }
    ORDER.iter().copied().find(|s| *s == module && *s != "base")
}

/// The stage of a file, from its path relative to `src/`: its first component, without
/// `.rs` for a file directly in `src/`.
fn file_stage(relative: &Path) -> Option<&'static str> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    module_stage(first.strip_suffix(".rs").unwrap_or(first))
}

/// Every `crate::<name>` in the code of `source`, as (line, name). A group
/// (`crate::{judge, observe::Observation}`) yields the first name of each of its items.
fn crate_mentions(source: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = source.chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut line = 1;
    let mut i = 0;
    let mut found = Vec::new();
    // Skips from `i` to past the first `close` run (raw strings end in `"` and their hashes),
    // counting lines.
    let skip_to = |i: &mut usize, line: &mut usize, close: &str| {
        let close: Vec<char> = close.chars().collect();
        while *i < chars.len() && chars[*i..].iter().take(close.len()).ne(close.iter()) {
            if chars[*i] == '\n' {
                *line += 1;
            }
            *i += 1;
        }
        *i = (*i + close.len()).min(chars.len());
    };
    let skip_space = |i: &mut usize, line: &mut usize| {
        while *i < chars.len() && chars[*i].is_whitespace() {
            if chars[*i] == '\n' {
                *line += 1;
            }
            *i += 1;
        }
    };
    let ident_at = |i: &mut usize| -> String {
        let start = *i;
        while *i < chars.len() && is_ident(chars[*i]) {
            *i += 1;
        }
        chars[start..*i].iter().collect()
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            // Line comments, `///` and `//!` alike.
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if at(i) == '\n' {
                    line += 1;
                }
                i += 1;
            }
            i += 1;
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{1F600}') or a lifetime ('a).
            if at(i + 1) == '\\' {
                i += 3;
                skip_to(&mut i, &mut line, "'");
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
            }
        } else if is_ident(c) {
            let word = ident_at(&mut i);
            let raw_prefix = word == "r" || word == "br";
            if raw_prefix && (at(i) == '"' || (at(i) == '#' && matches!(at(i + 1), '#' | '"'))) {
                let hashes: String = chars[i..].iter().take_while(|c| **c == '#').collect();
                i += hashes.len() + 1;
                skip_to(&mut i, &mut line, &format!("\"{hashes}"));
            } else if word == "r" && at(i) == '#' {
                // A raw identifier, `r#type`.
                i += 1;
                ident_at(&mut i);
            } else if word == "crate" {
                let mention_line = line;
                let mut j = i;
                skip_space(&mut j, &mut line);
                if at(j) != ':' || at(j + 1) != ':' {
                    continue;
                }
                j += 2;
                skip_space(&mut j, &mut line);
                if at(j) == '{' {
                    // The first name of each item at the group's top level.
                    let mut depth = 0;
                    let mut item_start = true;
                    while j < chars.len() {
                        match chars[j] {
                            '{' => {
                                depth += 1;
                                item_start = depth == 1;
                                j += 1;
                            }
                            '}' => {
                                depth -= 1;
                                j += 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            ',' => {
                                item_start = depth == 1;
                                j += 1;
                            }
                            c if is_ident(c) => {
                                let item_line = line;
                                let name = ident_at(&mut j);
                                if item_start && name != "self" {
                                    found.push((item_line, name));
                                }
                                item_start = false;
                            }
                            c => {
                                if c == '\n' {
                                    line += 1;
                                }
                                j += 1;
                            }
                        }
                    }
                } else if is_ident(at(j)) {
                    found.push((mention_line, ident_at(&mut j)));
                }
                i = j;
            }
        } else {
            i += 1;
        }
    }
    found
}

/// Names re-exported at the crate root (`pub use result::{RunResult, ...};`), each with the
/// stage it comes from.
fn reexports(lib_rs: &str) -> BTreeMap<String, &'static str> {
    let mut names = BTreeMap::new();
    let code = lib_rs
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    for statement in code.split(';') {
        let Some(rest) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, items)) = rest.split_once("::") else {
            continue;
        };
        let Some(stage) = module_stage(module.trim()) else {
            continue;
        };
        let items = items.trim().trim_start_matches('{').trim_end_matches('}');
        for item in items.split(',') {
            // `a::B` re-exports `B`; `B as C` re-exports `C`.
            let item = item.trim();
            let name = item.rsplit(" as ").next().unwrap_or(item);
            let name = name.rsplit("::").next().unwrap_or(name).trim();
            if !name.is_empty() {
                names.insert(name.to_string(), stage);
            }
        }
    }
    names
}

#[derive(Debug, PartialEq, Eq)]
struct Violation {
    file: String,
    line: usize,
    stage: &'static str,
    import: String,
    imported: &'static str,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: stage {} imports `crate::{}`, of the later stage {}",
            self.file, self.line, self.stage, self.import, self.imported
        )
    }
}

/// What one scan found: the later-stage imports, the names it could not place, and how many
/// mentions it checked.
#[derive(Debug, Default)]
struct Scan {
    violations: Vec<Violation>,
    unresolved: Vec<String>,
    mentions: usize,
}

/// Checks one file of `stage`, named `file` in messages.
fn check_file(
    scan: &mut Scan,
    file: &str,
    stage: &'static str,
    source: &str,
    reexports: &BTreeMap<String, &'static str>,
) {
    let own = rank(stage).expect("a stage in ORDER");
    for (line, name) in crate_mentions(source) {
        scan.mentions += 1;
        let Some(imported) = module_stage(&name).or_else(|| reexports.get(&name).copied()) else {
            scan.unresolved
                .push(format!("{file}:{line}: crate::{name}"));
            continue;
        };
        if rank(imported).expect("a stage in ORDER") > own {
            scan.violations.push(Violation {
                file: file.to_string(),
                line,
                stage,
                import: name,
                imported,
            });
        }
    }
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn no_stage_imports_a_later_stage() {
    let src = repo().join("crates/lowpriv/src");
    let reexports = reexports(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut scan = Scan::default();
    let mut per_stage: BTreeMap<usize, (&str, usize)> = BTreeMap::new();
    let mut unplaced = Vec::new();
    let mut test_files = 0;
    for path in &files {
        let relative = path.strip_prefix(&src).unwrap();
        let name = format!("crates/lowpriv/src/{}", relative.display());
        // A stage's unit tests (its `tests.rs`) may drive later stages to check what they
        // make of its output (the judge's tests read the verdict); they ship in no build.
        if relative.file_name().is_some_and(|n| n == "tests.rs") {
            test_files += 1;
            continue;
        }
        let Some(stage) = file_stage(relative) else {
            unplaced.push(name);
            continue;
        };
        per_stage
            .entry(rank(stage).unwrap())
            .or_insert((stage, 0))
            .1 += 1;
        let source = std::fs::read_to_string(path).unwrap();
        check_file(&mut scan, &name, stage, &source, &reexports);
    }
    let stages: Vec<String> = per_stage
        .values()
        .map(|(stage, n)| format!("{stage} {n}"))
        .collect();
    println!(
        "checked {} files ({}) and {} `crate::` mentions; {} re-exports at the root; {test_files} unit-test files left out",
        files.len() - test_files,
        stages.join(", "),
        scan.mentions,
        reexports.len()
    );
    assert!(files.len() > 20, "the library's sources were found");
    assert!(
        unplaced.is_empty(),
        "files outside every stage (add them to ORDER or BASE): {unplaced:#?}"
    );
    assert!(
        scan.unresolved.is_empty(),
        "`crate::` names that are no stage, helper or re-export: {:#?}",
        scan.unresolved
    );
    let violations: Vec<String> = scan.violations.iter().map(|v| v.to_string()).collect();
    assert!(
        violations.is_empty(),
        "a stage imports a later one:\n{}",
        violations.join("\n")
    );
}

/// The scanner bites: a synthetic file of each kind that breaks the order is flagged, at the
/// right line, and nothing in comments or strings is.
#[test]
fn the_scanner_flags_a_later_import_and_skips_comments_and_strings() {
    let reexports = reexports(
        "//! pub use judge::Nope;\n\
         pub use result::{RunResult, Summary};\npub use run::{Error, RunOptions, run};\n\
         pub use verdict::Verdict;\n",
    );
    assert_eq!(reexports.get("RunResult"), Some(&"result"));
    assert_eq!(reexports.get("run"), Some(&"run"));
    assert_eq!(reexports.get("Verdict"), Some(&"verdict"));
    assert_eq!(reexports.get("Nope"), None, "a comment re-exports nothing");

    let source = r##"//! Uses crate::report in its docs only.
use crate::scenario::Scenario;
use crate::{markup, judge::Finding};
/// crate::run in a doc comment
fn f() -> crate::RunResult {
    let _ = "crate::report in a string";
    let _ = r#"crate::report in a raw string"#;
    let _c = '"'; /* crate::report in a block comment */
    crate::observe::run()
}
"##;
    let mut scan = Scan::default();
    check_file(&mut scan, "crawl/x.rs", "crawl", source, &reexports);
    let flagged: Vec<(usize, &str, &str)> = scan
        .violations
        .iter()
        .map(|v| (v.line, v.import.as_str(), v.imported))
        .collect();
    assert_eq!(
        flagged,
        vec![
            (3, "judge", "judge"),
            (5, "RunResult", "result"),
            (9, "observe", "observe"),
        ]
    );
    assert_eq!(
        scan.mentions, 5,
        "scenario, markup, judge, RunResult, observe"
    );
    assert!(scan.unresolved.is_empty(), "{:?}", scan.unresolved);
    assert_eq!(
        scan.violations[0].to_string(),
        "crawl/x.rs:3: stage crawl imports `crate::judge`, of the later stage judge"
    );

    // A shared helper imports no stage at all; an unknown name is reported, not skipped.
    let mut scan = Scan::default();
    check_file(
        &mut scan,
        "stop.rs",
        "base",
        "use crate::scenario::Secret;\nuse crate::nowhere;\n",
        &reexports,
    );
    assert_eq!(scan.violations.len(), 1);
    assert_eq!(scan.violations[0].imported, "scenario");
    assert_eq!(scan.unresolved, vec!["stop.rs:2: crate::nowhere"]);

    // Files map to their stage by their first component under src/.
    assert_eq!(
        file_stage(Path::new("observe/classify/html.rs")),
        Some("observe")
    );
    assert_eq!(file_stage(Path::new("verdict.rs")), Some("verdict"));
    assert_eq!(file_stage(Path::new("result.rs")), Some("result"));
    assert_eq!(file_stage(Path::new("lib.rs")), Some("lib"));
    assert_eq!(file_stage(Path::new("atomic_file.rs")), Some("base"));
    assert_eq!(file_stage(Path::new("utils.rs")), None);
}
