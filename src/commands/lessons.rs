//! `halab lessons`: what halab can teach.

use anyhow::Result;

use crate::cli::Global;
use crate::content::Catalog;

pub(crate) fn run(_g: &Global) -> Result<i32> {
    let cat = Catalog::load()?;
    for (_, l) in &cat.lessons {
        let nodes = cat.lab(&l.lab).map_or(0, |(_, lab)| lab.nodes.len());
        println!(
            "{:<8} {}  ({}; lab `{}`, {nodes} nodes)",
            l.id, l.title, l.source, l.lab
        );
    }
    Ok(0)
}
