//! Lessons, labs and solutions as data: finding them, loading them and checking them.
//!
//! Content ships inside the binary (the repository's `lessons/`, `labs/` and `solutions/`), so
//! `halab` works from any directory; `HALAB_CONTENT=DIR` reads `DIR/lessons`, `DIR/labs` and
//! `DIR/solutions` instead (authors, instructors with their own labs). Must not: build or touch
//! a lab.

pub mod diag;
pub mod drill;
pub mod lab;
pub mod lesson;
pub mod solution;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use include_dir::{Dir, include_dir};

use crate::ui::Problem;
pub use diag::{Diagnostic, Diagnostics};
pub use lab::Lab;
pub use lesson::Lesson;
pub use solution::Solution;

static EMBEDDED_LABS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/labs");
static EMBEDDED_LESSONS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/lessons");
static EMBEDDED_SOLUTIONS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/solutions");

/// One content file: where it came from and its text.
#[derive(Clone, Debug)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
}

/// Every lesson, lab and solution available to this `halab`.
pub struct Catalog {
    pub lessons: Vec<(Source, Lesson)>,
    pub labs: Vec<(Source, Lab)>,
    /// (lesson id, step id) -> its reference solution.
    pub solutions: BTreeMap<(String, String), Solution>,
}

/// Every `.toml` file below `kind/` (recursively), from `HALAB_CONTENT` or the binary.
fn sources(kind: &str, embedded: &Dir<'_>) -> Result<Vec<Source>> {
    let mut out = Vec::new();
    if let Some(dir) = std::env::var_os("HALAB_CONTENT") {
        let dir = Path::new(&dir).join(kind);
        if !dir.exists() && kind == "solutions" {
            return Ok(out);
        }
        let mut files = Vec::new();
        collect_toml(&dir, &mut files).context("reading content from HALAB_CONTENT")?;
        for path in files {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read `{}`", path.display()))?;
            out.push(Source { path, text });
        }
    } else {
        fn walk(d: &Dir<'_>, kind: &str, out: &mut Vec<Source>) {
            for f in d.files() {
                if f.path().extension().is_some_and(|x| x == "toml") {
                    out.push(Source {
                        path: Path::new(kind).join(f.path()),
                        text: f.contents_utf8().unwrap_or_default().to_string(),
                    });
                }
            }
            for sub in d.dirs() {
                walk(sub, kind, out);
            }
        }
        walk(embedded, kind, &mut out);
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// `solutions/<lesson>/<step>.toml` -> (lesson, step).
fn solution_ids(path: &Path) -> Option<(String, String)> {
    let step = path.file_stem()?.to_str()?.to_string();
    let lesson = path.parent()?.file_name()?.to_str()?.to_string();
    Some((lesson, step))
}

fn lab_id_of(text: &str) -> Option<String> {
    toml::from_str::<toml::Table>(text)
        .ok()?
        .get("lab")?
        .as_str()
        .map(String::from)
}

impl Catalog {
    /// Load and check all content; any problem in any file is reported together.
    pub fn load() -> Result<Catalog> {
        let mut problems = Vec::new();
        let mut labs: Vec<(Source, Lab)> = Vec::new();
        for s in sources("labs", &EMBEDDED_LABS)? {
            match lab::load(&s.path, s.text.clone()) {
                Ok(l) => labs.push((s, l)),
                Err(d) => problems.extend(d.0),
            }
        }
        let solution_sources = sources("solutions", &EMBEDDED_SOLUTIONS)?;
        let mut lessons = Vec::new();
        for s in sources("lessons", &EMBEDDED_LESSONS)? {
            let lab_id = lab_id_of(&s.text).unwrap_or_default();
            let Some((_, lab)) = labs.iter().find(|(_, l)| l.id == lab_id) else {
                problems.push(missing_lab(&s, &lab_id, &labs));
                continue;
            };
            let stem = s
                .path
                .file_stem()
                .and_then(|x| x.to_str())
                .unwrap_or_default()
                .to_string();
            let solved_steps: BTreeSet<String> = solution_sources
                .iter()
                .filter_map(|x| solution_ids(&x.path))
                .filter(|(l, _)| *l == stem)
                .map(|(_, st)| st)
                .collect();
            let refs = lesson::LessonRefs {
                lab: Some(lab),
                solved_steps: Some(solved_steps),
            };
            match lesson::load(&s.path, s.text.clone(), &refs) {
                Ok(l) => lessons.push((s, l)),
                Err(d) => problems.extend(d.0),
            }
        }
        let mut solutions = BTreeMap::new();
        for s in solution_sources {
            let Some((lesson_id, step)) = solution_ids(&s.path) else {
                continue;
            };
            let lesson = lessons
                .iter()
                .find(|(_, l)| l.id == lesson_id)
                .map(|(_, l)| l);
            let lab = lesson
                .and_then(|l| labs.iter().find(|(_, lab)| lab.id == l.lab))
                .map(|(_, l)| l);
            match solution::load(&s.path, s.text, lab, lesson, &step) {
                Ok(sol) => {
                    solutions.insert((lesson_id, step), sol);
                }
                Err(d) => problems.extend(d.0),
            }
        }
        if problems.is_empty() {
            Ok(Catalog {
                lessons,
                labs,
                solutions,
            })
        } else {
            Err(
                anyhow::Error::new(Diagnostics(problems)).context(Problem::new(
                    "halab's content does not validate",
                    "run `halab validate` on the content directory to see every problem",
                )),
            )
        }
    }

    /// Every lab file.
    pub fn labs(&self) -> impl Iterator<Item = &Lab> {
        self.labs.iter().map(|(_, l)| l)
    }

    pub fn lab(&self, id: &str) -> Option<&(Source, Lab)> {
        self.labs.iter().find(|(_, l)| l.id == id)
    }

    /// The reference solution of a step.
    pub fn solution(&self, lesson: &str, step: &str) -> Option<&Solution> {
        self.solutions.get(&(lesson.to_string(), step.to_string()))
    }

    /// The lesson `id`, or an error with a did-you-mean and the list of lessons.
    pub fn lesson(&self, id: &str) -> Result<&Lesson> {
        if let Some((_, l)) = self.lessons.iter().find(|(_, l)| l.id == id) {
            return Ok(l);
        }
        let ids: Vec<&str> = self.lessons.iter().map(|(_, l)| l.id.as_str()).collect();
        let hint = match diag::did_you_mean(id, ids.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? `halab lessons` lists them all"),
            None => format!("lessons available: {} (`halab lessons`)", ids.join(", ")),
        };
        Err(Problem::new(format!("no lesson named `{id}`"), hint).into())
    }
}

/// A lesson naming a lab that does not exist.
fn missing_lab(src: &Source, lab: &str, labs: &[(Source, Lab)]) -> Diagnostic {
    let ids: Vec<&str> = labs.iter().map(|(_, l)| l.id.as_str()).collect();
    let (line, column) = src
        .text
        .find("\nlab")
        .map(|o| diag::line_col(&src.text, o + 1))
        .unwrap_or((1, 1));
    Diagnostic {
        file: src.path.clone(),
        line,
        column,
        message: format!("this lesson uses lab `{lab}`, which does not exist"),
        help: Some(match diag::did_you_mean(lab, ids.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("labs available: {}", ids.join(", ")),
        }),
    }
}

/// What `halab validate` found in one file.
pub struct Validated {
    pub path: PathBuf,
    pub summary: Result<String, Diagnostics>,
}

/// Check a content file, or every `.toml` below a directory. A lab has `[[nodes]]`; a file under
/// a `solutions/` directory is a solution; anything else is a lesson. Lessons and solutions are
/// checked against the lab and lesson found beside them (`../labs/`, `../lessons/`).
pub fn validate_path(path: &Path) -> Result<Vec<Validated>> {
    let mut files = Vec::new();
    if path.is_dir() {
        collect_toml(path, &mut files)?;
    } else {
        files.push(path.to_path_buf());
    }
    if files.is_empty() {
        return Err(Problem::new(
            format!("no `.toml` files under `{}`", path.display()),
            "point `halab validate` at a lesson or lab file, or at a directory holding them",
        )
        .into());
    }
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| {
            Problem::new(
                format!("cannot read `{}`: {e}", f.display()),
                "check the path; `halab validate labs/ch32.toml` checks one file",
            )
        })?;
        let summary = validate_text(&f, text);
        out.push(Validated { path: f, summary });
    }
    Ok(out)
}

fn validate_text(f: &Path, text: String) -> Result<String, Diagnostics> {
    let table = toml::from_str::<toml::Table>(&text).ok();
    let in_dir = |name: &str| f.components().any(|c| c.as_os_str() == name);
    if table
        .as_ref()
        .map_or(in_dir("labs"), |t| t.contains_key("nodes"))
    {
        return lab::load(f, text).map(|l| {
            format!(
                "lab `{}`: {} nodes on {}, {} roles",
                l.id,
                l.nodes.len(),
                l.subnet,
                l.roles.len()
            )
        });
    }
    if in_dir("solutions") && table.as_ref().is_none_or(|t| !t.contains_key("steps")) {
        let (lesson_id, step) = solution_ids(f).unwrap_or_default();
        let lesson = sibling(f, 2, "lessons", &lesson_id).and_then(|p| load_lesson_file(&p).ok());
        let lab = lesson
            .as_ref()
            .and_then(|l| sibling(f, 2, "labs", &l.lab))
            .and_then(|p| load_lab_file(&p).ok());
        return solution::load(f, text, lab.as_ref(), lesson.as_ref(), &step).map(|s| {
            format!(
                "solution of `{lesson_id}` step `{step}`: {} files, {} commands",
                s.files.len(),
                s.run.len()
            )
        });
    }
    let lab_id = lab_id_of(&text).unwrap_or_default();
    let lab = sibling(f, 1, "labs", &lab_id).and_then(|p| load_lab_file(&p).ok());
    let stem = f.file_stem().and_then(|x| x.to_str()).unwrap_or_default();
    let solved_steps = f
        .parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("solutions").join(stem))
        .filter(|d| d.is_dir())
        .map(|d| {
            let mut files = Vec::new();
            let _ = collect_toml(&d, &mut files);
            files
                .iter()
                .filter_map(|p| p.file_stem()?.to_str().map(String::from))
                .collect()
        });
    let against = match (lab.is_some(), solved_steps.is_some()) {
        (true, true) => "checked against its lab and solutions",
        (true, false) => "checked against its lab; no solutions directory beside it",
        _ => "its lab was not found beside it, so nodes and templates were not checked",
    };
    let refs = lesson::LessonRefs {
        lab: lab.as_ref(),
        solved_steps,
    };
    lesson::load(f, text, &refs).map(|l| {
        format!(
            "lesson `{}`: {} steps, runs on lab `{}` ({against})",
            l.id,
            l.steps.len(),
            l.lab
        )
    })
}

/// `<file's dir, up levels higher>/<kind>/<id>.toml`, if it exists.
fn sibling(file: &Path, up: usize, kind: &str, id: &str) -> Option<PathBuf> {
    let mut dir = file.parent()?;
    for _ in 0..up {
        dir = dir.parent()?;
    }
    let p = dir.join(kind).join(format!("{id}.toml"));
    p.exists().then_some(p)
}

fn load_lab_file(p: &Path) -> Result<Lab> {
    Ok(lab::load(p, std::fs::read_to_string(p)?)?)
}

fn load_lesson_file(p: &Path) -> Result<Lesson> {
    let refs = lesson::LessonRefs {
        lab: None,
        solved_steps: None,
    };
    Ok(lesson::load(p, std::fs::read_to_string(p)?, &refs)?)
}

fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read `{}`", dir.display()))?
        .collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            collect_toml(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
    Ok(())
}
