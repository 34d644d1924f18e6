fn main() -> std::process::ExitCode {
    gantry_runner::main(&required_ci_check::SPEC, required_ci_check::run)
}
