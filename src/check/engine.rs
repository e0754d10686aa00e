//! Running a lesson's checks on a lab: every check that leaves the lab alone runs concurrently,
//! except that a check starts only once the checks it `runs_after` have finished; checks with
//! `before`/`after` commands (they break something on purpose) run one at a time afterwards, and
//! not at all when another check of their step has failed. "Eventually" checks retry until their
//! deadline, stop early when their output stays the same for `settle` seconds, and pass only on
//! two passing tries in a row. A command that fails is a failed check, never an error; so is a
//! node that does not answer.
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
/// How long a failing "eventually" check's output may stay the same before it stops trying,
/// unless its `settle` says otherwise.
const DEFAULT_SETTLE: Duration = Duration::from_secs(2);

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
        .zip(&steps)
        .map(|(o, s)| StepOutcome {
            number: lesson.step_index(&s.id).map(|i| i + 1),
            ..o
        })
        .collect();
    let graded = GradedLab::new(&open.dir.name.to_string(), &lesson.id, outcomes);
    record_progress(open, &graded)?;
    Ok(graded)
}

/// Step `id` graded by its checks that leave the lab alone, as `halab watch` asks every few
/// seconds: no lock, nothing recorded, no disruptive check run (nor one that runs after one).
/// A step of questions is graded from the answers.
pub(crate) fn grade_quietly(open: &OpenLab, lesson: &Lesson, id: &str) -> Result<QuietGrade> {
    let step = lesson.step_or_err(id)?;
    let number = lesson.step_index(id).map(|i| i + 1);
    if !step.questions.is_empty() {
        let outcome = grade_answers(step, &open.dir.load()?);
        return Ok(QuietGrade {
            outcome: StepOutcome { number, ..outcome },
            disruptive: 0,
        });
    }
    let ctx = open.template_context()?;
    let all = checks_to_run(&[step], &[None]);
    let loud: BTreeSet<&str> = all
        .iter()
        .filter(|t| t.disruptive)
        .map(|t| t.check.id.as_str())
        .collect();
    let todo: Vec<Todo> = all
        .into_iter()
        .filter(|t| !t.disruptive && !t.check.runs_after.iter().any(|a| loud.contains(a.as_str())))
        .collect();
    let disruptive = step.checks.len() - todo.len();
    let ran = run_checks(&*open.backend, &ctx, &todo);
    Ok(QuietGrade {
        outcome: StepOutcome {
            number,
            ..StepOutcome::of(&step.id, &step.title, ran)
        },
        disruptive,
    })
}

/// What [`grade_quietly`] found.
pub(crate) struct QuietGrade {
    /// The quiet checks' outcomes (none for a step whose checks all break the lab on purpose).
    pub outcome: StepOutcome,
    /// How many of the step's checks it left out: `grade` runs them once these pass.
    pub disruptive: usize,
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

/// Run `todo`: the checks that leave the lab alone all at once (each after the checks of its
/// step it `runs_after`), then the disruptive ones one at a time, in the lesson's order, unless
/// their step has failed already. The outcomes are in `todo`'s order.
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
    let waves = waves(todo);
    let mut ran: Vec<(usize, CheckOutcome)> = Vec::new();
    for wave in waves.quiet {
        ran.extend(parallel::each(wave, |k| (k, run(&todo[k]))));
    }
    // Skipped, once their step has failed before any of its checks changed the lab: the checks
    // that would change it (`before`, `after`) and those after them, which would read a lab that
    // was not broken as they expect. (A live step runs all its checks one at a time: those
    // before its first breaking one only read, and run.) Once one of a step's checks has changed
    // the lab, the others run whatever it showed: a later one may be what puts the lab back (a
    // `before` that starts what an earlier one stopped).
    let mut breaking_seen = BTreeSet::new();
    let mut disturbed = BTreeSet::new();
    for k in waves.one_at_a_time {
        let t = &todo[k];
        let breaks = !t.check.before.is_empty() || !t.check.after.is_empty();
        if breaks {
            breaking_seen.insert(t.step);
        }
        let failed = failed_steps.lock().expect("failed steps").contains(&t.step);
        let o = if failed && !disturbed.contains(&t.step) && breaking_seen.contains(&t.step) {
            skipped(t.check, ctx)
        } else {
            if breaks {
                disturbed.insert(t.step);
            }
            run(t)
        };
        ran.push((k, o));
    }
    ran.sort_by_key(|(k, _)| *k);
    ran.into_iter().map(|(_, o)| o).collect()
}

/// The order `todo` runs in (indices into it).
#[derive(Debug, Default, PartialEq)]
struct Waves {
    /// Checks that leave the lab alone: each wave all at once, after the wave before it.
    quiet: Vec<Vec<usize>>,
    /// Checks that break something on purpose, and those that run after one: one at a time.
    one_at_a_time: Vec<usize>,
}

/// Waves of `todo`: a quiet check goes one wave after the latest check it runs after (of its
/// step; validation keeps those earlier in the step, so the lesson's order is already a valid
/// order), a check that runs after a disruptive one is run one at a time as well.
fn waves(todo: &[Todo]) -> Waves {
    let mut wave_of: Vec<Option<usize>> = Vec::with_capacity(todo.len());
    let mut w = Waves::default();
    for (k, t) in todo.iter().enumerate() {
        let deps: Vec<usize> = t
            .check
            .runs_after
            .iter()
            .filter_map(|id| (0..k).find(|&j| todo[j].step == t.step && todo[j].check.id == *id))
            .collect();
        let after_disruptive = deps.iter().any(|&j| wave_of[j].is_none());
        if t.disruptive || after_disruptive {
            wave_of.push(None);
            w.one_at_a_time.push(k);
            continue;
        }
        let wave = deps
            .iter()
            .filter_map(|&j| wave_of[j])
            .map(|x| x + 1)
            .max()
            .unwrap_or(0);
        if w.quiet.len() <= wave {
            w.quiet.resize_with(wave + 1, Vec::new);
        }
        w.quiet[wave].push(k);
        wave_of.push(Some(wave));
    }
    w
}

/// What a disruptive check of a step that failed already shows: it was not run.
fn skipped(check: &Check, ctx: &Context) -> CheckOutcome {
    let ctx = ctx.with_run_id("not-run");
    let render = |t: &str| ctx.render(t).unwrap_or_else(|_| t.to_string());
    let what = Subject {
        id: check.id.clone(),
        title: render(&check.title),
        node: check.node.clone(),
        command: render(&check.run),
        expected: describe(&check.expect),
    };
    CheckOutcome::skipped(
        what,
        "not run: it breaks something on purpose, and runs once the step's other checks pass",
    )
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
            output: both(out),
            why: verdict.err().unwrap_or_default(),
        }
    }

    /// Whether `other` came back exactly as this try did.
    fn same_as(&self, other: &Tried) -> bool {
        self.passed == other.passed && self.status == other.status && self.output == other.output
    }
}

/// All of stdout, then all of stderr (on a line of its own), without trailing blank space.
fn both(out: &Output) -> String {
    let all = if out.stdout.is_empty() || out.stdout.ends_with('\n') || out.stderr.is_empty() {
        format!("{}{}", out.stdout, out.stderr)
    } else {
        format!("{}\n{}", out.stdout, out.stderr)
    };
    all.trim_end().to_string()
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
            let secs = |v: Option<f64>| {
                v.and_then(|v| Duration::try_from_secs_f64(v).ok())
                    .unwrap_or(Duration::ZERO)
            };
            let within = secs(check.expect.within);
            let settle = check
                .expect
                .settle
                .map_or(DEFAULT_SETTLE, |s| secs(Some(s)));
            let tries = Tries {
                backend,
                node: &check.node,
                command: &what.command,
                expect: &expect,
            };
            if within.is_zero() {
                tries.once()
            } else {
                tries.until(
                    within.saturating_sub(started.elapsed()),
                    settle,
                    step_failed,
                )
            }
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
    fn once(&self) -> Tried {
        Tried::of(&run_on(self.backend, self.node, self.command), self.expect)
    }

    /// Try until it passes on two tries in a row, or `limit` passes, or a failing output has
    /// stayed the same for `settle`; once `step_failed`, a failed try is the last. A pass on
    /// the last try is confirmed by one more, even past `limit`.
    fn until(&self, limit: Duration, settle: Duration, step_failed: &dyn Fn() -> bool) -> Tried {
        let deadline = Instant::now() + limit;
        let mut last: Option<Tried> = None;
        // When the last try's output was first seen (the start of that try).
        let mut since = Instant::now();
        loop {
            let began = Instant::now();
            let mut tried = self.once();
            let now = Instant::now();
            let previous = last.take();
            let same = previous.as_ref().is_some_and(|p| p.same_as(&tried));
            if tried.passed && previous.is_some_and(|p| p.passed) {
                return tried;
            }
            if !same {
                since = began;
            }
            if !tried.passed {
                let unchanged = now.duration_since(since);
                if now >= deadline {
                    return tried;
                }
                if step_failed() {
                    tried.why += " (not tried again: another check of this step fails)";
                    return tried;
                }
                // The same on two tries or more (one slow try alone says nothing of change).
                if same && unchanged >= settle {
                    tried.why += &format!(
                        " (the same answer for {} s of tries: stopped early)",
                        settle.as_secs_f64()
                    );
                    return tried;
                }
            }
            last = Some(tried);
            std::thread::sleep(RETRY_PAUSE);
        }
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;
    use crate::backend::fake::ExecOnly;
    use crate::check::report;

    /// What a scripted node answers to the `n`th run of `script` (counted per script).
    type Answer = dyn Fn(&str, usize) -> Output + Sync;

    /// A backend whose nodes answer from a script, and which records what ran and when.
    struct Scripted<'a> {
        answer: &'a Answer,
        /// (script, started, finished) of every run.
        ran: Mutex<Vec<(String, Instant, Instant)>>,
        counts: Mutex<BTreeMap<String, usize>>,
    }

    impl<'a> Scripted<'a> {
        fn new(answer: &'a Answer) -> Self {
            Scripted {
                answer,
                ran: Mutex::new(Vec::new()),
                counts: Mutex::new(BTreeMap::new()),
            }
        }
        fn runs_of(&self, script: &str) -> Vec<(Instant, Instant)> {
            let ran = self.ran.lock().unwrap();
            ran.iter()
                .filter(|(s, _, _)| s == script)
                .map(|(_, a, b)| (*a, *b))
                .collect()
        }
    }

    impl ExecOnly for Scripted<'_> {
        fn exec(
            &self,
            _node: &str,
            argv: &[String],
            _stdin: Option<Vec<u8>>,
            _timeout: Option<Duration>,
        ) -> Result<Output> {
            let script = argv.last().unwrap().clone();
            let n = {
                let mut c = self.counts.lock().unwrap();
                let n = c.entry(script.clone()).or_default();
                *n += 1;
                *n - 1
            };
            let began = Instant::now();
            let out = (self.answer)(&script, n);
            self.ran
                .lock()
                .unwrap()
                .push((script, began, Instant::now()));
            Ok(out)
        }
    }

    /// Nodes that answer `ok` to every script but `failing`, which exits 1.
    fn fails_only(failing: &'static str) -> impl Fn(&str, usize) -> Output + Sync {
        move |script: &str, _: usize| {
            if script == failing {
                Output {
                    code: Some(1),
                    ..Default::default()
                }
            } else {
                printed("ok\n")
            }
        }
    }

    fn printed(stdout: &str) -> Output {
        Output {
            code: Some(0),
            stdout: stdout.into(),
            ..Default::default()
        }
    }

    fn ctx() -> Context {
        let lab = crate::content::lab::load(
            Path::new("labs/ch32.toml"),
            crate::content::lab::tests::REAL.into(),
        )
        .unwrap();
        Context::example(&lab)
    }

    /// A step of checks from TOML (`[[checks]]` tables).
    fn step(checks: &str) -> Step {
        toml::from_str(&format!(
            "id = \"s\"\ntitle = \"t\"\nprose = \"p\"\n{checks}"
        ))
        .unwrap()
    }

    fn check(toml_text: &str) -> Check {
        step(&format!("[[checks]]\n{toml_text}")).checks.remove(0)
    }

    fn never_failed() -> bool {
        false
    }

    const PROBE: &str = r#"id = "probe"
title = "probe"
node = "client"
run = "probe"
message = "m"
"#;

    #[test]
    fn a_failing_check_whose_output_stays_the_same_stops_early() {
        let answer = |_: &str, _: usize| printed("<html>Welcome to nginx!</html>\n");
        let b = Scripted::new(&answer);
        let c = check(&format!(
            "{PROBE}expect = {{ every_line = \"app-0[1-3]\", within = 60.0, settle = 0.5 }}"
        ));
        let started = Instant::now();
        let o = run_check(&b, &c, &ctx(), &never_failed);
        assert!(!o.passed);
        assert!(o.why.contains("stopped early"), "{}", o.why);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "waited out `within`"
        );
        assert!(b.runs_of("probe").len() >= 2, "tried once only");
    }

    #[test]
    fn a_changing_output_is_tried_until_it_passes_twice_in_a_row() {
        // Starting up (a different answer each time), then the right answer.
        let answer = |_: &str, n: usize| {
            if n < 4 {
                printed(&format!("starting {n}\n"))
            } else {
                printed("app-01\n")
            }
        };
        let b = Scripted::new(&answer);
        let c = check(&format!(
            "{PROBE}expect = {{ every_line = \"app-0[1-3]\", within = 60.0, settle = 0.3 }}"
        ));
        let o = run_check(&b, &c, &ctx(), &never_failed);
        assert!(o.passed, "{o:?}");
        assert_eq!(
            b.runs_of("probe").len(),
            6,
            "4 failing tries, then 2 passing"
        );
    }

    #[test]
    fn one_slow_try_is_not_an_unchanged_output() {
        // Each try takes longer than `settle`: only a second try with the same answer stops it.
        let answer = |_: &str, n: usize| {
            std::thread::sleep(Duration::from_millis(400));
            if n == 0 {
                printed("starting\n")
            } else {
                printed("app-01\n")
            }
        };
        let b = Scripted::new(&answer);
        let c = check(&format!(
            "{PROBE}expect = {{ every_line = \"app-0[1-3]\", within = 30.0, settle = 0.2 }}"
        ));
        assert!(run_check(&b, &c, &ctx(), &never_failed).passed);
        assert_eq!(b.runs_of("probe").len(), 3);
    }

    #[test]
    fn a_pass_that_does_not_hold_is_a_failure() {
        // Old workers answer once, then the new configuration shows.
        let answer = |_: &str, n: usize| {
            if n == 0 {
                printed("app-01\napp-02\napp-03\n")
            } else {
                printed("app-01\napp-02\n")
            }
        };
        let b = Scripted::new(&answer);
        let c = check(&format!(
            "{PROBE}expect = {{ distinct_lines = 3, within = 30.0, settle = 0.3 }}"
        ));
        let o = run_check(&b, &c, &ctx(), &never_failed);
        assert!(!o.passed, "{o:?}");
        assert!(
            o.why.contains("3 distinct lines expected, got 2"),
            "{}",
            o.why
        );
        // Without `within` a check is tried once, and one pass is enough.
        let b = Scripted::new(&answer);
        let c = check(&format!("{PROBE}expect = {{ distinct_lines = 3 }}"));
        assert!(run_check(&b, &c, &ctx(), &never_failed).passed);
        assert_eq!(b.runs_of("probe").len(), 1);
    }

    const ORDERED: &str = r#"
[[checks]]
id = "reload"
title = "reload"
node = "lb"
run = "reload"
message = "m"

[[checks]]
id = "other"
title = "other"
node = "lb"
run = "other"
message = "m"

[[checks]]
id = "probe"
title = "probe"
node = "client"
run = "probe"
message = "m"
runs_after = ["reload"]

[[checks]]
id = "breaks"
title = "breaks"
node = "client"
run = "breaks"
message = "m"
before = [{ node = "app", run = "stop" }]
after = [{ node = "app", run = "start" }]
"#;

    fn todo_of(s: &Step) -> Vec<Todo<'_>> {
        let steps = vec![s];
        checks_to_run(&steps, &[None])
    }

    #[test]
    fn checks_run_after_the_checks_they_name() {
        let s = step(ORDERED);
        let todo = todo_of(&s);
        assert_eq!(
            waves(&todo),
            Waves {
                quiet: vec![vec![0, 1], vec![2]],
                one_at_a_time: vec![3],
            }
        );
        // The probe starts once the reload (slow) has finished, not with it.
        let answer = |script: &str, _: usize| {
            if script == "reload" {
                std::thread::sleep(Duration::from_millis(300));
            }
            printed("ok\n")
        };
        let b = Scripted::new(&answer);
        let out = run_checks(&b, &ctx(), &todo);
        assert!(out.iter().all(|o| o.passed), "{out:?}");
        let (_, reloaded) = b.runs_of("reload")[0];
        let (probed, _) = b.runs_of("probe")[0];
        assert!(probed >= reloaded, "the probe ran while the reload did");
        // A check after a disruptive one runs one at a time too, after it.
        let s = step(&format!(
            "{ORDERED}\n[[checks]]\nid = \"late\"\ntitle = \"l\"\nnode = \"c\"\nrun = \"late\"\nmessage = \"m\"\nruns_after = [\"breaks\"]\n"
        ));
        assert_eq!(waves(&todo_of(&s)).one_at_a_time, vec![3, 4]);
    }

    #[test]
    fn a_check_that_breaks_the_lab_is_not_run_once_its_step_failed() {
        let answer = fails_only("other");
        let b = Scripted::new(&answer);
        let s = step(ORDERED);
        let out = run_checks(&b, &ctx(), &todo_of(&s));
        assert!(!out[1].passed && !out[1].was_skipped());
        assert!(out[3].was_skipped() && !out[3].passed, "{:?}", out[3]);
        assert!(b.runs_of("stop").is_empty() && b.runs_of("breaks").is_empty());
    }

    /// A live step (all its checks one at a time, in order): a first check that changes nothing
    /// fails; the next that only reads still runs, the one that would break the lab does not,
    /// nor the one that would read the broken lab after it.
    #[test]
    fn a_live_step_that_failed_before_breaking_anything_breaks_nothing() {
        let answer = fails_only("conf");
        let b = Scripted::new(&answer);
        let mut s = step(
            r#"
[[checks]]
id = "conf"
title = "conf"
node = "b"
run = "conf"
message = "m"

[[checks]]
id = "reads"
title = "reads"
node = "b"
run = "reads"
message = "m"

[[checks]]
id = "breaks"
title = "breaks"
node = "b"
run = "breaks"
message = "m"
before = [{ node = "a", run = "stop" }]
after = [{ node = "a", run = "start" }]

[[checks]]
id = "while-broken"
title = "while broken"
node = "b"
run = "while-broken"
message = "m"
"#,
        );
        s.live = true;
        let todo = todo_of(&s);
        assert_eq!(waves(&todo).one_at_a_time, vec![0, 1, 2, 3]);
        let out = run_checks(&b, &ctx(), &todo);
        assert!(!out[0].passed && !out[0].was_skipped(), "{:?}", out[0]);
        assert!(out[1].passed, "{:?}", out[1]);
        assert!(out[2].was_skipped() && out[3].was_skipped(), "{out:?}");
        assert!(b.runs_of("stop").is_empty() && b.runs_of("start").is_empty());
        assert!(b.runs_of("while-broken").is_empty());
    }

    /// A step whose disruptive checks put the lab back in turn (the second starts what the first
    /// stopped): the first failing does not skip the second.
    #[test]
    fn a_failed_disruptive_check_does_not_skip_the_one_that_puts_the_lab_back() {
        let answer = fails_only("moved");
        let b = Scripted::new(&answer);
        let s = step(
            r#"
[[checks]]
id = "moved"
title = "moved"
node = "b"
run = "moved"
message = "m"
before = [{ node = "a", run = "stop" }]

[[checks]]
id = "back"
title = "back"
node = "b"
run = "back"
message = "m"
before = [{ node = "a", run = "start" }]
"#,
        );
        let out = run_checks(&b, &ctx(), &todo_of(&s));
        assert!(!out[0].passed && !out[0].was_skipped(), "{:?}", out[0]);
        assert!(!out[1].was_skipped(), "{:?}", out[1]);
        assert_eq!(b.runs_of("start").len(), 1, "the lab was not put back");
    }

    /// Debian's default page, as nginx serves it on a fresh lab.
    const DEFAULT_PAGE: &str = include_str!("../../tests/fixtures/outputs/nginx-default-page.html");

    /// How fresh ch32 lab nodes answer the commands of the steps snapshotted below.
    fn fresh_lab(script: &str, _: usize) -> Output {
        let err = |code: i32, stderr: &str| Output {
            code: Some(code),
            stderr: stderr.into(),
            ..Default::default()
        };
        if script.contains("nginx -t") {
            err(
                0,
                "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\nnginx: configuration file /etc/nginx/nginx.conf test is successful\n",
            )
        } else if script.contains("echo \"${r//") {
            // One line a response (the newlines of each response removed).
            printed(&format!("{}\n", DEFAULT_PAGE.replace('\n', "")).repeat(9))
        } else if script.contains("pg_stat_replication") {
            printed(
                " client_addr | state | replay_lsn \n-------------+-------+------------\n(0 rows)\n\n",
            )
        } else if script.contains("pg_is_in_recovery") {
            printed("f\n")
        } else {
            err(1, "unexpected command")
        }
    }

    /// The text report of step `id` of the real lesson, graded on a fresh lab.
    fn fresh_report(id: &str, answer: &Answer, layout: &report::Layout) -> String {
        console::set_colors_enabled(false);
        let lesson: Lesson = toml::from_str(include_str!("../../lessons/ch32.toml")).unwrap();
        let step = lesson.step(id).unwrap();
        let b = Scripted::new(answer);
        let steps = vec![step];
        let todo = checks_to_run(&steps, &[None]);
        let outcome = StepOutcome {
            number: lesson.step_index(id).map(|i| i + 1),
            ..StepOutcome::of(&step.id, &step.title, run_checks(&b, &ctx(), &todo))
        };
        report::text(&GradedLab::new("lab", &lesson.id, vec![outcome]), layout)
    }

    /// Snapshot `text` with what may differ between runs redacted: which of two checks that
    /// run at once stopped first (the other stops because it did).
    fn snapshot(name: &str, text: &str) {
        insta::with_settings!({filters => vec![
            (r"\((the same answer for \d+ s of tries: stopped early|not tried again: another check of this step fails)\)", "([stopped early])"),
        ]}, {
            insta::assert_snapshot!(name, text);
        });
    }

    fn plain() -> report::Layout {
        report::Layout {
            width: crate::check::picture::PLAIN_WIDTH,
            verbose: false,
        }
    }

    #[test]
    fn a_fresh_load_balancer_step_is_told_in_a_few_lines() {
        let text = fresh_report("nginx-lb", &fresh_lab, &plain());
        assert!(text.lines().count() < 25, "{text}");
        // What came back is cut to the width (the command is shown whole, to copy).
        assert!(
            text.lines()
                .filter(|l| l.trim_start().starts_with('│'))
                .all(|l| l.chars().count() <= 100),
            "{text}"
        );
        snapshot("fresh_load_balancer_step", &text);
    }

    #[test]
    fn a_fresh_standby_step_is_told_in_a_few_lines() {
        let text = fresh_report("pg-standby", &fresh_lab, &plain());
        assert!(text.lines().count() < 25, "{text}");
        snapshot("fresh_standby_step", &text);
    }

    #[test]
    fn a_page_answered_whole_nine_times_is_one_block_and_verbose_shows_it_all() {
        // The same page with its newlines, as `curl` prints it in a loop.
        let answer = |script: &str, n: usize| {
            if script.contains("curl") {
                printed(&DEFAULT_PAGE.repeat(9))
            } else {
                fresh_lab(script, n)
            }
        };
        let text = fresh_report("nginx-lb", &answer, &plain());
        let page_lines = DEFAULT_PAGE.trim_end().lines().count();
        assert!(
            text.contains(&format!("[the next {page_lines} lines, 9 times in a row:]")),
            "{text}"
        );
        let more = 9 * page_lines - (crate::check::picture::MAX_LINES - 1);
        assert!(
            text.contains(&format!(
                "… {more} more lines: `halab check --step nginx-lb --verbose` shows them all"
            )),
            "{text}"
        );
        let verbose = report::Layout {
            verbose: true,
            ..plain()
        };
        let all = fresh_report("nginx-lb", &answer, &verbose);
        assert_eq!(
            all.matches("│ <h1>Welcome to nginx!</h1>").count(),
            2 * 9,
            "{all}"
        );
    }
}
