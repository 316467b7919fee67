//! Judging a document's text before it is parsed.

use super::types::{CostError, MAX_TEXT_NESTING};

/// Tokens a document may have per field of `KITH_MAX_FIELDS`: room for arguments, aliases,
/// variables and inline input objects around every field.
pub const TOKENS_PER_FIELD: usize = 20;

/// Bytes a document's text may have per field of `KITH_MAX_FIELDS` (256 KiB by default): the
/// parser walks strings and comments a character at a time, about 100 ms a megabyte here, and
/// data belongs in variables, which the body limit bounds.
pub const TEXT_BYTES_PER_FIELD: usize = 256;

/// Judge the document's text before it is parsed: at most [`TEXT_BYTES_PER_FIELD`] bytes and
/// [`TOKENS_PER_FIELD`] tokens (as graphql-js's `maxTokens`) per field of `max_fields`, and
/// brackets nested at most [`MAX_TEXT_NESTING`] deep (async-graphql's parser
/// enforces its own 64 levels only after pest has recursed through the whole text, which a deep
/// enough document turns into a stack overflow). Parsing costs about a quarter of a second per
/// megabyte of tokens here; this scan, a millisecond.
pub fn check_text(text: &str, max_fields: usize) -> Result<(), CostError> {
    let max_bytes = max_fields.saturating_mul(TEXT_BYTES_PER_FIELD);
    if text.len() > max_bytes {
        return Err(CostError::TooComplex(format!(
            "the document is longer than {max_bytes} bytes; send data in variables"
        )));
    }
    let max_tokens = max_fields.saturating_mul(TOKENS_PER_FIELD);
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut tokens = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 3;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_TEXT_NESTING {
                    return Err(CostError::TooDeeplyNested);
                }
                i += 1;
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'.' if bytes[i..].starts_with(b"...") => i += 3,
            b'_' | b'-' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' => {
                // A name or a number (`-1.5e+3` included): one token however long.
                i += 1;
                while i < bytes.len()
                    && (bytes[i] == b'_'
                        || bytes[i] == b'.'
                        || bytes[i] == b'+'
                        || bytes[i] == b'-'
                        || bytes[i].is_ascii_alphanumeric())
                {
                    i += 1;
                }
            }
            _ => i += 1,
        }
        tokens += 1;
        if tokens > max_tokens {
            return Err(CostError::TooComplex(format!(
                "the document has more than {max_tokens} tokens"
            )));
        }
    }
    Ok(())
}
