//! Bearer token verification: every rejection is UNAUTHENTICATED with a status below 500.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use kith::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp};

const ME: &str = "{ me { subject roles } }";

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
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
        assert_eq!(response.data()["__schema"]["queryType"]["name"], "QueryRoot");
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
}
