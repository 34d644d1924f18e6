//! Secrets as their own type: the value cannot be printed, formatted or logged by accident.

use std::fmt;

/// A secret value (token, password). It has no `Display`, its `Debug` prints a placeholder, and the
/// value is reachable only through [`Secret::expose`], which makes every use easy to audit.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value. Callers that read a secret from outside must also mask it; the runner's
    /// input reader does both at once.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that must send it (an `Authorization` header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}
