//! `halab drill NAME|all [--assist] [--run RUN] [--format text|json]`: run a lesson's failure
//! drill (or all of them as the chapter's table; or one run of one drill) and show the measured
//! figures. Exit 0 when every run met the lesson's limits, 1 when not.

use anyhow::Result;

use crate::cli::{DrillArgs, Format, Global};
use crate::content::diag::{did_you_mean, unknown_name_help};
use crate::content::drill::Drill;
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
    let opts = Options {
        assist: a.assist,
        some_runs: a.run.is_some(),
    };
    let ids: Vec<&str> = lesson.drills.iter().map(|d| d.id.as_str()).collect();
    if a.name == "all" {
        let mut results = Vec::new();
        for d in &lesson.drills {
            // A drill the lab is not ready for is a row of the table, not the end of it.
            let r = match drill::preflight(&open, d) {
                Ok(cast) => drill::run(&open, &cast, opts)?,
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
    let only;
    let d = match &a.run {
        Some(r) => {
            only = one_run(d, r)?;
            &only
        }
        None => d,
    };
    let cast = drill::preflight(&open, d)?;
    let r = drill::run(&open, &cast, opts)?;
    match a.format {
        Format::Json => println!("{}", report::json(&r)),
        Format::Text => print!("{}", report::text(&r)),
    }
    Ok(if r.passed { 0 } else { 1 })
}

/// Drill `d` with its run `id` only; an unknown id lists the runs (and the closest one).
fn one_run(d: &Drill, id: &str) -> Result<Drill> {
    let Some(r) = d.runs.iter().find(|r| r.id == id) else {
        let ids: Vec<&str> = d.runs.iter().map(|r| r.id.as_str()).collect();
        return Err(Problem::new(
            format!("drill `{}` has no run `{id}`", d.id),
            unknown_name_help(id, &ids, "runs", true),
        )
        .into());
    };
    Ok(Drill {
        runs: vec![r.clone()],
        ..d.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_run_keeps_that_run_and_an_unknown_one_is_named_with_the_closest() {
        let catalog = crate::content::Catalog::load().unwrap();
        let (_, lesson) = catalog.lessons.first().unwrap();
        let d = lesson.drills.iter().find(|d| d.runs.len() > 1).unwrap();
        let last = &d.runs.last().unwrap().id;
        let one = one_run(d, last).unwrap();
        assert_eq!(one.runs.len(), 1);
        assert_eq!(&one.runs[0].id, last);
        assert_eq!(one.id, d.id);
        // A typo: two letters swapped.
        let mut typo: Vec<char> = last.chars().collect();
        typo.swap(1, 2);
        let typo: String = typo.into_iter().collect();
        let e = one_run(d, &typo).unwrap_err();
        let p = e.downcast_ref::<Problem>().unwrap();
        assert_eq!(p.message, format!("drill `{}` has no run `{typo}`", d.id));
        assert!(
            p.hint
                .starts_with(&format!("did you mean `{last}`? runs: ")),
            "{}",
            p.hint
        );
    }
}
