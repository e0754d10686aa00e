//! The lxd backend's instructor side, in one test so its steps run in order: a user's own LXD
//! objects are left alone, several labs are listed, graded and reset together, a lab lives on an
//! LXD remote reached over HTTPS on loopback, and `destroy --purge-image` removes the cache.

use crate::support::{Opening, lxc_query, lxd_leftovers, text};
use serde_json::Value;

fn lxc(args: &[&str]) -> String {
    let o = std::process::Command::new("lxc")
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "lxc {args:?}: {}", text(&o.stderr));
    text(&o.stdout)
}

/// An LXD object without the fields LXD itself changes as other objects come and go.
fn stable(mut v: Value) -> Value {
    if let Some(m) = v.as_object_mut() {
        m.remove("used_by");
        m.retain(|k, _| !k.starts_with("volatile"));
        if let Some(c) = m.get_mut("config").and_then(|c| c.as_object_mut()) {
            c.retain(|k, _| !k.starts_with("volatile"));
        }
    }
    v
}

/// Removes the user objects and the loopback remote even when the test fails.
struct Fixture {
    trust_before: Vec<String>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let run = |a: &[&str]| {
            let _ = std::process::Command::new("lxc").args(a).output();
        };
        run(&["delete", "--force", "usertest-c1"]);
        run(&["profile", "delete", "usertest-profile"]);
        run(&["network", "delete", "usertestbr0"]);
        run(&["remote", "remove", "halabloop"]);
        run(&["config", "unset", "core.trust_password"]);
        run(&["config", "unset", "core.https_address"]);
        for fp in trust_fingerprints() {
            if !self.trust_before.contains(&fp) {
                run(&["config", "trust", "remove", &fp]);
            }
        }
    }
}

fn trust_fingerprints() -> Vec<String> {
    lxc_query("/1.0/certificates")
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|u| {
            u.as_str()
                .and_then(|u| u.rsplit('/').next())
                .map(String::from)
        })
        .collect()
}

/// How many halab images the daemon has.
fn halab_images() -> usize {
    lxc_query("/1.0/images/aliases?recursion=1")
        .unwrap_or_default()
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|a| a["name"].as_str().is_some_and(|n| n.starts_with("halab-")))
        .count()
}

#[test]
fn instructor_operations_user_objects_remote_and_purge() {
    // On the tiny fixture (two nodes a lab): what is tested is halab's handling of labs, not ch32.
    let Some(t) =
        Opening::lxd("instructor_operations_user_objects_remote_and_purge").map(Opening::tiny)
    else {
        return;
    };
    let home = &t.home;
    // `prepare` builds (or finds) the lesson's image and makes no lab: nothing named after the
    // lesson appears in LXD or in halab's home. (scripts/test has run it already: here it finds
    // the image.)
    let o = home.run(&["prepare", "tiny", "--backend", "lxd", "--yes"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("ready for labs of `tiny` on lxd"));
    assert!(halab_images() >= 1, "no halab image after prepare");
    assert_eq!(lxd_leftovers("tiny"), Vec::<String>::new());
    assert!(!home.lab_dir("tiny").exists());
    // The daemon must be up before we can make user objects: the first lab starts it if needed.
    let lab_a = t.lab("ia");
    lab_a.start("tiny", &["--backend", "lxd", "--yes"]);

    // A user's own profile, network and container, made before halab's next operations.
    let fixture = Fixture {
        trust_before: trust_fingerprints(),
    };
    lxc(&["profile", "create", "usertest-profile"]);
    lxc(&["profile", "set", "usertest-profile", "user.note", "mine"]);
    lxc(&[
        "network",
        "create",
        "usertestbr0",
        "ipv4.address=none",
        "ipv6.address=none",
    ]);
    lxc(&["init", "--empty", "usertest-c1"]);
    let objects = [
        "/1.0/profiles/default",
        "/1.0/profiles/usertest-profile",
        "/1.0/networks/usertestbr0",
        "/1.0/instances/usertest-c1",
    ];
    let before: Vec<Value> = objects
        .iter()
        .map(|p| stable(lxc_query(p).unwrap()))
        .collect();

    // Two labs: listed, graded together, reset together.
    let lab_b = t.lab("ib");
    lab_b.start("tiny", &["--backend", "lxd"]);
    home.ok(&["--lab", "ia", "solve", "--step", "mark"]);
    let labs: Value = serde_json::from_str(&home.ok(&["labs", "--format", "json"])).unwrap();
    let row = |lab: &str| {
        labs.as_array()
            .unwrap()
            .iter()
            .find(|r| r["lab"] == lab)
            .cloned()
            .unwrap()
    };
    assert_eq!(row("ia")["backend"], "lxd");
    assert_eq!(row("ia")["current_step"], "note");
    assert_eq!(row("ia")["steps_passed"], 1, "{labs}");
    assert_eq!(row("ib")["current_step"], "mark");
    let o = home.run(&["check", "--all", "--step", "mark", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let all: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(all["labs"].as_array().unwrap().len(), 2);
    let junit = home.run(&["check", "--all", "--format", "junit"]);
    let junit = text(&junit.stdout);
    assert!(
        junit.contains("name=\"ia.tiny.note\"") && junit.contains("name=\"ib.tiny.note\""),
        "{junit}"
    );
    let labs: Value = serde_json::from_str(&home.ok(&["labs", "--format", "json"])).unwrap();
    assert!(labs[0]["last_check"]["at"].as_u64().is_some(), "{labs}");
    home.ok(&["reset", "--all"]);
    let code = home
        .run(&["--lab", "ia", "check", "--step", "mark"])
        .status
        .code();
    assert_eq!(code, Some(1), "reset --all left lab ia solved");
    // reset --to: the lab at the start of a step, the steps before it solved.
    home.ok(&["--lab", "ia", "reset", "--to", "note"]);
    assert_eq!(
        home.run(&["--lab", "ia", "check", "--step", "mark"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        home.run(&["--lab", "ia", "check", "--step", "note"])
            .status
            .code(),
        Some(1)
    );
    home.ok(&["--lab", "ia", "destroy"]);
    // A lab whose record is damaged: destroy must not assume a backend, but find what the lab
    // left on every one (here its LXD project and bridge) and say so.
    std::fs::write(
        home.lab_dir("ib").join("lab.json"),
        "{ \"name\": \"ib\", damaged",
    )
    .unwrap();
    let o = home.run(&["--lab", "ib", "destroy"]);
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("removed lxd: LXD project `halab-ib` with 2 container(s)")
            && err.contains("removed lxd: LXD network `halab"),
        "{err}"
    );
    assert_eq!(lxd_leftovers("ia"), Vec::<String>::new());
    assert_eq!(lxd_leftovers("ib"), Vec::<String>::new());
    let after: Vec<Value> = objects
        .iter()
        .map(|p| stable(lxc_query(p).unwrap()))
        .collect();
    assert_eq!(after, before, "halab changed the user's LXD objects");

    // A lab on an LXD server reached as a remote over HTTPS (this daemon, on loopback).
    lxc(&["config", "set", "core.https_address", "127.0.0.1:8443"]);
    lxc(&[
        "config",
        "set",
        "core.trust_password",
        "halab-loopback-test",
    ]);
    lxc(&[
        "remote",
        "add",
        "halabloop",
        "127.0.0.1:8443",
        "--accept-certificate",
        "--password",
        "halab-loopback-test",
    ]);
    let _r = t.lab("ir");
    let o = home.run(&[
        "--lab",
        "ir",
        "start",
        "tiny",
        "--backend",
        "lxd",
        "--lxd-remote",
        "halabloop",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        home.ok(&[
            "--lab",
            "ir",
            "exec",
            "box",
            "--",
            "curl",
            "-s",
            "--retry",
            "10",
            "--retry-connrefused",
            "--retry-delay",
            "1",
            "10.77.0.3:8080"
        ]),
        "peer\n"
    );
    let labs = home.ok(&["labs"]);
    assert!(labs.contains("lxd@halabloop"), "{labs}");
    home.ok(&["--lab", "ir", "destroy"]);
    assert_eq!(lxd_leftovers("ir"), Vec::<String>::new());
    drop(fixture);

    // The cached image stays after destroy; --purge-image removes it.
    assert!(halab_images() >= 1);
    let o = home.run(&["--lab", "ir", "destroy", "--purge-image"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(halab_images(), 0);
}
