//! The lesson's drills as graded steps (`halab check --drills`): a drill passes when its latest
//! result met every limit; one never run fails with the command to run it.
//!
//! Must not: run a drill or anything on a node (it reads results the lab's record keeps).

use super::latest;
use super::result::{RunResult, Verdict};
use crate::check::outcome::{CheckOutcome, Failure, StepOutcome, Subject};
use crate::content::Lesson;
use crate::content::drill::Drill;
use crate::state;

/// Every drill of `lesson` as a step, graded by the results in `record`.
pub(crate) fn steps(lesson: &Lesson, record: &state::LabRecord) -> Vec<StepOutcome> {
    lesson
        .drills
        .iter()
        .map(|d| {
            let id = format!("drill:{}", d.id);
            let title = format!("drill: {}", d.title);
            let Some(res) = latest(record, &d.id) else {
                return StepOutcome::of(&id, &title, vec![never_run(d)]);
            };
            let mut checks: Vec<CheckOutcome> = res
                .runs
                .iter()
                .flat_map(|r| r.verdicts.iter().map(move |v| verdict(d, r, v)))
                .collect();
            // A run the lesson has and the result lacks (never run with `--run`) is not passed.
            for r in d
                .runs
                .iter()
                .filter(|r| !res.runs.iter().any(|x| x.id == r.id))
            {
                checks.push(run_never_run(d, &r.id));
            }
            StepOutcome {
                note: Some(format!("measured at {}", state::format_time(res.at))),
                ..StepOutcome::of(&id, &title, checks)
            }
        })
        .collect()
}

/// The one failed check of a drill with no result yet.
fn never_run(d: &Drill) -> CheckOutcome {
    let what = Subject {
        id: "run".into(),
        title: "the drill has a result".into(),
        command: format!("halab drill {}", d.id),
        expected: "a result of `halab drill`".into(),
        ..Subject::default()
    };
    CheckOutcome::graded(what, false, "not run").failing(Failure {
        message: format!("drill `{}` has not been run on this lab yet", d.id),
        why: "no result recorded".into(),
        hint: Some(format!("run `halab drill {}`", d.id)),
    })
}

/// The failed check of a run of a drill with no result yet (the drill ran without it).
fn run_never_run(d: &Drill, run: &str) -> CheckOutcome {
    let what = Subject {
        id: format!("{run}.run"),
        title: format!("run `{run}` has a result"),
        command: format!("halab drill {} --run {run}", d.id),
        expected: "a result of `halab drill`".into(),
        ..Subject::default()
    };
    CheckOutcome::graded(what, false, "not run").failing(Failure {
        message: format!(
            "run `{run}` of drill `{}` has not been run on this lab yet",
            d.id
        ),
        why: "no result recorded".into(),
        hint: Some(format!("run `halab drill {} --run {run}`", d.id)),
    })
}

/// One limit of run `r`, as the check it stands for.
fn verdict(d: &Drill, r: &RunResult, v: &Verdict) -> CheckOutcome {
    let value = v
        .value
        .map(|x| format!("{x:.2}"))
        .unwrap_or_else(|| "not measured".into());
    let what = Subject {
        id: format!("{}.{}", r.id, v.figure),
        title: format!("{}: {} ≤ {}", r.title, v.figure, v.max),
        command: format!("halab drill {}", d.id),
        expected: format!("{} ≤ {}", v.figure, v.max),
        ..Subject::default()
    };
    let mut o =
        CheckOutcome::graded(what, v.passed, format!("measured {value}")).failing(Failure {
            message: format!(
                "{}: {} was {value}, the lesson allows {}",
                r.title, v.figure, v.max
            ),
            why: String::new(),
            hint: Some(format!(
                "fix what the figure shows, then `halab drill {}` again",
                d.id
            )),
        });
    // The lesson's reason for the limit shows whatever the verdict.
    o.why = v.why.clone().unwrap_or_default();
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_the_result_lacks_fails_with_the_command_that_runs_it() {
        let catalog = crate::content::Catalog::load().unwrap();
        let (_, lesson) = catalog.lessons.first().unwrap();
        let d = lesson.drills.iter().find(|d| d.runs.len() > 1).unwrap();
        let first = &d.runs[0].id;
        let kept = super::super::result::DrillResult {
            drill: d.id.clone(),
            title: "t".into(),
            claim: "c".into(),
            at: 5,
            runs: vec![RunResult {
                id: first.clone(),
                passed: true,
                ..RunResult::default()
            }],
            context: Default::default(),
            roles: Default::default(),
            leaves: None,
            passed: true,
        };
        let record = serde_json::json!({
            "name": "lab", "lesson": lesson.id, "backend": "netns", "created": 0, "phase": "ready",
            "facts": serde_json::to_value(crate::content::template::Facts::default()).unwrap(),
            "nodes": {},
            "drills": { d.id.clone(): serde_json::to_value(kept).unwrap() }
        });
        let record: state::LabRecord = serde_json::from_value(record).unwrap();
        let graded = steps(lesson, &record);
        let step = graded
            .iter()
            .find(|s| s.id == format!("drill:{}", d.id))
            .unwrap();
        assert!(!step.passed);
        let missing: Vec<&str> = step.checks.iter().map(|c| c.id.as_str()).collect();
        let expected: Vec<String> = d.runs[1..]
            .iter()
            .map(|r| format!("{}.run", r.id))
            .collect();
        assert_eq!(missing, expected);
    }
}
