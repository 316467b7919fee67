//! Assembling the GraphQL schema: the merged query roots, query limits and error codes.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{
    EmptySubscription, MergedObject, Schema, SchemaBuilder, ServerError, ServerResult,
    ValidationResult, Variables,
};
use sea_orm::DatabaseConnection;

use crate::account::graphql::{AccountMutation, AccountQuery};
use crate::address::graphql::AddressMutation;
use crate::auth::graphql::AuthQuery;
use crate::config::Settings;
use crate::contact::graphql::ContactQuery;
use crate::contact::mutation::ContactMutation;
use crate::contact::patch::PatchMutation;
use crate::contact_point::graphql::ContactPointMutation;
use crate::customer::graphql::{CustomerMutation, CustomerQuery};

/// Every query of the API.
#[derive(MergedObject, Default)]
pub struct QueryRoot(AuthQuery, CustomerQuery, AccountQuery, ContactQuery);

/// Every mutation of the API.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    CustomerMutation,
    AccountMutation,
    ContactPointMutation,
    AddressMutation,
    ContactMutation,
    PatchMutation,
);

/// Kith's schema type.
pub type KithSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
}

/// The schema served by a running server.
pub fn build(settings: Arc<Settings>, db: DatabaseConnection) -> KithSchema {
    let mut builder = builder().extension(QueryLimits {
        max_depth: settings.max_depth,
        max_complexity: settings.max_complexity,
    });
    if !settings.introspection {
        builder = builder.disable_introspection();
    }
    builder.data(settings).data(db).finish()
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}

/// Marks a request that arrived as `GET /graphql`, where mutations are refused: a GET must be
/// safe to repeat and cannot carry a CSRF-proof content type.
#[derive(Clone, Copy, Debug)]
pub struct ArrivedByGet;

fn error_with_code(message: impl Into<String>, code: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    error
}

fn ensure_code(mut error: ServerError, code: &str) -> ServerError {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
    error
}

/// Enforces `KITH_MAX_DEPTH` and `KITH_MAX_COMPLEXITY` with the `QUERY_TOO_COMPLEX` code, and
/// gives parse and validation errors codes of their own.
struct QueryLimits {
    max_depth: usize,
    max_complexity: usize,
}

impl ExtensionFactory for QueryLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(QueryLimits {
            max_depth: self.max_depth,
            max_complexity: self.max_complexity,
        })
    }
}

#[async_trait::async_trait]
impl Extension for QueryLimits {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next
            .run(ctx, query, variables)
            .await
            .map_err(|error| ensure_code(error, "GRAPHQL_PARSE_FAILED"))?;
        let has_mutation = document
            .operations
            .iter()
            .any(|(_, operation)| operation.node.ty == OperationType::Mutation);
        if has_mutation && ctx.data_opt::<ArrivedByGet>().is_some() {
            return Err(error_with_code(
                "mutations must be sent with POST",
                "BAD_USER_INPUT",
            ));
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|error| ensure_code(error, "GRAPHQL_VALIDATION_FAILED"))
                .collect::<Vec<_>>()
        })?;
        if result.depth > self.max_depth {
            return Err(vec![error_with_code(
                format!(
                    "query depth {} exceeds the limit of {}",
                    result.depth, self.max_depth
                ),
                "QUERY_TOO_COMPLEX",
            )]);
        }
        if result.complexity > self.max_complexity {
            return Err(vec![error_with_code(
                format!(
                    "query complexity {} exceeds the limit of {}",
                    result.complexity, self.max_complexity
                ),
                "QUERY_TOO_COMPLEX",
            )]);
        }
        Ok(result)
    }
}
