//! `halab shell NODE`: an interactive root login shell on a node.

use anyhow::Result;

use crate::cli::{Global, ShellArgs};
use crate::session::OpenLab;

pub fn run(g: &Global, a: ShellArgs) -> Result<i32> {
    let open = OpenLab::open(g.lab.as_ref())?;
    open.node(&a.node)?;
    eprintln!(
        "halab: root shell on `{}` of lab `{}`; `exit` to leave",
        a.node, open.dir.name
    );
    // Debian's bashrc puts `debian_chroot` in front of the prompt: `(lab)root@node:~#`.
    let argv = ["bash", "-il"].map(String::from);
    open.backend
        .exec_attached(&a.node, &argv, &[("debian_chroot", &open.dir.name)])
}
