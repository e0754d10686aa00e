//! Failure drills as data (`[[drills]]` in a lesson file): what to break, what to measure while
//! it is broken, how to put it back, and the thresholds the lesson sets. `halab drill ID` runs
//! them (`crate::drill`); nothing here runs anything.
//!
//! Must not: name a node, step or command in Rust: all of that is the lesson's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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
    /// Numbered writes at a fixed rate during every run: what was committed, and what survived.
    #[serde(default)]
    pub writes: Option<Writes>,
    /// Settings shown with the results, because they explain them (e.g. nginx's timeouts).
    #[serde(default)]
    pub context: Vec<Shown>,
    /// Where the VRRP takeover time comes from: a backup's keepalived configuration.
    #[serde(default)]
    pub vrrp: Option<VrrpSource>,
    /// The runs, in order (e.g. a graceful stop, then a crash).
    pub runs: Vec<Run>,
    /// What the drill leaves changed and how to rebuild it; shown after it (templates).
    #[serde(default)]
    pub leaves: Option<String>,
}

/// A command that must succeed before a drill, and what to tell the trainee when it does not.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Precondition {
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

/// Numbered writes at a fixed rate from a node.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Writes {
    /// Where the writer runs.
    pub node: String,
    /// Run once before each run (e.g. create an empty table).
    #[serde(default)]
    pub setup: Vec<NodeCommand>,
    /// One write: a command (template) in which `$1` is the row's number; exit 0 = committed.
    pub write: String,
    pub every_ms: u64,
    pub timeout_ms: u64,
    /// After the run: prints, one per line, the numbers of the rows that survived.
    pub read: NodeCommand,
}

/// A command whose output is shown with a drill's results.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Shown {
    pub title: String,
    pub node: String,
    pub run: String,
}

/// A node's keepalived configuration, for VRRP's own takeover time:
/// 3 x advert_int + (256 - priority) / 256 x advert_int.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct VrrpSource {
    pub node: String,
    /// The configuration file (a template).
    pub path: String,
}

/// When a measure's clock starts.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum From {
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
    #[serde(default)]
    pub from: From,
    /// Give up after this many seconds.
    pub limit_s: f64,
    /// The chapter's own figure for it, in seconds, shown beside the measurement.
    #[serde(default)]
    pub claim_s: Option<f64>,
    /// With `--promote`, halab runs these itself before waiting (else it waits for the
    /// trainee to do it).
    #[serde(default)]
    pub with_promote: Vec<NodeCommand>,
}

/// A figure must stay at or below a limit.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Threshold {
    /// `failed`, `worst_ms`, `rows_lost`, or a measure's id.
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
    /// Commands that undo the fault (after a crashed node is back).
    #[serde(default)]
    pub repair: Vec<NodeCommand>,
    /// Limits the run must stay within to pass (`halab check --drills`).
    #[serde(default)]
    pub pass: Vec<Threshold>,
    /// Seconds the fault lasts at least (from the fault) before the repair.
    #[serde(default)]
    pub hold_s: f64,
    /// Seconds of traffic before the fault and after the last measure.
    #[serde(default = "default_settle")]
    pub settle_s: f64,
}

fn default_settle() -> f64 {
    1.0
}

/// The figures every run reports besides its measures.
pub const STREAM_FIGURES: &[&str] = &[
    "requests",
    "failed",
    "worst_ms",
    "p50_ms",
    "failed_window_s",
    "rows_committed",
    "rows_lost",
    "vrrp_s",
];

impl Drill {
    /// Every command text of the drill with a label, for template validation.
    pub fn texts(&self) -> Vec<(String, &str)> {
        let mut out: Vec<(String, &str)> = Vec::new();
        out.push(("claim".into(), &self.claim));
        for (i, p) in self.ready.iter().enumerate() {
            out.push((format!("ready[{i}].run"), &p.run));
            out.push((format!("ready[{i}].message"), &p.message));
            out.push((format!("ready[{i}].hint"), &p.hint));
        }
        if let Some(r) = &self.requests {
            out.push(("requests.url".into(), &r.url));
        }
        if let Some(w) = &self.writes {
            out.push(("writes.write".into(), &w.write));
            out.push(("writes.read.run".into(), &w.read.run));
            for (i, s) in w.setup.iter().enumerate() {
                out.push((format!("writes.setup[{i}].run"), &s.run));
            }
        }
        for (i, s) in self.context.iter().enumerate() {
            out.push((format!("context[{i}].run"), &s.run));
        }
        if let Some(v) = &self.vrrp {
            out.push(("vrrp.path".into(), &v.path));
        }
        if let Some(l) = &self.leaves {
            out.push(("leaves".into(), l));
        }
        for (ri, r) in self.runs.iter().enumerate() {
            for (k, c) in &r.baseline {
                out.push((format!("runs[{ri}].baseline.{k}.run"), &c.run));
            }
            for (i, c) in r.setup.iter().chain(&r.fault).chain(&r.repair).enumerate() {
                out.push((format!("runs[{ri}].setup/fault/repair[{i}].run"), &c.run));
            }
            for (mi, m) in r.measure.iter().enumerate() {
                out.push((format!("runs[{ri}].measure[{mi}].until"), &m.until));
                for (i, c) in m.with_promote.iter().enumerate() {
                    out.push((
                        format!("runs[{ri}].measure[{mi}].with_promote[{i}].run"),
                        &c.run,
                    ));
                }
            }
        }
        out
    }

    /// Every node the drill names, with where.
    pub fn nodes(&self) -> Vec<(String, &str)> {
        let mut out: Vec<(String, &str)> = Vec::new();
        for (i, p) in self.ready.iter().enumerate() {
            out.push((format!("ready[{i}].node"), &p.node));
        }
        if let Some(r) = &self.requests {
            out.push(("requests.node".into(), &r.node));
        }
        if let Some(w) = &self.writes {
            out.push(("writes.node".into(), &w.node));
            out.push(("writes.read.node".into(), &w.read.node));
            for (i, s) in w.setup.iter().enumerate() {
                out.push((format!("writes.setup[{i}].node"), &s.node));
            }
        }
        for (i, s) in self.context.iter().enumerate() {
            out.push((format!("context[{i}].node"), &s.node));
        }
        if let Some(v) = &self.vrrp {
            out.push(("vrrp.node".into(), &v.node));
        }
        for (ri, r) in self.runs.iter().enumerate() {
            if let Some(c) = &r.crash {
                out.push((format!("runs[{ri}].crash"), c));
            }
            for (k, c) in &r.baseline {
                out.push((format!("runs[{ri}].baseline.{k}.node"), &c.node));
            }
            for (i, c) in r.setup.iter().chain(&r.fault).chain(&r.repair).enumerate() {
                out.push((format!("runs[{ri}].setup/fault/repair[{i}].node"), &c.node));
            }
            for (mi, m) in r.measure.iter().enumerate() {
                out.push((format!("runs[{ri}].measure[{mi}].node"), &m.node));
            }
        }
        out
    }
}
