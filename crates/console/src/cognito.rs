//! Sign-in on AWS: every call carries a Cognito ID token (`Authorization: Bearer …`),
//! checked here against the user pool's signing keys: RS256 signature by a key of the pool's
//! JWKS, issuer, audience (the app client), `token_use` = `id`, expiry. API Gateway's JWT
//! authorizer checks the same in front; the function checks again so that it never trusts
//! a request that reached it another way.

use std::collections::HashMap;

use axum::http::{HeaderMap, header};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

use crate::{Authenticate, Error, User};

/// The group whose members see the review queue and the reports.
pub const ANALYSTS_GROUP: &str = "analysts";

/// Seconds of clock difference tolerated on `exp`.
const LEEWAY_SECS: u64 = 30;

/// A user pool's keys and the app client the console trusts.
pub struct CognitoAuth {
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
    /// For the page's sign-in: region, pool id, app client id, and the Cognito endpoint the
    /// page calls (Cognito's regional endpoint unless a stand-in is named).
    region: String,
    pool_id: String,
    client_id: String,
    endpoint: String,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    email: Option<String>,
    token_use: String,
    #[serde(default, rename = "cognito:groups")]
    groups: Vec<String>,
}

impl CognitoAuth {
    /// `issuer`: `https://cognito-idp.<region>.amazonaws.com/<pool id>`; `jwks`: the JSON
    /// at `<issuer>/.well-known/jwks.json`; `client_id`: the app client's id.
    pub fn new(issuer: &str, client_id: &str, jwks: &[u8]) -> Result<Self, Error> {
        let (region, pool_id) = pool_of(issuer).ok_or_else(|| {
            Error::Internal(format!(
                "USER_POOL_ISSUER `{issuer}` is not https://cognito-idp.<region>.amazonaws.com/<pool id>"
            ))
        })?;
        let set: JwkSet = serde_json::from_slice(jwks).map_err(|e| {
            Error::Internal(format!("the user pool's keys (JWKS) do not read: {e}"))
        })?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            let key = DecodingKey::from_jwk(jwk)
                .map_err(|e| Error::Internal(format!("the user pool's key {kid}: {e}")))?;
            keys.insert(kid, key);
        }
        if keys.is_empty() {
            return Err(Error::Internal(
                "the user pool's JWKS holds no key with an id".into(),
            ));
        }
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        Ok(Self {
            keys,
            validation,
            endpoint: format!("https://cognito-idp.{region}.amazonaws.com/"),
            region,
            pool_id,
            client_id: client_id.to_owned(),
        })
    }

    /// The page signs in at `endpoint` instead of Cognito's regional endpoint (a stand-in
    /// such as moto's Cognito; tokens are still checked against the pool's issuer).
    pub fn with_endpoint(mut self, endpoint: &str) -> Self {
        self.endpoint = endpoint.to_owned();
        self
    }

    fn verify(&self, token: &str) -> Result<User, String> {
        let header = decode_header(token).map_err(|e| format!("token header: {e}"))?;
        let kid = header.kid.ok_or("token without a key id")?;
        let key = self
            .keys
            .get(&kid)
            .ok_or_else(|| format!("token signed by an unknown key {kid}"))?;
        let data =
            decode::<Claims>(token, key, &self.validation).map_err(|e| format!("token: {e}"))?;
        let claims = data.claims;
        if claims.token_use != "id" {
            return Err(format!(
                "a `{}` token where an ID token is needed",
                claims.token_use
            ));
        }
        // A `sub` is a UUID; anything else would make an odd prefix.
        if claims.sub.is_empty()
            || !claims
                .sub
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err("token with an unusable subject".into());
        }
        Ok(User {
            name: claims.email.unwrap_or_else(|| claims.sub.clone()),
            analyst: claims.groups.iter().any(|g| g == ANALYSTS_GROUP),
            home: format!("users/{}/", claims.sub),
            id: claims.sub,
        })
    }
}

/// The region and pool id of an issuer URL.
fn pool_of(issuer: &str) -> Option<(String, String)> {
    let rest = issuer
        .trim_end_matches('/')
        .strip_prefix("https://cognito-idp.")?;
    let (host, pool) = rest.split_once('/')?;
    let region = host.split('.').next()?;
    if region.is_empty() || pool.is_empty() || pool.contains('/') {
        return None;
    }
    Some((region.to_owned(), pool.to_owned()))
}

impl Authenticate for CognitoAuth {
    fn sign_in(&self) -> serde_json::Value {
        serde_json::json!({
            "auth": "cognito",
            "region": self.region,
            "user_pool_id": self.pool_id,
            "client_id": self.client_id,
            "endpoint": self.endpoint,
        })
    }

    fn connects_to(&self) -> Option<String> {
        crate::assets::origin(&self.endpoint)
    }

    fn user(&self, headers: &HeaderMap) -> Result<User, Error> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::Unauthenticated("no bearer token".into()))?;
        self.verify(token).map_err(Error::Unauthenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TEST";
    const CLIENT: &str = "console-client";

    /// An RSA key made for the test by openssl, as a user pool's signing key would be.
    fn key(kid: &str) -> Option<(EncodingKey, Jwk)> {
        let out = std::process::Command::new("openssl")
            .args(["genrsa", "-traditional", "2048"])
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!("skipped: openssl cannot make an RSA key here");
            return None;
        }
        let encoding = EncodingKey::from_rsa_pem(&out.stdout).unwrap();
        let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256).unwrap();
        jwk.common.key_id = Some(kid.into());
        Some((encoding, jwk))
    }

    fn token(key: &EncodingKey, kid: &str, claims: serde_json::Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.into());
        encode(&header, &claims, key).unwrap()
    }

    fn claims(sub: &str, groups: &[&str]) -> serde_json::Value {
        json!({
            "sub": sub, "email": "ana@example.com", "token_use": "id", "iss": ISSUER,
            "aud": CLIENT, "cognito:groups": groups,
            "exp": chrono::Utc::now().timestamp() + 600,
        })
    }

    fn bearer(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        h
    }

    #[test]
    fn tokens_of_the_pool_pass_and_everything_else_is_refused() {
        let Some((signing, jwk)) = key("k1") else {
            return;
        };
        let Some((stranger, _)) = key("k1") else {
            return;
        };
        let jwks = serde_json::to_vec(&json!({"keys": [jwk]})).unwrap();
        let auth = CognitoAuth::new(ISSUER, CLIENT, &jwks).unwrap();
        let sub = "3f2b8a1e-0000-4000-8000-00000000abcd";

        let analyst = auth
            .user(&bearer(&token(&signing, "k1", claims(sub, &["analysts"]))))
            .unwrap();
        assert!(analyst.analyst);
        assert_eq!(analyst.home, format!("users/{sub}/"));
        assert_eq!(analyst.name, "ana@example.com");
        let member = auth
            .user(&bearer(&token(&signing, "k1", claims(sub, &[]))))
            .unwrap();
        assert!(!member.analyst);

        let mut expired = claims(sub, &[]);
        expired["exp"] = json!(chrono::Utc::now().timestamp() - 3_600);
        let mut other_client = claims(sub, &[]);
        other_client["aud"] = json!("another-client");
        let mut other_pool = claims(sub, &[]);
        other_pool["iss"] = json!("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_OTHER");
        let mut access = claims(sub, &[]);
        access["token_use"] = json!("access");
        let mut odd_sub = claims("../../x", &[]);
        odd_sub["sub"] = json!("../../x");
        for (why, headers) in [
            ("no header", HeaderMap::new()),
            ("not a token", bearer("abc.def.ghi")),
            (
                "another signer",
                bearer(&token(&stranger, "k1", claims(sub, &["analysts"]))),
            ),
            (
                "unknown key",
                bearer(&token(&signing, "k2", claims(sub, &[]))),
            ),
            ("expired", bearer(&token(&signing, "k1", expired))),
            (
                "another client",
                bearer(&token(&signing, "k1", other_client)),
            ),
            ("another pool", bearer(&token(&signing, "k1", other_pool))),
            ("access token", bearer(&token(&signing, "k1", access))),
            ("odd subject", bearer(&token(&signing, "k1", odd_sub))),
        ] {
            let err = auth.user(&headers).unwrap_err();
            assert!(matches!(err, Error::Unauthenticated(_)), "{why}: {err}");
        }
        assert_eq!(auth.sign_in()["region"], "eu-west-1");
        assert_eq!(auth.sign_in()["user_pool_id"], "eu-west-1_TEST");
        assert_eq!(
            auth.sign_in()["endpoint"],
            "https://cognito-idp.eu-west-1.amazonaws.com/"
        );
        let local = CognitoAuth::new(ISSUER, CLIENT, &jwks)
            .unwrap()
            .with_endpoint("http://127.0.0.1:5000/");
        assert_eq!(local.sign_in()["endpoint"], "http://127.0.0.1:5000/");
        assert_eq!(
            local.connects_to().as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert!(CognitoAuth::new("https://example.com/x", CLIENT, &jwks).is_err());
        assert!(CognitoAuth::new(ISSUER, CLIENT, b"{\"keys\": []}").is_err());
        assert!(CognitoAuth::new(ISSUER, CLIENT, b"not json").is_err());
    }
}
