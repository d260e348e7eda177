//! `classify-document`: S3 ObjectCreated events on the upload bucket → filed documents
//! (`vigil_documents::filing`).

use aws_lambda_events::event::s3::S3Event;
use vigil_core::{ObjectRef, ObjectStore};
use vigil_documents::Classifier;
use vigil_documents::filing::{self, Buckets, Filed};

use crate::Error;
use crate::settings::Vars;

/// `classify-document`'s settings: `PII_BUCKET`, `CLEAN_BUCKET`, `FINDINGS_BUCKET`
/// (required), `MODEL_DIR` (`/opt/vigil/model`, baked into the image), `NER_MODE`
/// (`verdict` or `everywhere`), and the allow list of values the organisation declares
/// public: `ALLOW_LIST` (TOML text) or `ALLOW_LIST_OBJECT` (`s3://bucket/key` of a TOML
/// file, read once at start; a missing object is an empty list).
#[derive(Debug, Clone)]
pub struct ClassifySettings {
    pub buckets: Buckets,
    pub model_dir: String,
    pub mode: vigil_documents::NerMode,
    pub allow_list: Option<String>,
    pub allow_list_object: Option<String>,
}

impl ClassifySettings {
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        use vigil_documents::NerMode;
        let vars = Vars::new(lookup);
        Ok(Self {
            buckets: Buckets {
                pii: vars.required("PII_BUCKET", "where documents with personal data go")?,
                clean: vars.required("CLEAN_BUCKET", "where documents without go")?,
                findings: vars.required("FINDINGS_BUCKET", "where findings records go")?,
            },
            model_dir: vars.text_or("MODEL_DIR", "/opt/vigil/model")?,
            mode: vars.choice_or(
                "NER_MODE",
                NerMode::Verdict,
                &[
                    ("verdict", NerMode::Verdict),
                    ("everywhere", NerMode::Everywhere),
                ],
            )?,
            allow_list: vars.optional("ALLOW_LIST"),
            allow_list_object: vars.optional("ALLOW_LIST_OBJECT"),
        })
    }
}

/// An S3 event's object key as the object is named: keys arrive URL-encoded, with `+`
/// for a space.
pub fn decode_key(raw: &str) -> Result<String, Error> {
    let plus_decoded = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_decoded)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| Error::Event("an object key is not valid UTF-8 once decoded".into()))
}

/// The uploads an event names.
pub fn uploads(event: &S3Event) -> Result<Vec<ObjectRef>, Error> {
    event
        .records
        .iter()
        .map(|r| {
            let bucket = r.s3.bucket.name.clone().filter(|b| !b.is_empty());
            let key = r.s3.object.key.as_deref().filter(|k| !k.is_empty());
            match (bucket, key) {
                (Some(bucket), Some(key)) => Ok(ObjectRef::new(bucket, decode_key(key)?)),
                _ => Err(Error::Event(
                    "a record has no bucket name or object key".into(),
                )),
            }
        })
        .collect()
}

/// Files every upload of the event. One failing upload does not stop the others; the
/// invocation then fails so that S3 delivers the event again (the filed ones are
/// recognized and left alone).
pub async fn classify_event(
    store: &impl ObjectStore,
    classifier: &Classifier,
    buckets: &Buckets,
    event: &S3Event,
) -> Result<Vec<Filed>, Error> {
    let mut filed = Vec::new();
    let mut failed = 0;
    for upload in uploads(event)? {
        match filing::file_upload(store, classifier, &upload, buckets).await {
            Ok(f) => filed.push(f),
            Err(e) => {
                failed += 1;
                tracing::error!(object = %upload, error = %e, "could not file the document");
            }
        }
    }
    if failed > 0 {
        return Err(Error::Event(format!(
            "{failed} of {} uploads could not be filed; the event will be retried",
            failed + filed.len()
        )));
    }
    Ok(filed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_url_decoded() {
        assert_eq!(
            decode_key("loan+file%20%282024%29.pdf").unwrap(),
            "loan file (2024).pdf"
        );
        assert_eq!(decode_key("a%2Bb.pdf").unwrap(), "a+b.pdf");
        assert_eq!(decode_key("caf%C3%A9.pdf").unwrap(), "café.pdf");
        assert!(decode_key("%FF.pdf").is_err());
    }
}
