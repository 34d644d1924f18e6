//! The rehearsal end to end through the real action binaries: the embedded default world and a
//! team's own layout, with the report's facts checked against the simulators' state.

mod common;
mod custom_world;
mod default_world;
mod report_path;
