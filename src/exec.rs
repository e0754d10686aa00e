//! The one place halab starts external processes.
//!
//! Callers describe a command as a [`Cmd`] (an argv, never a shell string) and get back an
//! [`Output`]. A non-zero exit is data inside the `Output`; only a command that cannot be started,
//! one that runs past its timeout, or one whose caller demanded success ([`Cmd::run_ok`]) is an
//! error, and that error names the exact command line, its exit status and its stderr.
//!
//! Must not: interpret what a command printed, or know what a node, lab or lesson is.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

/// How long a captured command may run unless its caller says otherwise.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// A command to run: program, arguments, environment, optional stdin bytes and a timeout.
#[derive(Clone, Debug)]
pub(crate) struct Cmd {
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    cwd: Option<PathBuf>,
    stdin: Option<Vec<u8>>,
    timeout: Option<Duration>,
}

/// What a finished command left behind. `code` is `None` when a signal ended it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Output {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// stdout exactly as written (for binary data such as archives).
    pub raw_stdout: Vec<u8>,
}

impl Output {
    pub(crate) fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// "exit status 3" or "killed by signal 9", for messages.
    pub(crate) fn status_text(&self) -> String {
        match (self.code, self.signal) {
            (Some(c), _) => format!("exit status {c}"),
            (None, Some(s)) => format!("killed by signal {s}"),
            (None, None) => "unknown status".into(),
        }
    }

    /// This output when it is a success; otherwise the one error for a failed command, naming
    /// `cmd` (as the caller wants it shown), the status and what the command said (stderr, or
    /// stdout when stderr is empty).
    pub(crate) fn demand_success(self, cmd: impl Into<String>) -> Result<Output, ExecError> {
        if self.success() {
            return Ok(self);
        }
        Err(ExecError::Failed {
            cmd: cmd.into(),
            status: self.status_text(),
            stderr: if self.stderr.trim().is_empty() {
                self.stdout
            } else {
                self.stderr
            },
        })
    }
}

/// Why a command could not give an [`Output`], or gave an unwanted one.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExecError {
    #[error("could not run `{cmd}`: {source}")]
    Spawn {
        cmd: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{cmd}` did not finish within {}s and was killed", after.as_secs_f32())]
    Timeout { cmd: String, after: Duration },
    #[error("`{cmd}` failed with {status}{}", stderr_block(.stderr))]
    Failed {
        cmd: String,
        status: String,
        stderr: String,
    },
}

fn stderr_block(stderr: &str) -> String {
    let t = stderr.trim();
    if t.is_empty() {
        String::new()
    } else {
        let lines: Vec<&str> = t.lines().collect();
        let tail = &lines[lines.len().saturating_sub(12)..];
        format!(":\n  {}", tail.join("\n  "))
    }
}

impl Cmd {
    pub(crate) fn new(program: impl AsRef<OsStr>) -> Self {
        Cmd {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            envs: Vec::new(),
            cwd: None,
            stdin: None,
            timeout: Some(DEFAULT_TIMEOUT),
        }
    }

    pub(crate) fn arg(mut self, a: impl AsRef<OsStr>) -> Self {
        self.args.push(a.as_ref().to_owned());
        self
    }

    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub(crate) fn env(mut self, k: impl AsRef<OsStr>, v: impl AsRef<OsStr>) -> Self {
        self.envs
            .push((k.as_ref().to_owned(), v.as_ref().to_owned()));
        self
    }

    #[cfg(any(netns, test))]
    pub(crate) fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    pub(crate) fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// `None` waits forever (package installs); the default is [`DEFAULT_TIMEOUT`].
    pub(crate) fn timeout(mut self, t: Option<Duration>) -> Self {
        self.timeout = t;
        self
    }

    /// The command line as a user would type it, for messages.
    pub(crate) fn display(&self) -> String {
        std::iter::once(&self.program)
            .chain(self.args.iter())
            .map(|a| shell_quote(&a.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Run with stdout and stderr captured. A non-zero exit is returned as data.
    pub(crate) fn run(&self) -> Result<Output, ExecError> {
        // A runtime of its own per call: callers fan out over nodes on plain threads, and a
        // current-thread runtime is cheap next to starting a process.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|source| ExecError::Spawn {
                cmd: self.display(),
                source,
            })?;
        rt.block_on(self.run_async())
    }

    /// Run and demand exit status 0; otherwise the error carries the command, status and stderr.
    pub(crate) fn run_ok(&self) -> Result<Output, ExecError> {
        let out = self.run()?;
        self.demand_success(out)
    }

    fn demand_success(&self, out: Output) -> Result<Output, ExecError> {
        out.demand_success(self.display())
    }

    /// [`Cmd::run`], run again while a failure is one its caller calls transient: at most
    /// `attempts` runs in all, `backoff` before the second and twice as long before each next.
    /// `transient` sees the failed output and names the error it recognises (`None`: a real
    /// failure, returned at once as it is); `before_retry` hears of each retry (attempt number
    /// and that name) and may tidy up what the failed run left. Exit status 0, a spawn error
    /// or a timeout is never retried; the last failure is returned as data, as `run` does.
    pub(crate) fn run_retrying(
        &self,
        attempts: u32,
        backoff: Duration,
        transient: impl Fn(&Output) -> Option<String>,
        mut before_retry: impl FnMut(u32, &str),
    ) -> Result<Output, ExecError> {
        let mut wait = backoff;
        let mut attempt = 1;
        loop {
            let out = self.run()?;
            if out.success() || attempt >= attempts.max(1) {
                return Ok(out);
            }
            let Some(cause) = transient(&out) else {
                return Ok(out);
            };
            before_retry(attempt, &cause);
            std::thread::sleep(wait);
            wait *= 2;
            attempt += 1;
        }
    }

    /// Run attached to halab's own terminal (stdin, stdout, stderr inherited); returns the exit
    /// code a shell would report. For `halab exec`, `halab shell` and the lesson's shells.
    /// Afterwards halab owns the terminal again, whatever the command did with it (see
    /// [`Terminal`]).
    pub(crate) fn run_attached(&self) -> Result<i32, ExecError> {
        let _terminal = Terminal::save();
        let mut c = self.std_command();
        let status = c.status().map_err(|source| ExecError::Spawn {
            cmd: self.display(),
            source,
        })?;
        use std::os::unix::process::ExitStatusExt;
        Ok(status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
    }

    /// Start a long-lived process in a new session, detached from halab (stdin from /dev/null,
    /// stdout and stderr appended to `log`), and return its PID. It outlives halab.
    pub(crate) fn spawn_detached(&self, log: &Path) -> Result<u32, ExecError> {
        let err = |source| ExecError::Spawn {
            cmd: self.display(),
            source,
        };
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(err)?;
        let errf = out.try_clone().map_err(err)?;
        // `setsid` makes the process a session leader: a Ctrl-C or a closed terminal that ends
        // halab does not reach it.
        let mut c = std::process::Command::new("setsid");
        c.arg(&self.program).args(&self.args);
        self.apply_env(&mut c);
        c.stdin(Stdio::null()).stdout(out).stderr(errf);
        let child = c.spawn().map_err(err)?;
        Ok(child.id())
    }

    fn std_command(&self) -> std::process::Command {
        let mut c = std::process::Command::new(&self.program);
        c.args(&self.args);
        self.apply_env(&mut c);
        c
    }

    fn apply_env(&self, c: &mut std::process::Command) {
        c.envs(self.envs.iter().map(|(k, v)| (k, v)));
        if let Some(d) = &self.cwd {
            c.current_dir(d);
        }
    }

    async fn run_async(&self) -> Result<Output, ExecError> {
        let mut c = tokio::process::Command::from(self.std_command());
        c.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        // Its own process group, so a timeout can end the whole tree it started.
        .process_group(0);
        let mut child = c.spawn().map_err(|source| ExecError::Spawn {
            cmd: self.display(),
            source,
        })?;
        let pid = child.id();
        if let (Some(bytes), Some(mut pipe)) = (self.stdin.clone(), child.stdin.take()) {
            // Written from a task so a command that prints before reading cannot deadlock us.
            tokio::spawn(async move {
                let _ = pipe.write_all(&bytes).await;
            });
        }
        let wait = child.wait_with_output();
        let result = match self.timeout {
            Some(t) => match tokio::time::timeout(t, wait).await {
                Ok(r) => r,
                Err(_) => {
                    if let Some(pid) = pid {
                        kill_group(pid);
                    }
                    return Err(ExecError::Timeout {
                        cmd: self.display(),
                        after: t,
                    });
                }
            },
            None => wait.await,
        };
        let out = result.map_err(|source| ExecError::Spawn {
            cmd: self.display(),
            source,
        })?;
        use std::os::unix::process::ExitStatusExt;
        Ok(Output {
            code: out.status.code(),
            signal: out.status.signal(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            raw_stdout: out.stdout,
        })
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

/// The terminal halab is attached to, as it was before an attached command took it over; put
/// back when dropped. An interactive shell in a node makes its own process group the terminal's
/// foreground group and cannot hand it back when it exits (in the node's PID namespace it cannot
/// see halab's group): halab would be a background job, and the next read of the keyboard would
/// stop it (`[1]+ Stopped`). A command may also leave the terminal's modes changed (raw, no
/// echo). So the foreground group (when it was halab's) and the modes are restored, with
/// SIGTTOU ignored meanwhile: a background group that sets either is otherwise stopped.
struct Terminal {
    fd: libc::c_int,
    /// halab's own process group when it was the terminal's foreground group.
    foreground: Option<libc::pid_t>,
    modes: Option<libc::termios>,
}

impl Terminal {
    /// The first of stdin, stdout, stderr that is a terminal; `None` when none is.
    fn save() -> Option<Terminal> {
        // SAFETY: isatty, tcgetpgrp, getpgrp and tcgetattr only read the state of an fd this
        // process holds; tcgetattr writes only into the termios it is given, used only if it
        // reports success.
        unsafe {
            let fd = [0, 1, 2].into_iter().find(|&fd| libc::isatty(fd) == 1)?;
            let pgrp = libc::tcgetpgrp(fd);
            let mut modes = std::mem::MaybeUninit::<libc::termios>::uninit();
            let modes = (libc::tcgetattr(fd, modes.as_mut_ptr()) == 0).then(|| modes.assume_init());
            Some(Terminal {
                fd,
                foreground: (pgrp > 0 && pgrp == libc::getpgrp()).then_some(pgrp),
                modes,
            })
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        // SAFETY: plain calls on an fd this process holds, with a termios tcgetattr filled; the
        // previous SIGTTOU disposition is put back as it was.
        unsafe {
            let before = libc::signal(libc::SIGTTOU, libc::SIG_IGN);
            if let Some(pgrp) = self.foreground {
                libc::tcsetpgrp(self.fd, pgrp);
            }
            if let Some(modes) = &self.modes {
                libc::tcsetattr(self.fd, libc::TCSADRAIN, modes);
            }
            libc::signal(libc::SIGTTOU, before);
        }
    }
}

/// Mark every file descriptor halab inherited beyond stdin, stdout and stderr close-on-exec, so
/// no program it starts inherits one. A node's daemons outlive halab: one holding an inherited
/// descriptor (the lock of `flock FILE halab start`, a caller's pipe) would hold it for as long
/// as the lab runs. Called once, first thing in `main`.
pub(crate) fn keep_inherited_fds_from_children() {
    let fds: Vec<libc::c_int> = match std::fs::read_dir("/proc/self/fd") {
        Ok(dir) => dir
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect(),
        Err(_) => (3..1024).collect(),
    };
    for fd in fds.into_iter().filter(|&fd| fd > 2) {
        // SAFETY: fcntl F_GETFD/F_SETFD only read and set the flags of a descriptor number; one
        // that is not open (the directory listing's own, closed by now) fails and is skipped.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
    }
}

/// SIGKILL the process group led by `pgid` (a command this module started in its own group).
fn kill_group(pgid: u32) {
    // SAFETY: kill(2) with a negative pid signals exactly the group we created; no memory involved.
    unsafe {
        libc::kill(-(pgid as i32), libc::SIGKILL);
    }
}

/// Quote one word for display the way a POSIX shell would accept it back.
pub(crate) fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonzero_exit_is_data_not_error() {
        let out = Cmd::new("sh")
            .args(["-c", "echo out; echo err >&2; exit 3"])
            .run()
            .unwrap();
        assert_eq!(out.code, Some(3));
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
    }

    #[test]
    fn run_ok_error_names_command_status_and_stderr() {
        let err = Cmd::new("sh")
            .args(["-c", "echo broken thing >&2; exit 4"])
            .run_ok()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`sh -c 'echo broken thing >&2; exit 4'`"),
            "{err}"
        );
        assert!(err.contains("exit status 4"), "{err}");
        assert!(err.contains("broken thing"), "{err}");
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let err = Cmd::new("sh")
            .args(["-c", "sleep 30 & sleep 30"])
            .timeout(Some(Duration::from_millis(200)))
            .run()
            .unwrap_err();
        assert!(matches!(err, ExecError::Timeout { .. }), "{err}");
    }

    #[test]
    fn stdin_is_delivered() {
        let out = Cmd::new("cat").stdin("hello").run().unwrap();
        assert_eq!(out.stdout, "hello");
    }

    #[test]
    fn missing_program_is_a_spawn_error() {
        let err = Cmd::new("/nonexistent/halab-x")
            .run()
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("could not run `/nonexistent/halab-x`"),
            "{err}"
        );
    }

    /// A command that counts its runs in `dir/n` and fails with `message` on stderr for the
    /// first `failures` of them.
    fn flaky(dir: &Path, failures: u32, message: &str) -> Cmd {
        let script = format!(
            "n=$(cat n 2>/dev/null || echo 0); n=$((n+1)); echo $n > n; \
             if [ $n -le {failures} ]; then echo '{message}' >&2; exit 1; fi; echo ok $n"
        );
        Cmd::new("sh").args(["-c", &script]).cwd(dir)
    }

    fn runs(dir: &Path) -> u32 {
        std::fs::read_to_string(dir.join("n"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    fn says_flake(out: &Output) -> Option<String> {
        out.stderr.contains("flake").then(|| "flake".to_string())
    }

    #[test]
    fn a_transient_failure_is_run_again_and_the_retry_is_told() {
        let dir = tempfile::tempdir().unwrap();
        let mut told = Vec::new();
        let out = flaky(dir.path(), 1, "a flake")
            .run_retrying(3, Duration::from_millis(10), says_flake, |n, cause| {
                told.push(format!("{n}:{cause}"))
            })
            .unwrap();
        assert_eq!(out.stdout, "ok 2\n");
        assert_eq!(runs(dir.path()), 2);
        assert_eq!(told, ["1:flake"]);
    }

    #[test]
    fn a_real_failure_is_not_run_again_and_keeps_its_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut told = 0;
        let c = flaky(dir.path(), 1, "disk full");
        let out = c
            .run_retrying(3, Duration::from_millis(10), says_flake, |_, _| told += 1)
            .unwrap();
        let err = c.demand_success(out).unwrap_err().to_string();
        assert_eq!(runs(dir.path()), 1);
        assert_eq!(told, 0);
        assert!(
            err.contains("exit status 1") && err.contains("disk full"),
            "{err}"
        );
    }

    #[test]
    fn retries_stop_after_the_attempts_and_return_the_last_failure() {
        let dir = tempfile::tempdir().unwrap();
        let out = flaky(dir.path(), 10, "still a flake")
            .run_retrying(3, Duration::from_millis(10), says_flake, |_, _| {})
            .unwrap();
        assert_eq!(runs(dir.path()), 3);
        assert_eq!(out.code, Some(1));
        assert!(out.stderr.contains("still a flake"), "{}", out.stderr);
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("plain-1.0"), "plain-1.0");
    }
}
