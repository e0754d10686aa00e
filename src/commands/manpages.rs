//! `halab manpages DIR` (hidden, for packaging): one manual page per command, rendered by
//! clap_mangen from the same definitions as `--help`, with the first lesson's names in the examples.
//!
//! Must not: write anywhere but DIR.

use anyhow::{Context as _, Result};

use crate::cli::ManpagesArgs;

pub(crate) fn run(a: ManpagesArgs) -> Result<i32> {
    std::fs::create_dir_all(&a.dir)
        .with_context(|| format!("cannot create `{}`", a.dir.display()))?;
    clap_mangen::generate_to(crate::cli::command_with_examples(), &a.dir)
        .with_context(|| format!("cannot write the manual pages into `{}`", a.dir.display()))?;
    Ok(0)
}
