//! The request log: every request the simulator answered, with the identity that made it, so tests
//! can assert "exactly these calls, by this token, and the poll was conditional".

use serde::{Deserialize, Serialize};

/// One answered (or deliberately dropped) request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedRequest {
    pub id: u64,
    pub method: String,
    /// Path without the query.
    pub path: String,
    pub query: String,
    /// Login of the authenticated identity, if any.
    pub identity: Option<String>,
    /// Response status; 0 when the connection was dropped on purpose.
    pub status: u16,
    /// The request carried `If-None-Match`.
    pub conditional: bool,
    /// The fault that was injected, if any.
    pub fault: Option<String>,
    /// Simulated unix seconds.
    pub at: i64,
}
