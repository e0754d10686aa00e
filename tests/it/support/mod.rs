//! Shared by the integration tests: a private `HALAB_HOME` per test, running the real binary,
//! the root/daemon gate (skip with a reason; under `CI=true` a skip is a failure), the opening
//! every lab test shares (gate, lab slot, home, a lab destroyed on drop), and the hunt for
//! anything a lab left behind.
//!
//! Must not: let two lab tests build at once, in one process or in several (nextest runs each
//! test in its own process: the slot is a file lock).

mod run;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

pub use run::Test;

/// One lab at a time on this 2-core machine: tests that build labs hold this. A lock on a file
/// (released when the file closes), so it holds across processes as well as threads.
struct LabSlot {
    _held: std::fs::File,
    /// Which test holds it, how long it waited for it and since when it holds it: with
    /// `HALAB_TEST_TIMES=FILE` a line `test<TAB>waited_s<TAB>held_s` is appended to FILE when
    /// the slot is released (how the README's per-test breakdown of CI is measured).
    test: String,
    waited: Duration,
    since: Instant,
}

/// Wait for the lab slot of every test run on this host.
fn lab_slot(test: &str) -> LabSlot {
    let asked = Instant::now();
    let mut slot = lab_slot_at(&std::env::temp_dir().join("halab-test-lab-slot.lock"));
    slot.test = test.to_string();
    slot.waited = asked.elapsed();
    slot.since = Instant::now();
    slot
}

impl Drop for LabSlot {
    fn drop(&mut self) {
        let Some(file) = std::env::var_os("HALAB_TEST_TIMES") else {
            return;
        };
        let line = format!(
            "{}\t{:.1}\t{:.1}\n",
            self.test,
            self.waited.as_secs_f64(),
            self.since.elapsed().as_secs_f64()
        );
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
        {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

fn lab_slot_at(path: &Path) -> LabSlot {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open the lab slot {}: {e}", path.display()));
    file.lock()
        .unwrap_or_else(|e| panic!("lock the lab slot {}: {e}", path.display()));
    LabSlot {
        _held: file,
        test: String::new(),
        waited: Duration::ZERO,
        since: Instant::now(),
    }
}

pub fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Whether a test that needs `what` can run here; prints why not. Under CI a skip panics.
pub fn can_run(test: &str, what: &str, ok: bool) -> bool {
    if ok {
        return true;
    }
    let msg = format!("SKIPPED {test}: needs {what}");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg} (CI=true: skips are failures; .ci/run must provide it)");
    }
    eprintln!("{msg}");
    false
}

/// A halab with the netns backend (built with the default `netns` feature, on Linux), root,
/// and the lab's daemons installed on the host (the netns backend uses the host's own).
pub fn netns_ready(test: &str) -> bool {
    let have = |b: &str| Path::new(b).exists();
    can_run(
        test,
        "a halab built with the netns backend (the default feature `netns`, on Linux)",
        cfg!(netns),
    ) && can_run(test, "root", is_root())
        && can_run(
            test,
            "nginx, keepalived, postgresql, cron, sudo and curl installed (run `scripts/test`)",
            [
                "/usr/sbin/nginx",
                "/usr/sbin/keepalived",
                "/usr/bin/pg_createcluster",
                "/usr/sbin/cron",
                "/usr/bin/sudo",
                "/usr/bin/curl",
            ]
            .iter()
            .all(|b| have(b)),
        )
}

/// Root and LXD installed (halab starts and initialises the daemon itself).
fn lxd_ready(test: &str) -> bool {
    can_run(test, "root", is_root())
        && can_run(
            test,
            "LXD and debootstrap installed (run `scripts/test`)",
            which("lxc") && which("debootstrap"),
        )
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
}

/// `lxc query PATH` as JSON, `None` when absent.
pub fn lxc_query(path: &str) -> Option<serde_json::Value> {
    let o = std::process::Command::new("lxc")
        .args(["query", path])
        .output()
        .ok()?;
    o.status
        .success()
        .then(|| serde_json::from_slice(&o.stdout).ok())
        .flatten()
}

/// Everything of an lxd lab still in LXD: its project, its bridge, its instances.
pub fn lxd_leftovers(lab: &str) -> Vec<String> {
    let mut left = Vec::new();
    if lxc_query(&format!("/1.0/projects/halab-{lab}")).is_some() {
        left.push(format!("project halab-{lab}"));
    }
    let nets = lxc_query("/1.0/networks?recursion=1").unwrap_or_default();
    for n in nets.as_array().into_iter().flatten() {
        if n["config"]["user.halab.lab"] == lab {
            left.push(format!("network {}", n["name"]));
        }
    }
    left
}

/// Root, LXD and python3 with PyYAML: what the multipass test double
/// (`tests/it/support/multipass`) runs on.
fn multipass_ready(test: &str) -> bool {
    lxd_ready(test)
        && can_run(
            test,
            "python3 with PyYAML for the multipass test double (run `scripts/test`)",
            std::process::Command::new("python3")
                .args(["-c", "import yaml"])
                .output()
                .is_ok_and(|o| o.status.success()),
        )
}

/// `tests/it/support`, where the multipass test double is: first on PATH, it stands in for
/// `multipass`.
pub fn double_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support")
}

/// PATH with the multipass test double first.
fn path_with_double() -> String {
    format!(
        "{}:{}",
        double_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Run the multipass test double itself.
pub fn double(args: &[&str]) -> Output {
    std::process::Command::new(double_dir().join("multipass"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run the multipass test double")
}

/// The multipass instances of a lab (`halab-LAB-NODE`) still in the double.
pub fn multipass_leftovers(lab: &str) -> Vec<String> {
    let o = double(&["list", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    v["list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["name"].as_str())
        .filter(|n| n.starts_with(&format!("halab-{lab}-")))
        .map(|n| format!("multipass instance {n}"))
        .collect()
}

/// Removes the double's network and helper when dropped (its cached image stays).
struct DoubleGuard;

impl Drop for DoubleGuard {
    fn drop(&mut self) {
        let o = double(&["double-teardown"]);
        if !o.status.success() {
            eprintln!("multipass double teardown failed: {}", text(&o.stderr));
        }
    }
}

/// A private state directory and the `halab` binary pointed at it.
pub struct Home {
    pub dir: tempfile::TempDir,
    /// Environment for every halab run of this home (`HALAB_CONTENT`, `PATH`...).
    pub env: Vec<(String, String)>,
    /// Another halab binary to run (a build with other features); `None`: this build's.
    pub bin: Option<PathBuf>,
}

impl Home {
    pub fn new() -> Home {
        // Not under /tmp on purpose for one test; most use the default temp dir.
        Home {
            dir: tempfile::Builder::new()
                .prefix("halab-test-")
                .tempdir()
                .unwrap(),
            env: Vec::new(),
            bin: None,
        }
    }

    /// The same, running the halab binary at `bin` instead of this build's.
    pub fn with_bin(mut self, bin: PathBuf) -> Home {
        self.bin = Some(bin);
        self
    }

    /// The same, with `key=value` in every run's environment.
    pub fn with_env(mut self, key: &str, value: &str) -> Home {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn cmd(&self) -> std::process::Command {
        let mut c = match &self.bin {
            Some(bin) => std::process::Command::new(bin),
            None => std::process::Command::new(assert_cmd::cargo::cargo_bin!("halab")),
        };
        // Tests say their backend; without one it is netns, whatever daemons this host runs.
        c.env("HALAB_HOME", self.path())
            .env("NO_COLOR", "1")
            .env("HALAB_BACKEND", "netns")
            .env_remove("HALAB_LAB");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c.stdin(std::process::Stdio::null());
        c
    }

    /// Run halab with `args`; returns the output (never panics on a non-zero exit). With
    /// `HALAB_TEST_TRACE=FILE`, a line `seconds<TAB>args` is appended to FILE for each run, to see
    /// where a slow test spends its time.
    pub fn run(&self, args: &[&str]) -> Output {
        let t0 = std::time::Instant::now();
        let o = self.cmd().args(args).output().expect("run halab");
        if let Some(file) = std::env::var_os("HALAB_TEST_TRACE") {
            use std::io::Write;
            let line = format!("{:.1}\t{}\n", t0.elapsed().as_secs_f64(), args.join(" "));
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(file)
            {
                let _ = f.write_all(line.as_bytes());
            }
        }
        o
    }

    /// Run and demand success, showing stderr when it fails.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "halab {args:?} failed ({}):\n{}\n{}",
            o.status,
            text(&o.stdout),
            text(&o.stderr)
        );
        text(&o.stdout)
    }

    pub fn lab_dir(&self, lab: &str) -> PathBuf {
        self.path().join("labs").join(lab)
    }
}

/// The item of the JSON array `list` whose `id` is `id` (a report's step or check, a drill's run).
pub fn by_id<'a>(list: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .find(|x| x["id"] == id)
        .unwrap_or_else(|| panic!("no `{id}` in {list}"))
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Destroys its lab when dropped, so a failing test cleans up too.
pub struct LabGuard<'a> {
    pub home: &'a Home,
    pub name: String,
}

impl<'a> LabGuard<'a> {
    fn new(home: &'a Home, name: &str) -> LabGuard<'a> {
        LabGuard {
            home,
            name: name.to_string(),
        }
    }
}

impl LabGuard<'_> {
    /// `halab --lab NAME start LESSON EXTRA...`, demanding success; what it printed.
    pub fn start(&self, lesson: &str, extra: &[&str]) -> Output {
        let mut args = vec!["--lab", &self.name, "start", lesson];
        args.extend_from_slice(extra);
        let o = self.home.run(&args);
        assert!(
            o.status.success(),
            "halab {args:?} failed ({}):\n{}",
            o.status,
            text(&o.stderr)
        );
        o
    }
}

impl Drop for LabGuard<'_> {
    fn drop(&mut self) {
        let _ = self.home.run(&["--lab", &self.name, "destroy"]);
    }
}

/// The opening every lab test shares: the host can run the backend (else the test is skipped,
/// with the reason), the lab slot is held, and the test has a private home. Labs made with
/// [`Opening::lab`] are destroyed when dropped, before the slot is released.
pub struct Opening {
    pub home: Home,
    /// The multipass double's network, removed after the test's labs.
    _double: Option<DoubleGuard>,
    _slot: LabSlot,
}

impl Opening {
    fn new(test: &str, home: Home, double: Option<DoubleGuard>) -> Opening {
        let slot = lab_slot(test);
        Opening {
            home,
            _double: double,
            _slot: slot,
        }
    }

    /// A netns test; `None` when this host cannot run it.
    pub fn netns(test: &str) -> Option<Opening> {
        netns_ready(test).then(|| Opening::new(test, Home::new(), None))
    }

    /// An lxd test; `None` when this host cannot run it.
    pub fn lxd(test: &str) -> Option<Opening> {
        lxd_ready(test).then(|| Opening::new(test, Home::new(), None))
    }

    /// A multipass test against the test double, first on the home's PATH.
    pub fn multipass(test: &str) -> Option<Opening> {
        multipass_ready(test).then(|| {
            Opening::new(
                test,
                Home::new().with_env("PATH", &path_with_double()),
                Some(DoubleGuard),
            )
        })
    }

    /// The same, with `key=value` in every halab run's environment.
    pub fn with_env(mut self, key: &str, value: &str) -> Opening {
        self.home.env.push((key.to_string(), value.to_string()));
        self
    }

    /// The content is the tiny fixture (`tests/fixtures/tiny`): lab and lesson `tiny`, two
    /// plain nodes `box` and `peer` on 10.77.0.0/24.
    pub fn tiny(self) -> Opening {
        self.with_env(
            "HALAB_CONTENT",
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny"),
        )
    }

    /// A lab of this home, destroyed when dropped (so a failing test cleans up too).
    pub fn lab(&self, name: &str) -> LabGuard<'_> {
        LabGuard::new(&self.home, name)
    }
}

/// The pid-namespace ids of a lab's nodes (from their recorded PID 1).
pub fn node_pid_namespaces(home: &Home, lab: &str) -> Vec<String> {
    let nodes = home.lab_dir(lab).join("backend/nodes");
    let mut out = Vec::new();
    for e in std::fs::read_dir(nodes).into_iter().flatten().flatten() {
        let Ok(t) = std::fs::read_to_string(e.path().join("holder.json")) else {
            continue;
        };
        let v: serde_json::Value = serde_json::from_str(&t).unwrap();
        let pid = v["init_pid"].as_u64().unwrap();
        if let Ok(ns) = std::fs::read_link(format!("/proc/{pid}/ns/pid")) {
            out.push(ns.to_string_lossy().into_owned());
        }
    }
    out
}

/// Everything of a lab still on the host: its switch namespace, any process in one of its nodes'
/// pid namespaces or naming its directory, any mount of its directory, the directory itself.
pub fn leftovers(home: &Home, lab: &str, pid_namespaces: &[String]) -> Vec<String> {
    let mut left = Vec::new();
    let netns = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .unwrap();
    let sw = format!("halab-{lab}-sw");
    if text(&netns.stdout).split_whitespace().any(|w| w == sw) {
        left.push(format!("network namespace {sw}"));
    }
    // The lab's own directory, with a trailing slash so lab `a` does not match lab `ab`.
    let home_s = format!("{}/", home.lab_dir(lab).display());
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.parse::<u32>().is_err() {
            continue;
        }
        if let Ok(ns) = std::fs::read_link(e.path().join("ns/pid"))
            && pid_namespaces.contains(&ns.to_string_lossy().into_owned())
        {
            left.push(format!("process {name} in a node's pid namespace"));
        }
        if let Ok(c) = std::fs::read(e.path().join("cmdline"))
            && text(&c).contains(&home_s)
            && name != std::process::id().to_string()
        {
            left.push(format!("process {name}: {}", text(&c).replace('\0', " ")));
        }
    }
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    for l in mounts.lines().filter(|l| l.contains(&home_s)) {
        left.push(format!("mount {l}"));
    }
    if home.lab_dir(lab).exists() {
        left.push(format!("directory {}", home.lab_dir(lab).display()));
    }
    left
}

/// Destroy a lab and assert that nothing of it is left on the host.
pub fn destroy_and_check(home: &Home, lab: &str) {
    let namespaces = node_pid_namespaces(home, lab);
    assert!(
        !namespaces.is_empty(),
        "lab {lab} had no running node to check for"
    );
    home.ok(&["--lab", lab, "destroy"]);
    assert_eq!(leftovers(home, lab, &namespaces), Vec::<String>::new());
}

/// The host's own addresses, routes and links, to prove a lab added none.
pub fn host_network() -> String {
    let mut s = String::new();
    for args in [
        &["-o", "addr"][..],
        &["-o", "route"][..],
        &["-o", "-6", "route"][..],
        &["-o", "link"][..],
    ] {
        let o = std::process::Command::new("ip")
            .args(args)
            .output()
            .unwrap();
        s += &text(&o.stdout);
    }
    s
}

#[test]
fn the_lab_slot_is_held_against_any_other_opener_until_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slot.lock");
    let slot = lab_slot_at(&path);
    // Another open file description is what another process (nextest's) would have.
    let other = std::fs::File::open(&path).unwrap();
    assert!(
        matches!(other.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
        "a second opener got the slot while it was held"
    );
    drop(slot);
    other.try_lock().expect("the slot is free once dropped");
}

/// scripts/test runs the netns tests while the lxd images build (`--skip lxd --skip multipass`)
/// and the rest after: a test that opens an lxd or multipass lab must say so in its name, or it
/// would run before its image is there.
#[test]
fn every_lxd_or_multipass_test_says_so_in_its_name() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it");
    let mut openings = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let src = std::fs::read_to_string(&path).unwrap();
        // Each test's body is the text up to the next `#[test]`.
        for test in src.split("#[test]").skip(1) {
            let Some(name) = test
                .split_once("fn ")
                .and_then(|(_, rest)| rest.split_once('('))
                .map(|(name, _)| name.trim())
            else {
                continue;
            };
            // cargo's filters match the test's path, module included.
            let stem = path.file_stem().unwrap().to_string_lossy();
            let full = format!("{stem}::{name}");
            for backend in ["lxd", "multipass"] {
                if test.contains(&format!("Opening::{backend}(")) {
                    openings += 1;
                    assert!(
                        full.contains("lxd") || full.contains("multipass"),
                        "test `{full}` opens a {backend} lab but its path says neither lxd nor multipass"
                    );
                }
            }
        }
    }
    assert!(
        openings >= 5,
        "found only {openings} lxd or multipass openings"
    );
}
