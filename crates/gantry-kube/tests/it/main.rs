//! The client layer against the in-process Kubernetes simulator: the guarded rollback.

mod rollback;
