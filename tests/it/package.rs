//! The Debian package (`scripts/package`): built from the already-built test binary, unpacked in
//! an empty directory, and run from there with no access to the source tree: the version, the
//! lessons, the man pages and the completions are all in it.
//!
//! Must not: install the package on this machine (it is unpacked with `dpkg -x`), or build a
//! second (release) binary.

use std::path::Path;
use std::process::Command;

use crate::support::{can_run, text};

#[test]
fn the_debian_package_runs_from_a_clean_directory() {
    let have = |b: &str| which::which(b).is_ok();
    if !can_run(
        "the_debian_package_runs_from_a_clean_directory",
        "dpkg-deb and dpkg (Debian or Ubuntu)",
        have("dpkg-deb") && have("dpkg"),
    ) {
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let o = Command::new(repo.join("scripts/package"))
        .args(["--fast", "--binary"])
        .arg(assert_cmd::cargo::cargo_bin!("halab"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    let deb = std::path::PathBuf::from(text(&o.stdout).trim());
    let name = deb.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(&format!("halab_{}_", env!("CARGO_PKG_VERSION")))
            && name.ends_with(".deb"),
        "{name}"
    );

    // What apt reads: the package's name, version and dependencies.
    let info = Command::new("dpkg-deb")
        .arg("--field")
        .arg(&deb)
        .output()
        .unwrap();
    let info = text(&info.stdout);
    assert!(info.contains("Package: halab\n"), "{info}");
    assert!(
        info.contains(&format!("Version: {}\n", env!("CARGO_PKG_VERSION"))),
        "{info}"
    );

    let root = work.path().join("root");
    let o = Command::new("dpkg")
        .arg("-x")
        .arg(&deb)
        .arg(&root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    for f in [
        "usr/bin/halab",
        "usr/share/man/man1/halab.1.gz",
        "usr/share/man/man1/halab-start.1.gz",
        "usr/share/bash-completion/completions/halab",
        "usr/share/zsh/vendor-completions/_halab",
        "usr/share/fish/vendor_completions.d/halab.fish",
        "usr/share/halab/lessons/ch32.toml",
    ] {
        assert!(root.join(f).is_file(), "{f} is not in the package");
    }
    let bash = Command::new("bash")
        .arg("-n")
        .arg(root.join("usr/share/bash-completion/completions/halab"))
        .output()
        .unwrap();
    assert!(bash.status.success(), "{}", text(&bash.stderr));

    // Run from an empty directory, with no content but the binary's own.
    let elsewhere = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let o = Command::new(root.join("usr/bin/halab"))
            .args(args)
            .current_dir(elsewhere.path())
            .env_remove("HALAB_CONTENT")
            .env_remove("HALAB_LAB")
            .env("HALAB_HOME", elsewhere.path().join("home"))
            .env("NO_COLOR", "1")
            .env("PATH", "/usr/bin:/bin")
            .output()
            .unwrap();
        assert!(o.status.success(), "halab {args:?}: {}", text(&o.stderr));
        text(&o.stdout)
    };
    assert_eq!(
        run(&["--version"]),
        format!("halab {}\n", env!("CARGO_PKG_VERSION"))
    );
    let lessons = run(&["lessons"]);
    assert!(lessons.starts_with("ch32"), "{lessons}");
    // The shipped copy of the content is the binary's own, loadable as HALAB_CONTENT.
    let o = Command::new(root.join("usr/bin/halab"))
        .args(["validate", "lessons", "labs", "solutions"])
        .current_dir(root.join("usr/share/halab"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
}
