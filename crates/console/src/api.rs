//! The routes: the page and its assets, and the JSON API under `/api/` that the page uses
//! and scripts can call. Handlers parse their input, ask the [`Console`], and answer JSON;
//! every error is `{"error", "status"}` with the status it names.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequestParts, Multipart, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use vigil_core::{ObjectStore, mask};

use crate::reports::Range;
use crate::{AlertFilter, Console, Error, LabelRequest, MAX_UPLOAD_BYTES, Sql, User, assets};

type Shared<S, Q> = State<Arc<Console<S, Q>>>;

/// The console's routes over `console`.
pub fn router<S, Q>(console: Arc<Console<S, Q>>) -> Router
where
    S: ObjectStore + 'static,
    Q: Sql + 'static,
{
    Router::new()
        .route("/", get(page::<S, Q>))
        .route("/assets/{name}", get(assets::asset))
        .route("/api/config", get(config::<S, Q>))
        .route("/api/me", get(me::<S, Q>))
        .route("/api/uploads", post(upload_url::<S, Q>))
        .route(
            "/api/documents",
            get(list_documents::<S, Q>).post(upload::<S, Q>),
        )
        .route("/api/documents/{id}", get(document::<S, Q>))
        .route("/api/documents/{id}/pdf", get(pdf::<S, Q>))
        .route("/api/alerts", get(alerts::<S, Q>))
        .route("/api/labels", post(label::<S, Q>))
        .route("/api/reveal", post(reveal::<S, Q>))
        .route("/api/series", get(series::<S, Q>))
        .route("/api/reasons", get(reasons::<S, Q>))
        .route("/api/query", post(query::<S, Q>))
        .fallback(not_found)
        // A body up to three times the largest upload is read whole and then refused with a
        // clear 413; cutting it off at the limit would close the connection on a client
        // still sending, which sees a reset instead of the reason.
        .layer(DefaultBodyLimit::max(3 * MAX_UPLOAD_BYTES))
        .with_state(console)
}

/// The signed-in user making the request, as the console's [`Authenticate`] port names
/// them; a handler that takes one answers 401 to anyone else before reading the body.
///
/// [`Authenticate`]: crate::Authenticate
struct Caller(User);

impl<S: ObjectStore, Q: Sql> FromRequestParts<Arc<Console<S, Q>>> for Caller {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        c: &Arc<Console<S, Q>>,
    ) -> Result<Self, Self::Rejection> {
        c.auth.user(&parts.headers).map(Caller)
    }
}

async fn not_found() -> Error {
    Error::NotFound("no such page or API route".into())
}

fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, Error> {
    body.map(|Json(v)| v)
        .map_err(|e| Error::BadRequest(format!("the request body: {}", e.body_text())))
}

fn query_params<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, Error> {
    q.map(|Query(v)| v)
        .map_err(|e| Error::BadRequest(format!("the query string: {}", e.body_text())))
}

/// Open to all: what the page needs to sign in.
async fn page<S: ObjectStore, Q: Sql>(State(c): Shared<S, Q>) -> Response {
    assets::index(&c.content_security_policy())
}

async fn config<S: ObjectStore, Q: Sql>(State(c): Shared<S, Q>) -> Json<Value> {
    Json(c.auth.sign_in())
}

#[derive(Deserialize)]
struct UploadRequest {
    name: String,
}

async fn upload_url<S: ObjectStore, Q: Sql>(
    State(c): Shared<S, Q>,
    Caller(u): Caller,
    body: Result<Json<UploadRequest>, JsonRejection>,
) -> Result<Response, Error> {
    let request = json_body(body)?;
    let answer = c.upload_url(&u, &request.name).await?;
    Ok((axum::http::StatusCode::CREATED, Json(answer)).into_response())
}

async fn me<S: ObjectStore, Q: Sql>(
    State(c): Shared<S, Q>,
    Caller(u): Caller,
) -> Result<Json<Value>, Error> {
    Ok(Json(
        json!({"id": u.id, "name": u.name, "analyst": u.analyst, "uploads": c.classifier.is_some()}),
    ))
}

async fn upload<S: ObjectStore, Q: Sql>(
    State(c): Shared<S, Q>,
    Caller(u): Caller,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, Error> {
    let mut multipart = multipart.map_err(|e| {
        Error::BadRequest(format!(
            "send the document as multipart/form-data with a field `file`: {}",
            e.body_text()
        ))
    })?;
    let too_large = || {
        Error::TooLarge(format!(
            "the file is larger than {} MB, the largest accepted",
            MAX_UPLOAD_BYTES / (1024 * 1024)
        ))
    };
    while let Some(field) = multipart.next_field().await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            Error::BadRequest(format!("reading the upload: {}", e.body_text()))
        }
    })? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("document.pdf").to_owned();
        let bytes: Bytes = field.bytes().await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                Error::BadRequest(format!("reading the upload: {}", e.body_text()))
            }
        })?;
        let record = c.upload(&u, &name, bytes.to_vec()).await?;
        return Ok((axum::http::StatusCode::CREATED, Json(record)).into_response());
    }
    Err(Error::BadRequest(
        "no field `file` in the form: send the PDF as the multipart field `file`".into(),
    ))
}

async fn list_documents<S: ObjectStore, Q: Sql>(
    State(c): Shared<S, Q>,
    Caller(u): Caller,
) -> Result<Json<Value>, Error> {
    Ok(Json(json!({"documents": c.documents(&u).await?})))
}

async fn document<S: ObjectStore, Q: Sql>(
    State(c): Shared<S, Q>,
    Caller(u): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, Error> {
    let record = c.document(&u, &id).await?;
    let findings = if record.verdict == "pending" {
        Value::Null
    } else {
        c.findings(&u, &id).await?
    };
    Ok(Json(json!({"document": record, "findings": findings})))
}

async fn pdf<S: ObjectStore, Q: Sql>(
    State(c): Shared<S, Q>,
    Caller(u): Caller,
    Path(id): Path<String>,
) -> Result<Response, Error> {
    let bytes = c.pdf(&u, &id).await?;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{id}\""))
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

async fn alerts<S: ObjectStore, Q: Sql>(
    State(c): Shared<S, Q>,
    Caller(u): Caller,
    filter: Result<Query<AlertFilter>, QueryRejection>,
) -> Result<Json<Value>, Error> {
    let filter = query_params(filter)?;
    Ok(Json(json!({"alerts": c.alerts(&u, &filter).await?})))
}

async fn label<S: ObjectStore, Q: Sql>(
    State(c): Shared<S, Q>,
    Caller(u): Caller,
    body: Result<Json<LabelRequest>, JsonRejection>,
) -> Result<Response, Error> {
    let request = json_body(body)?;
    let stored = c.label(&u, &request).await?;
    Ok((axum::http::StatusCode::CREATED, Json(stored)).into_response())
}

#[derive(Deserialize)]
struct RevealRequest {
    event_id: String,
    field: String,
}

async fn reveal<S: ObjectStore, Q: Sql>(
    State(c): Shared<S, Q>,
    Caller(u): Caller,
    body: Result<Json<RevealRequest>, JsonRejection>,
) -> Result<Json<Value>, Error> {
    let r = json_body(body)?;
    let value = c.reveal(&u, &r.event_id, &r.field).await?;
    Ok(Json(
        json!({"event_id": r.event_id, "field": r.field, "value": value}),
    ))
}

async fn series<S: ObjectStore, Q: Sql>(
    State(c): Shared<S, Q>,
    Caller(u): Caller,
    range: Result<Query<Range>, QueryRejection>,
) -> Result<Json<Value>, Error> {
    let range = query_params(range)?;
    Ok(Json(json!(c.series(&u, &range).await?)))
}

async fn reasons<S: ObjectStore, Q: Sql>(
    State(c): Shared<S, Q>,
    Caller(u): Caller,
    range: Result<Query<Range>, QueryRejection>,
) -> Result<Json<Value>, Error> {
    let range = query_params(range)?;
    Ok(Json(json!({"reasons": c.reasons(&u, &range).await?})))
}

#[derive(Deserialize)]
struct QueryRequest {
    sql: String,
}

/// Columns whose values the SQL box masks, by name, as the queue does.
fn mask_column(name: &str, value: &str) -> Option<String> {
    match name {
        "email_address" | "email" => Some(mask::email(value)),
        "customer_name" => Some(mask::name(value)),
        "entity_id" | "phone" | "billing_phone" | "card_bin" => Some(mask::identifier(value)),
        "billing_street" | "ip_address" => Some(mask::keep_last(value, 0)),
        _ => None,
    }
}

async fn query<S: ObjectStore, Q: Sql>(
    State(c): Shared<S, Q>,
    Caller(u): Caller,
    body: Result<Json<QueryRequest>, JsonRejection>,
) -> Result<Json<Value>, Error> {
    u.require_analyst()?;
    let request = json_body(body)?;
    let sql = request.sql.trim();
    if sql.is_empty() {
        return Err(Error::BadRequest("sql: write a SELECT statement".into()));
    }
    // The statement may hold a value someone searched for: the log keeps its hash.
    let digest = Sha256::digest(sql.as_bytes());
    tracing::info!(
        user = %u.id,
        statement = %format!("{:02x}{:02x}{:02x}{:02x}", digest[0], digest[1], digest[2], digest[3]),
        "query run"
    );
    let mut rows = c.sql.query(sql).await?;
    for row in &mut rows.rows {
        for (name, value) in row.iter_mut() {
            if let Some(masked) = value.as_str().and_then(|v| mask_column(name, v)) {
                *value = Value::String(masked);
            }
        }
    }
    Ok(Json(json!(rows)))
}
