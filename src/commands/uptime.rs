//! `halab uptime`: the chapter's uptime arithmetic, for any availability.

use anyhow::Result;

use crate::cli::UptimeArgs;
use crate::ui::{self, Problem};
use crate::uptime::{self, Compose, PERIODS};

pub(crate) fn run(a: UptimeArgs) -> Result<i32> {
    let values = a
        .availability
        .iter()
        .map(|s| uptime::parse_percent(s))
        .collect::<Result<Vec<f64>, String>>()
        .map_err(|e| {
            Problem::new(
                e,
                "write availabilities as percentages, e.g. `halab uptime 99.9`",
            )
        })?;
    let how = match (a.serial, a.parallel, values.len()) {
        (_, true, _) => Compose::Parallel,
        (true, _, _) | (_, _, 1) => Compose::Serial,
        _ => {
            return Err(Problem::new(
                "several availabilities need to say how they combine",
                "add `--serial` (every component needed) or `--parallel` (any one is enough)",
            )
            .into());
        }
    };
    let total = uptime::combine(&values, how);
    if values.len() > 1 {
        let parts: Vec<String> = values.iter().map(|v| format!("{v}%")).collect();
        let word = if how == Compose::Serial {
            "in series"
        } else {
            "in parallel"
        };
        println!(
            "{} {word}: {}",
            parts.join(" and "),
            ui::bold(format!("{}%", trim(total)))
        );
    } else {
        println!("availability {}", ui::bold(format!("{}%", trim(total))));
    }
    println!("{:<8} {:>16}  ≈", "per", "downtime");
    for p in PERIODS {
        let secs = uptime::downtime_seconds(total, p);
        println!(
            "{:<8} {:>16}  {}",
            p.name(),
            uptime::human(secs),
            uptime::chapter_style(secs)
        );
    }
    Ok(0)
}

fn trim(v: f64) -> String {
    let s = format!("{v:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
