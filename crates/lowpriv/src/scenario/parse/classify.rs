//! `[classify]`: how the built-in detectors run.
//!
//! Input: the `[classify]` table. Output: a [`ClassifyConfig`]. Invariants: every name in
//! `disable` is a secret builtin (the only ones on by default); an unknown name is an error
//! with a suggestion, because a typo must not leave a rule on that was meant off, nor the
//! reverse; a personal-data builtin named there is an error, since it was never on.

use super::super::model::*;
use super::table::Table;
use super::{Cx, bad_choice};

pub(super) const KEYS: &[&str] = &["disable"];

pub(super) fn classify(cx: &mut Cx<'_>, t: &Table<'_, '_>) -> ClassifyConfig {
    let mut config = ClassifyConfig::default();
    let Some(names) = t.str_list(cx, "disable") else {
        return config;
    };
    let secrets: Vec<&str> = Builtin::ALL
        .iter()
        .filter(|b| b.is_secret())
        .map(|b| b.as_str())
        .collect();
    for (name, span) in names {
        match Builtin::parse(&name) {
            Some(builtin) if !builtin.is_secret() => cx.error_help(
                span,
                format!("`{name}` is not on by default"),
                format!(
                    "personal-data detectors run only where a class declares them, e.g. [data.x] builtin = \"{name}\""
                ),
            ),
            Some(builtin) => {
                if !config.disable.contains(&builtin) {
                    config.disable.push(builtin);
                }
            }
            None => bad_choice(cx, span, "secret rule", &name, &secrets),
        }
    }
    config
}
