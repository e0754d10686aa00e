//! One file per subcommand. Each is thin: take the parsed arguments, call the library, render
//! the result. The exit code a command returns is the process's exit code.

pub(crate) mod alerts;
pub(crate) mod check;
pub(crate) mod class;
pub(crate) mod completions;
pub(crate) mod destroy;
pub(crate) mod doctor;
pub(crate) mod drill;
pub(crate) mod exec;
pub(crate) mod hint;
pub(crate) mod join;
pub(crate) mod labs;
pub(crate) mod lessons;
pub(crate) mod manpages;
pub(crate) mod prepare;
pub(crate) mod reset;
pub(crate) mod shell;
pub(crate) mod solve;
pub(crate) mod start;
pub(crate) mod status;
pub(crate) mod uptime;
pub(crate) mod validate;
pub(crate) mod watch;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::content::{Catalog, Lesson};
use crate::session::OpenLab;

/// Every lab on this machine (for `--all`), or an error saying there is none.
pub(crate) fn all_labs() -> Result<Vec<crate::state::LabName>> {
    let names = crate::state::lab_names(&crate::state::home());
    if names.is_empty() {
        return Err(crate::ui::Problem::new(
            "there is no lab on this machine",
            "start one with `halab start LESSON`",
        )
        .into());
    }
    Ok(names)
}

/// The lab named by `--lab` (or the only one), the content, and the lab's lesson.
pub(crate) fn open_with_lesson(
    lab: Option<&crate::state::LabName>,
) -> Result<(OpenLab, Catalog, Lesson)> {
    let open = OpenLab::open(lab)?;
    let catalog = Catalog::load()?;
    let lesson = catalog.lesson(&open.record.lesson)?.clone();
    Ok((open, catalog, lesson))
}

/// Like [`open_with_lesson`] for a command that changes the lab: the lab is held first (a second
/// such command waits and is told who holds it), then read, so what it reads is current.
pub(crate) fn open_held(
    lab: Option<&crate::state::LabName>,
    purpose: &str,
) -> Result<(crate::state::LabLock, OpenLab, Catalog, Lesson)> {
    let dir = crate::state::resolve_lab(&crate::state::home(), lab)?;
    let hold = dir.lock(purpose)?;
    let (open, catalog, lesson) = open_with_lesson(Some(&dir.name))?;
    Ok((hold, open, catalog, lesson))
}

/// Before a command on one lab: a class lab's state is the one its server keeps (its record
/// there may be newer than this machine's, changed by the trainee or the instructor).
fn take_class_state(g: &crate::cli::Global, command: &Command) -> Result<()> {
    let home = crate::state::home();
    let dir = match command {
        Command::Start(a) => match g.lab.clone().or_else(|| a.lesson.parse().ok()) {
            Some(n) => crate::state::LabDir::new(&home, &n),
            None => return Ok(()),
        },
        Command::Status(_)
        | Command::Exec(_)
        | Command::Shell(_)
        | Command::Hint
        | Command::Watch
        | Command::Solve(_)
        | Command::Alerts(_)
        | Command::Drill(_) => match crate::state::resolve_lab(&home, g.lab.as_ref()) {
            Ok(d) => d,
            // The command itself says what is wrong with the lab it was asked for.
            Err(_) => return Ok(()),
        },
        Command::Check(a) if !a.all => match crate::state::resolve_lab(&home, g.lab.as_ref()) {
            Ok(d) => d,
            Err(_) => return Ok(()),
        },
        Command::Reset(a) if !a.all => match crate::state::resolve_lab(&home, g.lab.as_ref()) {
            Ok(d) => d,
            Err(_) => return Ok(()),
        },
        _ => return Ok(()),
    };
    crate::class::shelf::take(&dir)
}

/// Run the parsed command line; returns the exit code.
pub(crate) fn dispatch(cli: Cli) -> Result<i32> {
    let g = &cli.global;
    take_class_state(g, &cli.command)?;
    match cli.command {
        Command::Start(a) => start::run(g, a),
        Command::Prepare(a) => prepare::run(a),
        Command::Status(a) => status::run(g, a),
        Command::Exec(a) => exec::run(g, a),
        Command::Shell(a) => shell::run(g, a),
        Command::Destroy(a) => destroy::run(g, a),
        Command::Check(a) => check::run(g, a),
        Command::Hint => hint::run(g),
        Command::Watch => watch::run(g),
        Command::Solve(a) => solve::run(g, a),
        Command::Reset(a) => reset::run(g, a),
        Command::Labs(a) => labs::run(a),
        Command::Alerts(a) => alerts::run(g, a),
        Command::Uptime(a) => uptime::run(a),
        Command::Doctor(a) => doctor::run(a),
        Command::Class(c) => class::run(g, c),
        Command::Join(a) => join::run(g, a),
        Command::Drill(a) => drill::run(g, a),
        Command::Lessons => lessons::run(g),
        Command::Validate(a) => validate::run(g, a),
        Command::Completions(a) => completions::run(a),
        Command::Manpages(a) => manpages::run(a),
    }
}
