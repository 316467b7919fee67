//! Input newtypes. Each `TryFrom<String>` (or `f64`) accepts exactly the values Kith stores,
//! normalising where that is unambiguous (trimming, upper-casing country codes, dropping
//! separators from phone digits).

use super::country::ISO_3166_ALPHA_2;
use super::user_error::Problem;

/// An id given inside an input object (a UUID).
pub fn parse_uuid(id: &async_graphql::ID) -> Result<uuid::Uuid, Problem> {
    uuid::Uuid::parse_str(id.as_str()).map_err(|_| Problem::invalid("is not a valid id (a UUID)"))
}

/// Trim, refuse blank, overlong and control characters.
fn clean_text(raw: String, max: usize) -> Result<String, Problem> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Problem::required("must not be blank"));
    }
    if text.chars().count() > max {
        return Err(Problem::too_long(max));
    }
    if text.chars().any(char::is_control) {
        return Err(Problem::invalid("must not contain control characters"));
    }
    Ok(text.to_owned())
}

/// Free text of at most `MAX` characters: trimmed, not blank, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text<const MAX: usize>(pub String);

impl<const MAX: usize> TryFrom<String> for Text<MAX> {
    type Error = Problem;
    fn try_from(raw: String) -> Result<Self, Problem> {
        clean_text(raw, MAX).map(Text)
    }
}

macro_rules! into_string {
    ($($name:ty),+) => {
        $(impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        })+
    };
}

impl<const MAX: usize> From<Text<MAX>> for String {
    fn from(value: Text<MAX>) -> String {
        value.0
    }
}

into_string!(
    Email,
    WebsiteUrl,
    CountryCode,
    CallingCode,
    AreaCode,
    PhoneNumber,
    PostalCode,
    Identifier
);

/// A person's or organisation's name part.
pub type Name = Text<100>;
/// A company or customer name.
pub type LongName = Text<200>;
/// A short code or reference (customer number, dealer code, contact type...).
pub type Code = Text<64>;
/// An address line.
pub type AddressLine = Text<200>;
/// A city or town.
pub type City = Text<100>;
/// A state, province or region, as a code or a name (`CA`, `NSW`, `New South Wales`,
/// `Baden-Württemberg`), kept as given: upper-casing would mangle names.
pub type Region = Text<100>;

/// Whether `host` is a DNS host name: dot-separated labels of letters, digits and `-`, none
/// empty or longer than 63 characters, none starting or ending with `-` (RFC 1123 §2.1).
/// Letters may be non-ASCII so that an internationalised name given as typed passes too.
/// Both crates below need it: `url` accepts `-bad-.com` (WHATWG hosts are looser than DNS),
/// and `email_address` lets any RFC 5322 `atext` (`_`, `+`, `!`...) into a domain label.
fn is_host_name(host: &str) -> bool {
    !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.chars().count() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// An email address (RFC 5321/5322 through the `email_address` crate): a dot-atom local part
/// (`a..b@` and `ada.@` refused), a domain of at least two labels; no display name
/// (`Ada <ada@x.com>`), no domain literal (`ada@[127.0.0.1]`) and no quoted local part
/// (`"a b"@x.com`): mail forms and senders rarely take them, and a stored address is meant to
/// be written to as it is. The domain is lower-cased; the local part keeps its case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(pub String);

impl TryFrom<String> for Email {
    type Error = Problem;
    fn try_from(raw: String) -> Result<Self, Problem> {
        let text = clean_text(raw, 254)?;
        let invalid = || Problem::invalid("is not a valid email address");
        let options = email_address::Options::default()
            .with_required_tld()
            .without_domain_literal()
            .without_display_text();
        let parsed = email_address::EmailAddress::parse_with_options(&text, options)
            .map_err(|_| invalid())?;
        let (local, domain) = (parsed.local_part(), parsed.domain());
        if local.starts_with('"') || !is_host_name(domain) {
            return Err(invalid());
        }
        // The domain is case-insensitive; the local part may not be (RFC 5321 §2.4).
        Ok(Email(format!("{local}@{}", domain.to_lowercase())))
    }
}

/// A web address: an absolute `http://` or `https://` URL (WHATWG, through the `url` crate)
/// whose host is an IP address (`https://[::1]/`) or a DNS host name ([`is_host_name`]).
/// Stored as given (trimmed), not in `url`'s normal form, so that clients read back what
/// they wrote (`http://localhost:8080`, not `http://localhost:8080/`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebsiteUrl(pub String);

impl TryFrom<String> for WebsiteUrl {
    type Error = Problem;
    fn try_from(raw: String) -> Result<Self, Problem> {
        let text = clean_text(raw, 2048)?;
        let invalid = || Problem::invalid("must be an http:// or https:// URL");
        // `url` would percent-encode a space in the path (`https://x.com/a b`) and accept it.
        if text.contains(char::is_whitespace) {
            return Err(invalid());
        }
        let parsed = url::Url::parse(&text).map_err(|_| invalid())?;
        let host_ok = match parsed.host() {
            Some(url::Host::Domain(domain)) => is_host_name(domain),
            Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => true,
            None => false,
        };
        if !matches!(parsed.scheme(), "http" | "https") || !host_ok {
            return Err(invalid());
        }
        Ok(WebsiteUrl(text))
    }
}

/// An ISO 3166-1 alpha-2 country code, upper case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountryCode(pub String);

impl TryFrom<String> for CountryCode {
    type Error = Problem;
    fn try_from(raw: String) -> Result<Self, Problem> {
        let code = raw.trim().to_ascii_uppercase();
        if ISO_3166_ALPHA_2.binary_search(&code.as_str()).is_ok() {
            Ok(CountryCode(code))
        } else {
            Err(Problem::invalid(
                "must be an ISO 3166-1 alpha-2 country code such as US, GB or DE",
            ))
        }
    }
}

/// Digits of a phone number part, separators (space, `-`, `.`, parentheses) removed.
fn digits(raw: &str, min: usize, max: usize, what: &str) -> Result<String, Problem> {
    let trimmed = raw.trim();
    let trimmed = trimmed.strip_prefix('+').unwrap_or(trimmed);
    if trimmed
        .chars()
        .any(|c| !(c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')')))
    {
        return Err(Problem::invalid(format!("{what} must contain digits only")));
    }
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return Err(Problem::required(format!("{what} must not be blank")));
    }
    if digits.len() < min || digits.len() > max {
        return Err(Problem::invalid(format!(
            "{what} must have {min} to {max} digits"
        )));
    }
    Ok(digits)
}

/// An international calling code: 1 to 3 digits (`+` allowed and dropped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallingCode(pub String);

impl TryFrom<String> for CallingCode {
    type Error = Problem;
    fn try_from(raw: String) -> Result<Self, Problem> {
        digits(&raw, 1, 3, "a country calling code").map(CallingCode)
    }
}

/// An area code: 1 to 6 digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AreaCode(pub String);

impl TryFrom<String> for AreaCode {
    type Error = Problem;
    fn try_from(raw: String) -> Result<Self, Problem> {
        digits(&raw, 1, 6, "an area code").map(AreaCode)
    }
}

/// A subscriber number: 3 to 15 digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneNumber(pub String);

impl TryFrom<String> for PhoneNumber {
    type Error = Problem;
    fn try_from(raw: String) -> Result<Self, Problem> {
        digits(&raw, 3, 15, "a phone number").map(PhoneNumber)
    }
}

/// A postal code: 2 to 16 letters, digits, spaces or dashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostalCode(pub String);

impl TryFrom<String> for PostalCode {
    type Error = Problem;
    fn try_from(raw: String) -> Result<Self, Problem> {
        let text = clean_text(raw, 16)?.to_uppercase();
        if text.len() < 2
            || !text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
        {
            return Err(Problem::invalid(
                "must be 2 to 16 letters, digits, spaces or dashes",
            ));
        }
        Ok(PostalCode(text))
    }
}

/// A tax identifier or bank account reference: 4 to 64 letters and digits, with separators
/// (space `-` `.` `/`) kept as given so masking keeps them too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identifier(pub String);

impl TryFrom<String> for Identifier {
    type Error = Problem;
    fn try_from(raw: String) -> Result<Self, Problem> {
        let text = clean_text(raw, 64)?;
        let significant = text.chars().filter(char::is_ascii_alphanumeric).count();
        if significant < 4
            || !text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '.' | '/'))
        {
            return Err(Problem::invalid(
                "must be at least 4 letters or digits, separated only by spaces, - . or /",
            ));
        }
        Ok(Identifier(text))
    }
}

/// A password as given (never trimmed): 8 to 128 characters.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(pub String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl TryFrom<String> for Password {
    type Error = Problem;
    fn try_from(raw: String) -> Result<Self, Problem> {
        let length = raw.chars().count();
        if length < 8 {
            return Err(Problem::invalid("must be at least 8 characters"));
        }
        if length > 128 {
            return Err(Problem::too_long(128));
        }
        Ok(Password(raw))
    }
}

/// A latitude in decimal degrees, -90 to 90.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Latitude(pub f64);

impl TryFrom<f64> for Latitude {
    type Error = Problem;
    fn try_from(value: f64) -> Result<Self, Problem> {
        if (-90.0..=90.0).contains(&value) {
            Ok(Latitude(value))
        } else {
            Err(Problem::invalid("must be between -90 and 90"))
        }
    }
}

/// A longitude in decimal degrees, -180 to 180.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Longitude(pub f64);

impl TryFrom<f64> for Longitude {
    type Error = Problem;
    fn try_from(value: f64) -> Result<Self, Problem> {
        if (-180.0..=180.0).contains(&value) {
            Ok(Longitude(value))
        } else {
            Err(Problem::invalid("must be between -180 and 180"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::UserErrorCode;

    fn ok<T: TryFrom<String, Error = Problem>>(raw: &str) -> T {
        T::try_from(raw.to_owned()).unwrap_or_else(|p| panic!("{raw:?}: {p:?}"))
    }

    fn code<T: TryFrom<String, Error = Problem> + std::fmt::Debug>(raw: &str) -> UserErrorCode {
        T::try_from(raw.to_owned()).expect_err(raw).code
    }

    #[test]
    fn text_is_trimmed_bounded_and_printable() {
        assert_eq!(ok::<Name>("  Ada ").0, "Ada");
        assert_eq!(code::<Name>("   "), UserErrorCode::Required);
        assert_eq!(code::<Name>(&"x".repeat(101)), UserErrorCode::TooLong);
        assert_eq!(code::<Name>("Ada\u{0}"), UserErrorCode::Invalid);
        assert_eq!(code::<Name>("Ada\nLovelace"), UserErrorCode::Invalid);
        assert_eq!(ok::<Name>(&"é".repeat(100)).0.chars().count(), 100);
    }

    #[test]
    fn emails() {
        assert_eq!(ok::<Email>("Ada@Example.COM").0, "Ada@example.com");
        for good in [
            "ada@example.com",
            "ada.lovelace+kith@sub.example.co.uk",
            "o'brien@example.ie",
            "ada@xn--bcher-kva.example",
            "ada@bücher.example",
            "ada@1-2.example",
        ] {
            assert_eq!(ok::<Email>(good).0, good);
        }
        for bad in [
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "ada@ex..com",
            "ada@.com",
            "ada@-x.com",
            "ada@x-.com",
            "ada@ex_ample.com",
            "a..b@x.com",
            "ada.@x.com",
            ".ada@x.com",
            "\"a b\"@x.com",
            "Ada <ada@x.com>",
            "ada@[127.0.0.1]",
            "ada@@x.com",
        ] {
            assert_eq!(code::<Email>(bad), UserErrorCode::Invalid, "{bad}");
        }
        assert_eq!(
            code::<Email>(&format!("{}@x.com", "a".repeat(65))),
            UserErrorCode::Invalid
        );
    }

    #[test]
    fn websites() {
        for good in [
            "https://example.com/path?q=1",
            "http://localhost:8080",
            "https://[::1]/",
            "http://127.0.0.1:3000/x",
            "https://sub.example.co.uk/a#b",
            "https://bücher.example/",
        ] {
            assert_eq!(ok::<WebsiteUrl>(good).0, good);
        }
        assert_eq!(
            ok::<WebsiteUrl>("  https://example.com ").0,
            "https://example.com"
        );
        for bad in [
            "example.com",
            "ftp://example.com",
            "https://",
            "https://exa mple.com",
            "https://example.com/a b",
            "javascript:alert(1)",
            "mailto:ada@example.com",
            "https://-bad-.com",
            "https://bad-.com",
            "https://-bad.com",
            "https://ex_ample.com",
            "https://example..com",
            "https://[::1",
            "http://999.1.1.1",
        ] {
            assert_eq!(code::<WebsiteUrl>(bad), UserErrorCode::Invalid, "{bad}");
        }
    }

    #[test]
    fn countries() {
        assert_eq!(ok::<CountryCode>("gb").0, "GB");
        assert_eq!(ok::<CountryCode>("US").0, "US");
        for bad in ["UK", "USA", "", "G1", "XX"] {
            assert_eq!(code::<CountryCode>(bad), UserErrorCode::Invalid, "{bad}");
        }
    }

    #[test]
    fn phone_parts() {
        assert_eq!(ok::<CallingCode>("+44").0, "44");
        assert_eq!(ok::<CallingCode>("1").0, "1");
        assert_eq!(code::<CallingCode>("1234"), UserErrorCode::Invalid);
        assert_eq!(code::<CallingCode>("4a"), UserErrorCode::Invalid);
        assert_eq!(code::<CallingCode>(""), UserErrorCode::Required);
        assert_eq!(ok::<PhoneNumber>("7946 0000").0, "79460000");
        assert_eq!(ok::<PhoneNumber>("(555) 123-4567").0, "5551234567");
        assert_eq!(code::<PhoneNumber>("12"), UserErrorCode::Invalid);
        assert_eq!(code::<PhoneNumber>("call me"), UserErrorCode::Invalid);
        assert_eq!(ok::<AreaCode>("020").0, "020");
    }

    #[test]
    fn postal_codes_and_regions() {
        assert_eq!(ok::<PostalCode>("sw1a 1aa").0, "SW1A 1AA");
        assert_eq!(ok::<PostalCode>("94105-1234").0, "94105-1234");
        assert_eq!(code::<PostalCode>("1"), UserErrorCode::Invalid);
        assert_eq!(code::<PostalCode>("12#45"), UserErrorCode::Invalid);
        for region in [
            "nsw",
            "CA",
            "Sample Text Data",
            "New South Wales",
            "Wellington",
            "Baden-Württemberg",
        ] {
            assert_eq!(ok::<Region>(region).0, region);
        }
        assert_eq!(ok::<Region>(&"ü".repeat(100)).0.chars().count(), 100);
        assert_eq!(code::<Region>(&"ü".repeat(101)), UserErrorCode::TooLong);
        assert_eq!(code::<Region>(" "), UserErrorCode::Required);
    }

    #[test]
    fn identifiers_and_passwords() {
        assert_eq!(ok::<Identifier>("123-45-6789").0, "123-45-6789");
        assert_eq!(code::<Identifier>("12"), UserErrorCode::Invalid);
        assert_eq!(code::<Identifier>("12#456"), UserErrorCode::Invalid);
        assert_eq!(
            ok::<Password>(" secret passphrase ").0,
            " secret passphrase "
        );
        assert_eq!(code::<Password>("short"), UserErrorCode::Invalid);
        assert_eq!(
            format!("{:?}", ok::<Password>("long enough")),
            "Password(<redacted>)"
        );
    }

    #[test]
    fn coordinates() {
        assert!(Latitude::try_from(51.5).is_ok());
        assert!(Latitude::try_from(90.1).is_err());
        assert!(Longitude::try_from(-180.0).is_ok());
        assert!(Longitude::try_from(f64::NAN).is_err());
    }
}
