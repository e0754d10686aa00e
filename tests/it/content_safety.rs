//! Content cannot hang or crash halab: what is not a regular file, what is too big, template
//! statements and symlink loops end quickly with a clear problem; `validate` reports every file's
//! problems at once (unreadable files and duplicate ids included) and checks a file as what its
//! directory says it is.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::{Home, text};

/// What a run of halab printed, and how it ended.
struct Ran {
    code: Option<i32>,
    out: String,
    err: String,
}

/// Run halab, failing the test if it does not end within 2 s (it is killed then).
fn within_2s(home: &Home, content: Option<&Path>, args: &[&str]) -> Ran {
    let logs = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (logs.path().join("out"), logs.path().join("err"));
    let mut c = home.cmd();
    if let Some(dir) = content {
        c.env("HALAB_CONTENT", dir);
    }
    let mut child = c
        .args(args)
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(2) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!(
                "`halab {}` did not end within 2 s; it printed:\n{}",
                args.join(" "),
                std::fs::read_to_string(&out_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ran {
        code: status.code(),
        out: text(&std::fs::read(&out_path).unwrap()),
        err: text(&std::fs::read(&err_path).unwrap()),
    }
}

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
    let r = within_2s(&Home::new(), None, &["validate", "/dev/zero"]);
    assert_eq!(r.code, Some(1), "{}{}", r.out, r.err);
    assert!(
        r.out.contains(
            "/dev/zero:1:1: this is a character device, not a regular file: content is only read from regular files"
        ),
        "{}",
        r.out
    );
}

#[test]
fn a_fifo_in_labs_is_one_problem_and_never_blocks() {
    let dir = content_copy();
    let fifo = dir.path().join("labs/x.toml");
    mkfifo(&fifo);
    let r = within_2s(&Home::new(), None, &["validate", s(dir.path())]);
    assert_eq!(r.code, Some(1), "{}{}", r.out, r.err);
    assert!(
        r.out.contains(&format!(
            "{}:1:1: this is a FIFO (named pipe), not a regular file",
            fifo.display()
        )),
        "{}",
        r.out
    );
    // The other files are still checked.
    assert!(r.out.contains("lab `ch32`: 8 nodes"), "{}", r.out);
    assert!(r.out.contains("lesson `ch32`: 8 steps"), "{}", r.out);
    // Every command that loads content refuses it too, and says where.
    let r = within_2s(&Home::new(), Some(dir.path()), &["lessons"]);
    assert_eq!(r.code, Some(2), "{}{}", r.out, r.err);
    assert!(
        r.err.contains("labs/x.toml:1:1: this is a FIFO"),
        "{}",
        r.err
    );
}

#[test]
fn a_file_over_the_size_limit_is_refused_with_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.toml");
    std::fs::write(&big, "# x\n".repeat(300_000)).unwrap();
    let r = within_2s(&Home::new(), None, &["validate", s(&big)]);
    assert_eq!(r.code, Some(1), "{}{}", r.out, r.err);
    assert!(
        r.out
            .contains("larger than the 1024 KiB a content file may have"),
        "{}",
        r.out
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
    let r = within_2s(&Home::new(), None, &["validate", s(&lesson)]);
    assert_eq!(r.code, Some(1), "{}{}", r.out, r.err);
    assert!(
        r.out.contains("`{% for a in range(10000) %}` (line 1): statements are not allowed, only `{{ ... }}` lookups"),
        "{}",
        r.out
    );
    let r = within_2s(&Home::new(), Some(dir.path()), &["lessons"]);
    assert_eq!(r.code, Some(2), "{}{}", r.out, r.err);
    assert!(r.err.contains("statements are not allowed"), "{}", r.err);
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
    let r = within_2s(&Home::new(), None, &["validate", s(&lesson)]);
    assert_eq!(r.code, Some(1), "{}{}", r.out, r.err);
    assert!(
        r.out
            .contains("`node.nope` is undefined: `node` has `app-01`, `app-02`"),
        "{}",
        r.out
    );
    assert!(r.out.contains("in `{{ node.nope.ip }}`"), "{}", r.out);
    assert!(r.out.contains("help: known values: lab.id"), "{}", r.out);
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
    let r = within_2s(
        &Home::new(),
        None,
        &["validate", s(dir.path()), s(&dir.path().join("nope.toml"))],
    );
    assert_eq!(r.code, Some(1), "{}{}", r.out, r.err);
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
        assert!(r.out.contains(&want), "missing {want:?} in:\n{}", r.out);
    }
}

#[test]
fn two_files_with_one_id_name_both() {
    let dir = content_copy();
    let p = dir.path();
    std::fs::copy(p.join("labs/ch32.toml"), p.join("labs/zz.toml")).unwrap();
    std::fs::copy(p.join("lessons/ch32.toml"), p.join("lessons/zz.toml")).unwrap();
    let r = within_2s(&Home::new(), None, &["validate", s(p)]);
    assert_eq!(r.code, Some(1), "{}{}", r.out, r.err);
    let (copy, first) = (p.join("labs/zz.toml"), p.join("labs/ch32.toml"));
    assert!(
        r.out.contains(&format!(
            "{}:8:6: lab id `ch32` is also the id of `{}`",
            copy.display(),
            first.display()
        )),
        "{}",
        r.out
    );
    let (copy, first) = (p.join("lessons/zz.toml"), p.join("lessons/ch32.toml"));
    assert!(
        r.out.contains(&format!(
            "{}:6:6: lesson id `ch32` is also the id of `{}`",
            copy.display(),
            first.display()
        )),
        "{}",
        r.out
    );
    // `lessons` refuses the content instead of listing ch32 twice.
    let r = within_2s(&Home::new(), Some(p), &["lessons"]);
    assert_eq!(r.code, Some(2), "{}{}", r.out, r.err);
    assert!(
        r.err.contains("lesson id `ch32` is also the id of")
            && r.err.contains("lab id `ch32` is also the id of"),
        "{}",
        r.err
    );
    assert!(!r.out.contains("ch32"), "{}", r.out);
}

#[test]
fn a_lab_file_is_checked_as_a_lab_whatever_its_mistakes() {
    let dir = content_copy();
    let lab = dir.path().join("labs/ch32.toml");
    edit(&lab, |t| t.replace("[[nodes]]", "[[node]]"));
    let r = within_2s(&Home::new(), None, &["validate", s(&lab)]);
    assert_eq!(r.code, Some(1), "{}{}", r.out, r.err);
    assert!(r.out.contains("unknown field `node`"), "{}", r.out);
    assert!(r.out.contains("did you mean `nodes`?"), "{}", r.out);
    assert!(r.out.contains("missing field `nodes`"), "{}", r.out);
    assert!(r.out.contains("2 problem(s)"), "{}", r.out);
    // The same file outside `labs/` is a lab by its content, and validate says so.
    let loose: PathBuf = dir.path().join("my-lab.toml");
    std::fs::copy(&lab, &loose).unwrap();
    let r = within_2s(&Home::new(), None, &["validate", s(&loose)]);
    assert!(r.out.contains("did you mean `nodes`?"), "{}", r.out);
    assert!(
        r.out.contains(
            "note: checked as a lab because it has `node` (it is not in a `labs/`, `lessons/` or `solutions/` directory)"
        ),
        "{}",
        r.out
    );
    // A lesson that has `nodes` somewhere stays a lesson under `lessons/`.
    let lesson = dir.path().join("lessons/ch32.toml");
    edit(&lesson, |t| {
        t.replacen("id = \"ch32\"", "id = \"ch32\"\nnodes = 1", 1)
    });
    let r = within_2s(&Home::new(), None, &["validate", s(&lesson)]);
    assert!(r.out.contains("unknown field `nodes`"), "{}", r.out);
}

#[test]
fn uptime_refuses_infinity_and_nan() {
    for arg in ["1e309", "nan"] {
        let r = within_2s(&Home::new(), None, &["uptime", arg]);
        assert_eq!(r.code, Some(2), "{}{}", r.out, r.err);
        assert!(
            r.err.contains(&format!("error: `{arg}` is not")),
            "{}",
            r.err
        );
        assert!(!r.err.contains("inf is not"), "{}", r.err);
        assert!(
            r.err.contains("hint: write availabilities as percentages"),
            "{}",
            r.err
        );
    }
}
