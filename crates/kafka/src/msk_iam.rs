//! MSK IAM authentication: SASL/OAUTHBEARER with a token that is a SigV4-presigned URL for
//! `kafka-cluster:Connect`, as AWS's signers make it (`aws-msk-iam-sasl-signer-*`).
//!
//! The token is `base64url(URL)` without padding, where the URL is
//! `https://kafka.<region>.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-Algorithm=…`
//! presigned for 900 s with the signing name `kafka-cluster`, and a `User-Agent` parameter
//! appended after signing. [`token`] makes one from given credentials and time (a pure
//! function, checked byte for byte against the Python reference signer); [`IamTokens`]
//! makes them for librdkafka's refresh callback from the default AWS credential chain
//! (the function's role on Lambda; a profile, SSO or environment on a laptop).

use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use base64::Engine;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::Error;

/// How long a token is valid: what MSK accepts and the reference signers use.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(900);
/// The SigV4 signing name of MSK's data plane.
const SIGNING_NAME: &str = "kafka-cluster";
const ACTION: &str = "kafka-cluster:Connect";
/// What the tokens say made them (a query parameter outside the signature).
pub const USER_AGENT: &str = concat!("vigil/", env!("CARGO_PKG_VERSION"));
/// How long librdkafka's refresh waits for credentials before it reports a failure (it
/// then retries).
const CREDENTIALS_WAIT: Duration = Duration::from_secs(30);

/// Everything but RFC 3986's unreserved characters is percent-encoded, as SigV4 and the
/// reference signer do.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A signed token and when it stops being accepted.
#[derive(Clone, PartialEq, Eq)]
pub struct MskToken {
    pub token: String,
    /// Milliseconds since the Unix epoch.
    pub expires_at_ms: i64,
}

/// The token carries a signature and a session token: not for logs.
impl std::fmt::Debug for MskToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MskToken")
            .field("token", &"<redacted>")
            .field("expires_at_ms", &self.expires_at_ms)
            .finish()
    }
}

/// The token for `credentials` in `region`, signed at `at`, with `user_agent` appended.
pub fn token(
    credentials: &Credentials,
    region: &str,
    at: SystemTime,
    user_agent: &str,
) -> Result<MskToken, Error> {
    let host = format!("kafka.{region}.amazonaws.com");
    let action = utf8_percent_encode(ACTION, QUERY_VALUE);
    let url = format!("https://{host}/?Action={action}");
    let identity = credentials.clone().into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(TOKEN_LIFETIME);
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SIGNING_NAME)
        .time(at)
        .settings(settings)
        .build()
        .map_err(|e| Error::Auth(format!("MSK IAM token: {e}")))?
        .into();
    let request = SignableRequest::new(
        "GET",
        url.as_str(),
        std::iter::empty(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| Error::Auth(format!("MSK IAM token: {e}")))?;
    let (instructions, _) = sign(request, &params)
        .map_err(|e| Error::Auth(format!("MSK IAM token: {e}")))?
        .into_parts();
    let signed: Vec<(&str, &str)> = instructions
        .params()
        .iter()
        .map(|(name, value)| (*name, value.as_ref()))
        .collect();
    let param = |name: &str| {
        signed
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| Error::Auth(format!("MSK IAM token: the signer gave no {name}")))
    };
    // The order of the reference signer (botocore's query signer): the request's own
    // parameters, the signing parameters, the signature, then the user agent.
    let mut query = vec![
        ("X-Amz-Algorithm", param("X-Amz-Algorithm")?),
        ("X-Amz-Credential", param("X-Amz-Credential")?),
        ("X-Amz-Date", param("X-Amz-Date")?),
        ("X-Amz-Expires", param("X-Amz-Expires")?),
        ("X-Amz-SignedHeaders", param("X-Amz-SignedHeaders")?),
    ];
    if credentials.session_token().is_some() {
        query.push(("X-Amz-Security-Token", param("X-Amz-Security-Token")?));
    }
    query.push(("X-Amz-Signature", param("X-Amz-Signature")?));
    query.push(("User-Agent", user_agent));
    let mut url = url;
    for (name, value) in query {
        url.push('&');
        url.push_str(name);
        url.push('=');
        url.extend(utf8_percent_encode(value, QUERY_VALUE));
    }
    let signed_at = at
        .duration_since(UNIX_EPOCH)
        .map_err(|_| Error::Auth("MSK IAM token: the clock is before 1970".into()))?;
    Ok(MskToken {
        token: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url),
        // The date in the signature has whole seconds; the expiry counts from it.
        expires_at_ms: (signed_at.as_secs() + TOKEN_LIFETIME.as_secs()) as i64 * 1000,
    })
}

/// A token's request: the reply goes back on the channel.
type Request = mpsc::Sender<Result<MskToken, String>>;

/// Makes tokens on request from the default AWS credential chain, for a region. Its own
/// thread holds a small runtime for the chain's lookups (a profile's SSO, the instance
/// metadata service), so librdkafka's callback, which is synchronous and may run on any
/// thread, only waits for an answer.
#[derive(Clone)]
pub struct IamTokens {
    region: String,
    requests: mpsc::Sender<Request>,
}

impl std::fmt::Debug for IamTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IamTokens")
            .field("region", &self.region)
            .finish()
    }
}

impl IamTokens {
    /// Starts the signer for `region`. Credentials are looked up at each token, so that
    /// rotated ones are used.
    pub fn start(region: &str) -> Result<Self, Error> {
        let (requests, incoming) = mpsc::channel::<Request>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Auth(format!("MSK IAM signer: {e}")))?;
        let thread_region = region.to_owned();
        std::thread::Builder::new()
            .name("msk-iam-signer".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
                        .region(aws_config::Region::new(thread_region.clone()))
                        .load()
                        .await;
                    let provider = config.credentials_provider();
                    // Ends when every `IamTokens` (and so every client) is gone.
                    while let Ok(reply) = incoming.recv() {
                        let answer = match &provider {
                            None => Err("no AWS credential provider is configured".to_owned()),
                            Some(provider) => match provider.provide_credentials().await {
                                Ok(credentials) => {
                                    token(&credentials, &thread_region, SystemTime::now(), USER_AGENT)
                                        .map_err(|e| e.to_string())
                                }
                                Err(e) => Err(format!(
                                    "no AWS credentials for MSK IAM ({e}): on a laptop set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
                                )),
                            },
                        };
                        let _ = reply.send(answer);
                    }
                })
            })
            .map_err(|e| Error::Auth(format!("MSK IAM signer: {e}")))?;
        Ok(Self {
            region: region.to_owned(),
            requests,
        })
    }

    /// A fresh token, signed now.
    pub fn next_token(&self) -> Result<MskToken, Error> {
        let (reply, answer) = mpsc::channel();
        self.requests
            .send(reply)
            .map_err(|_| Error::Auth("the MSK IAM signer has stopped".into()))?;
        answer
            .recv_timeout(CREDENTIALS_WAIT)
            .map_err(|_| {
                Error::Auth(format!(
                    "no MSK IAM token within {} s (are AWS credentials reachable?)",
                    CREDENTIALS_WAIT.as_secs()
                ))
            })?
            .map_err(Error::Auth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(id: &str, secret: &str, session: Option<String>) -> Credentials {
        Credentials::new(id, secret, session, None, "test")
    }

    fn decoded(t: &MskToken) -> String {
        String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&t.token)
                .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn a_token_is_a_presigned_connect_url_valid_for_fifteen_minutes() {
        let credentials = keys("AKIDEXAMPLE", "secret", None);
        let at = UNIX_EPOCH + Duration::from_secs(1_765_000_000);
        let t = token(&credentials, "eu-west-1", at, "vigil/test").unwrap();
        let url = decoded(&t);
        assert!(url.starts_with("https://kafka.eu-west-1.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F"), "{url}");
        assert!(
            url.contains("%2Feu-west-1%2Fkafka-cluster%2Faws4_request&"),
            "{url}"
        );
        assert!(url.contains("&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature="));
        assert!(url.ends_with("&User-Agent=vigil%2Ftest"), "{url}");
        assert!(!url.contains("Security-Token"), "no session token given");
        assert_eq!(t.expires_at_ms, (1_765_000_000 + 900) * 1000);
        assert!(
            !format!("{t:?}").contains(&t.token),
            "Debug hides the token"
        );
    }

    #[test]
    fn a_session_token_goes_in_before_the_signature() {
        let credentials = keys("AKIDEXAMPLE", "secret", Some("tok/en+=".into()));
        let at = UNIX_EPOCH + Duration::from_secs(1_765_000_000);
        let url = decoded(&token(&credentials, "us-east-1", at, USER_AGENT).unwrap());
        let security = url.find("&X-Amz-Security-Token=tok%2Fen%2B%3D&").unwrap();
        assert!(security < url.find("&X-Amz-Signature=").unwrap(), "{url}");
    }
}
