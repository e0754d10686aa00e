//! Failure drills as data (`[[drills]]` in a lesson file): what to break, what to measure while
//! it is broken, how to put it back, and the thresholds the lesson sets. `halab drill ID` runs
//! them (`crate::drill`); nothing here runs anything. `check` keeps every duration and count a
//! drill gives finite and in range, and its run and measure ids unique.
//!
//! A drill may name the parts nodes play instead of the nodes (`roles`): `node = "@primary"`,
//! `crash = "@primary"`, `{{ role.primary.ip }}`. Which node plays which part is found once, when
//! the drill starts, by asking each candidate (`crate::drill::cast`), and [`Drill::bind`] puts
//! the nodes in; so a run's repair must leave every part where it found it.
//!
//! Must not: name a node, step or command in Rust: all of that is the lesson's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::diag::{Doc, DocPath, Ids, unknown_name_help};
use super::lab::is_simple_name;
use super::lesson::NodeCommand;

/// A failure drill: one row of the chapter's "what goes down, what happens" table, measured on
/// the trainee's own lab in one or more runs.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Drill {
    /// What the trainee types (`halab drill ID`).
    pub id: String,
    /// The row of the chapter's table, e.g. "one app server dies".
    pub title: String,
    /// What the chapter claims for that row, shown beside the measured figures.
    pub claim: String,
    /// Steps that must have passed first: the drill needs what they build.
    #[serde(default)]
    pub requires: Vec<String>,
    /// Commands that must succeed before the drill starts (the lab is in the state it needs).
    #[serde(default)]
    pub ready: Vec<Precondition>,
    /// Requests at a fixed rate during every run, each with its own timeout.
    #[serde(default)]
    pub requests: Option<Requests>,
    /// Orders POSTed at a fixed rate during every run, each with its own id: what was
    /// acknowledged, and what survived.
    #[serde(default)]
    pub orders: Option<Orders>,
    /// Settings shown with the results, because they explain them (e.g. a proxy's timeouts).
    #[serde(default)]
    pub context: Vec<Shown>,
    /// Figures the lesson computes from the lab's own configuration before the runs (e.g. a
    /// protocol's own takeover time): every run reports them, shown beside the chapter's claims.
    #[serde(default)]
    pub figures: Vec<DerivedFigure>,
    /// The parts nodes play in this drill (e.g. the primary and the standby database), found
    /// when it starts: `@ID` as a node, `{{ role.ID.name }}` / `{{ role.ID.ip }}` in templates.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// The runs, in order (e.g. a clean stop, then a crash).
    pub runs: Vec<Run>,
    /// What the drill leaves changed and how to rebuild it; shown after it (templates).
    #[serde(default)]
    pub leaves: Option<String>,
}

/// A part one node plays in a drill, found when the drill starts: the one node of `among` on
/// which `run` succeeds and prints what `stdout` matches (e.g. the database that is not in
/// recovery is the primary).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Role {
    /// Its name: `@ID` in a `node` or `crash`, `{{ role.ID.name }}` and `.ip` in templates.
    pub id: String,
    /// The nodes that may play it.
    pub among: Vec<String>,
    /// Run on each of them with `bash -c` as root (a template; no `role` values yet).
    pub run: String,
    /// A regular expression the command's stdout matches on the node that plays the part
    /// (multi-line, as a check's: `^` and `$` match at every line).
    pub stdout: String,
    /// What to do when no node, or more than one, plays it (a template).
    #[serde(default)]
    pub hint: Option<String>,
}

/// What marks a part in a node reference: `node = "@primary"`.
pub const ROLE_SIGIL: char = '@';

/// A command that must succeed before a drill, and what to tell the trainee when it does not.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Precondition {
    /// Where it runs (a node, or `@ROLE`).
    pub node: String,
    /// Run with `bash -c` as root (a template).
    pub run: String,
    /// What is wrong when it fails.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

/// HTTP requests sent at a fixed rate from a node.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Requests {
    /// Where the requests start (never the host).
    pub node: String,
    /// The URL (a template, e.g. `http://{{ vip }}/`).
    pub url: String,
    /// One request every this many milliseconds, whether or not earlier ones have answered.
    pub every_ms: u64,
    /// Each request's own timeout (connect and read), in milliseconds.
    pub timeout_ms: u64,
}

/// Orders POSTed at a fixed rate from a node, each with a unique id, each with its own timeout;
/// afterwards `read` lists the ids that survived (Jepsen's set checker compares the two).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Orders {
    /// Where the orders start (never the host); runs `python3` from its PATH.
    pub node: String,
    /// Where each order is POSTed (a template, e.g. `http://{{ vip }}/orders`).
    pub url: String,
    /// Each order's body (a template) in which `{id}` is the order's id.
    #[serde(default = "default_body")]
    pub body: String,
    /// The body's `Content-Type`.
    #[serde(default = "default_content_type")]
    pub content_type: String,
    /// One order every this many milliseconds, whether or not earlier ones have answered.
    pub every_ms: u64,
    /// Each order's own timeout (connect and answer), in milliseconds.
    pub timeout_ms: u64,
    /// HTTP statuses that acknowledge an order (`ok`).
    #[serde(default = "default_ok_status")]
    pub ok_status: Vec<u16>,
    /// HTTP statuses that refuse an order (`fail`); any other status is `unknown`.
    #[serde(default = "default_fail_status")]
    pub fail_status: Vec<u16>,
    /// Run once before each run (e.g. start from an empty table).
    #[serde(default)]
    pub setup: Vec<NodeCommand>,
    /// After the orders stop, before any repair: prints the ids present, one per line.
    pub read: NodeCommand,
    /// What a lost order means, shown with the count (e.g. the replication mode that loses it).
    #[serde(default)]
    pub lost_means: Option<String>,
}

fn default_body() -> String {
    "id={id}".into()
}

fn default_content_type() -> String {
    "application/x-www-form-urlencoded".into()
}

fn default_ok_status() -> Vec<u16> {
    vec![201]
}

fn default_fail_status() -> Vec<u16> {
    vec![503]
}

/// A number sampled on a node while the traffic flows, from its start until the fault (e.g. a
/// replica's lag): the run reports the largest sample as `ID` and the median as `ID_p50`.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Sample {
    /// Its name in thresholds and reports (and `ID_p50` for the median).
    pub id: String,
    /// How reports name it, e.g. "replay lag on the standby".
    pub title: String,
    /// The node the command runs on.
    pub node: String,
    /// Run with `bash -c` as root (a template); prints one number.
    pub run: String,
    /// One sample every this many milliseconds.
    pub every_ms: u64,
}

/// A command whose output is shown with a drill's results.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Shown {
    pub title: String,
    pub node: String,
    pub run: String,
}

/// A figure computed by a command on a node: the lesson does the arithmetic (e.g. from a
/// configuration file, in shell or awk), halab only reads the number it prints.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct DerivedFigure {
    /// Its name in thresholds and reports.
    pub id: String,
    /// How reports name it beside the chapter's claims, e.g. "the protocol's own figure".
    pub title: String,
    /// The node the command runs on.
    pub node: String,
    /// Run with `bash -c` as root (a template); prints one number, in seconds. When the lab
    /// has no such figure (the setting it derives from is absent) it exits non-zero and prints
    /// why: the runs report that instead of a number.
    pub run: String,
    /// The runs that report it, beside their claimed measures (none listed: every run).
    #[serde(default)]
    pub runs: Vec<String>,
}

impl DerivedFigure {
    /// Whether run `run` reports this figure.
    pub fn reported_by(&self, run: &str) -> bool {
        self.runs.is_empty() || self.runs.iter().any(|r| r == run)
    }
}

/// What a drill waits for the trainee to do, and what halab runs instead when asked to
/// (`halab drill ID --assist`).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Assist {
    /// The trainee's move, shown while the drill waits (e.g. "take over by hand").
    pub label: String,
    /// The commands halab runs itself with `--assist`, before it starts waiting.
    pub run: Vec<NodeCommand>,
}

/// When a measure's clock starts (`from = "fault"` or `"repair"` in a lesson).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Since {
    /// When the fault is injected.
    #[default]
    Fault,
    /// When the repair is done (e.g. failback).
    Repair,
}

/// Seconds until a condition holds.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Measure {
    /// The figure's name (used by thresholds and reports).
    pub id: String,
    pub title: String,
    pub node: String,
    /// A command (template) that succeeds once the condition holds; tried every 100 ms.
    pub until: String,
    /// Other nodes on which `until` must succeed in the same try too (e.g. both of two nodes
    /// hold an address at once).
    #[serde(default)]
    pub also_on: Vec<String>,
    #[serde(default)]
    pub from: Since,
    /// Give up after this many seconds.
    pub limit_s: f64,
    /// The chapter's own figure for it, in seconds, shown beside the measurement.
    #[serde(default)]
    pub claim_s: Option<f64>,
    /// A move the trainee makes while this measure waits; `--assist` makes halab make it.
    #[serde(default)]
    pub assist: Option<Assist>,
}

/// A read of the order ids on one node, named for `differences`.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Read {
    /// Its name in `differences` (and in the run's history).
    pub id: String,
    /// How reports name it, e.g. "orders on the old primary".
    pub title: String,
    /// The node the command runs on.
    pub node: String,
    /// Run with `bash -c` as root (a template); prints the ids present, one per line.
    pub run: String,
}

/// A figure: how many of this run's order ids the read `present` found and the read `absent`
/// did not (only this run's ids count, as in the set checker).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Difference {
    /// The figure's name in thresholds and reports.
    pub id: String,
    /// How reports name it, e.g. "orders on the old primary only".
    pub title: String,
    /// The id of the run's read whose ids are counted.
    pub present: String,
    /// The id of the run's read in which they are missing.
    pub absent: String,
}

/// A figure must stay at or below a limit.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Threshold {
    /// A figure every run reports (`STREAM_FIGURES`: `failed`, `lost`, `write_outage_s`...), a
    /// measure's id, a sample's id (or `ID_p50`), or one of the drill's `figures`.
    pub figure: String,
    pub max: f64,
    /// Why this limit, shown when it is missed.
    #[serde(default)]
    pub why: Option<String>,
}

/// One run of a drill: a fault, what is measured, the repair.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Run {
    pub id: String,
    pub title: String,
    /// Commands run first, so every run starts from the same state.
    #[serde(default)]
    pub setup: Vec<NodeCommand>,
    /// Commands whose output becomes `{{ baseline.NAME }}` in this run's later commands.
    #[serde(default)]
    pub baseline: BTreeMap<String, NodeCommand>,
    /// Commands that inject the fault.
    #[serde(default)]
    pub fault: Vec<NodeCommand>,
    /// A node to crash (a power cut) as the fault; halab starts it again as the repair.
    #[serde(default)]
    pub crash: Option<String>,
    /// Timed conditions, in order.
    #[serde(default)]
    pub measure: Vec<Measure>,
    /// Numbers sampled while the traffic flows, until the fault.
    #[serde(default)]
    pub samples: Vec<Sample>,
    /// Commands that undo the fault (after a crashed node is back).
    #[serde(default)]
    pub repair: Vec<NodeCommand>,
    /// More reads of the order ids, each on its own node (e.g. each of two servers that may
    /// both have taken orders), after the orders stop and before the repair, like the order
    /// stream's `read`; `differences` compare them.
    #[serde(default)]
    pub reads: Vec<Read>,
    /// Counts of this run's order ids one read found and another did not, each a figure.
    #[serde(default)]
    pub differences: Vec<Difference>,
    /// Limits the run must stay within to pass (`halab check --drills`).
    #[serde(default)]
    pub pass: Vec<Threshold>,
    /// Seconds the fault lasts at least (from the fault) before the repair.
    #[serde(default)]
    pub hold_s: f64,
    /// Seconds of traffic before the fault, after the last measure from the fault (so the
    /// streams see the recovery) and after the repair.
    #[serde(default = "default_settle")]
    pub settle_s: f64,
}

fn default_settle() -> f64 {
    1.0
}

/// The figures halab computes itself from a run's request stream and order stream, by the names
/// thresholds use: the fields of `drill::result::RequestFigures` and `OrderFigures` (a test there
/// keeps the two lists equal). A lesson's own figures, measures and samples may not take these
/// names.
pub const STREAM_FIGURES: &[&str] = &[
    "requests",
    "failed",
    "worst_ms",
    "p50_ms",
    "read_outage_s",
    "during_fault",
    "failed_during_fault",
    "writes",
    "acknowledged",
    "writes_failed",
    "writes_unknown",
    "lost",
    "recovered",
    "unexpected",
    "duplicates",
    "write_outage_s",
];

/// The suffix of a sample's median figure (`ID_p50`).
pub const MEDIAN_SUFFIX: &str = "_p50";

impl Drill {
    /// Every command text of the drill with where it is (below `at`, the drill's own place).
    pub fn texts(&self, at: &DocPath) -> Vec<(DocPath, &str)> {
        let mut out: Vec<(DocPath, &str)> = Vec::new();
        out.push((at.key("claim"), &self.claim));
        for (i, r) in self.roles.iter().enumerate() {
            out.push((at.key("roles").index(i).key("run"), &r.run));
            if let Some(h) = &r.hint {
                out.push((at.key("roles").index(i).key("hint"), h));
            }
        }
        for (i, p) in self.ready.iter().enumerate() {
            let pp = at.key("ready").index(i);
            out.push((pp.key("run"), &p.run));
            out.push((pp.key("message"), &p.message));
            out.push((pp.key("hint"), &p.hint));
        }
        if let Some(r) = &self.requests {
            out.push((at.key("requests").key("url"), &r.url));
        }
        if let Some(w) = &self.orders {
            let wp = at.key("orders");
            out.push((wp.key("url"), &w.url));
            out.push((wp.key("body"), &w.body));
            out.push((wp.key("read").key("run"), &w.read.run));
            for (i, s) in w.setup.iter().enumerate() {
                out.push((wp.key("setup").index(i).key("run"), &s.run));
            }
        }
        for (i, s) in self.context.iter().enumerate() {
            out.push((at.key("context").index(i).key("run"), &s.run));
        }
        for (i, f) in self.figures.iter().enumerate() {
            out.push((at.key("figures").index(i).key("run"), &f.run));
        }
        if let Some(l) = &self.leaves {
            out.push((at.key("leaves"), l));
        }
        for (ri, r) in self.runs.iter().enumerate() {
            let rp = at.key("runs").index(ri);
            for (k, c) in &r.baseline {
                out.push((rp.key("baseline").key(k).key("run"), &c.run));
            }
            for (key, list) in [
                ("setup", &r.setup),
                ("fault", &r.fault),
                ("repair", &r.repair),
            ] {
                for (i, c) in list.iter().enumerate() {
                    out.push((rp.key(key).index(i).key("run"), &c.run));
                }
            }
            for (si, x) in r.samples.iter().enumerate() {
                out.push((rp.key("samples").index(si).key("run"), &x.run));
            }
            for (i, x) in r.reads.iter().enumerate() {
                out.push((rp.key("reads").index(i).key("run"), &x.run));
            }
            for (mi, m) in r.measure.iter().enumerate() {
                let mp = rp.key("measure").index(mi);
                out.push((mp.key("until"), &m.until));
                if let Some(a) = &m.assist {
                    out.push((mp.key("assist").key("label"), &a.label));
                    for (i, c) in a.run.iter().enumerate() {
                        out.push((mp.key("assist").key("run").index(i).key("run"), &c.run));
                    }
                }
            }
        }
        out
    }

    /// Every node the drill names, with where (below `at`, the drill's own place).
    pub fn nodes(&self, at: &DocPath) -> Vec<(DocPath, &str)> {
        let mut out: Vec<(DocPath, &str)> = Vec::new();
        for (i, r) in self.roles.iter().enumerate() {
            for (j, n) in r.among.iter().enumerate() {
                out.push((at.key("roles").index(i).key("among").index(j), n));
            }
        }
        for (i, p) in self.ready.iter().enumerate() {
            out.push((at.key("ready").index(i).key("node"), &p.node));
        }
        if let Some(r) = &self.requests {
            out.push((at.key("requests").key("node"), &r.node));
        }
        if let Some(w) = &self.orders {
            let wp = at.key("orders");
            out.push((wp.key("node"), &w.node));
            out.push((wp.key("read").key("node"), &w.read.node));
            for (i, s) in w.setup.iter().enumerate() {
                out.push((wp.key("setup").index(i).key("node"), &s.node));
            }
        }
        for (i, s) in self.context.iter().enumerate() {
            out.push((at.key("context").index(i).key("node"), &s.node));
        }
        for (i, f) in self.figures.iter().enumerate() {
            out.push((at.key("figures").index(i).key("node"), &f.node));
        }
        for (ri, r) in self.runs.iter().enumerate() {
            let rp = at.key("runs").index(ri);
            if let Some(c) = &r.crash {
                out.push((rp.key("crash"), c));
            }
            for (k, c) in &r.baseline {
                out.push((rp.key("baseline").key(k).key("node"), &c.node));
            }
            for (key, list) in [
                ("setup", &r.setup),
                ("fault", &r.fault),
                ("repair", &r.repair),
            ] {
                for (i, c) in list.iter().enumerate() {
                    out.push((rp.key(key).index(i).key("node"), &c.node));
                }
            }
            for (si, x) in r.samples.iter().enumerate() {
                out.push((rp.key("samples").index(si).key("node"), &x.node));
            }
            for (i, x) in r.reads.iter().enumerate() {
                out.push((rp.key("reads").index(i).key("node"), &x.node));
            }
            for (mi, m) in r.measure.iter().enumerate() {
                let mp = rp.key("measure").index(mi);
                out.push((mp.key("node"), &m.node));
                for (i, n) in m.also_on.iter().enumerate() {
                    out.push((mp.key("also_on").index(i), n));
                }
                for (i, c) in m.assist.iter().flat_map(|a| &a.run).enumerate() {
                    out.push((mp.key("assist").key("run").index(i).key("node"), &c.node));
                }
            }
        }
        out
    }
}

impl Drill {
    /// The same drill with every `@ROLE` node reference replaced by the node that plays it in
    /// `cast` (role id -> node); a reference to a part not in `cast` stays as it is.
    pub fn bind(&self, cast: &BTreeMap<String, String>) -> Drill {
        let mut d = self.clone();
        for node in d.nodes_mut() {
            if let Some(role) = node.strip_prefix(ROLE_SIGIL)
                && let Some(n) = cast.get(role)
            {
                *node = n.clone();
            }
        }
        d
    }

    /// Every node reference of the drill's commands, streams and crashes, to bind them (the
    /// same places as [`Drill::nodes`], without the roles' candidates).
    fn nodes_mut(&mut self) -> Vec<&mut String> {
        let mut out: Vec<&mut String> = Vec::new();
        out.extend(self.ready.iter_mut().map(|p| &mut p.node));
        if let Some(r) = &mut self.requests {
            out.push(&mut r.node);
        }
        if let Some(w) = &mut self.orders {
            out.push(&mut w.node);
            out.push(&mut w.read.node);
            out.extend(w.setup.iter_mut().map(|s| &mut s.node));
        }
        out.extend(self.context.iter_mut().map(|s| &mut s.node));
        out.extend(self.figures.iter_mut().map(|f| &mut f.node));
        for r in &mut self.runs {
            if let Some(c) = &mut r.crash {
                out.push(c);
            }
            out.extend(r.baseline.values_mut().map(|c| &mut c.node));
            for list in [&mut r.setup, &mut r.fault, &mut r.repair] {
                out.extend(list.iter_mut().map(|c| &mut c.node));
            }
            out.extend(r.samples.iter_mut().map(|x| &mut x.node));
            for m in &mut r.measure {
                out.push(&mut m.node);
                if let Some(a) = &mut m.assist {
                    out.extend(a.run.iter_mut().map(|c| &mut c.node));
                }
            }
        }
        out
    }
}

/// The longest a drill may wait for one thing, in seconds: a measure, a hold, a claim.
const MAX_WAIT_S: f64 = 3600.0;
/// Traffic intervals and timeouts, in milliseconds.
const MAX_EVERY_MS: f64 = 60_000.0;
const MAX_TIMEOUT_MS: f64 = 300_000.0;

/// Check the numbers and ids of one drill (at `dp`): every duration finite and in range, every
/// id used once in its list, no measure named like a figure every run reports.
pub(super) fn check(d: &Drill, dp: &DocPath, doc: &mut Doc) {
    let traffic = [
        d.requests
            .as_ref()
            .map(|r| (dp.key("requests"), r.every_ms, r.timeout_ms)),
        d.orders
            .as_ref()
            .map(|w| (dp.key("orders"), w.every_ms, w.timeout_ms)),
    ];
    for (p, every, timeout) in traffic.into_iter().flatten() {
        doc.number_in(
            &p.key("every_ms"),
            every as f64,
            1.0..=MAX_EVERY_MS,
            format!("write an interval from 1 to {MAX_EVERY_MS} ms, e.g. `100`"),
        );
        doc.number_in(
            &p.key("timeout_ms"),
            timeout as f64,
            1.0..=MAX_TIMEOUT_MS,
            format!("write a timeout from 1 to {MAX_TIMEOUT_MS} ms, e.g. `3000`"),
        );
    }
    if let Some(o) = &d.orders {
        check_orders(o, &dp.key("orders"), doc);
    }
    check_roles(d, dp, doc);
    let mut figure_ids = Ids::new("figures", "give each figure of a drill its own id");
    for (i, f) in d.figures.iter().enumerate() {
        let fp = dp.key("figures").index(i).key("id");
        let twice = format!("figure `{}` appears twice in drill `{}`", f.id, d.id);
        let first_use = figure_ids.once(doc, &fp, i, &f.id, twice);
        if first_use && STREAM_FIGURES.contains(&f.id.as_str()) {
            doc.error(
                &fp,
                format!(
                    "figure `{}` has the name of a figure every run reports",
                    f.id
                ),
                Some(format!(
                    "choose another id; taken: {}",
                    STREAM_FIGURES.join(", ")
                )),
            );
        } else if first_use
            && let Some(r) = d
                .runs
                .iter()
                .find(|r| r.measure.iter().any(|m| m.id == f.id))
        {
            doc.error(
                &fp,
                format!("figure `{}` is also a measure of run `{}`", f.id, r.id),
                Some("give the figure and the measure different ids".into()),
            );
        }
        for (ri, run) in f.runs.iter().enumerate() {
            if !d.runs.iter().any(|r| &r.id == run) {
                let ids: Vec<&str> = d.runs.iter().map(|r| r.id.as_str()).collect();
                let mut hint = format!("runs of drill `{}`: {}", d.id, ids.join(", "));
                if let Some(m) = super::diag::did_you_mean(run, ids.iter().copied()) {
                    hint = format!("did you mean `{m}`? ({hint})");
                }
                doc.error(
                    &dp.key("figures").index(i).key("runs").index(ri),
                    format!(
                        "figure `{}` names run `{run}`, which drill `{}` does not have",
                        f.id, d.id
                    ),
                    Some(hint),
                );
            }
        }
    }
    let mut run_ids = Ids::new("runs", "give each run of a drill its own id");
    for (ri, r) in d.runs.iter().enumerate() {
        let rp = dp.key("runs").index(ri);
        let twice = format!("run `{}` appears twice in drill `{}`", r.id, d.id);
        run_ids.once(doc, &rp.key("id"), ri, &r.id, twice);
        doc.number_in(
            &rp.key("hold_s"),
            r.hold_s,
            0.0..=MAX_WAIT_S,
            format!(
                "write how long the fault lasts at least, 0 to {MAX_WAIT_S} seconds, e.g. `3.0`"
            ),
        );
        doc.number_in(
            &rp.key("settle_s"),
            r.settle_s,
            0.0..=600.0,
            "write the seconds of traffic before the fault and after, 0 to 600, e.g. `1.0`",
        );
        check_samples(d, r, &rp, doc);
        check_reads(d, r, &rp, doc);
        let mut measure_ids = Ids::new("measure", "give each measure of a run its own id");
        for (mi, m) in r.measure.iter().enumerate() {
            let mp = rp.key("measure").index(mi);
            let twice = format!("measure `{}` appears twice in run `{}`", m.id, r.id);
            if measure_ids.once(doc, &mp.key("id"), mi, &m.id, twice)
                && STREAM_FIGURES.contains(&m.id.as_str())
            {
                doc.error(
                    &mp.key("id"),
                    format!(
                        "measure `{}` has the name of a figure every run reports",
                        m.id
                    ),
                    Some(format!(
                        "choose another id; taken: {}",
                        STREAM_FIGURES.join(", ")
                    )),
                );
            }
            doc.number_in(
                &mp.key("limit_s"),
                m.limit_s,
                (std::ops::Bound::Excluded(0.0), std::ops::Bound::Included(MAX_WAIT_S)),
                format!("write how long to wait at most, more than 0 and up to {MAX_WAIT_S} seconds, e.g. `20`"),
            );
            if let Some(c) = m.claim_s {
                doc.number_in(
                    &mp.key("claim_s"),
                    c,
                    0.0..=MAX_WAIT_S * 24.0,
                    "write the chapter's figure in seconds, e.g. `3.0`",
                );
            }
        }
        for (ti, t) in r.pass.iter().enumerate() {
            doc.number_in(
                &rp.key("pass").index(ti).key("max"),
                t.max,
                0.0..,
                "write the largest value that passes, 0 or more, e.g. `0` or `5.0`",
            );
        }
    }
}

/// The drill's parts: each id a simple name used once, played by one of at least one node,
/// found by a regex that compiles; every `@ROLE` reference names one of them.
fn check_roles(d: &Drill, dp: &DocPath, doc: &mut Doc) {
    let mut ids = Ids::new("roles", "give each role of a drill its own id");
    for (i, r) in d.roles.iter().enumerate() {
        let rp = dp.key("roles").index(i);
        let twice = format!("role `{}` appears twice in drill `{}`", r.id, d.id);
        if ids.once(doc, &rp.key("id"), i, &r.id, twice) && !is_simple_name(&r.id, 30) {
            doc.error(
                &rp.key("id"),
                format!("role id `{}` is not a simple name", r.id),
                Some("use lowercase letters, digits and `-`, e.g. `primary`".into()),
            );
        }
        if r.among.is_empty() {
            doc.error(
                &rp.key("among"),
                format!("role `{}` has no candidates: `among` is empty", r.id),
                Some("list the nodes that may play it, e.g. `among = [\"db-1\", \"db-2\"]`".into()),
            );
        }
        // (A template in `stdout` is not rendered: it is matched as written.)
        if let Err(e) = regex::Regex::new(&r.stdout) {
            doc.error(
                &rp.key("stdout"),
                format!("not a valid regex: {e}"),
                Some("write a regex in Rust's `regex` syntax, e.g. `^f$`".into()),
            );
        }
    }
    let names: Vec<&str> = d.roles.iter().map(|r| r.id.as_str()).collect();
    for (place, node) in d.nodes(dp) {
        if let Some(role) = node.strip_prefix(ROLE_SIGIL)
            && !names.contains(&role)
        {
            let help = if names.is_empty() {
                format!(
                    "`{ROLE_SIGIL}NAME` is a part the drill's `roles` find: declare it, e.g. \
                     `roles = [{{ id = \"{role}\", among = [...], run = \"...\", stdout = \"...\" }}]`, \
                     or name a node"
                )
            } else {
                unknown_name_help(role, &names, "roles", true)
            };
            doc.error(
                &place,
                format!("drill `{}` has no role `{role}`", d.id),
                Some(help),
            );
        }
    }
}

/// The order stream's statuses and body: each status an HTTP status, in one list only, some
/// status acknowledging; a body that carries the order's id.
fn check_orders(o: &Orders, op: &DocPath, doc: &mut Doc) {
    if o.ok_status.is_empty() {
        doc.error(
            &op.key("ok_status"),
            "`ok_status` is empty: no answer would acknowledge an order",
            Some("list the statuses that mean stored, e.g. `[201]`".into()),
        );
    }
    for (key, list) in [("ok_status", &o.ok_status), ("fail_status", &o.fail_status)] {
        for (i, s) in list.iter().enumerate() {
            if !(100..=599).contains(s) {
                doc.error(
                    &op.key(key).index(i),
                    format!("`{s}` is not an HTTP status"),
                    Some("write a status from 100 to 599, e.g. `201` or `503`".into()),
                );
            }
        }
    }
    for (i, s) in o.fail_status.iter().enumerate() {
        if o.ok_status.contains(s) {
            doc.error(
                &op.key("fail_status").index(i),
                format!("status {s} is in both `ok_status` and `fail_status`"),
                Some(
                    "an answer either acknowledges an order or refuses it: keep it in one list"
                        .into(),
                ),
            );
        }
    }
    if !o.body.contains("{id}") {
        doc.error(
            &op.key("body"),
            "the order's body does not carry its id (`{id}`)",
            Some("write `{id}` where the order's id goes, e.g. `id={id}`".into()),
        );
    }
}

/// A run's reads and differences: reads only beside an order stream, each id once; each
/// difference's id once and not the name of another figure of the run, between two different
/// reads of the run.
fn check_reads(d: &Drill, r: &Run, rp: &DocPath, doc: &mut Doc) {
    if d.orders.is_none() && !r.reads.is_empty() {
        doc.error(
            &rp.key("reads"),
            format!(
                "run `{}` reads order ids, but drill `{}` sends no orders",
                r.id, d.id
            ),
            Some("add `orders = { ... }` to the drill, or drop `reads`".into()),
        );
    }
    let mut ids = Ids::new("reads", "give each read of a run its own id");
    for (i, x) in r.reads.iter().enumerate() {
        let twice = format!("read `{}` appears twice in run `{}`", x.id, r.id);
        ids.once(doc, &rp.key("reads").index(i).key("id"), i, &x.id, twice);
    }
    let reads: Vec<&str> = r.reads.iter().map(|x| x.id.as_str()).collect();
    let mut ids = Ids::new("differences", "give each difference of a run its own id");
    for (i, x) in r.differences.iter().enumerate() {
        let xp = rp.key("differences").index(i);
        let twice = format!("difference `{}` appears twice in run `{}`", x.id, r.id);
        if ids.once(doc, &xp.key("id"), i, &x.id, twice) {
            let clash = if STREAM_FIGURES.contains(&x.id.as_str()) {
                Some("a figure every run reports".to_string())
            } else if r.measure.iter().any(|m| m.id == x.id) {
                Some(format!("a measure of run `{}`", r.id))
            } else if r
                .samples
                .iter()
                .any(|s| s.id == x.id || format!("{}{MEDIAN_SUFFIX}", s.id) == x.id)
            {
                Some(format!("a sample's figure of run `{}`", r.id))
            } else if d.figures.iter().any(|f| f.id == x.id) {
                Some(format!("a figure of drill `{}`", d.id))
            } else {
                None
            };
            if let Some(c) = clash {
                doc.error(
                    &xp.key("id"),
                    format!("difference `{}` has the name of {c}", x.id),
                    Some(format!(
                        "choose another id; taken: {}",
                        STREAM_FIGURES.join(", ")
                    )),
                );
            }
        }
        for (key, name) in [("present", &x.present), ("absent", &x.absent)] {
            if !reads.contains(&name.as_str()) {
                doc.error(
                    &xp.key(key),
                    format!("no read `{name}` in run `{}`", r.id),
                    Some(super::diag::unknown_name_help(name, &reads, "reads", true)),
                );
            }
        }
        if x.present == x.absent {
            doc.error(
                &xp.key("absent"),
                format!(
                    "difference `{}` compares read `{}` with itself: it is always 0",
                    x.id, x.present
                ),
                Some("name two different reads in `present` and `absent`".into()),
            );
        }
    }
}

/// A run's samples: each id once, not the name of another figure of the run (nor is its
/// median's), each interval in range.
fn check_samples(d: &Drill, r: &Run, rp: &DocPath, doc: &mut Doc) {
    let mut ids = Ids::new("samples", "give each sample of a run its own id");
    for (i, x) in r.samples.iter().enumerate() {
        let sp = rp.key("samples").index(i);
        let twice = format!("sample `{}` appears twice in run `{}`", x.id, r.id);
        if ids.once(doc, &sp.key("id"), i, &x.id, twice) {
            let median = format!("{}{MEDIAN_SUFFIX}", x.id);
            for name in [x.id.as_str(), median.as_str()] {
                let clash = if STREAM_FIGURES.contains(&name) {
                    Some("a figure every run reports".to_string())
                } else if r.measure.iter().any(|m| m.id == name) {
                    Some(format!("a measure of run `{}`", r.id))
                } else if d.figures.iter().any(|f| f.id == name) {
                    Some(format!("a figure of drill `{}`", d.id))
                } else {
                    None
                };
                if let Some(c) = clash {
                    doc.error(
                        &sp.key("id"),
                        format!("sample `{}` reports `{name}`, the name of {c}", x.id),
                        Some(format!(
                            "choose another id (a sample reports ID and ID{MEDIAN_SUFFIX}); taken: {}",
                            STREAM_FIGURES.join(", ")
                        )),
                    );
                    break;
                }
            }
        }
        doc.number_in(
            &sp.key("every_ms"),
            x.every_ms as f64,
            1.0..=MAX_EVERY_MS,
            format!("write an interval from 1 to {MAX_EVERY_MS} ms, e.g. `500`"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A drill that names the part `@p` in every place a node goes.
    const EVERYWHERE: &str = r#"
id = "d"
title = "t"
claim = "c"
roles = [{ id = "p", among = ["n1", "n2"], run = "true", stdout = "." }]
ready = [{ node = "@p", run = "true", message = "m", hint = "h" }]
requests = { node = "@p", url = "u", every_ms = 1, timeout_ms = 1 }
orders = { node = "@p", url = "u", every_ms = 1, timeout_ms = 1, setup = [{ node = "@p", run = "true" }], read = { node = "@p", run = "true" } }
context = [{ title = "t", node = "@p", run = "true" }]
figures = [{ id = "f", title = "t", node = "@p", run = "echo 1" }]

[[runs]]
id = "r"
title = "t"
crash = "@p"
baseline = { b = { node = "@p", run = "true" } }
setup = [{ node = "@p", run = "true" }]
fault = [{ node = "@p", run = "true" }]
repair = [{ node = "@p", run = "true" }]
samples = [{ id = "s", title = "t", node = "@p", run = "true", every_ms = 1 }]
measure = [{ id = "m", title = "t", node = "@p", until = "true", limit_s = 1, assist = { label = "l", run = [{ node = "@p", run = "true" }] } }]
"#;

    #[test]
    fn bind_puts_the_node_that_plays_a_part_in_every_place_a_node_goes() {
        let d: Drill = toml::from_str(EVERYWHERE).unwrap();
        let at = DocPath::root();
        let named: Vec<&str> = d.nodes(&at).into_iter().map(|(_, n)| n).collect();
        // Every place but the role's own candidates names the part.
        assert_eq!(
            named.iter().filter(|n| **n == "@p").count(),
            named.len() - 2
        );
        assert_eq!(d.nodes_mut_count(), named.len() - 2);
        let bound = d.bind(&BTreeMap::from([("p".to_string(), "n2".to_string())]));
        let named: Vec<&str> = bound.nodes(&at).into_iter().map(|(_, n)| n).collect();
        assert!(named.iter().all(|n| n.starts_with('n')), "{named:?}");
        assert_eq!(bound.runs[0].crash.as_deref(), Some("n2"));
        // A part not cast stays as written.
        let unbound = d.bind(&BTreeMap::new());
        assert_eq!(unbound.runs[0].fault[0].node, "@p");
    }

    impl Drill {
        fn nodes_mut_count(&self) -> usize {
            self.clone().nodes_mut().len()
        }
    }
}
