//! The lesson file (`lessons/<id>.toml`): what a trainee works through and which lab it runs on.
//!
//! Must not: know how a lab is built or run anything.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::diag::{Diagnostics, Doc, DocPath, struct_fields};

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
    /// A short paragraph shown before the lab is built.
    #[serde(default)]
    pub summary: String,
}

fn lesson_fields(p: &DocPath) -> &'static [&'static str] {
    match p.0.as_slice() {
        [] => struct_fields::<Lesson>(),
        _ => &[],
    }
}

/// Read and check a lesson file on its own (references to labs are checked by the catalog).
pub fn load(path: &Path, text: String) -> Result<Lesson, Diagnostics> {
    let mut doc = Doc::parse(path, text);
    let lesson: Option<Lesson> = doc.deserialize(lesson_fields);
    if let Some(l) = &lesson
        && !super::lab::is_simple_name(&l.id, 20)
    {
        doc.error(
            &DocPath::root().key("id"),
            format!("lesson id `{}` is not a simple name", l.id),
            Some("use lowercase letters, digits and `-`, at most 20 characters".into()),
        );
    }
    let lesson = lesson.filter(|_| doc.problems.is_empty());
    doc.finish()
        .map(|()| lesson.expect("no problems means a lesson"))
}
