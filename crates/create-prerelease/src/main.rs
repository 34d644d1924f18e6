fn main() -> std::process::ExitCode {
    gantry_runner::main(&create_prerelease::SPEC, create_prerelease::run)
}
