//! Contact point input: parsed once, checked against the kind's rules on the merged result.

use async_graphql::{InputObject, MaybeUndefined};
use entity::contact_point;

use super::graphql::ContactPointKind;
use crate::input::{
    AreaCode, CallingCode, Email, FieldPath, PhoneNumber, Problem, Text, UserError, Validation,
    WebsiteUrl,
};

/// A contact point's fields. Creating needs `kind`, and `number` for phones or `value` for
/// the other kinds; updating changes only the fields given (`null` clears a nullable one).
#[derive(InputObject, Default)]
pub struct ContactPointInput {
    /// Phone, email, website...
    pub kind: MaybeUndefined<ContactPointKind>,
    /// Email address, URL or other handle (not for phones).
    pub value: MaybeUndefined<String>,
    /// Phones: international calling code, 1 to 3 digits (`+44` or `44`).
    pub country_code: MaybeUndefined<String>,
    /// Phones: area code, digits.
    pub area_code: MaybeUndefined<String>,
    /// Phones: subscriber number, digits (spaces and dashes are dropped).
    pub number: MaybeUndefined<String>,
    /// The preferred point of its kind; setting it clears the flag on the contact's others.
    pub is_primary: MaybeUndefined<bool>,
}

/// Parsed contact point fields: `None` unchanged, `Some(None)` cleared.
#[derive(Clone, Debug, Default)]
pub struct ContactPointChanges {
    /// New kind.
    pub kind: Option<ContactPointKind>,
    /// New or cleared value (checked against the kind later).
    pub value: Option<Option<String>>,
    /// New or cleared calling code.
    pub country_code: Option<Option<String>>,
    /// New or cleared area code.
    pub area_code: Option<Option<String>>,
    /// New or cleared number.
    pub number: Option<Option<String>>,
    /// New primary flag.
    pub is_primary: Option<bool>,
}

fn is_phone(kind: ContactPointKind) -> bool {
    matches!(
        kind,
        ContactPointKind::Phone
            | ContactPointKind::Mobile
            | ContactPointKind::Fax
            | ContactPointKind::Ddi
    )
}

impl ContactPointInput {
    /// Parse every field, recording problems under `path`.
    pub fn parse(self, v: &mut Validation, path: &FieldPath) -> ContactPointChanges {
        let kind = match self.kind {
            MaybeUndefined::Value(kind) => Some(kind),
            MaybeUndefined::Null => {
                v.push(Problem::required("cannot be null").at(&path.field("kind")));
                None
            }
            MaybeUndefined::Undefined => None,
        };
        let value: Option<Option<Text<2048>>> = v.nullable(&path.field("value"), self.value);
        let country_code: Option<Option<CallingCode>> =
            v.nullable(&path.field("countryCode"), self.country_code);
        let area_code: Option<Option<AreaCode>> =
            v.nullable(&path.field("areaCode"), self.area_code);
        let number: Option<Option<PhoneNumber>> = v.nullable(&path.field("number"), self.number);
        let is_primary = match self.is_primary {
            MaybeUndefined::Value(flag) => Some(flag),
            MaybeUndefined::Null => Some(false),
            MaybeUndefined::Undefined => None,
        };
        ContactPointChanges {
            kind,
            value: value.map(|v| v.map(|t| t.0)),
            country_code: country_code.map(|c| c.map(|c| c.0)),
            area_code: area_code.map(|a| a.map(|a| a.0)),
            number: number.map(|n| n.map(|n| n.0)),
            is_primary,
        }
    }
}

impl ContactPointChanges {
    /// Apply to a stored (or blank new) row.
    pub fn apply(&self, row: &mut contact_point::Model) {
        if let Some(kind) = self.kind {
            row.kind = kind.as_db().to_owned();
        }
        if let Some(value) = &self.value {
            row.value.clone_from(value);
        }
        if let Some(code) = &self.country_code {
            row.country_code.clone_from(code);
        }
        if let Some(area) = &self.area_code {
            row.area_code.clone_from(area);
        }
        if let Some(number) = &self.number {
            row.number.clone_from(number);
        }
        if let Some(primary) = self.is_primary {
            row.is_primary = primary;
        }
    }
}

/// The kind a row about to be written holds; `None` when the input gave none (a new row
/// starts without one). Not `ContactPointKind::from_db`: that reads stored rows, where an
/// unknown value is a server fault and is logged as one, while here it is the client's mistake.
fn kind_of(row: &contact_point::Model) -> Option<ContactPointKind> {
    <ContactPointKind as async_graphql::resolver_utils::EnumType>::items()
        .iter()
        .map(|item| item.value)
        .find(|kind| kind.as_db() == row.kind)
}

/// Check the kind's rules on the row as it would be stored; normalises emails. A row without
/// a kind is refused here (`REQUIRED` at `kind`), so none is ever stored.
pub fn check_kind_rules(row: &mut contact_point::Model, v: &mut Validation, path: &FieldPath) {
    let Some(kind) = kind_of(row) else {
        let at = path.field("kind");
        if !v.has_error_at(&at) {
            v.push(Problem::required("is required").at(&at));
        }
        return;
    };
    if is_phone(kind) {
        let at = path.field("number");
        if row.number.is_none() && !v.has_error_at(&at) {
            v.push(Problem::required("a phone needs a number").at(&at));
        }
        return;
    }
    for (field, present) in [
        ("countryCode", row.country_code.is_some()),
        ("areaCode", row.area_code.is_some()),
        ("number", row.number.is_some()),
    ] {
        if present {
            v.push(UserError::invalid(
                &path.field(field),
                "only phones have number parts",
            ));
        }
    }
    let value_path = path.field("value");
    let Some(value) = row.value.clone() else {
        if !v.has_error_at(&value_path) {
            v.push(Problem::required("is required for this kind").at(&value_path));
        }
        return;
    };
    match kind {
        ContactPointKind::Email => {
            if let Some(email) = v.check(&value_path, Email::try_from(value)) {
                row.value = Some(email.0);
            }
        }
        ContactPointKind::Website => {
            v.check(&value_path, WebsiteUrl::try_from(value));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::input::UserErrorCode;

    /// Whatever a subscriber writes, kept for the test to read.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut buffer) = self.0.lock() {
                buffer.extend_from_slice(bytes);
            }
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn blank_point() -> contact_point::Model {
        let now = chrono::Utc::now();
        contact_point::Model {
            id: uuid::Uuid::nil(),
            contact_id: uuid::Uuid::nil(),
            kind: String::new(),
            value: None,
            country_code: None,
            area_code: None,
            number: Some("5550100".into()),
            is_primary: false,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    #[test]
    fn a_point_without_a_kind_is_the_clients_mistake_and_logs_nothing() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_max_level(tracing::Level::TRACE)
            .finish();
        let mut v = Validation::default();
        let path = FieldPath::root("input");

        tracing::subscriber::with_default(subscriber, || {
            check_kind_rules(&mut blank_point(), &mut v, &path);
        });

        let Err(crate::error::AppError::UserErrors(errors)) = v.finish() else {
            panic!("expected a user error");
        };
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, UserErrorCode::Required);
        assert_eq!(
            errors[0].field,
            Some(vec!["input".to_owned(), "kind".to_owned()])
        );
        let logged = captured.0.lock().map(|b| b.clone()).unwrap_or_default();
        assert!(logged.is_empty(), "{}", String::from_utf8_lossy(&logged));
    }

    #[test]
    fn every_kind_is_recognised() {
        for item in <ContactPointKind as async_graphql::resolver_utils::EnumType>::items() {
            let mut row = blank_point();
            row.kind = item.value.as_db().to_owned();
            assert_eq!(kind_of(&row), Some(item.value));
        }
    }
}
