//! Failure drills: break the trainee's lab on purpose, as a lesson's `[[drills]]` say, and
//! measure what the chapter claims: requests that failed and for how long, seconds until a
//! condition holds (an address moved, an alert arrived, a replica took over), figures the
//! lesson computes from the lab's own configuration, numbers sampled while the traffic flows,
//! orders acknowledged and lost. Traffic starts and ends inside lab nodes (`assets/drill/`).
//! Results, with every request and order, are kept in the lab's record for `halab check
//! --drills`.
//!
//! This file runs a drill (preflight, runs, timeline, samples, measures, the read-back of the
//! orders); `cast` finds which node plays which of the drill's parts, `traffic` runs the request
//! stream and the order stream, `result` holds what was measured and checks it, `grade` turns
//! results into graded steps, `report` renders them.
//!
//! Must not: name a node, step or command (they are the lesson's), or print results (commands
//! render them; it only says on stderr what it is doing).

pub(crate) mod cast;
pub(crate) mod grade;
pub(crate) mod report;
pub(crate) mod result;
mod traffic;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};

use std::sync::atomic::{AtomicBool, Ordering};

use self::result::{DrillResult, RunResult, Sampled};
use self::traffic::Traffic;
use crate::content::drill::{DerivedFigure, Drill, Measure, Run, Sample, Since};
use crate::content::lesson::NodeCommand;
use crate::content::template::Context;
use crate::lifecycle;
use crate::parallel;
use crate::session::OpenLab;
use crate::state;
use crate::ui::{self, Problem};

/// How often a measure's condition is tried.
const POLL: Duration = Duration::from_millis(100);
/// How long one try of a measure's condition may take.
const TRY_TIMEOUT: Duration = Duration::from_secs(10);

/// What the trainee asked for besides the drill.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Options {
    /// Let halab make the moves the drill otherwise waits for the trainee to make (a measure's
    /// `assist`).
    pub assist: bool,
    /// The drill was cut to some of its runs (`--run`): their results join the runs kept from
    /// its latest result, so the record still holds one result per run.
    pub some_runs: bool,
}

/// Run a shell command on a node (for the drill's own bookkeeping); its output, or an error.
fn sh(open: &OpenLab, ctx: &Context, nc: &NodeCommand) -> Result<String> {
    let cmd = ctx.render(&nc.run)?;
    let on = open.backend.node(&nc.node);
    Ok(on
        .run_ok(&cmd, crate::backend::node::SCRIPT_TIMEOUT)?
        .stdout)
}

/// Whether a drill can run on this lab now, and the drill bound to the nodes that play its
/// parts; the error says what to do first.
pub(crate) fn preflight(open: &OpenLab, drill: &Drill) -> Result<cast::Cast> {
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
    let cast = cast::cast(open, drill)?;
    let ctx = cast.context(&open.template_context()?);
    for p in &cast.drill.ready {
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
    Ok(cast)
}

/// Run a drill (after `preflight`, which found its parts), keep its result in the lab's record
/// and return it.
pub(crate) fn run(open: &OpenLab, cast: &cast::Cast, opts: Options) -> Result<DrillResult> {
    let drill = &cast.drill;
    let _hold = open.dir.lock(&format!("drill {}", drill.id))?;
    let ctx = cast.context(&open.template_context()?);
    for (role, node) in &cast.roles {
        ui::say(format!("drill `{}`: {node} is the {role}", drill.id));
    }
    let context = shown(open, drill, &ctx);
    // (With `--run`, the drill here holds that run only.)
    let todo: Vec<&Run> = drill.runs.iter().collect();
    let derived = derived_figures(open, drill, &todo, &ctx)?;
    let mut runs = Vec::new();
    for r in todo {
        ui::say(format!("drill `{}`, run `{}`: {}", drill.id, r.id, r.title));
        let mut result = run_once(open, drill, r, &ctx, opts)
            .with_context(|| format!("drill `{}`, run `{}`", drill.id, r.id))?;
        for (f, v) in derived.iter().filter(|(f, _)| f.reported_by(&r.id)) {
            match v {
                Ok(v) => result.figures.lesson.insert(&f.id, *v),
                Err(why) => {
                    result.derived_absent.insert(f.id.clone(), why.clone());
                }
            }
            result.derived_titles.push((f.id.clone(), f.title.clone()));
        }
        result.judge(&r.pass);
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
        roles: cast.roles.clone(),
        leaves: drill.leaves.as_ref().map(|l| ctx.render(l)).transpose()?,
    };
    let record = open.dir.load()?;
    let kept = match latest(&record, &drill.id) {
        Some(before) if opts.some_runs => joined(before, &result),
        _ => result.clone(),
    };
    let kept = serde_json::to_value(&kept)?;
    open.dir.update("drill", |rec| {
        rec.drills.insert(drill.id.clone(), kept);
    })?;
    Ok(result)
}

/// The runs of `before` with those of `now` in their place (or after them, when new): what
/// the record keeps after some runs of a drill ran again.
fn joined(before: DrillResult, now: &DrillResult) -> DrillResult {
    let mut runs = before.runs;
    for r in &now.runs {
        match runs.iter_mut().find(|o| o.id == r.id) {
            Some(o) => *o = r.clone(),
            None => runs.push(r.clone()),
        }
    }
    DrillResult {
        passed: runs.iter().all(|r| r.passed),
        runs,
        ..now.clone()
    }
}

/// The settings shown with the results, by title (a command that fails shows its error).
fn shown(open: &OpenLab, drill: &Drill, ctx: &Context) -> BTreeMap<String, String> {
    let mut context = BTreeMap::new();
    for s in &drill.context {
        let nc = NodeCommand {
            node: s.node.clone(),
            run: s.run.clone(),
        };
        let out = sh(open, ctx, &nc).unwrap_or_else(|e| format!("({e})"));
        context.insert(s.title.clone(), out.trim().to_string());
    }
    context
}

/// A derived figure: its number, or what its command printed instead (the lab has no such
/// figure).
type Derived = std::result::Result<f64, String>;

/// The drill's own figures that `runs` report, computed once before the runs from the lab's
/// configuration. A command that exits non-zero gives the figure's absence with what it printed;
/// one that succeeds without printing one number is an error of the lesson.
fn derived_figures<'d>(
    open: &OpenLab,
    drill: &'d Drill,
    runs: &[&Run],
    ctx: &Context,
) -> Result<Vec<(&'d DerivedFigure, Derived)>> {
    let mut derived = Vec::new();
    for f in &drill.figures {
        if !runs.iter().any(|r| f.reported_by(&r.id)) {
            continue;
        }
        let cmd = ctx.render(&f.run)?;
        let o = open
            .backend
            .node(&f.node)
            .run(&cmd, crate::backend::node::SCRIPT_TIMEOUT)
            .with_context(|| format!("drill `{}`: figure `{}` on {}", drill.id, f.id, f.node))?;
        if !o.success() {
            let said = [o.stdout.trim(), o.stderr.trim()]
                .into_iter()
                .find(|t| !t.is_empty())
                .unwrap_or("its command printed nothing")
                .lines()
                .next()
                .unwrap_or_default()
                .to_string();
            derived.push((f, Err(said)));
            continue;
        }
        let out = o.stdout;
        let value = result::number(&out).with_context(|| {
            format!(
                "drill `{}`: figure `{}` on {} printed `{}`, not one number",
                drill.id,
                f.id,
                f.node,
                out.trim()
            )
        })?;
        derived.push((f, Ok(value)));
    }
    Ok(derived)
}

/// The latest result of drill `id` kept in the lab's record; one that no longer reads as a
/// result (written by another version) counts as not run.
pub(crate) fn latest(record: &state::LabRecord, id: &str) -> Option<DrillResult> {
    serde_json::from_value(record.drills.get(id)?.clone()).ok()
}

/// One run: its setup, the traffic around its timeline, then what the traffic shows.
fn run_once(
    open: &OpenLab,
    drill: &Drill,
    r: &Run,
    ctx: &Context,
    opts: Options,
) -> Result<RunResult> {
    let ctx = &match prepare(open, drill, r, ctx) {
        Ok(prepared) => prepared,
        Err(e) => {
            // A setup that stopped half way may have changed the lab already.
            let _ = put_back(open, r, ctx);
            return Err(e);
        }
    };
    let traffic = Traffic::new(&*open.backend, drill, r);
    let (seen, printed) = traffic.around(ctx, |stop_orders| {
        timeline(open, drill, r, ctx, opts, stop_orders)
    })?;
    let mut result = RunResult::new(drill, r);
    result.add_measured(seen.measured);
    for (id, values) in seen.samples {
        result.add_samples(&id, values);
    }
    if let (Some(out), Some(q)) = (printed.requests, &drill.requests) {
        let reqs = result::requests(&out.stdout);
        if reqs.is_empty() {
            anyhow::bail!(
                "the request stream on {} reported nothing: {}",
                q.node,
                out.stderr.trim()
            );
        }
        result.add_requests(&reqs, seen.t_fault, seen.held);
    }
    if let (Some(out), Some(o)) = (printed.orders, &drill.orders) {
        let orders = result::orders(&out.stdout, o);
        if orders.is_empty() {
            anyhow::bail!(
                "the order stream on {} reported nothing: {}",
                o.node,
                out.stderr.trim()
            );
        }
        let read = seen
            .read
            .unwrap_or_else(|| Ok(String::new()))
            .with_context(|| format!("reading the orders back on {}", o.read.node))?;
        result.add_orders(orders, &read, &traffic.prefix);
        let mut reads = BTreeMap::new();
        for (id, out) in seen.reads {
            let node = r.reads.iter().find(|x| x.id == id).map(|x| x.node.as_str());
            let out = out.with_context(|| {
                format!("read `{id}` of the order ids on {}", node.unwrap_or("?"))
            })?;
            reads.insert(id, out);
        }
        result.add_reads(&r.reads, &r.differences, &reads, &traffic.prefix);
    }
    Ok(result)
}

/// The run's setup, its baseline and the order stream's setup; the context with `baseline` for the
/// run's later commands.
fn prepare(open: &OpenLab, drill: &Drill, r: &Run, ctx: &Context) -> Result<Context> {
    for nc in &r.setup {
        sh(open, ctx, nc)?;
    }
    let mut baseline = BTreeMap::new();
    for (k, nc) in &r.baseline {
        baseline.insert(k.clone(), sh(open, ctx, nc)?.trim().to_string());
    }
    let ctx = ctx.with("baseline", &baseline);
    if let Some(w) = &drill.orders {
        for nc in &w.setup {
            sh(open, &ctx, nc)?;
        }
    }
    Ok(ctx)
}

/// Each measure's id and seconds (`None`: its condition did not hold within its limit).
type Measured = Vec<(String, Option<f64>)>;

/// What a run's timeline saw besides the traffic.
struct Seen {
    /// The fault's Unix time.
    t_fault: f64,
    /// The Unix times the fault was in place (its commands done) and the repair began.
    held: (f64, f64),
    /// Each measure's seconds.
    measured: Measured,
    /// Each sample's values, by sample id.
    samples: BTreeMap<String, Vec<Sampled>>,
    /// What the order stream's `read` printed (none when the drill sends no orders).
    read: Option<Result<String>>,
    /// What each of the run's own `reads` printed, by read id (none after a failed fault).
    reads: Vec<(String, Result<String>)>,
}

/// The samples, the fault, the measures, the hold; then the order stream stops and its orders
/// are read back (the order stream's `read`, then the run's own `reads`), before the crashed node comes back and before the repair (a repair may
/// rebuild the store from the old primary, hiding what was lost); then the repair and the
/// measures from it.
fn timeline(
    open: &OpenLab,
    drill: &Drill,
    r: &Run,
    ctx: &Context,
    opts: Options,
    stop_orders: &dyn Fn(),
) -> Result<Seen> {
    // Whatever fails from the fault on, the lab is put back before the error is returned.
    let broken = (|| -> Result<(Faulted, Measured)> {
        let faulted = sampled_until_fault(open, r, ctx)?;
        let mut measured = Vec::new();
        for m in r.measure.iter().filter(|m| m.from == Since::Fault) {
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
            let v = measure(open, ctx, m, faulted.fault_at)?;
            measured.push((m.id.clone(), v));
        }
        // The streams go on for `settle_s` after the last measure, so they show the recovery.
        let held = faulted.fault_at.elapsed().as_secs_f64();
        let settled = if measured.is_empty() { 0.0 } else { r.settle_s };
        let more = (r.hold_s - held).max(settled);
        std::thread::sleep(Duration::try_from_secs_f64(more).unwrap_or(Duration::ZERO));
        Ok((faulted, measured))
    })();
    let t_repair = unix_now();
    stop_orders();
    // A failed read is reported after the repair, so that the lab is put back first.
    let read = match &broken {
        Ok(_) => drill.orders.as_ref().map(|o| sh(open, ctx, &o.read)),
        Err(_) => None,
    };
    let reads = match &broken {
        Ok(_) => r
            .reads
            .iter()
            .map(|x| {
                let nc = NodeCommand {
                    node: x.node.clone(),
                    run: x.run.clone(),
                };
                (x.id.clone(), sh(open, ctx, &nc))
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    let put = put_back(open, r, ctx);
    let (
        Faulted {
            t_fault,
            t_faulted,
            samples,
            ..
        },
        mut measured,
    ) = broken?;
    put?;
    let repair_at = Instant::now();
    for m in r.measure.iter().filter(|m| m.from == Since::Repair) {
        let v = measure(open, ctx, m, repair_at)?;
        measured.push((m.id.clone(), v));
    }
    std::thread::sleep(Duration::try_from_secs_f64(r.settle_s).unwrap_or(Duration::ZERO));
    Ok(Seen {
        t_fault,
        held: (t_faulted, t_repair),
        measured,
        samples,
        read,
        reads,
    })
}

/// The crashed node started again and the run's repair, all of it whatever fails; the first
/// error, if any.
fn put_back(open: &OpenLab, r: &Run, ctx: &Context) -> Result<()> {
    let mut first = Ok(());
    if let Some(node) = &r.crash {
        ui::say(format!("bringing {node} back"));
        first = lifecycle::restart(open)
            .map(drop)
            .with_context(|| format!("starting {node} again after the crash"));
    }
    for nc in &r.repair {
        let done = sh(open, ctx, nc).map(drop);
        if first.is_ok() {
            first = done;
        }
    }
    first
}

/// When the fault came, and what the samples saw before it.
struct Faulted {
    /// The fault's Unix time.
    t_fault: f64,
    /// The Unix time its commands were done: the fault was in place.
    t_faulted: f64,
    /// The fault's instant, for the measures' clocks.
    fault_at: Instant,
    /// Each sample's values taken before the fault, by sample id.
    samples: BTreeMap<String, Vec<Sampled>>,
}

/// The traffic's first `settle_s` with the run's samples taken beside it, then the fault (a
/// crash, the fault's commands).
fn sampled_until_fault(open: &OpenLab, r: &Run, ctx: &Context) -> Result<Faulted> {
    let stop = AtomicBool::new(false);
    let cmds: Vec<(&Sample, String)> = r
        .samples
        .iter()
        .map(|x| Ok((x, ctx.render(&x.run)?)))
        .collect::<Result<_>>()?;
    std::thread::scope(|s| {
        let threads: Vec<_> = cmds
            .iter()
            .map(|(x, cmd)| {
                let stop = &stop;
                s.spawn(move || (x.id.clone(), sample(open, x, cmd, stop)))
            })
            .collect();
        std::thread::sleep(Duration::try_from_secs_f64(r.settle_s).unwrap_or(Duration::ZERO));
        stop.store(true, Ordering::Relaxed);
        let t_fault = unix_now();
        let fault_at = Instant::now();
        let faulted = (|| -> Result<()> {
            if let Some(node) = &r.crash {
                open.backend.crash_node(node)?;
            }
            for nc in &r.fault {
                sh(open, ctx, nc)?;
            }
            Ok(())
        })();
        let t_faulted = unix_now();
        let samples = threads
            .into_iter()
            .map(|h| h.join().expect("sampler thread"))
            // A sample started as the fault came counts only if it started before it.
            .map(|(id, v)| (id, v.into_iter().filter(|x| x.t < t_fault).collect()))
            .collect();
        faulted.map(|()| Faulted {
            t_fault,
            t_faulted,
            fault_at,
            samples,
        })
    })
}

/// How long one sample's command may take.
const SAMPLE_TIMEOUT: Duration = Duration::from_secs(5);

/// `x`'s command every `x.every_ms` until `stop`: the numbers it printed, with when (a sample
/// that printed no number is left out).
fn sample(open: &OpenLab, x: &Sample, cmd: &str, stop: &AtomicBool) -> Vec<Sampled> {
    let node = open.backend.node(&x.node);
    let every = Duration::from_millis(x.every_ms);
    let mut out = Vec::new();
    let begin = Instant::now();
    let mut n = 0u32;
    while !stop.load(Ordering::Relaxed) {
        let t = unix_now();
        if let Ok(o) = node.run(cmd, SAMPLE_TIMEOUT)
            && o.success()
            && let Some(v) = result::number(&o.stdout)
        {
            out.push(Sampled { t, v });
        }
        n += 1;
        let next = every * n;
        // Wait for the next tick in short steps, so the fault never waits long for a sampler.
        while !stop.load(Ordering::Relaxed) && begin.elapsed() < next {
            std::thread::sleep((next - begin.elapsed()).min(Duration::from_millis(20)));
        }
    }
    out
}

/// Seconds from `since` until `m`'s condition holds (on its node and on each of `also_on` in
/// the same try), or `None` once its limit (counted from `since`) has passed.
fn measure(open: &OpenLab, ctx: &Context, m: &Measure, since: Instant) -> Result<Option<f64>> {
    let cmd = ctx.render(&m.until)?;
    // Validation keeps these numbers finite and in range; a bad one never panics.
    let limit = Duration::try_from_secs_f64(m.limit_s).unwrap_or(Duration::ZERO);
    let nodes: Vec<_> = std::iter::once(&m.node)
        .chain(&m.also_on)
        .map(|n| open.backend.node(n))
        .collect();
    // Every node in the same try, one after the other (the first that fails ends the try).
    let held = parallel::poll(limit.saturating_sub(since.elapsed()), POLL, || {
        nodes
            .iter()
            .all(|node| node.run(&cmd, TRY_TIMEOUT).is_ok_and(|o| o.success()))
            .then(|| since.elapsed().as_secs_f64())
    });
    Ok(held.ready())
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_run_again_take_the_place_of_their_earlier_results() {
        let run = |id: &str, passed: bool| RunResult {
            id: id.into(),
            passed,
            ..RunResult::default()
        };
        let result = |runs: Vec<RunResult>, at: u64| DrillResult {
            drill: "d".into(),
            title: "t".into(),
            claim: "c".into(),
            at,
            passed: runs.iter().all(|r| r.passed),
            runs,
            context: BTreeMap::new(),
            roles: BTreeMap::new(),
            leaves: None,
        };
        let before = result(vec![run("a", true), run("b", false)], 1);
        let j = joined(before.clone(), &result(vec![run("b", true)], 2));
        let ids: Vec<(&str, bool)> = j.runs.iter().map(|r| (r.id.as_str(), r.passed)).collect();
        assert_eq!(ids, [("a", true), ("b", true)]);
        assert!(j.passed);
        assert_eq!(j.at, 2);
        let j = joined(before, &result(vec![run("c", true)], 3));
        assert_eq!(j.runs.len(), 3);
        assert!(!j.passed);
    }

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
}
