//! `Test`: one run of halab and what it must show, said the way just's and cargo's tests say it:
//! `Test::new().args(["--lab", "x", "status"]).status(2).stderr_has("error:").run()`. Without
//! `.status(..)` the run must succeed; every expectation that fails is named with the command,
//! its exit status, stdout and stderr.
//!
//! Must not: leave a run going (a run over its `.timeout(..)` is killed and fails the test).

use std::ffi::OsString;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Home, text};

/// The home a run uses: its own, or one the test shares between runs.
enum HomeRef<'h> {
    Own(Box<Home>),
    Shared(&'h Home),
}

/// One halab run to make, and what it must print and how it must end.
#[must_use = "a Test does nothing until `.run()`"]
pub struct Test<'h> {
    home: HomeRef<'h>,
    args: Vec<OsString>,
    env: Vec<(String, Option<OsString>)>,
    stdin: Option<String>,
    /// The exit code it must end with; `None`: any.
    status: Option<i32>,
    stdout_has: Vec<String>,
    stdout_lacks: Vec<String>,
    stderr_has: Vec<String>,
    timeout: Option<Duration>,
    as_nobody: bool,
}

/// How a run ended and what it printed.
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Test<'static> {
    /// A run in a fresh private home.
    pub fn new() -> Test<'static> {
        Test::with(HomeRef::Own(Box::new(Home::new())))
    }
}

impl<'h> Test<'h> {
    /// A run in `home` (its environment included).
    pub fn in_home(home: &'h Home) -> Test<'h> {
        Test::with(HomeRef::Shared(home))
    }

    fn with(home: HomeRef<'h>) -> Test<'h> {
        Test {
            home,
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
            status: Some(0),
            stdout_has: Vec::new(),
            stdout_lacks: Vec::new(),
            stderr_has: Vec::new(),
            timeout: None,
            as_nobody: false,
        }
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<A: Into<OsString>>(mut self, args: impl IntoIterator<Item = A>) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Self {
        self.env.push((key.to_string(), Some(value.into())));
        self
    }

    pub fn env_remove(mut self, key: &str) -> Self {
        self.env.push((key.to_string(), None));
        self
    }

    pub fn stdin(mut self, input: &str) -> Self {
        self.stdin = Some(input.to_string());
        self
    }

    /// It must end with this exit code.
    pub fn status(mut self, code: i32) -> Self {
        self.status = Some(code);
        self
    }

    /// However it ends is fine (the test looks at the result itself).
    pub fn any_status(mut self) -> Self {
        self.status = None;
        self
    }

    pub fn stdout_has(mut self, part: &str) -> Self {
        self.stdout_has.push(part.to_string());
        self
    }

    pub fn stdout_lacks(mut self, part: &str) -> Self {
        self.stdout_lacks.push(part.to_string());
        self
    }

    pub fn stderr_has(mut self, part: &str) -> Self {
        self.stderr_has.push(part.to_string());
        self
    }

    /// It must end within `limit`, else it is killed and the test fails.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// Run it as user `nobody` when the test runs as root (as it is, otherwise).
    pub fn by_nobody(mut self) -> Self {
        self.as_nobody = true;
        self
    }

    /// Run it and check every expectation; the result, for the test's own further checks.
    pub fn run(self) -> Ran {
        let home = match &self.home {
            HomeRef::Own(h) => h,
            HomeRef::Shared(h) => *h,
        };
        let mut c = home.cmd();
        if self.as_nobody && super::is_root() {
            // setpriv, with the environment halab would have had.
            let mut as_nobody = Command::new("setpriv");
            as_nobody
                .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
                .arg(c.get_program())
                .stdin(Stdio::null());
            for (k, v) in c.get_envs() {
                match v {
                    Some(v) => as_nobody.env(k, v),
                    None => as_nobody.env_remove(k),
                };
            }
            c = as_nobody;
        }
        c.args(&self.args);
        for (k, v) in &self.env {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        let shown = self
            .args
            .iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ");
        // Output goes to files, so that a run that never ends can be killed and still shown.
        let logs = tempfile::tempdir().unwrap();
        let (out_path, err_path) = (logs.path().join("out"), logs.path().join("err"));
        c.stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(std::fs::File::create(&err_path).unwrap());
        if self.stdin.is_some() {
            c.stdin(Stdio::piped());
        }
        let mut child = c.spawn().expect("run halab");
        if let Some(input) = &self.stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        let started = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if let Some(limit) = self.timeout
                && started.elapsed() > limit
            {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!(
                    "`halab {shown}` did not end within {limit:?}; it printed:\n{}",
                    std::fs::read_to_string(&out_path).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let ran = Ran {
            code: status.code(),
            stdout: text(&std::fs::read(&out_path).unwrap()),
            stderr: text(&std::fs::read(&err_path).unwrap()),
        };
        let fail = |what: String| -> ! {
            panic!(
                "`halab {shown}` {what}\n(exit {:?})\n--- stdout\n{}\n--- stderr\n{}",
                ran.code, ran.stdout, ran.stderr
            )
        };
        if let Some(want) = self.status
            && ran.code != Some(want)
        {
            fail(format!("should exit {want}"));
        }
        for part in &self.stdout_has {
            if !ran.stdout.contains(part.as_str()) {
                fail(format!("should print {part:?}"));
            }
        }
        for part in &self.stdout_lacks {
            if ran.stdout.contains(part.as_str()) {
                fail(format!("should not print {part:?}"));
            }
        }
        for part in &self.stderr_has {
            if !ran.stderr.contains(part.as_str()) {
                fail(format!("should say {part:?} on stderr"));
            }
        }
        ran
    }
}

#[test]
#[should_panic(expected = "should exit 3")]
fn a_run_that_ends_otherwise_fails_naming_what_was_expected() {
    Test::new().arg("--version").status(3).run();
}

#[test]
#[should_panic(expected = "should say \"no such words\" on stderr")]
fn a_missing_message_fails_naming_it() {
    Test::new()
        .arg("--version")
        .stderr_has("no such words")
        .run();
}
