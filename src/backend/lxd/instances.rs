//! The lxd backend's nodes: the lab's project and bridge, containers launched from the base
//! image and set up for their role, waiting for their systemd, starting, snapshotting,
//! restoring and removing them.
//!
//! Must not: touch an instance, project or network that is not this lab's (every command names
//! the lab's project, and the bridge carries halab's mark for the lab).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{Result, bail};

use super::image::recipe;
use super::{Lxd, NODE_MEMORY_MIB, START_SNAPSHOT, lxc, run_lxd_ok};
use crate::backend::{Backend, LabSpec, NodeSpec, NodeUp};
use crate::parallel::{self, Polled};
use crate::ui::{self, Problem, Progress};

impl Lxd {
    pub(super) fn instance(&self, node: &str) -> Result<Option<serde_json::Value>> {
        self.q(&format!("/1.0/instances/{node}?project={}", self.project()))
    }

    pub(super) fn status(&self, node: &str) -> Option<String> {
        self.instance(node)
            .ok()
            .flatten()
            .and_then(|v| v["status"].as_str().map(String::from))
    }

    /// The storage pool halab's containers use: the default profile's, else the first one.
    pub(super) fn pool(&self) -> Result<String> {
        if let Some(p) = self.q("/1.0/profiles/default")?
            && let Some(pool) = p["devices"]["root"]["pool"].as_str()
        {
            return Ok(pool.to_string());
        }
        let pools = self.q("/1.0/storage-pools")?.unwrap_or_default();
        pools
            .as_array()
            .and_then(|a| a.first())
            .and_then(|u| u.as_str())
            .and_then(|u| u.rsplit('/').next())
            .map(String::from)
            .ok_or_else(|| {
                Problem::new(
                    "LXD has no storage pool",
                    "run `lxd init` (or let `halab start --backend lxd --yes` do it)",
                )
                .into()
            })
    }

    fn ensure_project_and_network(&self) -> Result<()> {
        if self
            .q(&format!("/1.0/projects/{}", self.project()))?
            .is_none()
        {
            lxc()
                .args(["project", "create", &self.on(&self.project())])
                .args([
                    "-c",
                    "features.images=false",
                    "-c",
                    "features.profiles=true",
                    "-c",
                    "features.storage.volumes=false",
                ])
                .run_ok()?;
        }
        if self
            .q(&format!("/1.0/networks/{}", self.network()))?
            .is_none()
        {
            lxc()
                .args(["network", "create", &self.on(&self.network())])
                .args([
                    "ipv4.address=none",
                    "ipv6.address=none",
                    "ipv4.nat=false",
                    "ipv6.nat=false",
                    "ipv4.routing=false",
                    "ipv6.routing=false",
                    "dns.mode=none",
                ])
                .arg(format!("user.halab.lab={}", self.lab))
                .run_ok()?;
        }
        Ok(())
    }

    /// Wait until systemd in the node has finished booting. A boot that hangs (seen once after
    /// a snapshot restore: a job that never finished) gets one forced restart.
    fn wait_running(&self, node: &str) -> Result<()> {
        for attempt in 0..2 {
            let mut state = String::new();
            let booted =
                parallel::poll(Duration::from_secs(90), Duration::from_millis(300), || {
                    // Polled without `--wait`: that blocks for as long as any job hangs.
                    let out = self
                        .in_project(lxc().args(["exec", &self.on(node)]))
                        .args(["--", "systemctl", "is-system-running"])
                        .timeout(Some(Duration::from_secs(15)))
                        .run();
                    state = out.map(|o| o.stdout.trim().to_string()).unwrap_or_default();
                    (state == "running" || state == "degraded").then_some(())
                });
            if let Polled::Ready(..) = booted {
                return Ok(());
            }
            if attempt == 0 {
                ui::warn(format!(
                    "node `{node}` is still booting after 90 s (systemd says `{state}`); restarting it once"
                ));
                run_lxd_ok(
                    &self
                        .in_project(lxc().args(["restart", "--force", &self.on(node)]))
                        .timeout(Some(Duration::from_secs(120))),
                    &format!("restarting node `{node}`"),
                    || {},
                )?;
            }
        }
        let jobs = self
            .in_project(lxc().args(["exec", &self.on(node)]))
            .args(["--", "systemctl", "list-jobs", "--no-pager"])
            .timeout(Some(Duration::from_secs(15)))
            .run()
            .map(|o| o.stdout)
            .unwrap_or_default();
        bail!(
            "node `{node}` did not finish booting; systemd's pending jobs:\n{}",
            jobs.trim()
        )
    }

    /// A new node: launch, wait for systemd, undo what its role lacks, the lab's hosts file.
    fn create(&self, node: &NodeSpec, spec: &LabSpec, alias: &str, pool: &str) -> Result<()> {
        let delete = self.in_project(lxc().args(["delete", "--force", &self.on(&node.name)]));
        if self.instance(&node.name)?.is_some() {
            run_lxd_ok(&delete, &format!("deleting node `{}`", node.name), || {})?;
        }
        let launch = self
            .in_project(lxc().args(["launch", &self.on(alias), &self.on(&node.name)]))
            .args(["--storage", pool, "--network", &self.network()])
            .arg("--config")
            .arg(format!("user.halab.ipv4={}/{}", node.address, node.prefix))
            .arg("--config")
            .arg(format!("limits.memory={NODE_MEMORY_MIB}MiB"))
            .timeout(Some(Duration::from_secs(300)));
        // A launch that failed after it created the instance would meet it the next time.
        run_lxd_ok(&launch, &format!("launching node `{}`", node.name), || {
            let _ = delete.run();
        })?;
        self.wait_running(&node.name)?;
        let r = recipe();
        let mut script = String::from("set -ex\n");
        for (pkg, cmds) in &r.absent {
            if !node.packages.contains(pkg) {
                for c in cmds {
                    script += c;
                    script += "\n";
                }
            }
        }
        script += "cat > /etc/hosts\n";
        let backend: &dyn Backend = self;
        backend.node(&node.name).run_ok_with_input(
            &script,
            Some(spec.hosts_file.clone().into_bytes()),
            crate::backend::node::SCRIPT_TIMEOUT,
        )?;
        Ok(())
    }

    fn bring_up(
        &self,
        node: &NodeSpec,
        spec: &LabSpec,
        recreate: bool,
        alias: &str,
        pool: &str,
        progress: &Progress,
    ) -> Result<NodeUp> {
        let status = self.status(&node.name);
        let how = match (recreate, status.as_deref()) {
            (false, Some("Running")) => return Ok(NodeUp::Running),
            (false, Some(_)) => {
                progress.message(&format!("starting {}", node.name));
                run_lxd_ok(
                    &self.in_project(lxc().args(["start", &self.on(&node.name)])),
                    &format!("starting node `{}`", node.name),
                    || {},
                )?;
                self.wait_running(&node.name)?;
                NodeUp::Restarted
            }
            _ => {
                progress.message(&format!("launching {}", node.name));
                self.create(node, spec, alias, pool)?;
                NodeUp::Created
            }
        };
        progress.inc(&node.name);
        Ok(how)
    }

    /// Every node up (see `Backend::up`).
    pub(super) fn up_all(
        &self,
        spec: &LabSpec,
        recreate: &BTreeSet<String>,
        progress: &Progress,
    ) -> Result<BTreeMap<String, NodeUp>> {
        // The image and the pool only when a node is made: a trainee of a class, whose
        // certificate reaches the lab's project and nothing else, can start a lab that is built.
        let creates = spec.nodes.iter().any(|n| recreate.contains(&n.name))
            || spec.nodes.iter().any(|n| self.status(&n.name).is_none());
        let (alias, pool) = if creates {
            (self.ensure_image(spec)?, self.pool()?)
        } else {
            Default::default()
        };
        if creates {
            self.ensure_project_and_network()?;
        }
        crate::backend::for_each_node(&spec.nodes, |node| {
            self.bring_up(
                node,
                spec,
                recreate.contains(&node.name),
                &alias,
                &pool,
                progress,
            )
        })
    }

    /// A snapshot of every node in `nodes`, replacing the one before.
    pub(super) fn snapshot_all(&self, nodes: &[String]) -> Result<()> {
        let taken = parallel::each(nodes, |n| -> Result<()> {
            let snap = self.on(&format!("{n}/{START_SNAPSHOT}"));
            let _ = self.in_project(lxc().args(["delete", &snap])).run();
            run_lxd_ok(
                &self
                    .in_project(lxc().args(["snapshot", &self.on(n), START_SNAPSHOT]))
                    .timeout(Some(Duration::from_secs(300))),
                &format!("taking the snapshot of node `{n}`"),
                || {},
            )?;
            Ok(())
        });
        taken.into_iter().collect()
    }

    /// Every node in `nodes` back to its snapshot; the nodes restored (the others have none).
    pub(super) fn restore_all(&self, nodes: &[String], progress: &Progress) -> Result<Vec<String>> {
        let restored = parallel::each(nodes, |n| -> Result<Option<String>> {
            let has = self
                .q(&format!(
                    "/1.0/instances/{n}/snapshots/{START_SNAPSHOT}?project={}",
                    self.project()
                ))?
                .is_some();
            if !has {
                return Ok(None);
            }
            progress.message(&format!("restoring {n}"));
            run_lxd_ok(
                &self
                    .in_project(lxc().args(["restore", &self.on(n), START_SNAPSHOT]))
                    .timeout(Some(Duration::from_secs(300))),
                &format!("restoring node `{n}`"),
                || {},
            )?;
            if self.status(n).as_deref() != Some("Running") {
                run_lxd_ok(
                    &self.in_project(lxc().args(["start", &self.on(n)])),
                    &format!("starting node `{n}`"),
                    || {},
                )?;
            }
            self.wait_running(n)?;
            progress.inc(n);
            Ok(Some(n.clone()))
        });
        let mut out = Vec::new();
        for r in restored {
            if let Some(n) = r? {
                out.push(n);
            }
        }
        Ok(out)
    }

    /// What of the lab exists in LXD, one item a line (see `Backend::leftovers`).
    pub(super) fn leftovers_list(&self) -> Result<Vec<String>> {
        let project = self.project();
        let mut out = Vec::new();
        if self.q(&format!("/1.0/projects/{project}"))?.is_some() {
            let instances = self
                .q(&format!("/1.0/instances?project={project}"))?
                .and_then(|l| l.as_array().map(Vec::len))
                .unwrap_or(0);
            out.push(format!(
                "LXD project `{project}` with {instances} container(s)"
            ));
        }
        // The bridge's name is a hash of the lab's: it counts only with halab's mark for this lab.
        if let Some(net) = self.q(&format!("/1.0/networks/{}", self.network()))?
            && net["config"]["user.halab.lab"].as_str() == Some(self.lab.as_str())
        {
            out.push(format!("LXD network `{}`", self.network()));
        }
        Ok(out)
    }

    /// Remove the lab's instances, project and bridge.
    pub(super) fn remove_all(&self) -> Result<()> {
        let project = self.project();
        if let Some(list) = self.q(&format!("/1.0/instances?project={project}"))? {
            for url in list
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|u| u.as_str())
            {
                let name = url
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .split('?')
                    .next()
                    .unwrap_or_default();
                run_lxd_ok(
                    &self
                        .in_project(lxc().args(["delete", "--force", &self.on(name)]))
                        .timeout(Some(Duration::from_secs(300))),
                    &format!("deleting node `{name}`"),
                    || {},
                )?;
            }
        }
        if let Some(p) = self.q(&format!("/1.0/projects/{project}"))? {
            self.empty_class_project(&project, &p)?;
            lxc()
                .args(["project", "delete", &self.on(&project)])
                .run_ok()?;
        }
        if self
            .q(&format!("/1.0/networks/{}", self.network()))?
            .is_some()
        {
            lxc()
                .args(["network", "delete", &self.on(&self.network())])
                .run_ok()?;
        }
        Ok(())
    }
}
