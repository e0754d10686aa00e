//! `halab shell NODE`: an interactive root login shell on a node.

use anyhow::Result;

use crate::cli::{Global, ShellArgs};
use crate::session::OpenLab;

pub(crate) fn run(g: &Global, a: ShellArgs) -> Result<i32> {
    let open = OpenLab::open(g.lab.as_ref())?;
    open.node(&a.node)?;
    eprintln!(
        "halab: root shell on `{}` of lab `{}`; `exit` to leave",
        a.node, open.dir.name
    );
    open.backend.node(&a.node).shell(&open.dir.name)
}
