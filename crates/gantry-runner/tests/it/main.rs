//! gantry-runner tests: the upstream protocol vectors, and the step harness end to end.

mod harness;
mod injection;
mod vectors;
