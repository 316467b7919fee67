//! Bearer tokens: verifying them (HS256 with a shared secret, RS256 / ES256 with an external
//! issuer's public keys) and signing them for `kith token` and the development start-up token.

use std::path::Path;
use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::Settings;
use crate::error::{AppError, Result};

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
const LEEWAY_SECONDS: u64 = 30;

/// Shortest HS256 key accepted: RFC 7518 §3.2 asks for a key at least as long as the hash
/// output (256 bits).
pub const MIN_SECRET_BYTES: usize = 32;

/// Most public keys `JWT_PUBLIC_KEY_FILE` may hold. PEM carries no `kid`, so a token is checked
/// against every key of its algorithm: one signature check per key, paid by forged tokens too.
/// A rotation needs two keys per algorithm; 16 leaves room without making every request dear.
pub const MAX_PUBLIC_KEYS: usize = 16;

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
    /// The external issuer's keys, in file order.
    public: Vec<PublicKey>,
    issuer: Option<String>,
    audience: Option<String>,
}

/// One of the external issuer's public keys and the algorithm it verifies.
#[derive(Clone)]
struct PublicKey {
    decoding: DecodingKey,
    algorithm: Algorithm,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("hs256", &self.secret.is_some())
            .field(
                "public",
                &self
                    .public
                    .iter()
                    .map(|key| key.algorithm)
                    .collect::<Vec<_>>(),
            )
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

impl JwtKeys {
    /// Keys from the settings. `secret` overrides `JWT_SECRET` (used for the random
    /// development key). Fails when the secret is shorter than [`MIN_SECRET_BYTES`] or the
    /// public key file cannot be read or holds anything but 1 to [`MAX_PUBLIC_KEYS`] public
    /// keys (see [`read_public_keys`]).
    pub fn from_settings(settings: &Settings, secret: Option<&str>) -> Result<JwtKeys> {
        let secret = secret.or(settings.jwt_secret.as_deref());
        if let Some(secret) = secret {
            check_secret(secret)?;
        }
        let public = match &settings.jwt_public_key_file {
            Some(path) => read_public_keys(path)?,
            None => Vec::new(),
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
        // RFC 7515 §4.1.11: a recipient must reject a token whose `crit` names an extension
        // it does not understand, and Kith understands none (an empty list is invalid too).
        if header.crit.is_some() {
            return Err(reject("unsupported critical header parameter (`crit`)"));
        }
        // The secret only ever verifies HS256 and the public keys never do.
        let mut keys = self
            .secret
            .iter()
            .filter(|_| header.alg == Algorithm::HS256)
            .map(|(_, decoding)| decoding)
            .chain(
                self.public
                    .iter()
                    .filter(|key| key.algorithm == header.alg)
                    .map(|key| &key.decoding),
            )
            .peekable();
        if keys.peek().is_none() {
            return Err(reject(&format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }

        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
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
        // PEM gives the keys no `kid`, so the header's `kid` cannot pick one: each key of the
        // token's algorithm is tried in file order, one signature check per key (at most
        // MAX_PUBLIC_KEYS). Only a bad signature moves on to the next key; an expired or
        // otherwise wrong token signed by this key is refused for that reason.
        let mut outcome = Err(ErrorKind::InvalidSignature.into());
        for key in keys {
            outcome = jsonwebtoken::decode::<Claims>(token, key, &validation);
            if !matches!(&outcome, Err(error) if *error.kind() == ErrorKind::InvalidSignature) {
                break;
            }
        }
        outcome
            .map(|data| data.claims)
            .map_err(|error| match error.kind() {
                ErrorKind::ExpiredSignature => reject("expired"),
                ErrorKind::ImmatureSignature => reject("not valid yet (`nbf`)"),
                ErrorKind::InvalidSignature => reject("bad signature"),
                ErrorKind::InvalidIssuer => reject("unexpected issuer"),
                ErrorKind::InvalidAudience => reject("unexpected audience"),
                ErrorKind::MissingRequiredClaim(claim) => {
                    reject(&format!("missing claim `{claim}`"))
                }
                _ => reject("malformed"),
            })
    }

    /// Sign claims with the HS256 secret.
    pub fn sign(&self, claims: &Claims) -> Result<String> {
        let (encoding, _) = self.secret.as_ref().ok_or_else(|| {
            AppError::BadUserInput("JWT_SECRET is not set: there is no key to sign with".into())
        })?;
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, encoding)
            .map_err(|error| AppError::internal_from("signing failed", error))
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

/// Read the external issuer's public keys from `JWT_PUBLIC_KEY_FILE`: one or more PEM blocks
/// (`-----BEGIN PUBLIC KEY-----`, or `-----BEGIN RSA PUBLIC KEY-----`) concatenated in one
/// file, each an RSA key (verifies RS256) or an EC P-256 key (verifies ES256), at most
/// [`MAX_PUBLIC_KEYS`]. Text between blocks is ignored (RFC 7468 §5.2), so a line can note
/// whose key a block is and when it goes. A token is accepted when one key of its algorithm
/// verifies it. The server refuses to start, naming the file and the block, when the file is
/// empty or a block is anything else: a private key, a certificate, an EC key on another
/// curve, a damaged block.
///
/// # Rotating the issuer's key
///
/// Because any listed key verifies, the issuer can change keys without a moment in which
/// valid tokens are refused:
///
/// 1. Append the new public key to the file on every instance, keeping the old one:
///    `cat new-public.pem >> kith-jwt-keys.pem`.
/// 2. Restart or roll the instances (the file is read at start-up only). Each now accepts
///    tokens signed with either key.
/// 3. Once every instance runs with both keys, switch the issuer to the new private key.
/// 4. After the longest token lifetime (plus 30 s of clock leeway) has passed since the
///    switch, no valid token signed with the old key remains: delete its block from the file
///    and restart or roll the instances again.
///
/// The same steps move an issuer from RS256 to ES256 or back, since one file may hold keys of
/// both kinds.
fn read_public_keys(path: &Path) -> Result<Vec<PublicKey>> {
    let fail =
        |why: String| AppError::internal(format!("JWT_PUBLIC_KEY_FILE {}: {why}", path.display()));
    let bytes = std::fs::read(path).map_err(|error| {
        AppError::internal_from(
            format!("cannot read JWT_PUBLIC_KEY_FILE {}", path.display()),
            error,
        )
    })?;
    let text =
        String::from_utf8(bytes).map_err(|_| fail("not text: expected PEM public keys".into()))?;
    let blocks = pem_blocks(&text).map_err(&fail)?;
    if blocks.is_empty() {
        return Err(fail(
            "holds no PEM block: expected one or more `-----BEGIN PUBLIC KEY-----` blocks".into(),
        ));
    }
    if blocks.len() > MAX_PUBLIC_KEYS {
        return Err(fail(format!(
            "holds {} keys, at most {MAX_PUBLIC_KEYS} are accepted (each costs a signature \
             check per token): remove the keys earlier rotations retired",
            blocks.len()
        )));
    }
    blocks
        .iter()
        .enumerate()
        .map(|(index, block)| {
            public_key(block)
                .map_err(|why| fail(format!("block {} (line {}) {why}", index + 1, block.line)))
        })
        .collect()
}

/// One PEM block of a key file.
struct PemBlock<'a> {
    /// The line its `-----BEGIN` is on, from 1.
    line: usize,
    /// What the boundaries say it is, e.g. `PUBLIC KEY`.
    label: &'a str,
    /// The block, boundaries included.
    text: String,
}

/// Split `text` into its PEM blocks, ignoring what lies between them. The error names the
/// unbalanced boundary.
fn pem_blocks(text: &str) -> std::result::Result<Vec<PemBlock<'_>>, String> {
    let mut blocks = Vec::new();
    let mut open: Option<PemBlock<'_>> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if let Some(label) = boundary(line, "BEGIN") {
            if let Some(block) = &open {
                return Err(format!(
                    "block {} (line {}) has no `-----END {}-----` line",
                    blocks.len() + 1,
                    block.line,
                    block.label
                ));
            }
            open = Some(PemBlock {
                line: number,
                label,
                text: format!("{line}\n"),
            });
        } else if let Some(label) = boundary(line, "END") {
            match open.take() {
                Some(mut block) if block.label == label => {
                    block.text.push_str(line);
                    block.text.push('\n');
                    blocks.push(block);
                }
                Some(block) => {
                    return Err(format!(
                        "block {} (line {}) begins as `{}` but ends as `{label}` on line \
                         {number}",
                        blocks.len() + 1,
                        block.line,
                        block.label
                    ));
                }
                None => return Err(format!("line {number} ends a block that never began")),
            }
        } else if let Some(block) = &mut open {
            block.text.push_str(line);
            block.text.push('\n');
        }
    }
    match open {
        Some(block) => Err(format!(
            "block {} (line {}) has no `-----END {}-----` line",
            blocks.len() + 1,
            block.line,
            block.label
        )),
        None => Ok(blocks),
    }
}

/// The label of a `-----BEGIN label-----` (`kind` `BEGIN`) or `-----END label-----` line.
fn boundary<'a>(line: &'a str, kind: &str) -> Option<&'a str> {
    line.trim_end()
        .strip_prefix("-----")?
        .strip_prefix(kind)?
        .strip_prefix(' ')?
        .strip_suffix("-----")
}

/// The key in `block` with the algorithm it verifies, or why it is not an RSA or EC P-256
/// public key. Each key is checked the way verification will use it, so that a key that
/// could never verify anything stops the start-up rather than every token.
fn public_key(block: &PemBlock<'_>) -> std::result::Result<PublicKey, String> {
    match block.label {
        "PUBLIC KEY" | "RSA PUBLIC KEY" => {}
        label if label.contains("PRIVATE KEY") => {
            return Err(format!(
                "is a private key (`{label}`): give Kith only the public half, e.g. `openssl \
                 pkey -in private.pem -pubout`"
            ));
        }
        label => {
            return Err(format!(
                "is a `{label}`, neither an RSA nor an EC public key"
            ));
        }
    }
    let pem = block.text.as_bytes();
    if let Ok(decoding) = DecodingKey::from_rsa_pem(pem) {
        // Parses the key as the RS256 verifier will.
        return match Jwk::from_decoding_key(&decoding, None) {
            Ok(_) => Ok(PublicKey {
                decoding,
                algorithm: Algorithm::RS256,
            }),
            Err(error) => Err(format!("is not a usable RSA public key: {error}")),
        };
    }
    if let Ok(decoding) = DecodingKey::from_ec_pem(pem) {
        return match Jwk::from_decoding_key(&decoding, None).map(|jwk| jwk.algorithm) {
            Ok(AlgorithmParameters::EllipticCurve(ec)) if ec.curve == EllipticCurve::P256 => {
                Ok(PublicKey {
                    decoding,
                    algorithm: Algorithm::ES256,
                })
            }
            Ok(AlgorithmParameters::EllipticCurve(ec)) => {
                Err(format!("is an EC key on {:?}: ES256 needs P-256", ec.curve))
            }
            _ => Err("is an EC key but not an uncompressed P-256 one, which ES256 needs".into()),
        };
    }
    Err("is neither an RSA nor an EC public key".into())
}

/// Refuse a `JWT_SECRET` too short to resist brute force (the empty one included).
pub fn check_secret(secret: &str) -> Result<()> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(AppError::internal(format!(
            "JWT_SECRET is {} bytes long: at least {MIN_SECRET_BYTES} are required (RFC 7518 \
             §3.2); generate one with `openssl rand -hex 32`",
            secret.len()
        )));
    }
    Ok(())
}

/// A random secret for a development server started without `JWT_SECRET`.
pub fn random_secret() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

/// Parse a token lifetime such as `90s`, `15m`, `1h` or `7d` (a positive duration, as every
/// duration setting is parsed).
pub fn parse_ttl(text: &str) -> std::result::Result<Duration, String> {
    crate::config::parse_duration(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_pem_bundles_ignoring_notes_and_crlf() {
        let text = "old key, retire in May\r\n-----BEGIN PUBLIC KEY-----\r\nAAAA\r\n\
                    -----END PUBLIC KEY-----\r\n\r\n-----BEGIN RSA PUBLIC KEY-----  \nBBBB\n\
                    -----END RSA PUBLIC KEY-----";
        let blocks = pem_blocks(text).expect("two blocks");
        let seen: Vec<_> = blocks.iter().map(|b| (b.line, b.label)).collect();
        assert_eq!(seen, [(2, "PUBLIC KEY"), (6, "RSA PUBLIC KEY")]);
        assert!(blocks[0].text.ends_with("AAAA\n-----END PUBLIC KEY-----\n"));
        assert!(pem_blocks("-----END PUBLIC KEY-----").is_err());
        assert!(pem_blocks("no keys here").expect("no blocks").is_empty());
    }
}
