use std::io::{BufWriter, ErrorKind, Write};

use anyhow::{Context, Result};
use vigil_generator::{Generator, default_customers};

use crate::GenerateArgs;

pub fn run(args: &GenerateArgs) -> Result<()> {
    let customers = default_customers()?;
    let generator = Generator::new(&customers, &args.generator.config(args.count))?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    let written = generator.take(args.count as usize).try_for_each(|g| {
        serde_json::to_writer(&mut out, &g.transaction)?;
        out.write_all(b"\n")
    });
    match written.and_then(|()| out.flush()) {
        // A closed pipe (`vigil generate | head`) is the reader's choice, not an error.
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to standard output"),
    }
}
