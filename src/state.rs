//! Per-lab state on disk: where it lives, the lab's record (backend, content snapshot, facts,
//! which nodes are provisioned), its secrets, and the one lock per lab.
//!
//! Layout: `$HALAB_HOME/labs/<lab>/` holds `lab.json`, `lab.toml` (the lab file as it was when
//! the lab was created), `secrets.json` (mode 0600) and the backend's own directory;
//! `$HALAB_HOME/locks/<lab>.lock` is the lock. Writes are atomic (temporary file + rename), so a
//! crash never leaves half a record. Must not: run commands or talk to a backend.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

use crate::content::template::Facts;
use crate::ui::Problem;

/// The state directory: `HALAB_HOME`, else `/var/lib/halab` for root, else
/// `$XDG_STATE_HOME/halab` (default `~/.local/state/halab`).
pub(crate) fn home() -> PathBuf {
    if let Some(h) = std::env::var_os("HALAB_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(h);
    }
    if crate::host::is_root() {
        return PathBuf::from("/var/lib/halab");
    }
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(x).join("halab");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into());
    PathBuf::from(home).join(".local/state/halab")
}

pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A Unix time as `2026-11-26 04:36 UTC`.
pub(crate) fn format_time(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|secs| jiff::Timestamp::from_second(secs).ok())
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        // Past year 9999: no calendar date, but still a readable time.
        .unwrap_or_else(|| format!("Unix time {unix}"))
}

/// Where a lab's build has got to.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Phase {
    /// Being built (or a build was interrupted).
    Building,
    /// Every node provisioned.
    Ready,
}

/// halab's bookkeeping for one node.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub(crate) struct NodeRecord {
    /// The node has been through its one-time provisioning (files, setup, init).
    pub provisioned: bool,
}

/// The ways halab can realise a lab. A lab record may name one this build lacks (netns in a
/// build without it): [`BackendKind::is_built`] tells.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum BackendKind {
    /// Linux namespaces on this host (root; seconds to build; uses the host's own packages).
    Netns,
    /// LXD (or incus) containers with real systemd; a cached base image; snapshots for reset.
    Lxd,
    /// multipass VMs (Linux, macOS) from Ubuntu images with cloud-init; minutes to build.
    Multipass,
}

impl BackendKind {
    /// The word for it on the command line and in lab records.
    pub(crate) fn name(self) -> &'static str {
        match self {
            BackendKind::Netns => "netns",
            BackendKind::Lxd => "lxd",
            BackendKind::Multipass => "multipass",
        }
    }

    /// Whether this build of halab has the backend: netns only with the `netns` feature (on by
    /// default) on Linux.
    pub(crate) fn is_built(self) -> bool {
        self != BackendKind::Netns || cfg!(netns)
    }

    /// The backends this build has, in the order `doctor` shows them.
    pub(crate) fn built() -> Vec<BackendKind> {
        <BackendKind as clap::ValueEnum>::value_variants()
            .iter()
            .copied()
            .filter(|k| k.is_built())
            .collect()
    }
}

impl clap::ValueEnum for BackendKind {
    fn value_variants<'a>() -> &'a [Self] {
        &[BackendKind::Netns, BackendKind::Lxd, BackendKind::Multipass]
    }

    /// A backend this build lacks is still accepted (and hidden from help and completions), so
    /// that `--backend netns` is told why it cannot be rather than that the word is unknown.
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let help = match self {
            BackendKind::Netns => {
                "Linux namespaces on this host (root; seconds to build; uses the host's own packages)"
            }
            BackendKind::Lxd => {
                "LXD (or incus) containers with real systemd; a cached base image; snapshots for reset"
            }
            BackendKind::Multipass => {
                "multipass VMs (Linux, macOS) from Ubuntu images with cloud-init; minutes to build"
            }
        };
        Some(
            clap::builder::PossibleValue::new(self.name())
                .help(help)
                .hide(!self.is_built()),
        )
    }
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything halab remembers about one lab.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub(crate) struct LabRecord {
    /// The lab's name (`--lab`).
    pub name: LabName,
    /// The lesson it was started for.
    pub lesson: String,
    /// The backend that realises it, for its whole life.
    pub backend: BackendKind,
    /// Unix time of creation.
    pub created: u64,
    pub phase: Phase,
    /// What the lab found on its running nodes (its `[facts]`, the backend's network).
    pub facts: Facts,
    pub nodes: BTreeMap<String, NodeRecord>,
    /// The `lxc remote` an lxd lab lives on (`--lxd-remote`); none for the local daemon.
    #[serde(default)]
    pub remote: Option<String>,
    /// The trainee's progress, per step id.
    #[serde(default)]
    pub progress: BTreeMap<String, StepProgress>,
    /// The latest full or partial `halab check`.
    #[serde(default)]
    pub last_check: Option<LastCheck>,
    /// The latest result of each drill (`halab drill`), by drill id, as the drill module writes
    /// it: the store keeps it without knowing its shape.
    #[serde(default)]
    pub drills: BTreeMap<String, serde_json::Value>,
    /// The lab's place in a class (`halab class create`, `halab join`): its state then lives
    /// with the lab on the LXD server, and this copy is refreshed before and stored after every
    /// command (see `class::shelf`). Local to this machine: never stored on the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seat: Option<Seat>,
}

/// A class lab as one machine knows it: whose it is and what its holder may do.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub(crate) struct Seat {
    /// The class (`halab class create CLASS`).
    pub class: String,
    /// The trainee the lab is for.
    pub trainee: String,
    /// The lab's name on the LXD server (its project is `halab-<lxd_name>`), which a trainee's
    /// own name for it (the lesson's id) need not be.
    pub lxd_name: LabName,
    /// This machine is the instructor's (who may do anything to the lab), not the trainee's.
    pub instructor: bool,
    /// The class lets its trainees reset their lab (read from the server's project, which the
    /// trainee cannot change).
    #[serde(default)]
    pub allow_reset: bool,
    /// The class lets its trainees apply reference solutions.
    #[serde(default)]
    pub allow_solve: bool,
}

/// A summary of a `halab check` run.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub(crate) struct LastCheck {
    pub at: u64,
    pub passed: usize,
    pub total: usize,
}

/// Where the trainee is with one step.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub(crate) struct StepProgress {
    /// Unix time of the latest run in which every check of the step passed.
    #[serde(default)]
    pub passed_at: Option<u64>,
    /// Its reference solution was applied (`halab solve`).
    #[serde(default)]
    pub solved: bool,
    /// The trainee moved on without passing it.
    #[serde(default)]
    pub skipped: bool,
    /// Answers given at the step's questions.
    #[serde(default)]
    pub answers: BTreeMap<String, f64>,
    /// How many hints have been shown.
    #[serde(default)]
    pub hints_shown: usize,
}

impl LabRecord {
    pub(crate) fn step(&self, id: &str) -> StepProgress {
        self.progress.get(id).cloned().unwrap_or_default()
    }

    /// Whether a step is behind the trainee: passed, solved or skipped.
    pub(crate) fn step_done(&self, id: &str) -> bool {
        self.progress
            .get(id)
            .is_some_and(|p| p.passed_at.is_some() || p.solved || p.skipped)
    }
}

/// What a lab name may be, said in every error about one.
pub(crate) const LAB_NAME_RULE: &str =
    "lowercase letters, digits and `-`, not starting with `-`, at most 20 characters";

/// A lab's name, checked: the only way to a lab's directory, lock and backend objects, so no
/// name a user types can reach outside `HALAB_HOME/labs` (`..`, `/`, `a/b`, `''` are refused).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LabName(String);

impl LabName {
    /// The name, or an error stating the rule.
    pub fn parse(s: &str) -> Result<LabName, String> {
        if crate::content::lab::is_simple_name(s, 20) {
            Ok(LabName(s.to_string()))
        } else {
            let shown: String = s.chars().take(40).collect();
            let more = if s.chars().count() > 40 { "..." } else { "" };
            let what = if s.is_empty() {
                "an empty name".to_string()
            } else {
                format!("`{shown}{more}`")
            };
            Err(format!(
                "{what} cannot be a lab name: use {LAB_NAME_RULE}, e.g. `team-a`"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for LabName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LabName::parse(s)
    }
}

impl TryFrom<String> for LabName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        LabName::parse(&s)
    }
}

impl From<LabName> for String {
    fn from(n: LabName) -> String {
        n.0
    }
}

impl std::ops::Deref for LabName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for LabName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The file that marks a directory as a lab halab made: `destroy` removes nothing without it
/// (or the lab's record).
const MARKER: &str = ".halab-lab";

/// A lab's directory and the files in it.
#[derive(Clone, Debug)]
pub(crate) struct LabDir {
    pub name: LabName,
    pub path: PathBuf,
    home: PathBuf,
}

impl LabDir {
    pub(crate) fn new(home: &Path, name: &LabName) -> LabDir {
        LabDir {
            name: name.clone(),
            path: home.join("labs").join(name.as_str()),
            home: home.to_path_buf(),
        }
    }

    pub(crate) fn exists(&self) -> bool {
        self.record_path().exists()
    }

    /// Hold the lab for a command that changes it (see [`LabLock`]).
    pub(crate) fn lock(&self, purpose: &str) -> Result<LabLock> {
        LabLock::acquire(&self.home, &self.name, purpose)
    }

    /// Create the directory with halab's marker in it, before anything else is written there.
    pub(crate) fn create(&self) -> Result<()> {
        fs::create_dir_all(&self.path)
            .with_context(|| format!("cannot create `{}`", self.path.display()))?;
        write_atomic(
            &self.path.join(MARKER),
            format!("a lab of halab: `{}`\n", self.name).as_bytes(),
            0o644,
        )
    }

    /// Whether the directory is halab's: it holds the lab's record or halab's marker.
    pub(crate) fn is_marked(&self) -> bool {
        self.record_path().exists() || self.path.join(MARKER).is_file()
    }

    /// Remove the lab's directory, but only when it carries halab's marker; anything else found
    /// there is left alone with an error saying what it is.
    pub(crate) fn remove(&self) -> Result<()> {
        if !self.is_marked() {
            let mut found: Vec<String> = fs::read_dir(&self.path)
                .into_iter()
                .flatten()
                .flatten()
                .take(6)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            found.sort();
            let what = if found.is_empty() {
                "an empty directory".to_string()
            } else {
                format!("a directory holding {}", found.join(", "))
            };
            return Err(Problem::new(
                format!(
                    "`{}` is not a lab halab made ({what}, without halab's record or marker); it was left alone",
                    self.path.display()
                ),
                "move it away or remove it yourself if it is yours to remove",
            )
            .into());
        }
        fs::remove_dir_all(&self.path)
            .with_context(|| format!("cannot remove `{}`", self.path.display()))
    }

    fn record_path(&self) -> PathBuf {
        self.path.join("lab.json")
    }

    pub(crate) fn lab_file(&self) -> PathBuf {
        self.path.join("lab.toml")
    }

    /// The backend's own directory inside the lab's.
    pub(crate) fn backend_dir(&self) -> PathBuf {
        self.path.join("backend")
    }

    pub(crate) fn load(&self) -> Result<LabRecord> {
        let text = fs::read_to_string(self.record_path())
            .with_context(|| format!("cannot read `{}`", self.record_path().display()))?;
        serde_json::from_str(&text).with_context(|| {
            format!(
                "`{}` is damaged; `halab destroy --lab {}` removes the lab",
                self.record_path().display(),
                self.name
            )
        })
    }

    /// Change the record under the lab's lock (re-read first, so concurrent commands don't lose
    /// each other's changes).
    pub(crate) fn update<T>(
        &self,
        purpose: &str,
        f: impl FnOnce(&mut LabRecord) -> T,
    ) -> Result<T> {
        let _lock = RecordLock::acquire(&self.home, &self.name, purpose)?;
        let mut rec = self.load()?;
        let out = f(&mut rec);
        self.save(&rec)?;
        Ok(out)
    }

    /// Save the record; a class lab's is kept on its LXD server too.
    pub(crate) fn save(&self, rec: &LabRecord) -> Result<()> {
        self.save_here(rec)?;
        if rec.seat.is_some()
            && let Some(store) = SAVED.get()
        {
            store(self, rec)?;
        }
        Ok(())
    }

    /// Save the record on this machine only (what was just taken from the server).
    pub(crate) fn save_here(&self, rec: &LabRecord) -> Result<()> {
        write_atomic(
            &self.record_path(),
            serde_json::to_string_pretty(rec)?.as_bytes(),
            0o644,
        )
    }

    pub(crate) fn secrets_path(&self) -> PathBuf {
        self.path.join("secrets.json")
    }

    /// The lab file snapshot taken when the lab was created.
    pub(crate) fn load_lab(&self) -> Result<crate::content::Lab> {
        let path = self.lab_file();
        let text = fs::read_to_string(&path)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        crate::content::lab::load(&path, text)
            .map_err(|d| anyhow::Error::new(d).context("the lab's saved lab file is invalid"))
    }

    /// The lab's secrets, generated on first use (file mode 0600).
    pub(crate) fn secrets(
        &self,
        wanted: &BTreeMap<String, usize>,
    ) -> Result<BTreeMap<String, String>> {
        let path = self.secrets_path();
        let mut secrets: BTreeMap<String, String> = match fs::read_to_string(&path) {
            Ok(t) => serde_json::from_str(&t)
                .with_context(|| format!("`{}` is damaged", path.display()))?,
            Err(_) => BTreeMap::new(),
        };
        let missing: Vec<_> = wanted
            .iter()
            .filter(|(k, _)| !secrets.contains_key(*k))
            .collect();
        if !missing.is_empty() {
            for (k, len) in missing {
                secrets.insert(k.clone(), random_token(*len)?);
            }
            write_atomic(
                &path,
                serde_json::to_string_pretty(&secrets)?.as_bytes(),
                0o600,
            )?;
        }
        Ok(secrets)
    }
}

/// Where a class lab's saved record also goes (its LXD project, so the trainee's and the
/// instructor's halab read the same progress), given once at start by the layer that knows it.
static SAVED: std::sync::OnceLock<fn(&LabDir, &LabRecord) -> Result<()>> =
    std::sync::OnceLock::new();

/// Give every saved record of a class lab (one with a [`Seat`]) to `store` as well.
pub(crate) fn store_class_records_with(store: fn(&LabDir, &LabRecord) -> Result<()>) {
    let _ = SAVED.set(store);
}

/// Names of the labs that exist under `home` (directories with a record and a valid name).
pub(crate) fn lab_names(home: &Path) -> Vec<LabName> {
    let mut v: Vec<LabName> = fs::read_dir(home.join("labs"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("lab.json").exists())
        .filter_map(|e| e.file_name().to_str().and_then(|n| LabName::parse(n).ok()))
        .collect();
    v.sort();
    v
}

/// Write a file so that readers see the old or the new contents, never a mix.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = path.parent().context("path has no parent")?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("f"),
        std::process::id()
    ));
    {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)
            .with_context(|| format!("cannot write `{}`", tmp.display()))?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path).with_context(|| format!("cannot write `{}`", path.display()))
}

/// Letters and digits (no look-alikes) from the kernel's random source.
pub(crate) fn random_token(len: usize) -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    // Bytes at or above `limit` are dropped so every character is equally likely.
    let limit = 256 - 256 % ALPHABET.len();
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let mut buf = [0u8; 64];
        getrandom::fill(&mut buf)
            .map_err(|e| anyhow::anyhow!("the kernel's random source failed: {e}"))?;
        let fresh = buf
            .iter()
            .filter(|b| (**b as usize) < limit)
            .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char);
        out.extend(fresh.take(len - out.len()));
    }
    Ok(out)
}

/// Labs whose [`LabLock`] this process holds, with how many holders: a command that holds its
/// lab (a `drill`) may call a part that takes it again (restarting a crashed node) without
/// waiting for itself.
static HELD: std::sync::Mutex<BTreeMap<PathBuf, usize>> = std::sync::Mutex::new(BTreeMap::new());

/// A lab held for a command that changes it (`start`, `reset`, `solve`, `drill`, `destroy`, a
/// lesson's action): one at a time per lab. Dropping it releases the lock.
pub(crate) struct LabLock {
    path: PathBuf,
    /// The open lock file: `None` for a nested hold of a lab this process already holds.
    _file: Option<File>,
}

impl LabLock {
    /// Take the lab's lock, waiting (and saying who holds it) if another halab has it.
    pub(crate) fn acquire(home: &Path, lab: &LabName, purpose: &str) -> Result<LabLock> {
        let path = home.join("locks").join(format!("{lab}.lock"));
        {
            let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(n) = held.get_mut(&path) {
                *n += 1;
                return Ok(LabLock { path, _file: None });
            }
        }
        let file = lock_file(&path, lab, purpose, true)?;
        HELD.lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.clone(), 1);
        Ok(LabLock {
            path,
            _file: Some(file),
        })
    }

    /// Remove the lock files (the lab is gone); the lock is released when `self` drops.
    pub(crate) fn remove_file(&self) {
        let _ = fs::remove_file(&self.path);
        let _ = fs::remove_file(self.path.with_extension("record.lock"));
    }
}

impl Drop for LabLock {
    fn drop(&mut self) {
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = held.get_mut(&self.path) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.path);
            }
        }
        // The file (if this is the outermost hold) closes after this, releasing the lock.
    }
}

/// A short hold on a lab's record alone, for one read-modify-write: separate from [`LabLock`]
/// so that a `check` saving its result does not wait for a `drill` that holds the lab.
struct RecordLock {
    _file: File,
}

impl RecordLock {
    fn acquire(home: &Path, lab: &LabName, purpose: &str) -> Result<RecordLock> {
        let path = home.join("locks").join(format!("{lab}.record.lock"));
        Ok(RecordLock {
            _file: lock_file(&path, lab, purpose, false)?,
        })
    }
}

/// Open and lock `path`, waiting for another holder (and saying so, when `tell`); then write
/// who holds it into the file.
fn lock_file(path: &Path, lab: &LabName, purpose: &str, tell: bool) -> Result<File> {
    let dir = path.parent().context("lock path has no parent")?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let mut told = false;
    loop {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .with_context(|| format!("cannot open lock `{}`", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                if tell && !told {
                    let mut owner = String::new();
                    let _ = file.read_to_string(&mut owner);
                    crate::ui::say(format!(
                        "lab `{lab}` is busy ({}); waiting for it to finish",
                        owner.trim().if_empty("another halab command")
                    ));
                    told = true;
                }
                file.lock().context("waiting for the lab lock")?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(e).context("cannot lock the lab"),
        }
        // A `destroy` may have removed the file while we waited: then lock the new one.
        let same = fs::metadata(path)
            .map(|m| m.ino() == file.metadata().map(|f| f.ino()).unwrap_or(0))
            .unwrap_or(false);
        if !same {
            continue;
        }
        file.set_len(0)?;
        write!(file, "`halab {purpose}`, pid {}", std::process::id())?;
        return Ok(file);
    }
}

trait IfEmpty {
    fn if_empty<'a>(&'a self, alt: &'a str) -> &'a str;
}
impl IfEmpty for str {
    fn if_empty<'a>(&'a self, alt: &'a str) -> &'a str {
        if self.is_empty() { alt } else { self }
    }
}

/// The lab a command without a lesson acts on: `--lab`, else the only lab there is.
pub(crate) fn resolve_lab(home: &Path, explicit: Option<&LabName>) -> Result<LabDir> {
    let names = lab_names(home);
    match explicit {
        Some(n) => {
            let d = LabDir::new(home, n);
            if d.exists() {
                Ok(d)
            } else {
                let hint =
                    match crate::content::diag::did_you_mean(n, names.iter().map(|n| n.as_str())) {
                        Some(s) => format!("did you mean `--lab {s}`?"),
                        None if names.is_empty() => {
                            "start one with `halab start LESSON` (`halab lessons` lists them)"
                                .into()
                        }
                        None => format!("labs on this machine: {}", join(&names)),
                    };
                Err(Problem::new(format!("there is no lab named `{n}`"), hint).into())
            }
        }
        None => match names.as_slice() {
            [one] => Ok(LabDir::new(home, one)),
            [] => Err(Problem::new(
                "there is no lab on this machine",
                "start one with `halab start LESSON` (`halab lessons` lists them)",
            )
            .into()),
            many => Err(Problem::new(
                format!(
                    "there are {} labs on this machine: {}",
                    many.len(),
                    join(many)
                ),
                "say which one with `--lab NAME`",
            )
            .into()),
        },
    }
}

fn join(names: &[LabName]) -> String {
    names
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_dates() {
        assert_eq!(format_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_time(1_795_667_760), "2026-11-26 04:36 UTC");
        assert_eq!(format_time(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(format_time(u64::MAX), format!("Unix time {}", u64::MAX));
    }

    #[test]
    fn tokens_have_the_asked_length_and_differ() {
        let a = random_token(16).unwrap();
        let b = random_token(16).unwrap();
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn secrets_are_private_and_stable() {
        let tmp = tempfile::tempdir().unwrap();
        let d = LabDir::new(tmp.path(), &LabName::parse("x").unwrap());
        let want = BTreeMap::from([("pw".to_string(), 8usize)]);
        let s1 = d.secrets(&want).unwrap();
        let s2 = d.secrets(&want).unwrap();
        assert_eq!(s1, s2);
        assert_eq!(s1["pw"].len(), 8);
        let mode = fs::metadata(d.path.join("secrets.json")).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn lab_names_cannot_leave_the_labs_directory() {
        for bad in [
            "..",
            ".",
            "/",
            "/etc",
            "a/b",
            "",
            "-a",
            "A",
            "a b",
            &"a".repeat(21),
        ] {
            let e = LabName::parse(bad).unwrap_err();
            assert!(e.contains(LAB_NAME_RULE), "{bad}: {e}");
        }
        for good in ["ch32", "team-a", "a", &"a".repeat(20)] {
            assert_eq!(LabName::parse(good).unwrap().as_str(), good);
        }
        // A record naming a bad lab does not load as a lab.
        assert!(serde_json::from_str::<LabName>("\"../x\"").is_err());
    }

    #[test]
    fn a_nested_hold_of_the_same_lab_does_not_wait_for_itself() {
        let tmp = tempfile::tempdir().unwrap();
        let name = LabName::parse("n").unwrap();
        // Whether another open of the lock file could take it now.
        let held = || {
            let f = File::open(tmp.path().join("locks/n.lock")).unwrap();
            f.try_lock().is_err()
        };
        let outer = LabLock::acquire(tmp.path(), &name, "outer").unwrap();
        let inner = LabLock::acquire(tmp.path(), &name, "inner").unwrap();
        drop(inner);
        // Still held by this process after the inner hold ends.
        assert!(held());
        drop(outer);
        assert!(!held());
    }

    #[test]
    fn resolve_lab_explains_what_to_do() {
        let tmp = tempfile::tempdir().unwrap();
        let e = resolve_lab(tmp.path(), None).unwrap_err();
        assert!(
            e.downcast_ref::<Problem>()
                .unwrap()
                .hint
                .contains("halab start LESSON")
        );
        for n in ["a", "b"] {
            fs::create_dir_all(tmp.path().join("labs").join(n)).unwrap();
            fs::write(tmp.path().join("labs").join(n).join("lab.json"), "{}").unwrap();
        }
        let e = resolve_lab(tmp.path(), None).unwrap_err();
        assert!(e.to_string().contains("2 labs"), "{e}");
        let b = LabName::parse("b").unwrap();
        assert_eq!(resolve_lab(tmp.path(), Some(&b)).unwrap().name, b);
    }
}
