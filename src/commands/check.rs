//! `halab check`: grade the lab. Exit 0 when every step passes, 1 when some fail.

use anyhow::Result;

use crate::check::{engine, report};
use crate::cli::{CheckArgs, CheckFormat, Global};

pub fn run(g: &Global, a: CheckArgs) -> Result<i32> {
    let (open, _catalog, lesson) = super::open_with_lesson(g.lab.as_deref())?;
    let r = engine::grade(&open, &lesson, a.step.as_deref())?;
    match a.format {
        CheckFormat::Text => print!("{}", report::text(&r)),
        CheckFormat::Json => println!("{}", report::json(&r)),
        CheckFormat::Junit => print!("{}", report::junit(&r)),
    }
    Ok(if r.all_passed() { 0 } else { 1 })
}
