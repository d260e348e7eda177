//! `Notifier` on Amazon SNS: one publish per alert (e-mail subscribers get the subject and body).

use aws_sdk_sns::Client;
use aws_sdk_sns::error::DisplayErrorContext;
use vigil_core::{Error, Notifier};

#[derive(Clone)]
pub struct SnsNotifier {
    client: Client,
    topic_arn: String,
}

impl SnsNotifier {
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }

    pub fn from_sdk_config(config: &aws_config::SdkConfig, topic_arn: impl Into<String>) -> Self {
        Self::new(Client::new(config), topic_arn)
    }
}

impl Notifier for SnsNotifier {
    async fn notify(&self, id: &str, subject: &str, body: &str) -> Result<(), Error> {
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(subject)
            .message(body)
            .send()
            .await
            .map_err(|e| {
                Error::Notify(format!(
                    "publishing alert {id} to {}: {}",
                    self.topic_arn,
                    DisplayErrorContext(e)
                ))
            })?;
        Ok(())
    }
}
