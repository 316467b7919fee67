//! A contact: direct (customer set, account null), account-level (both set) or shared (neither).

use sea_orm::entity::prelude::*;

/// A row of the `contact` table.
#[derive(Clone, Debug, Default, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "contact")]
pub struct Model {
    /// Primary key; Kith issues UUIDv7s, which sort in creation order.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Owning customer: set for direct and account-level contacts (the account's customer, so
    /// scoping needs no join), null for shared ones.
    pub customer_id: Option<Uuid>,
    /// Owning account for account-level contacts; null otherwise.
    pub account_id: Option<Uuid>,
    /// `ContactSubtype` as text: `PERSON` or `COMPANY`.
    pub subtype: String,
    /// `ContactRole` as text: `PRIMARY`, `SECONDARY` or `OTHER`.
    pub role: String,
    /// Form of address (Mr, Ms, Dr...).
    pub title: Option<String>,
    /// Given name of a person.
    pub first_name: Option<String>,
    /// Family name of a person.
    pub last_name: Option<String>,
    /// Name of a company.
    pub company_name: Option<String>,
    /// Job title.
    pub position: Option<String>,
    /// Main email address.
    pub email_address: Option<String>,
    /// Web site URL.
    pub website: Option<String>,
    /// Tax identifier, stored whole; masked when read through the API.
    pub tax_id: Option<String>,
    /// Whether this contact's details are used for tax reporting.
    pub is_used_for_tax: bool,
    /// External reference number; unique among one customer's contacts when set.
    pub contact_number: Option<String>,
    /// Free classification (e.g. BILLING, TECHNICAL).
    pub contact_type: Option<String>,
    /// Code of the dealer who manages this contact.
    pub dealer_code: Option<String>,
    /// `ContactStatus` as text: `ACTIVE` or `ARCHIVED`.
    pub status: String,
    /// Bank account details, stored whole; masked when read through the API.
    pub bank_account_details: Option<String>,
    /// Argon2 hash (PHC string) of the write-only account password.
    pub account_password_hash: Option<String>,
    /// The name as sorted (`orderBy: NAME`): Unicode lowercase of the display name, kept by
    /// every write (`kith::ordering::sort_name`).
    pub sort_name: String,
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
    CustomerId => customer_id,
    AccountId => account_id,
    Subtype => subtype,
    Role => role,
    Title => title,
    FirstName => first_name,
    LastName => last_name,
    CompanyName => company_name,
    Position => position,
    EmailAddress => email_address,
    Website => website,
    TaxId => tax_id,
    IsUsedForTax => is_used_for_tax,
    ContactNumber => contact_number,
    ContactType => contact_type,
    DealerCode => dealer_code,
    Status => status,
    BankAccountDetails => bank_account_details,
    AccountPasswordHash => account_password_hash,
    SortName => sort_name,
    CreatedAt => created_at,
    UpdatedAt => updated_at,
    Version => version,
}
