//! Contact point input, parsed into the values the writes take: [`ContactPointChanges`] for
//! an update, and [`NewContactPoint`], a point valid for its kind. Also
//! [`ContactPointKind`], which inputs and the `ContactPoint` type share.

use async_graphql::{InputObject, MaybeUndefined};
use entity::contact_point;

use crate::db_enum::db_enum;
use crate::error::{AppError, FieldPath, Result, UserError};
use crate::input::{
    AreaCode, CallingCode, Email, PhoneNumber, Problem, Text, Validation, WebsiteUrl,
};

db_enum! {
    /// What kind of contact point this is.
    pub enum ContactPointKind {
        /// Landline phone (country code, area code, number).
        Phone => "PHONE",
        /// Mobile phone.
        Mobile => "MOBILE",
        /// Fax.
        Fax => "FAX",
        /// Direct dial-in extension.
        Ddi => "DDI",
        /// Email address (in `value`).
        Email => "EMAIL",
        /// Web site URL (in `value`).
        Website => "WEBSITE",
        /// Anything else (in `value`).
        Other => "OTHER",
    }
}

impl ContactPointKind {
    fn is_phone(self) -> bool {
        matches!(
            self,
            ContactPointKind::Phone
                | ContactPointKind::Mobile
                | ContactPointKind::Fax
                | ContactPointKind::Ddi
        )
    }
}

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

/// Parsed contact point fields: `None` unchanged, `Some(None)` cleared. Whether they suit the
/// kind is known once they meet the stored point ([`ContactPointChanges::merge`]), or become a
/// new one ([`ContactPointChanges::into_new`]).
#[derive(Clone, Debug, Default)]
pub struct ContactPointChanges {
    /// New kind.
    pub kind: Option<ContactPointKind>,
    /// New or cleared value.
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

/// A contact point's fields, valid for its kind: a phone has a number (and maybe calling and
/// area codes); any other kind has a value (an email normalised, a website a URL) and no
/// number parts. Made only by checking those rules: a new point, or a stored one with an
/// update's changes.
#[derive(Clone, Debug)]
pub struct NewContactPoint {
    /// The kind.
    pub kind: ContactPointKind,
    /// Email, URL or other handle (the other kinds need one).
    pub value: Option<String>,
    /// Phones: calling code.
    pub country_code: Option<String>,
    /// Phones: area code.
    pub area_code: Option<String>,
    /// Phones: subscriber number; `None` for the other kinds.
    pub number: Option<String>,
    /// The preferred point of its kind.
    pub is_primary: bool,
}

impl ContactPointInput {
    /// Parse every field, recording problems under `path` (an update: the kind's rules are
    /// checked when the changes meet the stored point).
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

    /// Parse a new point under `path`, its kind's rules included: `None` when it is not valid
    /// (the problems are in `v`).
    pub fn parse_new(self, v: &mut Validation, path: &FieldPath) -> Option<NewContactPoint> {
        self.parse(v, path).into_new(v, path)
    }
}

impl ContactPointChanges {
    /// These fields as a new point, checked against its kind's rules: `None` when they break
    /// them (the problems are in `v`).
    pub fn into_new(self, v: &mut Validation, path: &FieldPath) -> Option<NewContactPoint> {
        Draft::default().with(&self).check(v, path)
    }

    /// These fields as a new point, or the user errors of its kind's rules (a write reports
    /// them after its own checks of the contact).
    pub fn into_new_point(self, path: &FieldPath) -> Result<NewContactPoint> {
        let mut v = Validation::default();
        let point = self.into_new(&mut v, path);
        checked(v, point)
    }

    /// The stored point `current` with these changes, or the user errors of its kind's rules
    /// (reported under `path`).
    pub fn merge(
        &self,
        current: &contact_point::Model,
        path: &FieldPath,
    ) -> Result<NewContactPoint> {
        let mut v = Validation::default();
        let point = Draft::of(current).with(self).check(&mut v, path);
        checked(v, point)
    }
}

/// `point`, or the problems `v` holds: a point that failed its rules always left one there.
fn checked(v: Validation, point: Option<NewContactPoint>) -> Result<NewContactPoint> {
    v.finish()?;
    point.ok_or_else(|| {
        AppError::internal("a contact point failed its kind's rules without a user error")
    })
}

/// A point's fields before the kind's rules are checked.
#[derive(Default)]
struct Draft {
    kind: Option<ContactPointKind>,
    value: Option<String>,
    country_code: Option<String>,
    area_code: Option<String>,
    number: Option<String>,
    is_primary: bool,
}

impl Draft {
    fn of(row: &contact_point::Model) -> Draft {
        Draft {
            kind: kind_of(&row.kind),
            value: row.value.clone(),
            country_code: row.country_code.clone(),
            area_code: row.area_code.clone(),
            number: row.number.clone(),
            is_primary: row.is_primary,
        }
    }

    fn with(mut self, changes: &ContactPointChanges) -> Draft {
        if let Some(kind) = changes.kind {
            self.kind = Some(kind);
        }
        for (target, change) in [
            (&mut self.value, &changes.value),
            (&mut self.country_code, &changes.country_code),
            (&mut self.area_code, &changes.area_code),
            (&mut self.number, &changes.number),
        ] {
            if let Some(change) = change {
                target.clone_from(change);
            }
        }
        if let Some(primary) = changes.is_primary {
            self.is_primary = primary;
        }
        self
    }

    /// Check the kind's rules, reporting under `path`; normalises emails. A point without a
    /// kind is refused here (`REQUIRED` at `kind`), so none is ever stored.
    fn check(self, v: &mut Validation, path: &FieldPath) -> Option<NewContactPoint> {
        let Some(kind) = self.kind else {
            let at = path.field("kind");
            if !v.has_error_at(&at) {
                v.push(Problem::required("is required").at(&at));
            }
            return None;
        };
        let valid = |value| NewContactPoint {
            kind,
            value,
            country_code: self.country_code.clone(),
            area_code: self.area_code.clone(),
            number: self.number.clone(),
            is_primary: self.is_primary,
        };
        if kind.is_phone() {
            let at = path.field("number");
            if self.number.is_none() {
                if !v.has_error_at(&at) {
                    v.push(Problem::required("a phone needs a number").at(&at));
                }
                return None;
            }
            return Some(valid(self.value.clone()));
        }
        let mut fits = true;
        for (field, present) in [
            ("countryCode", self.country_code.is_some()),
            ("areaCode", self.area_code.is_some()),
            ("number", self.number.is_some()),
        ] {
            if present {
                v.push(UserError::invalid(
                    &path.field(field),
                    "only phones have number parts",
                ));
                fits = false;
            }
        }
        let value_path = path.field("value");
        let Some(value) = self.value.clone() else {
            if !v.has_error_at(&value_path) {
                v.push(Problem::required("is required for this kind").at(&value_path));
            }
            return None;
        };
        let value = match kind {
            ContactPointKind::Email => v.check(&value_path, Email::try_from(value))?.0,
            ContactPointKind::Website => {
                v.check(&value_path, WebsiteUrl::try_from(value.clone()))?;
                value
            }
            _ => value,
        };
        fits.then(|| valid(Some(value)))
    }
}

/// The kind a stored row holds; `None` for a value Kith does not know. Not
/// `ContactPointKind::from_db`: that reads rows for output, where an unknown value is a
/// server fault and is logged as one, while a write checking the kind's rules reports it to
/// the client (`REQUIRED` at `kind`).
fn kind_of(stored: &str) -> Option<ContactPointKind> {
    <ContactPointKind as async_graphql::resolver_utils::EnumType>::items()
        .iter()
        .map(|item| item.value)
        .find(|kind| kind.as_db() == stored)
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
        let path = FieldPath::root("input");

        let merged = tracing::subscriber::with_default(subscriber, || {
            ContactPointChanges::default().merge(&blank_point(), &path)
        });

        let Err(crate::error::AppError::UserErrors(errors)) = merged else {
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
            assert_eq!(kind_of(item.value.as_db()), Some(item.value));
        }
    }

    #[test]
    fn a_new_email_is_normalised_and_a_phone_needs_its_number() {
        let path = FieldPath::root("input");
        let mut v = Validation::default();
        let email = ContactPointChanges {
            kind: Some(ContactPointKind::Email),
            value: Some(Some("Ada@Example.COM".into())),
            ..ContactPointChanges::default()
        }
        .into_new(&mut v, &path);
        let phone = ContactPointChanges {
            kind: Some(ContactPointKind::Mobile),
            ..ContactPointChanges::default()
        }
        .into_new(&mut v, &path);

        assert_eq!(
            email.and_then(|point| point.value).as_deref(),
            Some("Ada@example.com")
        );
        assert!(phone.is_none());
        let Err(crate::error::AppError::UserErrors(errors)) = v.finish() else {
            panic!("expected a user error");
        };
        assert_eq!(
            errors[0].field,
            Some(vec!["input".to_owned(), "number".to_owned()])
        );
    }
}
