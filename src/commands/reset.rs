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
        reset_lab(name.as_ref(), a.to.as_deref(), true)?;
    }
    Ok(0)
}

/// Reset one lab (`None`: the only one), to the start of step `to` if given; `own`: asked on
/// this lab's machine by its user, who may be a trainee of a class that does not allow it.
pub(crate) fn reset_lab(
    name: Option<&crate::state::LabName>,
    to: Option<&str>,
    own: bool,
) -> Result<()> {
    {
        let purpose = match to {
            Some(to) => format!("reset --to {to}"),
            None => "reset".to_string(),
        };
        let (_hold, open, catalog, lesson) = super::open_held(name, &purpose)?;
        if own {
            crate::class::refuse_unless_allowed(&open.record, crate::class::Permission::Reset)?;
        }
        if let Some(to) = to {
            lesson.step_or_err(to)?;
        }
        let saved = reset::reset(&open, &lesson)?;
        eprintln!(
            "{} lab `{}` is back at its start; the trainee's files were saved in `{}`",
            ui::green("✔"),
            open.dir.name,
            saved.display()
        );
        if let Some(to) = to {
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
    Ok(())
}
