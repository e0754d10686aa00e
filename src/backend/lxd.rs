//! The lxd backend: one LXD container per node (real systemd inside) from a base image that has
//! every package of the lab already installed, built once with debootstrap from the host's own
//! release and mirror and cached in LXD (`assets/lxd/image.toml`). Each lab lives in its own LXD
//! project `halab-<lab>`; its switch is a halab-made bridge with no host address, no NAT, no DHCP
//! and no DNS; addresses are static, set through the image's systemd-networkd template. `incus`
//! is used the same way when it is the client installed.
//!
//! Must not: change anything of the user's LXD (default profile, pools, networks, instances). It
//! creates only its project, its bridge and its image, and initialises LXD only when nothing is
//! there yet, after a yes.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde::Deserialize;

use super::{Backend, BackendKind, LabSpec, NodeSpec, NodeUp};
use crate::content::template::Facts;
use crate::exec::{Cmd, ExecError, Output};
use crate::state::LabDir;
use crate::ui::{self, Problem, Progress};

const IMAGE_TOML: &str = include_str!("../../assets/lxd/image.toml");
/// The snapshot `reset` goes back to.
const START_SNAPSHOT: &str = "halab-start";

/// `assets/lxd/image.toml`.
#[derive(Deserialize)]
struct ImageRecipe {
    base: Vec<String>,
    customize: Vec<String>,
    templates: BTreeMap<String, String>,
    absent: BTreeMap<String, Vec<String>>,
}

fn recipe() -> ImageRecipe {
    toml::from_str(IMAGE_TOML).expect("assets/lxd/image.toml is valid (checked by a unit test)")
}

pub struct Lxd {
    lab: String,
    home: PathBuf,
    /// An `lxc remote` (an LXD server or cluster) to place the lab on; `None`: the local daemon.
    remote: Option<String>,
}

/// The LXD client: `lxc`, or `incus` where that is what is installed (`HALAB_LXD_CLIENT` names
/// another).
fn client() -> String {
    super::choice::lxd_client()
}

fn lxc() -> Cmd {
    Cmd::new(client())
}

/// How many times in all an LXD command that fails transiently is run, and the wait before the
/// second run (doubled before each next): a few seconds, the time LXD's helpers take to settle.
const LXD_ATTEMPTS: u32 = 3;
const LXD_BACKOFF: Duration = Duration::from_millis(700);

/// The line of `stderr` that is one of LXD's known transient errors under concurrent
/// operations, `None` for any other failure (which must fail at once, as it is). Each is a
/// request LXD refused or could not begin, so running it again is safe:
/// - `.../forkfile.sock: connect: no such file or directory`, `... connection reset by peer`,
///   `error receiving version packet`: the per-instance file helper (forkfile) exits after 10 s
///   idle or is not up yet after a create or copy, and a file or exec request that meets it in
///   that moment fails (canonical/lxd#18403; seen here with 8 instances created at once);
/// - `Failed to retrieve PID of executing child process`: `lxc exec` could not start the
///   command in the instance (canonical/lxd#8577, #12084);
/// - `Instance is busy running a "start" operation` (or stop, restart...): the instance's
///   operation lock is held by another request (canonical/lxd#10083, PR #11007).
///
/// Not here: websocket errors of a running `lxc exec` (`close 1006 (abnormal closure)`), after
/// which the command may have run; running it again would not be safe.
fn transient_lxd_error(stderr: &str) -> Option<String> {
    const MARKERS: [&str; 3] = [
        "forkfile.sock",
        "Failed to retrieve PID of executing child process",
        "Instance is busy running a",
    ];
    stderr
        .lines()
        .map(str::trim)
        .find(|line| MARKERS.iter().any(|m| line.contains(m)))
        .map(String::from)
}

/// Run an LXD client command, again (up to [`LXD_ATTEMPTS`]) when it fails with a transient
/// LXD error, which is named in a warning; `tidy` removes what a failed attempt left before the
/// next. A non-zero exit is data, as [`Cmd::run`].
fn run_lxd(c: &Cmd, what: &str, tidy: impl Fn()) -> Result<Output, ExecError> {
    c.run_retrying(
        LXD_ATTEMPTS,
        LXD_BACKOFF,
        |out| transient_lxd_error(&out.stderr),
        |attempt, cause| {
            warn_retry(what, attempt, cause);
            tidy();
        },
    )
}

/// [`run_lxd`] that demands exit status 0, as [`Cmd::run_ok`].
fn run_lxd_ok(c: &Cmd, what: &str, tidy: impl Fn()) -> Result<Output, ExecError> {
    c.run_ok_retrying(
        LXD_ATTEMPTS,
        LXD_BACKOFF,
        |out| transient_lxd_error(&out.stderr),
        |attempt, cause| {
            warn_retry(what, attempt, cause);
            tidy();
        },
    )
}

fn warn_retry(what: &str, attempt: u32, cause: &str) {
    ui::warn(format!(
        "{what}: LXD failed transiently (`{cause}`); trying again ({} of {LXD_ATTEMPTS})",
        attempt + 1
    ));
}

/// `lxc query PATH` as JSON; `None` when the object does not exist.
fn query(path: &str) -> Result<Option<serde_json::Value>> {
    let out = lxc()
        .args(["query", path])
        .timeout(Some(Duration::from_secs(30)))
        .run()?;
    if out.success() {
        return Ok(Some(serde_json::from_str(&out.stdout).with_context(
            || format!("`{} query {path}` printed no JSON", client()),
        )?));
    }
    if out.stderr.contains("not found") || out.stderr.contains("Not Found") {
        return Ok(None);
    }
    bail!("`{} query {path}` failed: {}", client(), out.stderr.trim())
}

/// A short, stable tag for a string (FNV-1a), for names LXD limits in length.
fn tag(s: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    format!("{:08x}", h as u32)
}

impl Lxd {
    pub fn new(lab: &LabDir, remote: Option<String>) -> Lxd {
        let home = lab
            .path
            .parent()
            .and_then(|p| p.parent())
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Lxd {
            lab: lab.name.to_string(),
            home,
            remote,
        }
    }

    /// `NAME` on the local daemon, `REMOTE:NAME` on a remote one.
    fn on(&self, name: &str) -> String {
        match &self.remote {
            Some(r) => format!("{r}:{name}"),
            None => name.to_string(),
        }
    }

    /// A query of the target daemon.
    fn q(&self, path: &str) -> Result<Option<serde_json::Value>> {
        query(&self.on(path))
    }

    pub fn project(&self) -> String {
        format!("halab-{}", self.lab)
    }

    /// The lab's bridge (in LXD's default project; bridge names have at most 15 characters).
    pub fn network(&self) -> String {
        format!("halab{}", tag(&self.lab))
    }

    fn in_project(&self, c: Cmd) -> Cmd {
        c.args(["--project", &self.project()])
    }

    fn instance(&self, node: &str) -> Result<Option<serde_json::Value>> {
        self.q(&format!("/1.0/instances/{node}?project={}", self.project()))
    }

    fn status(&self, node: &str) -> Option<String> {
        self.instance(node)
            .ok()
            .flatten()
            .and_then(|v| v["status"].as_str().map(String::from))
    }

    /// The storage pool halab's containers use: the default profile's, else the first one.
    fn pool(&self) -> Result<String> {
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

    /// The image alias for this lab's packages on this host's release.
    fn image_alias(&self, spec: &LabSpec) -> Result<(String, HostRelease)> {
        let rel = HostRelease::read()?;
        let r = recipe();
        let mut packages: BTreeSet<&str> = r.base.iter().map(String::as_str).collect();
        packages.extend(spec.packages.iter().map(String::as_str));
        let fingerprint = format!(
            "{IMAGE_TOML}\n{:?}\n{}\n{}\n{}",
            packages, rel.id, rel.codename, rel.mirror
        );
        Ok((
            format!("halab-{}-{}-{}", rel.id, rel.codename, tag(&fingerprint)),
            rel,
        ))
    }

    /// The cached base image, built first when missing. Returns its alias.
    fn ensure_image(&self, spec: &LabSpec) -> Result<String> {
        let (alias, rel) = self.image_alias(spec)?;
        if self.q(&format!("/1.0/images/aliases/{alias}"))?.is_none() {
            self.build_image(spec, &alias, &rel)?;
        }
        Ok(alias)
    }

    fn build_image(&self, spec: &LabSpec, alias: &str, rel: &HostRelease) -> Result<()> {
        let r = recipe();
        let t0 = Instant::now();
        let work = self.home.join("cache").join(format!("build-{alias}"));
        let debs = self.home.join("cache").join("debootstrap");
        if work.exists() {
            fs::remove_dir_all(&work)?;
        }
        fs::create_dir_all(&work)?;
        fs::create_dir_all(&debs)?;
        let rootfs = work.join("rootfs");
        let mut packages: BTreeSet<String> = r.base.iter().cloned().collect();
        packages.extend(spec.packages.iter().cloned());
        let progress = Progress::new("base image", 3);
        progress.message(&format!(
            "debootstrap {} from {} (about a minute, once)",
            rel.codename, rel.mirror
        ));
        Cmd::new("debootstrap")
            .arg("--variant=minbase")
            .arg(format!(
                "--include={}",
                packages.into_iter().collect::<Vec<_>>().join(",")
            ))
            .arg(format!("--cache-dir={}", debs.display()))
            .arg(&rel.codename)
            .arg(&rootfs)
            .arg(&rel.mirror)
            .timeout(Some(Duration::from_secs(1800)))
            .run_ok()
            .context("building the lab's base image with debootstrap")?;
        progress.inc("debootstrap");
        for c in &r.customize {
            Cmd::new("chroot")
                .arg(&rootfs)
                .args(["sh", "-c", c])
                .run_ok()?;
        }
        fs::create_dir_all(work.join("templates"))?;
        let mut meta = format!(
            "architecture: {}\ncreation_date: {}\nproperties:\n  description: halab lab image ({} {})\n  os: {}\n  release: {}\ntemplates:\n",
            rel.arch,
            crate::state::now_unix(),
            rel.id,
            rel.codename,
            rel.id,
            rel.codename
        );
        for (i, (path, text)) in r.templates.iter().enumerate() {
            let name = format!("t{i}.tpl");
            fs::write(work.join("templates").join(&name), text)?;
            meta += &format!("  {path}:\n    when: [create, copy, start]\n    template: {name}\n");
        }
        fs::write(work.join("metadata.yaml"), meta)?;
        progress.inc("customize");
        progress.message("packing and importing");
        let tar = work.join("image.tar");
        Cmd::new("tar")
            .args(["--numeric-owner", "--xattrs", "--xattrs-include=*", "-C"])
            .arg(&work)
            .arg("-cf")
            .arg(&tar)
            .args(["metadata.yaml", "templates", "rootfs"])
            .timeout(Some(Duration::from_secs(600)))
            .run_ok()?;
        lxc()
            .args(["image", "import"])
            .arg(&tar)
            .args(self.remote.as_ref().map(|r| format!("{r}:")))
            .args(["--alias", alias])
            .timeout(Some(Duration::from_secs(600)))
            .run_ok()?;
        progress.inc("import");
        fs::remove_dir_all(&work)?;
        progress.finish(&format!(
            "`{alias}` built in {:.0} s (cached for later labs)",
            t0.elapsed().as_secs_f32()
        ));
        Ok(())
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
            let deadline = Instant::now() + Duration::from_secs(90);
            let mut state = String::new();
            while Instant::now() < deadline {
                // Polled without `--wait`: that blocks for as long as any job hangs.
                let out = self
                    .in_project(lxc().args(["exec", &self.on(node)]))
                    .args(["--", "systemctl", "is-system-running"])
                    .timeout(Some(Duration::from_secs(15)))
                    .run();
                state = out.map(|o| o.stdout.trim().to_string()).unwrap_or_default();
                if state == "running" || state == "degraded" {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(300));
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
            .args(["--config", "limits.memory=768MiB"])
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
        let argv = ["bash".to_string(), "-c".to_string(), script];
        let out = self.exec(
            &node.name,
            &argv,
            Some(spec.hosts_file.clone().into_bytes()),
            None,
        )?;
        if !out.success() {
            bail!(crate::exec::ExecError::Failed {
                cmd: format!(
                    "(setting up node {}) {}",
                    node.name,
                    argv[2].replace('\n', "; ")
                ),
                status: out.status_text(),
                stderr: format!("{}{}", out.stdout, out.stderr),
            });
        }
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
}

impl Backend for Lxd {
    fn kind(&self) -> BackendKind {
        BackendKind::Lxd
    }

    fn host_packages(&self) -> Vec<String> {
        if which::which("lxc").is_ok() || which::which("incus").is_ok() {
            // LXD checks for dnsmasq even for a bridge that serves no DHCP.
            ["debootstrap", "dnsmasq-base"].map(String::from).to_vec()
        } else {
            [
                "lxd",
                "lxd-client",
                "debootstrap",
                "dnsmasq-base",
                "btrfs-progs",
                "nftables",
            ]
            .map(String::from)
            .to_vec()
        }
    }

    fn prepare(&self, _spec: &LabSpec, assume_yes: bool) -> Result<()> {
        if let Some(r) = &self.remote {
            // A remote is the user's server: never started or initialised by halab.
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

    fn facts(&self, spec: &LabSpec) -> Result<Facts> {
        // Builds the image once; the lab's own facts are asked in the running nodes after `up`.
        self.ensure_image(spec)?;
        Ok(Facts::default())
    }

    fn up(
        &self,
        spec: &LabSpec,
        recreate: &BTreeSet<String>,
        progress: &Progress,
    ) -> Result<BTreeMap<String, NodeUp>> {
        let alias = self.ensure_image(spec)?;
        let pool = self.pool()?;
        self.ensure_project_and_network()?;
        super::for_each_node(&spec.nodes, |node| {
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

    fn exec(
        &self,
        node: &str,
        argv: &[String],
        stdin: Option<Vec<u8>>,
        timeout: Option<Duration>,
    ) -> Result<Output> {
        if self.status(node).as_deref() != Some("Running") {
            return Err(super::not_running(&self.lab, node));
        }
        let mut c = self
            .in_project(lxc().args(["exec", &self.on(node)]))
            .args(["--cwd", "/", "--env", "LANG=C.UTF-8", "--"])
            .args(argv)
            .timeout(timeout.or(Some(crate::exec::DEFAULT_TIMEOUT)));
        if let Some(b) = stdin {
            c = c.stdin(b);
        }
        Ok(run_lxd(
            &c,
            &format!("running a command in node `{node}`"),
            || {},
        )?)
    }

    fn exec_attached(&self, node: &str, argv: &[String], env: &[(&str, &str)]) -> Result<i32> {
        let mut c = self.in_project(lxc().args(["exec", &self.on(node)])).args([
            "--cwd",
            "/root",
            "--env",
            "LANG=C.UTF-8",
        ]);
        for (k, v) in env {
            c = c.arg("--env").arg(format!("{k}={v}"));
        }
        Ok(c.arg("--").args(argv).timeout(None).run_attached()?)
    }

    fn is_running(&self, node: &str) -> bool {
        self.status(node).as_deref() == Some("Running")
    }

    fn crash_node(&self, node: &str) -> Result<()> {
        run_lxd_ok(
            &self.in_project(lxc().args(["stop", "--force", &self.on(node)])),
            &format!("stopping node `{node}`"),
            || {},
        )?;
        Ok(())
    }

    fn snapshot(&self, nodes: &[String]) -> Result<bool> {
        let results: Vec<Result<()>> = std::thread::scope(|sc| {
            let handles: Vec<_> = nodes
                .iter()
                .map(|n| {
                    sc.spawn(move || -> Result<()> {
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
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("snapshot thread"))
                .collect()
        });
        results.into_iter().collect::<Result<Vec<()>>>()?;
        Ok(true)
    }

    fn restore(&self, nodes: &[String], progress: &Progress) -> Result<Vec<String>> {
        let restored: Vec<Result<Option<String>>> = std::thread::scope(|s| {
            let handles: Vec<_> = nodes
                .iter()
                .map(|n| {
                    s.spawn(move || -> Result<Option<String>> {
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
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("restore thread"))
                .collect()
        });
        let mut out = Vec::new();
        for r in restored {
            if let Some(n) = r? {
                out.push(n);
            }
        }
        Ok(out)
    }

    fn purge_cache(&self) -> Result<usize> {
        if which::which(client()).is_err() || (self.remote.is_none() && !daemon_answers()) {
            return Ok(0);
        }
        let mut n = 0;
        let aliases = self
            .q("/1.0/images/aliases?recursion=1")?
            .unwrap_or_default();
        for a in aliases.as_array().into_iter().flatten() {
            if let Some(name) = a["name"].as_str().filter(|n| n.starts_with("halab-")) {
                lxc().args(["image", "delete", &self.on(name)]).run_ok()?;
                n += 1;
            }
        }
        Ok(n)
    }

    fn leftovers(&self) -> Result<Vec<String>> {
        if which::which(client()).is_err() || (self.remote.is_none() && !daemon_answers()) {
            return Ok(Vec::new());
        }
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

    fn down(&self) -> Result<()> {
        if which::which(client()).is_err() || (self.remote.is_none() && !daemon_answers()) {
            // No LXD: nothing of this lab can exist in it.
            return Ok(());
        }
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
        if self.q(&format!("/1.0/projects/{project}"))?.is_some() {
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

/// What debootstrap builds: this host's own distribution, release, mirror and architecture.
struct HostRelease {
    id: String,
    codename: String,
    mirror: String,
    arch: String,
}

impl HostRelease {
    fn read() -> Result<HostRelease> {
        let os = fs::read_to_string("/etc/os-release").context("cannot read /etc/os-release")?;
        let field = |k: &str| {
            os.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")))
                .map(|v| v.trim_matches('"').to_string())
        };
        let id = field("ID").unwrap_or_default();
        let codename = field("VERSION_CODENAME").unwrap_or_default();
        if !matches!(id.as_str(), "debian" | "ubuntu") || codename.is_empty() {
            return Err(Problem::new(
                format!("the lxd backend builds its image from this host's release, and `{id}` is not Debian or Ubuntu"),
                "run halab on Debian 12 or Ubuntu 22.04 or newer",
            )
            .into());
        }
        let mirror = apt_mirror(&codename).unwrap_or_else(|| {
            if id == "ubuntu" {
                "http://archive.ubuntu.com/ubuntu".into()
            } else {
                "http://deb.debian.org/debian".into()
            }
        });
        let deb_arch = Cmd::new("dpkg")
            .arg("--print-architecture")
            .run_ok()?
            .stdout
            .trim()
            .to_string();
        let arch = match deb_arch.as_str() {
            "amd64" => "x86_64",
            "arm64" => "aarch64",
            other => other,
        }
        .to_string();
        Ok(HostRelease {
            id,
            codename,
            mirror,
            arch,
        })
    }
}

/// The mirror the host's apt uses for `codename` (deb822 `.sources` or `sources.list`).
fn apt_mirror(codename: &str) -> Option<String> {
    let mut texts: Vec<String> = Vec::new();
    for e in fs::read_dir("/etc/apt/sources.list.d")
        .into_iter()
        .flatten()
        .flatten()
    {
        if e.path().extension().is_some_and(|x| x == "sources") {
            texts.push(fs::read_to_string(e.path()).unwrap_or_default());
        }
    }
    for stanza in texts.iter().flat_map(|t| t.split("\n\n")) {
        let get = |k: &str| {
            stanza
                .lines()
                .find_map(|l| l.strip_prefix(k))
                .map(|v| v.trim().to_string())
        };
        if let (Some(uris), Some(suites)) = (get("URIs:"), get("Suites:"))
            && suites.split_whitespace().any(|s| s == codename)
        {
            return uris.split_whitespace().next().map(String::from);
        }
    }
    let list = fs::read_to_string("/etc/apt/sources.list").unwrap_or_default();
    list.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("deb ")?.trim_start();
        // `deb [signed-by=...] URL SUITE COMPONENTS`
        let rest = match rest.strip_prefix('[') {
            Some(r) => r.split_once(']')?.1,
            None => rest,
        };
        let mut words = rest.split_whitespace();
        let (url, suite) = (words.next()?, words.next()?);
        (suite == codename).then(|| url.to_string())
    })
}

fn daemon_answers() -> bool {
    lxc()
        .args(["query", "/1.0"])
        .timeout(Some(Duration::from_secs(15)))
        .run()
        .is_ok_and(|o| o.success())
}

/// Start the LXD daemon when it does not answer: through systemd where it runs, else directly.
fn ensure_daemon() -> Result<()> {
    if daemon_answers() {
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
    let pools = query("/1.0/storage-pools")?.unwrap_or_default();
    if pools.as_array().is_some_and(|a| !a.is_empty()) {
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
    let go = assume_yes
        || (ui::interactive()
            && dialoguer::Confirm::new()
                .with_prompt("Initialise LXD now?")
                .default(true)
                .interact()?);
    if !go {
        return Err(Problem::new(
            "LXD is not initialised",
            "run `lxd init`, or `halab start ... --backend lxd --yes`",
        )
        .into());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipe_asset_parses() {
        let r = recipe();
        assert!(r.base.contains(&"systemd-sysv".to_string()));
        assert!(r.templates.keys().any(|k| k.contains("systemd/network")));
        assert!(r.absent.contains_key("postgresql"));
    }

    const FORKFILE: &str =
        "Error: dial unix /proc/self/fd/111/forkfile.sock: connect: no such file or directory";

    #[test]
    fn lxds_transient_errors_are_told_from_real_failures() {
        for transient in [
            FORKFILE,
            "Error: error receiving version packet from server: error reading packet length: 0 of 4: read unix @->/proc/self/fd/46/forkfile.sock: read: connection reset by peer",
            "Error: Failed to retrieve PID of executing child process",
            "Error: Failed to retrieve PID of executing child process: EOF",
            "Creating lb-01\nError: Instance is busy running a \"start\" operation",
            "Error: Failed to create instance delete operation: Instance is busy running a \"stop\" operation",
        ] {
            let line = transient_lxd_error(transient);
            assert!(
                line.as_deref()
                    .is_some_and(|l| l.starts_with("Error:") && transient.contains(l)),
                "{transient:?} gave {line:?}"
            );
        }
        for real in [
            "",
            "Error: Instance not found",
            "Error: Failed instance creation: Failed creating instance record: Instance \"lb-01\" already exists",
            "Error: Failed to run: /usr/bin/lxd forkstart lb-01 /var/lib/lxd/containers /var/log/lxd/lb-01/lxc.conf: exit status 1",
            "Error: websocket: close 1006 (abnormal closure): unexpected EOF",
            "Error: Storage pool not found",
            "bash: line 1: nginx: command not found",
        ] {
            assert_eq!(transient_lxd_error(real), None, "{real:?}");
        }
    }

    /// A stand-in for `lxc`: counts its runs in `dir/n` and prints `message` on stderr with exit
    /// status 1 for the first `failures` of them, then succeeds.
    fn flaky_lxc(dir: &Path, failures: u32, message: &str) -> Cmd {
        let script = format!(
            "n=$(cat n 2>/dev/null || echo 0); n=$((n+1)); echo $n > n; \
             if [ $n -le {failures} ]; then echo '{message}' >&2; exit 1; fi; echo done"
        );
        Cmd::new("sh").args(["-c", &script]).cwd(dir)
    }

    fn runs(dir: &Path) -> u32 {
        fs::read_to_string(dir.join("n"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    #[test]
    fn a_transient_lxd_failure_is_retried_after_tidying_up() {
        let dir = tempfile::tempdir().unwrap();
        let tidied = std::cell::Cell::new(0);
        let out = run_lxd_ok(
            &flaky_lxc(dir.path(), 1, FORKFILE),
            "launching node `n1`",
            || tidied.set(tidied.get() + 1),
        )
        .unwrap();
        assert_eq!(out.stdout, "done\n");
        assert_eq!(runs(dir.path()), 2);
        assert_eq!(tidied.get(), 1);
        // As data too (`exec`): the second run's output is the answer.
        let dir = tempfile::tempdir().unwrap();
        let out = run_lxd(
            &flaky_lxc(
                dir.path(),
                1,
                "Error: Failed to retrieve PID of executing child process",
            ),
            "running a command in node `n1`",
            || {},
        )
        .unwrap();
        assert!(out.success() && runs(dir.path()) == 2, "{out:?}");
    }

    #[test]
    fn a_real_lxd_failure_fails_at_once_with_its_own_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = run_lxd_ok(
            &flaky_lxc(dir.path(), 1, "Error: Storage pool not found"),
            "launching node `n1`",
            || panic!("nothing to tidy after a real failure"),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(runs(dir.path()), 1);
        assert!(err.contains("Error: Storage pool not found"), "{err}");
        // A command's own failure inside the node is data, returned as it is.
        let dir = tempfile::tempdir().unwrap();
        let out = run_lxd(&flaky_lxc(dir.path(), 1, "no such unit"), "exec", || {}).unwrap();
        assert_eq!((out.code, runs(dir.path())), (Some(1), 1));
    }

    #[test]
    fn a_transient_lxd_failure_that_persists_fails_after_the_last_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let err = run_lxd_ok(&flaky_lxc(dir.path(), 99, FORKFILE), "launching", || {})
            .unwrap_err()
            .to_string();
        assert_eq!(runs(dir.path()), LXD_ATTEMPTS);
        assert!(err.contains("forkfile.sock"), "{err}");
    }

    #[test]
    fn names_fit_lxd_limits() {
        let d = LabDir::new(
            Path::new("/tmp/h"),
            &"a-rather-long-lab-20".parse().unwrap(),
        );
        let l = Lxd::new(&d, None);
        assert!(l.network().len() <= 15, "{}", l.network());
        assert_ne!(
            l.network(),
            Lxd::new(
                &LabDir::new(Path::new("/tmp/h"), &"b".parse().unwrap()),
                None
            )
            .network()
        );
        assert_eq!(l.on("x"), "x");
        assert_eq!(Lxd::new(&d, Some("srv".into())).on("lb-01"), "srv:lb-01");
        assert_eq!(l.project(), "halab-a-rather-long-lab-20");
    }
}
