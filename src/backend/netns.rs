//! The netns backend: each node is one `unshare --mount --uts --net --pid --ipc --fork` holder
//! process (PID 1 of the node, `assets/netns/node-init.sh`) that mounts the node's own
//! directories over the host's and makes everything else read-only. The lab's switch is a bridge
//! in its own network namespace `halab-<lab>-sw`; a veth pair goes from it straight into each
//! node, so the host's network namespace never gets a lab address or route. There is no systemd
//! in a node: `assets/netns/systemctl` maps units onto Debian's init scripts.
//!
//! Files: `<lab>/backend/` holds the node-init script, the systemctl shim, the hosts file and
//! `nodes/<node>/` (its `root/` directories, mount list, `holder.json`, `init.log`).
//!
//! Must not: kill anything but the holder processes it started (by PID, after checking that the
//! PID is still that holder), or touch the host's network namespace.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use serde::{Deserialize, Serialize};

use super::{Backend, LabSpec, Need, NodeSpec, NodeUp};
use crate::content::template::Facts;
use crate::exec::{Cmd, Output};
use crate::state::{LabDir, write_atomic};
use crate::ui::{Problem, Progress};

const NODE_INIT: &str = include_str!("../../assets/netns/node-init.sh");
const SYSTEMCTL_SHIM: &str = include_str!("../../assets/netns/systemctl");
const NODE_TOML: &str = include_str!("../../assets/netns/node.toml");

/// How long a new node's PID 1 may take to mount everything.
const HOLDER_START: Duration = Duration::from_secs(10);

/// PATH inside a node; the shim directory comes first so `systemctl` is halab's.
const NODE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// `assets/netns/node.toml`: how a node is laid over the host's filesystem.
#[derive(Deserialize)]
struct NodeLayout {
    /// Directories every node has of its own.
    dirs: Vec<PrivateDir>,
    /// Files every node has of its own.
    files: Vec<PrivateFile>,
    /// Commands run in every new node.
    common: Vec<String>,
    /// Package name -> commands that replay what installing it leaves behind.
    postinst: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct PrivateDir {
    path: String,
    seed: Option<String>,
}

#[derive(Deserialize)]
struct PrivateFile {
    path: String,
    content: String,
}

fn layout() -> NodeLayout {
    toml::from_str(NODE_TOML).expect("assets/netns/node.toml is valid (checked by a unit test)")
}

/// The node's PID 1 as halab recorded it.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct Holder {
    /// The `unshare` process (parent of PID 1, in the host's pid namespace).
    unshare_pid: u32,
    /// The node's PID 1, as the host sees it.
    init_pid: u32,
    /// Its start time in clock ticks since boot, to tell it from a later process with its PID.
    init_start: u64,
}

pub(crate) struct Netns {
    lab: String,
    dir: PathBuf,
}

impl Netns {
    pub(crate) fn new(lab: &LabDir) -> Netns {
        Netns {
            lab: lab.name.to_string(),
            dir: lab.backend_dir(),
        }
    }

    /// The switch's network namespace.
    pub(crate) fn switch_ns(&self) -> String {
        format!("halab-{}-sw", self.lab)
    }

    fn node_dir(&self, node: &str) -> PathBuf {
        self.dir.join("nodes").join(node)
    }

    fn init_script(&self) -> PathBuf {
        self.dir.join("node-init.sh")
    }

    /// The recorded holder of `node`, if that process is still the one halab started.
    fn holder(&self, node: &str) -> Option<Holder> {
        let text = fs::read_to_string(self.node_dir(node).join("holder.json")).ok()?;
        let h: Holder = serde_json::from_str(&text).ok()?;
        (start_time(h.init_pid) == Some(h.init_start)).then_some(h)
    }

    fn write_shared_files(&self, spec: &LabSpec) -> Result<()> {
        fs::create_dir_all(self.dir.join("shims"))?;
        write_atomic(&self.init_script(), NODE_INIT.as_bytes(), 0o755)?;
        let shim = self.dir.join("shims/systemctl");
        write_atomic(&shim, SYSTEMCTL_SHIM.as_bytes(), 0o755)?;
        fs::set_permissions(self.dir.join("shims"), fs::Permissions::from_mode(0o755))?;
        write_atomic(&self.dir.join("hosts"), spec.hosts_file.as_bytes(), 0o644)?;
        Ok(())
    }

    /// Lay out a new node's own directories and files on the host, seeded from the host.
    fn create_node_files(&self, node: &NodeSpec, layout: &NodeLayout) -> Result<()> {
        let nd = self.node_dir(&node.name);
        if nd.exists() {
            fs::remove_dir_all(&nd)
                .with_context(|| format!("cannot remove old `{}`", nd.display()))?;
        }
        let root = nd.join("root");
        // (kind, source, target) in mount order.
        let mut mounts: Vec<(&str, String, String)> = Vec::new();
        for d in &layout.dirs {
            let own = root.join(d.path.trim_start_matches('/'));
            fs::create_dir_all(&own)
                .with_context(|| format!("cannot create `{}`", own.display()))?;
            if let Some(seed) = &d.seed
                && Path::new(seed).is_dir()
            {
                Cmd::new("cp")
                    .args(["-a", "--", &format!("{seed}/."), &own.to_string_lossy()])
                    .run_ok()?;
            }
            mounts.push(("bind", own.display().to_string(), d.path.clone()));
        }
        for f in &layout.files {
            let own = root.join(f.path.trim_start_matches('/'));
            write_atomic(&own, f.content.trim_start().as_bytes(), 0o644)?;
            mounts.push(("bind", own.display().to_string(), f.path.clone()));
        }
        let hostname = nd.join("hostname");
        fs::write(&hostname, format!("{}\n", node.name))?;
        let shims = self.dir.join("shims");
        mounts.extend([
            (
                "bind",
                hostname.display().to_string(),
                "/etc/hostname".into(),
            ),
            (
                "bind",
                self.dir.join("hosts").display().to_string(),
                "/etc/hosts".into(),
            ),
            ("sysfs", "-".into(), "/sys".into()),
            ("tmpfs", "mode=1777".into(), "/tmp".into()),
            ("tmpfs", "mode=1777,size=256m".into(), "/dev/shm".into()),
            // halab's systemctl first on PATH (sudo's secure_path too) and over the real one.
            (
                "robind",
                shims.display().to_string(),
                "/usr/local/sbin".into(),
            ),
            (
                "robind",
                shims.join("systemctl").display().to_string(),
                "/usr/bin/systemctl".into(),
            ),
        ]);
        // A mount over an ancestor of the state directory (HALAB_HOME under /tmp or /root) would
        // hide the sources of the mounts after it: do those last.
        let state = self.dir.canonicalize().unwrap_or_else(|_| self.dir.clone());
        mounts.sort_by_key(|(_, _, target)| state.starts_with(target));
        let text: String = mounts
            .iter()
            .map(|(k, s, t)| format!("{k} {s} {t}\n"))
            .collect();
        fs::write(nd.join("mounts"), text)?;
        Ok(())
    }

    /// Start the node's PID 1 and wait until it has mounted everything.
    fn spawn_holder(&self, node: &str) -> Result<Holder> {
        let nd = self.node_dir(node);
        let _ = fs::remove_file(nd.join("root/run/halab-ready"));
        let log = nd.join("init.log");
        let unshare_pid = Cmd::new("unshare")
            .args([
                "--mount",
                "--uts",
                "--net",
                "--pid",
                "--ipc",
                "--fork",
                "--mount-proc",
                "--propagation",
                "private",
                "bash",
            ])
            .arg(self.init_script())
            .arg(node)
            .arg(nd.join("mounts"))
            .spawn_detached(&log)?;
        let started = crate::parallel::poll(HOLDER_START, Duration::from_millis(5), || {
            let child =
                fs::read_to_string(format!("/proc/{unshare_pid}/task/{unshare_pid}/children"))
                    .ok()
                    .and_then(|c| {
                        c.split_whitespace()
                            .next()
                            .and_then(|p| p.parse::<u32>().ok())
                    });
            if let Some(init_pid) = child
                && nd.join("root/run/halab-ready").exists()
                && let Some(init_start) = start_time(init_pid)
            {
                return Some(Some(Holder {
                    unshare_pid,
                    init_pid,
                    init_start,
                }));
            }
            // `unshare` gone without a child: no point waiting out the limit.
            (child.is_none() && start_time(unshare_pid).is_none()).then_some(None)
        });
        let Some(h) = started.ready().flatten() else {
            let log_text = fs::read_to_string(&log).unwrap_or_default();
            kill_and_wait(&[unshare_pid]);
            return Err(Problem::new(
                format!("node `{node}` did not start"),
                format!(
                    "its start-up log `{}` says:\n  {}",
                    log.display(),
                    log_text.trim().lines().collect::<Vec<_>>().join("\n  ")
                ),
            )
            .into());
        };
        write_atomic(
            &nd.join("holder.json"),
            serde_json::to_string(&h)?.as_bytes(),
            0o644,
        )?;
        Ok(h)
    }

    fn ensure_switch(&self) -> Result<()> {
        let ns = self.switch_ns();
        if !Path::new("/run/netns").join(&ns).exists() {
            Cmd::new("ip").args(["netns", "add", &ns]).run_ok()?;
        }
        if !Cmd::new("ip")
            .args(["-n", &ns, "link", "show", "br0"])
            .run()?
            .success()
        {
            Cmd::new("ip")
                .args(["-n", &ns, "-batch", "-"])
                .stdin("link set lo up\nlink add br0 type bridge\nlink set br0 up\n")
                .run_ok()?;
        }
        Ok(())
    }

    /// Names of the veths on the switch (one per wired node).
    fn switch_ports(&self) -> BTreeSet<String> {
        let out = Cmd::new("ip")
            .args([
                "-n",
                &self.switch_ns(),
                "-o",
                "link",
                "show",
                "master",
                "br0",
            ])
            .run();
        out.map(|o| {
            o.stdout
                .lines()
                .filter_map(|l| l.split(": ").nth(1))
                .map(|n| n.split('@').next().unwrap_or(n).to_string())
                .collect()
        })
        .unwrap_or_default()
    }

    /// Connect a node to the switch and give it its address.
    fn wire(&self, node: &NodeSpec, iface: &str, h: &Holder) -> Result<()> {
        let ns = self.switch_ns();
        // A veth left by a node that died a moment ago may still be there.
        let _ = Cmd::new("ip")
            .args(["-n", &ns, "link", "del", &node.name])
            .run();
        Cmd::new("ip")
            .args(["-n", &ns, "-batch", "-"])
            .stdin(format!(
                "link add {n} type veth peer name {iface} address {mac} netns {pid}\nlink set {n} master br0 up\n",
                n = node.name,
                mac = node_mac(&self.lab, &node.name),
                pid = h.init_pid
            ))
            .run_ok()?;
        Cmd::new("nsenter")
            .args([
                "--target",
                &h.init_pid.to_string(),
                "--net",
                "ip",
                "-batch",
                "-",
            ])
            .stdin(format!(
                "addr add {}/{} dev {iface}\nlink set {iface} up\n",
                node.address, node.prefix
            ))
            .run_ok()?;
        Ok(())
    }

    fn node_cmd(&self, node: &str, h: &Holder, argv: &[String], env: &[(&str, &str)]) -> Cmd {
        let mut c = Cmd::new("nsenter")
            .args([
                "--target",
                &h.init_pid.to_string(),
                "--mount",
                "--uts",
                "--net",
                "--pid",
                "--ipc",
                "--",
                "env",
                "-i",
            ])
            .arg(format!("PATH={NODE_PATH}"))
            .args(["HOME=/root", "USER=root", "LOGNAME=root", "LANG=C.UTF-8"])
            .arg(format!("HOSTNAME={node}"))
            .arg(format!(
                "TERM={}",
                std::env::var("TERM").unwrap_or_else(|_| "dumb".into())
            ));
        for (k, v) in env {
            c = c.arg(format!("{k}={v}"));
        }
        // From "/" so `sudo -u USER` does not complain about the caller's directory.
        c.args(argv).cwd("/")
    }

    fn running_holder(&self, node: &str) -> Result<Holder> {
        self.holder(node)
            .filter(|_| self.is_running(node))
            .ok_or_else(|| super::not_running(&self.lab, node))
    }

    /// Every step that turns a started holder into a node with its packages installed.
    fn postinst(&self, node: &NodeSpec, layout: &NodeLayout) -> Result<()> {
        let mut script = layout.common.join("\n");
        for p in &node.packages {
            for c in layout.postinst.get(p).into_iter().flatten() {
                script += "\n";
                script += c;
            }
        }
        let this: &dyn Backend = self;
        this.node(&node.name)
            .run(&format!("set -eu\n{script}"), crate::exec::DEFAULT_TIMEOUT)?
            .demand_success(format!(
                "(in node {}) {}",
                node.name,
                script.replace('\n', "; ")
            ))?;
        fs::write(self.node_dir(&node.name).join("installed"), "")?;
        Ok(())
    }

    /// Leave a running node alone, restart a stopped one, or build a new one (`fresh`, or a node
    /// whose packages were never set up).
    fn bring_up(
        &self,
        node: &NodeSpec,
        spec: &LabSpec,
        recreate: bool,
        ports: &BTreeSet<String>,
        layout: &NodeLayout,
        progress: &Progress,
    ) -> Result<NodeUp> {
        let fresh = recreate || !self.node_dir(&node.name).join("installed").exists();
        if !fresh && self.is_running(&node.name) && ports.contains(&node.name) {
            return Ok(NodeUp::Running);
        }
        progress.message(&format!("starting {}", node.name));
        self.kill_node(&node.name);
        if fresh {
            self.create_node_files(node, layout)?;
        }
        let h = self.spawn_holder(&node.name)?;
        self.wire(node, &spec.iface, &h)?;
        let how = if fresh {
            self.postinst(node, layout)?;
            NodeUp::Created
        } else {
            NodeUp::Restarted
        };
        progress.inc(&node.name);
        Ok(how)
    }

    /// Stop the node's holder (and with it every process of the node).
    fn kill_node(&self, node: &str) {
        let mut pids = Vec::new();
        if let Some(h) = self.holder(node) {
            pids.push(h.init_pid);
        }
        pids.extend(self.stray_holders(Some(node)));
        kill_and_wait(&pids);
    }

    /// Holder processes of this lab that halab did not record (e.g. halab was killed between
    /// starting one and writing `holder.json`), found by their exact command line.
    fn stray_holders(&self, node: Option<&str>) -> Vec<u32> {
        let script = self.init_script();
        let script = script.to_string_lossy();
        let mut out = Vec::new();
        for e in fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
                continue;
            };
            let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
            // PID 1 of a node is exactly `bash <script> <node> <mounts>`.
            if args.len() >= 3
                && args[0] == b"bash"
                && args[1] == script.as_bytes()
                && node.is_none_or(|n| args[2] == n.as_bytes())
            {
                out.push(pid);
            }
        }
        out
    }
}

impl Backend for Netns {
    fn host_packages(&self) -> Vec<String> {
        // unshare, nsenter, setsid (util-linux); ip (iproute2); bash.
        ["util-linux", "iproute2", "bash"]
            .map(String::from)
            .to_vec()
    }

    fn prepare(&self, _spec: &LabSpec, _assume_yes: bool) -> Result<()> {
        crate::host::require_root("the netns backend")
    }

    fn facts(&self, _spec: &LabSpec) -> Result<Facts> {
        // The nodes run the host's own programs: the lab's facts are asked in them after `up`.
        Ok(Facts::default())
    }

    fn up(
        &self,
        spec: &LabSpec,
        recreate: &BTreeSet<String>,
        progress: &Progress,
    ) -> Result<BTreeMap<String, NodeUp>> {
        crate::host::require_root("building a netns lab")?;
        let layout = layout();
        self.write_shared_files(spec)?;
        self.ensure_switch()?;
        let ports = self.switch_ports();
        super::for_each_node(&spec.nodes, |node| {
            self.bring_up(
                node,
                spec,
                recreate.contains(&node.name),
                &ports,
                &layout,
                progress,
            )
        })
    }

    fn exec(
        &self,
        node: &str,
        argv: &[String],
        stdin: Option<Vec<u8>>,
        timeout: Option<Duration>,
    ) -> Result<Output> {
        let h = self.running_holder(node)?;
        let mut c = self
            .node_cmd(node, &h, argv, &[])
            .timeout(timeout.or(Some(crate::exec::DEFAULT_TIMEOUT)));
        if let Some(bytes) = stdin {
            c = c.stdin(bytes);
        }
        Ok(c.run()?)
    }

    fn exec_attached(&self, node: &str, argv: &[String], env: &[(&str, &str)]) -> Result<i32> {
        let h = self.running_holder(node)?;
        Ok(self.node_cmd(node, &h, argv, env).run_attached()?)
    }

    fn is_running(&self, node: &str) -> bool {
        self.holder(node).is_some() && self.node_dir(node).join("root/run/halab-ready").exists()
    }

    fn crash_node(&self, node: &str) -> Result<()> {
        // SIGKILL of the node's PID 1: the kernel ends every process of the node.
        self.kill_node(node);
        Ok(())
    }

    fn purge_cache(&self) -> Result<usize> {
        Ok(0)
    }

    fn snapshot(&self, _nodes: &[String]) -> Result<bool> {
        Ok(false)
    }

    fn restore(&self, _nodes: &[String], _progress: &Progress) -> Result<Vec<String>> {
        Ok(Vec::new())
    }

    fn leftovers(&self) -> Result<Vec<String>> {
        let mut out: Vec<String> = fs::read_dir(self.dir.join("nodes"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let node = e.file_name().to_str()?.to_string();
                let h = self.holder(&node)?;
                Some(format!("node `{node}` (pid {})", h.init_pid))
            })
            .collect();
        let strays: Vec<String> = self
            .stray_holders(None)
            .into_iter()
            .filter(|pid| !out.iter().any(|o| o.contains(&format!("(pid {pid})"))))
            .map(|pid| format!("node process {pid}"))
            .collect();
        out.extend(strays);
        let ns = self.switch_ns();
        if Path::new("/run/netns").join(&ns).exists() {
            out.push(format!("network namespace `{ns}`"));
        }
        Ok(out)
    }

    fn down(&self) -> Result<()> {
        let mut pids: Vec<u32> = Vec::new();
        for e in fs::read_dir(self.dir.join("nodes"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if let Some(h) = e.file_name().to_str().and_then(|n| self.holder(n)) {
                pids.push(h.init_pid);
            }
        }
        pids.extend(self.stray_holders(None));
        pids.sort();
        pids.dedup();
        let left = kill_and_wait(&pids);
        if !left.is_empty() {
            bail!("node processes {left:?} did not exit after SIGKILL");
        }
        let ns = self.switch_ns();
        if Path::new("/run/netns").join(&ns).exists() {
            Cmd::new("ip").args(["netns", "del", &ns]).run_ok()?;
        }
        Ok(())
    }
}

/// A node's MAC address, the same every time it starts: a restarted node must be reachable at
/// once, not after its neighbours' ARP caches expire (a real machine keeps its MAC too).
fn node_mac(lab: &str, node: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in lab.bytes().chain([0]).chain(node.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    let b = h.to_be_bytes();
    // 0x02: locally administered, unicast.
    format!(
        "02:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[3], b[4], b[5], b[6], b[7]
    )
}

/// Start time (clock ticks since boot) of a live process; `None` when it is gone or a zombie.
fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if fields.first() == Some(&"Z") {
        return None;
    }
    fields.get(19)?.parse().ok()
}

/// SIGKILL each PID and wait (up to 5 s) until they are gone; returns those still alive.
fn kill_and_wait(pids: &[u32]) -> Vec<u32> {
    for &p in pids {
        // SAFETY: kill(2) on a PID this module started and re-identified; no memory involved.
        unsafe {
            libc::kill(p as i32, libc::SIGKILL);
        }
    }
    let alive = || -> Vec<u32> {
        pids.iter()
            .copied()
            .filter(|p| start_time(*p).is_some())
            .collect()
    };
    let gone = crate::parallel::poll(Duration::from_secs(5), Duration::from_millis(10), || {
        alive().is_empty().then_some(())
    });
    match gone {
        crate::parallel::Polled::Ready(..) => Vec::new(),
        crate::parallel::Polled::TimedOut => alive(),
    }
}

/// What the netns backend needs on this host (`halab doctor`): Linux, root, the kernel's
/// namespaces, veth pairs and bridges, the namespace tools, and every lab's packages (the nodes
/// run the host's own programs).
pub(crate) fn needs() -> Vec<Need> {
    let linux = cfg!(target_os = "linux");
    let mut needs = vec![Need::new(
        "Linux",
        linux,
        std::env::consts::OS,
        "use the lxd or multipass backend (`halab doctor --backend multipass`)",
    )];
    if !linux {
        return needs;
    }
    needs.push(Need::root());
    let ns = ["net", "pid", "mnt", "uts", "ipc"];
    let missing_ns: Vec<&str> = ns
        .iter()
        .copied()
        .filter(|n| !Path::new(&format!("/proc/self/ns/{n}")).exists())
        .collect();
    needs.push(Need::none_missing(
        "kernel namespaces (net, pid, mount, uts, ipc)",
        &missing_ns,
        "all present",
        "use a kernel built with namespaces (every distribution kernel is), or the lxd backend",
    ));
    let have = |program: &str| which::which(program).is_ok();
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
        needs.push(Need::new(
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
    needs.push(Need::none_missing(
        "`unshare`, `nsenter`, `ip`",
        &tools,
        "installed",
        "sudo apt-get install util-linux iproute2",
    ));
    // The netns backend runs the host's own daemons: every lab's packages.
    let wanted: BTreeSet<String> = crate::content::Catalog::load()
        .map(|c| c.labs().flat_map(|l| l.all_packages()).collect())
        .unwrap_or_default();
    let count = wanted.len();
    needs.push(Need::packages(
        &format!("the labs' packages on the host ({count} named by the lab files)"),
        &wanted,
    ));
    needs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_asset_parses_and_mounts_absolute_paths() {
        let l = layout();
        assert!(l.dirs.iter().all(|d| d.path.starts_with('/')));
        assert!(l.dirs.iter().any(|d| d.path == "/run"));
        assert!(l.postinst.contains_key("postgresql"));
    }

    #[test]
    fn macs_are_stable_local_and_distinct() {
        assert_eq!(node_mac("a", "lb-01"), node_mac("a", "lb-01"));
        assert_ne!(node_mac("a", "lb-01"), node_mac("a", "lb-02"));
        assert_ne!(node_mac("a", "lb-01"), node_mac("b", "lb-01"));
        assert!(node_mac("a", "x").starts_with("02:"));
    }

    #[test]
    fn start_time_of_self_and_of_nothing() {
        assert!(start_time(std::process::id()).is_some());
        assert!(start_time(u32::MAX - 1).is_none());
    }
}
