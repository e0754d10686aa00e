//! Rendering drill results: per run as text, the figures beside the chapter's claim and the
//! lesson's thresholds; for `halab drill all`, the chapter's table with the measured figures;
//! and both as JSON for tools.
//!
//! Must not: run anything.

use std::fmt::Write as _;

use super::result::{DrillResult, RunResult};
use crate::content::drill::{Drill, MEDIAN_SUFFIX};
use crate::ui;

fn secs(v: f64) -> String {
    format!("{v:.2} s")
}

/// The figures of one run, one per line.
fn figures(r: &RunResult) -> Vec<String> {
    let f = &r.figures;
    let mut lines = Vec::new();
    if let Some(q) = &f.requests {
        let mut l = format!(
            "requests: {} sent, {} failed; worst {:.0} ms, median {:.0} ms",
            q.requests, q.failed, q.worst_ms, q.p50_ms
        );
        if let Some((a, b)) = r.failed_between {
            let _ = write!(l, "; failures from +{a:.2} s to +{b:.2} s after the fault");
        }
        if let Some(e) = &r.first_error {
            let _ = write!(l, " (first: {e})");
        }
        lines.push(l);
    }
    if let (Some(q), Some((a, b))) = (&f.requests, r.held_between) {
        lines.push(format!(
            "while the fault held (+{a:.2} s to +{b:.2} s): {} of {} requests failed",
            q.failed_during_fault, q.during_fault
        ));
    }
    if let Some(q) = &f.requests
        && q.read_outage_s > 0.0
    {
        lines.push(format!("read outage: {}", secs(q.read_outage_s)));
    }
    if let Some(w) = &f.orders {
        let why = r
            .writes_note
            .as_ref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        lines.push(format!(
            "orders: {} sent, {} acknowledged, {} failed, {} unknown; write outage {}",
            w.writes,
            w.acknowledged,
            w.writes_failed,
            w.writes_unknown,
            secs(w.write_outage_s)
        ));
        lines.push(format!(
            "read back: {} lost{why}, {} recovered, {} unexpected, {} duplicated",
            w.lost, w.recovered, w.unexpected, w.duplicates
        ));
    }
    for (id, title) in &r.read_titles {
        let n = r.history.reads.get(id).map_or(0, Vec::len);
        lines.push(format!("{title}: {n} of this run's orders"));
    }
    for (id, title) in &r.difference_titles {
        if let Some(v) = f.lesson.get(id) {
            lines.push(format!("{title}: {v:.0}"));
        }
    }
    for (id, title) in &r.sample_titles {
        let median = format!("{id}{MEDIAN_SUFFIX}");
        match (f.lesson.get(id), f.lesson.get(&median)) {
            (Some(max), Some(p50)) => lines.push(format!(
                "{title}: at most {max} (median {p50}) in {} samples before the fault",
                r.history.samples.get(id).map_or(0, Vec::len)
            )),
            _ => lines.push(format!("{title}: no sample printed a number")),
        }
    }
    for (id, title) in &r.measure_titles {
        let claim = r
            .claims
            .get(id)
            .map(|c| format!("  (the chapter: {})", secs(*c)))
            .unwrap_or_default();
        let derived: String = if r.claims.contains_key(id) {
            r.derived_titles
                .iter()
                .filter_map(
                    |(fid, t)| match (f.lesson.get(fid), r.derived_absent.get(fid)) {
                        (Some(v), _) => Some(format!(", {t} {}", secs(v))),
                        (None, Some(why)) => Some(format!(", {t}: none ({why})")),
                        (None, None) => None,
                    },
                )
                .collect()
        } else {
            String::new()
        };
        match f.lesson.get(id) {
            Some(v) => lines.push(format!("{title}: {}{claim}{derived}", secs(v))),
            None => lines.push(format!(
                "{title}: did not happen within {}{claim}{derived}",
                within(r, id)
            )),
        }
    }
    lines
}

/// How long a measure waited: its limit, or "the limit" in results kept before limits were.
fn within(r: &RunResult, id: &str) -> String {
    r.limits
        .get(id)
        .map_or_else(|| "the limit".to_string(), |l| secs(*l))
}

/// One drill's result for people.
pub(crate) fn text(d: &DrillResult) -> String {
    let mut s = format!("{} {}: {}\n", ui::bold("drill"), d.drill, d.title);
    let _ = writeln!(s, "  the chapter: {}", d.claim);
    if !d.roles.is_empty() {
        let parts: Vec<String> = d.roles.iter().map(|(r, n)| format!("{r} = {n}")).collect();
        let _ = writeln!(s, "  parts: {}", parts.join(", "));
    }
    for r in &d.runs {
        let mark = if r.passed {
            ui::green("✔")
        } else {
            ui::red("✘")
        };
        let _ = writeln!(s, "{mark} {}: {}", r.id, r.title);
        for l in figures(r) {
            let _ = writeln!(s, "    {l}");
        }
        for v in &r.verdicts {
            let m = if v.passed {
                ui::green("✔")
            } else {
                ui::red("✘")
            };
            let value = v
                .value
                .map(|x| format!("{x:.2}"))
                .unwrap_or_else(|| "not measured".into());
            let _ = write!(s, "    {m} {} ≤ {} (measured {value})", v.figure, v.max);
            if !v.passed
                && let Some(w) = &v.why
            {
                let _ = write!(s, ": {w}");
            }
            s.push('\n');
        }
    }
    for (title, out) in &d.context {
        let _ = writeln!(s, "  {title}:");
        for l in out.lines() {
            let _ = writeln!(s, "    {l}");
        }
    }
    if let Some(l) = &d.leaves {
        let _ = writeln!(s, "  {} {}", ui::bold("left changed:"), l.trim());
    }
    s
}

/// The lesson's own figures of a run (its measures, then the differences between its reads),
/// for the chapter's table.
fn measured(r: &RunResult) -> String {
    let mut parts = Vec::new();
    for (id, title) in &r.measure_titles {
        match r.figures.lesson.get(id) {
            Some(v) => parts.push(format!("{title} {}", secs(v))),
            None => parts.push(format!("{title}: not within {}", within(r, id))),
        }
    }
    for (id, title) in &r.difference_titles {
        if let Some(v) = r.figures.lesson.get(id) {
            parts.push(format!("{title} {v:.0}"));
        }
    }
    parts.join(", ")
}

/// The cells of a run's user-facing figures: requests failed, writes failed / unknown / lost,
/// read and write outage seconds; `–` where the run had no such stream.
fn user_cells(r: &RunResult) -> [String; 6] {
    let dash = || "–".to_string();
    let q = r.figures.requests.as_ref();
    let w = r.figures.orders.as_ref();
    [
        q.map_or_else(dash, |q| format!("{}/{}", q.failed, q.requests)),
        w.map_or_else(dash, |w| format!("{}/{}", w.writes_failed, w.writes)),
        w.map_or_else(dash, |w| w.writes_unknown.to_string()),
        w.map_or_else(dash, |w| format!("{}/{}", w.lost, w.acknowledged)),
        q.map_or_else(dash, |q| format!("{:.1}", q.read_outage_s)),
        w.map_or_else(dash, |w| format!("{:.1}", w.write_outage_s)),
    ]
}

/// `halab drill all`: the chapter's table, one row per run, with what users saw (requests
/// failed, writes failed / unknown / lost, outage seconds) and the lesson's own measures; the
/// chapter's claims below it. `color` and `width` as for `ui::table`.
pub(crate) fn table(
    results: &[Result<DrillResult, String>],
    titles: &[(String, String)],
    color: bool,
    width: Option<u16>,
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}",
        ui::bold("What goes down, and what happens (measured on this lab)")
    );
    let mut t = ui::table(
        &[
            "",
            "what goes down",
            "run",
            "requests failed",
            "writes failed",
            "unknown",
            "lost",
            "read outage s",
            "write outage s",
            "measured",
        ],
        color,
        width,
    );
    for ((title, _), res) in titles.iter().zip(results) {
        match res {
            Ok(d) => {
                for (i, r) in d.runs.iter().enumerate() {
                    let mark = ui::status_cell(if r.passed { "✔" } else { "✘" }, r.passed);
                    let what = if i == 0 { title.clone() } else { String::new() };
                    let mut row = vec![mark, what.into(), r.title.clone().into()];
                    row.extend(user_cells(r).into_iter().map(Into::into));
                    row.push(measured(r).into());
                    t.add_row(row);
                }
            }
            Err(why) => {
                let mut row: Vec<comfy_table::Cell> = vec![
                    "–".into(),
                    title.clone().into(),
                    format!("not run: {why}").into(),
                ];
                row.extend((0..7).map(|_| comfy_table::Cell::new("")));
                t.add_row(row);
            }
        }
    }
    let _ = writeln!(s, "{t}");
    let _ = writeln!(s, "\nThe chapter's claims:");
    for (title, claim) in titles {
        let _ = writeln!(s, "  {title}: {claim}");
    }
    s
}

/// One drill's result as JSON: the shape the lab's record keeps.
pub(crate) fn json(d: &DrillResult) -> String {
    serde_json::to_string_pretty(d).expect("drill result serializes")
}

/// `halab drill all` as JSON: one entry per drill of the lesson, its result or, for a drill
/// that did not run, `{"drill": ID, "not_run": WHY}`.
pub(crate) fn json_all(results: &[Result<DrillResult, String>], drills: &[Drill]) -> String {
    let v: Vec<serde_json::Value> = results
        .iter()
        .zip(drills)
        .map(|(r, d)| match r {
            Ok(res) => serde_json::to_value(res).unwrap_or_default(),
            Err(why) => serde_json::json!({ "drill": d.id, "not_run": why }),
        })
        .collect();
    serde_json::to_string_pretty(&v).expect("drill results serialize")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::drill::result::{Figures, RequestFigures};

    #[test]
    fn the_table_puts_each_claim_beside_the_measured_figures() {
        let mut figures = Figures {
            requests: Some(RequestFigures {
                requests: 202,
                failed: 21,
                worst_ms: 3007.0,
                p50_ms: 1.0,
                read_outage_s: 4.0,
                during_fault: 80,
                failed_during_fault: 21,
            }),
            ..Figures::default()
        };
        figures.lesson.insert("moved", 3.17);
        figures.lesson.insert("takeover_s", 3.65);
        let run = RunResult {
            id: "crash".into(),
            title: "lb-01 crashed".into(),
            figures,
            failed_between: Some((0.05, 4.05)),
            claims: BTreeMap::from([("moved".to_string(), 3.0)]),
            measure_titles: vec![("moved".into(), "floating IP on lb-02 after".into())],
            derived_titles: vec![("takeover_s".into(), "the protocol's own figure".into())],
            passed: true,
            ..RunResult::default()
        };
        let d = DrillResult {
            drill: "lb-failover".into(),
            title: "nginx-01 dies".into(),
            claim: "keepalived moves the floating IP in 3 seconds".into(),
            at: 0,
            runs: vec![run],
            context: BTreeMap::new(),
            roles: BTreeMap::new(),
            leaves: None,
            passed: true,
        };
        let titles = vec![
            (d.title.clone(), d.claim.clone()),
            (
                "Primary DB dies".to_string(),
                "promotion in 5 minutes".to_string(),
            ),
        ];
        let t = table(
            &[Ok(d.clone()), Err("needs a streaming standby".into())],
            &titles,
            false,
            None,
        );
        let row = t
            .lines()
            .find(|l| l.contains("lb-01 crashed"))
            .unwrap_or_default();
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells[0], "✔", "{t}");
        // requests failed of sent, then no orders (–), the read outage, then the measures.
        assert!(row.contains(" 21/202 "), "{t}");
        assert!(row.contains(" 4.0 "), "{t}");
        assert!(row.contains("floating IP on lb-02 after 3.17 s"), "{t}");
        assert_eq!(row.matches(" – ").count(), 4, "{t}");
        assert!(t.contains("not run: needs a streaming standby"), "{t}");
        assert!(
            t.contains("  nginx-01 dies: keepalived moves the floating IP in 3 seconds\n"),
            "{t}"
        );
        assert!(
            t.contains("  Primary DB dies: promotion in 5 minutes\n"),
            "{t}"
        );
        // With orders: writes failed of sent, unknown, lost of acknowledged, the write outage.
        let mut with_orders = d.clone();
        with_orders.runs[0].figures.orders = Some(crate::drill::result::OrderFigures {
            writes: 30,
            acknowledged: 20,
            writes_failed: 7,
            writes_unknown: 3,
            lost: 2,
            write_outage_s: 1.26,
            ..Default::default()
        });
        let t = table(&[Ok(with_orders.clone())], &titles[..1], false, None);
        let row = t
            .lines()
            .find(|l| l.contains("lb-01 crashed"))
            .unwrap_or_default();
        for cell in [" 7/30 ", " 3 ", " 2/20 ", " 1.3 "] {
            assert!(row.contains(cell), "{cell:?} in {t}");
        }
        let one = text(&with_orders);
        assert!(
            one.contains(
                "orders: 30 sent, 20 acknowledged, 7 failed, 3 unknown; write outage 1.26 s"
            ),
            "{one}"
        );
        assert!(one.contains("read back: 2 lost, 0 recovered"), "{one}");
        // A run's own reads and the differences between them: in the text and the table.
        let mut two = with_orders.clone();
        let r = &mut two.runs[0];
        r.figures.lesson.insert("only_a", 47.0);
        r.difference_titles = vec![("only_a".into(), "orders on a only".into())];
        r.read_titles = vec![("a".into(), "on a".into())];
        r.history.reads = BTreeMap::from([("a".to_string(), vec!["x-1".to_string()])]);
        let one = text(&two);
        assert!(one.contains("    on a: 1 of this run's orders\n"), "{one}");
        assert!(one.contains("    orders on a only: 47\n"), "{one}");
        let t = table(&[Ok(two)], &titles[..1], false, Some(400));
        assert!(t.contains("orders on a only 47"), "{t}");
        let one = text(&d);
        assert!(
            one.contains(
                "floating IP on lb-02 after: 3.17 s  (the chapter: 3.00 s), the protocol's own figure 3.65 s"
            ),
            "{one}"
        );
        assert!(
            one.contains("failures from +0.05 s to +4.05 s after the fault"),
            "{one}"
        );
    }

    #[test]
    fn a_measure_that_never_held_says_how_long_it_waited_and_an_absent_figure_says_why() {
        let run = RunResult {
            id: "died".into(),
            title: "the service died".into(),
            figures: Figures {
                requests: Some(RequestFigures {
                    requests: 200,
                    failed: 160,
                    during_fault: 160,
                    failed_during_fault: 160,
                    ..RequestFigures::default()
                }),
                ..Figures::default()
            },
            timed_out: vec!["moved".into()],
            limits: BTreeMap::from([("moved".to_string(), 8.0)]),
            held_between: Some((0.01, 8.05)),
            claims: BTreeMap::from([("moved".to_string(), 3.0)]),
            measure_titles: vec![("moved".into(), "address on the backup after".into())],
            derived_titles: vec![("check_s".into(), "the check's own figure".into())],
            derived_absent: BTreeMap::from([(
                "check_s".to_string(),
                "no check in the configuration".to_string(),
            )]),
            ..RunResult::default()
        };
        let d = DrillResult {
            drill: "d".into(),
            title: "it dies".into(),
            claim: "it moves in 3 seconds".into(),
            at: 0,
            runs: vec![run],
            context: BTreeMap::new(),
            roles: BTreeMap::new(),
            leaves: None,
            passed: false,
        };
        let one = text(&d);
        assert!(
            one.contains("while the fault held (+0.01 s to +8.05 s): 160 of 160 requests failed"),
            "{one}"
        );
        assert!(
            one.contains(
                "address on the backup after: did not happen within 8.00 s  (the chapter: 3.00 s), the check's own figure: none (no check in the configuration)"
            ),
            "{one}"
        );
        let titles = vec![(d.title.clone(), d.claim.clone())];
        let t = table(&[Ok(d)], &titles, false, None);
        assert!(
            t.contains("address on the backup after: not within 8.00 s"),
            "{t}"
        );
        assert!(t.contains(" 160/200 "), "{t}");
    }
}
