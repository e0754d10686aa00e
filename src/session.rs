//! An open lab: the handle every command past `start` works through (its directory, record,
//! lab file as the backend realised it, and backend), and the localisation that makes the lab
//! file match the live network. Grading, drills and solutions use this handle; only
//! `lifecycle` builds, restarts and destroys labs.
//!
//! Must not: build, restart or destroy a lab (`lifecycle` does), print, or know any node by name.

use std::collections::BTreeMap;

use anyhow::Result;

use crate::backend::{self, Backend};
use crate::content::Lab;
use crate::content::lab::is_host_in;
use crate::content::template::{Context, Facts};
use crate::state::{self, LabDir, LabName, LabRecord};
use crate::ui::Problem;

/// An existing lab, ready to be used.
pub(crate) struct OpenLab {
    pub dir: LabDir,
    pub record: LabRecord,
    pub lab: Lab,
    pub backend: Box<dyn Backend>,
}

impl OpenLab {
    /// Open the lab named `--lab`, or the only one there is.
    pub(crate) fn open(explicit: Option<&LabName>) -> Result<OpenLab> {
        let dir = state::resolve_lab(&state::home(), explicit)?;
        let record = dir.load()?;
        let mut lab = dir.load_lab()?;
        let backend = backend::open(record.backend, &dir, backend::Place::of(&record))?;
        let live = backend.live_addresses()?;
        localise(&mut lab, &record.facts, live.as_ref());
        Ok(OpenLab {
            dir,
            record,
            lab,
            backend,
        })
    }

    /// The node `name`, or an error with a did-you-mean.
    pub(crate) fn node(&self, name: &str) -> Result<&crate::content::lab::Node> {
        self.lab.node(name).ok_or_else(|| {
            Problem::new(
                format!("lab `{}` has no node `{name}`", self.dir.name),
                self.lab.unknown_node_help(name),
            )
            .into()
        })
    }

    pub(crate) fn template_context(&self) -> Result<Context> {
        let secrets = self.dir.secrets(&self.lab.secrets)?;
        Ok(Context::new(
            &self.lab,
            &self.dir.name,
            &self.record.facts,
            &secrets,
        ))
    }
}

/// The lab as its backend made it. Where the backend and not the lab file decides the network
/// (multipass), its interface, subnet and floating IP, and each node's address now (a node that
/// is down: where it was last seen).
pub(crate) fn localise(
    lab: &mut Lab,
    facts: &Facts,
    live: Option<&BTreeMap<String, Vec<std::net::Ipv4Addr>>>,
) {
    let Some(net) = &facts.network else {
        return;
    };
    lab.iface = net.iface.clone();
    lab.subnet = net.subnet.clone();
    if lab.vip.is_some() {
        lab.vip = Some(net.vip.clone());
    }
    let vip = net.vip.parse().ok();
    let (subnet, prefix) = lab.network();
    for n in &mut lab.nodes {
        let now = live
            .and_then(|l| l.get(&n.name))
            .and_then(|a| {
                a.iter()
                    .find(|a| Some(**a) != vip && is_host_in(**a, subnet, prefix))
            })
            .map(|a| a.to_string());
        n.address = now
            .or_else(|| net.last_seen.get(&n.name).cloned())
            .unwrap_or_else(|| "0.0.0.0".into());
    }
}
