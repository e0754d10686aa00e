//! The LXD daemon seen from the host: whether it answers ([`daemon`], the one question, asked by
//! the backend choice, `halab doctor` and the backend alike), what the host needs for the lxd
//! backend ([`needs`], for `halab doctor`), and making the local daemon ready: starting it and,
//! after a yes, initialising an LXD that has nothing yet.
//!
//! Must not: change anything of the user's LXD once it is initialised (pools, profiles,
//! networks), start or initialise a remote, or prompt other than through `ui::confirm`.

use std::fs;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result};

use super::{client, lxc, query};
use crate::backend::{Daemon, Need};
use crate::exec::Cmd;
use crate::ui::{self, Problem};

/// How long the daemon has to answer whether it is there: a socket-activated daemon starts on
/// the first question.
const ANSWER_WITHIN: Duration = Duration::from_secs(15);

/// Whether an LXD daemon answers this user (installed, running, and reachable: root or the
/// `lxd` group).
pub(crate) fn daemon() -> Daemon {
    if which::which(client()).is_err() {
        return Daemon::NoClient;
    }
    let said = match lxc()
        .args(["query", "/1.0"])
        .timeout(Some(ANSWER_WITHIN))
        .run()
    {
        Ok(o) if o.success() => {
            let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap_or_default();
            let version = v["environment"]["server_version"].as_str().unwrap_or("?");
            return Daemon::Answers(version.to_string());
        }
        Ok(o) => o.stderr.trim().to_string(),
        Err(e) => e.to_string(),
    };
    if said.contains("permission denied") {
        Daemon::Denied(said)
    } else {
        Daemon::Silent(said)
    }
}

/// Debian packages the host needs for the lxd backend; LXD itself too when `client_installed`
/// is false.
pub(super) fn host_packages(client_installed: bool) -> Vec<String> {
    let mut packages = Vec::new();
    if !client_installed {
        packages.extend(["lxd", "lxd-client", "btrfs-progs", "nftables"]);
    }
    // LXD checks for dnsmasq even for a bridge that serves no DHCP.
    packages.extend(["debootstrap", "dnsmasq-base"]);
    packages.into_iter().map(String::from).collect()
}

/// How many storage pools LXD has (none: it is not initialised).
fn storage_pools() -> Result<usize> {
    let pools = query("/1.0/storage-pools")?.unwrap_or_default();
    Ok(pools.as_array().map_or(0, Vec::len))
}

/// What the lxd backend needs on this host, each with the command that fixes it.
pub(crate) fn needs() -> Vec<Need> {
    let client = client();
    let daemon = daemon();
    let installed = daemon != Daemon::NoClient;
    let mut needs = vec![Need::new(
        format!("`{client}` (the LXD client)"),
        installed,
        if installed { "installed" } else { "not found" },
        "sudo apt-get install lxd lxd-client (Debian 12), or `sudo snap install lxd` (Ubuntu)",
    )];
    let start = "sudo systemctl start lxd   (or let `sudo halab start --backend lxd` start it)";
    match daemon {
        Daemon::NoClient => return needs,
        Daemon::Denied(said) => {
            needs.push(Need::new(
                "access to the LXD daemon",
                false,
                said,
                "add yourself to the `lxd` group: `sudo usermod -aG lxd $USER`, then log in again (or use `sudo`)",
            ));
            return needs;
        }
        Daemon::Silent(said) => needs.push(Need::new("the LXD daemon", false, said, start)),
        Daemon::Answers(version) => {
            needs.push(Need::new(
                "the LXD daemon",
                true,
                format!("answers (LXD {version})"),
                start,
            ));
            let pools = storage_pools().unwrap_or(0);
            needs.push(Need::new(
                "LXD initialised (a storage pool)",
                pools > 0,
                format!("{pools} storage pool(s)"),
                "sudo lxd init --auto   (or `sudo halab start --backend lxd --yes`)",
            ));
        }
    }
    let packages = host_packages(true);
    let named: Vec<String> = packages.iter().map(|p| format!("`{p}`")).collect();
    needs.push(Need::packages(
        &format!("{} (to build the image)", named.join(" and ")),
        &packages.into_iter().collect(),
    ));
    needs
}

/// Make the daemon ready for a lab: a remote must answer (it is the user's server: never
/// started or initialised by halab); the local daemon is started, and initialised after a yes.
pub(super) fn ready(remote: Option<&str>, assume_yes: bool) -> Result<()> {
    if let Some(r) = remote {
        return query(&format!("{r}:/1.0")).map(|_| ()).map_err(|e| {
            e.context(Problem::new(
                format!("the LXD remote `{r}` does not answer"),
                format!(
                    "check it with `{} info {r}:`; `{} remote list` shows the remotes",
                    client(),
                    client()
                ),
            ))
        });
    }
    ensure_daemon()?;
    ensure_initialised(assume_yes)
}

/// Start the LXD daemon when it does not answer: through systemd where it runs, else directly.
fn ensure_daemon() -> Result<()> {
    if daemon().answers() {
        return Ok(());
    }
    if client() == "incus" {
        return Err(Problem::new(
            "the incus daemon does not answer",
            "start it (`systemctl start incus`), then run halab again",
        )
        .into());
    }
    ui::say("starting the LXD daemon");
    if Path::new("/run/systemd/system").exists() {
        Cmd::new("systemctl").args(["start", "lxd"]).run_ok()?;
    } else {
        // No service manager to ask (Debian's sysv script fails where `ulimit -n` is not allowed).
        fs::create_dir_all("/var/log/lxd")?;
        Cmd::new("lxd")
            .args(["--group", "root", "--logfile", "/var/log/lxd/lxd.log"])
            .spawn_detached(Path::new("/var/log/lxd/lxd.out"))?;
    }
    Cmd::new("lxd")
        .args(["waitready", "--timeout=60"])
        .timeout(Some(Duration::from_secs(70)))
        .run_ok()
        .context("the LXD daemon did not become ready; see /var/log/lxd/lxd.log")?;
    Ok(())
}

/// Initialise LXD (a storage pool and the default profile's root disk) when it has no pool.
fn ensure_initialised(assume_yes: bool) -> Result<()> {
    if storage_pools()? > 0 {
        return Ok(());
    }
    let btrfs = which::which("mkfs.btrfs").is_ok();
    let what = if btrfs {
        "a 30 GiB btrfs pool on a loop file"
    } else {
        "a directory pool"
    };
    ui::say(format!(
        "LXD is not initialised: halab would create {what} named `default` and give the default profile its root disk"
    ));
    let refused = || {
        Problem::new(
            "LXD is not initialised",
            "run `lxd init`, or `halab start ... --backend lxd --yes`",
        )
    };
    if !ui::confirm("Initialise LXD now?", assume_yes, refused())? {
        return Err(refused().into());
    }
    let pool = if btrfs {
        "- name: default\n  driver: btrfs\n  config:\n    size: 30GiB\n"
    } else {
        "- name: default\n  driver: dir\n"
    };
    let preseed = format!(
        "config:\n  images.auto_update_interval: \"0\"\nstorage_pools:\n{pool}profiles:\n- name: default\n  devices:\n    root: {{path: /, pool: default, type: disk}}\n"
    );
    Cmd::new("lxd")
        .args(["init", "--preseed"])
        .stdin(preseed)
        .run_ok()
        .context("initialising LXD")?;
    Ok(())
}
