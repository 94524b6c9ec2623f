//! The `bonemet` command line: parse arguments, check them into the library's configuration,
//! run, and turn the outcome into an exit code.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
