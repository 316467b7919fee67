//! What a document is held to and what it was found to cost.

/// How deep braces, brackets and parentheses may nest in the document's text. async-graphql's
/// parser enforces 64 levels only after pest has recursed through the whole text, which a
/// deep enough document turns into a stack overflow; nothing legitimate comes close.
pub(super) const MAX_TEXT_NESTING: usize = 96;

/// How much validation work, in expanded fields summed over every selection set, a document
/// may need per field of `KITH_MAX_FIELDS`: a query `d` levels deep needs about `d` per field,
/// and its fragments' definitions as much again.
pub(super) const VALIDATION_WORK_PER_FIELD: usize = 50;

/// The limits a document (or a whole batch) is held to.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Deepest selection, introspection excluded.
    pub max_depth: usize,
    /// Largest complexity.
    pub max_complexity: usize,
    /// Most selections after fragment expansion.
    pub max_fields: usize,
    /// Largest `pageSize` a paged list accepts (a larger one is refused by the list itself;
    /// here it is costed at the maximum).
    pub max_page_size: usize,
}

/// What a document was found to cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    /// Selections after fragment expansion.
    pub fields: usize,
    /// Complexity, list sizes included.
    pub complexity: usize,
    /// Deepest selection, introspection excluded.
    pub depth: usize,
}

/// Why a document was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CostError {
    /// Over one of the limits.
    #[error("{0}")]
    TooComplex(String),
    /// A fragment spreads itself, directly or not (validation would say so too, after an
    /// unbounded walk).
    #[error("fragment `{0}` spreads itself")]
    FragmentCycle(String),
    /// The text nests deeper than any query needs.
    #[error("the document nests brackets more than {MAX_TEXT_NESTING} levels deep")]
    TooDeeplyNested,
}
