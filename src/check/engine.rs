//! Running a lesson's checks on a lab: every check that leaves the lab alone runs concurrently;
//! checks with `before`/`after` commands (they break something on purpose) run one at a time
//! afterwards. "Eventually" checks retry until their deadline. A command that fails is a failed
//! check, never an error; so is a node that does not answer.
//!
//! Steps whose state a later step replaced on purpose (`superseded_by`), and `live` steps on a
//! full check, show their recorded pass instead of running again. Passing steps are recorded.
//!
//! Must not: render outcomes (`report` does), or change the lab except through a check's own
//! `before`/`after` commands.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::outcome::{CheckOutcome, Failure, GradedLab, StepOutcome, Subject};
use super::{describe, evaluate};
use crate::backend::Backend;
use crate::content::Lesson;
use crate::content::lesson::{Check, Expect, NodeCommand, Step};
use crate::content::template::Context;
use crate::exec::Output;
use crate::parallel;
use crate::session::OpenLab;
use crate::state::{self, LabLock, LabRecord};

/// How long one command of a check may run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// Pause between tries of an "eventually" check.
const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// Grade the lab: every step, or only `only` (always run, whatever was recorded).
pub(crate) fn grade(open: &OpenLab, lesson: &Lesson, only: Option<&str>) -> Result<GradedLab> {
    let ctx = open.template_context()?;
    let record = open.dir.load()?;
    let steps: Vec<&Step> = match only {
        Some(id) => vec![lesson.step_or_err(id)?],
        None => lesson.steps.iter().collect(),
    };
    let settled: Vec<Option<StepOutcome>> = steps
        .iter()
        .map(|s| settled(s, &record, only.is_some()))
        .collect();
    let todo = checks_to_run(&steps, &settled);
    let _hold = hold_if_disruptive(open, only, &todo)?;
    let mut ran = run_checks(&*open.backend, &ctx, &todo).into_iter();
    let outcomes: Vec<StepOutcome> = steps
        .iter()
        .zip(settled)
        .enumerate()
        .map(|(i, (s, settled))| {
            settled.unwrap_or_else(|| {
                // `ran` is in `todo`'s order, which is the steps' order.
                let n = todo.iter().filter(|t| t.step == i).count();
                StepOutcome::of(&s.id, &s.title, ran.by_ref().take(n).collect())
            })
        })
        .collect();
    let graded = GradedLab::new(&open.dir.name.to_string(), &lesson.id, outcomes);
    record_progress(open, &graded)?;
    Ok(graded)
}

/// A step's outcome when no command needs to run for it: a recorded pass that stands in (not
/// when the step was asked for by name), or its questions graded from the answers.
fn settled(step: &Step, record: &LabRecord, asked_for: bool) -> Option<StepOutcome> {
    let recorded = if asked_for {
        None
    } else {
        recorded(step, record)
    };
    recorded.or_else(|| (!step.questions.is_empty()).then(|| grade_answers(step, record)))
}

/// A check to run, and of which step (its index among the graded steps).
struct Todo<'a> {
    step: usize,
    check: &'a Check,
    /// It breaks the lab on purpose (a live step, or `before`/`after` commands): it runs alone.
    disruptive: bool,
}

/// The checks of every step not settled otherwise, in the steps' order.
fn checks_to_run<'a>(steps: &[&'a Step], settled: &[Option<StepOutcome>]) -> Vec<Todo<'a>> {
    steps
        .iter()
        .enumerate()
        .filter(|(i, _)| settled[*i].is_none())
        .flat_map(|(i, s)| {
            s.checks.iter().map(move |c| Todo {
                step: i,
                check: c,
                disruptive: s.live || !c.before.is_empty() || !c.after.is_empty(),
            })
        })
        .collect()
}

/// Checks that break the lab on purpose hold it, as every command that changes a lab does;
/// the others read it without waiting.
fn hold_if_disruptive(
    open: &OpenLab,
    only: Option<&str>,
    todo: &[Todo],
) -> Result<Option<LabLock>> {
    if !todo.iter().any(|t| t.disruptive) {
        return Ok(None);
    }
    let purpose = match only {
        Some(id) => format!("check --step {id}"),
        None => "check".to_string(),
    };
    Ok(Some(open.dir.lock(&purpose)?))
}

/// Run `todo`: the checks that leave the lab alone all at once, then the disruptive ones one at
/// a time. The outcomes are in `todo`'s order.
fn run_checks(backend: &dyn Backend, ctx: &Context, todo: &[Todo]) -> Vec<CheckOutcome> {
    // Steps with a check that failed for good: their "eventually" checks stop retrying (the
    // step fails whatever they would show), so a fresh lab is graded in seconds, not a minute.
    let failed_steps = Mutex::new(BTreeSet::new());
    let run = |t: &Todo| {
        let gate = || failed_steps.lock().expect("failed steps").contains(&t.step);
        let o = run_check(backend, t.check, ctx, &gate);
        if !o.passed {
            failed_steps.lock().expect("failed steps").insert(t.step);
        }
        o
    };
    let quiet: Vec<(usize, &Todo)> = todo
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.disruptive)
        .collect();
    let mut ran: Vec<(usize, CheckOutcome)> = parallel::each(quiet, |(k, t)| (k, run(t)));
    for (k, t) in todo.iter().enumerate().filter(|(_, t)| t.disruptive) {
        ran.push((k, run(t)));
    }
    ran.sort_by_key(|(k, _)| *k);
    ran.into_iter().map(|(_, o)| o).collect()
}

/// Record the steps that passed just now, and the check's tally.
fn record_progress(open: &OpenLab, graded: &GradedLab) -> Result<()> {
    let newly: Vec<&str> = graded
        .steps
        .iter()
        .filter(|o| o.passed && o.note.is_none())
        .map(|o| o.id.as_str())
        .collect();
    let now = state::now_unix();
    open.dir.update("check", |rec| {
        for id in &newly {
            rec.progress.entry(id.to_string()).or_default().passed_at = Some(now);
        }
        rec.last_check = Some(state::LastCheck {
            at: now,
            passed: graded.passed,
            total: graded.total,
        });
    })
}

/// A recorded pass that stands in for running a step, if the rules allow one.
fn recorded(step: &Step, record: &LabRecord) -> Option<StepOutcome> {
    let at = record.progress.get(&step.id)?.passed_at?;
    let note = if let Some(by) = &step.superseded_by {
        record.progress.get(by)?.passed_at?;
        format!(
            "passed at {}; superseded by `{by}`, which replaced its state on purpose",
            state::format_time(at)
        )
    } else if step.live {
        format!(
            "passed at {}; its live checks break the lab on purpose: `halab check --step {}` runs them again",
            state::format_time(at),
            step.id
        )
    } else {
        return None;
    };
    Some(StepOutcome {
        note: Some(note),
        ..StepOutcome::of(&step.id, &step.title, Vec::new())
    })
}

/// Grade a step's questions from the answers the trainee gave.
pub(crate) fn grade_answers(step: &Step, record: &LabRecord) -> StepOutcome {
    let given = record.step(&step.id).answers;
    let mut checks: Vec<CheckOutcome> = step
        .questions
        .iter()
        .map(|q| CheckOutcome::answer(q, given.get(&q.id).copied()))
        .collect();
    // One hint for the step, on its first wrong or missing answer.
    if let Some(first) = checks.iter_mut().find(|c| !c.passed) {
        first.hint = step.hints.first().cloned();
    }
    StepOutcome::of(&step.id, &step.title, checks)
}

/// Run a shell command on a node; a node that does not answer becomes a failed [`Output`].
pub(crate) fn run_on(backend: &dyn Backend, node: &str, script: &str) -> Output {
    match backend.node(node).run(script, COMMAND_TIMEOUT) {
        Ok(o) => o,
        Err(e) => {
            // Say what happened in the trainee's terms, not with halab's own command line.
            let why = match e.downcast_ref::<crate::exec::ExecError>() {
                Some(crate::exec::ExecError::Timeout { after, .. }) => {
                    format!(
                        "halab: the command did not finish within {} s and was stopped",
                        after.as_secs()
                    )
                }
                _ => format!("halab: {e}"),
            };
            Output {
                code: None,
                stderr: why,
                ..Default::default()
            }
        }
    }
}

fn run_commands(backend: &dyn Backend, ctx: &Context, list: &[NodeCommand]) -> Result<(), String> {
    for nc in list {
        let cmd = ctx.render(&nc.run).map_err(|e| format!("{e:#}"))?;
        let out = run_on(backend, &nc.node, &cmd);
        if !out.success() {
            return Err(format!(
                "`{cmd}` on {} failed ({}): {}",
                nc.node,
                out.status_text(),
                trim_output(&format!("{}{}", out.stdout, out.stderr))
            ));
        }
    }
    Ok(())
}

/// What trying a check's command showed.
struct Tried {
    passed: bool,
    /// The command's exit status in words, or "not run" / "did not run".
    status: String,
    output: String,
    /// What did not hold; empty when it passed.
    why: String,
}

impl Tried {
    /// The command never ran, because of `why`.
    fn not_run(why: String) -> Self {
        Tried {
            passed: false,
            status: "not run".into(),
            output: String::new(),
            why,
        }
    }

    /// `out` judged against `expect`.
    fn of(out: &Output, expect: &Expect) -> Self {
        let verdict = evaluate(expect, out);
        Tried {
            passed: verdict.is_ok(),
            status: if out.code.is_none() && out.signal.is_none() {
                "did not run".into()
            } else {
                out.status_text()
            },
            output: trim_output(&format!("{}{}", out.stdout, out.stderr)),
            why: verdict.err().unwrap_or_default(),
        }
    }
}

/// Run one check: before, the command (retried until `within`, unless `step_failed` says its
/// step has already failed on another check), after.
pub(crate) fn run_check(
    backend: &dyn Backend,
    check: &Check,
    ctx: &Context,
    step_failed: &dyn Fn() -> bool,
) -> CheckOutcome {
    let started = Instant::now();
    let ctx = ctx.with_run_id(&format!("r{}{}", state::now_unix(), std::process::id()));
    let render = |t: &str| {
        ctx.render(t)
            .unwrap_or_else(|e| format!("(template error: {e:#})"))
    };
    let mut what = Subject {
        id: check.id.clone(),
        title: render(&check.title),
        node: check.node.clone(),
        command: render(&check.run),
        expected: describe(&check.expect),
    };
    let failure = |why: String| Failure {
        message: render(&check.message),
        why,
        hint: check.hint.as_deref().map(render),
    };
    let expect = match check.expect.rendered(&ctx) {
        Ok(e) => e,
        // Nothing ran, so there is nothing to put back.
        Err(e) => {
            let why = format!("template error in the expectation: {e:#}");
            return CheckOutcome::graded(what, false, "not run").failing(failure(why));
        }
    };
    what.expected = describe(&expect);
    let mut tried = match run_commands(backend, &ctx, &check.before) {
        Err(e) => Tried::not_run(format!("preparing the check failed: {e}")),
        Ok(()) => {
            // Validation keeps `within` finite and positive; anything else means no retry,
            // never a panic. Its time runs from the check's start, `before` included.
            let within = Duration::try_from_secs_f64(check.expect.within.unwrap_or(0.0))
                .unwrap_or(Duration::ZERO);
            let tries = Tries {
                backend,
                node: &check.node,
                command: &what.command,
                expect: &expect,
            };
            tries.until(within.saturating_sub(started.elapsed()), step_failed)
        }
    };
    if let Err(e) = run_commands(backend, &ctx, &check.after) {
        tried.passed = false;
        tried.why = format!(
            "{}{}putting the lab back failed: {e}",
            tried.why,
            if tried.why.is_empty() { "" } else { "; " }
        );
    }
    let mut outcome =
        CheckOutcome::graded(what, tried.passed, tried.status).failing(failure(tried.why));
    outcome.output = tried.output;
    outcome.seconds = started.elapsed().as_secs_f64();
    outcome
}

/// A check's command, tried on its node against its expectation.
struct Tries<'a> {
    backend: &'a dyn Backend,
    node: &'a str,
    command: &'a str,
    expect: &'a Expect,
}

impl Tries<'_> {
    /// Try until it passes or `limit` passes; once `step_failed`, a failed try is the last.
    fn until(&self, limit: Duration, step_failed: &dyn Fn() -> bool) -> Tried {
        let deadline = Instant::now() + limit;
        let mut last = None;
        let polled = parallel::poll(limit, RETRY_PAUSE, || {
            let mut tried = Tried::of(&run_on(self.backend, self.node, self.command), self.expect);
            // Only a try that would be followed by another is cut short (and says so).
            if !tried.passed && Instant::now() < deadline && step_failed() {
                tried.why += " (not tried again: another check of this step fails)";
                return Some(tried);
            }
            if tried.passed {
                return Some(tried);
            }
            last = Some(tried);
            None
        });
        polled.ready().or(last).expect("poll tries at least once")
    }
}

/// The last lines of an output, each cut to a readable length.
pub(crate) fn trim_output(s: &str) -> String {
    const LINES: usize = 15;
    const WIDTH: usize = 200;
    let lines: Vec<&str> = s.trim_end().lines().collect();
    let skipped = lines.len().saturating_sub(LINES);
    let mut out: Vec<String> = Vec::new();
    if skipped > 0 {
        out.push(format!("[{skipped} earlier lines]"));
    }
    for l in &lines[skipped..] {
        out.push(if l.chars().count() > WIDTH {
            format!("{}…", l.chars().take(WIDTH).collect::<String>())
        } else {
            l.to_string()
        });
    }
    out.join("\n")
}
