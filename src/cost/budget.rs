//! A running total over one request: a batch shares one, so the limits apply to its sum.

use std::collections::HashMap;

use async_graphql::Variables;
use async_graphql::parser::types::{ExecutableDocument, OperationType};

use super::model::CostModel;
use super::pass::Pass;
use super::types::{Cost, CostError, Limits};

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
