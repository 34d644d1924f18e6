//! Errors that say which request failed and how: method, path, status, GitHub's message, its
//! documentation link and the request id GitHub support asks for. Never a token, never a full URL.

use std::fmt::{self, Write as _};
use std::time::Duration;

/// A failed GitHub request.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// GitHub answered with an error status.
    #[error("{request}: {}", api_detail(*.status, .message, .errors, .documentation_url.as_deref(), .request_id.as_deref()))]
    Api {
        request: RequestLine,
        status: u16,
        message: String,
        /// GitHub's `errors` array of a 422, as compact `resource.field code` strings.
        errors: Vec<String>,
        documentation_url: Option<String>,
        request_id: Option<String>,
    },
    /// GitHub answered a GraphQL request with errors (GraphQL reports them with HTTP 200).
    #[error("{request}: {}", graphql_detail(.errors))]
    Graphql {
        request: RequestLine,
        errors: Vec<GraphqlError>,
    },
    /// The request did not complete (connection refused or reset, timeout, body cut short).
    #[error("{request}: {message}")]
    Transport {
        request: RequestLine,
        message: String,
    },
    /// The response arrived but is not what GitHub sends.
    #[error("{request}: unexpected response body: {message}")]
    Decode {
        request: RequestLine,
        message: String,
    },
    /// Retrying stopped because the next attempt would end after the deadline.
    #[error("{request}: gave up after {attempts} attempts in {:.1}s (deadline {:.0}s): {last}", .elapsed.as_secs_f64(), .deadline.as_secs_f64())]
    Deadline {
        request: RequestLine,
        attempts: u32,
        elapsed: Duration,
        deadline: Duration,
        last: Box<GithubError>,
    },
    /// A path part given by the caller would change the endpoint; nothing was sent.
    #[error(transparent)]
    Path(#[from] crate::path::RefusedPath),
    /// Building the client failed (bad CA bundle, bad proxy URL, bad base URL).
    #[error("cannot set up the GitHub client: {0}")]
    Setup(String),
}

/// `METHOD /path` of a request, without host or query secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLine {
    pub method: String,
    pub path: String,
}

impl fmt::Display for RequestLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// One entry of a GraphQL response's `errors`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct GraphqlError {
    /// GitHub's error type (`FORBIDDEN`, `NOT_FOUND`, `UNPROCESSABLE`…); absent on validation
    /// errors such as an unknown field.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub message: String,
}

fn graphql_detail(errors: &[GraphqlError]) -> String {
    let parts: Vec<String> = errors
        .iter()
        .map(|e| match &e.kind {
            Some(kind) => format!("{kind}: {}", e.message),
            None => e.message.clone(),
        })
        .collect();
    format!("GraphQL errors: {}", parts.join("; "))
}

fn api_detail(
    status: u16,
    message: &str,
    errors: &[String],
    docs: Option<&str>,
    request_id: Option<&str>,
) -> String {
    let mut text = format!("{status} {message}");
    if !errors.is_empty() {
        let _ = write!(text, " ({})", errors.join("; "));
    }
    if let Some(docs) = docs {
        let _ = write!(text, " (see {docs})");
    }
    if let Some(id) = request_id {
        let _ = write!(text, " [request id {id}]");
    }
    text
}

impl GithubError {
    /// The HTTP status of an API error, following a deadline error to its last cause.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            Self::Deadline { last, .. } => last.status(),
            _ => None,
        }
    }

    /// True for a 404.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// True when a merge was refused because the base branch takes pull requests only through a
    /// merge queue (405 "Changes must be made through the merge queue").
    pub fn requires_merge_queue(&self) -> bool {
        matches!(self, Self::Api { status: 405, message, .. } if message.to_ascii_lowercase().contains("merge queue"))
    }

    /// True when a 422 names this validation code (e.g. `already_exists`).
    pub fn is_validation(&self, code: &str) -> bool {
        matches!(self, Self::Api { status: 422, errors, message, .. }
            if errors.iter().any(|e| e.ends_with(code)) || message.contains(code))
    }
}
