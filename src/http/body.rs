//! Reading a request body no further than its limit (`KITH_MAX_BODY_BYTES`).

use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_up_to_the_limit_and_no_further() {
        let body = || Body::from(vec![b'x'; 100]);
        assert_eq!(read(body(), None, 100).await.map(|b| b.len()), Ok(100));
        assert_eq!(read(body(), None, 99).await, Err(BodyError::TooLarge));
        assert_eq!(read(body(), Some(100), 100).await.map(|b| b.len()), Ok(100));
        assert_eq!(read(body(), Some(101), 100).await, Err(BodyError::TooLarge));
    }
}
