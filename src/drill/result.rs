//! What a drill measured, as types: the figures halab computes itself from the request stream
//! and the order stream (named fields), the lesson's own figures (keyed by the lesson's ids), the
//! raw history of every request and order, the verdicts against the lesson's limits, one run's
//! result and the drill's. These are the shapes `halab drill --format json` prints and the lab's
//! record keeps; the arithmetic over what the streams printed is here too: each order's outcome,
//! Jepsen's set checker (acknowledged, lost, recovered, unexpected, duplicated), the outage
//! windows users saw, and the reduction of sampled numbers.
//!
//! Must not: run anything, or name a figure of a lesson (its ids are data).

use std::collections::{BTreeMap, BTreeSet};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use crate::content::drill::{Difference, Drill, MEDIAN_SUFFIX, Orders, Read, Run, Threshold};

/// One request of the stream, as the node's stream printed it.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub(crate) struct Request {
    /// Unix time it started.
    pub t: f64,
    /// How long it took, in milliseconds.
    pub ms: f64,
    /// An answer with a 2xx or 3xx status.
    pub ok: bool,
    /// The answer's HTTP status, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The first line of the answer.
    #[serde(default)]
    pub body: String,
    /// Why it failed (an exception's type and text).
    #[serde(default)]
    pub error: String,
}

/// What the request stream saw during a run.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub(crate) struct RequestFigures {
    /// Requests sent.
    #[serde(deserialize_with = "count")]
    pub requests: u64,
    /// Requests that did not get an answer with a 2xx or 3xx status in time.
    #[serde(deserialize_with = "count")]
    pub failed: u64,
    /// The slowest request, in milliseconds.
    pub worst_ms: f64,
    /// The median request, in milliseconds.
    pub p50_ms: f64,
    /// The longest read outage, in seconds (see [`longest_outage`]); 0 when none failed (and
    /// in results kept before it was measured).
    #[serde(default)]
    pub read_outage_s: f64,
    /// Requests sent while the fault held: from the moment it was in place until the repair
    /// began (0 in results kept before it was counted).
    #[serde(default, deserialize_with = "count")]
    pub during_fault: u64,
    /// Of those, the requests that failed.
    #[serde(default, deserialize_with = "count")]
    pub failed_during_fault: u64,
}

/// How an order ended, as a client can know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Outcome {
    /// Acknowledged: an answer with one of the lesson's `ok_status`.
    Ok,
    /// Refused: one of the lesson's `fail_status`, or nothing was sent (connection refused).
    Fail,
    /// May have happened: another status (e.g. a proxy's 502/504), a timeout, a connection cut
    /// after the order was sent.
    Unknown,
}

/// One order as the node's order stream printed it, before it is judged.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct SentOrder {
    /// The order's id.
    pub id: String,
    /// Unix time it was sent.
    pub t: f64,
    /// How long it took, in milliseconds.
    pub ms: f64,
    /// Whether the request left the client (false: the connection was never made).
    pub sent: bool,
    /// The answer's HTTP status, when there was one.
    #[serde(default)]
    pub status: Option<u16>,
    /// What went wrong (an exception's type and text).
    #[serde(default)]
    pub error: String,
}

/// One order of a run's history, with its outcome.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub(crate) struct Order {
    /// The order's id (this run's prefix, `-`, a counter).
    pub id: String,
    /// Unix time it was sent.
    pub t: f64,
    /// How long it took, in milliseconds.
    pub ms: f64,
    /// What the client can know of it.
    pub outcome: Outcome,
    /// The answer's HTTP status, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// What went wrong (an exception's type and text).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
}

/// The outcome of one order by the lesson's status lists: a listed status decides; any other
/// status is unknown; no status is a failure when nothing was sent, unknown otherwise.
pub(crate) fn outcome(o: &SentOrder, spec: &Orders) -> Outcome {
    match o.status {
        Some(s) if spec.ok_status.contains(&s) => Outcome::Ok,
        Some(s) if spec.fail_status.contains(&s) => Outcome::Fail,
        Some(_) => Outcome::Unknown,
        None if !o.sent => Outcome::Fail,
        None => Outcome::Unknown,
    }
}

/// The orders the stream printed (one JSON object a line; other lines are not orders), judged.
pub(crate) fn orders(printed: &str, spec: &Orders) -> Vec<Order> {
    printed
        .lines()
        .filter_map(|l| serde_json::from_str::<SentOrder>(l).ok())
        .map(|o| Order {
            outcome: outcome(&o, spec),
            id: o.id,
            t: o.t,
            ms: o.ms,
            status: o.status,
            error: o.error,
        })
        .collect()
}

/// What the order stream saw during a run, and what of it survived (Jepsen's set checker).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub(crate) struct OrderFigures {
    /// Orders sent.
    #[serde(deserialize_with = "count")]
    pub writes: u64,
    /// Orders acknowledged (`ok`).
    #[serde(deserialize_with = "count")]
    pub acknowledged: u64,
    /// Orders refused (`fail`).
    #[serde(deserialize_with = "count")]
    pub writes_failed: u64,
    /// Orders whose outcome the client cannot know (`unknown`).
    #[serde(deserialize_with = "count")]
    pub writes_unknown: u64,
    /// Acknowledged orders the read did not find.
    #[serde(deserialize_with = "count")]
    pub lost: u64,
    /// Failed or unknown orders the read found nonetheless.
    #[serde(deserialize_with = "count")]
    pub recovered: u64,
    /// Ids of this run the read found that were never sent.
    #[serde(deserialize_with = "count")]
    pub unexpected: u64,
    /// Ids of this run the read found more than once.
    #[serde(deserialize_with = "count")]
    pub duplicates: u64,
    /// The longest write outage, in seconds (see [`longest_outage`]); 0 when none failed.
    pub write_outage_s: f64,
}

/// The ids behind the set checker's counts.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub(crate) struct SetIds {
    /// Acknowledged, not read back.
    #[serde(default)]
    pub lost: Vec<String>,
    /// Failed or unknown, read back.
    #[serde(default)]
    pub recovered: Vec<String>,
    /// Read back with this run's prefix, never sent.
    #[serde(default)]
    pub unexpected: Vec<String>,
    /// Read back more than once.
    #[serde(default)]
    pub duplicates: Vec<String>,
}

/// The ids of `read` (one a line) that belong to the run of `prefix` (`PREFIX-...`).
fn ours<'a>(read: &'a str, prefix: &str) -> impl Iterator<Item = &'a str> {
    let ours = format!("{prefix}-");
    read.lines()
        .map(str::trim)
        .filter(move |l| l.starts_with(&ours))
}

/// Jepsen's set checker over one run: `orders` as sent and judged, `read` the ids the lesson's
/// read printed (one a line). Only ids of this run (`PREFIX-...`) count: ids other runs left in
/// the store are ignored.
pub(crate) fn check_set(orders: &[Order], read: &str, prefix: &str) -> (OrderFigures, SetIds) {
    let mut seen: BTreeMap<&str, u64> = BTreeMap::new();
    for id in ours(read, prefix) {
        *seen.entry(id).or_default() += 1;
    }
    let sent: BTreeSet<&str> = orders.iter().map(|o| o.id.as_str()).collect();
    let present = |id: &str| seen.contains_key(id);
    let count = |o: Outcome| orders.iter().filter(|x| x.outcome == o).count() as u64;
    let ids = SetIds {
        lost: orders
            .iter()
            .filter(|o| o.outcome == Outcome::Ok && !present(&o.id))
            .map(|o| o.id.clone())
            .collect(),
        recovered: orders
            .iter()
            .filter(|o| o.outcome != Outcome::Ok && present(&o.id))
            .map(|o| o.id.clone())
            .collect(),
        unexpected: seen
            .keys()
            .filter(|id| !sent.contains(*id))
            .map(|id| id.to_string())
            .collect(),
        duplicates: seen
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(id, _)| id.to_string())
            .collect(),
    };
    let figures = OrderFigures {
        writes: orders.len() as u64,
        acknowledged: count(Outcome::Ok),
        writes_failed: count(Outcome::Fail),
        writes_unknown: count(Outcome::Unknown),
        lost: ids.lost.len() as u64,
        recovered: ids.recovered.len() as u64,
        unexpected: ids.unexpected.len() as u64,
        duplicates: ids.duplicates.len() as u64,
        write_outage_s: longest_outage(
            orders.iter().map(|o| (o.t, o.ms, o.outcome == Outcome::Ok)),
        ),
    };
    (figures, ids)
}

/// The longest outage in a stream of `(send time, milliseconds, succeeded)`: each outage runs
/// from the first failure (by send time) to the send time of the first success after it; one
/// still going when the stream stopped runs to the end of the stream's last operation. 0 when
/// nothing failed.
pub(crate) fn longest_outage(ops: impl Iterator<Item = (f64, f64, bool)>) -> f64 {
    let mut ops: Vec<(f64, f64, bool)> = ops.collect();
    ops.sort_by(|a, b| a.0.total_cmp(&b.0));
    let end = ops
        .iter()
        .map(|(t, ms, _)| t + ms / 1000.0)
        .fold(f64::NEG_INFINITY, f64::max);
    let (mut longest, mut since) = (0.0_f64, None);
    for &(t, _, ok) in &ops {
        match (ok, since) {
            (false, None) => since = Some(t),
            (true, Some(from)) => {
                longest = longest.max(t - from);
                since = None;
            }
            _ => {}
        }
    }
    if let Some(from) = since {
        longest = longest.max(end - from);
    }
    longest
}

/// The median of sorted values (the upper one of an even count); 0 when there are none.
fn median(sorted: &[f64]) -> f64 {
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

/// A sample's figures from its values: the largest and the median; none without values.
pub(crate) fn reduce(values: &[f64]) -> Option<(f64, f64)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    Some((*v.last()?, median(&v)))
}

/// One sampled number: when it was taken (Unix time) and its value.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub(crate) struct Sampled {
    /// Unix time the sample's command started.
    pub t: f64,
    /// The number it printed.
    pub v: f64,
}

/// Every operation of a run's streams, as recorded: what the figures were computed from.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub(crate) struct History {
    /// Every request of the request stream.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<Request>,
    /// The prefix of this run's order ids.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prefix: String,
    /// Every order of the order stream.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<Order>,
    /// The ids of this run the read printed, in its order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read: Vec<String>,
    /// The set checker's ids behind its counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked: Option<SetIds>,
    /// Every sample taken, by sample id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub samples: BTreeMap<String, Vec<Sampled>>,
    /// The ids of this run each of the run's own reads printed, by read id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reads: BTreeMap<String, Vec<String>>,
}

/// A count, also as the whole float earlier versions kept in the lab's record (`202.0`).
fn count<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = f64::deserialize(d)?;
    if v >= 0.0 && v.fract() == 0.0 && v < u64::MAX as f64 {
        Ok(v as u64)
    } else {
        Err(D::Error::custom(format!("{v} is not a count")))
    }
}

/// The lesson's own figures of a run, by the lesson's ids: each measure's seconds and the
/// drill's derived figures.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(transparent)]
pub(crate) struct LessonFigures(BTreeMap<String, f64>);

impl LessonFigures {
    pub(crate) fn get(&self, id: &str) -> Option<f64> {
        self.0.get(id).copied()
    }

    pub(crate) fn insert(&mut self, id: &str, value: f64) {
        self.0.insert(id.to_string(), value);
    }
}

/// Every figure of a run. Kept and printed as one flat object (`"figures": {"failed": 0,
/// "moved": 2.4, ...}`): halab's own figures by their field names, the lesson's by their ids
/// (validation keeps the two apart).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub(crate) struct Figures {
    /// Set when the drill sends `requests`.
    #[serde(flatten)]
    pub requests: Option<RequestFigures>,
    /// Set when the drill sends `orders`.
    #[serde(flatten)]
    pub orders: Option<OrderFigures>,
    #[serde(flatten)]
    pub lesson: LessonFigures,
}

impl Figures {
    /// The figure a threshold names (see `content::drill::STREAM_FIGURES`); none when this run
    /// did not measure it.
    pub(crate) fn get(&self, name: &str) -> Option<f64> {
        let q = self.requests.as_ref();
        let w = self.orders.as_ref();
        match name {
            "requests" => q.map(|q| q.requests as f64),
            "failed" => q.map(|q| q.failed as f64),
            "worst_ms" => q.map(|q| q.worst_ms),
            "p50_ms" => q.map(|q| q.p50_ms),
            "read_outage_s" => q.map(|q| q.read_outage_s),
            "during_fault" => q.map(|q| q.during_fault as f64),
            "failed_during_fault" => q.map(|q| q.failed_during_fault as f64),
            "writes" => w.map(|w| w.writes as f64),
            "acknowledged" => w.map(|w| w.acknowledged as f64),
            "writes_failed" => w.map(|w| w.writes_failed as f64),
            "writes_unknown" => w.map(|w| w.writes_unknown as f64),
            "lost" => w.map(|w| w.lost as f64),
            "recovered" => w.map(|w| w.recovered as f64),
            "unexpected" => w.map(|w| w.unexpected as f64),
            "duplicates" => w.map(|w| w.duplicates as f64),
            "write_outage_s" => w.map(|w| w.write_outage_s),
            id => self.lesson.get(id),
        }
    }
}

/// A threshold and whether the run met it.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub(crate) struct Verdict {
    pub figure: String,
    pub max: f64,
    /// The measured value; none when it was not measured (a condition that never held).
    pub value: Option<f64>,
    pub passed: bool,
    #[serde(default)]
    pub why: Option<String>,
}

/// What one run measured.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub(crate) struct RunResult {
    pub id: String,
    pub title: String,
    pub figures: Figures,
    /// Titles of the drill's own figures, by id, shown beside the chapter's claims.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub derived_titles: Vec<(String, String)>,
    /// The drill's own figures this lab does not have, by id: what their command printed
    /// instead of a number (e.g. the setting they derive from is absent).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub derived_absent: BTreeMap<String, String>,
    /// What a lost order means, shown with the count (the drill's `orders.lost_means`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writes_note: Option<String>,
    /// Titles of the run's samples, by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sample_titles: Vec<(String, String)>,
    /// Measures whose condition did not hold within their limit.
    #[serde(default)]
    pub timed_out: Vec<String>,
    /// Each measure's limit in seconds, by measure id (what "did not happen" waited for).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, f64>,
    /// Seconds after the fault at which it was in place and at which the repair began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_between: Option<(f64, f64)>,
    /// Seconds after the fault of the first and last failed request.
    #[serde(default)]
    pub failed_between: Option<(f64, f64)>,
    /// The first error a failed request saw.
    #[serde(default)]
    pub first_error: Option<String>,
    /// The chapter's figure for a measure, by measure id.
    #[serde(default)]
    pub claims: BTreeMap<String, f64>,
    /// Titles of the measures, by id.
    #[serde(default)]
    pub measure_titles: Vec<(String, String)>,
    /// Titles of the run's own reads, by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read_titles: Vec<(String, String)>,
    /// Titles of the differences between reads, by figure id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub difference_titles: Vec<(String, String)>,
    pub verdicts: Vec<Verdict>,
    pub passed: bool,
    /// Every request and order of the run, and every sample.
    #[serde(default)]
    pub history: History,
}

impl RunResult {
    /// Run `r` of drill `d`, nothing measured yet: what the lesson says about it.
    pub(crate) fn new(d: &Drill, r: &Run) -> Self {
        RunResult {
            id: r.id.clone(),
            title: r.title.clone(),
            claims: r
                .measure
                .iter()
                .filter_map(|m| Some((m.id.clone(), m.claim_s?)))
                .collect(),
            measure_titles: r
                .measure
                .iter()
                .map(|m| (m.id.clone(), m.title.clone()))
                .collect(),
            limits: r
                .measure
                .iter()
                .map(|m| (m.id.clone(), m.limit_s))
                .collect(),
            writes_note: d.orders.as_ref().and_then(|w| w.lost_means.clone()),
            sample_titles: r
                .samples
                .iter()
                .map(|x| (x.id.clone(), x.title.clone()))
                .collect(),
            ..RunResult::default()
        }
    }

    /// Each measure's seconds, or its id among the timed out.
    pub(crate) fn add_measured(&mut self, measured: Vec<(String, Option<f64>)>) {
        for (id, v) in measured {
            match v {
                Some(v) => self.figures.lesson.insert(&id, v),
                None => self.timed_out.push(id),
            }
        }
    }

    /// The stream's figures from its requests (`t_fault`: the fault's Unix time; `held`: the
    /// Unix times the fault was in place and the repair began).
    pub(crate) fn add_requests(&mut self, reqs: &[Request], t_fault: f64, held: (f64, f64)) {
        let failed: Vec<&Request> = reqs.iter().filter(|r| !r.ok).collect();
        let during: Vec<&Request> = reqs
            .iter()
            .filter(|r| r.t >= held.0 && r.t < held.1)
            .collect();
        let mut ms: Vec<f64> = reqs.iter().map(|r| r.ms).collect();
        ms.sort_by(|a, b| a.total_cmp(b));
        let figures = RequestFigures {
            requests: reqs.len() as u64,
            failed: failed.len() as u64,
            worst_ms: ms.last().copied().unwrap_or_default(),
            p50_ms: median(&ms),
            read_outage_s: longest_outage(reqs.iter().map(|r| (r.t, r.ms, r.ok))),
            during_fault: during.len() as u64,
            failed_during_fault: during.iter().filter(|r| !r.ok).count() as u64,
        };
        self.held_between = Some((held.0 - t_fault, held.1 - t_fault));
        if let (Some(first), Some(last)) = (failed.first(), failed.last()) {
            let from = first.t - t_fault;
            let to = last.t + last.ms / 1000.0 - t_fault;
            self.failed_between = Some((from, to));
            self.first_error = Some(if first.error.is_empty() {
                first.body.clone()
            } else {
                first.error.clone()
            });
        }
        self.figures.requests = Some(figures);
        self.history.requests = reqs.to_vec();
    }

    /// The order stream's figures and history: `orders` as judged, `read` what the lesson's read
    /// printed, `prefix` this run's id prefix.
    pub(crate) fn add_orders(&mut self, orders: Vec<Order>, read: &str, prefix: &str) {
        let (figures, ids) = check_set(&orders, read, prefix);
        self.figures.orders = Some(figures);
        self.history.prefix = prefix.to_string();
        self.history.read = ours(read, prefix).map(str::to_string).collect();
        self.history.orders = orders;
        self.history.checked = Some(ids);
    }

    /// The run's own reads of the order ids (`printed`: what each printed, by read id) and the
    /// differences between them, as figures: only this run's ids (`prefix`) count, each once.
    pub(crate) fn add_reads(
        &mut self,
        reads: &[Read],
        differences: &[Difference],
        printed: &BTreeMap<String, String>,
        prefix: &str,
    ) {
        let sets: BTreeMap<&str, BTreeSet<&str>> = printed
            .iter()
            .map(|(id, out)| (id.as_str(), ours(out, prefix).collect()))
            .collect();
        for x in reads {
            if let Some(set) = sets.get(x.id.as_str()) {
                self.history
                    .reads
                    .insert(x.id.clone(), set.iter().map(|s| s.to_string()).collect());
                self.read_titles.push((x.id.clone(), x.title.clone()));
            }
        }
        for d in differences {
            let (Some(a), Some(b)) = (sets.get(d.present.as_str()), sets.get(d.absent.as_str()))
            else {
                continue;
            };
            self.figures
                .lesson
                .insert(&d.id, a.difference(b).count() as f64);
            self.difference_titles.push((d.id.clone(), d.title.clone()));
        }
    }

    /// A sample's figures (`ID` the largest, `ID_p50` the median) and its values; a sample
    /// that never printed a number has no figures.
    pub(crate) fn add_samples(&mut self, id: &str, values: Vec<Sampled>) {
        let nums: Vec<f64> = values.iter().map(|s| s.v).collect();
        if let Some((max, p50)) = reduce(&nums) {
            self.figures.lesson.insert(id, max);
            self.figures
                .lesson
                .insert(&format!("{id}{MEDIAN_SUFFIX}"), p50);
        }
        self.history.samples.insert(id.to_string(), values);
    }

    /// Judge the run by the lesson's limits (`pass`).
    pub(crate) fn judge(&mut self, pass: &[Threshold]) {
        self.verdicts = judge(pass, &self.figures);
        self.passed = self.verdicts.iter().all(|v| v.passed);
    }
}

/// The requests the stream printed, one JSON object a line (other lines are not requests).
pub(crate) fn requests(printed: &str) -> Vec<Request> {
    printed
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The one finite number a derived figure's command printed.
pub(crate) fn number(out: &str) -> Option<f64> {
    out.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

fn judge(pass: &[Threshold], figures: &Figures) -> Vec<Verdict> {
    pass.iter()
        .map(|t| {
            let value = figures.get(&t.figure);
            Verdict {
                figure: t.figure.clone(),
                max: t.max,
                value,
                passed: value.is_some_and(|v| v <= t.max + 1e-9),
                why: t.why.clone(),
            }
        })
        .collect()
}

/// A drill's outcome, as kept in the lab's record.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub(crate) struct DrillResult {
    pub drill: String,
    pub title: String,
    pub claim: String,
    /// Unix time it ran.
    pub at: u64,
    pub runs: Vec<RunResult>,
    /// Settings that explain the figures, by title.
    #[serde(default)]
    pub context: BTreeMap<String, String>,
    /// Which node played which of the drill's parts (role id -> node), when it has `roles`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub roles: BTreeMap<String, String>,
    /// What the drill left changed and how to rebuild it.
    #[serde(default)]
    pub leaves: Option<String>,
    pub passed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::drill::STREAM_FIGURES;

    fn full() -> Figures {
        let mut lesson = LessonFigures::default();
        lesson.insert("moved", 2.4);
        Figures {
            requests: Some(RequestFigures {
                requests: 202,
                failed: 21,
                worst_ms: 3007.0,
                p50_ms: 1.5,
                read_outage_s: 4.0,
                during_fault: 80,
                failed_during_fault: 20,
            }),
            orders: Some(OrderFigures {
                writes: 12,
                acknowledged: 9,
                writes_failed: 2,
                writes_unknown: 1,
                lost: 1,
                recovered: 2,
                unexpected: 3,
                duplicates: 4,
                write_outage_s: 2.5,
            }),
            lesson,
        }
    }

    #[test]
    fn figures_are_one_flat_object_named_as_thresholds_name_them() {
        let v = serde_json::to_value(full()).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want: Vec<&str> = STREAM_FIGURES.iter().copied().chain(["moved"]).collect();
        want.sort();
        assert_eq!(keys, want, "{v}");
        for name in STREAM_FIGURES {
            assert_eq!(full().get(name), v[name].as_f64(), "{name}");
        }
        assert_eq!(full().get("moved"), Some(2.4));
        assert_eq!(full().get("never"), None);
        // Read back, as `halab check --drills` reads the record, also as earlier versions
        // wrote it (every figure a float).
        let text = v.to_string();
        assert_eq!(serde_json::from_str::<Figures>(&text).unwrap(), full());
        let floats = text.replace(":202,", ":202.0,").replace(":21,", ":21.0,");
        assert_ne!(floats, text);
        assert_eq!(serde_json::from_str::<Figures>(&floats).unwrap(), full());
    }

    #[test]
    fn figures_kept_by_an_earlier_version_still_read() {
        let old = serde_json::json!({"requests": 202.0, "failed": 21, "worst_ms": 3007.0,
            "p50_ms": 1.5, "failed_window_s": 4.0, "rows_committed": 9, "rows_lost": 1,
            "moved": 2.4});
        let f: Figures = serde_json::from_value(old).unwrap();
        let q = f.requests.as_ref().unwrap();
        assert_eq!((q.requests, q.failed, q.read_outage_s), (202, 21, 0.0));
        assert_eq!(f.orders, None);
        assert_eq!(f.get("moved"), Some(2.4));
        assert_eq!(f.get("lost"), None);
    }

    #[test]
    fn a_run_without_traffic_has_only_the_lessons_figures() {
        let mut lesson = LessonFigures::default();
        lesson.insert("moved", 2.4);
        let f = Figures {
            lesson,
            ..Figures::default()
        };
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v, serde_json::json!({"moved": 2.4}));
        assert_eq!(serde_json::from_value::<Figures>(v).unwrap(), f);
        assert_eq!(f.get("failed"), None);
    }

    #[test]
    fn a_derived_figure_is_one_finite_number() {
        assert_eq!(number(" 3.6484375\n"), Some(3.6484375));
        assert_eq!(number("3"), Some(3.0));
        assert_eq!(number(""), None);
        assert_eq!(number("3 4"), None);
        assert_eq!(number("inf"), None);
        assert_eq!(number("priority 90"), None);
    }

    #[test]
    fn thresholds_fail_when_a_figure_is_missing_or_too_high() {
        let mut figures = Figures::default();
        figures.lesson.insert("moved", 2.4);
        figures.requests = Some(RequestFigures::default());
        let t = |f: &str, max: f64| Threshold {
            figure: f.into(),
            max,
            why: None,
        };
        let v = judge(
            &[t("failed", 0.0), t("moved", 2.0), t("back", 5.0)],
            &figures,
        );
        assert_eq!(
            v.iter().map(|v| v.passed).collect::<Vec<_>>(),
            [true, false, false]
        );
    }

    #[test]
    fn stream_figures_locate_the_failures_after_the_fault() {
        let req = |t: f64, ms: f64, ok: bool| Request {
            t,
            ms,
            ok,
            status: ok.then_some(200),
            body: "app-01".into(),
            error: if ok {
                String::new()
            } else {
                "timed out".into()
            },
        };
        let reqs = [
            req(100.0, 2.0, true),
            req(101.0, 3000.0, false),
            req(101.5, 3000.0, false),
            req(105.0, 4.0, true),
        ];
        let mut r = RunResult::default();
        r.add_requests(&reqs, 100.5, (100.6, 105.0));
        let f = r.figures.requests.as_ref().unwrap();
        assert_eq!((f.requests, f.failed, f.worst_ms), (4, 2, 3000.0));
        assert_eq!(r.failed_between, Some((0.5, 4.0)));
        // Sent while the fault held (from 100.6, before the repair at 105): two, both failed.
        assert_eq!((f.during_fault, f.failed_during_fault), (2, 2));
        let (from, to) = r.held_between.unwrap();
        assert!(
            (from - 0.1).abs() < 1e-9 && (to - 4.5).abs() < 1e-9,
            "{from} {to}"
        );
        assert_eq!(r.first_error.as_deref(), Some("timed out"));
    }

    fn order(n: u32, t: f64, outcome: Outcome) -> Order {
        Order {
            id: format!("run-7-{n}"),
            t,
            ms: 5.0,
            outcome,
            status: None,
            error: String::new(),
        }
    }

    #[test]
    fn each_order_is_judged_by_the_lessons_status_lists_and_whether_it_was_sent() {
        let spec: Orders = toml::from_str(
            "node = \"c\"\nurl = \"u\"\nevery_ms = 1\ntimeout_ms = 1\nread = { node = \"c\", run = \"r\" }\nfail_status = [503, 409]\n",
        )
        .unwrap();
        let printed = [
            r#"{"id": "p-1", "t": 1.0, "ms": 2.0, "sent": true, "status": 201}"#,
            r#"{"id": "p-2", "t": 1.1, "ms": 2.0, "sent": true, "status": 503, "error": "db down"}"#,
            r#"{"id": "p-3", "t": 1.2, "ms": 2.0, "sent": true, "status": 409}"#,
            r#"{"id": "p-4", "t": 1.3, "ms": 2.0, "sent": true, "status": 502}"#,
            r#"{"id": "p-5", "t": 1.4, "ms": 1.0, "sent": false, "error": "ConnectionRefusedError"}"#,
            r#"{"id": "p-6", "t": 1.5, "ms": 3000.0, "sent": true, "error": "TimeoutError"}"#,
            r#"{"id": "p-7", "t": 1.6, "ms": 9.0, "sent": true, "error": "ConnectionResetError"}"#,
            "not an order",
        ]
        .join("\n");
        let got: Vec<Outcome> = orders(&printed, &spec).iter().map(|o| o.outcome).collect();
        use Outcome::*;
        assert_eq!(got, [Ok, Fail, Fail, Unknown, Fail, Unknown, Unknown]);
    }

    #[test]
    fn the_set_checker_finds_lost_recovered_unexpected_and_duplicated_orders() {
        let history = [
            order(1, 10.0, Outcome::Ok),      // read back: fine
            order(2, 10.1, Outcome::Ok),      // not read back: lost
            order(3, 10.2, Outcome::Fail),    // read back: recovered
            order(4, 10.3, Outcome::Unknown), // read back: recovered
            order(5, 10.4, Outcome::Unknown), // not read back: simply unknown
            order(6, 10.5, Outcome::Fail),    // not read back: failed, as it said
            order(7, 10.6, Outcome::Ok),      // read back twice: a duplicate
        ];
        // Another run's ids and a stray line are not this run's: ignored.
        let read = "run-7-1\nrun-7-3\nrun-7-4\nrun-7-7\nrun-7-7\nrun-7-99\nrun-6-2\n\nrun-70-1\n";
        let (f, ids) = check_set(&history, read, "run-7");
        assert_eq!(
            (f.writes, f.acknowledged, f.writes_failed, f.writes_unknown),
            (7, 3, 2, 2)
        );
        assert_eq!(ids.lost, ["run-7-2"]);
        assert_eq!(ids.recovered, ["run-7-3", "run-7-4"]);
        assert_eq!(ids.unexpected, ["run-7-99"]);
        assert_eq!(ids.duplicates, ["run-7-7"]);
        assert_eq!(
            (f.lost, f.recovered, f.unexpected, f.duplicates),
            (1, 2, 1, 1)
        );
        // Nothing failed before the first failure at 10.2; the first success after it is 10.6.
        assert!((f.write_outage_s - 0.4).abs() < 1e-9, "{f:?}");
        // All read back, nothing lost; an empty read loses every acknowledged order.
        let (all, _) = check_set(&history[..1], "run-7-1\n", "run-7");
        assert_eq!((all.lost, all.write_outage_s), (0, 0.0));
        let (none, _) = check_set(&history, "", "run-7");
        assert_eq!((none.lost, none.recovered), (3, 0));
    }

    #[test]
    fn the_run_keeps_the_history_its_figures_came_from() {
        let mut r = RunResult::default();
        r.add_orders(
            vec![order(1, 1.0, Outcome::Ok), order(2, 1.1, Outcome::Unknown)],
            "old-1\nrun-7-1\nrun-7-2\n",
            "run-7",
        );
        assert_eq!(r.history.read, ["run-7-1", "run-7-2"]);
        assert_eq!(r.history.orders.len(), 2);
        assert_eq!(r.figures.get("recovered"), Some(1.0));
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["history"]["orders"][1]["outcome"], "unknown", "{v}");
        assert_eq!(v["history"]["checked"]["recovered"][0], "run-7-2", "{v}");
        // A result kept before histories existed still reads.
        let mut old = v.clone();
        old.as_object_mut().unwrap().remove("history");
        let back: RunResult = serde_json::from_value(old).unwrap();
        assert_eq!(back.history, History::default());
    }

    #[test]
    fn differences_between_reads_count_this_runs_ids_each_once() {
        let read = |id: &str| Read {
            id: id.into(),
            title: format!("on {id}"),
            node: "n".into(),
            run: "r".into(),
        };
        let diff = |id: &str, present: &str, absent: &str| Difference {
            id: id.into(),
            title: id.into(),
            present: present.into(),
            absent: absent.into(),
        };
        // Both hold an older run's ids and what was there before; one id twice on `old`.
        let printed = BTreeMap::from([
            (
                "old".to_string(),
                "run-6-1\nrun-7-1\nrun-7-2\nrun-7-2\nrun-7-3\n".to_string(),
            ),
            ("new".to_string(), "run-6-1\nrun-7-1\nrun-7-4\n".to_string()),
        ]);
        let mut r = RunResult::default();
        r.add_reads(
            &[read("old"), read("new")],
            &[
                diff("only_old", "old", "new"),
                diff("only_new", "new", "old"),
            ],
            &printed,
            "run-7",
        );
        assert_eq!(r.figures.get("only_old"), Some(2.0));
        assert_eq!(r.figures.get("only_new"), Some(1.0));
        assert_eq!(r.history.reads["old"], ["run-7-1", "run-7-2", "run-7-3"]);
        assert_eq!(r.difference_titles.len(), 2);
        assert_eq!(r.read_titles[1], ("new".to_string(), "on new".to_string()));
    }

    #[test]
    fn an_outage_runs_from_the_first_failure_to_the_first_success_sent_after_it() {
        let ops = |v: &[(f64, bool)]| v.iter().map(|&(t, ok)| (t, 100.0, ok)).collect::<Vec<_>>();
        assert_eq!(longest_outage(ops(&[]).into_iter()), 0.0);
        assert_eq!(
            longest_outage(ops(&[(1.0, true), (2.0, true)]).into_iter()),
            0.0
        );
        // Two outages (2..3 and 5..8): the longest counts; the order of the input does not.
        let two = ops(&[
            (8.0, true),
            (1.0, true),
            (2.0, false),
            (2.5, false),
            (3.0, true),
            (5.0, false),
            (6.0, false),
            (9.0, true),
        ]);
        assert_eq!(longest_outage(two.into_iter()), 3.0);
        // Still failing when the stream stopped: to the end of its last operation.
        let open = ops(&[(1.0, true), (2.0, false), (4.0, false)]);
        assert!((longest_outage(open.into_iter()) - 2.1).abs() < 1e-9);
    }

    #[test]
    fn a_sample_reports_its_largest_value_and_its_median() {
        assert_eq!(reduce(&[]), None);
        assert_eq!(reduce(&[0.2, 3.0, 0.1, 0.4, f64::NAN]), Some((3.0, 0.4)));
        let mut r = RunResult::default();
        let at = |v: f64| Sampled { t: 0.0, v };
        r.add_samples("lag_s", vec![at(0.001), at(0.5), at(0.002)]);
        r.add_samples("never", vec![]);
        assert_eq!(r.figures.get("lag_s"), Some(0.5));
        assert_eq!(r.figures.get("lag_s_p50"), Some(0.002));
        assert_eq!(r.figures.get("never"), None);
        assert_eq!(r.history.samples["lag_s"].len(), 3);
    }
}
