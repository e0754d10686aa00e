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
            let facts = crate::content::template::Facts::example(lab);
            let secrets: BTreeMap<String, String> = lab
                .secrets
                .keys()
                .map(|k| (k.clone(), "x".repeat(8)))
                .collect();
            let ctx = crate::content::template::Context::new(lab, &lab.id, &facts, &secrets);
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
                        Some(crate::content::template::HELP.to_string()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::lab::tests::{REAL as REAL_LAB, assert_problem, line_of};
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
        let p = match load(
            Path::new(&file),
            text.clone(),
            Some(&lab),
            Some(&lesson),
            step,
        ) {
            Ok(_) => vec![],
            Err(d) => d.0.iter().map(|d| d.to_string()).collect(),
        };
        (text, p)
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
        let f = "solutions/ch32/pg-standby.toml";
        let (text, p) = broken("pg-standby", "mode = \"0600\"", "mode = \"rwxr-xr-x\"");
        assert_problem(
            &p,
            f,
            line_of(&text, "mode = "),
            "mode `rwxr-xr-x`",
            "`0000` to `7777`",
        );
        let (text, p) = broken(
            "pg-standby",
            "owner = \"postgres:postgres\"",
            "owner = \"a:b:c\"",
        );
        assert_problem(
            &p,
            f,
            line_of(&text, "owner = "),
            "owner `a:b:c`",
            "e.g. `root:root`",
        );
    }

    #[test]
    fn a_rendered_path_must_be_absolute_and_templates_come_with_other_problems() {
        let f = "solutions/ch32/pg-primary.toml";
        let (text, p) = broken(
            "pg-primary",
            "path = \"{{ pg.confdir }}/conf.d/replication.conf\"\nowner = \"postgres:postgres\"",
            "path = \"{{ pg.version }}/conf.d/replication.conf\"\nowner = \"postgres:\"",
        );
        assert_problem(
            &p,
            f,
            line_of(&text, "path = "),
            "`15/conf.d/replication.conf` is not an absolute path",
            "full path on the node",
        );
        assert_problem(
            &p,
            f,
            line_of(&text, "owner = "),
            "owner `postgres:`",
            "user name",
        );
        let (text, p) = broken(
            "pg-standby",
            "mode = \"0600\"\ncontent = \"{{ node[\\\"pg-primary\\\"].ip }}",
            "mode = \"0600x\"\ncontent = \"{{ node[\\\"pg-primar\\\"].ip }}",
        );
        let f = "solutions/ch32/pg-standby.toml";
        assert_problem(&p, f, line_of(&text, "mode = "), "mode `0600x`", "octal");
        assert_problem(
            &p,
            f,
            line_of(&text, "content = "),
            "template does not render",
            "known values",
        );
    }

    #[test]
    fn actions_are_named_once_and_answers_are_numbers() {
        let (text, p) = broken(
            "promote",
            "actions = [\"fail-primary\"]",
            "actions = [\"fail-primary\", \"fail-primary\"]",
        );
        assert_problem(
            &p,
            "solutions/ch32/promote.toml",
            line_of(&text, "actions = "),
            "action `fail-primary` is named twice",
            "name each action once",
        );
        let (text, p) = broken("uptime", "year-99 = 3.65", "year-99 = nan");
        assert_problem(
            &p,
            "solutions/ch32/uptime.toml",
            line_of(&text, "year-99 = nan"),
            "answer `year-99` is NaN",
            "the number the question asks for",
        );
    }
}
