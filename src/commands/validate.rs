//! `halab validate PATH...`: check content files; exit 1 when any has a problem.

use anyhow::Result;

use crate::cli::{Global, ValidateArgs};
use crate::content;
use crate::ui;

pub fn run(_g: &Global, a: ValidateArgs) -> Result<i32> {
    let mut bad = 0;
    for p in &a.paths {
        for v in content::validate_path(p)? {
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
        }
    }
    Ok(if bad == 0 { 0 } else { 1 })
}
