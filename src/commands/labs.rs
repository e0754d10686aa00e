//! `halab labs`: the labs on this machine, for instructors.

use anyhow::Result;
use serde::Serialize;

use crate::cli::{Format, LabsArgs};
use crate::content::Catalog;
use crate::state::{self, LabDir};

#[derive(Serialize)]
struct LabRow {
    lab: String,
    backend: String,
    remote: Option<String>,
    lesson: String,
    /// The first step not passed, solved or skipped; none when every step is done.
    current_step: Option<String>,
    steps_passed: usize,
    steps: usize,
    /// Unix time and result of the latest `halab check`.
    last_check: Option<state::LastCheck>,
}

pub fn run(a: LabsArgs) -> Result<i32> {
    let home = state::home();
    let catalog = Catalog::load()?;
    let mut rows = Vec::new();
    for name in state::lab_names(&home) {
        let rec = LabDir::new(&home, &name).load()?;
        let steps: Vec<String> = catalog
            .lesson(&rec.lesson)
            .map(|l| l.steps.iter().map(|s| s.id.clone()).collect())
            .unwrap_or_default();
        rows.push(LabRow {
            lab: name.to_string(),
            backend: rec.backend.to_string(),
            remote: rec.remote.clone(),
            lesson: rec.lesson.clone(),
            current_step: steps.iter().find(|s| !rec.step_done(s)).cloned(),
            steps_passed: steps
                .iter()
                .filter(|s| rec.progress.get(*s).is_some_and(|p| p.passed_at.is_some()))
                .count(),
            steps: steps.len(),
            last_check: rec.last_check.clone(),
        });
    }
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Text if rows.is_empty() => {
            println!("no labs on this machine (`halab start LESSON` builds one)")
        }
        Format::Text => {
            println!(
                "{:<14} {:<8} {:<8} {:<14} {:<8} LAST CHECK",
                "LAB", "BACKEND", "LESSON", "STEP", "PASSED"
            );
            for r in rows {
                let last = r
                    .last_check
                    .map(|c| {
                        format!(
                            "{} ({}/{} checks)",
                            state::format_time(c.at),
                            c.passed,
                            c.total
                        )
                    })
                    .unwrap_or_else(|| "never".into());
                let backend = match &r.remote {
                    Some(remote) => format!("{}@{remote}", r.backend),
                    None => r.backend,
                };
                println!(
                    "{:<14} {:<8} {:<8} {:<14} {:<8} {last}",
                    r.lab,
                    backend,
                    r.lesson,
                    r.current_step.unwrap_or_else(|| "done".into()),
                    format!("{}/{}", r.steps_passed, r.steps)
                );
            }
        }
    }
    Ok(0)
}
