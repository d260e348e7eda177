//! Secrets Manager: the SASL/SCRAM credentials of an MSK cluster, kept as MSK requires (a
//! secret named `AmazonMSK_…` whose text is `{"username": …, "password": …}`).

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use vigil_core::Error;

/// A user name and its password; `Debug` does not show the password.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramCredentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for ScramCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramCredentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Reads the secret `secret_id` (a name or an ARN). Errors name the secret, never its text.
pub async fn scram_credentials(
    config: &aws_config::SdkConfig,
    secret_id: &str,
) -> Result<ScramCredentials, Error> {
    let fail = |message: String| Error::Lookup {
        what: format!("the SCRAM secret {secret_id}"),
        message,
    };
    let out = Client::new(config)
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| fail(DisplayErrorContext(e).to_string()))?;
    let text = out
        .secret_string()
        .ok_or_else(|| fail("the secret has no text (a binary secret?)".into()))?;
    parse(text).map_err(fail)
}

fn parse(text: &str) -> Result<ScramCredentials, String> {
    // serde_json's errors quote no input, but say only where it broke anyway.
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "the secret is not JSON (line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    let field = |name: &str| {
        value
            .get(name)
            .and_then(|v| v.as_str())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| format!("the secret has no \"{name}\" text"))
    };
    Ok(ScramCredentials {
        username: field("username")?,
        password: field("password")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_msk_secrets_and_names_what_is_missing() {
        let c = parse(r#"{"username": "vigil", "password": "s3cret"}"#).unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("vigil", "s3cret")
        );
        assert!(!format!("{c:?}").contains("s3cret"));
        assert_eq!(
            parse(r#"{"username": "vigil"}"#).unwrap_err(),
            "the secret has no \"password\" text"
        );
        let err = parse("user=vigil password=s3cret").unwrap_err();
        assert!(err.starts_with("the secret is not JSON"), "{err}");
        assert!(!err.contains("s3cret"));
    }
}
