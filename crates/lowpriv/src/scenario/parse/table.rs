//! Tables and typed getters: one TOML table being validated, and its values read as the types
//! the model wants.
//!
//! Input: a parsed TOML table with spans. Output: typed values with the span of their text
//! (inside the quotes, so carets sit under it), or `None` with a problem recorded. Invariant:
//! every getter that returns `None` for a present key has reported why; an absent key is
//! reported only by [`Table::require`].

use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::super::glob::{self, Compiled, PathGlobs};
use super::{Cx, Key, Value, did_you_mean};

/// A table being validated: its entries in file order and a name for messages.
pub(super) struct Table<'a, 'i> {
    pub(super) entries: Vec<(&'a Key<'i>, &'a Value<'i>)>,
    /// How messages name it, e.g. `[crawl]`.
    pub(super) name: String,
    pub(super) span: Range<usize>,
}

impl<'a, 'i> Table<'a, 'i> {
    /// Wraps a table, reporting every key not in `known`; `None` means free-form keys
    /// (header names, data class names).
    pub(super) fn new(
        cx: &mut Cx<'_>,
        table: &'a DeTable<'i>,
        span: Range<usize>,
        name: &str,
        known: Option<&[&str]>,
    ) -> Self {
        let mut entries: Vec<_> = table.iter().collect();
        // The map may be sorted by key; file order keeps diagnostics and form fields natural.
        entries.sort_by_key(|(k, _)| k.span().start);
        for (key, _) in &entries {
            let Some(known) = known else { break };
            let k: &str = key.get_ref();
            if !known.contains(&k) {
                let help = did_you_mean(k, known)
                    .unwrap_or_else(|| format!("expected one of: {}", known.join(", ")));
                cx.error_help(key.span(), format!("unknown key `{k}` in {name}"), help);
            }
        }
        Table {
            entries,
            name: name.to_string(),
            span,
        }
    }

    /// Wraps a value that must be a table.
    pub(super) fn of(
        cx: &mut Cx<'_>,
        value: &'a Value<'i>,
        what: &str,
        name: &str,
        known: Option<&[&str]>,
    ) -> Option<Self> {
        match value.get_ref() {
            DeValue::Table(t) => Some(Table::new(cx, t, value.span(), name, known)),
            other => {
                cx.error(
                    value.span(),
                    format!("{what} must be a table, not {}", article(other)),
                );
                None
            }
        }
    }

    pub(super) fn get(&self, key: &str) -> Option<&'a Value<'i>> {
        self.entries
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(_, v)| *v)
    }

    pub(super) fn key_span(&self, key: &str) -> Option<Range<usize>> {
        self.entries
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(k, _)| k.span())
    }

    pub(super) fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Where a problem about the table as a whole points: its header, or its first key.
    pub(super) fn anchor(&self) -> Range<usize> {
        self.span.clone()
    }

    pub(super) fn require<T>(&self, cx: &mut Cx<'_>, key: &str, got: Option<T>) -> Option<T> {
        if got.is_none() && !self.has(key) {
            cx.error(
                self.anchor(),
                format!("`{key}` is required in {}", self.name),
            );
        }
        got
    }

    pub(super) fn str(&self, cx: &mut Cx<'_>, key: &str) -> Option<(String, Range<usize>)> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::String(s) => Some((s.to_string(), cx.inner(value.span()))),
            other => {
                type_error(cx, key, "a string", other, value.span());
                None
            }
        }
    }

    pub(super) fn bool(&self, cx: &mut Cx<'_>, key: &str) -> Option<(bool, Range<usize>)> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::Boolean(b) => Some((*b, value.span())),
            other => {
                type_error(cx, key, "true or false", other, value.span());
                None
            }
        }
    }

    pub(super) fn int(&self, cx: &mut Cx<'_>, key: &str) -> Option<(i64, Range<usize>)> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Some((n, value.span())),
                Err(_) => {
                    cx.error(value.span(), format!("`{key}` is too large"));
                    None
                }
            },
            other => {
                type_error(cx, key, "an integer", other, value.span());
                None
            }
        }
    }

    /// An integer in `min..=max`.
    pub(super) fn int_in(&self, cx: &mut Cx<'_>, key: &str, min: i64, max: i64) -> Option<i64> {
        let (n, span) = self.int(cx, key)?;
        if n < min {
            cx.error(span, format!("`{key}` must be at least {min}"));
            None
        } else if n > max {
            cx.error(span, format!("`{key}` must be at most {max}"));
            None
        } else {
            Some(n)
        }
    }

    pub(super) fn str_list(
        &self,
        cx: &mut Cx<'_>,
        key: &str,
    ) -> Option<Vec<(String, Range<usize>)>> {
        let value = self.get(key)?;
        let DeValue::Array(items) = value.get_ref() else {
            type_error(
                cx,
                key,
                "an array of strings",
                value.get_ref(),
                value.span(),
            );
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push((s.to_string(), cx.inner(item.span()))),
                other => {
                    cx.error(
                        item.span(),
                        format!(
                            "`{key}` must be an array of strings, but holds {}",
                            article(other)
                        ),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    pub(super) fn date(&self, cx: &mut Cx<'_>, key: &str) -> Option<jiff::civil::Date> {
        let value = self.get(key)?;
        let date = match value.get_ref() {
            DeValue::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
                (Some(d), None, None) => {
                    jiff::civil::Date::new(d.year as i16, d.month as i8, d.day as i8).ok()
                }
                _ => None,
            },
            DeValue::String(s) => {
                let shape = s.len() == 10
                    && s.bytes().enumerate().all(|(i, b)| {
                        if i == 4 || i == 7 {
                            b == b'-'
                        } else {
                            b.is_ascii_digit()
                        }
                    });
                if shape { s.parse().ok() } else { None }
            }
            _ => None,
        };
        if date.is_none() {
            cx.error(
                value.span(),
                format!("`{key}` must be a date such as 2026-11-01"),
            );
        }
        date
    }
}

fn article(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

pub(super) fn type_error(
    cx: &mut Cx<'_>,
    key: &str,
    expected: &str,
    got: &DeValue<'_>,
    span: Range<usize>,
) {
    cx.error_help(
        span,
        format!("`{key}` must be {expected}"),
        format!("found {}", article(got)),
    );
}

/// A path (not a glob) that must start with `/`.
pub(super) fn path(
    cx: &mut Cx<'_>,
    key: &str,
    (value, span): (String, Range<usize>),
) -> Option<String> {
    if value.starts_with('/') {
        Some(value)
    } else {
        cx.error(span, format!("`{key}` must be a path starting with `/`"));
        None
    }
}

/// A list of globs; every bad one is reported. `None` if any was bad.
pub(super) fn globs(
    cx: &mut Cx<'_>,
    key: &str,
    items: Vec<(String, Range<usize>)>,
) -> Option<Vec<Compiled>> {
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for (text, span) in items {
        match glob::compile(&text) {
            Ok(matcher) => out.push(Compiled { text, matcher }),
            Err(why) => {
                cx.error_help(span, format!("invalid glob in `{key}`"), why);
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

/// The set of globs one key holds, compiled once for every later stage. Each glob has been
/// checked already; this reports, at the key's value, the rare set that does not build whole.
pub(super) fn path_globs(
    cx: &mut Cx<'_>,
    key: &str,
    span: Range<usize>,
    globs: &[Compiled],
) -> Option<PathGlobs> {
    let patterns = globs.iter().map(|g| g.text.clone()).collect();
    match PathGlobs::new(patterns) {
        Ok(set) => Some(set),
        Err(why) => {
            cx.error_help(span, format!("invalid glob in `{key}`"), why.to_string());
            None
        }
    }
}

/// Each element of an array of tables, or an error if `value` is something else.
pub(super) fn array_of_tables<'a, 'i>(
    cx: &mut Cx<'_>,
    value: &'a Value<'i>,
    key: &str,
) -> Vec<(&'a DeTable<'i>, Range<usize>)> {
    let DeValue::Array(items) = value.get_ref() else {
        cx.error_help(
            value.span(),
            format!("`{key}` must be an array of tables"),
            format!("write each entry as [[{key}]]"),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items.iter() {
        match item.get_ref() {
            DeValue::Table(t) => out.push((t, item.span())),
            other => cx.error(
                item.span(),
                format!("each `{key}` entry must be a table, not {}", article(other)),
            ),
        }
    }
    out
}
