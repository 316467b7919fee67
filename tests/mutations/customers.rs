//! Customer mutations.
