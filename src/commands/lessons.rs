//! `halab lessons`: what halab can teach.

use anyhow::Result;

use crate::cli::Global;
use crate::content::Catalog;

pub(crate) fn run(_g: &Global) -> Result<i32> {
    let cat = Catalog::load()?;
    for (_, l) in &cat.lessons {
        let nodes = cat.lab(&l.lab).map_or(0, |(_, lab)| lab.nodes.len());
        // `source` is optional: a lesson written for a class may come from no book.
        let source = if l.source.is_empty() {
            String::new()
        } else {
            format!("{}; ", l.source)
        };
        println!(
            "{:<8} {}  ({source}lab `{}`, {nodes} nodes)",
            l.id, l.title, l.lab
        );
    }
    Ok(0)
}
