//! The `kith` binary: parse the command line, set up logging, hand over to the library.

use clap::Parser;

/// mimalloc (see the `allocator` crate), which gives memory back after a burst: lazily on
/// busy threads, and through `kith::memory` on threads that went idle.
#[global_allocator]
static GLOBAL: allocator::MiMalloc = allocator::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = kith::cli::Cli::parse();
    let _telemetry = kith::cli::init_tracing(&cli);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_park(kith::memory::on_park)
        .build()
    {
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
