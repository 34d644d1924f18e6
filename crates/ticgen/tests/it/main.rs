//! ticgen's one test binary: the mapping over every reference vector and as properties, and the
//! binary end to end through gantry-testkit against temporary git repositories.

mod bad_input;
mod common;
mod contexts;
mod manifests;
mod mapping;
mod properties;
