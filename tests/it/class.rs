//! A class on this machine's LXD, reached over HTTPS on loopback as trainees reach a class
//! server: three trainee labs of the tiny fixture, two trainees joined from their own client
//! configurations (separate `LXD_CONF` and halab homes, as an unprivileged user), each reaching
//! only their own lab; the instructor sees progress as it is made, resets and destroys the class,
//! and nothing of it is left on the daemon.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use serde_json::Value;

use crate::support::{Home, Opening, lxc_query, lxd_leftovers, text};

const CLASS: &str = "cls";
const TRAINEES: [&str; 3] = ["alice", "bob", "carol"];
/// The unprivileged user trainees run as (`nobody`).
const NOBODY: u32 = 65534;

/// What the daemon had before the test, put back after it even when the test fails: no
/// network address, and no certificate or token of the class.
struct Daemon {
    address_before: String,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let lxc = |a: &[&str]| {
            let _ = Command::new("lxc").args(a).output();
        };
        for t in TRAINEES {
            let lab = format!("{CLASS}-{t}");
            let _ = lxc_fingerprint(&format!("halab-{lab}"))
                .map(|fp| lxc(&["config", "trust", "remove", &fp]));
            lxc(&["config", "trust", "revoke-token", &format!("halab-{lab}")]);
        }
        if self.address_before.is_empty() {
            lxc(&["config", "unset", "core.https_address"]);
        } else {
            lxc(&["config", "set", "core.https_address", &self.address_before]);
        }
    }
}

/// The fingerprint of the trusted certificate named `name`.
fn lxc_fingerprint(name: &str) -> Option<String> {
    lxc_query("/1.0/certificates?recursion=1")?
        .as_array()?
        .iter()
        .find(|c| c["name"] == name)
        .and_then(|c| c["fingerprint"].as_str().map(String::from))
}

fn pending_tokens() -> Vec<String> {
    lxc_query("/1.0/operations?recursion=1")
        .and_then(|o| o["running"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter(|o| o["class"] == "token")
        .filter_map(|o| o["metadata"]["request"]["name"].as_str().map(String::from))
        .collect()
}

/// A trainee's machine: its own LXD client configuration and halab home, owned by `nobody`,
/// with its own copy of halab and of the content (the repository may not be readable by
/// `nobody`).
struct Trainee {
    dir: tempfile::TempDir,
}

impl Trainee {
    fn new(content: &Path) -> Trainee {
        let dir = tempfile::Builder::new()
            .prefix("halab-trainee-")
            .tempdir()
            .unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("conf")).unwrap();
        std::fs::create_dir_all(d.join("home")).unwrap();
        std::fs::copy(assert_cmd::cargo::cargo_bin!("halab"), d.join("halab")).unwrap();
        let copied = Command::new("cp")
            .arg("-r")
            .arg(content)
            .arg(d.join("content"))
            .status()
            .unwrap();
        assert!(copied.success());
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        let owned = Command::new("chown")
            .args(["-R", &format!("{NOBODY}:{NOBODY}")])
            .arg(d)
            .status()
            .unwrap();
        assert!(owned.success());
        Trainee { dir }
    }

    fn env(&self, c: &mut Command) {
        let d = self.dir.path();
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", d)
            .env("LXD_CONF", d.join("conf"))
            .env("HALAB_HOME", d.join("home"))
            .env("HALAB_CONTENT", d.join("content"))
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null());
    }

    fn as_nobody(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("setpriv");
        c.args([
            &format!("--reuid={NOBODY}"),
            &format!("--regid={NOBODY}"),
            "--clear-groups",
            "--",
        ])
        .arg(program);
        self.env(&mut c);
        c
    }

    /// `halab ARGS` as this trainee.
    fn halab(&self, args: &[&str]) -> Output {
        self.as_nobody(self.dir.path().join("halab"))
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.halab(args);
        assert!(
            o.status.success(),
            "trainee's halab {args:?} failed ({}):\n{}\n{}",
            o.status,
            text(&o.stdout),
            text(&o.stderr)
        );
        text(&o.stdout)
    }

    /// `lxc ARGS` with this trainee's certificate.
    fn lxc(&self, args: &[&str]) -> Output {
        self.as_nobody("lxc").args(args).output().unwrap()
    }

    fn lab_dir(&self, lab: &str) -> PathBuf {
        self.dir.path().join("home/labs").join(lab)
    }
}

/// The instructor's `class status` row of `trainee`.
fn status_row(home: &Home, trainee: &str) -> Value {
    let rows: Value =
        serde_json::from_str(&home.ok(&["class", "status", CLASS, "--format", "json"])).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["trainee"] == trainee)
        .cloned()
        .unwrap_or_else(|| panic!("no row of {trainee} in {rows}"))
}

/// Removes the class even when the test fails (before the daemon's settings are put back).
struct ClassGuard<'a>(&'a Home);

impl Drop for ClassGuard<'_> {
    fn drop(&mut self) {
        let _ = self.0.run(&["class", "destroy", CLASS]);
    }
}

#[test]
fn class_on_lxd_each_trainee_reaches_only_their_own_lab() {
    let Some(t) =
        Opening::lxd("class_on_lxd_each_trainee_reaches_only_their_own_lab").map(Opening::tiny)
    else {
        return;
    };
    let home = &t.home;
    let content = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny"));
    let before = lxc_query("/1.0").unwrap();
    let config_before = |k: &str| before["config"][k].as_str().unwrap_or_default().to_string();
    let _daemon = Daemon {
        address_before: config_before("core.https_address"),
    };
    // Without a network address no trainee could reach the class: refused before anything is made.
    if config_before("core.https_address").is_empty() {
        let o = home.run(&[
            "class", "create", CLASS, "--lesson", "tiny", "--count", "1", "--yes",
        ]);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            text(&o.stderr).contains("core.https_address"),
            "{}",
            text(&o.stderr)
        );
        assert_eq!(lxd_leftovers(&format!("{CLASS}-t1")), Vec::<String>::new());
    }
    let set = Command::new("lxc")
        .args(["config", "set", "core.https_address", "127.0.0.1:8443"])
        .status()
        .unwrap();
    assert!(set.success());

    // A class of three, built in parallel; a token per trainee on stdout and in a private file.
    let _class = ClassGuard(home);
    let o = home.run(&[
        "class",
        "create",
        CLASS,
        "--lesson",
        "tiny",
        "--trainees",
        "alice,bob,carol",
        "--yes",
    ]);
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    for t in TRAINEES {
        assert!(
            err.contains(&format!("✔ {t}: lab `{CLASS}-{t}` built in")),
            "{err}"
        );
    }
    let out = text(&o.stdout);
    let token = |trainee: &str| -> String {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("{trainee}\t")))
            .unwrap_or_else(|| panic!("no token of {trainee} in {out}"));
        line.split('\t').nth(1).unwrap().to_string()
    };
    let file = home.path().join(format!("classes/{CLASS}/alice.token"));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap().trim(),
        token("alice")
    );
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // LXD's token inside expires within the default day; the server's own setting is as it was.
    let inner: Value = {
        let t = token("alice");
        let body = t.strip_prefix("halab-join-1.").unwrap();
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .unwrap();
        let lxd = serde_json::from_slice::<Value>(&json).unwrap()["lxd"]
            .as_str()
            .unwrap()
            .to_string();
        serde_json::from_slice(
            &base64::engine::general_purpose::STANDARD
                .decode(lxd)
                .unwrap(),
        )
        .unwrap()
    };
    let expires = inner["expires_at"].as_str().unwrap();
    assert!(
        expires.starts_with("20") && !expires.starts_with("0001"),
        "{inner}"
    );
    let now = lxc_query("/1.0").unwrap();
    assert_eq!(
        now["config"]["core.remote_token_expiry"],
        before["config"]["core.remote_token_expiry"]
    );
    // Each project is closed around its lab, with limits from it.
    let project = lxc_query(&format!("/1.0/projects/halab-{CLASS}-alice")).unwrap();
    assert_eq!(project["config"]["restricted"], "true", "{project}");
    assert_eq!(project["config"]["limits.instances"], "2", "{project}");
    assert_eq!(project["config"]["features.images"], "true", "{project}");

    // Two trainees join from their own machines, as an unprivileged user.
    let alice = Trainee::new(&content);
    let bob = Trainee::new(&content);
    let joined = alice.halab(&["join", &token("alice")]);
    assert!(joined.status.success(), "{}", text(&joined.stderr));
    assert!(text(&joined.stderr).contains("joined class `cls` as `alice`"));
    bob.ok(&["join", &token("bob")]);
    // A token works once.
    let again = Trainee::new(&content);
    let o = again.halab(&["join", &token("alice")]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("works once"),
        "{}",
        text(&o.stderr)
    );
    assert!(!again.lab_dir("tiny").exists());

    // Alice's `start` finds her lab up; she works, checks, and the instructor sees it at once.
    let o = alice.halab(&["start", "tiny"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("already up"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(status_row(home, "alice")["step"], "mark");
    alice.ok(&["exec", "box", "--", "touch", "/root/mark"]);
    alice.ok(&["check", "--step", "mark"]);
    let row = status_row(home, "alice");
    assert_eq!(
        (row["step"].as_str(), row["steps_passed"].as_u64()),
        (Some("note"), Some(1)),
        "{row}"
    );
    assert_eq!(row["healthy"], true);
    assert_eq!(status_row(home, "bob")["steps_passed"], 0);
    let labs = alice.ok(&["labs"]);
    assert!(
        labs.contains("lxd@halab-cls") && labs.contains("note"),
        "{labs}"
    );
    // Reset and solve are the instructor's unless the class allows them.
    for what in ["reset", "solve"] {
        let o = alice.halab(&[what]);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            text(&o.stderr).contains("does not let trainees"),
            "{}",
            text(&o.stderr)
        );
    }

    // Nothing of Bob's (or the server's) is in Alice's reach.
    let bobs = format!("halab-{CLASS}-bob");
    for attempt in [
        vec![
            "exec",
            "halab-cls:box",
            "--project",
            &bobs,
            "--",
            "touch",
            "/root/mark",
        ],
        vec!["list", "halab-cls:", "--project", &bobs],
        vec![
            "file",
            "pull",
            "halab-cls:box/etc/hostname",
            "-",
            "--project",
            &bobs,
        ],
        vec!["list", "halab-cls:", "--project", "default"],
        vec!["project", "create", "halab-cls:alice-own"],
        vec![
            "project",
            "set",
            "halab-cls:halab-cls-alice",
            "limits.instances=20",
        ],
        vec![
            "project",
            "set",
            "halab-cls:halab-cls-alice",
            "user.halab.allow-reset=true",
        ],
        vec![
            "project",
            "set",
            "halab-cls:halab-cls-alice",
            "restricted=false",
        ],
    ] {
        let o = alice.lxc(&attempt);
        assert!(
            !o.status.success(),
            "alice could: lxc {attempt:?}\n{}",
            text(&o.stdout)
        );
        assert!(
            text(&o.stderr).contains("not authorized"),
            "lxc {attempt:?}: {}",
            text(&o.stderr)
        );
    }
    // Her own project holds no more than her lab, and shows no image or network but hers.
    let o = alice.lxc(&["init", "halab-cls:extra", "--empty"]);
    assert!(
        text(&o.stderr).contains("maximum number of instances"),
        "{}",
        text(&o.stderr)
    );
    let images = text(
        &alice
            .lxc(&["image", "list", "halab-cls:", "-f", "csv", "-c", "l"])
            .stdout,
    );
    assert!(images.lines().all(|l| l.starts_with("halab-")), "{images}");
    let nets = text(
        &alice
            .lxc(&["network", "list", "halab-cls:", "-f", "csv"])
            .stdout,
    );
    assert_eq!(nets.lines().count(), 1, "{nets}");
    // halab for Bob's lab: no such lab here, and a forged record pointing at it is refused too.
    let o = alice.halab(&["--lab", "bob", "exec", "box", "--", "true"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("there is no lab named `bob`"));
    let forged = alice.lab_dir("bob");
    let copied = Command::new("cp")
        .arg("-a")
        .arg(alice.lab_dir("tiny"))
        .arg(&forged)
        .status()
        .unwrap();
    assert!(copied.success());
    let record = std::fs::read_to_string(forged.join("lab.json")).unwrap();
    std::fs::write(
        forged.join("lab.json"),
        record.replace("\"cls-alice\"", "\"cls-bob\""),
    )
    .unwrap();
    let o = alice.halab(&["--lab", "bob", "exec", "box", "--", "touch", "/root/mark"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("not authorized"),
        "{}",
        text(&o.stderr)
    );
    std::fs::remove_dir_all(&forged).unwrap();
    assert_eq!(status_row(home, "bob")["steps_passed"], 0);
    let o = bob.halab(&["check", "--step", "mark"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "bob's lab was reached: {}",
        text(&o.stdout)
    );

    // The instructor grades the class in one report, then resets it.
    let junit = text(
        &home
            .run(&["class", "check", CLASS, "--format", "junit"])
            .stdout,
    );
    assert!(
        junit.contains("name=\"cls-alice.tiny.mark\"")
            && junit.contains("name=\"cls-carol.tiny.mark\""),
        "{junit}"
    );
    home.ok(&["class", "reset", CLASS, "--all"]);
    assert_eq!(status_row(home, "alice")["step"], "mark");
    let o = alice.halab(&["check", "--step", "mark"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the reset left alice's mark: {}",
        text(&o.stderr)
    );

    // Destroyed: no project, network, certificate or token of the class is left.
    home.ok(&["class", "destroy", CLASS]);
    for t in TRAINEES {
        let lab = format!("{CLASS}-{t}");
        assert_eq!(lxd_leftovers(&lab), Vec::<String>::new());
        assert_eq!(lxc_fingerprint(&format!("halab-{lab}")), None);
    }
    assert!(
        pending_tokens()
            .iter()
            .all(|n| !n.starts_with("halab-cls-")),
        "{:?}",
        pending_tokens()
    );
    assert!(!home.path().join("classes/cls.json").exists());
    // A trainee's halab says the lab is gone, and forgetting it touches nothing on the server.
    let o = alice.halab(&["check"]);
    assert_eq!(o.status.code(), Some(2));
    let o = alice.halab(&["destroy"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(!alice.lab_dir("tiny").exists());
}
