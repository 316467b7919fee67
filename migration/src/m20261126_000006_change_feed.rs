//! The change history (API.md, `history` and `changes`): one row per changed object, written in
//! the transaction of the mutation that changed it, and the customers each change concerns.
//!
//! `change_record.id` is a bigint issued in insertion order: the key subscribers replay by
//! after a lost connection. Nothing here references the changed rows: history outlives them.
//! `change_customer` lists the customers a change concerns (a shared contact's change concerns
//! every customer linked to it), so that scoped reads filter and page in SQL; `change_contact`
//! the contacts whose history includes it (an address may be attached to several).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ChangeRecord {
    Table,
    Id,
    At,
    Action,
    ObjectType,
    ObjectId,
    AccountId,
    TrackingId,
    ActorSubject,
    ActorRoles,
    ActorCustomers,
    Changes,
}

#[derive(DeriveIden, Clone, Copy)]
enum ChangeCustomer {
    Table,
    ChangeId,
    CustomerId,
}

#[derive(DeriveIden, Clone, Copy)]
enum ChangeContact {
    Table,
    ChangeId,
    ContactId,
}

/// A table of `(change_id, other)` pairs, its key both, with an index that finds a change by
/// the other column in change order.
fn pairs<T: Iden + Copy + 'static>(
    table: T,
    change_id: T,
    other: T,
    index_name: &str,
) -> (TableCreateStatement, IndexCreateStatement) {
    let create = Table::create()
        .table(table)
        .col(big_integer(change_id))
        .col(uuid(other))
        .primary_key(Index::create().col(change_id).col(other))
        .foreign_key(
            ForeignKey::create()
                .from(table, change_id)
                .to(ChangeRecord::Table, ChangeRecord::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned();
    let index = Index::create()
        .name(index_name)
        .table(table)
        .col(other)
        .col(change_id)
        .to_owned();
    (create, index)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ChangeRecord::Table)
                    .col(big_integer(ChangeRecord::Id).auto_increment().primary_key())
                    .col(timestamp_with_time_zone(ChangeRecord::At))
                    .col(string(ChangeRecord::Action))
                    .col(string(ChangeRecord::ObjectType))
                    .col(uuid(ChangeRecord::ObjectId))
                    .col(uuid_null(ChangeRecord::AccountId))
                    .col(string_null(ChangeRecord::TrackingId))
                    .col(string_null(ChangeRecord::ActorSubject))
                    .col(text(ChangeRecord::ActorRoles))
                    .col(text_null(ChangeRecord::ActorCustomers))
                    .col(text(ChangeRecord::Changes))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("ix_change_record_object", ChangeRecord::ObjectId),
            ("ix_change_record_at", ChangeRecord::At),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(ChangeRecord::Table)
                        .col(column)
                        .col(ChangeRecord::Id)
                        .to_owned(),
                )
                .await?;
        }
        for (create, index) in [
            pairs(
                ChangeCustomer::Table,
                ChangeCustomer::ChangeId,
                ChangeCustomer::CustomerId,
                "ix_change_customer_by_customer",
            ),
            pairs(
                ChangeContact::Table,
                ChangeContact::ChangeId,
                ChangeContact::ContactId,
                "ix_change_contact_by_contact",
            ),
        ] {
            manager.create_table(create).await?;
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ChangeContact::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ChangeCustomer::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ChangeRecord::Table).to_owned())
            .await
    }
}
