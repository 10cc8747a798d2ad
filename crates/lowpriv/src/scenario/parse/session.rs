//! `[session]`: how a refusal looks on this Site (the login page path, deny markers).
//!
//! Input: the `[session]` table. Output: a [`SessionConfig`], defaults filled in. Invariant:
//! no deny marker is empty (it would match every page).

use super::super::model::*;
use super::Cx;
use super::table::{Table, path};

pub(super) const KEYS: &[&str] = &["login_path", "deny_markers"];

pub(super) fn session(cx: &mut Cx<'_>, t: &Table<'_, '_>) -> SessionConfig {
    let login_path = t
        .str(cx, "login_path")
        .and_then(|v| path(cx, "login_path", v))
        .unwrap_or_else(|| "/login".to_string());
    let deny_markers = t
        .str_list(cx, "deny_markers")
        .map(|v| {
            v.into_iter()
                .filter_map(|(s, span)| {
                    if s.is_empty() {
                        cx.error(span, "an empty deny marker would match every page");
                        None
                    } else {
                        Some(s)
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    SessionConfig {
        login_path,
        deny_markers,
    }
}
