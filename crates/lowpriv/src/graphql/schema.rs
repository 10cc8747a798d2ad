//! A GraphQL schema as introspection answers it, and the difference between two of them.
//!
//! Input: the JSON of an introspection answer. Output: a [`Schema`] (root operation types,
//! object types and their fields with argument and result types), or why there is none
//! ([`Introspected`]). Invariants: the introspection types (`__Type`, ...) are left out, so two
//! schemas differ only in what the Site itself declares; every name set is sorted, so a diff
//! reads the same at any concurrency.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// The introspection query lowpriv sends: the standard one, cut to what the diff and the
/// generated queries use (no descriptions, directives or deprecation reasons), three levels
/// of `ofType` (enough for `[Employee!]!`).
pub const INTROSPECTION_QUERY: &str = "query IntrospectionQuery { __schema { \
queryType { name } mutationType { name } subscriptionType { name } \
types { kind name fields(includeDeprecated: true) { name args { name type { ...TypeRef } } type { ...TypeRef } } } } } \
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

/// A type reference (`[Employee!]!`), unwrapped to its named type when asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeRef {
    pub kind: String,
    pub name: Option<String>,
    pub of_type: Option<Box<TypeRef>>,
}

impl TypeRef {
    fn parse(value: &Value) -> Option<TypeRef> {
        Some(TypeRef {
            kind: value.get("kind")?.as_str()?.to_string(),
            name: value
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string),
            of_type: value
                .get("ofType")
                .filter(|v| !v.is_null())
                .and_then(TypeRef::parse)
                .map(Box::new),
        })
    }

    /// The named type under the list and non-null wrappers.
    pub fn named(&self) -> Option<&TypeRef> {
        match &self.of_type {
            Some(inner) if self.name.is_none() => inner.named(),
            _ => self.name.is_some().then_some(self),
        }
    }

    pub fn is_required(&self) -> bool {
        self.kind == "NON_NULL"
    }

    /// As GraphQL writes it: `[Employee!]!`.
    pub fn display(&self) -> String {
        match (self.kind.as_str(), &self.of_type) {
            ("NON_NULL", Some(inner)) => format!("{}!", inner.display()),
            ("LIST", Some(inner)) => format!("[{}]", inner.display()),
            _ => self.name.clone().unwrap_or_else(|| "?".to_string()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub args: Vec<(String, TypeRef)>,
    pub ty: TypeRef,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeDef {
    pub kind: String,
    /// By name; empty for scalars and enums.
    pub fields: BTreeMap<String, Field>,
}

/// One identity's schema.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schema {
    /// Root operation (`query`, `mutation`, `subscription`) → its type's name.
    pub roots: BTreeMap<String, String>,
    pub types: BTreeMap<String, TypeDef>,
}

/// What an introspection answer was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Introspected {
    Schema(Schema),
    /// The answer carried `errors` and no `__schema` (introspection turned off): the first
    /// error's message, cut short.
    Disabled(String),
    /// A JSON answer that is neither: what was wrong with it.
    Unreadable(String),
}

/// Reads an introspection answer.
pub fn parse(body: &Value) -> Introspected {
    let schema = body.get("data").and_then(|d| d.get("__schema"));
    let Some(schema) = schema.filter(|s| !s.is_null()) else {
        return match body.get("errors").and_then(Value::as_array) {
            Some(errors) => Introspected::Disabled(first_message(errors)),
            None => Introspected::Unreadable("no `data.__schema` and no `errors`".to_string()),
        };
    };
    let mut out = Schema::default();
    for (root, key) in [
        ("query", "queryType"),
        ("mutation", "mutationType"),
        ("subscription", "subscriptionType"),
    ] {
        if let Some(name) = schema
            .get(key)
            .and_then(|t| t.get("name"))
            .and_then(Value::as_str)
        {
            out.roots.insert(root.to_string(), name.to_string());
        }
    }
    let Some(types) = schema.get("types").and_then(Value::as_array) else {
        return Introspected::Unreadable("`__schema.types` is not a list".to_string());
    };
    for ty in types {
        let (Some(name), Some(kind)) = (
            ty.get("name").and_then(Value::as_str),
            ty.get("kind").and_then(Value::as_str),
        ) else {
            continue;
        };
        // The introspection system's own types are in every schema alike.
        if name.starts_with("__") {
            continue;
        }
        let mut fields = BTreeMap::new();
        for field in ty
            .get("fields")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(field_name), Some(field_ty)) = (
                field.get("name").and_then(Value::as_str),
                field.get("type").and_then(TypeRef::parse),
            ) else {
                continue;
            };
            let args = field
                .get("args")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|arg| {
                    Some((
                        arg.get("name")?.as_str()?.to_string(),
                        TypeRef::parse(arg.get("type")?)?,
                    ))
                })
                .collect();
            fields.insert(field_name.to_string(), Field { args, ty: field_ty });
        }
        out.types.insert(
            name.to_string(),
            TypeDef {
                kind: kind.to_string(),
                fields,
            },
        );
    }
    Introspected::Schema(out)
}

/// The first `errors[].message`, cut to a line a report can hold.
pub fn first_message(errors: &[Value]) -> String {
    let message = errors
        .first()
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("an error without a message");
    let mut line: String = message.chars().take(160).collect();
    if line.len() < message.len() {
        line.push('…');
    }
    line
}

impl Schema {
    /// Every element a diff compares, as `type Compensation`, `field Employee.salary` and
    /// `root mutation`: the shape of the API this identity is told about.
    pub fn elements(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for root in self.roots.keys() {
            out.insert(format!("root {root}"));
        }
        for (name, ty) in &self.types {
            out.insert(format!("type {name}"));
            for field in ty.fields.keys() {
                out.insert(format!("field {name}.{field}"));
            }
        }
        out
    }

    /// The root query type's fields, by name.
    pub fn query_fields(&self) -> impl Iterator<Item = (&String, &Field)> {
        self.roots
            .get("query")
            .and_then(|name| self.types.get(name))
            .into_iter()
            .flat_map(|ty| ty.fields.iter())
    }

    /// Folds another identity's schema in: the union every generated query is written
    /// from, so a field one schema hides from an identity is still asked of it.
    pub fn merge(&mut self, other: &Schema) {
        for (root, name) in &other.roots {
            self.roots
                .entry(root.clone())
                .or_insert_with(|| name.clone());
        }
        for (name, ty) in &other.types {
            let mine = self.types.entry(name.clone()).or_insert_with(|| TypeDef {
                kind: ty.kind.clone(),
                fields: BTreeMap::new(),
            });
            for (field, def) in &ty.fields {
                mine.fields
                    .entry(field.clone())
                    .or_insert_with(|| def.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(with_salary: bool) -> Value {
        let mut employee_fields = vec![
            serde_json::json!({"name": "id", "args": [], "type": {"kind": "NON_NULL", "name": null, "ofType": {"kind": "SCALAR", "name": "ID", "ofType": null}}}),
            serde_json::json!({"name": "name", "args": [], "type": {"kind": "SCALAR", "name": "String", "ofType": null}}),
        ];
        if with_salary {
            employee_fields.push(serde_json::json!({"name": "salary", "args": [], "type": {"kind": "SCALAR", "name": "Int", "ofType": null}}));
        }
        serde_json::json!({"data": {"__schema": {
        "queryType": {"name": "Query"}, "mutationType": null, "subscriptionType": null,
        "types": [
            {"kind": "OBJECT", "name": "Query", "fields": [
                {"name": "employees", "args": [], "type": {"kind": "NON_NULL", "name": null, "ofType": {"kind": "LIST", "name": null, "ofType": {"kind": "OBJECT", "name": "Employee", "ofType": null}}}},
                {"name": "employee", "args": [{"name": "id", "type": {"kind": "NON_NULL", "name": null, "ofType": {"kind": "SCALAR", "name": "ID", "ofType": null}}}], "type": {"kind": "OBJECT", "name": "Employee", "ofType": null}}
            ]},
            {"kind": "OBJECT", "name": "Employee", "fields": employee_fields},
            {"kind": "OBJECT", "name": "__Type", "fields": []},
            {"kind": "SCALAR", "name": "ID", "fields": null}
        ]}}})
    }

    #[test]
    fn an_introspection_answer_is_read_without_the_system_types() {
        let Introspected::Schema(schema) = parse(&answer(true)) else {
            panic!("not a schema");
        };
        assert_eq!(schema.roots.get("query").map(String::as_str), Some("Query"));
        assert!(!schema.roots.contains_key("mutation"));
        assert!(!schema.types.contains_key("__Type"));
        let employees = &schema.types["Query"].fields["employees"];
        assert_eq!(employees.ty.display(), "[Employee]!");
        assert_eq!(
            employees.ty.named().and_then(|t| t.name.as_deref()),
            Some("Employee")
        );
        let employee = &schema.types["Query"].fields["employee"];
        assert_eq!(employee.args[0].0, "id");
        assert!(employee.args[0].1.is_required());
        assert!(schema.elements().contains("field Employee.salary"));
    }

    #[test]
    fn errors_without_a_schema_are_introspection_disabled() {
        let body =
            serde_json::json!({"errors": [{"message": "GraphQL introspection is not allowed"}]});
        assert_eq!(
            parse(&body),
            Introspected::Disabled("GraphQL introspection is not allowed".to_string())
        );
        assert!(matches!(
            parse(&serde_json::json!({"data": {}})),
            Introspected::Unreadable(_)
        ));
    }

    #[test]
    fn elements_differ_by_what_one_schema_hides() {
        let (Introspected::Schema(wide), Introspected::Schema(narrow)) =
            (parse(&answer(true)), parse(&answer(false)))
        else {
            panic!("not schemas");
        };
        let only: Vec<String> = wide
            .elements()
            .difference(&narrow.elements())
            .cloned()
            .collect();
        assert_eq!(only, ["field Employee.salary"]);
        // The same shape both ways: nothing to report.
        assert!(
            narrow
                .elements()
                .difference(&narrow.elements())
                .next()
                .is_none()
        );
        let mut merged = narrow.clone();
        merged.merge(&wide);
        assert_eq!(merged.elements(), wide.elements());
    }
}
