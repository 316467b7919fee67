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

mod budget;
mod model;
mod pass;
mod roots;
mod text;
mod types;

pub use budget::Budget;
pub use model::{CostModel, LIST_SIZES, SINGLE_ITEM_LISTS};
pub use roots::{is_mutation, needs_database};
pub use text::{TEXT_BYTES_PER_FIELD, TOKENS_PER_FIELD, check_text};
pub use types::{Cost, CostError, Limits};

#[cfg(test)]
mod tests;
