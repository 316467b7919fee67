//! A contact: direct (customer set, account null), account-level (both set) or shared (neither).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "contact")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub subtype: String,
    pub role: String,
    pub title: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_name: Option<String>,
    pub position: Option<String>,
    pub email_address: Option<String>,
    pub website: Option<String>,
    pub tax_id: Option<String>,
    pub is_used_for_tax: bool,
    pub contact_number: Option<String>,
    pub contact_type: Option<String>,
    pub dealer_code: Option<String>,
    pub status: String,
    pub bank_account_details: Option<String>,
    pub account_password_hash: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
