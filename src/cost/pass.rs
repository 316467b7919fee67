//! The one pass over a document: each fragment costed once, every sum saturating, stopping at
//! the first limit crossed.

use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Positioned, Variables};
use async_graphql_value::{ConstValue, Value as AstValue};

use super::model::{CostModel, Multiplier, is_introspection};
use super::types::{Cost, CostError, Limits, VALIDATION_WORK_PER_FIELD};

/// Page size assumed when a paged list names none (API.md: `pageSize: Int = 20`).
const DEFAULT_PAGE_SIZE: usize = 20;

/// Introspection entry points: neither they nor anything below them count toward depth.
const INTROSPECTION_FIELDS: [&str; 2] = ["__schema", "__type"];

pub(super) struct Pass<'a> {
    pub(super) model: &'a CostModel,
    pub(super) document: &'a ExecutableDocument,
    pub(super) variables: &'a Variables,
    pub(super) limits: Limits,
    /// Charged by earlier documents of the same batch.
    pub(super) fields_before: usize,
    pub(super) complexity_before: usize,
    /// `None` while a fragment is being costed: meeting it again is a cycle.
    pub(super) fragments: HashMap<&'a str, Option<Cost>>,
    /// What validation will walk: for every selection set of the document as written (each
    /// fragment definition once), the fields it expands to. async-graphql's overlapping-fields
    /// rule expands the spreads of every selection set, so a thousand small fragments that each
    /// spread one large one cost a thousand times the large one.
    pub(super) validation_work: usize,
}

impl<'a> Pass<'a> {
    pub(super) fn check(&self, cost: Cost) -> Result<(), CostError> {
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

    pub(super) fn fragment(&mut self, name: &'a str) -> Result<Cost, CostError> {
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

    pub(super) fn selection_set(
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
                        Some(Multiplier::FirstOrLast) => self.connection_size(
                            field.get_argument("first"),
                            field.get_argument("last"),
                        ),
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

    /// A connection's `first` or `last` (a literal or a variable; the larger when both are
    /// given, though the field refuses that), as [`Self::page_size`] reads `pageSize`.
    fn connection_size(
        &self,
        first: Option<&Positioned<AstValue>>,
        last: Option<&Positioned<AstValue>>,
    ) -> usize {
        let read = |argument: Option<&Positioned<AstValue>>| {
            argument.and_then(|argument| match &argument.node {
                AstValue::Variable(name) => match self.variable(name)? {
                    ConstValue::Number(number) => number.as_i64(),
                    _ => None,
                },
                AstValue::Number(number) => number.as_i64(),
                _ => None,
            })
        };
        match read(first).max(read(last)) {
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
