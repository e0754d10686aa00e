//! Failure drills: break the trainee's lab on purpose, as a lesson's `[[drills]]` say, and
//! measure what the chapter claims: requests that failed and for how long, seconds until a
//! condition holds (an address moved, an alert arrived, a replica took over), figures the
//! lesson computes from the lab's own configuration, rows committed and lost. Traffic starts
//! and ends inside lab nodes (`assets/drill/`). Results are kept in the lab's record for
//! `halab check --drills`.
//!
//! Must not: name a node, step or command (they are the lesson's), or print results (commands
//! render them; it only says on stderr what it is doing).

pub mod report;

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

use crate::check::engine::{CheckOutcome, StepOutcome};
use crate::content::Lesson;
use crate::content::drill::{Drill, From, Measure, Run, Threshold};
use crate::content::lesson::NodeCommand;
use crate::content::template::Context;
use crate::lifecycle;
use crate::session::OpenLab;
use crate::state;
use crate::ui::{self, Problem};

const REQUESTS_PY: &str = include_str!("../../assets/drill/requests.py");
const WRITES_SH: &str = include_str!("../../assets/drill/writes.sh");
/// How often a measure's condition is tried.
const POLL: Duration = Duration::from_millis(100);

/// What the trainee asked for besides the drill.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Let halab make the moves the drill otherwise waits for the trainee to make (a measure's
    /// `assist`).
    pub assist: bool,
}

/// One request of the stream, as the node's stream printed it.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Request {
    pub t: f64,
    pub ms: f64,
    pub ok: bool,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub error: String,
}

/// A threshold and whether the run met it.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Verdict {
    pub figure: String,
    pub max: f64,
    /// The measured value; none when it was not measured (a condition that never held).
    pub value: Option<f64>,
    pub passed: bool,
    #[serde(default)]
    pub why: Option<String>,
}

/// What one run measured.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct RunResult {
    pub id: String,
    pub title: String,
    /// Figures by name: `requests`, `failed`, `worst_ms`, `p50_ms`, `failed_window_s`,
    /// `rows_committed`, `rows_lost`, the drill's own `figures`, and each measure's seconds.
    pub figures: BTreeMap<String, f64>,
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

/// A drill's outcome, as kept in the lab's record.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct DrillResult {
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

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// Run a shell command on a node (for the drill's own bookkeeping); its output, or an error.
fn sh(open: &OpenLab, ctx: &Context, nc: &NodeCommand) -> Result<String> {
    let cmd = ctx.render(&nc.run)?;
    let on = open.backend.node(&nc.node);
    Ok(on
        .run_ok(&cmd, crate::backend::node::SCRIPT_TIMEOUT)?
        .stdout)
}

/// Whether a drill can run on this lab now; the error says what to do first.
pub fn preflight(open: &OpenLab, drill: &Drill) -> Result<()> {
    let record = open.dir.load()?;
    for step in &drill.requires {
        if !record.step_done(step) {
            return Err(Problem::new(
                format!("drill `{}` needs step `{step}` done first", drill.id),
                format!(
                    "`halab check --step {step}` grades it (`halab hint` helps); `halab solve --step {step}` applies the reference solution"
                ),
            )
            .into());
        }
    }
    let ctx = open.template_context()?;
    for p in &drill.ready {
        let nc = NodeCommand {
            node: p.node.clone(),
            run: p.run.clone(),
        };
        if sh(open, &ctx, &nc).is_err() {
            return Err(Problem::new(
                format!(
                    "drill `{}` cannot run: {}",
                    drill.id,
                    ctx.render(&p.message)?
                ),
                ctx.render(&p.hint)?,
            )
            .into());
        }
    }
    Ok(())
}

/// Run a drill (after `preflight`), keep its result in the lab's record and return it.
pub fn run(open: &OpenLab, drill: &Drill, opts: Options) -> Result<DrillResult> {
    let _hold = open.dir.lock(&format!("drill {}", drill.id))?;
    let ctx = open.template_context()?;
    let mut context = BTreeMap::new();
    for s in &drill.context {
        let nc = NodeCommand {
            node: s.node.clone(),
            run: s.run.clone(),
        };
        let out = sh(open, &ctx, &nc).unwrap_or_else(|e| format!("({e})"));
        context.insert(s.title.clone(), out.trim().to_string());
    }
    let mut derived = Vec::new();
    for f in &drill.figures {
        let nc = NodeCommand {
            node: f.node.clone(),
            run: f.run.clone(),
        };
        let out = sh(open, &ctx, &nc)
            .with_context(|| format!("drill `{}`: figure `{}` on {}", drill.id, f.id, f.node))?;
        derived.push((
            f,
            number(&out).with_context(|| {
                format!(
                    "drill `{}`: figure `{}` on {} printed `{}`, not one number",
                    drill.id,
                    f.id,
                    f.node,
                    out.trim()
                )
            })?,
        ));
    }
    let mut runs = Vec::new();
    for r in &drill.runs {
        ui::say(format!("drill `{}`, run `{}`: {}", drill.id, r.id, r.title));
        let mut result = run_once(open, drill, r, &ctx, opts)
            .with_context(|| format!("drill `{}`, run `{}`", drill.id, r.id))?;
        for (f, v) in &derived {
            result.figures.insert(f.id.clone(), *v);
            result.derived_titles.push((f.id.clone(), f.title.clone()));
        }
        result.verdicts = judge(&r.pass, &result.figures);
        result.passed = result.verdicts.iter().all(|v| v.passed);
        runs.push(result);
    }
    let result = DrillResult {
        drill: drill.id.clone(),
        title: drill.title.clone(),
        claim: drill.claim.clone(),
        at: state::now_unix(),
        passed: runs.iter().all(|r| r.passed),
        runs,
        context,
        leaves: drill.leaves.as_ref().map(|l| ctx.render(l)).transpose()?,
    };
    let kept = serde_json::to_value(&result)?;
    open.dir.update("drill", |rec| {
        rec.drills.insert(drill.id.clone(), kept);
    })?;
    Ok(result)
}

/// The latest result of drill `id` kept in the lab's record; one that no longer reads as a
/// result (written by another version) counts as not run.
pub fn latest(record: &state::LabRecord, id: &str) -> Option<DrillResult> {
    serde_json::from_value(record.drills.get(id)?.clone()).ok()
}

/// The lesson's drills as graded steps (`halab check --drills`): a drill passes when its latest
/// result met every limit; one never run fails with the command to run it.
pub fn grade(lesson: &Lesson, record: &state::LabRecord) -> Vec<StepOutcome> {
    lesson
        .drills
        .iter()
        .map(|d| {
            let id = format!("drill:{}", d.id);
            let Some(res) = latest(record, &d.id) else {
                return StepOutcome {
                    id,
                    title: format!("drill: {}", d.title),
                    passed: false,
                    note: None,
                    checks: vec![CheckOutcome {
                        id: "run".into(),
                        title: "the drill has a result".into(),
                        node: String::new(),
                        command: format!("halab drill {}", d.id),
                        passed: false,
                        status: "not run".into(),
                        output: String::new(),
                        message: format!("drill `{}` has not been run on this lab yet", d.id),
                        expected: "a result of `halab drill`".into(),
                        why: "no result recorded".into(),
                        hint: Some(format!("run `halab drill {}`", d.id)),
                        seconds: 0.0,
                    }],
                };
            };
            let checks = res
                .runs
                .iter()
                .flat_map(|r| {
                    r.verdicts.iter().map(move |v| {
                        let value = v
                            .value
                            .map(|x| format!("{x:.2}"))
                            .unwrap_or_else(|| "not measured".into());
                        CheckOutcome {
                            id: format!("{}.{}", r.id, v.figure),
                            title: format!("{}: {} ≤ {}", r.title, v.figure, v.max),
                            node: String::new(),
                            command: format!("halab drill {}", d.id),
                            passed: v.passed,
                            status: format!("measured {value}"),
                            output: String::new(),
                            message: if v.passed {
                                String::new()
                            } else {
                                format!(
                                    "{}: {} was {value}, the lesson allows {}",
                                    r.title, v.figure, v.max
                                )
                            },
                            expected: format!("{} ≤ {}", v.figure, v.max),
                            why: v.why.clone().unwrap_or_default(),
                            hint: (!v.passed).then(|| {
                                format!(
                                    "fix what the figure shows, then `halab drill {}` again",
                                    d.id
                                )
                            }),
                            seconds: 0.0,
                        }
                    })
                })
                .collect::<Vec<_>>();
            StepOutcome {
                id,
                title: format!("drill: {}", d.title),
                passed: checks.iter().all(|c| c.passed),
                note: Some(format!("measured at {}", state::format_time(res.at))),
                checks,
            }
        })
        .collect()
}

/// The one finite number a derived figure's command printed.
fn number(out: &str) -> Option<f64> {
    out.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

fn judge(pass: &[Threshold], figures: &BTreeMap<String, f64>) -> Vec<Verdict> {
    pass.iter()
        .map(|t| {
            let value = figures.get(&t.figure).copied();
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

/// Seconds until `m`'s condition holds, or `None` after its limit.
fn measure(open: &OpenLab, ctx: &Context, m: &Measure, since: Instant) -> Result<Option<f64>> {
    let cmd = ctx.render(&m.until)?;
    let argv = ["bash".to_string(), "-c".to_string(), cmd];
    // Validation keeps these numbers finite and in range; a bad one never panics.
    let deadline = since + Duration::try_from_secs_f64(m.limit_s).unwrap_or(Duration::ZERO);
    loop {
        let ok = open
            .backend
            .exec(&m.node, &argv, None, Some(Duration::from_secs(10)))
            .is_ok_and(|o| o.success());
        if ok {
            return Ok(Some(since.elapsed().as_secs_f64()));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(POLL);
    }
}

fn stop_file(run: &Run) -> String {
    format!("/tmp/halab-drill-{}-{}.stop", run.id, std::process::id())
}

fn run_once(
    open: &OpenLab,
    drill: &Drill,
    r: &Run,
    ctx: &Context,
    opts: Options,
) -> Result<RunResult> {
    for nc in &r.setup {
        sh(open, ctx, nc)?;
    }
    let mut baseline = BTreeMap::new();
    for (k, nc) in &r.baseline {
        baseline.insert(k.clone(), sh(open, ctx, nc)?.trim().to_string());
    }
    let ctx = &ctx.with("baseline", &baseline);
    if let Some(w) = &drill.writes {
        for nc in &w.setup {
            sh(open, ctx, nc)?;
        }
    }
    // Long enough for everything the run may wait for; the stop files end them sooner.
    let max_s =
        r.settle_s * 2.0 + r.hold_s + r.measure.iter().map(|m| m.limit_s).sum::<f64>() + 120.0;
    let stop_requests = format!("{}.requests", stop_file(r));
    let stop_writes = format!("{}.writes", stop_file(r));
    // (node, stop file) of the stream and of the writer.
    let stops: Vec<(&str, &str)> = drill
        .requests
        .iter()
        .map(|q| (q.node.as_str(), stop_requests.as_str()))
        .chain(
            drill
                .writes
                .iter()
                .map(|w| (w.node.as_str(), stop_writes.as_str())),
        )
        .collect();
    let backend = &*open.backend;
    let on_stop_file = |verb: &[&str], only: Option<&str>| {
        for (node, file) in stops.iter().filter(|(_, f)| only.is_none_or(|o| o == *f)) {
            let argv: Vec<String> = verb
                .iter()
                .map(|v| v.to_string())
                .chain([file.to_string()])
                .collect();
            let _ = backend.exec(node, &argv, None, Some(Duration::from_secs(10)));
        }
    };
    on_stop_file(&["rm", "-f"], None);
    std::thread::scope(|s| -> Result<RunResult> {
        // A traffic program fed to its interpreter on stdin, on its own thread.
        let traffic = |node: &str, argv: Vec<String>, program: &'static str| {
            let node = node.to_string();
            s.spawn(move || {
                backend.exec(
                    &node,
                    &argv,
                    Some(program.as_bytes().to_vec()),
                    Some(
                        Duration::try_from_secs_f64(max_s + 60.0)
                            .unwrap_or(Duration::from_secs(3600)),
                    ),
                )
            })
        };
        let requests = drill.requests.as_ref().map(|q| {
            let argv: Vec<String> = vec![
                "python3".into(),
                "-".into(),
                ctx.render(&q.url).unwrap_or_default(),
                q.every_ms.to_string(),
                q.timeout_ms.to_string(),
                stop_requests.clone(),
                format!("{max_s:.0}"),
            ];
            traffic(&q.node, argv, REQUESTS_PY)
        });
        let writes = drill.writes.as_ref().map(|w| {
            let argv: Vec<String> = vec![
                "bash".into(),
                "-s".into(),
                ctx.render(&w.write).unwrap_or_default(),
                format!("{:.3}", w.every_ms as f64 / 1000.0),
                format!("{:.3}", w.timeout_ms as f64 / 1000.0),
                stop_writes.clone(),
                format!("{max_s:.0}"),
            ];
            traffic(&w.node, argv, WRITES_SH)
        });
        // The writer stops before the repair: a crashed primary that comes back must not
        // take writes the promoted standby never sees (that is not replication's loss).
        let stop_writer = || on_stop_file(&["touch"], Some(stop_writes.as_str()));
        let outcome = timeline(open, r, ctx, opts, &stop_writer);
        // The stream and the writer always stop, whatever failed.
        on_stop_file(&["touch"], None);
        let requests = requests
            .map(|h| h.join().expect("request stream thread"))
            .transpose()?;
        let writes = writes
            .map(|h| h.join().expect("writer thread"))
            .transpose()?;
        on_stop_file(&["rm", "-f"], None);
        let (t_fault, measured) = outcome?;
        let mut result = RunResult {
            id: r.id.clone(),
            title: r.title.clone(),
            figures: BTreeMap::new(),
            timed_out: Vec::new(),
            failed_between: None,
            first_error: None,
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
            derived_titles: Vec::new(),
            writes_note: drill.writes.as_ref().and_then(|w| w.lost_means.clone()),
            verdicts: Vec::new(),
            passed: false,
        };
        for (id, v) in measured {
            match v {
                Some(v) => {
                    result.figures.insert(id, v);
                }
                None => result.timed_out.push(id),
            }
        }
        if let Some(out) = requests {
            let reqs: Vec<Request> = out
                .stdout
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            if reqs.is_empty() {
                anyhow::bail!(
                    "the request stream on {} reported nothing: {}",
                    drill
                        .requests
                        .as_ref()
                        .map(|q| q.node.as_str())
                        .unwrap_or(""),
                    out.stderr.trim()
                );
            }
            stream_figures(&reqs, t_fault, &mut result);
        }
        if let (Some(out), Some(w)) = (writes, &drill.writes) {
            let committed: Vec<u64> = out
                .stdout
                .lines()
                .filter_map(|l| {
                    let mut f = l.split_whitespace();
                    let n = f.next()?.parse().ok()?;
                    (f.next()? == "ok").then_some(n)
                })
                .collect();
            let kept: std::collections::BTreeSet<u64> = sh(open, ctx, &w.read)
                .context("reading the rows that survived")?
                .lines()
                .filter_map(|l| l.trim().parse().ok())
                .collect();
            result
                .figures
                .insert("rows_committed".into(), committed.len() as f64);
            result.figures.insert(
                "rows_lost".into(),
                committed.iter().filter(|n| !kept.contains(n)).count() as f64,
            );
        }
        Ok(result)
    })
}

/// Each measure's id and seconds (`None`: its condition did not hold within its limit).
type Measured = Vec<(String, Option<f64>)>;

/// The fault, the measures, the repair. Returns the fault's Unix time and each measure's
/// seconds (`None`: it did not hold within its limit).
fn timeline(
    open: &OpenLab,
    r: &Run,
    ctx: &Context,
    opts: Options,
    stop_writer: &dyn Fn(),
) -> Result<(f64, Measured)> {
    std::thread::sleep(Duration::try_from_secs_f64(r.settle_s).unwrap_or(Duration::ZERO));
    let t_fault = now();
    let fault_at = Instant::now();
    if let Some(node) = &r.crash {
        open.backend.crash_node(node)?;
    }
    for nc in &r.fault {
        sh(open, ctx, nc)?;
    }
    let mut measured = Vec::new();
    for m in r.measure.iter().filter(|m| m.from == From::Fault) {
        if let Some(a) = &m.assist {
            if opts.assist {
                ui::say(format!("halab's move: {}", a.label));
                for nc in &a.run {
                    sh(open, ctx, nc)?;
                }
            } else {
                ui::say(format!(
                    "your move: {} (waiting up to {:.0} s for: {}; `--assist` lets halab do it)",
                    a.label, m.limit_s, m.title
                ));
            }
        }
        let v = measure(open, ctx, m, fault_at)?;
        measured.push((m.id.clone(), v));
    }
    let held = fault_at.elapsed().as_secs_f64();
    if held < r.hold_s {
        std::thread::sleep(Duration::try_from_secs_f64(r.hold_s - held).unwrap_or(Duration::ZERO));
    }
    stop_writer();
    if let Some(node) = &r.crash {
        ui::say(format!("bringing {node} back"));
        lifecycle::restart(open)
            .with_context(|| format!("starting {node} again after the crash"))?;
    }
    for nc in &r.repair {
        sh(open, ctx, nc)?;
    }
    let repair_at = Instant::now();
    for m in r.measure.iter().filter(|m| m.from == From::Repair) {
        let v = measure(open, ctx, m, repair_at)?;
        measured.push((m.id.clone(), v));
    }
    std::thread::sleep(Duration::try_from_secs_f64(r.settle_s).unwrap_or(Duration::ZERO));
    Ok((t_fault, measured))
}

fn stream_figures(reqs: &[Request], t_fault: f64, result: &mut RunResult) {
    let f = &mut result.figures;
    f.insert("requests".into(), reqs.len() as f64);
    let failed: Vec<&Request> = reqs.iter().filter(|r| !r.ok).collect();
    f.insert("failed".into(), failed.len() as f64);
    let mut ms: Vec<f64> = reqs.iter().map(|r| r.ms).collect();
    ms.sort_by(|a, b| a.total_cmp(b));
    f.insert("worst_ms".into(), ms.last().copied().unwrap_or_default());
    f.insert("p50_ms".into(), ms[ms.len() / 2]);
    if let (Some(first), Some(last)) = (failed.first(), failed.last()) {
        let from = first.t - t_fault;
        let to = last.t + last.ms / 1000.0 - t_fault;
        result.failed_between = Some((from, to));
        f.insert("failed_window_s".into(), to - from);
        result.first_error = Some(if first.error.is_empty() {
            first.body.clone()
        } else {
            first.error.clone()
        });
    } else {
        f.insert("failed_window_s".into(), 0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_kept_in_the_record_reads_back_and_a_foreign_one_counts_as_not_run() {
        // The record keeps drill results as JSON under `drills`, the shape lab.json has always had.
        let record = serde_json::json!({
            "name": "lab", "lesson": "l", "backend": "netns", "created": 0, "phase": "ready",
            "facts": serde_json::to_value(crate::content::template::Facts::default()).unwrap(),
            "nodes": {},
            "drills": {
                "kept": {"drill": "kept", "title": "t", "claim": "c", "at": 5, "runs": [],
                         "passed": true},
                "foreign": {"shape": "of another version"}
            }
        });
        let record: state::LabRecord = serde_json::from_value(record).unwrap();
        let kept = latest(&record, "kept").unwrap();
        assert_eq!(
            (kept.drill.as_str(), kept.at, kept.passed),
            ("kept", 5, true)
        );
        assert!(latest(&record, "foreign").is_none());
        assert!(latest(&record, "never").is_none());
    }

    #[test]
    fn a_derived_figure_is_one_finite_number() {
        assert_eq!(
            number(
                " 3.6484375
"
            ),
            Some(3.6484375)
        );
        assert_eq!(number("3"), Some(3.0));
        assert_eq!(number(""), None);
        assert_eq!(number("3 4"), None);
        assert_eq!(number("inf"), None);
        assert_eq!(number("priority 90"), None);
    }

    #[test]
    fn thresholds_fail_when_a_figure_is_missing_or_too_high() {
        let figures = BTreeMap::from([("failed".to_string(), 0.0), ("moved".to_string(), 2.4)]);
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
        let mut r = RunResult {
            id: "r".into(),
            title: "r".into(),
            figures: BTreeMap::new(),
            timed_out: vec![],
            failed_between: None,
            first_error: None,
            claims: BTreeMap::new(),
            measure_titles: vec![],
            derived_titles: vec![],
            writes_note: None,
            verdicts: vec![],
            passed: false,
        };
        stream_figures(&reqs, 100.5, &mut r);
        assert_eq!(r.figures["failed"], 2.0);
        assert_eq!(r.figures["worst_ms"], 3000.0);
        assert_eq!(r.failed_between, Some((0.5, 4.0)));
        assert_eq!(r.first_error.as_deref(), Some("timed out"));
    }
}
