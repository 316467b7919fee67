//! The nested lists of `createContact`, `updateContact` and `saveContact`: a primary
//! address, further addresses and contact points, refused whole past a contact's caps.

use crate::address::input::{AddressInput, NewAddress};
use crate::contact_point::input::{ContactPointInput, NewContactPoint};
use crate::input::limits::CappedList;
use crate::input::{FieldPath, Validation};

/// Parsed nested lists of a create, update or save: every item a new row. A list given
/// replaces the stored one, an absent list (`None`) leaves it alone.
#[derive(Debug, Default)]
pub struct NestedInput {
    /// The primary address, when given.
    pub primary_address: Option<NewAddress>,
    /// Further addresses, when given.
    pub addresses: Option<Vec<NewAddress>>,
    /// Contact points, when given.
    pub contact_points: Option<Vec<NewContactPoint>>,
}

impl NestedInput {
    /// Whether no list was given: the write leaves the stored lists alone.
    pub fn is_empty(&self) -> bool {
        self.primary_address.is_none() && self.addresses.is_none() && self.contact_points.is_none()
    }
}

/// Refuse (`TOO_MANY`) nested lists that alone exceed a contact's caps, before any item is
/// parsed or any SQL runs; returns whether the lists fit. Both lists given replace the stored
/// ones, so `primaryAddress` counts toward the addresses.
fn check_nested_caps(
    v: &mut Validation,
    path: &FieldPath,
    primary_address: bool,
    addresses: Option<usize>,
    contact_points: Option<usize>,
) -> bool {
    let mut fits = true;
    if let Some(count) = contact_points
        && let Err(error) = CappedList::ContactPoints.check(count, &path.field("contactPoints"))
    {
        v.push(error);
        fits = false;
    }
    if let Some(count) = addresses
        && let Err(error) = CappedList::Addresses.check(
            count + usize::from(primary_address),
            &path.field("addresses"),
        )
    {
        v.push(error);
        fits = false;
    }
    fits
}

/// Parse nested addresses and contact points under `path`, requiring what new rows need.
/// Lists longer than a contact's caps are refused whole, their items unread.
pub fn parse_nested(
    v: &mut Validation,
    path: &FieldPath,
    primary_address: Option<AddressInput>,
    addresses: Option<Vec<AddressInput>>,
    contact_points: Option<Vec<ContactPointInput>>,
) -> NestedInput {
    if !check_nested_caps(
        v,
        path,
        primary_address.is_some(),
        addresses.as_ref().map(Vec::len),
        contact_points.as_ref().map(Vec::len),
    ) {
        return NestedInput::default();
    }
    // An item that does not parse is left out: its problems are in `v`, so the input is
    // refused as a whole.
    let primary_address =
        primary_address.and_then(|input| input.parse_new(v, &path.field("primaryAddress")));
    let addresses = addresses.map(|list| {
        list.into_iter()
            .enumerate()
            .filter_map(|(index, input)| input.parse_new(v, &path.field("addresses").index(index)))
            .collect()
    });
    let contact_points = contact_points.map(|list| {
        list.into_iter()
            .enumerate()
            .filter_map(|(index, input)| {
                input.parse_new(v, &path.field("contactPoints").index(index))
            })
            .collect()
    });
    NestedInput {
        primary_address,
        addresses,
        contact_points,
    }
}
