//! The command line itself: help, completions, man page, progress lines, quiet mode.

use crate::common::*;

#[test]
fn help_lists_the_commands_and_says_what_is_not_built() {
    let out = lowpriv_sync(&["--help"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for command in [
        "run",
        "merge",
        "check",
        "demo",
        "snapshot",
        "demo-site",
        "completions",
        "manpage",
    ] {
        assert!(help.contains(command), "{command} in {help}");
    }
    assert!(help.contains("Not built yet"), "{help}");
    assert!(help.contains("3 inconclusive"), "{help}");
}

#[test]
fn completions_and_the_man_page_come_from_the_same_definitions() {
    let bash = lowpriv_sync(&["completions", "bash"], &[]);
    assert_eq!(bash.status.code(), Some(0));
    assert!(text(&bash.stdout).contains("--fail-on"));
    let man = lowpriv_sync(&["manpage"], &[]);
    assert_eq!(man.status.code(), Some(0));
    let roff = text(&man.stdout);
    assert!(roff.contains(".TH lowpriv 1"), "{roff}");
    assert!(roff.contains("demo\\-site"), "{roff}");
}

#[test]
fn off_a_terminal_progress_is_plain_lines_and_quiet_is_quiet() {
    let out = lowpriv_sync(&["demo", "--fixed"], &[]);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("lowpriv: crawling"), "{stderr}");
    assert!(stderr.contains("lowpriv: done in"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no escape codes off a terminal: {stderr}"
    );
    let out = lowpriv_sync(&["demo", "--fixed", "-q"], &[]);
    assert_eq!(text(&out.stderr), "");
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("verdict: PASS"), "{stdout}");
    assert!(stdout.lines().count() <= 3, "{stdout}");
}

#[test]
fn bad_usage_is_exit_2() {
    assert_eq!(lowpriv_sync(&["run"], &[]).status.code(), Some(2));
    assert_eq!(
        lowpriv_sync(&["demo", "--fail-on", "severe"], &[])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        lowpriv_sync(&["demo", "--audience", "everyone"], &[])
            .status
            .code(),
        Some(2)
    );
    let missing = lowpriv_sync(&["check", "/nonexistent/scenario.toml"], &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("/nonexistent/scenario.toml"));
}
