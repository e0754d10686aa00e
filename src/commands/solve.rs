//! `halab solve [--step ID]`: apply reference solutions, then grade the step.

use anyhow::Result;

use crate::check::{engine, report};
use crate::cli::{Global, SolveArgs};
use crate::{solve, ui};

pub fn run(g: &Global, a: SolveArgs) -> Result<i32> {
    let (_hold, open, catalog, lesson) = super::open_held(g.lab.as_ref(), "solve")?;
    let applied = solve::solve(&open, &catalog, &lesson, a.step.as_deref())?;
    let target = applied
        .last()
        .expect("solve applies at least the target step");
    let r = engine::grade(&open, &lesson, Some(target))?;
    eprint!("{}", report::text(&r));
    if r.all_passed() {
        eprintln!("{} solved: {}", ui::green("✔"), applied.join(", "));
        Ok(0)
    } else {
        eprintln!(
            "{} the solution of `{target}` was applied but its checks fail",
            ui::red("✘")
        );
        Ok(1)
    }
}
