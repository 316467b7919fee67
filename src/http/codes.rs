//! Every error leaves with an `extensions.code`: the codes of errors that async-graphql made
//! without one, shared by the HTTP and WebSocket handlers.

use async_graphql::{Response as GqlResponse, ServerError};

pub(super) fn coded(mut error: ServerError, code: &str) -> ServerError {
    ensure_code(&mut error, code);
    error
}

fn ensure_code(error: &mut ServerError, code: &str) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
}

/// Every error leaves with an `extensions.code`. Kith's own errors carry one; what lacks one
/// comes from async-graphql: validation (before execution, no path) or the coercion of an
/// argument such as an out-of-range `Int` (during execution, with a path), both the client's.
pub(super) fn with_codes(mut response: GqlResponse) -> GqlResponse {
    for error in &mut response.errors {
        let code = if error.path.is_empty() {
            "GRAPHQL_VALIDATION_FAILED"
        } else {
            "BAD_USER_INPUT"
        };
        ensure_code(error, code);
    }
    response
}
