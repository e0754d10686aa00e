//! The command line without a lab: help, lessons, validation, and errors that say what to do.

use crate::support::{Home, Test};

#[test]
fn help_teaches_and_lists_only_finished_commands() {
    let h = Test::new().arg("--help").run().stdout;
    for c in [
        "start",
        "status",
        "exec",
        "shell",
        "destroy",
        "lessons",
        "validate",
        "--lab",
        "sudo halab start ch32",
    ] {
        assert!(h.contains(c), "help lacks {c}:\n{h}");
    }
    for c in [
        "check", "solve", "reset", "hint", "uptime", "alerts", "labs", "doctor", "drill",
    ] {
        assert!(h.contains(&format!("  {c} ")), "help lacks `{c}`:\n{h}");
    }
    Test::new()
        .args(["exec", "--help"])
        .stdout_has("halab exec app-02 -- hostname")
        .run();
}

#[test]
fn lessons_lists_ch32_with_its_lab() {
    let out = Test::new()
        .arg("lessons")
        .stdout_has("Dhruv builds the system that never goes down")
        .stdout_has("8 nodes")
        .run()
        .stdout;
    assert!(out.starts_with("ch32"), "{out}");
    // A lesson that names no source book says nothing of one.
    Test::new()
        .env(
            "HALAB_CONTENT",
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny"),
        )
        .arg("lessons")
        .stdout_has("tiny     a tiny lesson  (lab `tiny`, 2 nodes)")
        .run();
}

#[test]
fn validate_accepts_the_shipped_content() {
    let root = env!("CARGO_MANIFEST_DIR");
    Test::new()
        .args([
            "validate",
            &format!("{root}/labs"),
            &format!("{root}/lessons"),
        ])
        .stdout_has("lab `ch32`: 8 nodes on 10.0.0.0/24")
        .stdout_has(
            "lesson `ch32`: 11 steps, runs on lab `ch32` (checked against its lab and solutions)",
        )
        .run();
}

#[test]
fn validate_reports_every_problem_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let lab =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/labs/ch32.toml")).unwrap();
    let broken = lab
        .replacen("address = \"10.0.0.11\"", "address = \"10.0.0.10\"", 1) // lb-02 takes lb-01's address
        .replacen("role = \"app\"", "role = \"ap\"", 1) // app-01: unknown role
        .replacen("address = \"10.0.0.31\"", "address = \"10.0.1.31\"", 1) // pg-standby: outside
        .replacen("services = [\"nginx\"]", "servics = [\"nginx\"]", 1); // lb: unknown field
    let path = dir.path().join("labs-ch32.toml");
    std::fs::write(&path, &broken).unwrap();
    let line_of = |needle: &str| broken[..broken.find(needle).unwrap()].matches('\n').count() + 1;
    let out = Test::new()
        .arg("validate")
        .arg(&path)
        .status(1)
        .run()
        .stdout;
    let p = path.display();
    assert!(
        out.contains(&format!(
            "{p}:{}:1: unknown field `servics`",
            line_of("servics")
        )),
        "{out}"
    );
    let dup_line = broken
        .match_indices("address = \"10.0.0.10\"")
        .nth(1)
        .map(|(i, _)| broken[..i].matches('\n').count() + 1)
        .unwrap();
    assert!(
        out.contains(&format!(
            "{p}:{dup_line}:11: address 10.0.0.10 of `lb-02` is already used by `lb-01`"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{p}:{}:8: node `app-01` has unknown role `ap`",
            line_of("role = \"ap\"")
        )),
        "{out}"
    );
    assert!(out.contains("did you mean `app`?"), "{out}");
    assert!(
        out.contains(&format!(
            "{p}:{}:11: address 10.0.1.31 is outside the lab's subnet 10.0.0.0/24",
            line_of("10.0.1.31")
        )),
        "{out}"
    );
    assert!(out.contains("did you mean `services`?"), "{out}");
    assert!(out.contains("4 problem(s)"), "{out}");
}

#[test]
fn unknown_lesson_suggests_the_right_one() {
    for cmd in ["start", "prepare"] {
        Test::new()
            .args([cmd, "ch23"])
            .status(2)
            .stderr_has("error: no lesson named `ch23`")
            .stderr_has("hint: did you mean `ch32`?")
            .run();
    }
}

#[test]
fn commands_without_a_lab_say_how_to_start_one() {
    Test::new()
        .arg("status")
        .status(2)
        .stderr_has("there is no lab on this machine")
        .stderr_has("halab start LESSON")
        .stderr_has("halab lessons")
        .run();
}

/// `--run RUN` picks a run of one drill: with `all` it is refused before any lab is looked up,
/// naming the form that works (an unknown RUN of a drill: the lifecycle test, on a real lab).
#[test]
fn drill_run_names_one_drill() {
    Test::new()
        .args(["drill", "all", "--run", "crash"])
        .status(2)
        .stderr_has("`--run crash` picks a run of one drill, not of `all`")
        .stderr_has("halab drill DRILL --run crash")
        .run();
    Test::new()
        .args(["drill", "--help"])
        .stdout_has("--run <RUN>")
        .stdout_has("Run only this run of the drill")
        .run();
}

/// `halab exec NODE CMD ARGS...` takes the command with or without `--`, as docker and kubectl
/// do, options of the command included: each form gets past the command line to the lab
/// lookup (and the lab test `after_a_node_shell_the_runner_still_owns_the_terminal` runs one).
#[test]
fn exec_takes_the_command_with_or_without_a_double_dash() {
    for form in [
        &["exec", "lb-02", "sh", "-c", "echo hi"][..],
        &["exec", "lb-02", "--", "sh", "-c", "echo hi"],
        &["exec", "lb-02", "ls", "-l", "--color=never", "/"],
        &["exec", "lb-02", "--", "--not-an-option"],
        &["--lab", "x", "exec", "lb-02", "-x"],
    ] {
        let err = Test::new()
            .args(form)
            .status(2)
            .stderr_has("there is no lab")
            .run()
            .stderr;
        assert!(!err.contains("unexpected argument"), "{form:?}: {err}");
    }
    // A node and no command is still a mistake of the command line.
    Test::new()
        .args(["exec", "lb-02"])
        .status(2)
        .stderr_has("required arguments were not provided")
        .stderr_has("<CMD>...")
        .run();
}

#[test]
fn not_root_gives_the_sudo_line() {
    // The backend that needs root: netns, or lxd in a build without netns.
    let backend = if cfg!(netns) { "netns" } else { "lxd" };
    Test::new()
        .args(["start", "ch32", "--yes"])
        .env("HALAB_BACKEND", backend)
        .by_nobody()
        .status(2)
        .stderr_has(&format!(
            "error: `halab start` on the {backend} backend needs root"
        ))
        .stderr_has("hint: run it as root: `sudo halab start ch32 --yes`")
        .run();
}

#[test]
fn no_color_and_pipes_get_plain_text() {
    Test::new()
        .args([
            "validate",
            concat!(env!("CARGO_MANIFEST_DIR"), "/labs/ch32.toml"),
        ])
        .stdout_lacks("\u{1b}")
        .run();
}

#[test]
fn the_test_script_installs_every_package_the_lab_needs() {
    let script =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/test")).unwrap();
    // The list may span lines: `need=(a b` ... `c d)`.
    let start = script.find("\nneed=(").expect("need=( line");
    let need = &script[start..start + script[start..].find(')').expect("need=(...)")];
    let lab = halab::content::lab::load(
        std::path::Path::new("labs/ch32.toml"),
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/labs/ch32.toml")).unwrap(),
    )
    .unwrap();
    for p in lab.all_packages() {
        assert!(
            need.split(['(', ')', ' ', '\n']).any(|w| w == p),
            "scripts/test does not install `{p}`"
        );
    }
}

#[test]
fn uptime_prints_the_chapters_figures_and_compositions() {
    Test::new()
        .args(["uptime", "99.9"])
        .stdout_has("year           8h 45m 58s  8.77 hours")
        .stdout_has("month             43m 50s  43.8 minutes")
        .stdout_has("week")
        .stdout_has("day")
        .run();
    Test::new()
        .args(["uptime", "99"])
        .stdout_has("3.65 days")
        .run();
    Test::new()
        .args(["uptime", "99.99"])
        .stdout_has("52.6 minutes")
        .run();
    Test::new()
        .args(["uptime", "--serial", "99.9", "99.9"])
        .stdout_has("in series: 99.8001%")
        .stdout_has("17.5 hours")
        .run();
    Test::new()
        .args(["uptime", "--parallel", "99", "99"])
        .stdout_has("in parallel: 99.99%")
        .stdout_has("52.6 minutes")
        .run();
    Test::new()
        .args(["uptime", "99.9", "99"])
        .status(2)
        .stderr_has("hint: add `--serial`")
        .run();
    Test::new()
        .args(["uptime", "120"])
        .any_status()
        .stderr_has("120 is not a percentage")
        .run();
}

/// A copy of the shipped content in a temporary directory, to break on purpose.
fn content_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = env!("CARGO_MANIFEST_DIR");
    let status = std::process::Command::new("cp")
        .args([
            "-r",
            &format!("{src}/labs"),
            &format!("{src}/lessons"),
            &format!("{src}/solutions"),
        ])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

#[test]
fn validate_lints_a_lesson_against_its_lab_and_solutions() {
    let dir = content_copy();
    let lesson = dir.path().join("lessons/ch32.toml");
    let text0 = std::fs::read_to_string(&lesson).unwrap();
    let broken = text0
        .replacen(
            "node = \"lb-02\"\nrun = \"sudo nginx -t",
            "node = \"lb-03\"\nrun = \"sudo nginx -t",
            1,
        )
        .replacen(
            "superseded_by = \"promote\"",
            "superseded_by = \"uptime\"",
            1,
        )
        .replacen(
            "http://{{ node[\"lb-01\"].ip }}/) ||",
            "http://{{ node[\"lb-1\"].ip }}/) ||",
            1,
        )
        .replacen(
            "expect = { stdout = \"^ok$\" }",
            "expect = { stdout = \"^(ok$\" }",
            1,
        );
    std::fs::write(&lesson, &broken).unwrap();
    std::fs::remove_file(dir.path().join("solutions/ch32/review.toml")).unwrap();
    let out = Test::new()
        .arg("validate")
        .arg(&lesson)
        .status(1)
        .run()
        .stdout;
    let line = |needle: &str| broken[..broken.find(needle).unwrap()].matches('\n').count() + 1;
    let p = lesson.display();
    assert!(
        out.contains(&format!(
            "{p}:{}:8: no node `lb-03` in lab `ch32`",
            line("\"lb-03\"")
        )),
        "{out}"
    );
    assert!(
        out.contains("did you mean `lb-01`?") || out.contains("did you mean `lb-02`?"),
        "{out}"
    );
    assert!(
        out.contains("`superseded_by = \"uptime\"` must name a later step"),
        "{out}"
    );
    assert!(
        out.contains("step `review` has no solution") && out.contains("solutions/ch32/review.toml"),
        "{out}"
    );
    // Template and regex problems are found once the structure is right.
    let fixed = text0
        .replacen(
            "http://{{ node[\"lb-01\"].ip }}/) ||",
            "http://{{ node[\"lb-1\"].ip }}/) ||",
            1,
        )
        .replacen(
            "expect = { stdout = \"^ok$\" }",
            "expect = { stdout = \"^(ok$\" }",
            1,
        );
    std::fs::write(&lesson, &fixed).unwrap();
    std::fs::write(dir.path().join("solutions/ch32/review.toml"), "").unwrap();
    Test::new()
        .arg("validate")
        .arg(&lesson)
        .any_status()
        .stdout_has("template does not render")
        .stdout_has("not a valid regex once rendered")
        .stdout_has("2 problem(s)")
        .run();
}

#[test]
fn halab_content_points_at_other_content() {
    let dir = content_copy();
    let lesson = dir.path().join("lessons/ch32.toml");
    let t = std::fs::read_to_string(&lesson).unwrap();
    std::fs::write(
        &lesson,
        t.replacen(
            "title = \"Dhruv builds the system that never goes down\"",
            "title = \"My own version\"",
            1,
        ),
    )
    .unwrap();
    Test::new()
        .env("HALAB_CONTENT", dir.path())
        .arg("lessons")
        .any_status()
        .stdout_has("My own version")
        .run();
    // Broken content is refused with every problem and a hint.
    std::fs::write(
        dir.path().join("solutions/ch32/uptime.toml"),
        "[answers]\nno-such-question = 1.0\n",
    )
    .unwrap();
    Test::new()
        .env("HALAB_CONTENT", dir.path())
        .arg("lessons")
        .status(2)
        .stderr_has("step `uptime` has no question `no-such-question`")
        .stderr_has("hint: run `halab validate`")
        .run();
}

/// A home whose backend choice depends only on what the test sets: no `HALAB_BACKEND`, a
/// private config directory, no `multipass` on PATH, and an LXD client that is not there.
fn bare(config: Option<&str>) -> (Home, tempfile::TempDir) {
    let xdg = tempfile::tempdir().unwrap();
    if let Some(c) = config {
        std::fs::create_dir_all(xdg.path().join("halab")).unwrap();
        std::fs::write(xdg.path().join("halab/config.toml"), c).unwrap();
    }
    let path: Vec<String> = std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .filter(|d| !std::path::Path::new(d).join("multipass").exists())
        .map(String::from)
        .collect();
    let home = Home::new()
        .with_env("XDG_CONFIG_HOME", xdg.path().to_str().unwrap())
        .with_env("PATH", &path.join(":"))
        .with_env("HALAB_LXD_CLIENT", "/nonexistent/lxc");
    (home, xdg)
}

fn doctor_json(home: &Home, env: &[(&str, &str)], args: &[&str]) -> (i32, serde_json::Value) {
    let mut t = Test::in_home(home)
        .env_remove("HALAB_BACKEND")
        .args(["doctor", "--format", "json"])
        .args(args)
        .any_status();
    for (k, v) in env {
        t = t.env(k, v);
    }
    let o = t.run();
    let v =
        serde_json::from_str(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", o.stdout, o.stderr));
    (o.code.unwrap(), v)
}

#[test]
fn backend_choice_goes_flag_then_environment_then_config_then_detection() {
    let (home, _x) = bare(Some("backend = \"multipass\"\n"));
    // The config file, when nothing else says.
    let (_, v) = doctor_json(&home, &[], &[]);
    assert_eq!(v["chosen"], "multipass", "{v}");
    assert!(v["reason"].as_str().unwrap().contains("config.toml"), "{v}");
    // HALAB_BACKEND beats the config file.
    let (_, v) = doctor_json(&home, &[("HALAB_BACKEND", "lxd")], &[]);
    assert_eq!(v["chosen"], "lxd");
    assert_eq!(v["reason"], "`HALAB_BACKEND=lxd`");
    // --backend beats both.
    let (_, v) = doctor_json(
        &home,
        &[("HALAB_BACKEND", "lxd")],
        &["--backend", "multipass"],
    );
    assert_eq!(v["chosen"], "multipass");
    assert_eq!(v["reason"], "`--backend multipass`");
    let (bare_home, _y) = bare(None);
    if cfg!(netns) {
        let (_, v) = doctor_json(&home, &[("HALAB_BACKEND", "lxd")], &["--backend", "netns"]);
        assert_eq!(v["chosen"], "netns");
        assert_eq!(v["reason"], "`--backend netns`");
        // Nothing set: what the machine has. No LXD client, no multipass: netns for root.
        let (_, v) = doctor_json(&bare_home, &[], &[]);
        assert_eq!(v["chosen"], "netns", "{v}");
        assert!(v["reason"].as_str().unwrap().starts_with("detected"), "{v}");
    }
    // A misspelt backend is an error that suggests the right name.
    let (code, v) = doctor_json(&bare_home, &[("HALAB_BACKEND", "multipas")], &[]);
    assert_eq!(code, 1);
    assert_eq!(v["chosen"], serde_json::Value::Null);
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("did you mean `multipass`"),
        "{v}"
    );
}

#[test]
fn start_says_which_backend_and_why_before_it_needs_it() {
    let (home, _x) = bare(None);
    Test::in_home(&home)
        .env("HALAB_BACKEND", "multipass")
        .args(["start", "ch32"])
        .status(2)
        .stderr_has("backend: multipass (`HALAB_BACKEND=multipass`)")
        .stderr_has("`multipass` is not installed")
        .stderr_has("snap install multipass")
        .run();
    assert!(!home.lab_dir("ch32").exists(), "a lab was recorded");
}

#[test]
fn doctor_names_what_is_missing_and_the_command_that_fixes_it() {
    let (home, _x) = bare(None);
    // multipass is not on this PATH: not usable, with the way to install it, exit 1.
    Test::in_home(&home)
        .args(["doctor", "--backend", "multipass"])
        .status(1)
        .stdout_has("multipass  not usable")
        .stdout_has("✘ `multipass`")
        .stdout_has("fix: install multipass: `sudo snap install multipass`")
        .run();
    // No LXD client: the row says so and how to install it.
    let (code, v) = doctor_json(&home, &[], &["--backend", "lxd"]);
    assert_eq!(code, 1);
    let lxd = &v["backends"][0];
    assert_eq!(lxd["backend"], "lxd");
    assert_eq!(lxd["usable"], false);
    assert_eq!(lxd["items"][0]["ok"], false);
    assert!(
        lxd["items"][0]["fix"]
            .as_str()
            .unwrap()
            .contains("apt-get install lxd"),
        "{v}"
    );
    // The full table has every backend, and exit 0 when the chosen one is usable.
    let mut t = Test::in_home(&home)
        .env_remove("HALAB_BACKEND")
        .arg("doctor")
        .any_status()
        .stdout_has("lxd ")
        .stdout_has("multipass ");
    if cfg!(netns) {
        t = t.stdout_has("netns ");
    }
    let o = t.run();
    // A build without netns has no row for it.
    assert_eq!(
        cfg!(netns),
        o.stdout.lines().any(|l| l.starts_with("netns ")),
        "{}",
        o.stdout
    );
    let out = o.stdout;
    if crate::support::netns_ready("doctor (netns usable)") {
        assert_eq!(o.code, Some(0), "{out}");
        assert!(out.contains("chosen backend: netns (detected"), "{out}");
    }
}

/// A build without the netns backend (`--no-default-features`, or not for Linux) neither offers
/// it (help, doctor, detection) nor takes it: asked for it, it says this build has none.
#[test]
fn a_build_without_netns_neither_offers_nor_takes_it() {
    let (home, _x) = bare(None);
    let home = if cfg!(netns) {
        // This build has it: help offers it. The build without it is scripts/test's
        // `--no-default-features` binary, named by HALAB_NO_NETNS_BIN.
        Test::new()
            .args(["start", "--help"])
            .stdout_has("netns")
            .run();
        let bin = std::env::var_os("HALAB_NO_NETNS_BIN").map(std::path::PathBuf::from);
        if !crate::support::can_run(
            "a_build_without_netns_neither_offers_nor_takes_it",
            "HALAB_NO_NETNS_BIN, a halab built with --no-default-features (scripts/test builds it)",
            bin.as_ref().is_some_and(|b| b.exists()),
        ) {
            return;
        }
        home.with_bin(bin.unwrap())
    } else {
        home
    };
    Test::in_home(&home)
        .args(["start", "--help"])
        .stdout_has("multipass")
        .stdout_lacks("netns")
        .run();
    for (env, args) in [
        (None, &["start", "ch32", "--backend", "netns"][..]),
        (Some("netns"), &["start", "ch32"]),
    ] {
        let mut t = Test::in_home(&home)
            .env_remove("HALAB_BACKEND")
            .args(args)
            .status(2)
            .stderr_has("this build of halab has no netns backend")
            .stderr_has("--backend lxd");
        if let Some(v) = env {
            t = t.env("HALAB_BACKEND", v);
        }
        t.run();
    }
    assert!(!home.lab_dir("ch32").exists(), "a lab was recorded");
    // Nothing set, nothing answers: no backend, and netns is not what it falls back to.
    let (code, v) = doctor_json(&home, &[], &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["chosen"], serde_json::Value::Null, "{v}");
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("this build of halab has no netns backend"),
        "{v}"
    );
    let kinds: Vec<&str> = v["backends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["backend"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["lxd", "multipass"]);
}
