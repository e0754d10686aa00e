//! Backends realise a lab's nodes: they create them, run commands in them and remove them.
//! What a node *is* (name, address, role, packages) comes from the lab file; a backend only
//! decides *how* it exists (namespaces here; containers and VMs are other backends).
//!
//! Must not: know any lesson, step or node by name, or provision a role (that is `provision`).

pub(crate) mod choice;
#[cfg(test)]
pub(crate) mod fake;
pub(crate) mod lxd;
pub(crate) mod multipass;
pub(crate) mod need;
#[cfg(netns)]
pub(crate) mod netns;
pub(crate) mod node;

pub(crate) use need::{Daemon, Need};
pub(crate) use node::NodeHandle;

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::time::Duration;

use anyhow::Result;

use crate::content::template::Facts;
use crate::exec::Output;
use crate::state::{LabDir, LabName};
use crate::ui::Progress;

// The kind is defined with the lab's record (which keeps it for the lab's whole life), so the
// store below this module need not import it.
pub(crate) use crate::state::BackendKind;

/// One node as a backend needs to know it.
#[derive(Clone, Debug)]
pub(crate) struct NodeSpec {
    pub name: String,
    pub address: Ipv4Addr,
    pub prefix: u8,
    /// Debian packages that must be installed (and set up) in the node.
    pub packages: Vec<String>,
}

/// The whole lab as a backend needs to know it.
pub(crate) struct LabSpec {
    pub nodes: Vec<NodeSpec>,
    /// Name of the lab interface inside every node (the netns backend makes it; the others
    /// learn theirs from the node).
    #[cfg_attr(not(netns), allow(dead_code))]
    pub iface: String,
    /// Contents of every node's /etc/hosts.
    pub hosts_file: String,
    /// Every Debian package any node needs (what a backend that builds images puts in them).
    pub packages: Vec<String>,
}

/// What `up` did to a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NodeUp {
    /// Created from nothing: it needs its one-time provisioning.
    Created,
    /// It existed but was not running (crash, host reboot): its services need starting.
    Restarted,
    /// Already running: nothing was touched.
    Running,
}

pub(crate) trait Backend: Sync {
    /// Debian packages the host needs for this backend itself, besides the lab's.
    fn host_packages(&self) -> Vec<String>;

    /// Make the host ready beyond packages: start a daemon, initialise it (after a yes, or at
    /// once with `assume_yes`). Touches nothing the user already has.
    fn prepare(&self, spec: &LabSpec, assume_yes: bool) -> Result<()>;

    /// Facts the backend knows before `up` (and the moment to build what the nodes are made
    /// from); the lab's own `[facts]` are asked in the running nodes afterwards, by `start`.
    fn facts(&self, spec: &LabSpec) -> Result<Facts>;

    /// Facts only running nodes can tell about the backend's network (a VM's interface,
    /// subnet), asked after `up`; `known` are the lab's facts so far (a floating IP once picked
    /// stays, the lab's own facts are kept).
    /// `None`: `facts` knew everything.
    fn discover(&self, _spec: &LabSpec, _known: &Facts) -> Result<Option<Facts>> {
        Ok(None)
    }

    /// Every IPv4 address each running node has now, where the backend and not the lab file
    /// gives addresses (DHCP). Asked at every use, never kept. `None`: the lab file's.
    fn live_addresses(&self) -> Result<Option<BTreeMap<String, Vec<Ipv4Addr>>>> {
        Ok(None)
    }

    /// Bring every node up. Nodes named in `recreate` are built anew from nothing; the others
    /// are left alone when running and restarted when not. Idempotent.
    fn up(
        &self,
        spec: &LabSpec,
        recreate: &BTreeSet<String>,
        progress: &Progress,
    ) -> Result<BTreeMap<String, NodeUp>>;

    /// Run `argv` in `node` as root with output captured; a non-zero exit is data.
    fn exec(
        &self,
        node: &str,
        argv: &[String],
        stdin: Option<Vec<u8>>,
        timeout: Option<Duration>,
    ) -> Result<Output>;

    /// Run `argv` in `node` attached to this terminal; returns its exit code.
    fn exec_attached(&self, node: &str, argv: &[String], env: &[(&str, &str)]) -> Result<i32>;

    /// Whether `node` exists and is running.
    fn is_running(&self, node: &str) -> bool;

    /// Stop a node at once, as a power cut would (`halab start` brings it back).
    fn crash_node(&self, node: &str) -> Result<()>;

    /// Record the nodes' current state for a fast `reset`; false when the backend cannot.
    fn snapshot(&self, nodes: &[String]) -> Result<bool>;

    /// Put nodes back to their snapshot; returns the nodes it restored (the others need a
    /// rebuild).
    fn restore(&self, nodes: &[String], progress: &Progress) -> Result<Vec<String>>;

    /// What of this lab exists on this backend now, one item a line (`namespace halab-x-sw`,
    /// `container NODE`): what `down` would remove. Looked up by the names halab derives from
    /// the lab's name, never by asking the lab's record; empty when the backend is absent.
    fn leftovers(&self) -> Result<Vec<String>>;

    /// Remove every trace of the lab this backend created (processes, networks, mounts).
    fn down(&self) -> Result<()>;

    /// Remove what the backend caches across labs (base images); returns how many items.
    fn purge_cache(&self) -> Result<usize>;
}

/// The error for a command sent to a node that is not running, with the way back.
pub(crate) fn not_running(lab: &str, node: &str) -> anyhow::Error {
    crate::ui::Problem::new(
        format!("node `{node}` of lab `{lab}` is not running"),
        format!("`halab start --lab {lab}` brings it back"),
    )
    .into()
}

/// Run `f` for every node at once. Returns the results by node name, or the first failure,
/// naming its node.
pub(crate) fn for_each_node<T: Send>(
    nodes: &[NodeSpec],
    f: impl Fn(&NodeSpec) -> Result<T> + Sync,
) -> Result<BTreeMap<String, T>> {
    let results = crate::parallel::each(nodes, |node| (node.name.clone(), f(node)));
    let mut out = BTreeMap::new();
    for (name, r) in results {
        out.insert(
            name.clone(),
            r.map_err(|e| e.context(format!("starting node `{name}`")))?,
        );
    }
    Ok(out)
}

/// Where an lxd lab lives: the `lxc remote` (none: the local daemon) and the lab's name there
/// when it is not the local one (a class lab a trainee joined under the lesson's name).
#[derive(Clone, Debug, Default)]
pub(crate) struct Place {
    pub remote: Option<String>,
    pub lxd_name: Option<LabName>,
}

impl Place {
    /// On `remote` (or the local daemon), under the lab's own name.
    pub(crate) fn on(remote: Option<String>) -> Place {
        Place {
            remote,
            lxd_name: None,
        }
    }

    /// Where the lab of `record` lives.
    pub(crate) fn of(record: &crate::state::LabRecord) -> Place {
        Place {
            remote: record.remote.clone(),
            lxd_name: record.seat.as_ref().map(|s| s.lxd_name.clone()),
        }
    }
}

/// The backend of an existing or new lab; `place` puts an lxd lab on an `lxc remote`. A
/// backend this build lacks (a netns lab made by another build) is the error that says so.
pub(crate) fn open(kind: BackendKind, dir: &LabDir, place: Place) -> Result<Box<dyn Backend>> {
    Ok(match kind {
        #[cfg(netns)]
        BackendKind::Netns => Box::new(netns::Netns::new(dir)),
        #[cfg(not(netns))]
        BackendKind::Netns => return Err(not_built(kind, None)),
        BackendKind::Lxd => Box::new(lxd::Lxd::new(dir, place)),
        BackendKind::Multipass => Box::new(multipass::Multipass::new(dir)),
    })
}

/// The error for a backend this build of halab does not have (netns without the `netns`
/// feature, or not on Linux); `chosen_by` says who asked for it (`--backend netns`).
pub(crate) fn not_built(kind: BackendKind, chosen_by: Option<&str>) -> anyhow::Error {
    let others: Vec<String> = BackendKind::built()
        .iter()
        .map(|k| format!("`--backend {k}`"))
        .collect();
    crate::ui::Problem::new(
        match chosen_by {
            Some(by) => format!("this build of halab has no {kind} backend (asked for by {by})"),
            None => format!("this build of halab has no {kind} backend"),
        },
        format!(
            "it needs Linux and a build with the `{kind}` feature (on by default); here use {}",
            others.join(" or ")
        ),
    )
    .into()
}

/// What backend `kind` needs on this host, each with whether it is there and the command that
/// fixes it (`halab doctor`). Asks the host, not a lab: no lab need exist. A backend this
/// build lacks needs another build.
pub(crate) fn needs(kind: BackendKind) -> Vec<Need> {
    match kind {
        #[cfg(netns)]
        BackendKind::Netns => netns::needs(),
        #[cfg(not(netns))]
        BackendKind::Netns => vec![Need::new(
            "a build of halab with the netns backend (Linux, feature `netns`)",
            false,
            "this build has none",
            "use the lxd or multipass backend (`halab doctor --backend multipass`)",
        )],
        BackendKind::Lxd => lxd::needs(),
        BackendKind::Multipass => multipass::needs(),
    }
}

/// Whether backend `kind`'s daemon answers; `None` for a backend that has no daemon.
pub(crate) fn daemon(kind: BackendKind) -> Option<Daemon> {
    match kind {
        BackendKind::Netns => None,
        BackendKind::Lxd => Some(lxd::daemon()),
        BackendKind::Multipass => Some(multipass::daemon()),
    }
}
