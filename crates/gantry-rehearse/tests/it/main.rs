//! The rehearsal end to end through the real action binaries: the embedded default world and a
//! team's own layout, with the report's facts checked against the simulators' state; `gantry
//! dora` against github-sim worlds with a known history.

mod common;
mod custom_world;
mod default_world;
mod dora;
mod report_path;
