//! What the cost pass knows of the schema: each object type's fields, their types and list
//! sizes, read once from the SDL.

use std::collections::HashMap;

use async_graphql::Name;
use async_graphql::parser::types::{BaseType, ServiceDocument, TypeKind, TypeSystemDefinition};

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
    ("Query", "nodes", crate::node::MAX_NODES),
    // A change records at most every field of its object: a contact has 22.
    ("Change", "changes", 25),
];

/// Lists whose items are already counted by their parent: page items and connection edges
/// (the paged field multiplies its whole selection by `pageSize`, `first` or `last`) and payload lists bounded by the input (as
/// is every payload's `userErrors`).
pub const SINGLE_ITEM_LISTS: &[(&str, &str)] = &[
    ("CustomerPage", "items"),
    ("AccountPage", "items"),
    ("ContactPage", "items"),
    ("ChangePage", "items"),
    ("CustomerConnection", "edges"),
    ("AccountConnection", "edges"),
    ("ContactConnection", "edges"),
    ("PatchContactPayload", "results"),
    ("*", "userErrors"),
];

#[derive(Clone, Copy, Debug)]
pub(super) enum Multiplier {
    One,
    /// A paged root list: its `page.pageSize` argument.
    PageSize,
    /// A connection: its `first` or `last` argument.
    FirstOrLast,
    Fixed(usize),
}

#[derive(Debug)]
pub(super) struct FieldInfo {
    /// The field's named type (lists unwrapped), when it is an object or interface type.
    pub(super) ty: Option<Name>,
    pub(super) multiplier: Multiplier,
}

/// What the cost pass knows of the schema: each object type's fields, their types and list
/// sizes. Built once from the SDL.
#[derive(Debug)]
pub struct CostModel {
    pub(super) types: HashMap<Name, HashMap<Name, FieldInfo>>,
    pub(super) query: Name,
    pub(super) mutation: Name,
    pub(super) subscription: Name,
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
                            let takes = |name: &str| {
                                field
                                    .arguments
                                    .iter()
                                    .any(|argument| argument.node.name.node == name)
                            };
                            let name = field.name.node.as_str();
                            let multiplier = if takes("page") {
                                Multiplier::PageSize
                            } else if takes("first") {
                                Multiplier::FirstOrLast
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

    pub(super) fn field(&self, parent: Option<&Name>, name: &str) -> Option<&FieldInfo> {
        self.types.get(parent?)?.get(name)
    }
}

/// Introspection types (`__Type`, `__Field`…): a fragment on one costs no depth, wherever it
/// is spread, so its cost can be memoised once.
pub(super) fn is_introspection(ty: &Name) -> bool {
    ty.starts_with("__")
}

fn unwrap_type(base: &BaseType) -> (&Name, bool) {
    match base {
        BaseType::Named(name) => (name, false),
        BaseType::List(inner) => (unwrap_type(&inner.base).0, true),
    }
}
