//! `halab validate PATH...`: check content files and report every problem of every file at
//! once; exit 1 when any has a problem. Must not: stop at the first bad file.

use anyhow::Result;

use crate::cli::{Global, ValidateArgs};
use crate::content;
use crate::ui;

pub(crate) fn run(_g: &Global, a: ValidateArgs) -> Result<i32> {
    let mut bad = 0;
    for v in content::validate_paths(&a.paths) {
        match v.summary {
            Ok(s) => println!("{} {}: {s}", ui::green("✔"), v.path.display()),
            Err(d) => {
                bad += 1;
                println!(
                    "{} {}: {} problem(s)",
                    ui::red("✘"),
                    v.path.display(),
                    d.0.len()
                );
                for d in d.0 {
                    println!("  {d}");
                }
            }
        }
        if let Some(n) = v.note {
            println!("    note: {n}");
        }
    }
    Ok(if bad == 0 { 0 } else { 1 })
}
