//! The interactive lesson: a step's prose, its questions, then a menu (check now, hint, a shell
//! on one of the step's nodes, the step's actions, skip, quit). Progress is saved after every
//! step and the next `halab start` resumes where the trainee left off.
//!
//! It asks through `ui` (menus, typed answers), which is where every prompt of halab goes.
//! Without a terminal, `print_step` is all there is.
//!
//! Must not: prompt without a terminal (callers ask `ui::interactive` first), or grade or act on
//! the lab in a way of its own (it calls `check` and `solve`).

pub(crate) mod watch;

use anyhow::Result;

use crate::check::{engine, report};
use crate::content::Lesson;
use crate::content::lesson::Step;
use crate::content::template::Context;
use crate::session::OpenLab;
use crate::solve;
use crate::state;
use crate::ui;

/// A step as the trainee reads it: title, prose, the chapter's commands, errata.
pub(crate) fn step_text(lesson: &Lesson, step: &Step, ctx: &Context) -> Result<String> {
    let n = lesson.step_index(&step.id).expect("step of lesson") + 1;
    let mut s = format!(
        "\n{} {}\n\n",
        ui::bold(format!("Step {n}/{} · {}", lesson.steps.len(), step.id)),
        ui::bold(&step.title)
    );
    for line in ctx.render(&step.prose)?.trim_end().lines() {
        if let Some(cmd) = line.trim_start().strip_prefix("$ ") {
            s += &format!("    {} {}\n", ui::dim("$"), console::style(cmd).cyan());
        } else {
            s += &format!("  {line}\n");
        }
    }
    if !step.commands.is_empty() {
        s += &format!(
            "\n  {}\n",
            ui::bold("The chapter's commands for this step:")
        );
        for c in &step.commands {
            s += &format!(
                "    {} {}\n",
                ui::dim("$"),
                console::style(ctx.render(c)?).cyan()
            );
        }
    }
    for e in &step.errata {
        s += &format!(
            "\n  {} {}\n",
            console::style("Chapter erratum:").yellow().bold(),
            ctx.render(e)?
        );
    }
    if !step.nodes.is_empty() {
        s += &format!("\n  {} {}\n", ui::dim("Nodes:"), step.nodes.join(", "));
    }
    Ok(s)
}

/// Without a terminal: show where the trainee is and what to do.
pub(crate) fn print_step(open: &OpenLab, lesson: &Lesson) -> Result<()> {
    let ctx = open.template_context()?;
    match solve::current_step(lesson, open)? {
        Some(step) => {
            println!("{}", step_text(lesson, step, &ctx)?);
            println!(
                "When you are done: `halab check --step {}`. A hint: `halab hint`. \
                 Run `halab start {}` in a terminal for the guided lesson.",
                step.id, lesson.id
            );
        }
        None => println!(
            "Every step of `{}` is done. `halab check` grades the whole lab.",
            lesson.id
        ),
    }
    Ok(())
}

/// The next hint of a step (all of them once shown), and record that it was shown.
pub(crate) fn next_hint(open: &OpenLab, step: &Step, ctx: &Context) -> Result<Option<String>> {
    if step.hints.is_empty() {
        return Ok(None);
    }
    let shown = open.dir.update("hint", |rec| {
        let p = rec.progress.entry(step.id.clone()).or_default();
        p.hints_shown = (p.hints_shown + 1).min(step.hints.len());
        p.hints_shown
    })?;
    Ok(Some(ctx.render(&step.hints[shown - 1])?))
}

/// What the trainee picked in a step's menu.
enum MenuChoice {
    Check,
    Hint,
    Shell(String),
    Action(usize),
    Skip,
    Quit,
}

/// The guided lesson, from the current step to the end or until the trainee quits.
pub(crate) fn run(open: &OpenLab, lesson: &Lesson) -> Result<()> {
    let ctx = open.template_context()?;
    if lesson
        .steps
        .iter()
        .all(|s| !open.dir.load().map(|r| r.step_done(&s.id)).unwrap_or(false))
    {
        eprintln!("\n{}\n{}", ui::bold(&lesson.title), lesson.summary.trim());
    }
    while let Some(step) = solve::current_step(lesson, open)? {
        eprintln!("{}", step_text(lesson, step, &ctx)?);
        if !step.questions.is_empty() && !ask_questions(open, step)? {
            return Ok(());
        }
        if !step.questions.is_empty() && step.checks.is_empty() {
            continue;
        }
        loop {
            let mut items: Vec<(String, MenuChoice)> = vec![
                ("Check this step now".into(), MenuChoice::Check),
                ("Show a hint".into(), MenuChoice::Hint),
            ];
            for n in &step.nodes {
                items.push((format!("Open a shell on {n}"), MenuChoice::Shell(n.clone())));
            }
            for (i, a) in step.actions.iter().enumerate() {
                items.push((a.label.clone(), MenuChoice::Action(i)));
            }
            items.push(("Skip this step".into(), MenuChoice::Skip));
            items.push(("Quit (your progress is saved)".into(), MenuChoice::Quit));
            let labels: Vec<&str> = items.iter().map(|(l, _)| l.as_str()).collect();
            let pick = ui::pick(&format!("Step `{}`", step.id), &labels)?;
            match &items[pick].1 {
                MenuChoice::Check => {
                    let r = engine::grade(open, lesson, Some(&step.id))?;
                    eprint!("{}", report::text(&r, &report::Layout::stderr()));
                    if r.all_passed() {
                        eprintln!("{} step `{}` passed\n", ui::green("✔"), step.id);
                        break;
                    }
                }
                MenuChoice::Hint => match next_hint(open, step, &ctx)? {
                    Some(h) => eprintln!("\n  {} {h}\n", ui::bold("hint:")),
                    None => eprintln!("\n  no hints for this step\n"),
                },
                MenuChoice::Shell(node) => {
                    eprintln!(
                        "halab: root shell on `{node}`; `exit` brings you back to the lesson"
                    );
                    open.backend.node(node).shell(&open.dir.name)?;
                }
                MenuChoice::Action(i) => {
                    let a = &step.actions[*i];
                    ui::say(format!("{}…", a.label));
                    solve::run_action(open, &ctx, a)?;
                    eprintln!("{} done", ui::green("✔"));
                }
                MenuChoice::Skip => {
                    open.dir.update("skip", |rec| {
                        rec.progress.entry(step.id.clone()).or_default().skipped = true
                    })?;
                    break;
                }
                MenuChoice::Quit => {
                    eprintln!(
                        "Progress saved. `halab start {}` picks up at step `{}`.",
                        lesson.id, step.id
                    );
                    return Ok(());
                }
            }
        }
    }
    eprintln!(
        "\n{} You have worked through every step of `{}`. `halab check` grades the whole lab.",
        ui::green("✔"),
        lesson.id
    );
    Ok(())
}

/// Ask a step's questions until each is answered correctly; false when the trainee quits.
fn ask_questions(open: &OpenLab, step: &Step) -> Result<bool> {
    let rec = open.dir.load()?;
    for q in &step.questions {
        if rec
            .step(&step.id)
            .answers
            .get(&q.id)
            .is_some_and(|a| q.accepts(*a))
        {
            continue;
        }
        loop {
            let text = ui::ask_text(&format!("{} [{}] (q to quit)", q.ask, q.unit_label()))?;
            let text = text.trim();
            if text.eq_ignore_ascii_case("q") {
                eprintln!("Progress saved.");
                return Ok(false);
            }
            let number: String = text
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
                .collect();
            let Ok(value) = number.parse::<f64>() else {
                eprintln!("  {} please answer with a number, e.g. 8.77", ui::red("✘"));
                continue;
            };
            open.dir.update("answer", |r| {
                r.progress
                    .entry(step.id.clone())
                    .or_default()
                    .answers
                    .insert(q.id.clone(), value);
            })?;
            if q.accepts(value) {
                eprintln!("  {} {value} {}", ui::green("✔"), q.unit_label());
                break;
            }
            eprintln!(
                "  {} {value} {} is not within {}% — try again",
                ui::red("✘"),
                q.unit_label(),
                q.tolerance * 100.0
            );
        }
    }
    let now = state::now_unix();
    open.dir.update("answer", |r| {
        r.progress.entry(step.id.clone()).or_default().passed_at = Some(now)
    })?;
    eprintln!("{} step `{}` passed\n", ui::green("✔"), step.id);
    Ok(true)
}
