//! The netns backend on real namespaces and real daemons (root; skipped with a reason
//! elsewhere, a failure under `CI=true`). One lab at a time.

use std::time::{Duration, Instant};

use crate::support::{
    Home, Opening, Test, by_id, destroy_and_check, host_network, leftovers, node_pid_namespaces,
    text,
};

fn status_json(home: &Home, lab: &str) -> serde_json::Value {
    serde_json::from_str(&home.ok(&["--lab", lab, "status", "--format", "json"])).unwrap()
}

fn holder_files(home: &Home, lab: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(home.lab_dir(lab).join("backend/nodes"))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path().join("holder.json")).unwrap_or_default())
        .collect();
    v.sort();
    v
}

/// Every node running, every service active, and the lab answering like the chapter's "before".
fn assert_lab_works(home: &Home, lab: &str) {
    let st = status_json(home, lab);
    let nodes = st["nodes"].as_array().unwrap();
    for n in nodes {
        assert_eq!(n["running"], true, "{n}");
        for s in n["services"].as_array().unwrap() {
            assert_eq!(s["active"], true, "{} of {}", s["name"], n["name"]);
        }
    }
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
            "pg-primary",
            "--",
            "sudo",
            "-u",
            "postgres",
            "psql",
            "-Atc",
            "select 1"
        ]),
        "1\n"
    );
}

#[test]
fn start_builds_the_chapter_lab_and_destroy_leaves_nothing() {
    let Some(t) = Opening::netns("start_builds_the_chapter_lab_and_destroy_leaves_nothing") else {
        return;
    };
    let home = &t.home;
    let before = host_network();
    let guard = t.lab("t1");
    // Started as `flock FILE halab start` (a lock fd inherited): the nodes' daemons, which
    // outlive halab, must not keep it, or the lock stays taken as long as the lab runs.
    let lock = home.path().join("caller.lock");
    let halab = home.cmd();
    let mut c = std::process::Command::new("flock");
    c.arg(&lock).arg(halab.get_program());
    for (k, v) in halab.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    let o = c
        .args(["--lab", "t1", "start", "ch32", "--yes"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let free = std::process::Command::new("flock")
        .args(["-n"])
        .arg(&lock)
        .arg("true")
        .status()
        .unwrap();
    assert!(free.success(), "the lab's daemons hold the caller's lock");
    assert!(
        text(&o.stderr).contains("halab --lab t1 shell client"),
        "{}",
        text(&o.stderr)
    );

    // status: the 8 nodes of DESIGN.md with their addresses; nobody holds the floating IP yet.
    let st = status_json(home, "t1");
    assert_eq!(st["backend"], "netns");
    assert_eq!(st["lab"], "t1");
    assert!(st["vip_holder"].is_null(), "{st}");
    let got: Vec<(String, String)> = st["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["name"].as_str().unwrap().into(),
                n["address"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want = [
        ("client", "10.0.0.2"),
        ("lb-01", "10.0.0.10"),
        ("lb-02", "10.0.0.11"),
        ("app-01", "10.0.0.20"),
        ("app-02", "10.0.0.21"),
        ("app-03", "10.0.0.22"),
        ("pg-primary", "10.0.0.30"),
        ("pg-standby", "10.0.0.31"),
    ]
    .map(|(a, b)| (a.to_string(), b.to_string()));
    assert_eq!(got, want);
    assert_lab_works(home, "t1");

    // The chapter's commands work inside nodes.
    assert_eq!(
        home.ok(&["--lab", "t1", "exec", "app-02", "--", "hostname"]),
        "app-02\n"
    );
    let o = home.run(&["--lab", "t1", "exec", "lb-01", "--", "nginx", "-t"]);
    assert!(
        o.status.success() && text(&o.stderr).contains("test is successful"),
        "{}",
        text(&o.stderr)
    );
    home.ok(&[
        "--lab",
        "t1",
        "exec",
        "lb-01",
        "--",
        "sudo",
        "systemctl",
        "reload",
        "nginx",
    ]);
    let page = home.ok(&[
        "--lab",
        "t1",
        "exec",
        "client",
        "--",
        "curl",
        "-s",
        "10.0.0.10",
    ]);
    assert!(
        page.contains("Welcome to nginx"),
        "lb-01 serves Debian's default site: {page}"
    );
    home.ok(&[
        "--lab",
        "t1",
        "exec",
        "pg-standby",
        "--",
        "pg_isready",
        "-h",
        "localhost",
    ]);
    let db = home.ok(&[
        "--lab",
        "t1",
        "exec",
        "pg-primary",
        "--",
        "sudo",
        "-u",
        "postgres",
        "psql",
        "-Atc",
        "select pg_get_userbyid(datdba) from pg_database where datname = 'appdb'",
    ]);
    assert_eq!(db, "appuser\n");
    // keepalived is installed but not configured, so not running.
    let o = home.run(&[
        "--lab",
        "t1",
        "exec",
        "lb-01",
        "--",
        "systemctl",
        "is-active",
        "keepalived",
    ]);
    assert_eq!(text(&o.stdout), "inactive\n");
    // halab's systemctl inside a node: stop, start, status, the versioned PostgreSQL unit.
    let sh = |node: &str, script: &str| {
        home.ok(&["--lab", "t1", "exec", node, "--", "bash", "-c", script])
    };
    assert_eq!(
        sh(
            "app-01",
            "systemctl stop halab-app; systemctl is-active halab-app; curl -s -o /dev/null -w '%{http_code}' localhost:8080; echo"
        ),
        "inactive\n000\n"
    );
    assert_eq!(
        sh(
            "app-01",
            "systemctl reset-failed halab-app; systemctl start halab-app && systemctl is-active halab-app && curl -s localhost:8080"
        ),
        "active\napp-01\n"
    );
    let unit = sh(
        "pg-primary",
        "echo postgresql@$(pg_lsclusters -h | cut -d' ' -f1)-main",
    )
    .trim()
    .to_string();
    assert_eq!(
        sh(
            "pg-primary",
            &format!(
                "systemctl stop {unit}; pg_isready -q; echo $?; systemctl start {unit} && pg_isready -q; echo $?"
            )
        ),
        "2\n0\n"
    );
    assert_eq!(sh("pg-standby", "systemctl is-active cron"), "active\n");
    let o = home.run(&[
        "--lab",
        "t1",
        "exec",
        "lb-02",
        "--",
        "systemctl",
        "enable",
        "--now",
        "keepalived",
    ]);
    assert!(
        o.status.success(),
        "keepalived without configuration is skipped, as under systemd: {}",
        text(&o.stderr)
    );
    assert!(
        text(&o.stderr).contains("keepalived.conf is empty or missing"),
        "{}",
        text(&o.stderr)
    );
    // exec passes the exit code through; a node cannot write the host's files.
    assert_eq!(
        home.run(&["--lab", "t1", "exec", "client", "--", "sh", "-c", "exit 7"])
            .status
            .code(),
        Some(7)
    );
    let o = home.run(&[
        "--lab",
        "t1",
        "exec",
        "client",
        "--",
        "touch",
        "/etc/halab-must-not-exist",
    ]);
    assert!(!o.status.success() && text(&o.stderr).contains("Read-only file system"));
    assert!(!std::path::Path::new("/etc/halab-must-not-exist").exists());
    // A typo in a node name is answered with the right name.
    let o = home.run(&["--lab", "t1", "exec", "app-2", "--", "true"]);
    assert!(
        text(&o.stderr).contains("did you mean `app-02`?"),
        "{}",
        text(&o.stderr)
    );

    // The shell's prompt names the node.
    Test::in_home(home)
        .args(["--lab", "t1", "shell", "app-02"])
        .stdin("echo via-shell; exit\n")
        .any_status()
        .stderr_has("root@app-02")
        .stdout_has("via-shell")
        .run();

    // The host's network namespace got nothing: no address, route or link.
    assert_eq!(host_network(), before, "the lab changed the host's network");

    // A second start changes nothing: same node processes.
    let holders = holder_files(home, "t1");
    let o = home.run(&["--lab", "t1", "start", "ch32"]);
    assert!(
        o.status.success() && text(&o.stderr).contains("already up"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(holder_files(home, "t1"), holders);

    let namespaces = node_pid_namespaces(home, "t1");
    assert_eq!(namespaces.len(), 8);
    home.ok(&["--lab", "t1", "destroy"]);
    std::mem::forget(guard);
    assert_eq!(leftovers(home, "t1", &namespaces), Vec::<String>::new());
    assert_eq!(host_network(), before);
}

#[test]
fn a_start_killed_half_way_is_finished_by_the_next() {
    let Some(t) = Opening::netns("a_start_killed_half_way_is_finished_by_the_next") else {
        return;
    };
    let home = &t.home;
    let _guard = t.lab("t2");
    let mut child = home
        .cmd()
        .args(["--lab", "t2", "start", "ch32", "--yes"])
        .spawn()
        .unwrap();
    // Kill halab once some node is provisioned and others are not: the middle of the build.
    let record = home.lab_dir("t2").join("lab.json");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let done = std::fs::read_to_string(&record)
            .unwrap_or_default()
            .matches("\"provisioned\": true")
            .count();
        if done >= 1 {
            assert!(
                done < 8,
                "the build finished before it could be interrupted"
            );
            break;
        }
        assert!(Instant::now() < deadline, "no node was provisioned in 30 s");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let o = home.run(&["--lab", "t2", "start", "ch32"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        !text(&o.stderr).contains("already up"),
        "the second start must have had work to do"
    );
    assert_lab_works(home, "t2");
    destroy_and_check(home, "t2");
}

#[test]
fn two_labs_share_addresses_without_seeing_each_other() {
    let Some(t) = Opening::netns("two_labs_share_addresses_without_seeing_each_other") else {
        return;
    };
    let home = &t.home;
    let _a = t.lab("ta");
    let _b = t.lab("tb");
    home.ok(&["--lab", "ta", "start", "ch32"]);
    home.ok(&["--lab", "tb", "start", "ch32"]);
    home.ok(&[
        "--lab",
        "ta",
        "exec",
        "app-02",
        "--",
        "sh",
        "-c",
        "sed -i 's/^NAME = .*/NAME = \"only-in-a\"/' /usr/local/bin/halab-app && systemctl restart halab-app",
    ]);
    assert_eq!(
        home.ok(&[
            "--lab",
            "ta",
            "exec",
            "client",
            "--",
            "curl",
            "-s",
            "10.0.0.21:8080"
        ]),
        "only-in-a\n"
    );
    assert_eq!(
        home.ok(&[
            "--lab",
            "tb",
            "exec",
            "client",
            "--",
            "curl",
            "-s",
            "10.0.0.21:8080"
        ]),
        "app-02\n"
    );
    // Without --lab, a command with two labs around asks which.
    let o = home.run(&["status"]);
    assert!(
        text(&o.stderr).contains("--lab NAME"),
        "{}",
        text(&o.stderr)
    );
    destroy_and_check(home, "ta");
    // Destroying one lab leaves the other working.
    assert_eq!(
        home.ok(&[
            "--lab",
            "tb",
            "exec",
            "client",
            "--",
            "curl",
            "-s",
            "10.0.0.20:8080"
        ]),
        "app-01\n"
    );
    destroy_and_check(home, "tb");
}

#[test]
fn concurrent_starts_wait_for_each_other() {
    let Some(t) = Opening::netns("concurrent_starts_wait_for_each_other") else {
        return;
    };
    let home = &t.home;
    let _guard = t.lab("tc");
    let spawn = || {
        home.cmd()
            .args(["--lab", "tc", "start", "ch32"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // B starts once A holds the lab's lock (A's build then lasts seconds), so B must wait.
    let a = spawn();
    let lock = home.path().join("locks/tc.lock");
    let holder = format!("pid {}", a.id());
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(&lock).is_ok_and(|t| t.contains(&holder)) {
        assert!(Instant::now() < deadline, "A never took the lock");
        std::thread::sleep(Duration::from_millis(20));
    }
    let b = spawn();
    let (oa, ob) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(oa.status.success(), "{}", text(&oa.stderr));
    assert!(ob.status.success(), "{}", text(&ob.stderr));
    let both = text(&oa.stderr) + &text(&ob.stderr);
    assert!(both.contains("is busy (`halab start ch32`, pid"), "{both}");
    assert_eq!(both.matches("already up").count(), 1, "{both}");
    assert_lab_works(home, "tc");
    destroy_and_check(home, "tc");
}

#[test]
fn a_crashed_node_comes_back_with_start() {
    let Some(t) = Opening::netns("a_crashed_node_comes_back_with_start") else {
        return;
    };
    let home = &t.home;
    let lab = t.lab("td");
    lab.start("ch32", &[]);
    // Crash pg-primary: SIGKILL its PID 1 (the kernel ends every process in the node).
    let h: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            home.lab_dir("td")
                .join("backend/nodes/pg-primary/holder.json"),
        )
        .unwrap(),
    )
    .unwrap();
    unsafe { libc::kill(h["init_pid"].as_u64().unwrap() as i32, libc::SIGKILL) };
    std::thread::sleep(Duration::from_millis(200));
    let st = status_json(home, "td");
    let pg = st["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "pg-primary")
        .unwrap();
    assert_eq!(pg["running"], false, "{pg}");
    let o = home.run(&["--lab", "td", "exec", "pg-primary", "--", "true"]);
    assert!(
        text(&o.stderr).contains("is not running") && text(&o.stderr).contains("halab start"),
        "{}",
        text(&o.stderr)
    );
    let o = home.run(&["--lab", "td", "start", "ch32"]);
    assert!(
        text(&o.stderr).contains("0 created, 1 restarted"),
        "{}",
        text(&o.stderr)
    );
    // A lab keeps its backend: another default does not move it, another `--backend` is refused.
    let o = home
        .cmd()
        .args(["--lab", "td", "start", "ch32"])
        .env("HALAB_BACKEND", "lxd")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("already up (8 nodes on netns)"),
        "{}",
        text(&o.stderr)
    );
    let o = home.run(&["--lab", "td", "start", "ch32", "--backend", "lxd"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("lab `td` runs on the netns backend, not lxd"),
        "{}",
        text(&o.stderr)
    );
    // Its data survived the crash: appdb is still there.
    assert_lab_works(home, "td");
    let db = home.ok(&[
        "--lab",
        "td",
        "exec",
        "pg-primary",
        "--",
        "sudo",
        "-u",
        "postgres",
        "psql",
        "-Atc",
        "select count(*) from pg_database where datname = 'appdb'",
    ]);
    assert_eq!(db, "1\n");
    destroy_and_check(home, "td");
}

#[test]
fn reset_waits_while_a_drill_holds_the_lab() {
    let Some(t) = Opening::netns("reset_waits_while_a_drill_holds_the_lab").map(Opening::tiny)
    else {
        return;
    };
    let home = &t.home;
    let lab = t.lab("tw");
    lab.start("tiny", &[]);
    home.ok(&["--lab", "tw", "solve"]);
    // The fixture's drill holds its fault for 4 s.
    let drill = home
        .cmd()
        .args(["--lab", "tw", "drill", "hold"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lock = home.path().join("locks/tw.lock");
    let holder = format!("`halab drill hold`, pid {}", drill.id());
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(&lock).is_ok_and(|t| t.contains(&holder)) {
        assert!(Instant::now() < deadline, "the drill never took the lock");
        std::thread::sleep(Duration::from_millis(20));
    }
    // While the drill holds the lab, reading it does not wait.
    let t0 = Instant::now();
    home.ok(&["--lab", "tw", "status"]);
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "status waited for the drill"
    );
    let reset = home.run(&["--lab", "tw", "reset"]);
    let drill = drill.wait_with_output().unwrap();
    let reset_done = Instant::now();
    assert!(drill.status.success(), "{}", text(&drill.stderr));
    assert!(reset.status.success(), "{}", text(&reset.stderr));
    let err = text(&reset.stderr);
    assert!(
        err.contains(&format!(
            "lab `tw` is busy ({holder}); waiting for it to finish"
        )),
        "{err}"
    );
    assert!(
        reset_done.duration_since(t0) >= Duration::from_secs(3),
        "reset did not wait for the drill"
    );
    // The reset really happened after the drill: the step is undone.
    assert_eq!(
        home.run(&["--lab", "tw", "check", "--step", "mark"])
            .status
            .code(),
        Some(1)
    );
    destroy_and_check(home, "tw");
}

/// The drill engine end to end on the tiny fixture (no ch32): its order service stopped,
/// storing what it refuses, answering too late, acknowledging what it never stores. Every
/// request and order is in the history; the set checker's figures follow from the service's
/// behaviour; the sample ran before the fault; the one run that loses orders fails its limit.
#[test]
fn a_drill_records_every_order_and_checks_what_was_stored() {
    let Some(t) =
        Opening::netns("a_drill_records_every_order_and_checks_what_was_stored").map(Opening::tiny)
    else {
        return;
    };
    let home = &t.home;
    let lab = t.lab("to");
    lab.start("tiny", &[]);
    let o = home.run(&["--lab", "to", "drill", "orders", "--format", "json"]);
    let d: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o.stderr)));
    // Only `forgets` misses its limit (lost ≤ 0).
    assert_eq!(o.status.code(), Some(1), "{d:#}");
    let run = |id: &str| by_id(&d["runs"], id).clone();
    let f = |r: &serde_json::Value, k: &str| {
        r["figures"][k]
            .as_f64()
            .unwrap_or_else(|| panic!("no figure {k} in {r:#}"))
    };
    let outcomes = |r: &serde_json::Value, want: &str| {
        r["history"]["orders"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["outcome"] == want)
            .count() as f64
    };
    for id in ["stopped", "refuses", "slow", "forgets"] {
        let r = run(id);
        // The history holds every order and request the figures count, and no other run's ids.
        let orders = r["history"]["orders"].as_array().unwrap();
        assert_eq!(orders.len() as f64, f(&r, "writes"), "{id}: {r:#}");
        assert_eq!(outcomes(&r, "ok"), f(&r, "acknowledged"), "{id}");
        assert_eq!(outcomes(&r, "fail"), f(&r, "writes_failed"), "{id}");
        assert_eq!(outcomes(&r, "unknown"), f(&r, "writes_unknown"), "{id}");
        let prefix = r["history"]["prefix"].as_str().unwrap();
        assert!(prefix.starts_with(&format!("{id}-")), "{prefix}");
        assert!(
            orders
                .iter()
                .all(|o| o["id"].as_str().unwrap().starts_with(prefix)),
            "{id}"
        );
        assert_eq!(
            r["history"]["requests"].as_array().unwrap().len() as f64,
            f(&r, "requests"),
            "{id}"
        );
        // Orders kept by earlier runs are not this run's: nothing unexpected, nothing twice.
        assert_eq!(
            (f(&r, "unexpected"), f(&r, "duplicates")),
            (0.0, 0.0),
            "{id}: {r:#}"
        );
        // The web server on :8080 never went down.
        assert_eq!(
            (f(&r, "failed"), f(&r, "read_outage_s")),
            (0.0, 0.0),
            "{id}"
        );
        assert!(f(&r, "acknowledged") >= 5.0, "{id}: {r:#}");
    }
    // Stopped: refused connections fail (nothing was sent), nothing acknowledged is lost, and
    // users could not write for about the hold (1 s).
    let r = run("stopped");
    assert!(f(&r, "writes_failed") >= 5.0, "{r:#}");
    assert!(
        r["history"]["orders"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["outcome"] == "fail"
                && o["error"]
                    .as_str()
                    .unwrap_or("")
                    .contains("ConnectionRefused")),
        "{r:#}"
    );
    assert_eq!((f(&r, "lost"), f(&r, "recovered")), (0.0, 0.0), "{r:#}");
    let outage = f(&r, "write_outage_s");
    // The service is down for 1 s: an outage of about that (a loaded machine stretches it).
    assert!(outage >= 0.7, "{outage}: {r:#}");
    assert_eq!(r["passed"], true, "{r:#}");
    // The sample (orders stored) ran from the start of the traffic until the fault.
    let samples = r["history"]["samples"]["stored"].as_array().unwrap();
    assert!(samples.len() >= 3, "{r:#}");
    assert!(f(&r, "stored") >= 1.0, "{r:#}");
    // Refused with 503 but stored: failed, and recovered. (This run's repair empties the store:
    // nothing is lost because the orders are read back before it.)
    let r = run("refuses");
    assert!(f(&r, "writes_failed") >= 5.0, "{r:#}");
    assert_eq!(f(&r, "recovered"), f(&r, "writes_failed"), "{r:#}");
    assert_eq!(f(&r, "lost"), 0.0, "{r:#}");
    assert!(f(&r, "write_outage_s") >= 0.7, "{r:#}");
    // Answered after the client's timeout, but stored: unknown, and recovered.
    let r = run("slow");
    assert!(f(&r, "writes_unknown") >= 5.0, "{r:#}");
    assert!(f(&r, "recovered") >= f(&r, "writes_unknown") - 1.0, "{r:#}");
    assert_eq!(f(&r, "lost"), 0.0, "{r:#}");
    // Acknowledged but never stored: lost, and the run fails its limit.
    let r = run("forgets");
    assert!(f(&r, "lost") >= 5.0, "{r:#}");
    assert_eq!(
        r["history"]["checked"]["lost"].as_array().unwrap().len() as f64,
        f(&r, "lost")
    );
    assert_eq!(r["passed"], false, "{r:#}");
    // The text report stays short: figures, not the history.
    let o = home.run(&["--lab", "to", "check", "--drills", "--format", "json"]);
    let graded = text(&o.stdout);
    assert!(graded.contains("forgets.lost"), "{graded}");
    // A drill never run on this lab fails, with the command that runs it.
    let graded: serde_json::Value = serde_json::from_str(&graded).unwrap();
    let hold = by_id(&graded["steps"], "drill:hold");
    assert_eq!(hold["passed"], false, "{hold:#}");
    assert_eq!(
        hold["checks"][0]["hint"], "run `halab drill hold`",
        "{hold:#}"
    );
    destroy_and_check(home, "to");
}

#[test]
fn destroy_of_a_lab_with_a_damaged_record_finds_what_it_left() {
    let Some(t) = Opening::netns("destroy_of_a_lab_with_a_damaged_record_finds_what_it_left")
        .map(Opening::tiny)
    else {
        return;
    };
    let home = &t.home;
    let lab = t.lab("tx");
    lab.start("tiny", &[]);
    let namespaces = node_pid_namespaces(home, "tx");
    assert_eq!(namespaces.len(), 2);
    std::fs::write(home.lab_dir("tx").join("lab.json"), "{ damaged").unwrap();
    let o = home.run(&["--lab", "tx", "destroy"]);
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    for what in [
        "removed netns: node `box` (pid",
        "removed netns: node `peer` (pid",
        "removed netns: network namespace `halab-tx-sw`",
    ] {
        assert!(err.contains(what), "{what}:\n{err}");
    }
    assert_eq!(leftovers(home, "tx", &namespaces), Vec::<String>::new());
}

/// Progress without a terminal is one line per phase; `-v` adds each node, `-q` prints nothing.
/// `status` shows a service the lesson names once the trainee runs it, in text and JSON.
#[test]
fn progress_is_a_line_per_phase_and_status_shows_the_lessons_services() {
    let Some(t) =
        Opening::netns("progress_is_a_line_per_phase_and_status_shows_the_lessons_services")
    else {
        return;
    };
    let t = t.tiny();
    let home = &t.home;
    let lab = t.lab("pl");
    let o = lab.start("tiny", &[]);
    let err = text(&o.stderr);
    eprintln!("---- start\n{err}");
    // Between the talk before the build and the summary after it: the phases, a line each.
    let lines: Vec<&str> = err.lines().collect();
    let from = lines
        .iter()
        .position(|l| l.starts_with("==> building lab"))
        .unwrap();
    let to = lines
        .iter()
        .position(|l| l.starts_with("✔ lab `pl` is up"))
        .unwrap();
    assert_eq!(
        lines[from + 1..to],
        [
            "✔ nodes: 2 created, 0 restarted",
            "✔ services: every node is in its starting state"
        ],
        "one line per phase:\n{err}"
    );

    // -v: the node's own lines; -q: none at all.
    halab::crash_node(home.path(), "pl", "netns", "peer").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let err = text(&lab.start("tiny", &["-v"]).stderr);
    eprintln!("---- start -v\n{err}");
    assert!(err.contains("0 created, 1 restarted"), "{err}");
    assert!(err.contains("    peer done"), "{err}");
    halab::crash_node(home.path(), "pl", "netns", "peer").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let o = home.run(&["-q", "--lab", "pl", "start", "tiny"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stderr), "", "-q prints nothing");
    assert_eq!(status_json(home, "pl")["nodes"][1]["running"], true);

    // The lesson's service on box: not shown until it runs, then shown as the lesson's.
    let box_services = |home: &Home| status_json(home, "pl")["nodes"][0]["services"].clone();
    assert_eq!(box_services(home), serde_json::json!([]));
    home.ok(&[
        "--lab",
        "pl",
        "exec",
        "box",
        "--",
        "sh",
        "-c",
        "cp /dev/stdin /usr/local/bin/halab-tiny-web <<'E'\n#!/bin/sh\nexec sleep 600\nE\n\
         chmod 755 /usr/local/bin/halab-tiny-web && systemctl start halab-tiny-web",
    ]);
    assert_eq!(
        box_services(home),
        serde_json::json!([{"name": "halab-tiny-web", "active": true, "source": "lesson"}])
    );
    let table = home.ok(&["--lab", "pl", "status"]);
    let line = table.lines().find(|l| l.starts_with("box ")).unwrap();
    assert!(line.contains("halab-tiny-web ✔"), "{table}");
}
