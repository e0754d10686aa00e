//! Running a lesson's checks on a lab: every check that leaves the lab alone runs concurrently;
//! checks with `before`/`after` commands (they break something on purpose) run one at a time
//! afterwards. "Eventually" checks retry until their deadline. A command that fails is a failed
//! check, never an error; so is a node that does not answer.
//!
//! Steps whose state a later step replaced on purpose (`superseded_by`), and `live` steps on a
//! full check, show their recorded pass instead of running again. Passing steps are recorded.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Serialize;

use super::{describe, evaluate};
use crate::backend::Backend;
use crate::content::Lesson;
use crate::content::lesson::{Check, NodeCommand, Step};
use crate::content::template::Context;
use crate::session::OpenLab;
use crate::state::{self, LabRecord};

/// How long one command of a check may run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// Pause between tries of an "eventually" check.
const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// The result of one check (or one question).
#[derive(Clone, Debug, Serialize)]
pub struct CheckOutcome {
    pub id: String,
    pub title: String,
    pub node: String,
    /// The command as run (templates rendered).
    pub command: String,
    pub passed: bool,
    /// "exit status 1", "killed by signal 9" or "not run".
    pub status: String,
    /// What the command printed (stdout then stderr, trimmed to the last lines).
    pub output: String,
    /// The check's message when it failed, else empty.
    pub message: String,
    /// What was expected, and when it failed, what did not hold.
    pub expected: String,
    pub why: String,
    pub hint: Option<String>,
    pub seconds: f64,
}

/// The result of one step.
#[derive(Clone, Debug, Serialize)]
pub struct StepOutcome {
    pub id: String,
    pub title: String,
    pub passed: bool,
    /// Set when a recorded pass stands in for running the checks.
    pub note: Option<String>,
    pub checks: Vec<CheckOutcome>,
}

/// A graded lab.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub lab: String,
    pub lesson: String,
    pub passed: usize,
    pub total: usize,
    pub steps: Vec<StepOutcome>,
}

impl Report {
    pub fn all_passed(&self) -> bool {
        self.steps.iter().all(|s| s.passed)
    }
}

/// Grade the lab: every step, or only `only` (always run, whatever was recorded).
pub fn grade(open: &OpenLab, lesson: &Lesson, only: Option<&str>) -> Result<Report> {
    let ctx = open.template_context()?;
    let record = open.dir.load()?;
    let steps: Vec<&Step> = match only {
        Some(id) => vec![lesson.step_or_err(id)?],
        None => lesson.steps.iter().collect(),
    };
    let mut outcomes: Vec<Option<StepOutcome>> = steps
        .iter()
        .map(|s| {
            if only.is_some() {
                None
            } else {
                recorded(s, &record)
            }
        })
        .collect();
    for (i, s) in steps.iter().enumerate() {
        if outcomes[i].is_none() && !s.questions.is_empty() {
            outcomes[i] = Some(grade_answers(s, &record));
        }
    }
    // Which checks to run: (step index, check).
    let todo: Vec<(usize, &Check)> = steps
        .iter()
        .enumerate()
        .filter(|(i, _)| outcomes[*i].is_none())
        .flat_map(|(i, s)| s.checks.iter().map(move |c| (i, c)))
        .collect();
    let disruptive =
        |i: usize, c: &Check| steps[i].live || !c.before.is_empty() || !c.after.is_empty();
    // Checks that break the lab on purpose hold it, as every command that changes a lab does;
    // the others read it without waiting.
    let _hold = if todo.iter().any(|(i, c)| disruptive(*i, c)) {
        Some(open.dir.lock(&match only {
            Some(id) => format!("check --step {id}"),
            None => "check".to_string(),
        })?)
    } else {
        None
    };
    let backend = &*open.backend;
    // Steps with a check that failed for good: their "eventually" checks stop retrying (the
    // step fails whatever they would show), so a fresh lab is graded in seconds, not a minute.
    let failed_steps = Mutex::new(BTreeSet::new());
    let run = |i: usize, c: &Check| {
        let gate = || failed_steps.lock().expect("failed steps").contains(&i);
        let o = run_check(backend, c, &ctx, &gate);
        if !o.passed {
            failed_steps.lock().expect("failed steps").insert(i);
        }
        o
    };
    let mut results: Vec<(usize, usize, CheckOutcome)> = std::thread::scope(|sc| {
        let handles: Vec<_> = todo
            .iter()
            .enumerate()
            .filter(|(_, (i, c))| !disruptive(*i, c))
            .map(|(k, (i, c))| {
                let run = &run;
                sc.spawn(move || (*i, k, run(*i, c)))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("check thread"))
            .collect()
    });
    for (k, (i, c)) in todo.iter().enumerate() {
        if disruptive(*i, c) {
            results.push((*i, k, run(*i, c)));
        }
    }
    results.sort_by_key(|(_, k, _)| *k);
    for (i, s) in steps.iter().enumerate() {
        if outcomes[i].is_none() {
            let checks: Vec<CheckOutcome> = results
                .iter()
                .filter(|(si, _, _)| *si == i)
                .map(|(_, _, o)| o.clone())
                .collect();
            outcomes[i] = Some(StepOutcome {
                id: s.id.clone(),
                title: s.title.clone(),
                passed: checks.iter().all(|c| c.passed),
                note: None,
                checks,
            });
        }
    }
    let outcomes: Vec<StepOutcome> = outcomes
        .into_iter()
        .map(|o| o.expect("every step graded"))
        .collect();
    let newly: Vec<String> = outcomes
        .iter()
        .filter(|o| o.passed && o.note.is_none())
        .map(|o| o.id.clone())
        .collect();
    let total = outcomes.iter().map(|o| o.checks.len().max(1)).sum();
    let passed = outcomes
        .iter()
        .map(|o| {
            if o.checks.is_empty() {
                usize::from(o.passed)
            } else {
                o.checks.iter().filter(|c| c.passed).count()
            }
        })
        .sum();
    let now = state::now_unix();
    open.dir.update("check", |rec| {
        for id in &newly {
            rec.progress.entry(id.clone()).or_default().passed_at = Some(now);
        }
        rec.last_check = Some(state::LastCheck {
            at: now,
            passed,
            total,
        });
    })?;
    Ok(Report {
        lab: open.dir.name.to_string(),
        lesson: lesson.id.clone(),
        passed,
        total,
        steps: outcomes,
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
        id: step.id.clone(),
        title: step.title.clone(),
        passed: true,
        note: Some(note),
        checks: Vec::new(),
    })
}

/// Grade a step's questions from the answers the trainee gave.
pub fn grade_answers(step: &Step, record: &LabRecord) -> StepOutcome {
    let given = record.step(&step.id).answers;
    let checks: Vec<CheckOutcome> = step
        .questions
        .iter()
        .map(|q| {
            let answer = given.get(&q.id).copied();
            let passed = answer.is_some_and(|a| q.accepts(a));
            CheckOutcome {
                id: q.id.clone(),
                title: q.ask.clone(),
                node: String::new(),
                command: String::new(),
                passed,
                status: if answer.is_some() {
                    "answered".into()
                } else {
                    "not answered".into()
                },
                output: answer
                    .map(|a| format!("{a} {}", q.unit_label()))
                    .unwrap_or_default(),
                message: match (answer, passed) {
                    (_, true) => String::new(),
                    (None, _) => "not answered yet".into(),
                    (Some(_), false) => {
                        format!("not within {}% of the right figure", q.tolerance * 100.0)
                    }
                },
                expected: format!(
                    "a number in {} (within {}%)",
                    q.unit_label(),
                    q.tolerance * 100.0
                ),
                why: String::new(),
                hint: None,
                seconds: 0.0,
            }
        })
        .collect();
    let mut checks = checks;
    // One hint for the step, on its first wrong or missing answer.
    if let Some(first) = checks.iter_mut().find(|c| !c.passed) {
        first.hint = step.hints.first().cloned();
    }
    StepOutcome {
        id: step.id.clone(),
        title: step.title.clone(),
        passed: checks.iter().all(|c| c.passed),
        note: None,
        checks,
    }
}

/// Run a shell command on a node; a node that does not answer becomes a failed [`Output`].
pub fn run_on(backend: &dyn Backend, node: &str, script: &str) -> crate::exec::Output {
    let argv = ["bash".to_string(), "-c".to_string(), script.to_string()];
    match backend.exec(node, &argv, None, Some(COMMAND_TIMEOUT)) {
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
            crate::exec::Output {
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

/// Run one check: before, the command (retried until `within`, unless `step_failed` says its
/// step has already failed on another check), after.
pub fn run_check(
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
    let command = render(&check.run);
    let mut outcome = CheckOutcome {
        id: check.id.clone(),
        title: render(&check.title),
        node: check.node.clone(),
        command: command.clone(),
        passed: false,
        status: "not run".into(),
        output: String::new(),
        message: render(&check.message),
        expected: describe(&check.expect),
        why: String::new(),
        hint: check.hint.as_deref().map(render),
        seconds: 0.0,
    };
    let expect = match check.expect.rendered(&ctx) {
        Ok(e) => e,
        Err(e) => {
            outcome.why = format!("template error in the expectation: {e:#}");
            return outcome;
        }
    };
    outcome.expected = describe(&expect);
    if let Err(e) = run_commands(backend, &ctx, &check.before) {
        outcome.why = format!("preparing the check failed: {e}");
    } else {
        // Validation keeps `within` finite and positive; anything else means no retry, never a panic.
        let retry_for = Duration::try_from_secs_f64(check.expect.within.unwrap_or(0.0))
            .unwrap_or(Duration::ZERO);
        let deadline = started + retry_for;
        loop {
            let out = run_on(backend, &check.node, &command);
            let verdict = evaluate(&expect, &out);
            outcome.status = if out.code.is_none() && out.signal.is_none() {
                "did not run".into()
            } else {
                out.status_text()
            };
            outcome.output = trim_output(&format!("{}{}", out.stdout, out.stderr));
            match verdict {
                Ok(()) => {
                    outcome.passed = true;
                    break;
                }
                Err(why) => {
                    outcome.why = why;
                    if Instant::now() + RETRY_PAUSE > deadline {
                        break;
                    }
                    if step_failed() {
                        outcome.why += " (not tried again: another check of this step fails)";
                        break;
                    }
                    std::thread::sleep(RETRY_PAUSE);
                }
            }
        }
    }
    if let Err(e) = run_commands(backend, &ctx, &check.after) {
        outcome.passed = false;
        outcome.why = format!(
            "{}{}putting the lab back failed: {e}",
            outcome.why,
            if outcome.why.is_empty() { "" } else { "; " }
        );
    }
    if outcome.passed {
        outcome.message.clear();
        outcome.why.clear();
        outcome.hint = None;
    }
    outcome.seconds = started.elapsed().as_secs_f64();
    outcome
}

/// The last lines of an output, each cut to a readable length.
pub fn trim_output(s: &str) -> String {
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
