//! What the host machine must have for a backend: root, Debian packages, and installing what is
//! missing after asking (`ui::confirm`; or at once with `--yes`).
//!
//! Must not: build or change a lab.

use std::collections::BTreeSet;

use anyhow::Result;

use crate::exec::Cmd;
use crate::ui::{self, Problem};

pub(crate) fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Fail with the exact `sudo` line to run when halab is not root.
pub(crate) fn require_root(why: &str) -> Result<()> {
    if is_root() {
        return Ok(());
    }
    let args: Vec<String> = std::env::args()
        .skip(1)
        .map(|a| crate::exec::shell_quote(&a))
        .collect();
    Err(Problem::new(
        format!("{why} needs root"),
        format!("run it as root: `sudo halab {}`", args.join(" ")),
    )
    .into())
}

/// The Debian packages among `wanted` that are not installed.
pub(crate) fn missing_packages(wanted: &BTreeSet<String>) -> Result<Vec<String>> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    if which::which("dpkg-query").is_err() {
        return Err(Problem::new(
            "this host has no `dpkg-query`: halab's netns backend needs a Debian or Ubuntu host",
            "run halab on Debian 12 or Ubuntu 22.04 or newer",
        )
        .into());
    }
    // Unknown packages make dpkg-query exit 1 but still print the known ones.
    let out = Cmd::new("dpkg-query")
        .args(["-W", "-f=${Package} ${db:Status-Abbrev}\n"])
        .args(wanted)
        .run()?;
    let installed: BTreeSet<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, st)| st.starts_with("ii"))
        .map(|(p, _)| p.split(':').next().unwrap_or(p))
        .collect();
    Ok(wanted
        .iter()
        .filter(|p| !installed.contains(p.as_str()))
        .cloned()
        .collect())
}

/// Make sure `wanted` packages are installed: list what is missing with the exact `apt-get`
/// line, then install after a yes (or at once with `assume_yes`). Without a terminal and
/// without `assume_yes`, fails saying to pass `--yes`.
pub(crate) fn ensure_packages(wanted: &BTreeSet<String>, assume_yes: bool) -> Result<()> {
    let missing = missing_packages(wanted)?;
    if missing.is_empty() {
        return Ok(());
    }
    let line = format!(
        "apt-get install -y --no-install-recommends {}",
        missing.join(" ")
    );
    ui::say(format!(
        "this host lacks {} package(s) the lab needs: {}",
        missing.len(),
        missing.join(", ")
    ));
    eprintln!("    they would be installed with: {}", ui::bold(&line));
    let go = ui::confirm(
        "Install them now?",
        assume_yes,
        Problem::new(
            format!("missing packages: {}", missing.join(" ")),
            format!("install them with `{line}`, or run halab again with `--yes` to let it do so"),
        ),
    )?;
    if !go {
        return Err(Problem::new(
            "the lab cannot be built without those packages",
            format!("install them with `{line}`"),
        )
        .into());
    }
    let install = || {
        Cmd::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .timeout(None)
            .run()
    };
    ui::say(format!("installing {}", missing.join(" ")));
    let mut out = install()?;
    if !out.success()
        && (out.stderr.contains("Unable to locate")
            || out.stderr.contains("no installation candidate"))
    {
        // A fresh machine has no package lists yet.
        ui::say("refreshing package lists (`apt-get update`)");
        Cmd::new("apt-get")
            .args(["update", "-q"])
            .timeout(None)
            .run_ok()?;
        out = install()?;
    }
    out.demand_success(&line).map_err(|e| {
        anyhow::Error::new(e).context(Problem::new(
            "installing the lab's packages failed",
            format!("fix what apt says above, then run `{line}` yourself"),
        ))
    })?;
    let still = missing_packages(wanted)?;
    if !still.is_empty() {
        return Err(Problem::new(
            format!("still missing after installing: {}", still.join(" ")),
            format!("try `{line}` yourself"),
        )
        .into());
    }
    Ok(())
}
