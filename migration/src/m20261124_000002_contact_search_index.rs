//! A trigram index for contact search on PostgreSQL.
//!
//! `contacts(filter: {search})` looks for every term as a substring of a contact's names and
//! email, ignoring case. Without an index that is a scan of every contact for the page and
//! another for `totalCount`. PostgreSQL's `pg_trgm` GIN index answers `LIKE '%term%'` on one
//! expression, so the searched columns are indexed as one lower-cased text joined by spaces
//! (search terms never hold a space, so a term cannot match across two columns).
//!
//! The expression must stay the one the server searches with (`kith::text_search`); a
//! PostgreSQL test asserts that the planner can use this index for it.
//!
//! `pg_trgm` ships with PostgreSQL and is a trusted extension (any role that may create
//! objects in the database may install it). Where it still cannot be installed, the migration
//! says so in a NOTICE and leaves search to scan: slower, never wrong. SQLite has no such
//! index; its search scans, which is fine at the sizes an embedded database holds.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const CREATE: &str = r#"
DO $$
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pg_trgm cannot be installed (%): contact search will scan', SQLERRM;
    END;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX IF NOT EXISTS ix_contact_search ON contact USING gin (
            (lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' '
                || coalesce(company_name, '') || ' ' || coalesce(email_address, '')))
            gin_trgm_ops
        );
    END IF;
END
$$;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(CREATE).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() == DbBackend::Postgres {
            // The extension stays: other objects of the database may use it.
            db.execute_unprepared("DROP INDEX IF EXISTS ix_contact_search")
                .await?;
        }
        Ok(())
    }
}
