//! Kafka settings kept in AWS rather than in the environment: the bootstrap brokers of an
//! MSK cluster (`KAFKA_CLUSTER_ARN`, when `KAFKA_BOOTSTRAP_SERVERS` is blank: the template
//! creates the cluster, and CloudFormation does not return its brokers) and SASL/SCRAM
//! credentials in Secrets Manager (`KAFKA_SCRAM_SECRET_ARN`, as MSK requires them kept).
//! Looked up once, at start; the result reads like the environment, so that the settings
//! parsers stay pure functions of their variables.

use std::collections::HashMap;

use vigil_aws::msk::BootstrapBrokers;

use crate::Error;
use crate::settings::Vars;

pub const BOOTSTRAP_SERVERS: &str = "KAFKA_BOOTSTRAP_SERVERS";
pub const CLUSTER_ARN: &str = "KAFKA_CLUSTER_ARN";
pub const SCRAM_SECRET_ARN: &str = "KAFKA_SCRAM_SECRET_ARN";
const SCRAM_USERNAME: &str = "KAFKA_SCRAM_USERNAME";
const SCRAM_PASSWORD: &str = "KAFKA_SCRAM_PASSWORD";

/// The environment with what was looked up laid over it.
pub struct Resolved<F> {
    lookup: F,
    found: HashMap<&'static str, String>,
}

impl<F: Fn(&str) -> Option<String>> Resolved<F> {
    pub fn get(&self, name: &str) -> Option<String> {
        match self.found.get(name) {
            Some(value) => Some(value.clone()),
            None => (self.lookup)(name),
        }
    }
}

/// Looks up what the environment names but does not hold; asks AWS nothing when there is
/// nothing to look up (a listed broker, SCRAM credentials given directly).
pub async fn resolve<F: Fn(&str) -> Option<String>>(lookup: F) -> Result<Resolved<F>, Error> {
    let vars = Vars::new(&lookup);
    let cluster = vars
        .optional(CLUSTER_ARN)
        .filter(|_| vars.optional(BOOTSTRAP_SERVERS).is_none());
    let secret = vars
        .optional(SCRAM_SECRET_ARN)
        .filter(|_| vars.optional(SCRAM_USERNAME).is_none());
    let mut found = HashMap::new();
    if cluster.is_none() && secret.is_none() {
        return Ok(Resolved { lookup, found });
    }
    let config = vigil_aws::load_config().await;
    if let Some(arn) = cluster {
        let lists = vigil_aws::msk::bootstrap_brokers(&config, &arn).await?;
        let auth = vars.optional("KAFKA_AUTH").unwrap_or_else(|| "none".into());
        let protocol = vars
            .optional("KAFKA_SECURITY_PROTOCOL")
            .unwrap_or_else(|| "plaintext".into());
        let brokers = listener(&lists, &auth, &protocol)
            .map_err(|e| Error::Config(format!("{CLUSTER_ARN} {arn}: {e}")))?;
        tracing::info!(cluster = %arn, brokers = %brokers, "bootstrap brokers from MSK");
        found.insert(BOOTSTRAP_SERVERS, brokers);
    }
    if let Some(secret) = secret {
        let credentials = vigil_aws::secrets::scram_credentials(&config, &secret).await?;
        tracing::info!(secret = %secret, username = %credentials.username, "SCRAM credentials from Secrets Manager");
        found.insert(SCRAM_USERNAME, credentials.username);
        found.insert(SCRAM_PASSWORD, credentials.password);
    }
    Ok(Resolved { lookup, found })
}

/// The broker list of the listener that the authentication and transport settings ask for.
pub fn listener(lists: &BootstrapBrokers, auth: &str, protocol: &str) -> Result<String, String> {
    let (list, name, how) = match (
        auth.to_ascii_lowercase().as_str(),
        protocol.to_ascii_lowercase().as_str(),
    ) {
        ("iam", _) => (&lists.sasl_iam, "IAM", "turn on IAM authentication"),
        ("scram", _) => (
            &lists.sasl_scram,
            "SASL/SCRAM",
            "turn on SASL/SCRAM authentication",
        ),
        ("none", "ssl") => (&lists.tls, "TLS", "allow unauthenticated TLS clients"),
        ("none", "plaintext") => (&lists.plaintext, "plaintext", "allow plaintext clients"),
        (auth, protocol) => {
            return Err(format!(
                "KAFKA_AUTH `{auth}` with KAFKA_SECURITY_PROTOCOL `{protocol}` names no MSK \
                 listener (KAFKA_AUTH is iam, scram or none; the protocol ssl or plaintext)"
            ));
        }
    };
    list.clone().ok_or_else(|| {
        let on: Vec<&str> = [
            (&lists.sasl_iam, "IAM"),
            (&lists.sasl_scram, "SASL/SCRAM"),
            (&lists.tls, "TLS"),
            (&lists.plaintext, "plaintext"),
        ]
        .into_iter()
        .filter_map(|(l, n)| l.as_ref().map(|_| n))
        .collect();
        format!(
            "the cluster has no {name} listener (it has: {}); set KAFKA_AUTH to one it has, or \
             {how} on the cluster",
            if on.is_empty() {
                "none".to_owned()
            } else {
                on.join(", ")
            }
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists() -> BootstrapBrokers {
        BootstrapBrokers {
            plaintext: None,
            tls: Some("b-1.x:9094,b-2.x:9094".into()),
            sasl_scram: None,
            sasl_iam: Some("b-1.x:9098,b-2.x:9098".into()),
        }
    }

    #[test]
    fn picks_the_listener_the_settings_ask_for() {
        assert_eq!(
            listener(&lists(), "iam", "ssl").unwrap(),
            "b-1.x:9098,b-2.x:9098"
        );
        assert_eq!(
            listener(&lists(), "IAM", "SSL").unwrap(),
            "b-1.x:9098,b-2.x:9098"
        );
        assert_eq!(
            listener(&lists(), "none", "ssl").unwrap(),
            "b-1.x:9094,b-2.x:9094"
        );
    }

    #[test]
    fn a_listener_the_cluster_lacks_is_a_clear_error() {
        let err = listener(&lists(), "scram", "ssl").unwrap_err();
        assert_eq!(
            err,
            "the cluster has no SASL/SCRAM listener (it has: IAM, TLS); set KAFKA_AUTH to one \
             it has, or turn on SASL/SCRAM authentication on the cluster"
        );
        let err = listener(&lists(), "kerberos", "ssl").unwrap_err();
        assert!(err.contains("KAFKA_AUTH `kerberos`"), "{err}");
    }

    #[tokio::test]
    async fn nothing_to_look_up_asks_nothing() {
        let env: HashMap<&str, &str> = [
            (BOOTSTRAP_SERVERS, "b:9092"),
            (
                CLUSTER_ARN,
                "arn:aws:kafka:eu-west-1:123456789012:cluster/c/u",
            ),
        ]
        .into();
        let resolved = resolve(|k| env.get(k).map(|v| v.to_string()))
            .await
            .unwrap();
        assert_eq!(resolved.get(BOOTSTRAP_SERVERS).as_deref(), Some("b:9092"));
        assert_eq!(resolved.get(SCRAM_USERNAME), None);
    }
}
