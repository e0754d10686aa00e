//! One node of a running lab, as everything above the backend uses it: run a script and read
//! its [`Output`], run one and demand success, put a file, open a shell. Provisioning, checks,
//! drills, solutions and the runner all go through these few verbs, so a node is asked the same
//! way everywhere and a failure reads the same everywhere.
//!
//! Must not: know any lesson, step, node or service by name, or interpret what a script prints.

use std::time::Duration;

use anyhow::Result;

use super::Backend;
use crate::exec::Output;

/// How long a script may run on a node unless its caller says otherwise.
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// A node of a lab, reached through its backend.
#[derive(Clone, Copy)]
pub struct NodeHandle<'a> {
    backend: &'a dyn Backend,
    name: &'a str,
}

impl<'a> NodeHandle<'a> {
    pub fn new(backend: &'a dyn Backend, name: &'a str) -> Self {
        NodeHandle { backend, name }
    }

    pub fn name(&self) -> &'a str {
        self.name
    }

    /// Run `script` with bash as root; a non-zero exit is data. An error means the script could
    /// not run (the node is down, the backend failed) or ran past `timeout` and was killed.
    pub fn run(&self, script: &str, timeout: Duration) -> Result<Output> {
        self.run_with_input(script, None, timeout)
    }

    /// [`NodeHandle::run`] with `stdin` fed to the script.
    pub fn run_with_input(
        &self,
        script: &str,
        stdin: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<Output> {
        let argv = ["bash".to_string(), "-c".to_string(), script.to_string()];
        self.backend.exec(self.name, &argv, stdin, Some(timeout))
    }

    /// Run `script` and demand exit status 0: the error names the node, the script, its status
    /// and what it said.
    pub fn run_ok(&self, script: &str, timeout: Duration) -> Result<Output> {
        self.run_ok_with_input(script, None, timeout)
    }

    /// [`NodeHandle::run_ok`] with `stdin` fed to the script.
    pub fn run_ok_with_input(
        &self,
        script: &str,
        stdin: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<Output> {
        let out = self.run_with_input(script, stdin, timeout)?;
        Ok(out.demand_success(format!("(on {}) {script}", self.name))?)
    }

    /// Place a file: parent directories, contents, mode (octal, `0644`) and owner
    /// (`user:group`).
    pub fn put_file(&self, path: &str, contents: &[u8], mode: &str, owner: &str) -> Result<()> {
        // The path, mode and owner travel as arguments, never inside the script's text.
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
        let out = self.backend.exec(
            self.name,
            &argv,
            Some(contents.to_vec()),
            Some(SCRIPT_TIMEOUT),
        )?;
        out.demand_success(format!("(on {}) write `{path}`", self.name))?;
        Ok(())
    }

    /// An interactive root login shell attached to this terminal; its prompt carries the lab's
    /// name (Debian's bashrc puts `debian_chroot` in front: `(lab)root@node:~#`). Returns the
    /// shell's exit code.
    pub fn shell(&self, lab: &str) -> Result<i32> {
        let argv = ["bash", "-il"].map(String::from);
        self.backend
            .exec_attached(self.name, &argv, &[("debian_chroot", lab)])
    }

    /// `argv` attached to this terminal, as typed (`halab exec`); returns its exit code.
    pub fn attached(&self, argv: &[String]) -> Result<i32> {
        self.backend.exec_attached(self.name, argv, &[])
    }
}

impl dyn Backend + '_ {
    /// The handle for node `name` of this backend's lab.
    pub fn node<'a>(&'a self, name: &'a str) -> NodeHandle<'a> {
        NodeHandle::new(self, name)
    }
}
