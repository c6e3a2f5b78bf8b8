//! The `benchgate` command: a thin shell over `benchgate::cli`.

fn main() {
    std::process::exit(benchgate::cli::main(std::env::args_os()));
}
