//! Lab names a user types cannot reach outside halab's state directory, and `destroy` removes
//! only what carries halab's marker.

use crate::support::{Home, Test};

/// A state directory with one other lab in it, beside a directory that is not halab's.
struct Fixture {
    home: Home,
    sibling: std::path::PathBuf,
    _outer: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let outer = tempfile::tempdir().unwrap();
        let home_dir = outer.path().join("home");
        let sibling = outer.path().join("sibling");
        std::fs::create_dir_all(&sibling).unwrap();
        std::fs::write(sibling.join("keep-me"), "not halab's").unwrap();
        let other = home_dir.join("labs/other");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("lab.json"), "{}").unwrap();
        let mut home = Home::new();
        home.env
            .push(("HALAB_HOME".into(), home_dir.display().to_string()));
        Fixture {
            home,
            sibling,
            _outer: outer,
        }
    }

    fn untouched(&self, what: &str) {
        assert!(
            self.sibling.join("keep-me").exists(),
            "{what} touched the sibling directory"
        );
        let home = self.sibling.parent().unwrap().join("home");
        assert!(
            home.join("labs/other/lab.json").exists(),
            "{what} touched another lab"
        );
    }
}

#[test]
fn bad_lab_names_are_refused_before_anything_is_touched() {
    let f = Fixture::new();
    let sibling = f.sibling.display().to_string();
    let long = "a".repeat(300);
    let names = ["..", &sibling, "a/b", "", &long, "../sibling", "-x", "Lab"];
    let commands: [&[&str]; 5] = [
        &["destroy"],
        &["reset"],
        &["status"],
        &["check"],
        &["exec", "client", "--", "true"],
    ];
    for name in names {
        for cmd in commands {
            // `--lab=NAME`, so that clap does not read `-x` as a flag.
            let flag = format!("--lab={name}");
            let mut args = vec![flag.as_str()];
            args.extend_from_slice(cmd);
            let err = Test::in_home(&f.home)
                .args(&args)
                .status(2)
                .stderr_has("cannot be a lab name")
                .stderr_has("lowercase letters, digits and `-`")
                .stderr_has("at most 20 characters")
                .run()
                .stderr;
            assert!(err.starts_with("error: "), "{args:?}: {err}");
            f.untouched(&format!("{args:?}"));
        }
    }
    for cmd in commands {
        Test::in_home(&f.home)
            .env("HALAB_LAB", "../x")
            .args(cmd)
            .status(2)
            .stderr_has("cannot be a lab name")
            .run();
        f.untouched(&format!("HALAB_LAB=../x {cmd:?}"));
    }
}

#[test]
fn destroy_leaves_a_directory_that_is_not_a_lab_alone() {
    let f = Fixture::new();
    let home = f.sibling.parent().unwrap().join("home");
    let stranger = home.join("labs/stranger");
    std::fs::create_dir_all(&stranger).unwrap();
    std::fs::write(stranger.join("notes.txt"), "mine").unwrap();
    Test::in_home(&f.home)
        .args(["--lab", "stranger", "destroy"])
        .status(2)
        .stderr_has("is not a lab halab made (a directory holding notes.txt")
        .stderr_has("left alone")
        .stderr_has("hint: ")
        .run();
    assert!(stranger.join("notes.txt").exists());
    f.untouched("destroy of a stranger directory");
}
