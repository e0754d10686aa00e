//! `halab solve [--step ID]`: apply reference solutions, then grade the step.

use anyhow::{Context as _, Result};

use crate::check::{engine, report};
use crate::cli::{Global, SolveArgs};
use crate::content::{Catalog, Lesson};
use crate::session::OpenLab;
use crate::solve;
use crate::ui::{self, Problem};

pub(crate) fn run(g: &Global, a: SolveArgs) -> Result<i32> {
    let (_hold, open, catalog, lesson) = super::open_held(g.lab.as_ref(), "solve")?;
    crate::class::refuse_unless_allowed(&open.record, crate::class::Permission::Solve)?;
    let applied = solve_through(&open, &catalog, &lesson, a.step.as_deref())?;
    let target = applied
        .last()
        .expect("solve applies at least the target step");
    let r = engine::grade(&open, &lesson, Some(target))?;
    eprint!("{}", report::text(&r, &report::Layout::stderr()));
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

/// Solve `target` (default: the current step), solving unfinished steps before it first.
/// Returns the ids of the steps whose solutions were applied.
pub(super) fn solve_through(
    open: &OpenLab,
    catalog: &Catalog,
    lesson: &Lesson,
    target: Option<&str>,
) -> Result<Vec<String>> {
    let steps = solve::steps_to_solve(open, lesson, target)?;
    let ctx = open.template_context()?;
    let mut applied = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let sol = catalog
            .solution(&lesson.id, &step.id)
            .expect("validated: every step has a solution");
        ui::say(format!("applying the solution of step `{}`", step.id));
        solve::apply(open, step, sol, &ctx)
            .with_context(|| format!("solving step `{}`", step.id))?;
        applied.push(step.id.clone());
        // Grade each earlier step as it is solved (recording its pass), so later steps build on
        // verified ground; the target is graded by the caller.
        if i + 1 < steps.len() {
            let r = engine::grade(open, lesson, Some(&step.id))?;
            if !r.all_passed() {
                eprint!("{}", report::text(&r, &report::Layout::stderr()));
                return Err(Problem::new(
                    format!(
                        "the solution of step `{}` was applied but its checks fail",
                        step.id
                    ),
                    format!(
                        "look at the failing check above; `halab check --step {}` runs it again",
                        step.id
                    ),
                )
                .into());
            }
        }
    }
    Ok(applied)
}
