//! Who changed what, for whom: the change history and the live feed of it (API.md, `history`,
//! `changes`, `customerChanged`, `contactChanged`).
//!
//! - `journal`: what every write does before it commits. It takes the state of each object the
//!   write may touch (a contact with its contact points, addresses and links counts as one
//!   aggregate), diffs it against the state at commit, and appends one change record per
//!   changed object in the same transaction, then announces the new records.
//! - `snapshot`: loading those states, a batch of contacts at a time.
//! - `service`: reading records in the reader's scope (an object's history, the root list).
//! - `feed`: the committed records as a stream for subscribers, fed by PostgreSQL's
//!   `LISTEN`/`NOTIFY` (every instance sees every write) or, on SQLite, in-process.
//! - `graphql`, `subscription`: the `Change` types, `changes(filter, page)`, and the two
//!   subscriptions.
//!
//! Values are recorded as stored: sensitive ones whole (masked for each reader when read), an
//! account password only as "changed". Nothing is recorded for a write that fails: the records
//! are rows of the write's own transaction.

use serde::{Deserialize, Serialize};

pub mod feed;
pub mod graphql;
pub mod journal;
pub mod service;
pub mod snapshot;
pub mod subscription;

/// What happened to an object.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[graphql(name = "ChangeAction")]
pub enum Action {
    /// The object was created.
    Created,
    /// Fields of the object changed.
    Updated,
    /// The object was deleted.
    Deleted,
    /// A contact was linked to a customer (shared contacts), or an existing address attached
    /// to a contact.
    Linked,
    /// The reverse of `LINKED`.
    Unlinked,
    /// A direct contact became a shared contact.
    Converted,
}

/// The kind of object a change is about.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[graphql(name = "ChangeObjectType")]
pub enum ObjectType {
    /// A customer.
    Customer,
    /// An account.
    Account,
    /// A contact.
    Contact,
    /// A contact point.
    ContactPoint,
    /// An address.
    Address,
}

macro_rules! stored_names {
    ($($ty:ident { $($variant:ident => $text:literal),+ $(,)? })+) => {
        $(
            impl $ty {
                /// The value as stored.
                pub fn as_db(self) -> &'static str {
                    match self {
                        $($ty::$variant => $text),+
                    }
                }

                /// The stored value back.
                pub fn from_db(text: &str) -> Option<$ty> {
                    match text {
                        $($text => Some($ty::$variant),)+
                        _ => None,
                    }
                }
            }
        )+
    };
}

stored_names! {
    Action {
        Created => "CREATED",
        Updated => "UPDATED",
        Deleted => "DELETED",
        Linked => "LINKED",
        Unlinked => "UNLINKED",
        Converted => "CONVERTED",
    }
    ObjectType {
        Customer => "CUSTOMER",
        Account => "ACCOUNT",
        Contact => "CONTACT",
        ContactPoint => "CONTACT_POINT",
        Address => "ADDRESS",
    }
}

/// One field of a change, as stored (`change_record.changes` is a JSON array of these).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// The field's name in the API (`firstName`, `accountPassword`...).
    pub field: String,
    /// The value before; absent when there was none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    /// The value after; absent when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
}

/// The PostgreSQL channel committed changes are announced on: every write `NOTIFY`s the ids
/// of its records in its transaction, every instance's feed `LISTEN`s.
pub const CHANNEL: &str = "kith_changes";

/// Fields whose values readers see masked unless permitted (`auth::field_guard`).
pub const SENSITIVE_FIELDS: [&str; 2] = ["taxId", "bankAccountDetails"];

/// The field that is recorded only as changed, never with a value (not even its hash).
pub const PASSWORD_FIELD: &str = "accountPassword";

/// What a password change records as its new value.
pub const CHANGED: &str = "changed";
