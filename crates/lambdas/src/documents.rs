//! `classify-document`: S3 ObjectCreated events on the upload bucket → filed documents
//! (`vigil_documents::filing`); and, on a schedule, a sweep that files again the uploads an
//! event failed to file (after S3's retries such an event waits in the failure queue, and
//! the upload would otherwise stay unfiled).

use std::time::{Duration, SystemTime};

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
/// file, read once at start; a missing object is an empty list); for the sweep,
/// `UPLOAD_BUCKET` (none: no sweep) and `SWEEP_AFTER_MINUTES` (30: how long an upload may
/// wait for its event before the sweep files it); for scans, `OCR`, `OCR_LANGUAGES`,
/// `OCR_DATA`, `OCR_LIBRARY` (see the fields).
/// Where the OCR layer puts Tesseract's language data.
pub const DEFAULT_OCR_DATA: &str = "/opt/tessdata";

#[derive(Debug, Clone)]
pub struct ClassifySettings {
    pub buckets: Buckets,
    pub upload_bucket: Option<String>,
    pub sweep_after: Duration,
    pub model_dir: String,
    pub mode: vigil_documents::NerMode,
    pub allow_list: Option<String>,
    pub allow_list_object: Option<String>,
    /// `OCR`: `auto` (default) reads pages without a text layer, `off` does not.
    pub ocr: bool,
    /// `OCR_LANGUAGES` (`eng`), `OCR_DPI`, `OCR_DATA` (the tessdata folder, `/opt/tessdata`: the OCR
    /// layer's), `OCR_LIBRARY` (default: `libtesseract.so.5` on the loader's path, which
    /// holds the layer's `/opt/lib`).
    pub ocr_settings: vigil_documents::OcrSettings,
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
            upload_bucket: vars.optional("UPLOAD_BUCKET"),
            sweep_after: Duration::from_secs(
                60 * vars.parsed_or("SWEEP_AFTER_MINUTES", 30, |t| {
                    t.trim()
                        .parse::<u64>()
                        .map_err(|_| format!("must be a whole number of minutes, got `{t}`"))
                })?,
            ),
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
            ocr: vars.choice_or("OCR", true, &[("auto", true), ("off", false)])?,
            ocr_settings: vigil_documents::OcrSettings {
                languages: vars.text_or("OCR_LANGUAGES", "eng")?,
                data_dir: Some(vars.text_or("OCR_DATA", DEFAULT_OCR_DATA)?.into()),
                library: vars.optional("OCR_LIBRARY").map(Into::into),
                dpi: vars.parsed_or(
                    "OCR_DPI",
                    vigil_documents::OcrSettings::default().dpi,
                    |t| {
                        t.trim()
                            .parse::<u32>()
                            .ok()
                            .filter(|d| (100..=600).contains(d))
                            .ok_or_else(|| {
                                format!("must be a resolution from 100 to 600 dpi, got `{t}`")
                            })
                    },
                )?,
                ..vigil_documents::OcrSettings::default()
            },
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

/// What an invocation asks for: uploads to file (an S3 event), or a sweep (a scheduled
/// EventBridge event).
#[derive(Debug)]
pub enum Invocation {
    Uploads(S3Event),
    Sweep,
}

impl Invocation {
    pub fn from_payload(payload: serde_json::Value) -> Result<Self, Error> {
        if payload.get("Records").is_some() {
            return serde_json::from_value(payload)
                .map(Invocation::Uploads)
                .map_err(|e| Error::Event(format!("not an S3 event: {e}")));
        }
        if payload.get("source").and_then(|s| s.as_str()) == Some("aws.events") {
            return Ok(Invocation::Sweep);
        }
        Err(Error::Event(
            "neither an S3 event (`Records`) nor a scheduled event (`source`: `aws.events`)".into(),
        ))
    }
}

/// Most uploads one sweep files: a sweep must end well inside the function's timeout, and
/// the next one takes the rest.
pub const SWEEP_LIMIT: usize = 50;

/// What a sweep found and did.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize)]
pub struct Swept {
    /// Uploads older than the wait that are not filed.
    pub unfiled: usize,
    pub filed: usize,
    pub failed: usize,
    /// Unfiled uploads left for the next sweep (over [`SWEEP_LIMIT`]).
    pub left: usize,
}

/// Files again each upload written before `now - wait` that is still in `upload_bucket`,
/// except those already filed as unreadable (tagged `vigil-verdict=error`: they stay, with
/// their findings record saying why). Fails, after trying every one, when any could not be
/// filed, so that the failure is counted and alarmed.
pub async fn sweep(
    store: &impl ObjectStore,
    classifier: &Classifier,
    buckets: &Buckets,
    upload_bucket: &str,
    wait: Duration,
    now: SystemTime,
) -> Result<Swept, Error> {
    let before = now.checked_sub(wait).unwrap_or(SystemTime::UNIX_EPOCH);
    let mut swept = Swept::default();
    for key in store.list_written_before(upload_bucket, "", before).await? {
        let upload = ObjectRef::new(upload_bucket, &key);
        let tags = store.tags(&upload).await?;
        if tags
            .iter()
            .any(|(k, v)| k == filing::VERDICT_TAG && v == vigil_core::Verdict::Error.as_str())
        {
            continue;
        }
        swept.unfiled += 1;
        if swept.filed + swept.failed == SWEEP_LIMIT {
            swept.left += 1;
            continue;
        }
        match filing::file_upload(store, classifier, &upload, buckets).await {
            Ok(_) => swept.filed += 1,
            Err(e) => {
                swept.failed += 1;
                tracing::error!(object = %upload, error = %e, "the sweep could not file the document");
            }
        }
    }
    tracing::info!(
        unfiled = swept.unfiled,
        filed = swept.filed,
        failed = swept.failed,
        left = swept.left,
        "sweep done"
    );
    if swept.failed > 0 {
        return Err(Error::Event(format!(
            "the sweep could not file {} of {} uploads",
            swept.failed, swept.unfiled
        )));
    }
    Ok(swept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ocr_is_on_by_default_and_its_settings_are_checked() {
        let base = |name: &str| -> Option<String> {
            matches!(name, "PII_BUCKET" | "CLEAN_BUCKET" | "FINDINGS_BUCKET")
                .then(|| name.to_owned())
        };
        let s = ClassifySettings::from_vars(base).unwrap();
        assert!(s.ocr);
        assert_eq!(s.ocr_settings.languages, "eng");
        assert_eq!(
            s.ocr_settings.data_dir.as_deref(),
            Some(std::path::Path::new(DEFAULT_OCR_DATA))
        );
        assert_eq!(s.ocr_settings.library, None);
        let with = |extra: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                extra
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
                    .or_else(|| base(name))
            }
        };
        let s = ClassifySettings::from_vars(with(&[("OCR", "off"), ("OCR_DPI", "200")])).unwrap();
        assert!(!s.ocr);
        assert_eq!(s.ocr_settings.dpi, 200);
        for bad in [&[("OCR", "maybe")][..], &[("OCR_DPI", "20")][..]] {
            let err = ClassifySettings::from_vars(with(bad)).unwrap_err();
            assert!(err.to_string().contains(bad[0].0), "{err}");
        }
    }

    #[test]
    fn invocations_are_s3_events_or_schedules() {
        let schedule: serde_json::Value = serde_json::from_str(include_str!(
            "../../../infra/events/eventbridge-schedule.json"
        ))
        .unwrap();
        assert!(matches!(
            Invocation::from_payload(schedule).unwrap(),
            Invocation::Sweep
        ));
        let s3: serde_json::Value =
            serde_json::from_str(include_str!("../../../infra/events/example-s3-event.json"))
                .unwrap();
        let Invocation::Uploads(event) = Invocation::from_payload(s3).unwrap() else {
            panic!("an S3 event")
        };
        assert_eq!(
            uploads(&event).unwrap(),
            [ObjectRef::new("sourcebucket", "Happy Face.jpg")]
        );
        let err = Invocation::from_payload(serde_json::json!({"hello": 1})).unwrap_err();
        assert!(err.to_string().contains("neither an S3 event"), "{err}");
    }

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
