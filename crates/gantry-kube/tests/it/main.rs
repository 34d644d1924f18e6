//! The client layer against the in-process Kubernetes simulator: the guarded rollback, and the
//! image write that never goes back past a newer source.

mod common;
mod rollback;
mod source;
