//! `halab prepare LESSON`: the one-time work of a first `start` (packages, daemon, base image),
//! without a lab.
//!
//! Must not: create, read or lock a lab.

use anyhow::Result;

use crate::cli::PrepareArgs;
use crate::lifecycle::{self, StartRequest};
use crate::ui;

pub(crate) fn run(a: PrepareArgs) -> Result<i32> {
    let p = lifecycle::prepare(StartRequest {
        lesson: a.lesson,
        lab: None,
        backend: a.backend,
        lxd_remote: a.lxd_remote,
        yes: a.yes,
    })?;
    if ui::verbosity() != ui::Verbosity::Quiet {
        eprintln!(
            "{} ready for labs of `{}` on {} ({:.1}s); `halab start {}` builds one",
            ui::green("✔"),
            p.lesson,
            p.backend,
            p.elapsed.as_secs_f32(),
            p.lesson
        );
    }
    Ok(0)
}
