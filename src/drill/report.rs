//! Drill results as text: per run, the figures beside the chapter's claim and the lesson's
//! thresholds; for `halab drill all`, the chapter's table with the measured figures.
//!
//! Must not: run anything.

use std::fmt::Write as _;

use super::{DrillResult, RunResult};
use crate::ui;

fn secs(v: f64) -> String {
    format!("{v:.2} s")
}

/// The figures of one run, one per line.
fn figures(r: &RunResult) -> Vec<String> {
    let f = &r.figures;
    let mut lines = Vec::new();
    if let Some(n) = f.get("requests") {
        let mut l = format!(
            "requests: {n:.0} sent, {:.0} failed; worst {:.0} ms, median {:.0} ms",
            f["failed"], f["worst_ms"], f["p50_ms"]
        );
        if let Some((a, b)) = r.failed_between {
            let _ = write!(l, "; failures from +{a:.2} s to +{b:.2} s after the fault");
        }
        if let Some(e) = &r.first_error {
            let _ = write!(l, " (first: {e})");
        }
        lines.push(l);
    }
    if let Some(c) = f.get("rows_committed") {
        let why = r
            .writes_note
            .as_ref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        lines.push(format!(
            "writes: {c:.0} rows committed, {:.0} of them missing after the failover{why}",
            f["rows_lost"]
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
                .filter_map(|(fid, t)| Some(format!(", {t} {}", secs(*f.get(fid)?))))
                .collect()
        } else {
            String::new()
        };
        match f.get(id) {
            Some(v) => lines.push(format!("{title}: {}{claim}{derived}", secs(*v))),
            None => lines.push(format!("{title}: did not happen within the limit{claim}")),
        }
    }
    lines
}

/// One drill's result for people.
pub fn text(d: &DrillResult) -> String {
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
        match r.figures.get(id) {
            Some(v) => parts.push(format!("{title} {}", secs(*v))),
            None => parts.push(format!("{title}: no")),
        }
    }
    if let Some(failed) = r.figures.get("failed") {
        parts.push(format!("{failed:.0} failed requests"));
    }
    if let Some(lost) = r.figures.get("rows_lost") {
        parts.push(format!("{lost:.0} rows lost"));
    }
    parts.join(", ")
}

/// `halab drill all`: the chapter's table, each row with its claim and what was measured.
pub fn table(results: &[Result<DrillResult, String>], titles: &[(String, String)]) -> String {
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn the_table_puts_each_claim_beside_the_measured_figures() {
        let run = RunResult {
            id: "crash".into(),
            title: "lb-01 crashed".into(),
            figures: BTreeMap::from([
                ("moved".to_string(), 3.17),
                ("requests".to_string(), 202.0),
                ("failed".to_string(), 21.0),
                ("worst_ms".to_string(), 3007.0),
                ("p50_ms".to_string(), 1.0),
                ("takeover_s".to_string(), 3.65),
            ]),
            timed_out: vec![],
            failed_between: Some((0.05, 4.05)),
            first_error: None,
            claims: BTreeMap::from([("moved".to_string(), 3.0)]),
            measure_titles: vec![("moved".into(), "floating IP on lb-02 after".into())],
            derived_titles: vec![("takeover_s".into(), "the protocol's own figure".into())],
            writes_note: None,
            verdicts: vec![],
            passed: true,
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
