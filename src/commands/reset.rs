//! `halab reset [--to STEP] [--all]`: save the trainee's files, then put the lab back to its
//! start (or to the start of STEP, solving the steps before it).

use anyhow::Result;

use crate::cli::{Global, ResetArgs};
use crate::{reset, ui};

pub(crate) fn run(g: &Global, a: ResetArgs) -> Result<i32> {
    let names: Vec<Option<crate::state::LabName>> = if a.all {
        super::all_labs()?.into_iter().map(Some).collect()
    } else {
        vec![g.lab.clone()]
    };
    for name in names {
        let purpose = match &a.to {
            Some(to) => format!("reset --to {to}"),
            None => "reset".to_string(),
        };
        let (_hold, open, catalog, lesson) = super::open_held(name.as_ref(), &purpose)?;
        if let Some(to) = &a.to {
            lesson.step_or_err(to)?;
        }
        let saved = reset::reset(&open, &lesson)?;
        eprintln!(
            "{} lab `{}` is back at its start; the trainee's files were saved in `{}`",
            ui::green("✔"),
            open.dir.name,
            saved.display()
        );
        if let Some(to) = &a.to {
            let i = lesson.step_index(to).expect("checked above");
            if i > 0 {
                let before = &lesson.steps[i - 1].id;
                super::solve::solve_through(&open, &catalog, &lesson, Some(before))?;
            }
            eprintln!(
                "{} lab `{}` is at the start of step `{to}`",
                ui::green("✔"),
                open.dir.name
            );
        }
    }
    Ok(0)
}
