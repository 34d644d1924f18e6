fn main() -> std::process::ExitCode {
    gantry_runner::main(&k8s_deploy::SPEC, k8s_deploy::run)
}
