//! Content cannot hang or crash halab: what is not a regular file, what is too big, template
//! statements and symlink loops end quickly with a clear problem; `validate` reports every file's
//! problems at once (unreadable files and duplicate ids included) and checks a file as what its
//! directory says it is.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::Test;

/// Content problems must be found at once: a run that takes longer is killed and fails.
const QUICK: Duration = Duration::from_secs(2);

/// A copy of the shipped `labs/`, `lessons/` and `solutions/`.
fn content_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR"));
    for kind in ["labs", "lessons", "solutions"] {
        copy_tree(&src.join(kind), &dir.path().join(kind));
    }
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

fn edit(p: &Path, f: impl FnOnce(String) -> String) {
    let t = std::fs::read_to_string(p).unwrap();
    let changed = f(t.clone());
    assert_ne!(t, changed, "the edit of {} changed nothing", p.display());
    std::fs::write(p, changed).unwrap();
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn validate_refuses_dev_zero_quickly() {
    let r = Test::new()
        .args(["validate", "/dev/zero"])
        .timeout(QUICK)
        .status(1)
        .run();
    assert!(
        r.stdout.contains(
            "/dev/zero:1:1: this is a character device, not a regular file: content is only read from regular files"
        ),
        "{}",
        r.stdout
    );
}

#[test]
fn a_fifo_in_labs_is_one_problem_and_never_blocks() {
    let dir = content_copy();
    let fifo = dir.path().join("labs/x.toml");
    mkfifo(&fifo);
    let r = Test::new()
        .args(["validate", s(dir.path())])
        .timeout(QUICK)
        .status(1)
        .run();
    assert!(
        r.stdout.contains(&format!(
            "{}:1:1: this is a FIFO (named pipe), not a regular file",
            fifo.display()
        )),
        "{}",
        r.stdout
    );
    // The other files are still checked.
    assert!(r.stdout.contains("lab `ch32`: 8 nodes"), "{}", r.stdout);
    assert!(r.stdout.contains("lesson `ch32`: 11 steps"), "{}", r.stdout);
    // Every command that loads content refuses it too, and says where.
    let r = Test::new()
        .env("HALAB_CONTENT", dir.path())
        .args(["lessons"])
        .timeout(QUICK)
        .status(2)
        .run();
    assert!(
        r.stderr.contains("labs/x.toml:1:1: this is a FIFO"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_file_over_the_size_limit_is_refused_with_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.toml");
    std::fs::write(&big, "# x\n".repeat(300_000)).unwrap();
    let r = Test::new()
        .args(["validate", s(&big)])
        .timeout(QUICK)
        .status(1)
        .run();
    assert!(
        r.stdout
            .contains("larger than the 1024 KiB a content file may have"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_template_loop_in_prose_ends_with_an_error() {
    let dir = content_copy();
    let lesson = dir.path().join("lessons/ch32.toml");
    let lines = "{% for a in range(10000) %}{% for b in range(10000) %}{% for c in range(10000) %}\
                 x{% endfor %}{% endfor %}{% endfor %}";
    edit(&lesson, |t| {
        t.replacen("prose = \"\"\"\n", &format!("prose = \"\"\"\n{lines}\n"), 1)
    });
    let r = Test::new()
        .args(["validate", s(&lesson)])
        .timeout(QUICK)
        .status(1)
        .run();
    assert!(
        r.stdout.contains("`{% for a in range(10000) %}` (line 1): statements are not allowed, only `{{ ... }}` lookups"),
        "{}",
        r.stdout
    );
    let r = Test::new()
        .env("HALAB_CONTENT", dir.path())
        .args(["lessons"])
        .timeout(QUICK)
        .status(2)
        .run();
    assert!(
        r.stderr.contains("statements are not allowed"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_undefined_template_value_is_named() {
    let dir = content_copy();
    let lesson = dir.path().join("lessons/ch32.toml");
    edit(&lesson, |t| {
        t.replacen(
            "http://{{ node[\"lb-01\"].ip }}/",
            "http://{{ node.nope.ip }}/",
            1,
        )
    });
    let r = Test::new()
        .args(["validate", s(&lesson)])
        .timeout(QUICK)
        .status(1)
        .run();
    assert!(
        r.stdout
            .contains("`node.nope` is undefined: `node` has `app-01`, `app-02`"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("in `{{ node.nope.ip }}`"), "{}", r.stdout);
    assert!(
        r.stdout.contains("help: known values: lab.id"),
        "{}",
        r.stdout
    );
}

#[test]
fn unreadable_files_are_problems_among_the_others() {
    let dir = content_copy();
    let labs = dir.path().join("labs");
    std::os::unix::fs::symlink("gone.toml", labs.join("dangling.toml")).unwrap();
    std::os::unix::fs::symlink("loop.toml", labs.join("loop.toml")).unwrap();
    std::os::unix::fs::symlink("..", labs.join("up")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", labs.join("outside.toml")).unwrap();
    std::fs::create_dir(labs.join("dir.toml")).unwrap();
    let lesson = dir.path().join("lessons/ch32.toml");
    edit(&lesson, |t| {
        t.replacen("title = \"Dhruv", "titel = \"Dhruv", 1)
    });
    let r = Test::new()
        .args(["validate", s(dir.path()), s(&dir.path().join("nope.toml"))])
        .timeout(QUICK)
        .status(1)
        .run();
    let l = labs.display();
    for want in [
        format!("{l}/dangling.toml:1:1: this symlink points to `gone.toml`, which does not exist"),
        format!("{l}/loop.toml:1:1: this symlink (to `loop.toml`) is a loop: not followed"),
        format!(
            "{l}/up:1:1: this symlink points to the directory `..`: halab does not follow links to directories"
        ),
        format!(
            "{l}/outside.toml:1:1: this symlink points to `/etc/hostname`, outside the content directory"
        ),
        "unknown field `titel`".to_string(),
        "did you mean `title`?".to_string(),
        "lab `ch32`: 8 nodes".to_string(),
        format!(
            "{}:1:1: cannot read this file: No such file or directory",
            dir.path().join("nope.toml").display()
        ),
    ] {
        assert!(
            r.stdout.contains(&want),
            "missing {want:?} in:\n{}",
            r.stdout
        );
    }
}

#[test]
fn two_files_with_one_id_name_both() {
    let dir = content_copy();
    let p = dir.path();
    std::fs::copy(p.join("labs/ch32.toml"), p.join("labs/zz.toml")).unwrap();
    std::fs::copy(p.join("lessons/ch32.toml"), p.join("lessons/zz.toml")).unwrap();
    let r = Test::new()
        .args(["validate", s(p)])
        .timeout(QUICK)
        .status(1)
        .run();
    let (copy, first) = (p.join("labs/zz.toml"), p.join("labs/ch32.toml"));
    assert!(
        r.stdout.contains(&format!(
            "{}:8:6: lab id `ch32` is also the id of `{}`",
            copy.display(),
            first.display()
        )),
        "{}",
        r.stdout
    );
    let (copy, first) = (p.join("lessons/zz.toml"), p.join("lessons/ch32.toml"));
    assert!(
        r.stdout.contains(&format!(
            "{}:6:6: lesson id `ch32` is also the id of `{}`",
            copy.display(),
            first.display()
        )),
        "{}",
        r.stdout
    );
    // `lessons` refuses the content instead of listing ch32 twice.
    let r = Test::new()
        .env("HALAB_CONTENT", p)
        .args(["lessons"])
        .timeout(QUICK)
        .status(2)
        .run();
    assert!(
        r.stderr.contains("lesson id `ch32` is also the id of")
            && r.stderr.contains("lab id `ch32` is also the id of"),
        "{}",
        r.stderr
    );
    assert!(!r.stdout.contains("ch32"), "{}", r.stdout);
}

#[test]
fn a_lab_file_is_checked_as_a_lab_whatever_its_mistakes() {
    let dir = content_copy();
    let lab = dir.path().join("labs/ch32.toml");
    edit(&lab, |t| t.replace("[[nodes]]", "[[node]]"));
    let r = Test::new()
        .args(["validate", s(&lab)])
        .timeout(QUICK)
        .status(1)
        .run();
    assert!(r.stdout.contains("unknown field `node`"), "{}", r.stdout);
    assert!(r.stdout.contains("did you mean `nodes`?"), "{}", r.stdout);
    assert!(r.stdout.contains("missing field `nodes`"), "{}", r.stdout);
    assert!(r.stdout.contains("2 problem(s)"), "{}", r.stdout);
    // The same file outside `labs/` is a lab by its content, and validate says so.
    let loose: PathBuf = dir.path().join("my-lab.toml");
    std::fs::copy(&lab, &loose).unwrap();
    let r = Test::new()
        .args(["validate", s(&loose)])
        .timeout(QUICK)
        .any_status()
        .run();
    assert!(r.stdout.contains("did you mean `nodes`?"), "{}", r.stdout);
    assert!(
        r.stdout.contains(
            "note: checked as a lab because it has `node` (it is not in a `labs/`, `lessons/` or `solutions/` directory)"
        ),
        "{}",
        r.stdout
    );
    // A lesson that has `nodes` somewhere stays a lesson under `lessons/`.
    let lesson = dir.path().join("lessons/ch32.toml");
    edit(&lesson, |t| {
        t.replacen("id = \"ch32\"", "id = \"ch32\"\nnodes = 1", 1)
    });
    let r = Test::new()
        .args(["validate", s(&lesson)])
        .timeout(QUICK)
        .any_status()
        .run();
    assert!(r.stdout.contains("unknown field `nodes`"), "{}", r.stdout);
}

#[test]
fn uptime_refuses_infinity_and_nan() {
    for arg in ["1e309", "nan"] {
        let r = Test::new()
            .args(["uptime", arg])
            .timeout(QUICK)
            .status(2)
            .run();
        assert!(
            r.stderr.contains(&format!("error: `{arg}` is not")),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains("inf is not"), "{}", r.stderr);
        assert!(
            r.stderr
                .contains("hint: write availabilities as percentages"),
            "{}",
            r.stderr
        );
    }
}
