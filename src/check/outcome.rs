//! What grading gives: one outcome per graded item (a check run on a node, a question's answer,
//! a drill's figure against its limit), one per step, one per lab. These are the shapes `halab
//! check --format json` prints; each kind of item has its own constructor, so no caller spells
//! out every field.
//!
//! Must not: run anything, read state or render (`report` does).

use serde::Serialize;

use crate::content::lesson::Question;

/// The status of a check that was not run because another check of its step failed.
const SKIPPED: &str = "skipped";

/// The result of one graded item of a step.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct CheckOutcome {
    pub id: String,
    pub title: String,
    /// The node it ran on; empty for questions and drills.
    pub node: String,
    /// The command as run (templates rendered).
    pub command: String,
    pub passed: bool,
    /// "exit status 1", "killed by signal 9", "not run" (its preparation failed) or "skipped"
    /// (another check of the step failed first).
    pub status: String,
    /// What the command printed: all of stdout, then all of stderr (text reports show a short
    /// picture of it; `--verbose` all of it).
    pub output: String,
    /// The check's message when it failed, else empty.
    pub message: String,
    /// What was expected, and when it failed, what did not hold.
    pub expected: String,
    pub why: String,
    pub hint: Option<String>,
    pub seconds: f64,
}

/// What is graded, as every report names it whatever the verdict.
#[derive(Clone, Debug, Default)]
pub(crate) struct Subject {
    pub id: String,
    pub title: String,
    /// The node it runs on; empty when nothing runs on a node.
    pub node: String,
    pub command: String,
    /// The expectation in words.
    pub expected: String,
}

/// What to tell the trainee about a failed item.
#[derive(Clone, Debug, Default)]
pub(crate) struct Failure {
    /// What is wrong, in the lesson's words.
    pub message: String,
    /// What did not hold.
    pub why: String,
    /// What to try.
    pub hint: Option<String>,
}

impl CheckOutcome {
    /// `what`, graded `passed`; `status` says what was found ("exit status 1", "answered").
    pub(crate) fn graded(what: Subject, passed: bool, status: impl Into<String>) -> Self {
        CheckOutcome {
            id: what.id,
            title: what.title,
            node: what.node,
            command: what.command,
            expected: what.expected,
            passed,
            status: status.into(),
            ..CheckOutcome::default()
        }
    }

    /// The same outcome, telling `failure` when it failed; a passed one says nothing of it.
    pub(crate) fn failing(mut self, failure: Failure) -> Self {
        if !self.passed {
            self.message = failure.message;
            self.why = failure.why;
            self.hint = failure.hint;
        }
        self
    }

    /// `what`, not run because `why` (another check of its step failed first): a failure that
    /// says nothing of its own.
    pub(crate) fn skipped(what: Subject, why: impl Into<String>) -> Self {
        CheckOutcome {
            message: "not run".into(),
            why: why.into(),
            ..CheckOutcome::graded(what, false, SKIPPED)
        }
    }

    /// Whether it was not run (see [`CheckOutcome::skipped`]).
    pub(crate) fn was_skipped(&self) -> bool {
        self.status == SKIPPED
    }

    /// A question graded from the trainee's `answer` (none: not answered yet).
    pub(crate) fn answer(q: &Question, answer: Option<f64>) -> Self {
        let passed = answer.is_some_and(|a| q.accepts(a));
        let what = Subject {
            id: q.id.clone(),
            title: q.ask.clone(),
            expected: format!(
                "a number in {} (within {}%)",
                q.unit_label(),
                q.tolerance * 100.0
            ),
            ..Subject::default()
        };
        let status = if answer.is_some() {
            "answered"
        } else {
            "not answered"
        };
        let mut o = CheckOutcome::graded(what, passed, status).failing(Failure {
            message: match answer {
                None => "not answered yet".into(),
                Some(_) => format!("not within {}% of the right figure", q.tolerance * 100.0),
            },
            ..Failure::default()
        });
        o.output = answer
            .map(|a| format!("{a} {}", q.unit_label()))
            .unwrap_or_default();
        o
    }
}

/// The result of one step.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct StepOutcome {
    pub id: String,
    pub title: String,
    /// The step's place in its lesson, from 1 (none for a drill's grade).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<usize>,
    pub passed: bool,
    /// Set when a recorded pass stands in for running the checks.
    pub note: Option<String>,
    pub checks: Vec<CheckOutcome>,
}

impl StepOutcome {
    /// A step graded by `checks`: it passes when every one does.
    pub(crate) fn of(id: &str, title: &str, checks: Vec<CheckOutcome>) -> Self {
        StepOutcome {
            id: id.to_string(),
            title: title.to_string(),
            number: None,
            passed: checks.iter().all(|c| c.passed),
            note: None,
            checks,
        }
    }
}

/// A graded lab: what `halab check` shows.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct GradedLab {
    pub lab: String,
    pub lesson: String,
    /// Checks passed (a step graded by a recorded pass counts as one).
    pub passed: usize,
    pub total: usize,
    pub steps: Vec<StepOutcome>,
}

impl GradedLab {
    /// `steps` of `lab`, counted: each check is one, a step without checks (a recorded pass)
    /// one.
    pub(crate) fn new(lab: &str, lesson: &str, steps: Vec<StepOutcome>) -> Self {
        let total = steps.iter().map(|o| o.checks.len().max(1)).sum();
        let passed = steps
            .iter()
            .map(|o| {
                if o.checks.is_empty() {
                    usize::from(o.passed)
                } else {
                    o.checks.iter().filter(|c| c.passed).count()
                }
            })
            .sum();
        GradedLab {
            lab: lab.to_string(),
            lesson: lesson.to_string(),
            passed,
            total,
            steps,
        }
    }

    /// Add the drills' steps (`halab check --drills`), each of their checks counted.
    pub(crate) fn add_drills(&mut self, drills: Vec<StepOutcome>) {
        self.total += drills.iter().map(|d| d.checks.len()).sum::<usize>();
        self.passed += drills
            .iter()
            .map(|d| d.checks.iter().filter(|c| c.passed).count())
            .sum::<usize>();
        self.steps.extend(drills);
    }

    pub(crate) fn all_passed(&self) -> bool {
        self.steps.iter().all(|s| s.passed)
    }
}
