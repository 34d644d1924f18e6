//! The `ticgen` action binary: the runner protocol around [`ticgen::run`].

fn main() -> std::process::ExitCode {
    gantry_runner::main(&ticgen::SPEC, ticgen::run)
}
