//! The compiled read path: a query over customers, accounts, contacts and their contact
//! points and addresses, written as JSON straight from the rows.
//!
//! async-graphql builds every field of a response through a boxed future, a context, a
//! value tree and a serialiser: 2 µs or so per scalar, which is most of the CPU of a nested
//! page (BENCHMARKS.md, issue 11). For the operations that make up read traffic this module
//! does the same work once per *selection* instead of once per value: it compiles the
//! validated document into a plan per object type (fields collected as the spec's
//! CollectFields does, response keys rendered once), reads each relation of the plan with
//! one statement for all its parents (the same scoped service functions and row budget the
//! DataLoaders use, so the same statements), and writes each object's fields in selection
//! order straight into the response buffer.
//!
//! Anything outside that subset — mutations, introspection, fields it does not know,
//! directives other than `@skip`/`@include`, interfaces — and anything that fails (bad
//! arguments, a database error, the row budget) is not handled here: [`execute`] returns
//! `None` and async-graphql executes the operation as it always did, errors and all. Both
//! paths return the same bytes for the same data; `tests/api/compiled_reads.rs` compares
//! them field by field over every field this module writes.

mod connection;
mod context;
mod json;
mod objects;
mod root;
mod select;
mod sql;

pub use context::{Fallback, ReadContext};

use std::collections::HashMap;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{Name, Variables};
use async_graphql_value::ConstValue;

/// An operation compiled for this path, ready to run.
pub struct Compiled {
    plan: root::RootPlan,
}

/// Compile the operation `operation_name` of `document` (already costed, not yet
/// validated: compiling reads nothing and fails on anything it does not know); `None` when
/// async-graphql must execute it instead.
pub fn compile(
    cx: &ReadContext<'_>,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> Option<Compiled> {
    compile_plan(cx, document, operation_name, variables)
        .ok()
        .map(|plan| Compiled { plan })
}

/// How a compiled operation ended.
pub enum Outcome {
    /// The response opened with its `data`: `{"data":…`, for the caller to add its
    /// `extensions` and the closing brace to, in place (a nested page is hundreds of KB).
    Written(Vec<u8>),
    /// Async-graphql must run it (and reports whatever went wrong as the schema defines it).
    Fallback,
    /// The database could not serve `field`, the response key of a root field.
    Unavailable {
        /// Why, in words fit for a client.
        error: crate::error::AppError,
        /// The root field that failed.
        field: String,
    },
}

impl Compiled {
    /// Run the operation (validated by now).
    pub async fn run(mut self, cx: &ReadContext<'_>) -> Outcome {
        let loaded = cx.rows.loaded();
        let mut out = json::Out::new();
        out.raw(b"{\"data\":");
        match root::run(&mut self.plan, cx, &mut out).await {
            Ok(()) => Outcome::Written(out.into_bytes()),
            Err((Fallback::Unavailable(error), field)) => Outcome::Unavailable { error, field },
            Err((Fallback::Unsupported, _)) => {
                cx.rows.rewind(loaded);
                Outcome::Fallback
            }
        }
    }
}

fn compile_plan(
    cx: &ReadContext<'_>,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    given: &Variables,
) -> Result<root::RootPlan, Fallback> {
    let operation = match (&document.operations, operation_name) {
        // async-graphql refuses a name for an anonymous operation: let it.
        (DocumentOperations::Single(operation), None) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => {
            operations.get(name).ok_or(Fallback::Unsupported)?
        }
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next().ok_or(Fallback::Unsupported)?
        }
        _ => return Err(Fallback::Unsupported),
    };
    let operation = &operation.node;
    if operation.ty != OperationType::Query || !operation.directives.is_empty() {
        return Err(Fallback::Unsupported);
    }
    let mut variables: HashMap<Name, ConstValue> = HashMap::new();
    for definition in &operation.variable_definitions {
        let definition = &definition.node;
        let name = &definition.name.node;
        let value = match given.get(name) {
            Some(value) => value.clone(),
            None => match &definition.default_value {
                Some(default) => default.node.clone(),
                None => continue,
            },
        };
        variables.insert(name.clone(), value);
    }
    let document = select::Document {
        fragments: &document.fragments,
        variables: &variables,
        object_types: objects::OBJECT_TYPES,
    };
    root::compile(&document, &operation.selection_set.node, cx)
}
