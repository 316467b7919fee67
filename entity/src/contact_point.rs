//! A way to reach a contact: a phone in parts, an email, a website...

use sea_orm::entity::prelude::*;

/// A row of the `contact_point` table.
#[derive(Clone, Debug, Default, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_point")]
pub struct Model {
    /// Primary key; Kith issues UUIDv7s, which sort in creation order.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The contact this point belongs to.
    pub contact_id: Uuid,
    /// `ContactPointKind` as text: `PHONE`, `MOBILE`, `FAX`, `DDI`, `EMAIL`, `WEBSITE` or `OTHER`.
    pub kind: String,
    /// The address for non-phone kinds (an email, a URL...).
    pub value: Option<String>,
    /// Phones: international calling code, digits only.
    pub country_code: Option<String>,
    /// Phones: area code, digits only.
    pub area_code: Option<String>,
    /// Phones: subscriber number, digits only.
    pub number: Option<String>,
    /// Whether this is the contact's preferred point of its kind.
    pub is_primary: bool,
    /// When the row was created (UTC, millisecond precision).
    pub created_at: DateTimeUtc,
    /// When the row was last changed (UTC, millisecond precision).
    pub updated_at: DateTimeUtc,
    /// Optimistic-lock counter: starts at 1, incremented by every update.
    pub version: i32,
}

/// Empty on purpose: services write their joins out in `sea_query`, so each query shows its
/// SQL shape where it runs.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

from_columns! {
    Id => id,
    ContactId => contact_id,
    Kind => kind,
    Value => value,
    CountryCode => country_code,
    AreaCode => area_code,
    Number => number,
    IsPrimary => is_primary,
    CreatedAt => created_at,
    UpdatedAt => updated_at,
    Version => version,
}
