//! Reference solutions and lesson actions: applying a step's `solutions/<lesson>/<step>.toml`,
//! which steps solving one takes (the unfinished ones before it first), the step the trainee is
//! on; actions are what halab does to the lab on request (e.g. fail the primary).
//!
//! Must not: grade (the check engine does, called by the command), print or prompt.

use anyhow::{Context as _, Result};

use crate::backend::node::SCRIPT_TIMEOUT;
use crate::content::lesson::{Action, Step};
use crate::content::template::Context;
use crate::content::{Lesson, Solution};
use crate::session::OpenLab;
use crate::ui::Problem;

/// Run one of a step's actions.
pub(crate) fn run_action(open: &OpenLab, ctx: &Context, action: &Action) -> Result<()> {
    let _hold = open.dir.lock(&format!("action {}", action.id))?;
    for nc in &action.run {
        open.backend
            .node(&nc.node)
            .run_ok(&ctx.render(&nc.run)?, SCRIPT_TIMEOUT)
            .with_context(|| format!("action `{}`", action.id))?;
    }
    Ok(())
}

/// Apply one step's reference solution.
pub(crate) fn apply(open: &OpenLab, step: &Step, sol: &Solution, ctx: &Context) -> Result<()> {
    let _hold = open.dir.lock(&format!("solve --step {}", step.id))?;
    if !sol.answers.is_empty() {
        open.dir.update("solve", |rec| {
            rec.progress
                .entry(step.id.clone())
                .or_default()
                .answers
                .extend(sol.answers.clone());
        })?;
    }
    for id in &sol.actions {
        let action = step
            .actions
            .iter()
            .find(|a| &a.id == id)
            .expect("validated action id");
        run_action(open, ctx, action)?;
    }
    for f in &sol.files {
        open.backend
            .node(&f.node)
            .put_file(
                &ctx.render(&f.path)?,
                ctx.render(&f.content)?.as_bytes(),
                &f.mode,
                &f.owner,
            )
            .with_context(|| format!("placing `{}` on {}", f.path, f.node))?;
    }
    for r in &sol.run {
        open.backend
            .node(&r.node)
            .run_ok(&ctx.render(&r.run)?, SCRIPT_TIMEOUT)?;
    }
    open.dir.update("solve", |rec| {
        rec.progress.entry(step.id.clone()).or_default().solved = true
    })?;
    Ok(())
}

/// The step the trainee is on: the first one not passed, solved or skipped.
pub(crate) fn current_step<'a>(lesson: &'a Lesson, open: &OpenLab) -> Result<Option<&'a Step>> {
    let rec = open.dir.load()?;
    Ok(lesson.steps.iter().find(|s| !rec.step_done(&s.id)))
}

/// The steps solving `target` (default: the current step) applies, in order: the unfinished
/// steps before it, then `target` itself (again, when it is done already).
pub(crate) fn steps_to_solve<'a>(
    open: &OpenLab,
    lesson: &'a Lesson,
    target: Option<&str>,
) -> Result<Vec<&'a Step>> {
    let target = match target {
        Some(id) => lesson.step_or_err(id)?,
        None => current_step(lesson, open)?.ok_or_else(|| {
            Problem::new(
                "every step of the lesson is done",
                "`halab solve --step ID` applies one step's solution again",
            )
        })?,
    };
    let upto = lesson.step_index(&target.id).expect("step of lesson");
    let rec = open.dir.load()?;
    Ok(lesson.steps[..=upto]
        .iter()
        .filter(|step| step.id == target.id || !rec.step_done(&step.id))
        .collect())
}
