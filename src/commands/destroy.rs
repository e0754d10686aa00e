//! `halab destroy`: remove a lab and everything halab made for it.

use anyhow::Result;

use crate::cli::{DestroyArgs, Global};
use crate::{lifecycle, state, ui};

pub fn run(g: &Global, a: DestroyArgs) -> Result<i32> {
    let name = match &g.lab {
        Some(n) => n.clone(),
        None => state::resolve_lab(&state::home(), None)?.name,
    };
    if lifecycle::destroy(&name, a.purge_image)? {
        eprintln!(
            "{} lab `{name}` destroyed: nothing of it is left",
            ui::green("✔")
        );
    } else {
        eprintln!(
            "{} there was no lab `{name}`; leftovers were looked for and none remain",
            ui::green("✔")
        );
    }
    Ok(0)
}
