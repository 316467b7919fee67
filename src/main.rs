//! The `kith` binary: parse the command line, set up logging, hand over to the library.

use clap::Parser;

/// mimalloc suits the many small, short-lived allocations of GraphQL execution, and hands
/// freed pages back to the operating system, so memory falls again after a burst (glibc's
/// malloc kept a 3.8 GB peak resident).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = kith::cli::Cli::parse();
    let _telemetry = kith::cli::init_tracing(&cli);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("kith: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(kith::cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kith: {}", error.detail());
            std::process::ExitCode::FAILURE
        }
    }
}
