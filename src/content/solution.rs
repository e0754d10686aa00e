//! Solution files (`solutions/<lesson>/<step>.toml`): the reference solution of one step, as
//! files to place on nodes and commands to run, used by `halab solve`, `halab reset --to` and the
//! lifecycle test. Loading checks nodes, answers and actions against the lab and the lesson.
//!
//! Must not: apply anything (`solve` does).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::diag::{Diagnostics, Doc, DocPath, Seg, struct_fields};
use super::lab::Lab;
use super::lesson::{Lesson, NodeCommand};

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

const PATH_HELP: &str = "write the full path on the node, e.g. `/etc/nginx/sites-available/lb` \
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
    let mut doc = Doc::parse(path, text);
    let sol: Option<Solution> = doc.deserialize(fields);
    if let Some(s) = &sol {
        let root = DocPath::root();
        let st = lesson.and_then(|l| l.step(step));
        if let Some(l) = lesson
            && st.is_none()
        {
            doc.error_file(
                format!("lesson `{}` has no step `{step}` for this solution", l.id),
                Some("name the file after a step id of the lesson".into()),
            );
        }
        let node_ok = |doc: &mut Doc, p: &DocPath, n: &str| {
            if let Some(lab) = lab
                && lab.node(n).is_none()
            {
                doc.error(
                    p,
                    format!("no node `{n}` in lab `{}`", lab.id),
                    Some(lab.unknown_node_help(n)),
                );
            }
        };
        for (i, f) in s.files.iter().enumerate() {
            let fp = root.key("files").index(i);
            node_ok(&mut doc, &fp.key("node"), &f.node);
            super::lab::check_file_attrs(&mut doc, &fp, &f.mode, &f.owner);
            // A path may start with a template value (`{{ pg.confdir }}/...`); rendered, it is checked below.
            if !f.path.starts_with('/') && !f.path.starts_with("{{") {
                doc.error(
                    &fp.key("path"),
                    format!("`{}` is not an absolute path", f.path),
                    Some(PATH_HELP.into()),
                );
            }
        }
        for (i, r) in s.run.iter().enumerate() {
            node_ok(&mut doc, &root.key("run").index(i).key("node"), &r.node);
        }
        for (q, a) in &s.answers {
            if !a.is_finite() {
                doc.error(
                    &root.key("answers").key(q),
                    format!("answer `{q}` is {a}: not a finite number"),
                    Some("write the number the question asks for, e.g. `8.76`".into()),
                );
            }
        }
        let mut actions = BTreeMap::new();
        for (i, a) in s.actions.iter().enumerate() {
            if let Some(first) = actions.insert(a.as_str(), i) {
                doc.error(
                    &root.key("actions").index(i),
                    format!("action `{a}` is named twice (also actions[{first}])"),
                    Some("name each action once: it runs once".into()),
                );
            }
        }
        if let Some(st) = st {
            for q in s.answers.keys() {
                if !st.questions.iter().any(|x| &x.id == q) {
                    doc.error(
                        &root.key("answers").key(q),
                        format!("step `{step}` has no question `{q}`"),
                        Some(ids_help(
                            "questions",
                            st.questions.iter().map(|x| x.id.as_str()),
                        )),
                    );
                }
            }
            for (i, a) in s.actions.iter().enumerate() {
                if !st.actions.iter().any(|x| &x.id == a) {
                    doc.error(
                        &root.key("actions").index(i),
                        format!("step `{step}` has no action `{a}`"),
                        Some(ids_help(
                            "actions",
                            st.actions.iter().map(|x| x.id.as_str()),
                        )),
                    );
                }
            }
        }
        // Templates render whatever else is wrong (the lab, when given, is valid).
        if let Some(lab) = lab {
            let facts = crate::template::Facts::example();
            let secrets: BTreeMap<String, String> = lab
                .secrets
                .keys()
                .map(|k| (k.clone(), "x".repeat(8)))
                .collect();
            let ctx = crate::template::Context::new(lab, &lab.id, &facts, &secrets);
            let texts = s
                .files
                .iter()
                .enumerate()
                .flat_map(|(i, f)| {
                    [
                        (root.key("files").index(i).key("content"), &f.content),
                        (root.key("files").index(i).key("path"), &f.path),
                    ]
                })
                .chain(
                    s.run
                        .iter()
                        .enumerate()
                        .map(|(i, r)| (root.key("run").index(i).key("run"), &r.run)),
                );
            let mut bad = Vec::new();
            for (p, t) in texts {
                match ctx.render(t) {
                    Err(e) => bad.push((
                        p,
                        format!("template does not render: {e:#}"),
                        Some(crate::template::HELP.to_string()),
                    )),
                    Ok(r)
                        if p.0.last() == Some(&Seg::Key("path".into()))
                            && !super::lab::is_node_path(&r) =>
                    {
                        bad.push((
                            p,
                            format!("`{r}` is not an absolute path"),
                            Some(PATH_HELP.into()),
                        ));
                    }
                    Ok(_) => {}
                }
            }
            for (p, msg, help) in bad {
                doc.error(&p, msg, help);
            }
        }
    }
    let sol = sol.filter(|_| doc.problems.is_empty());
    doc.finish()
        .map(|()| sol.expect("no problems means a solution"))
}
