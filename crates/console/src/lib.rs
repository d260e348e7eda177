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
mod documents;
mod error;
pub mod reports;
mod review;
pub mod sql;

pub use api::router;
pub use auth::{Authenticate, LocalUser, User};
pub use documents::{DocumentRecord, Layout, MAX_UPLOAD_BYTES};
pub use error::Error;
pub use review::{Alert, AlertFilter, LabelRequest};
pub use sql::{ArchiveSql, Rows, Sql};

use vigil_core::ObjectStore;
use vigil_documents::Classifier;

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
}

impl<S: ObjectStore, Q: Sql> Console<S, Q> {
    pub fn new(store: S, layout: Layout, sql: Q, auth: Box<dyn Authenticate>) -> Self {
        Self {
            store,
            layout,
            sql,
            auth,
            classifier: None,
        }
    }

    pub fn with_classifier(mut self, classifier: Classifier) -> Self {
        self.classifier = Some(classifier);
        self
    }
}
