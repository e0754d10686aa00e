//! Reference solutions, lesson actions, and putting a lab back to its start: `halab solve`
//! applies `solutions/<lesson>/<step>.toml` (solving earlier unfinished steps first); actions are
//! what halab does to the lab on request (e.g. fail the primary); `halab reset` saves the files
//! the trainee edited, then rebuilds the lab.
//!
//! Must not: grade (the check engine does) or prompt.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::backend::node::SCRIPT_TIMEOUT;
use crate::check::{engine, report};
use crate::content::lesson::{Action, Step};
use crate::content::template::Context;
use crate::content::{Catalog, Lesson, Solution};
use crate::exec::Cmd;
use crate::lifecycle;
use crate::session::OpenLab;
use crate::state;
use crate::ui::{self, Problem};

/// Run one of a step's actions.
pub fn run_action(open: &OpenLab, ctx: &Context, action: &Action) -> Result<()> {
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
pub fn apply(open: &OpenLab, step: &Step, sol: &Solution, ctx: &Context) -> Result<()> {
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
pub fn current_step<'a>(lesson: &'a Lesson, open: &OpenLab) -> Result<Option<&'a Step>> {
    let rec = open.dir.load()?;
    Ok(lesson.steps.iter().find(|s| !rec.step_done(&s.id)))
}

/// Solve `target` (default: the current step), solving unfinished steps before it first.
/// Returns the ids of the steps whose solutions were applied.
pub fn solve(
    open: &OpenLab,
    catalog: &Catalog,
    lesson: &Lesson,
    target: Option<&str>,
) -> Result<Vec<String>> {
    let target = match target {
        Some(id) => lesson.step_or_err(id)?,
        None => current_step(lesson, open)?.ok_or_else(|| {
            Problem::new(
                "every step of the lesson is done",
                "`halab solve --step ID` applies one step's solution again",
            )
        })?,
    };
    let ctx = open.template_context()?;
    let upto = lesson.step_index(&target.id).expect("step of lesson");
    let rec = open.dir.load()?;
    let mut applied = Vec::new();
    for step in &lesson.steps[..=upto] {
        if step.id != target.id && rec.step_done(&step.id) {
            continue;
        }
        let sol = catalog
            .solution(&lesson.id, &step.id)
            .expect("validated: every step has a solution");
        ui::say(format!("applying the solution of step `{}`", step.id));
        apply(open, step, sol, &ctx).with_context(|| format!("solving step `{}`", step.id))?;
        applied.push(step.id.clone());
        // Grade each earlier step as it is solved (recording its pass), so later steps build on
        // verified ground; the target is graded by the caller.
        if step.id != target.id {
            let r = engine::grade(open, lesson, Some(&step.id))?;
            if !r.all_passed() {
                eprint!("{}", report::text(&r));
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

/// Copy the files the lesson has the trainee edit into `backups/<time>/<node>/...`; returns the
/// backup directory.
pub fn backup(open: &OpenLab, lesson: &Lesson) -> Result<PathBuf> {
    let ctx = open.template_context()?;
    let stamp = state::format_time(state::now_unix())
        .replace([' ', ':'], "-")
        .replace("-UTC", "");
    let mut dir = open.dir.path.join("backups").join(&stamp);
    let mut n = 1;
    while dir.exists() {
        n += 1;
        dir = open.dir.path.join("backups").join(format!("{stamp}.{n}"));
    }
    for edit in &lesson.edits {
        let paths = edit
            .paths
            .iter()
            .map(|p| ctx.render(p))
            .collect::<Result<Vec<_>, _>>()?;
        for node in &edit.nodes {
            if !open.backend.is_running(node) {
                ui::warn(format!(
                    "{node} is not running: its files are not in the backup"
                ));
                continue;
            }
            let mut argv = vec![
                "bash".to_string(),
                "-c".to_string(),
                r#"cd / && ex=(); for p in "$@"; do [ -e "$p" ] && ex+=("${p#/}"); done; [ ${#ex[@]} -eq 0 ] || tar -czf - -- "${ex[@]}""#.to_string(),
                "halab-backup".to_string(),
            ];
            argv.extend(paths.iter().cloned());
            let out = open
                .backend
                .exec(node, &argv, None, Some(Duration::from_secs(60)))?;
            if !out.success() {
                anyhow::bail!("saving files on {node} failed: {}", out.stderr.trim());
            }
            if out.raw_stdout.is_empty() {
                continue;
            }
            let dest = dir.join(node);
            std::fs::create_dir_all(&dest)?;
            Cmd::new("tar")
                .args(["-xzf", "-", "--no-same-owner", "-C"])
                .arg(&dest)
                .stdin(out.raw_stdout)
                .run_ok()?;
        }
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Save the trainee's files, then put the lab back to its start and forget its progress: from
/// the backend's snapshots where it keeps them, else by rebuilding the nodes.
pub fn reset(open: &OpenLab, lesson: &Lesson) -> Result<PathBuf> {
    let _hold = open.dir.lock("reset")?;
    let saved = backup(open, lesson)?;
    let nodes: Vec<String> = open.lab.nodes.iter().map(|n| n.name.clone()).collect();
    let progress = ui::Progress::new("restore", nodes.len() as u64);
    let restored = open.backend.restore(&nodes, &progress)?;
    if !restored.is_empty() {
        progress.finish(&format!(
            "{} node(s) back at their starting snapshot",
            restored.len()
        ));
    }
    open.dir.update("reset", |rec| {
        rec.progress.clear();
        // Drill figures described the lab before; they say nothing of the new one.
        rec.drills.clear();
        rec.phase = state::Phase::Building;
        for (n, r) in rec.nodes.iter_mut() {
            if !restored.contains(n) {
                r.provisioned = false;
            }
        }
    })?;
    lifecycle::restart(open)?;
    Ok(saved)
}
