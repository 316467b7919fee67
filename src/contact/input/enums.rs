//! The contact enums, which inputs and outputs share: stored as their SCREAMING_CASE names.

use crate::db_enum::db_enum;

db_enum! {
    /// Whether a contact is a person or an organisation.
    pub enum ContactSubtype {
        /// A natural person: `firstName` and `lastName` are set.
        Person => "PERSON",
        /// An organisation: `companyName` is set.
        Company => "COMPANY",
    }
}

db_enum! {
    /// A contact's role for its owner. At most one PRIMARY and one SECONDARY contact per
    /// customer and per account.
    pub enum ContactRole {
        /// The main contact.
        Primary => "PRIMARY",
        /// The deputy of the main contact.
        Secondary => "SECONDARY",
        /// Any other contact.
        Other => "OTHER",
    }
}

db_enum! {
    /// Lifecycle state of a contact.
    pub enum ContactStatus {
        /// In use.
        Active => "ACTIVE",
        /// Kept for history, no longer used.
        Archived => "ARCHIVED",
    }
}
