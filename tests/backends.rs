//! One conformance suite for every backend: start, exec, status, a node crashed and brought
//! back, reset (snapshot or rebuild), destroy leaving nothing. Each backend runs the same body.

mod support;

use std::time::Duration;

use halab::backend::{self, BackendKind};
use halab::state::LabDir;
use support::{Home, LabGuard, lab_slot, text};

fn status(home: &Home, lab: &str) -> serde_json::Value {
    serde_json::from_str(&home.ok(&["--lab", lab, "status", "--format", "json"])).unwrap()
}

fn node_running(st: &serde_json::Value, node: &str) -> bool {
    st["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["name"] == node && n["running"] == true)
}

fn conformance(home: &Home, kind: BackendKind, lab: &str) {
    let _guard = LabGuard::new(home, lab);
    let o = home.run(&[
        "--lab",
        lab,
        "start",
        "ch32",
        "--backend",
        &kind.to_string(),
        "--yes",
    ]);
    assert!(o.status.success(), "start on {kind}:\n{}", text(&o.stderr));

    // status: the lab's 8 nodes, running, with their addresses.
    let st = status(home, lab);
    assert_eq!(st["backend"], kind.to_string());
    let nodes = st["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 8);
    assert!(nodes.iter().all(|n| n["running"] == true), "{st}");
    assert!(
        nodes
            .iter()
            .any(|n| n["name"] == "pg-standby" && n["address"] == "10.0.0.31")
    );

    // exec: output, exit codes and the network between nodes.
    assert_eq!(
        home.ok(&["--lab", lab, "exec", "app-02", "--", "hostname"]),
        "app-02\n"
    );
    assert_eq!(
        home.run(&["--lab", lab, "exec", "app-02", "--", "sh", "-c", "exit 3"])
            .status
            .code(),
        Some(3)
    );
    assert_eq!(
        home.ok(&[
            "--lab",
            lab,
            "exec",
            "client",
            "--",
            "curl",
            "-s",
            "10.0.0.21:8080"
        ]),
        "app-02\n"
    );
    assert_eq!(
        home.ok(&[
            "--lab",
            lab,
            "exec",
            "lb-01",
            "--",
            "systemctl",
            "is-active",
            "nginx"
        ]),
        "active\n"
    );

    // A crashed node is down, and `start` brings it back with its services.
    let b = backend::open(kind, &LabDir::new(home.path(), lab), None);
    b.crash_node("app-02").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(!node_running(&status(home, lab), "app-02"));
    let o = home.run(&["--lab", lab, "start", "ch32"]);
    assert!(
        text(&o.stderr).contains("0 created, 1 restarted"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(
        home.ok(&[
            "--lab",
            lab,
            "exec",
            "client",
            "--",
            "curl",
            "-s",
            "10.0.0.21:8080"
        ]),
        "app-02\n"
    );

    // reset puts a changed node back to its start.
    home.ok(&[
        "--lab",
        lab,
        "exec",
        "app-02",
        "--",
        "sh",
        "-c",
        "echo changed > /var/www/app/index.html",
    ]);
    assert_eq!(
        home.ok(&[
            "--lab",
            lab,
            "exec",
            "client",
            "--",
            "curl",
            "-s",
            "10.0.0.21:8080"
        ]),
        "changed\n"
    );
    home.ok(&["--lab", lab, "reset"]);
    assert_eq!(
        home.ok(&[
            "--lab",
            lab,
            "exec",
            "client",
            "--",
            "curl",
            "-s",
            "10.0.0.21:8080"
        ]),
        "app-02\n"
    );

    // destroy leaves nothing.
    match kind {
        BackendKind::Netns => support::destroy_and_check(home, lab),
        BackendKind::Lxd => {
            home.ok(&["--lab", lab, "destroy"]);
            assert_eq!(support::lxd_leftovers(lab), Vec::<String>::new());
            assert!(!home.lab_dir(lab).exists());
        }
    }
}

#[test]
fn conformance_netns() {
    if !support::netns_ready("conformance_netns") {
        return;
    }
    let _slot = lab_slot();
    conformance(&Home::new(), BackendKind::Netns, "cf-netns");
}

#[test]
fn conformance_lxd() {
    if !support::lxd_ready("conformance_lxd") {
        return;
    }
    let _slot = lab_slot();
    conformance(&Home::new(), BackendKind::Lxd, "cf-lxd");
}
