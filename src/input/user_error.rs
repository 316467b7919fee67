//! Collecting problems with a mutation's input as user errors ([`UserError`], defined with the
//! application's errors in `crate::error`).

use crate::error::{FieldPath, UserError, UserErrorCode};

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
        UserError::at(path, self.code, self.message)
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
            .any(|error| error.field.as_deref() == Some(path.segments()))
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
