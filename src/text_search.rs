//! Case-insensitive "contains" search, the same on SQLite and PostgreSQL.

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, IntoSimpleExpr};

/// The longest search text accepted; longer input is a client bug, not a search.
pub const MAX_SEARCH_LENGTH: usize = 200;

/// Every whitespace-separated term of `text` must occur (ignoring case) in at least one of
/// `columns`: "ada love" finds first name Ada, last name Lovelace.
pub fn matches_all_terms<C: ColumnTrait>(text: &str, columns: &[C]) -> Condition {
    let mut all = Condition::all();
    for term in text.split_whitespace() {
        let pattern = format!("%{}%", escape_like(&term.to_lowercase()));
        let mut any = Condition::any();
        for column in columns {
            any = any.add(
                lower((*column).into_simple_expr()).like(LikeExpr::new(&pattern).escape('\\')),
            );
        }
        all = all.add(any);
    }
    all
}

fn lower(expr: SimpleExpr) -> Expr {
    Expr::expr(Func::lower(expr))
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
