//! `halab destroy`: remove a lab and everything halab made for it, and say what was removed.

use anyhow::Result;

use crate::cli::{DestroyArgs, Global};
use crate::{lifecycle, state, ui};

pub(crate) fn run(g: &Global, a: DestroyArgs) -> Result<i32> {
    let name = match &g.lab {
        Some(n) => n.clone(),
        None => state::resolve_lab(&state::home(), None)?.name,
    };
    let d = lifecycle::destroy(&name, a.purge_image)?;
    // A lab without its record was searched for on every backend: say what turned up.
    if !d.record_intact {
        for r in &d.removed {
            ui::say(format!("removed {r}"));
        }
    }
    for n in &d.not_searched {
        ui::warn(format!("not searched for leftovers: {n}"));
    }
    if let Some(kept) = &d.kept_on_server {
        eprintln!(
            "{} this machine forgot lab `{name}`; {kept} stays on the class server (your instructor removes it; `halab join` with the same token brings it back here)",
            ui::green("✔")
        );
    } else if d.had_dir {
        eprintln!(
            "{} lab `{name}` destroyed: nothing of it is left",
            ui::green("✔")
        );
    } else if d.removed.is_empty() {
        eprintln!(
            "{} there was no lab `{name}`; leftovers were looked for and none remain",
            ui::green("✔")
        );
    } else {
        eprintln!(
            "{} there was no lab `{name}`, but what it left was found and removed",
            ui::green("✔")
        );
    }
    Ok(0)
}
