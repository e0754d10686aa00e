//! Rendering a graded lab: text for people (✔/✘, the failing command's real output, what was
//! expected, the hint), JSON and JUnit XML for tools.
//!
//! Must not: run checks or change state.

use std::time::Duration;

use quick_junit as junit;

use super::outcome::{CheckOutcome, GradedLab, StepOutcome};
use crate::ui;

/// The report for a terminal or a log.
pub(crate) fn text(r: &GradedLab) -> String {
    let mut s = String::new();
    for (n, step) in r.steps.iter().enumerate() {
        let mark = if step.passed {
            ui::green("✔")
        } else {
            ui::red("✘")
        };
        s += &format!(
            "{mark} {} {}  {}\n",
            ui::bold(format!("{}.", n + 1)),
            ui::bold(&step.id),
            step.title
        );
        if let Some(note) = &step.note {
            s += &format!("    {}\n", ui::dim(note));
        }
        for c in &step.checks {
            s += &check_text(c);
        }
    }
    let verdict = if r.all_passed() {
        ui::green("all steps pass")
    } else {
        ui::red("some steps fail")
    };
    s += &format!(
        "\n{}/{} checks passed in lab `{}`: {verdict}\n",
        r.passed, r.total, r.lab
    );
    s
}

/// One check: a line when it passed, the whole story when it failed.
pub(crate) fn check_text(c: &CheckOutcome) -> String {
    let where_ = if c.node.is_empty() {
        String::new()
    } else {
        format!("{}: ", c.node)
    };
    if c.passed {
        return format!("    {} {where_}{}\n", ui::green("✔"), c.title);
    }
    let mut s = format!("    {} {where_}{}\n", ui::red("✘"), c.title);
    if !c.message.is_empty() {
        s += &format!("        {}\n", ui::bold(&c.message));
    }
    if !c.command.is_empty() {
        let command = c.command.trim().replace('\n', "\n          ");
        s += &format!(
            "        $ {command}   {}\n",
            ui::dim(format!("(on {}, {})", c.node, c.status))
        );
    }
    for line in c.output.lines() {
        s += &format!("        │ {line}\n");
    }
    if !c.why.is_empty() {
        s += &format!(
            "        {} {} ({})\n",
            ui::dim("expected:"),
            c.expected,
            c.why
        );
    }
    if let Some(h) = &c.hint {
        s += &format!("        {} {h}\n", ui::bold("hint:"));
    }
    s
}

/// JSON: `lab`, `lesson`, `passed`, `total`, `steps[]` with `id`, `passed`, `checks[]`.
pub(crate) fn json(r: &GradedLab) -> String {
    serde_json::to_string_pretty(r).expect("report serializes")
}

/// Several labs in one JSON document: `labs[]` (each as above), `passed`, `total`.
pub(crate) fn json_all(reports: &[GradedLab]) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "labs": reports,
        "passed": reports.iter().map(|r| r.passed).sum::<usize>(),
        "total": reports.iter().map(|r| r.total).sum::<usize>(),
    }))
    .expect("report serializes")
}

/// JUnit XML: one test suite per lab and step, one test case per check.
pub(crate) fn junit(reports: &[GradedLab]) -> String {
    let mut doc = junit::Report::new("halab");
    doc.add_test_suites(
        reports
            .iter()
            .flat_map(|r| r.steps.iter().map(move |st| junit_step(r, st))),
    );
    doc.to_string().expect("JUnit report serializes")
}

fn junit_step(r: &GradedLab, st: &StepOutcome) -> junit::TestSuite {
    let mut suite = junit::TestSuite::new(format!("{}.{}.{}", r.lab, r.lesson, st.id));
    if st.checks.is_empty() {
        // A step with nothing to check (a question, a drill) is still one case, so it shows.
        let mut case = junit::TestCase::new("recorded", junit::TestCaseStatus::success());
        case.set_classname(&st.id);
        if let Some(n) = &st.note {
            case.set_system_out(n);
        }
        suite.add_test_case(case);
    }
    for c in &st.checks {
        let status = if c.passed {
            junit::TestCaseStatus::success()
        } else {
            let mut failure = junit::TestCaseStatus::non_success(junit::NonSuccessKind::Failure);
            failure.set_message(&c.message).set_description(format!(
                "$ {} (on {}, {})\n{}\nexpected: {} ({})",
                c.command, c.node, c.status, c.output, c.expected, c.why
            ));
            failure
        };
        let mut case = junit::TestCase::new(&c.id, status);
        case.set_classname(&st.id)
            .set_time(Duration::try_from_secs_f64(c.seconds).unwrap_or_default());
        suite.add_test_case(case);
    }
    suite
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::outcome::{Failure, Subject};

    #[test]
    fn junit_is_one_well_formed_document_for_several_labs() {
        let report = |lab: &str, passed: bool| {
            let what = Subject {
                id: "spread".into(),
                title: "t".into(),
                node: "client".into(),
                command: "curl <x> & y".into(),
                expected: "e".into(),
            };
            let mut check = CheckOutcome::graded(what, passed, "exit status 1").failing(Failure {
                message: "broken \"here\"".into(),
                why: "w".into(),
                hint: None,
            });
            check.output = "out".into();
            check.seconds = 0.5;
            GradedLab::new(
                lab,
                "ch32",
                vec![StepOutcome::of("nginx-lb", "t", vec![check])],
            )
        };
        let x = junit(&[report("a", true), report("b", false)]);
        assert!(
            x.starts_with("<?xml") && x.trim_end().ends_with("</testsuites>"),
            "{x}"
        );
        assert_eq!(x.matches("<testsuite ").count(), 2);
        assert!(
            x.contains(
                "name=\"b.ch32.nginx-lb\" tests=\"1\" skipped=\"0\" errors=\"0\" failures=\"1\""
            ),
            "{x}"
        );
        assert!(x.contains("message=\"broken &quot;here&quot;\""), "{x}");
        assert!(x.contains("curl &lt;x&gt; &amp; y"), "{x}");
        assert!(
            x.contains(
                "<testsuites name=\"halab\" tests=\"2\" skipped=\"0\" failures=\"1\" errors=\"0\">"
            ),
            "{x}"
        );
    }
}
