//! `POST /graphql`: a small GraphQL endpoint whose schema depends on who asks, with one
//! field-level flaw.
//!
//! HR and the owner are told about pay: a `Compensation` type, `Employee.salary`,
//! `Employee.bonus`, `Employee.pay`, the root field `payroll` and a `Mutation` type
//! (`raiseSalary`). Employees are told about none of it; staff outside the payroll team are
//! refused (403), anonymous callers too (401). A hand-written executor: introspection (any query naming `__schema`) is
//! answered with the caller's schema whatever it selects, and other queries are parsed as
//! the plain selection sets lowpriv writes (fields, nested sets, literal arguments; no
//! variables, fragments or aliases). No mutation is ever executed: each is counted and
//! refused.
//!
//! FLAW (default mode, `Flaw::GraphqlPayFields`): the schema hides `Employee`'s pay fields
//! from employees, but the `Employee` resolver answers every field it has when
//! asked, so a caller who writes the query by hand gets every salary. Fixed: a field
//! outside the caller's schema is a validation error, as a GraphQL server gives.
//! `DemoConfig::graphql_introspection = false` turns introspection off for everyone
//! (`errors`, no `__schema`), as many production servers do.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::config::Flaw;
use crate::data::Role;
use crate::gate::{identify, team_api};
use crate::layout::json_error;
use crate::state::{Counters, SiteState};

/// (type, field, type reference, arguments, pay: hidden from everyone but HR and the owner)
type FieldRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    bool,
);

const FIELDS: &[FieldRow] = &[
    ("Query", "employees", "[Employee!]!", &[], false),
    ("Query", "employee", "Employee", &[("id", "ID!")], false),
    ("Query", "projects", "[Project!]!", &[], false),
    ("Query", "payroll", "[Compensation!]!", &[], true),
    ("Employee", "id", "ID!", &[], false),
    ("Employee", "name", "String", &[], false),
    ("Employee", "email", "String", &[], false),
    ("Employee", "title", "String", &[], false),
    ("Employee", "salary", "Int", &[], true),
    ("Employee", "bonus", "Int", &[], true),
    ("Employee", "pay", "Compensation", &[], true),
    ("Compensation", "employeeId", "ID!", &[], true),
    ("Compensation", "salary", "Int", &[], true),
    ("Compensation", "bonus", "Int", &[], true),
    ("Project", "id", "ID!", &[], false),
    ("Project", "name", "String", &[], false),
    (
        "Mutation",
        "raiseSalary",
        "Employee",
        &[("id", "ID!"), ("amount", "Int!")],
        true,
    ),
];

/// Object types, and whether only pay readers are told about them.
const TYPES: &[(&str, bool)] = &[
    ("Query", false),
    ("Employee", false),
    ("Compensation", true),
    ("Project", false),
    ("Mutation", true),
];

const SCALARS: &[&str] = &["ID", "String", "Int", "Boolean"];

const PROJECTS: &[(&str, &str)] = &[("101", "Payroll migration"), ("102", "Benefits portal")];

fn reads_pay(role: Role) -> bool {
    matches!(role, Role::Owner | Role::Hr)
}

pub(crate) async fn graphql(
    State(site): State<SiteState>,
    headers: HeaderMap,
    body: String,
) -> Response {
    Counters::bump(&site.stats.graphql_posts);
    let document = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v.get("query").and_then(Value::as_str).map(str::to_string));
    let Some(document) = document else {
        return errors(
            StatusCode::BAD_REQUEST,
            "a JSON body with `query` is required",
        );
    };
    let tokens = tokenize(&document);
    let operation = match tokens.first().map(String::as_str) {
        Some("{") | Some("query") => "query",
        Some("mutation") => "mutation",
        Some("subscription") => "subscription",
        _ => "unknown",
    };
    let introspection = operation == "query" && tokens.iter().any(|t| t == "__schema");
    match (operation, introspection) {
        ("mutation" | "subscription", _) => Counters::bump(&site.stats.graphql_mutations),
        (_, true) => Counters::bump(&site.stats.graphql_introspections),
        _ => Counters::bump(&site.stats.graphql_queries),
    }
    let Some(account) = identify(&site, &headers) else {
        return json_error(StatusCode::UNAUTHORIZED, "login required");
    };
    // The payroll team's API, as `/api/team/metrics`: staff outside it are refused.
    if let Err(denied) = team_api(account) {
        return denied.into_response();
    }
    if operation != "query" {
        return errors(StatusCode::OK, "only queries are served here");
    }
    let pay = reads_pay(account.role);
    if introspection {
        if !site.graphql_introspection {
            return errors(StatusCode::OK, "GraphQL introspection is not allowed");
        }
        return Json(json!({ "data": { "__schema": schema(pay) } })).into_response();
    }
    let selection = match parse(&tokens) {
        Ok(selection) => selection,
        Err(why) => return errors(StatusCode::OK, &why),
    };
    let lenient = !site.is_fixed(Flaw::GraphqlPayFields);
    if let Err(why) = validate(&selection, "Query", pay, lenient) {
        return errors(StatusCode::OK, &why);
    }
    let mut data = Map::new();
    for field in &selection {
        data.insert(field.name.clone(), resolve_root(&site, field));
    }
    Json(json!({ "data": data })).into_response()
}

/// `POST /_bad/graphql-500`: a GraphQL endpoint that is down, for the test that such an
/// endpoint makes a run inconclusive.
pub(crate) async fn broken(State(site): State<SiteState>) -> Response {
    Counters::bump(&site.stats.graphql_posts);
    errors(StatusCode::INTERNAL_SERVER_ERROR, "resolver crashed")
}

fn errors(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "errors": [{ "message": message }] }))).into_response()
}

/// The introspection answer for a caller who may (or may not) read pay.
fn schema(pay: bool) -> Value {
    let mut types: Vec<Value> = TYPES
        .iter()
        .filter(|(_, hidden)| pay || !hidden)
        .map(|(name, _)| {
            let fields: Vec<Value> = FIELDS
                .iter()
                .filter(|(ty, _, _, _, hidden)| ty == name && (pay || !hidden))
                .map(|(_, field, ty, args, _)| {
                    let args: Vec<Value> = args
                        .iter()
                        .map(|(arg, ty)| json!({ "name": arg, "type": type_ref(ty) }))
                        .collect();
                    json!({ "name": field, "args": args, "type": type_ref(ty) })
                })
                .collect();
            json!({ "kind": "OBJECT", "name": name, "fields": fields })
        })
        .collect();
    types.extend(
        SCALARS
            .iter()
            .map(|name| json!({ "kind": "SCALAR", "name": name, "fields": null })),
    );
    types.push(json!({ "kind": "OBJECT", "name": "__Schema", "fields": [] }));
    json!({
        "queryType": { "name": "Query" },
        "mutationType": if pay { json!({ "name": "Mutation" }) } else { Value::Null },
        "subscriptionType": null,
        "types": types,
    })
}

/// `[Employee!]!` as introspection writes it.
fn type_ref(text: &str) -> Value {
    if let Some(inner) = text.strip_suffix('!') {
        return json!({ "kind": "NON_NULL", "name": null, "ofType": type_ref(inner) });
    }
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return json!({ "kind": "LIST", "name": null, "ofType": type_ref(inner) });
    }
    let kind = if SCALARS.contains(&text) {
        "SCALAR"
    } else {
        "OBJECT"
    };
    json!({ "kind": kind, "name": text, "ofType": null })
}

fn named(text: &str) -> &str {
    text.trim_matches(|c| c == '[' || c == ']' || c == '!')
}

#[derive(Debug)]
struct Selected {
    name: String,
    args: Vec<(String, String)>,
    sub: Vec<Selected>,
}

fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() || c == ',' {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut literal = String::from("\"");
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(escaped) = chars.next() {
                            literal.push(escaped);
                        }
                    }
                    '"' => break,
                    c => literal.push(c),
                }
            }
            out.push(literal);
        } else if c.is_alphanumeric() || c == '_' || c == '-' {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_alphanumeric() || c == '_' || c == '-' {
                    word.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(word);
        } else {
            out.push(c.to_string());
            chars.next();
        }
    }
    out
}

/// The operation's top selection set: `query { ... }`, `query Name { ... }` or `{ ... }`.
fn parse(tokens: &[String]) -> Result<Vec<Selected>, String> {
    let start = tokens
        .iter()
        .position(|t| t == "{")
        .ok_or("the document has no selection set")?;
    if tokens[..start].iter().any(|t| t == "(") {
        return Err("variables are not supported here".to_string());
    }
    let mut at = start;
    let set = selection_set(tokens, &mut at, 0)?;
    if at != tokens.len() {
        return Err("only one operation, without fragments, is supported here".to_string());
    }
    Ok(set)
}

fn selection_set(tokens: &[String], at: &mut usize, depth: usize) -> Result<Vec<Selected>, String> {
    if depth > 8 {
        return Err("the query is too deep".to_string());
    }
    let next = |at: &mut usize| -> Option<String> {
        let t = tokens.get(*at).cloned();
        *at += 1;
        t
    };
    if next(at).as_deref() != Some("{") {
        return Err("expected `{`".to_string());
    }
    let mut out = Vec::new();
    loop {
        let Some(name) = next(at) else {
            return Err("unterminated selection set".to_string());
        };
        if name == "}" {
            return Ok(out);
        }
        if !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err(format!("unexpected `{name}`"));
        }
        let mut args = Vec::new();
        if tokens.get(*at).map(String::as_str) == Some("(") {
            *at += 1;
            loop {
                match next(at).as_deref() {
                    Some(")") => break,
                    Some(arg) => {
                        let arg = arg.to_string();
                        if next(at).as_deref() != Some(":") {
                            return Err(format!("expected `:` after argument `{arg}`"));
                        }
                        let value = next(at).ok_or("an argument without a value")?;
                        args.push((arg, value.trim_start_matches('"').to_string()));
                    }
                    None => return Err("unterminated arguments".to_string()),
                }
            }
        }
        let sub = if tokens.get(*at).map(String::as_str) == Some("{") {
            selection_set(tokens, at, depth + 1)?
        } else {
            Vec::new()
        };
        out.push(Selected { name, args, sub });
    }
}

/// What a GraphQL server checks before running anything: every field exists on its type
/// in the caller's schema (`lenient`: the flaw, which asks only whether it exists at all
/// on `Employee` and below), and objects have a selection while scalars have none.
fn validate(set: &[Selected], on: &str, pay: bool, lenient: bool) -> Result<(), String> {
    for field in set {
        if field.name == "__typename" {
            continue;
        }
        let row = FIELDS
            .iter()
            .find(|(ty, name, _, _, hidden)| {
                *ty == on
                    && *name == field.name
                    && (pay || !hidden || (lenient && matches!(on, "Employee" | "Compensation")))
            })
            .ok_or_else(|| format!("Cannot query field \"{}\" on type \"{on}\"", field.name))?;
        let ty = named(row.2);
        let scalar = SCALARS.contains(&ty);
        if scalar && !field.sub.is_empty() {
            return Err(format!(
                "Field \"{}\" must not have a selection",
                field.name
            ));
        }
        if !scalar && field.sub.is_empty() {
            return Err(format!("Field \"{}\" must have a selection", field.name));
        }
        for (arg, _) in &field.args {
            if !row.3.iter().any(|(a, _)| a == arg) {
                return Err(format!("Unknown argument \"{arg}\" on \"{}\"", field.name));
            }
        }
        validate(&field.sub, ty, pay, lenient)?;
    }
    Ok(())
}

fn resolve_root(site: &SiteState, field: &Selected) -> Value {
    let employee = |e: &crate::data::Employee| {
        json!({
            "id": e.id.to_string(),
            "name": e.name,
            "email": e.email,
            "title": e.title,
            "salary": e.salary,
            "bonus": e.bonus,
            "pay": { "employeeId": e.id.to_string(), "salary": e.salary, "bonus": e.bonus },
        })
    };
    let full = match field.name.as_str() {
        "employees" => Value::Array(site.employees.iter().map(employee).collect()),
        "employee" => {
            let id = field
                .args
                .iter()
                .find(|(a, _)| a == "id")
                .map(|(_, v)| v.as_str());
            site.employees
                .iter()
                .find(|e| Some(e.id.to_string().as_str()) == id)
                .map_or(Value::Null, employee)
        }
        "projects" => Value::Array(
            PROJECTS
                .iter()
                .map(|(id, name)| json!({ "id": id, "name": name }))
                .collect(),
        ),
        "payroll" => Value::Array(
            site.employees
                .iter()
                .map(|e| json!({ "employeeId": e.id.to_string(), "salary": e.salary, "bonus": e.bonus }))
                .collect(),
        ),
        _ => Value::Null,
    };
    select(&full, &field.sub)
}

/// Keeps what the selection asked for, nothing else.
fn select(value: &Value, set: &[Selected]) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|i| select(i, set)).collect()),
        Value::Object(record) if !set.is_empty() => {
            let mut out = Map::new();
            for field in set {
                let inner = record.get(&field.name).cloned().unwrap_or(Value::Null);
                out.insert(field.name.clone(), select(&inner, &field.sub));
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use crate::graphql::{parse, tokenize, validate};

    #[test]
    fn the_generated_shape_parses() {
        let tokens =
            tokenize("query { employee(id: \"1\") { id pay { salary } name } projects { id } }");
        let set = parse(&tokens).unwrap();
        assert_eq!(set.len(), 2);
        assert_eq!(set[0].args, [("id".to_string(), "1".to_string())]);
        assert_eq!(set[0].sub[1].sub[0].name, "salary");
        assert!(validate(&set, "Query", true, false).is_ok());
        assert!(validate(&set, "Query", false, false).is_err());
        assert!(validate(&set, "Query", false, true).is_ok());
        let payroll = parse(&tokenize("{ payroll { salary } }")).unwrap();
        // The flaw is in the Employee resolver only: the root field stays checked.
        assert!(validate(&payroll, "Query", false, true).is_err());
    }
}
