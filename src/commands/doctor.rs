//! `halab doctor [--backend B]`: a table per backend of what this machine has and lacks, with
//! the command that fixes each gap; exit 0 when the backend `start` would use is usable. The
//! backend is chosen as `start` chooses it (`backend::choice`).
//!
//! Must not: decide the backend differently from `start`, or change the host.

use anyhow::Result;
use serde::Serialize;

use crate::backend::BackendKind;
use crate::backend::choice;
use crate::cli::{DoctorArgs, Format};
use crate::doctor::{self, Report};
use crate::ui;

#[derive(Serialize)]
struct Doctor {
    /// The backend `halab start` would use, and why; none when nothing is usable.
    chosen: Option<BackendKind>,
    reason: String,
    backends: Vec<Report>,
}

pub(crate) fn run(a: DoctorArgs) -> Result<i32> {
    let kinds: Vec<BackendKind> = match a.backend {
        Some(k) => vec![k],
        None => BackendKind::built(),
    };
    let backends: Vec<Report> = kinds.into_iter().map(doctor::diagnose).collect();
    let (chosen, reason) = match choice::choose(a.backend) {
        Ok(c) => (Some(c.kind), c.reason),
        Err(e) => (None, ui::one_line(&e)),
    };
    let usable = chosen.is_some_and(|k| {
        backends
            .iter()
            .find(|r| r.backend == k)
            .map(|r| r.usable)
            .unwrap_or_else(|| doctor::diagnose(k).usable)
    });
    let d = Doctor {
        chosen,
        reason,
        backends,
    };
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&d)?),
        Format::Text => print_text(&d),
    }
    Ok(if usable { 0 } else { 1 })
}

fn print_text(d: &Doctor) {
    for r in &d.backends {
        let head = if r.usable {
            ui::green("usable")
        } else {
            ui::red("not usable")
        };
        let chosen = if d.chosen == Some(r.backend) {
            format!("  ← `halab start` uses this ({})", d.reason)
        } else {
            String::new()
        };
        println!(
            "{} {head}{chosen}",
            ui::bold(format!("{:<10}", r.backend.to_string()))
        );
        for i in &r.items {
            let mark = match (i.ok, i.optional) {
                (true, _) => ui::green("✔"),
                (false, true) => ui::dim("–"),
                (false, false) => ui::red("✘"),
            };
            println!("  {mark} {:<58} {}", i.need, ui::dim(&i.detail));
            if let Some(fix) = &i.fix {
                let label = if i.optional { "optional" } else { "fix" };
                println!("      {label}: {fix}");
            }
        }
        println!();
    }
    match d.chosen {
        Some(k) => println!("chosen backend: {k} ({})", d.reason),
        None => println!("no backend chosen: {}", d.reason),
    }
}
