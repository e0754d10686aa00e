//! `halab doctor`: what each backend needs on this machine, what is missing, and the exact
//! command that fixes each. Looks only: installs, starts and initialises nothing.
//!
//! Must not: change the host, or decide the backend differently from `start` (it asks
//! `backend::choice`).

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::backend::{BackendKind, choice, multipass};
use crate::exec::Cmd;

/// One thing a backend needs.
#[derive(Debug, Serialize)]
pub struct Item {
    /// What is needed, e.g. "`lxc` (the LXD client)".
    pub need: String,
    pub ok: bool,
    /// What was found (a version, a state) or what is wrong.
    pub detail: String,
    /// The command that fixes it, when it is missing.
    pub fix: Option<String>,
    /// Whether the backend works without it (reset rebuilds instead of restoring, say).
    pub optional: bool,
}

/// Everything about one backend.
#[derive(Debug, Serialize)]
pub struct Report {
    pub backend: BackendKind,
    pub usable: bool,
    pub items: Vec<Item>,
}

fn item(need: impl Into<String>, ok: bool, detail: impl Into<String>, fix: &str) -> Item {
    Item {
        need: need.into(),
        ok,
        detail: detail.into(),
        fix: (!ok).then(|| fix.to_string()),
        optional: false,
    }
}

fn have(program: &str) -> bool {
    which::which(program).is_ok()
}

fn root_item() -> Item {
    let root = crate::host::is_root();
    item(
        "root",
        root,
        if root { "running as root" } else { "not root" },
        "run halab with `sudo`",
    )
}

/// Debian packages: an item naming the missing ones.
fn packages_item(need: &str, wanted: &BTreeSet<String>) -> Item {
    match crate::host::missing_packages(wanted) {
        Ok(missing) if missing.is_empty() => item(need, true, "installed", ""),
        Ok(missing) => item(
            need,
            false,
            format!("missing: {}", missing.join(", ")),
            &format!("sudo apt-get install {}", missing.join(" ")),
        ),
        Err(e) => item(need, false, e.to_string(), "use a Debian or Ubuntu host"),
    }
}

fn netns() -> Vec<Item> {
    let linux = cfg!(target_os = "linux");
    let mut items = vec![item(
        "Linux",
        linux,
        std::env::consts::OS,
        "use the lxd or multipass backend (`halab doctor --backend multipass`)",
    )];
    if !linux {
        return items;
    }
    items.push(root_item());
    let ns = ["net", "pid", "mnt", "uts", "ipc"];
    let missing_ns: Vec<&str> = ns
        .iter()
        .copied()
        .filter(|n| !Path::new(&format!("/proc/self/ns/{n}")).exists())
        .collect();
    items.push(item(
        "kernel namespaces (net, pid, mount, uts, ipc)",
        missing_ns.is_empty(),
        if missing_ns.is_empty() {
            "all present".to_string()
        } else {
            format!("missing: {}", missing_ns.join(", "))
        },
        "use a kernel built with namespaces (every distribution kernel is), or the lxd backend",
    ));
    if crate::host::is_root() && have("unshare") && have("ip") {
        // Made in a network namespace of its own, which vanishes with the command.
        let probe = Cmd::new("unshare")
            .args(["--net", "sh", "-c"])
            .arg("ip link add halab-a type veth peer name halab-b && ip link add halab-br type bridge")
            .timeout(Some(Duration::from_secs(10)))
            .run();
        let (ok, detail) = match probe {
            Ok(o) if o.success() => (true, "a veth pair and a bridge can be made".to_string()),
            Ok(o) => (false, o.stderr.trim().to_string()),
            Err(e) => (false, e.to_string()),
        };
        items.push(item(
            "kernel support for veth pairs and bridges",
            ok,
            detail,
            "sudo modprobe veth bridge",
        ));
    }
    let tools: Vec<&str> = ["unshare", "nsenter", "ip"]
        .into_iter()
        .filter(|t| !have(t))
        .collect();
    items.push(item(
        "`unshare`, `nsenter`, `ip`",
        tools.is_empty(),
        if tools.is_empty() {
            "installed".to_string()
        } else {
            format!("missing: {}", tools.join(", "))
        },
        "sudo apt-get install util-linux iproute2",
    ));
    // The netns backend runs the host's own daemons: every lab's packages.
    let wanted: BTreeSet<String> = crate::content::Catalog::load()
        .map(|c| c.labs().flat_map(|l| l.all_packages()).collect())
        .unwrap_or_default();
    let count = wanted.len();
    items.push(packages_item(
        &format!("the labs' packages on the host ({count} named by the lab files)"),
        &wanted,
    ));
    items
}

fn lxd() -> Vec<Item> {
    let client = choice::lxd_client();
    let mut items = Vec::new();
    let installed = have(&client);
    items.push(item(
        format!("`{client}` (the LXD client)"),
        installed,
        if installed { "installed" } else { "not found" },
        "sudo apt-get install lxd lxd-client (Debian 12), or `sudo snap install lxd` (Ubuntu)",
    ));
    if !installed {
        return items;
    }
    let answer = Cmd::new(&client)
        .args(["query", "/1.0"])
        .timeout(Some(Duration::from_secs(10)))
        .run();
    let (answers, detail) = match &answer {
        Ok(o) if o.success() => {
            let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap_or_default();
            (
                true,
                format!(
                    "answers (LXD {})",
                    v["environment"]["server_version"].as_str().unwrap_or("?")
                ),
            )
        }
        Ok(o) => (false, o.stderr.trim().to_string()),
        Err(e) => (false, e.to_string()),
    };
    let denied = detail.contains("permission denied");
    if denied {
        items.push(item(
            "access to the LXD daemon",
            false,
            detail,
            "add yourself to the `lxd` group: `sudo usermod -aG lxd $USER`, then log in again (or use `sudo`)",
        ));
        return items;
    }
    items.push(item(
        "the LXD daemon",
        answers,
        detail,
        "sudo systemctl start lxd   (or let `sudo halab start --backend lxd` start it)",
    ));
    if answers {
        let pools = Cmd::new(&client)
            .args(["query", "/1.0/storage-pools"])
            .run()
            .ok()
            .and_then(|o| serde_json::from_str::<serde_json::Value>(&o.stdout).ok())
            .and_then(|v| v.as_array().map(|a| a.len()))
            .unwrap_or(0);
        items.push(item(
            "LXD initialised (a storage pool)",
            pools > 0,
            format!("{pools} storage pool(s)"),
            "sudo lxd init --auto   (or `sudo halab start --backend lxd --yes`)",
        ));
    }
    items.push(packages_item(
        "`debootstrap` and `dnsmasq-base` (to build the image)",
        &["debootstrap", "dnsmasq-base"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    ));
    items
}

fn multipass() -> Vec<Item> {
    let mut items = Vec::new();
    let installed = have("multipass");
    items.push(item(
        "`multipass`",
        installed,
        if installed { "installed" } else { "not found" },
        &multipass::install_hint().replace("; `halab doctor` checks again", ""),
    ));
    if !installed {
        return items;
    }
    let v = multipass::versions();
    let daemon = v.as_ref().ok().and_then(|(_, d)| d.clone());
    items.push(item(
        "the multipass daemon (`multipassd`)",
        daemon.is_some(),
        match (&v, &daemon) {
            (_, Some(d)) => format!("answers (multipassd {d})"),
            (Ok((c, _)), None) => format!("client {c}, no answer from the daemon"),
            (Err(e), None) => e.to_string(),
        },
        "sudo snap start multipass (Linux), or open the Multipass app (macOS, Windows)",
    ));
    if let Some(d) = &daemon {
        let snapshots = multipass::major_minor(d).is_some_and(|v| v >= (1, 13));
        let mut i = item(
            "snapshots for a fast `halab reset` (multipass 1.13 or newer)",
            snapshots,
            format!("multipassd {d}"),
            "sudo snap refresh multipass (Linux), `brew upgrade multipass` (macOS)",
        );
        i.optional = true;
        items.push(i);
    }
    if cfg!(target_os = "linux") {
        let kvm = Path::new("/dev/kvm").exists();
        items.push(item(
            "hardware virtualisation (`/dev/kvm`)",
            kvm,
            if kvm { "present" } else { "absent" },
            "enable VT-x/AMD-V in the firmware, or nested virtualisation for this VM; without it use the netns or lxd backend",
        ));
    }
    items
}

/// What `kind` needs here.
pub fn diagnose(kind: BackendKind) -> Report {
    let items = match kind {
        BackendKind::Netns => netns(),
        BackendKind::Lxd => lxd(),
        BackendKind::Multipass => multipass(),
    };
    let usable = items.iter().all(|i| i.ok || i.optional);
    Report {
        backend: kind,
        usable,
        items,
    }
}
