//! Filing an uploaded document: the step the `classify-document` Lambda and `vigil demo`
//! share. Read the upload, classify it, copy it to the PII or the clean bucket under the
//! same key, tagged with the verdict, write `findings/<key>.json`, and delete the upload
//! only after both writes succeeded. Every step is idempotent, so a retried event does
//! no harm; an upload already filed (deleted, its findings written) is reported as such.

use serde::Serialize;
use vigil_core::{DocumentVerdict, Error as CoreError, ObjectRef, ObjectStore, Verdict};

use crate::{Classifier, Error};

/// Where filed documents go.
#[derive(Debug, Clone)]
pub struct Buckets {
    pub pii: String,
    pub clean: String,
    pub findings: String,
}

/// What happened to one upload.
#[derive(Debug, Clone, PartialEq)]
pub struct Filed {
    pub verdict: Verdict,
    /// The copy in the PII or clean bucket; `None` for an `error` verdict (the upload
    /// stays where it is, tagged, for a person to look at).
    pub destination: Option<ObjectRef>,
    pub findings: ObjectRef,
    /// The upload had been filed by an earlier delivery of the same event.
    pub already_filed: bool,
}

/// The findings record: the verdict with masked entities, and where the document went.
#[derive(Serialize)]
struct Record<'a> {
    source: String,
    destination: Option<String>,
    #[serde(flatten)]
    verdict: &'a DocumentVerdict,
    /// The NER model, when one ran.
    model: Option<&'static str>,
}

pub const VERDICT_TAG: &str = "vigil-verdict";

pub fn findings_ref(buckets: &Buckets, key: &str) -> ObjectRef {
    ObjectRef::new(&buckets.findings, format!("findings/{key}.json"))
}

pub async fn file_upload(
    store: &impl ObjectStore,
    classifier: &Classifier,
    upload: &ObjectRef,
    buckets: &Buckets,
) -> Result<Filed, Error> {
    let findings = findings_ref(buckets, &upload.key);
    let bytes = match store.get(upload).await {
        Ok(bytes) => bytes,
        Err(CoreError::ObjectNotFound { .. }) => {
            // Gone: filed by an earlier delivery if its findings exist; otherwise the
            // object was deleted by someone else, which is an error worth a retry.
            let record = store.get(&findings).await?;
            let verdict = serde_json::from_slice::<serde_json::Value>(&record)?
                .get("verdict")
                .and_then(|v| serde_json::from_value::<Verdict>(v.clone()).ok())
                .unwrap_or(Verdict::Error);
            tracing::info!(object = %upload, "already filed");
            return Ok(Filed {
                verdict,
                destination: None,
                findings,
                already_filed: true,
            });
        }
        Err(e) => return Err(e.into()),
    };
    let verdict = classifier.classify(&bytes).verdict;
    let destination = match verdict.verdict {
        Verdict::Pii => Some(ObjectRef::new(&buckets.pii, &upload.key)),
        Verdict::NoPii => Some(ObjectRef::new(&buckets.clean, &upload.key)),
        Verdict::Error => None,
    };
    let tags = vec![(VERDICT_TAG.to_owned(), verdict.verdict.as_str().to_owned())];
    if let Some(to) = &destination {
        store.copy(upload, to).await?;
        store.set_tags(to, &tags).await?;
    } else {
        store.set_tags(upload, &tags).await?;
    }
    let record = Record {
        source: upload.to_string(),
        destination: destination.as_ref().map(ToString::to_string),
        verdict: &verdict,
        model: classifier.has_ner().then_some("rampart-1.4.0"),
    };
    store
        .put(
            &findings,
            serde_json::to_vec_pretty(&record)?,
            "application/json",
        )
        .await?;
    if destination.is_some() {
        store.delete(upload).await?;
    }
    tracing::info!(
        object = %upload,
        verdict = verdict.verdict.as_str(),
        entities = verdict.entities.len(),
        pages = verdict.pages,
        error = verdict.error.as_deref().unwrap_or(""),
        "filed"
    );
    Ok(Filed {
        verdict: verdict.verdict,
        destination,
        findings,
        already_filed: false,
    })
}
