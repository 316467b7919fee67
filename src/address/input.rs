//! Address input, parsed into the values the writes take: [`AddressChanges`] for an update,
//! [`NewAddress`] (complete) for a new one, and `attachAddress`'s [`AttachTarget`]. Also
//! [`AddressType`], which inputs and the `Address` type share.

use async_graphql::{ID, InputObject, MaybeUndefined};
use entity::address;
use uuid::Uuid;

use crate::db_enum::db_enum;
use crate::error::{AppError, FieldPath, Result, UserError};
use crate::input::{
    AddressLine, City, CountryCode, Latitude, Longitude, Name, PostalCode, Problem, Region,
    Validation, parse_uuid,
};

db_enum! {
    /// What an address is used for.
    pub enum AddressType {
        /// Street (physical) address.
        Street => "STREET",
        /// Post office box.
        Pobox => "POBOX",
        /// Postal (mailing) address.
        Postal => "POSTAL",
        /// Billing address.
        Billing => "BILLING",
        /// Any other use.
        Other => "OTHER",
    }
}

/// An address's fields. Creating needs `line1`, `city`, `state` and `postalCode`; updating
/// changes only the fields given (`null` clears a nullable one).
#[derive(InputObject, Default)]
pub struct AddressInput {
    /// What the address is used for; STREET when absent on creation.
    pub address_type: MaybeUndefined<AddressType>,
    /// First line.
    pub line1: MaybeUndefined<String>,
    /// Second line.
    pub line2: MaybeUndefined<String>,
    /// Third line.
    pub line3: MaybeUndefined<String>,
    /// Fourth line.
    pub line4: MaybeUndefined<String>,
    /// City or town.
    pub city: MaybeUndefined<String>,
    /// State, province or region, a code or a name of up to 100 characters (e.g. `CA`,
    /// `New South Wales`), stored as given.
    pub state: MaybeUndefined<String>,
    /// State name (e.g. `California`).
    pub state_name: MaybeUndefined<String>,
    /// Postal or ZIP code.
    pub postal_code: MaybeUndefined<String>,
    /// Country, ISO 3166-1 alpha-2 (e.g. `US`, `GB`).
    pub country: MaybeUndefined<String>,
    /// Latitude, -90 to 90.
    pub latitude: MaybeUndefined<f64>,
    /// Longitude, -180 to 180.
    pub longitude: MaybeUndefined<f64>,
}

/// Parsed address fields: `None` unchanged, `Some(None)` cleared.
#[derive(Clone, Debug, Default)]
pub struct AddressChanges {
    address_type: Option<AddressType>,
    line1: Option<String>,
    line2: Option<Option<String>>,
    line3: Option<Option<String>>,
    line4: Option<Option<String>>,
    city: Option<String>,
    state: Option<String>,
    state_name: Option<Option<String>>,
    postal_code: Option<String>,
    country: Option<Option<String>>,
    latitude: Option<Option<f64>>,
    longitude: Option<Option<f64>>,
}

/// A new address, complete: every field an address needs is here.
#[derive(Clone, Debug)]
pub struct NewAddress {
    /// What the address is used for (STREET unless given).
    pub address_type: AddressType,
    /// First line.
    pub line1: String,
    /// Second line.
    pub line2: Option<String>,
    /// Third line.
    pub line3: Option<String>,
    /// Fourth line.
    pub line4: Option<String>,
    /// City or town.
    pub city: String,
    /// State, province or region, a code or a name.
    pub state: String,
    /// State name.
    pub state_name: Option<String>,
    /// Postal or ZIP code.
    pub postal_code: String,
    /// Country, ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// Latitude.
    pub latitude: Option<f64>,
    /// Longitude.
    pub longitude: Option<f64>,
}

/// What `attachAddress` attaches: an existing address, or a new one.
#[derive(Debug)]
pub enum AttachTarget {
    /// An address already attached to another contact the caller may change.
    Existing(Uuid),
    /// A new address.
    New(Box<NewAddress>),
}

/// Parse `attachAddress`'s `addressId` or `input` (exactly one of them).
pub fn attach_target(address_id: Option<ID>, input: Option<AddressInput>) -> Result<AttachTarget> {
    let mut v = Validation::default();
    let target = match (address_id, input) {
        (Some(id), None) => v
            .check(&FieldPath::root("addressId"), parse_uuid(&id))
            .map(AttachTarget::Existing),
        (None, Some(input)) => input
            .parse_new(&mut v, &FieldPath::root("input"))
            .map(|new| AttachTarget::New(Box::new(new))),
        _ => {
            v.push(UserError::invalid(
                &FieldPath::root("addressId"),
                "give either addressId (an existing address) or input (a new one)",
            ));
            None
        }
    };
    v.finish()?;
    target.ok_or_else(|| AppError::internal("attach target missing"))
}

impl AddressInput {
    /// Parse a new address under `path`, requiring what a new address needs: `None` when it
    /// lacks some (the problems are in `v`).
    pub fn parse_new(self, v: &mut Validation, path: &FieldPath) -> Option<NewAddress> {
        self.parse(v, path).into_new(v, path)
    }

    /// Parse every field, recording problems under `path`.
    pub fn parse(self, v: &mut Validation, path: &FieldPath) -> AddressChanges {
        let address_type = match self.address_type {
            MaybeUndefined::Value(kind) => Some(kind),
            MaybeUndefined::Null => {
                v.push(Problem::required("cannot be null").at(&path.field("addressType")));
                None
            }
            MaybeUndefined::Undefined => None,
        };
        let line = |v: &mut Validation, name: &str, raw| -> Option<Option<String>> {
            let parsed: Option<Option<AddressLine>> = v.nullable(&path.field(name), raw);
            parsed.map(|l| l.map(|l| l.0))
        };
        let line1: Option<AddressLine> = v.non_nullable(&path.field("line1"), self.line1);
        let line2 = line(v, "line2", self.line2);
        let line3 = line(v, "line3", self.line3);
        let line4 = line(v, "line4", self.line4);
        let city: Option<City> = v.non_nullable(&path.field("city"), self.city);
        let state: Option<Region> = v.non_nullable(&path.field("state"), self.state);
        let state_name: Option<Option<Name>> =
            v.nullable(&path.field("stateName"), self.state_name);
        let postal_code: Option<PostalCode> =
            v.non_nullable(&path.field("postalCode"), self.postal_code);
        let country: Option<Option<CountryCode>> = v.nullable(&path.field("country"), self.country);
        let latitude: Option<Option<Latitude>> = v.nullable(&path.field("latitude"), self.latitude);
        let longitude: Option<Option<Longitude>> =
            v.nullable(&path.field("longitude"), self.longitude);
        AddressChanges {
            address_type,
            line1: line1.map(|l| l.0),
            line2,
            line3,
            line4,
            city: city.map(|c| c.0),
            state: state.map(|s| s.0),
            state_name: state_name.map(|s| s.map(|s| s.0)),
            postal_code: postal_code.map(|p| p.0),
            country: country.map(|c| c.map(|c| c.0)),
            latitude: latitude.map(|l| l.map(|l| l.0)),
            longitude: longitude.map(|l| l.map(|l| l.0)),
        }
    }
}

impl AddressChanges {
    /// These fields as a new address: `None` when a field it needs is missing (recorded in
    /// `v` under `path`, unless a problem is there already).
    pub fn into_new(self, v: &mut Validation, path: &FieldPath) -> Option<NewAddress> {
        for (field, present) in [
            ("line1", self.line1.is_some()),
            ("city", self.city.is_some()),
            ("state", self.state.is_some()),
            ("postalCode", self.postal_code.is_some()),
        ] {
            let at = path.field(field);
            if !present && !v.has_error_at(&at) {
                v.push(Problem::required("is required").at(&at));
            }
        }
        Some(NewAddress {
            address_type: self.address_type.unwrap_or(AddressType::Street),
            line1: self.line1?,
            line2: self.line2.flatten(),
            line3: self.line3.flatten(),
            line4: self.line4.flatten(),
            city: self.city?,
            state: self.state?,
            state_name: self.state_name.flatten(),
            postal_code: self.postal_code?,
            country: self.country.flatten(),
            latitude: self.latitude.flatten(),
            longitude: self.longitude.flatten(),
        })
    }

    /// Apply to a stored row.
    pub fn apply(&self, row: &mut address::Model) {
        if let Some(kind) = self.address_type {
            row.address_type = kind.as_db().to_owned();
        }
        if let Some(line1) = &self.line1 {
            row.line1.clone_from(line1);
        }
        for (target, change) in [
            (&mut row.line2, &self.line2),
            (&mut row.line3, &self.line3),
            (&mut row.line4, &self.line4),
            (&mut row.state_name, &self.state_name),
            (&mut row.country, &self.country),
        ] {
            if let Some(change) = change {
                target.clone_from(change);
            }
        }
        if let Some(city) = &self.city {
            row.city.clone_from(city);
        }
        if let Some(state) = &self.state {
            row.state_code.clone_from(state);
        }
        if let Some(postal_code) = &self.postal_code {
            row.postal_code.clone_from(postal_code);
        }
        if let Some(latitude) = self.latitude {
            row.latitude = latitude;
        }
        if let Some(longitude) = self.longitude {
            row.longitude = longitude;
        }
    }
}
