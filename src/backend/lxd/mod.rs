//! The lxd backend: one LXD container per node (real systemd inside) from a base image that has
//! every package of the lab already installed (`image`). Each lab lives in its own LXD project
//! `halab-<lab>`; its switch is a halab-made bridge with no host address, no NAT, no DHCP and no
//! DNS; addresses are static, set through the image's systemd-networkd template (`instances`).
//! The daemon is started, and initialised when nothing is there yet, by `daemon`. `incus` is
//! used the same way when it is the client installed. Here: the backend's names, how an LXD
//! command is run (retrying LXD's known transient failures), and the `Backend` impl.
//!
//! Must not: change anything of the user's LXD (default profile, pools, networks, instances). It
//! creates only its project, its bridge and its image, and initialises LXD only when nothing is
//! there yet, after a yes.

mod class;
mod daemon;
mod image;
mod instances;

pub(crate) use class::{add_remote, has_remote, network_address};
pub(crate) use daemon::{daemon, needs};

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use super::{Backend, LabSpec, NodeUp, Place};
use crate::content::template::Facts;
use crate::exec::{Cmd, ExecError, Output};
use crate::state::LabDir;
use crate::ui::{self, Progress};

/// Memory LXD may give one node (its `limits.memory`; a class project's limit is this per node).
const NODE_MEMORY_MIB: u64 = 768;

/// The snapshot `reset` goes back to.
const START_SNAPSHOT: &str = "halab-start";

pub(crate) struct Lxd {
    /// The lab's name on the daemon (its project and bridge are named after it).
    lab: String,
    home: PathBuf,
    /// An `lxc remote` (an LXD server or cluster) to place the lab on; `None`: the local daemon.
    remote: Option<String>,
}

/// The LXD client halab uses: `HALAB_LXD_CLIENT` (`lxc`, `incus` or a path), else `lxc`, else
/// `incus` when only that is installed.
pub(crate) fn client() -> String {
    if let Some(c) = std::env::var_os("HALAB_LXD_CLIENT").filter(|c| !c.is_empty()) {
        return c.to_string_lossy().into_owned();
    }
    if which::which("lxc").is_err() && which::which("incus").is_ok() {
        "incus".into()
    } else {
        "lxc".into()
    }
}

fn lxc() -> Cmd {
    Cmd::new(client())
}

/// How many times in all an LXD command that fails transiently is run, and the wait before the
/// second run (doubled before each next): a few seconds, the time LXD's helpers take to settle.
const LXD_ATTEMPTS: u32 = 3;
const LXD_BACKOFF: Duration = Duration::from_millis(700);

/// The line of `stderr` that is one of LXD's known transient errors under concurrent
/// operations, `None` for any other failure (which must fail at once, as it is). Each is a
/// request LXD refused or could not begin, so running it again is safe:
/// - `.../forkfile.sock: connect: no such file or directory`, `... connection reset by peer`,
///   `error receiving version packet`: the per-instance file helper (forkfile) exits after 10 s
///   idle or is not up yet after a create or copy, and a file or exec request that meets it in
///   that moment fails (canonical/lxd#18403; seen here with 8 instances created at once);
/// - `Failed to retrieve PID of executing child process`: `lxc exec` could not start the
///   command in the instance (canonical/lxd#8577, #12084);
/// - `Instance is busy running a "start" operation` (or stop, restart...): the instance's
///   operation lock is held by another request (canonical/lxd#10083, PR #11007).
///
/// Not here: websocket errors of a running `lxc exec` (`close 1006 (abnormal closure)`), after
/// which the command may have run; running it again would not be safe.
fn transient_lxd_error(stderr: &str) -> Option<String> {
    const MARKERS: [&str; 3] = [
        "forkfile.sock",
        "Failed to retrieve PID of executing child process",
        "Instance is busy running a",
    ];
    stderr
        .lines()
        .map(str::trim)
        .find(|line| MARKERS.iter().any(|m| line.contains(m)))
        .map(String::from)
}

/// Run an LXD client command, again (up to [`LXD_ATTEMPTS`]) when it fails with a transient
/// LXD error, which is named in a warning; `tidy` removes what a failed attempt left before the
/// next. A non-zero exit is data, as [`Cmd::run`].
fn run_lxd(c: &Cmd, what: &str, tidy: impl Fn()) -> Result<Output, ExecError> {
    c.run_retrying(
        LXD_ATTEMPTS,
        LXD_BACKOFF,
        |out| transient_lxd_error(&out.stderr),
        |attempt, cause| {
            warn_retry(what, attempt, cause);
            tidy();
        },
    )
}

/// [`run_lxd`] that demands exit status 0, as [`Cmd::run_ok`].
fn run_lxd_ok(c: &Cmd, what: &str, tidy: impl Fn()) -> Result<Output, ExecError> {
    run_lxd(c, what, tidy)?.demand_success(c.display())
}

fn warn_retry(what: &str, attempt: u32, cause: &str) {
    ui::warn(format!(
        "{what}: LXD failed transiently (`{cause}`); trying again ({} of {LXD_ATTEMPTS})",
        attempt + 1
    ));
}

/// `lxc query PATH` as JSON; `None` when the object does not exist.
fn query(path: &str) -> Result<Option<serde_json::Value>> {
    let out = lxc()
        .args(["query", path])
        .timeout(Some(Duration::from_secs(30)))
        .run()?;
    if out.success() {
        return Ok(Some(serde_json::from_str(&out.stdout).with_context(
            || format!("`{} query {path}` printed no JSON", client()),
        )?));
    }
    if out.stderr.contains("not found") || out.stderr.contains("Not Found") {
        return Ok(None);
    }
    bail!("`{} query {path}` failed: {}", client(), out.stderr.trim())
}

/// A short, stable tag for a string (FNV-1a), for names LXD limits in length.
fn tag(s: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    format!("{:08x}", h as u32)
}

impl Lxd {
    pub(crate) fn new(lab: &LabDir, place: Place) -> Lxd {
        let home = lab
            .path
            .parent()
            .and_then(|p| p.parent())
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Lxd {
            lab: place.lxd_name.as_ref().unwrap_or(&lab.name).to_string(),
            home,
            remote: place.remote,
        }
    }

    /// `NAME` on the local daemon, `REMOTE:NAME` on a remote one.
    fn on(&self, name: &str) -> String {
        match &self.remote {
            Some(r) => format!("{r}:{name}"),
            None => name.to_string(),
        }
    }

    /// A query of the target daemon.
    fn q(&self, path: &str) -> Result<Option<serde_json::Value>> {
        query(&self.on(path))
    }

    pub(crate) fn project(&self) -> String {
        format!("halab-{}", self.lab)
    }

    /// The lab's bridge (in LXD's default project; bridge names have at most 15 characters).
    pub(crate) fn network(&self) -> String {
        format!("halab{}", tag(&self.lab))
    }

    fn in_project(&self, c: Cmd) -> Cmd {
        c.args(["--project", &self.project()])
    }

    /// Whether nothing of any lab can be on the target daemon: no client, or a local daemon
    /// that does not answer (a remote is asked and its failure said).
    fn absent(&self) -> bool {
        which::which(client()).is_err() || (self.remote.is_none() && !daemon().answers())
    }
}

impl Backend for Lxd {
    fn host_packages(&self) -> Vec<String> {
        daemon::host_packages(which::which("lxc").is_ok() || which::which("incus").is_ok())
    }

    fn prepare(&self, _spec: &LabSpec, assume_yes: bool) -> Result<()> {
        daemon::ready(self.remote.as_deref(), assume_yes)
    }

    fn facts(&self, spec: &LabSpec) -> Result<Facts> {
        // Builds the image once; the lab's own facts are asked in the running nodes after `up`.
        self.ensure_image(spec)?;
        Ok(Facts::default())
    }

    fn up(
        &self,
        spec: &LabSpec,
        recreate: &BTreeSet<String>,
        progress: &Progress,
    ) -> Result<BTreeMap<String, NodeUp>> {
        self.up_all(spec, recreate, progress)
    }

    fn exec(
        &self,
        node: &str,
        argv: &[String],
        stdin: Option<Vec<u8>>,
        timeout: Option<Duration>,
    ) -> Result<Output> {
        if self.status(node).as_deref() != Some("Running") {
            return Err(super::not_running(&self.lab, node));
        }
        let mut c = self
            .in_project(lxc().args(["exec", &self.on(node)]))
            .args(["--cwd", "/", "--env", "LANG=C.UTF-8", "--"])
            .args(argv)
            .timeout(timeout.or(Some(crate::exec::DEFAULT_TIMEOUT)));
        if let Some(b) = stdin {
            c = c.stdin(b);
        }
        Ok(run_lxd(
            &c,
            &format!("running a command in node `{node}`"),
            || {},
        )?)
    }

    fn exec_attached(&self, node: &str, argv: &[String], env: &[(&str, &str)]) -> Result<i32> {
        let mut c = self.in_project(lxc().args(["exec", &self.on(node)])).args([
            "--cwd",
            "/root",
            "--env",
            "LANG=C.UTF-8",
        ]);
        for (k, v) in env {
            c = c.arg("--env").arg(format!("{k}={v}"));
        }
        Ok(c.arg("--").args(argv).timeout(None).run_attached()?)
    }

    fn is_running(&self, node: &str) -> bool {
        self.status(node).as_deref() == Some("Running")
    }

    fn crash_node(&self, node: &str) -> Result<()> {
        run_lxd_ok(
            &self.in_project(lxc().args(["stop", "--force", &self.on(node)])),
            &format!("stopping node `{node}`"),
            || {},
        )?;
        Ok(())
    }

    fn snapshot(&self, nodes: &[String]) -> Result<bool> {
        self.snapshot_all(nodes)?;
        Ok(true)
    }

    fn restore(&self, nodes: &[String], progress: &Progress) -> Result<Vec<String>> {
        self.restore_all(nodes, progress)
    }

    fn purge_cache(&self) -> Result<usize> {
        if self.absent() {
            return Ok(0);
        }
        self.purge_images()
    }

    fn leftovers(&self) -> Result<Vec<String>> {
        if self.absent() {
            return Ok(Vec::new());
        }
        self.leftovers_list()
    }

    fn down(&self) -> Result<()> {
        if self.absent() {
            // No LXD: nothing of this lab can exist in it.
            return Ok(());
        }
        self.remove_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    const FORKFILE: &str =
        "Error: dial unix /proc/self/fd/111/forkfile.sock: connect: no such file or directory";

    #[test]
    fn lxds_transient_errors_are_told_from_real_failures() {
        for transient in [
            FORKFILE,
            "Error: error receiving version packet from server: error reading packet length: 0 of 4: read unix @->/proc/self/fd/46/forkfile.sock: read: connection reset by peer",
            "Error: Failed to retrieve PID of executing child process",
            "Error: Failed to retrieve PID of executing child process: EOF",
            "Creating lb-01\nError: Instance is busy running a \"start\" operation",
            "Error: Failed to create instance delete operation: Instance is busy running a \"stop\" operation",
        ] {
            let line = transient_lxd_error(transient);
            assert!(
                line.as_deref()
                    .is_some_and(|l| l.starts_with("Error:") && transient.contains(l)),
                "{transient:?} gave {line:?}"
            );
        }
        for real in [
            "",
            "Error: Instance not found",
            "Error: Failed instance creation: Failed creating instance record: Instance \"lb-01\" already exists",
            "Error: Failed to run: /usr/bin/lxd forkstart lb-01 /var/lib/lxd/containers /var/log/lxd/lb-01/lxc.conf: exit status 1",
            "Error: websocket: close 1006 (abnormal closure): unexpected EOF",
            "Error: Storage pool not found",
            "bash: line 1: nginx: command not found",
        ] {
            assert_eq!(transient_lxd_error(real), None, "{real:?}");
        }
    }

    /// A stand-in for `lxc`: counts its runs in `dir/n` and prints `message` on stderr with exit
    /// status 1 for the first `failures` of them, then succeeds.
    fn flaky_lxc(dir: &Path, failures: u32, message: &str) -> Cmd {
        let script = format!(
            "n=$(cat n 2>/dev/null || echo 0); n=$((n+1)); echo $n > n; \
             if [ $n -le {failures} ]; then echo '{message}' >&2; exit 1; fi; echo done"
        );
        Cmd::new("sh").args(["-c", &script]).cwd(dir)
    }

    fn runs(dir: &Path) -> u32 {
        fs::read_to_string(dir.join("n"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    #[test]
    fn a_transient_lxd_failure_is_retried_after_tidying_up() {
        let dir = tempfile::tempdir().unwrap();
        let tidied = std::cell::Cell::new(0);
        let out = run_lxd_ok(
            &flaky_lxc(dir.path(), 1, FORKFILE),
            "launching node `n1`",
            || tidied.set(tidied.get() + 1),
        )
        .unwrap();
        assert_eq!(out.stdout, "done\n");
        assert_eq!(runs(dir.path()), 2);
        assert_eq!(tidied.get(), 1);
        // As data too (`exec`): the second run's output is the answer.
        let dir = tempfile::tempdir().unwrap();
        let out = run_lxd(
            &flaky_lxc(
                dir.path(),
                1,
                "Error: Failed to retrieve PID of executing child process",
            ),
            "running a command in node `n1`",
            || {},
        )
        .unwrap();
        assert!(out.success() && runs(dir.path()) == 2, "{out:?}");
    }

    #[test]
    fn a_real_lxd_failure_fails_at_once_with_its_own_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = run_lxd_ok(
            &flaky_lxc(dir.path(), 1, "Error: Storage pool not found"),
            "launching node `n1`",
            || panic!("nothing to tidy after a real failure"),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(runs(dir.path()), 1);
        assert!(err.contains("Error: Storage pool not found"), "{err}");
        // A command's own failure inside the node is data, returned as it is.
        let dir = tempfile::tempdir().unwrap();
        let out = run_lxd(&flaky_lxc(dir.path(), 1, "no such unit"), "exec", || {}).unwrap();
        assert_eq!((out.code, runs(dir.path())), (Some(1), 1));
    }

    #[test]
    fn a_transient_lxd_failure_that_persists_fails_after_the_last_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let err = run_lxd_ok(&flaky_lxc(dir.path(), 99, FORKFILE), "launching", || {})
            .unwrap_err()
            .to_string();
        assert_eq!(runs(dir.path()), LXD_ATTEMPTS);
        assert!(err.contains("forkfile.sock"), "{err}");
    }

    #[test]
    fn names_fit_lxd_limits() {
        let d = LabDir::new(
            Path::new("/tmp/h"),
            &"a-rather-long-lab-20".parse().unwrap(),
        );
        let l = Lxd::new(&d, Place::default());
        assert!(l.network().len() <= 15, "{}", l.network());
        assert_ne!(
            l.network(),
            Lxd::new(
                &LabDir::new(Path::new("/tmp/h"), &"b".parse().unwrap()),
                Place::default()
            )
            .network()
        );
        assert_eq!(l.on("x"), "x");
        assert_eq!(
            Lxd::new(&d, Place::on(Some("srv".into()))).on("lb-01"),
            "srv:lb-01"
        );
        assert_eq!(l.project(), "halab-a-rather-long-lab-20");
    }
}
