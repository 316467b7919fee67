//! The cost of a GraphQL document, computed in one pass before validation and execution.
//!
//! async-graphql's own depth and complexity visitors walk every expanded fragment spread and
//! compare with the limits only at the end, so a few hundred bytes of nested fragments
//! (`F1 = F0 F0 F0 F0`, `F2 = F1 F1 F1 F1`…) cost exponential time. Here each fragment is
//! costed once (memoised by name), every sum saturates, and the pass stops the moment a limit
//! is crossed, so any document up to the body limit is judged in time linear in its size.
//!
//! The model:
//! - *fields*: selections after fragment expansion (what async-graphql's validation and
//!   execution will walk), summed over every operation of the document and over a batch;
//! - *depth*: the deepest selection, where introspection fields (`__schema`, `__type`) and
//!   everything below them do not count, so standard introspection queries pass at the
//!   default depth while the schema's own types stay bounded;
//! - *complexity*: 1 per field plus its children, a list's children counted once per item it
//!   may hold: `pageSize` for paged root lists, the cap for capped nested lists, a documented
//!   estimate for uncapped ones ([`LIST_SIZES`]).

use std::collections::HashMap;

use async_graphql::Variables;
use async_graphql::parser::types::{
    BaseType, ExecutableDocument, OperationType, Selection, SelectionSet, ServiceDocument,
    TypeKind, TypeSystemDefinition,
};
use async_graphql::{Name, Positioned};
use async_graphql_value::{ConstValue, Value as AstValue};

use crate::input::limits::{MAX_ADDRESSES_PER_CONTACT, MAX_CONTACT_POINTS_PER_CONTACT};

/// Items a nested plain list is costed at: its cap where the write path enforces one, else an
/// estimate of a large real-world parent (the row budget, `KITH_MAX_ROWS_PER_REQUEST`, bounds
/// what a request really loads). A test checks that every object list of the schema that is
/// not paged is listed here or in [`SINGLE_ITEM_LISTS`].
pub const LIST_SIZES: &[(&str, &str, usize)] = &[
    ("Contact", "contactPoints", MAX_CONTACT_POINTS_PER_CONTACT),
    ("Contact", "addresses", MAX_ADDRESSES_PER_CONTACT),
    ("Customer", "accounts", 5),
    ("Customer", "contacts", 10),
    ("Account", "contacts", 5),
    ("Contact", "linkedCustomers", 5),
];

/// Lists whose items are already counted by their parent: page items (the paged field
/// multiplies its whole selection by `pageSize`) and payload lists bounded by the input (as
/// is every payload's `userErrors`).
pub const SINGLE_ITEM_LISTS: &[(&str, &str)] = &[
    ("CustomerPage", "items"),
    ("AccountPage", "items"),
    ("ContactPage", "items"),
    ("PatchContactPayload", "results"),
    ("*", "userErrors"),
];

/// Page size assumed when a paged list names none (API.md: `pageSize: Int = 20`).
const DEFAULT_PAGE_SIZE: usize = 20;

/// Introspection entry points: neither they nor anything below them count toward depth.
const INTROSPECTION_FIELDS: [&str; 2] = ["__schema", "__type"];

/// How deep braces, brackets and parentheses may nest in the document's text. async-graphql's
/// parser enforces 64 levels only after pest has recursed through the whole text, which a
/// deep enough document turns into a stack overflow; nothing legitimate comes close.
const MAX_TEXT_NESTING: usize = 96;

/// How much validation work, in expanded fields summed over every selection set, a document
/// may need per field of `KITH_MAX_FIELDS`: a query `d` levels deep needs about `d` per field,
/// and its fragments' definitions as much again.
const VALIDATION_WORK_PER_FIELD: usize = 50;

/// Tokens a document may have per field of `KITH_MAX_FIELDS`: room for arguments, aliases,
/// variables and inline input objects around every field.
pub const TOKENS_PER_FIELD: usize = 20;

/// Bytes a document's text may have per field of `KITH_MAX_FIELDS` (256 KiB by default): the
/// parser walks strings and comments a character at a time, about 100 ms a megabyte here, and
/// data belongs in variables, which the body limit bounds.
pub const TEXT_BYTES_PER_FIELD: usize = 256;

/// The limits a document (or a whole batch) is held to.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Deepest selection, introspection excluded.
    pub max_depth: usize,
    /// Largest complexity.
    pub max_complexity: usize,
    /// Most selections after fragment expansion.
    pub max_fields: usize,
    /// Largest `pageSize` a paged list accepts (a larger one is refused by the list itself;
    /// here it is costed at the maximum).
    pub max_page_size: usize,
}

/// What a document was found to cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    /// Selections after fragment expansion.
    pub fields: usize,
    /// Complexity, list sizes included.
    pub complexity: usize,
    /// Deepest selection, introspection excluded.
    pub depth: usize,
}

/// Why a document was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CostError {
    /// Over one of the limits.
    #[error("{0}")]
    TooComplex(String),
    /// A fragment spreads itself, directly or not (validation would say so too, after an
    /// unbounded walk).
    #[error("fragment `{0}` spreads itself")]
    FragmentCycle(String),
    /// The text nests deeper than any query needs.
    #[error("the document nests brackets more than {MAX_TEXT_NESTING} levels deep")]
    TooDeeplyNested,
}

/// Whether an operation type is read-only.
pub fn is_mutation(document: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    document
        .operations
        .iter()
        .filter(|(name, _)| match operation_name {
            Some(wanted) => name.is_some_and(|name| name.as_str() == wanted),
            None => true,
        })
        .any(|(_, operation)| operation.node.ty == OperationType::Mutation)
}

#[derive(Clone, Copy, Debug)]
enum Multiplier {
    One,
    /// A paged root list: its `page.pageSize` argument.
    PageSize,
    Fixed(usize),
}

#[derive(Debug)]
struct FieldInfo {
    /// The field's named type (lists unwrapped), when it is an object or interface type.
    ty: Option<Name>,
    multiplier: Multiplier,
}

/// What the cost pass knows of the schema: each object type's fields, their types and list
/// sizes. Built once from the SDL.
#[derive(Debug)]
pub struct CostModel {
    types: HashMap<Name, HashMap<Name, FieldInfo>>,
    query: Name,
    mutation: Name,
    subscription: Name,
}

impl CostModel {
    /// Read the schema's SDL. Panics only if the SDL async-graphql itself printed does not
    /// parse, which a unit test rules out.
    pub fn from_sdl(sdl: &str) -> CostModel {
        #[expect(
            clippy::expect_used,
            reason = "the SDL is our own; a unit test parses it"
        )]
        let document: ServiceDocument =
            async_graphql::parser::parse_schema(sdl).expect("the schema's own SDL parses");
        let mut model = CostModel {
            types: HashMap::new(),
            query: Name::new("Query"),
            mutation: Name::new("Mutation"),
            subscription: Name::new("Subscription"),
        };
        let mut object_types = std::collections::HashSet::new();
        for definition in &document.definitions {
            if let TypeSystemDefinition::Type(ty) = definition
                && matches!(
                    ty.node.kind,
                    TypeKind::Object(_) | TypeKind::Interface(_) | TypeKind::Union(_)
                )
            {
                object_types.insert(ty.node.name.node.clone());
            }
        }
        for definition in &document.definitions {
            match definition {
                TypeSystemDefinition::Schema(schema) => {
                    if let Some(query) = &schema.node.query {
                        model.query = query.node.clone();
                    }
                    if let Some(mutation) = &schema.node.mutation {
                        model.mutation = mutation.node.clone();
                    }
                    if let Some(subscription) = &schema.node.subscription {
                        model.subscription = subscription.node.clone();
                    }
                }
                TypeSystemDefinition::Type(ty) => {
                    let fields = match &ty.node.kind {
                        TypeKind::Object(object) => &object.fields,
                        TypeKind::Interface(interface) => &interface.fields,
                        _ => continue,
                    };
                    let parent = ty.node.name.node.as_str();
                    let infos = fields
                        .iter()
                        .map(|field| {
                            let field = &field.node;
                            let (named, is_list) = unwrap_type(&field.ty.node.base);
                            let paged = field
                                .arguments
                                .iter()
                                .any(|argument| argument.node.name.node == "page");
                            let name = field.name.node.as_str();
                            let multiplier = if paged {
                                Multiplier::PageSize
                            } else if is_list {
                                LIST_SIZES
                                    .iter()
                                    .find(|(ty, list, _)| *ty == parent && *list == name)
                                    .map_or(Multiplier::One, |(_, _, size)| {
                                        Multiplier::Fixed(*size)
                                    })
                            } else {
                                Multiplier::One
                            };
                            let ty = object_types.contains(named).then(|| named.clone());
                            (field.name.node.clone(), FieldInfo { ty, multiplier })
                        })
                        .collect();
                    model.types.insert(ty.node.name.node.clone(), infos);
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        model
    }

    /// Object lists that are neither paged nor sized in [`LIST_SIZES`] nor declared in
    /// [`SINGLE_ITEM_LISTS`]: a new one must be costed deliberately.
    pub fn unsized_object_lists(&self, sdl: &str) -> Vec<String> {
        let Ok(document) = async_graphql::parser::parse_schema(sdl) else {
            return vec!["<the SDL does not parse>".into()];
        };
        let mut missing = Vec::new();
        for definition in &document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let TypeKind::Object(object) = &ty.node.kind else {
                continue;
            };
            let parent = ty.node.name.node.as_str();
            for field in &object.fields {
                let name = field.node.name.node.as_str();
                let (named, is_list) = unwrap_type(&field.node.ty.node.base);
                let is_object = self.types.contains_key(named);
                let paged = field
                    .node
                    .arguments
                    .iter()
                    .any(|argument| argument.node.name.node == "page");
                let known = LIST_SIZES
                    .iter()
                    .any(|(t, f, _)| *t == parent && *f == name)
                    || SINGLE_ITEM_LISTS
                        .iter()
                        .any(|(t, f)| (*t == parent || *t == "*") && *f == name);
                if is_list && is_object && !paged && !known && !parent.starts_with("__") {
                    missing.push(format!("{parent}.{name}"));
                }
            }
        }
        missing
    }

    fn field(&self, parent: Option<&Name>, name: &str) -> Option<&FieldInfo> {
        self.types.get(parent?)?.get(name)
    }
}

/// Introspection types (`__Type`, `__Field`…): a fragment on one costs no depth, wherever it
/// is spread, so its cost can be memoised once.
fn is_introspection(ty: &Name) -> bool {
    ty.starts_with("__")
}

fn unwrap_type(base: &BaseType) -> (&Name, bool) {
    match base {
        BaseType::Named(name) => (name, false),
        BaseType::List(inner) => (unwrap_type(&inner.base).0, true),
    }
}

/// A running total over one request: a batch shares one, so the limits apply to its sum.
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    spent: Cost,
}

impl Budget {
    /// A fresh budget.
    pub fn new(limits: Limits) -> Budget {
        Budget {
            limits,
            spent: Cost::default(),
        }
    }

    /// What has been charged so far.
    pub fn spent(&self) -> Cost {
        self.spent
    }

    /// Cost `document` (every operation in it: validation walks them all) and charge it.
    pub fn charge(
        &mut self,
        model: &CostModel,
        document: &ExecutableDocument,
        variables: &Variables,
    ) -> Result<Cost, CostError> {
        let mut pass = Pass {
            model,
            document,
            variables,
            limits: self.limits,
            fields_before: self.spent.fields,
            complexity_before: self.spent.complexity,
            fragments: HashMap::new(),
            validation_work: 0,
        };
        let mut total = Cost::default();
        for (_, operation) in document.operations.iter() {
            let root = match operation.node.ty {
                OperationType::Query => &model.query,
                OperationType::Mutation => &model.mutation,
                OperationType::Subscription => &model.subscription,
            };
            let cost = pass.selection_set(Some(root), &operation.node.selection_set, false)?;
            total = Cost {
                fields: total.fields.saturating_add(cost.fields),
                complexity: total.complexity.saturating_add(cost.complexity),
                depth: total.depth.max(cost.depth),
            };
            pass.check(total)?;
        }
        // Fragments no operation spreads are still walked by validation: cost them too.
        for name in document.fragments.keys() {
            pass.fragment(name)?;
        }
        self.spent = Cost {
            fields: self.spent.fields.saturating_add(total.fields),
            complexity: self.spent.complexity.saturating_add(total.complexity),
            depth: self.spent.depth.max(total.depth),
        };
        Ok(total)
    }
}

/// Judge the document's text before it is parsed: at most [`TEXT_BYTES_PER_FIELD`] bytes and
/// [`TOKENS_PER_FIELD`] tokens (as graphql-js's `maxTokens`) per field of `max_fields`, and
/// brackets nested at most [`MAX_TEXT_NESTING`] deep (async-graphql's parser
/// enforces its own 64 levels only after pest has recursed through the whole text, which a deep
/// enough document turns into a stack overflow). Parsing costs about a quarter of a second per
/// megabyte of tokens here; this scan, a millisecond.
pub fn check_text(text: &str, max_fields: usize) -> Result<(), CostError> {
    let max_bytes = max_fields.saturating_mul(TEXT_BYTES_PER_FIELD);
    if text.len() > max_bytes {
        return Err(CostError::TooComplex(format!(
            "the document is longer than {max_bytes} bytes; send data in variables"
        )));
    }
    let max_tokens = max_fields.saturating_mul(TOKENS_PER_FIELD);
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut tokens = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 3;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_TEXT_NESTING {
                    return Err(CostError::TooDeeplyNested);
                }
                i += 1;
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'.' if bytes[i..].starts_with(b"...") => i += 3,
            b'_' | b'-' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' => {
                // A name or a number (`-1.5e+3` included): one token however long.
                i += 1;
                while i < bytes.len()
                    && (bytes[i] == b'_'
                        || bytes[i] == b'.'
                        || bytes[i] == b'+'
                        || bytes[i] == b'-'
                        || bytes[i].is_ascii_alphanumeric())
                {
                    i += 1;
                }
            }
            _ => i += 1,
        }
        tokens += 1;
        if tokens > max_tokens {
            return Err(CostError::TooComplex(format!(
                "the document has more than {max_tokens} tokens"
            )));
        }
    }
    Ok(())
}

struct Pass<'a> {
    model: &'a CostModel,
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    limits: Limits,
    /// Charged by earlier documents of the same batch.
    fields_before: usize,
    complexity_before: usize,
    /// `None` while a fragment is being costed: meeting it again is a cycle.
    fragments: HashMap<&'a str, Option<Cost>>,
    /// What validation will walk: for every selection set of the document as written (each
    /// fragment definition once), the fields it expands to. async-graphql's overlapping-fields
    /// rule expands the spreads of every selection set, so a thousand small fragments that each
    /// spread one large one cost a thousand times the large one.
    validation_work: usize,
}

impl<'a> Pass<'a> {
    fn check(&self, cost: Cost) -> Result<(), CostError> {
        let fields = self.fields_before.saturating_add(cost.fields);
        if fields > self.limits.max_fields {
            return Err(CostError::TooComplex(format!(
                "the request selects more than {} fields once fragments are expanded",
                self.limits.max_fields
            )));
        }
        let complexity = self.complexity_before.saturating_add(cost.complexity);
        if complexity > self.limits.max_complexity {
            return Err(CostError::TooComplex(format!(
                "query complexity {complexity} exceeds the limit of {}",
                self.limits.max_complexity
            )));
        }
        if cost.depth > self.limits.max_depth {
            return Err(CostError::TooComplex(format!(
                "query depth {} exceeds the limit of {}",
                cost.depth, self.limits.max_depth
            )));
        }
        Ok(())
    }

    fn fragment(&mut self, name: &'a str) -> Result<Cost, CostError> {
        match self.fragments.get(name) {
            Some(Some(cost)) => return Ok(*cost),
            Some(None) => return Err(CostError::FragmentCycle(name.to_owned())),
            None => {}
        }
        // An unknown fragment costs nothing here; validation reports it.
        let Some(fragment) = self.document.fragments.get(name) else {
            return Ok(Cost::default());
        };
        self.fragments.insert(name, None);
        let ty = &fragment.node.type_condition.node.on.node;
        let cost =
            self.selection_set(Some(ty), &fragment.node.selection_set, is_introspection(ty))?;
        self.fragments.insert(name, Some(cost));
        Ok(cost)
    }

    fn selection_set(
        &mut self,
        ty: Option<&'a Name>,
        selection_set: &'a Positioned<SelectionSet>,
        in_introspection: bool,
    ) -> Result<Cost, CostError> {
        let mut total = Cost::default();
        for selection in &selection_set.node.items {
            let cost = match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let name = field.name.node.as_str();
                    let introspection = in_introspection || INTROSPECTION_FIELDS.contains(&name);
                    let info = self.model.field(ty, name);
                    let children = if field.selection_set.node.items.is_empty() {
                        Cost::default()
                    } else {
                        self.selection_set(
                            info.and_then(|info| info.ty.as_ref()),
                            &field.selection_set,
                            introspection,
                        )?
                    };
                    let items = match info.map(|info| info.multiplier) {
                        Some(Multiplier::PageSize) => self.page_size(field.get_argument("page")),
                        Some(Multiplier::Fixed(size)) => size,
                        Some(Multiplier::One) | None => 1,
                    };
                    Cost {
                        fields: children.fields.saturating_add(1),
                        complexity: children.complexity.saturating_mul(items).saturating_add(1),
                        depth: if introspection { 0 } else { children.depth + 1 },
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let cost = self.fragment(spread.node.fragment_name.node.as_str())?;
                    if in_introspection {
                        Cost { depth: 0, ..cost }
                    } else {
                        cost
                    }
                }
                Selection::InlineFragment(inline) => {
                    let ty = inline
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(ty, |condition| Some(&condition.node.on.node));
                    let introspection = in_introspection || ty.is_some_and(is_introspection);
                    self.selection_set(ty, &inline.node.selection_set, introspection)?
                }
            };
            total = Cost {
                fields: total.fields.saturating_add(cost.fields),
                complexity: total.complexity.saturating_add(cost.complexity),
                depth: total.depth.max(cost.depth),
            };
            self.check(total)?;
        }
        self.validation_work = self.validation_work.saturating_add(total.fields);
        let max_work = self
            .limits
            .max_fields
            .saturating_mul(VALIDATION_WORK_PER_FIELD);
        if self.validation_work > max_work {
            return Err(CostError::TooComplex(format!(
                "the document's fragments expand to more than {max_work} fields in all"
            )));
        }
        Ok(total)
    }

    /// `page: {pageSize: N}`, `page: {pageSize: $n}` or `page: $page`; the default when
    /// absent, the maximum when larger (the list refuses it anyway), at least 1.
    fn page_size(&self, page: Option<&Positioned<AstValue>>) -> usize {
        let int = |value: &ConstValue| match value {
            ConstValue::Number(number) => number.as_i64(),
            _ => None,
        };
        let size = page.and_then(|page| match &page.node {
            AstValue::Variable(name) => match self.variable(name)? {
                ConstValue::Object(fields) => fields.get("pageSize").and_then(int),
                _ => None,
            },
            AstValue::Object(fields) => match fields.get("pageSize")? {
                AstValue::Variable(name) => self.variable(name).as_ref().and_then(int),
                AstValue::Number(number) => number.as_i64(),
                _ => None,
            },
            _ => None,
        });
        match size {
            None => DEFAULT_PAGE_SIZE,
            Some(size) => usize::try_from(size)
                .unwrap_or(1)
                .clamp(1, self.limits.max_page_size),
        }
    }

    fn variable(&self, name: &Name) -> Option<ConstValue> {
        if let Some(value) = self.variables.get(name) {
            return Some(value.clone());
        }
        self.document
            .operations
            .iter()
            .flat_map(|(_, operation)| operation.node.variable_definitions.iter())
            .find(|definition| definition.node.name.node == *name)
            .and_then(|definition| definition.node.default_value.as_ref())
            .map(|value| value.node.clone())
    }
}

/// Root fields answered without the database: who the caller is, and the schema itself.
const ROOT_FIELDS_WITHOUT_DATABASE: [&str; 4] = ["me", "__typename", "__schema", "__type"];

/// Whether any operation of `document` selects a root field that reads or writes the
/// database (what load shedding gates: `{ me { subject } }` never waits for a connection).
pub fn needs_database(document: &ExecutableDocument) -> bool {
    fn any_root_field(
        document: &ExecutableDocument,
        selection_set: &SelectionSet,
        seen: &mut Vec<Name>,
    ) -> bool {
        selection_set
            .items
            .iter()
            .any(|selection| match &selection.node {
                Selection::Field(field) => {
                    !ROOT_FIELDS_WITHOUT_DATABASE.contains(&field.node.name.node.as_str())
                }
                Selection::InlineFragment(inline) => {
                    any_root_field(document, &inline.node.selection_set.node, seen)
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if seen.contains(name) {
                        return false;
                    }
                    seen.push(name.clone());
                    document.fragments.get(name).is_some_and(|fragment| {
                        any_root_field(document, &fragment.node.selection_set.node, seen)
                    })
                }
            })
    }
    let mut seen = Vec::new();
    document.operations.iter().any(|(_, operation)| {
        any_root_field(document, &operation.node.selection_set.node, &mut seen)
    })
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    const LIMITS: Limits = Limits {
        max_depth: 12,
        max_complexity: 20_000,
        max_fields: 1000,
        max_page_size: 100,
    };

    fn cost(query: &str) -> Result<Cost, CostError> {
        cost_with(query, &Variables::default())
    }

    fn cost_with(query: &str, variables: &Variables) -> Result<Cost, CostError> {
        let model = CostModel::from_sdl(&crate::schema::sdl());
        let document = async_graphql::parser::parse_query(query).expect("query parses");
        Budget::new(LIMITS).charge(&model, &document, variables)
    }

    /// `{ me { ...F<levels> } }` where each fragment spreads the one below `width` times.
    fn fan_out(levels: usize, width: usize) -> String {
        let mut query = format!("{{ me {{ ...F{levels} }} }} fragment F0 on Me {{ subject }}");
        for level in 1..=levels {
            let spreads = format!("...F{} ", level - 1).repeat(width);
            query.push_str(&format!(" fragment F{level} on Me {{ {spreads}}}"));
        }
        query
    }

    #[test]
    fn every_unpaged_object_list_is_costed_deliberately() {
        let sdl = crate::schema::sdl();
        let model = CostModel::from_sdl(&sdl);
        assert_eq!(model.unsized_object_lists(&sdl), Vec::<String>::new());
    }

    #[test]
    fn fragment_fan_out_is_refused_at_once() {
        for (levels, width) in [(30, 4), (13, 4), (10, 50), (200, 2)] {
            let started = Instant::now();
            let outcome = cost(&fan_out(levels, width));
            assert!(
                matches!(outcome, Err(CostError::TooComplex(ref message)) if message.contains("fields")),
                "{levels}x{width}: {outcome:?}"
            );
            // A guard against exponential work (22.5 s before), not a timing: the release
            // figure (2 ms) is in BENCHMARKS.md.
            assert!(
                started.elapsed().as_secs() < 1,
                "{levels}x{width} took {:?}",
                started.elapsed()
            );
        }
    }

    #[test]
    fn fragments_are_costed_once_each() {
        // 4^4 = 256 expanded `subject` fields, plus `me`: under the limit, and exactly counted.
        let allowed = cost(&fan_out(4, 4)).expect("allowed");
        assert_eq!(allowed.fields, 257);
        assert_eq!(allowed.depth, 2);
    }

    #[test]
    fn cycles_are_reported() {
        let outcome = cost("{ me { ...A } } fragment A on Me { ...B } fragment B on Me { ...A }");
        assert!(
            matches!(outcome, Err(CostError::FragmentCycle(_))),
            "{outcome:?}"
        );
    }

    #[test]
    fn introspection_does_not_count_toward_depth() {
        let query = include_str!("../tests/fixtures/introspection.graphql");
        let standard =
            cost(query).expect("the standard introspection query passes at the defaults");
        assert_eq!(standard.depth, 0);
        assert!(
            standard.fields > 150 && standard.fields < 1000,
            "{standard:?}"
        );
        // ...but introspection still counts fields, so a fan-out inside it stays closed.
        let mut fan = fan_out(30, 4).replace(" on Me ", " on __Type ");
        fan = fan.replace("{ me { ...F30 } }", "{ __schema { types { ...F30 } } }");
        fan = fan.replace("{ subject }", "{ name }");
        assert!(matches!(cost(&fan), Err(CostError::TooComplex(_))));
    }

    #[test]
    fn depth_counts_the_schema_s_own_fields() {
        let deep = format!(
            "{{ customers {{ items {{ {} id {} }} }} }}",
            "accounts { customer { ".repeat(6),
            "} } ".repeat(6)
        );
        let model = CostModel::from_sdl(&crate::schema::sdl());
        let document = async_graphql::parser::parse_query(&deep).expect("parses");
        let limits = Limits {
            max_complexity: usize::MAX,
            ..LIMITS
        };
        let outcome = Budget::new(limits).charge(&model, &document, &Variables::default());
        assert!(
            matches!(outcome, Err(CostError::TooComplex(ref m)) if m.contains("depth")),
            "{outcome:?}"
        );
    }

    #[test]
    fn lists_multiply_their_children() {
        // contact(1) + contactPoints(1 + 50 × 2 fields).
        let point = cost("{ contact(id: \"x\") { contactPoints { id kind } } }").expect("ok");
        assert_eq!(point.complexity, 1 + 1 + 50 * 2);
        // A page multiplies its whole selection: items(1 + id) + totalCount, times pageSize.
        let page =
            cost("{ customers(page: { pageSize: 30 }) { totalCount items { id } } }").expect("ok");
        assert_eq!(page.complexity, 1 + 30 * (1 + 1 + 1));
        let default = cost("{ customers { items { id } } }").expect("ok");
        assert_eq!(default.complexity, 1 + 20 * 2);
        let variables = Variables::from_json(serde_json::json!({ "size": 7 }));
        let variable = cost_with(
            "query($size: Int) { customers(page: { pageSize: $size }) { items { id } } }",
            &variables,
        )
        .expect("ok");
        assert_eq!(variable.complexity, 1 + 7 * 2);
        let variables = Variables::from_json(serde_json::json!({ "page": { "pageSize": 9 } }));
        let whole = cost_with(
            "query($page: PageInput) { customers(page: $page) { items { id } } }",
            &variables,
        )
        .expect("ok");
        assert_eq!(whole.complexity, 1 + 9 * 2);
    }

    #[test]
    fn aliases_of_a_capped_list_add_up() {
        let alias = "a: contact(id: \"x\") { contactPoints { id value kind } } ";
        let many: String = (0..200)
            .map(|i| alias.replace("a:", &format!("a{i}:")))
            .collect();
        let outcome = cost(&format!("{{ {many} }}"));
        assert!(
            matches!(outcome, Err(CostError::TooComplex(_))),
            "{outcome:?}"
        );
    }

    #[test]
    fn a_batch_is_held_to_the_sum() {
        let model = CostModel::from_sdl(&crate::schema::sdl());
        let aliases: String = (0..40)
            .map(|i| format!("a{i}: me {{ subject }} "))
            .collect();
        let document =
            async_graphql::parser::parse_query(format!("{{ {aliases} }}")).expect("parses");
        let mut budget = Budget::new(LIMITS);
        let mut accepted = 0;
        while budget
            .charge(&model, &document, &Variables::default())
            .is_ok()
        {
            accepted += 1;
        }
        // 80 fields each: the 13th document crosses 1000.
        assert_eq!(accepted, 12);
    }

    #[test]
    fn deep_text_is_refused_before_parsing() {
        let deep = "{ me ".repeat(10_000);
        assert_eq!(check_text(&deep, 10_000), Err(CostError::TooDeeplyNested));
        let query = include_str!("../tests/fixtures/introspection.graphql");
        assert_eq!(check_text(query, 1000), Ok(()));
        assert_eq!(check_text("{ a(s: \"{{{{{{{{{{\") } # {{{{{{{", 5), Ok(()));
    }

    #[test]
    fn tokens_are_counted_before_parsing() {
        // `{ me ( x : "a b" , y : -1.5e3 ) { ...F @skip ( if : true ) } }`: 22 tokens, and
        // one field allows 20.
        let text = "{ me(x: \"a b\", y: -1.5e3) { ...F @skip(if: true) } } # a comment";
        assert!(
            matches!(check_text(text, 1), Err(CostError::TooComplex(ref m)) if m.contains("tokens"))
        );
        assert_eq!(check_text(text, 2), Ok(()));
        let directives = format!(
            "{{ me {{ subject {} }} }}",
            "@skip(if: false) ".repeat(4_000)
        );
        assert!(matches!(
            check_text(&directives, 1000),
            Err(CostError::TooComplex(_))
        ));
        let long = format!("{{ me(x: \"{}\") {{ subject }} }}", "a".repeat(300_000));
        assert!(
            matches!(check_text(&long, 1000), Err(CostError::TooComplex(ref m)) if m.contains("bytes"))
        );
    }

    #[test]
    fn many_fragments_spreading_a_large_one_are_refused() {
        let big: String = (0..900).map(|i| format!("a{i}: subject ")).collect();
        let mut query = format!("{{ me {{ subject }} }} fragment B on Me {{ {big}}}");
        for i in 0..100 {
            query.push_str(&format!(" fragment F{i} on Me {{ ...B }}"));
        }
        let outcome = cost(&query);
        assert!(
            matches!(outcome, Err(CostError::TooComplex(ref m)) if m.contains("fragments")),
            "{outcome:?}"
        );
        // A handful is fine.
        let few = query
            .split(" fragment F5 ")
            .next()
            .expect("prefix")
            .to_owned();
        assert!(cost(&few).is_ok());
    }

    #[test]
    fn only_root_fields_beyond_me_need_the_database() {
        let parse = |q: &str| async_graphql::parser::parse_query(q).expect("parses");
        assert!(!needs_database(&parse("{ me { subject } __typename }")));
        assert!(!needs_database(&parse("{ __schema { types { name } } }")));
        assert!(needs_database(&parse(
            "{ me { subject } customers { totalCount } }"
        )));
        assert!(needs_database(&parse(
            "query { ...Q } fragment Q on Query { contact(id: \"x\") { id } }"
        )));
        assert!(is_mutation(
            &parse("mutation { deleteContact(id: \"x\") { deletedId } }"),
            None
        ));
    }
}
