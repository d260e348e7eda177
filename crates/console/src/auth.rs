//! Who is asking. Locally the console serves the person at the keyboard, who is an analyst;
//! on AWS every call carries a Cognito token, checked by the console function.

use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::Error;

/// A signed-in person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// A stable id (Cognito's `sub`; `local` for the console on this machine).
    pub id: String,
    /// For labels' `who` and the reveal log.
    pub name: String,
    /// Members of the `analysts` group see the review queue and the reports.
    pub analyst: bool,
    /// Where this user's documents live under each document bucket (`users/<id>/` on AWS,
    /// nothing locally: the demo's documents are the local user's).
    pub home: String,
}

impl User {
    pub fn require_analyst(&self) -> Result<(), Error> {
        if self.analyst {
            Ok(())
        } else {
            Err(Error::Forbidden(
                "only members of the analysts group may do this".into(),
            ))
        }
    }
}

/// Turns a request's headers into the user making it.
pub trait Authenticate: Send + Sync {
    fn user(&self, headers: &HeaderMap) -> Result<User, Error>;

    /// What the page needs to sign in (`GET /api/config`, open to all): `{"auth": "none"}`
    /// here, the user pool's region and ids for Cognito.
    fn sign_in(&self) -> Value {
        json!({"auth": "none"})
    }

    /// An origin the page calls to sign in, besides its own (for the page's CSP).
    fn connects_to(&self) -> Option<String> {
        None
    }
}

/// The console on this machine: one user, an analyst, whose documents are all documents.
pub struct LocalUser;

impl Authenticate for LocalUser {
    fn user(&self, _headers: &HeaderMap) -> Result<User, Error> {
        Ok(User {
            id: "local".into(),
            name: std::env::var("USER").unwrap_or_else(|_| "local".into()),
            analyst: true,
            home: String::new(),
        })
    }
}
