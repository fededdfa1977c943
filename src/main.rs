//! The `patientflow` command: see `patientflow --help`.
fn main() -> std::process::ExitCode {
    patientflow::cli::main()
}
