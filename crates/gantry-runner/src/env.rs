//! The only place that reads the process environment: a snapshot taken once at start.
//!
//! Actions and tests work on an [`Env`] value, so a test can hand an action exactly the variables it
//! wants without touching the real environment, and nothing else in the suite calls `std::env`.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};

/// A snapshot of environment variables. Values may be non-UTF-8; readers decide how to report that.
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<OsString, OsString>,
}

/// A variable that is set but is not valid UTF-8.
#[derive(Debug, thiserror::Error)]
#[error("environment variable `{name}` is not valid UTF-8")]
pub struct NotUnicode {
    pub name: String,
}

impl Env {
    /// Snapshot of the current process environment.
    #[expect(
        clippy::disallowed_methods,
        reason = "this is the one module that reads the environment"
    )]
    pub fn from_process() -> Self {
        Self {
            vars: std::env::vars_os().collect(),
        }
    }

    /// An environment holding exactly these variables.
    pub fn from_pairs<K: Into<OsString>, V: Into<OsString>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The raw value of a variable, if set.
    pub fn raw(&self, name: &str) -> Option<&OsStr> {
        self.vars.get(OsStr::new(name)).map(OsString::as_os_str)
    }

    /// The value of a variable as UTF-8: `Ok(None)` when unset, an error when not valid UTF-8.
    pub fn get(&self, name: &str) -> Result<Option<&str>, NotUnicode> {
        match self.raw(name) {
            None => Ok(None),
            Some(value) => value.to_str().map(Some).ok_or_else(|| NotUnicode {
                name: name.to_owned(),
            }),
        }
    }

    /// The value when set, valid UTF-8 and not empty; an empty variable counts as unset.
    pub fn non_empty(&self, name: &str) -> Result<Option<&str>, NotUnicode> {
        Ok(self.get(name)?.filter(|v| !v.is_empty()))
    }

    /// True when the variable equals `expected` exactly.
    pub fn is(&self, name: &str, expected: &str) -> bool {
        self.raw(name) == Some(OsStr::new(expected))
    }

    /// Sets a variable in this snapshot (never in the process).
    pub fn set(&mut self, name: impl Into<OsString>, value: impl Into<OsString>) {
        self.vars.insert(name.into(), value.into());
    }

    /// Every variable, for handing a filtered copy to a child process.
    pub fn iter(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }
}

impl std::fmt::Debug for Env {
    /// Lists names only: values may hold secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.vars.keys()).finish()
    }
}
