//! Brings nodes from "running with their packages" to the lab's starting state: the role's files,
//! one-time `setup`, its services, one-time `init`. Works on any backend through `exec` alone.
//!
//! Must not: create or remove nodes (the backend does), or know any role or node by name.

use std::time::Duration;

use anyhow::{Result, bail};

use crate::backend::{Backend, NodeUp};
use crate::content::Lab;
use crate::content::lab::{FileSpec, Node};
use crate::content::template::Context;
use crate::exec::{ExecError, Output};

/// Run one shell command in a node and demand success; the error names node, command, status
/// and output.
pub fn run_in(
    backend: &dyn Backend,
    node: &str,
    script: &str,
    stdin: Option<Vec<u8>>,
) -> Result<Output> {
    let argv = ["bash".to_string(), "-c".to_string(), script.to_string()];
    let out = backend.exec(node, &argv, stdin, Some(Duration::from_secs(120)))?;
    if !out.success() {
        bail!(ExecError::Failed {
            cmd: format!("(on {node}) {script}"),
            status: out.status_text(),
            stderr: format!("{}{}", out.stdout, out.stderr),
        });
    }
    Ok(out)
}

/// Place one file on a node: parent directories, contents, mode and owner.
pub fn put_file(
    backend: &dyn Backend,
    node: &str,
    path: &str,
    contents: &str,
    mode: &str,
    owner: &str,
) -> Result<()> {
    let argv = [
        "bash",
        "-c",
        r#"mkdir -p -- "$(dirname -- "$1")" && cat > "$1" && chmod "$2" "$1" && chown "$3" "$1""#,
        "halab-put",
        path,
        mode,
        owner,
    ]
    .map(String::from);
    let out = backend.exec(node, &argv, Some(contents.as_bytes().to_vec()), None)?;
    if !out.success() {
        bail!("cannot write `{path}` on {node}: {}", out.stderr.trim());
    }
    Ok(())
}

fn place(backend: &dyn Backend, node: &Node, f: &FileSpec, ctx: &Context) -> Result<()> {
    put_file(
        backend,
        &node.name,
        &f.path,
        &ctx.render(&f.content)?,
        &f.mode,
        &f.owner,
    )
}

/// Do what `how` requires for one node: everything for a new node, services for a restarted
/// one, nothing for a running one.
pub fn provision_node(
    backend: &dyn Backend,
    lab: &Lab,
    node: &Node,
    how: NodeUp,
    ctx: &Context,
) -> Result<()> {
    let role = lab.role_of(node);
    let ctx = ctx.for_node(node);
    match how {
        NodeUp::Running => Ok(()),
        NodeUp::Restarted => {
            for s in &role.services {
                run_in(backend, &node.name, &format!("systemctl start {s}"), None)?;
            }
            Ok(())
        }
        NodeUp::Created => {
            for f in &role.files {
                place(backend, node, f, &ctx)?;
            }
            for c in &role.setup {
                run_in(backend, &node.name, &ctx.render(c)?, None)?;
            }
            if !role.services.is_empty() {
                // The role's files may have brought unit files of their own.
                run_in(backend, &node.name, "systemctl daemon-reload", None)?;
            }
            for s in &role.services {
                // Restart only what already runs (its package may have started it with the old
                // configuration); a plain start skips the stop half.
                let cmd = format!(
                    "systemctl enable {s} && if systemctl is-active --quiet {s}; \
                     then systemctl restart {s}; else systemctl start {s}; fi"
                );
                run_in(backend, &node.name, &cmd, None)?;
            }
            for c in &role.init {
                run_in(backend, &node.name, &ctx.render(c)?, None)?;
            }
            Ok(())
        }
    }
}
