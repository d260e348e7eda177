use std::time::Duration;

use rdkafka::ClientConfig;

use crate::Error;
use crate::context::Auth;
use crate::msk_iam::IamTokens;
use crate::security::{self, Security};

/// How to reach the brokers.
#[derive(Debug, Clone)]
pub struct KafkaConfig {
    /// Comma-separated `host:port` list.
    pub bootstrap_servers: String,
    /// TLS and SASL.
    pub security: Security,
    /// How long a message may take to be delivered, retries included.
    pub delivery_timeout: Duration,
    /// The token signer, started when `security` says MSK IAM.
    iam: Option<IamTokens>,
}

/// Equal when they reach the same brokers the same way (the signer follows from `security`).
impl PartialEq for KafkaConfig {
    fn eq(&self, other: &Self) -> bool {
        self.bootstrap_servers == other.bootstrap_servers
            && self.security == other.security
            && self.delivery_timeout == other.delivery_timeout
    }
}

impl KafkaConfig {
    /// Checks the settings, so that a mistake is a clear error before any connection.
    pub fn new(bootstrap_servers: &str) -> Result<Self, Error> {
        let servers = bootstrap_servers.trim();
        if servers.is_empty() {
            return Err(Error::Config(
                "no bootstrap servers given (expected host:port[,host:port…])".into(),
            ));
        }
        for server in servers.split(',') {
            let server = server.trim();
            let valid = server.rsplit_once(':').is_some_and(|(host, port)| {
                !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
            });
            if !valid {
                return Err(Error::Config(format!(
                    "bootstrap server `{server}` is not host:port"
                )));
            }
        }
        Ok(Self {
            bootstrap_servers: servers.to_owned(),
            security: Security::default(),
            delivery_timeout: Duration::from_secs(30),
            iam: None,
        })
    }

    /// TLS and SASL as `security` says; with MSK IAM, starts the token signer.
    pub fn with_security(mut self, security: Security) -> Result<Self, Error> {
        security.check()?;
        self.iam = match &security.auth {
            security::Auth::Iam { region } => Some(IamTokens::start(region)?),
            _ => None,
        };
        self.security = security;
        Ok(self)
    }

    /// The context every client is made with.
    pub(crate) fn context(&self) -> Auth {
        Auth::new(self.iam.clone())
    }

    /// The IAM signer, if any, to give a new client its first token.
    pub(crate) fn iam(&self) -> Option<&IamTokens> {
        self.iam.as_ref()
    }

    pub fn with_delivery_timeout(mut self, timeout: Duration) -> Self {
        self.delivery_timeout = timeout;
        self
    }

    pub(crate) fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap_servers)
            .set("client.id", "vigil");
        self.security.apply(&mut c);
        c
    }

    /// A consumer of `group` that commits by hand and reads no end-of-partition events.
    pub(crate) fn consumer_config(&self, group: &str) -> ClientConfig {
        let mut c = self.client_config();
        c.set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false")
            // Some brokers (tansu 0.6 here) hold every fetch for its full maximum wait even
            // when records are there: librdkafka's 500 ms default capped a reader at ~32k
            // records/s, 10 ms lets it read ~380k/s. Against a broker that answers at once
            // it only means more fetches while idle.
            .set("fetch.wait.max.ms", "10");
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_host_port_lists() {
        let c = KafkaConfig::new(" b-1.msk:9094,b-2.msk:9094 ").unwrap();
        assert_eq!(c.bootstrap_servers, "b-1.msk:9094,b-2.msk:9094");
        assert!(KafkaConfig::new("127.0.0.1:9092").is_ok());
    }

    #[test]
    fn rejects_missing_or_malformed_servers() {
        for bad in [
            "",
            "  ",
            "localhost",
            "host:",
            ":9092",
            "host:port",
            "host:0",
            "a:1,,b:2",
        ] {
            let err = KafkaConfig::new(bad).unwrap_err();
            assert!(matches!(err, Error::Config(_)), "{bad}: {err}");
        }
        assert!(
            KafkaConfig::new("")
                .unwrap_err()
                .to_string()
                .contains("no bootstrap servers")
        );
    }
}
