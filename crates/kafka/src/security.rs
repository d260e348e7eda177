//! How a client proves itself to the brokers and protects the connection: TLS (the system's
//! trust store, or a CA file for a private CA) and SASL (SCRAM-SHA-512 with a user and
//! password, or MSK IAM). One set of settings, read from the environment by the Lambda
//! functions and by `vigil` alike:
//!
//! | variable | values | default |
//! |---|---|---|
//! | `KAFKA_SECURITY_PROTOCOL` | `plaintext`, `ssl` | `plaintext` |
//! | `KAFKA_SSL_CA_FILE` | a PEM file of CA certificates | the system's trust store |
//! | `KAFKA_AUTH` | `none`, `scram`, `iam` | `none` |
//! | `KAFKA_SCRAM_USERNAME`, `KAFKA_SCRAM_PASSWORD` | with `scram` | — |
//! | `KAFKA_IAM_REGION` | with `iam` | `AWS_REGION` |

use std::path::PathBuf;

use rdkafka::ClientConfig;

use crate::Error;

/// The connection: in the clear (a local broker) or TLS.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Transport {
    #[default]
    Plaintext,
    /// TLS, trusting `ca_file`'s certificates, or the system's trust store without one.
    Tls { ca_file: Option<PathBuf> },
}

/// A SCRAM password: never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(password: impl Into<String>) -> Self {
        Self(password.into())
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Who the client is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Auth {
    #[default]
    None,
    /// SASL/SCRAM-SHA-512 (MSK's SCRAM, with the user in Secrets Manager).
    Scram {
        username: String,
        password: Password,
    },
    /// MSK IAM (SASL/OAUTHBEARER with SigV4-signed tokens) in `region`.
    Iam { region: String },
}

/// TLS and SASL settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Security {
    pub transport: Transport,
    pub auth: Auth,
}

impl Security {
    /// Reads the variables above through `lookup` (blank counts as unset). Mistakes are
    /// errors that say what to set, before any connection is tried.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let var = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let transport = match var("KAFKA_SECURITY_PROTOCOL")
            .map(|p| p.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("plaintext") => {
                if var("KAFKA_SSL_CA_FILE").is_some() {
                    return Err(Error::Config(
                        "KAFKA_SSL_CA_FILE is set but KAFKA_SECURITY_PROTOCOL is not ssl".into(),
                    ));
                }
                Transport::Plaintext
            }
            Some("ssl") => Transport::Tls {
                ca_file: var("KAFKA_SSL_CA_FILE").map(PathBuf::from),
            },
            Some(other) => {
                return Err(Error::Config(format!(
                    "KAFKA_SECURITY_PROTOCOL `{other}` is not supported: use plaintext or ssl (SASL is KAFKA_AUTH)"
                )));
            }
        };
        let auth = match var("KAFKA_AUTH").map(|a| a.to_ascii_lowercase()).as_deref() {
            None | Some("none") => Auth::None,
            Some("scram") => {
                let missing = |name: &str| Error::Config(format!("KAFKA_AUTH=scram needs {name}"));
                Auth::Scram {
                    username: var("KAFKA_SCRAM_USERNAME")
                        .ok_or_else(|| missing("KAFKA_SCRAM_USERNAME"))?,
                    password: Password::new(
                        var("KAFKA_SCRAM_PASSWORD")
                            .ok_or_else(|| missing("KAFKA_SCRAM_PASSWORD"))?,
                    ),
                }
            }
            Some("iam") => Auth::Iam {
                region: var("KAFKA_IAM_REGION")
                    .or_else(|| var("AWS_REGION"))
                    .ok_or_else(|| {
                        Error::Config("KAFKA_AUTH=iam needs KAFKA_IAM_REGION or AWS_REGION".into())
                    })?,
            },
            Some(other) => {
                return Err(Error::Config(format!(
                    "KAFKA_AUTH `{other}` is not supported: use none, scram or iam"
                )));
            }
        };
        let security = Self { transport, auth };
        security.check()?;
        Ok(security)
    }

    /// MSK takes IAM only over TLS; a CA file must be there to be read.
    pub fn check(&self) -> Result<(), Error> {
        if matches!(self.auth, Auth::Iam { .. }) && self.transport == Transport::Plaintext {
            return Err(Error::Config(
                "KAFKA_AUTH=iam needs KAFKA_SECURITY_PROTOCOL=ssl (MSK's IAM listener is TLS, port 9098)".into(),
            ));
        }
        if let Transport::Tls {
            ca_file: Some(file),
        } = &self.transport
            && !file.is_file()
        {
            return Err(Error::Config(format!(
                "KAFKA_SSL_CA_FILE {} is not a file",
                file.display()
            )));
        }
        Ok(())
    }

    /// librdkafka's `security.protocol`, `ssl.*` and `sasl.*` settings.
    pub(crate) fn apply(&self, c: &mut ClientConfig) {
        let sasl = !matches!(self.auth, Auth::None);
        let protocol = match (&self.transport, sasl) {
            (Transport::Plaintext, false) => "plaintext",
            (Transport::Plaintext, true) => "sasl_plaintext",
            (Transport::Tls { .. }, false) => "ssl",
            (Transport::Tls { .. }, true) => "sasl_ssl",
        };
        c.set("security.protocol", protocol);
        if let Transport::Tls { ca_file } = &self.transport {
            match ca_file {
                Some(file) => c.set("ssl.ca.location", file.to_string_lossy()),
                // OpenSSL is built into the binary (no system library on Lambda), so its
                // compiled-in directory means nothing: librdkafka finds the system's bundle
                // (Debian's /etc/ssl/certs, Amazon Linux's /etc/pki/tls/certs).
                None => c.set("ssl.ca.location", "probe"),
            };
        }
        match &self.auth {
            Auth::None => {}
            Auth::Scram { username, password } => {
                c.set("sasl.mechanisms", "SCRAM-SHA-512")
                    .set("sasl.username", username)
                    .set("sasl.password", &password.0);
            }
            Auth::Iam { .. } => {
                c.set("sasl.mechanisms", "OAUTHBEARER");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Security, Error> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Security::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn nothing_set_is_plaintext_without_auth() {
        assert_eq!(read(&[]).unwrap(), Security::default());
        assert_eq!(read(&[("KAFKA_AUTH", " ")]).unwrap(), Security::default());
    }

    #[test]
    fn tls_trusts_the_system_store_unless_given_a_ca() {
        let s = read(&[("KAFKA_SECURITY_PROTOCOL", "SSL")]).unwrap();
        assert_eq!(s.transport, Transport::Tls { ca_file: None });
        let mut c = ClientConfig::new();
        s.apply(&mut c);
        assert_eq!(c.get("security.protocol"), Some("ssl"));
        assert_eq!(c.get("ssl.ca.location"), Some("probe"));
        let err = read(&[
            ("KAFKA_SECURITY_PROTOCOL", "ssl"),
            ("KAFKA_SSL_CA_FILE", "/no/such.pem"),
        ])
        .unwrap_err();
        assert!(
            err.to_string().contains("/no/such.pem is not a file"),
            "{err}"
        );
    }

    #[test]
    fn scram_needs_a_user_and_password_and_hides_the_password() {
        let err = read(&[("KAFKA_AUTH", "scram"), ("KAFKA_SCRAM_USERNAME", "u")]).unwrap_err();
        assert!(err.to_string().contains("KAFKA_SCRAM_PASSWORD"), "{err}");
        let s = read(&[
            ("KAFKA_SECURITY_PROTOCOL", "ssl"),
            ("KAFKA_AUTH", "scram"),
            ("KAFKA_SCRAM_USERNAME", "u"),
            ("KAFKA_SCRAM_PASSWORD", "hunter2"),
        ])
        .unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
        let mut c = ClientConfig::new();
        s.apply(&mut c);
        assert_eq!(c.get("security.protocol"), Some("sasl_ssl"));
        assert_eq!(c.get("sasl.mechanisms"), Some("SCRAM-SHA-512"));
    }

    #[test]
    fn iam_needs_tls_and_a_region() {
        let err = read(&[("KAFKA_AUTH", "iam"), ("AWS_REGION", "eu-west-1")]).unwrap_err();
        assert!(
            err.to_string().contains("KAFKA_SECURITY_PROTOCOL=ssl"),
            "{err}"
        );
        let err = read(&[("KAFKA_AUTH", "iam"), ("KAFKA_SECURITY_PROTOCOL", "ssl")]).unwrap_err();
        assert!(err.to_string().contains("AWS_REGION"), "{err}");
        let s = read(&[
            ("KAFKA_AUTH", "IAM"),
            ("KAFKA_SECURITY_PROTOCOL", "ssl"),
            ("AWS_REGION", "eu-west-1"),
        ])
        .unwrap();
        assert_eq!(
            s.auth,
            Auth::Iam {
                region: "eu-west-1".into()
            }
        );
    }

    #[test]
    fn unknown_values_say_what_is_accepted() {
        let err = read(&[("KAFKA_SECURITY_PROTOCOL", "sasl_ssl")]).unwrap_err();
        assert!(err.to_string().contains("use plaintext or ssl"), "{err}");
        let err = read(&[("KAFKA_AUTH", "kerberos")]).unwrap_err();
        assert!(err.to_string().contains("none, scram or iam"), "{err}");
    }
}
