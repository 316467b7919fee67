//! The change history (API.md, `history` and `changes`): one row per changed object, written in
//! the transaction of the mutation that changed it, and the customers each change concerns.
//!
//! `change_record.id` is a bigint issued in insertion order: the key subscribers replay by
//! after a lost connection. Nothing here references the changed rows: history outlives them.
//! `change_party` lists who a change concerns, so that scoped reads filter and page in SQL:
//! its customers (`kind` CUSTOMER: the object's owner, or every customer a shared contact is
//! linked to) and the contacts whose history includes it (`kind` CONTACT: an address may be
//! attached to several). One table, so a write inserts them in one statement.
//!
//! On PostgreSQL a statement-level trigger announces every insert into `change_record` with
//! `NOTIFY kith_changes` (the new ids, or `first-last` when the list would not fit in a
//! payload): PostgreSQL delivers it when, and only if, the inserting transaction commits, and
//! it costs the writer no round trip of its own.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// The trigger that announces new change records (PostgreSQL 11 or later: transition tables
/// and `EXECUTE FUNCTION`). The channel's name is `kith::history::CHANNEL`'s.
const ANNOUNCE: &str = r#"
CREATE FUNCTION kith_announce_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids text;
    first_id bigint;
    last_id bigint;
BEGIN
    SELECT string_agg(id::text, ',' ORDER BY id), min(id), max(id)
        INTO ids, first_id, last_id FROM inserted;
    IF ids IS NULL THEN
        RETURN NULL;
    END IF;
    -- A NOTIFY payload holds at most 8000 bytes.
    IF length(ids) > 7000 THEN
        ids := first_id || '-' || last_id;
    END IF;
    PERFORM pg_notify('kith_changes', ids);
    RETURN NULL;
END
$$;
CREATE TRIGGER change_record_announce AFTER INSERT ON change_record
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION kith_announce_changes();
"#;

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

#[derive(DeriveIden)]
enum ChangeParty {
    Table,
    ChangeId,
    PartyId,
    Kind,
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
        manager
            .create_table(
                Table::create()
                    .table(ChangeParty::Table)
                    .col(big_integer(ChangeParty::ChangeId))
                    .col(uuid(ChangeParty::PartyId))
                    .col(string(ChangeParty::Kind))
                    .primary_key(
                        Index::create()
                            .col(ChangeParty::ChangeId)
                            .col(ChangeParty::Kind)
                            .col(ChangeParty::PartyId),
                    )
                    // No foreign key to `change_record`: the journal writes both in one
                    // transaction and nothing deletes history, while the check would cost every
                    // write a lookup, whose plan, cached on a connection while the table was
                    // empty, scans it whole (measured: BENCHMARKS.md, issue 14).
                    .to_owned(),
            )
            .await?;
        // A contact's history: its changes in change order.
        manager
            .create_index(
                Index::create()
                    .name("ix_change_party_by_party")
                    .table(ChangeParty::Table)
                    .col(ChangeParty::PartyId)
                    .col(ChangeParty::ChangeId)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        if db.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(ANNOUNCE).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(
                "DROP TRIGGER IF EXISTS change_record_announce ON change_record; \
                 DROP FUNCTION IF EXISTS kith_announce_changes()",
            )
            .await?;
        }
        manager
            .drop_table(Table::drop().table(ChangeParty::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ChangeRecord::Table).to_owned())
            .await
    }
}
