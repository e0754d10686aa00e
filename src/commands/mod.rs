//! One file per subcommand. Each is thin: take the parsed arguments, call the library, render
//! the result. The exit code a command returns is the process's exit code.

pub mod destroy;
pub mod exec;
pub mod lessons;
pub mod shell;
pub mod start;
pub mod status;
pub mod validate;

use anyhow::Result;

use crate::cli::{Cli, Command};

/// Run the parsed command line; returns the exit code.
pub fn dispatch(cli: Cli) -> Result<i32> {
    let g = &cli.global;
    match cli.command {
        Command::Start(a) => start::run(g, a),
        Command::Status(a) => status::run(g, a),
        Command::Exec(a) => exec::run(g, a),
        Command::Shell(a) => shell::run(g, a),
        Command::Destroy(a) => destroy::run(g, a),
        Command::Lessons => lessons::run(g),
        Command::Validate(a) => validate::run(g, a),
    }
}
