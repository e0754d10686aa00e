//! `halab watch`: the continuous examiner (the lesson runner's `watch`), on the lab `--lab` names.
//!
//! Must not: grade or draw anything itself (`runner::watch` does).

use anyhow::Result;

use crate::check::report::Layout;
use crate::cli::Global;
use crate::runner::watch;

pub(crate) fn run(g: &Global) -> Result<i32> {
    let (open, _catalog, lesson) = super::open_with_lesson(g.lab.as_ref())?;
    watch::run(
        &open,
        &lesson,
        &Layout::for_term(&console::Term::stdout(), g.verbose),
    )
}
