//! How many contact points and addresses one contact may hold (API.md: at most 50 and 20).
//!
//! Every write path enforces them (create, update, save, patch, add, attach), and the query
//! cost model reads them to cost `Contact.contactPoints` and `Contact.addresses` at their cap.
//! They live here, below both the writes and the GraphQL layer, so either can import them.

use super::{FieldPath, UserError, UserErrorCode};

/// The most contact points one contact holds.
pub const MAX_CONTACT_POINTS_PER_CONTACT: usize = 50;

/// The most addresses (the primary one included) one contact holds.
pub const MAX_ADDRESSES_PER_CONTACT: usize = 20;

/// A list of a contact's that has a cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CappedList {
    /// A contact's contact points.
    ContactPoints,
    /// A contact's addresses.
    Addresses,
}

impl CappedList {
    /// The cap.
    pub fn max(self) -> usize {
        match self {
            CappedList::ContactPoints => MAX_CONTACT_POINTS_PER_CONTACT,
            CappedList::Addresses => MAX_ADDRESSES_PER_CONTACT,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            CappedList::ContactPoints => "contact points",
            CappedList::Addresses => "addresses",
        }
    }

    /// `TOO_MANY` at `path` when a contact would hold `count` entries, more than the cap.
    pub fn check(self, count: usize, path: &FieldPath) -> Result<(), UserError> {
        if count <= self.max() {
            return Ok(());
        }
        Err(UserError {
            field: Some(path.clone().into_vec()),
            message: format!(
                "a contact holds at most {} {}; this would make {count}",
                self.max(),
                self.noun()
            ),
            code: UserErrorCode::TooMany,
        })
    }

    /// `TOO_MANY` at `path` when a patch's items for this list could only break the cap: more
    /// items that add an entry (`adding`) than the cap, or more items in all (`items`) than
    /// deleting every stored entry and adding a full set needs. Checked before any SQL; the
    /// exact count is checked once the patch has applied.
    pub fn check_patch(
        self,
        items: usize,
        adding: usize,
        path: &FieldPath,
    ) -> Result<(), UserError> {
        self.check(adding, path)?;
        if items > 2 * self.max() {
            return Err(UserError {
                field: Some(path.clone().into_vec()),
                message: format!("a patch holds at most {} items here", 2 * self.max()),
                code: UserErrorCode::TooMany,
            });
        }
        Ok(())
    }

    /// [`CappedList::check`] on row counts from the database, taken inside the write's
    /// transaction before and after it changed the list. Only a write that grows the list is
    /// refused: a contact stored over the cap before the caps existed can still be edited and
    /// shrunk, but not grown.
    pub fn check_growth(
        self,
        before: u64,
        after: u64,
        path: &FieldPath,
    ) -> crate::error::Result<()> {
        if after <= before {
            return Ok(());
        }
        let after = usize::try_from(after).unwrap_or(usize::MAX);
        self.check(after, path)
            .map_err(|error| crate::error::AppError::UserErrors(vec![error]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_itself_is_allowed_and_one_more_is_too_many() {
        let path = FieldPath::root("input").field("contactPoints");
        assert!(CappedList::ContactPoints.check(50, &path).is_ok());
        let error = CappedList::ContactPoints
            .check(51, &path)
            .expect_err("over the cap");
        assert_eq!(error.code, UserErrorCode::TooMany);
        assert_eq!(
            error.field,
            Some(vec!["input".to_owned(), "contactPoints".to_owned()])
        );
        assert!(CappedList::Addresses.check(20, &path).is_ok());
        assert!(CappedList::Addresses.check(21, &path).is_err());
    }

    #[test]
    fn a_patch_may_replace_a_full_list_but_not_more() {
        let path = FieldPath::root("patch").field("contactPoints");
        assert!(
            CappedList::ContactPoints
                .check_patch(100, 50, &path)
                .is_ok()
        );
        assert!(
            CappedList::ContactPoints
                .check_patch(100, 51, &path)
                .is_err()
        );
        assert!(
            CappedList::ContactPoints
                .check_patch(101, 0, &path)
                .is_err()
        );
    }

    #[test]
    fn a_list_stored_over_the_cap_may_shrink_or_stay_but_not_grow() {
        let path = FieldPath::root("patch").field("addresses");
        assert!(CappedList::Addresses.check_growth(30, 30, &path).is_ok());
        assert!(CappedList::Addresses.check_growth(30, 25, &path).is_ok());
        assert!(CappedList::Addresses.check_growth(30, 31, &path).is_err());
        assert!(CappedList::Addresses.check_growth(19, 20, &path).is_ok());
        assert!(CappedList::Addresses.check_growth(20, 21, &path).is_err());
    }
}
