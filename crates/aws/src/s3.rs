//! `ObjectStore` on Amazon S3 (or any S3 API, such as a local stand-in).

use std::time::SystemTime;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Tag, Tagging};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tracing::debug;
use vigil_core::{Error, ObjectRef, ObjectStore};

/// Characters escaped in a `CopySource`: everything but unreserved characters and `/`.
const COPY_SOURCE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

#[derive(Clone)]
pub struct S3Store {
    client: Client,
}

impl S3Store {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// A store from the shared AWS configuration. With a custom endpoint (a local
    /// stand-in) path-style addressing is used, since such endpoints have no bucket DNS.
    pub fn from_sdk_config(config: &aws_config::SdkConfig) -> Self {
        let custom_endpoint = config.endpoint_url().is_some();
        let s3 = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(custom_endpoint)
            .build();
        Self::new(Client::from_conf(s3))
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// Maps an SDK failure to the port's error: a missing object is "not found" (a missing
/// bucket is a setup error, not that); anything else keeps the SDK's full explanation.
fn store_error<E>(op: &'static str, object: &ObjectRef, err: SdkError<E, HttpResponse>) -> Error
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    if status == Some(404) && err.code() != Some("NoSuchBucket") {
        return Error::ObjectNotFound {
            bucket: object.bucket.clone(),
            key: object.key.clone(),
        };
    }
    Error::Store {
        op,
        bucket: object.bucket.clone(),
        key: object.key.clone(),
        message: DisplayErrorContext(&err).to_string(),
    }
}

impl ObjectStore for S3Store {
    async fn put(
        &self,
        object: &ObjectRef,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), Error> {
        debug!(bucket = %object.bucket, bytes = body.len(), "s3 put");
        self.client
            .put_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| store_error("put", object, e))?;
        Ok(())
    }

    async fn get(&self, object: &ObjectRef) -> Result<Vec<u8>, Error> {
        let out = self
            .client
            .get_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .send()
            .await
            .map_err(|e| store_error("get", object, e))?;
        let bytes = out.body.collect().await.map_err(|e| Error::Store {
            op: "get",
            bucket: object.bucket.clone(),
            key: object.key.clone(),
            message: e.to_string(),
        })?;
        Ok(bytes.into_bytes().to_vec())
    }

    async fn copy(&self, from: &ObjectRef, to: &ObjectRef) -> Result<(), Error> {
        let source = format!(
            "{}/{}",
            from.bucket,
            utf8_percent_encode(&from.key, COPY_SOURCE)
        );
        self.client
            .copy_object()
            .copy_source(source)
            .bucket(&to.bucket)
            .key(&to.key)
            .send()
            .await
            .map_err(|e| store_error("copy", from, e))?;
        Ok(())
    }

    async fn set_tags(&self, object: &ObjectRef, tags: &[(String, String)]) -> Result<(), Error> {
        let invalid = |message: String| Error::Store {
            op: "tag",
            bucket: object.bucket.clone(),
            key: object.key.clone(),
            message,
        };
        let tag_set = tags
            .iter()
            .map(|(k, v)| {
                Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .map_err(|e| invalid(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let tagging = Tagging::builder()
            .set_tag_set(Some(tag_set))
            .build()
            .map_err(|e| invalid(e.to_string()))?;
        self.client
            .put_object_tagging()
            .bucket(&object.bucket)
            .key(&object.key)
            .tagging(tagging)
            .send()
            .await
            .map_err(|e| store_error("tag", object, e))?;
        Ok(())
    }

    async fn tags(&self, object: &ObjectRef) -> Result<Vec<(String, String)>, Error> {
        let out = self
            .client
            .get_object_tagging()
            .bucket(&object.bucket)
            .key(&object.key)
            .send()
            .await
            .map_err(|e| store_error("get tags", object, e))?;
        Ok(out
            .tag_set()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect())
    }

    async fn delete(&self, object: &ObjectRef) -> Result<(), Error> {
        self.client
            .delete_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .send()
            .await
            .map_err(|e| store_error("delete", object, e))?;
        Ok(())
    }

    async fn entries(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<(String, Option<SystemTime>)>, Error> {
        let where_ = ObjectRef::new(bucket, prefix);
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        let mut entries = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| store_error("list", &where_, e))?;
            entries.extend(page.contents().iter().filter_map(|o| {
                let written = o
                    .last_modified()
                    .and_then(|t| SystemTime::try_from(*t).ok());
                o.key().map(|k| (k.to_owned(), written))
            }));
        }
        entries.sort();
        Ok(entries)
    }
}
