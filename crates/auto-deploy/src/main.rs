fn main() -> std::process::ExitCode {
    gantry_runner::main(&auto_deploy::SPEC, auto_deploy::run)
}
