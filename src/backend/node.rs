//! One node of a running lab, as everything above the backend uses it: run a script and read
//! its [`Output`], run one and demand success, put a file, open a shell. Provisioning, checks,
//! drills, solutions and the runner all go through these few verbs, so a node is asked the same
//! way everywhere and a failure reads the same everywhere.
//!
//! Must not: know any lesson, step, node or service by name, or interpret what a script prints.

use std::time::Duration;

use anyhow::Result;

use super::Backend;
use crate::exec::{ExecError, Output};

/// How long a script may run on a node unless its caller says otherwise.
pub(crate) const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// How long one attempt at [`NodeHandle::put_file`] may take. Writing a small file takes
/// milliseconds; an attempt still running after this has hung in the backend (LXD's exec does,
/// rarely, with several execs in flight: canonical/lxd#1803, #3575), and the write is tried again.
const PUT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// Attempts at [`NodeHandle::put_file`] before its timeout is the answer.
const PUT_ATTEMPTS: u32 = 3;

/// A node of a lab, reached through its backend.
#[derive(Clone, Copy)]
pub(crate) struct NodeHandle<'a> {
    backend: &'a dyn Backend,
    name: &'a str,
}

impl<'a> NodeHandle<'a> {
    pub(crate) fn new(backend: &'a dyn Backend, name: &'a str) -> Self {
        NodeHandle { backend, name }
    }

    /// Run `script` with bash as root; a non-zero exit is data. An error means the script could
    /// not run (the node is down, the backend failed) or ran past `timeout` and was killed.
    pub(crate) fn run(&self, script: &str, timeout: Duration) -> Result<Output> {
        self.run_with_input(script, None, timeout)
    }

    /// [`NodeHandle::run`] with `stdin` fed to the script.
    pub(crate) fn run_with_input(
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
    pub(crate) fn run_ok(&self, script: &str, timeout: Duration) -> Result<Output> {
        self.run_ok_with_input(script, None, timeout)
    }

    /// [`NodeHandle::run_ok`] with `stdin` fed to the script.
    pub(crate) fn run_ok_with_input(
        &self,
        script: &str,
        stdin: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<Output> {
        let out = self.run_with_input(script, stdin, timeout)?;
        Ok(out.demand_success(format!("(on {}) {script}", self.name))?)
    }

    /// Place a file: parent directories, contents, mode (octal, `0644`) and owner
    /// (`user:group`). The write is idempotent, so an attempt that hangs is killed and tried
    /// again ([`PUT_ATTEMPTS`] in all, [`PUT_ATTEMPT_TIMEOUT`] each); any other failure is
    /// returned at once.
    pub(crate) fn put_file(
        &self,
        path: &str,
        contents: &[u8],
        mode: &str,
        owner: &str,
    ) -> Result<()> {
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
        let mut attempt = 1;
        let out = loop {
            match self.backend.exec(
                self.name,
                &argv,
                Some(contents.to_vec()),
                Some(PUT_ATTEMPT_TIMEOUT),
            ) {
                Err(e) if timed_out(&e) && attempt < PUT_ATTEMPTS => {
                    crate::ui::warn(format!(
                        "writing `{path}` on node `{}` hung and was killed; trying again ({} of {PUT_ATTEMPTS})",
                        self.name,
                        attempt + 1
                    ));
                    attempt += 1;
                }
                result => break result?,
            }
        };
        out.demand_success(format!("(on {}) write `{path}`", self.name))?;
        Ok(())
    }

    /// An interactive root login shell attached to this terminal; its prompt carries the lab's
    /// name (Debian's bashrc puts `debian_chroot` in front: `(lab)root@node:~#`). Returns the
    /// shell's exit code.
    pub(crate) fn shell(&self, lab: &str) -> Result<i32> {
        let argv = ["bash", "-il"].map(String::from);
        self.backend
            .exec_attached(self.name, &argv, &[("debian_chroot", lab)])
    }

    /// `argv` attached to this terminal, as typed (`halab exec`); returns its exit code.
    pub(crate) fn attached(&self, argv: &[String]) -> Result<i32> {
        self.backend.exec_attached(self.name, argv, &[])
    }
}

/// Whether `err` is, anywhere in its chain, a command killed for running past its timeout.
fn timed_out(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        matches!(
            e.downcast_ref::<ExecError>(),
            Some(ExecError::Timeout { .. })
        )
    })
}

impl dyn Backend + '_ {
    /// The handle for node `name` of this backend's lab.
    pub(crate) fn node<'a>(&'a self, name: &'a str) -> NodeHandle<'a> {
        NodeHandle::new(self, name)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::backend::fake::ExecOnly;

    /// One `exec` as the backend received it: argv, stdin, timeout.
    type Call = (Vec<String>, Option<Vec<u8>>, Option<Duration>);

    /// A backend whose `exec` times out its first `hangs` times, then succeeds, and records
    /// what it was given. Only `exec` is reachable from a node handle's file write.
    struct Hanging {
        hangs: u32,
        calls: Mutex<Vec<Call>>,
    }

    impl ExecOnly for Hanging {
        fn exec(
            &self,
            _node: &str,
            argv: &[String],
            stdin: Option<Vec<u8>>,
            timeout: Option<Duration>,
        ) -> Result<Output> {
            let mut calls = self.calls.lock().unwrap();
            calls.push((argv.to_vec(), stdin, timeout));
            if calls.len() as u32 <= self.hangs {
                return Err(anyhow::Error::new(ExecError::Timeout {
                    cmd: "lxc exec".into(),
                    after: timeout.unwrap(),
                })
                .context("running a command in node `n`"));
            }
            Ok(Output {
                code: Some(0),
                signal: None,
                stdout: String::new(),
                stderr: String::new(),
                raw_stdout: Vec::new(),
            })
        }
    }

    fn hanging(hangs: u32) -> Hanging {
        Hanging {
            hangs,
            calls: Mutex::new(Vec::new()),
        }
    }

    #[test]
    fn a_file_write_that_hangs_is_tried_again_with_the_same_request() {
        let b = hanging(PUT_ATTEMPTS - 1);
        let backend: &dyn Backend = &b;
        backend
            .node("n")
            .put_file("/etc/x", b"data", "0644", "root:root")
            .unwrap();
        let calls = b.calls.lock().unwrap();
        assert_eq!(calls.len() as u32, PUT_ATTEMPTS);
        assert!(calls.iter().all(|c| c == &calls[0]), "{calls:?}");
        assert_eq!(calls[0].1.as_deref(), Some(&b"data"[..]));
        assert_eq!(calls[0].2, Some(PUT_ATTEMPT_TIMEOUT));
    }

    #[test]
    fn a_file_write_that_keeps_hanging_reports_the_timeout() {
        let b = hanging(u32::MAX);
        let backend: &dyn Backend = &b;
        let err = backend
            .node("n")
            .put_file("/etc/x", b"data", "0644", "root:root")
            .unwrap_err();
        assert!(timed_out(&err), "{err:#}");
        assert_eq!(b.calls.lock().unwrap().len() as u32, PUT_ATTEMPTS);
    }
}
