//! `address.state_code` holds region names as well as codes: 100 characters, where the first
//! migration allowed 8 (`CA`, `NSW`), which refused `New South Wales` or `Baden-Württemberg`.
//!
//! PostgreSQL widens the `varchar(8)` in place (no rewrite: a wider varchar keeps the stored
//! values as they are). SQLite needs nothing: its `varchar(8)` is only a name for TEXT
//! affinity, and it enforces no length (<https://sqlite.org/datatype3.html>).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The column's length after this migration (characters, as PostgreSQL counts varchar).
const WIDE: u32 = 100;
/// Its length before.
const NARROW: u32 = 8;

fn alter(length: u32) -> String {
    format!("ALTER TABLE address ALTER COLUMN state_code TYPE varchar({length})")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                manager
                    .get_connection()
                    .execute_unprepared(&alter(WIDE))
                    .await?;
                Ok(())
            }
            DbBackend::Sqlite => Ok(()),
            other => Err(DbErr::Migration(format!("unsupported backend {other:?}"))),
        }
    }

    /// Back to 8 characters: fails, changing nothing, while a longer region is stored.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                manager
                    .get_connection()
                    .execute_unprepared(&alter(NARROW))
                    .await?;
                Ok(())
            }
            DbBackend::Sqlite => Ok(()),
            other => Err(DbErr::Migration(format!("unsupported backend {other:?}"))),
        }
    }
}
