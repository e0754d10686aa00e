//! Classes: an instructor's trainee labs on one LXD server (or cluster), each trainee reaching
//! only their own. The instructor's machine keeps the class (`classes/<class>.json`: lesson,
//! server, trainees, what trainees may do) and a lab per trainee named `<class>-<trainee>`;
//! each lab's project on the server is restricted to the lab and holds the lab's state
//! (`shelf`), so both sides read the same progress. A trainee joins with a token (`token`)
//! that carries an LXD trust token restricted to their project.
//!
//! Must not: build, grade or reset a lab by its own means (it asks `lifecycle`; the commands
//! ask `check` and `reset`), print (the commands do), or reach a project without halab's name.

pub(crate) mod run;
pub(crate) mod shelf;
pub(crate) mod token;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

use crate::state::{self, LabName};
use crate::ui::Problem;

/// The rule for class and trainee names, said in every error about one.
pub(crate) const NAME_RULE: &str = "lowercase letters, digits and `-`, not starting with `-`, the class and trainee names together at most 19 characters";

/// A class's name, checked: it becomes part of lab, project and file names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub(crate) struct ClassName(String);

impl ClassName {
    pub(crate) fn parse(s: &str) -> Result<ClassName, String> {
        if crate::content::lab::is_simple_name(s, 16) {
            Ok(ClassName(s.to_string()))
        } else {
            Err(format!(
                "`{}` cannot be a class name: use {NAME_RULE}, e.g. `ops1`",
                s.chars().take(40).collect::<String>()
            ))
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The remote a trainee's LXD client reaches the class server as.
    pub(crate) fn remote(&self) -> String {
        format!("halab-{}", self.0)
    }
}

impl TryFrom<String> for ClassName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ClassName::parse(&s)
    }
}

impl From<ClassName> for String {
    fn from(n: ClassName) -> String {
        n.0
    }
}

impl std::fmt::Display for ClassName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A trainee's name in a class, checked the same way.
pub(crate) fn parse_trainee(s: &str) -> Result<String, String> {
    if crate::content::lab::is_simple_name(s, 16) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "`{}` cannot be a trainee name: use {NAME_RULE}, e.g. `alice`",
            s.chars().take(40).collect::<String>()
        ))
    }
}

/// The lab of `trainee` in `class`: `<class>-<trainee>`, which must be a lab name.
pub(crate) fn lab_name(class: &ClassName, trainee: &str) -> Result<LabName> {
    LabName::parse(&format!("{class}-{trainee}")).map_err(|_| {
        Problem::new(
            format!("class `{class}` and trainee `{trainee}` make too long a lab name"),
            format!("use {NAME_RULE}"),
        )
        .into()
    })
}

/// What may a trainee do to their own lab besides working in it.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub(crate) struct Allowed {
    /// `halab reset` (it forgets their progress).
    pub reset: bool,
    /// `halab solve` (a step solved is not a step passed, but the lab no longer shows their work).
    pub solve: bool,
}

/// A class as the instructor's machine keeps it.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub(crate) struct ClassRecord {
    pub name: ClassName,
    pub lesson: String,
    /// The `lxc remote` the labs live on; none: the local daemon.
    pub remote: Option<String>,
    /// The trainees, in the order they were added.
    pub trainees: Vec<String>,
    pub allowed: Allowed,
    /// Unix time of creation.
    pub created: u64,
}

impl ClassRecord {
    pub(crate) fn lab(&self, trainee: &str) -> Result<LabName> {
        lab_name(&self.name, trainee)
    }

    /// The trainee named, or an error with a did-you-mean.
    pub(crate) fn trainee(&self, name: &str) -> Result<String> {
        if self.trainees.iter().any(|t| t == name) {
            return Ok(name.to_string());
        }
        let hint = match crate::content::diag::did_you_mean(
            name,
            self.trainees.iter().map(String::as_str),
        ) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("its trainees: {}", self.trainees.join(", ")),
        };
        Err(Problem::new(
            format!("class `{}` has no trainee `{name}`", self.name),
            hint,
        )
        .into())
    }
}

/// What a class may let its trainees do to their own lab besides working in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Permission {
    /// `halab reset` of their lab (their progress is forgotten)
    Reset,
    /// `halab solve` (a solved step shows as solved, not passed)
    Solve,
}

/// Refuse `what` on a trainee's class lab when the class does not allow it.
pub(crate) fn refuse_unless_allowed(rec: &state::LabRecord, what: Permission) -> Result<()> {
    let Some(seat) = rec.seat.as_ref().filter(|s| !s.instructor) else {
        return Ok(());
    };
    let (allowed, word, ask) = match what {
        Permission::Reset => (seat.allow_reset, "reset", "class reset CLASS TRAINEE"),
        Permission::Solve => (seat.allow_solve, "solve", "class create ... --allow solve"),
    };
    if allowed {
        return Ok(());
    }
    Err(Problem::new(
        format!(
            "class `{}` does not let trainees {word} their lab",
            seat.class
        ),
        format!("ask your instructor, who decides it for the class (`halab {ask}`)"),
    )
    .into())
}

fn classes_dir(home: &Path) -> PathBuf {
    home.join("classes")
}

fn class_path(home: &Path, name: &ClassName) -> PathBuf {
    classes_dir(home).join(format!("{name}.json"))
}

/// The class `name` of this machine, or an error naming the ones there are.
pub(crate) fn load(name: &ClassName) -> Result<ClassRecord> {
    let home = state::home();
    let path = class_path(&home, name);
    let Ok(text) = fs::read_to_string(&path) else {
        let names = list(&home);
        let hint = match crate::content::diag::did_you_mean(
            name.as_str(),
            names.iter().map(ClassName::as_str),
        ) {
            Some(s) => format!("did you mean `{s}`?"),
            None if names.is_empty() => {
                "make one with `halab class create CLASS --lesson LESSON --trainees a,b`".into()
            }
            None => format!(
                "classes on this machine: {}",
                names
                    .iter()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        return Err(
            Problem::new(format!("there is no class `{name}` on this machine"), hint).into(),
        );
    };
    serde_json::from_str(&text).with_context(|| format!("`{}` is damaged", path.display()))
}

pub(crate) fn exists(name: &ClassName) -> bool {
    class_path(&state::home(), name).exists()
}

pub(crate) fn save(class: &ClassRecord) -> Result<()> {
    let path = class_path(&state::home(), &class.name);
    state::write_atomic(
        &path,
        serde_json::to_string_pretty(class)?.as_bytes(),
        0o644,
    )
}

/// Forget the class on this machine (its labs are removed first by the caller).
pub(crate) fn remove(name: &ClassName) -> Result<()> {
    let path = class_path(&state::home(), name);
    fs::remove_file(&path).with_context(|| format!("cannot remove `{}`", path.display()))
}

/// The classes on this machine.
pub(crate) fn list(home: &Path) -> Vec<ClassName> {
    let mut v: Vec<ClassName> = fs::read_dir(classes_dir(home))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_str()?.strip_suffix(".json")?.to_string();
            ClassName::parse(&n).ok()
        })
        .collect();
    v.sort();
    v
}

/// Where a trainee's join token is written for the instructor to hand out (mode 0600).
pub(crate) fn token_file(name: &ClassName, trainee: &str) -> PathBuf {
    classes_dir(&state::home())
        .join(name.as_str())
        .join(format!("{trainee}.token"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_before_they_reach_a_path_or_a_project() {
        for bad in ["", "A", "../x", "a/b", "-a", "a b", "seventeen-letters"] {
            assert!(ClassName::parse(bad).is_err(), "{bad:?}");
            assert!(parse_trainee(bad).is_err(), "{bad:?}");
        }
        let c = ClassName::parse("ops1").unwrap();
        assert_eq!(lab_name(&c, "alice").unwrap().as_str(), "ops1-alice");
        assert_eq!(c.remote(), "halab-ops1");
        let e = lab_name(&c, "a-very-long-name").unwrap_err().to_string();
        assert!(e.contains("too long"), "{e}");
    }

    #[test]
    fn an_unknown_trainee_gets_a_did_you_mean() {
        let class = ClassRecord {
            name: ClassName::parse("ops1").unwrap(),
            lesson: "l".into(),
            remote: None,
            trainees: vec!["alice".into(), "bob".into()],
            allowed: Allowed::default(),
            created: 0,
        };
        let e = class.trainee("alise").unwrap_err();
        let p = e.downcast_ref::<Problem>().unwrap();
        assert!(p.hint.contains("did you mean `alice`"), "{}", p.hint);
        assert_eq!(class.trainee("bob").unwrap(), "bob");
    }
}
