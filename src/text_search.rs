//! Case-insensitive "contains" search, the same results on SQLite and PostgreSQL.

use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, DbBackend, IntoSimpleExpr};

use crate::error::{AppError, Result};

/// The longest search text accepted; longer input is a client bug, not a search.
pub const MAX_SEARCH_LENGTH: usize = 200;

/// Text a client filters by (`search`, `dealerCode`), checked before any SQL is built: at
/// most [`MAX_SEARCH_LENGTH`] characters and no NUL. PostgreSQL cannot store or compare a NUL
/// in text (the statement fails), and SQLite's LIKE stops reading at one, so `"a\0b"` would
/// search for "a": the same input must mean the same thing, or nothing, on both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchText(String);

impl SearchText {
    /// Check `text`, given as the input field `field` (named in the error).
    pub fn parse(field: &str, text: String) -> Result<SearchText> {
        if text.contains('\0') {
            return Err(AppError::BadUserInput(format!(
                "`{field}` must not contain a NUL character (U+0000)"
            )));
        }
        if text.chars().count() > MAX_SEARCH_LENGTH {
            return Err(AppError::BadUserInput(format!(
                "`{field}` must be at most {MAX_SEARCH_LENGTH} characters"
            )));
        }
        Ok(SearchText(text))
    }

    /// Check an optional filter value, handing back the text the query services take.
    pub fn parse_optional(field: &str, text: Option<String>) -> Result<Option<String>> {
        text.map(|text| SearchText::parse(field, text).map(SearchText::into_inner))
            .transpose()
    }

    /// The checked text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The checked text, owned.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Every whitespace-separated term of `text` must occur (ignoring case) in at least one of
/// `columns`: "ada love" finds first name Ada, last name Lovelace.
pub fn matches_all_terms<C: ColumnTrait>(
    backend: DbBackend,
    text: &str,
    columns: &[C],
) -> Condition {
    let haystacks: Vec<SimpleExpr> = match backend {
        // One lower-cased text of all the columns, joined by spaces: terms never hold a space,
        // so none can match across two columns. It is written out as SQL, not with bound `''`
        // and `' '`, so that it is the very expression a trigram index can be built on, as
        // `ix_contact_search` (migration `m20261124_000002`) is for contact search.
        DbBackend::Postgres => vec![Expr::cust(joined_lower_case(columns))],
        // SQLite's LIKE already ignores ASCII case and its lower() folds nothing more, so the
        // bare columns give the same answer at half the cost of a scan.
        _ => columns
            .iter()
            .map(|column| column.into_simple_expr())
            .collect(),
    };
    let mut all = Condition::all();
    for term in text.split_whitespace() {
        let pattern = format!("%{}%", escape_like(&term.to_lowercase()));
        let mut any = Condition::any();
        for haystack in &haystacks {
            any = any.add(haystack.clone().like(LikeExpr::new(&pattern).escape('\\')));
        }
        all = all.add(any);
    }
    all
}

/// `lower(coalesce("t"."a", '') || ' ' || coalesce("t"."b", '') ...)` over `columns`.
fn joined_lower_case<C: ColumnTrait>(columns: &[C]) -> String {
    let parts: Vec<String> = columns
        .iter()
        .map(|column| {
            format!(
                "coalesce(\"{}\".\"{}\", '')",
                column.entity_name(),
                column.as_str()
            )
        })
        .collect();
    format!("lower({})", parts.join(" || ' ' || "))
}

/// Escape LIKE's wildcards so user text matches literally.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::{MAX_SEARCH_LENGTH, SearchText, escape_like};

    #[test]
    fn search_text_refuses_nul_and_overlong_text() {
        let nul = SearchText::parse("search", "a\0b".into()).expect_err("NUL");
        assert_eq!(nul.code(), "BAD_USER_INPUT");
        assert!(nul.to_string().contains("NUL"), "{nul}");
        let long = "x".repeat(MAX_SEARCH_LENGTH + 1);
        assert!(SearchText::parse("search", long).is_err());
        let longest = "é".repeat(MAX_SEARCH_LENGTH);
        assert_eq!(
            SearchText::parse("search", longest.clone())
                .map(SearchText::into_inner)
                .ok(),
            Some(longest)
        );
        assert_eq!(SearchText::parse_optional("search", None).ok(), Some(None));
    }

    #[test]
    fn wildcards_are_literal() {
        assert_eq!(escape_like("50%_off\\"), "50\\%\\_off\\\\");
        assert_eq!(escape_like("plain"), "plain");
    }
}
