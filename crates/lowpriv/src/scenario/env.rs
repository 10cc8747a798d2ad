//! `${VAR}` references in credential values.
//!
//! Input: a string from the scenario file. Output: the references it holds (name and byte range
//! inside the string) or the substituted value. Invariant: a value never appears in an error;
//! errors carry only variable names and ranges.
//!
//! Syntax: `${NAME}` with `NAME` matching `[A-Za-z_][A-Za-z0-9_]*`. A `$` not followed by `{`
//! is literal. There is no escape: credentials that need a literal `${` belong in the variable.

use std::ops::Range;

/// One `${NAME}` inside a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    pub name: String,
    /// Byte range of the whole `${NAME}` inside the value.
    pub range: Range<usize>,
}

/// A `${` that does not form a valid reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed {
    pub range: Range<usize>,
}

pub(crate) fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Every reference in `value`, in order, or the first malformed one.
pub(crate) fn references(value: &str) -> Result<Vec<Reference>, Malformed> {
    let mut refs = Vec::new();
    let mut rest = 0;
    while let Some(found) = value[rest..].find("${") {
        let start = rest + found;
        let Some(close) = value[start..].find('}') else {
            return Err(Malformed {
                range: start..value.len(),
            });
        };
        let end = start + close + 1;
        let name = &value[start + 2..end - 1];
        if !is_var_name(name) {
            return Err(Malformed { range: start..end });
        }
        refs.push(Reference {
            name: name.to_string(),
            range: start..end,
        });
        rest = end;
    }
    Ok(refs)
}

/// Replaces each reference with its value. `Err` lists the references whose variable is unset.
pub(crate) fn substitute(
    value: &str,
    refs: &[Reference],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, Vec<Reference>> {
    let mut out = String::with_capacity(value.len());
    let mut unset = Vec::new();
    let mut last = 0;
    for r in refs {
        out.push_str(&value[last..r.range.start]);
        match env(&r.name) {
            Some(v) => out.push_str(&v),
            None => unset.push(r.clone()),
        }
        last = r.range.end;
    }
    out.push_str(&value[last..]);
    if unset.is_empty() {
        Ok(out)
    } else {
        Err(unset)
    }
}

/// The environment of a check that may run without the scenario's secrets (a lint job in CI
/// often has none): a set variable reads as itself, an unset one as a stand-in, remembered,
/// so the scenario is still checked for form (every reference well made, every key and glob
/// right) without its values. The stand-in is long and shaped like a URL whose host names the
/// variable, so it passes the checks a value meets (an `env` value's length, a `base_url`'s
/// scheme, two `base_url`s being other origins); what a value itself would fail is what
/// [`PlaceholderEnv::unset`] leaves to a check that has the values (`--require-env`).
pub struct PlaceholderEnv<'e> {
    env: &'e dyn Fn(&str) -> Option<String>,
    unset: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl<'e> PlaceholderEnv<'e> {
    pub fn new(env: &'e dyn Fn(&str) -> Option<String>) -> PlaceholderEnv<'e> {
        PlaceholderEnv {
            env,
            unset: Default::default(),
        }
    }

    /// The variable's value, or its stand-in (remembered as unset).
    pub fn lookup(&self, var: &str) -> Option<String> {
        if let Some(value) = (self.env)(var) {
            return Some(value);
        }
        if let Ok(mut unset) = self.unset.lock() {
            unset.insert(var.to_string());
        }
        Some(format!(
            "http://unset-{}.invalid/",
            slug(var).trim_matches('-')
        ))
    }

    /// The variables read that were not set, sorted.
    pub fn unset(&self) -> Vec<String> {
        self.unset
            .lock()
            .map(|unset| unset.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// Lowercase ASCII letters and digits, every other character a `-`: a name that is safe in a
/// host name or a file name.
pub fn slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_stand_in_for_unset_variables_and_are_remembered() {
        let real = |var: &str| (var == "SET").then(|| "value".to_string());
        let env = PlaceholderEnv::new(&real);
        assert_eq!(env.lookup("SET").as_deref(), Some("value"));
        let a = env.lookup("HR_URL").unwrap();
        let b = env.lookup("SITE_URL").unwrap();
        assert_eq!(a, "http://unset-hr-url.invalid/");
        assert!(url::Url::parse(&a).is_ok() && a.len() >= 8);
        assert_ne!(
            url::Url::parse(&a).unwrap().origin(),
            url::Url::parse(&b).unwrap().origin()
        );
        assert_eq!(env.unset(), vec!["HR_URL", "SITE_URL"]);
    }

    #[test]
    fn finds_references_and_rejects_malformed_ones() {
        type Want = Result<Vec<(&'static str, Range<usize>)>, Range<usize>>;
        let cases: &[(&str, Want)] = &[
            ("plain", Ok(vec![])),
            ("$HOME and $ alone", Ok(vec![])),
            ("${A}", Ok(vec![("A", 0..4)])),
            (
                "sid=${SID}; x=${_X2}",
                Ok(vec![("SID", 4..10), ("_X2", 14..20)]),
            ),
            ("${}", Err(0..3)),
            ("${1A}", Err(0..5)),
            ("a${B", Err(1..4)),
            ("${A-B}", Err(0..6)),
        ];
        for (input, want) in cases {
            let got = references(input)
                .map(|v| v.into_iter().map(|r| (r.name, r.range)).collect::<Vec<_>>())
                .map_err(|m| m.range);
            let want = want.clone().map(|v| {
                v.into_iter()
                    .map(|(n, r)| (n.to_string(), r))
                    .collect::<Vec<_>>()
            });
            assert_eq!(got, want, "{input}");
        }
    }

    #[test]
    fn substitutes_and_reports_unset() {
        let env = |k: &str| (k == "A").then(|| "alpha".to_string());
        let refs = references("x=${A};y=${B}").unwrap();
        let err = substitute("x=${A};y=${B}", &refs, &env).unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(err[0].name, "B");
        let refs = references("x=${A}").unwrap();
        assert_eq!(substitute("x=${A}", &refs, &env).unwrap(), "x=alpha");
    }
}
