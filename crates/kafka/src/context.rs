//! The client context every Vigil client is made with: it answers librdkafka's requests for
//! an OAUTHBEARER token when the brokers take MSK IAM.

use std::ffi::CString;
use std::sync::{Arc, Mutex};

use rdkafka::client::{Client, ClientContext, OAuthToken};
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;

use crate::Error;
use crate::msk_iam::IamTokens;

/// The principal a token names; MSK takes the identity from the signature, not from this.
const PRINCIPAL: &str = "vigil";

/// A client's context: the IAM signer when the brokers take MSK IAM, and the last
/// connection error librdkafka reported, to say why a request found no broker.
#[derive(Clone, Default)]
pub(crate) struct Auth {
    pub(crate) iam: Option<IamTokens>,
    last_error: Arc<Mutex<Option<String>>>,
}

impl Auth {
    pub(crate) fn new(iam: Option<IamTokens>) -> Self {
        Self {
            iam,
            last_error: Arc::default(),
        }
    }

    /// `e`, with the reason librdkafka last gave for a failed connection (a TLS handshake,
    /// an authentication) when there is one, and what to check.
    pub(crate) fn explain(&self, e: KafkaError) -> Error {
        let last = self
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let Some(reason) = last else {
            return Error::Client(e);
        };
        let hint = if reason.contains("certificate verify failed") {
            " (is KAFKA_SSL_CA_FILE the CA that signed the brokers' certificates?)"
        } else if [
            "SSL handshake failed",
            "wrong version number",
            "incorrect security.protocol",
        ]
        .iter()
        .any(|m| reason.contains(m))
        {
            // A TLS client at a plaintext listener, or the other way round.
            " (does the listener speak TLS? KAFKA_SECURITY_PROTOCOL must match it)"
        } else if reason.contains("SASL") || reason.contains("uthenticat") {
            " (check KAFKA_AUTH and its credentials)"
        } else {
            ""
        };
        Error::Connect(format!("{e}: {reason}{hint}"))
    }
}

/// A context that can say why a request found no broker.
pub(crate) trait Explains {
    fn explain(&self, e: KafkaError) -> Error;
}

impl Explains for Auth {
    fn explain(&self, e: KafkaError) -> Error {
        Auth::explain(self, e)
    }
}

impl ClientContext for Auth {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = true;

    /// Kept for [`Auth::explain`], and logged as librdkafka's default does.
    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(%error, reason, "kafka client");
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason.to_owned());
    }

    fn generate_oauth_token(
        &self,
        _config: Option<&str>,
    ) -> Result<OAuthToken, Box<dyn std::error::Error>> {
        let iam = self
            .iam
            .as_ref()
            .ok_or("the broker asked for an OAUTHBEARER token but KAFKA_AUTH is not iam")?;
        let t = iam.next_token()?;
        Ok(OAuthToken {
            token: t.token,
            principal_name: PRINCIPAL.into(),
            lifetime_ms: t.expires_at_ms,
        })
    }
}

impl ConsumerContext for Auth {}

/// Gives a new client its first token at once. librdkafka asks for tokens through the
/// client's main queue, which only a polled client serves: an admin client (whose thread
/// polls another queue) or a consumer that asks for metadata before its first poll would
/// otherwise wait for authentication until it times out. Later tokens come through the
/// refresh callback while the client is polled.
pub(crate) fn prime<C: ClientContext>(
    client: &Client<C>,
    iam: Option<&IamTokens>,
) -> Result<(), Error> {
    let Some(iam) = iam else { return Ok(()) };
    let token = iam.next_token()?;
    let value = CString::new(token.token)
        .map_err(|_| Error::Auth("the MSK IAM token has a NUL byte".into()))?;
    let principal = CString::new(PRINCIPAL).map_err(|_| Error::Auth("principal".into()))?;
    let mut message = [0 as std::ffi::c_char; 512];
    // SAFETY: the client pointer is valid for the lifetime of `client`; the strings are
    // NUL-terminated and outlive the call (librdkafka copies them); no extensions are
    // passed (null, 0); `message` is a writable buffer of the length given.
    let code = unsafe {
        rdkafka::bindings::rd_kafka_oauthbearer_set_token(
            client.native_ptr(),
            value.as_ptr(),
            token.expires_at_ms,
            principal.as_ptr(),
            std::ptr::null_mut(),
            0,
            message.as_mut_ptr(),
            message.len(),
        )
    };
    if code != rdkafka::types::RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
        // SAFETY: librdkafka wrote a NUL-terminated message into `message` (it is zeroed,
        // so an unwritten buffer reads as empty).
        let text = unsafe { std::ffi::CStr::from_ptr(message.as_ptr()) }.to_string_lossy();
        return Err(Error::Auth(format!(
            "setting the MSK IAM token: {text} ({code:?})"
        )));
    }
    Ok(())
}
