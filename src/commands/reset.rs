//! `halab reset`: save the trainee's files, then rebuild the lab to its starting state.

use anyhow::Result;

use crate::cli::{Global, ResetArgs};
use crate::{solve, ui};

pub fn run(g: &Global, _a: ResetArgs) -> Result<i32> {
    let (open, _catalog, lesson) = super::open_with_lesson(g.lab.as_deref())?;
    let saved = solve::reset(&open, &lesson)?;
    eprintln!(
        "{} lab `{}` is back at its start; the trainee's files were saved in `{}`",
        ui::green("✔"),
        open.dir.name,
        saved.display()
    );
    Ok(0)
}
