//! `halab drill NAME|all [--assist] [--run RUN] [--format text|json]`: run a lesson's failure
//! drill (or all of them as the chapter's table; or one run of a drill) and show the measured
//! figures. Exit 0 when every run met the
//! lesson's limits, 1 when not.

use anyhow::Result;

use crate::cli::{DrillArgs, Format, Global};
use crate::content::diag::did_you_mean;
use crate::drill::{self, Options, report};
use crate::ui::{self, Problem};

pub(crate) fn run(g: &Global, a: DrillArgs) -> Result<i32> {
    if a.name == "all"
        && let Some(r) = &a.run
    {
        return Err(Problem::new(
            format!("`--run {r}` picks a run of one drill, not of `all`"),
            format!("name the drill: `halab drill DRILL --run {r}`"),
        )
        .into());
    }
    let (_hold, open, _catalog, lesson) =
        super::open_held(g.lab.as_ref(), &format!("drill {}", a.name))?;
    let opts = Options { assist: a.assist };
    let ids: Vec<&str> = lesson.drills.iter().map(|d| d.id.as_str()).collect();
    if a.name == "all" {
        let mut results = Vec::new();
        for d in &lesson.drills {
            // A drill the lab is not ready for is a row of the table, not the end of it.
            let r = match drill::preflight(&open, d) {
                Ok(()) => drill::run(&open, d, opts, None)?,
                Err(e) => {
                    results.push(Err(ui::one_line(&e)));
                    continue;
                }
            };
            if matches!(a.format, Format::Text) {
                eprint!("{}", report::text(&r));
            }
            results.push(Ok(r));
        }
        let passed = results.iter().all(|r| r.as_ref().is_ok_and(|d| d.passed));
        match a.format {
            Format::Json => println!("{}", report::json_all(&results, &lesson.drills)),
            Format::Text => {
                let titles: Vec<(String, String)> = lesson
                    .drills
                    .iter()
                    .map(|d| (d.title.clone(), d.claim.clone()))
                    .collect();
                let (color, width) = ui::stdout_table_mode();
                print!("{}", report::table(&results, &titles, color, width));
            }
        }
        return Ok(if passed { 0 } else { 1 });
    }
    let Some(d) = lesson.drills.iter().find(|d| d.id == a.name) else {
        let mut hint = format!("drills: {}, all", ids.join(", "));
        if let Some(m) = did_you_mean(&a.name, ids.iter().copied()) {
            hint = format!("did you mean `{m}`? ({hint})");
        }
        return Err(Problem::new(
            format!("lesson `{}` has no drill `{}`", lesson.id, a.name),
            hint,
        )
        .into());
    };
    if let Some(r) = &a.run {
        drill::find_run(d, r)?;
    }
    drill::preflight(&open, d)?;
    let r = drill::run(&open, d, opts, a.run.as_deref())?;
    match a.format {
        Format::Json => println!("{}", report::json(&r)),
        Format::Text => print!("{}", report::text(&r)),
    }
    Ok(if r.passed { 0 } else { 1 })
}
