//! Account mutations.
