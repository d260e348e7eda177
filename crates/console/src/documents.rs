//! Documents: an upload is stored in the upload bucket under the user's home; filed by
//! `vigil_documents::filing` (the code the document function runs), it moves to the PII or
//! the clean bucket with a findings record beside it. The console reads those records.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use vigil_core::{ObjectRef, ObjectStore};
use vigil_documents::filing::{Buckets, file_upload, findings_ref};

use crate::{Console, Error, Sql, User};

/// The largest upload accepted (a loan application with scans stays well below).
pub const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;

/// Longest document name kept (the rest of a long name is cut).
const MAX_NAME_CHARS: usize = 80;

/// Where documents and labels live: bucket names (directories under the data folder
/// locally).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub uploads: String,
    pub pii: String,
    pub clean: String,
    /// Holds `findings/<key>.json`.
    pub findings: String,
    /// Holds `labels/`, beside the archive's `processed/`.
    pub archive: String,
}

impl Layout {
    /// `vigil demo`'s folders under its output directory.
    pub fn demo() -> Self {
        Self {
            uploads: "documents/uploads".into(),
            pii: "documents/pii".into(),
            clean: "documents/clean".into(),
            findings: "documents".into(),
            archive: "archive".into(),
        }
    }

    fn buckets(&self) -> Buckets {
        Buckets {
            pii: self.pii.clone(),
            clean: self.clean.clone(),
            findings: self.findings.clone(),
        }
    }
}

/// A document as the list shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DocumentRecord {
    /// The name under the user's home: `<8 hex of the content>-<file name>`.
    pub id: String,
    /// `pii`, `no_pii`, `error`, or `pending` while it waits to be filed.
    pub verdict: String,
    pub pages: Option<u32>,
    /// Findings of personal data.
    pub findings: usize,
    pub reasons: Vec<String>,
    /// When it was filed (or uploaded, while pending), RFC 3339.
    pub time: Option<String>,
    /// Whether the filed PDF can be downloaded (not for an `error`, which stays in uploads).
    pub downloadable: bool,
}

/// Checks a document id from a URL: one file name, nothing that could climb out of the
/// user's home.
pub fn check_id(id: &str) -> Result<(), Error> {
    let ok = !id.is_empty()
        && id.len() <= 120
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "`{}` is not a document id (letters, digits, `-`, `_` and `.` only)",
            id.chars().take(40).collect::<String>()
        )))
    }
}

/// A safe file name from what the browser sent: letters, digits, `-`, `_`, `.` kept,
/// everything else `_`, ending in `.pdf`.
fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let mut out: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(MAX_NAME_CHARS)
        .collect();
    out = out.trim_start_matches('.').to_owned();
    if !out.to_ascii_lowercase().ends_with(".pdf") {
        out.push_str(".pdf");
    }
    out
}

/// What logs may say of a document: the 8 hex digits before its file name, which may name a
/// person ("jane_doe_paystub.pdf").
fn content_tag(id: &str) -> &str {
    id.split_once('-').map_or("", |(tag, _)| tag)
}

/// Whether the bytes are a PDF: `%PDF-` within the first kilobyte, as readers accept it.
fn is_pdf(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(1024)]
        .windows(5)
        .any(|w| w == b"%PDF-")
}

fn rfc3339(t: std::time::SystemTime) -> String {
    DateTime::<Utc>::from(t).to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl<S: ObjectStore, Q: Sql> Console<S, Q> {
    /// Stores an upload under the user's home and, locally, files it at once.
    pub async fn upload(
        &self,
        user: &User,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<DocumentRecord, Error> {
        if bytes.len() > MAX_UPLOAD_BYTES {
            return Err(Error::TooLarge(format!(
                "the file is {} MB; the largest accepted is {} MB",
                bytes.len() / (1024 * 1024),
                MAX_UPLOAD_BYTES / (1024 * 1024)
            )));
        }
        if !is_pdf(&bytes) {
            return Err(Error::NotPdf(
                "not a PDF: the file does not start with %PDF-; upload a PDF document".into(),
            ));
        }
        let digest = Sha256::digest(&bytes);
        let id = format!(
            "{:02x}{:02x}{:02x}{:02x}-{}",
            digest[0],
            digest[1],
            digest[2],
            digest[3],
            clean_name(name)
        );
        let upload = ObjectRef::new(&self.layout.uploads, format!("{}{id}", user.home));
        self.store.put(&upload, bytes, "application/pdf").await?;
        tracing::info!(user = %user.id, document = content_tag(&id), "document uploaded");
        if let Some(classifier) = &self.classifier {
            let filed =
                file_upload(&self.store, classifier, &upload, &self.layout.buckets()).await?;
            tracing::info!(
                document = content_tag(&id),
                verdict = filed.verdict.as_str(),
                "document filed"
            );
        }
        self.document(user, &id).await
    }

    /// A URL the browser puts the PDF to, under the user's home in the upload bucket; the
    /// upload bucket's event then files it. The id cannot hold the content's hash (the
    /// console never sees the bytes): it is 8 hex digits of the user, the time and the name.
    pub async fn upload_url(&self, user: &User, name: &str) -> Result<Value, Error> {
        let Some(urls) = &self.upload_urls else {
            return Err(Error::NotFound(
                "upload URLs: here documents are sent to POST /api/documents".into(),
            ));
        };
        let name = clean_name(name);
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true);
        let digest = Sha256::digest(format!("{}\n{now}\n{name}", user.id).as_bytes());
        let id = format!(
            "{:02x}{:02x}{:02x}{:02x}-{name}",
            digest[0], digest[1], digest[2], digest[3]
        );
        let key = format!("{}{id}", user.home);
        let url = urls.upload_url(&self.layout.uploads, &key).await?;
        tracing::info!(user = %user.id, document = content_tag(&id), "upload URL issued");
        Ok(serde_json::json!({
            "id": id,
            "url": url,
            "method": "PUT",
            "headers": {"content-type": "application/pdf"},
            "max_bytes": MAX_UPLOAD_BYTES,
        }))
    }

    /// The user's documents, newest first: filed ones from their findings, and uploads
    /// still waiting.
    pub async fn documents(&self, user: &User) -> Result<Vec<DocumentRecord>, Error> {
        let prefix = format!("findings/{}", user.home);
        let mut out = Vec::new();
        for (key, written) in self.store.entries(&self.layout.findings, &prefix).await? {
            let Some(id) = key
                .strip_prefix(&prefix)
                .and_then(|k| k.strip_suffix(".json"))
            else {
                continue;
            };
            if id.contains('/') {
                continue; // another user's home below this one
            }
            let findings = ObjectRef::new(&self.layout.findings, key.clone());
            match self.store.get(&findings).await {
                Ok(bytes) => out.push(record(id, &bytes, written)),
                Err(vigil_core::Error::ObjectNotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let filed: std::collections::HashSet<String> = out.iter().map(|d| d.id.clone()).collect();
        for (key, written) in self.store.entries(&self.layout.uploads, &user.home).await? {
            let id = &key[user.home.len()..];
            if id.contains('/') || filed.contains(id) {
                continue;
            }
            out.push(DocumentRecord {
                id: id.to_owned(),
                verdict: "pending".into(),
                pages: None,
                findings: 0,
                reasons: vec![],
                time: written.map(rfc3339),
                downloadable: false,
            });
        }
        out.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    /// One document's record.
    pub async fn document(&self, user: &User, id: &str) -> Result<DocumentRecord, Error> {
        check_id(id)?;
        let key = format!("{}{id}", user.home);
        let findings = findings_ref(&self.layout.buckets(), &key);
        match self.store.get(&findings).await {
            Ok(bytes) => Ok(record(id, &bytes, None)),
            Err(vigil_core::Error::ObjectNotFound { .. }) => {
                let upload = ObjectRef::new(&self.layout.uploads, key);
                match self.store.get(&upload).await {
                    Ok(_) => Ok(DocumentRecord {
                        id: id.to_owned(),
                        verdict: "pending".into(),
                        pages: None,
                        findings: 0,
                        reasons: vec![],
                        time: Some(rfc3339(std::time::SystemTime::now())),
                        downloadable: false,
                    }),
                    Err(vigil_core::Error::ObjectNotFound { .. }) => {
                        Err(Error::NotFound(format!("document {id}")))
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The findings record as filed (values masked), for the page's findings by page.
    pub async fn findings(&self, user: &User, id: &str) -> Result<Value, Error> {
        check_id(id)?;
        let key = format!("{}{id}", user.home);
        let bytes = self
            .store
            .get(&findings_ref(&self.layout.buckets(), &key))
            .await
            .map_err(|e| match e {
                vigil_core::Error::ObjectNotFound { .. } => {
                    Error::NotFound(format!("findings of document {id}"))
                }
                e => e.into(),
            })?;
        let mut v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Internal(format!("findings of {id}: {e}")))?;
        // Where it was filed is an operator's detail (bucket names), not the user's.
        if let Some(o) = v.as_object_mut() {
            o.remove("source");
            o.remove("destination");
            o.insert("id".into(), Value::String(id.to_owned()));
        }
        Ok(v)
    }

    /// The filed PDF.
    pub async fn pdf(&self, user: &User, id: &str) -> Result<Vec<u8>, Error> {
        check_id(id)?;
        let key = format!("{}{id}", user.home);
        for bucket in [&self.layout.pii, &self.layout.clean, &self.layout.uploads] {
            match self.store.get(&ObjectRef::new(bucket, key.clone())).await {
                Ok(bytes) => return Ok(bytes),
                Err(vigil_core::Error::ObjectNotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::NotFound(format!("document {id}")))
    }
}

/// The list's view of a findings record; a record that does not read is shown as an error.
fn record(id: &str, bytes: &[u8], written: Option<std::time::SystemTime>) -> DocumentRecord {
    #[derive(Deserialize)]
    struct Filed {
        verdict: String,
        #[serde(default)]
        pages: Option<u32>,
        #[serde(default)]
        entities: Vec<Value>,
        #[serde(default)]
        reasons: Vec<String>,
        #[serde(default)]
        destination: Option<String>,
    }
    match serde_json::from_slice::<Filed>(bytes) {
        Ok(f) => DocumentRecord {
            id: id.to_owned(),
            verdict: f.verdict,
            pages: f.pages,
            findings: f.entities.len(),
            reasons: f.reasons,
            time: written.map(rfc3339),
            downloadable: f.destination.is_some(),
        },
        Err(e) => DocumentRecord {
            id: id.to_owned(),
            verdict: "error".into(),
            pages: None,
            findings: 0,
            reasons: vec![format!("its findings record does not read: {e}")],
            time: written.map(rfc3339),
            downloadable: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_safe_and_ids_checked() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd.pdf");
        assert_eq!(clean_name("C:\\loans\\my loan (1).PDF"), "my_loan__1_.PDF");
        assert_eq!(clean_name(".hidden.pdf"), "hidden.pdf");
        assert!(check_id("0a1b2c3d-loan.pdf").is_ok());
        for bad in ["", "../x.pdf", "a/b.pdf", ".x", "a b.pdf"] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_pdf_is_recognised_by_its_header() {
        assert!(is_pdf(b"%PDF-1.7\n..."));
        assert!(is_pdf(b"\xef\xbb\xbf  %PDF-1.4"));
        assert!(!is_pdf(b"PK\x03\x04 a zip"));
        assert!(!is_pdf(b""));
    }
}
