//! Failure drills as data (`[[drills]]` in a lesson file): what to break, what to measure while
//! it is broken, how to put it back, and the thresholds the lesson sets. `halab drill ID` runs
//! them (`crate::drill`); nothing here runs anything. `check` keeps every duration and count a
//! drill gives finite and in range, and its run and measure ids unique.
//!
//! Must not: name a node, step or command in Rust: all of that is the lesson's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::diag::{Doc, DocPath, Ids};
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
    /// Settings shown with the results, because they explain them (e.g. a proxy's timeouts).
    #[serde(default)]
    pub context: Vec<Shown>,
    /// Figures the lesson computes from the lab's own configuration before the runs (e.g. a
    /// protocol's own takeover time): every run reports them, shown beside the chapter's claims.
    #[serde(default)]
    pub figures: Vec<DerivedFigure>,
    /// The runs, in order (e.g. a clean stop, then a crash).
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
    /// What a missing row means, shown with the count (e.g. the replication mode that loses it).
    #[serde(default)]
    pub lost_means: Option<String>,
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
    /// Run with `bash -c` as root (a template); prints one number, in seconds.
    pub run: String,
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

/// A figure must stay at or below a limit.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Threshold {
    /// `failed`, `worst_ms`, `rows_lost`, a measure's id, or one of the drill's `figures`.
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

/// The figures halab computes itself from a run's request stream and writer, by the names
/// thresholds use: the fields of `drill::result::RequestFigures` and `WriteFigures` (a test there
/// keeps the two lists equal). A lesson's own figures and measures may not take these names.
pub const STREAM_FIGURES: &[&str] = &[
    "requests",
    "failed",
    "worst_ms",
    "p50_ms",
    "failed_window_s",
    "rows_committed",
    "rows_lost",
];

impl Drill {
    /// Every command text of the drill with where it is (below `at`, the drill's own place).
    pub fn texts(&self, at: &DocPath) -> Vec<(DocPath, &str)> {
        let mut out: Vec<(DocPath, &str)> = Vec::new();
        out.push((at.key("claim"), &self.claim));
        for (i, p) in self.ready.iter().enumerate() {
            let pp = at.key("ready").index(i);
            out.push((pp.key("run"), &p.run));
            out.push((pp.key("message"), &p.message));
            out.push((pp.key("hint"), &p.hint));
        }
        if let Some(r) = &self.requests {
            out.push((at.key("requests").key("url"), &r.url));
        }
        if let Some(w) = &self.writes {
            let wp = at.key("writes");
            out.push((wp.key("write"), &w.write));
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
        for (i, p) in self.ready.iter().enumerate() {
            out.push((at.key("ready").index(i).key("node"), &p.node));
        }
        if let Some(r) = &self.requests {
            out.push((at.key("requests").key("node"), &r.node));
        }
        if let Some(w) = &self.writes {
            let wp = at.key("writes");
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
            for (mi, m) in r.measure.iter().enumerate() {
                let mp = rp.key("measure").index(mi);
                out.push((mp.key("node"), &m.node));
                for (i, c) in m.assist.iter().flat_map(|a| &a.run).enumerate() {
                    out.push((mp.key("assist").key("run").index(i).key("node"), &c.node));
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
        d.writes
            .as_ref()
            .map(|w| (dp.key("writes"), w.every_ms, w.timeout_ms)),
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
