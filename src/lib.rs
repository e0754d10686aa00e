//! halab: a live lab for "Dhruv builds the system that never goes down".
//!
//! Where things are: `cli` (the words), `commands/` (one file per subcommand), `content/`
//! (lessons and labs as data, and their templates), `backend/` (how nodes exist), `provision` (a
//! node's starting state), `lifecycle` (start, restart, status, destroy), `session` (an open
//! lab), `state` (what is kept on disk), `exec` (the one place that runs programs), `host`, `ui`.
//! Imports only point down (README's "Developing"; `tests/it/layers.rs` keeps it so).
//!
//! The library is the binary's, not an API: every module is private, so rustc reports what is
//! unused. Only three things are public: [`main`] (all of `src/main.rs`), [`content`] (the
//! data layer, which `tests/fuzz` loads and renders directly), and [`crash_node`] (the power cut
//! the backend conformance test needs without running a drill).
//!
//! Must not: grow another public item for convenience; a test that needs one drives the binary.

#![warn(unreachable_pub)]

mod backend;
mod check;
mod class;
mod cli;
mod commands;
pub mod content;
mod doctor;
mod drill;
mod exec;
mod host;
mod lifecycle;
mod parallel;
mod provision;
mod reset;
mod runner;
mod session;
mod solve;
mod state;
mod ui;
mod uptime;

/// The whole program: parse the command line, run the command, report an error; returns the
/// process's exit code (2 for an error, as every command documents).
pub fn main() -> i32 {
    exec::keep_inherited_fds_from_children();
    state::store_class_records_with(class::shelf::store);
    ui::init_colors();
    // A shell asking for completions (`COMPLETE=bash halab -- halab shell ...`) is answered here
    // and the process exits; nothing may be printed before this.
    clap_complete::CompleteEnv::with_factory(commands::completions::command).complete();
    let cli = cli::parse();
    ui::set_verbosity(if cli.global.quiet {
        ui::Verbosity::Quiet
    } else if cli.global.verbose {
        ui::Verbosity::Verbose
    } else {
        ui::Verbosity::Normal
    });
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            ui::report_error(&e);
            2
        }
    }
}

/// Cut the power of `node` in lab `lab` kept under `home` (`HALAB_HOME`), on backend `backend`
/// (`netns`, `lxd`): what a drill's crash does, for tests that need one without a drill.
pub fn crash_node(
    home: &std::path::Path,
    lab: &str,
    backend: &str,
    node: &str,
) -> anyhow::Result<()> {
    let name: state::LabName = lab.parse().map_err(anyhow::Error::msg)?;
    let kind = <backend::BackendKind as clap::ValueEnum>::from_str(backend, false)
        .map_err(anyhow::Error::msg)?;
    backend::open(
        kind,
        &state::LabDir::new(home, &name),
        backend::Place::default(),
    )?
    .crash_node(node)
}
