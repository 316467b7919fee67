//! A contact's own fields: `ContactFields` parsed once into `ContactChanges` (the columns an
//! input sets), which become a `ContactDraft` (the contact as it will be stored, its subtype
//! rules checked) for a new contact or on top of a stored one.
//!
//! The changes are a `contact::ActiveModel`, so a new column needs one field in
//! `ContactFields` and its line in [`ContactFields::parse`]: the writes take every column from
//! the draft.

use async_graphql::{InputObject, MaybeUndefined};
use entity::contact;
use sea_orm::ActiveValue::{self, NotSet, Set};
use sea_orm::{ActiveModelTrait, IntoActiveModel, Iterable};

use super::{ContactRole, ContactStatus, ContactSubtype};
use crate::error::{AppError, Result};
use crate::input::{
    Code, Email, FieldPath, Identifier, LongName, Name, Password, Problem, Text, Validation,
    WebsiteUrl,
};
use crate::ordering::sort_name;

/// The fields of a contact. An absent field is left as it is (or takes its default when the
/// contact is new); `null` clears a nullable field.
#[derive(InputObject, Default)]
pub struct ContactFields {
    /// PERSON (needs `firstName` and `lastName`) or COMPANY (needs `companyName`).
    pub subtype: MaybeUndefined<ContactSubtype>,
    /// PRIMARY, SECONDARY or OTHER (the default). At most one PRIMARY and one SECONDARY per
    /// customer and per account.
    pub role: MaybeUndefined<ContactRole>,
    /// Form of address.
    pub title: MaybeUndefined<String>,
    /// Given name.
    pub first_name: MaybeUndefined<String>,
    /// Family name.
    pub last_name: MaybeUndefined<String>,
    /// Organisation name.
    pub company_name: MaybeUndefined<String>,
    /// Job title.
    pub position: MaybeUndefined<String>,
    /// Main email address.
    pub email_address: MaybeUndefined<String>,
    /// Web site (http or https URL).
    pub website: MaybeUndefined<String>,
    /// Tax identifier.
    pub tax_id: MaybeUndefined<String>,
    /// Whether the contact is used for tax reporting.
    pub is_used_for_tax: MaybeUndefined<bool>,
    /// External reference number, unique among the contacts of one customer (its direct and
    /// account-level contacts); a shared contact's number is not checked against any other.
    pub contact_number: MaybeUndefined<String>,
    /// Free classification (e.g. BILLING).
    pub contact_type: MaybeUndefined<String>,
    /// Dealer code.
    pub dealer_code: MaybeUndefined<String>,
    /// ACTIVE (the default) or ARCHIVED.
    pub status: MaybeUndefined<ContactStatus>,
    /// Bank account details (returned masked).
    pub bank_account_details: MaybeUndefined<String>,
    /// Account password, 8 to 128 characters: stored as an Argon2id hash, never returned.
    pub account_password: MaybeUndefined<String>,
}

/// Parsed contact fields: the columns the input sets (`NotSet` unchanged, `Set(None)`
/// cleared), and the password, which the write hashes into its column.
#[derive(Clone, Debug, Default)]
pub struct ContactChanges {
    columns: contact::ActiveModel,
    account_password: Option<Option<Password>>,
}

/// An enum field: stored as its spelling; `null` is refused.
fn enum_value<T>(
    v: &mut Validation,
    path: &FieldPath,
    raw: MaybeUndefined<T>,
    as_db: fn(T) -> &'static str,
) -> ActiveValue<String> {
    match raw {
        MaybeUndefined::Value(value) => Set(as_db(value).to_owned()),
        MaybeUndefined::Null => {
            v.push(Problem::required("cannot be null").at(path));
            NotSet
        }
        MaybeUndefined::Undefined => NotSet,
    }
}

/// A nullable text field, parsed as `T`.
fn text<T>(
    v: &mut Validation,
    path: &FieldPath,
    raw: MaybeUndefined<String>,
) -> ActiveValue<Option<String>>
where
    T: TryFrom<String, Error = Problem> + Into<String>,
{
    let parsed: Option<Option<T>> = v.nullable(path, raw);
    match parsed {
        Some(value) => Set(value.map(Into::into)),
        None => NotSet,
    }
}

/// A flag: `null` means `false`.
fn flag(raw: MaybeUndefined<bool>) -> ActiveValue<bool> {
    match raw {
        MaybeUndefined::Value(flag) => Set(flag),
        MaybeUndefined::Null => Set(false),
        MaybeUndefined::Undefined => NotSet,
    }
}

impl ContactFields {
    /// Parse every field, recording problems under `path`.
    pub fn parse(self, v: &mut Validation, path: &FieldPath) -> ContactChanges {
        let at = |name: &str| path.field(name);
        // Fields are parsed in this order, and their problems reported in it.
        let columns = contact::ActiveModel {
            subtype: enum_value(v, &at("subtype"), self.subtype, ContactSubtype::as_db),
            role: enum_value(v, &at("role"), self.role, ContactRole::as_db),
            title: text::<Text<32>>(v, &at("title"), self.title),
            first_name: text::<Name>(v, &at("firstName"), self.first_name),
            last_name: text::<Name>(v, &at("lastName"), self.last_name),
            company_name: text::<LongName>(v, &at("companyName"), self.company_name),
            position: text::<Name>(v, &at("position"), self.position),
            email_address: text::<Email>(v, &at("emailAddress"), self.email_address),
            website: text::<WebsiteUrl>(v, &at("website"), self.website),
            tax_id: text::<Identifier>(v, &at("taxId"), self.tax_id),
            is_used_for_tax: flag(self.is_used_for_tax),
            contact_number: text::<Code>(v, &at("contactNumber"), self.contact_number),
            contact_type: text::<Code>(v, &at("contactType"), self.contact_type),
            dealer_code: text::<Code>(v, &at("dealerCode"), self.dealer_code),
            status: enum_value(v, &at("status"), self.status, ContactStatus::as_db),
            bank_account_details: text::<Identifier>(
                v,
                &at("bankAccountDetails"),
                self.bank_account_details,
            ),
            ..Default::default()
        };
        ContactChanges {
            columns,
            account_password: v.nullable(&at("accountPassword"), self.account_password),
        }
    }
}

/// The value a text column is given, if any.
fn given(value: &ActiveValue<Option<String>>) -> Option<&str> {
    value.try_as_ref().and_then(|value| value.as_deref())
}

impl ContactChanges {
    /// The contact number this input names, if any (the upsert key).
    pub fn contact_number(&self) -> Option<&str> {
        given(&self.columns.contact_number)
    }

    /// How `saveContact` recognises the contact these fields describe when they name neither
    /// an id nor a number: a person by first and last name, a company by its name.
    pub fn name_key(&self) -> Option<NameKey<'_>> {
        let columns = &self.columns;
        let subtype = columns.subtype.try_as_ref().map(String::as_str);
        let (company, first, last) = (
            given(&columns.company_name),
            given(&columns.first_name),
            given(&columns.last_name),
        );
        match (company, first, last) {
            (_, Some(first), Some(last)) if subtype != Some(ContactSubtype::Company.as_db()) => {
                Some(NameKey::Person { first, last })
            }
            (Some(company), _, _) => Some(NameKey::Company(company)),
            _ => None,
        }
    }

    /// A new contact of these fields alone (absent ones take their column's default); `None`,
    /// with the problems recorded in `v`, when it breaks the subtype rules.
    pub fn new_contact(&self, v: &mut Validation, path: &FieldPath) -> Option<ContactDraft> {
        ContactDraft::checked(self.columns.clone(), self.account_password.clone(), v, path)
    }

    /// [`ContactChanges::new_contact`], its problems as the error.
    pub fn into_new_contact(&self, path: &FieldPath) -> Result<ContactDraft> {
        let mut v = Validation::default();
        let draft = self.new_contact(&mut v, path);
        finish(v, draft)
    }

    /// The stored contact `current` with these changes: refused when the result would break
    /// the subtype rules, so a partial update cannot break them either.
    pub fn onto(&self, current: contact::Model, path: &FieldPath) -> Result<ContactDraft> {
        let mut columns = current.into_active_model();
        for column in contact::Column::iter() {
            if let Set(value) = self.columns.get(column) {
                columns.try_set(column, value)?;
            }
        }
        let mut v = Validation::default();
        let draft = ContactDraft::checked(columns, self.account_password.clone(), &mut v, path);
        finish(v, draft)
    }
}

/// See [`ContactChanges::name_key`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKey<'a> {
    /// A person's first and last name.
    Person {
        /// First name.
        first: &'a str,
        /// Last name.
        last: &'a str,
    },
    /// A company's name.
    Company(&'a str),
}

/// A contact as it will be stored, its subtype rules checked: the only thing a contact write
/// stores. Columns left `NotSet` (a new contact's absent fields) take the column default.
#[derive(Clone, Debug)]
pub struct ContactDraft {
    columns: contact::ActiveModel,
    account_password: Option<Option<Password>>,
}

impl ContactDraft {
    /// The draft of a contact as it will be stored, every column given, its `sort_name` (the
    /// key of `orderBy: NAME`) derived from the names it holds.
    fn checked(
        mut columns: contact::ActiveModel,
        account_password: Option<Option<Password>>,
        v: &mut Validation,
        path: &FieldPath,
    ) -> Option<ContactDraft> {
        let name = display_name_of(
            columns.subtype.try_as_ref().map_or("", String::as_str),
            [&columns.title, &columns.first_name, &columns.last_name].map(given),
            given(&columns.company_name),
        );
        columns.sort_name = Set(sort_name(&name));
        check_subtype_rules(&columns, v, path).then_some(ContactDraft {
            columns,
            account_password,
        })
    }

    /// The columns to store, and the password to hash into `account_password_hash`
    /// (`Some(None)` removes it).
    pub fn into_parts(self) -> (contact::ActiveModel, Option<Option<Password>>) {
        (self.columns, self.account_password)
    }
}

/// PERSON needs a first and last name, COMPANY a company name: checked on the contact as it
/// would be stored. Returns whether the rules hold.
fn check_subtype_rules(
    columns: &contact::ActiveModel,
    v: &mut Validation,
    path: &FieldPath,
) -> bool {
    let has = |value: &ActiveValue<Option<String>>| given(value).is_some();
    let subtype = columns.subtype.try_as_ref().map_or("", String::as_str);
    let required: &[(&str, bool)] = match subtype {
        "PERSON" => &[
            ("firstName", has(&columns.first_name)),
            ("lastName", has(&columns.last_name)),
        ],
        "COMPANY" => &[("companyName", has(&columns.company_name))],
        _ => {
            v.push(Problem::required("is required").at(&path.field("subtype")));
            return false;
        }
    };
    let mut holds = true;
    for (field, present) in required {
        if *present {
            continue;
        }
        holds = false;
        let at = path.field(field);
        if !v.has_error_at(&at) {
            let message = format!("is required for a {subtype} contact");
            v.push(Problem::required(message).at(&at));
        }
    }
    holds
}

/// `value` once `v` recorded no problem. Parsers give `None` only after recording one, so a
/// clean `v` without a value is a bug.
pub(super) fn finish<T>(v: Validation, value: Option<T>) -> Result<T> {
    v.finish()?;
    value.ok_or_else(|| AppError::internal("a parsed contact input lost a value"))
}

/// "Title First Last" for a person, the company name for a company.
pub fn display_name(contact: &contact::Model) -> String {
    display_name_of(
        &contact.subtype,
        [&contact.title, &contact.first_name, &contact.last_name].map(Option::as_deref),
        contact.company_name.as_deref(),
    )
}

/// [`display_name`] of a contact's parts: `person` is title, first and last name.
fn display_name_of(subtype: &str, person: [Option<&str>; 3], company: Option<&str>) -> String {
    let person: Vec<&str> = person
        .into_iter()
        .flatten()
        .filter(|part| !part.is_empty())
        .collect();
    match (subtype, company) {
        ("COMPANY", Some(company)) => company.to_owned(),
        _ if !person.is_empty() => person.join(" "),
        (_, Some(company)) => company.to_owned(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::UserErrorCode;

    fn stored_person() -> contact::Model {
        let now = chrono::Utc::now();
        contact::Model {
            id: uuid::Uuid::nil(),
            customer_id: None,
            account_id: None,
            subtype: "PERSON".to_owned(),
            role: "OTHER".to_owned(),
            title: None,
            first_name: Some("Ada".to_owned()),
            last_name: Some("Lovelace".to_owned()),
            company_name: None,
            position: Some("Analyst".to_owned()),
            email_address: None,
            website: None,
            tax_id: None,
            is_used_for_tax: false,
            contact_number: None,
            contact_type: None,
            dealer_code: None,
            status: "ACTIVE".to_owned(),
            bank_account_details: None,
            account_password_hash: None,
            sort_name: "ada lovelace".to_owned(),
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    fn parse(fields: ContactFields) -> ContactChanges {
        let mut v = Validation::default();
        let changes = fields.parse(&mut v, &FieldPath::root("input"));
        assert!(v.is_clean(), "{v:?}");
        changes
    }

    fn problems(result: Result<ContactDraft>) -> Vec<(UserErrorCode, Vec<String>)> {
        match result {
            Err(AppError::UserErrors(errors)) => errors
                .into_iter()
                .map(|e| (e.code, e.field.unwrap_or_default()))
                .collect(),
            other => panic!("expected user errors, got {other:?}"),
        }
    }

    fn at(field: &str) -> Vec<String> {
        vec!["input".to_owned(), field.to_owned()]
    }

    #[test]
    fn a_new_person_needs_both_names() {
        let changes = parse(ContactFields {
            subtype: MaybeUndefined::Value(ContactSubtype::Person),
            first_name: MaybeUndefined::Value("Ada".to_owned()),
            ..ContactFields::default()
        });

        let result = changes.into_new_contact(&FieldPath::root("input"));

        assert_eq!(
            problems(result),
            vec![(UserErrorCode::Required, at("lastName"))]
        );
    }

    #[test]
    fn a_new_contact_leaves_absent_fields_to_their_column_defaults() {
        let changes = parse(ContactFields {
            subtype: MaybeUndefined::Value(ContactSubtype::Company),
            company_name: MaybeUndefined::Value("Acme".to_owned()),
            ..ContactFields::default()
        });

        let (columns, password) = changes
            .into_new_contact(&FieldPath::root("input"))
            .expect("a valid company")
            .into_parts();

        assert_eq!(columns.company_name, Set(Some("Acme".to_owned())));
        assert_eq!(columns.role, NotSet);
        assert_eq!(columns.first_name, NotSet);
        assert!(password.is_none());
    }

    #[test]
    fn changes_onto_a_stored_contact_keep_every_column_they_do_not_name() {
        let changes = parse(ContactFields {
            title: MaybeUndefined::Value("Dr".to_owned()),
            position: MaybeUndefined::Null,
            ..ContactFields::default()
        });

        let (columns, _) = changes
            .onto(stored_person(), &FieldPath::root("input"))
            .expect("still a valid person")
            .into_parts();

        assert_eq!(columns.title, Set(Some("Dr".to_owned())));
        assert_eq!(columns.position, Set(None));
        assert_eq!(
            columns.first_name,
            ActiveValue::Unchanged(Some("Ada".to_owned()))
        );
    }

    #[test]
    fn a_partial_update_cannot_break_the_subtype_rules() {
        let changes = parse(ContactFields {
            subtype: MaybeUndefined::Value(ContactSubtype::Company),
            ..ContactFields::default()
        });

        let result = changes.onto(stored_person(), &FieldPath::root("input"));

        assert_eq!(
            problems(result),
            vec![(UserErrorCode::Required, at("companyName"))]
        );
    }

    #[test]
    fn a_save_recognises_a_person_by_name_and_a_company_by_its_name() {
        let person = parse(ContactFields {
            first_name: MaybeUndefined::Value("Ada".to_owned()),
            last_name: MaybeUndefined::Value("Lovelace".to_owned()),
            company_name: MaybeUndefined::Value("Engines".to_owned()),
            ..ContactFields::default()
        });
        let company = parse(ContactFields {
            subtype: MaybeUndefined::Value(ContactSubtype::Company),
            first_name: MaybeUndefined::Value("Ada".to_owned()),
            last_name: MaybeUndefined::Value("Lovelace".to_owned()),
            company_name: MaybeUndefined::Value("Engines".to_owned()),
            ..ContactFields::default()
        });

        assert_eq!(
            person.name_key(),
            Some(NameKey::Person {
                first: "Ada",
                last: "Lovelace"
            })
        );
        assert_eq!(company.name_key(), Some(NameKey::Company("Engines")));
        assert_eq!(parse(ContactFields::default()).name_key(), None);
    }
}
