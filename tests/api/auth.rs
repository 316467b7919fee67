//! Bearer token verification: every rejection is UNAUTHENTICATED with a status below 500.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use kith::auth::Role;
use serde_json::{Value, json};

use crate::support::{SECRET, TestApp, fresh_database};

const ME: &str = "{ me { subject roles } }";

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).expect("fixture")
}

fn rsa_private(name: &str) -> EncodingKey {
    EncodingKey::from_rsa_pem(fixture_text(name).as_bytes()).expect("rsa key")
}

fn ec_private(name: &str) -> EncodingKey {
    EncodingKey::from_ec_pem(fixture_text(name).as_bytes()).expect("ec key")
}

/// A `JWT_PUBLIC_KEY_FILE` written for one test, removed when dropped.
struct KeyFile(std::path::PathBuf);

impl KeyFile {
    /// The parts concatenated, as an operator would `cat` public keys into one file.
    fn new(parts: &[&str]) -> KeyFile {
        let path = std::env::temp_dir().join(format!("kith-keys-{}.pem", uuid::Uuid::new_v4()));
        std::fs::write(&path, parts.concat()).expect("write key file");
        KeyFile(path)
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn sign(alg: Algorithm, key: &EncodingKey, claims: &impl serde::Serialize) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, key).expect("sign")
}

fn hs256(secret: &str, claims: &impl serde::Serialize) -> String {
    sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(secret.as_bytes()),
        claims,
    )
}

/// The base64url HS256 signature of `signing_input` with the test secret.
fn hs256_signature(signing_input: &str) -> String {
    // For hand-made headers that jsonwebtoken's `Header` type cannot hold.
    jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS256,
    )
    .expect("sign")
}

fn b64(value: &Value) -> String {
    use base64_url::encode;
    encode(&value.to_string())
}

/// Minimal base64url without padding, so the test needs no extra crate.
mod base64_url {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    pub fn encode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..=chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }
}

async fn assert_rejected(app: &TestApp, token: &str, why: &str) {
    let response = app.graphql(Some(token), ME, json!({})).await;
    assert_eq!(
        response.error_code(),
        "UNAUTHENTICATED",
        "{why}: {}",
        response.body
    );
    assert_eq!(response.status, 401, "{why}");
    assert!(response.body["data"].is_null(), "{why}");
    assert!(
        response.body["extensions"]["trackingId"].is_string(),
        "{why}"
    );
}

async fn assert_accepted(app: &TestApp, token: &str, why: &str) {
    let response = app.graphql(Some(token), ME, json!({})).await;
    assert_eq!(response.status, 200, "{why}: {}", response.body);
    assert_eq!(response.data()["me"]["subject"], "test-user", "{why}");
}

backend_tests! {
    async fn malformed_forged_and_expired_tokens_are_rejected(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let claims = app.claims(&[Role::Admin], None, &[]);
        assert_accepted(&app, &hs256(SECRET, &claims), "valid HS256").await;

        assert_rejected(&app, "garbage", "garbage").await;
        assert_rejected(&app, "a.b.c", "three garbage segments").await;
        let none = format!(
            "{}.{}.",
            b64(&json!({ "alg": "none", "typ": "JWT" })),
            b64(&serde_json::to_value(&claims).expect("claims"))
        );
        assert_rejected(&app, &none, "alg none").await;
        assert_rejected(&app, &hs256("another-secret-of-decent-length", &claims), "wrong key").await;
        let hs384 = sign(Algorithm::HS384, &EncodingKey::from_secret(SECRET.as_bytes()), &claims);
        assert_rejected(&app, &hs384, "unexpected algorithm HS384").await;
        let rsa = EncodingKey::from_rsa_pem(&std::fs::read(fixture("rs256-private.pem")).expect("key"))
            .expect("rsa key");
        assert_rejected(&app, &sign(Algorithm::RS256, &rsa, &claims), "RS256 without a public key").await;

        let mut expired = claims.clone();
        expired.exp = jsonwebtoken::get_current_timestamp() - 3600;
        assert_rejected(&app, &hs256(SECRET, &expired), "expired").await;

        let no_exp = json!({ "sub": "test-user", "roles": ["ADMIN"] });
        assert_rejected(&app, &hs256(SECRET, &no_exp), "no exp").await;

        // Only `exp` is required: a token that names no subject is still a caller.
        let mut no_sub = serde_json::to_value(&claims).expect("claims");
        no_sub.as_object_mut().expect("object").remove("sub");
        let response = app.graphql(Some(&hs256(SECRET, &no_sub)), ME, json!({})).await;
        assert_eq!(response.data()["me"]["subject"], Value::Null, "{}", response.body);

        let valid = hs256(SECRET, &claims);
        let mut tampered = valid.clone();
        tampered.pop();
        tampered.push(if valid.ends_with('A') { 'B' } else { 'A' });
        assert_rejected(&app, &tampered, "tampered signature").await;

        // Not a bearer credential at all.
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .header("Authorization", format!("Basic {valid}"))
            .json(&json!({ "query": ME }))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 401);
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
    }

    async fn tokens_not_valid_yet_are_rejected(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let claims = serde_json::to_value(app.claims(&[Role::Admin], None, &[])).expect("claims");
        let now = jsonwebtoken::get_current_timestamp();
        let with_nbf = |nbf: u64| {
            let mut claims = claims.clone();
            claims["nbf"] = json!(nbf);
            hs256(SECRET, &claims)
        };
        assert_rejected(&app, &with_nbf(now + 365 * 86_400), "valid only from next year").await;
        assert_rejected(&app, &with_nbf(now + 120), "valid in two minutes").await;
        // The same leeway as `exp`: a clock a few seconds ahead of ours is tolerated.
        assert_accepted(&app, &with_nbf(now + 10), "within the leeway").await;
        assert_accepted(&app, &with_nbf(now - 60), "valid since a minute").await;
        let mut malformed = claims.clone();
        malformed["nbf"] = json!("tomorrow");
        assert_rejected(&app, &hs256(SECRET, &malformed), "nbf not a number").await;
    }

    async fn critical_header_parameters_are_rejected(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let claims = app.claims(&[Role::Admin], None, &[]);
        let key = EncodingKey::from_secret(SECRET.as_bytes());
        let with_crit = |crit: Vec<&str>, extra: Option<(&str, Value)>| {
            let mut header = Header::new(Algorithm::HS256);
            header.crit = Some(crit.into_iter().map(str::to_owned).collect());
            if let Some((name, value)) = extra {
                header.extras.insert(name, value);
            }
            jsonwebtoken::encode(&header, &claims, &key).expect("sign")
        };
        // Kith understands no extension: whatever `crit` names, the token is refused.
        assert_rejected(&app, &with_crit(vec!["exp"], None), "crit naming a registered claim").await;
        assert_rejected(
            &app,
            &with_crit(vec!["http://example.com/ext"], Some(("http://example.com/ext", json!(true)))),
            "crit naming an extension",
        )
        .await;
        assert_rejected(&app, &with_crit(vec![], None), "empty crit").await;
        // Hand-made, so that no library normalises it: `crit` that is not a list.
        let header = b64(&json!({ "alg": "HS256", "typ": "JWT", "crit": "b64", "b64": false }));
        let payload = b64(&serde_json::to_value(&claims).expect("claims"));
        let unsigned = format!("{header}.{payload}");
        let signature = hs256_signature(&unsigned);
        assert_rejected(&app, &format!("{unsigned}.{signature}"), "crit not a list").await;
        // Without `crit`, the same claims and key are fine.
        assert_accepted(&app, &hs256(SECRET, &claims), "no crit").await;
    }

    async fn role_names_must_be_spelled_exactly(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut claims = serde_json::to_value(app.claims(&[], None, &[])).expect("claims");
        let roles_of = |roles: Value| {
            let mut claims = claims.clone();
            claims["roles"] = roles;
            hs256(SECRET, &claims)
        };
        let me = |token: String| {
            let app = &app;
            async move { app.query(&token, ME, json!({})).await["me"]["roles"].clone() }
        };
        assert_eq!(me(roles_of(json!(["admin"]))).await, json!([]), "admin is not ADMIN");
        assert_eq!(me(roles_of(json!(["Admin", "sErViCe", "KING"]))).await, json!([]));
        assert_eq!(me(roles_of(json!(["admin", "CUSTOMER"]))).await, json!(["CUSTOMER"]));
        // A token without a known role is a caller who sees nothing, not an ADMIN.
        crate::support::fixtures::customer(&app.db, "Acme").await;
        let response = app
            .graphql(Some(&roles_of(json!(["admin"]))), "{ customers { totalCount } }", json!({}))
            .await;
        assert!(
            response.body.get("errors").is_some()
                || response.body["data"]["customers"]["totalCount"] == json!(0),
            "{}",
            response.body
        );
        let admin = app.query(&app.admin(), "{ customers { totalCount } }", json!({})).await;
        assert_eq!(admin["customers"]["totalCount"], 1);
        claims["roles"] = json!(["ADMIN"]);
        assert_eq!(me(hs256(SECRET, &claims)).await, json!(["ADMIN"]));
    }

    async fn anonymous_callers_read_nothing_but_may_introspect(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let response = app.graphql(None, ME, json!({})).await;
        assert_eq!(response.error_code(), "UNAUTHENTICATED");
        assert!(response.status < 500);
        assert_eq!(response.body["data"], Value::Null);
        let response = app
            .graphql(None, "{ customers { totalCount } }", json!({}))
            .await;
        assert_eq!(response.error_code(), "UNAUTHENTICATED");

        let response = app.graphql(None, "{ __schema { queryType { name } } }", json!({})).await;
        assert_eq!(response.data()["__schema"]["queryType"]["name"], "Query");
    }

    async fn issuer_and_audience_are_checked_when_configured(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| {
            s.jwt_issuer = Some("https://issuer.example".into());
            s.jwt_audience = Some("kith".into());
        })
        .await;
        let base = serde_json::to_value(app.claims(&[Role::Admin], None, &[])).expect("claims");
        let with = |extra: Value| {
            let mut claims = base.clone();
            for (key, value) in extra.as_object().expect("object") {
                claims[key] = value.clone();
            }
            hs256(SECRET, &claims)
        };
        assert_accepted(&app, &with(json!({ "iss": "https://issuer.example", "aud": "kith" })), "matching").await;
        assert_accepted(&app, &with(json!({ "iss": "https://issuer.example", "aud": ["other", "kith"] })), "aud list").await;
        assert_rejected(&app, &with(json!({ "iss": "https://evil.example", "aud": "kith" })), "wrong iss").await;
        assert_rejected(&app, &with(json!({ "iss": "https://issuer.example", "aud": "other" })), "wrong aud").await;
        assert_rejected(&app, &with(json!({ "iss": Value::Null, "aud": "kith" })), "no iss").await;
        assert_rejected(&app, &with(json!({ "iss": "https://issuer.example", "aud": Value::Null })), "no aud").await;
        // Tokens this server signs carry the configured issuer and audience.
        assert_accepted(&app, &app.admin(), "own token").await;
    }

    async fn external_issuers_sign_with_rs256_or_es256(backend: Backend) {
        let claims;
        {
            let app = TestApp::spawn_with(backend.clone(), |s| {
                s.jwt_public_key_file = Some(fixture("rs256-public.pem"));
            })
            .await;
            claims = app.claims(&[Role::Admin], None, &[]);
            let rsa = EncodingKey::from_rsa_pem(&std::fs::read(fixture("rs256-private.pem")).expect("key"))
                .expect("rsa");
            assert_accepted(&app, &sign(Algorithm::RS256, &rsa, &claims), "RS256").await;
            let ec = EncodingKey::from_ec_pem(&std::fs::read(fixture("es256-private.pem")).expect("key"))
                .expect("ec");
            assert_rejected(&app, &sign(Algorithm::ES256, &ec, &claims), "ES256 against an RSA key").await;
            // The shared secret still works beside the public key.
            assert_accepted(&app, &hs256(SECRET, &claims), "HS256 beside RS256").await;
        }
        let app = TestApp::spawn_with(backend, |s| {
            s.jwt_public_key_file = Some(fixture("es256-public.pem"));
            s.jwt_secret = None;
        })
        .await;
        let ec = EncodingKey::from_ec_pem(&std::fs::read(fixture("es256-private.pem")).expect("key"))
            .expect("ec");
        assert_accepted(&app, &sign(Algorithm::ES256, &ec, &claims), "ES256").await;
        assert_rejected(&app, &hs256(SECRET, &claims), "HS256 with no secret configured").await;
    }

    async fn a_key_bundle_accepts_tokens_of_every_key_in_it(backend: Backend) {
        // Mid-rotation: the issuer's current key and the one it moves to, with notes between
        // the blocks as an operator would write them.
        let bundle = KeyFile::new(&[
            "Current issuer key, retire after the switch:\n",
            &fixture_text("rs256-public.pem"),
            "\nNext issuer key:\n",
            &fixture_text("rs256-next-public.pem"),
        ]);
        let app = TestApp::spawn_with(backend, |s| {
            s.jwt_public_key_file = Some(bundle.0.clone());
            s.jwt_secret = None;
        })
        .await;
        let claims = app.claims(&[Role::Admin], None, &[]);
        let current = rsa_private("rs256-private.pem");
        let next = rsa_private("rs256-next-private.pem");
        assert_accepted(&app, &sign(Algorithm::RS256, &current, &claims), "first key").await;
        assert_accepted(&app, &sign(Algorithm::RS256, &next, &claims), "second key").await;

        let unknown = sign(Algorithm::RS256, &rsa_private("rs256-unknown-private.pem"), &claims);
        assert_rejected(&app, &unknown, "a key outside the bundle").await;
        let response = app.graphql(Some(&unknown), ME, json!({})).await;
        assert_eq!(response.body["errors"][0]["message"], "invalid token: bad signature");

        // The first key's failed check does not hide why the second key's token is refused.
        let mut expired = claims.clone();
        expired.exp = jsonwebtoken::get_current_timestamp() - 3600;
        let expired = sign(Algorithm::RS256, &next, &expired);
        assert_rejected(&app, &expired, "expired, signed by the second key").await;
        let response = app.graphql(Some(&expired), ME, json!({})).await;
        assert_eq!(response.body["errors"][0]["message"], "invalid token: expired");

        let ec = sign(Algorithm::ES256, &ec_private("es256-private.pem"), &claims);
        assert_rejected(&app, &ec, "ES256 with RSA keys only").await;
    }

    async fn a_key_bundle_may_mix_rsa_and_ec_keys(backend: Backend) {
        let bundle = KeyFile::new(&[
            &fixture_text("es256-public.pem"),
            &fixture_text("rs256-public.pem"),
        ]);
        let app = TestApp::spawn_with(backend, |s| {
            s.jwt_public_key_file = Some(bundle.0.clone());
        })
        .await;
        let claims = app.claims(&[Role::Admin], None, &[]);
        let rsa = rsa_private("rs256-private.pem");
        let ec = ec_private("es256-private.pem");
        assert_accepted(&app, &sign(Algorithm::RS256, &rsa, &claims), "RS256").await;
        assert_accepted(&app, &sign(Algorithm::ES256, &ec, &claims), "ES256").await;
        assert_accepted(&app, &hs256(SECRET, &claims), "HS256 beside the bundle").await;
        let unknown = rsa_private("rs256-unknown-private.pem");
        assert_rejected(&app, &sign(Algorithm::RS256, &unknown, &claims), "unknown RSA key").await;
        // An RSA key is not tried for another RSA algorithm.
        assert_rejected(&app, &sign(Algorithm::RS384, &rsa, &claims), "RS384").await;
        assert_rejected(&app, &sign(Algorithm::PS256, &rsa, &claims), "PS256").await;
    }

    async fn a_malformed_key_file_refuses_to_start(backend: Backend) {
        let (url, _database) = fresh_database(backend).await;
        let rsa = fixture_text("rs256-public.pem");
        let ec = fixture_text("es256-public.pem");
        let p384 = fixture_text("es384-public.pem");
        let private = fixture_text("rs256-private.pem");
        let garbage = "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n";
        let max = kith::auth::jwt::MAX_PUBLIC_KEYS;
        let many: Vec<&str> = std::iter::repeat_n(rsa.as_str(), max + 1).collect();
        let cases: Vec<(Vec<&str>, &str)> = vec![
            (vec![], "holds no PEM block"),
            (vec!["just some text\n"], "holds no PEM block"),
            (vec![&rsa, garbage], "block 2 (line 10) is neither an RSA nor an EC public key"),
            (vec![&rsa, &ec, &p384], "block 3 (line 14) is an EC key on P384"),
            (vec![&ec, &private], "block 2 (line 5) is a private key"),
            (
                vec!["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"],
                "block 1 (line 1) is a `CERTIFICATE`",
            ),
            (
                vec![&rsa, "-----BEGIN PUBLIC KEY-----\nAAAA\n"],
                "block 2 (line 10) has no `-----END PUBLIC KEY-----` line",
            ),
            (
                vec![&rsa, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n"],
                "block 2 (line 10) begins as `PUBLIC KEY` but ends as `RSA PUBLIC KEY` on line 12",
            ),
            (many, "holds 17 keys, at most 16"),
        ];
        for (parts, expected) in cases {
            let file = KeyFile::new(&parts);
            let mut settings = kith::Settings::with_database(&url);
            settings.bind = "127.0.0.1:0".parse().expect("bind address");
            settings.jwt_public_key_file = Some(file.0.clone());
            let detail = match kith::App::build(settings.clone()).await {
                Ok(_) => panic!("started with a bad key file ({expected})"),
                Err(error) => error.detail(),
            };
            let named = format!("JWT_PUBLIC_KEY_FILE {}", file.0.display());
            assert!(detail.contains(&named), "{detail}");
            assert!(detail.contains(expected), "expected `{expected}` in: {detail}");
            // `kith token` and the server read the file the same way.
            let direct = kith::auth::JwtKeys::from_settings(&settings, None).expect_err(expected);
            assert_eq!(direct.detail(), detail);
        }
        let missing =
            std::env::temp_dir().join(format!("kith-no-such-{}.pem", uuid::Uuid::new_v4()));
        let mut settings = kith::Settings::with_database(&url);
        settings.jwt_public_key_file = Some(missing.clone());
        let error = kith::auth::JwtKeys::from_settings(&settings, None).expect_err("missing file");
        assert!(error.detail().contains(&missing.display().to_string()), "{}", error.detail());
    }
}
