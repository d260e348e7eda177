//! `vigil publish`, `vigil activate`, `vigil shadow` and `vigil versions`: the registry of
//! model and rules versions, in a directory (or, in a build with the `aws` feature, at
//! `s3://bucket/prefix`). The scoring function reads the same layout.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use vigil_core::ObjectStore;
use vigil_fraud::versions::{Kind, Manifest};
use vigil_pipeline::local::LocalStore;
use vigil_pipeline::registry::Registry;

/// Where the registry is.
#[derive(Args, Clone)]
pub struct RegistryArgs {
    /// The registry: a directory, or s3://bucket/prefix (needs a vigil built with
    /// `--features aws`).
    #[arg(long, env = "VIGIL_REGISTRY", default_value = "vigil-registry")]
    registry: String,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ArtifactKind {
    Model,
    Rules,
    List,
}

#[derive(Args)]
pub struct PublishArgs {
    /// What FILE is: a model (from `vigil train`), a rules file, or a list (one entry per
    /// line; its name is the file's stem unless --name says otherwise).
    kind: ArtifactKind,
    file: PathBuf,
    /// A list's name (lower-case letters, digits, `_`).
    #[arg(long)]
    name: Option<String>,
    /// Make the version active at once.
    #[arg(long)]
    activate: bool,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(Args)]
pub struct ActivateArgs {
    /// A version id, as `vigil versions` lists them.
    version: String,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(Args)]
pub struct ShadowArgs {
    /// Versions (a model and/or rules) to score beside the active ones; none ends the
    /// shadow run.
    versions: Vec<String>,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(Args)]
pub struct VersionsArgs {
    /// One JSON manifest per line instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(Subcommand)]
pub enum Command {
    Publish(PublishArgs),
    Activate(ActivateArgs),
    Shadow(ShadowArgs),
    Versions(VersionsArgs),
}

/// A directory registry: the directory's parent as the store's root, its name as the
/// bucket.
pub fn local(dir: &Path) -> Result<Registry<LocalStore>> {
    let dir = std::path::absolute(dir).with_context(|| format!("registry {}", dir.display()))?;
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        bail!("the registry cannot be {}", dir.display());
    };
    Ok(Registry::new(
        LocalStore::new(parent),
        name.to_string_lossy(),
        "",
    ))
}

pub fn run(command: Command) -> Result<()> {
    let place = match &command {
        Command::Publish(a) => &a.registry.registry,
        Command::Activate(a) => &a.registry.registry,
        Command::Shadow(a) => &a.registry.registry,
        Command::Versions(a) => &a.registry.registry,
    }
    .clone();
    let runtime = tokio::runtime::Runtime::new()?;
    match place.strip_prefix("s3://") {
        None => runtime.block_on(on(local(Path::new(&place))?, command, &place)),
        Some(rest) => runtime.block_on(on_s3(rest, command)),
    }
}

#[cfg(feature = "aws")]
async fn on_s3(place: &str, command: Command) -> Result<()> {
    let (bucket, prefix) = place.split_once('/').unwrap_or((place, ""));
    let store = vigil_aws::s3::S3Store::from_sdk_config(&vigil_aws::load_config().await);
    let location = format!("s3://{place}");
    on(Registry::new(store, bucket, prefix), command, &location).await
}

#[cfg(not(feature = "aws"))]
async fn on_s3(_place: &str, _command: Command) -> Result<()> {
    bail!(
        "this vigil was built without AWS support: build it with `cargo build --release -p vigil-cli --features aws`, \
         or keep the registry in a directory and copy it with `aws s3 sync DIR s3://bucket/prefix` (active.json last)"
    )
}

fn line(m: &Manifest) -> String {
    let what = match (&m.model, &m.rules) {
        (Some(model), _) => format!(
            "{} trees, trained on {} rows{}",
            model.trees,
            model.training_rows,
            model
                .validation
                .map(|v| format!(", validation PR-AUC {:.4}", v.pr_auc))
                .unwrap_or_default()
        ),
        (_, Some(rules)) => format!(
            "{} rules, lists {}",
            rules.rules.len(),
            rules.lists.join(" ")
        ),
        _ => String::new(),
    };
    format!(
        "{:<20} {:<7} {:<20} {}",
        m.id,
        format!("{:?}", m.status).to_lowercase(),
        m.created,
        what
    )
}

async fn on<S: ObjectStore>(registry: Registry<S>, command: Command, location: &str) -> Result<()> {
    match command {
        Command::Publish(args) => {
            let bytes = std::fs::read(&args.file)
                .with_context(|| format!("reading {}", args.file.display()))?;
            let kind = match args.kind {
                ArtifactKind::Model => Kind::Model,
                ArtifactKind::Rules => Kind::Rules,
                ArtifactKind::List => {
                    let name = match &args.name {
                        Some(n) => n.clone(),
                        None => args
                            .file
                            .file_stem()
                            .map(|s| s.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                    };
                    let entries = registry.publish_list(&name, bytes).await?;
                    println!("list {name}: {entries} entries in {location}");
                    return Ok(());
                }
            };
            let source = args.file.display().to_string();
            let (manifest, new) = registry
                .publish(kind, bytes, &source)
                .await
                .with_context(|| format!("{} is not a usable {kind} file", args.file.display()))?;
            if new {
                println!("published {} ({kind}) to {location}", manifest.id);
            } else {
                println!("{} is already in {location} (same content)", manifest.id);
            }
            if args.activate {
                registry.activate(&manifest.id).await?;
                println!("{} is active", manifest.id);
            }
        }
        Command::Activate(args) => {
            let pointer = registry.activate(&args.version).await?;
            println!(
                "{} is active; model {}, rules {}",
                args.version,
                pointer.model.as_deref().unwrap_or("(shipped)"),
                pointer.rules.as_deref().unwrap_or("(shipped)")
            );
        }
        Command::Shadow(args) => {
            let pointer = registry.shadow(&args.versions).await?;
            match (&pointer.shadow_model, &pointer.shadow_rules) {
                (None, None) => println!("no shadow run"),
                (model, rules) => println!(
                    "shadow: model {}, rules {} (beside the active ones, in fd.shadow)",
                    model.as_deref().unwrap_or("(the active)"),
                    rules.as_deref().unwrap_or("(the active)")
                ),
            }
        }
        Command::Versions(args) => {
            let versions = registry.versions().await?;
            let pointer = registry.pointer().await?;
            if args.json {
                for m in &versions {
                    println!("{}", serde_json::to_string(m)?);
                }
                return Ok(());
            }
            println!(
                "active: model {}, rules {}",
                pointer.model.as_deref().unwrap_or("(shipped)"),
                pointer.rules.as_deref().unwrap_or("(shipped)")
            );
            if pointer.shadow_model.is_some() || pointer.shadow_rules.is_some() {
                println!(
                    "shadow: model {}, rules {}",
                    pointer.shadow_model.as_deref().unwrap_or("(the active)"),
                    pointer.shadow_rules.as_deref().unwrap_or("(the active)")
                );
            }
            for m in &versions {
                println!("{}", line(m));
            }
            let lists = registry.lists().await?;
            for (name, entries) in &lists {
                println!("list {name}: {} entries", entries.len());
            }
        }
    }
    Ok(())
}
