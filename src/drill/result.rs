//! What a drill measured, as types: the figures halab computes itself from the request stream
//! and the writer (named fields), the lesson's own figures (keyed by the lesson's ids), the
//! verdicts against the lesson's limits, one run's result and the drill's. These are the shapes
//! `halab drill --format json` prints and the lab's record keeps; the arithmetic over what the
//! stream and the writer printed is here too.
//!
//! Must not: run anything, or name a figure of a lesson (its ids are data).

use std::collections::{BTreeMap, BTreeSet};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use crate::content::drill::{Drill, Run, Threshold};

/// One request of the stream, as the node's stream printed it.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub(crate) struct Request {
    /// Unix time it started.
    pub t: f64,
    /// How long it took, in milliseconds.
    pub ms: f64,
    /// An answer with a 2xx or 3xx status.
    pub ok: bool,
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
    /// Seconds from the start of the first failed request to the end of the last; 0 when none
    /// failed.
    pub failed_window_s: f64,
}

/// What the writer committed during a run, and what of it survived.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub(crate) struct WriteFigures {
    /// Rows whose write said it committed.
    #[serde(deserialize_with = "count")]
    pub rows_committed: u64,
    /// Committed rows the drill's `read` did not find afterwards.
    #[serde(deserialize_with = "count")]
    pub rows_lost: u64,
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
    /// Set when the drill has a writer (`writes`).
    #[serde(flatten)]
    pub writes: Option<WriteFigures>,
    #[serde(flatten)]
    pub lesson: LessonFigures,
}

impl Figures {
    /// The figure a threshold names (see `content::drill::STREAM_FIGURES`); none when this run
    /// did not measure it.
    pub(crate) fn get(&self, name: &str) -> Option<f64> {
        let q = self.requests.as_ref();
        let w = self.writes.as_ref();
        match name {
            "requests" => q.map(|q| q.requests as f64),
            "failed" => q.map(|q| q.failed as f64),
            "worst_ms" => q.map(|q| q.worst_ms),
            "p50_ms" => q.map(|q| q.p50_ms),
            "failed_window_s" => q.map(|q| q.failed_window_s),
            "rows_committed" => w.map(|w| w.rows_committed as f64),
            "rows_lost" => w.map(|w| w.rows_lost as f64),
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
    /// What a missing row means, shown with the count (the drill's `writes.lost_means`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writes_note: Option<String>,
    /// Measures whose condition did not hold within their limit.
    #[serde(default)]
    pub timed_out: Vec<String>,
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
    pub verdicts: Vec<Verdict>,
    pub passed: bool,
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
            writes_note: d.writes.as_ref().and_then(|w| w.lost_means.clone()),
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

    /// The stream's figures from its requests (`t_fault`: the fault's Unix time).
    pub(crate) fn add_requests(&mut self, reqs: &[Request], t_fault: f64) {
        let failed: Vec<&Request> = reqs.iter().filter(|r| !r.ok).collect();
        let mut ms: Vec<f64> = reqs.iter().map(|r| r.ms).collect();
        ms.sort_by(|a, b| a.total_cmp(b));
        let mut figures = RequestFigures {
            requests: reqs.len() as u64,
            failed: failed.len() as u64,
            worst_ms: ms.last().copied().unwrap_or_default(),
            p50_ms: ms.get(ms.len() / 2).copied().unwrap_or_default(),
            failed_window_s: 0.0,
        };
        if let (Some(first), Some(last)) = (failed.first(), failed.last()) {
            let from = first.t - t_fault;
            let to = last.t + last.ms / 1000.0 - t_fault;
            self.failed_between = Some((from, to));
            figures.failed_window_s = to - from;
            self.first_error = Some(if first.error.is_empty() {
                first.body.clone()
            } else {
                first.error.clone()
            });
        }
        self.figures.requests = Some(figures);
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

/// What the writer committed (it printed `N ok|fail TIME` a line) against the rows `read`
/// printed afterwards (one number a line).
pub(crate) fn writes(printed: &str, read: &str) -> WriteFigures {
    let committed: Vec<u64> = printed
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let n = f.next()?.parse().ok()?;
            (f.next()? == "ok").then_some(n)
        })
        .collect();
    let kept: BTreeSet<u64> = read.lines().filter_map(|l| l.trim().parse().ok()).collect();
    WriteFigures {
        rows_committed: committed.len() as u64,
        rows_lost: committed.iter().filter(|n| !kept.contains(n)).count() as u64,
    }
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
                failed_window_s: 4.0,
            }),
            writes: Some(WriteFigures {
                rows_committed: 9,
                rows_lost: 1,
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
        r.add_requests(&reqs, 100.5);
        let f = r.figures.requests.as_ref().unwrap();
        assert_eq!((f.requests, f.failed, f.worst_ms), (4, 2, 3000.0));
        assert_eq!(r.failed_between, Some((0.5, 4.0)));
        assert_eq!(r.first_error.as_deref(), Some("timed out"));
    }

    #[test]
    fn rows_lost_are_the_committed_rows_not_read_back() {
        let w = writes("1 ok 5.0\n2 fail 5.1\n3 ok 5.2\n4 ok 5.3\n", "1\n4\n");
        assert_eq!(
            w,
            WriteFigures {
                rows_committed: 3,
                rows_lost: 1
            }
        );
    }
}
