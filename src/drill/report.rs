//! Rendering drill results: per run as text, the figures beside the chapter's claim and the
//! lesson's thresholds; for `halab drill all`, the chapter's table with the measured figures;
//! and both as JSON for tools.
//!
//! Must not: run anything.

use std::fmt::Write as _;

use super::result::{DrillResult, RunResult};
use crate::content::drill::Drill;
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
    if let Some(w) = &f.writes {
        let why = r
            .writes_note
            .as_ref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        lines.push(format!(
            "writes: {} rows committed, {} of them missing after the failover{why}",
            w.rows_committed, w.rows_lost
        ));
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
                .filter_map(|(fid, t)| Some(format!(", {t} {}", secs(f.lesson.get(fid)?))))
                .collect()
        } else {
            String::new()
        };
        match f.lesson.get(id) {
            Some(v) => lines.push(format!("{title}: {}{claim}{derived}", secs(v))),
            None => lines.push(format!("{title}: did not happen within the limit{claim}")),
        }
    }
    lines
}

/// One drill's result for people.
pub(crate) fn text(d: &DrillResult) -> String {
    let mut s = format!("{} {}: {}\n", ui::bold("drill"), d.drill, d.title);
    let _ = writeln!(s, "  the chapter: {}", d.claim);
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

/// The headline figure of a run, for the chapter's table.
fn headline(r: &RunResult) -> String {
    let mut parts = Vec::new();
    for (id, title) in &r.measure_titles {
        match r.figures.lesson.get(id) {
            Some(v) => parts.push(format!("{title} {}", secs(v))),
            None => parts.push(format!("{title}: no")),
        }
    }
    if let Some(q) = &r.figures.requests {
        parts.push(format!("{} failed requests", q.failed));
    }
    if let Some(w) = &r.figures.writes {
        parts.push(format!("{} rows lost", w.rows_lost));
    }
    parts.join(", ")
}

/// `halab drill all`: the chapter's table, each row with its claim and what was measured.
pub(crate) fn table(
    results: &[Result<DrillResult, String>],
    titles: &[(String, String)],
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}",
        ui::bold("What goes down, and what happens (measured on this lab)")
    );
    for ((title, claim), res) in titles.iter().zip(results) {
        let _ = writeln!(s, "\n{title}");
        let _ = writeln!(s, "  the chapter: {claim}");
        match res {
            Ok(d) => {
                for r in &d.runs {
                    let mark = if r.passed {
                        ui::green("✔")
                    } else {
                        ui::red("✘")
                    };
                    let _ = writeln!(s, "  {mark} {}: {}", r.title, headline(r));
                }
            }
            Err(why) => {
                let _ = writeln!(s, "  – not run: {why}");
            }
        }
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
                failed_window_s: 4.0,
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
        );
        assert!(
            t.contains(
                "nginx-01 dies\n  the chapter: keepalived moves the floating IP in 3 seconds"
            ),
            "{t}"
        );
        assert!(
            t.contains("lb-01 crashed: floating IP on lb-02 after 3.17 s, 21 failed requests"),
            "{t}"
        );
        assert!(t.contains("Primary DB dies\n  the chapter: promotion in 5 minutes\n  – not run: needs a streaming standby"), "{t}");
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
}
