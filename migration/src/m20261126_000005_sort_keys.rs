//! Sorting (`orderBy`, API.md "Paging"): a `sort_name` column on customers, accounts and
//! contacts, and one index per sortable key, each ending in `id` (the tie-breaker), so that a
//! sorted page is an index scan and a keyset page starts where its cursor points.
//!
//! `sort_name` is the name as sorted: Unicode lowercase of the customer's or account's name,
//! of the contact's display name. The application computes it on every write rather than the
//! database: SQLite's `lower()` folds ASCII only and PostgreSQL's follows the server's locale,
//! so neither could sort identically on both backends, nor match the order Kith gives nested
//! lists it sorts in memory. On PostgreSQL the column is `COLLATE "C"` (code-point order,
//! which is SQLite's `BINARY` on UTF-8), and so is the number expression.
//!
//! Rows that exist before this migration get their `sort_name` here, computed by a frozen
//! copy of the rule as it stands today.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, Statement, TransactionTrait, Value,
};
use uuid::Uuid;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each sortable table, with its number column.
const TABLES: [(&str, &str); 3] = [
    ("customer", "customer_number"),
    ("account", "account_number"),
    ("contact", "contact_number"),
];

/// Rows read, and updated in one statement, at a time while filling `sort_name`.
const CHUNK: usize = 500;

fn collate_c(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => " COLLATE \"C\"",
        _ => "",
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        if !matches!(backend, DbBackend::Postgres | DbBackend::Sqlite) {
            return Err(DbErr::Migration(format!("unsupported backend {backend:?}")));
        }
        let db = manager.get_connection();
        let collate = collate_c(backend);
        for (table, number) in TABLES {
            db.execute_unprepared(&format!(
                "ALTER TABLE {table} ADD COLUMN sort_name text{collate} NOT NULL DEFAULT ''"
            ))
            .await?;
            fill(db, backend, table).await?;
            for (suffix, key) in [
                ("name", "sort_name".to_owned()),
                ("number", format!("(COALESCE({number}, ''){collate})")),
                ("created", "created_at".to_owned()),
                ("updated", "updated_at".to_owned()),
            ] {
                db.execute_unprepared(&format!(
                    "CREATE INDEX ix_{table}_sort_{suffix} ON {table} ({key}, id)"
                ))
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, _) in TABLES {
            for suffix in ["name", "number", "created", "updated"] {
                db.execute_unprepared(&format!("DROP INDEX ix_{table}_sort_{suffix}"))
                    .await?;
            }
            db.execute_unprepared(&format!("ALTER TABLE {table} DROP COLUMN sort_name"))
                .await?;
        }
        Ok(())
    }
}

/// Compute `sort_name` for every row of `table`, reading and updating [`CHUNK`] rows at a time
/// in id order, so that memory stays flat however large the table.
async fn fill(
    db: &SchemaManagerConnection<'_>,
    backend: DbBackend,
    table: &str,
) -> Result<(), DbErr> {
    let columns = match table {
        "contact" => "id, subtype, title, first_name, last_name, company_name",
        _ => "id, name",
    };
    let txn = db.begin().await?;
    let mut last: Option<Uuid> = None;
    loop {
        let placeholder = match backend {
            DbBackend::Postgres => "$1",
            _ => "?",
        };
        let (after, values) = match last {
            Some(id) => (format!("WHERE id > {placeholder}"), vec![Value::from(id)]),
            None => (String::new(), Vec::new()),
        };
        let rows = txn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                format!("SELECT {columns} FROM {table} {after} ORDER BY id LIMIT {CHUNK}"),
                values,
            ))
            .await?;
        let mut keys = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: Uuid = row.try_get("", "id")?;
            let name = if table == "contact" {
                display_name(
                    &row.try_get::<String>("", "subtype")?,
                    [
                        row.try_get::<Option<String>>("", "title")?,
                        row.try_get::<Option<String>>("", "first_name")?,
                        row.try_get::<Option<String>>("", "last_name")?,
                    ],
                    row.try_get::<Option<String>>("", "company_name")?,
                )
            } else {
                row.try_get::<String>("", "name")?
            };
            keys.push((id, name.to_lowercase()));
        }
        let Some(&(end, _)) = keys.last() else {
            break;
        };
        last = Some(end);
        update(&txn, backend, table, &keys).await?;
    }
    txn.commit().await
}

/// Store each `(id, sort_name)` of `keys`.
async fn update(
    txn: &DatabaseTransaction,
    backend: DbBackend,
    table: &str,
    keys: &[(Uuid, String)],
) -> Result<(), DbErr> {
    match backend {
        // One statement for the chunk: `UPDATE … FROM (VALUES …)`.
        DbBackend::Postgres => {
            let mut values = Vec::with_capacity(keys.len() * 2);
            let mut tuples = Vec::with_capacity(keys.len());
            for (index, (id, key)) in keys.iter().enumerate() {
                tuples.push(format!("(${}::uuid, ${})", 2 * index + 1, 2 * index + 2));
                values.push(Value::from(*id));
                values.push(Value::from(key.clone()));
            }
            let statement = format!(
                "UPDATE {table} AS t SET sort_name = v.key FROM (VALUES {}) AS v(id, key) \
                 WHERE t.id = v.id",
                tuples.join(", ")
            );
            txn.execute_raw(Statement::from_sql_and_values(backend, statement, values))
                .await?;
        }
        // SQLite: statements are cheap in one transaction; one per row.
        _ => {
            for (id, key) in keys {
                txn.execute_raw(Statement::from_sql_and_values(
                    backend,
                    format!("UPDATE {table} SET sort_name = ? WHERE id = ?"),
                    [Value::from(key.clone()), Value::from(*id)],
                ))
                .await?;
            }
        }
    }
    Ok(())
}

/// A frozen copy of the contact's display name as of this migration: "Title First Last" for a
/// person, the company name for a company.
fn display_name(subtype: &str, person: [Option<String>; 3], company: Option<String>) -> String {
    let person: Vec<String> = person
        .into_iter()
        .flatten()
        .filter(|part| !part.is_empty())
        .collect();
    match (subtype, company) {
        ("COMPANY", Some(company)) => company,
        _ if !person.is_empty() => person.join(" "),
        (_, Some(company)) => company,
        _ => String::new(),
    }
}
