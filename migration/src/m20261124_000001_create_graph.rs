//! The customer / account / contact graph: seven tables, their foreign keys and indexes.
//!
//! Cascades follow API.md: deleting a customer removes its accounts and its direct and
//! account-level contacts (and through them their contact points and address links); a
//! shared contact has no owner, so it survives and only its links go.

#![expect(
    clippy::enum_variant_names,
    reason = "the iden enums spell the column names, which repeat their table's"
)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Customer {
    Table,
    Id,
    Name,
    CustomerNumber,
    TaxId,
    DealerCode,
}

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
    CustomerId,
    Name,
    AccountNumber,
    Status,
}

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
}

#[derive(DeriveIden)]
enum ContactPoint {
    Table,
    Id,
    ContactId,
    Kind,
    Value,
    CountryCode,
    AreaCode,
    Number,
    IsPrimary,
}

#[derive(DeriveIden)]
enum Address {
    Table,
    Id,
    AddressType,
    Line1,
    Line2,
    Line3,
    Line4,
    City,
    StateCode,
    StateName,
    PostalCode,
    Country,
    Latitude,
    Longitude,
}

#[derive(DeriveIden)]
enum ContactAddress {
    Table,
    ContactId,
    AddressId,
    IsPrimary,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SharedContactLink {
    Table,
    CustomerId,
    ContactId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Audit {
    CreatedAt,
    UpdatedAt,
    Version,
}

/// `created_at`, `updated_at` and `version`, which every mutable row carries.
fn with_audit_columns(table: &mut TableCreateStatement) -> &mut TableCreateStatement {
    table
        .col(timestamp_with_time_zone(Audit::CreatedAt))
        .col(timestamp_with_time_zone(Audit::UpdatedAt))
        .col(integer(Audit::Version).default(1))
}

fn foreign_key(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .on_update(ForeignKeyAction::Cascade)
        .to_owned()
}

fn index(name: &str, table: impl IntoIden, columns: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(Alias::new(*column));
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                with_audit_columns(
                    Table::create()
                        .table(Customer::Table)
                        .col(uuid(Customer::Id).primary_key())
                        .col(string_len(Customer::Name, 200))
                        .col(string_len_null(Customer::CustomerNumber, 64).unique_key())
                        .col(string_len_null(Customer::TaxId, 64))
                        .col(string_len_null(Customer::DealerCode, 64)),
                )
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                with_audit_columns(
                    Table::create()
                        .table(Account::Table)
                        .col(uuid(Account::Id).primary_key())
                        .col(uuid(Account::CustomerId))
                        .col(string_len(Account::Name, 200))
                        .col(string_len_null(Account::AccountNumber, 64).unique_key())
                        .col(string_len(Account::Status, 16).default("ACTIVE"))
                        .foreign_key(&mut foreign_key(
                            (Account::Table, Account::CustomerId),
                            (Customer::Table, Customer::Id),
                        )),
                )
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                with_audit_columns(
                    Table::create()
                        .table(Contact::Table)
                        .col(uuid(Contact::Id).primary_key())
                        // Set for direct and account-level contacts (the account's customer, kept
                        // here so that scoping and the customer cascade need no join); null for
                        // shared contacts.
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
                        .col(string_len_null(Contact::ContactNumber, 64).unique_key())
                        .col(string_len_null(Contact::ContactType, 64))
                        .col(string_len_null(Contact::DealerCode, 64))
                        .col(string_len(Contact::Status, 16).default("ACTIVE"))
                        .col(string_len_null(Contact::BankAccountDetails, 64))
                        .col(string_len_null(Contact::AccountPasswordHash, 255))
                        .foreign_key(&mut foreign_key(
                            (Contact::Table, Contact::CustomerId),
                            (Customer::Table, Customer::Id),
                        ))
                        .foreign_key(&mut foreign_key(
                            (Contact::Table, Contact::AccountId),
                            (Account::Table, Account::Id),
                        ))
                        // An account-level contact always carries its account's customer.
                        .check(
                            Expr::col(Contact::AccountId)
                                .is_null()
                                .or(Expr::col(Contact::CustomerId).is_not_null()),
                        ),
                )
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                with_audit_columns(
                    Table::create()
                        .table(ContactPoint::Table)
                        .col(uuid(ContactPoint::Id).primary_key())
                        .col(uuid(ContactPoint::ContactId))
                        .col(string_len(ContactPoint::Kind, 16))
                        .col(string_len_null(ContactPoint::Value, 2048))
                        .col(string_len_null(ContactPoint::CountryCode, 3))
                        .col(string_len_null(ContactPoint::AreaCode, 8))
                        .col(string_len_null(ContactPoint::Number, 20))
                        .col(boolean(ContactPoint::IsPrimary).default(false))
                        .foreign_key(&mut foreign_key(
                            (ContactPoint::Table, ContactPoint::ContactId),
                            (Contact::Table, Contact::Id),
                        )),
                )
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                with_audit_columns(
                    Table::create()
                        .table(Address::Table)
                        .col(uuid(Address::Id).primary_key())
                        .col(string_len(Address::AddressType, 16).default("STREET"))
                        .col(string_len(Address::Line1, 200))
                        .col(string_len_null(Address::Line2, 200))
                        .col(string_len_null(Address::Line3, 200))
                        .col(string_len_null(Address::Line4, 200))
                        .col(string_len(Address::City, 100))
                        .col(string_len(Address::StateCode, 8))
                        .col(string_len_null(Address::StateName, 100))
                        .col(string_len(Address::PostalCode, 16))
                        .col(string_len_null(Address::Country, 2))
                        .col(double_null(Address::Latitude))
                        .col(double_null(Address::Longitude)),
                )
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ContactAddress::Table)
                    .col(uuid(ContactAddress::ContactId))
                    .col(uuid(ContactAddress::AddressId))
                    .col(boolean(ContactAddress::IsPrimary).default(false))
                    .col(timestamp_with_time_zone(ContactAddress::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(ContactAddress::ContactId)
                            .col(ContactAddress::AddressId),
                    )
                    .foreign_key(&mut foreign_key(
                        (ContactAddress::Table, ContactAddress::ContactId),
                        (Contact::Table, Contact::Id),
                    ))
                    .foreign_key(&mut foreign_key(
                        (ContactAddress::Table, ContactAddress::AddressId),
                        (Address::Table, Address::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SharedContactLink::Table)
                    .col(uuid(SharedContactLink::CustomerId))
                    .col(uuid(SharedContactLink::ContactId))
                    .col(timestamp_with_time_zone(SharedContactLink::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(SharedContactLink::CustomerId)
                            .col(SharedContactLink::ContactId),
                    )
                    .foreign_key(&mut foreign_key(
                        (SharedContactLink::Table, SharedContactLink::CustomerId),
                        (Customer::Table, Customer::Id),
                    ))
                    .foreign_key(&mut foreign_key(
                        (SharedContactLink::Table, SharedContactLink::ContactId),
                        (Contact::Table, Contact::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        // One index per loader key and per filter. Primary keys already cover lookups by id,
        // `shared_contact_link` by customer and `contact_address` by contact.
        let plain_indexes = [
            index("ix_customer_dealer_code", Customer::Table, &["dealer_code"]),
            index("ix_customer_name", Customer::Table, &["name"]),
            index(
                "ix_account_customer_id",
                Account::Table,
                &["customer_id", "id"],
            ),
            index("ix_account_status", Account::Table, &["status"]),
            index(
                "ix_contact_customer_id",
                Contact::Table,
                &["customer_id", "id"],
            ),
            index(
                "ix_contact_account_id",
                Contact::Table,
                &["account_id", "id"],
            ),
            index("ix_contact_dealer_code", Contact::Table, &["dealer_code"]),
            index("ix_contact_status", Contact::Table, &["status"]),
            index(
                "ix_contact_email_address",
                Contact::Table,
                &["email_address"],
            ),
            index("ix_contact_last_name", Contact::Table, &["last_name"]),
            index(
                "ix_contact_point_contact_id",
                ContactPoint::Table,
                &["contact_id", "id"],
            ),
            index(
                "ix_contact_address_address_id",
                ContactAddress::Table,
                &["address_id"],
            ),
            index(
                "ix_shared_contact_link_contact_id",
                SharedContactLink::Table,
                &["contact_id"],
            ),
        ];
        for statement in plain_indexes {
            manager.create_index(statement).await?;
        }

        // "At most one PRIMARY and one SECONDARY contact per customer and per account" lives in
        // the database, so that two concurrent writers cannot both win.
        let mut customer_role = index(
            "ux_contact_customer_role",
            Contact::Table,
            &["customer_id", "role"],
        );
        customer_role
            .unique()
            .and_where(Expr::col(Contact::AccountId).is_null())
            .and_where(Expr::col(Contact::CustomerId).is_not_null())
            .and_where(Expr::col(Contact::Role).is_in(["PRIMARY", "SECONDARY"]));
        manager.create_index(customer_role).await?;

        let mut account_role = index(
            "ux_contact_account_role",
            Contact::Table,
            &["account_id", "role"],
        );
        account_role
            .unique()
            .and_where(Expr::col(Contact::AccountId).is_not_null())
            .and_where(Expr::col(Contact::Role).is_in(["PRIMARY", "SECONDARY"]));
        manager.create_index(account_role).await?;

        // One primary address per contact.
        let mut primary_address = index(
            "ux_contact_address_primary",
            ContactAddress::Table,
            &["contact_id"],
        );
        primary_address
            .unique()
            .and_where(Expr::col(ContactAddress::IsPrimary).eq(true));
        manager.create_index(primary_address).await?;

        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SharedContactLink::Table.into_iden(),
            ContactAddress::Table.into_iden(),
            Address::Table.into_iden(),
            ContactPoint::Table.into_iden(),
            Contact::Table.into_iden(),
            Account::Table.into_iden(),
            Customer::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
