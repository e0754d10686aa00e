//! Brings nodes from "running with their packages" to the lab's starting state: the role's files,
//! one-time `setup`, its services, one-time `init`. Works on any backend through `exec` alone.
//!
//! Must not: create or remove nodes (the backend does), or know any role or node by name.

use anyhow::Result;

use crate::backend::node::SCRIPT_TIMEOUT;
use crate::backend::{Backend, NodeHandle, NodeUp};
use crate::content::Lab;
use crate::content::lab::{FileSpec, Node};
use crate::content::template::Context;

fn place(on: NodeHandle, f: &FileSpec, ctx: &Context) -> Result<()> {
    on.put_file(
        &f.path,
        ctx.render(&f.content)?.as_bytes(),
        &f.mode,
        &f.owner,
    )
}

/// Do what `how` requires for one node: everything for a new node, services for a restarted
/// one, nothing for a running one.
pub(crate) fn provision_node(
    backend: &dyn Backend,
    lab: &Lab,
    node: &Node,
    how: NodeUp,
    ctx: &Context,
) -> Result<()> {
    let role = lab.role_of(node);
    let ctx = ctx.for_node(node);
    let on = backend.node(&node.name);
    let run = |script: &str| on.run_ok(script, SCRIPT_TIMEOUT).map(drop);
    match how {
        NodeUp::Running => Ok(()),
        NodeUp::Restarted => {
            for s in &role.services {
                run(&format!("systemctl start {s}"))?;
            }
            Ok(())
        }
        NodeUp::Created => {
            for f in &role.files {
                place(on, f, &ctx)?;
            }
            for c in &role.setup {
                run(&ctx.render(c)?)?;
            }
            if !role.services.is_empty() {
                // The role's files may have brought unit files of their own.
                run("systemctl daemon-reload")?;
            }
            for s in &role.services {
                // Restart only what already runs (its package may have started it with the old
                // configuration); a plain start skips the stop half.
                let cmd = format!(
                    "systemctl enable {s} && if systemctl is-active --quiet {s}; \
                     then systemctl restart {s}; else systemctl start {s}; fi"
                );
                run(&cmd)?;
            }
            for c in &role.init {
                run(&ctx.render(c)?)?;
            }
            Ok(())
        }
    }
}
