//! `halab start LESSON`: build (or resume) the lesson's lab, then say how to use it.

use anyhow::Result;

use crate::cli::{Global, StartArgs};
use crate::lifecycle::{self, StartRequest};
use crate::{runner, ui};

pub(crate) fn run(g: &Global, a: StartArgs) -> Result<i32> {
    let s = lifecycle::start(StartRequest {
        lesson: a.lesson,
        lab: g.lab.clone(),
        backend: a.backend,
        lxd_remote: a.lxd_remote,
        yes: a.yes,
    })?;
    // Commands after this one find the lab by itself only when it is the only one.
    let lab_flag = if g.lab.is_some() {
        format!(" --lab {}", s.name)
    } else {
        String::new()
    };
    if ui::verbosity() == ui::Verbosity::Quiet {
        // `-q`: no summary, no suggestions (the lesson's step below is data, on stdout).
    } else if s.created + s.restarted == 0 {
        eprintln!(
            "{} lab `{}` is already up ({} nodes on {}); nothing changed",
            ui::green("✔"),
            s.name,
            s.nodes,
            s.backend
        );
    } else {
        eprintln!(
            "{} lab `{}` is up: {} nodes on {} in {:.1}s",
            ui::green("✔"),
            s.name,
            s.nodes,
            s.backend,
            s.elapsed.as_secs_f32()
        );
    }
    let first = &s.first_node;
    let useful = [
        (
            "status".to_string(),
            "see the nodes and their services".to_string(),
        ),
        (format!("shell {first}"), format!("a root shell on {first}")),
        (
            format!("exec {first} -- hostname"),
            "one command on one node".to_string(),
        ),
        ("destroy".to_string(), "remove the lab".to_string()),
    ];
    if ui::verbosity() != ui::Verbosity::Quiet {
        eprintln!("\nUseful now and later:");
        for (cmd, what) in useful {
            eprintln!(
                "  {:<44} {what}",
                ui::bold(format!("halab{lab_flag} {cmd}"))
            );
        }
    }
    let (open, _catalog, lesson) = super::open_with_lesson(Some(&s.name))?;
    if ui::interactive() {
        runner::run(&open, &lesson)?;
    } else {
        runner::print_step(&open, &lesson)?;
    }
    Ok(0)
}
