//! The console's one error type, and how each becomes an HTTP status with a JSON body.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("sign in first: this call needs a valid token (Authorization: Bearer …)")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    NotPdf(String),
    #[error("query: {0}")]
    Query(String),
    #[error("storage: {0}")]
    Store(#[from] vigil_core::Error),
    #[error("documents: {0}")]
    Documents(#[from] vigil_documents::Error),
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) | Error::Query(_) => StatusCode::BAD_REQUEST,
            Error::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::NotPdf(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Store(vigil_core::Error::ObjectNotFound { .. }) => StatusCode::NOT_FOUND,
            Error::Store(_) | Error::Documents(_) | Error::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), error = %self, "request failed");
        } else if let Error::Unauthenticated(why) = &self {
            // Why a token was refused is for the operator, not the caller.
            tracing::info!(why = %why, "request refused: not signed in");
        }
        (
            status,
            Json(json!({"error": self.to_string(), "status": status.as_u16()})),
        )
            .into_response()
    }
}
