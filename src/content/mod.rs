//! Lessons and labs as data: finding them, loading them and checking them.
//!
//! Content ships inside the binary (the repository's `lessons/` and `labs/`), so `halab` works
//! from any directory; `HALAB_CONTENT=DIR` reads `DIR/lessons` and `DIR/labs` instead (authors,
//! instructors with their own labs). Must not: build or touch a lab.

pub mod diag;
pub mod lab;
pub mod lesson;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use include_dir::{Dir, include_dir};

use crate::ui::Problem;
pub use diag::{Diagnostic, Diagnostics};
pub use lab::Lab;
pub use lesson::Lesson;

static EMBEDDED_LABS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/labs");
static EMBEDDED_LESSONS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/lessons");

/// One content file: where it came from and its text.
#[derive(Clone, Debug)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
}

/// Every lesson and lab available to this `halab`.
pub struct Catalog {
    pub lessons: Vec<(Source, Lesson)>,
    pub labs: Vec<(Source, Lab)>,
}

fn sources(kind: &str, embedded: &Dir<'_>) -> Result<Vec<Source>> {
    let mut out = Vec::new();
    if let Some(dir) = std::env::var_os("HALAB_CONTENT") {
        let dir = Path::new(&dir).join(kind);
        let entries = std::fs::read_dir(&dir)
            .with_context(|| format!("cannot read `{}` (from HALAB_CONTENT)", dir.display()))?;
        for e in entries {
            let path = e?.path();
            if path.extension().is_some_and(|x| x == "toml") {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read `{}`", path.display()))?;
                out.push(Source { path, text });
            }
        }
    } else {
        for f in embedded.files() {
            if f.path().extension().is_some_and(|x| x == "toml") {
                out.push(Source {
                    path: Path::new(kind).join(f.path()),
                    text: f.contents_utf8().unwrap_or_default().to_string(),
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

impl Catalog {
    /// Load and check all content; any problem in any file is reported together.
    pub fn load() -> Result<Catalog> {
        let mut problems = Vec::new();
        let mut labs = Vec::new();
        for s in sources("labs", &EMBEDDED_LABS)? {
            match lab::load(&s.path, s.text.clone()) {
                Ok(l) => labs.push((s, l)),
                Err(d) => problems.extend(d.0),
            }
        }
        let mut lessons = Vec::new();
        for s in sources("lessons", &EMBEDDED_LESSONS)? {
            match lesson::load(&s.path, s.text.clone()) {
                Ok(l) => lessons.push((s, l)),
                Err(d) => problems.extend(d.0),
            }
        }
        let cat = Catalog { lessons, labs };
        problems.extend(cat.cross_check());
        if problems.is_empty() {
            Ok(cat)
        } else {
            Err(
                anyhow::Error::new(Diagnostics(problems)).context(Problem::new(
                    "halab's content does not validate",
                    "run `halab validate` on the content directory to see every problem",
                )),
            )
        }
    }

    /// Problems between files: a lesson naming a lab that does not exist.
    fn cross_check(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for (src, lesson) in &self.lessons {
            if self.lab(&lesson.lab).is_none() {
                let ids: Vec<&str> = self.labs.iter().map(|(_, l)| l.id.as_str()).collect();
                let (line, column) = src
                    .text
                    .find("lab")
                    .map(|o| diag::line_col(&src.text, o))
                    .unwrap_or((1, 1));
                out.push(Diagnostic {
                    file: src.path.clone(),
                    line,
                    column,
                    message: format!(
                        "lesson `{}` uses lab `{}`, which does not exist",
                        lesson.id, lesson.lab
                    ),
                    help: Some(match diag::did_you_mean(&lesson.lab, ids.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("labs available: {}", ids.join(", ")),
                    }),
                });
            }
        }
        out
    }

    pub fn lab(&self, id: &str) -> Option<&(Source, Lab)> {
        self.labs.iter().find(|(_, l)| l.id == id)
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

/// What `halab validate` found in one file.
pub struct Validated {
    pub path: PathBuf,
    pub summary: Result<String, Diagnostics>,
}

/// Check a content file, or every `.toml` below a directory. The kind of file is told by its
/// contents: a lab has `[[nodes]]`, anything else is read as a lesson.
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
        let is_lab = toml::from_str::<toml::Table>(&text)
            .map(|t| t.contains_key("nodes"))
            .unwrap_or_else(|_| f.components().any(|c| c.as_os_str() == "labs"));
        let summary = if is_lab {
            lab::load(&f, text).map(|l| {
                format!(
                    "lab `{}`: {} nodes on {}, {} roles",
                    l.id,
                    l.nodes.len(),
                    l.subnet,
                    l.roles.len()
                )
            })
        } else {
            lesson::load(&f, text).map(|l| format!("lesson `{}`: runs on lab `{}`", l.id, l.lab))
        };
        out.push(Validated { path: f, summary });
    }
    Ok(out)
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
