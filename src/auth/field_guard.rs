//! Masking of sensitive values (`taxId`, `bankAccountDetails`).

use async_graphql::Context;

use crate::auth::UNMASK_TAX_ID_PERMISSION;
use crate::graphql_context::ContextExt;

/// How many trailing characters a masked value keeps visible.
const VISIBLE_TAIL: usize = 4;

/// Mask every letter and digit but the last four, keeping separators where they are:
/// `123-45-6789` becomes `***-**-6789`. A value with four or fewer letters and digits is
/// masked whole, since showing "the last four" would show all of it.
pub fn mask(value: &str) -> String {
    let significant = value.chars().filter(|c| c.is_alphanumeric()).count();
    let hidden = if significant <= VISIBLE_TAIL {
        significant
    } else {
        significant - VISIBLE_TAIL
    };
    let mut seen = 0;
    value
        .chars()
        .map(|c| {
            if !c.is_alphanumeric() {
                return c;
            }
            seen += 1;
            if seen <= hidden { '*' } else { c }
        })
        .collect()
}

/// The value as this caller may see it: whole with the unmask permission or the server-wide
/// switch, masked otherwise.
pub fn guard_sensitive(ctx: &Context<'_>, value: Option<&str>) -> Option<String> {
    let value = value?;
    let unmasked = ctx.settings().unmask_tax_id
        || ctx
            .principal()
            .is_ok_and(|p| p.has_permission(UNMASK_TAX_ID_PERMISSION));
    Some(if unmasked {
        value.to_owned()
    } else {
        mask(value)
    })
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn keeps_separators_and_last_four() {
        assert_eq!(mask("123-45-6789"), "***-**-6789");
        assert_eq!(mask("GB 12 3456 7890"), "** ** **** 7890");
        assert_eq!(mask("DE89370400440532013000"), "******************3000");
    }

    #[test]
    fn short_values_are_masked_whole() {
        assert_eq!(mask("1234"), "****");
        assert_eq!(mask("12-3"), "**-*");
        assert_eq!(mask(""), "");
    }

    #[test]
    fn five_characters_show_four() {
        assert_eq!(mask("12345"), "*2345");
    }
}
