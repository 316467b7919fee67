//! What an operation's root fields say about it: whether it writes, whether it needs the
//! database.

use async_graphql::Name;
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};

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
