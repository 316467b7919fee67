//! Case-insensitive "contains" search, the same results on SQLite and PostgreSQL.

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, DbBackend, IntoSimpleExpr};

/// The longest search text accepted; longer input is a client bug, not a search.
pub const MAX_SEARCH_LENGTH: usize = 200;

/// The searched text of a contact on PostgreSQL: names and email, lower-cased, joined by
/// spaces. It is the expression of the `ix_contact_search` trigram index (migration
/// `m20261124_000002`), written out as SQL so that the query carries it literally (bound
/// parameters in place of `''` and `' '` would not match the index). Terms never hold a
/// space, so none can match across two columns.
pub const CONTACT_SEARCH_TEXT: &str = r#"lower(coalesce("contact"."first_name", '') || ' ' || coalesce("contact"."last_name", '') || ' ' || coalesce("contact"."company_name", '') || ' ' || coalesce("contact"."email_address", ''))"#;

/// Every whitespace-separated term of `text` must occur (ignoring case) in at least one of
/// `columns`: "ada love" finds first name Ada, last name Lovelace.
pub fn matches_all_terms<C: ColumnTrait>(
    backend: DbBackend,
    text: &str,
    columns: &[C],
) -> Condition {
    let haystacks: Vec<SimpleExpr> = columns
        .iter()
        .map(|column| match backend {
            // SQLite's LIKE already ignores ASCII case and its lower() folds nothing more, so
            // the bare column gives the same answer at half the cost of a scan.
            DbBackend::Sqlite => column.into_simple_expr(),
            _ => Func::lower(column.into_simple_expr()).into(),
        })
        .collect();
    matches_all_terms_in(text, &haystacks)
}

/// Contact search: on PostgreSQL one expression the trigram index answers, elsewhere the
/// columns one by one.
pub fn contact_matches_all_terms<C: ColumnTrait>(
    backend: DbBackend,
    text: &str,
    columns: &[C],
) -> Condition {
    match backend {
        DbBackend::Postgres => matches_all_terms_in(text, &[Expr::cust(CONTACT_SEARCH_TEXT)]),
        _ => matches_all_terms(backend, text, columns),
    }
}

/// Every term of `text`, lower-cased, is a substring of one of the (lower-cased) `haystacks`.
fn matches_all_terms_in(text: &str, haystacks: &[SimpleExpr]) -> Condition {
    let mut all = Condition::all();
    for term in text.split_whitespace() {
        let pattern = format!("%{}%", escape_like(&term.to_lowercase()));
        let mut any = Condition::any();
        for haystack in haystacks {
            any = any.add(haystack.clone().like(LikeExpr::new(&pattern).escape('\\')));
        }
        all = all.add(any);
    }
    all
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
    use super::escape_like;

    #[test]
    fn wildcards_are_literal() {
        assert_eq!(escape_like("50%_off\\"), "50\\%\\_off\\\\");
        assert_eq!(escape_like("plain"), "plain");
    }
}
