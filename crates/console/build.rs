//! Finds the charting library (uPlot, from its npm package, fetched and checked by
//! `infra/setup.sh build` into the cache) so that the console embeds it. Without it the
//! console still builds; its reports show tables instead of charts and say why.

use std::path::PathBuf;

/// The version `infra/setup.sh` fetches.
const UPLOT: &str = "uplot-1.6.32";

fn main() {
    println!("cargo:rerun-if-env-changed=VIGIL_UPLOT_DIR");
    println!("cargo:rerun-if-env-changed=VIGIL_CACHE");
    let dir = std::env::var_os("VIGIL_UPLOT_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let cache = std::env::var_os("VIGIL_CACHE")
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/vigil"))
                })?;
            Some(cache.join("web").join(UPLOT).join("dist"))
        });
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let (js, css) = match dir {
        Some(d) if d.join("uPlot.iife.min.js").is_file() => {
            let js = d.join("uPlot.iife.min.js");
            let css = d.join("uPlot.min.css");
            println!("cargo:rerun-if-changed={}", js.display());
            println!("cargo:rerun-if-changed={}", css.display());
            (
                std::fs::read(&js).unwrap_or_default(),
                std::fs::read(&css).unwrap_or_default(),
            )
        }
        other => {
            println!(
                "cargo:warning=uPlot not found{}: the console will show tables instead of charts (run infra/setup.sh build, then rebuild)",
                other
                    .map(|d| format!(" in {}", d.display()))
                    .unwrap_or_default()
            );
            (Vec::new(), Vec::new())
        }
    };
    std::fs::write(out.join("uplot.js"), js).expect("OUT_DIR is writable");
    std::fs::write(out.join("uplot.css"), css).expect("OUT_DIR is writable");
}
