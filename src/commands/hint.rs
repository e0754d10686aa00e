//! `halab hint`: the next hint for the step the trainee is on (from any terminal).

use anyhow::Result;

use crate::cli::Global;
use crate::{runner, solve};

pub(crate) fn run(g: &Global) -> Result<i32> {
    let (open, _catalog, lesson) = super::open_with_lesson(g.lab.as_ref())?;
    let Some(step) = solve::current_step(&lesson, &open)? else {
        println!("Every step is done; `halab check` grades the lab.");
        return Ok(0);
    };
    match runner::next_hint(&open, step, &open.template_context()?)? {
        Some(h) => println!("step `{}`: {h}", step.id),
        None => println!("step `{}` has no hints", step.id),
    }
    Ok(0)
}
