//! Solution files (`solutions/<lesson>/<step>.toml`): the reference solution of one step, as
//! files to place on nodes and commands to run, used by `halab solve`, `halab reset --to` and the
//! lifecycle test. Loading checks nodes, answers and actions against the lab and the lesson.
//!
//! Must not: apply anything (`solve` does).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::diag::{Diagnostics, Doc, DocPath, Ids, Seg, struct_fields};
use super::lab::{Lab, check_file_attrs, check_node_ref, is_node_path};
use super::lesson::{Lesson, NodeCommand, Step};
use super::template::Context;

/// The reference solution of one step, applied in this order: answers, actions, files, run.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Solution {
    /// Answers to the step's questions: question id -> number.
    #[serde(default)]
    pub answers: BTreeMap<String, f64>,
    /// Ids of the step's actions halab performs first (e.g. failing the primary).
    #[serde(default)]
    pub actions: Vec<String>,
    /// Files to place on nodes.
    #[serde(default)]
    pub files: Vec<SolutionFile>,
    /// Commands to run, in order, after the files are placed.
    #[serde(default)]
    pub run: Vec<NodeCommand>,
}

/// A file of a solution; `content` is a template.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct SolutionFile {
    pub node: String,
    pub path: String,
    pub content: String,
    /// Octal permission bits, default `0644`.
    #[serde(default = "super::lab::default_mode")]
    pub mode: String,
    /// `user:group`, default `root:root`.
    #[serde(default = "super::lab::default_owner")]
    pub owner: String,
}

const PATH_HELP: &str = "write the full path on the node, e.g. `/etc/myapp/conf.d/site.conf` \
     (a template such as `{{ pg.confdir }}` may start it)";

/// "did you mean" for an id the step does not have: the ones it has.
fn ids_help<'a>(what: &str, ids: impl Iterator<Item = &'a str>) -> String {
    let ids: Vec<&str> = ids.collect();
    if ids.is_empty() {
        format!("the step has no {what}: remove this line")
    } else {
        format!("the step's {what}: {}", ids.join(", "))
    }
}

fn fields(p: &DocPath) -> &'static [&'static str] {
    let key = |s: &Seg, k: &str| matches!(s, Seg::Key(x) if x == k);
    match p.0.as_slice() {
        [] => struct_fields::<Solution>(),
        [a, Seg::Index(_)] if key(a, "files") => struct_fields::<SolutionFile>(),
        [a, Seg::Index(_)] if key(a, "run") => struct_fields::<NodeCommand>(),
        _ => &[],
    }
}

/// Read and check the solution of `step` of `lesson` (both optional: checked when known).
pub fn load(
    path: &Path,
    text: String,
    lab: Option<&Lab>,
    lesson: Option<&Lesson>,
    step: &str,
) -> Result<Solution, Diagnostics> {
    Doc::load(path, text, fields, |s, doc| {
        check(s, lab, lesson, step, doc)
    })
}

/// Every check of a solution, in the order its problems are reported.
fn check(s: &Solution, lab: Option<&Lab>, lesson: Option<&Lesson>, step: &str, doc: &mut Doc) {
    let st = lesson.and_then(|l| l.step(step));
    if let Some(l) = lesson
        && st.is_none()
    {
        doc.error_file(
            format!("lesson `{}` has no step `{step}` for this solution", l.id),
            Some("name the file after a step id of the lesson".into()),
        );
    }
    check_places(s, lab, doc);
    check_answers_and_actions(s, doc);
    if let Some(st) = st {
        check_against_step(s, st, doc);
    }
    // Templates render whatever else is wrong (the lab, when given, is valid).
    if let Some(lab) = lab {
        check_templates(s, lab, doc);
    }
}

/// Where files and commands go: nodes of the lab, file attributes, absolute paths.
fn check_places(s: &Solution, lab: Option<&Lab>, doc: &mut Doc) {
    let root = DocPath::root();
    for (fp, f) in root.items("files", &s.files) {
        check_node_ref(lab, doc, &fp.key("node"), &f.node);
        check_file_attrs(doc, &fp, &f.mode, &f.owner);
        // A path may start with a template value (`{{ pg.confdir }}/...`); rendered, it is checked below.
        if !f.path.starts_with('/') && !f.path.starts_with("{{") {
            doc.error(
                &fp.key("path"),
                format!("`{}` is not an absolute path", f.path),
                Some(PATH_HELP.into()),
            );
        }
    }
    for (rp, r) in root.items("run", &s.run) {
        check_node_ref(lab, doc, &rp.key("node"), &r.node);
    }
}

/// Answers are finite numbers; each action is named once.
fn check_answers_and_actions(s: &Solution, doc: &mut Doc) {
    let root = DocPath::root();
    for (q, a) in &s.answers {
        if !a.is_finite() {
            doc.error(
                &root.key("answers").key(q),
                format!("answer `{q}` is {a}: not a finite number"),
                Some("write the number the question asks for, e.g. `8.76`".into()),
            );
        }
    }
    let mut actions = Ids::new("actions", "name each action once: it runs once");
    for (i, (ap, a)) in root.items("actions", &s.actions).enumerate() {
        actions.once(doc, &ap, i, a, format!("action `{a}` is named twice"));
    }
}

/// Answers and actions name questions and actions the step has.
fn check_against_step(s: &Solution, st: &Step, doc: &mut Doc) {
    let root = DocPath::root();
    for q in s.answers.keys() {
        if !st.questions.iter().any(|x| &x.id == q) {
            doc.error(
                &root.key("answers").key(q),
                format!("step `{}` has no question `{q}`", st.id),
                Some(ids_help(
                    "questions",
                    st.questions.iter().map(|x| x.id.as_str()),
                )),
            );
        }
    }
    for (ap, a) in root.items("actions", &s.actions) {
        if !st.actions.iter().any(|x| &x.id == a) {
            doc.error(
                &ap,
                format!("step `{}` has no action `{a}`", st.id),
                Some(ids_help(
                    "actions",
                    st.actions.iter().map(|x| x.id.as_str()),
                )),
            );
        }
    }
}

/// Files' contents and paths and the commands render; a rendered path is absolute.
fn check_templates(s: &Solution, lab: &Lab, doc: &mut Doc) {
    let ctx = Context::example(lab);
    let root = DocPath::root();
    for (fp, f) in root.items("files", &s.files) {
        ctx.render_at(doc, &fp.key("content"), &f.content);
        if let Some(r) = ctx.render_at(doc, &fp.key("path"), &f.path)
            && !is_node_path(&r)
        {
            doc.error(
                &fp.key("path"),
                format!("`{r}` is not an absolute path"),
                Some(PATH_HELP.into()),
            );
        }
    }
    for (rp, r) in root.items("run", &s.run) {
        ctx.render_at(doc, &rp.key("run"), &r.run);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::diag::testing::{assert_problem, line_of, problems};
    use crate::content::lab::tests::REAL as REAL_LAB;
    use crate::content::lesson::LessonRefs;

    const LESSON: &str = include_str!("../../lessons/ch32.toml");

    /// The problems of a real solution (`solutions/ch32/STEP.toml`) with `from` replaced by `to`.
    fn broken(step: &str, from: &str, to: &str) -> (String, Vec<String>) {
        let path = format!("{}/solutions/ch32/{step}.toml", env!("CARGO_MANIFEST_DIR"));
        let real = std::fs::read_to_string(path).unwrap();
        assert!(real.contains(from), "`{from}` is not in {step}.toml");
        let text = real.replacen(from, to, 1);
        let lab = crate::content::lab::load(Path::new("labs/ch32.toml"), REAL_LAB.into()).unwrap();
        let refs = LessonRefs {
            lab: Some(&lab),
            solved_steps: None,
        };
        let lesson =
            crate::content::lesson::load(Path::new("lessons/ch32.toml"), LESSON.into(), &refs)
                .unwrap();
        let file = format!("solutions/ch32/{step}.toml");
        let loaded = load(
            Path::new(&file),
            text.clone(),
            Some(&lab),
            Some(&lesson),
            step,
        );
        (text, problems(loaded))
    }

    /// Some problem of `broken` (of `solutions/ch32/STEP.toml`) is on the line of `marker`,
    /// says `what` and has a help containing `help`.
    fn has(step: &str, broken: &(String, Vec<String>), marker: &str, what: &str, help: &str) {
        let (text, p) = broken;
        let file = format!("solutions/ch32/{step}.toml");
        assert_problem(p, &file, line_of(text, marker), what, help);
    }

    #[test]
    fn the_real_solutions_load() {
        for step in ["pg-primary", "pg-standby", "promote", "uptime"] {
            let (_, p) = broken(step, "\n", "\n");
            assert!(p.is_empty(), "{step}: {p:#?}");
        }
    }

    #[test]
    fn modes_and_owners_are_checked() {
        let s = "pg-standby";
        let b = broken(s, "mode = \"0600\"", "mode = \"rwxr-xr-x\"");
        has(s, &b, "mode = ", "mode `rwxr-xr-x`", "`0000` to `7777`");
        let b = broken(s, "owner = \"postgres:postgres\"", "owner = \"a:b:c\"");
        has(s, &b, "owner = ", "owner `a:b:c`", "e.g. `root:root`");
    }

    #[test]
    fn a_rendered_path_must_be_absolute_and_templates_come_with_other_problems() {
        let s = "pg-primary";
        let b = broken(
            s,
            "path = \"{{ pg.confdir }}/conf.d/replication.conf\"\nowner = \"postgres:postgres\"",
            "path = \"{{ pg.version }}/conf.d/replication.conf\"\nowner = \"postgres:\"",
        );
        let not_absolute = "`15/conf.d/replication.conf` is not an absolute path";
        has(s, &b, "path = ", not_absolute, "full path on the node");
        has(s, &b, "owner = ", "owner `postgres:`", "user name");
        let s = "pg-standby";
        let b = broken(
            s,
            "mode = \"0600\"\ncontent = \"{{ node[\\\"pg-primary\\\"].ip }}",
            "mode = \"0600x\"\ncontent = \"{{ node[\\\"pg-primar\\\"].ip }}",
        );
        has(s, &b, "mode = ", "mode `0600x`", "octal");
        let unrendered = "template does not render";
        has(s, &b, "content = ", unrendered, "known values");
    }

    #[test]
    fn actions_are_named_once_and_answers_are_numbers() {
        let twice = "actions = [\"fail-primary\", \"fail-primary\"]";
        let b = broken("promote", "actions = [\"fail-primary\"]", twice);
        let named_twice = "action `fail-primary` is named twice";
        has(
            "promote",
            &b,
            "actions = ",
            named_twice,
            "name each action once",
        );
        let b = broken("uptime", "year-99 = 3.65", "year-99 = nan");
        let help = "the number the question asks for";
        has(
            "uptime",
            &b,
            "year-99 = nan",
            "answer `year-99` is NaN",
            help,
        );
    }
}
