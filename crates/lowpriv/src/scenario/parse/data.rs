//! `[data.NAME]`: the data classes a response is searched for.
//!
//! Input: the `[data]` table and the declared identity and source names (for `belongs_to` and
//! `source`). Output: the classes in file order, every class name declared (even from entries
//! with problems), and where each `source` is named. Invariants: exactly one detector per
//! class; a `source` is a declared `[[source]]` and never on an `env` class; a `pattern`
//! compiles under [`PATTERN_SIZE_LIMIT`] and does not match the empty string; an `env` value is
//! set and at least 8 characters long; no class takes the name of a default-on secret rule
//! unless it is that rule.

use std::ops::Range;

use super::super::env;
use super::super::model::*;
use super::table::Table;
use super::{Cx, Value, bad_choice, suggest};

const DATA_KINDS: &[&str] = &["json_keys", "builtin", "text", "env", "pattern"];
const DATA: &[&str] = &[
    "json_keys",
    "builtin",
    "text",
    "env",
    "pattern",
    "secret",
    "belongs_to",
    "source",
];

pub(super) fn data_classes(
    cx: &mut Cx<'_>,
    value: &Value<'_>,
    identities: &[String],
    sources: &[String],
    names: &mut Vec<String>,
    disabled: &[Builtin],
    source_spans: &mut Vec<(String, Range<usize>)>,
) -> Vec<DataClass> {
    let Some(all) = Table::of(cx, value, "`data`", "[data]", None) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, v) in &all.entries {
        let name: &str = key.get_ref();
        names.push(name.to_string());
        // A default-on secret rule reports its hits under its own id as the class name; a
        // class of another detector under that name would merge the two in every report.
        let shadowed = Builtin::parse(name)
            .filter(|b| b.is_secret() && !disabled.contains(b))
            .filter(|b| !declares_builtin(v, *b));
        if let Some(builtin) = shadowed {
            cx.error_help(
                key.span(),
                format!("`{name}` is the name of the default-on secret rule `{name}`"),
                format!(
                    "rename the class, declare it with builtin = \"{}\", or add \"{}\" to [classify] disable",
                    builtin.as_str(),
                    builtin.as_str()
                ),
            );
        }
        let label = format!("[data.{name}]");
        let Some(t) = Table::of(cx, v, &format!("`data.{name}`"), &label, Some(DATA)) else {
            continue;
        };
        let kinds: Vec<&str> = t
            .entries
            .iter()
            .map(|(k, _)| k.get_ref().as_ref())
            .filter(|k| DATA_KINDS.contains(k))
            .collect();
        let Some(&kind) = kinds.first() else {
            cx.error_help(
                t.anchor(),
                format!("{label} has no detector"),
                "set exactly one of: json_keys, builtin, text, env, pattern",
            );
            continue;
        };
        let mut ok = true;
        for extra in &kinds[1..] {
            cx.error_help(
                t.key_span(extra).unwrap_or(t.anchor()),
                format!("`{extra}` conflicts with `{kind}` in {label}"),
                "a data class has exactly one detector",
            );
            ok = false;
        }
        let kind = match kind {
            "json_keys" => t.str_list(cx, "json_keys").and_then(|keys| {
                let span = t.get("json_keys").map_or(t.anchor(), |v| v.span());
                if keys.is_empty() {
                    cx.error(span, "`json_keys` must not be empty");
                    return None;
                }
                if let Some((_, s)) = keys.iter().find(|(k, _)| k.is_empty()) {
                    cx.error(s.clone(), "`json_keys` must not hold an empty key");
                    return None;
                }
                Some(DataKind::JsonKeys(
                    keys.into_iter().map(|(k, _)| k).collect(),
                ))
            }),
            "builtin" => t.str(cx, "builtin").and_then(|(b, span)| {
                let parsed = Builtin::parse(&b);
                if parsed.is_none() {
                    let builtins: Vec<&str> = Builtin::ALL.iter().map(|b| b.as_str()).collect();
                    bad_choice(cx, span, "builtin", &b, &builtins);
                }
                parsed.map(DataKind::Builtin)
            }),
            "text" => t.str(cx, "text").and_then(|(text, span)| {
                if text.is_empty() {
                    cx.error(span, "`text` must not be empty");
                    None
                } else {
                    Some(DataKind::Text(text))
                }
            }),
            "pattern" => t
                .str(cx, "pattern")
                .and_then(|(pattern, span)| user_regex(cx, &pattern, span))
                .map(|regex| DataKind::Pattern {
                    regex,
                    secret: false,
                }),
            _ => t.str(cx, "env").and_then(|(var, span)| {
                if !env::is_var_name(&var) {
                    cx.error_help(
                        span,
                        "`env` must be a variable name",
                        "e.g. env = \"DB_PASSWORD\"",
                    );
                    return None;
                }
                match (cx.env)(&var) {
                    None => {
                        cx.error(span, format!("environment variable `{var}` is not set"));
                        None
                    }
                    Some(value) if value.chars().count() < 8 => {
                        cx.error_help(
                            span,
                            format!("the value of `{var}` is shorter than 8 characters"),
                            "a value that short would match almost any response",
                        );
                        None
                    }
                    Some(value) => Some(DataKind::Env {
                        var,
                        value: Secret::new(value),
                    }),
                }
            }),
        };
        let belongs_to = t.str(cx, "belongs_to").and_then(|(owner, span)| {
            if !t.has("text") {
                cx.error(
                    t.key_span("belongs_to").unwrap_or(span),
                    "`belongs_to` only goes with `text`",
                );
                ok = false;
                return None;
            }
            if identities.contains(&owner) {
                Some(owner)
            } else {
                let help = suggest(&owner, identities.iter().map(String::as_str))
                    .map(|k| format!("did you mean `{k}`?"))
                    .unwrap_or_else(|| "`belongs_to` names a declared [[identity]]".to_string());
                cx.error_help(span, format!("unknown identity `{owner}`"), help);
                ok = false;
                None
            }
        });
        if t.has("belongs_to") && belongs_to.is_none() {
            ok = false;
        }
        let secret = t.bool(cx, "secret");
        let kind = match (kind, secret) {
            (Some(DataKind::Pattern { regex, .. }), Some((secret, _))) => {
                Some(DataKind::Pattern { regex, secret })
            }
            (kind, Some((_, span))) if !t.has("pattern") => {
                cx.error_help(
                    span,
                    "`secret` only goes with `pattern`",
                    "builtins know whether they are secret; `env` values always are",
                );
                ok = false;
                kind
            }
            (kind, None) if t.has("secret") => {
                ok = false;
                kind
            }
            (kind, _) => kind,
        };
        let source = t.str(cx, "source").and_then(|(source, span)| {
            if t.has("env") {
                cx.error_help(
                    t.key_span("source").unwrap_or(span),
                    "`source` does not go with `env`",
                    "a secret has no source records: an `env` value must never appear, whatever a source returns",
                );
                None
            } else if sources.contains(&source) {
                source_spans.push((name.to_string(), t.key_span("source").unwrap_or(span)));
                Some(source)
            } else {
                let help = suggest(&source, sources.iter().map(String::as_str))
                    .map(|k| format!("did you mean `{k}`?"))
                    .unwrap_or_else(|| "`source` names a declared [[source]]".to_string());
                cx.error_help(span, format!("unknown source `{source}`"), help);
                None
            }
        });
        if t.has("source") && source.is_none() {
            ok = false;
        }
        if let (Some(kind), true) = (kind, ok) {
            out.push(DataClass {
                name: name.to_string(),
                kind,
                belongs_to,
                source,
                location: cx.location(t.span.start),
            });
        }
    }
    out
}

/// Whether a `[data.NAME]` value is a table with `builtin = "<b>"`.
fn declares_builtin(value: &Value<'_>, builtin: Builtin) -> bool {
    let toml::de::DeValue::Table(table) = value.get_ref() else {
        return false;
    };
    table.iter().any(|(k, v)| {
        k.get_ref().as_ref() == "builtin"
            && matches!(v.get_ref(), toml::de::DeValue::String(s) if s.as_ref() == builtin.as_str())
    })
}

/// How much memory one user pattern may compile to. The `regex` crate matches in linear time
/// whatever the pattern, so a hostile pattern cannot hang a run; this cap keeps one (`\w{1000}`
/// repeated, say) from taking memory instead.
pub(crate) const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// Compiles a user's `pattern`, reporting a syntax error at the character it names when the
/// source holds the pattern verbatim (a literal string, or a basic string without escapes).
fn user_regex(cx: &mut Cx<'_>, pattern: &str, span: Range<usize>) -> Option<regex::Regex> {
    if pattern.is_empty() {
        cx.error(span, "`pattern` must not be empty");
        return None;
    }
    let error = match regex::RegexBuilder::new(pattern)
        .size_limit(PATTERN_SIZE_LIMIT)
        .build()
    {
        Ok(regex) if regex.is_match("") => {
            cx.error_help(
                span,
                "`pattern` matches the empty string",
                "it would match every response; require at least one character",
            );
            return None;
        }
        Ok(regex) => return Some(regex),
        Err(error) => error,
    };
    let (message, help, at) = match &error {
        regex::Error::CompiledTooBig(limit) => (
            "`pattern` is too large".to_string(),
            format!("it compiles to more than {limit} bytes; simplify it"),
            None,
        ),
        other => {
            let (why, offset) = regex_syntax_error(&other.to_string());
            (
                "invalid regular expression in `pattern`".to_string(),
                why,
                offset,
            )
        }
    };
    let verbatim = cx.source.get(span.clone()) == Some(pattern);
    let span = match at {
        // Point at the offending character: a span within the pattern, in bytes.
        Some(offset) if verbatim => {
            let start = span.start + pattern.char_indices().nth(offset).map_or(0, |(i, _)| i);
            let len = pattern[start - span.start..]
                .chars()
                .next()
                .map_or(0, char::len_utf8);
            start..start + len
        }
        _ => span,
    };
    cx.error_help(span, message, help);
    None
}

/// The reason and the character offset (if shown) in the `regex` crate's rendered syntax
/// error, which quotes the pattern on one line and puts a caret under the fault on the next.
fn regex_syntax_error(rendered: &str) -> (String, Option<usize>) {
    let lines: Vec<&str> = rendered.lines().collect();
    let why = lines
        .iter()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or("the regex crate rejects it")
        .to_string();
    // Line 0 is a heading, line 1 the quoted pattern, line 2 the caret; multi-line patterns
    // are rendered differently, and then no offset is claimed.
    let offset = match (lines.get(1), lines.get(2)) {
        (Some(quoted), Some(carets)) if carets.trim_start().starts_with('^') => {
            let margin = quoted.len() - quoted.trim_start().len();
            let caret = carets.find('^').unwrap_or(0);
            carets[..caret].chars().count().checked_sub(margin)
        }
        _ => None,
    };
    (why, offset)
}
