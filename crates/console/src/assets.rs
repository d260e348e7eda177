//! The page and its assets, embedded in the binary: nothing is fetched at run time.

use axum::extract::Path;
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::Error;

const INDEX: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const APP_CSS: &str = include_str!("../assets/app.css");
/// uPlot, from its npm package (see `build.rs`); empty when the build did not find it.
const UPLOT_JS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/uplot.js"));
const UPLOT_CSS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/uplot.css"));

fn asset_response(body: &'static [u8], content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

/// The page, under `policy` (see `Console::content_security_policy`).
pub fn index(policy: &str) -> Response {
    let mut r = asset_response(INDEX.as_bytes(), "text/html; charset=utf-8");
    // An origin that cannot go in a header leaves the strictest policy, never none.
    let value =
        HeaderValue::from_str(policy).unwrap_or(HeaderValue::from_static("default-src 'self'"));
    r.headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, value);
    r
}

/// `scheme://host[:port]` of a URL, for a CSP source.
pub fn origin(url: &str) -> Option<String> {
    let uri: Uri = url.parse().ok()?;
    Some(format!("{}://{}", uri.scheme_str()?, uri.authority()?))
}

pub async fn asset(Path(name): Path<String>) -> Result<Response, Error> {
    Ok(match name.as_str() {
        "app.js" => asset_response(APP_JS.as_bytes(), "text/javascript; charset=utf-8"),
        "app.css" => asset_response(APP_CSS.as_bytes(), "text/css; charset=utf-8"),
        "uplot.js" => asset_response(UPLOT_JS, "text/javascript; charset=utf-8"),
        "uplot.css" => asset_response(UPLOT_CSS, "text/css; charset=utf-8"),
        _ => return Err(Error::NotFound(format!("asset {name}"))),
    })
}
