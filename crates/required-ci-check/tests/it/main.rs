//! The one test binary: the decision rules as tables, input validation, and whole runs of the
//! binary through gantry-testkit with snapshots of their transcripts.

mod bad_input;
mod common;
mod properties;
mod rules;
mod runs;
mod spec;
