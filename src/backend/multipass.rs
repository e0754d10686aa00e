//! The multipass backend: one VM per node, named `halab-<lab>-<node>`, launched from an Ubuntu
//! LTS image with cloud-init installing the node's own packages (`assets/multipass/vm.toml`).
//! multipass gives addresses by DHCP and a VM may get another one when it restarts, so they are
//! asked for at every use (`multipass list --format json`), never kept; the floating IP is
//! picked free in the same subnet and the interface is whatever the VM has. Commands run through
//! `multipass exec` as the image's `ubuntu` user, under `sudo`.
//!
//! Must not: assume an address, subnet or interface name; touch an instance that is not one of
//! this lab's nodes.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use ipnet::Ipv4Net;
use serde::Deserialize;

use super::{Backend, Daemon, LabSpec, Need, NodeSpec, NodeUp};
use crate::content::lab::is_host_in;
use crate::content::template::{Facts, NetworkFacts};
use crate::exec::{Cmd, Output};
use crate::state::LabDir;
use crate::ui::{self, Problem, Progress};

const VM_TOML: &str = include_str!("../../assets/multipass/vm.toml");
/// The snapshot `reset` goes back to.
const START_SNAPSHOT: &str = "halab-start";
/// The first multipass release with `snapshot` and `restore`.
const SNAPSHOTS_SINCE: (u32, u32) = (1, 13);

/// `assets/multipass/vm.toml`.
#[derive(Deserialize)]
struct VmRecipe {
    image: String,
    cpus: u32,
    memory: String,
    disk: String,
    launch_timeout: u64,
    user_data: String,
}

fn recipe() -> VmRecipe {
    toml::from_str(VM_TOML).expect("assets/multipass/vm.toml is valid (checked by a unit test)")
}

fn multipass() -> Cmd {
    Cmd::new("multipass")
}

/// One instance as `multipass list --format json` shows it.
#[derive(Clone, Debug, Deserialize)]
struct Instance {
    name: String,
    state: String,
    #[serde(default)]
    ipv4: Vec<String>,
}

/// All instances multipass has (the user's too: a floating IP must not be one of theirs).
fn list_instances() -> Result<Vec<Instance>> {
    #[derive(Deserialize)]
    struct List {
        list: Vec<Instance>,
    }
    let out = multipass()
        .args(["list", "--format", "json"])
        .timeout(Some(Duration::from_secs(60)))
        .run_ok()?;
    let l: List = serde_json::from_str(&out.stdout)
        .context("`multipass list --format json` printed something that is not its JSON")?;
    Ok(l.list)
}

/// The client's and the daemon's versions (`multipass version --format json`); the daemon's is
/// `None` when it does not answer.
pub(crate) fn versions() -> Result<(String, Option<String>)> {
    let out = multipass()
        .args(["version", "--format", "json"])
        .timeout(Some(Duration::from_secs(30)))
        .run()?;
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap_or_default();
    let client = v["multipass"].as_str().unwrap_or_default().to_string();
    let daemon = v["multipassd"].as_str().map(String::from);
    if client.is_empty() {
        bail!(
            "`multipass version --format json` failed: {}",
            out.stderr.trim()
        );
    }
    Ok((client, daemon))
}

/// `1.14.1+mac` -> (1, 14).
pub(crate) fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut it = version.split(['.', '+', '-']);
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

/// What to do when `multipass` is not there or its daemon does not answer.
pub(crate) fn install_hint() -> &'static str {
    "install multipass: `sudo snap install multipass` (Linux), `brew install --cask multipass` \
     (macOS), or the installer from https://multipass.run (Windows); `halab doctor` checks again"
}

pub(crate) struct Multipass {
    dir: LabDir,
    /// Instance states seen within the last moment: `multipass exec` starts a stopped
    /// instance, so every exec must know the state first, and one `list` serves a burst of
    /// concurrent checks. Whatever halab does to an instance clears it.
    states: Mutex<Option<(Instant, Vec<Instance>)>>,
}

/// How long one `multipass list` answers for the instances' states.
const STATES_FRESH: Duration = Duration::from_secs(2);

impl Multipass {
    pub(crate) fn new(dir: &LabDir) -> Multipass {
        Multipass {
            dir: dir.clone(),
            states: Mutex::new(None),
        }
    }

    /// Every instance multipass has, from a `list` at most `STATES_FRESH` old.
    fn all_states(&self) -> Result<Vec<Instance>> {
        let mut cached = self.states.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, list)) = cached.as_ref()
            && at.elapsed() < STATES_FRESH
        {
            return Ok(list.clone());
        }
        let list = list_instances()?;
        *cached = Some((Instant::now(), list.clone()));
        Ok(list)
    }

    /// Forget the states: an instance was started, stopped, made or removed.
    fn changed(&self) {
        *self.states.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The VM of `node`.
    pub(crate) fn instance(&self, node: &str) -> String {
        format!("halab-{}-{node}", self.dir.name)
    }

    /// The lab's node names (from the lab's own copy of its lab file).
    fn node_names(&self) -> Vec<String> {
        self.dir
            .load_lab()
            .map(|l| l.nodes.iter().map(|n| n.name.clone()).collect())
            .unwrap_or_default()
    }

    /// This lab's instances, by node name.
    fn instances(&self) -> Result<BTreeMap<String, Instance>> {
        let names = self.node_names();
        let all = list_instances()?;
        Ok(names
            .into_iter()
            .filter_map(|n| {
                let vm = self.instance(&n);
                all.iter().find(|i| i.name == vm).map(|i| (n, i.clone()))
            })
            .collect())
    }

    fn state(&self, node: &str) -> Option<String> {
        let vm = self.instance(node);
        self.all_states()
            .ok()?
            .into_iter()
            .find(|i| i.name == vm)
            .map(|i| i.state)
    }

    fn user_data(&self, node: &NodeSpec) -> Result<String> {
        for p in &node.packages {
            if !p
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.:".contains(c))
            {
                bail!("`{p}` is not a Debian package name");
            }
        }
        let packages: String = node.packages.iter().map(|p| format!("  - {p}\n")).collect();
        let text = minijinja::Environment::new().render_str(
            &recipe().user_data,
            minijinja::context! { node => &node.name, lab => self.dir.name.as_str(), packages => packages.trim_end() },
        )?;
        // Without this, cloud-init names the VM after the instance (`halab-ch32-lb-01`).
        Ok(format!(
            "{}\nhostname: {}\n",
            text.trim_start().trim_end(),
            node.name
        ))
    }

    /// The last lines of cloud-init's log on `node`, to show why it failed.
    fn cloud_init_log(&self, node: &str) -> String {
        let argv = ["tail", "-n", "30", "/var/log/cloud-init-output.log"].map(String::from);
        match self.exec(node, &argv, None, Some(Duration::from_secs(30))) {
            Ok(o) if o.success() => o.stdout,
            Ok(o) => format!("(cannot read it: {})", o.stderr.trim()),
            Err(e) => format!("(cannot read it: {e})"),
        }
    }

    /// A new VM for `node`: launched with the node's packages, checked to have finished
    /// cloud-init without errors.
    fn launch(&self, node: &NodeSpec, progress: &Progress) -> Result<()> {
        let r = recipe();
        let vm = self.instance(&node.name);
        if self.state(&node.name).is_some() {
            multipass()
                .args(["delete", "--purge", &vm])
                .timeout(Some(Duration::from_secs(300)))
                .run_ok()?;
        }
        let dir = self.dir.backend_dir().join("cloud-init");
        std::fs::create_dir_all(&dir)?;
        let file = dir.join(format!("{}.yaml", node.name));
        crate::state::write_atomic(&file, self.user_data(node)?.as_bytes(), 0o644)?;
        progress.message(&format!(
            "launching {} (cloud-init installs {})",
            node.name,
            node.packages.join(", ")
        ));
        self.changed();
        let out = multipass()
            .args(["launch", &r.image, "--name", &vm])
            .args(["--cpus", &r.cpus.to_string()])
            .args(["--memory", &r.memory, "--disk", &r.disk])
            .arg("--cloud-init")
            .arg(&file)
            .args(["--timeout", &r.launch_timeout.to_string()])
            .timeout(Some(Duration::from_secs(r.launch_timeout + 120)))
            .run()?;
        if !out.success() {
            let log = if self.state(&node.name).as_deref() == Some("Running") {
                format!(
                    "\ncloud-init's log on {} (last lines):\n{}",
                    node.name,
                    self.cloud_init_log(&node.name)
                )
            } else {
                String::new()
            };
            bail!(
                "`multipass launch {} --name {vm} ...` failed ({}): {}{log}",
                r.image,
                out.status_text(),
                out.stderr.trim()
            );
        }
        self.changed();
        let argv = ["cloud-init", "status", "--long"].map(String::from);
        let status = self.exec(&node.name, &argv, None, Some(Duration::from_secs(60)))?;
        let state = status
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("status:"))
            .unwrap_or_default()
            .trim()
            .to_string();
        if state != "done" {
            return Err(Problem::new(
                format!(
                    "cloud-init on {} ended with `status: {state}`: the node's packages may be missing\n\
                     cloud-init's log (last lines):\n{}",
                    node.name,
                    self.cloud_init_log(&node.name).trim_end()
                ),
                format!(
                    "the whole log: `multipass exec {vm} -- cat /var/log/cloud-init-output.log`; \
                     `halab start` again rebuilds the node"
                ),
            )
            .into());
        }
        Ok(())
    }

    fn bring_up(&self, node: &NodeSpec, recreate: bool, progress: &Progress) -> Result<NodeUp> {
        self.changed();
        let how = match (recreate, self.state(&node.name).as_deref()) {
            (false, Some("Running")) => return Ok(NodeUp::Running),
            (false, Some(s)) if s != "Deleted" => {
                progress.message(&format!("starting {}", node.name));
                multipass()
                    .args(["start", &self.instance(&node.name)])
                    .timeout(Some(Duration::from_secs(600)))
                    .run_ok()?;
                NodeUp::Restarted
            }
            _ => {
                self.launch(node, progress)?;
                NodeUp::Created
            }
        };
        progress.inc(&node.name);
        Ok(how)
    }

    /// Run one multipass command on several instances at once (`stop`, `start`).
    fn on_all(&self, verb: &[&str], nodes: &[String]) -> Result<()> {
        self.changed();
        if nodes.is_empty() {
            return Ok(());
        }
        multipass()
            .args(verb)
            .args(nodes.iter().map(|n| self.instance(n)))
            .timeout(Some(Duration::from_secs(900)))
            .run_ok()?;
        Ok(())
    }

    fn supports_snapshots(&self) -> bool {
        versions()
            .ok()
            .and_then(|(_, d)| d)
            .and_then(|d| major_minor(&d))
            .is_some_and(|v| v >= SNAPSHOTS_SINCE)
    }

    fn snapshot_count(&self, node: &str) -> usize {
        let vm = self.instance(node);
        let Ok(out) = multipass()
            .args(["info", "--format", "json", &vm])
            .timeout(Some(Duration::from_secs(60)))
            .run()
        else {
            return 0;
        };
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap_or_default();
        let c = &v["info"][&vm]["snapshot_count"];
        c.as_u64()
            .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or(0) as usize
    }
}

impl Backend for Multipass {
    fn host_packages(&self) -> Vec<String> {
        // multipass comes as a snap or an installer, not as a Debian package.
        Vec::new()
    }

    fn prepare(&self, _spec: &LabSpec, _assume_yes: bool) -> Result<()> {
        if which::which("multipass").is_err() {
            return Err(Problem::new("`multipass` is not installed", install_hint()).into());
        }
        match versions() {
            Ok((_, Some(_))) => Ok(()),
            Ok((_, None)) | Err(_) => Err(Problem::new(
                "the multipass daemon (`multipassd`) does not answer",
                "start it: `sudo snap start multipass` (Linux), or open the Multipass app (macOS, \
                 Windows); `multipass version` shows both versions when it answers",
            )
            .into()),
        }
    }

    fn facts(&self, _spec: &LabSpec) -> Result<Facts> {
        // Everything is known only once the VMs run (`discover`).
        Ok(Facts::default())
    }

    fn discover(&self, spec: &LabSpec, known: &Facts) -> Result<Option<Facts>> {
        let all = list_instances()?;
        let mine = self.instances()?;
        let first = spec.nodes.first().context("a lab without nodes")?;
        let probe = &mine
            .get(&first.name)
            .filter(|i| i.state == "Running")
            .ok_or_else(|| super::not_running(&self.dir.name, &first.name))?
            .ipv4;
        let addrs = self.exec(
            &first.name,
            &["ip", "-o", "-4", "addr", "show", "scope", "global"].map(String::from),
            None,
            None,
        )?;
        // `2: ens3    inet 192.168.64.5/24 metric 100 brd ...`: the line of multipass's address.
        let (iface, cidr) = addrs
            .stdout
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.len() > 3 && f[2] == "inet").then(|| (f[1].to_string(), f[3].to_string()))
            })
            .find(|(_, c)| probe.iter().any(|a| c.split('/').next() == Some(a)))
            .with_context(|| {
                format!(
                    "node {} has none of the addresses multipass gives it ({}): `ip -o -4 addr` says\n{}",
                    first.name,
                    probe.join(", "),
                    addrs.stdout.trim()
                )
            })?;
        let (addr, prefix) = cidr
            .split_once('/')
            .and_then(|(a, p)| Some((a.parse::<Ipv4Addr>().ok()?, p.parse::<u8>().ok()?)))
            .with_context(|| format!("`{cidr}` is not an address with a prefix"))?;
        let mask = if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - prefix)
        };
        let net = Ipv4Addr::from(u32::from(addr) & mask);
        let subnet = format!("{net}/{prefix}");
        let in_use: BTreeSet<Ipv4Addr> = all
            .iter()
            .flat_map(|i| i.ipv4.iter().filter_map(|a| a.parse().ok()))
            .collect();
        let kept = known
            .network
            .as_ref()
            .filter(|n| n.subnet == subnet)
            .and_then(|n| n.vip.parse::<Ipv4Addr>().ok());
        let vip = match kept {
            Some(v) => v,
            None => free_address(net, prefix, &in_use)
                .with_context(|| format!("no free address left in {subnet} for the floating IP"))?,
        };
        let last_seen = mine
            .iter()
            .filter_map(|(n, i)| {
                let a = i.ipv4.iter().find(|a| **a != vip.to_string())?;
                Some((n.clone(), a.clone()))
            })
            .collect();
        Ok(Some(Facts {
            lab: known.lab.clone(),
            network: Some(NetworkFacts {
                iface,
                subnet,
                vip: vip.to_string(),
                last_seen,
            }),
        }))
    }

    fn live_addresses(&self) -> Result<Option<BTreeMap<String, Vec<Ipv4Addr>>>> {
        // `info` of every instance at once; an address is never kept between calls.
        let out = multipass()
            .args(["info", "--format", "json"])
            .timeout(Some(Duration::from_secs(60)))
            .run_ok()?;
        let v: serde_json::Value = serde_json::from_str(&out.stdout)
            .context("`multipass info --format json` printed something that is not its JSON")?;
        let mut map = BTreeMap::new();
        for node in self.node_names() {
            let i = &v["info"][self.instance(&node)];
            if i["state"] != "Running" {
                continue;
            }
            let addrs: Vec<Ipv4Addr> = i["ipv4"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str()?.parse().ok())
                .collect();
            map.insert(node, addrs);
        }
        Ok(Some(map))
    }

    fn up(
        &self,
        spec: &LabSpec,
        recreate: &BTreeSet<String>,
        progress: &Progress,
    ) -> Result<BTreeMap<String, NodeUp>> {
        super::for_each_node(&spec.nodes, |node| {
            self.bring_up(node, recreate.contains(&node.name), progress)
        })
    }

    fn exec(
        &self,
        node: &str,
        argv: &[String],
        stdin: Option<Vec<u8>>,
        timeout: Option<Duration>,
    ) -> Result<Output> {
        // `multipass exec` would start a stopped instance: a crashed node must stay down.
        if !self.is_running(node) {
            return Err(super::not_running(&self.dir.name, node));
        }
        let mut c = multipass()
            .args(["exec", &self.instance(node), "--"])
            .args(["sudo", "-H", "--", "env", "-C", "/", "LANG=C.UTF-8"])
            .args(argv)
            .timeout(timeout.or(Some(crate::exec::DEFAULT_TIMEOUT)));
        if let Some(b) = stdin {
            c = c.stdin(b);
        }
        let out = c.run()?;
        // multipass's own failures start with `exec failed:`; a command's are data.
        if !out.success() && out.stderr.starts_with("exec failed") {
            self.changed();
            if self.state(node).as_deref() != Some("Running") {
                return Err(super::not_running(&self.dir.name, node));
            }
            bail!(
                "`multipass exec {} -- ...` failed: {}",
                self.instance(node),
                out.stderr.trim()
            );
        }
        Ok(out)
    }

    fn exec_attached(&self, node: &str, argv: &[String], env: &[(&str, &str)]) -> Result<i32> {
        if !self.is_running(node) {
            return Err(super::not_running(&self.dir.name, node));
        }
        let mut c = multipass()
            .args(["exec", &self.instance(node), "--"])
            .args(["sudo", "-H", "--", "env", "-C", "/root", "LANG=C.UTF-8"]);
        for (k, v) in env {
            c = c.arg(format!("{k}={v}"));
        }
        Ok(c.args(argv).timeout(None).run_attached()?)
    }

    fn is_running(&self, node: &str) -> bool {
        self.state(node).as_deref() == Some("Running")
    }

    fn crash_node(&self, node: &str) -> Result<()> {
        self.changed();
        // A forced stop is a power cut: no shutdown, services die where they are.
        multipass()
            .args(["stop", "--force", &self.instance(node)])
            .timeout(Some(Duration::from_secs(300)))
            .run_ok()?;
        Ok(())
    }

    fn snapshot(&self, nodes: &[String]) -> Result<bool> {
        if !self.supports_snapshots() {
            ui::say(format!(
                "this multipass has no snapshots (they came in {}.{}): `halab reset` rebuilds nodes instead",
                SNAPSHOTS_SINCE.0, SNAPSHOTS_SINCE.1
            ));
            return Ok(false);
        }
        // multipass snapshots only stopped instances.
        ui::say(format!(
            "saving the starting state: stopping {} VM(s), snapshotting, starting them again",
            nodes.len()
        ));
        self.on_all(&["stop"], nodes)?;
        let mut supported = true;
        for n in nodes {
            let out = multipass()
                .args(["snapshot", &self.instance(n), "--name", START_SNAPSHOT])
                .timeout(Some(Duration::from_secs(600)))
                .run()?;
            if !out.success() {
                if out.stderr.contains("not supported") || out.stderr.contains("unsupported") {
                    supported = false;
                    break;
                }
                self.on_all(&["start"], nodes)?;
                bail!(
                    "`multipass snapshot {} --name {START_SNAPSHOT}` failed: {}",
                    self.instance(n),
                    out.stderr.trim()
                );
            }
        }
        self.on_all(&["start"], nodes)?;
        if !supported {
            ui::say("multipass cannot snapshot with this driver: `halab reset` rebuilds nodes");
        }
        Ok(supported)
    }

    fn restore(&self, nodes: &[String], progress: &Progress) -> Result<Vec<String>> {
        let with: Vec<String> = nodes
            .iter()
            .filter(|n| self.snapshot_count(n) > 0)
            .cloned()
            .collect();
        if with.is_empty() {
            return Ok(with);
        }
        progress.message("stopping the VMs");
        self.on_all(&["stop"], &with)?;
        for n in &with {
            progress.message(&format!("restoring {n}"));
            multipass()
                .args([
                    "restore",
                    &format!("{}.{START_SNAPSHOT}", self.instance(n)),
                    "--destructive",
                ])
                .timeout(Some(Duration::from_secs(600)))
                .run_ok()?;
            progress.inc(n);
        }
        progress.message("starting the VMs");
        self.on_all(&["start"], &with)?;
        Ok(with)
    }

    fn leftovers(&self) -> Result<Vec<String>> {
        if !daemon().answers() {
            return Ok(Vec::new());
        }
        self.changed();
        Ok(self
            .instances()?
            .values()
            .map(|i| format!("multipass instance `{}`", i.name))
            .collect())
    }

    fn down(&self) -> Result<()> {
        if which::which("multipass").is_err() {
            // No multipass: nothing of this lab can exist in it.
            return Ok(());
        }
        self.changed();
        let vms: Vec<String> = self.instances()?.values().map(|i| i.name.clone()).collect();
        if !vms.is_empty() {
            multipass()
                .args(["delete", "--purge"])
                .args(&vms)
                .timeout(Some(Duration::from_secs(900)))
                .run_ok()?;
        }
        Ok(())
    }

    fn purge_cache(&self) -> Result<usize> {
        // multipass keeps its images itself; halab caches nothing for this backend.
        Ok(0)
    }
}

/// The highest host address of the subnet that nothing uses: DHCP servers hand out addresses
/// from the bottom, so the top is the least likely to be given to a later VM.
fn free_address(net: Ipv4Addr, prefix: u8, in_use: &BTreeSet<Ipv4Addr>) -> Option<Ipv4Addr> {
    let net = Ipv4Net::new(net, prefix).ok()?.trunc();
    // `hosts()` keeps every address of a /31 or /32; `is_host_in` rejects them as elsewhere.
    net.hosts()
        .rev()
        .find(|a| !in_use.contains(a) && is_host_in(*a, net.network(), prefix))
}

/// Whether the multipass daemon answers (`multipass version`, which asks it).
pub(crate) fn daemon() -> Daemon {
    if which::which("multipass").is_err() {
        return Daemon::NoClient;
    }
    match versions() {
        Ok((_, Some(d))) => Daemon::Answers(d),
        Ok((c, None)) => Daemon::Silent(format!("client {c}, no answer from the daemon")),
        Err(e) => Daemon::Silent(e.to_string()),
    }
}

/// What the multipass backend needs on this host (`halab doctor`): multipass, its daemon, a
/// release with snapshots (optional: `reset` rebuilds without), and hardware virtualisation.
pub(crate) fn needs() -> Vec<Need> {
    let daemon = daemon();
    let installed = daemon != Daemon::NoClient;
    let mut needs = vec![Need::new(
        "`multipass`",
        installed,
        if installed { "installed" } else { "not found" },
        &install_hint().replace("; `halab doctor` checks again", ""),
    )];
    if !installed {
        return needs;
    }
    needs.push(Need::new(
        "the multipass daemon (`multipassd`)",
        daemon.answers(),
        match &daemon {
            Daemon::Answers(d) => format!("answers (multipassd {d})"),
            Daemon::Silent(said) | Daemon::Denied(said) => said.clone(),
            Daemon::NoClient => unreachable!("multipass is installed"),
        },
        "sudo snap start multipass (Linux), or open the Multipass app (macOS, Windows)",
    ));
    if let Daemon::Answers(d) = &daemon {
        let snapshots = major_minor(d).is_some_and(|v| v >= SNAPSHOTS_SINCE);
        needs.push(
            Need::new(
                "snapshots for a fast `halab reset` (multipass 1.13 or newer)",
                snapshots,
                format!("multipassd {d}"),
                "sudo snap refresh multipass (Linux), `brew upgrade multipass` (macOS)",
            )
            .optional(),
        );
    }
    if cfg!(target_os = "linux") {
        let kvm = std::path::Path::new("/dev/kvm").exists();
        needs.push(Need::new(
            "hardware virtualisation (`/dev/kvm`)",
            kvm,
            if kvm { "present" } else { "absent" },
            "enable VT-x/AMD-V in the firmware, or nested virtualisation for this VM; without it use the netns or lxd backend",
        ));
    }
    needs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipe_asset_parses() {
        let r = recipe();
        assert!(r.launch_timeout >= 300, "cloud-init needs minutes");
        assert!(
            r.user_data.starts_with("\n#cloud-config") || r.user_data.starts_with("#cloud-config")
        );
    }

    #[test]
    fn floating_ip_is_the_highest_free_host_address() {
        let net: Ipv4Addr = "192.168.64.0".parse().unwrap();
        let used: BTreeSet<Ipv4Addr> = ["192.168.64.254", "192.168.64.2"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        assert_eq!(
            free_address(net, 24, &used),
            Some("192.168.64.253".parse().unwrap())
        );
        let tiny: Ipv4Addr = "10.1.2.0".parse().unwrap();
        let full: BTreeSet<Ipv4Addr> = ["10.1.2.1", "10.1.2.2"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        assert_eq!(free_address(tiny, 30, &full), None);
    }

    #[test]
    fn versions_compare_by_major_and_minor() {
        assert_eq!(major_minor("1.14.1+mac"), Some((1, 14)));
        assert_eq!(major_minor("1.9.2"), Some((1, 9)));
        assert!(major_minor("1.9.2").unwrap() < SNAPSHOTS_SINCE);
        assert_eq!(major_minor("garbage"), None);
    }
}
