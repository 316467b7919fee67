//! Bearer tokens: verifying them (HS256 with a shared secret, RS256 / ES256 with an external
//! issuer's public key) and signing them for `kith token` and the development start-up token.

use std::path::Path;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::Settings;
use crate::error::{AppError, Result};

/// Clock skew tolerated on `exp`, in seconds.
const LEEWAY_SECONDS: u64 = 30;

/// The claims Kith reads (API.md, "JWT claims").
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    /// Who the caller is. Optional (API.md requires only `exp`): a service token may name
    /// no one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Expiry, seconds since the epoch. Required.
    pub exp: u64,
    /// Issued at, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Issuer; checked when `JWT_ISSUER` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience; checked when `JWT_AUDIENCE` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
    /// Role names.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Customers the caller acts for; absent means "none" except for AGENCY ("all").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customers: Option<Vec<Uuid>>,
    /// Extra permissions such as `restunmasktaxid`.
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// The `aud` claim: RFC 7519 allows one string or an array of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

/// The keys this server verifies (and, with a secret, signs) tokens with.
#[derive(Clone)]
pub struct JwtKeys {
    secret: Option<(EncodingKey, DecodingKey)>,
    public: Option<(DecodingKey, Algorithm)>,
    issuer: Option<String>,
    audience: Option<String>,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("hs256", &self.secret.is_some())
            .field("public", &self.public.as_ref().map(|(_, alg)| alg))
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

impl JwtKeys {
    /// Keys from the settings. `secret` overrides `JWT_SECRET` (used for the random
    /// development key). Fails when the public key file cannot be read or parsed.
    pub fn from_settings(settings: &Settings, secret: Option<&str>) -> Result<JwtKeys> {
        let secret = secret.or(settings.jwt_secret.as_deref());
        let public = match &settings.jwt_public_key_file {
            Some(path) => Some(read_public_key(path)?),
            None => None,
        };
        Ok(JwtKeys {
            secret: secret.map(|s| {
                (
                    EncodingKey::from_secret(s.as_bytes()),
                    DecodingKey::from_secret(s.as_bytes()),
                )
            }),
            public,
            issuer: settings.jwt_issuer.clone(),
            audience: settings.jwt_audience.clone(),
        })
    }

    /// Verify a bearer token: signature with the expected algorithm, `exp`, and `iss` / `aud`
    /// when configured. Every failure is `UNAUTHENTICATED` with a reason a developer can act on.
    pub fn verify(&self, token: &str) -> Result<Claims> {
        let reject = |why: &str| AppError::Unauthenticated(format!("invalid token: {why}"));
        // `alg: none` and unknown algorithms fail here: jsonwebtoken has no such variant.
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| reject("malformed or unsupported header"))?;
        let key = match header.alg {
            Algorithm::HS256 => self.secret.as_ref().map(|(_, decoding)| decoding),
            alg => self
                .public
                .as_ref()
                .filter(|(_, expected)| *expected == alg)
                .map(|(decoding, _)| decoding),
        }
        .ok_or_else(|| reject(&format!("algorithm {:?} is not accepted", header.alg)))?;

        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.set_required_spec_claims(&["exp"]);
        match &self.issuer {
            Some(issuer) => {
                validation.set_issuer(&[issuer]);
                validation.required_spec_claims.insert("iss".into());
            }
            None => validation.iss = None,
        }
        match &self.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                validation.required_spec_claims.insert("aud".into());
            }
            None => validation.validate_aud = false,
        }
        jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map(|data| data.claims)
            .map_err(|error| {
                use jsonwebtoken::errors::ErrorKind;
                match error.kind() {
                    ErrorKind::ExpiredSignature => reject("expired"),
                    ErrorKind::InvalidSignature => reject("bad signature"),
                    ErrorKind::InvalidIssuer => reject("unexpected issuer"),
                    ErrorKind::InvalidAudience => reject("unexpected audience"),
                    ErrorKind::MissingRequiredClaim(claim) => {
                        reject(&format!("missing claim `{claim}`"))
                    }
                    _ => reject("malformed"),
                }
            })
    }

    /// Sign claims with the HS256 secret.
    pub fn sign(&self, claims: &Claims) -> Result<String> {
        let (encoding, _) = self.secret.as_ref().ok_or_else(|| {
            AppError::BadUserInput("JWT_SECRET is not set: there is no key to sign with".into())
        })?;
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, encoding)
            .map_err(|error| AppError::Internal(format!("signing failed: {error}")))
    }

    /// Claims for a token that lives `ttl` from now, stamped with the configured issuer and
    /// audience so that this server accepts it.
    pub fn claims(
        &self,
        subject: &str,
        roles: &[super::Role],
        customers: Option<Vec<Uuid>>,
        permissions: Vec<String>,
        ttl: Duration,
    ) -> Claims {
        let now = jsonwebtoken::get_current_timestamp();
        Claims {
            sub: Some(subject.to_owned()),
            exp: now + ttl.as_secs(),
            iat: Some(now),
            iss: self.issuer.clone(),
            aud: self.audience.clone().map(Audience::One),
            roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
            customers,
            permissions,
        }
    }
}

/// An RSA key verifies RS256, an EC P-256 key ES256.
fn read_public_key(path: &Path) -> Result<(DecodingKey, Algorithm)> {
    let pem = std::fs::read(path).map_err(|error| {
        AppError::Internal(format!(
            "cannot read JWT_PUBLIC_KEY_FILE {}: {error}",
            path.display()
        ))
    })?;
    if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
        return Ok((key, Algorithm::RS256));
    }
    if let Ok(key) = DecodingKey::from_ec_pem(&pem) {
        return Ok((key, Algorithm::ES256));
    }
    Err(AppError::Internal(format!(
        "JWT_PUBLIC_KEY_FILE {} is neither an RSA nor an EC public key in PEM form",
        path.display()
    )))
}

/// A random secret for a development server started without `JWT_SECRET`.
pub fn random_secret() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

/// Parse a lifetime such as `90s`, `15m`, `1h` or `7d`.
pub fn parse_ttl(text: &str) -> std::result::Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let amount: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a lifetime like 90s, 15m, 1h or 7d"))?;
    let seconds = match unit {
        "s" | "" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "unknown unit `{unit}` in `{text}` (use s, m, h or d)"
            ));
        }
    };
    if amount == 0 {
        return Err("a token lifetime must be positive".into());
    }
    Ok(Duration::from_secs(amount * seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lifetimes() {
        assert_eq!(parse_ttl("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_ttl("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_ttl("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_ttl("45"), Ok(Duration::from_secs(45)));
        assert!(parse_ttl("h").is_err());
        assert!(parse_ttl("3w").is_err());
        assert!(parse_ttl("0s").is_err());
    }
}
