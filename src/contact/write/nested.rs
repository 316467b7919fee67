//! The nested lists of a create, update or save: contact points and addresses given replace
//! the stored ones (a new contact has none).

use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::address::write as address_write;
use crate::contact::input::NestedInput;
use crate::contact_point::write as contact_point_write;
use crate::error::Result;
use crate::input::FieldPath;
use crate::input::limits::CappedList;

/// Write the nested lists of contact `contact_id`; `replace` drops the stored ones first.
///
/// The lists given were checked against the caps before any SQL ran; a primary address given
/// alone joins the stored further addresses, so the total is counted after the write. The
/// contact row is locked by then (its `UPDATE` ran first), so no concurrent attachment slips
/// in between.
pub(super) async fn write_nested(
    db: &impl ConnectionTrait,
    contact_id: Uuid,
    nested: &NestedInput,
    input: &FieldPath,
    replace: bool,
) -> Result<()> {
    let counts_addresses =
        replace && (nested.primary_address.is_some() || nested.addresses.is_some());
    let addresses_before = if counts_addresses {
        crate::address::service::count_of(db, contact_id).await?
    } else {
        0
    };
    if let Some(points) = &nested.contact_points {
        if replace {
            contact_point_write::delete_all_of(db, contact_id).await?;
        }
        contact_point_write::insert_all(db, contact_id, points).await?;
    }
    if let Some(primary) = &nested.primary_address {
        if replace {
            address_write::detach_all(db, contact_id, true).await?;
        }
        address_write::insert_attached(db, contact_id, primary, true).await?;
    }
    if let Some(addresses) = &nested.addresses {
        if replace {
            address_write::detach_all(db, contact_id, false).await?;
        }
        for address in addresses {
            address_write::insert_attached(db, contact_id, address, false).await?;
        }
    }
    if counts_addresses {
        let list = if nested.addresses.is_some() {
            "addresses"
        } else {
            "primaryAddress"
        };
        let after = crate::address::service::count_of(db, contact_id).await?;
        CappedList::Addresses.check_growth(addresses_before, after, &input.field(list))?;
    }
    Ok(())
}
