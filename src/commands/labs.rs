//! `halab labs`: the labs on this machine, for instructors.

use anyhow::Result;
use serde::Serialize;

use crate::cli::{Format, LabsArgs};
use crate::content::Catalog;
use crate::state::{self, LabDir};
use crate::ui;

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

pub(crate) fn run(a: LabsArgs) -> Result<i32> {
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
            let (color, width) = ui::stdout_table_mode();
            println!("{}", labs_table(&rows, color, width));
        }
    }
    Ok(0)
}

/// One line per lab: its backend (with the remote host), lesson, current step, steps passed and
/// the latest check.
fn labs_table(rows: &[LabRow], color: bool, width: Option<u16>) -> String {
    let mut t = ui::table(
        &["LAB", "BACKEND", "LESSON", "STEP", "PASSED", "LAST CHECK"],
        color,
        width,
    );
    for r in rows {
        let last = r
            .last_check
            .as_ref()
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
            None => r.backend.clone(),
        };
        t.add_row(vec![
            r.lab.clone(),
            backend,
            r.lesson.clone(),
            r.current_step.clone().unwrap_or_else(|| "done".into()),
            format!("{}/{}", r.steps_passed, r.steps),
            last,
        ]);
    }
    t.trim_fmt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(lab: &str, remote: Option<&str>, checked: bool) -> LabRow {
        LabRow {
            lab: lab.into(),
            backend: "lxd".into(),
            remote: remote.map(Into::into),
            lesson: "ch32".into(),
            current_step: Some("nginx-lb".into()),
            steps_passed: 1,
            steps: 7,
            last_check: checked.then_some(state::LastCheck {
                at: 1_795_667_760,
                passed: 3,
                total: 9,
            }),
        }
    }

    #[test]
    fn columns_stay_aligned_with_the_longest_legal_lab_name() {
        let longest = "b".repeat(20);
        let rows = [
            row(&longest, Some("halabloop"), true),
            row("x", None, false),
        ];
        let out = labs_table(&rows, false, None);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        let col = |line: &str, cell: &str| {
            let at = line
                .find(cell)
                .unwrap_or_else(|| panic!("{cell} in {line:?}"));
            line[..at].chars().count()
        };
        for (header, first, second) in [
            ("BACKEND", "lxd@halabloop", "lxd "),
            ("LESSON", "ch32", "ch32"),
            ("STEP", "nginx-lb", "nginx-lb"),
            ("PASSED", "1/7", "1/7"),
            ("LAST CHECK", "2026-11-26 04:36 UTC (3/9 checks)", "never"),
        ] {
            let want = col(lines[0], header);
            assert_eq!(col(lines[1], first), want, "{header}:\n{out}");
            assert_eq!(col(lines[2], second), want, "{header}:\n{out}");
        }
        assert!(
            lines[1].starts_with(&longest) && lines[2].starts_with("x "),
            "{out}"
        );
    }
}
