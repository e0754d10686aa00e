//! A lab's life: start (build or resume), restart, inspect, destroy. Ties content, state, backend
//! and provisioning together under the lab's lock; `session` opens an existing lab.
//!
//! Must not: print prompts or tables (commands render), or know any node by name.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow};
use serde::Serialize;

use crate::backend::{self, Backend, BackendKind, LabSpec, NodeSpec, NodeUp, Place};
use crate::content::template::{Context, FactValues, with_values};
use crate::content::{Catalog, Lab, Lesson};
use crate::exec::shell_quote;
use crate::host;
use crate::provision;
use crate::session::{OpenLab, localise};
use crate::state::{self, LabDir, LabLock, LabName, LabRecord, NodeRecord, Phase};
use crate::ui::{self, Problem, Progress};

/// What `halab start` was asked to do.
pub(crate) struct StartRequest {
    pub lesson: String,
    pub lab: Option<LabName>,
    pub backend: Option<BackendKind>,
    /// Place an lxd lab on this `lxc remote`.
    pub lxd_remote: Option<String>,
    pub yes: bool,
}

/// What `start` did.
pub(crate) struct Started {
    pub name: LabName,
    pub backend: BackendKind,
    pub nodes: usize,
    /// The first node of the lab file (where the lesson's requests come from), for hints.
    pub first_node: String,
    /// Nodes created, restarted: both zero when the lab was already up.
    pub created: usize,
    pub restarted: usize,
    pub elapsed: Duration,
}

/// Write the lab's hosts file on every running node (where addresses come from DHCP, after
/// every start: they may have changed).
fn write_hosts(backend: &dyn Backend, lab: &Lab, name: &str) -> Result<()> {
    let text = hosts_file(lab, name);
    let running = lab.nodes.iter().filter(|n| backend.is_running(&n.name));
    crate::parallel::each(running, |n| {
        backend
            .node(&n.name)
            .put_file("/etc/hosts", text.as_bytes(), "0644", "root:root")
    })
    .into_iter()
    .collect()
}

fn hosts_file(lab: &Lab, name: &str) -> String {
    let mut s = String::from("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    s += &format!("# halab lab `{name}`\n");
    for n in &lab.nodes {
        s += &format!("{}\t{}\n", n.address, n.name);
    }
    s
}

pub(crate) fn spec(lab: &Lab, name: &str) -> Result<LabSpec> {
    let prefix = lab.prefix();
    let nodes = lab
        .nodes
        .iter()
        .map(|n| {
            Ok(NodeSpec {
                name: n.name.clone(),
                address: n.address.parse()?,
                prefix,
                packages: lab.node_packages(n),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(LabSpec {
        nodes,
        iface: lab.iface.clone(),
        hosts_file: hosts_file(lab, name),
        packages: lab.all_packages().into_iter().collect(),
    })
}

/// The lab's `[facts]`: each command fact asked on its (running) node through the backend, the
/// same way on every backend, then the values made from them.
fn ask_facts(backend: &dyn Backend, lab: &Lab) -> Result<FactValues> {
    let mut asked = FactValues::new();
    for (group, facts) in &lab.facts {
        for (name, f) in facts {
            let (Some(node), Some(run)) = (&f.node, &f.run) else {
                continue;
            };
            let out = backend.node(node).run(run, FACT_TIMEOUT)?;
            let value = fact_answer(&out)
                .map_err(|why| anyhow!("fact `{group}.{name}`: `{run}` on `{node}` {why}"))?;
            asked
                .entry(group.clone())
                .or_default()
                .insert(name.clone(), value.to_string());
        }
    }
    with_values(lab, asked).map_err(|(g, n, e)| anyhow!("fact `{g}.{n}` does not render: {e:#}"))
}

/// The value a fact's command printed: one non-empty line from a command that succeeded; else
/// why not.
fn fact_answer(out: &crate::exec::Output) -> std::result::Result<String, String> {
    let value = out.stdout.trim();
    let stderr = match out.stderr.trim() {
        "" => String::new(),
        e => format!(": {e}"),
    };
    if !out.success() {
        return Err(format!("failed ({}){stderr}", out.status_text()));
    }
    if value.is_empty() || value.contains('\n') {
        return Err(format!(
            "printed {} lines, not one{stderr}",
            value.lines().count()
        ));
    }
    Ok(value.to_string())
}

/// How long one fact's command may take: it reads the node, it does not wait for it.
const FACT_TIMEOUT: Duration = Duration::from_secs(30);

/// `start` of an existing lab with its own settings: restarts crashed nodes, finishes a
/// rebuild (after `reset`).
pub(crate) fn restart(open: &OpenLab) -> Result<Started> {
    start(StartRequest {
        lesson: open.record.lesson.clone(),
        lab: Some(open.dir.name.clone()),
        backend: None,
        lxd_remote: None,
        yes: false,
    })
}

/// Build the lab, or finish a half-built one, or do nothing to one that is up.
pub(crate) fn start(req: StartRequest) -> Result<Started> {
    let t0 = Instant::now();
    let t = resolve(&req)?;
    let (backend, lab, draft) = prepare_host(&t, req.yes)?;

    let _lock = LabLock::acquire(&t.home, &t.name, &format!("start {}", t.lesson.id))?;
    let mut record = open_record(&t, &*backend, &lab, &draft)?;
    let Some(ups) = build_nodes(&t, &*backend, &lab, &record)? else {
        return Ok(t.started(&lab, &BTreeMap::new(), t0));
    };
    let lab = learn_facts(&t, &*backend, lab, &mut record)?;
    let secrets = t.dir.secrets(&lab.secrets)?;
    let ctx = Context::new(&lab, &t.name, &record.facts, &secrets);
    save_nodes(&t.dir, &mut record, &ups)?;
    provision_nodes(&t, &*backend, &lab, &ctx, &ups)?;
    snapshot_new_nodes(&*backend, &ups)?;
    t.dir.update("start", |r| r.phase = Phase::Ready)?;
    Ok(t.started(&lab, &ups, t0))
}

/// What `prepare` made ready.
pub(crate) struct Prepared {
    pub lesson: String,
    pub backend: BackendKind,
    pub elapsed: Duration,
}

/// Make this host ready for labs of a lesson without building one: the packages, the backend's
/// daemon, and what the nodes are made from (lxd's base image), so that a later `start` only
/// builds nodes. No lab is created, read or locked.
pub(crate) fn prepare(req: StartRequest) -> Result<Prepared> {
    let t0 = Instant::now();
    let catalog = Catalog::load()?;
    let lesson = catalog.lesson(&req.lesson)?.clone();
    let name = LabName::parse(&lesson.id)
        .map_err(|e| Problem::new(e, "the lesson's id must be a lab name (`halab validate`)"))?;
    let home = state::home();
    let kind = choose_kind(&req)?;
    let t = Target {
        dir: LabDir::new(&home, &name),
        catalog,
        lesson,
        name,
        home,
        existing: None,
        kind,
        remote: req.lxd_remote.clone(),
    };
    t.refuse_remote_without_lxd()?;
    let (backend, _lab, draft) = prepare_host(&t, req.yes)?;
    backend.facts(&draft)?;
    Ok(Prepared {
        lesson: t.lesson.id.clone(),
        backend: kind,
        elapsed: t0.elapsed(),
    })
}

/// The backend a new lab would use: `--backend`, `--lxd-remote` (lxd), else the choice order.
fn choose_kind(req: &StartRequest) -> Result<BackendKind> {
    // `--lxd-remote` says lxd by itself.
    let flag = req
        .backend
        .or(req.lxd_remote.as_ref().map(|_| BackendKind::Lxd));
    let choice = backend::choice::choose(flag)?;
    ui::say(format!("backend: {} ({})", choice.kind, choice.reason));
    Ok(choice.kind)
}

/// The lab a `start` is about, as [`resolve`] found it.
struct Target {
    catalog: Catalog,
    lesson: Lesson,
    name: LabName,
    home: std::path::PathBuf,
    dir: LabDir,
    /// The lab's record when the lab exists (it may be half-built).
    existing: Option<LabRecord>,
    kind: BackendKind,
    remote: Option<String>,
}

impl Target {
    /// Where the lab lives: as its record says when it exists, else where it is asked for.
    fn place(&self) -> Place {
        match &self.existing {
            Some(r) => Place::of(r),
            None => Place::on(self.remote.clone()),
        }
    }

    fn refuse_remote_without_lxd(&self) -> Result<()> {
        if self.remote.is_some() && self.kind != BackendKind::Lxd {
            return Err(Problem::new(
                "`--lxd-remote` places a lab on an LXD server",
                "add `--backend lxd`",
            )
            .into());
        }
        Ok(())
    }

    /// What `start` reports, from what `up` did to each node.
    fn started(&self, lab: &Lab, ups: &BTreeMap<String, NodeUp>, t0: Instant) -> Started {
        Started {
            name: self.name.clone(),
            backend: self.kind,
            nodes: lab.nodes.len(),
            first_node: lab.nodes[0].name.clone(),
            created: count(ups, NodeUp::Created),
            restarted: count(ups, NodeUp::Restarted),
            elapsed: t0.elapsed(),
        }
    }
}

/// How many nodes `up` left `how`.
fn count(ups: &BTreeMap<String, NodeUp>, how: NodeUp) -> usize {
    ups.values().filter(|u| **u == how).count()
}

/// Which lesson, lab, backend and LXD remote a request means; refuses one that contradicts the
/// lab already there.
fn resolve(req: &StartRequest) -> Result<Target> {
    let catalog = Catalog::load()?;
    let lesson = catalog.lesson(&req.lesson)?.clone();
    let name = match req.lab.clone() {
        Some(n) => n,
        // A lesson id follows the same rule as a lab name (validation checks it).
        None => LabName::parse(&lesson.id)
            .map_err(|e| Problem::new(e, "name the lab with `--lab NAME`"))?,
    };
    let home = state::home();
    let dir = LabDir::new(&home, &name);
    let existing = if dir.exists() {
        Some(dir.load()?)
    } else {
        None
    };
    if let Some(rec) = &existing {
        refuse_contradiction(rec, req, &lesson.id, &name)?;
    }
    let kind = match &existing {
        Some(r) => r.backend,
        None => choose_kind(req)?,
    };
    let remote = existing
        .as_ref()
        .map(|r| r.remote.clone())
        .unwrap_or_else(|| req.lxd_remote.clone());
    let t = Target {
        catalog,
        lesson,
        name,
        home,
        dir,
        existing,
        kind,
        remote,
    };
    t.refuse_remote_without_lxd()?;
    Ok(t)
}

/// An existing lab keeps its lesson, backend and place: a request for others is refused.
fn refuse_contradiction(
    rec: &LabRecord,
    req: &StartRequest,
    lesson: &str,
    name: &LabName,
) -> Result<()> {
    if rec.lesson != lesson {
        return Err(Problem::new(
            format!(
                "lab `{name}` was started for lesson `{}`, not `{lesson}`",
                rec.lesson
            ),
            format!(
                "pick another name with `--lab`, or remove it with `halab destroy --lab {name}`"
            ),
        )
        .into());
    }
    if let Some(b) = req.backend
        && b != rec.backend
    {
        return Err(Problem::new(
            format!("lab `{name}` runs on the {} backend, not {b}", rec.backend),
            format!("a lab keeps its backend; use another `--lab`, or `halab destroy --lab {name}` first"),
        )
        .into());
    }
    if let Some(r) = &req.lxd_remote
        && rec.remote.as_ref() != Some(r)
    {
        return Err(Problem::new(
            format!("lab `{name}` does not live on the LXD remote `{r}`"),
            format!(
                "a lab keeps its place; use another `--lab`, or `halab destroy --lab {name}` first"
            ),
        )
        .into());
    }
    Ok(())
}

/// Make the host ready for the lab (root, packages, the backend's own preparation) before
/// anything of the lab is made; returns the backend, the lab file and a first spec of it.
fn prepare_host(t: &Target, yes: bool) -> Result<(Box<dyn Backend>, Lab, LabSpec)> {
    let kind = t.kind;
    // A trainee's class lab is built already, on the class server: this host is only its
    // client, and needs neither root nor the packages that build images.
    let joined = t
        .existing
        .as_ref()
        .and_then(|r| r.seat.as_ref())
        .is_some_and(|s| !s.instructor);
    if kind != BackendKind::Multipass && !joined {
        host::require_root(&format!("`halab start` on the {kind} backend"))?;
    }
    let backend = backend::open(kind, &t.dir, t.place())?;
    let lab = match &t.existing {
        Some(_) => t.dir.load_lab()?,
        None => t
            .catalog
            .lab(&t.lesson.lab)
            .expect("cross-checked")
            .1
            .clone(),
    };
    let mut wanted: BTreeSet<String> = if joined {
        BTreeSet::new()
    } else {
        backend.host_packages().into_iter().collect()
    };
    if kind == BackendKind::Netns {
        // The netns backend runs the host's own daemons.
        wanted.extend(lab.all_packages());
    }
    host::ensure_packages(&wanted, yes)?;
    let draft = spec(&lab, &t.name)?;
    backend.prepare(&draft, yes)?;
    Ok((backend, lab, draft))
}

/// The lab's record under its lock: the one on disk (another `start` may have built the lab
/// while this one waited), or a new one, `Building`, with the lab file copied beside it.
fn open_record(t: &Target, backend: &dyn Backend, lab: &Lab, draft: &LabSpec) -> Result<LabRecord> {
    if t.dir.exists() {
        return t.dir.load();
    }
    ui::say(format!(
        "building lab `{}` for lesson `{}` on {}",
        t.name, t.lesson.id, t.kind
    ));
    let text = &t.catalog.lab(&t.lesson.lab).expect("cross-checked").0.text;
    t.dir.create()?;
    state::write_atomic(&t.dir.lab_file(), text.as_bytes(), 0o644)?;
    let rec = LabRecord {
        name: t.name.clone(),
        lesson: t.lesson.id.clone(),
        backend: t.kind,
        created: state::now_unix(),
        phase: Phase::Building,
        facts: backend.facts(draft)?,
        nodes: lab
            .nodes
            .iter()
            .map(|n| (n.name.clone(), NodeRecord::default()))
            .collect(),
        remote: t.remote.clone(),
        progress: Default::default(),
        last_check: None,
        drills: Default::default(),
        seat: None,
    };
    t.dir.save(&rec)?;
    Ok(rec)
}

/// Bring every node up through the backend, building anew those never provisioned; `None`
/// when the lab was up and ready already and nothing is left to do.
fn build_nodes(
    t: &Target,
    backend: &dyn Backend,
    lab: &Lab,
    record: &LabRecord,
) -> Result<Option<BTreeMap<String, NodeUp>>> {
    let recreate: BTreeSet<String> = lab
        .nodes
        .iter()
        .filter(|n| !record.nodes.get(&n.name).is_some_and(|r| r.provisioned))
        .map(|n| n.name.clone())
        .collect();
    let progress = Progress::new("nodes", lab.nodes.len() as u64);
    let ups = backend
        .up(&spec(lab, &t.name)?, &recreate, &progress)
        .inspect_err(|_| progress.abandon())
        .with_context(|| format!("building lab `{}` on {}", t.name, t.kind))?;
    let created = count(&ups, NodeUp::Created);
    let restarted = count(&ups, NodeUp::Restarted);
    // A record from before the lab declared its facts (or an older halab) asks them again.
    let facts_known = lab.facts.iter().all(|(g, f)| {
        f.keys()
            .all(|n| record.facts.lab.get(g).is_some_and(|v| v.contains_key(n)))
    });
    if created + restarted == 0 && record.phase == Phase::Ready && facts_known {
        progress.abandon();
        return Ok(None);
    }
    progress.finish(&format!("{created} created, {restarted} restarted"));
    Ok(Some(ups))
}

/// What only running nodes can tell, kept in `record.facts`: the backend's network (multipass:
/// what DHCP made), the nodes' live addresses (then every node's hosts file), the lab's own
/// facts. Returns the lab file localised to them.
fn learn_facts(
    t: &Target,
    backend: &dyn Backend,
    mut lab: Lab,
    record: &mut LabRecord,
) -> Result<Lab> {
    if let Some(facts) = backend.discover(&spec(&lab, &t.name)?, &record.facts)? {
        record.facts = facts;
    }
    let live = backend.live_addresses()?;
    localise(&mut lab, &record.facts, live.as_ref());
    if live.is_some() {
        write_hosts(backend, &lab, &t.name).context("writing the lab's /etc/hosts on its nodes")?;
    }
    record.facts.lab = ask_facts(backend, &lab).context("asking the lab's facts on its nodes")?;
    Ok(lab)
}

/// Mark the nodes `up` created as not provisioned and save what `start` learnt; only the
/// fields `start` owns are written (a `check` may save progress meanwhile).
fn save_nodes(dir: &LabDir, record: &mut LabRecord, ups: &BTreeMap<String, NodeUp>) -> Result<()> {
    for (n, u) in ups {
        if *u == NodeUp::Created {
            record.nodes.entry(n.clone()).or_default().provisioned = false;
        }
    }
    let (facts, nodes) = (record.facts.clone(), record.nodes.clone());
    dir.update("start", |r| {
        r.facts = facts;
        r.nodes = nodes;
    })
}

/// Put every node `up` touched into its starting state, all at once, recording each node as
/// provisioned when it is; the first failure says how to finish the lab.
fn provision_nodes(
    t: &Target,
    backend: &dyn Backend,
    lab: &Lab,
    ctx: &Context,
    ups: &BTreeMap<String, NodeUp>,
) -> Result<()> {
    let todo: Vec<_> = lab
        .nodes
        .iter()
        .filter(|n| ups[&n.name] != NodeUp::Running)
        .collect();
    let progress = Progress::new("services", todo.len() as u64);
    let results = crate::parallel::each(todo, |node| -> Result<()> {
        progress.message(&format!("provisioning {}", node.name));
        provision::provision_node(backend, lab, node, ups[&node.name], ctx)
            .with_context(|| format!("provisioning node `{}`", node.name))?;
        t.dir.update("start", |r| {
            r.nodes.entry(node.name.clone()).or_default().provisioned = true;
        })?;
        progress.inc(&node.name);
        Ok(())
    });
    if let Some(e) = results.into_iter().find_map(Result::err) {
        progress.abandon();
        let name = &t.name;
        return Err(e.context(Problem::new(
            format!("lab `{name}` is not fully built"),
            format!("run `halab start {} --lab {name}` again to finish it (nodes that failed are rebuilt)", t.lesson.id),
        )));
    }
    progress.finish("every node is in its starting state");
    Ok(())
}

/// Keep the starting state of the nodes `up` created, for a fast `reset` where the backend
/// can keep one.
fn snapshot_new_nodes(backend: &dyn Backend, ups: &BTreeMap<String, NodeUp>) -> Result<()> {
    let created: Vec<String> = ups
        .iter()
        .filter(|(_, u)| **u == NodeUp::Created)
        .map(|(n, _)| n.clone())
        .collect();
    if !created.is_empty() && backend.snapshot(&created)? {
        ui::say(format!(
            "saved the starting state of {} node(s) for `halab reset`",
            created.len()
        ));
    }
    Ok(())
}

/// What `destroy` found and removed.
pub(crate) struct Destroyed {
    /// There was a lab directory (a lab, or what a crashed build left).
    pub had_dir: bool,
    /// What each backend still had of the lab, now removed (`netns: network namespace ...`).
    pub removed: Vec<String>,
    /// Backends that could not be searched, and why (a damaged lab, without root for netns).
    pub not_searched: Vec<String>,
    /// The lab's record was readable, so only its own backend was asked.
    pub record_intact: bool,
    /// A trainee's class lab: only this machine's copy was removed; the lab stays on the class
    /// server (this says which).
    pub kept_on_server: Option<String>,
}

/// Remove a lab completely (and with `purge_cache`, the backend's cached images). A lab whose
/// record is damaged or missing may live on any backend: every backend is searched for what
/// it left (by the names halab derives from the lab's name), never assumed.
pub(crate) fn destroy(name: &LabName, purge_cache: bool) -> Result<Destroyed> {
    let home = state::home();
    let dir = LabDir::new(&home, name);
    let lock = LabLock::acquire(&home, name, "destroy")?;
    let had_dir = dir.path.exists();
    if had_dir && !dir.is_marked() {
        // Refuse before any backend is touched: this is not a lab of halab's.
        return dir
            .remove()
            .map(|()| unreachable!("an unmarked directory is never removed"));
    }
    let record = dir.load().ok();
    if let Some(seat) = record.as_ref().and_then(|r| r.seat.as_ref())
        && !seat.instructor
    {
        // A trainee's class lab is the instructor's to remove: only this machine's copy goes.
        dir.remove()?;
        lock.remove_file();
        return Ok(Destroyed {
            had_dir,
            removed: Vec::new(),
            not_searched: Vec::new(),
            record_intact: true,
            kept_on_server: Some(format!("lab `{}` of class `{}`", seat.lxd_name, seat.class)),
        });
    }
    let (kinds, place) = match &record {
        Some(r) => (vec![r.backend], Place::of(r)),
        None => (BackendKind::built(), Place::on(damaged_record_remote(&dir))),
    };
    let mut removed = Vec::new();
    let mut not_searched = Vec::new();
    for kind in kinds {
        let remote_lxd = kind == BackendKind::Lxd && place.remote.is_some();
        if kind != BackendKind::Multipass && !remote_lxd && !host::is_root() {
            if record.is_some() {
                host::require_root(&format!("`halab destroy` of a {kind} lab"))?;
            }
            not_searched.push(format!(
                "{kind} (needs root: run `sudo halab destroy --lab {name}`)"
            ));
            continue;
        }
        let b = backend::open(kind, &dir, place.clone())?;
        let found = b
            .leftovers()
            .with_context(|| format!("looking for what lab `{name}` left on {kind}"))?;
        if record.is_some() || !found.is_empty() {
            b.down()
                .with_context(|| format!("removing lab `{name}` from {kind}"))?;
        }
        removed.extend(found.into_iter().map(|f| format!("{kind}: {f}")));
    }
    if purge_cache {
        // Images are the lxd backend's, whatever this lab ran on (or whether it still exists).
        let n = backend::open(BackendKind::Lxd, &dir, place)?.purge_cache()?;
        ui::say(format!("removed {n} cached image(s)"));
    }
    if had_dir {
        dir.remove()?;
    }
    lock.remove_file();
    Ok(Destroyed {
        had_dir,
        removed,
        not_searched,
        record_intact: record.is_some(),
        kept_on_server: None,
    })
}

/// The LXD remote a lab with a damaged record named, if that much of the record can be read.
fn damaged_record_remote(dir: &LabDir) -> Option<String> {
    let text = std::fs::read_to_string(dir.path.join("lab.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["remote"].as_str().map(String::from)
}

/// One service of a node and whether it runs.
#[derive(Debug, PartialEq, Serialize)]
pub(crate) struct ServiceStatus {
    /// The unit name.
    pub name: String,
    /// `systemctl is-active` says `active`.
    pub active: bool,
    /// Why halab asks about it: `role` (the lab's role of the node) or `lesson` (a service the
    /// lesson has the trainee set up, shown once enabled or running).
    pub source: &'static str,
}

#[derive(Serialize)]
pub(crate) struct NodeStatus {
    pub name: String,
    pub address: String,
    pub role: String,
    pub running: bool,
    pub services: Vec<ServiceStatus>,
}

/// What `halab status` shows.
#[derive(Serialize)]
pub(crate) struct LabStatus {
    pub lab: String,
    pub lesson: String,
    pub backend: BackendKind,
    pub phase: Phase,
    pub vip: Option<String>,
    pub vip_holder: Option<String>,
    pub nodes: Vec<NodeStatus>,
}

/// Ask every node what runs on it (its role's services, and `lesson`'s once set up) and who
/// holds the floating IP.
pub(crate) fn status(open: &OpenLab, lesson: Option<&Lesson>) -> Result<LabStatus> {
    let lab = &open.lab;
    let per_node =
        crate::parallel::each(&lab.nodes, |n| node_status(&*open.backend, lab, lesson, n));
    let holders: Vec<&str> = per_node
        .iter()
        .filter(|(_, v)| *v)
        .map(|(n, _)| n.name.as_str())
        .collect();
    Ok(LabStatus {
        lab: open.dir.name.to_string(),
        lesson: open.record.lesson.clone(),
        backend: open.record.backend,
        phase: open.record.phase,
        vip: lab.vip.clone(),
        // Two holders at once is a real state (a killed daemon can leave its address behind).
        vip_holder: (!holders.is_empty()).then(|| holders.join(",")),
        nodes: per_node.into_iter().map(|(n, _)| n).collect(),
    })
}

/// How long `status` waits for a node to say what runs on it.
const STATUS_TIMEOUT: Duration = Duration::from_secs(10);

/// One shell command that prints a line per service: `systemctl is-active` of each of
/// `role` and `lesson`, then whether each of `lesson` is enabled (`enabled` or `no`: a unit the
/// node does not have prints nothing of its own, so the line is written here).
fn services_query(role: &[String], lesson: &[&str]) -> String {
    let active: Vec<String> = role
        .iter()
        .map(String::as_str)
        .chain(lesson.iter().copied())
        .map(shell_quote)
        .collect();
    let mut cmd = format!("systemctl is-active {}", active.join(" "));
    if !lesson.is_empty() {
        let units: Vec<String> = lesson.iter().map(|u| shell_quote(u)).collect();
        cmd.push_str(&format!(
            "; for u in {}; do if systemctl is-enabled --quiet \"$u\" 2>/dev/null; \
             then echo enabled; else echo no; fi; done",
            units.join(" ")
        ));
    }
    cmd
}

/// The services to show from what [`services_query`] printed (`out`; empty when the node did
/// not answer): every role service, and a lesson service that is active or enabled.
fn services_from(role: &[String], lesson: &[&str], out: &str) -> Vec<ServiceStatus> {
    let mut lines = out.lines();
    let mut active = || lines.next() == Some("active");
    let mut shown: Vec<ServiceStatus> = role
        .iter()
        .map(|s| ServiceStatus {
            name: s.clone(),
            active: active(),
            source: "role",
        })
        .collect();
    let lesson_active: Vec<bool> = lesson.iter().map(|_| active()).collect();
    let enabled: Vec<bool> = lesson
        .iter()
        .map(|_| lines.next() == Some("enabled"))
        .collect();
    for ((name, active), enabled) in lesson.iter().zip(lesson_active).zip(enabled) {
        if (active || enabled) && !role.iter().any(|r| r == name) {
            shown.push(ServiceStatus {
                name: name.to_string(),
                active,
                source: "lesson",
            });
        }
    }
    shown
}

/// One node's status, and whether it holds the floating IP. A node that does not answer shows
/// its role's services inactive.
fn node_status(
    b: &dyn Backend,
    lab: &Lab,
    lesson: Option<&Lesson>,
    n: &crate::content::lab::Node,
) -> (NodeStatus, bool) {
    let running = b.is_running(&n.name);
    let role = lab.role_of(n);
    let node = b.node(&n.name);
    let lesson_services = lesson.map(|l| l.services_on(&n.name)).unwrap_or_default();
    let states = if running && !(role.services.is_empty() && lesson_services.is_empty()) {
        node.run(
            &services_query(&role.services, &lesson_services),
            STATUS_TIMEOUT,
        )
        .map(|o| o.stdout)
        .unwrap_or_default()
    } else {
        String::new()
    };
    let services = services_from(&role.services, &lesson_services, &states);
    let holds_vip = running
        && lab.vip.as_ref().is_some_and(|vip| {
            node.run(
                &format!("ip -o -4 addr show dev {}", shell_quote(&lab.iface)),
                STATUS_TIMEOUT,
            )
            .is_ok_and(|o| o.stdout.contains(&format!("inet {vip}/")))
        });
    (
        NodeStatus {
            name: n.name.clone(),
            address: n.address.clone(),
            role: n.role.clone(),
            running,
            services,
        },
        holds_vip,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(code: i32, stdout: &str, stderr: &str) -> crate::exec::Output {
        crate::exec::Output {
            code: Some(code),
            signal: None,
            stdout: stdout.into(),
            stderr: stderr.into(),
            raw_stdout: stdout.as_bytes().to_vec(),
        }
    }

    #[test]
    fn status_shows_role_services_and_the_lessons_once_set_up() {
        let role = vec!["web".to_string()];
        let q = services_query(&role, &["vrrp", "db"]);
        assert!(
            q.starts_with("systemctl is-active web vrrp db; for u in vrrp db;"),
            "{q}"
        );
        assert_eq!(services_query(&role, &[]), "systemctl is-active web");
        let names = |v: &[ServiceStatus]| {
            v.iter()
                .map(|s| format!("{} {} {}", s.name, s.active, s.source))
                .collect::<Vec<_>>()
        };
        // vrrp runs, db is enabled but stopped (a crash shows), neither is the role's.
        let out = "active\nactive\nfailed\nno\nenabled\n";
        assert_eq!(
            names(&services_from(&role, &["vrrp", "db"], out)),
            ["web true role", "vrrp true lesson", "db false lesson"]
        );
        // Never set up: not shown.
        let out = "inactive\ninactive\ninactive\nno\nno\n";
        assert_eq!(
            names(&services_from(&role, &["vrrp", "db"], out)),
            ["web false role"]
        );
        // A node that did not answer: the role's services, inactive.
        assert_eq!(
            names(&services_from(&role, &["vrrp"], "")),
            ["web false role"]
        );
    }

    #[test]
    fn a_fact_is_one_line_from_a_command_that_succeeded() {
        assert_eq!(fact_answer(&output(0, "15\n", "")).unwrap(), "15");
        let e = fact_answer(&output(2, "", "ls: cannot access")).unwrap_err();
        assert!(
            e.starts_with("failed (") && e.ends_with(": ls: cannot access"),
            "{e}"
        );
        let e = fact_answer(&output(0, "  \n", "")).unwrap_err();
        assert!(e.contains("printed 0 lines"), "{e}");
        let e = fact_answer(&output(0, "13\n15\n", "")).unwrap_err();
        assert!(e.contains("printed 2 lines"), "{e}");
    }
}
