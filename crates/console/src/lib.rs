//! The Vigil console: a web app and a JSON API over what the pipelines produce.
//!
//! - *Documents*: upload a PDF, see its verdict and findings by page, download the filed copy.
//! - *Review*: blocked and reviewed transactions, newest first, each marked fraud or
//!   legitimate by an analyst; the label goes where training and backtests read labels.
//! - *Reports*: outcomes over time with buckets chosen for the range, top reasons, and a
//!   read-only SQL box over the archive.
//!
//! The same router serves `vigil console` over the demo's directories and, on AWS, the
//! console function behind sign-in: storage is an [`ObjectStore`](vigil_core::ObjectStore),
//! SQL a [`Sql`] engine (DataFusion locally, Athena on AWS), who is asking an
//! [`Authenticate`] implementation.

mod api;
mod assets;
pub mod auth;
pub mod cognito;
mod documents;
mod error;
pub mod reports;
mod review;
pub mod sql;

pub use api::router;
pub use assets::origin;
pub use auth::{Authenticate, LocalUser, User};
pub use cognito::CognitoAuth;
pub use documents::{DocumentRecord, Layout, MAX_UPLOAD_BYTES};
pub use error::Error;
pub use review::{Alert, AlertFilter, LabelRequest};
#[cfg(feature = "local")]
pub use sql::ArchiveSql;
pub use sql::{Rows, Sql};

use std::future::Future;
use std::pin::Pin;

use vigil_core::ObjectStore;
use vigil_documents::Classifier;

/// A boxed future, for the ports held as trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Signs a URL that lets a browser put one object straight into the upload bucket (on AWS,
/// where a function's request body is too small for documents).
pub trait UploadUrls: Send + Sync {
    /// A URL for `PUT` of `key` in `bucket`, valid for a few minutes.
    fn upload_url<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<String, Error>>;

    /// The origin the URLs point at when it is not an AWS one (a stand-in), for the page's
    /// CSP; AWS endpoints are allowed already.
    fn connects_to(&self) -> Option<String> {
        None
    }
}

/// Everything a request needs: where documents and labels live, how to query the archive,
/// who is asking, and (locally) the classifier that files an upload at once.
pub struct Console<S, Q> {
    pub store: S,
    pub layout: Layout,
    pub sql: Q,
    pub auth: Box<dyn Authenticate>,
    /// Files uploads in the request (locally). Without it an upload waits for the
    /// document function, which the upload bucket's event starts (AWS).
    pub classifier: Option<Classifier>,
    /// Hands out upload URLs (AWS); without it uploads come as `POST /api/documents`.
    pub upload_urls: Option<Box<dyn UploadUrls>>,
}

impl<S: ObjectStore, Q: Sql> Console<S, Q> {
    pub fn new(store: S, layout: Layout, sql: Q, auth: Box<dyn Authenticate>) -> Self {
        Self {
            store,
            layout,
            sql,
            auth,
            classifier: None,
            upload_urls: None,
        }
    }

    pub fn with_upload_urls(mut self, urls: Box<dyn UploadUrls>) -> Self {
        self.upload_urls = Some(urls);
        self
    }

    /// The page's Content-Security-Policy: its own scripts and styles only; calls to its
    /// own origin, AWS (Cognito, S3 uploads) and any stand-in the ports name.
    pub fn content_security_policy(&self) -> String {
        let mut connect = vec!["'self'".to_owned(), "https://*.amazonaws.com".to_owned()];
        let extra = [
            self.auth.connects_to(),
            self.upload_urls.as_ref().and_then(|u| u.connects_to()),
        ];
        for origin in extra.into_iter().flatten() {
            if !connect.contains(&origin) {
                connect.push(origin);
            }
        }
        format!(
            "default-src 'self'; connect-src {}; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'",
            connect.join(" ")
        )
    }

    pub fn with_classifier(mut self, classifier: Classifier) -> Self {
        self.classifier = Some(classifier);
        self
    }
}
