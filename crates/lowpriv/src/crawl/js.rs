//! The Site's JavaScript, parsed (oxc): the requests its code makes, with their methods.
//!
//! Input: one script's text, the page it runs on, and how to read it (script, module,
//! TypeScript). Output: a [`Discovery`] whose links are `Via::Js`, whose `{param}` templates
//! are paths with holes, and whose actions (source `js`) are the calls of a write method.
//!
//! What is read: `fetch(url, {method})` and `new Request(url, {method})`; `axios(url|config)`,
//! `axios.get/post/put/patch/delete/head/options/request`, and instances made by
//! `X.create({baseURL})` (`api.get('/x')` is the base joined with `/x`); XMLHttpRequest's
//! `.open(method, url)`; `$.ajax`/`$.get`/`$.getJSON`/`$.post` (and `jQuery.`); every other
//! string literal, template literal or `+` concatenation that looks like a path (route
//! tables, link targets), which is a GET link as the lexer had it.
//!
//! Invariants:
//! - The same path filter as the lexer (`discover::path_like`): same-Site paths or absolute
//!   http(s) URLs, no `//`, a letter in it.
//! - Holes (`${x}`, `+ id +`, a route's `:id` segment) become `{param}`; a URL whose start is a
//!   hole (`t + "/x"`, an unknown base) is dropped: its origin and prefix are unknown, and a
//!   guessed path is a request the Site never serves.
//! - Constants are resolved with a scope-insensitive table: a name is replaced by its value
//!   only when every binding of that name in the file (declarations, parameters,
//!   assignments) is the same constant string. Minified bundles reuse `e` and `t` in every
//!   function; those stay holes rather than take a value from another scope.
//! - A literal that is the URL of a call with a write method is an action only, never also a
//!   GET link.
//! - Bounded: a script over [`MAX_PARSE_BYTES`], or nested deeper than [`MAX_NESTING`], is
//!   not parsed (`None`: the caller reads it with the lexer); parsing is linear, runs on its
//!   own thread with a [`PARSER_STACK`] stack, and its arena is dropped when the script is
//!   done.

use std::borrow::Cow;
use std::cell::Cell;

use oxc_allocator::Allocator;
use oxc_ast::ast::{
    Argument, AssignmentExpression, AssignmentOperator, AssignmentTarget, BinaryExpression,
    BinaryOperator, BindingIdentifier, BindingPatternKind, CallExpression, Expression,
    NewExpression, ObjectExpression, ObjectPropertyKind, StringLiteral, TemplateLiteral,
    VariableDeclarationKind, VariableDeclarator,
};
use oxc_ast_visit::{Visit, walk};
use oxc_parser::Parser;
use oxc_span::{GetSpan, SourceType, Span};
use oxc_syntax::scope::{ScopeFlags, ScopeId};
use rustc_hash::{FxHashMap, FxHashSet};
use url::Url;

use super::{Action, Discovery, Via, join, path_like};

/// Scripts larger than this are read by the lexer instead: bundles of several MB parse in
/// well under a second, and this bounds the arena (a few times the source) per script.
pub const MAX_PARSE_BYTES: usize = 8 * 1024 * 1024;

/// The deepest nesting parsed, as `nesting` counts it (brackets, and chains of operators,
/// calls and members in one expression). The parser and the walk over its AST recurse once
/// per level and have no stack guard of their own, so a hostile script of a million `(` or
/// `a+a+…` must not reach them; real code, minified or not, stays in the hundreds.
pub const MAX_NESTING: usize = 4096;

/// The stack of the thread a script is parsed on (reserved, not committed: only the pages
/// the recursion touches are used), with room for [`MAX_NESTING`] levels many times over: a
/// level of nesting takes 1.3 to 2.5 KB of the parser's stack in a debug build (100,000
/// nested parentheses fit in this stack, 200,000 do not).
pub const PARSER_STACK: usize = 256 * 1024 * 1024;

/// How deep a constant may refer to other constants (`B = A + '/v1'`), and how deep an
/// expression is followed to build a URL: past this, the rest is a hole.
const MAX_EVAL_DEPTH: usize = 32;

const HOLE: &str = "{param}";

/// The requests a script makes, or `None` when it was not parsed (too large, too deeply
/// nested, or a syntax error the parser could not recover from).
pub fn discover(code: &str, page: &Url, source_type: SourceType) -> Option<Discovery> {
    if code.len() > MAX_PARSE_BYTES {
        tracing::info!(
            page = %page,
            bytes = code.len(),
            "script over {} MiB not parsed: its string literals are read by the lexer",
            MAX_PARSE_BYTES >> 20
        );
        return None;
    }
    if nesting(code) > MAX_NESTING {
        tracing::info!(
            page = %page,
            "script nested deeper than {MAX_NESTING} levels not parsed: its string literals \
             are read by the lexer"
        );
        return None;
    }
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("lowpriv-js".to_string())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, || parse(code, page, source_type));
        match worker {
            Ok(handle) => handle.join().ok().flatten(),
            Err(err) => {
                tracing::warn!(error = %err, "no thread to parse a script on: the lexer reads it");
                None
            }
        }
    })
}

fn parse(code: &str, page: &Url, source_type: SourceType) -> Option<Discovery> {
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, code, source_type).parse();
    if parsed.panicked {
        tracing::debug!(page = %page, "script did not parse: its string literals are read by the lexer");
        return None;
    }
    // Twice: the second round sees every declaration of the first, so a constant defined
    // after its use (`const B = A + "/v1"` above `const A`) resolves, and an assignment
    // binds the name in the scope that declares it.
    let mut table = Table::default();
    for _ in 0..2 {
        let mut bindings = Bindings {
            known: &table,
            scopes: Scopes::default(),
            names: FxHashMap::default(),
            assigned: Vec::new(),
            declaring: None,
        };
        bindings.visit_program(&parsed.program);
        table = bindings.finish();
    }
    let mut extract = Extract {
        page,
        table,
        scopes: Scopes::default(),
        consumed: FxHashSet::default(),
        found: Discovery::default(),
    };
    extract.visit_program(&parsed.program);
    Some(extract.found)
}

/// How deep the parser or the walk over its AST could recurse on this code, over-estimated:
/// counted by a lexer that skips strings, templates, comments and regex literals, as the
/// open brackets plus, in each of them, the operators and postfix calls since the last `;`
/// or `,` at that level. Chains without brackets nest too: the AST of `a+b+c`, `a.b.c`,
/// `f()()`, `a?b:c?d:e` or `!!!x` is as deep as the chain is long, and a closer does not end
/// one (`a?{}:b?{}:…`). An `else if` is never reset (`if(a)x;else if(b)y;else …` nests). A
/// count
/// over raw bytes would drift on a large bundle (every `"("` string adds one); this one can
/// be fooled only where it reads a `/` differently from the parser (after an object
/// literal's `}`), and [`PARSER_STACK`] leaves a wide margin for that.
fn nesting(code: &str) -> usize {
    lexed_nesting(code.as_bytes())
}

/// What a bracket opened: a `(` after `if`/`while`/`for`/`with` is followed by a statement,
/// where `/` starts a regex; a `${` in a template goes back to template text at its `}`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    Paren { before_statement: bool },
    Other,
    TemplateHole,
}

/// One open bracket (or the program): what opened it, and the chain of nesting tokens in it
/// since its last `;` or `,`, and its `else`s.
struct Frame {
    open: Open,
    chain: usize,
    elses: usize,
}

fn lexed_nesting(b: &[u8]) -> usize {
    let mut frames: Vec<Frame> = vec![Frame {
        open: Open::Other,
        chain: 0,
        elses: 0,
    }];
    // `frames.len()` plus every frame's `chain` and `elses`, kept as they change.
    let mut cost = 1usize;
    let mut deepest = 1usize;
    // Whether an operand is expected: then `/` starts a regex and `(` is a group, not a call.
    let mut operand = true;
    let mut after_keyword = false;
    // After `function` and its name: the parameters' `(` is not a call.
    let mut after_function = false;
    let mut i = 0;
    // One more link in the innermost frame's chain.
    macro_rules! link {
        () => {{
            if let Some(frame) = frames.last_mut() {
                frame.chain += 1;
            }
            cost += 1;
            deepest = deepest.max(cost);
        }};
    }
    while i < b.len() {
        if deepest > MAX_NESTING {
            return deepest;
        }
        let c = b[i];
        match c {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
                continue;
            }
            b'/' if operand => {
                i += 1;
                let mut class = false;
                while i < b.len() && b[i] != b'\n' {
                    match b[i] {
                        b'\\' => i += 1,
                        b'[' => class = true,
                        b']' => class = false,
                        b'/' if !class => break,
                        _ => {}
                    }
                    i += 1;
                }
                operand = false;
            }
            b'"' | b'\'' => {
                i += 1;
                while i < b.len() && b[i] != c && b[i] != b'\n' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                operand = false;
            }
            b'`' => {
                // A tagged template after an operand is a link of a chain (`` a`x``y` ``).
                if !operand {
                    link!();
                }
                i = template_text(b, i + 1, &mut frames, &mut cost, &mut deepest);
                operand = false;
                continue;
            }
            b'}' if frames.last().map(|f| f.open) == Some(Open::TemplateHole) => {
                if let Some(frame) = frames.pop() {
                    cost -= 1 + frame.chain + frame.elses;
                }
                i = template_text(b, i + 1, &mut frames, &mut cost, &mut deepest);
                operand = false;
                continue;
            }
            b'(' | b'[' | b'{' => {
                // A call or an index after an operand is a link of a chain (`f()()`,
                // `a[0][1]`); a function's or a statement's head is not.
                if c != b'{' && !operand && !after_keyword && !after_function {
                    link!();
                }
                frames.push(Frame {
                    open: if c == b'(' {
                        Open::Paren {
                            before_statement: after_keyword,
                        }
                    } else {
                        Open::Other
                    },
                    chain: 0,
                    elses: 0,
                });
                cost += 1;
                deepest = deepest.max(cost);
                operand = true;
            }
            b')' | b']' | b'}' => {
                let open = if frames.len() > 1 {
                    frames.pop().map(|frame| {
                        cost -= 1 + frame.chain + frame.elses;
                        frame.open
                    })
                } else {
                    None
                };
                operand = c == b'}'
                    || open
                        == Some(Open::Paren {
                            before_statement: true,
                        });
            }
            b';' | b',' => {
                if let Some(frame) = frames.last_mut() {
                    cost -= frame.chain;
                    frame.chain = 0;
                }
                operand = true;
            }
            b'+' | b'-' | b'*' | b'%' | b'&' | b'|' | b'^' | b'<' | b'>' | b'=' | b'!' | b'~'
            | b'?' | b':' | b'.' | b'/' => {
                link!();
                operand = true;
            }
            c if c.is_ascii_whitespace() => {}
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 => {
                let start = i;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || b[i] == b'_'
                        || b[i] == b'$'
                        || b[i] >= 0x80)
                {
                    i += 1;
                }
                let word = &b[start..i];
                // The name after `function` keeps it: `function name(`.
                after_function |= word == b"function";
                after_keyword = matches!(
                    word,
                    b"if" | b"while" | b"for" | b"with" | b"catch" | b"switch"
                );
                if word == b"else" && next_word(b, i) == b"if" {
                    if let Some(frame) = frames.last_mut() {
                        frame.elses += 1;
                    }
                    cost += 1;
                    deepest = deepest.max(cost);
                }
                let prefix = matches!(
                    word,
                    b"new"
                        | b"typeof"
                        | b"void"
                        | b"delete"
                        | b"await"
                        | b"yield"
                        | b"in"
                        | b"instanceof"
                );
                if prefix {
                    link!();
                }
                operand = prefix
                    || matches!(
                        word,
                        b"return" | b"case" | b"do" | b"else" | b"of" | b"throw"
                    );
                continue;
            }
            _ => operand = true,
        }
        if !c.is_ascii_whitespace() && c != b'*' {
            after_function = false;
        }
        if c != b'(' && !c.is_ascii_whitespace() {
            after_keyword = false;
        }
        i += 1;
    }
    deepest
}

/// The word that starts at or after `i`, past whitespace.
fn next_word(b: &[u8], mut i: usize) -> &[u8] {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    let start = i;
    while i < b.len() && b[i].is_ascii_alphanumeric() {
        i += 1;
    }
    &b[start..i]
}

/// Skips template text from `i` to the closing backtick (returns the index after it) or to
/// a `${` (opens a frame for the hole and returns the index after `${`).
fn template_text(
    b: &[u8],
    mut i: usize,
    frames: &mut Vec<Frame>,
    cost: &mut usize,
    deepest: &mut usize,
) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'`' => return i + 1,
            b'$' if b.get(i + 1) == Some(&b'{') => {
                frames.push(Frame {
                    open: Open::TemplateHole,
                    chain: 0,
                    elses: 0,
                });
                *cost += 1;
                *deepest = (*deepest).max(*cost);
                return i + 2;
            }
            _ => i += 1,
        }
    }
    i
}

/// What every binding of a name says it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Value {
    /// A constant string.
    Const(String),
    /// An HTTP client made by `X.create(config)` (axios, ky and their kind), with its base URL
    /// when it has one; `Err(())` when its base is not a constant (nothing can be joined).
    Client(Result<Option<String>, ()>),
    /// Anything else: a parameter, a destructured name, `x += …`, an import, a function, or
    /// two bindings that disagree.
    Unknown,
    /// Declared without a value (`var x;`): where its assignments bind, and nothing else.
    Declared,
}

/// The scopes of a program (the program, each function, block, class…), numbered in the
/// order a walk enters them: both walks over the same AST number them alike.
#[derive(Default)]
struct Scopes {
    /// Each scope's parent (`usize::MAX` for the program) and whether `var` binds in it.
    parents: Vec<(usize, bool)>,
    /// The scopes the walk is in, innermost last.
    stack: Vec<usize>,
}

impl Scopes {
    fn enter(&mut self, flags: ScopeFlags) {
        let parent = self.current();
        let function = flags.intersects(ScopeFlags::Top | ScopeFlags::Function | ScopeFlags::Arrow);
        self.stack.push(self.parents.len());
        self.parents.push((parent, function));
    }

    fn leave(&mut self) {
        self.stack.pop();
    }

    fn current(&self) -> usize {
        self.stack.last().copied().unwrap_or(usize::MAX)
    }

    /// The scope a `var` binds in: the nearest function (or the program).
    fn function(&self) -> usize {
        self.stack
            .iter()
            .rev()
            .copied()
            .find(|&s| self.parents.get(s).is_some_and(|p| p.1))
            .unwrap_or(0)
    }
}

/// Each name's [`Value`] in the scope that binds it.
#[derive(Default)]
struct Table<'a> {
    names: FxHashMap<(usize, &'a str), Value>,
    parents: Vec<(usize, bool)>,
}

impl<'a> Table<'a> {
    /// The binding `name` refers to from `scope`: the nearest scope that binds it.
    fn lookup(&self, scope: usize, name: &'a str) -> Option<(usize, &Value)> {
        let mut at = scope;
        // Bounded by the depth of scopes, itself bounded by `MAX_NESTING`.
        while at != usize::MAX {
            if let Some(value) = self.names.get(&(at, name)) {
                return Some((at, value));
            }
            at = self.parents.get(at).map_or(usize::MAX, |p| p.0);
        }
        None
    }
}

/// Collects the bindings of every name, evaluating each against the previous round's table.
struct Bindings<'t, 'a> {
    known: &'t Table<'a>,
    scopes: Scopes,
    names: FxHashMap<(usize, &'a str), Value>,
    /// `x = value` assignments: bound, once the walk is done, where `x` is declared.
    assigned: Vec<(usize, &'a str, Value)>,
    /// The identifier a declarator binds, which its own walk must not bind a second time.
    declaring: Option<Span>,
}

fn bind<'a>(names: &mut FxHashMap<(usize, &'a str), Value>, key: (usize, &'a str), value: Value) {
    match names.get_mut(&key) {
        Some(_) if value == Value::Declared => {}
        Some(have) if *have == Value::Declared => *have = value,
        Some(have) if *have != value => *have = Value::Unknown,
        Some(_) => {}
        None => {
            names.insert(key, value);
        }
    }
}

impl<'a> Bindings<'_, 'a> {
    fn value_of(&self, e: &Expression<'a>) -> Value {
        let scope = self.scopes.current();
        if let Some(base) = client(self.known, scope, e) {
            return Value::Client(base);
        }
        match self.known.build(e, scope, 0).constant() {
            Some(text) => Value::Const(text.to_string()),
            None => Value::Unknown,
        }
    }

    fn finish(mut self) -> Table<'a> {
        for (scope, name, value) in std::mem::take(&mut self.assigned) {
            // Where the name is declared; an undeclared one is a global of the program.
            let at = self.known.lookup(scope, name).map_or(0, |(at, _)| at);
            bind(&mut self.names, (at, name), value);
        }
        Table {
            names: self.names,
            parents: self.scopes.parents,
        }
    }
}

impl<'a> Visit<'a> for Bindings<'_, 'a> {
    fn enter_scope(&mut self, flags: ScopeFlags, _: &Cell<Option<ScopeId>>) {
        self.scopes.enter(flags);
    }

    fn leave_scope(&mut self) {
        self.scopes.leave();
    }

    fn visit_variable_declarator(&mut self, it: &VariableDeclarator<'a>) {
        if let BindingPatternKind::BindingIdentifier(id) = &it.id.kind {
            // `var x;` holds nothing yet: its later assignment is what names the value.
            let value = it
                .init
                .as_ref()
                .map_or(Value::Declared, |init| self.value_of(init));
            let scope = if it.kind == VariableDeclarationKind::Var {
                self.scopes.function()
            } else {
                self.scopes.current()
            };
            bind(&mut self.names, (scope, id.name.as_str()), value);
            self.declaring = Some(id.span);
        }
        walk::walk_variable_declarator(self, it);
    }

    fn visit_binding_identifier(&mut self, it: &BindingIdentifier<'a>) {
        if self.declaring.take() == Some(it.span) {
            return;
        }
        bind(
            &mut self.names,
            (self.scopes.current(), it.name.as_str()),
            Value::Unknown,
        );
    }

    fn visit_assignment_expression(&mut self, it: &AssignmentExpression<'a>) {
        if let AssignmentTarget::AssignmentTargetIdentifier(id) = &it.left {
            let value = if it.operator == AssignmentOperator::Assign {
                self.value_of(&it.right)
            } else {
                Value::Unknown
            };
            self.assigned
                .push((self.scopes.current(), id.name.as_str(), value));
        }
        walk::walk_assignment_expression(self, it);
    }
}

/// Whether an expression makes an HTTP client, `X.create(config)`, and its base URL: axios's
/// `create()` with or without a config, or any `.create({baseURL | prefixUrl})`.
fn client<'a>(
    table: &Table<'a>,
    scope: usize,
    e: &Expression<'a>,
) -> Option<Result<Option<String>, ()>> {
    let Expression::CallExpression(call) = e.without_parentheses() else {
        return None;
    };
    let member = call.callee.get_member_expr()?;
    if member.static_property_name() != Some("create") {
        return None;
    }
    let is_axios = member.object().is_specific_id("axios");
    match call.arguments.first().and_then(Argument::as_expression) {
        Some(Expression::ObjectExpression(obj)) => match property(obj, &["baseURL", "prefixUrl"]) {
            Some(value) => Some(
                table
                    .build(value, scope, 0)
                    .constant()
                    .map(|b| Some(b.to_string()))
                    .ok_or(()),
            ),
            None => is_axios.then_some(Ok(None)),
        },
        None => is_axios.then_some(Ok(None)),
        Some(_) => is_axios.then_some(Err(())),
    }
}

/// A URL being put together: its text with `{param}` for each hole, and whether any part of
/// it is known.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Built {
    text: String,
    known: bool,
}

impl Built {
    fn hole() -> Self {
        Built {
            text: HOLE.to_string(),
            known: false,
        }
    }
    fn text(s: &str) -> Self {
        Built {
            text: s.to_string(),
            known: true,
        }
    }
    fn join(mut self, other: Built) -> Self {
        // Two holes in a row are one hole: `{param}{param}` says nothing more.
        if !(self.text.ends_with(HOLE) && other.text.starts_with(HOLE)) {
            self.text.push_str(&other.text);
        } else {
            self.text.push_str(&other.text[HOLE.len()..]);
        }
        self.known |= other.known;
        self
    }
    /// The constant string, if there are no holes.
    fn constant(&self) -> Option<&str> {
        (self.known && !self.text.contains(HOLE)).then_some(self.text.as_str())
    }
}

impl<'a> Table<'a> {
    /// The string an expression builds, holes and all.
    fn build(&self, e: &Expression<'a>, scope: usize, depth: usize) -> Built {
        if depth > MAX_EVAL_DEPTH {
            return Built::hole();
        }
        match e {
            Expression::StringLiteral(s) => Built::text(s.value.as_str()),
            Expression::TemplateLiteral(t) => self.template(t, scope, depth),
            Expression::BinaryExpression(b) if b.operator == BinaryOperator::Addition => self
                .build(&b.left, scope, depth + 1)
                .join(self.build(&b.right, scope, depth + 1)),
            Expression::ParenthesizedExpression(p) => self.build(&p.expression, scope, depth + 1),
            Expression::Identifier(id) => match self.lookup(scope, id.name.as_str()) {
                Some((_, Value::Const(text))) => Built::text(text),
                _ => Built::hole(),
            },
            _ => Built::hole(),
        }
    }

    fn template(&self, t: &TemplateLiteral<'a>, scope: usize, depth: usize) -> Built {
        let mut built = Built {
            text: String::new(),
            known: false,
        };
        for (i, quasi) in t.quasis.iter().enumerate() {
            let text = quasi
                .value
                .cooked
                .as_ref()
                .map_or(quasi.value.raw.as_str(), |c| c.as_str());
            if !text.is_empty() {
                built = built.join(Built::text(text));
            }
            if let Some(expression) = t.expressions.get(i) {
                built = built.join(self.build(expression, scope, depth + 1));
            }
        }
        built
    }
}

/// The value of the last non-computed property named one of `names`.
fn property<'s, 'a>(obj: &'s ObjectExpression<'a>, names: &[&str]) -> Option<&'s Expression<'a>> {
    obj.properties.iter().rev().find_map(|p| match p {
        ObjectPropertyKind::ObjectProperty(p)
            if !p.computed
                && p.key
                    .static_name()
                    .is_some_and(|k| names.contains(&k.as_ref())) =>
        {
            Some(&p.value)
        }
        _ => None,
    })
}

/// The keys of an object literal (or of `JSON.stringify({…})`): the fields a call sends.
fn fields(e: Option<&Expression<'_>>) -> Vec<String> {
    let e = match e {
        Some(Expression::CallExpression(call))
            if call.callee.is_specific_member_access("JSON", "stringify") =>
        {
            call.arguments.first().and_then(Argument::as_expression)
        }
        other => other,
    };
    let Some(Expression::ObjectExpression(obj)) = e else {
        return Vec::new();
    };
    let mut names: Vec<String> = obj
        .properties
        .iter()
        .filter_map(|p| match p {
            ObjectPropertyKind::ObjectProperty(p) if !p.computed => {
                p.key.static_name().map(Cow::into_owned)
            }
            _ => None,
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// A request a call makes: its method (`None` when the code decides at run time: read as a
/// GET, the crawl's own method), its URL, and the fields of its body.
struct Call<'s, 'a> {
    method: Option<String>,
    url: &'s Expression<'a>,
    /// A base URL to join the URL to (an axios instance's `baseURL`); `Err(())` when the
    /// client has a base that is not a constant.
    base: Result<Option<String>, ()>,
    fields: Vec<String>,
}

struct Extract<'p, 'a> {
    page: &'p Url,
    table: Table<'a>,
    scopes: Scopes,
    /// Spans of literals and concatenations already read as part of a call's URL.
    consumed: FxHashSet<Span>,
    found: Discovery,
}

impl<'a> Extract<'_, 'a> {
    fn method_of(&self, value: Option<&Expression<'a>>, default: &str) -> Option<String> {
        match value {
            None => Some(default.to_string()),
            Some(value) => {
                let built = self.table.build(value, self.scopes.current(), 0);
                let method = built.constant()?.to_ascii_uppercase();
                METHODS.contains(&method.as_str()).then_some(method)
            }
        }
    }

    /// The request a call makes, if it is one of the HTTP APIs this module knows.
    fn request<'c>(
        &self,
        callee: &'c Expression<'a>,
        args: &'c [Argument<'a>],
        is_new: bool,
    ) -> Option<Call<'c, 'a>> {
        let arg = |i: usize| args.get(i).and_then(Argument::as_expression);
        let options = |i: usize| match arg(i) {
            Some(Expression::ObjectExpression(obj)) => Some(&**obj),
            _ => None,
        };
        let callee = callee.without_parentheses();
        let global = |name: &str| {
            callee.is_specific_id(name)
                || ["window", "self", "globalThis"]
                    .iter()
                    .any(|g| callee.is_specific_member_access(g, name))
        };
        if (!is_new && global("fetch")) || (is_new && global("Request")) {
            let opts = options(1);
            return Some(Call {
                method: self.method_of(opts.and_then(|o| property(o, &["method"])), "GET"),
                url: arg(0)?,
                base: Ok(None),
                fields: fields(opts.and_then(|o| property(o, &["body"]))),
            });
        }
        if is_new {
            return None;
        }
        if callee.is_specific_id("axios") {
            return self.config_call(arg(0)?, arg(1), Ok(None), "GET");
        }
        let member = callee.get_member_expr()?;
        let name = member.static_property_name()?;
        let object = member.object().without_parentheses();
        if object.is_specific_id("$") || object.is_specific_id("jQuery") {
            return match name {
                "ajax" => self.config_call(arg(0)?, arg(1), Ok(None), "GET"),
                "get" | "getJSON" => Some(Call {
                    method: Some("GET".to_string()),
                    url: arg(0)?,
                    base: Ok(None),
                    fields: Vec::new(),
                }),
                "post" => Some(Call {
                    method: Some("POST".to_string()),
                    url: arg(0)?,
                    base: Ok(None),
                    fields: fields(arg(1)),
                }),
                _ => None,
            };
        }
        // XMLHttpRequest: `x.open("POST", url)`; `window.open(url, target)` has its URL first.
        if name == "open"
            && let Some(Expression::StringLiteral(m)) = arg(0)
        {
            let method = m.value.as_str().to_ascii_uppercase();
            if !METHODS.contains(&method.as_str()) {
                return None;
            }
            return Some(Call {
                method: Some(method),
                url: arg(1)?,
                base: Ok(None),
                fields: Vec::new(),
            });
        }
        let base = if object.is_specific_id("axios") {
            Ok(None)
        } else if let Expression::Identifier(id) = object
            && let Some((_, Value::Client(base))) =
                self.table.lookup(self.scopes.current(), id.name.as_str())
        {
            base.clone()
        } else {
            return None;
        };
        match name {
            "request" => self.config_call(arg(0)?, None, base, "GET"),
            "get" | "delete" | "head" | "options" => Some(Call {
                method: Some(name.to_ascii_uppercase()),
                url: arg(0)?,
                base,
                fields: Vec::new(),
            }),
            "post" | "put" | "patch" => Some(Call {
                method: Some(name.to_ascii_uppercase()),
                url: arg(0)?,
                base,
                fields: fields(arg(1)),
            }),
            _ => None,
        }
    }

    /// `axios(url, config)`, `axios(config)`, `$.ajax(url, config)`, `$.ajax(config)`.
    fn config_call<'c>(
        &self,
        first: &'c Expression<'a>,
        second: Option<&'c Expression<'a>>,
        base: Result<Option<String>, ()>,
        default: &str,
    ) -> Option<Call<'c, 'a>> {
        let (url, config) = match (first, second) {
            (Expression::ObjectExpression(config), _) => (property(config, &["url"])?, config),
            (url, Some(Expression::ObjectExpression(config))) => (url, config),
            (url, _) => {
                return Some(Call {
                    method: Some(default.to_string()),
                    url,
                    base,
                    fields: Vec::new(),
                });
            }
        };
        let base = match property(config, &["baseURL"]) {
            Some(value) => self
                .table
                .build(value, self.scopes.current(), 0)
                .constant()
                .map(|b| Some(b.to_string()))
                .ok_or(()),
            None => base,
        };
        Some(Call {
            method: self.method_of(property(config, &["method", "type"]), default),
            url,
            base,
            fields: fields(property(config, &["data", "body"])),
        })
    }

    fn record(&mut self, call: Call<'_, 'a>) {
        self.consume(call.url);
        let Ok(base) = call.base else {
            return;
        };
        let built = self.table.build(call.url, self.scopes.current(), 0);
        let url = match base {
            Some(base)
                if !built.text.starts_with("http://") && !built.text.starts_with("https://") =>
            {
                // axios's combineURLs: one slash between the base and the path.
                format!(
                    "{}/{}",
                    base.trim_end_matches('/'),
                    built.text.trim_start_matches('/')
                )
            }
            _ => built.text,
        };
        let Some(path) = path_like(&url).map(|p| route_params(&p)) else {
            return;
        };
        match call.method.as_deref() {
            None | Some("GET" | "HEAD") => self.link(path),
            Some(method) => {
                let url = join(self.page, &path).map_or(path, |u| u.to_string());
                self.found.actions.push(Action {
                    method: method.to_string(),
                    url,
                    source: "js".to_string(),
                    fields: call.fields,
                });
            }
        }
    }

    fn link(&mut self, path: String) {
        if path.contains('{') {
            self.found.templates.push(path);
        } else if let Some(url) = join(self.page, &path) {
            self.found.links.push((url, Via::Js));
        }
    }

    /// A string the code holds that no call consumed: a link when it looks like a path.
    fn plain(&mut self, built: Built) {
        if !built.known {
            return;
        }
        if let Some(path) = path_like(&built.text) {
            self.link(route_params(&path));
        }
    }

    /// Marks the literals and concatenations an expression is made of as read, as deep as
    /// `build` reads them.
    fn consume(&mut self, e: &Expression<'a>) {
        self.consume_at(e, 0);
    }

    fn consume_at(&mut self, e: &Expression<'a>, depth: usize) {
        if depth > MAX_EVAL_DEPTH {
            return;
        }
        match e {
            Expression::StringLiteral(_) | Expression::TemplateLiteral(_) => {
                self.consumed.insert(e.span());
            }
            Expression::BinaryExpression(b) if b.operator == BinaryOperator::Addition => {
                self.consumed.insert(e.span());
                self.consume_at(&b.left, depth + 1);
                self.consume_at(&b.right, depth + 1);
            }
            Expression::ParenthesizedExpression(p) => self.consume_at(&p.expression, depth + 1),
            _ => {}
        }
    }
}

/// A route's `:name` segment (`/teams/:id`, as routers write them) is a hole.
fn route_params(path: &str) -> String {
    if !path.starts_with('/') || !path.contains("/:") {
        return path.to_string();
    }
    let (path, query) = path
        .split_once('?')
        .map_or((path, None), |(p, q)| (p, Some(q)));
    let out: Vec<&str> = path
        .split('/')
        .map(|segment| {
            if segment.starts_with(':') {
                HOLE
            } else {
                segment
            }
        })
        .collect();
    let mut out = out.join("/");
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

impl<'a> Visit<'a> for Extract<'_, 'a> {
    fn enter_scope(&mut self, flags: ScopeFlags, _: &Cell<Option<ScopeId>>) {
        self.scopes.enter(flags);
    }

    fn leave_scope(&mut self) {
        self.scopes.leave();
    }

    fn visit_call_expression(&mut self, it: &CallExpression<'a>) {
        if let Some(call) = self.request(&it.callee, &it.arguments, false) {
            self.record(call);
        }
        walk::walk_call_expression(self, it);
    }

    fn visit_new_expression(&mut self, it: &NewExpression<'a>) {
        if let Some(call) = self.request(&it.callee, &it.arguments, true) {
            self.record(call);
        }
        walk::walk_new_expression(self, it);
    }

    fn visit_binary_expression(&mut self, it: &BinaryExpression<'a>) {
        if it.operator == BinaryOperator::Addition && !self.consumed.contains(&it.span) {
            let built = self
                .table
                .build(&it.left, self.scopes.current(), 1)
                .join(self.table.build(&it.right, self.scopes.current(), 1));
            // A string joined here: its parts are not read again on their own (`"/x"` of
            // `base + "/x"` is not a path of this Site by itself).
            if built.known {
                self.consumed.insert(it.span);
                self.consume(&it.left);
                self.consume(&it.right);
                self.plain(built);
            }
        }
        walk::walk_binary_expression(self, it);
    }

    fn visit_string_literal(&mut self, it: &StringLiteral<'a>) {
        if !self.consumed.contains(&it.span) {
            self.plain(Built::text(it.value.as_str()));
        }
    }

    fn visit_template_literal(&mut self, it: &TemplateLiteral<'a>) {
        if !self.consumed.contains(&it.span) {
            let built = self.table.template(it, self.scopes.current(), 0);
            self.plain(built);
        }
        walk::walk_template_literal(self, it);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("https://app.example/dashboard/").unwrap()
    }

    /// Every link (path and query), template and action ("METHOD path fields") found, sorted.
    fn found(code: &str) -> Vec<String> {
        let found = discover(code, &page(), SourceType::unambiguous())
            .unwrap_or_else(|| panic!("did not parse: {code}"));
        let mut out: Vec<String> = Vec::new();
        for (url, via) in &found.links {
            assert_eq!(*via, Via::Js);
            let path = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_string(),
            };
            let origin = if url.origin() == page().origin() {
                String::new()
            } else {
                format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""))
            };
            out.push(format!("GET {origin}{path}"));
        }
        for template in &found.templates {
            out.push(format!("GET {template}"));
        }
        for action in &found.actions {
            assert_eq!(action.source, "js");
            let url = Url::parse(&action.url).unwrap();
            let path = url.path().replace("%7B", "{").replace("%7D", "}");
            let fields = if action.fields.is_empty() {
                String::new()
            } else {
                format!(" {}", action.fields.join(","))
            };
            out.push(format!("{} {path}{fields}", action.method));
        }
        out.sort();
        out.dedup();
        out
    }

    #[test]
    fn calls_constants_routes_and_literals_are_found_with_their_methods() {
        let cases: &[(&str, &str, &[&str])] = &[
            // fetch and Request: the method from the options, GET without one.
            ("fetch get", r#"fetch("/api/teams")"#, &["GET /api/teams"]),
            (
                "minified fetch post",
                r#"fetch("/api/a",{method:"POST",body:JSON.stringify({name:n,role:r})})"#,
                &["POST /api/a name,role"],
            ),
            (
                "fetch with a method decided at run time is read as a GET",
                r#"function f(m){return fetch("/api/b",{method:m})}"#,
                &["GET /api/b"],
            ),
            (
                "window.fetch lowercase method",
                r#"window.fetch('/api/c', {method: 'delete'})"#,
                &["DELETE /api/c"],
            ),
            (
                "new Request",
                r#"const r = new Request("/api/upload", {method: "PUT"})"#,
                &["PUT /api/upload"],
            ),
            // axios, its instances and their base URL.
            (
                "axios methods",
                r#"axios.get("/api/users"); axios.post("/api/users", {email: e}); axios.delete(`/api/users/${id}`)"#,
                &[
                    "DELETE /api/users/{param}",
                    "GET /api/users",
                    "POST /api/users email",
                ],
            ),
            (
                "axios config",
                r#"axios({url: "/api/export", method: "post", data: {format: f}}); axios("/api/ping")"#,
                &["GET /api/ping", "POST /api/export format"],
            ),
            (
                "axios instance with a base URL",
                r#"const api = axios.create({baseURL: "/api/v2/"}); api.get("/teams"); api.patch("teams/7", {name: n})"#,
                // The base is a path literal too, as the lexer read it.
                &[
                    "GET /api/v2/",
                    "GET /api/v2/teams",
                    "PATCH /api/v2/teams/7 name",
                ],
            ),
            (
                "minified instance from a webpack import",
                r#"var c=o.a.create({baseURL:"/svc"});c.get("/status"),c.put("/status",{up:!0})"#,
                &["GET /svc", "GET /svc/status", "PUT /svc/status up"],
            ),
            // XMLHttpRequest and jQuery.
            (
                "xhr",
                r#"var x=new XMLHttpRequest;x.open("POST","/api/report");x.send(d);var y=new XMLHttpRequest;y.open("get","/api/report/1")"#,
                &["GET /api/report/1", "POST /api/report"],
            ),
            (
                "jquery",
                r#"$.ajax({url: "/api/notes", type: "POST", data: {text: t}}); $.get("/api/notes"); jQuery.getJSON("/api/notes.json"); $.post("/api/notes/1/pin")"#,
                &[
                    "GET /api/notes",
                    "GET /api/notes.json",
                    "POST /api/notes text",
                    "POST /api/notes/1/pin",
                ],
            ),
            (
                "jquery ajax with the url first",
                r#"$.ajax("/api/x", {method: "PATCH"})"#,
                &["PATCH /api/x"],
            ),
            // Constants, concatenation and templates.
            (
                "a URL constant joined",
                r#"const API = "/api"; fetch(API + "/teams"); fetch(`${API}/teams/${id}/members`)"#,
                &[
                    "GET /api",
                    "GET /api/teams",
                    "GET /api/teams/{param}/members",
                ],
            ),
            (
                "a constant used before it is defined",
                r#"function go(){ return fetch(BASE + "/later") } const BASE = "/api/v3";"#,
                &["GET /api/v3", "GET /api/v3/later"],
            ),
            (
                "concatenation with a hole",
                r#"fetch("/api/employees/" + id + "/salary")"#,
                &["GET /api/employees/{param}/salary"],
            ),
            (
                "a hole in the query",
                r#"fetch("/api/search?q=" + encodeURIComponent(q))"#,
                &["GET /api/search?q={param}"],
            ),
            // Route tables: GET links, `:id` segments are holes.
            (
                "route table",
                r#"const routes = [{path: "/reports", component: R}, {path: "/teams/:team/members"}]; const menu = ["/settings", "/billing"]"#,
                &[
                    "GET /billing",
                    "GET /reports",
                    "GET /settings",
                    "GET /teams/{param}/members",
                ],
            ),
            (
                "an absolute URL on another origin is kept (the frontier scopes it)",
                r#"fetch("https://cdn.example/lib.js")"#,
                &["GET https://cdn.example/lib.js"],
            ),
        ];
        for (name, code, want) in cases {
            assert_eq!(found(code), *want, "{name}: {code}");
        }
    }

    #[test]
    fn what_is_not_a_request_of_this_site_stays_silent() {
        let cases: &[(&str, &str)] = &[
            (
                "comments",
                "// fetch('/api/secret')\n/* $.get('/api/hidden') */ x = 1",
            ),
            (
                "regex literals",
                r#"var r = /\/api\/users/; if (/^\/admin/.test(p)) go()"#,
            ),
            (
                "strings that are not paths",
                r#"h["Content-Type"]="application/json"; d="2026/01/02"; s="/"; t="/2026/01"; u="//cdn.example/x"; v="text/html""#,
            ),
            (
                "an unknown base: the path alone is a guess",
                r#"function l(e,t){return e.get(t+"/x")}"#,
            ),
            (
                "an instance whose base is not a constant",
                r#"const api = axios.create({baseURL: window.API}); api.get("/teams")"#,
            ),
            (
                "window.open is not an XHR",
                r#"window.open("GET", "_blank")"#,
            ),
            (
                "not a URL: a template of words",
                r#"const m = `Hello ${name}, welcome`"#,
            ),
        ];
        for (name, code) in cases {
            assert_eq!(found(code), Vec::<String>::new(), "{name}: {code}");
        }
    }

    #[test]
    fn a_write_call_is_an_action_and_never_also_a_get_link() {
        // The same URL as a POST and, elsewhere, as a GET: one of each, nothing more.
        let code = r#"fetch("/api/items",{method:"POST"}); fetch("/api/items")"#;
        assert_eq!(found(code), ["GET /api/items", "POST /api/items"]);
        let code = r#"fetch("/api/only-post",{method:"POST"})"#;
        assert_eq!(found(code), ["POST /api/only-post"]);
    }

    #[test]
    fn a_minified_name_bound_in_many_scopes_is_not_a_constant() {
        // `"/api"` is a path literal of its own; `t + "/one"` is not `/api/one`.
        let code = r#"function a(t){return fetch(t+"/one")} var t="/api"; function b(t){return t}"#;
        assert_eq!(found(code), ["GET /api"]);
    }

    #[test]
    fn the_same_short_name_in_each_module_resolves_in_its_own_scope() {
        // A bundler's modules: `a` and `c` in each, with their own values.
        let code = r#"var m={1:function(e,t,n){var a="/api/one",c=n.a.create({baseURL:"/svc/one"});t.f=function(e){return fetch(a+"/items/"+e),c.get("/status")}},2:function(e,t,n){const a="/api/two";let c=n.a.create({baseURL:"/svc/two"});t.g=()=>{fetch(`${a}/items`,{method:"POST"});c.delete("/cache")}}}"#;
        assert_eq!(
            found(code),
            [
                "DELETE /svc/two/cache",
                "GET /api/one",
                "GET /api/one/items/{param}",
                "GET /api/two",
                "GET /svc/one",
                "GET /svc/one/status",
                "GET /svc/two",
                "POST /api/two/items",
            ]
        );
        // `var a;` in each module, assigned later: each module's own.
        let code = r#"(function(){var a;a="/api/m1";fetch(a+"/x")})();(function(){var a;a="/api/m2";fetch(a+"/y")})()"#;
        assert_eq!(
            found(code),
            [
                "GET /api/m1",
                "GET /api/m1/x",
                "GET /api/m2",
                "GET /api/m2/y"
            ]
        );
        // An assignment binds where the name is declared, shadowing included.
        let code = r#"var a; function f(){ a = "/api/late" } function g(){ var a = x; fetch(a + "/no") } function h(){ fetch(a + "/yes") }"#;
        assert_eq!(found(code), ["GET /api/late", "GET /api/late/yes"]);
        // A block's `let` does not leak; a `var` in a block belongs to the function.
        let code = r#"function f(){ { let b = "/api/in"; } fetch(b + "/no"); if (x) { var c = "/api/v"; } fetch(c + "/yes") }"#;
        assert_eq!(found(code), ["GET /api/in", "GET /api/v", "GET /api/v/yes"]);
    }

    #[test]
    fn a_rebound_name_is_not_a_constant_but_one_bound_twice_alike_is() {
        assert_eq!(
            found(r#"var u="/api/a"; u="/api/b"; fetch(u+"/x")"#),
            ["GET /api/a", "GET /api/b"]
        );
        assert_eq!(
            found(r#"var u="/api/a"; u="/api/a"; fetch(u+"/x")"#),
            ["GET /api/a", "GET /api/a/x"]
        );
    }

    #[test]
    fn too_large_or_too_deep_or_broken_scripts_are_left_to_the_lexer() {
        let deep = format!(
            "x = {}1{}",
            "(".repeat(MAX_NESTING + 1),
            ")".repeat(MAX_NESTING + 1)
        );
        assert!(discover(&deep, &page(), SourceType::unambiguous()).is_none());
        // Depth a string's closers would hide from a count of brackets (`(")"(")"…1))`, a
        // call of a string, parses) is still counted.
        let hidden = format!(
            "x = {}1{}",
            "(\")\"".repeat(MAX_NESTING + 1),
            ")".repeat(MAX_NESTING + 1)
        );
        assert!(nesting(&hidden) > MAX_NESTING);
        assert!(discover(&hidden, &page(), SourceType::unambiguous()).is_none());
        // Brackets inside strings, regexes, comments and templates do not count.
        let quoted = format!(
            "a = \"{0}\"; b = /{0}/; // {0}\n c = `{0}${{d}}{0}`; if (x) /{0}/.test(y)",
            "(".repeat(MAX_NESTING + 1)
        );
        assert!(nesting(&quoted) < 8, "{}", nesting(&quoted));
        assert!(discover(&quoted, &page(), SourceType::unambiguous()).is_some());
        // Chains nest without brackets, and a closer does not end one.
        for link in ["- ", "a+", "a.", "a?{}:", "f()", "!"] {
            let chain = format!("x = {}1", link.repeat(MAX_NESTING + 1));
            assert!(nesting(&chain) > MAX_NESTING, "{link}");
            assert!(discover(&chain, &page(), SourceType::unambiguous()).is_none());
        }
        let elses = format!("if(a)b;{}c", "else if(a)b;".repeat(MAX_NESTING + 1));
        assert!(nesting(&elses) > MAX_NESTING);
        // Statements and list items end a chain: a long bundle is not one deep expression.
        let flat = "var a=b+c*d,e=f.g.h(i);if(a)j();else k();function l(m){return m}if(a){b()}for(;;){}class C{m(){}n(){}}".repeat(MAX_NESTING);
        assert!(nesting(&flat) < 16, "{}", nesting(&flat));
        // A long concatenation, as templates compiled to strings are, still parses.
        let sum = format!("x = \"/api/long\"{}", " + a".repeat(1000));
        assert!(nesting(&sum) < MAX_NESTING);
        assert!(discover(&sum, &page(), SourceType::unambiguous()).is_some());
        let unary = format!("x = {}1", "!".repeat(MAX_NESTING + 1));
        assert!(discover(&unary, &page(), SourceType::unambiguous()).is_none());
        let big = format!("var a = \"{}\";", "a".repeat(MAX_PARSE_BYTES));
        assert!(discover(&big, &page(), SourceType::unambiguous()).is_none());
        // Just under the bound: parsed.
        let ok = format!("x = {}\"/api/deep\"{}", "(".repeat(100), ")".repeat(100));
        assert_eq!(found(&ok), ["GET /api/deep"]);
    }

    #[test]
    fn typescript_and_jsx_sources_parse_with_their_source_type() {
        let ts = r#"const get = async (id: number): Promise<Team> => (await fetch(`/api/teams/${id}`, {method: "GET"})).json() as Team;"#;
        let found = discover(ts, &page(), SourceType::ts()).unwrap();
        assert_eq!(found.templates, ["/api/teams/{param}"]);
        let jsx = r#"export const A = () => <a href="/reports/annual">x</a>;"#;
        let found = discover(jsx, &page(), SourceType::unambiguous().with_jsx(true)).unwrap();
        assert_eq!(found.links.len(), 1);
        assert_eq!(found.links[0].0.path(), "/reports/annual");
    }
}
