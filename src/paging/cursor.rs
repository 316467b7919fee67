//! Connection cursors: a row's position in its list (its sort keys' values and its id),
//! opaque to clients (base64url of a small JSON array) and bound to the list, its order and its
//! filter by a fingerprint, so that a cursor taken from one list, order or filter and given to
//! another is refused (`BAD_USER_INPUT`) rather than read as a position it never was.
//!
//! A cursor is not a secret nor a capability: every page is read in the caller's scope
//! whatever the cursor says, so a forged one can only start a page at another place the
//! caller may see anyway. The fingerprint needs no key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::AppError;
use crate::ordering::{Ordering, Position, SortValue};

/// Format version, first in every cursor.
const VERSION: u64 = 1;

/// What a cursor is bound to: a list, its order, its filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding([u8; 8]);

impl Binding {
    /// The binding of `list` (`"contacts"`...) in `ordering` under `filter` (the parsed
    /// filter's `Debug` form: every field, `None`s included, so two filters differ exactly
    /// when it does).
    pub fn new(list: &str, ordering: &Ordering, filter: &impl std::fmt::Debug) -> Binding {
        let digest = Sha256::new()
            .chain_update(list.as_bytes())
            .chain_update([0])
            .chain_update(format!("{:?}", ordering.keys()).as_bytes())
            .chain_update([0])
            .chain_update(format!("{filter:?}").as_bytes())
            .finalize();
        let mut bytes = [0; 8];
        bytes.copy_from_slice(&digest[..8]);
        Binding(bytes)
    }

    fn hex(self) -> String {
        self.0.iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

/// The cursor of `position` in a list bound by `binding`.
pub fn encode(binding: Binding, position: &Position) -> String {
    let mut items = vec![
        Value::from(VERSION),
        Value::from(binding.hex()),
        Value::from(position.id.to_string()),
    ];
    items.extend(position.values.iter().map(|value| match value {
        SortValue::Text(text) => Value::from(text.as_str()),
        SortValue::Time(time) => Value::from(time.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
    }));
    URL_SAFE_NO_PAD.encode(Value::Array(items).to_string())
}

/// Read `cursor` (the argument `name`) for a list bound by `binding` in `ordering`.
pub fn decode(
    name: &str,
    cursor: &str,
    binding: Binding,
    ordering: &Ordering,
) -> Result<Position, AppError> {
    let invalid = || AppError::BadUserInput(format!("`{name}` is not a cursor of this list"));
    let foreign = || {
        AppError::BadUserInput(format!(
            "`{name}` is a cursor of another list, order or filter: \
             take cursors from the same list with the same `orderBy` and `filter`"
        ))
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let items: Vec<Value> = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let [version, bound, id, values @ ..] = items.as_slice() else {
        return Err(invalid());
    };
    if version.as_u64() != Some(VERSION) {
        return Err(invalid());
    }
    if bound.as_str() != Some(binding.hex().as_str()) {
        return Err(foreign());
    }
    let id = id
        .as_str()
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(invalid)?;
    let values = values
        .iter()
        .enumerate()
        .map(|(index, value)| {
            let text = value.as_str()?;
            Some(if ordering.is_time(index) {
                SortValue::Time(DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc))
            } else {
                SortValue::Text(text.to_owned())
            })
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(invalid)?;
    ordering.position(values, id).ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ordering::{Direction, SortField, SortKey};

    fn by(field: SortField) -> Ordering {
        Ordering::new(vec![SortKey {
            field,
            direction: Direction::Desc,
        }])
        .expect("one key")
    }

    #[test]
    fn a_cursor_reads_back_in_its_own_list_order_and_filter_only() {
        let ordering = by(SortField::CreatedAt);
        let binding = Binding::new("contacts", &ordering, &Some("ACTIVE"));
        let position = Position {
            values: vec![SortValue::Time(Utc::now())],
            id: Uuid::now_v7(),
        };
        let cursor = encode(binding, &position);
        assert_eq!(
            decode("after", &cursor, binding, &ordering).ok(),
            Some(position)
        );
        let other_filter = Binding::new("contacts", &ordering, &Some("INACTIVE"));
        let other_order = Binding::new("contacts", &by(SortField::UpdatedAt), &Some("ACTIVE"));
        let other_list = Binding::new("customers", &ordering, &Some("ACTIVE"));
        for other in [other_filter, other_order, other_list] {
            assert!(decode("after", &cursor, other, &ordering).is_err());
        }
        for garbage in ["", "abc", "W10", &URL_SAFE_NO_PAD.encode("[1,\"x\",\"y\"]")] {
            assert!(decode("after", garbage, binding, &ordering).is_err());
        }
    }
}
