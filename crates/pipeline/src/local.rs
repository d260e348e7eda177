//! Local stand-ins for S3 and SNS: a directory per bucket, and an outbox directory with one
//! `.eml` file per alert; and a record sink in memory.

use std::path::{Component, Path, PathBuf};

use vigil_core::{Error, Notifier, ObjectRef, ObjectStore, RecordSink};

use crate::alert::{Alert, to_eml};

/// Buckets as directories under a root; tags in a side directory `.tags/`.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

fn io_error(op: &'static str, object: &ObjectRef, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::ObjectNotFound {
            bucket: object.bucket.clone(),
            key: object.key.clone(),
        }
    } else {
        Error::Store {
            op,
            bucket: object.bucket.clone(),
            key: object.key.clone(),
            message: e.to_string(),
        }
    }
}

/// Writes so that a reader never sees half a file: a new file as an unnamed inode linked in
/// when complete (Linux), otherwise through a temporary file and a rename.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    if link_new(path, bytes)? {
        return Ok(());
    }
    write_and_rename(path, bytes)
}

/// The name a file is written under before it is renamed to its own.
fn temporary(path: &Path) -> PathBuf {
    path.with_extension(format!("tmp-{}", std::process::id()))
}

fn write_and_rename(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temporary(path);
    // The directory is made only when missing: most writes go to one that exists, and
    // looking first cost each a walk of the path.
    if let Err(e) = std::fs::write(&tmp, bytes) {
        match path.parent() {
            Some(dir) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dir)?;
                std::fs::write(&tmp, bytes)?;
            }
            _ => return Err(e),
        }
    }
    std::fs::rename(&tmp, path)
}

/// Writes the file as an unnamed inode (`O_TMPFILE`) and links it in under its name once
/// complete: for a new file, one change to the directory where a temporary file and a
/// rename make three (docs/benchmarks.md has the measurement). A file that exists is replaced through a temporary name and a rename, as before.
/// `Ok(false)`, with nothing written, where the file system or `/proc` does not allow it.
#[cfg(target_os = "linux")]
fn link_new(path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    use std::io::Write;
    use std::os::fd::AsRawFd;

    use rustix::fs::{AtFlags, CWD, Mode, OFlags};
    use rustix::io::Errno;

    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let flags = OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC;
    let open = || rustix::fs::open(dir, flags, Mode::from_raw_mode(0o666));
    let fd = match open() {
        Ok(fd) => fd,
        Err(Errno::NOENT) => {
            std::fs::create_dir_all(dir)?;
            open()?
        }
        Err(Errno::OPNOTSUPP | Errno::ISDIR | Errno::INVAL) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    let mut file = std::fs::File::from(fd);
    file.write_all(bytes)?;
    let unnamed = format!("/proc/self/fd/{}", file.as_raw_fd());
    let link =
        |to: &Path| rustix::fs::linkat(CWD, unnamed.as_str(), CWD, to, AtFlags::SYMLINK_FOLLOW);
    match link(path) {
        Ok(()) => Ok(true),
        Err(Errno::EXIST) => {
            let tmp = temporary(path);
            match link(&tmp) {
                Ok(()) => {}
                // Left behind by a run that stopped between link and rename.
                Err(Errno::EXIST) => {
                    std::fs::remove_file(&tmp)?;
                    link(&tmp)?;
                }
                Err(e) => return Err(e.into()),
            }
            std::fs::rename(&tmp, path)?;
            Ok(true)
        }
        Err(Errno::NOENT) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

impl LocalStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The file of an object; keys that would leave the bucket (`..`, absolute) are refused.
    fn path(&self, object: &ObjectRef, op: &'static str) -> Result<PathBuf, Error> {
        let key = Path::new(&object.key);
        let plain = |p: &Path| p.components().all(|c| matches!(c, Component::Normal(_)));
        if object.key.is_empty() || !plain(key) || !plain(Path::new(&object.bucket)) {
            return Err(Error::Store {
                op,
                bucket: object.bucket.clone(),
                key: object.key.clone(),
                message: "bucket and key must be plain relative names".into(),
            });
        }
        Ok(self.root.join(&object.bucket).join(key))
    }

    fn tag_path(&self, object: &ObjectRef) -> Result<PathBuf, Error> {
        let file = self.path(object, "tag")?;
        let relative = file.strip_prefix(&self.root).unwrap_or(&file).to_owned();
        Ok(self
            .root
            .join(".tags")
            .join(relative)
            .with_extension("tags.json"))
    }
}

impl LocalStore {
    /// Keys under a prefix with when their files were last written, in lexical order.
    fn written(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<(String, Option<std::time::SystemTime>)>, Error> {
        let base = self.root.join(bucket);
        let mut entries = Vec::new();
        let mut pending = vec![base.clone()];
        while let Some(dir) = pending.pop() {
            let listing = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_error("list", &ObjectRef::new(bucket, prefix), e)),
            };
            for entry in listing.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                } else if let Ok(relative) = path.strip_prefix(&base) {
                    let key = relative.to_string_lossy().replace('\\', "/");
                    if key.starts_with(prefix) && !key.contains(".tmp-") {
                        let written = entry.metadata().and_then(|m| m.modified()).ok();
                        entries.push((key, written));
                    }
                }
            }
        }
        entries.sort();
        Ok(entries)
    }
}

impl ObjectStore for LocalStore {
    async fn put(
        &self,
        object: &ObjectRef,
        body: Vec<u8>,
        _content_type: &str,
    ) -> Result<(), Error> {
        let path = self.path(object, "put")?;
        write_atomically(&path, &body).map_err(|e| io_error("put", object, e))
    }

    async fn get(&self, object: &ObjectRef) -> Result<Vec<u8>, Error> {
        std::fs::read(self.path(object, "get")?).map_err(|e| io_error("get", object, e))
    }

    async fn copy(&self, from: &ObjectRef, to: &ObjectRef) -> Result<(), Error> {
        let bytes = self.get(from).await?;
        self.put(to, bytes, "application/octet-stream").await
    }

    async fn set_tags(&self, object: &ObjectRef, tags: &[(String, String)]) -> Result<(), Error> {
        if !self.path(object, "tag")?.exists() {
            return Err(io_error("tag", object, std::io::ErrorKind::NotFound.into()));
        }
        let json = serde_json::to_vec(tags)?;
        write_atomically(&self.tag_path(object)?, &json).map_err(|e| io_error("tag", object, e))
    }

    async fn tags(&self, object: &ObjectRef) -> Result<Vec<(String, String)>, Error> {
        match std::fs::read(self.tag_path(object)?) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes)?),
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    && self.path(object, "tag")?.exists() =>
            {
                Ok(Vec::new())
            }
            Err(e) => Err(io_error("get tags", object, e)),
        }
    }

    async fn delete(&self, object: &ObjectRef) -> Result<(), Error> {
        for path in [self.path(object, "delete")?, self.tag_path(object)?] {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error("delete", object, e)),
            }
        }
        Ok(())
    }

    async fn entries(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<(String, Option<std::time::SystemTime>)>, Error> {
        self.written(bucket, prefix)
    }
}

/// Alerts as `.eml` files in a directory, one per alert id (a resend replaces it).
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
    from: String,
    to: String,
}

impl Outbox {
    pub fn new(dir: impl Into<PathBuf>, from: &str, to: &str) -> Self {
        Self {
            dir: dir.into(),
            from: from.into(),
            to: to.into(),
        }
    }
}

impl Notifier for Outbox {
    async fn notify(&self, id: &str, subject: &str, body: &str) -> Result<(), Error> {
        let name: String = id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let alert = Alert {
            event_id: id.into(),
            subject: subject.into(),
            body: body.into(),
        };
        let eml = to_eml(&alert, &self.from, &self.to, chrono::Utc::now());
        write_atomically(&self.dir.join(format!("{name}.eml")), eml.as_bytes()).map_err(|e| {
            Error::Notify(format!("writing to the outbox {}: {e}", self.dir.display()))
        })
    }
}

/// A record sink in memory: what was delivered, in order, as `(topic, key, payload)`. For
/// unit tests of the functions that produce, and for runs that need no broker.
#[derive(Debug, Default)]
pub struct MemorySink {
    delivered: std::sync::Mutex<Vec<(String, String, Vec<u8>)>>,
}

impl MemorySink {
    /// Everything delivered so far.
    pub fn delivered(&self) -> Vec<(String, String, Vec<u8>)> {
        self.delivered
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

impl RecordSink for MemorySink {
    async fn deliver(
        &self,
        topic: &str,
        records: Vec<(String, Vec<u8>)>,
        _budget: std::time::Duration,
    ) -> Result<usize, Error> {
        let n = records.len();
        let mut delivered = self
            .delivered
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        delivered.extend(records.into_iter().map(|(k, p)| (topic.to_owned(), k, p)));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("vigil-local-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[tokio::test]
    async fn local_store_behaves_like_the_bucket_it_stands_for() {
        let store = LocalStore::new(root("store"));
        let upload = ObjectRef::new("uploads", "loans/Loan application + 2024.pdf");
        store
            .put(&upload, b"%PDF".to_vec(), "application/pdf")
            .await
            .unwrap();
        let filed = ObjectRef::new("pii", &upload.key);
        store.copy(&upload, &filed).await.unwrap();
        assert_eq!(store.get(&filed).await.unwrap(), b"%PDF");
        let tags = vec![("vigil:verdict".to_owned(), "pii".to_owned())];
        store.set_tags(&filed, &tags).await.unwrap();
        assert_eq!(store.tags(&filed).await.unwrap(), tags);
        assert_eq!(
            store.list("pii", "loans/").await.unwrap(),
            vec![upload.key.clone()]
        );
        store.delete(&upload).await.unwrap();
        store.delete(&upload).await.unwrap();
        assert!(matches!(
            store.get(&upload).await,
            Err(Error::ObjectNotFound { .. })
        ));
        assert!(store.list("uploads", "").await.unwrap().is_empty());
        for bad in ["../escape", "/etc/passwd", ""] {
            let err = store
                .put(&ObjectRef::new("b", bad), vec![], "x")
                .await
                .unwrap_err();
            assert!(err.to_string().contains("plain relative names"), "{err}");
        }
    }

    /// The unnamed-inode write (Linux) and the rename fallback leave the same file: whole,
    /// with the same permissions, replaced when resent, and no temporary file beside it.
    #[cfg(target_os = "linux")]
    #[test]
    fn both_ways_of_writing_leave_the_same_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = root("both-ways").join("nested");
        let (linked, renamed) = (dir.join("a.eml"), dir.join("b.eml"));
        assert!(
            link_new(&linked, b"one").unwrap(),
            "made the missing directory"
        );
        write_and_rename(&renamed, b"one").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode();
        assert_eq!(mode(&linked), mode(&renamed));
        assert_eq!(std::fs::read(&linked).unwrap(), b"one");
        assert!(
            link_new(&linked, b"two").unwrap(),
            "a taken name is replaced"
        );
        assert_eq!(std::fs::read(&linked).unwrap(), b"two");
        // A temporary name left by an interrupted replacement does not stop the next.
        std::fs::write(temporary(&linked), b"stale").unwrap();
        write_atomically(&linked, b"three").unwrap();
        assert_eq!(std::fs::read(&linked).unwrap(), b"three");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
    }

    #[tokio::test]
    async fn outbox_writes_one_message_per_alert_id() {
        let dir = root("outbox");
        let outbox = Outbox::new(&dir, "vigil@localhost", "team@localhost");
        outbox.notify("e-1", "FRAUD ALERT", "body").await.unwrap();
        outbox
            .notify("e-1", "FRAUD ALERT", "body again")
            .await
            .unwrap();
        outbox.notify("e/2", "FRAUD ALERT", "other").await.unwrap();
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, vec!["e-1.eml", "e_2.eml"]);
        assert!(
            std::fs::read_to_string(dir.join("e-1.eml"))
                .unwrap()
                .contains("body again")
        );
    }
}
