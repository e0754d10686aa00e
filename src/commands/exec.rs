//! `halab exec NODE -- CMD...`: one command on a node, attached to this terminal.

use anyhow::Result;

use crate::cli::{ExecArgs, Global};
use crate::session::OpenLab;

pub(crate) fn run(g: &Global, a: ExecArgs) -> Result<i32> {
    let open = OpenLab::open(g.lab.as_ref())?;
    open.node(&a.node)?;
    open.backend.node(&a.node).attached(&a.command)
}
