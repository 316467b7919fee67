//! Account passwords: hashed with Argon2id on their way into the stored row, never kept or
//! returned in clear.

use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use entity::contact;
use sea_orm::ActiveValue::Set;

use crate::contact::input::ContactDraft;
use crate::error::{AppError, Result};
use crate::input::Password;

/// Hash a password with Argon2id (on a blocking thread: it is deliberately slow).
async fn hash_password(password: Password) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2::Argon2::default()
            .hash_password(password.0.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| AppError::internal(format!("password hashing failed: {error}")))
    })
    .await
    .map_err(|error| AppError::internal_from("password hashing task failed", error))?
}

/// The columns of `draft` to store, with a new password hashed into
/// `account_password_hash` (or removed from it).
pub(super) async fn columns_of(draft: ContactDraft) -> Result<contact::ActiveModel> {
    let (mut columns, password) = draft.into_parts();
    match password {
        Some(Some(password)) => {
            columns.account_password_hash = Set(Some(hash_password(password).await?));
        }
        Some(None) => columns.account_password_hash = Set(None),
        None => {}
    }
    Ok(columns)
}
