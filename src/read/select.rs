//! The fields of a selection set as the GraphQL spec's CollectFields sees them: fragments
//! (spread and inline) flattened in place, `@skip` and `@include` applied, and fields with
//! one response key merged, in the order of their first selection.

use std::collections::HashMap;

use async_graphql::parser::types::{Directive, Field, FragmentDefinition, Selection, SelectionSet};
use async_graphql::{Name, Positioned};
use async_graphql_value::{ConstValue, Value};

use super::context::Fallback as Unsupported;

/// The operation's variables: those given, and the defaults of those not given.
pub type Variables = HashMap<Name, ConstValue>;

/// One response key of a selection set: the field it names (arguments taken from its first
/// selection; validation guarantees the others agree) and the sub-selections of every
/// selection of that key, merged.
pub struct Collected<'a> {
    /// The alias, or the field's name.
    pub key: &'a str,
    /// The field's name.
    pub name: &'a str,
    /// Its arguments as written.
    pub field: &'a Field,
    /// Every sub-selection set selected under this key.
    pub selections: Vec<&'a SelectionSet>,
}

/// What collecting needs besides the selection sets.
pub struct Document<'a> {
    /// The document's fragments by name.
    pub fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    /// The operation's variables.
    pub variables: &'a Variables,
    /// Every object type the compiled path writes: a type condition naming another type of
    /// this list does not apply; one naming any other type (an interface, say) is left to
    /// async-graphql.
    pub object_types: &'a [&'a str],
}

impl<'a> Document<'a> {
    /// The fields `sets` select on an object of type `type_name`.
    pub fn collect(
        &self,
        type_name: &str,
        sets: &[&'a SelectionSet],
    ) -> Result<Vec<Collected<'a>>, Unsupported> {
        let mut fields: Vec<Collected<'a>> = Vec::new();
        let mut visited: Vec<&str> = Vec::new();
        for set in sets {
            self.collect_into(type_name, set, &mut fields, &mut visited)?;
        }
        Ok(fields)
    }

    fn collect_into(
        &self,
        type_name: &str,
        set: &'a SelectionSet,
        fields: &mut Vec<Collected<'a>>,
        visited: &mut Vec<&'a str>,
    ) -> Result<(), Unsupported> {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    if !self.included(&field.directives)? {
                        continue;
                    }
                    let key = field.response_key().node.as_str();
                    let sub = &field.selection_set.node;
                    match fields.iter_mut().find(|collected| collected.key == key) {
                        Some(collected) => collected.selections.push(sub),
                        None => fields.push(Collected {
                            key,
                            name: field.name.node.as_str(),
                            field,
                            selections: vec![sub],
                        }),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let spread = &spread.node;
                    let name = spread.fragment_name.node.as_str();
                    if visited.contains(&name) || !self.included(&spread.directives)? {
                        continue;
                    }
                    visited.push(name);
                    let fragment = &self
                        .fragments
                        .get(name)
                        .ok_or(Unsupported::Unsupported)?
                        .node;
                    if self.applies(
                        type_name,
                        Some(fragment.type_condition.node.on.node.as_str()),
                    )? {
                        self.collect_into(
                            type_name,
                            &fragment.selection_set.node,
                            fields,
                            visited,
                        )?;
                    }
                }
                Selection::InlineFragment(inline) => {
                    let inline = &inline.node;
                    if !self.included(&inline.directives)? {
                        continue;
                    }
                    let condition = inline
                        .type_condition
                        .as_ref()
                        .map(|condition| condition.node.on.node.as_str());
                    if self.applies(type_name, condition)? {
                        self.collect_into(type_name, &inline.selection_set.node, fields, visited)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether a fragment with `condition` applies to an object of `type_name`.
    fn applies(&self, type_name: &str, condition: Option<&str>) -> Result<bool, Unsupported> {
        match condition {
            None => Ok(true),
            Some(condition) if condition == type_name => Ok(true),
            Some(condition) if self.object_types.contains(&condition) => Ok(false),
            Some(_) => Err(Unsupported::Unsupported),
        }
    }

    /// `@skip(if:)` and `@include(if:)`; any other directive is left to async-graphql.
    fn included(&self, directives: &[Positioned<Directive>]) -> Result<bool, Unsupported> {
        let mut included = true;
        for directive in directives {
            let directive = &directive.node;
            let condition = directive
                .get_argument("if")
                .ok_or(Unsupported::Unsupported)?;
            let condition = match &condition.node {
                Value::Boolean(condition) => *condition,
                Value::Variable(name) => match self.variables.get(name) {
                    Some(ConstValue::Boolean(condition)) => *condition,
                    _ => return Err(Unsupported::Unsupported),
                },
                _ => return Err(Unsupported::Unsupported),
            };
            match directive.name.node.as_str() {
                "skip" => included &= !condition,
                "include" => included &= condition,
                _ => return Err(Unsupported::Unsupported),
            }
        }
        Ok(included)
    }
}

/// Argument `name` of `field`, coerced by its GraphQL input type. A variable that was
/// neither given nor defaulted is an absent argument.
pub fn argument<T: async_graphql::InputType>(
    doc: &Document<'_>,
    field: &Field,
    name: &str,
) -> Result<T, Unsupported> {
    let value = match field.get_argument(name).map(|value| &value.node) {
        None => None,
        Some(Value::Variable(variable)) => doc.variables.get(variable).cloned(),
        Some(value) => Some(value.clone().into_const_with(|variable| {
            doc.variables
                .get(&variable)
                .cloned()
                .ok_or(Unsupported::Unsupported)
        })?),
    };
    T::parse(value).map_err(|_| Unsupported::Unsupported)
}
