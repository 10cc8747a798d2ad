//! `lowpriv manpage`: the one printed page covers every command and every option `--help`
//! shows, and names no page that is not there; `--dir` writes a page per command whose
//! cross-references all exist. The commands and options are read from the binary's own
//! `--help`, so a new command or option is covered without touching this file.

use std::collections::BTreeSet;

use crate::common::*;

/// A command as typed, `["snapshot", "accept"]`, with its `--help` text.
struct HelpPage {
    path: Vec<String>,
    help: String,
}

fn help(path: &[String]) -> String {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    let out = lowpriv_sync(&args, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The lines of a `--help` section (`Commands:`, `Options:`), up to the next blank line.
fn section<'a>(help: &'a str, heading: &str) -> Vec<&'a str> {
    help.lines()
        .skip_while(|l| *l != heading)
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect()
}

/// Subcommand names a `--help` lists (not `help`).
fn subcommands(help: &str) -> Vec<String> {
    section(help, "Commands:")
        .into_iter()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// The long options a `--help` lists (`fail-on`, `json`, ...; not `help`).
fn long_options(help: &str) -> BTreeSet<String> {
    let re = regex::Regex::new(r"^\s+(?:-[A-Za-z], )?--([a-z0-9][a-z0-9-]*)").unwrap();
    section(help, "Options:")
        .into_iter()
        .filter_map(|l| re.captures(l).map(|c| c[1].to_string()))
        .filter(|o| o != "help")
        .collect()
}

/// Every command reachable from `lowpriv --help`, depth first.
fn every_command() -> Vec<HelpPage> {
    let mut pages = Vec::new();
    let mut stack: Vec<Vec<String>> = subcommands(&help(&[]))
        .into_iter()
        .rev()
        .map(|s| vec![s])
        .collect();
    while let Some(path) = stack.pop() {
        let help = help(&path);
        for sub in subcommands(&help).into_iter().rev() {
            let mut child = path.clone();
            child.push(sub);
            stack.push(child);
        }
        pages.push(HelpPage { path, help });
    }
    pages
}

/// Roff source as a reader sees the words: font escapes gone, `\-` a dash.
fn plain(roff: &str) -> String {
    let fonts = regex::Regex::new(r"\\f[BIRP]").unwrap();
    fonts
        .replace_all(roff, "")
        .replace("\\-", "-")
        .replace("\\*(Aq", "'")
}

/// The text of a page's `.SH "HEADING"` section, up to the next `.SH`.
fn man_section<'a>(page: &'a str, heading: &str) -> Option<&'a str> {
    let quoted = if heading.contains(' ') {
        format!(".SH \"{heading}\"\n")
    } else {
        format!(".SH {heading}\n")
    };
    let start = page.find(&quoted)? + quoted.len();
    let rest = &page[start..];
    Some(&rest[..rest.find("\n.SH ").map_or(rest.len(), |i| i + 1)])
}

fn mentions(text: &str, option: &str) -> bool {
    let re = regex::Regex::new(&format!(r"--{}\b", regex::escape(option))).unwrap();
    re.is_match(text)
}

#[test]
fn the_printed_page_covers_every_command_and_option() {
    let out = lowpriv_sync(&["manpage"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let page = plain(&text(&out.stdout));
    assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{page}");
    assert_eq!(page.matches(".TH ").count(), 1, "one page");

    let globals = long_options(&help(&[]));
    assert!(globals.contains("color"), "{globals:?}");
    let top_options = man_section(&page, "OPTIONS").expect("top OPTIONS");
    for option in &globals {
        assert!(
            mentions(top_options, option),
            "--{option} in the top OPTIONS"
        );
    }

    let commands = every_command();
    let names: Vec<String> = commands.iter().map(|c| c.path.join(" ")).collect();
    for name in [
        "run",
        "snapshot",
        "snapshot review",
        "snapshot accept",
        "manpage",
    ] {
        assert!(names.contains(&name.to_string()), "{name} in {names:?}");
    }
    let list = man_section(&page, "COMMANDS").expect("COMMANDS");
    for command in &commands {
        let invocation = format!("lowpriv {}", command.path.join(" "));
        assert!(list.contains(&invocation), "{invocation} in COMMANDS");
        let heading = invocation.to_uppercase();
        let body = man_section(&page, &heading).unwrap_or_else(|| panic!("section {heading}"));
        for option in long_options(&command.help).difference(&globals) {
            assert!(mentions(body, option), "--{option} in {heading}:\n{body}");
        }
        // The global options are documented once, at the top, not in every section.
        for option in &globals {
            assert!(!mentions(body, option), "--{option} repeated in {heading}");
        }
    }
    // One page names no other: a package ships this one alone.
    let references = regex::Regex::new(r"[a-z-]+\(1\)").unwrap();
    let named: Vec<&str> = references.find_iter(&page).map(|m| m.as_str()).collect();
    assert!(named.is_empty(), "pages named: {named:?}");
    assert!(man_section(&page, "LOWPRIV HELP").is_none());
    assert!(man_section(&page, "LOWPRIV NO-SUCH-COMMAND").is_none());
}

#[test]
fn the_pages_in_a_dir_name_only_pages_that_exist() {
    let dir = temp_dir();
    let out = lowpriv_sync(&["manpage", "--dir", dir.path().to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");

    let written: BTreeSet<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let expected: BTreeSet<String> = std::iter::once("lowpriv.1".to_string())
        .chain(
            every_command()
                .iter()
                .map(|c| format!("lowpriv-{}.1", c.path.join("-"))),
        )
        .collect();
    assert_eq!(written, expected);

    let references = regex::Regex::new(r"([a-z][a-z-]*)\(1\)").unwrap();
    let mut named = BTreeSet::new();
    for file in &written {
        let page = plain(&std::fs::read_to_string(dir.path().join(file)).unwrap());
        assert_eq!(page.matches(".TH ").count(), 1, "{file}");
        for c in references.captures_iter(&page) {
            named.insert(format!("{}.1", &c[1]));
        }
        // Every page but the top one points back up.
        let see_also = man_section(&page, "SEE ALSO");
        assert_eq!(see_also.is_some(), file != "lowpriv.1", "{file}: SEE ALSO");
    }
    let dangling: Vec<&String> = named.difference(&written).collect();
    assert!(dangling.is_empty(), "named but not written: {dangling:?}");
    // Every page below the top is named by another (its parent's SUBCOMMANDS).
    let unnamed: Vec<&String> = written
        .difference(&named)
        .filter(|f| *f != "lowpriv.1")
        .collect();
    assert!(unnamed.is_empty(), "written but named nowhere: {unnamed:?}");
}

#[test]
fn the_help_parsers_read_what_they_should() {
    let help = "Usage: x\n\nCommands:\n  run   Run it\n        more about run\n  help  Print help\n\n\
                Options:\n  -q, --quiet  Quiet\n      --fail-on <SEV>  Fail\n  -h, --help  Help\n";
    assert_eq!(subcommands(help), ["run"]);
    assert_eq!(
        long_options(help).into_iter().collect::<Vec<_>>(),
        ["fail-on", "quiet"]
    );
    assert!(mentions("use --fail-on high", "fail-on"));
    assert!(!mentions("use --fail-onward", "fail-on"));
    assert_eq!(
        plain("\\fB\\-\\-json\\fR \\fIFILE\\fR don\\*(Aqt"),
        "--json FILE don't"
    );
}

#[test]
fn a_dir_that_cannot_be_written_is_an_error_not_a_silent_success() {
    let dir = temp_dir();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let target = file.join("man");
    let out = lowpriv_sync(&["manpage", "--dir", target.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: cannot write the man pages to "),
        "{stderr}"
    );
    assert_eq!(text(&out.stdout), "");
}
