//! `cargo benchgate ...`: cargo runs `cargo-benchgate benchgate ...`; the subcommand's own name is
//! dropped ([`cargo_benchgate::cli::subcommand_args`]) and the rest is the `benchgate` command.

fn main() {
    let args = cargo_benchgate::cli::subcommand_args(std::env::args_os());
    std::process::exit(cargo_benchgate::cli::main(args));
}
