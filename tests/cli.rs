//! The command line without a lab: help, lessons, validation, and errors that say what to do.

mod support;

use support::{Home, text};

#[test]
fn help_teaches_and_lists_only_finished_commands() {
    let o = Home::new().run(&["--help"]);
    assert!(o.status.success());
    let h = text(&o.stdout);
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
    // Commands of later issues are absent until they work.
    for c in ["drill", "reset", "solve", "doctor"] {
        assert!(
            !h.contains(&format!("  {c} ")),
            "help shows unfinished `{c}`:\n{h}"
        );
    }
    let o = Home::new().run(&["exec", "--help"]);
    assert!(text(&o.stdout).contains("halab exec app-02 -- hostname"));
}

#[test]
fn lessons_lists_ch32_with_its_lab() {
    let out = Home::new().ok(&["lessons"]);
    assert!(out.starts_with("ch32"), "{out}");
    assert!(
        out.contains("Dhruv builds the system that never goes down"),
        "{out}"
    );
    assert!(out.contains("8 nodes"), "{out}");
}

#[test]
fn validate_accepts_the_shipped_content() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Home::new().ok(&[
        "validate",
        &format!("{root}/labs"),
        &format!("{root}/lessons"),
    ]);
    assert!(out.contains("lab `ch32`: 8 nodes on 10.0.0.0/24"), "{out}");
    assert!(out.contains("lesson `ch32`: runs on lab `ch32`"), "{out}");
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
    let o = Home::new().run(&["validate", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o.stdout);
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
    let o = Home::new().run(&["start", "ch23"]);
    assert_eq!(o.status.code(), Some(2));
    let e = text(&o.stderr);
    assert!(e.contains("error: no lesson named `ch23`"), "{e}");
    assert!(e.contains("hint: did you mean `ch32`?"), "{e}");
}

#[test]
fn commands_without_a_lab_say_how_to_start_one() {
    let o = Home::new().run(&["status"]);
    assert_eq!(o.status.code(), Some(2));
    let e = text(&o.stderr);
    assert!(e.contains("there is no lab on this machine"), "{e}");
    assert!(
        e.contains("halab start LESSON") && e.contains("halab lessons"),
        "{e}"
    );
}

#[test]
fn not_root_gives_the_sudo_line() {
    let home = Home::new();
    let mut c = home.cmd();
    if support::is_root() {
        // Drop to `nobody` for this one run.
        let bin = assert_cmd::cargo::cargo_bin!("halab");
        c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(bin);
        c.env("HALAB_HOME", home.path()).env("NO_COLOR", "1");
    }
    let o = c.args(["start", "ch32", "--yes"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = text(&o.stderr);
    assert!(
        e.contains("error: `halab start` on the netns backend needs root"),
        "{e}"
    );
    assert!(
        e.contains("hint: run it as root: `sudo halab start ch32 --yes`"),
        "{e}"
    );
}

#[test]
fn no_color_and_pipes_get_plain_text() {
    let out = Home::new().ok(&[
        "validate",
        concat!(env!("CARGO_MANIFEST_DIR"), "/labs/ch32.toml"),
    ]);
    assert!(
        !out.contains('\u{1b}'),
        "escape codes in piped output: {out:?}"
    );
}

#[test]
fn the_test_script_installs_every_package_the_lab_needs() {
    let script =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/test")).unwrap();
    let need = script
        .lines()
        .find(|l| l.starts_with("need=("))
        .expect("need=( line");
    let lab = halab::content::lab::load(
        std::path::Path::new("labs/ch32.toml"),
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/labs/ch32.toml")).unwrap(),
    )
    .unwrap();
    for p in lab.all_packages() {
        assert!(
            need.split(['(', ')', ' ']).any(|w| w == p),
            "scripts/test does not install `{p}`"
        );
    }
}
