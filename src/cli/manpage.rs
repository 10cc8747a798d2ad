//! `lowpriv manpage`: the man pages, generated from the clap definitions so they never drift
//! from `--help`.
//!
//! Two shapes. Printed (the default): ONE roff page holding the top command's sections, then a
//! section per command (`LOWPRIV RUN`, `LOWPRIV SNAPSHOT ACCEPT`, ...) with its usage, its
//! description and every option; it names no other page, because a package that installs
//! `lowpriv manpage > lowpriv.1` ships no other. `--dir DIR`: one page per command
//! (`lowpriv.1`, `lowpriv-run.1`, `lowpriv-snapshot-accept.1`, ...), as clap_mangen lays them
//! out, each with a SEE ALSO naming its parent; every page a page names is written too.
//!
//! The `help` subcommand is left out of both (clap_mangen's `generate_to` does the same):
//! it has no page of its own to point at, and `man` is the help here. Hidden commands and
//! options are left out, as `--help` leaves them out.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

use super::Outcome;

/// The `manpage` command: print the one page, or write one page per command under `dir`.
pub fn run(cmd: clap::Command, dir: Option<&Path>) -> Outcome {
    match dir {
        None => match page(cmd) {
            Ok(text) => {
                let _ = std::io::stdout().write_all(text.as_bytes());
                let _ = std::io::stdout().flush();
                Outcome::Done
            }
            Err(err) => {
                eprintln!("error: cannot render the man page: {err}");
                Outcome::Failed
            }
        },
        Some(dir) => match write_pages(cmd, dir) {
            Ok(paths) => {
                eprintln!("wrote {} man pages to {}", paths.len(), dir.display());
                Outcome::Done
            }
            Err(err) => {
                eprintln!(
                    "error: cannot write the man pages to {}: {err}",
                    dir.display()
                );
                Outcome::Failed
            }
        },
    }
}

/// The whole command line as one roff page.
pub fn page(cmd: clap::Command) -> std::io::Result<String> {
    let cmd = built(cmd);
    let top = Man::new(cmd.clone());
    let mut page = String::new();
    // Each renderer writes roff's apostrophe preamble; the page needs it once, first.
    page.push_str(PREAMBLE);
    page.push_str(&section(|w| top.render_title(w))?);
    page.push_str(&section(|w| top.render_name_section(w))?);
    page.push_str(&section(|w| top.render_synopsis_section(w))?);
    page.push_str(&section(|w| top.render_description_section(w))?);
    if visible_args(&cmd) {
        // The top command's options are global: they apply to every command below, whose
        // sections leave them out rather than repeat them.
        page.push_str(&section(|w| top.render_options_section(w))?);
    }
    page.push_str(&commands_list(&cmd, "COMMANDS", "SH"));

    let globals: Vec<clap::Id> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.get_id().clone())
        .collect();
    for sub in descendants(&cmd) {
        page.push_str(&command_section(sub, &globals)?);
    }

    if cmd.get_after_long_help().is_some() || cmd.get_after_help().is_some() {
        page.push_str(&section(|w| top.render_extra_section(w))?);
    }
    if cmd.get_version().is_some() || cmd.get_long_version().is_some() {
        page.push_str(&section(|w| top.render_version_section(w))?);
    }
    Ok(page)
}

/// One page per command under `dir` (created if missing), named as the pages' SUBCOMMANDS
/// and SEE ALSO sections name them. Returns the files written, the top page first.
pub fn write_pages(cmd: clap::Command, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let cmd = built(cmd);
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let mut pages = vec![(&cmd, None)];
    pages.extend(
        descendants_with_parent(&cmd)
            .into_iter()
            .map(|(sub, parent)| (sub, Some(parent))),
    );
    // Every page's footer names the program and its version, not the subcommand's name.
    let source = format!(
        "{} {}",
        cmd.get_name(),
        cmd.get_version().unwrap_or_default()
    );
    for (command, parent) in pages {
        let man = Man::new(command.clone()).source(source.trim_end());
        let mut text = Vec::new();
        man.render(&mut text)?;
        if let Some(parent) = parent {
            let mut see_also = Roff::default();
            see_also.control("SH", ["SEE ALSO"]);
            see_also.text([roman(format!("{}(1)", page_name(parent)))]);
            see_also.to_writer(&mut text)?;
        }
        let path = dir.join(man.get_filename());
        std::fs::write(&path, strip_repeated_preambles(&text))?;
        written.push(path);
    }
    Ok(written)
}

/// Built as clap builds it for parsing (global options propagated, bin and display names set),
/// without the `help` subcommand.
fn built(cmd: clap::Command) -> clap::Command {
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    cmd
}

fn visible_args(cmd: &clap::Command) -> bool {
    cmd.get_arguments().any(|a| !a.is_hide_set())
}

fn visible_subcommands(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands().filter(|s| !s.is_hide_set())
}

/// Every visible command below `cmd`, depth first, in definition order: the page's order.
fn descendants(cmd: &clap::Command) -> Vec<&clap::Command> {
    descendants_with_parent(cmd)
        .into_iter()
        .map(|(sub, _)| sub)
        .collect()
}

fn descendants_with_parent(cmd: &clap::Command) -> Vec<(&clap::Command, &clap::Command)> {
    let mut all = Vec::new();
    for sub in visible_subcommands(cmd) {
        all.push((sub, cmd));
        all.extend(descendants_with_parent(sub));
    }
    all
}

/// `lowpriv snapshot accept`: how a person types it.
fn invocation(cmd: &clap::Command) -> &str {
    cmd.get_bin_name().unwrap_or_else(|| cmd.get_name())
}

/// `lowpriv-snapshot-accept`: its page's name in `--dir` mode.
fn page_name(cmd: &clap::Command) -> &str {
    cmd.get_display_name().unwrap_or_else(|| cmd.get_name())
}

/// A list of `cmd`'s subcommands (every level below it) with what each does, naming the
/// sections of this page rather than pages of their own.
fn commands_list(cmd: &clap::Command, heading: &str, level: &str) -> String {
    let subs = descendants(cmd);
    if subs.is_empty() {
        return String::new();
    }
    let mut roff = Roff::default();
    roff.control(level, [heading]);
    for sub in subs {
        roff.control("TP", []);
        roff.text([bold(invocation(sub))]);
        if let Some(about) = sub.get_about().or_else(|| sub.get_long_about()) {
            for line in about.to_string().lines() {
                roff.text([roman(line)]);
            }
        }
    }
    roff.to_roff()
}

/// One command's section of the single page: its heading, what it does, its usage and its
/// own options (the global ones are documented once, at the top).
fn command_section(sub: &clap::Command, globals: &[clap::Id]) -> std::io::Result<String> {
    let mut own = sub.clone();
    for id in globals {
        if own.get_arguments().any(|a| a.get_id() == id) {
            own = own.mut_arg(id, |a| a.hide(true));
        }
    }
    let man = Man::new(own.clone());
    let mut text = String::new();
    let mut heading = Roff::default();
    heading.control("SH", [invocation(sub).to_uppercase().as_str()]);
    text.push_str(&heading.to_roff());
    // The sub-sections of a command are `.SS`: a man page has only two heading levels.
    text.push_str(&demote(&section(|w| man.render_synopsis_section(w))?));
    text.push_str(&demote(&section(|w| man.render_description_section(w))?));
    if visible_args(&own) {
        text.push_str(&demote(&section(|w| man.render_options_section(w))?));
    }
    text.push_str(&commands_list(sub, "COMMANDS", "SS"));
    if sub.get_after_long_help().is_some() || sub.get_after_help().is_some() {
        text.push_str(&demote(&section(|w| man.render_extra_section(w))?));
    }
    Ok(text)
}

const PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";

/// One of clap_mangen's section renderers, as text without the preamble.
fn section(render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> std::io::Result<String> {
    let mut bytes = Vec::new();
    render(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Ok(text
        .strip_prefix(PREAMBLE)
        .map(str::to_owned)
        .unwrap_or(text))
}

/// `.SH X` → `.SS X`: a command's sections nest under its own `.SH`.
fn demote(roff: &str) -> String {
    roff.lines()
        .map(|line| match line.strip_prefix(".SH ") {
            Some(rest) => format!(".SS {rest}\n"),
            None => format!("{line}\n"),
        })
        .collect()
}

/// A page rendered in pieces carries the preamble once per piece; keep the first.
fn strip_repeated_preambles(text: &[u8]) -> String {
    let text = String::from_utf8_lossy(text);
    match text.strip_prefix(PREAMBLE) {
        Some(rest) => format!("{PREAMBLE}{}", rest.replace(PREAMBLE, "")),
        None => text.replace(PREAMBLE, ""),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a failure is the point
mod tests {
    use super::*;

    fn sample() -> clap::Command {
        clap::Command::new("tool")
            .version("1.0")
            .about("Top")
            .arg(
                clap::Arg::new("quiet")
                    .long("quiet")
                    .global(true)
                    .action(clap::ArgAction::SetTrue),
            )
            .subcommand(
                clap::Command::new("group").about("A group").subcommand(
                    clap::Command::new("leaf").about("A leaf").arg(
                        clap::Arg::new("only-here")
                            .long("only-here")
                            .help("Leaf option"),
                    ),
                ),
            )
            .subcommand(clap::Command::new("secret").hide(true))
    }

    #[test]
    fn one_page_has_a_section_per_command_and_names_no_other_page() {
        let page = page(sample()).unwrap();
        assert_eq!(page.matches(PREAMBLE).count(), 1);
        assert!(page.contains(".SH \"TOOL GROUP\""), "{page}");
        assert!(page.contains(".SH \"TOOL GROUP LEAF\""), "{page}");
        assert!(page.contains("\\-\\-only\\-here"), "{page}");
        // Not another page's name, and the hidden command and `help` stay out.
        assert!(!page.contains("(1)"), "{page}");
        assert!(!page.contains("secret"), "{page}");
        assert!(!page.contains("TOOL HELP"), "{page}");
        // The global option is documented once, in the top OPTIONS.
        assert_eq!(page.matches("\\-\\-quiet").count(), 2, "{page}"); // synopsis + options
    }

    #[test]
    fn pages_in_a_dir_name_only_pages_that_exist() {
        let dir = tempfile::tempdir().unwrap();
        let written = write_pages(sample(), dir.path()).unwrap();
        let names: Vec<String> = written
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["tool.1", "tool-group.1", "tool-group-leaf.1"]);
        let leaf = std::fs::read_to_string(dir.path().join("tool-group-leaf.1")).unwrap();
        assert!(leaf.contains(".SH \"SEE ALSO\"\ntool\\-group(1)"), "{leaf}");
        assert!(
            leaf.contains(".TH tool-group-leaf 1  \"tool 1.0\""),
            "{leaf}"
        );
        let top = std::fs::read_to_string(dir.path().join("tool.1")).unwrap();
        assert!(!top.contains("SEE ALSO"), "{top}");
        assert!(top.contains("tool\\-group(1)"), "{top}");
        assert!(!top.contains("tool\\-secret"), "{top}");
    }
}
