//! Parsing client input: newtypes that can only hold valid values ("parse, don't validate"),
//! and the collector that gathers every problem of one input as user errors.

mod country;
pub mod limits;
pub mod types;
pub mod user_error;

pub use crate::error::{FieldPath, UserError, UserErrorCode};
pub use types::*;
pub use user_error::{Problem, Validation};
