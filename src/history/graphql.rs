//! The GraphQL side of the history: `Change` and its parts, `history(page)` for the three
//! object types, and the root `changes(filter, page)` for ADMIN and SERVICE.

use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::service::{self, ChangeFilter, ChangeRecord, Subject};
use super::{Action, FieldChange as StoredChange, ObjectType, SENSITIVE_FIELDS};
use crate::auth::field_guard::mask;
use crate::auth::{Principal, UNMASK_TAX_ID_PERMISSION};
use crate::error::AppError;
use crate::graphql_context::ContextExt;
use crate::paging::graphql::{Page, PageInput, page_request};

/// How one reader sees changes: sensitive values masked unless permitted, other customers
/// left out.
#[derive(Clone, Debug)]
pub struct Reader {
    unmasked: bool,
    /// `None` for readers who see every customer.
    customers: Option<Vec<Uuid>>,
}

impl Reader {
    /// The reader `principal`; `unmask_all` is the server-wide `KITH_UNMASK_TAX_ID`.
    pub fn new(principal: &Principal, unmask_all: bool) -> Reader {
        Reader {
            unmasked: unmask_all || principal.has_permission(UNMASK_TAX_ID_PERMISSION),
            customers: principal.scope.own_customers().map(<[Uuid]>::to_vec),
        }
    }

    /// The reader of this request.
    pub fn of(ctx: &Context<'_>) -> async_graphql::Result<Reader> {
        Ok(Reader::new(ctx.principal()?, ctx.settings().unmask_tax_id))
    }

    fn shows_customer(&self, id: &Uuid) -> bool {
        self.customers.as_ref().is_none_or(|mine| mine.contains(id))
    }

    fn value(&self, field: &str, value: Option<&String>) -> Option<String> {
        let value = value?;
        Some(if !self.unmasked && SENSITIVE_FIELDS.contains(&field) {
            mask(value)
        } else {
            value.clone()
        })
    }
}

/// One change to one object: what changed, who changed it, on whose behalf.
pub struct Change {
    record: Arc<ChangeRecord>,
    reader: Reader,
}

impl Change {
    /// `record` as `reader` may see it.
    pub fn new(record: Arc<ChangeRecord>, reader: Reader) -> Change {
        Change { record, reader }
    }

    /// The stored record.
    pub fn record(&self) -> &ChangeRecord {
        &self.record
    }
}

/// Who made a change.
#[derive(SimpleObject)]
#[graphql(name = "ChangeActor")]
pub struct Actor {
    /// The token's `sub`.
    pub subject: Option<String>,
    /// The roles the token carried.
    pub roles: Vec<String>,
    /// The customers the token acted for (its `customers` claim), limited to those the reader
    /// may see; null when the token had no such claim.
    pub customers: Option<Vec<ID>>,
}

/// One field of a change, its values as the reader may see them.
#[derive(SimpleObject)]
pub struct FieldChange {
    /// The field, as the API names it.
    pub field: String,
    /// The value before; null when there was none.
    pub old_value: Option<String>,
    /// The value after; null when there is none (`accountPassword` shows only `changed`).
    pub new_value: Option<String>,
}

#[Object]
impl Change {
    /// The change's position in the history: ascending, and the position subscribers resume
    /// from.
    async fn id(&self) -> ID {
        ID(self.record.row.id.to_string())
    }

    /// When the change was committed (its transaction's write time).
    async fn at(&self) -> DateTime<Utc> {
        self.record.row.at
    }

    /// What happened.
    async fn action(&self) -> Option<Action> {
        Action::from_db(&self.record.row.action)
    }

    /// The kind of object changed.
    async fn object_type(&self) -> Option<ObjectType> {
        ObjectType::from_db(&self.record.row.object_type)
    }

    /// The object changed (it may no longer exist).
    async fn object_id(&self) -> ID {
        ID(self.record.row.object_id.to_string())
    }

    /// The tracking id of the request that made the change (its `x-request-id`); changes of
    /// one mutation share it.
    async fn tracking_id(&self) -> Option<&str> {
        self.record.row.tracking_id.as_deref()
    }

    /// The customers the change concerned (the object's owner, or the customers a shared
    /// contact is linked to), limited to those the reader may see.
    async fn customer_ids(&self) -> Vec<ID> {
        self.record
            .customers
            .iter()
            .filter(|id| self.reader.shows_customer(id))
            .map(|id| ID(id.to_string()))
            .collect()
    }

    /// Who made the change.
    async fn actor(&self) -> Actor {
        let row = &self.record.row;
        let roles: Vec<String> = serde_json::from_str(&row.actor_roles).unwrap_or_default();
        let customers = row.actor_customers.as_deref().map(|text| {
            serde_json::from_str::<Vec<Uuid>>(text)
                .unwrap_or_default()
                .iter()
                .filter(|id| self.reader.shows_customer(id))
                .map(|id| ID(id.to_string()))
                .collect()
        });
        Actor {
            subject: row.actor_subject.clone(),
            roles,
            customers,
        }
    }

    /// The fields that changed, in the object's field order.
    async fn changes(&self) -> Vec<FieldChange> {
        let stored: Vec<StoredChange> =
            serde_json::from_str(&self.record.row.changes).unwrap_or_default();
        stored
            .into_iter()
            .map(|change| FieldChange {
                old_value: self.reader.value(&change.field, change.old.as_ref()),
                new_value: self.reader.value(&change.field, change.new.as_ref()),
                field: change.field,
            })
            .collect()
    }
}

/// A page of `subject`'s history for this request's reader: what `history(page)` on Customer,
/// Account and Contact returns.
pub async fn history_page(
    ctx: &Context<'_>,
    subject: Subject,
    page: Option<PageInput>,
) -> async_graphql::Result<Page<Change>> {
    let principal = ctx.principal()?;
    let reader = Reader::of(ctx)?;
    let (pagination, request) = page_request(page, ctx)?;
    let rows = service::history(ctx.db()?, &principal.scope, subject, request)
        .await
        .map_err(|e| e.extend())?;
    Ok(Page::from_rows(pagination, rows, |record| {
        Change::new(Arc::new(record), reader.clone())
    }))
}

/// What `changes` narrows the list to.
#[derive(InputObject, Default)]
pub struct ChangeFilterInput {
    /// Only changes at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only changes to objects of this type.
    pub object_type: Option<ObjectType>,
    /// Only changes made by this subject (the token's `sub`).
    pub actor_subject: Option<String>,
}

/// The root `changes` query.
#[derive(Default)]
pub struct ChangeQuery;

#[Object]
impl ChangeQuery {
    /// Every change, oldest first (ADMIN and SERVICE).
    async fn changes(
        &self,
        ctx: &Context<'_>,
        filter: Option<ChangeFilterInput>,
        page: Option<PageInput>,
    ) -> async_graphql::Result<Page<Change>> {
        let principal = ctx.principal()?;
        principal
            .require_trusted("reading every change")
            .map_err(|e| e.extend())?;
        let reader = Reader::of(ctx)?;
        let (pagination, request) = page_request(page, ctx)?;
        let filter = filter.unwrap_or_default();
        let filter = ChangeFilter {
            since: filter.since,
            object_type: filter.object_type,
            actor_subject: filter.actor_subject,
        };
        let rows = service::changes(ctx.db()?, &filter, request)
            .await
            .map_err(|e: AppError| e.extend())?;
        Ok(Page::from_rows(pagination, rows, |record| {
            Change::new(Arc::new(record), reader.clone())
        }))
    }
}
