//! One conformance suite for every backend, on the tiny fixture lab: start, exec, status, a node
//! crashed and brought back, the fixture lesson through check, solve and reset (snapshot or
//! rebuild), destroy leaving nothing. Each backend runs the same body;
//! multipass runs it against the test double (`tests/it/support/multipass`), whose DHCP gives
//! addresses outside 10.0.0.0/24 on an interface that is not eth0.

use std::time::{Duration, Instant};

use crate::support::{Home, Opening, text};

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

/// `curl -s TARGET` on the lab's `box`.
fn curl(home: &Home, lab: &str, target: &str) -> String {
    home.ok(&["--lab", lab, "exec", "box", "--", "curl", "-s", target])
}

/// `curl -s TARGET` on `box` once TARGET answers: a service just (re)started is running, but
/// python's http.server may take a moment more to listen.
fn curl_once_up(home: &Home, lab: &str, target: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let o = home.run(&["--lab", lab, "exec", "box", "--", "curl", "-s", target]);
        if o.status.success() || Instant::now() > deadline {
            return text(&o.stdout);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The lab file's own network (netns and lxd follow it).
const LAB_FILE_NET: Net = Net {
    prefix: "10.77.0.",
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

/// The suite, on the tiny fixture lab (`tests/fixtures/tiny`: `box`, and `peer` serving its
/// name on :8080), so it needs no chapter's services and shows a lab that is not ch32 works.
fn conformance(t: Opening, kind: &str, lab: &str, net: Net) {
    let t = t.tiny();
    let home = &t.home;
    let _guard = t.lab(lab);
    let o = home.run(&["--lab", lab, "start", "tiny", "--backend", kind, "--yes"]);
    assert!(o.status.success(), "start on {kind}:\n{}", text(&o.stderr));

    // status: the lab's 2 nodes, running, with their addresses.
    let st = status(home, lab);
    assert_eq!(st["backend"], kind);
    let nodes = st["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
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
    let peer = address(&st, "peer");
    let ip = home.ok(&[
        "--lab", lab, "exec", "peer", "--", "ip", "-o", "-4", "addr", "show", "dev", net.iface,
    ]);
    assert!(ip.contains(&format!("inet {peer}/")), "{ip}");
    // Names resolve to the addresses the nodes have (the lab's /etc/hosts).
    assert!(
        home.ok(&["--lab", lab, "exec", "box", "--", "getent", "hosts", "peer"])
            .starts_with(&format!("{peer} ")),
    );

    // The lab's own facts were asked on its running nodes and kept in its record.
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(home.lab_dir(lab).join("lab.json")).unwrap())
            .unwrap();
    assert_eq!(record["facts"]["lab"]["sys"]["kernel"], "Linux", "{record}");
    assert_eq!(
        record["facts"]["lab"]["sys"]["greeting"], "a Linux node",
        "{record}"
    );

    // exec: output, exit codes and the network between nodes.
    assert_eq!(
        home.ok(&["--lab", lab, "exec", "peer", "--", "hostname"]),
        "peer\n"
    );
    assert_eq!(
        home.run(&["--lab", lab, "exec", "peer", "--", "sh", "-c", "exit 3"])
            .status
            .code(),
        Some(3)
    );
    assert_eq!(curl_once_up(home, lab, &format!("{peer}:8080")), "peer\n");
    assert_eq!(
        home.ok(&[
            "--lab",
            lab,
            "exec",
            "peer",
            "--",
            "systemctl",
            "is-active",
            "halab-tiny-web"
        ]),
        "active\n"
    );

    // A crashed node is down, and `start` brings it back with its services.
    let crash = |node: &str| match kind {
        // The test's own PATH has no `multipass`: ask the double itself for the power cut.
        "multipass" => {
            let o = crate::support::double(&["stop", "--force", &format!("halab-{lab}-{node}")]);
            assert!(o.status.success(), "{}", text(&o.stderr));
        }
        _ => halab::crash_node(home.path(), lab, kind, node).unwrap(),
    };
    crash("peer");
    std::thread::sleep(Duration::from_millis(300));
    assert!(!node_running(&status(home, lab), "peer"));
    let o = home.run(&["--lab", lab, "start", "tiny"]);
    assert!(
        text(&o.stderr).contains("0 created, 1 restarted"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(curl_once_up(home, lab, &format!("{peer}:8080")), "peer\n");

    // Where DHCP gives the addresses, a node may come back with another one: halab asks
    // again and rewrites every node's hosts file (the double's FAKE_MULTIPASS_READDRESS).
    if kind == "multipass" {
        crash("peer");
        let o = home
            .cmd()
            .args(["--lab", lab, "start", "tiny"])
            .env("FAKE_MULTIPASS_READDRESS", "1")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o.stderr));
        let moved = address(&status(home, lab), "peer");
        assert_ne!(moved, peer, "the double was asked for a new address");
        assert!(
            home.ok(&["--lab", lab, "exec", "box", "--", "getent", "hosts", "peer"])
                .starts_with(&format!("{moved} "))
        );
        assert_eq!(curl_once_up(home, lab, "peer:8080"), "peer\n");
    }
    let peer = address(&status(home, lab), "peer");

    // The fixture lesson (tests/fixtures/tiny/lessons) works on a lab that is not ch32, with no
    // Rust written for it: its step fails on the fresh lab for its reason, its solution makes it
    // pass, and `reset` makes it fail again.
    let mark_check = |want: i32| {
        let o = home.run(&["--lab", lab, "check", "--step", "mark", "--format", "json"]);
        let report: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\n{}", text(&o.stdout), text(&o.stderr)));
        assert_eq!(o.status.code(), Some(want), "{report}");
        let step = &report["steps"][0];
        assert_eq!(step["id"], "mark", "{report}");
        step["checks"][0].clone()
    };
    let fresh = mark_check(1);
    assert_eq!(fresh["passed"], false, "{fresh}");
    assert!(
        fresh.to_string().contains("there is no /root/mark on box"),
        "{fresh}"
    );
    let o = home.run(&["--lab", lab, "solve"]);
    assert!(o.status.success(), "solve on {kind}:\n{}", text(&o.stderr));
    assert_eq!(mark_check(0)["passed"], true);

    // reset puts a changed node back to its start.
    home.ok(&[
        "--lab",
        lab,
        "exec",
        "peer",
        "--",
        "sh",
        "-c",
        "echo changed > /var/www/tiny/index.html",
    ]);
    assert_eq!(curl(home, lab, &format!("{peer}:8080")), "changed\n");
    home.ok(&["--lab", lab, "reset"]);
    let peer = address(&status(home, lab), "peer");
    assert_eq!(curl_once_up(home, lab, &format!("{peer}:8080")), "peer\n");
    assert_eq!(
        mark_check(1)["passed"],
        false,
        "reset left the solved step passing"
    );

    // destroy leaves nothing.
    match kind {
        "netns" => crate::support::destroy_and_check(home, lab),
        "lxd" => {
            home.ok(&["--lab", lab, "destroy"]);
            assert_eq!(crate::support::lxd_leftovers(lab), Vec::<String>::new());
            assert!(!home.lab_dir(lab).exists());
        }
        "multipass" => {
            home.ok(&["--lab", lab, "destroy"]);
            assert_eq!(
                crate::support::multipass_leftovers(lab),
                Vec::<String>::new()
            );
            assert!(!home.lab_dir(lab).exists());
        }
        other => panic!("no backend `{other}`"),
    }
}

#[test]
fn conformance_netns() {
    let Some(t) = Opening::netns("conformance_netns") else {
        return;
    };
    conformance(t, "netns", "cf-netns", LAB_FILE_NET);
}

#[test]
fn conformance_lxd() {
    let Some(t) = Opening::lxd("conformance_lxd") else {
        return;
    };
    conformance(t, "lxd", "cf-lxd", LAB_FILE_NET);
}

#[test]
fn conformance_multipass() {
    let Some(t) = Opening::multipass("conformance_multipass") else {
        return;
    };
    conformance(
        t,
        "multipass",
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
    let Some(t) = Opening::multipass("multipass_shows_the_cloud_init_log_when_it_fails") else {
        return;
    };
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
    let t = t.with_env("HALAB_CONTENT", content.path().to_str().unwrap());
    let home = &t.home;
    let _guard = t.lab("mpfail");
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
    assert_eq!(
        crate::support::multipass_leftovers("mpfail"),
        Vec::<String>::new()
    );
}

/// The double's retry of LXD's transient errors, without LXD: which errors it counts as
/// transient, and that it retries those a bounded number of times and nothing else.
#[test]
fn the_double_retries_only_transient_lxd_errors() {
    let o = crate::support::double(&["double-selftest"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "double-selftest: ok\n");
}

/// A launch whose first file push meets LXD's forkfile.sock error (injected) is retried, says so
/// on stderr, and succeeds; one that meets it on every attempt fails with that error and leaves
/// no instance.
#[test]
fn the_double_retries_a_transient_lxd_error_on_launch() {
    // The opening holds the lab slot and removes the double's network afterwards.
    let Some(_t) = Opening::multipass("the_double_retries_a_transient_lxd_error_on_launch") else {
        return;
    };
    let launch = |name: &str, injected: &str| {
        std::process::Command::new(crate::support::double_dir().join("multipass"))
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
    let o = crate::support::double(&["delete", "--purge", "halab-dblretry-once"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        crate::support::multipass_leftovers("dblretry"),
        Vec::<String>::new()
    );
}
