//! Contact numbers are unique within one customer, no longer across all contacts.
//!
//! A global unique key let any caller learn, from a `CONFLICT`, that another tenant holds a
//! number. Now a number is unique among the contacts one customer owns: its direct contacts
//! and its account-level contacts (which carry their account's customer in `customer_id`, so
//! that moving an account moves its contacts into the new customer's numbers). Shared contacts
//! have no owner (`customer_id` null) and no number space: their numbers are not compared with
//! any other, so linking or converting one can never reveal another tenant's number.
//!
//! PostgreSQL drops the column's unique constraint and adds a partial unique index. SQLite
//! cannot drop a constraint written into `CREATE TABLE`, so the table is rebuilt as SQLite's
//! documentation prescribes (<https://sqlite.org/lang_altertable.html#otheralter>): foreign
//! keys off on one connection, copy into a new table, drop, rename, recreate the indexes,
//! check the foreign keys, all in one transaction.

#![expect(
    clippy::enum_variant_names,
    reason = "the iden enums spell the column names, which repeat their table's"
)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::sqlx::{self, AssertSqlSafe, Row, SqliteConnection};
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseExecutor, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The per-customer unique index. Its name says `contact_number`, which is how the server
/// recognises a violation of it as a taken contact number.
const UNIQUE_INDEX: &str = "ux_contact_number_per_customer";

#[derive(DeriveIden)]
enum Contact {
    Table,
    Id,
    CustomerId,
    AccountId,
    Subtype,
    Role,
    Title,
    FirstName,
    LastName,
    CompanyName,
    Position,
    EmailAddress,
    Website,
    TaxId,
    IsUsedForTax,
    ContactNumber,
    ContactType,
    DealerCode,
    Status,
    BankAccountDetails,
    AccountPasswordHash,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum Customer {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
}

/// Unique `(customer_id, contact_number)` among owned contacts with a number, and a plain
/// index for `saveContact`'s match by number when no owner is given.
fn new_indexes() -> [IndexCreateStatement; 2] {
    let unique = Index::create()
        .name(UNIQUE_INDEX)
        .table(Contact::Table)
        .col(Contact::CustomerId)
        .col(Contact::ContactNumber)
        .unique()
        .and_where(Expr::col(Contact::CustomerId).is_not_null())
        .and_where(Expr::col(Contact::ContactNumber).is_not_null())
        .to_owned();
    let lookup = Index::create()
        .name("ix_contact_contact_number")
        .table(Contact::Table)
        .col(Contact::ContactNumber)
        .to_owned();
    [unique, lookup]
}

/// Drop whatever unique constraint covers `contact_number` alone (PostgreSQL names it
/// `contact_contact_number_key`; looked up rather than assumed).
const DROP_GLOBAL_UNIQUE: &str = r#"
DO $$
DECLARE
    constraint_name text;
BEGIN
    FOR constraint_name IN
        SELECT c.conname
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.conrelid = 'contact'::regclass
          AND c.contype = 'u'
          AND cardinality(c.conkey) = 1
          AND a.attname = 'contact_number'
    LOOP
        EXECUTE format('ALTER TABLE contact DROP CONSTRAINT %I', constraint_name);
    END LOOP;
END
$$;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                // One transaction (PostgreSQL migrations run in one).
                let db = manager.get_connection();
                db.execute_unprepared(DROP_GLOBAL_UNIQUE).await?;
                for index in new_indexes() {
                    manager.create_index(index).await?;
                }
                Ok(())
            }
            DbBackend::Sqlite => rebuild_sqlite(manager, Direction::Up).await,
            other => Err(DbErr::Migration(format!("unsupported backend {other:?}"))),
        }
    }

    /// Back to numbers unique across all contacts: fails, changing nothing, when two
    /// customers' contacts share a number by then.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                for index in new_indexes() {
                    let name = index
                        .get_index_spec()
                        .get_name()
                        .unwrap_or_default()
                        .to_owned();
                    manager
                        .drop_index(Index::drop().name(name).table(Contact::Table).to_owned())
                        .await?;
                }
                manager
                    .get_connection()
                    .execute_unprepared(
                        "ALTER TABLE contact ADD CONSTRAINT contact_contact_number_key \
                         UNIQUE (contact_number)",
                    )
                    .await?;
                Ok(())
            }
            DbBackend::Sqlite => rebuild_sqlite(manager, Direction::Down).await,
            other => Err(DbErr::Migration(format!("unsupported backend {other:?}"))),
        }
    }
}

/// Which way the SQLite rebuild goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Numbers unique per customer.
    Up,
    /// Numbers unique across all contacts, as the first migration made them.
    Down,
}

fn sqlx_error(error: sqlx::Error) -> DbErr {
    DbErr::Migration(format!("rebuilding the contact table: {error}"))
}

/// Rebuild `contact` on one connection of the pool: the foreign key switch is per
/// connection, and it cannot change inside a transaction.
async fn rebuild_sqlite(manager: &SchemaManager<'_>, direction: Direction) -> Result<(), DbErr> {
    let DatabaseExecutor::Connection(db) = manager.get_connection() else {
        return Err(DbErr::Migration(
            "on SQLite this migration runs on the pool, outside a transaction".into(),
        ));
    };
    let mut connection = db
        .get_sqlite_connection_pool()
        .acquire()
        .await
        .map_err(sqlx_error)?;
    let outcome = rebuild_on(&mut connection, direction).await;
    if outcome.is_err() {
        let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *connection).await;
    }
    let restored = sqlx::raw_sql("PRAGMA foreign_keys = ON")
        .execute(&mut *connection)
        .await;
    if outcome.is_err() || restored.is_err() {
        // Never hand a connection without foreign keys (or inside a failed transaction) back
        // to the pool.
        connection.close_on_drop();
    }
    outcome?;
    restored.map_err(sqlx_error)?;
    Ok(())
}

async fn execute(connection: &mut SqliteConnection, sql: String) -> Result<(), DbErr> {
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(connection)
        .await
        .map_err(sqlx_error)?;
    Ok(())
}

async fn rebuild_on(connection: &mut SqliteConnection, direction: Direction) -> Result<(), DbErr> {
    // Up done already when the process stopped after the rebuild committed, before the
    // migration was recorded (and down likewise).
    let per_customer = sqlx::query("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?")
        .bind(UNIQUE_INDEX)
        .fetch_optional(&mut *connection)
        .await
        .map_err(sqlx_error)?
        .is_some();
    if per_customer == (direction == Direction::Up) {
        return Ok(());
    }
    execute(connection, "PRAGMA foreign_keys = OFF".into()).await?;
    execute(connection, "BEGIN IMMEDIATE".into()).await?;
    // The indexes go with the table; keep their definitions to recreate them. A unique key's
    // automatic index has no SQL, and this migration's own indexes are made below.
    let new_names = new_indexes().map(|index| {
        index
            .get_index_spec()
            .get_name()
            .unwrap_or_default()
            .to_owned()
    });
    let indexes: Vec<String> = sqlx::query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'contact' \
         AND sql IS NOT NULL",
    )
    .fetch_all(&mut *connection)
    .await
    .map_err(sqlx_error)?
    .iter()
    .map(|row| {
        Ok((
            row.try_get::<String, _>("name")?,
            row.try_get::<String, _>("sql")?,
        ))
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()
    .map_err(sqlx_error)?
    .into_iter()
    .filter(|(name, _)| !new_names.contains(name))
    .map(|(_, sql)| sql)
    .collect();

    let table = contact_table("contact_rebuild", direction == Direction::Down);
    execute(connection, table.to_string(SqliteQueryBuilder)).await?;
    let columns = COLUMNS.join(", ");
    execute(
        connection,
        format!("INSERT INTO contact_rebuild ({columns}) SELECT {columns} FROM contact"),
    )
    .await?;
    execute(connection, "DROP TABLE contact".into()).await?;
    execute(
        connection,
        "ALTER TABLE contact_rebuild RENAME TO contact".into(),
    )
    .await?;
    for index in indexes {
        execute(connection, index).await?;
    }
    if direction == Direction::Up {
        for index in new_indexes() {
            execute(connection, index.to_string(SqliteQueryBuilder)).await?;
        }
    }
    let broken = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&mut *connection)
        .await
        .map_err(sqlx_error)?;
    if !broken.is_empty() {
        return Err(DbErr::Migration(format!(
            "rebuilding the contact table would break {} foreign key references",
            broken.len()
        )));
    }
    execute(connection, "COMMIT".into()).await
}

/// Every column of `contact`, in the order of the first migration.
const COLUMNS: [&str; 23] = [
    "id",
    "customer_id",
    "account_id",
    "subtype",
    "role",
    "title",
    "first_name",
    "last_name",
    "company_name",
    "position",
    "email_address",
    "website",
    "tax_id",
    "is_used_for_tax",
    "contact_number",
    "contact_type",
    "dealer_code",
    "status",
    "bank_account_details",
    "account_password_hash",
    "created_at",
    "updated_at",
    "version",
];

fn foreign_key(
    column: Contact,
    to: impl IntoIden,
    to_column: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(Alias::new("contact_rebuild"), column)
        .to(to, to_column)
        .on_delete(ForeignKeyAction::Cascade)
        .on_update(ForeignKeyAction::Cascade)
        .to_owned()
}

/// The contact table of the first migration, under `name`, with or without its unique key
/// on `contact_number` (frozen here: a later change of the model must not change this
/// rebuild).
fn contact_table(name: &str, unique_number: bool) -> TableCreateStatement {
    let mut number = string_len_null(Contact::ContactNumber, 64);
    if unique_number {
        number.unique_key();
    }
    Table::create()
        .table(Alias::new(name))
        .col(uuid(Contact::Id).primary_key())
        .col(uuid_null(Contact::CustomerId))
        .col(uuid_null(Contact::AccountId))
        .col(string_len(Contact::Subtype, 16))
        .col(string_len(Contact::Role, 16).default("OTHER"))
        .col(string_len_null(Contact::Title, 32))
        .col(string_len_null(Contact::FirstName, 100))
        .col(string_len_null(Contact::LastName, 100))
        .col(string_len_null(Contact::CompanyName, 200))
        .col(string_len_null(Contact::Position, 100))
        .col(string_len_null(Contact::EmailAddress, 254))
        .col(string_len_null(Contact::Website, 2048))
        .col(string_len_null(Contact::TaxId, 64))
        .col(boolean(Contact::IsUsedForTax).default(false))
        .col(number)
        .col(string_len_null(Contact::ContactType, 64))
        .col(string_len_null(Contact::DealerCode, 64))
        .col(string_len(Contact::Status, 16).default("ACTIVE"))
        .col(string_len_null(Contact::BankAccountDetails, 64))
        .col(string_len_null(Contact::AccountPasswordHash, 255))
        .col(timestamp_with_time_zone(Contact::CreatedAt))
        .col(timestamp_with_time_zone(Contact::UpdatedAt))
        .col(integer(Contact::Version).default(1))
        .foreign_key(&mut foreign_key(
            Contact::CustomerId,
            Customer::Table,
            Customer::Id,
        ))
        .foreign_key(&mut foreign_key(
            Contact::AccountId,
            Account::Table,
            Account::Id,
        ))
        // An account-level contact always carries its account's customer.
        .check(
            Expr::col(Contact::AccountId)
                .is_null()
                .or(Expr::col(Contact::CustomerId).is_not_null()),
        )
        .to_owned()
}
