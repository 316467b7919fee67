//! User errors: problems with a mutation's input that the client can fix. A payload that has
//! them wrote nothing.

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

/// A problem with a single value, before it is placed at a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// What is wrong, for programs.
    pub code: UserErrorCode,
    /// What is wrong, for people.
    pub message: String,
}

impl Problem {
    /// A value is malformed.
    pub fn invalid(message: impl Into<String>) -> Problem {
        Problem {
            code: UserErrorCode::Invalid,
            message: message.into(),
        }
    }

    /// A value is missing.
    pub fn required(message: impl Into<String>) -> Problem {
        Problem {
            code: UserErrorCode::Required,
            message: message.into(),
        }
    }

    /// A value is too long.
    pub fn too_long(max: usize) -> Problem {
        Problem {
            code: UserErrorCode::TooLong,
            message: format!("must be at most {max} characters"),
        }
    }

    /// Place the problem at `path`.
    pub fn at(self, path: &FieldPath) -> UserError {
        UserError {
            field: Some(path.0.clone()),
            message: self.message,
            code: self.code,
        }
    }
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
}

impl UserError {
    /// The object at `path` does not exist or is out of reach.
    pub fn not_found(path: &FieldPath, what: &str) -> UserError {
        UserError {
            field: Some(path.0.clone()),
            message: format!("{what} not found"),
            code: UserErrorCode::NotFound,
        }
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
        UserError {
            field: Some(path.0.clone()),
            message: message.into(),
            code: UserErrorCode::Conflict,
        }
    }

    /// The value at `path` is not allowed here.
    pub fn invalid(path: &FieldPath, message: impl Into<String>) -> UserError {
        Problem::invalid(message).at(path)
    }
}

/// Collects every problem of one input, so the client hears of all of them at once.
#[derive(Debug, Default)]
pub struct Validation {
    errors: Vec<UserError>,
}

impl Validation {
    /// Keep the parsed value, or record its problem at `path`.
    pub fn check<T>(&mut self, path: &FieldPath, parsed: Result<T, Problem>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(problem) => {
                self.errors.push(problem.at(path));
                None
            }
        }
    }

    /// Parse an optional value: `None` stays `None` without complaint.
    pub fn optional<R, T>(&mut self, path: &FieldPath, raw: Option<R>) -> Option<T>
    where
        T: TryFrom<R, Error = Problem>,
    {
        raw.and_then(|raw| self.check(path, T::try_from(raw)))
    }

    /// Parse a value that must be present.
    pub fn required<R, T>(&mut self, path: &FieldPath, raw: Option<R>) -> Option<T>
    where
        T: TryFrom<R, Error = Problem>,
    {
        match raw {
            Some(raw) => self.check(path, T::try_from(raw)),
            None => {
                self.errors.push(Problem::required("is required").at(path));
                None
            }
        }
    }

    /// Parse a field of a partial update: absent stays unchanged (`None`), an explicit null
    /// clears it (`Some(None)`), a value is parsed (`Some(Some(value))`).
    pub fn nullable<R, T>(
        &mut self,
        path: &FieldPath,
        raw: async_graphql::MaybeUndefined<R>,
    ) -> Option<Option<T>>
    where
        T: TryFrom<R, Error = Problem>,
    {
        match raw {
            async_graphql::MaybeUndefined::Undefined => None,
            async_graphql::MaybeUndefined::Null => Some(None),
            async_graphql::MaybeUndefined::Value(raw) => {
                self.check(path, T::try_from(raw)).map(Some)
            }
        }
    }

    /// Parse a field of a partial update that may change but never be cleared.
    pub fn non_nullable<R, T>(
        &mut self,
        path: &FieldPath,
        raw: async_graphql::MaybeUndefined<R>,
    ) -> Option<T>
    where
        T: TryFrom<R, Error = Problem>,
    {
        match raw {
            async_graphql::MaybeUndefined::Undefined => None,
            async_graphql::MaybeUndefined::Null => {
                self.errors
                    .push(Problem::required("cannot be null").at(path));
                None
            }
            async_graphql::MaybeUndefined::Value(raw) => self.check(path, T::try_from(raw)),
        }
    }

    /// Record a problem found some other way.
    pub fn push(&mut self, error: UserError) {
        self.errors.push(error);
    }

    /// Whether a problem was already recorded at `path` (so "is required" is not piled on top
    /// of "must not be blank").
    pub fn has_error_at(&self, path: &FieldPath) -> bool {
        self.errors
            .iter()
            .any(|error| error.field.as_deref() == Some(path.0.as_slice()))
    }

    /// Whether nothing has been recorded.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    /// Ok when nothing was recorded, else every recorded problem as one error.
    pub fn finish(self) -> crate::error::Result<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(crate::error::AppError::UserErrors(self.errors))
        }
    }

    /// Merge another collector's problems into this one.
    pub fn absorb(&mut self, other: Validation) {
        self.errors.extend(other.errors);
    }
}
