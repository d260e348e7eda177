//! Amazon MSK's control plane: a cluster's bootstrap brokers, asked for at start when the
//! template creates the cluster (CloudFormation does not return them).

use aws_sdk_kafka::Client;
use aws_sdk_kafka::error::DisplayErrorContext;
use vigil_core::Error;

/// The cluster's bootstrap broker lists, one per listener it has turned on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootstrapBrokers {
    pub plaintext: Option<String>,
    pub tls: Option<String>,
    pub sasl_scram: Option<String>,
    pub sasl_iam: Option<String>,
}

/// `kafka:GetBootstrapBrokers` for `cluster_arn`.
pub async fn bootstrap_brokers(
    config: &aws_config::SdkConfig,
    cluster_arn: &str,
) -> Result<BootstrapBrokers, Error> {
    let out = Client::new(config)
        .get_bootstrap_brokers()
        .cluster_arn(cluster_arn)
        .send()
        .await
        .map_err(|e| Error::Lookup {
            what: format!("the bootstrap brokers of {cluster_arn}"),
            message: DisplayErrorContext(e).to_string(),
        })?;
    let listed = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_owned);
    Ok(BootstrapBrokers {
        plaintext: listed(out.bootstrap_broker_string()),
        tls: listed(out.bootstrap_broker_string_tls()),
        sasl_scram: listed(out.bootstrap_broker_string_sasl_scram()),
        sasl_iam: listed(out.bootstrap_broker_string_sasl_iam()),
    })
}
