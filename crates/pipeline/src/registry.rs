//! The registry of model and rules versions (layout in `vigil_fraud::versions`), in any
//! [`ObjectStore`]: a directory locally, a bucket and prefix on AWS. `vigil publish` and
//! `vigil activate` write it; the scoring stage reads the active versions from it and
//! notices when they change ([`Watcher`]).
//!
//! Writes are ordered so that a reader never sees a pointer to something missing: an
//! artifact before its manifest, both before any pointer names them.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use tracing::{error, info};
use vigil_core::{ObjectRef, ObjectStore};
use vigil_fraud::scorer::{Candidate, Scorer, Versions};
use vigil_fraud::versions::{
    self, ACTIVE_KEY, ActivePointer, Kind, LISTS_PREFIX, Manifest, Status,
};

use crate::Error;

/// How often a running scorer looks for a changed pointer or list.
pub const RELOAD_EVERY: Duration = Duration::from_secs(60);

pub struct Registry<S> {
    store: S,
    bucket: String,
    /// Empty, or ending in `/`.
    prefix: String,
}

fn version_error(message: impl Into<String>) -> Error {
    Error::State(vigil_fraud::Error::Version(message.into()))
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl<S: ObjectStore> Registry<S> {
    pub fn new(store: S, bucket: impl Into<String>, prefix: &str) -> Self {
        let prefix = prefix.trim_matches('/');
        Self {
            store,
            bucket: bucket.into(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
        }
    }

    fn object(&self, key: &str) -> ObjectRef {
        ObjectRef::new(&self.bucket, format!("{}{key}", self.prefix))
    }

    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        match self.store.get(&self.object(key)).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(vigil_core::Error::ObjectNotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn write_json<T: serde::Serialize>(&self, key: &str, value: &T) -> Result<(), Error> {
        let body = serde_json::to_vec_pretty(value)?;
        self.store
            .put(&self.object(key), body, "application/json")
            .await?;
        Ok(())
    }

    /// Every list file: name → entries.
    pub async fn lists(&self) -> Result<BTreeMap<String, Vec<String>>, Error> {
        let mut lists = BTreeMap::new();
        let prefix = format!("{}{LISTS_PREFIX}", self.prefix);
        for key in self.store.list(&self.bucket, &prefix).await? {
            let relative = &key[self.prefix.len()..];
            let Some(name) = versions::list_name(relative) else {
                continue;
            };
            if let Some(bytes) = self.read(relative).await? {
                let text = String::from_utf8_lossy(&bytes);
                lists.insert(name.to_owned(), vigil_fraud::rules::parse_list(&text));
            }
        }
        Ok(lists)
    }

    /// Checks `bytes` as a model or rules file and stores it as a draft version. The id is
    /// the content's: publishing the same file again changes nothing and returns the
    /// version as it is (`false`: not new).
    pub async fn publish(
        &self,
        kind: Kind,
        bytes: Vec<u8>,
        source: &str,
    ) -> Result<(Manifest, bool), Error> {
        let mut manifest = versions::manifest(kind, &bytes, source, now());
        match kind {
            Kind::Model => manifest.model = Some(versions::check_model(&bytes)?.1),
            Kind::Rules => {
                manifest.rules = Some(versions::check_rules(&bytes, &self.lists().await?)?.1)
            }
        }
        if let Some(existing) = self.manifest_if_any(kind, &manifest.id).await? {
            return Ok((existing, false));
        }
        let content_type = match kind {
            Kind::Model => "application/json",
            Kind::Rules => "application/toml",
        };
        self.store
            .put(
                &self.object(&versions::artifact_key(kind, &manifest.id)),
                bytes,
                content_type,
            )
            .await?;
        self.write_json(&versions::manifest_key(kind, &manifest.id), &manifest)
            .await?;
        Ok((manifest, true))
    }

    /// Replaces a list's entries (one per line). Takes effect at the scorers' next look
    /// for changes, with the rules version they run; a rules version that uses the list
    /// and cannot take the new entries keeps the old ones.
    pub async fn publish_list(&self, name: &str, bytes: Vec<u8>) -> Result<usize, Error> {
        if !vigil_fraud::rules::is_list_name(name) {
            return Err(version_error(format!(
                "list name `{name}`: use lower-case letters, digits and `_`"
            )));
        }
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| version_error("the list file is not UTF-8 text"))?;
        let entries = vigil_fraud::rules::parse_list(text).len();
        self.store
            .put(
                &self.object(&versions::list_key(name)),
                bytes,
                "text/plain; charset=utf-8",
            )
            .await?;
        Ok(entries)
    }

    async fn manifest_if_any(&self, kind: Kind, id: &str) -> Result<Option<Manifest>, Error> {
        match self.read(&versions::manifest_key(kind, id)).await? {
            Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            None => Ok(None),
        }
    }

    /// The manifest of `id`; an error that says so when there is no such version.
    pub async fn manifest(&self, id: &str) -> Result<Manifest, Error> {
        let kind = versions::kind_of(id).ok_or_else(|| {
            version_error(format!(
                "`{id}` is not a version id (model-… or rules-…, as `vigil versions` lists them)"
            ))
        })?;
        self.manifest_if_any(kind, id)
            .await?
            .ok_or_else(|| version_error(format!("there is no version `{id}` in the registry")))
    }

    /// Every version, newest first.
    pub async fn versions(&self) -> Result<Vec<Manifest>, Error> {
        let mut out = Vec::new();
        for (kind, folder) in [(Kind::Model, "models/"), (Kind::Rules, "rules/")] {
            let prefix = format!("{}{folder}", self.prefix);
            for key in self.store.list(&self.bucket, &prefix).await? {
                let relative = &key[self.prefix.len()..];
                let id = match kind {
                    Kind::Model => relative
                        .strip_prefix(folder)
                        .and_then(|r| r.strip_suffix("/version.json")),
                    Kind::Rules => relative
                        .strip_prefix(folder)
                        .and_then(|r| r.strip_suffix(".json")),
                };
                if let Some(m) = id.and_then(|id| versions::kind_of(id).map(|_| id)) {
                    out.extend(self.manifest_if_any(kind, m).await?);
                }
            }
        }
        out.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// The pointer; the default (the shipped versions) when none was written.
    pub async fn pointer(&self) -> Result<ActivePointer, Error> {
        match self.read(ACTIVE_KEY).await? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| version_error(format!("{ACTIVE_KEY} is not a version pointer: {e}"))),
            None => Ok(ActivePointer::default()),
        }
    }

    /// Makes `id` the active model or rules, after checking that it loads (rules against
    /// the lists as they are now). The version it replaces is marked retired; a shadow of
    /// the same id stops being a shadow.
    pub async fn activate(&self, id: &str) -> Result<ActivePointer, Error> {
        let mut manifest = self.manifest(id).await?;
        self.check(&manifest).await?;
        let mut pointer = self.pointer().await?;
        let slot = match manifest.kind {
            Kind::Model => &mut pointer.model,
            Kind::Rules => &mut pointer.rules,
        };
        let replaced = slot.replace(id.to_owned());
        let shadow = match manifest.kind {
            Kind::Model => &mut pointer.shadow_model,
            Kind::Rules => &mut pointer.shadow_rules,
        };
        if shadow.as_deref() == Some(id) {
            *shadow = None;
        }
        pointer.updated = now();
        self.write_json(ACTIVE_KEY, &pointer).await?;
        manifest.status = Status::Active;
        self.write_json(&versions::manifest_key(manifest.kind, id), &manifest)
            .await?;
        if let Some(old) = replaced.filter(|old| old != id)
            && let Ok(mut m) = self.manifest(&old).await
        {
            m.status = Status::Retired;
            self.write_json(&versions::manifest_key(m.kind, &old), &m)
                .await?;
        }
        Ok(pointer)
    }

    /// Scores `ids` (a model and/or rules) in the active ones' shadow; an empty slice
    /// ends the shadow run.
    pub async fn shadow(&self, ids: &[String]) -> Result<ActivePointer, Error> {
        let mut pointer = self.pointer().await?;
        pointer.shadow_model = None;
        pointer.shadow_rules = None;
        for id in ids {
            let manifest = self.manifest(id).await?;
            self.check(&manifest).await?;
            match manifest.kind {
                Kind::Model => pointer.shadow_model = Some(id.clone()),
                Kind::Rules => pointer.shadow_rules = Some(id.clone()),
            }
        }
        pointer.updated = now();
        self.write_json(ACTIVE_KEY, &pointer).await?;
        Ok(pointer)
    }

    /// The file of a version.
    pub async fn artifact(&self, kind: Kind, id: &str) -> Result<Vec<u8>, Error> {
        self.read(&versions::artifact_key(kind, id))
            .await?
            .ok_or_else(|| version_error(format!("the file of version `{id}` is missing")))
    }

    async fn check(&self, manifest: &Manifest) -> Result<(), Error> {
        let bytes = self.artifact(manifest.kind, &manifest.id).await?;
        match manifest.kind {
            Kind::Model => versions::check_model(&bytes).map(|_| ()),
            Kind::Rules => versions::check_rules(&bytes, &self.lists().await?).map(|_| ()),
        }
        .map_err(|e| version_error(format!("version `{}`: {e}", manifest.id)))
    }

    async fn model(
        &self,
        id: Option<&str>,
    ) -> Result<(vigil_fraud::model::ModelFile, String), Error> {
        match id {
            None => Ok((
                vigil_fraud::model::default_model()?,
                versions::shipped_model_id(),
            )),
            Some(id) => {
                let bytes = self.artifact(Kind::Model, id).await?;
                let (model, _) = versions::check_model(&bytes)
                    .map_err(|e| version_error(format!("version `{id}`: {e}")))?;
                Ok((model, id.to_owned()))
            }
        }
    }

    async fn rules(
        &self,
        id: Option<&str>,
        lists: &BTreeMap<String, Vec<String>>,
    ) -> Result<(vigil_fraud::rules::Rules, String), Error> {
        let (bytes, id) = match id {
            None => (
                vigil_fraud::rules::DEFAULT_RULES.as_bytes().to_vec(),
                versions::shipped_rules_id(),
            ),
            Some(id) => (self.artifact(Kind::Rules, id).await?, id.to_owned()),
        };
        let (rules, _) = versions::check_rules(&bytes, lists)
            .map_err(|e| version_error(format!("version `{id}`: {e}")))?;
        Ok((rules, id))
    }

    /// The scorer the pointer names (the shipped versions where it names none), with its
    /// shadow, every file checked.
    pub async fn load(&self) -> Result<Scorer, Error> {
        let pointer = self.pointer().await?;
        let lists = self.lists().await?;
        let (model, model_id) = self.model(pointer.model.as_deref()).await?;
        let (rules, rules_id) = self.rules(pointer.rules.as_deref(), &lists).await?;
        let mut scorer = Scorer::new(model, rules).with_versions(Versions {
            model: model_id,
            rules: rules_id,
        });
        if pointer.shadow_model.is_some() || pointer.shadow_rules.is_some() {
            let (model, model_id) = self
                .model(pointer.shadow_model.as_deref().or(pointer.model.as_deref()))
                .await?;
            let (rules, rules_id) = self
                .rules(
                    pointer.shadow_rules.as_deref().or(pointer.rules.as_deref()),
                    &lists,
                )
                .await?;
            scorer = scorer.with_shadow(Candidate {
                model,
                rules,
                versions: Versions {
                    model: model_id,
                    rules: rules_id,
                },
            });
        }
        Ok(scorer)
    }

    /// What a running scorer compares to notice a change: the pointer's bytes and each
    /// list file's key and time written.
    pub async fn fingerprint(&self) -> Result<String, Error> {
        let pointer = self.read(ACTIVE_KEY).await?.unwrap_or_default();
        let prefix = format!("{}{LISTS_PREFIX}", self.prefix);
        let lists = self.store.entries(&self.bucket, &prefix).await?;
        Ok(format!("{}|{lists:?}", String::from_utf8_lossy(&pointer)))
    }

    /// Where the registry is, for messages.
    pub fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }
}

/// Where a scoring stage gets a new scorer from while it runs.
pub trait ScorerSource: Send + Sync {
    /// A scorer to use from now on, when what it should score with has changed.
    fn poll(&self) -> impl std::future::Future<Output = Option<Scorer>> + Send;
}

/// The scorer given at start, for good.
pub struct Fixed;

impl ScorerSource for Fixed {
    async fn poll(&self) -> Option<Scorer> {
        None
    }
}

struct Seen {
    fingerprint: String,
    checked: Instant,
}

/// The registry's active versions, looked for again at most every [`RELOAD_EVERY`]: a
/// changed pointer or list is loaded and checked, and used only if it loads. One that
/// does not is logged as refused (an error, which the template's alarm counts) and the
/// versions in use stay, until the registry changes again.
pub struct Watcher<S> {
    registry: Registry<S>,
    every: Duration,
    seen: tokio::sync::Mutex<Seen>,
    on_refusal: Option<Box<dyn Fn() + Send + Sync>>,
}

impl<S: ObjectStore> Watcher<S> {
    /// Loads the active versions; a registry that cannot be read or names a version that
    /// does not load is an error here, at start, where there is nothing to keep using.
    pub async fn start(registry: Registry<S>, every: Duration) -> Result<(Self, Scorer), Error> {
        let fingerprint = registry.fingerprint().await?;
        let scorer = registry
            .load()
            .await
            .map_err(|e| version_error(format!("the registry {}: {e}", registry.location())))?;
        log_loaded(&scorer);
        Ok((
            Self {
                registry,
                every,
                seen: tokio::sync::Mutex::new(Seen {
                    fingerprint,
                    checked: Instant::now(),
                }),
                on_refusal: None,
            },
            scorer,
        ))
    }

    /// Calls `hook` each time a change is refused (the Lambda counts it for an alarm).
    pub fn on_refusal(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.on_refusal = Some(Box::new(hook));
        self
    }
}

fn log_loaded(scorer: &Scorer) {
    let versions = scorer.versions();
    info!(
        model_version = versions.map_or("", |v| v.model.as_str()),
        rules_version = versions.map_or("", |v| v.rules.as_str()),
        shadow_model = scorer.shadow().map_or("", |c| c.versions.model.as_str()),
        shadow_rules = scorer.shadow().map_or("", |c| c.versions.rules.as_str()),
        "versions loaded"
    );
}

impl<S: ObjectStore> ScorerSource for Watcher<S> {
    async fn poll(&self) -> Option<Scorer> {
        let mut seen = self.seen.lock().await;
        if seen.checked.elapsed() < self.every {
            return None;
        }
        seen.checked = Instant::now();
        let fingerprint = match self.registry.fingerprint().await {
            Ok(f) => f,
            Err(e) => {
                error!(error = %e, "registry not readable; the versions in use stay");
                return None;
            }
        };
        if fingerprint == seen.fingerprint {
            return None;
        }
        seen.fingerprint = fingerprint;
        match self.registry.load().await {
            Ok(scorer) => {
                log_loaded(&scorer);
                Some(scorer)
            }
            Err(e) => {
                error!(error = %e, "version refused; the versions in use stay");
                if let Some(hook) = &self.on_refusal {
                    hook();
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use vigil_core::Outcome;
    use vigil_fraud::features::MemoryStore;
    use vigil_fraud::input::Event;
    use vigil_fraud::model::DEFAULT_MODEL;
    use vigil_fraud::rules::DEFAULT_RULES;

    use super::*;
    use crate::local::LocalStore;

    fn registry(name: &str) -> (Registry<LocalStore>, std::path::PathBuf) {
        let root =
            std::env::temp_dir().join(format!("vigil-registry-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        (Registry::new(LocalStore::new(&root), "reg", "team/a"), root)
    }

    const BLOCK_ALL: &str = "default_outcome = \"approve\"\n[lists]\nvip = []\n[[rule]]\nname = \"vip\"\nwhen = \"$email in @vip\"\noutcome = \"approve\"\n[[rule]]\nname = \"everything\"\nwhen = \"$amount > -1\"\noutcome = \"block\"\n";

    fn event(email: &str) -> Event {
        Event {
            event_id: "e".into(),
            entity_id: "c".into(),
            time: 1_700_000_000,
            amount: 25.0,
            category: "grocery_pos".into(),
            ip_address: "1.2.3.4".into(),
            user_agent: "ua".into(),
            card_bin: "400000".into(),
            billing_state: "VA".into(),
            email: email.into(),
        }
    }

    fn outcome(scorer: &Scorer, email: &str) -> Outcome {
        scorer
            .assess(&mut MemoryStore::default(), &event(email))
            .outcome
    }

    #[tokio::test]
    async fn versions_are_published_once_activated_retired_and_loaded() {
        let (r, root) = registry("cycle");
        // Nothing published: the shipped versions.
        let shipped = r.load().await.unwrap();
        assert_eq!(
            shipped.versions().unwrap().rules,
            versions::shipped_rules_id()
        );
        assert_eq!(outcome(&shipped, "a@b.c"), Outcome::Approve);

        let (model, new) = r
            .publish(
                Kind::Model,
                DEFAULT_MODEL.as_bytes().to_vec(),
                "default.json",
            )
            .await
            .unwrap();
        assert!(new);
        assert_eq!(model.id, versions::shipped_model_id());
        assert_eq!(model.model.as_ref().unwrap().name, "vigil_gbdt");
        let (again, new) = r
            .publish(Kind::Model, DEFAULT_MODEL.as_bytes().to_vec(), "copy.json")
            .await
            .unwrap();
        assert!(!new, "the same content is the same version");
        assert_eq!(again.source, "default.json");

        let (v1, _) = r
            .publish(
                Kind::Rules,
                DEFAULT_RULES.as_bytes().to_vec(),
                "default.toml",
            )
            .await
            .unwrap();
        let (v2, _) = r
            .publish(Kind::Rules, BLOCK_ALL.as_bytes().to_vec(), "block.toml")
            .await
            .unwrap();
        assert_eq!(v2.status, Status::Draft);
        assert!(
            root.join("reg/team/a/rules")
                .join(format!("{}.toml", v2.id))
                .exists()
        );

        r.activate(&v1.id).await.unwrap();
        r.activate(&v2.id).await.unwrap();
        let statuses: Vec<(String, Status)> = r
            .versions()
            .await
            .unwrap()
            .into_iter()
            .map(|m| (m.id, m.status))
            .collect();
        assert!(
            statuses.contains(&(v1.id.clone(), Status::Retired)),
            "{statuses:?}"
        );
        assert!(
            statuses.contains(&(v2.id.clone(), Status::Active)),
            "{statuses:?}"
        );
        assert!(
            statuses.contains(&(model.id.clone(), Status::Draft)),
            "{statuses:?}"
        );

        let scorer = r.load().await.unwrap();
        assert_eq!(scorer.versions().unwrap().rules, v2.id);
        assert_eq!(outcome(&scorer, "a@b.c"), Outcome::Block);
        // A list changes the decision without a new rules version.
        r.publish_list("vip", b"# our VIPs\nA@B.C\n".to_vec())
            .await
            .unwrap();
        let scorer = r.load().await.unwrap();
        assert_eq!(scorer.versions().unwrap().rules, v2.id);
        assert_eq!(outcome(&scorer, "a@b.c"), Outcome::Approve);
        assert_eq!(outcome(&scorer, "x@b.c"), Outcome::Block);
    }

    #[tokio::test]
    async fn bad_versions_are_refused_and_the_running_ones_stay() {
        let (r, root) = registry("refuse");
        let err = r
            .publish(Kind::Rules, b"default_outcome = \"approve\"\n[[rule]]\nname = \"x\"\noutcome = \"block\"\nwhen = \"$amout > 5\"\n".to_vec(), "typo.toml")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 5, column 9") && err.contains("did you mean `$amount`"),
            "{err}"
        );
        let err = r
            .activate("rules-0123456789ab")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("no version `rules-0123456789ab`"), "{err}");
        let err = r.activate("latest").await.unwrap_err().to_string();
        assert!(err.contains("not a version id"), "{err}");

        let (good, _) = r
            .publish(Kind::Rules, BLOCK_ALL.as_bytes().to_vec(), "block.toml")
            .await
            .unwrap();
        r.activate(&good.id).await.unwrap();
        let (watcher, scorer) = Watcher::start(
            Registry::new(LocalStore::new(&root), "reg", "team/a"),
            Duration::ZERO,
        )
        .await
        .unwrap();
        assert_eq!(scorer.versions().unwrap().rules, good.id);
        assert!(watcher.poll().await.is_none(), "nothing changed");

        // A second version whose file is damaged after publishing, then pointed at by
        // hand: the watcher refuses it and keeps what it has.
        let (other, _) = r
            .publish(
                Kind::Rules,
                DEFAULT_RULES.as_bytes().to_vec(),
                "default.toml",
            )
            .await
            .unwrap();
        std::fs::write(
            root.join("reg/team/a/rules")
                .join(format!("{}.toml", other.id)),
            "default_outcome = \"maybe\"",
        )
        .unwrap();
        let err = r.activate(&other.id).await.unwrap_err().to_string();
        assert!(err.contains("maybe"), "{err}");
        let pointer = format!("{{\"model\": null, \"rules\": \"{}\"}}", other.id);
        std::fs::write(root.join("reg/team/a/active.json"), pointer).unwrap();
        assert!(
            watcher.poll().await.is_none(),
            "a damaged version is not used"
        );
        // Restored: the next change is picked up.
        r.activate(&good.id).await.unwrap();
        let reloaded = watcher.poll().await.expect("the good version again");
        assert_eq!(reloaded.versions().unwrap().rules, good.id);
    }

    #[tokio::test]
    async fn a_shadow_is_scored_beside_and_never_decides() {
        let (r, _root) = registry("shadow");
        let (candidate, _) = r
            .publish(Kind::Rules, BLOCK_ALL.as_bytes().to_vec(), "block.toml")
            .await
            .unwrap();
        r.shadow(std::slice::from_ref(&candidate.id)).await.unwrap();
        let scorer = r.load().await.unwrap();
        let fd = scorer.assess(&mut MemoryStore::default(), &event("a@b.c"));
        assert_eq!(fd.outcome, Outcome::Approve);
        let shadow = fd.shadow.expect("a shadow decision");
        assert_eq!(shadow.outcome, Outcome::Block);
        assert_eq!(shadow.rules_version, candidate.id);
        assert_eq!(shadow.model_version, versions::shipped_model_id());
        assert_eq!(shadow.rules, vec!["everything".to_owned()]);
        let score = fd.model_scores["vigil_gbdt"];
        assert!(
            (shadow.score - score).abs() < 0.02,
            "{} {score}",
            shadow.score
        );
        // Activating the candidate ends its shadow run.
        let pointer = r.activate(&candidate.id).await.unwrap();
        assert_eq!(pointer.shadow_rules, None);
        assert!(r.load().await.unwrap().shadow().is_none());
    }
}
