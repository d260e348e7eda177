//! `vigil console`: the console web app over the folders `vigil demo` writes.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;
use vigil_console::{ArchiveSql, Console, Layout, LocalUser};
use vigil_pipeline::local::LocalStore;

use crate::documents::ModelArgs;

#[derive(Args)]
pub struct ConsoleArgs {
    /// The folder `vigil demo` wrote (documents/, archive/, outbox/).
    #[arg(long, default_value = "vigil-demo")]
    data: PathBuf,
    /// Port to listen on (0: any free port; the address is printed).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on. The console has no sign-in on this machine: keep it on the
    /// loopback address unless the network around it is yours alone.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    #[command(flatten)]
    model: ModelArgs,
}

pub async fn run(args: &ConsoleArgs) -> Result<()> {
    if !args.data.is_dir() {
        bail!(
            "{} does not exist: run `vigil demo --out {}` first, or give --data DIR",
            args.data.display(),
            args.data.display()
        );
    }
    let classifier = args.model.classifier()?;
    let console = Console::new(
        LocalStore::new(&args.data),
        Layout::demo(),
        ArchiveSql::new(&args.data),
        Box::new(LocalUser),
    )
    .with_classifier(classifier);
    let app = vigil_console::router(Arc::new(console));
    let address = SocketAddr::new(args.host, args.port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| {
            format!("listening on {address} (another program on that port? try --port)")
        })?;
    let bound = listener.local_addr()?;
    println!(
        "Vigil console: http://{bound}/ (data in {}; Ctrl-C to stop)",
        args.data.display()
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving the console")
}
