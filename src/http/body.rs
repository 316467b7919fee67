//! Reading a GraphQL request as GraphQL over HTTP encodes it: a body no further than its limit
//! (`KITH_MAX_BODY_BYTES`), its media type, and the parameters it carries, in a POST's JSON
//! body or a GET's query string. Parameters are checked as the spec types them (`query` a
//! string and required; `operationName` a string, `variables` and `extensions` maps, each may
//! be null): async-graphql's own decoding takes a missing `query` for an empty one.

use std::time::Duration;

use async_graphql::{BatchRequest, Extensions, Request, Variables};
use axum::body::{Body, Bytes};
use axum::extract::Query;
use axum::http::{HeaderMap, Uri, header};
use http_body_util::BodyExt;
use serde::Deserialize;

/// After refusing a body, how much more of it is read and thrown away, and for how long: a
/// client still sending when the 413 goes out would otherwise see its connection reset before
/// it reads the answer. Bounded so that a 300 MB upload costs nothing like 300 MB.
const DRAIN_BYTES: usize = 4 << 20;
const DRAIN_TIME: Duration = Duration::from_secs(1);

/// Why a body was not read.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// Longer than the limit (declared or sent).
    TooLarge,
    /// The connection failed while the body was arriving.
    Unreadable,
}

/// The whole body, if it is at most `limit` bytes. A declared `Content-Length` over the limit
/// is refused before a byte is kept; a chunked body as soon as it crosses the limit. Nothing
/// over the limit is ever buffered.
pub async fn read(mut body: Body, declared: Option<u64>, limit: usize) -> Result<Bytes, BodyError> {
    if declared.is_some_and(|length| length > limit as u64) {
        drain(body).await;
        return Err(BodyError::TooLarge);
    }
    let mut buffer = Vec::with_capacity(declared.map_or(0, |length| length as usize));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Unreadable)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if buffer.len() + data.len() > limit {
            drain(body).await;
            return Err(BodyError::TooLarge);
        }
        buffer.extend_from_slice(&data);
    }
    Ok(Bytes::from(buffer))
}

/// Read and discard what the client is still sending, within [`DRAIN_BYTES`] and
/// [`DRAIN_TIME`].
async fn drain(mut body: Body) {
    let deadline = tokio::time::Instant::now() + DRAIN_TIME;
    let mut drained = 0;
    while drained < DRAIN_BYTES {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(Some(Ok(frame))) => drained += frame.data_ref().map_or(0, Bytes::len),
            _ => break,
        }
    }
}

/// The one media type a POST body may have (spec: "MUST support application/json").
const JSON: &str = "application/json";

/// Why a POST body's media type is refused: no `Content-Type`, several, or one other than
/// `application/json` in UTF-8. `text/plain` and form bodies are not read as JSON: browsers
/// send those cross-origin without a preflight.
#[derive(Debug, PartialEq, Eq)]
pub struct UnsupportedMediaType(pub String);

/// Accept `application/json` (any case, with a `charset` of UTF-8 or none), nothing else.
pub fn check_media_type(headers: &HeaderMap) -> Result<(), UnsupportedMediaType> {
    let mut values = headers.get_all(header::CONTENT_TYPE).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(UnsupportedMediaType(format!(
            "a POST must say `Content-Type: {JSON}` (once)"
        )));
    };
    let refused = || {
        UnsupportedMediaType(format!(
            "a POST body must be `{JSON}` in UTF-8, not `{}`",
            String::from_utf8_lossy(value.as_bytes())
        ))
    };
    let text = value.to_str().map_err(|_| refused())?;
    let mut parts = text.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case(JSON) {
        return Err(refused());
    }
    for parameter in parts {
        let Some((name, value)) = parameter.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"');
        if name.trim().eq_ignore_ascii_case("charset")
            && !value.eq_ignore_ascii_case("utf-8")
            && !value.eq_ignore_ascii_case("utf8")
        {
            return Err(refused());
        }
    }
    Ok(())
}

/// One request's parameters in the spec's JSON encoding.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    /// Required, unless `extensions.persistedQuery` names the document instead.
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    operation_name: Option<String>,
    /// A map or null (`Variables` reads null as none).
    #[serde(default)]
    variables: Variables,
    /// A map or null, like `variables`.
    #[serde(default)]
    extensions: Extensions,
}

impl Params {
    fn into_request(self) -> Result<Request, String> {
        let mut request = Request::new(document(self.query, &self.extensions)?);
        request.operation_name = self.operation_name;
        request.variables = self.variables;
        request.extensions = self.extensions;
        Ok(request)
    }
}

/// The `query` parameter, which may be absent only when a persisted document stands in for it
/// (`extensions.persistedQuery`; `http::persisted` then finds or refuses the document).
fn document(query: Option<String>, extensions: &Extensions) -> Result<String, String> {
    match query {
        Some(query) => Ok(query),
        None if extensions.contains_key(super::persisted::EXTENSION) => Ok(String::new()),
        None => Err("a GraphQL request needs a `query`".to_owned()),
    }
}

/// A POST body: one request (a JSON object) or a batch (an array of them). The error is a
/// message for the client.
pub fn parse_post(body: &[u8]) -> Result<BatchRequest, String> {
    let batch = body.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'[');
    let not_graphql =
        |error: serde_json::Error| format!("the body is not a GraphQL request in JSON: {error}");
    if batch {
        let all = serde_json::from_slice::<Vec<Params>>(body).map_err(not_graphql)?;
        let all = all.into_iter().map(Params::into_request);
        Ok(BatchRequest::Batch(all.collect::<Result<_, _>>()?))
    } else {
        let one = serde_json::from_slice::<Params>(body).map_err(not_graphql)?;
        Ok(BatchRequest::Single(one.into_request()?))
    }
}

/// A GET's query string, its `variables` and `extensions` JSON text.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// The request of a GET (`?query=…&operationName=…&variables={…}&extensions={…}`). The error is
/// a message for the client.
pub fn parse_get(uri: &Uri) -> Result<Request, String> {
    let Query(params) = Query::<GetParams>::try_from_uri(uri)
        .map_err(|error| format!("invalid GraphQL GET parameters: {}", error.body_text()))?;
    let extensions: Extensions = match params.extensions {
        Some(extensions) => serde_json::from_str(&extensions)
            .map_err(|error| format!("`extensions` must be a JSON object: {error}"))?,
        None => Extensions::default(),
    };
    let query = document(params.query, &extensions)
        .map_err(|_| "a GraphQL GET needs a `query` parameter".to_owned())?;
    let mut request = Request::new(query);
    request.operation_name = params.operation_name;
    if let Some(variables) = params.variables {
        request.variables = serde_json::from_str(&variables)
            .map_err(|error| format!("`variables` must be a JSON object: {error}"))?;
    }
    request.extensions = extensions;
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content_type(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, value.parse().expect("a header value"));
        headers
    }

    #[test]
    fn only_json_in_utf8_is_a_graphql_body() {
        for accepted in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/json;charset=\"UTF-8\"",
        ] {
            assert_eq!(
                check_media_type(&content_type(accepted)),
                Ok(()),
                "{accepted}"
            );
        }
        for refused in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/graphql",
            "application/json; charset=latin1",
            "application/jsonx",
        ] {
            assert!(
                check_media_type(&content_type(refused)).is_err(),
                "{refused}"
            );
        }
        assert!(
            check_media_type(&HeaderMap::new()).is_err(),
            "no content type"
        );
    }

    #[test]
    fn parameters_are_typed_as_the_spec_says() {
        let single = |body: &str| parse_post(body.as_bytes());
        assert!(
            single(r#"{"query":"{ a }","variables":null,"operationName":null,"extensions":null}"#)
                .is_ok()
        );
        assert!(single(r#"{"query":"{ a }","variables":{"x":1},"extensions":{"y":2}}"#).is_ok());
        assert!(
            matches!(single(r#" [{"query":"{ a }"}]"#), Ok(BatchRequest::Batch(all)) if all.len() == 1)
        );
        for invalid in [
            r#"{"notquery":"{ a }"}"#,
            r#"{"query":null}"#,
            r#"{"query":{"obj":"ect"}}"#,
            r#"{"query":0}"#,
            r#"{"query":["array"]}"#,
            r#"{"query":"{ a }","operationName":false}"#,
            r#"{"query":"{ a }","variables":"string"}"#,
            r#"{"query":"{ a }","variables":["array"]}"#,
            r#"{"query":"{ a }","extensions":0}"#,
            r#"{ "not a JSON"#,
            "",
        ] {
            assert!(single(invalid).is_err(), "{invalid}");
        }
    }

    #[test]
    fn get_parameters_are_typed_as_well() {
        let get = |query: &str| parse_get(&format!("/graphql?{query}").parse().expect("uri"));
        let request =
            get("query=%7Ba%7D&operationName=A&variables=%7B%22x%22%3A1%7D").expect("valid");
        assert_eq!(request.query, "{a}");
        assert_eq!(request.operation_name.as_deref(), Some("A"));
        assert_eq!(request.variables.len(), 1);
        assert!(get("variables=null&query=%7Ba%7D").is_ok());
        for invalid in [
            "",
            "operationName=A",
            "query=%7Ba%7D&variables=%5B%5D",
            "query=%7Ba%7D&variables=x",
            "query=a&query=b",
        ] {
            assert!(get(invalid).is_err(), "{invalid}");
        }
    }

    #[tokio::test]
    async fn reads_up_to_the_limit_and_no_further() {
        let body = || Body::from(vec![b'x'; 100]);
        assert_eq!(read(body(), None, 100).await.map(|b| b.len()), Ok(100));
        assert_eq!(read(body(), None, 99).await, Err(BodyError::TooLarge));
        assert_eq!(read(body(), Some(100), 100).await.map(|b| b.len()), Ok(100));
        assert_eq!(read(body(), Some(101), 100).await, Err(BodyError::TooLarge));
    }
}
