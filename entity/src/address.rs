//! A typed postal address; contacts reach it through `contact_address`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "address")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub address_type: String,
    pub line1: String,
    pub line2: Option<String>,
    pub line3: Option<String>,
    pub line4: Option<String>,
    pub city: String,
    pub state_code: String,
    pub state_name: Option<String>,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
