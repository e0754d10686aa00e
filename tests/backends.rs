//! One conformance suite for every backend: start, exec, status, a node crashed and brought
//! back, reset (snapshot or rebuild), destroy leaving nothing. Each backend runs the same body;
//! multipass runs it against the test double (`tests/support/multipass`), whose DHCP gives
//! addresses outside 10.0.0.0/24 on an interface that is not eth0.

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

/// `curl -s TARGET` on the lab's client.
fn curl(home: &Home, lab: &str, target: &str) -> String {
    home.ok(&["--lab", lab, "exec", "client", "--", "curl", "-s", target])
}

/// The lab file's own network (netns and lxd follow it).
const LAB_FILE_NET: Net = Net {
    prefix: "10.0.0.",
    iface: "eth0",
};

fn address(st: &serde_json::Value, node: &str) -> String {
    st["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == node)
        .and_then(|n| n["address"].as_str())
        .unwrap_or_else(|| panic!("no address for {node} in {st}"))
        .to_string()
}

/// What the lab's network must look like on a backend.
struct Net {
    /// Every node's address starts with this.
    prefix: &'static str,
    iface: &'static str,
}

fn conformance(home: &Home, kind: BackendKind, lab: &str, net: Net) {
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
    let addresses: Vec<String> = nodes
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .map(|n| address(&st, n))
        .collect();
    assert!(
        addresses.iter().all(|a| a.starts_with(net.prefix)),
        "{addresses:?} not all in {}",
        net.prefix
    );
    let vip = st["vip"].as_str().unwrap();
    assert!(
        vip.starts_with(net.prefix) && !addresses.iter().any(|a| a == vip),
        "{st}"
    );
    let app02 = address(&st, "app-02");
    let ip = home.ok(&[
        "--lab", lab, "exec", "app-02", "--", "ip", "-o", "-4", "addr", "show", "dev", net.iface,
    ]);
    assert!(ip.contains(&format!("inet {app02}/")), "{ip}");
    // Names resolve to the addresses the nodes have (the lab's /etc/hosts).
    assert!(
        home.ok(&[
            "--lab", lab, "exec", "client", "--", "getent", "hosts", "app-02"
        ])
        .starts_with(&format!("{app02} ")),
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
    assert_eq!(curl(home, lab, &format!("{app02}:8080")), "app-02\n");
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
    let crash = |node: &str| match kind {
        // The test's own PATH has no `multipass`: ask the double itself for the power cut.
        BackendKind::Multipass => {
            let o = support::double(&["stop", "--force", &format!("halab-{lab}-{node}")]);
            assert!(o.status.success(), "{}", text(&o.stderr));
        }
        _ => backend::open(kind, &LabDir::new(home.path(), lab), None)
            .crash_node(node)
            .unwrap(),
    };
    crash("app-02");
    std::thread::sleep(Duration::from_millis(300));
    assert!(!node_running(&status(home, lab), "app-02"));
    let o = home.run(&["--lab", lab, "start", "ch32"]);
    assert!(
        text(&o.stderr).contains("0 created, 1 restarted"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(curl(home, lab, &format!("{app02}:8080")), "app-02\n");

    // Where DHCP gives the addresses, a node may come back with another one: halab asks
    // again and rewrites every node's hosts file (the double's FAKE_MULTIPASS_READDRESS).
    if kind == BackendKind::Multipass {
        crash("app-02");
        let o = home
            .cmd()
            .args(["--lab", lab, "start", "ch32"])
            .env("FAKE_MULTIPASS_READDRESS", "1")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o.stderr));
        let moved = address(&status(home, lab), "app-02");
        assert_ne!(moved, app02, "the double was asked for a new address");
        assert!(
            home.ok(&[
                "--lab", lab, "exec", "client", "--", "getent", "hosts", "app-02"
            ])
            .starts_with(&format!("{moved} "))
        );
        assert_eq!(curl(home, lab, "app-02:8080"), "app-02\n");
    }
    let app02 = address(&status(home, lab), "app-02");

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
    assert_eq!(curl(home, lab, &format!("{app02}:8080")), "changed\n");
    home.ok(&["--lab", lab, "reset"]);
    let app02 = address(&status(home, lab), "app-02");
    assert_eq!(curl(home, lab, &format!("{app02}:8080")), "app-02\n");

    // destroy leaves nothing.
    match kind {
        BackendKind::Netns => support::destroy_and_check(home, lab),
        BackendKind::Lxd => {
            home.ok(&["--lab", lab, "destroy"]);
            assert_eq!(support::lxd_leftovers(lab), Vec::<String>::new());
            assert!(!home.lab_dir(lab).exists());
        }
        BackendKind::Multipass => {
            home.ok(&["--lab", lab, "destroy"]);
            assert_eq!(support::multipass_leftovers(lab), Vec::<String>::new());
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
    conformance(&Home::new(), BackendKind::Netns, "cf-netns", LAB_FILE_NET);
}

#[test]
fn conformance_lxd() {
    if !support::lxd_ready("conformance_lxd") {
        return;
    }
    let _slot = lab_slot();
    conformance(&Home::new(), BackendKind::Lxd, "cf-lxd", LAB_FILE_NET);
}

#[test]
fn conformance_multipass() {
    if !support::multipass_ready("conformance_multipass") {
        return;
    }
    let _slot = lab_slot();
    let _double = support::DoubleGuard;
    let home = Home::new().with_env("PATH", &support::path_with_double());
    conformance(
        &home,
        BackendKind::Multipass,
        "cf-mp",
        Net {
            prefix: "192.168.64.",
            iface: "ens3",
        },
    );
}

/// A node whose packages cloud-init cannot install: `start` fails with cloud-init's own log,
/// and `destroy` removes the VM.
#[test]
fn multipass_shows_the_cloud_init_log_when_it_fails() {
    if !support::multipass_ready("multipass_shows_the_cloud_init_log_when_it_fails") {
        return;
    }
    let _slot = lab_slot();
    let _double = support::DoubleGuard;
    let content = tempfile::tempdir().unwrap();
    let files = [
        (
            "labs/tiny.toml",
            "id = \"tiny\"\ntitle = \"one node whose package does not exist\"\nsubnet = \"10.9.0.0/24\"\n\n\
             [[nodes]]\nname = \"solo\"\naddress = \"10.9.0.2\"\nrole = \"r\"\n\n\
             [roles.r]\npackages = [\"halab-no-such-package\"]\n",
        ),
        (
            "lessons/tiny.toml",
            "id = \"tiny\"\ntitle = \"tiny\"\nlab = \"tiny\"\n\n[[steps]]\nid = \"one\"\ntitle = \"one\"\nprose = \"x\"\n\n\
             [[steps.questions]]\nid = \"q\"\nask = \"downtime?\"\navailability = [99.0]\nper = \"year\"\nunit = \"days\"\n",
        ),
        ("solutions/tiny/one.toml", "[answers]\nq = 3.65\n"),
    ];
    for (path, body) in files {
        let p = content.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    let home = Home::new()
        .with_env("PATH", &support::path_with_double())
        .with_env("HALAB_CONTENT", content.path().to_str().unwrap());
    let _guard = LabGuard::new(&home, "mpfail");
    let o = home.run(&["--lab", "mpfail", "start", "tiny", "--backend", "multipass"]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("cloud-init on solo ended with `status: error`"),
        "{err}"
    );
    assert!(
        err.contains("Unable to locate package halab-no-such-package"),
        "the log's lines are not shown: {err}"
    );
    assert!(err.contains("cloud-init-output.log"), "{err}");
    home.ok(&["--lab", "mpfail", "destroy"]);
    assert_eq!(support::multipass_leftovers("mpfail"), Vec::<String>::new());
}

/// The double's retry of LXD's transient errors, without LXD: which errors it counts as
/// transient, and that it retries those a bounded number of times and nothing else.
#[test]
fn the_double_retries_only_transient_lxd_errors() {
    let o = support::double(&["double-selftest"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "double-selftest: ok\n");
}

/// A launch whose first file push meets LXD's forkfile.sock error (injected) is retried, says so
/// on stderr, and succeeds; one that meets it on every attempt fails with that error and leaves
/// no instance.
#[test]
fn the_double_retries_a_transient_lxd_error_on_launch() {
    if !support::multipass_ready("the_double_retries_a_transient_lxd_error_on_launch") {
        return;
    }
    let _slot = lab_slot();
    let _double = support::DoubleGuard;
    let launch = |name: &str, injected: &str| {
        std::process::Command::new(support::double_dir().join("multipass"))
            .args([
                "launch",
                "--name",
                name,
                "--memory",
                "512M",
                "--timeout",
                "300",
            ])
            .env("FAKE_MULTIPASS_INJECT_TRANSIENT", injected)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run the multipass test double")
    };
    let o = launch("halab-dblretry-once", "1");
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("LXD failed transiently (dial unix /proc/self/fd/111/forkfile.sock")
            && err.contains("trying again (2 of 3)"),
        "{err}"
    );
    let o = launch("halab-dblretry-always", "3");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("launch failed: dial unix /proc/self/fd/111/forkfile.sock"),
        "{err}"
    );
    let o = support::double(&["delete", "--purge", "halab-dblretry-once"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        support::multipass_leftovers("dblretry"),
        Vec::<String>::new()
    );
}
