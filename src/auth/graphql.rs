//! The `me` query: who the server thinks the caller is.

use async_graphql::{Context, ID, Object, SimpleObject};

use super::{Role, UNMASK_TAX_ID_PERMISSION};
use crate::graphql_context::ContextExt;

/// The authenticated caller, as read from its token.
#[derive(SimpleObject)]
pub struct Me {
    /// The token's subject (`sub`); null when the token names none.
    pub subject: Option<String>,
    /// The roles Kith recognised in the token.
    pub roles: Vec<Role>,
    /// The customers the caller acts for; null when the token names none (for AGENCY: all).
    pub customers: Option<Vec<ID>>,
    /// The token's permissions.
    pub permissions: Vec<String>,
    /// Whether `taxId` and `bankAccountDetails` are returned unmasked to this caller.
    pub can_see_tax_id: bool,
}

/// Identity queries.
#[derive(Default)]
pub struct AuthQuery;

#[Object]
impl AuthQuery {
    /// The caller's identity and privileges.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Me> {
        let principal = ctx.principal()?;
        Ok(Me {
            subject: principal.subject.clone(),
            roles: principal.roles.iter().copied().collect(),
            customers: principal
                .customers
                .as_ref()
                .map(|ids| ids.iter().map(|id| ID(id.to_string())).collect()),
            permissions: principal.permissions.clone(),
            can_see_tax_id: ctx.settings().unmask_tax_id
                || principal.has_permission(UNMASK_TAX_ID_PERMISSION),
        })
    }
}
