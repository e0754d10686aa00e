//! The lesson file (`lessons/<id>.toml`): the steps a trainee works through, what each step
//! teaches, the checks that grade it by running commands on the lab's nodes, and the questions
//! it asks. Loading checks the file against its lab and its solutions and reports every problem
//! at once.
//!
//! Must not: run anything (the check engine and the runner do).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::diag::{
    Diagnostics, Doc, DocPath, Ids, Seg, did_you_mean, struct_fields, unknown_name_help,
};
use super::drill::Drill;
use super::lab::{Lab, check_node_ref, check_simple_name, is_node_path, is_simple_name};
use super::template::Context;

/// A lesson: one chapter turned into a guided lab.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Lesson {
    /// Identifier the trainee types (`halab start ID`).
    pub id: String,
    /// The chapter's title.
    pub title: String,
    /// Where the chapter comes from, e.g. "Linux for Production Support, chapter 32".
    #[serde(default)]
    pub source: String,
    /// The id of the lab (`labs/<lab>.toml`) this lesson runs on.
    pub lab: String,
    /// A short paragraph shown before the first step.
    #[serde(default)]
    pub summary: String,
    /// Files the trainee edits, saved by `halab reset` before the lab is rebuilt.
    #[serde(default)]
    pub edits: Vec<Edit>,
    /// Services the trainee sets up on some nodes (beyond their roles'), which `halab status`
    /// shows once they are enabled or running.
    #[serde(default)]
    pub services: Vec<Services>,
    /// The steps, in order.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// Failure drills (`halab drill ID`): the chapter's claims, measured on the lab.
    #[serde(default)]
    pub drills: Vec<super::drill::Drill>,
}

/// Paths on some nodes that hold the trainee's work.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Edit {
    pub nodes: Vec<String>,
    /// Files or directories (absolute paths; templates allowed).
    pub paths: Vec<String>,
}

/// Services (systemd units) that the lesson has the trainee set up on some nodes.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Services {
    /// The nodes they run on.
    pub nodes: Vec<String>,
    /// Unit names, as `systemctl` takes them.
    pub names: Vec<String>,
}

impl Lesson {
    /// The lesson's own services on `node`, in the lesson's order, once each.
    pub fn services_on(&self, node: &str) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for s in self
            .services
            .iter()
            .filter(|s| s.nodes.iter().any(|n| n == node))
        {
            for n in &s.names {
                if !out.contains(&n.as_str()) {
                    out.push(n);
                }
            }
        }
        out
    }
}

/// One step of a lesson.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Step {
    /// Short identifier (`halab check --step ID`).
    pub id: String,
    /// One line.
    pub title: String,
    /// The nodes the trainee works on in this step (offered as shells in the runner).
    #[serde(default)]
    pub nodes: Vec<String>,
    /// What to do, in our words (a template). Lines starting with `$ ` are commands.
    pub prose: String,
    /// The chapter's own commands this step uses (templates), shown with the prose.
    #[serde(default)]
    pub commands: Vec<String>,
    /// Where the chapter is wrong or incomplete on a real Debian/Ubuntu machine, and why.
    #[serde(default)]
    pub errata: Vec<String>,
    /// Hints, revealed one at a time.
    #[serde(default)]
    pub hints: Vec<String>,
    /// Questions answered at a prompt (numbers, graded with a tolerance).
    #[serde(default)]
    pub questions: Vec<Question>,
    /// Checks that grade the lab for this step.
    #[serde(default)]
    pub checks: Vec<Check>,
    /// Things halab does on request in this step (e.g. fail the primary).
    #[serde(default)]
    pub actions: Vec<Action>,
    /// A later step that replaces this step's state on purpose: once both have passed, a full
    /// `check` shows this step's recorded pass instead of running it.
    #[serde(default)]
    pub superseded_by: Option<String>,
    /// This step's checks break things on purpose and take seconds: a full `check` reuses a
    /// recorded pass; `check --step ID` always runs them.
    #[serde(default)]
    pub live: bool,
}

/// A numeric question. The answer is computed from the uptime arithmetic, never written down.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Question {
    pub id: String,
    /// The question, as asked.
    pub ask: String,
    /// Availabilities in percent, e.g. `[99.9]` or `[99.9, 99.9]`.
    pub availability: Vec<f64>,
    /// How several components combine: `serial` (all needed) or `parallel` (any one is enough).
    #[serde(default)]
    pub compose: Option<crate::uptime::Compose>,
    /// `downtime` (per `per`, in `unit`) or `availability` (in percent).
    #[serde(default = "default_quantity")]
    pub quantity: crate::uptime::Quantity,
    /// year, month, week or day (for downtime).
    #[serde(default)]
    pub per: Option<crate::uptime::Period>,
    /// days, hours, minutes or seconds (for downtime).
    #[serde(default)]
    pub unit: Option<crate::uptime::Unit>,
    /// Accepted relative error, default 0.01 (1 %).
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
}

fn default_quantity() -> crate::uptime::Quantity {
    crate::uptime::Quantity::Downtime
}
fn default_tolerance() -> f64 {
    0.01
}

/// One check: a command run on a node through its shell, and what its result must look like.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Check {
    /// Unique within the step.
    pub id: String,
    /// What it verifies, in a few words.
    pub title: String,
    /// The node the command runs on.
    pub node: String,
    /// The command (a template), run with `bash -c` as root.
    pub run: String,
    #[serde(default)]
    pub expect: Expect,
    /// Shown when it fails: what is wrong, in the trainee's terms.
    pub message: String,
    /// A hint specific to this failure.
    #[serde(default)]
    pub hint: Option<String>,
    /// Commands run before (they change the lab; the check then runs on its own).
    #[serde(default)]
    pub before: Vec<NodeCommand>,
    /// Commands run after, whatever happened, to put back what `before` changed.
    #[serde(default)]
    pub after: Vec<NodeCommand>,
    /// Ids of earlier checks of this step that finish before this one starts: a check that
    /// reloads a service runs before the checks that probe it (the others run at once).
    #[serde(default)]
    pub runs_after: Vec<String>,
}

/// What a check's command must produce. Every field given must hold.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Expect {
    /// Exit status (default 0).
    #[serde(default)]
    pub exit: Option<i32>,
    /// Any exit status is fine.
    #[serde(default)]
    pub any_exit: bool,
    /// A regex that must match stdout.
    #[serde(default)]
    pub stdout: Option<String>,
    /// A regex that must match stderr.
    #[serde(default)]
    pub stderr: Option<String>,
    /// A regex that must match stdout or stderr.
    #[serde(default)]
    pub output: Option<String>,
    /// A regex that must match neither stdout nor stderr.
    #[serde(default)]
    pub not_output: Option<String>,
    /// A regex every non-empty stdout line must match.
    #[serde(default)]
    pub every_line: Option<String>,
    /// Exactly this many distinct non-empty stdout lines.
    #[serde(default)]
    pub distinct_lines: Option<usize>,
    /// At least this many non-empty stdout lines.
    #[serde(default)]
    pub min_lines: Option<usize>,
    /// Keep trying for up to this many seconds until it holds ("eventually"); a pass must hold
    /// on two tries in a row.
    #[serde(default)]
    pub within: Option<f64>,
    /// With `within`: a failing check whose output stays exactly the same for this many seconds
    /// stops trying before `within` is up (default 2). Give more, up to `within`, where the lab
    /// converges slowly with nothing to show meanwhile (a VRRP election, a standby connecting).
    #[serde(default)]
    pub settle: Option<f64>,
}

/// A command on a node.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct NodeCommand {
    pub node: String,
    /// Run with `bash -c` as root (a template).
    pub run: String,
}

/// Something halab does to the lab when the trainee (or a solution) asks.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Action {
    pub id: String,
    /// Menu text.
    pub label: String,
    pub run: Vec<NodeCommand>,
}

impl Expect {
    /// The regex fields that are set, by name.
    pub fn regexes(&self) -> Vec<(&'static str, &String)> {
        [
            ("stdout", &self.stdout),
            ("stderr", &self.stderr),
            ("output", &self.output),
            ("not_output", &self.not_output),
            ("every_line", &self.every_line),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
        .collect()
    }

    /// The same expectation with template values rendered in its regexes.
    pub fn rendered(
        &self,
        ctx: &crate::content::template::Context,
    ) -> Result<Expect, minijinja::Error> {
        let r = |v: &Option<String>| v.as_ref().map(|t| ctx.render(t)).transpose();
        Ok(Expect {
            stdout: r(&self.stdout)?,
            stderr: r(&self.stderr)?,
            output: r(&self.output)?,
            not_output: r(&self.not_output)?,
            every_line: r(&self.every_line)?,
            ..self.clone()
        })
    }
}

impl Lesson {
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    pub fn step_index(&self, id: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.id == id)
    }

    /// The step `id`, or an error with a did-you-mean.
    pub fn step_or_err(&self, id: &str) -> anyhow::Result<&Step> {
        self.step(id).ok_or_else(|| {
            let ids = self.steps.iter().map(|s| s.id.as_str());
            crate::ui::Problem::new(
                format!("lesson `{}` has no step `{id}`", self.id),
                match did_you_mean(id, ids.clone()) {
                    Some(s) => format!(
                        "did you mean `{s}`? steps: {}",
                        ids.collect::<Vec<_>>().join(", ")
                    ),
                    None => format!("steps: {}", ids.collect::<Vec<_>>().join(", ")),
                },
            )
            .into()
        })
    }
}

fn lesson_fields(p: &DocPath) -> &'static [&'static str] {
    let key = |s: &Seg, k: &str| matches!(s, Seg::Key(x) if x == k);
    match p.0.as_slice() {
        [] => struct_fields::<Lesson>(),
        [a, Seg::Index(_)] if key(a, "steps") => struct_fields::<Step>(),
        [a, Seg::Index(_)] if key(a, "edits") => struct_fields::<Edit>(),
        [a, Seg::Index(_)] if key(a, "services") => struct_fields::<Services>(),
        [a, Seg::Index(_)] if key(a, "drills") => struct_fields::<super::drill::Drill>(),
        [a, Seg::Index(_), b] if key(a, "drills") && key(b, "requests") => {
            struct_fields::<super::drill::Requests>()
        }
        [a, Seg::Index(_), b] if key(a, "drills") && key(b, "orders") => {
            struct_fields::<super::drill::Orders>()
        }
        [a, Seg::Index(_), b, Seg::Index(_)] if key(a, "drills") && key(b, "figures") => {
            struct_fields::<super::drill::DerivedFigure>()
        }
        [a, Seg::Index(_), b, Seg::Index(_)] if key(a, "drills") && key(b, "roles") => {
            struct_fields::<super::drill::Role>()
        }
        [a, Seg::Index(_), b, Seg::Index(_)] if key(a, "drills") && key(b, "ready") => {
            struct_fields::<super::drill::Precondition>()
        }
        [a, Seg::Index(_), b, Seg::Index(_)] if key(a, "drills") && key(b, "context") => {
            struct_fields::<super::drill::Shown>()
        }
        [a, Seg::Index(_), b, Seg::Index(_)] if key(a, "drills") && key(b, "runs") => {
            struct_fields::<super::drill::Run>()
        }
        [a, Seg::Index(_), b, Seg::Index(_), c, Seg::Index(_)]
            if key(a, "drills") && key(b, "runs") && key(c, "measure") =>
        {
            struct_fields::<super::drill::Measure>()
        }
        [a, Seg::Index(_), b, Seg::Index(_), c, Seg::Index(_)]
            if key(a, "drills") && key(b, "runs") && key(c, "samples") =>
        {
            struct_fields::<super::drill::Sample>()
        }
        [a, Seg::Index(_), b, Seg::Index(_), c, Seg::Index(_)]
            if key(a, "drills") && key(b, "runs") && key(c, "reads") =>
        {
            struct_fields::<super::drill::Read>()
        }
        [a, Seg::Index(_), b, Seg::Index(_), c, Seg::Index(_)]
            if key(a, "drills") && key(b, "runs") && key(c, "differences") =>
        {
            struct_fields::<super::drill::Difference>()
        }
        [a, Seg::Index(_), b, Seg::Index(_), c, Seg::Index(_), d]
            if key(a, "drills") && key(b, "runs") && key(c, "measure") && key(d, "assist") =>
        {
            struct_fields::<super::drill::Assist>()
        }
        [a, Seg::Index(_), b, Seg::Index(_), c, Seg::Index(_)]
            if key(a, "drills") && key(b, "runs") && key(c, "pass") =>
        {
            struct_fields::<super::drill::Threshold>()
        }
        [a, Seg::Index(_), b, Seg::Index(_)] if key(a, "steps") && key(b, "questions") => {
            struct_fields::<Question>()
        }
        [a, Seg::Index(_), b, Seg::Index(_)] if key(a, "steps") && key(b, "checks") => {
            struct_fields::<Check>()
        }
        [a, Seg::Index(_), b, Seg::Index(_)] if key(a, "steps") && key(b, "actions") => {
            struct_fields::<Action>()
        }
        [a, Seg::Index(_), b, Seg::Index(_), c]
            if key(a, "steps") && key(b, "checks") && key(c, "expect") =>
        {
            struct_fields::<Expect>()
        }
        [a, Seg::Index(_), b, Seg::Index(_), _, Seg::Index(_)]
            if key(a, "steps") && (key(b, "checks") || key(b, "actions")) =>
        {
            struct_fields::<NodeCommand>()
        }
        _ => &[],
    }
}

/// What a lesson is checked against besides itself.
pub struct LessonRefs<'a> {
    /// Its lab, when found: node names and template values are checked against it.
    pub lab: Option<&'a Lab>,
    /// Step ids that have a solution file, when the solutions were found.
    pub solved_steps: Option<BTreeSet<String>>,
}

/// Read and check a lesson file.
pub fn load(path: &Path, text: String, refs: &LessonRefs) -> Result<Lesson, Diagnostics> {
    Doc::load(path, text, lesson_fields, |l, doc| check(l, refs, doc))
}

/// Every check of a lesson, in the order its problems are reported.
fn check(l: &Lesson, refs: &LessonRefs, doc: &mut Doc) {
    check_top_level(l, refs, doc);
    let ids: Vec<&str> = l.steps.iter().map(|s| s.id.as_str()).collect();
    let mut seen = Ids::new("steps", "give each step its own id");
    for (si, (sp, step)) in DocPath::root().items("steps", &l.steps).enumerate() {
        check_step(l, refs, &ids, &mut seen, si, &sp, doc);
        for (np, n) in sp.items("nodes", &step.nodes) {
            check_node_ref(refs.lab, doc, &np, n);
        }
        check_checks(step, &sp, refs.lab, doc);
        check_actions(step, &sp, refs.lab, doc);
        check_questions(step, &sp, doc);
    }
    check_drills(l, refs, doc);
    // Templates resolve against the lab, whatever else is wrong (each text on its own).
    if let Some(lab) = refs.lab {
        let ctx = Context::example(lab).with_run_id("example");
        check_edit_paths(l, &ctx, doc);
        check_regexes(l, &ctx, doc);
        for (path, text) in texts(l) {
            ctx.render_at(doc, &path, text);
        }
    }
}

/// The lesson's id, its lab's id, the nodes of its edits, and its services: nodes of the lab,
/// unit names.
fn check_top_level(l: &Lesson, refs: &LessonRefs, doc: &mut Doc) {
    let root = DocPath::root();
    check_simple_name(doc, &root.key("id"), "lesson id", &l.id, 20);
    if let Some(lab) = refs.lab
        && lab.id != l.lab
    {
        doc.error(
            &root.key("lab"),
            format!(
                "lesson names lab `{}` but is checked against `{}`",
                l.lab, lab.id
            ),
            Some(format!("write `lab = \"{}\"`", lab.id)),
        );
    }
    for (ep, e) in root.items("edits", &l.edits) {
        for (np, n) in ep.items("nodes", &e.nodes) {
            check_node_ref(refs.lab, doc, &np, n);
        }
    }
    for (sp, s) in root.items("services", &l.services) {
        for (np, n) in sp.items("nodes", &s.nodes) {
            check_node_ref(refs.lab, doc, &np, n);
        }
        for (up, u) in sp.items("names", &s.names) {
            if !super::lab::is_unit_name(u) {
                doc.error(
                    &up,
                    format!("`{u}` is not a service (systemd unit) name"),
                    Some(super::lab::UNIT_HELP.into()),
                );
            }
        }
    }
}

/// Step `si` (at `sp`; `ids` are every step's, `seen` the ones before it): a simple id used
/// once, graded, solved, and superseded only by a later step.
fn check_step<'a>(
    l: &'a Lesson,
    refs: &LessonRefs,
    ids: &[&str],
    seen: &mut Ids<'a>,
    si: usize,
    sp: &DocPath,
    doc: &mut Doc,
) {
    let step = &l.steps[si];
    if !is_simple_name(&step.id, 30) {
        doc.error(
            &sp.key("id"),
            format!("step id `{}` is not a simple name", step.id),
            Some("use lowercase letters, digits and `-`".into()),
        );
    }
    let twice = format!("step `{}` is defined twice", step.id);
    seen.once(doc, &sp.key("id"), si, &step.id, twice);
    if step.checks.is_empty() && step.questions.is_empty() {
        doc.error(
            &sp.key("id"),
            format!(
                "step `{}` has no checks and no questions: nothing would grade it",
                step.id
            ),
            Some(
                "add `[[steps.checks]]` that run the chapter's commands on the lab's nodes".into(),
            ),
        );
    }
    if let Some(solved) = &refs.solved_steps
        && !solved.contains(&step.id)
    {
        doc.error(
            &sp.key("id"),
            format!("step `{}` has no solution", step.id),
            Some(format!("add `solutions/{}/{}.toml`", l.id, step.id)),
        );
    }
    if let Some(by) = &step.superseded_by
        && ids.iter().position(|i| i == by).is_none_or(|bi| bi <= si)
    {
        doc.error(
            &sp.key("superseded_by"),
            format!("`superseded_by = \"{by}\"` must name a later step"),
            Some(format!(
                "steps after this one: {}",
                ids[si + 1..].join(", ")
            )),
        );
    }
}

/// A step's checks: ids used once, nodes of the lab (theirs, `before`'s and `after`'s), expectations.
fn check_checks(step: &Step, sp: &DocPath, lab: Option<&Lab>, doc: &mut Doc) {
    let mut check_ids = BTreeSet::new();
    for (cp, c) in sp.items("checks", &step.checks) {
        if !check_ids.insert(c.id.as_str()) {
            doc.error(
                &cp.key("id"),
                format!("check `{}` appears twice in step `{}`", c.id, step.id),
                Some("give each check of a step its own id".into()),
            );
        }
        check_node_ref(lab, doc, &cp.key("node"), &c.node);
        check_expect(&c.expect, &cp.key("expect"), doc);
        check_runs_after(step, c, &cp, doc);
        for (key, list) in [("before", &c.before), ("after", &c.after)] {
            for (np, nc) in cp.items(key, list) {
                check_node_ref(lab, doc, &np.key("node"), &nc.node);
            }
        }
    }
}

/// A check's `runs_after`: each an id of an earlier check of its step.
fn check_runs_after(step: &Step, c: &Check, cp: &DocPath, doc: &mut Doc) {
    let ids: Vec<&str> = step.checks.iter().map(|c| c.id.as_str()).collect();
    let me = ids.iter().position(|i| *i == c.id).unwrap_or(0);
    for (rp, r) in cp.items("runs_after", &c.runs_after) {
        match ids.iter().position(|i| i == r) {
            None => doc.error(
                &rp,
                format!("step `{}` has no check `{r}`", step.id),
                Some(unknown_name_help(r, &ids, "its checks", true)),
            ),
            Some(at) if at >= me => doc.error(
                &rp,
                format!(
                    "check `{}` runs after `{r}`, which is not before it in step `{}`",
                    c.id, step.id
                ),
                Some(format!(
                    "list `{r}` before `{}` in the step (checks run after earlier ones only)",
                    c.id
                )),
            ),
            Some(_) => {}
        }
    }
}

/// A step's actions: ids used once, commands on nodes of the lab.
fn check_actions(step: &Step, sp: &DocPath, lab: Option<&Lab>, doc: &mut Doc) {
    let mut ids = Ids::new("actions", "give each action of a step its own id");
    for (ai, (ap, a)) in sp.items("actions", &step.actions).enumerate() {
        let twice = format!("action `{}` appears twice in step `{}`", a.id, step.id);
        ids.once(doc, &ap.key("id"), ai, &a.id, twice);
        for (rp, nc) in ap.items("run", &a.run) {
            check_node_ref(lab, doc, &rp.key("node"), &nc.node);
        }
    }
}

/// A step's questions: ids used once, a tolerance in range, an answer the arithmetic can give.
fn check_questions(step: &Step, sp: &DocPath, doc: &mut Doc) {
    let help = "give each question of a step its own id (solutions answer by id)";
    let mut ids = Ids::new("questions", help);
    for (qi, (qp, q)) in sp.items("questions", &step.questions).enumerate() {
        let twice = format!("question `{}` appears twice in step `{}`", q.id, step.id);
        ids.once(doc, &qp.key("id"), qi, &q.id, twice);
        doc.number_in(
            &qp.key("tolerance"),
            q.tolerance,
            (Bound::Excluded(0.0), Bound::Included(1.0)),
            "write the accepted relative error, more than 0 and at most 1, e.g. `0.01` (1 %)",
        );
        if let Err(e) = q.answer() {
            doc.error(
                &qp,
                format!("question `{}`: {e}", q.id),
                Some(
                    "give availabilities in percent (0 to 100), `compose` for several, and \
                     `per` and `unit` for a downtime"
                        .into(),
                ),
            );
        }
    }
}

/// The edited paths, rendered: each an absolute path.
fn check_edit_paths(l: &Lesson, ctx: &Context, doc: &mut Doc) {
    for (ep, e) in DocPath::root().items("edits", &l.edits) {
        for (pp, p) in ep.items("paths", &e.paths) {
            if let Some(r) = ctx.render_at(doc, &pp, p)
                && !is_node_path(&r)
            {
                doc.error(
                    &pp,
                    format!("edited path `{r}` is not an absolute path"),
                    Some(
                        "write the full path on the node, e.g. `/etc/myapp` (a template such \
                         as `{{ pg.confdir }}` may start it)"
                            .into(),
                    ),
                );
            }
        }
    }
}

/// The checks' expected regexes, rendered: each a regex.
fn check_regexes(l: &Lesson, ctx: &Context, doc: &mut Doc) {
    for (sp, step) in DocPath::root().items("steps", &l.steps) {
        for (cp, c) in sp.items("checks", &step.checks) {
            for (key, re) in c.expect.regexes() {
                let at = cp.key("expect").key(key);
                if let Some(r) = ctx.render_at(doc, &at, re)
                    && let Err(e) = regex::Regex::new(&r)
                {
                    doc.error(
                        &at,
                        format!("not a valid regex once rendered: {e}"),
                        Some(
                            "write a regex in Rust's `regex` syntax; escape `\\ . + * ? ( ) [ ] { } | ^ $` \
                             with `\\` to match them literally"
                                .into(),
                        ),
                    );
                }
            }
        }
    }
}

/// Every other template of the steps, with where it is: prose, commands, hints, errata, and the
/// checks' and actions' commands and texts.
fn texts(l: &Lesson) -> Vec<(DocPath, &str)> {
    let mut texts: Vec<(DocPath, &str)> = Vec::new();
    fn strs((p, t): (DocPath, &String)) -> (DocPath, &str) {
        (p, t)
    }
    for (sp, step) in DocPath::root().items("steps", &l.steps) {
        texts.push((sp.key("prose"), &step.prose));
        texts.extend(sp.items("commands", &step.commands).map(strs));
        texts.extend(sp.items("hints", &step.hints).map(strs));
        texts.extend(sp.items("errata", &step.errata).map(strs));
        for (cp, c) in sp.items("checks", &step.checks) {
            texts.push((cp.key("run"), &c.run));
            texts.push((cp.key("message"), &c.message));
            if let Some(h) = &c.hint {
                texts.push((cp.key("hint"), h));
            }
            for (key, list) in [("before", &c.before), ("after", &c.after)] {
                texts.extend(
                    cp.items(key, list)
                        .map(|(p, nc)| (p.key("run"), nc.run.as_str())),
                );
            }
        }
        for (ap, a) in sp.items("actions", &step.actions) {
            texts.extend(
                ap.items("run", &a.run)
                    .map(|(p, nc)| (p.key("run"), nc.run.as_str())),
            );
        }
    }
    texts
}

/// The longest a check may keep retrying (`within`), in seconds.
const MAX_WITHIN_S: f64 = 600.0;

/// What a check expects: an exit status that can happen, and a finite retry time.
fn check_expect(e: &Expect, ep: &DocPath, doc: &mut Doc) {
    if let Some(code) = e.exit {
        if !(0..=255).contains(&code) {
            doc.error(
                &ep.key("exit"),
                format!("exit status {code} cannot happen"),
                Some("write an exit status from 0 to 255".into()),
            );
        }
        if e.any_exit {
            doc.error(
                &ep.key("exit"),
                "`exit` and `any_exit = true` contradict each other",
                Some(
                    "keep `exit = N` to require a status, or `any_exit = true` to accept any"
                        .into(),
                ),
            );
        }
    }
    if let Some(w) = e.within {
        doc.number_in(
            &ep.key("within"),
            w,
            (Bound::Excluded(0.0), Bound::Included(MAX_WITHIN_S)),
            format!("write how many seconds to keep trying, more than 0 and up to {MAX_WITHIN_S}, e.g. `5.0`"),
        );
    }
    if let Some(settle) = e.settle {
        let at = ep.key("settle");
        let Some(w) = e.within else {
            doc.error(
                &at,
                "`settle` without `within`: the check is tried once, so nothing settles",
                Some("add `within = SECONDS`, or drop `settle`".into()),
            );
            return;
        };
        if doc.number_in(
            &at,
            settle,
            (Bound::Excluded(0.0), Bound::Included(MAX_WITHIN_S)),
            "write how many seconds an unchanged failing output is waited on, more than 0 and at most `within`, e.g. `5.0`",
        ) && w.is_finite()
            && settle > w
        {
            doc.error(
                &at,
                format!("`settle = {settle}` is longer than `within = {w}`: it would never stop early"),
                Some(format!("write at most `settle = {w}`, or drop `settle`")),
            );
        }
    }
}

/// Every drill: its references (steps, nodes), its numbers and ids, its runs' figures and
/// faults, and its templates.
fn check_drills(l: &Lesson, refs: &LessonRefs, doc: &mut Doc) {
    let steps: Vec<&str> = l.steps.iter().map(|s| s.id.as_str()).collect();
    let mut seen = BTreeSet::new();
    for (dp, d) in DocPath::root().items("drills", &l.drills) {
        if !is_simple_name(&d.id, 30) || !seen.insert(d.id.as_str()) || d.id == "all" {
            doc.error(
                &dp.key("id"),
                format!(
                    "drill id `{}` is not a simple name used once (and not `all`)",
                    d.id
                ),
                Some("use lowercase letters, digits and `-`, a different id for each drill".into()),
            );
        }
        for (rp, r) in dp.items("requires", &d.requires) {
            if !steps.contains(&r.as_str()) {
                doc.error(
                    &rp,
                    format!("no step `{r}` in this lesson"),
                    did_you_mean(r, steps.iter().copied()).map(|s| format!("did you mean `{s}`?")),
                );
            }
        }
        if d.runs.is_empty() {
            doc.error(
                &dp.key("id"),
                format!("drill `{}` has no runs", d.id),
                Some("add `[[drills.runs]]` with a `fault` or a `crash`".into()),
            );
        }
        if let Some(lab) = refs.lab {
            for (place, node) in d.nodes(&dp) {
                // (`@ROLE` is a part: `drill::check` checks those.)
                if !node.starts_with(super::drill::ROLE_SIGIL) && lab.node(node).is_none() {
                    doc.error(
                        &place,
                        format!(
                            "drill `{}` names no node `{node}` of lab `{}`",
                            d.id, lab.id
                        ),
                        Some(lab.unknown_node_help(node)),
                    );
                }
            }
        }
        super::drill::check(d, &dp, doc);
        check_drill_runs(d, &dp, doc);
        if let Some(lab) = refs.lab {
            check_drill_templates(d, &dp, lab, doc);
        }
    }
}

/// A drill's runs: thresholds on figures the run has, and something that breaks.
fn check_drill_runs(d: &Drill, dp: &DocPath, doc: &mut Doc) {
    for (rp, run) in dp.items("runs", &d.runs) {
        let medians: Vec<String> = run
            .samples
            .iter()
            .map(|x| format!("{}{}", x.id, super::drill::MEDIAN_SUFFIX))
            .collect();
        let figures: Vec<&str> = super::drill::STREAM_FIGURES
            .iter()
            .copied()
            .chain(run.measure.iter().map(|m| m.id.as_str()))
            .chain(
                d.figures
                    .iter()
                    .filter(|f| f.reported_by(&run.id))
                    .map(|f| f.id.as_str()),
            )
            .chain(run.samples.iter().map(|x| x.id.as_str()))
            .chain(medians.iter().map(String::as_str))
            .chain(run.differences.iter().map(|x| x.id.as_str()))
            .collect();
        for (tp, t) in rp.items("pass", &run.pass) {
            if !figures.contains(&t.figure.as_str()) {
                doc.error(
                    &tp.key("figure"),
                    format!("no figure `{}` in run `{}`", t.figure, run.id),
                    Some(unknown_name_help(&t.figure, &figures, "figures", false)),
                );
            }
        }
        if run.fault.is_empty() && run.crash.is_none() {
            doc.error(
                &rp.key("id"),
                format!(
                    "run `{}` has no `fault` and no `crash`: it breaks nothing",
                    run.id
                ),
                Some("add `fault = [{ node = ..., run = ... }]` or `crash = \"NODE\"`".into()),
            );
        }
    }
}

/// A drill's templates render with the values they will have: a run's fault, measures and
/// repair (and the traffic, which runs in every run) see that run's `baseline`; the rest none.
fn check_drill_templates(d: &Drill, dp: &DocPath, lab: &Lab, doc: &mut Doc) {
    // Each part played by its first candidate; a role's own command sees no parts yet.
    let cast: BTreeMap<String, String> = d
        .roles
        .iter()
        .filter_map(|r| Some((r.id.clone(), r.among.first()?.clone())))
        .collect();
    let plain = if d.roles.is_empty() {
        Context::example(lab)
    } else {
        Context::example(lab).with_roles(&cast)
    };
    let bare = Context::example(lab);
    let baseline_of = |r: &super::drill::Run| -> BTreeMap<String, String> {
        r.baseline.keys().map(|k| (k.clone(), "0".into())).collect()
    };
    for (place, text) in d.texts(dp) {
        let baselines: Vec<(Option<&str>, BTreeMap<String, String>)> = match &place.0[dp.0.len()..]
        {
            [Seg::Key(k), Seg::Index(i), Seg::Key(what), ..]
                if k == "runs" && ["fault", "measure", "repair"].contains(&what.as_str()) =>
            {
                vec![(Some(d.runs[*i].id.as_str()), baseline_of(&d.runs[*i]))]
            }
            [Seg::Key(k), ..] if k == "writes" || k == "requests" => d
                .runs
                .iter()
                .map(|r| (Some(r.id.as_str()), baseline_of(r)))
                .collect(),
            _ => vec![(None, BTreeMap::new())],
        };
        for (run, baseline) in baselines {
            let in_role = matches!(&place.0[dp.0.len()..], [Seg::Key(k), Seg::Index(_), Seg::Key(w)] if k == "roles" && (w == "run" || w == "hint"));
            let rendered = if in_role {
                bare.render(text)
            } else if baseline.is_empty() {
                plain.render(text)
            } else {
                plain.with("baseline", &baseline).render(text)
            };
            let in_run = run.map(|r| format!(" (in run `{r}`)")).unwrap_or_default();
            if let Err(e) = rendered {
                doc.error(
                    &place,
                    format!("drill `{}`: template does not render{in_run}: {e:#}", d.id),
                    Some(format!(
                        "{}; `baseline.NAME` is a name of the run's own `baseline`, \
                         in its `fault`, `measure` and `repair`; `role.ID.name` and `.ip` a part \
                         of the drill's `roles` (not in a role's own `run`)",
                        crate::content::template::HELP
                    )),
                );
                break;
            }
        }
    }
}

impl Question {
    /// The right answer, computed by the uptime arithmetic.
    pub fn answer(&self) -> Result<f64, String> {
        use crate::uptime::{Compose, Quantity, combine, downtime_seconds};
        let how = match (self.availability.len(), self.compose) {
            (0, _) => return Err("`availability` is empty".into()),
            (1, c) => c.unwrap_or(Compose::Serial),
            (_, Some(c)) => c,
            (_, None) => {
                return Err(
                    "several availabilities need `compose = \"serial\"` or `\"parallel\"`".into(),
                );
            }
        };
        if let Some(bad) = self
            .availability
            .iter()
            .find(|a| !(0.0..=100.0).contains(*a))
        {
            return Err(format!("availability {bad} is not a percentage"));
        }
        let a = combine(&self.availability, how);
        match self.quantity {
            Quantity::Availability => Ok(a),
            Quantity::Downtime => {
                let per = self
                    .per
                    .ok_or("a downtime question needs `per` (year, month, week or day)")?;
                let unit = self
                    .unit
                    .ok_or("a downtime question needs `unit` (days, hours, minutes or seconds)")?;
                Ok(downtime_seconds(a, per) / unit.seconds())
            }
        }
    }

    /// Whether `given` is within the tolerance of the right answer.
    pub fn accepts(&self, given: f64) -> bool {
        self.answer()
            .is_ok_and(|a| (given - a).abs() <= self.tolerance * a.abs().max(1e-9))
    }

    /// What the answer is measured in, for the prompt.
    pub fn unit_label(&self) -> &'static str {
        match (self.quantity, self.unit) {
            (crate::uptime::Quantity::Availability, _) => "%",
            (_, Some(u)) => u.name(),
            _ => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::diag::testing::{assert_problem, line_of, problems as problems_of};
    use crate::content::lab::tests::REAL as REAL_LAB;

    const REAL: &str = include_str!("../../lessons/ch32.toml");
    const FILE: &str = "lessons/ch32.toml";

    fn lab() -> Lab {
        crate::content::lab::load(Path::new("labs/ch32.toml"), REAL_LAB.into()).unwrap()
    }

    fn problems(text: &str) -> Vec<String> {
        let lab = lab();
        let refs = LessonRefs {
            lab: Some(&lab),
            solved_steps: None,
        };
        problems_of(load(Path::new(FILE), text.to_string(), &refs))
    }

    /// The real lesson with `from` (which must occur) replaced once by `to`.
    fn real_with(from: &str, to: &str) -> (String, Vec<String>) {
        assert!(REAL.contains(from), "`{from}` is not in {FILE}");
        let text = REAL.replacen(from, to, 1);
        let p = problems(&text);
        (text, p)
    }

    /// Break the real lesson and expect a problem on the line of `marker` (in the broken text).
    fn broken(from: &str, to: &str, marker: &str, what: &str, help: &str) -> Vec<String> {
        let (text, p) = real_with(from, to);
        assert_problem(&p, FILE, line_of(&text, marker), what, help);
        p
    }

    #[test]
    fn the_real_lesson_loads() {
        assert!(problems(REAL).is_empty(), "{:#?}", problems(REAL));
    }

    #[test]
    fn the_lessons_services_are_units_on_the_labs_nodes() {
        let from = "[[services]]\nnodes = [\"lb-01\", \"lb-02\"]\nnames = [\"keepalived\"]";
        let (_, p) = real_with(
            from,
            "[[services]]\nnodes = [\"lb-01\", \"lb-09\"]\nnames = [\"keepalived; reboot\"]",
        );
        assert!(p.iter().any(|m| m.contains("no node `lb-09`")), "{p:#?}");
        assert!(
            p.iter()
                .any(|m| m.contains("`keepalived; reboot` is not a service")),
            "{p:#?}"
        );
        let (text, _) = real_with(
            from,
            &format!(
                "{from}\n\n[[services]]\nnodes = [\"lb-02\"]\nnames = [\"keepalived\", \"cron\"]"
            ),
        );
        let l = load(
            Path::new(FILE),
            text,
            &LessonRefs {
                lab: None,
                solved_steps: None,
            },
        );
        let l = l.expect("loads");
        assert_eq!(l.services_on("lb-02"), ["keepalived", "cron"]);
        assert_eq!(l.services_on("lb-01"), ["keepalived"]);
        assert!(l.services_on("client").is_empty());
    }

    #[test]
    fn within_is_positive_finite_and_bounded() {
        for bad in ["-1.0", "nan", "0", "601", "inf"] {
            broken(
                "within = 12.0",
                &format!("within = {bad}"),
                &format!("within = {bad}"),
                "`within` is",
                "more than 0 and up to 600",
            );
        }
    }

    #[test]
    fn settle_is_positive_and_at_most_within() {
        for bad in ["-1.0", "nan", "0", "inf"] {
            broken(
                "within = 12.0",
                &format!("within = 12.0, settle = {bad}"),
                &format!("settle = {bad}"),
                "`settle` is",
                "at most `within`",
            );
        }
        broken(
            "within = 12.0",
            "within = 12.0, settle = 20.0",
            "settle = 20.0",
            "`settle = 20` is longer than `within = 12`",
            "at most `settle = 12`",
        );
        broken(
            "expect = { stdout = \"^ok$\" }",
            "expect = { stdout = \"^ok$\", settle = 3.0 }",
            "settle = 3.0",
            "`settle` without `within`",
            "add `within = SECONDS`",
        );
        let (_, p) = real_with("within = 12.0", "within = 12.0, settle = 12.0");
        assert!(p.is_empty(), "{p:#?}");
    }

    #[test]
    fn runs_after_names_an_earlier_check_of_the_step() {
        broken(
            "runs_after = [\"nginx-t-lb-01\"",
            "runs_after = [\"nginx-t-lb01\"",
            "runs_after = [\"nginx-t-lb01\"",
            "step `nginx-lb` has no check `nginx-t-lb01`",
            "did you mean `nginx-t-lb-01`?",
        );
        // A check of another step is not one of this step's.
        broken(
            "runs_after = [\"nginx-t-lb-01\"",
            "runs_after = [\"vip-on-lb-01\"",
            "runs_after = [\"vip-on-lb-01\"",
            "step `nginx-lb` has no check `vip-on-lb-01`",
            "its checks: nginx-t-lb-01, nginx-t-lb-02, spread-lb-01",
        );
        broken(
            "runs_after = [\"nginx-t-lb-01\"",
            "runs_after = [\"spread-lb-02\"",
            "runs_after = [\"spread-lb-02\"",
            "check `spread-lb-01` runs after `spread-lb-02`, which is not before it",
            "list `spread-lb-02` before `spread-lb-01`",
        );
    }

    #[test]
    fn exit_codes_can_happen_and_exclude_any_exit() {
        broken(
            "expect = { exit = 2 }",
            "expect = { exit = 300 }",
            "exit = 300",
            "exit status 300 cannot happen",
            "from 0 to 255",
        );
        broken(
            "expect = { exit = 2 }",
            "expect = { exit = -1 }",
            "exit = -1",
            "exit status -1",
            "from 0 to 255",
        );
        broken(
            "expect = { exit = 2 }",
            "expect = { exit = 2, any_exit = true }",
            "any_exit = true",
            "contradict",
            "or `any_exit = true` to accept any",
        );
    }

    #[test]
    fn tolerances_are_positive_and_finite() {
        for bad in ["-0.5", "nan", "0", "2"] {
            broken(
                "id = \"year-99\"\n",
                &format!("id = \"year-99\"\ntolerance = {bad}\n"),
                "tolerance = ",
                "`tolerance` is",
                "e.g. `0.01`",
            );
        }
    }

    #[test]
    fn question_and_action_ids_are_unique_in_their_step() {
        let (_, p) = real_with("id = \"year-999\"", "id = \"year-99\"");
        assert_problem(
            &p,
            FILE,
            line_of(REAL, "id = \"year-999\""),
            "question `year-99` appears twice in step `uptime`",
            "its own id",
        );
        let start = REAL.find("[[steps.actions]]").unwrap();
        let end = start + REAL[start..].find("\n[[steps.checks]]").unwrap();
        let action = &REAL[start..end];
        let text = REAL.replacen(action, &format!("{action}\n{action}"), 1);
        let second = end + 1 + action.find("id = ").unwrap();
        let line = text[..second].matches('\n').count() + 1;
        assert_problem(
            &problems(&text),
            FILE,
            line,
            "action `fail-primary` appears twice in step `promote`",
            "its own id",
        );
    }

    #[test]
    fn drill_runs_and_measures_have_unique_ids() {
        broken(
            "id = \"host-silent\"",
            "id = \"service-stopped\"",
            "id = \"service-stopped\"\ntitle = \"app-01 stops",
            "run `service-stopped` appears twice in drill `app-down`",
            "its own id",
        );
        broken(
            "{ id = \"answered\"",
            "{ id = \"moved\"",
            "{ id = \"moved\", title = \"lb-02 answering",
            "measure `moved` appears twice in run `graceful`",
            "its own id",
        );
        broken(
            "{ id = \"back\"",
            "{ id = \"worst_ms\"",
            "{ id = \"worst_ms\"",
            "measure `worst_ms` has the name of a figure every run reports",
            "choose another id",
        );
    }

    #[test]
    fn drill_figures_and_assists_are_checked() {
        broken(
            "{ id = \"vrrp_s\"",
            "{ id = \"lost\"",
            "{ id = \"lost\"",
            "figure `lost` has the name of a figure every run reports",
            "choose another id",
        );
        broken(
            "{ id = \"vrrp_s\"",
            "{ id = \"moved\"",
            "{ id = \"moved\", title = \"VRRP",
            "figure `moved` is also a measure of run `graceful`",
            "different ids",
        );
        // A threshold may hold a drill's own figure, in a run that reports it.
        let crash_end = "{ figure = \"back\", max = 8.0, why = \"lb-01 needs the higher priority to take the address back, and with a tracked vrrp_script its check must pass `rise` times after the restart first\" },\n]\n\n# The failure";
        let (_, p) = real_with(
            crash_end,
            "{ figure = \"vrrp_s\", max = 5.0 },\n]\n\n# The failure",
        );
        assert!(p.is_empty(), "{p:#?}");
        let died_end = "{ figure = \"back\", max = 10.0, why = \"lb-01 takes the address back once its check has passed `rise` times in a row, with the higher priority\" },\n]\n\n[[drills]]";
        broken(
            died_end,
            "{ figure = \"vrrp_s\", max = 5.0 },\n]\n\n[[drills]]",
            "{ figure = \"vrrp_s\", max = 5.0 },",
            "no figure `vrrp_s` in run `nginx-died`",
            "track_s",
        );
        // A figure names the runs that report it: runs the drill has.
        broken(
            "runs = [\"nginx-died\"]",
            "runs = [\"nginx-dide\"]",
            "{ id = \"track_s\"",
            "figure `track_s` names run `nginx-dide`, which drill `lb-failover` does not have",
            "did you mean `nginx-died`?",
        );
        broken(
            "assist = { label =",
            "assist = { lable =",
            "assist = { lable =",
            "unknown field `lable`",
            "did you mean `label`?",
        );
        broken(
            "{ id = \"vrrp_s\", title = \"VRRP's own figure\", node = \"lb-02\"",
            "{ id = \"vrrp_s\", title = \"VRRP's own figure\", node = \"lb-09\"",
            "node = \"lb-09\"",
            "lb-09",
            "lb-02",
        );
    }

    /// The real lesson with one more drill at its end (an order stream from `client`), broken by
    /// `from` -> `to`; the problems expected on the line of `marker`.
    fn extra_drill(from: &str, to: &str, marker: &str, what: &str, help: &str) {
        extra_drill_edits(&[(from, to.to_string())], marker, Some((what, help)));
    }

    /// The real lesson with one more drill at its end (an order stream from `client`), changed
    /// by each `from` -> `to` in turn: with `expected`, the problem (what, help) on the line of
    /// `marker`; without, no problem at all.
    fn extra_drill_edits(edits: &[(&str, String)], marker: &str, expected: Option<(&str, &str)>) {
        let drill = "\n[[drills]]\nid = \"extra\"\ntitle = \"t\"\nclaim = \"c\"\n\
            orders = { node = \"client\", url = \"http://{{ vip }}/orders\", every_ms = 100, timeout_ms = 3000, \
            read = { node = \"client\", run = \"true\" } }\n\n\
            [[drills.runs]]\nid = \"r\"\ntitle = \"t\"\nfault = [{ node = \"client\", run = \"true\" }]\n\
            measure = [{ id = \"up\", title = \"up\", node = \"client\", until = \"true\", limit_s = 5 }]\n\
            samples = [{ id = \"lag\", title = \"lag\", node = \"client\", run = \"echo 0\", every_ms = 200 }]\n\
            pass = [{ figure = \"lag\", max = 1 }, { figure = \"lag_p50\", max = 1 }, { figure = \"lost\", max = 0 }]\n";
        let good = format!("{REAL}{drill}");
        assert!(problems(&good).is_empty(), "{:#?}", problems(&good));
        let mut broken = drill.to_string();
        for (from, to) in edits {
            assert!(broken.contains(from), "`{from}`");
            broken = broken.replacen(from, to, 1);
        }
        let text = format!("{REAL}{broken}");
        let Some((what, help)) = expected else {
            assert!(problems(&text).is_empty(), "{:#?}", problems(&text));
            return;
        };
        // The marker is looked for in the extra drill only: the real lesson may say it too.
        let line = REAL.matches('\n').count() + line_of(&broken, marker);
        assert_problem(&problems(&text), FILE, line, what, help);
    }

    #[test]
    fn drill_roles_are_declared_once_and_every_part_named_is_one_of_them() {
        let runs = "\n[[drills.runs]]\nid = \"r\"";
        let role =
            "roles = [{ id = \"db\", among = [\"client\"], run = \"true\", stdout = \"^$\" }]\n";
        let declared = (runs, format!("{role}{runs}"));
        let fault = "fault = [{ node = \"client\", run = \"true\" }]";
        let faulty = |to: &str| (fault, to.to_string());
        // Declared and used: as a node, a crash and in templates.
        extra_drill_edits(
            &[
                (declared.0, declared.1.clone()),
                faulty(
                    "fault = [{ node = \"@db\", run = \"echo {{ role.db.ip }} {{ role.db.name }}\" }]\ncrash = \"@db\"",
                ),
            ],
            "fault = ",
            None,
        );
        for (edits, what, help) in [
            (
                vec![faulty("fault = [{ node = \"@db\", run = \"true\" }]")],
                "drill `extra` has no role `db`",
                "`@NAME` is a part the drill's `roles` find: declare it",
            ),
            (
                vec![faulty(
                    "fault = [{ node = \"client\", run = \"echo {{ role.db.ip }}\" }]",
                )],
                "`role` is not a known name",
                "`role.ID.name` and `.ip` a part of the drill's `roles`",
            ),
            (
                vec![
                    (declared.0, declared.1.clone()),
                    faulty("fault = [{ node = \"@bd\", run = \"true\" }]"),
                ],
                "drill `extra` has no role `bd`",
                "did you mean `db`? roles: db",
            ),
            (
                vec![
                    (declared.0, declared.1.clone()),
                    faulty("fault = [{ node = \"client\", run = \"echo {{ role.dbb.ip }}\" }]"),
                ],
                "`role.dbb` is undefined: `role` has `db`",
                "role.ID.name",
            ),
        ] {
            extra_drill_edits(&edits, "fault = ", Some((what, help)));
        }
        for (bad, what, help) in [
            (
                role.replace(
                    "}]",
                    "}, { id = \"db\", among = [\"client\"], run = \"true\", stdout = \"^$\" }]",
                ),
                "role `db` appears twice in drill `extra` (also roles[0])",
                "its own id",
            ),
            (
                role.replace("[\"client\"]", "[\"pg-9\"]"),
                "drill `extra` names no node `pg-9`",
                "",
            ),
            (
                role.replace("\"^$\"", "\"(\""),
                "not a valid regex",
                "e.g. `^f$`",
            ),
            (
                role.replace("[\"client\"]", "[]"),
                "role `db` has no candidates: `among` is empty",
                "list the nodes",
            ),
            (
                role.replace("run = \"true\"", "run = \"{{ role.db.ip }}\""),
                "`role` is not a known name",
                "(not in a role's own `run`)",
            ),
            (
                role.replace("among", "amongst"),
                "unknown field `amongst`",
                "did you mean `among`?",
            ),
        ] {
            extra_drill_edits(
                &[(runs, format!("{bad}{runs}"))],
                "roles = ",
                Some((what, help)),
            );
        }
    }

    #[test]
    fn order_streams_have_http_statuses_in_one_list_and_a_body_with_the_id() {
        let at = "every_ms = 100, timeout_ms = 3000, ";
        for (extra, what, help) in [
            (
                "ok_status = [201, 999], ",
                "`999` is not an HTTP status",
                "from 100 to 599",
            ),
            ("ok_status = [], ", "`ok_status` is empty", "e.g. `[201]`"),
            (
                "fail_status = [503, 201], ",
                "status 201 is in both `ok_status` and `fail_status`",
                "keep it in one list",
            ),
            (
                "body = \"order=1\", ",
                "does not carry its id (`{id}`)",
                "e.g. `id={id}`",
            ),
            (
                "every_mss = 3, ",
                "unknown field `every_mss`",
                "did you mean `every_ms`?",
            ),
        ] {
            extra_drill(at, &format!("{at}{extra}"), extra, what, help);
        }
        extra_drill(
            "every_ms = 100, timeout_ms = 3000",
            "every_ms = 0, timeout_ms = 3000",
            "every_ms = 0, timeout_ms = 3000, read",
            "`every_ms` is 0",
            "from 1 to 60000 ms",
        );
    }

    #[test]
    fn samples_have_their_own_ids_and_intervals() {
        let one = "{ id = \"lag\", title = \"lag\", node = \"client\", run = \"echo 0\", every_ms = 200 }";
        extra_drill(
            one,
            &format!("{one}, {one}"),
            "samples = ",
            "sample `lag` appears twice in run `r`",
            "its own id",
        );
        for (id, what) in [
            (
                "lost",
                "sample `lost` reports `lost`, the name of a figure every run reports",
            ),
            (
                "up",
                "sample `up` reports `up`, the name of a measure of run `r`",
            ),
        ] {
            let to = one.replace("id = \"lag\"", &format!("id = \"{id}\""));
            extra_drill(one, &to, "samples = ", what, "choose another id");
        }
        // A median's name may clash too: here with a measure called `lag_p50`.
        extra_drill(
            "{ id = \"up\"",
            "{ id = \"lag_p50\"",
            "samples = ",
            "sample `lag` reports `lag_p50`, the name of a measure of run `r`",
            "ID_p50",
        );
        // A threshold may name a sample and its median, not another figure.
        extra_drill(
            "{ figure = \"lag_p50\"",
            "{ figure = \"lag_p90\"",
            "pass = ",
            "no figure `lag_p90` in run `r`",
            "lag_p50",
        );
        extra_drill(
            "every_ms = 200",
            "every_ms = 0",
            "samples = ",
            "`every_ms` is 0",
            "e.g. `500`",
        );
    }

    #[test]
    fn reads_and_their_differences_name_reads_of_the_run_and_figures_of_their_own() {
        // A difference is a figure a threshold may name; the real lesson uses both.
        let drill = "\n[[drills]]\nid = \"extra\"\ntitle = \"t\"\nclaim = \"c\"\n\
            orders = { node = \"client\", url = \"http://{{ vip }}/orders\", every_ms = 100, timeout_ms = 3000, \
            read = { node = \"client\", run = \"true\" } }\n\n\
            [[drills.runs]]\nid = \"r\"\ntitle = \"t\"\nfault = [{ node = \"client\", run = \"true\" }]\n\
            reads = [{ id = \"a\", title = \"on a\", node = \"client\", run = \"true\" }, \
            { id = \"b\", title = \"on b\", node = \"lb-01\", run = \"true\" }]\n\
            differences = [{ id = \"only_a\", title = \"a only\", present = \"a\", absent = \"b\" }]\n\
            pass = [{ figure = \"only_a\", max = 1e9 }]\n";
        let good = format!("{REAL}{drill}");
        assert!(problems(&good).is_empty(), "{:#?}", problems(&good));
        assert!(REAL.contains("differences = ["));
        // Without an order stream there are no order ids to read.
        let start = drill.find("orders = ").unwrap();
        let end = start + drill[start..].find("\n\n").unwrap();
        let without = format!("{}{}", &drill[..start], &drill[end..]);
        let text = format!("{REAL}{without}");
        let line = REAL.matches('\n').count() + line_of(&without, "reads = ");
        assert_problem(
            &problems(&text),
            FILE,
            line,
            "run `r` reads order ids, but drill `extra` sends no orders",
            "add `orders = { ... }`",
        );
    }

    #[test]
    fn a_difference_between_reads_that_do_not_exist_or_clash_is_an_error() {
        let at = "pass = [";
        let reads = "reads = [{ id = \"a\", title = \"on a\", node = \"client\", run = \"true\" }, \
            { id = \"b\", title = \"on b\", node = \"client\", run = \"true\" }]\n";
        for (diff, what, help) in [
            (
                "{ id = \"only_a\", title = \"t\", present = \"aa\", absent = \"b\" }",
                "no read `aa` in run `r`",
                "did you mean `a`?",
            ),
            (
                "{ id = \"only_a\", title = \"t\", present = \"a\", absent = \"c\" }",
                "no read `c` in run `r`",
                "reads: a, b",
            ),
            (
                "{ id = \"lost\", title = \"t\", present = \"a\", absent = \"b\" }",
                "difference `lost` has the name of a figure every run reports",
                "choose another id",
            ),
            (
                "{ id = \"up\", title = \"t\", present = \"a\", absent = \"b\" }",
                "difference `up` has the name of a measure of run `r`",
                "choose another id",
            ),
            (
                "{ id = \"same\", title = \"t\", present = \"a\", absent = \"a\" }",
                "difference `same` compares read `a` with itself",
                "two different reads",
            ),
            (
                "{ id = \"d\", title = \"t\", present = \"a\", absnet = \"b\" }",
                "unknown field `absnet`",
                "did you mean `absent`?",
            ),
        ] {
            let to = format!("{reads}differences = [{diff}]\n{at}");
            extra_drill(at, &to, "differences = ", what, help);
        }
        let twice = "reads = [{ id = \"a\", title = \"t\", node = \"client\", run = \"true\" }, \
            { id = \"a\", title = \"t\", node = \"client\", run = \"true\" }]\n";
        extra_drill(
            at,
            &format!("{twice}{at}"),
            "reads = ",
            "read `a` appears twice in run `r`",
            "its own id",
        );
        let elsewhere =
            "reads = [{ id = \"a\", title = \"t\", node = \"lb-09\", run = \"true\" }]\n";
        extra_drill(
            at,
            &format!("{elsewhere}{at}"),
            "reads = ",
            "lb-09",
            "lb-01",
        );
    }

    #[test]
    fn a_measure_holds_on_every_node_it_names() {
        extra_drill(
            "until = \"true\", limit_s = 5",
            "also_on = [\"client\", \"lb-09\"], until = \"true\", limit_s = 5",
            "also_on",
            "drill `extra` names no node `lb-09`",
            "lb-01",
        );
    }

    #[test]
    fn drill_intervals_and_timeouts_are_in_range() {
        broken(
            "every_ms = 50, timeout_ms = 10000",
            "every_ms = 0, timeout_ms = 10000",
            "every_ms = 0",
            "`every_ms` is 0",
            "from 1 to 60000 ms",
        );
        broken(
            "every_ms = 100, timeout_ms = 3000",
            "every_ms = 100, timeout_ms = 0",
            "timeout_ms = 0",
            "`timeout_ms` is 0",
            "e.g. `3000`",
        );
    }

    #[test]
    fn drill_durations_are_finite_and_in_range() {
        for bad in ["-20", "nan", "0", "86400"] {
            broken(
                "limit_s = 20, claim_s = 3.0",
                &format!("limit_s = {bad}, claim_s = 3.0"),
                &format!("limit_s = {bad}"),
                "`limit_s` is",
                "how long to wait at most",
            );
        }
        broken(
            "hold_s = 3.0",
            "hold_s = 3.0\nsettle_s = -1",
            "settle_s = -1",
            "`settle_s` is -1",
            "0 to 600",
        );
        broken(
            "hold_s = 4.0",
            "hold_s = nan",
            "hold_s = nan",
            "`hold_s` is NaN: not a finite number",
            "how long the fault lasts",
        );
        broken(
            "claim_s = 300.0",
            "claim_s = inf",
            "claim_s = inf",
            "`claim_s` is inf",
            "the chapter's figure",
        );
        broken(
            "{ figure = \"failed\", max = 0,",
            "{ figure = \"failed\", max = -1,",
            "max = -1",
            "`max` is -1",
            "0 or more",
        );
    }

    #[test]
    fn a_baseline_is_the_runs_own() {
        // `served` is a baseline of run `graceful` only: run `crash` may not use it.
        let (text, p) = real_with(
            "crash = \"lb-01\"\nbaseline = { served = { node = \"lb-02\", run = \"wc -l < /var/log/nginx/access.log\" } }",
            "crash = \"lb-01\"\nbaseline = { seen = { node = \"lb-02\", run = \"wc -l < /var/log/nginx/access.log\" } }",
        );
        let crash = text.find("baseline = { seen").unwrap();
        let used = crash + text[crash..].find("{{ baseline.served }}").unwrap();
        let line = text[..used].matches('\n').count() + 1;
        assert_problem(
            &p,
            FILE,
            line,
            "template does not render (in run `crash`)",
            "the run's own `baseline`",
        );
        assert_eq!(p.len(), 1, "{p:#?}");
    }

    #[test]
    fn edited_and_configuration_paths_are_absolute() {
        broken(
            "paths = [\"/etc/nginx\",",
            "paths = [\"etc/nginx\",",
            "paths = [\"etc/nginx\"",
            "edited path `etc/nginx` is not an absolute path",
            "full path on the node",
        );
        // A template may start the path: the rendered value is what is checked.
        broken(
            "paths = [\"/etc/postgresql\",",
            "paths = [\"{{ pg.version }}/main\",",
            "{{ pg.version }}/main",
            "edited path `15/main` is not an absolute path",
            "a template such as `{{ pg.confdir }}`",
        );
        let (_, p) = real_with(
            "paths = [\"/etc/postgresql\",",
            "paths = [\"{{ pg.confdir }}\",",
        );
        assert!(p.is_empty(), "{p:#?}");
    }

    #[test]
    fn regex_and_template_problems_come_with_the_others() {
        let text = REAL
            .replacen("expect = { exit = 2 }", "expect = { exit = 300 }", 1)
            .replacen(
                "every_line = \"app-0[1-3]\"",
                "every_line = \"app-0[1-3\"",
                1,
            )
            .replacen("http://{{ vip }}/", "http://{{ vipp }}/", 1)
            .replacen("crash = \"app-01\"", "crash = \"app-09\"", 1);
        let p = problems(&text);
        assert_problem(
            &p,
            FILE,
            line_of(&text, "exit = 300"),
            "cannot happen",
            "0 to 255",
        );
        assert_problem(
            &p,
            FILE,
            line_of(&text, "app-0[1-3\""),
            "not a valid regex once rendered",
            "escape",
        );
        assert_problem(
            &p,
            FILE,
            line_of(&text, "{{ vipp }}"),
            "template does not render",
            "known values",
        );
        // A drill's problem points at the value, not at the drill's id.
        assert_problem(
            &p,
            FILE,
            line_of(&text, "crash = \"app-09\""),
            "names no node `app-09`",
            "did you mean `app-01`?",
        );
        assert_eq!(p.len(), 4, "{p:#?}");
    }
}
