//! `halab check`: grade the lab (or every lab). Exit 0 when every step passes, 1 when some fail.

use anyhow::Result;

use crate::check::{engine, report};
use crate::cli::{CheckArgs, CheckFormat, Global};

pub(crate) fn run(g: &Global, a: CheckArgs) -> Result<i32> {
    let names: Vec<Option<crate::state::LabName>> = if a.all {
        super::all_labs()?.into_iter().map(Some).collect()
    } else {
        vec![g.lab.clone()]
    };
    grade_labs(&names, &a, a.all, g.verbose)
}

/// Grade the labs named (`None`: the only one) and print one report of them all (`many`: with
/// each lab's name); the exit code.
pub(crate) fn grade_labs(
    names: &[Option<crate::state::LabName>],
    a: &CheckArgs,
    many: bool,
    verbose: bool,
) -> Result<i32> {
    let mut reports = Vec::new();
    for name in names {
        if let Some(n) = name {
            // A class lab's progress is the one its server keeps.
            crate::class::shelf::take(&crate::state::LabDir::new(&crate::state::home(), n))?;
        }
        let (open, _catalog, lesson) = super::open_with_lesson(name.as_ref())?;
        let mut report = engine::grade(&open, &lesson, a.step.as_deref())?;
        if a.drills {
            report.add_drills(crate::drill::grade::steps(&lesson, &open.dir.load()?));
        }
        reports.push(report);
    }
    let all_passed = reports.iter().all(|r| r.all_passed());
    let layout = report::Layout::for_term(&console::Term::stdout(), verbose);
    match (a.format, many) {
        (CheckFormat::Text, _) => {
            for r in &reports {
                if many {
                    println!("== lab `{}` ==", r.lab);
                }
                print!("{}", report::text(r, &layout));
            }
        }
        (CheckFormat::Json, false) => println!("{}", report::json(&reports[0])),
        (CheckFormat::Json, true) => println!("{}", report::json_all(&reports)),
        (CheckFormat::Junit, _) => print!("{}", report::junit(&reports)),
    }
    Ok(if all_passed { 0 } else { 1 })
}
