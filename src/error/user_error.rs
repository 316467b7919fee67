//! User errors: problems with a mutation's input that the client can fix, reported in its
//! payload's `userErrors`. A payload that has them wrote nothing.
//!
//! They live with [`AppError`](super::AppError), which carries them
//! ([`AppError::UserErrors`](super::AppError::UserErrors)); parsing input into them is
//! `crate::input`'s business.

use async_graphql::{Enum, SimpleObject};

/// Why an input was refused.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum UserErrorCode {
    /// A value that must be given is missing or blank.
    Required,
    /// A value is malformed or not allowed here.
    Invalid,
    /// A value is longer than its maximum.
    TooLong,
    /// The object does not exist or is outside the caller's reach.
    NotFound,
    /// The change clashes with stored data: a unique value taken, a role already held, or
    /// `expectedVersion` no longer current.
    Conflict,
    /// A list is longer than its maximum: a contact holds at most 50 contact points and 20
    /// addresses.
    TooMany,
}

/// A problem with one field of a mutation's input.
#[derive(SimpleObject, Clone, Debug, PartialEq, Eq)]
pub struct UserError {
    /// Path to the field in the mutation's arguments, e.g. `["input", "primaryAddress", "city"]`
    /// or `["patch", "contactPoints", "2", "number"]`; null when no single field is at fault.
    pub field: Option<Vec<String>>,
    /// What is wrong, for people.
    pub message: String,
    /// What is wrong, for programs.
    pub code: UserErrorCode,
}

/// A path into a mutation's arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldPath(Vec<String>);

impl FieldPath {
    /// A path of one argument name (`input`, `patch`, `id`).
    pub fn root(argument: &str) -> FieldPath {
        FieldPath(vec![argument.to_owned()])
    }

    /// The path to a field below this one.
    pub fn field(&self, name: &str) -> FieldPath {
        let mut path = self.0.clone();
        path.push(name.to_owned());
        FieldPath(path)
    }

    /// The path's segments.
    pub fn into_vec(self) -> Vec<String> {
        self.0
    }

    /// The path to a list item below this one.
    pub fn index(&self, index: usize) -> FieldPath {
        self.field(&index.to_string())
    }

    /// The path's segments, borrowed.
    pub fn segments(&self) -> &[String] {
        &self.0
    }
}

impl UserError {
    /// A problem of kind `code` with the value at `path`.
    pub fn at(path: &FieldPath, code: UserErrorCode, message: impl Into<String>) -> UserError {
        UserError {
            field: Some(path.0.clone()),
            message: message.into(),
            code,
        }
    }

    /// The object at `path` does not exist or is out of reach.
    pub fn not_found(path: &FieldPath, what: &str) -> UserError {
        UserError::at(path, UserErrorCode::NotFound, format!("{what} not found"))
    }

    /// The object was found, then deleted by another writer before this one could change it.
    /// No field of the input is at fault.
    pub fn deleted_meanwhile() -> UserError {
        UserError {
            field: None,
            message: "the object was deleted by another request meanwhile".into(),
            code: UserErrorCode::NotFound,
        }
    }

    /// The value at `path` clashes with stored data.
    pub fn conflict(path: &FieldPath, message: impl Into<String>) -> UserError {
        UserError::at(path, UserErrorCode::Conflict, message)
    }

    /// The value at `path` is not allowed here.
    pub fn invalid(path: &FieldPath, message: impl Into<String>) -> UserError {
        UserError::at(path, UserErrorCode::Invalid, message)
    }
}
