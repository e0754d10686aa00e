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
pub mod template;

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

/// The largest content file halab reads: the biggest shipped file is a few dozen KiB, so this
/// is room to grow while `/dev/zero` or a stray log cannot fill memory.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Every `.toml` file below `kind/` (recursively), from `HALAB_CONTENT` or the binary, and the
/// problems met reading them (a file that cannot be read is one problem among the others).
fn sources(kind: &str, embedded: &Dir<'_>) -> Result<(Vec<Source>, Vec<Diagnostic>)> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    if let Some(dir) = std::env::var_os("HALAB_CONTENT") {
        let dir = Path::new(&dir).join(kind);
        if !dir.exists() && kind == "solutions" {
            return Ok((out, problems));
        }
        let files =
            toml_files(&dir, &mut problems).context("reading content from HALAB_CONTENT")?;
        for path in files {
            match read_source(&path) {
                Ok(text) => out.push(Source { path, text }),
                Err(d) => problems.push(d),
            }
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
    Ok((out, problems))
}

/// A problem with a whole file (it cannot be read, it repeats an id...), shown at its first line.
fn file_problem(path: &Path, message: impl Into<String>, help: impl Into<String>) -> Diagnostic {
    Diagnostic {
        file: path.to_path_buf(),
        line: 1,
        column: 1,
        message: message.into(),
        help: Some(help.into()),
    }
}

/// The text of one content file, refusing anything that is not a regular file of at most
/// [`MAX_FILE_BYTES`] of UTF-8: a FIFO or a device is never opened for a blocking read, and at
/// most one byte more than the limit is ever read.
pub fn read_source(path: &Path) -> Result<String, Diagnostic> {
    use std::io::Read as _;
    use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};

    let cannot = |e: std::io::Error| {
        let dangling = path.is_symlink() && !path.exists();
        let message = match std::fs::read_link(path) {
            Ok(to) if dangling => format!(
                "cannot read this file: it is a symlink to `{}`, which does not resolve ({e})",
                to.display()
            ),
            _ => format!("cannot read this file: {e}"),
        };
        file_problem(
            path,
            message,
            "check the path and its permissions; `halab validate labs/ch32.toml` checks one file",
        )
    };
    let regular = |meta: &std::fs::Metadata| {
        let t = meta.file_type();
        let what = if t.is_file() {
            return Ok(());
        } else if t.is_dir() {
            "a directory"
        } else if t.is_fifo() {
            "a FIFO (named pipe)"
        } else if t.is_socket() {
            "a socket"
        } else if t.is_char_device() {
            "a character device"
        } else if t.is_block_device() {
            "a block device"
        } else {
            "not a file"
        };
        Err(file_problem(
            path,
            format!("this is {what}, not a regular file: content is only read from regular files"),
            "point halab at the `.toml` file itself, or remove what is in its place",
        ))
    };
    let too_big = |size: u64| {
        file_problem(
            path,
            format!(
                "this file is larger than the {} KiB a content file may have ({size} bytes or more)",
                MAX_FILE_BYTES / 1024
            ),
            "split it, or check that it is the content file you meant",
        )
    };
    // Look before opening, so a FIFO is never opened at all; then look again at what was opened
    // (O_NONBLOCK: had it become a FIFO in between, the open does not wait for a writer).
    regular(&std::fs::metadata(path).map_err(cannot)?)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    regular(&meta)?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_big(meta.len()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(&e.as_bytes()[..valid]);
        let (line, column) = diag::line_col(&text, valid);
        Diagnostic {
            file: path.to_path_buf(),
            line,
            column,
            message: "this file is not UTF-8 text (an invalid byte here)".into(),
            help: Some("save it as UTF-8; content files are TOML text".into()),
        }
    })
}

/// Every `.toml` file below `dir`, sorted. Links are not followed out of `dir`, nor into
/// directories (that is how a walk loops): such a link, a loop and a dangling `.toml` link are
/// problems, and what they point at is not read.
fn toml_files(dir: &Path, problems: &mut Vec<Diagnostic>) -> Result<Vec<PathBuf>> {
    let root =
        std::fs::canonicalize(dir).with_context(|| format!("cannot read `{}`", dir.display()))?;
    let mut out = Vec::new();
    collect_toml(&root, dir, &mut out, problems)?;
    Ok(out)
}

fn collect_toml(
    root: &Path,
    dir: &Path,
    out: &mut Vec<PathBuf>,
    problems: &mut Vec<Diagnostic>,
) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read `{}`", dir.display()))?
        .collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        let is_toml = p.extension().is_some_and(|x| x == "toml");
        // `DirEntry::file_type` does not follow links.
        let Ok(t) = e.file_type() else {
            if is_toml {
                out.push(p);
            }
            continue;
        };
        if t.is_dir() {
            if let Err(err) = collect_toml(root, &p, out, problems) {
                problems.push(file_problem(
                    &p,
                    format!("cannot read this directory: {}", err.root_cause()),
                    "check its permissions, or move it out of the content directory",
                ));
            }
        } else if t.is_symlink() {
            let to = std::fs::read_link(&p)
                .map(|t| format!("`{}`", t.display()))
                .unwrap_or_else(|_| "?".into());
            match std::fs::canonicalize(&p) {
                Err(err) if err.raw_os_error() == Some(libc::ELOOP) => problems.push(file_problem(
                    &p,
                    format!("this symlink (to {to}) is a loop: not followed"),
                    "remove the link, or point it at a content file",
                )),
                Err(_) if is_toml => problems.push(file_problem(
                    &p,
                    format!("this symlink points to {to}, which does not exist"),
                    "remove the link, or point it at a content file",
                )),
                Err(_) => {}
                Ok(target) if target.is_dir() => problems.push(file_problem(
                    &p,
                    format!("this symlink points to the directory {to}: halab does not follow links to directories"),
                    "move or copy the directory here instead of linking it",
                )),
                Ok(_) if !is_toml => {}
                Ok(target) if !target.starts_with(root) => problems.push(file_problem(
                    &p,
                    format!(
                        "this symlink points to {to}, outside the content directory `{}`: not followed",
                        root.display()
                    ),
                    "copy the file here instead of linking it",
                )),
                Ok(_) => out.push(p),
            }
        } else if is_toml {
            // FIFOs, sockets and devices are refused by `read_source`, with the path.
            out.push(p);
        }
    }
    Ok(())
}

/// `solutions/<lesson>/<step>.toml` -> (lesson, step).
fn solution_ids(path: &Path) -> Option<(String, String)> {
    let step = path.file_stem()?.to_str()?.to_string();
    let lesson = path.parent()?.file_name()?.to_str()?.to_string();
    Some((lesson, step))
}

/// A top-level string of a file, read without checking the rest (for ids before validation).
fn top_level_str(text: &str, key: &str) -> Option<String> {
    toml::from_str::<toml::Table>(text)
        .ok()?
        .get(key)?
        .as_str()
        .map(String::from)
}

fn lab_id_of(text: &str) -> Option<String> {
    top_level_str(text, "lab")
}

/// Where the top-level `key` of a file is written (1:1 when it is not found).
fn key_position(text: &str, key: &str) -> (usize, usize) {
    let at = toml::de::DeTable::parse(text)
        .ok()
        .and_then(|t| {
            t.get_ref()
                .iter()
                .find(|(k, _)| k.get_ref() == key)
                .map(|(_, v)| v.span().start)
        })
        .unwrap_or(0);
    diag::line_col(text, at)
}

/// The sources whose `id` no earlier source has; each later one is a problem naming both files
/// (it is not checked further: its other problems would only repeat the first's).
fn without_duplicates(
    kind: Kind,
    sources: Vec<Source>,
    problems: &mut Vec<Diagnostic>,
) -> Vec<Source> {
    let mut first: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut out = Vec::new();
    for s in sources {
        if let Some(id) = top_level_str(&s.text, "id") {
            if let Some(earlier) = first.get(&id) {
                problems.push(duplicate_id(kind, &id, &s, earlier));
                continue;
            }
            first.insert(id, s.path.clone());
        }
        out.push(s);
    }
    out
}

/// `what` `id` of `src` is also the id of the earlier file `first`.
fn duplicate_id(what: Kind, id: &str, src: &Source, first: &Path) -> Diagnostic {
    let (line, column) = key_position(&src.text, "id");
    Diagnostic {
        file: src.path.clone(),
        line,
        column,
        message: format!(
            "{} id `{id}` is also the id of `{}`: each {} needs its own id",
            what.name(),
            first.display(),
            what.name()
        ),
        help: Some(format!(
            "give one of the two {}s another `id`, or remove the one you do not mean",
            what.name()
        )),
    }
}

impl Catalog {
    /// Load and check all content; any problem in any file is reported together.
    pub fn load() -> Result<Catalog> {
        let mut problems = Vec::new();
        let mut labs: Vec<(Source, Lab)> = Vec::new();
        let (lab_sources, unread) = sources("labs", &EMBEDDED_LABS)?;
        problems.extend(unread);
        for s in without_duplicates(Kind::Lab, lab_sources, &mut problems) {
            match lab::load(&s.path, s.text.clone()) {
                Ok(l) => labs.push((s, l)),
                Err(d) => problems.extend(d.0),
            }
        }
        let (solution_sources, unread) = sources("solutions", &EMBEDDED_SOLUTIONS)?;
        problems.extend(unread);
        let (lesson_sources, unread) = sources("lessons", &EMBEDDED_LESSONS)?;
        problems.extend(unread);
        let mut lessons: Vec<(Source, Lesson)> = Vec::new();
        for s in without_duplicates(Kind::Lesson, lesson_sources, &mut problems) {
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

/// What a content file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Lab,
    Lesson,
    Solution,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Lab => "lab",
            Kind::Lesson => "lesson",
            Kind::Solution => "solution",
        }
    }

    /// What a file is by the nearest directory above it named `labs`, `lessons` or
    /// `solutions`, and the directory holding that one (where its siblings are looked for).
    pub fn by_directory(path: &Path) -> Option<(Kind, PathBuf)> {
        let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        abs.parent()?.ancestors().find_map(|d| {
            let kind = match d.file_name()?.to_str()? {
                "labs" => Kind::Lab,
                "lessons" => Kind::Lesson,
                "solutions" => Kind::Solution,
                _ => return None,
            };
            Some((kind, d.parent()?.to_path_buf()))
        })
    }

    /// What a file outside those directories is, by its top-level keys: a lab has `nodes`,
    /// `roles` or `subnet` (a near-miss such as `node` counts), anything else is a lesson. A
    /// solution is only known by its place, `solutions/<lesson>/<step>.toml`.
    fn by_content(text: &str) -> (Kind, String) {
        const LAB_KEYS: [&str; 5] = ["nodes", "node", "roles", "subnet", "iface"];
        let found = match toml::from_str::<toml::Table>(text) {
            Ok(t) => LAB_KEYS.iter().find(|k| t.contains_key(**k)).copied(),
            // Unparsable: look for the tables a lab begins with.
            Err(_) => LAB_KEYS.iter().copied().find(|k| {
                text.lines().any(|l| {
                    let l = l.trim_start();
                    l.starts_with(&format!("[[{k}]]"))
                        || l.starts_with(&format!("[{k}."))
                        || l.starts_with(&format!("{k} ="))
                })
            }),
        };
        let place = "it is not in a `labs/`, `lessons/` or `solutions/` directory";
        match found {
            Some(k) => (
                Kind::Lab,
                format!("checked as a lab because it has `{k}` ({place})"),
            ),
            None => (
                Kind::Lesson,
                format!("checked as a lesson because it has no `nodes` ({place})"),
            ),
        }
    }
}

/// What `halab validate` found in one file.
pub struct Validated {
    pub path: PathBuf,
    pub summary: Result<String, Diagnostics>,
    /// How the file's kind was decided, when not by its directory.
    pub note: Option<String>,
}

/// Check content files, or every `.toml` below directories, and report every problem of every
/// file together: a file that cannot be read, and an id used by two files, are problems among
/// the others. A file's kind is its directory's (`labs/`, `lessons/`, `solutions/`); a file in
/// none of them is a lab when it has `nodes` and a lesson otherwise (said in a note). Lessons and
/// solutions are checked against the lab and lesson found beside them (`../labs/`, `../lessons/`).
pub fn validate_paths(paths: &[PathBuf]) -> Vec<Validated> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut sources: Vec<(Kind, Source)> = Vec::new();
    for path in paths {
        let mut problems = Vec::new();
        let files = if path.is_dir() {
            match toml_files(path, &mut problems) {
                Ok(f) => f,
                Err(e) => {
                    problems.push(file_problem(
                        path,
                        format!("cannot read this directory: {}", e.root_cause()),
                        "check the path and its permissions",
                    ));
                    Vec::new()
                }
            }
        } else {
            vec![path.clone()]
        };
        if files.is_empty() && problems.is_empty() {
            problems.push(file_problem(
                path,
                "no `.toml` files in this directory",
                "point `halab validate` at a lesson or lab file, or at a directory holding them",
            ));
        }
        let from = out.len();
        for d in problems {
            out.push(Validated {
                path: d.file.clone(),
                summary: Err(Diagnostics(vec![d])),
                note: None,
            });
        }
        for f in files {
            // `validate labs labs/ch32.toml` checks the file once.
            let key = std::fs::canonicalize(&f).unwrap_or_else(|_| f.clone());
            if !seen.insert(key) {
                continue;
            }
            let text = match read_source(&f) {
                Ok(t) => t,
                Err(d) => {
                    out.push(Validated {
                        path: f,
                        summary: Err(Diagnostics(vec![d])),
                        note: None,
                    });
                    continue;
                }
            };
            let (kind, root, note) = match Kind::by_directory(&f) {
                Some((k, root)) => (k, Some(root), None),
                None => {
                    let (k, note) = Kind::by_content(&text);
                    (k, None, Some(note))
                }
            };
            let summary = validate_text(&f, &text, kind, root.as_deref());
            sources.push((
                kind,
                Source {
                    path: f.clone(),
                    text,
                },
            ));
            out.push(Validated {
                path: f,
                summary,
                note,
            });
        }
        out[from..].sort_by(|a, b| a.path.cmp(&b.path));
    }
    // One lab and one lesson per id, across every file checked.
    let mut first: BTreeMap<(&'static str, String), PathBuf> = BTreeMap::new();
    for (kind, src) in &sources {
        if *kind == Kind::Solution {
            continue;
        }
        let Some(id) = top_level_str(&src.text, "id") else {
            continue;
        };
        match first.get(&(kind.name(), id.clone())) {
            None => {
                first.insert((kind.name(), id), src.path.clone());
            }
            Some(earlier) => {
                let d = duplicate_id(*kind, &id, src, earlier);
                if let Some(v) = out.iter_mut().find(|v| v.path == src.path) {
                    match &mut v.summary {
                        Err(ds) => ds.0.push(d),
                        Ok(_) => v.summary = Err(Diagnostics(vec![d])),
                    }
                }
            }
        }
    }
    out
}

fn validate_text(
    f: &Path,
    text: &str,
    kind: Kind,
    root: Option<&Path>,
) -> Result<String, Diagnostics> {
    // Siblings live beside the kind's directory; without one, beside the file's directory.
    let root = root
        .map(Path::to_path_buf)
        .or_else(|| f.parent().and_then(|p| p.parent()).map(Path::to_path_buf))
        .unwrap_or_default();
    let text = text.to_string();
    match kind {
        Kind::Lab => lab::load(f, text).map(|l| {
            format!(
                "lab `{}`: {} nodes on {}, {} roles",
                l.id,
                l.nodes.len(),
                l.subnet,
                l.roles.len()
            )
        }),
        Kind::Solution => {
            let (lesson_id, step) = solution_ids(f).unwrap_or_default();
            let lesson = sibling(&root, "lessons", &lesson_id).and_then(|p| load_lesson_file(&p));
            let lab = lesson
                .as_ref()
                .and_then(|l| sibling(&root, "labs", &l.lab))
                .and_then(|p| load_lab_file(&p));
            solution::load(f, text, lab.as_ref(), lesson.as_ref(), &step).map(|s| {
                format!(
                    "solution of `{lesson_id}` step `{step}`: {} files, {} commands",
                    s.files.len(),
                    s.run.len()
                )
            })
        }
        Kind::Lesson => {
            let lab_id = lab_id_of(&text).unwrap_or_default();
            let lab = sibling(&root, "labs", &lab_id).and_then(|p| load_lab_file(&p));
            let stem = f.file_stem().and_then(|x| x.to_str()).unwrap_or_default();
            let solved_steps = Some(root.join("solutions").join(stem))
                .filter(|d| d.is_dir())
                .map(|d| {
                    let mut ignored = Vec::new();
                    toml_files(&d, &mut ignored)
                        .unwrap_or_default()
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
    }
}

/// `<root>/<kind>/<id>.toml`, if it exists.
fn sibling(root: &Path, kind: &str, id: &str) -> Option<PathBuf> {
    if id.is_empty() || id.contains('/') {
        return None;
    }
    let p = root.join(kind).join(format!("{id}.toml"));
    p.exists().then_some(p)
}

/// A sibling lab, when it reads and validates (its own problems are its own file's).
fn load_lab_file(p: &Path) -> Option<Lab> {
    lab::load(p, read_source(p).ok()?).ok()
}

fn load_lesson_file(p: &Path) -> Option<Lesson> {
    let refs = lesson::LessonRefs {
        lab: None,
        solved_steps: None,
    };
    lesson::load(p, read_source(p).ok()?, &refs).ok()
}
