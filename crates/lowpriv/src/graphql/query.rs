//! Generated queries: one read-only document per root query field, selecting scalar leaves.
//!
//! Input: the union of every identity's schema, a root query field, and the ids answers
//! showed. Output: a `query { ... }` document, or why the field is not queried. Invariants:
//! only fields of the root *query* type are ever written (the caller never passes a
//! mutation's or a subscription's); the selection goes at most [`MAX_DEPTH`] levels of
//! selection sets deep and never selects a field with a required argument below the root;
//! a value is only ever an id some answer showed, or `false` for a required `Boolean`.

use std::collections::BTreeSet;

use super::schema::{Field, Schema, TypeRef};

/// Levels of selection sets under the root field: `employees { id manager { id } }` is 2.
pub const MAX_DEPTH: usize = 2;

/// What became of one root query field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    Query(String),
    /// Why the field is not queried.
    NotQueried(String),
}

/// Writes the query for the root field `name`, filling required arguments from `ids`
/// (the smallest id in their sorted order: the same one every run).
pub fn plan(schema: &Schema, name: &str, field: &Field, ids: &BTreeSet<String>) -> Plan {
    let mut args = Vec::new();
    for (arg, ty) in &field.args {
        if !ty.is_required() {
            continue;
        }
        let named = ty.named().and_then(|t| t.name.as_deref()).unwrap_or("?");
        let value = match named {
            "Boolean" => Some("false".to_string()),
            "ID" | "String" => ids.iter().next().map(|id| quote(id)),
            "Int" => ids.iter().find(|id| id.parse::<i64>().is_ok()).cloned(),
            _ => {
                return Plan::NotQueried(format!(
                    "required argument `{arg}: {}` has no obvious value",
                    ty.display()
                ));
            }
        };
        let Some(value) = value else {
            return Plan::NotQueried(format!(
                "required argument `{arg}: {}`: no id was seen in an answer to fill it",
                ty.display()
            ));
        };
        args.push(format!("{arg}: {value}"));
    }
    let head = if args.is_empty() {
        name.to_string()
    } else {
        format!("{name}({})", args.join(", "))
    };
    match selection(schema, &field.ty, 1) {
        Selection::Leaf => Plan::Query(format!("query {{ {head} }}")),
        Selection::Set(set) => Plan::Query(format!("query {{ {head} {set} }}")),
        Selection::Nothing => Plan::NotQueried(format!(
            "`{}` has no scalar field within {MAX_DEPTH} levels",
            field.ty.display()
        )),
    }
}

enum Selection {
    /// A scalar or an enum: no selection set.
    Leaf,
    Set(String),
    /// An object with nothing selectable within the depth.
    Nothing,
}

fn selection(schema: &Schema, ty: &TypeRef, depth: usize) -> Selection {
    let Some(name) = ty.named().and_then(|t| t.name.as_deref()) else {
        return Selection::Nothing;
    };
    let Some(def) = schema.types.get(name) else {
        // A type the schema does not list (a built-in scalar): a leaf.
        return Selection::Leaf;
    };
    match def.kind.as_str() {
        "SCALAR" | "ENUM" => Selection::Leaf,
        // Which member answers is all a union says without fragments.
        "UNION" => Selection::Set("{ __typename }".to_string()),
        _ if depth > MAX_DEPTH => Selection::Nothing,
        _ => {
            let mut parts = Vec::new();
            for (field_name, field) in &def.fields {
                // Below the root nothing is filled: a required argument leaves the field out.
                if field.args.iter().any(|(_, t)| t.is_required()) {
                    continue;
                }
                match selection(schema, &field.ty, depth + 1) {
                    Selection::Leaf => parts.push(field_name.clone()),
                    Selection::Set(set) => parts.push(format!("{field_name} {set}")),
                    Selection::Nothing => {}
                }
            }
            if parts.is_empty() {
                Selection::Nothing
            } else {
                Selection::Set(format!("{{ {} }}", parts.join(" ")))
            }
        }
    }
}

/// A GraphQL string literal (the same escapes as JSON).
fn quote(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

/// The `id` values (strings and integers) anywhere in an answer's `data`, for arguments.
pub fn ids_in(value: &serde_json::Value, out: &mut BTreeSet<String>) {
    const MAX_IDS: usize = 64;
    match value {
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                if key == "id" && out.len() < MAX_IDS {
                    match item {
                        serde_json::Value::String(s) if s.len() <= 64 => {
                            out.insert(s.clone());
                        }
                        serde_json::Value::Number(n) => {
                            out.insert(n.to_string());
                        }
                        _ => {}
                    }
                }
                ids_in(item, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| ids_in(i, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::schema::{Introspected, parse};
    use super::*;

    fn schema() -> Schema {
        let scalar =
            |name: &str| serde_json::json!({"kind": "SCALAR", "name": name, "ofType": null});
        let object =
            |name: &str| serde_json::json!({"kind": "OBJECT", "name": name, "ofType": null});
        let required = |inner: serde_json::Value| serde_json::json!({"kind": "NON_NULL", "name": null, "ofType": inner});
        let list = |inner: serde_json::Value| serde_json::json!({"kind": "LIST", "name": null, "ofType": inner});
        let body = serde_json::json!({"data": {"__schema": {
        "queryType": {"name": "Query"}, "mutationType": {"name": "Mutation"},
        "types": [
            {"kind": "OBJECT", "name": "Query", "fields": [
                {"name": "employees", "args": [], "type": required(list(object("Employee")))},
                {"name": "employee", "args": [{"name": "id", "type": required(scalar("ID"))}], "type": object("Employee")},
                {"name": "count", "args": [{"name": "active", "type": required(scalar("Boolean"))}], "type": scalar("Int")},
                {"name": "search", "args": [{"name": "filter", "type": required(object("Filter"))}], "type": scalar("Int")},
                {"name": "nothing", "args": [], "type": object("Empty")}
            ]},
            {"kind": "OBJECT", "name": "Employee", "fields": [
                {"name": "id", "args": [], "type": required(scalar("ID"))},
                {"name": "name", "args": [], "type": scalar("String")},
                {"name": "manager", "args": [], "type": object("Employee")},
                {"name": "peers", "args": [{"name": "first", "type": required(scalar("Int"))}], "type": list(object("Employee"))}
            ]},
            {"kind": "OBJECT", "name": "Empty", "fields": []},
            {"kind": "INPUT_OBJECT", "name": "Filter", "fields": null},
            {"kind": "OBJECT", "name": "Mutation", "fields": [
                {"name": "fire", "args": [], "type": scalar("Boolean")}
            ]}
        ]}}});
        match parse(&body) {
            Introspected::Schema(s) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn queries_are_written_for_root_query_fields_to_a_bounded_depth() {
        let schema = schema();
        let ids: BTreeSet<String> = ["2".to_string(), "1".to_string()].into();
        let none = BTreeSet::new();
        let field = |name: &str| schema.types["Query"].fields[name].clone();
        let cases: &[(&str, &BTreeSet<String>, Plan)] = &[
            (
                "employees",
                &none,
                // Depth 2: manager's own manager is left out; `peers` needs an argument.
                Plan::Query("query { employees { id manager { id name } name } }".to_string()),
            ),
            (
                "employee",
                &ids,
                Plan::Query(
                    "query { employee(id: \"1\") { id manager { id name } name } }".to_string(),
                ),
            ),
            (
                "employee",
                &none,
                Plan::NotQueried(
                    "required argument `id: ID!`: no id was seen in an answer to fill it"
                        .to_string(),
                ),
            ),
            (
                "count",
                &none,
                Plan::Query("query { count(active: false) }".to_string()),
            ),
            (
                "search",
                &ids,
                Plan::NotQueried(
                    "required argument `filter: Filter!` has no obvious value".to_string(),
                ),
            ),
            (
                "nothing",
                &none,
                Plan::NotQueried("`Empty` has no scalar field within 2 levels".to_string()),
            ),
        ];
        for (name, ids, want) in cases {
            assert_eq!(&plan(&schema, name, &field(name), ids), want, "{name}");
        }
    }

    #[test]
    fn ids_are_found_anywhere_in_an_answer() {
        let mut ids = BTreeSet::new();
        ids_in(
            &serde_json::json!({"data": {"employees": [{"id": 3, "name": "x"}, {"id": "e-7", "manager": {"id": 1}}]}}),
            &mut ids,
        );
        assert_eq!(ids, ["1", "3", "e-7"].map(String::from).into());
    }
}
