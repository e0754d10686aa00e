//! The conventions of an ops tool: shell completions (the scripts parse in their shells, the
//! names offered come from the lab on this machine), a manual page per command, and `-q`/`-v`.
//!
//! Must not: build a lab (a lab's record and lab file are written by hand, as `start` leaves them).

use std::path::Path;

use crate::support::{Home, Test, text};

const TINY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny");

/// A home holding lab `lab` of the tiny lesson, as `start` leaves its files.
fn tiny_home(lab: &str) -> Home {
    let home = Home::new().with_env("HALAB_CONTENT", TINY);
    let dir = home.lab_dir(lab);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(Path::new(TINY).join("labs/tiny.toml"), dir.join("lab.toml")).unwrap();
    std::fs::write(
        dir.join("lab.json"),
        format!(
            r#"{{"name":"{lab}","lesson":"tiny","backend":"netns","created":1,"phase":"ready",
                "facts":{{}},"nodes":{{"box":{{"provisioned":true}},"peer":{{"provisioned":true}}}}}}"#
        ),
    )
    .unwrap();
    home
}

/// What bash's completion function would offer for `words` (the last one being completed).
fn complete(home: &Home, words: &[&str]) -> Vec<String> {
    let o = home
        .cmd()
        .env("COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", (words.len() - 1).to_string())
        .env("_CLAP_COMPLETE_COMP_TYPE", "9")
        .env("_CLAP_COMPLETE_SPACE", "true")
        .env("_CLAP_IFS", "\n")
        .arg("--")
        .args(words)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    text(&o.stdout).lines().map(String::from).collect()
}

#[test]
fn completion_scripts_parse_in_their_shells() {
    let home = Home::new();
    let bash = home.ok(&["completions", "bash"]);
    assert!(bash.contains("complete -o nospace"), "{bash}");
    let dir = tempfile::tempdir().unwrap();
    for (shell, script) in [
        ("bash", bash),
        ("zsh", home.ok(&["completions", "zsh"])),
        ("fish", home.ok(&["completions", "fish"])),
    ] {
        let file = dir.path().join(shell);
        std::fs::write(&file, &script).unwrap();
        if which::which(shell).is_err() {
            assert_ne!(shell, "bash", "bash is needed to check the bash script");
            eprintln!("{shell} is not installed: its script is not parsed");
            continue;
        }
        let check = if shell == "fish" {
            "--no-execute"
        } else {
            "-n"
        };
        let o = std::process::Command::new(shell)
            .arg(check)
            .arg(&file)
            .output()
            .unwrap();
        assert!(o.status.success(), "{shell}: {}\n{script}", text(&o.stderr));
    }
}

#[test]
fn completion_offers_the_labs_own_names() {
    let home = tiny_home("zz");
    // Nodes come from the lab's own lab file.
    let nodes = complete(&home, &["halab", "shell", ""]);
    assert!(
        nodes.starts_with(&["box".to_string(), "peer".to_string()]),
        "{nodes:?}"
    );
    assert_eq!(complete(&home, &["halab", "shell", "pe"]), ["peer"]);
    assert_eq!(complete(&home, &["halab", "exec", "pe"]), ["peer"]);
    // Steps and drills from its lesson, lessons from the content, labs from the home.
    assert_eq!(
        complete(&home, &["halab", "check", "--step", ""]),
        ["mark", "note"]
    );
    assert_eq!(
        complete(&home, &["halab", "--lab", "zz", "reset", "--to", ""]),
        ["mark", "note"]
    );
    let drills = complete(&home, &["halab", "drill", ""]);
    assert!(
        drills.starts_with(&["hold".into(), "orders".into(), "all".into()]),
        "{drills:?}"
    );
    assert!(complete(&home, &["halab", "start", ""]).contains(&"tiny".to_string()));
    assert_eq!(complete(&home, &["halab", "--lab", ""]), ["zz"]);
    // Commands complete as ever; the hidden packaging command is not offered.
    let commands = complete(&home, &["halab", ""]);
    assert!(
        commands.contains(&"completions".to_string()),
        "{commands:?}"
    );
    assert!(!commands.contains(&"manpages".to_string()), "{commands:?}");
    // Without a lab there is nothing to offer, and no error.
    assert!(!complete(&Home::new(), &["halab", "shell", ""]).contains(&"box".to_string()));
}

#[test]
fn every_command_has_a_manual_page() {
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    home.ok(&["manpages", out.to_str().unwrap()]);
    for page in [
        "halab.1",
        "halab-start.1",
        "halab-check.1",
        "halab-completions.1",
    ] {
        let text =
            std::fs::read_to_string(out.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(
            text.starts_with(".ie \\n(.g .ds Aq") || text.contains(".TH"),
            "{page}: {text}"
        );
    }
    let start = std::fs::read_to_string(out.join("halab-start.1")).unwrap();
    // Examples name the first lesson, as `--help` does.
    assert!(start.contains("halab start ch32"), "{start}");
    assert!(!out.join("halab-manpages.1").exists());
    if which::which("man").is_ok() {
        let o = std::process::Command::new("man")
            .arg("-l")
            .arg(out.join("halab.1"))
            .env("MANPAGER", "cat")
            .output()
            .unwrap();
        assert!(text(&o.stdout).contains("halab"), "{}", text(&o.stderr));
    }
}

#[test]
fn quiet_keeps_errors_and_refuses_verbose_too() {
    // -q silences talk, never an error and its hint.
    Test::new()
        .args(["-q", "status"])
        .status(2)
        .stderr_has("error: there is no lab on this machine")
        .stderr_has("hint: start one with `halab start LESSON`")
        .run();
    Test::new()
        .args(["-q", "-v", "lessons"])
        .status(2)
        .stderr_has("cannot be used with")
        .run();
    // Data on stdout is the same under -q.
    let quiet = Test::new().args(["lessons", "-q"]).run().stdout;
    assert_eq!(quiet, Test::new().arg("lessons").run().stdout);
}
