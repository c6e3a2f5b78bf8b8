//! The `benchgate` command: a thin shell over `cargo_benchgate::cli`.

fn main() {
    std::process::exit(cargo_benchgate::cli::main(std::env::args_os()));
}
