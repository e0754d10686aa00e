//! Rendering a graded lab: text for people (✔/✘, what a failing check ran and where, a short
//! picture of what came back, what was expected and why it did not hold, the hint), JSON and
//! JUnit XML for tools (with the whole output).
//!
//! Must not: run checks or change state.

use std::time::Duration;

use quick_junit as junit;

use super::outcome::{CheckOutcome, GradedLab, StepOutcome};
use super::picture;
use crate::ui;

/// How a text report is laid out.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    /// Columns the report may use.
    pub width: usize,
    /// Every line of a failing check's output, as it came (`check --verbose`).
    pub verbose: bool,
}

impl Layout {
    /// For `term`: its width when it is a terminal, else [`picture::PLAIN_WIDTH`].
    pub(crate) fn for_term(term: &console::Term, verbose: bool) -> Layout {
        let width = term
            .size_checked()
            .map_or(picture::PLAIN_WIDTH, |(_, cols)| usize::from(cols));
        Layout {
            width: width.max(40),
            verbose,
        }
    }

    /// For reports written to stderr (the runner, `solve`, `drill`).
    pub(crate) fn stderr() -> Layout {
        Layout::for_term(&console::Term::stderr(), false)
    }
}

/// The report for a terminal or a log.
pub(crate) fn text(r: &GradedLab, layout: &Layout) -> String {
    let mut s = String::new();
    for (n, step) in r.steps.iter().enumerate() {
        let mark = if step.passed {
            ui::green("✔")
        } else {
            ui::red("✘")
        };
        s += &format!(
            "{mark} {} {}  {}\n",
            ui::bold(format!("{}.", step.number.unwrap_or(n + 1))),
            ui::bold(&step.id),
            step.title
        );
        if let Some(note) = &step.note {
            s += &format!("    {}\n", ui::dim(note));
        }
        let again = if step.number.is_some() {
            format!("halab check --step {} --verbose", step.id)
        } else {
            "halab check --drills --verbose".to_string()
        };
        for c in &step.checks {
            s += &check_text(c, &again, layout);
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

/// Where a failing check's story is indented to.
const INDENT: &str = "        ";

/// One check: a line when it passed or was skipped, the whole story when it failed: what it
/// ran and where, a short picture of what came back (`again` shows all of it), what was
/// expected and what did not hold, the hint.
pub(crate) fn check_text(c: &CheckOutcome, again: &str, layout: &Layout) -> String {
    let where_ = if c.node.is_empty() {
        String::new()
    } else {
        format!("{}: ", c.node)
    };
    if c.passed {
        return format!("    {} {where_}{}\n", ui::green("✔"), c.title);
    }
    if c.was_skipped() {
        return format!(
            "    {} {where_}{}  {}\n",
            ui::dim("–"),
            c.title,
            ui::dim(format!("({})", c.why))
        );
    }
    // Room for text after the indent and a two-column marker such as "│ ".
    let room = layout.width.saturating_sub(INDENT.len() + 2).max(20);
    let mut s = format!("    {} {where_}{}\n", ui::red("✘"), c.title);
    if !c.message.is_empty() {
        s += &format!("{INDENT}{}\n", ui::bold(&c.message));
    }
    if !c.command.is_empty() {
        let command = c.command.trim().replace('\n', &format!("\n{INDENT}  "));
        s += &format!(
            "{INDENT}$ {command}   {}\n",
            ui::dim(format!("(on {}, {})", c.node, c.status))
        );
    }
    if layout.verbose {
        for line in c.output.trim_end().lines() {
            s += &format!("{INDENT}│ {line}\n");
        }
    } else {
        let (lines, more) = picture::picture(&c.output, room, picture::MAX_LINES);
        for line in lines {
            s += &format!("{INDENT}│ {line}\n");
        }
        if more > 0 {
            let plural = if more == 1 { "line" } else { "lines" };
            s += &format!(
                "{INDENT}{}\n",
                ui::dim(format!("… {more} more {plural}: `{again}` shows them all"))
            );
        }
    }
    if !c.expected.is_empty() {
        s += &format!("{INDENT}{} {}\n", ui::dim("expected:"), c.expected);
    }
    // What did not hold, one part a line (a quoted offending line is already cut short).
    for (i, part) in c.why.split("; ").filter(|p| !p.is_empty()).enumerate() {
        let label = if i == 0 { "why:" } else { "    " };
        s += &format!("{INDENT}{} {part}\n", ui::dim(label));
    }
    if let Some(h) = &c.hint {
        s += &format!("{INDENT}{} {h}\n", ui::bold("hint:"));
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
