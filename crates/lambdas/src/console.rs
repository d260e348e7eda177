//! `console`: the console's router (`vigil_console`) behind API Gateway, over the S3
//! buckets, Athena and the Cognito user pool. Uploads are filed by `classify-document`, which
//! the upload bucket's event starts; the page polls until the verdict appears.

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use serde_json::{Map, Value};
use vigil_aws::SdkConfig;
use vigil_aws::athena::AthenaRunner;
use vigil_aws::s3::S3Store;
use vigil_console::{
    BoxFuture, CognitoAuth, Console, Error as ConsoleError, Layout, Rows, Sql, UploadUrls,
};
use vigil_reports::Runner;

use crate::Error;
use crate::settings::Vars;

/// `console`'s settings: `UPLOAD_BUCKET`, `PII_BUCKET`, `CLEAN_BUCKET`, `FINDINGS_BUCKET`,
/// `ARCHIVE_BUCKET` (labels go to its `labels/`), `ATHENA_WORKGROUP`, `GLUE_DATABASE`,
/// `USER_POOL_ISSUER` (`https://cognito-idp.<region>.amazonaws.com/<pool id>`),
/// `USER_POOL_CLIENT_ID` (all required); `USER_POOL_JWKS_URL` (default: the issuer's
/// `/.well-known/jwks.json`), `USER_POOL_ENDPOINT` (where the page signs in; default
/// Cognito's regional endpoint; a stand-in's URL for tests), `QUERY_BUDGET_SECONDS` (25: API
/// Gateway gives up at 30).
#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleSettings {
    pub layout: Layout,
    pub workgroup: String,
    pub database: String,
    pub issuer: String,
    pub client_id: String,
    pub jwks_url: String,
    pub endpoint: Option<String>,
    pub query_budget: Duration,
}

impl ConsoleSettings {
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let vars = Vars::new(lookup);
        let issuer = vars
            .required("USER_POOL_ISSUER", "the Cognito user pool's issuer URL")?
            .trim_end_matches('/')
            .to_owned();
        Ok(Self {
            layout: Layout {
                uploads: vars.required("UPLOAD_BUCKET", "where uploads go")?,
                pii: vars.required("PII_BUCKET", "where documents with personal data go")?,
                clean: vars.required("CLEAN_BUCKET", "where documents without go")?,
                findings: vars.required("FINDINGS_BUCKET", "where findings records go")?,
                archive: vars
                    .required("ARCHIVE_BUCKET", "the archive, whose labels/ take labels")?,
            },
            workgroup: vars.required("ATHENA_WORKGROUP", "the Athena workgroup")?,
            database: vars.required("GLUE_DATABASE", "the Glue database of the tables")?,
            client_id: vars.required("USER_POOL_CLIENT_ID", "the console's app client id")?,
            jwks_url: vars.text_or(
                "USER_POOL_JWKS_URL",
                &format!("{issuer}/.well-known/jwks.json"),
            )?,
            endpoint: vars.optional("USER_POOL_ENDPOINT"),
            issuer,
            query_budget: vars.seconds_or("QUERY_BUDGET_SECONDS", 25)?,
        })
    }
}

/// The console over the stack's buckets, Athena and the user pool, as the function runs it:
/// fetches the pool's public keys once (Cognito does not rotate them).
pub async fn open(
    settings: &ConsoleSettings,
    config: &SdkConfig,
) -> Result<Console<S3Store, AthenaSql>, Error> {
    // reqwest's TLS uses the process's crypto provider: the AWS SDK's (aws-lc-rs).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let keys_error = |e: reqwest::Error| {
        Error::Config(format!(
            "fetching the user pool's keys from {}: {e}",
            settings.jwks_url
        ))
    };
    let jwks = reqwest::get(&settings.jwks_url)
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(keys_error)?
        .bytes()
        .await
        .map_err(keys_error)?;
    let mut auth = CognitoAuth::new(&settings.issuer, &settings.client_id, &jwks)
        .map_err(|e| Error::Config(e.to_string()))?;
    if let Some(endpoint) = &settings.endpoint {
        auth = auth.with_endpoint(endpoint);
    }
    let mut athena = AthenaRunner::from_sdk_config(config, &settings.workgroup, &settings.database);
    athena.budget = settings.query_budget;
    let store = S3Store::from_sdk_config(config);
    let urls = S3UploadUrls::new(store.client().clone(), config.endpoint_url());
    Ok(Console::new(
        store,
        settings.layout.clone(),
        AthenaSql::new(athena),
        Box::new(auth),
    )
    .with_upload_urls(Box::new(urls)))
}

/// How long an upload URL is good for.
const UPLOAD_URL_SECONDS: u64 = 300;

/// Presigned `PUT`s into the upload bucket, signed with the function's role (which may put
/// only under `users/`). The bucket's default encryption applies to what is put.
pub struct S3UploadUrls {
    client: aws_sdk_s3::Client,
    /// The S3 endpoint when it is a stand-in (`AWS_ENDPOINT_URL`), for the page's CSP.
    endpoint: Option<String>,
}

impl S3UploadUrls {
    pub fn new(client: aws_sdk_s3::Client, endpoint: Option<&str>) -> Self {
        Self {
            client,
            endpoint: endpoint.map(str::to_owned),
        }
    }
}

impl UploadUrls for S3UploadUrls {
    fn upload_url<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<String, ConsoleError>> {
        Box::pin(async move {
            let config = PresigningConfig::expires_in(Duration::from_secs(UPLOAD_URL_SECONDS))
                .map_err(|e| ConsoleError::Internal(format!("upload URL: {e}")))?;
            let request = self
                .client
                .put_object()
                .bucket(bucket)
                .key(key)
                .content_type("application/pdf")
                .presigned(config)
                .await
                .map_err(|e| ConsoleError::Internal(format!("upload URL: {e}")))?;
            Ok(request.uri().to_owned())
        })
    }

    fn connects_to(&self) -> Option<String> {
        vigil_console::origin(self.endpoint.as_deref()?)
    }
}

/// Athena as the console's SQL engine. Athena answers every value as text with the
/// column's type beside it: numbers become numbers, `json` columns are parsed, the rest
/// stays text (so that a card BIN that looks like a number is still masked as text).
#[derive(Clone)]
pub struct AthenaSql {
    runner: AthenaRunner,
}

impl AthenaSql {
    pub fn new(runner: AthenaRunner) -> Self {
        Self { runner }
    }
}

/// One Athena cell as JSON, by the column's type.
pub fn cell(value: &str, sql_type: &str) -> Value {
    match sql_type {
        "tinyint" | "smallint" | "integer" | "bigint" => value
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(value.to_owned())),
        "double" | "float" | "real" | "decimal" => value
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(value.to_owned())),
        "boolean" => Value::Bool(value == "true"),
        "json" => serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned())),
        _ => Value::String(value.to_owned()),
    }
}

impl Sql for AthenaSql {
    async fn query(&self, sql: &str) -> Result<Rows, ConsoleError> {
        let mut runner = self.runner.clone();
        let table = runner
            .run("console", sql)
            .await
            .map_err(|e| ConsoleError::Query(e.to_string()))?;
        let limit = vigil_console::sql::MAX_ROWS;
        let truncated = table.rows.len().saturating_sub(limit);
        let rows = table
            .rows
            .iter()
            .take(limit)
            .map(|r| {
                let mut row = Map::new();
                for (i, name) in table.columns.iter().enumerate() {
                    let value = r.get(i).map(String::as_str).unwrap_or("");
                    // Athena gives NULL as an empty cell.
                    if value.is_empty() {
                        continue;
                    }
                    let sql_type = table.types.get(i).map(String::as_str).unwrap_or("varchar");
                    row.insert(name.clone(), cell(value, sql_type));
                }
                row
            })
            .collect();
        Ok(Rows {
            columns: table.columns,
            rows,
            truncated,
        })
    }

    fn json(&self, expression: &str) -> String {
        format!("CAST({expression} AS JSON)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_need_the_pool_and_derive_its_keys_url() {
        let vars = |name: &str| {
            Some(
                match name {
                    "USER_POOL_ISSUER" => {
                        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X/"
                    }
                    "QUERY_BUDGET_SECONDS" | "USER_POOL_JWKS_URL" | "USER_POOL_ENDPOINT" => {
                        return None;
                    }
                    other => other,
                }
                .to_owned(),
            )
        };
        let s = ConsoleSettings::from_vars(vars).unwrap();
        assert_eq!(
            s.jwks_url,
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X/.well-known/jwks.json"
        );
        assert_eq!(s.layout.archive, "ARCHIVE_BUCKET");
        assert_eq!(s.query_budget, Duration::from_secs(25));
        assert_eq!(
            s.endpoint, None,
            "the page signs in at Cognito's own endpoint"
        );
        let err = ConsoleSettings::from_vars(|_| None).unwrap_err();
        assert!(err.to_string().contains("USER_POOL_ISSUER"), "{err}");
    }

    #[test]
    fn cells_follow_their_column_types() {
        assert_eq!(cell("42", "bigint"), Value::from(42));
        assert_eq!(cell("3.5", "double"), Value::from(3.5));
        assert_eq!(cell("340110", "varchar"), Value::from("340110"));
        assert_eq!(cell("[\"a\",\"b\"]", "json"), serde_json::json!(["a", "b"]));
        assert_eq!(cell("{\"m\":1.5}", "json"), serde_json::json!({"m": 1.5}));
        assert_eq!(cell("true", "boolean"), Value::Bool(true));
    }
}
